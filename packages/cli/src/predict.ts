import path from 'node:path';
import { listImageFiles, imageFileSource } from '@tta/data';
import { formatViews, predictWithTtaStream, type Policy } from '@tta/core';
import { ProgressBar } from '@tta/progress';
import { integerFlag, parseFlagsAndArguments, choiceFlag } from './args';
import { BACKENDS, defaultBackend, interruptSignal, makeOutput, useBackend } from './context';
import { UserError } from './errors';
import { checkWritableFile } from './paths';
import { POLICY_FLAGS, parsePolicyFlags } from './policy-flags';
import { PredictionWriter, readExisting, type PredictionFormat, type PredictionLine } from './predictions';
import {
  USER_MODEL_FLAGS,
  USER_MODEL_HELP,
  imageArguments,
  openUserModel,
  parseUserModelFlags,
  readSize,
} from './user-model';

export const PREDICT_HELP = `Usage: tta predict --model PATH --images DIR|FILE... [flags]
       tta predict --model PATH [flags] FILE|DIR ...

TTA predictions for unlabelled images: one line per file with its top classes and their
probabilities. With --out, lines are appended and flushed as they come; a run stopped by a
crash or Ctrl-C resumes with the same --out, without repeating or losing a file.

${USER_MODEL_HELP}
  --images LIST         image files and folders (searched recursively), comma-separated or repeated;
                        plain arguments after the flags count too

Policy (one; default flip)
  --policy SPEC         a view spec, e.g. 'id,flip,dx=2'
  --policy-file FILE    a JSON policy, e.g. one written by 'tta tune'
  --policies NAME       a named policy: ${['none', 'flip', 'flip-shift', 'keras-random'].join(', ')}
  --fill MODE, --merge MODE, --shift N, --views N   as in tta eval

Output
  --out FILE            append to FILE (.csv or .jsonl), resuming an interrupted run; default: CSV to stdout
  --format FORMAT       csv | jsonl (default: from --out's extension, else csv)
  --top-k K             classes per image (default 5, at most the model's classes)
  --chunk N             images per chunk (default: about 256 MB of views)
  --backend NAME        ${BACKENDS.join(' | ')} (default $TTA_BACKEND or auto)
  --quiet               no progress
  --debug               show the stack of an internal error (also TTA_DEBUG=1)
  -h, --help            this help

Examples
  tta predict --model ./model --images ./unlabelled --labels labels.txt --out predictions.csv
  tta predict --model ./model/model.json --policy-file tta-policy.json --out predictions.jsonl photo1.jpg photo2.png`;

const FLAGS = {
  ...USER_MODEL_FLAGS,
  images: { type: 'string', multiple: true },
  ...POLICY_FLAGS,
  seed: { type: 'string' },
  out: { type: 'string' },
  format: { type: 'string' },
  'top-k': { type: 'string' },
  chunk: { type: 'string' },
  backend: { type: 'string' },
  quiet: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runPredict(argv: readonly string[]): Promise<number> {
  const { flags: f, positionals } = parseFlagsAndArguments(argv, FLAGS, 'predict');
  if (f.help) {
    process.stdout.write(`${PREDICT_HELP}\n`);
    return 0;
  }
  const user = parseUserModelFlags({ ...f, images: undefined }, true)!;
  const inputs = imageArguments([...(f.images ?? []), ...positionals]);
  const seed = integerFlag('seed', f.seed, { min: 0 }) ?? 0;
  const policies = parsePolicyFlags(f, seed, ['flip']);
  if (policies.length !== 1)
    throw new UserError(
      `tta predict runs one policy; got ${policies.length} (${policies.map((p) => p.name).join(', ')})`,
    );
  const policy: Policy = policies[0]!;
  const out = f.out;
  const format: PredictionFormat =
    choiceFlag<PredictionFormat>('format', f.format, ['csv', 'jsonl']) ??
    (out !== undefined && /\.jsonl?$/i.test(out) ? 'jsonl' : 'csv');
  if (out !== undefined) checkWritableFile('--out', out);
  const requestedTopK = integerFlag('top-k', f['top-k'], { min: 1, max: 100000 }) ?? 5;
  const chunk = integerFlag('chunk', f.chunk, { min: 1, max: 1_000_000 });
  const backendName = choiceFlag('backend', f.backend, BACKENDS) ?? defaultBackend();
  // Progress and notes go to stderr; with no --out the predictions are stdout.
  const output = makeOutput({ quiet: f.quiet });
  const files = listImageFiles(inputs);
  const interrupt = interruptSignal(output);
  try {
    await useBackend(backendName, output);
    const opened = await openUserModel(user, output);
    let writer: PredictionWriter | undefined;
    try {
      const { model, classifier } = opened;
      const topK = Math.min(requestedTopK, model.numClasses);
      const names = opened.labels ?? Array.from({ length: model.numClasses }, (_, k) => String(k));
      const resume = out !== undefined ? readExisting(out, format, topK) : undefined;
      const todo = resume ? files.filter((file) => !resume.done.has(file)) : files;
      if (resume && resume.done.size > 0) {
        output.info(
          `resuming ${out}: ${resume.done.size} of ${files.length} files done${resume.droppedPartialLine ? ' (a line cut off by the interruption was dropped)' : ''}`,
        );
      }
      output.info(`policy: ${policy.name} (${formatViews(policy.views)}, ${policy.merge})`);
      writer = new PredictionWriter(out, format, topK, resume);
      const c = model.inputShape[2];
      const source = imageFileSource(todo, {
        size: readSize(user, model),
        channels: c as 1 | 3,
        resize: user.resize,
        ...(user.resizeFrom !== undefined ? { resizeFrom: user.resizeFrom } : {}),
        skipBad: user.skipBad,
      });
      const bar = new ProgressBar({ label: 'predict', total: todo.length, unit: 'img', mode: output.progressMode });
      let reported = 0;
      let done = 0;
      for await (const result of predictWithTtaStream(classifier, source, policy, {
        ...(chunk !== undefined ? { chunkSize: chunk } : {}),
        signal: interrupt.signal,
      })) {
        const lines: { index: number; line: PredictionLine }[] = [];
        result.indices.forEach((index, row) => {
          lines.push({
            index,
            line: { file: todo[index]!, top: topClasses(result.scores, row, model.numClasses, topK, names) },
          });
        });
        // Files of this stretch that could not be read get their line too, in file order.
        for (const bad of source.skipped.slice(reported))
          lines.push({ index: bad.index, line: { file: bad.file, error: bad.reason } });
        reported = source.skipped.length;
        lines.sort((a, b) => a.index - b.index);
        writer.append(lines.map((l) => l.line));
        done += lines.length;
        bar.update(done);
      }
      bar.finish();
      output.info(
        `${todo.length} file${todo.length === 1 ? '' : 's'} predicted${source.skipped.length ? ` (${source.skipped.length} unreadable)` : ''}${out ? `; written to ${path.resolve(out)}` : ''}`,
      );
      return 0;
    } finally {
      writer?.close();
      opened.model.dispose();
    }
  } finally {
    interrupt.dispose();
  }
}

function topClasses(scores: Float32Array, row: number, classes: number, k: number, names: readonly string[]) {
  const offset = row * classes;
  const order = Array.from({ length: classes }, (_, i) => i).sort(
    (a, b) => scores[offset + b]! - scores[offset + a]! || a - b,
  );
  return order.slice(0, k).map((index) => ({ index, name: names[index]!, probability: scores[offset + index]! }));
}
