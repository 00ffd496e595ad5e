import { seededRandom } from '@tta/util';
import { applyTemperature, fitTemperature } from '../src/calibration';
import { argmaxRows, classificationMetrics } from '../src/metrics';

/** Probabilities that are over-confident by a known factor: softmax(logits * sharpen). */
function overconfident(n: number, K: number, sharpen: number, seed: number) {
  const random = seededRandom(seed);
  const truth = new Int32Array(n);
  const scores = new Float32Array(n * K);
  for (let i = 0; i < n; i++) {
    // Calibrated by construction: the class is drawn from softmax(logits).
    const logits = Array.from({ length: K }, () => 3 * random());
    const sum = logits.reduce((a, z) => a + Math.exp(z), 0);
    let u = random() * sum;
    truth[i] = K - 1;
    for (let k = 0; k < K; k++) {
      u -= Math.exp(logits[k]!);
      if (u <= 0) {
        truth[i] = k;
        break;
      }
    }
    const sharp = logits.map((z) => Math.exp(z * sharpen));
    const s = sharp.reduce((a, v) => a + v, 0);
    sharp.forEach((v, k) => (scores[i * K + k] = v / s));
  }
  return { truth, scores };
}

describe('fitTemperature', () => {
  test('recovers the temperature that undoes a known over-confidence, and lowers NLL and ECE', () => {
    const { truth, scores } = overconfident(20000, 5, 2, 1);
    const fit = fitTemperature(scores, truth, 5);
    expect(fit.temperature).toBeGreaterThan(1.85);
    expect(fit.temperature).toBeLessThan(2.15);
    expect(fit.nllAfter).toBeLessThan(fit.nllBefore);
    expect(fit.eceAfter).toBeLessThan(fit.eceBefore / 2);
    // The figures are those of the metrics module on the scaled scores.
    const scaled = applyTemperature(scores, 5, fit.temperature);
    const m = classificationMetrics(scaled, argmaxRows(scaled, 5), truth, 5);
    expect(m.nll).toBeCloseTo(fit.nllAfter, 4);
    expect(m.ece).toBeCloseTo(fit.eceAfter, 10);
  });

  test('the fitted temperature is a minimum: nearby temperatures give a higher NLL', () => {
    const { truth, scores } = overconfident(3000, 4, 0.5, 2);
    const fit = fitTemperature(scores, truth, 4);
    expect(fit.temperature).toBeLessThan(1);
    for (const factor of [0.95, 1.05]) {
      const other = applyTemperature(scores, 4, fit.temperature * factor);
      expect(classificationMetrics(other, argmaxRows(other, 4), truth, 4).nll).toBeGreaterThan(fit.nllAfter);
    }
  });
});

describe('applyTemperature', () => {
  test('keeps every label; T = 1 leaves probabilities as they are; large T flattens', () => {
    const { scores } = overconfident(100, 6, 1, 3);
    for (const t of [0.3, 1, 4]) {
      const scaled = applyTemperature(scores, 6, t);
      expect(Array.from(argmaxRows(scaled, 6))).toEqual(Array.from(argmaxRows(scores, 6)));
      if (t === 1) for (let j = 0; j < scores.length; j++) expect(scaled[j]).toBeCloseTo(scores[j]!, 6);
    }
    const flat = applyTemperature(scores, 6, 1e6);
    for (const p of flat) expect(p).toBeCloseTo(1 / 6, 4);
  });

  test('bad input names the parameter', () => {
    expect(() => applyTemperature(new Float32Array(4), 2, 0)).toThrow(/temperature/);
    expect(() => applyTemperature(new Float32Array(5), 2, 1)).toThrow(/scores/);
    expect(() => fitTemperature(new Float32Array(4), [0, 2], 2)).toThrow(/truth\[1\]/);
  });
});
