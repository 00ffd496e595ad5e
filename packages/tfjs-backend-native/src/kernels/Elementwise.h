// Float32 elementwise kernels for the TensorFlow.js backend: broadcasting binary
// ops and unary ops, with the cpu backend's NaN semantics, split over the pool for
// large tensors.
#pragma once

#include <napi.h>

namespace tta {

// Binary op codes, in the order of lib/kernels/Binary.ts' BINARY_OPS.
enum class BinaryOp { kAdd, kSub, kMul, kDiv, kMaximum, kMinimum, kSquaredDifference };
// Unary op codes, in the order of lib/kernels/Unary.ts' UNARY_OPS.
enum class UnaryOp {
  kExp,
  kLog,
  kSqrt,
  kRsqrt,
  kSquare,
  kNeg,
  kAbs,
  kRelu,
  kRelu6,
  kSigmoid,
  kTanh,
  kReciprocal,
  kStep,
  kClip
};

// JS: binary(op, a, aStrides, b, bStrides, outShape, out, threads). The strides are
// per output dimension, 0 where that input is broadcast.
Napi::Value BinaryJs(const Napi::CallbackInfo& info);
// JS: unary(op, x, out, alpha, beta, threads); alpha is Step's alpha or the clip minimum, beta the clip maximum.
Napi::Value UnaryJs(const Napi::CallbackInfo& info);

// JS: tile(x, shape Int32Array, reps Int32Array, out): float32 Tile (any rank up to 8).
Napi::Value TileJs(const Napi::CallbackInfo& info);

}  // namespace tta
