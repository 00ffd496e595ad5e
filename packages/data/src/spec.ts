// What the official binary releases look like, from https://www.cs.toronto.edu/~kriz/cifar.html

export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR100_URL = 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz';

export const CIFAR10_CLASS_NAMES: readonly string[] = Object.freeze([
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
]);

export const CIFAR100_COARSE_CLASS_NAMES: readonly string[] = Object.freeze([
  'aquatic_mammals',
  'fish',
  'flowers',
  'food_containers',
  'fruit_and_vegetables',
  'household_electrical_devices',
  'household_furniture',
  'insects',
  'large_carnivores',
  'large_man-made_outdoor_things',
  'large_natural_outdoor_scenes',
  'large_omnivores_and_herbivores',
  'medium_mammals',
  'non-insect_invertebrates',
  'people',
  'reptiles',
  'small_mammals',
  'trees',
  'vehicles_1',
  'vehicles_2',
]);

export const CIFAR100_FINE_CLASS_NAMES: readonly string[] = Object.freeze([
  'apple',
  'aquarium_fish',
  'baby',
  'bear',
  'beaver',
  'bed',
  'bee',
  'beetle',
  'bicycle',
  'bottle',
  'bowl',
  'boy',
  'bridge',
  'bus',
  'butterfly',
  'camel',
  'can',
  'castle',
  'caterpillar',
  'cattle',
  'chair',
  'chimpanzee',
  'clock',
  'cloud',
  'cockroach',
  'couch',
  'crab',
  'crocodile',
  'cup',
  'dinosaur',
  'dolphin',
  'elephant',
  'flatfish',
  'forest',
  'fox',
  'girl',
  'hamster',
  'house',
  'kangaroo',
  'keyboard',
  'lamp',
  'lawn_mower',
  'leopard',
  'lion',
  'lizard',
  'lobster',
  'man',
  'maple_tree',
  'motorcycle',
  'mountain',
  'mouse',
  'mushroom',
  'oak_tree',
  'orange',
  'orchid',
  'otter',
  'palm_tree',
  'pear',
  'pickup_truck',
  'pine_tree',
  'plain',
  'plate',
  'poppy',
  'porcupine',
  'possum',
  'rabbit',
  'raccoon',
  'ray',
  'road',
  'rocket',
  'rose',
  'sea',
  'seal',
  'shark',
  'shrew',
  'skunk',
  'skyscraper',
  'snail',
  'snake',
  'spider',
  'squirrel',
  'streetcar',
  'sunflower',
  'sweet_pepper',
  'table',
  'tank',
  'telephone',
  'television',
  'tiger',
  'tractor',
  'train',
  'trout',
  'tulip',
  'turtle',
  'wardrobe',
  'whale',
  'willow_tree',
  'wolf',
  'woman',
  'worm',
]);

export interface BinaryFileSpec {
  name: string;
  /** Records in the official file. */
  records: number;
  /** MD5 of the official file, where it is published. */
  md5?: string;
}

/** One byte per label kind at the start of each record, in this order. */
export interface LabelSpec {
  kind: 'label' | 'coarse' | 'fine';
  classes: number;
}

export interface CifarSpec {
  name: 'cifar10' | 'cifar100';
  title: string;
  /** The folder the official archive unpacks to. */
  directoryName: string;
  archiveName: string;
  url: string;
  urlEnv: string;
  archiveMd5: string;
  labels: readonly LabelSpec[];
  /** Bytes per record: the label bytes, then 3072 bytes of planar R, G, B. */
  recordBytes: number;
  train: readonly BinaryFileSpec[];
  test: readonly BinaryFileSpec[];
  /** Text files with one class name a line, per label kind. */
  classNameFiles: Partial<Record<LabelSpec['kind'], string>>;
}

export const CIFAR10_SPEC: CifarSpec = {
  name: 'cifar10',
  title: 'CIFAR-10',
  directoryName: 'cifar-10-batches-bin',
  archiveName: 'cifar-10-binary.tar.gz',
  url: CIFAR10_URL,
  urlEnv: 'TTA_CIFAR10_URL',
  archiveMd5: 'c32a1d4ab5d03f1284b67883e8d87530',
  labels: [{ kind: 'label', classes: 10 }],
  recordBytes: 3073,
  train: [
    { name: 'data_batch_1.bin', records: 10000, md5: '5dd7e06a14cb22eb9f671a540d1b7c25' },
    { name: 'data_batch_2.bin', records: 10000, md5: '5ea93a67294ea407fff1d09f752e9692' },
    { name: 'data_batch_3.bin', records: 10000, md5: '942cd6a4bcdd0dd3c604fbe906cb4421' },
    { name: 'data_batch_4.bin', records: 10000, md5: 'ae636b3ba5c66a11e91e8cb52e771fcb' },
    { name: 'data_batch_5.bin', records: 10000, md5: '53f37980c15c3d472c316c40844f3f0d' },
  ],
  test: [{ name: 'test_batch.bin', records: 10000, md5: '803d5f7f4d78ea53de84dbe85f74fb6d' }],
  classNameFiles: { label: 'batches.meta.txt' },
};

export const CIFAR100_SPEC: CifarSpec = {
  name: 'cifar100',
  title: 'CIFAR-100',
  directoryName: 'cifar-100-binary',
  archiveName: 'cifar-100-binary.tar.gz',
  url: CIFAR100_URL,
  urlEnv: 'TTA_CIFAR100_URL',
  archiveMd5: '03b5dce01913d631647c71ecec9e9cb8',
  labels: [
    { kind: 'coarse', classes: 20 },
    { kind: 'fine', classes: 100 },
  ],
  recordBytes: 3074,
  train: [{ name: 'train.bin', records: 50000 }],
  test: [{ name: 'test.bin', records: 10000 }],
  classNameFiles: { coarse: 'coarse_label_names.txt', fine: 'fine_label_names.txt' },
};
