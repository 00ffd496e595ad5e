export type Fill = 'constant' | 'nearest' | 'reflect' | 'wrap';
export type Merge = 'mean' | 'sum' | 'gmean' | 'max' | 'vote';

/** Rotation counter-clockwise in degrees (as np.rot90 and tf.image.rot90). */
export type Rotation = 0 | 90 | 180 | 270;

/** The named crops: a window of the given size at the centre or in a corner of the image. */
export type CropPosition = 'center' | 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';

/** A crop in source pixels; it must lie inside the image. */
export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** A named crop of `size` pixels (one number for a square, or [height, width]); 'center' rounds its offsets down. */
export interface NamedCrop {
  position: CropPosition;
  size: number | readonly [height: number, width: number];
}

/**
 * One augmented view. The steps are applied in this fixed order:
 * 1. `crop` (default the whole image): the crop is the image from then on, so samples are clamped to it;
 *    then `zoom` picks a window of crop/zoom pixels around the crop's centre (> 1 zooms in; < 1 shows
 *    more than the crop, the outside filled by the fill mode);
 * 2. the window is resampled to the output size: bilinear with half-pixel centres (output pixel r samples
 *    windowStart + (r + 0.5) * windowSize / outSize - 0.5, as tf.image.resize's 'bilinear' without
 *    antialiasing; a zoom window's edge samples may read the crop's pixels just beyond it), or copied pixel
 *    for pixel when the window is exactly the output size at whole pixels (an identity view is a copy);
 * 3. `flip` (horizontal), `vflip` (vertical), then `rotate` counter-clockwise (90 and 270 need a square output);
 * 4. the shift by `dx`/`dy` (positive dx moves content right, dy down);
 * then the preprocessing (scale, offset).
 */
export interface View {
  flip?: boolean;
  vflip?: boolean;
  rotate?: Rotation;
  crop?: CropBox | NamedCrop;
  zoom?: number;
  dx?: number;
  dy?: number;
}

/** A view with every field set and its crop resolved to a box for one image size. */
export interface ResolvedView {
  flip: boolean;
  vflip: boolean;
  rotate: Rotation;
  crop: CropBox;
  zoom: number;
  dx: number;
  dy: number;
}

/** NHWC: [images, height, width, channels]. */
export type ImageShape = readonly [n: number, h: number, w: number, c: number];
/** [views, images, classes]: what predicting on augment()'s output gives. */
export type PredictionShape = readonly [views: number, n: number, classes: number];

export interface AugmentOptions {
  /** [height, width] of every view; default the input's. Views are resampled (or copied) to it. */
  outputShape?: readonly [height: number, width: number];
  /** How pixels shifted in from outside the image are filled. Default 'nearest'. */
  fill?: Fill;
  /** The value written by fill 'constant' as is (neither scaled nor offset). Default 0. */
  cval?: number;
  /**
   * Multiplies every value read from the input, e.g. 1/255 for Uint8 input: one factor, or one per
   * output channel (length c). Rounded to float32. Default 1.
   */
  scale?: number | ArrayLike<number>;
  /**
   * Added after scaling, one value or one per output channel (length c); rounded to float32.
   * out = float32(float32(x * scale[k]) + offset[k]). Default 0 (which leaves the product as is).
   */
  offset?: number | ArrayLike<number>;
  /** Output channel k reads input channel c-1-k (RGB -> BGR), before scale/offset by output channel. */
  reverseChannels?: boolean;
  /** Where to write [views, n, outHeight, outWidth, c]; allocated when omitted. Must not overlap images. */
  out?: Float32Array;
  /** Threads to use for large inputs. Default: the machine's cores. */
  threads?: number;
}

export interface SoftVoteOptions {
  /** Default 'mean'. */
  merge?: Merge;
  /** One non-negative weight per view (default all 1); views with weight 0 are left out. */
  weights?: ArrayLike<number>;
  /** Where to write the scores [n, classes]. */
  out?: Float32Array;
  /** Where to write the labels [n]. */
  labels?: Int32Array;
  threads?: number;
}

export interface SoftVoteResult {
  scores: Float32Array;
  labels: Int32Array;
}
