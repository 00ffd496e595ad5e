import { runEval } from './eval';
import { isUserFacing } from './errors';
import { runTrain } from './train';
import { runTune } from './tune';

export const HELP = `Usage: tta <command> [flags]

Test-time augmentation for image classifiers: predict on flipped and shifted views
of each test image and merge the class probabilities.

Commands
  eval     train (or load) a CNN on CIFAR-10 and compare TTA policies against no TTA
  train    train the reference CNN and save it
  tune     choose a TTA policy on validation data, report it once on the test set
  help     this help ('tta <command> --help' for a command's flags)

Examples
  tta eval --data ../shared/data/cifar-10-batches-bin
  tta eval --repeats 10 --policies none,keras-random
  tta train --out ./models/cnn --epochs 3
  tta tune --out best.json && tta eval --policy-file best.json

Environment
  TTA_DATA_DIR    where CIFAR-10 is (like --data)
  TTA_CACHE_DIR   where downloads and trained models are cached (default ~/.cache/tta)`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = { eval: runEval, train: runTrain, tune: runTune };

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
  try {
    return await run(rest);
  } catch (error) {
    const e = error as Error & { exitCode?: number };
    if (e?.name === 'AbortError') {
      process.stderr.write('tta: interrupted; nothing half-written was left behind\n');
      return 130;
    }
    if (isUserFacing(error)) {
      process.stderr.write(`tta ${command}: ${e.message}\n`);
      return e.exitCode ?? 1;
    }
    throw error;
  }
}
