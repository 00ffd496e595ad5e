import * as tf from '@tensorflow/tfjs-core';
import { createModel, createReferenceCnn, listArchitectures, selectBackend } from '../src';

beforeAll(async () => {
  await selectBackend('cpu');
});

test('the reference CNN has the reference layers and 545,994 parameters, 448 non-trainable', () => {
  const model = createReferenceCnn({ seed: 1 });
  expect(model.layers.map((l) => l.getClassName())).toEqual([
    'Conv2D',
    'BatchNormalization',
    'MaxPooling2D',
    'Conv2D',
    'BatchNormalization',
    'MaxPooling2D',
    'Flatten',
    'Dense',
    'BatchNormalization',
    'Dense',
  ]);
  const conv = model.layers[0]!.getConfig() as Record<string, unknown>;
  expect(conv).toMatchObject({ filters: 32, kernelSize: [3, 3], activation: 'relu', padding: 'same' });
  expect((conv.kernelInitializer as { className: string }).className).toBe('VarianceScaling');
  expect((conv.kernelInitializer as { config: Record<string, unknown> }).config).toMatchObject({
    scale: 2,
    mode: 'fanIn',
    distribution: 'uniform',
  });
  expect((model.layers[9]!.getConfig() as Record<string, unknown>).activation).toBe('softmax');
  expect(model.countParams()).toBe(545994);
  const nonTrainable = model.nonTrainableWeights.reduce(
    (a, w) => a + (w.shape as number[]).reduce((x, y) => x * y, 1),
    0,
  );
  expect(nonTrainable).toBe(448);
  expect(model.inputs[0]!.shape).toEqual([null, 32, 32, 3]);
  const optimizer = model.optimizer.getConfig() as Record<string, unknown>;
  expect(optimizer.learningRate).toBeCloseTo(0.001);
  model.dispose();
});

test('the same seed gives the same initial weights, another seed different ones', () => {
  const weights = (seed: number) => {
    const model = createModel('reference-cnn', { seed });
    const values = model.getWeights().map((w) => Array.from(w.dataSync()));
    model.dispose();
    return values;
  };
  const a = weights(7);
  expect(weights(7)).toEqual(a);
  expect(weights(8)[0]).not.toEqual(a[0]);
});

test('the registry lists its architectures and rejects unknown names and bad options clearly', () => {
  expect(listArchitectures().map((a) => a.name)).toEqual(expect.arrayContaining(['reference-cnn', 'small-cnn']));
  expect(() => createModel('resnet-9000')).toThrow(
    /Expected one of 'reference-cnn', 'small-cnn'.* for architecture but received 'resnet-9000'/,
  );
  expect(() => createModel('small-cnn', { numClasses: 1 })).toThrow(/options.numClasses/);
  expect(() => createModel('small-cnn', { inputShape: [8, 8] as unknown as [number, number, number] })).toThrow(
    /options.inputShape/,
  );
  const before = tf.memory().numTensors;
  createModel('small-cnn', { numClasses: 3, inputShape: [8, 8, 1] }).dispose();
  expect(tf.memory().numTensors).toBe(before);
});
