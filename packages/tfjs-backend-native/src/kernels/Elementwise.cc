#include "Elementwise.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "common.h"

namespace tta {

namespace {

constexpr size_t kMaxRank = 8;

template <BinaryOp op>
inline float Apply(float a, float b) {
  if constexpr (op == BinaryOp::kAdd) return a + b;
  if constexpr (op == BinaryOp::kSub) return a - b;
  if constexpr (op == BinaryOp::kMul) return a * b;
  if constexpr (op == BinaryOp::kDiv) return a / b;
  // Math.max / Math.min: NaN when either side is NaN.
  if constexpr (op == BinaryOp::kMaximum)
    return (a != a || b != b) ? std::numeric_limits<float>::quiet_NaN() : (a > b ? a : b);
  if constexpr (op == BinaryOp::kMinimum)
    return (a != a || b != b) ? std::numeric_limits<float>::quiet_NaN() : (a < b ? a : b);
  if constexpr (op == BinaryOp::kSquaredDifference) {
    const float d = a - b;
    return d * d;
  }
  return 0.0f;
}

struct Broadcast {
  size_t rank = 0;
  size_t shape[kMaxRank];
  size_t aStride[kMaxRank];
  size_t bStride[kMaxRank];
  size_t size = 1;
};

template <BinaryOp op>
void RunBinary(const Broadcast& bc, const float* a, const float* b, float* out, unsigned threads) {
  const size_t inner = bc.shape[bc.rank - 1];
  const size_t sa = bc.aStride[bc.rank - 1], sb = bc.bStride[bc.rank - 1];
  ParallelFor(bc.size, ThreadsFor(bc.size, threads), [&](size_t begin, size_t end) {
    size_t coord[kMaxRank];
    size_t rem = begin;
    size_t offA = 0, offB = 0;
    for (size_t d = bc.rank; d-- > 0;) {
      coord[d] = rem % bc.shape[d];
      rem /= bc.shape[d];
      offA += coord[d] * bc.aStride[d];
      offB += coord[d] * bc.bStride[d];
    }
    size_t i = begin;
    while (i < end) {
      const size_t j0 = coord[bc.rank - 1];
      const size_t count = std::min(inner - j0, end - i);
      float* __restrict o = out + i;
      const float* __restrict pa = a + offA;
      const float* __restrict pb = b + offB;
      if (sa == 1 && sb == 1) {
        for (size_t j = 0; j < count; ++j) o[j] = Apply<op>(pa[j], pb[j]);
      } else if (sa == 1 && sb == 0) {
        const float vb = pb[0];
        for (size_t j = 0; j < count; ++j) o[j] = Apply<op>(pa[j], vb);
      } else if (sa == 0 && sb == 1) {
        const float va = pa[0];
        for (size_t j = 0; j < count; ++j) o[j] = Apply<op>(va, pb[j]);
      } else {
        for (size_t j = 0; j < count; ++j) o[j] = Apply<op>(pa[j * sa], pb[j * sb]);
      }
      i += count;
      // Advance the odometer past the inner run.
      offA += count * sa;
      offB += count * sb;
      coord[bc.rank - 1] += count;
      for (size_t d = bc.rank - 1; d > 0 && coord[d] == bc.shape[d]; --d) {
        offA -= bc.shape[d] * bc.aStride[d];
        offB -= bc.shape[d] * bc.bStride[d];
        coord[d] = 0;
        ++coord[d - 1];
        offA += bc.aStride[d - 1];
        offB += bc.bStride[d - 1];
      }
    }
  });
}

template <UnaryOp op>
inline float ApplyUnary(float x, float alpha, float beta) {
  if constexpr (op == UnaryOp::kExp) return std::exp(x);
  if constexpr (op == UnaryOp::kLog) return std::log(x);
  if constexpr (op == UnaryOp::kSqrt) return std::sqrt(x);
  if constexpr (op == UnaryOp::kRsqrt) return 1.0f / std::sqrt(x);
  if constexpr (op == UnaryOp::kSquare) return x * x;
  if constexpr (op == UnaryOp::kNeg) return -x;
  if constexpr (op == UnaryOp::kAbs) return std::fabs(x);
  if constexpr (op == UnaryOp::kRelu) return x < 0.0f ? 0.0f : x;  // NaN passes through, as Math.max(0, NaN)
  if constexpr (op == UnaryOp::kRelu6) return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x);
  if constexpr (op == UnaryOp::kSigmoid) return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x))));
  if constexpr (op == UnaryOp::kTanh) return std::tanh(x);
  if constexpr (op == UnaryOp::kReciprocal) return 1.0f / x;
  if constexpr (op == UnaryOp::kStep) return x != x ? x : (x > 0.0f ? 1.0f : alpha);
  if constexpr (op == UnaryOp::kClip) return x > beta ? beta : (x < alpha ? alpha : x);
  return 0.0f;
}

template <UnaryOp op>
void RunUnary(const float* x, float* out, size_t size, float alpha, float beta, unsigned threads) {
  ParallelFor(size, ThreadsFor(size, threads), [&](size_t begin, size_t end) {
    const float* __restrict in = x;
    float* __restrict o = out;
    for (size_t i = begin; i < end; ++i) o[i] = ApplyUnary<op>(in[i], alpha, beta);
  });
}

// Writes the tiled block of axis d onward; later copies of each block are memcpys of the first.
void TileAxis(size_t d, size_t rank, const size_t* shape, const size_t* reps, const size_t* inStride,
              const size_t* outBlock, const float* x, float* out) {
  const size_t n = shape[d];
  if (d + 1 == rank) {
    for (size_t r = 0; r < reps[d]; ++r) std::memcpy(out + r * n, x, n * sizeof(float));
    return;
  }
  for (size_t i = 0; i < n; ++i)
    TileAxis(d + 1, rank, shape, reps, inStride, outBlock, x + i * inStride[d], out + i * outBlock[d + 1]);
  const size_t block = n * outBlock[d + 1];
  for (size_t r = 1; r < reps[d]; ++r) std::memcpy(out + r * block, out, block * sizeof(float));
}

}  // namespace

Napi::Value TileJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 4) throw Napi::TypeError::New(env, "native: tile expects 4 arguments");
  auto x = TypedArrayArg<float>(info[0], napi_float32_array, "x");
  auto shapeArg = TypedArrayArg<int32_t>(info[1], napi_int32_array, "shape");
  auto repsArg = TypedArrayArg<int32_t>(info[2], napi_int32_array, "reps");
  auto out = TypedArrayArg<float>(info[3], napi_float32_array, "out");
  const size_t rank = shapeArg.length;
  if (rank == 0 || rank > kMaxRank || repsArg.length != rank)
    throw Napi::RangeError::New(env, "native: tile rank must be 1..8 and match reps");
  size_t shape[kMaxRank], reps[kMaxRank], inStride[kMaxRank], outBlock[kMaxRank + 1];
  size_t inSize = 1, outSize = 1;
  for (size_t d = 0; d < rank; ++d) {
    if (shapeArg.data[d] < 0 || repsArg.data[d] < 0)
      throw Napi::RangeError::New(env, "native: tile shape or reps negative");
    shape[d] = static_cast<size_t>(shapeArg.data[d]);
    reps[d] = static_cast<size_t>(repsArg.data[d]);
    if (!CheckedProduct({inSize, shape[d]}, &inSize) || !CheckedProduct({outSize, shape[d], reps[d]}, &outSize)) {
      throw Napi::RangeError::New(env, "native: tile size overflows");
    }
  }
  if (x.length != inSize || out.length != outSize)
    throw Napi::RangeError::New(env, "native: tile lengths do not match shape and reps");
  if (outSize == 0) return env.Undefined();
  if (Overlaps(x.data, inSize * 4, out.data, outSize * 4))
    throw Napi::RangeError::New(env, "native: tile out overlaps x");
  size_t in = 1, o = 1;
  outBlock[rank] = 1;
  for (size_t d = rank; d-- > 0;) {
    inStride[d] = in;
    in *= shape[d];
    o *= shape[d] * reps[d];
    outBlock[d] = o;
  }
  TileAxis(0, rank, shape, reps, inStride, outBlock, x.data, out.data);
  return env.Undefined();
}

Napi::Value BinaryJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 8) throw Napi::TypeError::New(env, "native: binary expects 8 arguments");
  const auto op = static_cast<BinaryOp>(IntegerArg(info[0], 0, 6, "op"));
  auto a = TypedArrayArg<float>(info[1], napi_float32_array, "a");
  auto aStrides = TypedArrayArg<int32_t>(info[2], napi_int32_array, "aStrides");
  auto b = TypedArrayArg<float>(info[3], napi_float32_array, "b");
  auto bStrides = TypedArrayArg<int32_t>(info[4], napi_int32_array, "bStrides");
  auto shape = TypedArrayArg<int32_t>(info[5], napi_int32_array, "outShape");
  auto out = TypedArrayArg<float>(info[6], napi_float32_array, "out");
  const unsigned threads = ThreadsArg(info[7]);
  if (shape.length != aStrides.length || shape.length != bStrides.length) {
    throw Napi::RangeError::New(env, "native: binary shape and strides differ in rank");
  }
  // Collapse: drop size-1 dims and merge neighbours that are contiguous for both inputs.
  Broadcast bc;
  size_t maxA = 0, maxB = 0;
  for (size_t d = 0; d < shape.length; ++d) {
    if (shape.data[d] < 0 || aStrides.data[d] < 0 || bStrides.data[d] < 0) {
      throw Napi::RangeError::New(env, "native: binary shape or strides negative");
    }
    const size_t n = static_cast<size_t>(shape.data[d]);
    if (!CheckedProduct({bc.size, n}, &bc.size)) throw Napi::RangeError::New(env, "native: binary size overflows");
    if (n == 1) continue;
    const size_t sa = static_cast<size_t>(aStrides.data[d]), sb = static_cast<size_t>(bStrides.data[d]);
    maxA += (n - 1) * sa;
    maxB += (n - 1) * sb;
    if (bc.rank > 0 && bc.aStride[bc.rank - 1] == sa * n && bc.bStride[bc.rank - 1] == sb * n) {
      bc.shape[bc.rank - 1] *= n;
      bc.aStride[bc.rank - 1] = sa;
      bc.bStride[bc.rank - 1] = sb;
      continue;
    }
    if (bc.rank == kMaxRank) throw Napi::RangeError::New(env, "native: binary rank too high");
    bc.shape[bc.rank] = n;
    bc.aStride[bc.rank] = sa;
    bc.bStride[bc.rank] = sb;
    ++bc.rank;
  }
  if (out.length != bc.size) throw Napi::RangeError::New(env, "native: binary out length does not match outShape");
  if (bc.size == 0) return env.Undefined();
  if (maxA >= a.length || maxB >= b.length)
    throw Napi::RangeError::New(env, "native: binary strides reach past an input");
  if (bc.rank == 0) {
    bc.rank = 1;
    bc.shape[0] = 1;
    bc.aStride[0] = bc.bStride[0] = 0;
  }
  switch (op) {
    case BinaryOp::kAdd:
      RunBinary<BinaryOp::kAdd>(bc, a.data, b.data, out.data, threads);
      break;
    case BinaryOp::kSub:
      RunBinary<BinaryOp::kSub>(bc, a.data, b.data, out.data, threads);
      break;
    case BinaryOp::kMul:
      RunBinary<BinaryOp::kMul>(bc, a.data, b.data, out.data, threads);
      break;
    case BinaryOp::kDiv:
      RunBinary<BinaryOp::kDiv>(bc, a.data, b.data, out.data, threads);
      break;
    case BinaryOp::kMaximum:
      RunBinary<BinaryOp::kMaximum>(bc, a.data, b.data, out.data, threads);
      break;
    case BinaryOp::kMinimum:
      RunBinary<BinaryOp::kMinimum>(bc, a.data, b.data, out.data, threads);
      break;
    case BinaryOp::kSquaredDifference:
      RunBinary<BinaryOp::kSquaredDifference>(bc, a.data, b.data, out.data, threads);
      break;
  }
  return env.Undefined();
}

Napi::Value UnaryJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 6) throw Napi::TypeError::New(env, "native: unary expects 6 arguments");
  const auto op = static_cast<UnaryOp>(IntegerArg(info[0], 0, 13, "op"));
  auto x = TypedArrayArg<float>(info[1], napi_float32_array, "x");
  auto out = TypedArrayArg<float>(info[2], napi_float32_array, "out");
  const float alpha = static_cast<float>(NumberArg(info[3], "alpha"));
  const float beta = static_cast<float>(NumberArg(info[4], "beta"));
  const unsigned threads = ThreadsArg(info[5]);
  if (out.length != x.length) throw Napi::RangeError::New(env, "native: unary out length differs from x");
  const size_t n = x.length;
  switch (op) {
// clang-format off
#define TTA_UNARY(name)                                                 \
  case UnaryOp::name:                                                   \
    RunUnary<UnaryOp::name>(x.data, out.data, n, alpha, beta, threads); \
    break;
    TTA_UNARY(kExp) TTA_UNARY(kLog) TTA_UNARY(kSqrt) TTA_UNARY(kRsqrt) TTA_UNARY(kSquare) TTA_UNARY(kNeg)
    TTA_UNARY(kAbs) TTA_UNARY(kRelu) TTA_UNARY(kRelu6) TTA_UNARY(kSigmoid) TTA_UNARY(kTanh)
    TTA_UNARY(kReciprocal) TTA_UNARY(kStep) TTA_UNARY(kClip)
#undef TTA_UNARY
    // clang-format on
  }
  return env.Undefined();
}

}  // namespace tta
