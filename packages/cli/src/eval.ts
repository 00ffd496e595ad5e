import path from 'node:path';
import { FILL_MODES, MERGE_MODES } from '@tta/native';
import { throwIfAborted } from '@tta/util';
import { CIFAR10_CLASS_NAMES } from '@tta/data';
import { tfjsClassifier } from '@tta/model';
import {
  DEFAULT_RANDOM_VIEWS,
  DEFAULT_SHIFT,
  POLICY_NAMES,
  evaluatePolicies,
  summarizePolicy,
  type Classifier,
  type Evaluation,
  type Images,
  type Policy,
  type PolicyRun,
  type PolicySummary,
} from '@tta/core';
import { choiceFlag, integerFlag, parseFlags } from './args';
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
import { checkCacheDir, checkOutputs } from './paths';
import { POLICY_FLAGS, parsePolicyFlags } from './policy-flags';
import {
  USER_MODEL_FLAGS,
  USER_MODEL_HELP,
  openImageFolder,
  openUserModel,
  parseUserModelFlags,
  type UserModelConfig,
} from './user-model';

/**
 * What eval compares without --policies: the tutorial's question (flips, shifts, its 7 random
 * flips). Crops, zooms and d4 need larger images or a square-symmetric task, so they are asked for.
 */
export const DEFAULT_EVAL_POLICIES = ['none', 'flip', 'flip-shift', 'keras-random'] as const;

export const EVAL_HELP = `Usage: tta eval [flags]

Evaluates TTA policies against no TTA, paired image by image on the same model: your own
model on your own images (--model, --images), or the reference CNN trained on CIFAR-10
(or reused from the cache) as in the Keras tutorial.

The reference experiment (CIFAR-10)
  --data DIR            CIFAR-10 binary directory (cifar-10-batches-bin) or .tar.gz;
                        default: $TTA_DATA_DIR, then the cache, then download
  --no-verify           accept data that is not the official CIFAR-10 (skip MD5 and count checks)
  --epochs N            training epochs (default 3)
  --batch-size N        training batch size (default 128; with --model: images per forward pass)
  --train-limit N       train on N training images (stratified)
  --repeats R           train R models (seeds S, S+1, ...) and report mean ± std (default 1)
  --no-cache            train even if a cached model matches
  --cache-dir DIR       model cache (default $TTA_CACHE_DIR or ~/.cache/tta)

${USER_MODEL_HELP}
  With --model and no --images, the model is evaluated on the CIFAR-10 test set.

Both
  --test-limit N        evaluate N test images (CIFAR-10: the first N; a folder: a stratified N)
  --seed S              base seed for training, subsets and random policies (default 0)
  --backend NAME        ${BACKENDS.join(' | ')} (default $TTA_BACKEND or auto)

Policies
  --policies LIST       comma list of ${POLICY_NAMES.join(', ')}
                        (default: ${DEFAULT_EVAL_POLICIES.join(',')})
  --policy SPEC         add a custom policy from a view spec, e.g. 'id,flip,dx=2,flip+dx=-2'
                        (repeatable)
  --policy-file FILE    add a policy from a JSON file, e.g. one written by 'tta tune' (repeatable)
  --views N             views per image for keras-random (default ${DEFAULT_RANDOM_VIEWS})
  --shift N             shift in pixels for flip-shift (default ${DEFAULT_SHIFT})
  --fill MODE           ${FILL_MODES.join(' | ')} for shifted pixels (default nearest)
  --merge MODE          ${MERGE_MODES.join(' | ')} (default mean)
  --chunk N             images per inference chunk (default: about 256 MB of views)

Output
  --json [FILE|-]       write results as JSON (schema 'tta-eval/1', see the README);
                        '-' or no value: stdout, and nothing else goes there
  --html FILE           write a self-contained HTML report with charts
  --quiet               no progress, only the results
  --debug               show the stack of an internal error (also TTA_DEBUG=1)
  -h, --help            this help

Examples
  tta eval --data ../shared/data/cifar-10-batches-bin
  tta eval --epochs 1 --train-limit 5000 --test-limit 2000 --policies none,flip
  tta eval --repeats 10 --policies none,keras-random --json results.json
  tta eval --model ./my-model --images ./photos --labels labels.txt --preprocess imagenet --policies none,flip
  tta eval --model ./my-model/model.json --policy 'id,flip,dy=1' --merge gmean --json -`;

const FLAGS = {
  data: { type: 'string' },
  'no-verify': { type: 'boolean' },
  epochs: { type: 'string' },
  'train-limit': { type: 'string' },
  'test-limit': { type: 'string' },
  repeats: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  'no-cache': { type: 'boolean' },
  'cache-dir': { type: 'string' },
  ...POLICY_FLAGS,
  ...USER_MODEL_FLAGS,
  chunk: { type: 'string' },
  json: { type: 'string' },
  html: { type: 'string' },
  quiet: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Flags that only make sense when the reference CNN is trained. */
const TRAINING_FLAGS = ['epochs', 'train-limit', 'repeats', 'no-cache'] as const;

export interface EvalConfig {
  data?: string;
  verify: boolean;
  /** Your own model (--model), instead of training the reference CNN. */
  user?: UserModelConfig;
  /** A folder of class folders to evaluate on (with --model). */
  images?: string;
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
  chunk?: number;
  json?: string;
  html?: string;
  quiet: boolean;
  argv: readonly string[];
}

/** Parses and checks every flag, and every path it will write, before any work starts. */
export function parseEvalFlags(argv: readonly string[]): EvalConfig | 'help' {
  const f = parseFlags(argv, FLAGS, 'eval');
  if (f.help) return 'help';
  const seed = integerFlag('seed', f.seed, { min: 0 }) ?? 0;
  const policies = parsePolicyFlags(f, seed, DEFAULT_EVAL_POLICIES);
  const user = parseUserModelFlags(f, false);
  const images = checkDir('images', f.images);
  if (images !== undefined && !user)
    throw new UserError('--images evaluates your own model on your images; it needs --model');
  if (user) {
    for (const name of TRAINING_FLAGS) {
      if (f[name] !== undefined)
        throw new UserError(`--${name} is for training the reference CNN; it has no effect with --model`);
    }
    if (images !== undefined && (f.data !== undefined || f['no-verify'])) {
      throw new UserError('--images and --data are two data sets; give one');
    }
  }
  const config: EvalConfig = {
    data: checkDir('data', f.data),
    verify: !f['no-verify'],
    ...(user ? { user } : {}),
    ...(images !== undefined ? { images } : {}),
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
    chunk: integerFlag('chunk', f.chunk, { min: 1, max: 1_000_000 }),
    json: f.json,
    html: f.html,
    quiet: Boolean(f.quiet),
    argv,
  };
  checkOutputs({ json: config.json, html: config.html });
  // The cache holds trained models and downloaded data: only needed when either happens.
  if (!user || (images === undefined && config.data === undefined)) checkCacheDir(config.cacheDir);
  return config;
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
    const result = config.user
      ? await evaluateUserModel(config, config.user, output, interrupt.signal)
      : await evaluateReferenceCnn(config, output, interrupt.signal);
    printTable(output, result);
    await writeResults(config, result);
    return 0;
  } finally {
    interrupt.dispose();
  }
}

/** What an evaluation produced, whichever model and data it was. */
interface EvalResult {
  report: Record<string, unknown> & { backend: string };
  summaries: PolicySummary[];
  baseline: PolicySummary;
  /** Shown in the table's heading, e.g. 'the CIFAR-10 test set'. */
  dataTitle: string;
  modelTitle: string;
  repeats: number;
  classNames: readonly string[];
}

/** Evaluates the policies on one model, with progress; random policies get a seed per run. */
async function evaluateOnce(
  classifier: Classifier,
  images: Images,
  truth: ArrayLike<number>,
  config: EvalConfig,
  output: Output,
  signal: AbortSignal,
  run: number,
  label: string,
): Promise<Evaluation> {
  const progress = viewProgress(label, output, signal);
  const policies = config.policies.map((p) =>
    p.random ? { ...p, random: { ...p.random, seed: p.random.seed + run } } : p,
  );
  const evaluation = await evaluatePolicies(classifier, images, truth, policies, {
    ...(config.chunk !== undefined ? { chunkSize: config.chunk } : {}),
    seed: config.seed + run,
    signal,
    onProgress: progress.onProgress,
  });
  progress.finish();
  return evaluation;
}

/** The tutorial's experiment: train (or reuse) the reference CNN, once per repeat. */
async function evaluateReferenceCnn(config: EvalConfig, output: Output, signal: AbortSignal): Promise<EvalResult> {
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
    const runLabel = config.repeats > 1 ? `run ${r + 1}/${config.repeats}: ` : '';
    const handle = await obtainModel(
      {
        train,
        trainOptions: { epochs: config.epochs, batchSize: config.batchSize, seed: config.seed + r },
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
      const started = performance.now();
      const evaluation = await evaluateOnce(
        tfjsClassifier(handle.model),
        test,
        test.labels,
        config,
        output,
        signal,
        r,
        `${runLabel}evaluate`,
      );
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
    data: {
      name: 'cifar10',
      source: data.source,
      train: train.count,
      test: test.count,
      classes: [...CIFAR10_CLASS_NAMES],
    },
    model: {
      architecture: 'reference-cnn',
      epochs: config.epochs,
      batchSize: config.batchSize,
      seeds: Array.from({ length: config.repeats }, (_, r) => config.seed + r),
      runs: models,
    },
    repeats: config.repeats,
    evaluationSeconds: evalSeconds,
    baseline: jsonSummary(baseline),
    policies: summaries.map(jsonSummary),
  };
  return {
    report,
    summaries,
    baseline,
    dataTitle: 'the CIFAR-10 test set',
    modelTitle: `${config.repeats > 1 ? `${config.repeats} models, mean ± std` : '1 model'}; backend ${backend}; model ${[...new Set(models.map((m) => m.source))].join(', ')}`,
    repeats: config.repeats,
    classNames: CIFAR10_CLASS_NAMES,
  };
}

/** Your model, on your folder of images (streamed) or on the CIFAR-10 test set. */
async function evaluateUserModel(
  config: EvalConfig,
  user: UserModelConfig,
  output: Output,
  signal: AbortSignal,
): Promise<EvalResult> {
  const backend = await useBackend(config.backend, output);
  const opened = await openUserModel(user, output);
  try {
    let images: Images;
    let truth: ArrayLike<number>;
    let data: Record<string, unknown>;
    let classNames: readonly string[];
    let dataTitle: string;
    let skipped: () => { file: string; reason: string }[] = () => [];
    if (config.images !== undefined) {
      const folder = openImageFolder(config.images, user, opened, { limit: config.testLimit, seed: config.seed });
      images = folder.source;
      truth = folder.truth;
      classNames = folder.index.classes;
      skipped = () => folder.source.skipped.map(({ file, reason }) => ({ file, reason }));
      data = { name: 'image-folder', source: folder.index.root, test: folder.files.length, classes: classNames };
      dataTitle = `${folder.index.root}: ${folder.files.length} images in ${classNames.length} classes`;
      output.info(`data: ${folder.files.length} images in ${classNames.length} class folders of ${folder.index.root}`);
    } else {
      const cifar = await loadData(config.data, output, config.verify);
      const test = limit(cifar.test, config.testLimit, false, config.seed);
      const [h, w, c] = opened.model.inputShape;
      if (h !== 32 || w !== 32 || c !== 3) {
        throw new UserError(
          `the model takes ${h}x${w}x${c} images; CIFAR-10's are 32x32x3 (give your images with --images)`,
        );
      }
      images = test;
      truth = test.labels;
      classNames = opened.labels ?? CIFAR10_CLASS_NAMES;
      data = { name: 'cifar10', source: cifar.source, test: test.count, classes: [...classNames] };
      dataTitle = 'the CIFAR-10 test set';
    }
    const started = performance.now();
    const evaluation = await evaluateOnce(opened.classifier, images, truth, config, output, signal, 0, 'evaluate');
    const evaluationSeconds = (performance.now() - started) / 1000;
    const bad = skipped();
    if (bad.length > 0)
      output.info(
        `skipped ${bad.length} unreadable image${bad.length === 1 ? '' : 's'} (listed in the JSON): ${bad[0]!.file}${bad.length > 1 ? ', ...' : ''}`,
      );
    const summaries = evaluation.runs.map((run) =>
      summarizePolicy([run], [evaluation.baseline], { seed: config.seed }),
    );
    const baseline = summarizePolicy([evaluation.baseline], [evaluation.baseline], { seed: config.seed });
    const report = {
      schema: 'tta-eval/1',
      backend,
      data: {
        ...data,
        evaluated: evaluation.indices.length,
        ...(bad.length > 0 || user.skipBad ? { skipped: bad } : {}),
      },
      model: {
        file: opened.model.file,
        format: opened.model.format,
        inputShape: opened.model.inputShape,
        classes: opened.model.numClasses,
        outputs: opened.classifier.outputs,
        preprocess: user.preprocess,
        runs: [{ source: 'file', dir: path.dirname(opened.model.file) }],
      },
      repeats: 1,
      evaluationSeconds,
      baseline: jsonSummary(baseline),
      policies: summaries.map(jsonSummary),
    };
    return {
      report,
      summaries,
      baseline,
      dataTitle,
      modelTitle: `model ${opened.model.file}, ${opened.model.format === 'graph-model' ? 'graph' : 'layers'} format; backend ${backend}`,
      repeats: 1,
      classNames,
    };
  } finally {
    opened.model.dispose();
  }
}

/** The files asked for, written after the table so that a failed write cannot lose the results. */
async function writeResults(config: EvalConfig, result: EvalResult): Promise<void> {
  if (config.json !== undefined) writeJson(config.json, result.report);
  if (config.html !== undefined) {
    await writeHtml(
      config.html,
      { eval: result.report },
      { ...config, user: undefined, argv: undefined, policies: config.policies.map((p) => p.name) },
      'eval',
      config.argv,
      result.classNames,
    );
  }
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

function printTable(output: Output, result: EvalResult): void {
  const { summaries, baseline } = result;
  const repeated = result.repeats > 1;
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
  output.result('');
  output.result(`TTA on ${summaries.length ? '' : 'no policies, '}${result.dataTitle} (${result.modelTitle})`);
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
