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
  /** The value written by fill 'constant' (not scaled). Default 0. */
  cval?: number;
  /** Multiplies every pixel read from the input, e.g. 1/255 for Uint8 input. Default 1. */
  scale?: number;
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
