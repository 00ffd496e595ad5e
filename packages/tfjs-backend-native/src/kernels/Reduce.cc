#include "Reduce.h"

#include <limits>
#include <vector>

#include "common.h"

namespace tta {

namespace {

constexpr size_t kMaxRank = 8;

struct Layout {
  size_t rank = 0;
  size_t shape[kMaxRank];
  bool reduced[kMaxRank];
  size_t inStride[kMaxRank];
  size_t outStride[kMaxRank];  // 0 on reduced axes
};

template <ReduceOp op>
inline double Combine(double acc, double v) {
  if constexpr (op == ReduceOp::kMax) return (v != v || v > acc) ? v : acc;
  if constexpr (op == ReduceOp::kMin) return (v != v || v < acc) ? v : acc;
  return acc + v;
}

template <ReduceOp op>
constexpr double Identity() {
  if constexpr (op == ReduceOp::kMax) return -std::numeric_limits<double>::infinity();
  if constexpr (op == ReduceOp::kMin) return std::numeric_limits<double>::infinity();
  return 0.0;
}

// Folds the input elements whose outermost index lies in [first, last) into acc.
template <ReduceOp op>
void Accumulate(const Layout& l, const float* x, size_t first, size_t last, double* acc) {
  const size_t r = l.rank;
  const size_t inner = l.shape[r - 1];
  const bool innerReduced = l.reduced[r - 1];
  size_t coord[kMaxRank] = {0};
  coord[0] = first;
  size_t inOff = first * l.inStride[0];
  size_t outOff = first * l.outStride[0];
  size_t rows = last - first;
  for (size_t d = 1; d + 1 < r; ++d) rows *= l.shape[d];
  if (r == 1) rows = 1;
  for (size_t row = 0; row < rows; ++row) {
    const float* __restrict p = x + inOff;
    if (r == 1) {
      p = x + first;
    }
    const size_t count = r == 1 ? last - first : inner;
    if (innerReduced) {
      double s = acc[outOff];
      for (size_t j = 0; j < count; ++j) s = Combine<op>(s, p[j]);
      acc[outOff] = s;
    } else {
      double* __restrict o = acc + (r == 1 ? first : outOff);
      for (size_t j = 0; j < count; ++j) o[j] = Combine<op>(o[j], p[j]);
    }
    if (r == 1) break;
    // Next row: increment coordinates of axes [0, r-1).
    for (size_t d = r - 1; d-- > 0;) {
      ++coord[d];
      inOff += l.inStride[d];
      outOff += l.outStride[d];
      if (d == 0 || coord[d] < l.shape[d]) break;
      inOff -= coord[d] * l.inStride[d];
      outOff -= coord[d] * l.outStride[d];
      coord[d] = 0;
    }
  }
}

template <ReduceOp op>
void Run(const Layout& l, const float* x, size_t inSize, float* out, size_t outSize, unsigned threads) {
  // NOLINTNEXTLINE(bugprone-integer-division): outSize divides inSize, so the quotient is exact.
  const double count = static_cast<double>(inSize / outSize);
  const size_t outer = l.shape[0];
  threads =
      std::min<unsigned>(ThreadsFor(inSize, threads), static_cast<unsigned>(std::min<size_t>(outer, kMaxThreads)));
  std::vector<std::vector<double>> partial(std::max(1u, threads));
  // Split the outermost axis; each slot accumulates privately (the axis may be reduced).
  ParallelFor(partial.size(), static_cast<unsigned>(partial.size()), [&](size_t s0, size_t s1) {
    for (size_t s = s0; s < s1; ++s) {
      partial[s].assign(outSize, Identity<op>());
      const size_t first = outer * s / partial.size(), last = outer * (s + 1) / partial.size();
      if (first < last) Accumulate<op>(l, x, first, last, partial[s].data());
    }
  });
  std::vector<double>& total = partial[0];
  for (size_t s = 1; s < partial.size(); ++s)
    for (size_t i = 0; i < outSize; ++i) total[i] = Combine<op>(total[i], partial[s][i]);
  for (size_t i = 0; i < outSize; ++i) {
    out[i] = static_cast<float>(op == ReduceOp::kMean ? total[i] / count : total[i]);
  }
}

}  // namespace

Napi::Value ReduceJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 6) throw Napi::TypeError::New(env, "native: reduce expects 6 arguments");
  const auto op = static_cast<ReduceOp>(IntegerArg(info[0], 0, 3, "op"));
  auto x = TypedArrayArg<float>(info[1], napi_float32_array, "x");
  auto shape = TypedArrayArg<int32_t>(info[2], napi_int32_array, "shape");
  auto reduced = TypedArrayArg<int32_t>(info[3], napi_int32_array, "reduced");
  auto out = TypedArrayArg<float>(info[4], napi_float32_array, "out");
  const unsigned threads = ThreadsArg(info[5]);
  if (shape.length != reduced.length) throw Napi::RangeError::New(env, "native: reduce shape and axes differ in rank");
  // Collapse: drop size-1 axes, merge neighbours of the same kind.
  Layout l;
  size_t inSize = 1, outSize = 1;
  for (size_t d = 0; d < shape.length; ++d) {
    if (shape.data[d] < 0) throw Napi::RangeError::New(env, "native: reduce shape negative");
    const size_t n = static_cast<size_t>(shape.data[d]);
    const bool red = reduced.data[d] != 0;
    if (!CheckedProduct({inSize, n}, &inSize)) throw Napi::RangeError::New(env, "native: reduce size overflows");
    if (!red) outSize *= n;
    if (n == 1) continue;
    if (l.rank > 0 && l.reduced[l.rank - 1] == red) {
      l.shape[l.rank - 1] *= n;
      continue;
    }
    if (l.rank == kMaxRank) throw Napi::RangeError::New(env, "native: reduce rank too high");
    l.shape[l.rank] = n;
    l.reduced[l.rank] = red;
    ++l.rank;
  }
  if (x.length != inSize) throw Napi::RangeError::New(env, "native: reduce x length does not match shape");
  if (out.length != outSize) throw Napi::RangeError::New(env, "native: reduce out length does not match shape");
  if (inSize == 0) throw Napi::RangeError::New(env, "native: reduce of an empty tensor");
  if (l.rank == 0) {
    l.rank = 1;
    l.shape[0] = 1;
    l.reduced[0] = true;
  }
  size_t in = 1, o = 1;
  for (size_t d = l.rank; d-- > 0;) {
    l.inStride[d] = in;
    in *= l.shape[d];
    l.outStride[d] = l.reduced[d] ? 0 : o;
    if (!l.reduced[d]) o *= l.shape[d];
  }
  switch (op) {
    case ReduceOp::kSum:
      Run<ReduceOp::kSum>(l, x.data, inSize, out.data, outSize, threads);
      break;
    case ReduceOp::kMean:
      Run<ReduceOp::kMean>(l, x.data, inSize, out.data, outSize, threads);
      break;
    case ReduceOp::kMax:
      Run<ReduceOp::kMax>(l, x.data, inSize, out.data, outSize, threads);
      break;
    case ReduceOp::kMin:
      Run<ReduceOp::kMin>(l, x.data, inSize, out.data, outSize, threads);
      break;
  }
  return env.Undefined();
}

}  // namespace tta
