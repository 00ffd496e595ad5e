import {
  accuracy,
  argmaxRows,
  classificationMetrics,
  correctness,
  expectedCalibrationError,
  flipCounts,
  topKAccuracy,
} from '../src/metrics';

describe('metrics (hand-worked)', () => {
  // 4 images, 3 classes.
  const scores = Float32Array.from([0.5, 0.25, 0.25, 0.125, 0.75, 0.125, 0.25, 0.25, 0.5, 1, 0, 0]);
  const truth = [0, 1, 0, 1];
  const labels = argmaxRows(scores, 3);

  test('argmax, accuracy, correctness', () => {
    expect(Array.from(labels)).toEqual([0, 1, 2, 0]);
    expect(accuracy(labels, truth)).toBe(0.5);
    expect(Array.from(correctness(labels, truth))).toEqual([1, 1, 0, 0]);
  });

  test('NLL (clipped like Keras), Brier, per-class accuracy, confusion', () => {
    const m = classificationMetrics(scores, labels, truth, 3);
    const nll = -(Math.log(0.5) + Math.log(0.75) + Math.log(0.25) + Math.log(1e-7)) / 4;
    expect(m.nll).toBeCloseTo(nll, 10);
    const brier =
      (0.25 + 0.0625 + 0.0625 + (0.015625 + 0.0625 + 0.015625) + (0.5625 + 0.0625 + 0.25) + (1 + 1 + 0)) / 4;
    expect(m.brier).toBeCloseTo(brier, 10);
    expect(m.perClass).toEqual([0.5, 0.5, NaN]);
    expect(m.confusion).toEqual([
      [1, 0, 1],
      [1, 1, 0],
      [0, 0, 0],
    ]);
    expect(m.top5).toBeUndefined();
  });

  test('ECE with 15 bins', () => {
    // Confidences 0.5, 0.75, 0.5, 1 -> bins 7, 11, 7, 14. Bin 7: acc 1/2, conf 0.5; bin 11: acc 1, conf 0.75; bin 14:
    // acc 0, conf 1.
    const expected = (2 / 4) * 0 + (1 / 4) * 0.25 + (1 / 4) * 1;
    expect(expectedCalibrationError(scores, truth, 3)).toBeCloseTo(expected, 12);
    expect(expectedCalibrationError(scores, truth, 3, 1)).toBeCloseTo(Math.abs(0.5 - (0.5 + 0.75 + 0.5 + 1) / 4), 12);
  });

  test('scores that are not probabilities are normalised for calibration metrics', () => {
    const doubled = scores.map((v) => v * 2);
    const a = classificationMetrics(scores, labels, truth, 3);
    const b = classificationMetrics(doubled, labels, truth, 3);
    expect(b.nll).toBeCloseTo(a.nll, 10);
    expect(b.ece).toBeCloseTo(a.ece, 10);
  });

  test('top-5 for more than 5 classes', () => {
    const s = Float32Array.from([0.3, 0.2, 0.15, 0.12, 0.1, 0.08, 0.05]);
    expect(topKAccuracy(s, [4], 7, 5)).toBe(1);
    expect(topKAccuracy(s, [5], 7, 5)).toBe(0);
    expect(classificationMetrics(s, [0], [5], 7).top5).toBe(0);
  });

  test('flip counts overall and per class', () => {
    const f = flipCounts(Uint8Array.from([1, 0, 1, 0, 1]), Uint8Array.from([0, 1, 1, 1, 1]), [0, 1, 1, 2, 0], 3);
    expect(f.correctToWrong).toBe(1);
    expect(f.wrongToCorrect).toBe(2);
    expect(f.perClass).toEqual([
      { correctToWrong: 1, wrongToCorrect: 0 },
      { correctToWrong: 0, wrongToCorrect: 1 },
      { correctToWrong: 0, wrongToCorrect: 1 },
    ]);
  });

  test('bad labels are named', () => {
    expect(() => classificationMetrics(scores, labels, [0, 1, 3, 0], 3)).toThrow(
      /a class in \[0, 3\) for labels\[2\] but received 3/,
    );
  });
});
