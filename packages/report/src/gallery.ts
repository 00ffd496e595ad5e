// The gallery of test images the chosen policy fixed and broke: thumbnails drawn from the
// pixels (PNG data: URIs), with the true class and the plain and TTA predictions.
import { invalidParameterError, isPlainObject, outOfRangeError } from '@tta/util';
import { escapeHtml, integer, pct } from './format';
import { pngDataUri } from './png';
import type { GalleryInput, GalleryItem } from './types';

export function checkGallery(gallery: unknown, name = 'input.gallery'): asserts gallery is GalleryInput {
  if (!isPlainObject(gallery) || !Array.isArray(gallery.items))
    throw invalidParameterError(name, 'an object { policy, items }', gallery);
  gallery.items.forEach((item: unknown, i) => {
    const at = `${name}.items[${i}]`;
    if (!isPlainObject(item)) throw invalidParameterError(at, 'an object', item);
    if (item.kind !== 'fixed' && item.kind !== 'broke')
      throw invalidParameterError(`${at}.kind`, "'fixed' or 'broke'", item.kind);
    const image = item.image;
    if (!isPlainObject(image))
      throw invalidParameterError(`${at}.image`, 'an object { width, height, channels, pixels }', image);
    const { width, height, channels, pixels } = image as Record<string, unknown>;
    if (
      !(pixels instanceof Uint8Array || Array.isArray(pixels)) ||
      (pixels as ArrayLike<number>).length !== Number(width) * Number(height) * Number(channels)
    )
      throw outOfRangeError(`${at}.image.pixels`, 'width x height x channels 8-bit values', pixels);
  });
}

function className(classNames: string[], k: number): string {
  return classNames[k] ?? `class ${k}`;
}

function tile(item: GalleryItem, classNames: string[]): string {
  const { width, height, channels } = item.image;
  const pixels = item.image.pixels instanceof Uint8Array ? item.image.pixels : Uint8Array.from(item.image.pixels);
  const uri = pngDataUri(width, height, channels, pixels);
  const truth = className(classNames, item.truth);
  const plain = className(classNames, item.plain.label);
  const tta = className(classNames, item.tta.label);
  // Shown at twice the size of a small thumbnail, without smoothing: the pixels as the model saw them.
  const scale = Math.max(1, Math.floor(96 / Math.max(width, height)));
  return (
    `<figure class="tile ${item.kind}" data-index="${escapeHtml(item.index)}">` +
    `<img src="${uri}" width="${width * scale}" height="${height * scale}" alt="${escapeHtml(`test image ${item.index}, a ${truth}`)}">` +
    `<figcaption><span class="truth">${escapeHtml(truth)}</span>` +
    `<span class="pred ${item.plain.label === item.truth ? 'good' : 'bad'}">plain: ${escapeHtml(plain)} ${escapeHtml(pct(item.plain.probability, 0))}</span>` +
    `<span class="pred ${item.tta.label === item.truth ? 'good' : 'bad'}">TTA: ${escapeHtml(tta)} ${escapeHtml(pct(item.tta.probability, 0))}</span>` +
    `<span class="index">#${escapeHtml(item.index)}</span></figcaption></figure>`
  );
}

/** The gallery section: what TTA fixed, then what it broke. */
export function gallerySection(gallery: GalleryInput, classNames: string[]): string {
  let out = '<section id="gallery"><h2>What TTA changed on the test set</h2>';
  out += `<p>Test images whose prediction <strong>${escapeHtml(gallery.policy)}</strong> changed from wrong to right (fixed: ${escapeHtml(integer(gallery.fixed))} in all) and from right to wrong (broke: ${escapeHtml(integer(gallery.broke))}); the first of each in test order, with the probability each gave its predicted class (before temperature scaling).</p>`;
  for (const kind of ['fixed', 'broke'] as const) {
    const items = gallery.items.filter((item) => item.kind === kind);
    out += `<h3>${kind === 'fixed' ? 'Fixed by TTA' : 'Broken by TTA'}</h3>`;
    out += items.length
      ? `<div class="gallery" data-kind="${kind}">${items.map((item) => tile(item, classNames)).join('')}</div>`
      : `<p class="note">None.</p>`;
  }
  return `${out}</section>`;
}
