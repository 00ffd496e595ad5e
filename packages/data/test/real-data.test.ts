// The official CIFAR-10 files, when they sit beside the repository (../shared/data).
import fs from 'node:fs';
import path from 'node:path';
import { classCounts, loadCifar10, splitChecksum, toFloat32, trainValidationSplit, type Dataset } from '../src';
import { naiveNhwc, realCifar10Dir, withEnv } from './helpers';

const dir = realCifar10Dir();
// Skipped (with the reason in its title, which pnpm test:ci lists) when the data is not there.
const describeReal = dir
  ? describe
  : (title: string, fn: () => void) =>
      describe.skip(`${title} (skipped: ../shared/data/cifar-10-batches-bin is missing)`, fn);

describeReal('the official CIFAR-10 files', () => {
  let dataset: Dataset;
  let restoreEnv: () => void;

  beforeAll(async () => {
    restoreEnv = withEnv({ TTA_DATA_DIR: path.dirname(dir as string), TTA_OFFLINE: '1' });
    // Found through TTA_DATA_DIR, MD5s and counts verified (the default).
    dataset = await loadCifar10();
  });
  afterAll(() => restoreEnv());

  it('has 50,000 and 10,000 records, 5,000 and 1,000 per class', () => {
    expect(dataset.source).toBe(dir);
    expect(dataset.train.count).toBe(50000);
    expect(dataset.test.count).toBe(10000);
    expect(Array.from(classCounts(dataset.train.labels, 10))).toEqual(Array(10).fill(5000));
    expect(Array.from(classCounts(dataset.test.labels, 10))).toEqual(Array(10).fill(1000));
    expect(dataset.classNames).toEqual([
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
  });

  it('has test labels starting 3 8 8 0 6 and a first test image whose red values start 158 159 165', () => {
    expect(Array.from(dataset.test.labels.subarray(0, 5))).toEqual([3, 8, 8, 0, 6]);
    const red = [0, 1, 2].map((pixel) => dataset.test.images[pixel * 3]);
    expect(red).toEqual([158, 159, 165]);
    expect(toFloat32(dataset.test, { count: 1 })[0]).toBeCloseTo(158 / 255, 6);
  });

  it('matches a plain conversion of the file bytes, at the start, middle and end of each split', () => {
    const testBytes = fs.readFileSync(path.join(dir as string, 'test_batch.bin'));
    const batch5 = fs.readFileSync(path.join(dir as string, 'data_batch_5.bin'));
    for (const record of [0, 4321, 9999]) {
      const expected = naiveNhwc(testBytes.subarray(record * 3073, (record + 1) * 3073), 1);
      expect(
        Buffer.from(dataset.test.images.subarray(record * 3072, (record + 1) * 3072)).equals(Buffer.from(expected)),
      ).toBe(true);
      const trainIndex = 40000 + record;
      const expectedTrain = naiveNhwc(batch5.subarray(record * 3073, (record + 1) * 3073), 1);
      expect(
        Buffer.from(dataset.train.images.subarray(trainIndex * 3072, (trainIndex + 1) * 3072)).equals(
          Buffer.from(expectedTrain),
        ),
      ).toBe(true);
      expect(dataset.train.labels[trainIndex]).toBe(batch5[record * 3073]);
    }
  });

  it('splits off a stratified validation set of 500 per class', () => {
    const { train, validation } = trainValidationSplit(dataset.train, { validation: 0.1, seed: 0 });
    expect(train.count).toBe(45000);
    expect(Array.from(classCounts(validation.labels, 10))).toEqual(Array(10).fill(500));
    expect(splitChecksum(validation)).toBe(
      splitChecksum(trainValidationSplit(dataset.train, { validation: 0.1, seed: 0 }).validation),
    );
  });
});
