import { saveModel } from '@tta/model';
import { integerFlag, numberFlag, parseFlags, choiceFlag } from './args';
import {
  BACKENDS,
  checkDir,
  interruptSignal,
  limit,
  loadData,
  makeOutput,
  obtainModel,
  useBackend,
  writeJson,
  defaultBackend,
} from './context';
import { UserError } from './errors';
import { checkCacheDir, checkModelTarget, checkOutputs } from './paths';

export const TRAIN_HELP = `Usage: tta train --out DIR [flags]

Trains the reference CNN on CIFAR-10 and saves it as a TensorFlow.js layers model
(model.json + weights) that 'tta eval --model DIR' and TensorFlow.js can load.
A cached model trained with the same options and data is reused unless --no-cache.

  --out DIR             where to save the model (written atomically)
  --data DIR            CIFAR-10 binary directory or .tar.gz (default: $TTA_DATA_DIR, cache, download)
  --no-verify           accept data that is not the official CIFAR-10
  --epochs N            default 3
  --batch-size N        default 128
  --train-limit N       train on N training images (stratified)
  --seed S              default 0
  --augment             random flips and shifts of up to --augment-shift pixels while training
  --augment-shift N     default 2
  --backend NAME        ${BACKENDS.join(' | ')} (default auto, or $TTA_BACKEND)
  --no-cache            always train
  --cache-dir DIR       model cache (default $TTA_CACHE_DIR or ~/.cache/tta)
  --json [FILE|-]       write a JSON summary
  --quiet               no progress
  --debug               show the stack of an internal error (also TTA_DEBUG=1)
  -h, --help            this help

Example
  tta train --out ./models/cnn --data ../shared/data/cifar-10-batches-bin --epochs 3`;

const FLAGS = {
  out: { type: 'string' },
  data: { type: 'string' },
  'no-verify': { type: 'boolean' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  'train-limit': { type: 'string' },
  seed: { type: 'string' },
  augment: { type: 'boolean' },
  'augment-shift': { type: 'string' },
  backend: { type: 'string' },
  'no-cache': { type: 'boolean' },
  'cache-dir': { type: 'string' },
  json: { type: 'string' },
  quiet: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runTrain(argv: readonly string[]): Promise<number> {
  const f = parseFlags(argv, FLAGS, 'train');
  if (f.help) {
    process.stdout.write(`${TRAIN_HELP}\n`);
    return 0;
  }
  const out = checkDir('out', f.out);
  if (!out) throw new UserError("tta train needs --out DIR (where to save the model). Run 'tta train --help'.");
  const epochs = integerFlag('epochs', f.epochs, { min: 1, max: 1000 }) ?? 3;
  const batchSize = integerFlag('batch-size', f['batch-size'], { min: 1, max: 65536 }) ?? 128;
  const trainLimit = integerFlag('train-limit', f['train-limit'], { min: 1 });
  const seed = integerFlag('seed', f.seed, { min: 0 }) ?? 0;
  const shift = numberFlag('augment-shift', f['augment-shift'], { min: 0, max: 64 });
  const backendName = choiceFlag('backend', f.backend, BACKENDS) ?? defaultBackend();
  checkModelTarget(out);
  checkOutputs({ json: f.json });
  checkCacheDir(f['cache-dir']);
  const output = makeOutput({ quiet: f.quiet, json: f.json });
  const interrupt = interruptSignal(output);
  try {
    const backend = await useBackend(backendName, output);
    const data = await loadData(checkDir('data', f.data), output, !f['no-verify']);
    const train = limit(data.train, trainLimit, true, seed);
    const trainOptions = {
      epochs,
      batchSize,
      seed,
      augment: f.augment ? { flip: true, shift: Math.round(shift ?? 2) } : (false as const),
    };
    const handle = await obtainModel(
      {
        train,
        trainOptions,
        noCache: Boolean(f['no-cache']),
        backend,
        cacheDir: checkDir('cache-dir', f['cache-dir']),
      },
      output,
      interrupt.signal,
      'train',
    );
    try {
      await saveModel(handle.model, out, handle.metadata as Parameters<typeof saveModel>[2]);
    } finally {
      handle.model.dispose();
    }
    output.result(`saved the model to ${out}`);
    if (f.json !== undefined)
      writeJson(f.json, {
        schema: 'tta-train/1',
        backend,
        out,
        source: handle.source,
        cache: handle.dir,
        metadata: handle.metadata,
      });
    return 0;
  } finally {
    interrupt.dispose();
  }
}
