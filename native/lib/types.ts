export type Fill = 'constant' | 'nearest' | 'reflect' | 'wrap';
export type Merge = 'mean' | 'sum' | 'gmean' | 'max' | 'vote';

/** One augmented view: a horizontal flip, then a shift (positive dx moves content right, dy down). */
export interface View {
  flip?: boolean;
  dx?: number;
  dy?: number;
}

/** NHWC: [images, height, width, channels]. */
export type ImageShape = readonly [n: number, h: number, w: number, c: number];
/** [views, images, classes]: what predicting on augment()'s output gives. */
export type PredictionShape = readonly [views: number, n: number, classes: number];

export interface AugmentOptions {
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
  /** Where to write [views, n, h, w, c]; allocated when omitted. Must not overlap images. */
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
