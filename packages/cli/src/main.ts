import { runEval } from './eval';
import { isTtaError } from '@tta/util';
import { isUserFacing } from './errors';
import { runTrain } from './train';
import { runTune } from './tune';
import { runPredict } from './predict';
import { runCache } from './cache';

export const HELP = `Usage: tta <command> [flags]

Test-time augmentation for image classifiers: predict on flipped, shifted (and more)
views of each image and merge the class probabilities.

Commands
  eval     compare TTA policies against no TTA, paired on the same model: your model on
           your images, or the reference CNN trained on CIFAR-10
  predict  TTA predictions for unlabelled images, one line per file (resumable)
  tune     choose a TTA policy on validation data, report it once on the test set
  train    train the reference CNN on CIFAR-10 and save it
  cache    list or clean the cache (trained models, data sets, debris of killed runs)
  help     this help ('tta <command> --help' for a command's flags)

Examples
  tta eval --data ../shared/data/cifar-10-batches-bin
  tta eval --model ./my-model --images ./labelled-photos --preprocess imagenet
  tta predict --model ./my-model --images ./photos --out predictions.csv
  tta tune --model ./my-model --images ./labelled-photos --out best.json
  tta train --out ./models/cnn --epochs 3

Environment
  TTA_DATA_DIR    where CIFAR-10 is (like --data)
  TTA_CACHE_DIR   where downloads and trained models are cached (default ~/.cache/tta)
  TTA_BACKEND     the default --backend
  TTA_DEBUG=1     show the stack of an internal error (like --debug)`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  eval: runEval,
  train: runTrain,
  tune: runTune,
  predict: runPredict,
  cache: runCache,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${HELP}\n`);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`tta: unknown command '${command}'; valid: ${Object.keys(COMMANDS).join(', ')}, help\n`);
    return 2;
  }
  const debug = rest.includes('--debug') || process.env.TTA_DEBUG === '1';
  try {
    return await run(rest);
  } catch (error) {
    const e = error as Error & { exitCode?: number };
    if (e?.name === 'AbortError' || isTtaError(error, 'TTA_ABORTED')) {
      process.stderr.write('tta: interrupted; nothing half-written was left behind\n');
      return 130;
    }
    if (isUserFacing(error)) {
      process.stderr.write(`tta ${command}: ${debug ? (e.stack ?? e.message) : e.message}\n`);
      return e.exitCode ?? 1;
    }
    // A bug, not a user error: say so in one line; the stack is for a report.
    process.stderr.write(
      debug
        ? `tta: internal error: ${e?.stack ?? String(error)}\n`
        : `tta: internal error: ${e?.message ?? String(error)}\n(run again with --debug or TTA_DEBUG=1 to see where; please report it)\n`,
    );
    return 70;
  }
}
