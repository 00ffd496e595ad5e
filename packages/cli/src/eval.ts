import { FILL_MODES, MERGE_MODES, type Fill, type Merge } from '@tta/native';
import { throwIfAborted } from '@tta/util';
import { tfjsClassifier } from '@tta/model';
import {
  DEFAULT_RANDOM_VIEWS,
  DEFAULT_SHIFT,
  POLICY_NAMES,
  evaluatePolicies,
  loadPolicyFile,
  makePolicy,
  resolvePolicy,
  summarizePolicy,
  type Policy,
  type PolicyRun,
  type PolicySummary,
} from '@tta/core';
import { choiceFlag, integerFlag, listFlag, parseFlags } from './args';
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
  type Output,
  defaultBackend,
} from './context';
import { UserError } from './errors';
import { formatTable, pct, pp, pValue } from './format';

export const EVAL_HELP = `Usage: tta eval [flags]

Trains the reference CNN on CIFAR-10 (or reuses the cached model, or loads --model),
then evaluates it on the test images without TTA and with each TTA policy, paired
against the no-TTA baseline of the same model.

Data and model
  --data DIR            CIFAR-10 binary directory (cifar-10-batches-bin) or .tar.gz;
                        default: $TTA_DATA_DIR, then the cache, then download
  --no-verify           accept data that is not the official CIFAR-10 (skip MD5 and count checks)
  --model DIR           evaluate a saved TensorFlow.js layers model instead of training
  --epochs N            training epochs (default 3)
  --batch-size N        training batch size (default 128)
  --train-limit N       train on the first N training images (stratified)
  --test-limit N        evaluate on the first N test images
  --repeats R           train R models (seeds S, S+1, ...) and report mean ± std (default 1)
  --seed S              base seed for training and random policies (default 0)
  --backend NAME        ${BACKENDS.join(' | ')} (default auto, or $TTA_BACKEND)
  --no-cache            train even if a cached model matches
  --cache-dir DIR       model cache (default $TTA_CACHE_DIR or ~/.cache/tta)

Policies
  --policies LIST       comma list of ${POLICY_NAMES.join(', ')}
                        (default: all four)
  --policy SPEC         add a custom policy from a view spec, e.g. 'id,flip,dx=2,flip+dx=-2'
                        (repeatable)
  --policy-file FILE    add a policy from a JSON file, e.g. one written by 'tta tune' (repeatable)
  --views N             views per image for keras-random (default ${DEFAULT_RANDOM_VIEWS})
  --shift N             shift in pixels for flip-shift (default ${DEFAULT_SHIFT})
  --fill MODE           ${FILL_MODES.join(' | ')} for shifted pixels (default nearest)
  --merge MODE          ${MERGE_MODES.join(' | ')} (default mean)
  --chunk N             images per inference chunk (default 1000)

Output
  --json [FILE|-]       write results as JSON (schema 'tta-eval/1', see the README);
                        '-' or no value: stdout, and nothing else goes there
  --html FILE           write a self-contained HTML report with charts
  --quiet               no progress, only the results
  -h, --help            this help

Examples
  tta eval --data ../shared/data/cifar-10-batches-bin
  tta eval --epochs 1 --train-limit 5000 --test-limit 2000 --policies none,flip
  tta eval --repeats 10 --policies none,keras-random --json results.json
  tta eval --model ./my-model --policy 'id,flip,dy=1' --merge gmean --json -`;

const FLAGS = {
  data: { type: 'string' },
  'no-verify': { type: 'boolean' },
  model: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  'train-limit': { type: 'string' },
  'test-limit': { type: 'string' },
  repeats: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  'no-cache': { type: 'boolean' },
  'cache-dir': { type: 'string' },
  policies: { type: 'string' },
  policy: { type: 'string', multiple: true },
  'policy-file': { type: 'string', multiple: true },
  views: { type: 'string' },
  shift: { type: 'string' },
  fill: { type: 'string' },
  merge: { type: 'string' },
  chunk: { type: 'string' },
  json: { type: 'string' },
  html: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface EvalConfig {
  data?: string;
  verify: boolean;
  modelDir?: string;
  epochs: number;
  batchSize: number;
  trainLimit?: number;
  testLimit?: number;
  repeats: number;
  seed: number;
  backend: (typeof BACKENDS)[number];
  noCache: boolean;
  cacheDir?: string;
  policies: Policy[];
  chunk: number;
  json?: string;
  html?: string;
  quiet: boolean;
  argv: readonly string[];
}

/** Parses and checks every flag before any work starts. */
export function parseEvalFlags(argv: readonly string[]): EvalConfig | 'help' {
  const f = parseFlags(argv, FLAGS, 'eval');
  if (f.help) return 'help';
  const fill = choiceFlag<Fill>('fill', f.fill, FILL_MODES);
  const merge = choiceFlag<Merge>('merge', f.merge, MERGE_MODES);
  const seed = integerFlag('seed', f.seed, { min: 0 }) ?? 0;
  const policyOptions = {
    views: integerFlag('views', f.views, { min: 1, max: 1024 }),
    shift: integerFlag('shift', f.shift, { min: 1, max: 1024 }),
    seed,
    fill,
    merge,
  };
  const names =
    listFlag('policies', f.policies, POLICY_NAMES) ?? (f.policy || f['policy-file'] ? [] : [...POLICY_NAMES]);
  const policies: Policy[] = names.map((name) => makePolicy(name, policyOptions));
  for (const spec of f.policy ?? []) {
    try {
      policies.push(resolvePolicy(spec, policyOptions));
    } catch (error) {
      throw new UserError(`--policy '${spec}': ${(error as Error).message}`);
    }
  }
  for (const file of f['policy-file'] ?? []) {
    try {
      policies.push(loadPolicyFile(file));
    } catch (error) {
      throw new UserError(`--policy-file: ${(error as Error).message}`);
    }
  }
  const modelDir = checkDir('model', f.model);
  if (modelDir && f.repeats !== undefined && f.repeats !== '1')
    throw new UserError('--repeats trains several models; it cannot be used with --model');
  return {
    data: checkDir('data', f.data),
    verify: !f['no-verify'],
    modelDir,
    epochs: integerFlag('epochs', f.epochs, { min: 1, max: 1000 }) ?? 3,
    batchSize: integerFlag('batch-size', f['batch-size'], { min: 1, max: 65536 }) ?? 128,
    trainLimit: integerFlag('train-limit', f['train-limit'], { min: 1 }),
    testLimit: integerFlag('test-limit', f['test-limit'], { min: 1 }),
    repeats: integerFlag('repeats', f.repeats, { min: 1, max: 1000 }) ?? 1,
    seed,
    backend: choiceFlag('backend', f.backend, BACKENDS) ?? defaultBackend(),
    noCache: Boolean(f['no-cache']),
    cacheDir: checkDir('cache-dir', f['cache-dir']),
    policies,
    chunk: integerFlag('chunk', f.chunk, { min: 1, max: 1_000_000 }) ?? 1000,
    json: f.json,
    html: checkDir('html', f.html),
    quiet: Boolean(f.quiet),
    argv,
  };
}

export async function runEval(argv: readonly string[]): Promise<number> {
  const config = parseEvalFlags(argv);
  if (config === 'help') {
    process.stdout.write(`${EVAL_HELP}\n`);
    return 0;
  }
  const output = makeOutput(config);
  const interrupt = interruptSignal(output);
  try {
    return await evaluate(config, output, interrupt.signal);
  } finally {
    interrupt.dispose();
  }
}

async function evaluate(config: EvalConfig, output: Output, signal: AbortSignal): Promise<number> {
  const backend = await useBackend(config.backend, output);
  const data = await loadData(config.data, output, config.verify);
  const train = limit(data.train, config.trainLimit, true, config.seed);
  const test = limit(data.test, config.testLimit, false, config.seed);
  const perRun: PolicyRun[][] = config.policies.map(() => []);
  const baselines: PolicyRun[] = [];
  const models: { source: string; dir: string }[] = [];
  let evalSeconds = 0;
  for (let r = 0; r < config.repeats; r++) {
    throwIfAborted(signal);
    const seed = config.seed + r;
    const runLabel = config.repeats > 1 ? `run ${r + 1}/${config.repeats}: ` : '';
    const handle = await obtainModel(
      {
        modelDir: config.modelDir,
        train,
        trainOptions: { epochs: config.epochs, batchSize: config.batchSize, seed },
        noCache: config.noCache,
        backend,
        cacheDir: config.cacheDir,
      },
      output,
      signal,
      `${runLabel}train`,
    );
    models.push({ source: handle.source, dir: handle.dir });
    try {
      const classifier = tfjsClassifier(handle.model);
      const progress = viewProgress(`${runLabel}evaluate`, output, signal);
      const started = performance.now();
      const policies = config.policies.map((p) =>
        p.random ? { ...p, random: { ...p.random, seed: p.random.seed + r } } : p,
      );
      const evaluation = await evaluatePolicies(classifier, test, test.labels, policies, {
        chunkSize: config.chunk,
        seed,
        onProgress: progress.onProgress,
      });
      progress.finish();
      evalSeconds += (performance.now() - started) / 1000;
      baselines.push(evaluation.baseline);
      evaluation.runs.forEach((run, i) => perRun[i]!.push(run));
    } finally {
      handle.model.dispose();
    }
  }
  const summaries = config.policies.map((_, i) => summarizePolicy(perRun[i]!, baselines, { seed: config.seed }));
  const baseline = summarizePolicy(baselines, baselines, { seed: config.seed });
  const report = {
    schema: 'tta-eval/1',
    backend,
    data: { name: 'cifar10', source: data.source, train: train.count, test: test.count },
    model: {
      architecture: 'reference-cnn',
      epochs: config.modelDir ? undefined : config.epochs,
      batchSize: config.modelDir ? undefined : config.batchSize,
      seeds: Array.from({ length: config.repeats }, (_, r) => config.seed + r),
      runs: models,
    },
    repeats: config.repeats,
    evaluationSeconds: evalSeconds,
    baseline: jsonSummary(baseline),
    policies: summaries.map(jsonSummary),
  };
  if (config.json !== undefined) writeJson(config.json, report);
  if (config.html !== undefined)
    await writeHtml(
      config.html,
      { eval: report },
      { ...config, argv: undefined, policies: config.policies.map((p) => p.name) },
      'eval',
      config.argv,
    );
  printTable(output, summaries, baseline, config, backend, models);
  return 0;
}

function jsonSummary(s: PolicySummary) {
  return {
    name: s.name,
    views: s.views,
    forwardPasses: s.forwardPasses,
    viewSpec: s.viewSpec,
    merge: s.merge,
    fill: s.fill,
    accuracy: s.accuracy,
    top5: s.top5,
    lift: s.lift,
    nll: s.nll,
    ece: s.ece,
    brier: s.brier,
    perClass: s.perClass,
    reliability: s.reliability,
    flips: s.flips,
    timing: s.timing,
  };
}

function printTable(
  output: Output,
  summaries: PolicySummary[],
  baseline: PolicySummary,
  config: EvalConfig,
  backend: string,
  models: { source: string }[],
): void {
  const repeated = config.repeats > 1;
  const rows = summaries.map((s) => [
    s.name,
    s.forwardPasses === s.views ? String(s.views) : `${s.views} (${s.forwardPasses} passes)`,
    repeated ? `${pct(s.accuracy.mean)} ± ${pct(s.accuracy.std)}` : pct(s.accuracy.mean),
    s.name === 'none' && s.lift.mean === 0 ? '—' : `${pp(s.lift.mean)} [${pp(s.lift.ci95[0])}, ${pp(s.lift.ci95[1])}]`,
    s.name === 'none' && s.lift.mean === 0 ? '—' : pValue(s.lift.mcnemarP),
    `${s.flips.wrongToCorrect}/${s.flips.correctToWrong}`,
    s.nll.toFixed(4),
    s.ece.toFixed(4),
    s.brier.toFixed(4),
    `${Math.round(s.timing.imagesPerSecond)}`,
    `${(s.timing.otherShare * 100).toFixed(1)}%`,
  ]);
  const sources = [...new Set(models.map((m) => m.source))].join(', ');
  output.result('');
  output.result(
    `TTA on ${summaries.length ? '' : 'no policies, '}the CIFAR-10 test set (${repeated ? `${config.repeats} models, mean ± std` : '1 model'}; backend ${backend}; model ${sources})`,
  );
  output.result(
    `baseline (no TTA): ${repeated ? `${pct(baseline.accuracy.mean)} ± ${pct(baseline.accuracy.std)}` : pct(baseline.accuracy.mean)}`,
  );
  output.result('');
  output.result(
    formatTable(
      [
        'policy',
        'views',
        'accuracy',
        'lift (95% CI)',
        'McNemar p',
        'fixed/broke',
        'NLL',
        'ECE',
        'Brier',
        'img/s',
        'non-model',
      ],
      rows,
    ),
  );
}
