import type { ProgressMode } from '@tta/progress';

export interface Split {
  /** NHWC uint8, count * 32 * 32 * 3 bytes. */
  images: Uint8Array;
  /** One class index per image. For CIFAR-100 these follow the load's labelMode. */
  labels: Uint8Array;
  count: number;
  height: 32;
  width: 32;
  channels: 3;
  /** CIFAR-100 only: the 20 superclasses. */
  coarseLabels?: Uint8Array;
  /** CIFAR-100 only: the 100 classes. */
  fineLabels?: Uint8Array;
}

export interface Dataset {
  train: Split;
  test: Split;
  /** Names for the values in `labels`. */
  classNames: string[];
  name: 'cifar10' | 'cifar100';
  /** The folder the binary files were read from (an archive is first extracted into the cache). */
  source: string;
}

export interface LoadProgress {
  phase: 'download' | 'extract' | 'read';
  done: number;
  total?: number;
}

export interface LoadOptions {
  /** A folder holding the binary files, the folder that holds their folder, or the official .tar.gz. */
  dir?: string;
  /** The tta cache root (default TTA_CACHE_DIR, else the user's cache folder); datasets go in its datasets/. */
  cacheDir?: string;
  /** Download the official archive into the cache when nothing is found. Default true unless TTA_OFFLINE is set. */
  download?: boolean;
  /** Check the official MD5s and record counts. Default true; turn off for custom data in the official layout. */
  verify?: boolean;
  /** Where to download from (default TTA_CIFAR10_URL / TTA_CIFAR100_URL, else the official URL). */
  url?: string;
  onProgress?: (progress: LoadProgress) => void;
  /** How the download progress bar is shown. Default 'auto'. */
  progress?: ProgressMode;
  /** Download attempts after the first one fails. Default 3. */
  retries?: number;
  /** Wait before the first retry, doubled for each next one. Default 1000 ms. */
  retryDelayMs?: number;
  /** Give up on a connection that sends nothing for this long. Default 60000 ms. */
  timeoutMs?: number;
}
