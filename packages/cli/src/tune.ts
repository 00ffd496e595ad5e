import { FILL_MODES, MERGE_MODES, type Fill, type Merge } from '@tta/native';
import { tfjsClassifier } from '@tta/model';
import { trainValidationSplit } from '@tta/data';
import { formatViews, policyToJson, summarizePolicy, tuneThenTest, type Candidate } from '@tta/core';
import { integerFlag, listFlag, parseFlags, choiceFlag } from './args';
import {
  BACKENDS,
  viewProgress,
  checkDir,
  interruptSignal,
  limit,
  loadData,
  makeOutput,
  obtainModel,
  useBackend,
  writeHtml,
  writeJson,
  defaultBackend,
} from './context';
import { UserError } from './errors';
import { formatTable, pct, pp, pValue } from './format';

export const TUNE_HELP = `Usage: tta tune [flags]

Chooses a TTA policy on validation data held out from the training set (never the
test set): trains (or reuses) the CNN on the rest, predicts every candidate view of
the validation images once, scores a grid of policies as cheap merges of those
predictions, adds greedy view selection and confidence-gated variants, picks the
most accurate (ties: fewest forward passes), then reports that policy once on the
test set and saves it for 'tta eval --policy-file'.

  --data DIR              CIFAR-10 directory or .tar.gz (default: $TTA_DATA_DIR, cache, download)
  --no-verify             accept data that is not the official CIFAR-10
  --model DIR             tune for a saved model instead of training one
  --validation N          validation images held out, stratified (default 5000)
  --epochs N              default 3
  --batch-size N          default 128
  --train-limit N         train on N training images (after the hold-out)
  --test-limit N          report on the first N test images
  --seed S                default 0 (the split, training and random choices)
  --backend NAME          ${BACKENDS.join(' | ')} (default auto, or $TTA_BACKEND)
  --shifts LIST           shift sizes to try (default 1,2,3,4)
  --fills LIST            fill modes to try (default nearest,reflect; all: ${FILL_MODES.join(',')})
  --merges LIST           merge modes to try (default ${MERGE_MODES.filter((m) => m !== 'sum').join(',')})
  --identity-weights LIST weights of the identity view to try (default 1,2,4)
  --greedy N              largest greedy view set (default 8)
  --out FILE              where to save the chosen policy (default tta-policy.json)
  --no-cache              always train
  --cache-dir DIR         model cache
  --json [FILE|-]         write results as JSON (schema 'tta-tune/1')
  --html FILE             write a self-contained HTML report
  --quiet                 no progress
  -h, --help              this help

Example
  tta tune --data ../shared/data/cifar-10-batches-bin --out best.json
  tta eval --data ../shared/data/cifar-10-batches-bin --policy-file best.json`;

const FLAGS = {
  data: { type: 'string' },
  'no-verify': { type: 'boolean' },
  model: { type: 'string' },
  validation: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  'train-limit': { type: 'string' },
  'test-limit': { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  shifts: { type: 'string' },
  fills: { type: 'string' },
  merges: { type: 'string' },
  'identity-weights': { type: 'string' },
  greedy: { type: 'string' },
  out: { type: 'string' },
  'no-cache': { type: 'boolean' },
  'cache-dir': { type: 'string' },
  json: { type: 'string' },
  html: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function integerList(name: string, value: unknown, min: number, max: number): number[] | undefined {
  if (value === undefined) return undefined;
  const items = String(value)
    .split(',')
    .map((s) => s.trim());
  return items.map((item) => integerFlag(name, item, { min, max })!);
}

export async function runTune(argv: readonly string[]): Promise<number> {
  const f = parseFlags(argv, FLAGS, 'tune');
  if (f.help) {
    process.stdout.write(`${TUNE_HELP}\n`);
    return 0;
  }
  const seed = integerFlag('seed', f.seed, { min: 0 }) ?? 0;
  const validationCount = integerFlag('validation', f.validation, { min: 10 }) ?? 5000;
  const search = {
    shifts: integerList('shifts', f.shifts, 1, 16) ?? [1, 2, 3, 4],
    fills: listFlag<Fill>('fills', f.fills, FILL_MODES) ?? (['nearest', 'reflect'] as Fill[]),
    merges: listFlag<Merge>('merges', f.merges, MERGE_MODES) ?? (['mean', 'gmean', 'max', 'vote'] as Merge[]),
    identityWeights: integerList('identity-weights', f['identity-weights'], 1, 100) ?? [1, 2, 4],
    greedyMax: integerFlag('greedy', f.greedy, { min: 1, max: 64 }) ?? 8,
  };
  const epochs = integerFlag('epochs', f.epochs, { min: 1, max: 1000 }) ?? 3;
  const batchSize = integerFlag('batch-size', f['batch-size'], { min: 1, max: 65536 }) ?? 128;
  const trainLimit = integerFlag('train-limit', f['train-limit'], { min: 1 });
  const testLimit = integerFlag('test-limit', f['test-limit'], { min: 1 });
  const backendName = choiceFlag('backend', f.backend, BACKENDS) ?? defaultBackend();
  const policyOut = f.out ?? 'tta-policy.json';
  if (policyOut.trim() === '') throw new UserError('--out needs a file name');
  const output = makeOutput({ quiet: f.quiet, json: f.json });
  const interrupt = interruptSignal(output);
  try {
    const backend = await useBackend(backendName, output);
    const data = await loadData(checkDir('data', f.data), output, !f['no-verify']);
    if (validationCount >= data.train.count)
      throw new UserError(`--validation ${validationCount} leaves no training images (there are ${data.train.count})`);
    const { train: rest, validation } = trainValidationSplit(data.train, { validation: validationCount, seed });
    const train = limit(rest, trainLimit, true, seed);
    const test = limit(data.test, testLimit, false, seed);
    output.info(`tune: ${validation.count} validation images held out of the training set; training on ${train.count}`);
    const handle = await obtainModel(
      {
        modelDir: checkDir('model', f.model),
        train,
        trainOptions: { epochs, batchSize, seed },
        noCache: Boolean(f['no-cache']),
        backend,
        cacheDir: checkDir('cache-dir', f['cache-dir']),
      },
      output,
      interrupt.signal,
      'train',
    );
    try {
      const classifier = tfjsClassifier(handle.model);
      const progress = viewProgress('predict views', output, interrupt.signal);
      const { tune, test: testEval } = await tuneThenTest(classifier, validation, test, search, {
        seed,
        onProgress: progress.onProgress,
      });
      progress.finish();
      writeJson(policyOut, policyToJson(tune.best.policy));
      const best = summarizePolicy(testEval.runs, [testEval.baseline], { seed });
      const baseline = summarizePolicy([testEval.baseline], [testEval.baseline], { seed });
      const candidateJson = (c: Candidate) => ({
        name: c.name,
        viewSpec: formatViews(c.policy.views),
        forwardPasses: c.forwardPasses,
        fill: c.policy.fill,
        merge: c.policy.merge,
        identityWeight: c.identityWeight,
        gate: c.policy.gate ? { margin: c.policy.gate.margin, gatedFraction: c.gatedFraction } : undefined,
        accuracy: c.accuracy,
        nll: c.nll,
      });
      const report = {
        schema: 'tta-tune/1',
        backend,
        data: {
          name: 'cifar10',
          source: data.source,
          train: train.count,
          validation: validation.count,
          test: test.count,
        },
        model: { architecture: 'reference-cnn', epochs, batchSize, seed, source: handle.source, dir: handle.dir },
        candidates: tune.candidates.map(candidateJson),
        greedy: tune.greedy,
        best: {
          ...candidateJson(tune.best),
          validation: { accuracy: tune.best.accuracy, nll: tune.best.nll },
          test: best,
          baseline,
        },
        leaveOneOut: tune.leaveOneOut,
        disagreement: tune.disagreement,
        policyFile: policyOut,
      };
      if (f.json !== undefined) writeJson(f.json, report);
      if (f.html !== undefined)
        await writeHtml(
          f.html,
          { tune: report },
          { ...search, validation: validationCount, epochs, batchSize, seed, trainLimit, testLimit },
          'tune',
          argv,
        );
      printTune(output, tune, best, baseline, policyOut);
      return 0;
    } finally {
      handle.model.dispose();
    }
  } finally {
    interrupt.dispose();
  }
}

function printTune(
  output: ReturnType<typeof makeOutput>,
  tune: Awaited<ReturnType<typeof tuneThenTest>>['tune'],
  best: ReturnType<typeof summarizePolicy>,
  baseline: ReturnType<typeof summarizePolicy>,
  policyOut: string,
): void {
  // The cost/accuracy table: the best candidate at each cost level (forward passes, rounded).
  const byCost = new Map<number, Candidate>();
  for (const c of tune.candidates) {
    const cost = Math.round(c.forwardPasses * 10) / 10;
    const current = byCost.get(cost);
    if (!current || c.accuracy > current.accuracy || (c.accuracy === current.accuracy && c.nll < current.nll))
      byCost.set(cost, c);
  }
  const rows = [...byCost.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([cost, c]) => [
      cost.toFixed(1),
      c.name,
      pct(c.accuracy),
      c.nll.toFixed(4),
      c === tune.best ? '<- chosen' : '',
    ]);
  output.result('');
  output.result(`Validation: ${tune.candidates.length} candidate policies (best per cost level)`);
  output.result(formatTable(['passes/img', 'policy', 'val acc', 'val NLL', ''], rows));
  output.result('');
  output.result(
    `Chosen: ${tune.best.name} (${formatViews(tune.best.policy.views)}; ${tune.best.forwardPasses.toFixed(2)} passes per image)`,
  );
  output.result(
    `Test (once): ${pct(best.accuracy.mean)} vs ${pct(baseline.accuracy.mean)} without TTA; lift ${pp(best.lift.mean)} [${pp(best.lift.ci95[0])}, ${pp(best.lift.ci95[1])}], McNemar p ${pValue(best.lift.mcnemarP)}`,
  );
  if (tune.leaveOneOut.length) {
    output.result('');
    output.result('Leave-one-out (validation): what each view of the chosen policy adds');
    output.result(
      formatTable(
        ['view', 'accuracy drop', 'NLL increase'],
        tune.leaveOneOut.map((l) => [l.view, pp(l.accuracyDrop), l.nllIncrease.toFixed(4)]),
      ),
    );
  }
  output.result('');
  output.result(
    `View disagreement: mean ${tune.disagreement.mean.toFixed(3)}; as an error detector, AUROC ${tune.disagreement.errorAuroc.toFixed(3)}`,
  );
  output.result(`Saved the policy to ${policyOut} (use: tta eval --policy-file ${policyOut})`);
}
