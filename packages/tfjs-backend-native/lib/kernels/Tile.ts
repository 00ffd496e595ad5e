import { Tile, util } from '@tensorflow/tfjs-core';
import { MAX_RANK, addon, allocate, f32, output, type NativeKernelConfig } from './kernel_utils';

export const tileConfig: NativeKernelConfig = {
  kernelName: Tile,
  nativeKernel: ({ inputs, backend, attrs }) => {
    const x = f32(backend, inputs.x);
    const shape = inputs.x?.shape ?? [];
    const reps = attrs.reps as number[];
    if (
      x == null ||
      shape.length === 0 ||
      shape.length > MAX_RANK ||
      !Array.isArray(reps) ||
      reps.length !== shape.length
    )
      return null;
    const outShape = shape.map((n, i) => n * reps[i]!);
    const out = allocate(util.sizeFromShape(outShape));
    addon.tile(x, Int32Array.from(shape), Int32Array.from(reps), out);
    return output(backend, outShape, out);
  },
};
