// Named model architectures. 'reference-cnn' is the tutorial's CIFAR-10 network,
// reproduced layer for layer (545,994 parameters, 448 of them the BatchNorm
// moving statistics); others can be registered so the CLI and the cache can
// refer to any of them by name.
import * as tfl from '@tensorflow/tfjs-layers';
import { described, invalidParameterError, outOfRangeError, seededRandom } from '@tta/util';
import { batchNormalization, conv2d, nativeOps } from './native-layers';

export interface ModelOptions {
  /** Seeds every weight initialiser, so the same seed gives the same initial weights. Unseeded when omitted. */
  seed?: number;
  /** Default 10. */
  numClasses?: number;
  /** [height, width, channels]; default [32, 32, 3]. */
  inputShape?: [number, number, number];
}

export interface Architecture {
  description: string;
  /** Builds and compiles the model (optimizer, loss and metrics included). */
  create(
    options: Required<Pick<ModelOptions, 'numClasses' | 'inputShape'>> & { initializerSeeds: () => number | undefined },
  ): tfl.LayersModel;
}

const registry = new Map<string, Architecture>();

export function registerArchitecture(name: string, architecture: Architecture): void {
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/.test(name)) {
    throw invalidParameterError('name', 'a lower-case name of letters, digits, ".", "_" or "-"', name);
  }
  if (registry.has(name)) throw invalidParameterError('name', 'a name not registered yet', name);
  registry.set(name, architecture);
}

export function listArchitectures(): { name: string; description: string }[] {
  return [...registry].map(([name, a]) => ({ name, description: a.description }));
}

/** Compiles with the reference training setup: Adam (lr 0.001), categorical cross-entropy, accuracy. */
export function compileForClassification(model: tfl.LayersModel): tfl.LayersModel {
  // Where @tta/tfjs-backend-native is loaded, its Adam (tfjs' Adam with one fused kernel per variable
  // on the native backend, tfjs' own elsewhere); otherwise by name (Adam, lr 0.001 in tfjs-layers).
  const fused = nativeOps(false)?.fusedAdam(0.001);
  model.compile({ optimizer: fused ?? 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  // Either way the model owns its optimizer and disposes it with itself.
  if (fused !== undefined) (model as unknown as { isOptimizerOwned: boolean }).isOptimizerOwned = true;
  return model;
}

registerArchitecture('reference-cnn', {
  description:
    'Conv2D(32)-BatchNorm-MaxPool-Conv2D(64)-BatchNorm-MaxPool-Dense(128)-BatchNorm-Dense(classes): the reference CIFAR-10 CNN (545,994 parameters for 10 classes)',
  create: ({ numClasses, inputShape, initializerSeeds }) => {
    const he = () => tfl.initializers.heUniform({ seed: initializerSeeds() } as { seed: number });
    const glorot = () => tfl.initializers.glorotUniform({ seed: initializerSeeds() } as { seed: number });
    const model = tfl.sequential({ name: 'reference_cnn' });
    model.add(
      conv2d({
        inputShape,
        filters: 32,
        kernelSize: 3,
        activation: 'relu',
        padding: 'same',
        kernelInitializer: he(),
        name: 'conv2d_1',
      }),
    );
    model.add(batchNormalization({ name: 'batch_normalization_1' }));
    model.add(tfl.layers.maxPooling2d({ poolSize: 2, name: 'max_pooling2d_1' }));
    model.add(
      conv2d({
        filters: 64,
        kernelSize: 3,
        activation: 'relu',
        padding: 'same',
        kernelInitializer: he(),
        name: 'conv2d_2',
      }),
    );
    model.add(batchNormalization({ name: 'batch_normalization_2' }));
    model.add(tfl.layers.maxPooling2d({ poolSize: 2, name: 'max_pooling2d_2' }));
    model.add(tfl.layers.flatten({ name: 'flatten_1' }));
    model.add(tfl.layers.dense({ units: 128, activation: 'relu', kernelInitializer: he(), name: 'dense_1' }));
    model.add(batchNormalization({ name: 'batch_normalization_3' }));
    // Keras's default initialiser for the output layer, seeded.
    model.add(
      tfl.layers.dense({ units: numClasses, activation: 'softmax', kernelInitializer: glorot(), name: 'dense_2' }),
    );
    return compileForClassification(model);
  },
});

registerArchitecture('small-cnn', {
  description: 'Conv2D(8)-MaxPool-Conv2D(16)-MaxPool-Dense(classes): a tiny CNN for quick experiments and tests',
  create: ({ numClasses, inputShape, initializerSeeds }) => {
    const he = () => tfl.initializers.heUniform({ seed: initializerSeeds() } as { seed: number });
    const model = tfl.sequential({ name: 'small_cnn' });
    model.add(
      conv2d({ inputShape, filters: 8, kernelSize: 3, activation: 'relu', padding: 'same', kernelInitializer: he() }),
    );
    model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
    model.add(conv2d({ filters: 16, kernelSize: 3, activation: 'relu', padding: 'same', kernelInitializer: he() }));
    model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tfl.layers.flatten());
    model.add(
      tfl.layers.dense({
        units: numClasses,
        activation: 'softmax',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: initializerSeeds() } as { seed: number }),
      }),
    );
    return compileForClassification(model);
  },
});

function checkModelOptions(
  options: ModelOptions,
): Required<Pick<ModelOptions, 'numClasses' | 'inputShape'>> & { seed: number | undefined } {
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'an object', options);
  const { seed, numClasses = 10, inputShape = [32, 32, 3] } = options;
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isSafeInteger(seed)))
    throw invalidParameterError('options.seed', 'a safe integer', seed);
  if (typeof numClasses !== 'number' || !Number.isSafeInteger(numClasses) || numClasses < 2)
    throw outOfRangeError('options.numClasses', 'an integer >= 2', numClasses);
  if (
    !Array.isArray(inputShape) ||
    inputShape.length !== 3 ||
    !inputShape.every((d) => Number.isSafeInteger(d) && d >= 1)
  ) {
    throw invalidParameterError(
      'options.inputShape',
      'an array [height, width, channels] of positive integers',
      inputShape,
    );
  }
  return { seed, numClasses, inputShape: [...inputShape] as [number, number, number] };
}

/** Builds a compiled model of a registered architecture ('reference-cnn' by default). */
export function createModel(architecture = 'reference-cnn', options: ModelOptions = {}): tfl.LayersModel {
  const entry = registry.get(architecture);
  if (entry === undefined) {
    throw invalidParameterError(
      'architecture',
      `one of ${[...registry.keys()].map((n) => `'${n}'`).join(', ')}`,
      architecture,
    );
  }
  const { seed, numClasses, inputShape } = checkModelOptions(options);
  // One seed per initialiser drawn from the model seed: layers get different but reproducible weights.
  const random = seed === undefined ? undefined : seededRandom(seed);
  const initializerSeeds = () => (random === undefined ? undefined : Math.floor(random() * 2 ** 31));
  return entry.create({ numClasses, inputShape, initializerSeeds });
}

/** The reference CIFAR-10 CNN, compiled. */
export function createReferenceCnn(options: ModelOptions = {}): tfl.LayersModel {
  return createModel('reference-cnn', options);
}

/** [height, width, channels] of a model's image input; throws when the model does not take images. */
export function modelInputShape(model: tfl.LayersModel): [number, number, number] {
  const shape = model.inputs[0]?.shape;
  if (
    model.inputs.length !== 1 ||
    shape === undefined ||
    shape.length !== 4 ||
    !shape.slice(1).every((d) => typeof d === 'number')
  ) {
    throw invalidParameterError(
      'model',
      'a model with one image input [batch, height, width, channels]',
      described(`input shapes ${JSON.stringify(model.inputs.map((i) => i.shape))}`),
    );
  }
  return shape.slice(1) as [number, number, number];
}

/** The number of classes a classifier outputs. */
export function modelNumClasses(model: tfl.LayersModel): number {
  const shape = model.outputs[0]?.shape;
  if (model.outputs.length !== 1 || shape === undefined || shape.length !== 2 || typeof shape[1] !== 'number') {
    throw invalidParameterError(
      'model',
      'a classifier with one output [batch, classes]',
      described(`output shapes ${JSON.stringify(model.outputs.map((o) => o.shape))}`),
    );
  }
  return shape[1];
}
