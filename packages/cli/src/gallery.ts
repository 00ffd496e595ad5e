// The test images TTA fixed (plain wrong, TTA right) and broke (plain right, TTA wrong), with
// their pixels as small thumbnails for the HTML report's gallery.
import { toSource, type Evaluation, type Images, type TestedPolicy } from '@tta/core';
import type { GalleryInput, GalleryItem as ReportGalleryItem } from '@tta/report';

/** Longest side of a thumbnail in pixels: larger images are box-averaged down to it. */
export const THUMBNAIL_SIZE = 64;
/** Images shown per kind (fixed, broke). */
export const GALLERY_PER_KIND = 12;

/** The report's gallery item (@tta/report), with the numbers and pixels this command always has. */
export interface GalleryItem extends ReportGalleryItem {
  plain: { label: number; probability: number };
  tta: { label: number; probability: number };
  image: { width: number; height: number; channels: number; pixels: Uint8Array };
}

/** The report's gallery input, with both counts. */
export interface Gallery extends GalleryInput {
  fixed: number;
  broke: number;
  items: GalleryItem[];
}

/** Box-averages an image down so that its longest side is at most `size`, to uint8. */
export function thumbnail(
  pixels: Uint8Array | Float32Array,
  height: number,
  width: number,
  channels: number,
  size = THUMBNAIL_SIZE,
): GalleryItem['image'] {
  const factor = Math.max(1, Math.ceil(Math.max(height, width) / size));
  const h = Math.ceil(height / factor);
  const w = Math.ceil(width / factor);
  // Float images are already preprocessed: stretch each one's range to 0..255 to show it.
  let lo = 0;
  let range = 1;
  if (pixels instanceof Float32Array) {
    // A loop, not Math.min(...pixels): a large image would overflow the argument stack.
    let hi = -Infinity;
    lo = Infinity;
    for (const v of pixels) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    range = hi - lo || 1;
  }
  const scale = pixels instanceof Float32Array ? 255 / range : 1;
  const out = new Uint8Array(h * w * channels);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        let count = 0;
        for (let yy = y * factor; yy < Math.min(height, (y + 1) * factor); yy++) {
          for (let xx = x * factor; xx < Math.min(width, (x + 1) * factor); xx++) {
            sum += (pixels[(yy * width + xx) * channels + c]! - lo) * scale;
            count++;
          }
        }
        out[(y * w + x) * channels + c] = Math.max(0, Math.min(255, Math.round(sum / count)));
      }
    }
  }
  return { width: w, height: h, channels, pixels: out };
}

/**
 * The first GALLERY_PER_KIND test images (in test order) that the chosen policy (or, if it is no
 * TTA, the tested policy that changed most predictions) fixed and broke,
 * with the plain and the TTA prediction as merged (before temperature scaling). Reads only the
 * pixels of those images (a folder is read again, chunk by chunk).
 */
export async function galleryOf(
  test: Images,
  evaluation: Evaluation,
  tested: readonly TestedPolicy[],
  signal?: AbortSignal,
): Promise<Gallery | undefined> {
  const plain = tested.find((t) => t.role === 'plain');
  // The chosen policy, or when that is no TTA at all, the tested policy that changed most predictions.
  const changed = (t: TestedPolicy) => t.correct.reduce((a, c, i) => a + (c !== plain!.correct[i] ? 1 : 0), 0);
  const chosen =
    tested.find((t) => t.role === 'chosen' && t.policy.views.length > 1) ??
    tested
      .filter((t) => t.role !== 'plain' && t.policy.views.length > 1)
      .reduce<TestedPolicy | undefined>((a, t) => (a && changed(a) >= changed(t) ? a : t), undefined);
  if (!plain || !chosen) return undefined;
  const K = plain.scores.length / Math.max(1, plain.labels.length);
  const rows: { row: number; kind: GalleryItem['kind'] }[] = [];
  let fixed = 0;
  let broke = 0;
  for (let row = 0; row < evaluation.truth.length; row++) {
    const kind =
      !plain.correct[row] && chosen.correct[row]
        ? 'fixed'
        : plain.correct[row] && !chosen.correct[row]
          ? 'broke'
          : undefined;
    if (kind === 'fixed' && fixed++ < GALLERY_PER_KIND) rows.push({ row, kind });
    if (kind === 'broke' && broke++ < GALLERY_PER_KIND) rows.push({ row, kind });
  }
  const wanted = new Map(rows.map((r) => [evaluation.indices[r.row]!, r]));
  const source = toSource(test);
  const pixels = new Map<number, GalleryItem['image']>();
  if (wanted.size > 0) {
    const size = source.height * source.width * source.channels;
    for await (const chunk of source.chunks(64, signal)) {
      for (let j = 0; j < chunk.count; j++) {
        const index = chunk.indices[j]!;
        if (!wanted.has(index)) continue;
        const image = chunk.images.subarray(j * size, (j + 1) * size);
        pixels.set(index, thumbnail(image, source.height, source.width, source.channels));
      }
      if (pixels.size === wanted.size) break;
    }
  }
  const prediction = (t: TestedPolicy, row: number) => ({
    label: t.labels[row]!,
    probability: t.scores[row * K + t.labels[row]!]! / rowSum(t.scores, row, K),
  });
  const items = rows.flatMap(({ row, kind }) => {
    const index = evaluation.indices[row]!;
    const image = pixels.get(index);
    if (!image) return [];
    return [
      {
        kind,
        index,
        truth: evaluation.truth[row]!,
        plain: prediction(plain, row),
        tta: prediction(chosen, row),
        image,
      },
    ];
  });
  return { policy: chosen.name, fixed, broke, items };
}

function rowSum(scores: Float32Array, row: number, K: number): number {
  let sum = 0;
  for (let k = 0; k < K; k++) sum += scores[row * K + k]!;
  return sum || 1;
}
