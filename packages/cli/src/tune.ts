import { FILL_MODES, MERGE_MODES, type Fill, type Merge } from '@tta/native';
import { tfjsClassifier, type BackendName } from '@tta/model';
import { CIFAR10_CLASS_NAMES, stratifiedSplit, trainValidationSplit } from '@tta/data';
import {
  LEARNED_SHAPES,
  TUNE_RANKS,
  candidateOrder,
  formatViews,
  policyToJson,
  summarizePolicy,
  tuneThenTest,
  type Candidate,
  type Classifier,
  type Images,
  type LearnedShape,
  type PairedComparison,
  type TestedPolicy,
  type TuneRank,
} from '@tta/core';
import { galleryOf } from './gallery';
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
  type Output,
} from './context';
import { UserError } from './errors';
import { formatTable, pct, pp, pValue } from './format';
import { checkCacheDir, checkOutputs } from './paths';
import {
  USER_MODEL_FLAGS,
  USER_MODEL_HELP,
  openImageFolder,
  openUserModel,
  parseUserModelFlags,
  type OpenedFolder,
  type UserModelConfig,
} from './user-model';

/** The view families --search adds ('none': not even the automatic crops and zooms). */
export const SEARCH_FAMILIES = ['crops', 'zooms', 'd4', 'none'] as const;

/** --search and --zooms as TuneSearch fields; left out, the tuner decides from the image size. */
export function searchFamilies(
  searchFlag: string | undefined,
  zoomsFlag: string | undefined,
): { crops?: boolean; zooms?: number[]; d4?: boolean } {
  const families = listFlag('search', searchFlag, SEARCH_FAMILIES);
  let zooms: number[] | undefined;
  if (zoomsFlag !== undefined) {
    zooms = String(zoomsFlag)
      .split(',')
      .map((item) => {
        const z = Number(item.trim());
        if (item.trim() === '' || !(z >= 0.001 && z <= 1000) || z === 1)
          throw new UserError(`--zooms expects zoom factors between 0.001 and 1000 other than 1, got '${item.trim()}'`);
        return z;
      });
  }
  const none = families?.includes('none') ?? false;
  if (none && families!.length > 1) {
    const others = families!.filter((x) => x !== 'none').join(',');
    throw new UserError(`--search none leaves out the automatic crops and zooms; it cannot go with ${others}`);
  }
  if (none && zooms) throw new UserError('--zooms tries zooms; it cannot go with --search none');
  const asked = (family: (typeof SEARCH_FAMILIES)[number]) => (none ? false : families?.includes(family) || undefined);
  const result: { crops?: boolean; zooms?: number[]; d4?: boolean } = {};
  const crops = asked('crops');
  if (crops !== undefined) result.crops = crops;
  if (zooms) result.zooms = zooms;
  else if (none) result.zooms = [];
  else if (asked('zooms')) result.zooms = [0.9, 1.1];
  if (asked('d4')) result.d4 = true;
  return result;
}

export const TUNE_HELP = `Usage: tta tune [flags]

Chooses a TTA policy on validation data (never the test set), then reports it once on
the test set and saves it for 'tta eval --policy-file' and 'tta predict --policy-file'.
Every candidate view of the validation images is predicted once; a grid of policies is
scored as cheap merges of those predictions, with greedy view selection and
confidence-gated variants, and learned merges (a weight per view, or per view and class,
fitted on validation NLL and scored out of fold); the most accurate wins (ties: fewest
forward passes), or with --rank calibrated-nll the lowest NLL after temperature scaling.
Every candidate gets a temperature fitted on validation NLL; the saved policy carries its
own. The test set is used once: the chosen policy, the best learned merge and the mean
merge of the same views (paired, McNemar), before and after their temperatures.

With --model and --images, your model is tuned on a stratified share of your folder
(--validation N) or on another folder (--validation-images DIR) and tested on the rest.
With --model alone, on CIFAR-10 (validation held out of the training set). Otherwise the
reference CNN is trained (or reused) on CIFAR-10's training set minus the validation images.

  --data DIR              CIFAR-10 directory or .tar.gz (default: $TTA_DATA_DIR, cache, download)
  --no-verify             accept data that is not the official CIFAR-10
  --validation N          validation images held out, stratified (default 5000; a folder: 20%)
  --validation-images DIR with --images: validate on this folder, test on all of --images
  --epochs N              default 3
  --batch-size N          default 128
  --train-limit N         train on N training images (after the hold-out)
  --test-limit N          report on the first N test images
  --seed S                default 0 (the split, training and random choices)
  --backend NAME          ${BACKENDS.join(' | ')} (default auto, or $TTA_BACKEND)
  --shifts LIST           shift sizes to try (default 1,2,3,4)
  --fills LIST            fill modes to try (default nearest,reflect; all: ${FILL_MODES.join(',')})
  --search LIST           view families to add: ${SEARCH_FAMILIES.join(',')} (crops and zooms are tried anyway when
                          the images are larger than the model input; none: not even then; d4: quarter turns
                          and flips, for aerial, medical and microscopy images, square models only)
  --zooms LIST            zoom factors of the zoom family besides 1 (default 0.9,1.1; implies zooms)
  --merges LIST           merge modes to try (default ${MERGE_MODES.filter((m) => m !== 'sum').join(',')})
  --identity-weights LIST weights of the identity view to try (default 1,2,4)
  --greedy N              largest greedy view set (default 8)
  --learned LIST          learned merges to try: view, view-class, or none (default view,view-class)
  --rank MODE             ${TUNE_RANKS.join(' | ')} (default accuracy)
  --out FILE              where to save the chosen policy (default tta-policy.json)
  --no-cache              always train
  --cache-dir DIR         model cache
  --json [FILE|-]         write results as JSON (schema 'tta-tune/1')
  --html FILE             write a self-contained HTML report
  --quiet                 no progress
  --debug                 show the stack of an internal error (also TTA_DEBUG=1)
  -h, --help              this help

${USER_MODEL_HELP}

Examples
  tta tune --data ../shared/data/cifar-10-batches-bin --out best.json
  tta eval --data ../shared/data/cifar-10-batches-bin --policy-file best.json
  tta tune --model ./my-model --images ./labelled --preprocess imagenet --out best.json`;

const FLAGS = {
  data: { type: 'string' },
  'no-verify': { type: 'boolean' },
  ...USER_MODEL_FLAGS,
  validation: { type: 'string' },
  'validation-images': { type: 'string' },
  epochs: { type: 'string' },
  'train-limit': { type: 'string' },
  'test-limit': { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  shifts: { type: 'string' },
  fills: { type: 'string' },
  search: { type: 'string' },
  zooms: { type: 'string' },
  merges: { type: 'string' },
  'identity-weights': { type: 'string' },
  greedy: { type: 'string' },
  learned: { type: 'string' },
  rank: { type: 'string' },
  out: { type: 'string' },
  'no-cache': { type: 'boolean' },
  'cache-dir': { type: 'string' },
  json: { type: 'string' },
  html: { type: 'string' },
  quiet: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function integerList(name: string, value: unknown, min: number, max: number): number[] | undefined {
  if (value === undefined) return undefined;
  const items = String(value)
    .split(',')
    .map((s) => s.trim());
  return items.map((item) => integerFlag(name, item, { min, max })!);
}

/** What the validation and test sets are, and the model to tune, whichever mode. */
interface TuneSetup {
  classifier: Classifier;
  validation: Images & { labels: ArrayLike<number> };
  test: Images & { labels: ArrayLike<number> };
  data: Record<string, unknown>;
  model: Record<string, unknown>;
  classNames: readonly string[];
  /** Unreadable files skipped in a folder, once the run is over. */
  skipped: () => { file: string; reason: string }[];
  dispose: () => void;
}

export async function runTune(argv: readonly string[]): Promise<number> {
  const f = parseFlags(argv, FLAGS, 'tune');
  if (f.help) {
    process.stdout.write(`${TUNE_HELP}\n`);
    return 0;
  }
  const seed = integerFlag('seed', f.seed, { min: 0 }) ?? 0;
  const search = {
    shifts: integerList('shifts', f.shifts, 1, 16) ?? [1, 2, 3, 4],
    fills: listFlag<Fill>('fills', f.fills, FILL_MODES) ?? (['nearest', 'reflect'] as Fill[]),
    merges: listFlag<Merge>('merges', f.merges, MERGE_MODES) ?? (['mean', 'gmean', 'max', 'vote'] as Merge[]),
    identityWeights: integerList('identity-weights', f['identity-weights'], 1, 100) ?? [1, 2, 4],
    greedyMax: integerFlag('greedy', f.greedy, { min: 1, max: 64 }) ?? 8,
    learned:
      f.learned === 'none' ? [] : (listFlag<LearnedShape>('learned', f.learned, LEARNED_SHAPES) ?? [...LEARNED_SHAPES]),
    rank: choiceFlag<TuneRank>('rank', f.rank, TUNE_RANKS) ?? 'accuracy',
    ...searchFamilies(f.search, f.zooms),
  };
  const user = parseUserModelFlags(f, false);
  const images = checkDir('images', f.images);
  const validationImages = checkDir('validation-images', f['validation-images']);
  if (images !== undefined && !user)
    throw new UserError('--images tunes your own model on your images; it needs --model');
  if (validationImages !== undefined && images === undefined)
    throw new UserError('--validation-images goes with --images');
  if (validationImages !== undefined && f.validation !== undefined) {
    throw new UserError('--validation-images and --validation: give one (a folder, or a share of --images)');
  }
  if (user) {
    for (const name of ['epochs', 'train-limit', 'no-cache'] as const) {
      if (f[name] !== undefined)
        throw new UserError(`--${name} is for training the reference CNN; it has no effect with --model`);
    }
  }
  const validationCount = integerFlag('validation', f.validation, { min: 10 });
  const epochs = integerFlag('epochs', f.epochs, { min: 1, max: 1000 }) ?? 3;
  const batchSize = integerFlag('batch-size', f['batch-size'], { min: 1, max: 65536 }) ?? 128;
  const trainLimit = integerFlag('train-limit', f['train-limit'], { min: 1 });
  const testLimit = integerFlag('test-limit', f['test-limit'], { min: 1 });
  const backendName = choiceFlag('backend', f.backend, BACKENDS) ?? defaultBackend();
  const policyOut = f.out ?? 'tta-policy.json';
  checkOutputs({ out: policyOut, json: f.json, html: f.html });
  if (!user || (images === undefined && f.data === undefined)) checkCacheDir(f['cache-dir']);
  const output = makeOutput({ quiet: f.quiet, json: f.json });
  const interrupt = interruptSignal(output);
  try {
    const backend = await useBackend(backendName, output);
    const setup = user
      ? await userModelSetup(
          user,
          { images, validationImages, validationCount, testLimit, seed, data: f.data, verify: !f['no-verify'] },
          output,
        )
      : await referenceCnnSetup(
          { validationCount: validationCount ?? 5000, epochs, batchSize, trainLimit, testLimit, seed, backend },
          { data: f.data, verify: !f['no-verify'], noCache: Boolean(f['no-cache']), cacheDir: f['cache-dir'] },
          output,
          interrupt.signal,
        );
    try {
      const progress = viewProgress('predict views', output, interrupt.signal);
      const {
        tune,
        test: testEval,
        tested,
        paired,
      } = await tuneThenTest(setup.classifier, setup.validation, setup.test, search, {
        seed,
        signal: interrupt.signal,
        onProgress: progress.onProgress,
      });
      progress.finish();
      const best = summarizePolicy([testEval.runs[0]!], [testEval.baseline], { seed });
      const baseline = summarizePolicy([testEval.baseline], [testEval.baseline], { seed });
      const bad = setup.skipped();
      if (bad.length > 0)
        output.info(`skipped ${bad.length} unreadable image${bad.length === 1 ? '' : 's'} (listed in the JSON)`);
      const report = {
        schema: 'tta-tune/1',
        backend,
        data: { ...setup.data, ...(bad.length > 0 ? { skipped: bad } : {}) },
        model: setup.model,
        rank: tune.rank,
        candidates: tune.candidates.map(candidateJson),
        greedy: tune.greedy,
        best: {
          ...candidateJson(tune.best),
          validation: { accuracy: tune.best.accuracy, nll: tune.best.nll },
          test: best,
          baseline,
        },
        tested: tested.map(testedJson),
        paired,
        leaveOneOut: tune.leaveOneOut,
        disagreement: tune.disagreement,
        policyFile: policyOut,
      };
      printTune(output, tune, best, baseline, policyOut);
      printCalibration(output, tested, paired);
      // Written after the results are shown, so that a failing write cannot lose them.
      writeJson(policyOut, policyToJson(tune.best.policy), '--out');
      if (f.json !== undefined) writeJson(f.json, report);
      if (f.html !== undefined)
        await writeHtml(
          f.html,
          { tune: report, gallery: await galleryOf(setup.test, testEval, tested, interrupt.signal) },
          { ...search, validation: validationCount, epochs, batchSize, seed, trainLimit, testLimit },
          'tune',
          argv,
          setup.classNames,
        );
      return 0;
    } finally {
      setup.dispose();
    }
  } finally {
    interrupt.dispose();
  }
}

function candidateJson(c: Candidate) {
  return {
    name: c.name,
    viewSpec: formatViews(c.policy.views),
    forwardPasses: c.forwardPasses,
    fill: c.policy.fill,
    merge: c.policy.merge,
    identityWeight: c.identityWeight,
    gate: c.policy.gate ? { margin: c.policy.gate.margin, gatedFraction: c.gatedFraction } : undefined,
    accuracy: c.accuracy,
    nll: c.nll,
    ece: c.ece,
    temperature: c.temperature,
    calibratedNll: c.calibratedNll,
    calibratedEce: c.calibratedEce,
    ...(c.policy.learned
      ? { learned: { ...c.policy.learned, views: c.policy.views.map((v) => formatViews([v])) } }
      : {}),
    ...(c.meanOfSameViews ? { meanOfSameViews: c.meanOfSameViews.name } : {}),
  };
}

function testedJson(t: TestedPolicy) {
  const figures = (m: TestedPolicy['metrics']) => ({ accuracy: m.accuracy, nll: m.nll, ece: m.ece, brier: m.brier });
  return {
    role: t.role,
    name: t.name,
    viewSpec: formatViews(t.policy.views),
    merge: t.policy.merge,
    temperature: t.temperature,
    test: figures(t.metrics),
    calibrated: figures(t.calibrated),
  };
}

/** Test-set NLL and ECE of each tested policy before and after its validation temperature, and the pairings. */
function printCalibration(output: Output, tested: readonly TestedPolicy[], paired: readonly PairedComparison[]): void {
  output.result('');
  output.result('Test (once), each policy with the temperature fitted for it on validation data');
  output.result(
    formatTable(
      ['policy', 'role', 'T', 'acc', 'NLL', 'NLL (T)', 'ECE', 'ECE (T)'],
      tested.map((t) => [
        t.name,
        t.role,
        t.temperature.toFixed(3),
        pct(t.metrics.accuracy),
        t.metrics.nll.toFixed(4),
        t.calibrated.nll.toFixed(4),
        pct(t.metrics.ece),
        pct(t.calibrated.ece),
      ]),
    ),
  );
  for (const p of paired) {
    output.result(
      `${p.policy} vs ${p.against}: ${pp(p.accuracyDifference)} (right only with it ${p.policyOnly}, only without ${p.againstOnly}), McNemar p ${pValue(p.mcnemarP)}; NLL (T) ${p.calibratedNllDifference >= 0 ? '+' : ''}${p.calibratedNllDifference.toFixed(4)}`,
    );
  }
}

/** The reference CNN, trained (or reused) on CIFAR-10's training set minus the validation images. */
async function referenceCnnSetup(
  o: {
    validationCount: number;
    epochs: number;
    batchSize: number;
    trainLimit?: number;
    testLimit?: number;
    seed: number;
    backend: BackendName;
  },
  d: { data?: string; verify: boolean; noCache: boolean; cacheDir?: string },
  output: Output,
  signal: AbortSignal,
): Promise<TuneSetup> {
  const data = await loadData(checkDir('data', d.data), output, d.verify);
  if (o.validationCount >= data.train.count)
    throw new UserError(`--validation ${o.validationCount} leaves no training images (there are ${data.train.count})`);
  const { train: rest, validation } = trainValidationSplit(data.train, { validation: o.validationCount, seed: o.seed });
  const train = limit(rest, o.trainLimit, true, o.seed);
  const test = limit(data.test, o.testLimit, false, o.seed);
  output.info(`tune: ${validation.count} validation images held out of the training set; training on ${train.count}`);
  const handle = await obtainModel(
    {
      train,
      trainOptions: { epochs: o.epochs, batchSize: o.batchSize, seed: o.seed },
      noCache: d.noCache,
      backend: o.backend,
      cacheDir: checkDir('cache-dir', d.cacheDir),
    },
    output,
    signal,
    'train',
  );
  return {
    classifier: tfjsClassifier(handle.model),
    validation,
    test,
    data: { name: 'cifar10', source: data.source, train: train.count, validation: validation.count, test: test.count },
    model: {
      architecture: 'reference-cnn',
      epochs: o.epochs,
      batchSize: o.batchSize,
      seed: o.seed,
      source: handle.source,
      dir: handle.dir,
    },
    classNames: CIFAR10_CLASS_NAMES,
    skipped: () => [],
    dispose: () => handle.model.dispose(),
  };
}

/** Your model, on a share of your folder (or another folder), or on CIFAR-10. */
async function userModelSetup(
  user: UserModelConfig,
  o: {
    images?: string;
    validationImages?: string;
    validationCount?: number;
    testLimit?: number;
    seed: number;
    data?: string;
    verify: boolean;
  },
  output: Output,
): Promise<TuneSetup> {
  const opened = await openUserModel(user, output);
  try {
    const modelJson = {
      file: opened.model.file,
      format: opened.model.format,
      outputs: user.outputs,
      preprocess: user.preprocess,
    };
    if (o.images === undefined) {
      const data = await loadData(checkDir('data', o.data), output, o.verify);
      const [h, w, c] = opened.model.inputShape;
      if (h !== 32 || w !== 32 || c !== 3) {
        throw new UserError(
          `the model takes ${h}x${w}x${c} images; CIFAR-10's are 32x32x3 (give your images with --images)`,
        );
      }
      const { validation } = trainValidationSplit(data.train, { validation: o.validationCount ?? 5000, seed: o.seed });
      const test = limit(data.test, o.testLimit, false, o.seed);
      return {
        classifier: opened.classifier,
        validation,
        test,
        data: { name: 'cifar10', source: data.source, validation: validation.count, test: test.count },
        model: modelJson,
        classNames: opened.labels ?? CIFAR10_CLASS_NAMES,
        skipped: () => [],
        dispose: () => opened.model.dispose(),
      };
    }
    const all = openImageFolder(o.images, user, opened);
    let validation: OpenedFolder;
    let test: OpenedFolder;
    if (o.validationImages !== undefined) {
      validation = openImageFolder(o.validationImages, user, opened);
      test = openImageFolder(o.images, user, opened, { limit: o.testLimit, seed: o.seed });
    } else {
      const count = o.validationCount ?? Math.max(1, Math.round(all.files.length / 5));
      if (count >= all.files.length) {
        throw new UserError(`--validation ${count} leaves no test images (${o.images} has ${all.files.length})`);
      }
      const split = stratifiedSplit(all.truth, count, o.seed);
      validation = openImageFolder(o.images, user, opened, { subset: Array.from(split.chosen) });
      test = openImageFolder(o.images, user, opened, {
        subset: Array.from(split.rest),
        limit: o.testLimit,
        seed: o.seed,
      });
    }
    output.info(`tune: ${validation.files.length} validation images, ${test.files.length} test images`);
    return {
      classifier: opened.classifier,
      validation: { ...validation.source, labels: validation.truth },
      test: { ...test.source, labels: test.truth },
      data: {
        name: 'image-folder',
        source: all.index.root,
        validationSource: validation.index.root,
        validation: validation.files.length,
        test: test.files.length,
        classes: all.index.classes,
      },
      model: modelJson,
      classNames: all.index.classes,
      skipped: () =>
        [...validation.source.skipped, ...test.source.skipped].map(({ file, reason }) => ({ file, reason })),
      dispose: () => opened.model.dispose(),
    };
  } catch (error) {
    opened.model.dispose();
    throw error;
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
  const order = candidateOrder(tune.rank);
  for (const c of tune.candidates) {
    const cost = Math.round(c.forwardPasses * 10) / 10;
    const current = byCost.get(cost);
    if (!current || order(c, current) < 0) byCost.set(cost, c);
  }
  const rows = [...byCost.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([cost, c]) => [
      cost.toFixed(1),
      c.name,
      pct(c.accuracy),
      c.nll.toFixed(4),
      c.calibratedNll.toFixed(4),
      c === tune.best ? '<- chosen' : '',
    ]);
  output.result('');
  output.result(`Validation: ${tune.candidates.length} candidate policies (best per cost level)`);
  output.result(formatTable(['passes/img', 'policy', 'val acc', 'val NLL', 'NLL (T)', ''], rows));
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
