// The wasm backend ships inference kernels plus most gradients, but not
// Conv2DBackpropFilter, the weight gradient of every Conv2D: without it no
// convolutional model trains on wasm. This registers one composed of kernels
// wasm has (pad, strided slice, batched matmul, stack): for each filter tap
// (kh, kw) the strided window of the padded input seen by that tap, flattened to
// [positions, inChannels], times dy flattened to [positions, outChannels], is that
// tap's [inChannels, outChannels] slice of the gradient.
import * as tf from '@tensorflow/tfjs-core';

export function conv2dBackpropFilterComposed(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: [number, number] | number,
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(
      x.shape,
      filterShape,
      strides,
      1,
      pad as Parameters<typeof tf.backend_util.computeConv2DInfo>[4],
      dimRoundingMode,
      false,
      'channelsLast',
    );
    const { top, bottom, left, right } = info.padInfo;
    const [batch, , , inChannels] = x.shape;
    const [filterHeight, filterWidth, , outChannels] = filterShape;
    const padded =
      top || bottom || left || right
        ? tf.pad(x, [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ])
        : x;
    const dy2d = tf.reshape(dy, [-1, outChannels]);
    const taps: tf.Tensor2D[] = [];
    for (let kh = 0; kh < filterHeight; kh++) {
      for (let kw = 0; kw < filterWidth; kw++) {
        const h0 = kh * info.dilationHeight;
        const w0 = kw * info.dilationWidth;
        const window = tf.stridedSlice(
          padded,
          [0, h0, w0, 0],
          [
            batch,
            h0 + (info.outHeight - 1) * info.strideHeight + 1,
            w0 + (info.outWidth - 1) * info.strideWidth + 1,
            inChannels,
          ],
          [1, info.strideHeight, info.strideWidth, 1],
        );
        taps.push(tf.matMul(tf.reshape(window, [-1, inChannels]), dy2d, true, false));
      }
    }
    return tf.reshape(tf.stack(taps), filterShape);
  });
}

let registered = false;

/** Registers the composed Conv2DBackpropFilter for the 'wasm' backend (once; a kernel wasm ships itself wins). */
export function registerWasmTrainingKernels(): void {
  if (registered || tf.getKernel(tf.Conv2DBackpropFilter, 'wasm') !== undefined) {
    registered = true;
    return;
  }
  tf.registerKernel({
    kernelName: tf.Conv2DBackpropFilter,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs }) => {
      const { x, dy } = inputs as unknown as { x: tf.Tensor4D; dy: tf.Tensor4D };
      const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
      if (a.dataFormat !== undefined && a.dataFormat !== 'NHWC') {
        throw new Error(`Conv2DBackpropFilter on wasm supports dataFormat NHWC only, received ${a.dataFormat}`);
      }
      return conv2dBackpropFilterComposed(x, dy, a.filterShape, a.strides, a.pad, a.dimRoundingMode);
    },
  });
  registered = true;
}
