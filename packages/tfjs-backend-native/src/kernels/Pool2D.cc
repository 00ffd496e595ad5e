#include "Pool2D.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "common.h"

namespace tta {

namespace {}  // namespace

PoolGeometry ParsePoolGeometry(const Napi::Value& value) {
  Napi::Env env = value.Env();
  auto dims = TypedArrayArg<int32_t>(value, napi_int32_array, "dims");
  if (dims.length != 12) throw Napi::RangeError::New(env, "native: pool dims must hold 12 integers");
  const int32_t* d = dims.data;
  for (int i = 0; i < 12; ++i) {
    if (i == 8 || i == 9) continue;
    const int lo = (i >= 4 && i <= 7) ? 1 : 0;
    if (d[i] < lo) throw Napi::RangeError::New(env, "native: pool dims out of range");
  }
  PoolGeometry g{};
  g.n = d[0];
  g.h = d[1];
  g.w = d[2];
  g.c = d[3];
  g.fh = d[4];
  g.fw = d[5];
  g.sh = d[6];
  g.sw = d[7];
  g.padTop = d[8];
  g.padLeft = d[9];
  g.outH = d[10];
  g.outW = d[11];
  if (!CheckedProduct({g.n, g.h, g.w, g.c}, &g.xSize) || !CheckedProduct({g.n, g.outH, g.outW, g.c}, &g.ySize)) {
    throw Napi::RangeError::New(env, "native: pool sizes overflow");
  }
  return g;
}

namespace {

inline __attribute__((always_inline)) void MaxInto(float* __restrict best, const float* __restrict p, size_t n) {
  for (size_t i = 0; i < n; ++i) best[i] = p[i] > best[i] ? p[i] : best[i];
}

// q = d where p equals the window's maximum and no earlier pixel took it (open), else 0.
// Bit masks instead of `&&` and `?:` on loads: GCC vectorises this on baseline x86-64,
// and random data would mispredict every branch.
inline __attribute__((always_inline)) void PassToFirstMax(const float* __restrict p, const float* __restrict best,
                                                          const float* __restrict d, uint32_t* __restrict open,
                                                          float* __restrict q, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const uint32_t hit = (p[i] == best[i] ? ~0u : 0u) & open[i];
    uint32_t bits;
    std::memcpy(&bits, d + i, 4);
    bits &= hit;
    std::memcpy(q + i, &bits, 4);
    open[i] &= ~hit;
  }
}

// The gradient for images [b0, b1) when windows do not overlap (each pixel in at most one).
TTA_SIMD_CLONES void MaxPoolGradOwnedWindows(const PoolGeometry& g, const float* x, const float* dy, bool tiles,
                                             size_t begin, size_t end, float* dx) {
  std::vector<float> bestBuffer(g.c);
  std::vector<uint32_t> openBuffer(g.c);
  for (size_t b = begin; b < end; ++b) {
    const float* image = x + b * g.h * g.w * g.c;
    float* grad = dx + b * g.h * g.w * g.c;
    if (!tiles) std::memset(grad, 0, g.h * g.w * g.c * sizeof(float));
    for (size_t oy = 0; oy < g.outH; ++oy) {
      for (size_t ox = 0; ox < g.outW; ++ox) {
        size_t y0, y1, x0, x1;
        g.Window(oy, ox, &y0, &y1, &x0, &x1);
        float* best = bestBuffer.data();
        uint32_t* open = openBuffer.data();
        std::fill(bestBuffer.begin(), bestBuffer.end(), -std::numeric_limits<float>::infinity());
        for (size_t iy = y0; iy < y1; ++iy) {
          for (size_t ix = x0; ix < x1; ++ix) MaxInto(best, image + (iy * g.w + ix) * g.c, g.c);
        }
        // The first pixel equal to the maximum takes the gradient, as with the strict
        // `>` scan below; a window of only -inf or NaN passes none.
        for (size_t ci = 0; ci < g.c; ++ci) open[ci] = best[ci] == -std::numeric_limits<float>::infinity() ? 0u : ~0u;
        const float* d = dy + ((b * g.outH + oy) * g.outW + ox) * g.c;
        for (size_t iy = y0; iy < y1; ++iy) {
          for (size_t ix = x0; ix < x1; ++ix) {
            const size_t offset = (iy * g.w + ix) * g.c;
            PassToFirstMax(image + offset, best, d, open, grad + offset, g.c);
          }
        }
      }
    }
  }
}

}  // namespace

// Output rows [r0, r1) (image-major, as pool2d's) of the max pooling of `in` (images of the
// pooling's input geometry), each element mapped by `affine` first when given.
namespace {

// The value at `q`'s channel ci, through the affine map when kAffine.
template <bool kAffine>
inline __attribute__((always_inline)) float Mapped(const float* __restrict q, size_t ci, const float* __restrict f,
                                                   const float* __restrict s, const float* __restrict m) {
  return kAffine ? Affine(q[ci], m[ci], f[ci], s[ci]) : q[ci];
}

// The max of v over a window in the scan order, with pool2d's comparison (NaN never wins).
inline __attribute__((always_inline)) float Larger(float v, float a) { return v > a ? v : a; }

template <bool kAffine>
inline __attribute__((always_inline)) void MaxPoolRowsBody(const PoolGeometry& p, const float* in,
                                                           const ChannelAffine* affine, size_t r0, size_t r1,
                                                           float* out) {
  const float* f = kAffine ? affine->factor.data() : nullptr;
  const float* s = kAffine ? affine->shift.data() : nullptr;
  const float* m = kAffine ? affine->center.data() : nullptr;
  constexpr float kLowest = -std::numeric_limits<float>::infinity();
  // Keras' MaxPooling2D(2) on even sizes: four in-bounds pixels a window, one pass over the
  // channels (the general loop's window arithmetic and accumulator cost more than the maximum).
  const bool tiles2x2 = p.fh == 2 && p.fw == 2 && p.sh == 2 && p.sw == 2 && p.padTop == 0 && p.padLeft == 0 &&
                        2 * p.outH <= p.h && 2 * p.outW <= p.w;
  std::vector<float> acc(p.c);
  for (size_t r = r0; r < r1; ++r) {
    const size_t b = r / p.outH, oy = r % p.outH;
    const float* image = in + b * p.h * p.w * p.c;
    for (size_t ox = 0; ox < p.outW; ++ox) {
      float* __restrict o = out + ((b * p.outH + oy) * p.outW + ox) * p.c;
      if (tiles2x2) {
        const float* __restrict q00 = image + (2 * oy * p.w + 2 * ox) * p.c;
        const float* __restrict q01 = q00 + p.c;
        const float* __restrict q10 = q00 + p.w * p.c;
        const float* __restrict q11 = q10 + p.c;
        for (size_t ci = 0; ci < p.c; ++ci) {
          float a = Larger(Mapped<kAffine>(q00, ci, f, s, m), kLowest);
          a = Larger(Mapped<kAffine>(q01, ci, f, s, m), a);
          a = Larger(Mapped<kAffine>(q10, ci, f, s, m), a);
          o[ci] = Larger(Mapped<kAffine>(q11, ci, f, s, m), a);
        }
        continue;
      }
      size_t y0, y1, x0, x1;
      p.Window(oy, ox, &y0, &y1, &x0, &x1);
      float* __restrict a = acc.data();
      std::fill(acc.begin(), acc.end(), kLowest);
      for (size_t iy = y0; iy < y1; ++iy) {
        for (size_t ix = x0; ix < x1; ++ix) {
          const float* __restrict q = image + (iy * p.w + ix) * p.c;
          for (size_t ci = 0; ci < p.c; ++ci) a[ci] = Larger(Mapped<kAffine>(q, ci, f, s, m), a[ci]);
        }
      }
      std::memcpy(o, a, p.c * sizeof(float));
    }
  }
}

}  // namespace

TTA_SIMD_CLONES void MaxPoolRows(const PoolGeometry& p, const float* in, const ChannelAffine* affine, size_t r0,
                                 size_t r1, float* out) {
  if (affine != nullptr) {
    MaxPoolRowsBody<true>(p, in, affine, r0, r1, out);
  } else {
    MaxPoolRowsBody<false>(p, in, affine, r0, r1, out);
  }
}

Napi::Value Pool2dJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 5) throw Napi::TypeError::New(env, "native: pool2d expects 5 arguments");
  auto x = TypedArrayArg<float>(info[0], napi_float32_array, "x");
  const int kind = static_cast<int>(IntegerArg(info[1], 0, 1, "kind"));
  const PoolGeometry g = ParsePoolGeometry(info[2]);
  auto y = TypedArrayArg<float>(info[3], napi_float32_array, "out");
  const unsigned threads = ThreadsArg(info[4]);
  ExpectLength(env, "pool", "x", x.length, g.xSize);
  ExpectLength(env, "pool", "out", y.length, g.ySize);
  if (Overlaps(x.data, g.xSize * 4, y.data, g.ySize * 4))
    throw Napi::RangeError::New(env, "native: pool out overlaps x");
  const size_t rows = g.n * g.outH;
  if (kind == 0) {
    ParallelFor(rows, ThreadsFor(g.ySize * g.fh * g.fw, threads),
                [&](size_t begin, size_t end) { MaxPoolRows(g, x.data, nullptr, begin, end, y.data); });
    return env.Undefined();
  }
  ParallelFor(rows, ThreadsFor(g.ySize * g.fh * g.fw, threads), [&](size_t begin, size_t end) {
    std::vector<float> acc(g.c);
    for (size_t r = begin; r < end; ++r) {
      const size_t b = r / g.outH, oy = r % g.outH;
      const float* image = x.data + b * g.h * g.w * g.c;
      for (size_t ox = 0; ox < g.outW; ++ox) {
        size_t y0, y1, x0, x1;
        g.Window(oy, ox, &y0, &y1, &x0, &x1);
        float* __restrict a = acc.data();
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (size_t iy = y0; iy < y1; ++iy) {
          for (size_t ix = x0; ix < x1; ++ix) {
            const float* __restrict p = image + (iy * g.w + ix) * g.c;
            for (size_t ci = 0; ci < g.c; ++ci) a[ci] += p[ci];
          }
        }
        float* o = y.data + ((b * g.outH + oy) * g.outW + ox) * g.c;
        // 0 / 0 = NaN for a window entirely in the padding, as on the cpu backend.
        const float count = static_cast<float>((y1 - y0) * (x1 - x0));
        for (size_t ci = 0; ci < g.c; ++ci) o[ci] = a[ci] / count;
      }
    }
  });
  return env.Undefined();
}

Napi::Value MaxPoolGradJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 5) throw Napi::TypeError::New(env, "native: maxPoolGrad expects 5 arguments");
  auto dy = TypedArrayArg<float>(info[0], napi_float32_array, "dy");
  auto x = TypedArrayArg<float>(info[1], napi_float32_array, "x");
  const PoolGeometry g = ParsePoolGeometry(info[2]);
  auto dx = TypedArrayArg<float>(info[3], napi_float32_array, "dx");
  const unsigned threads = ThreadsArg(info[4]);
  ExpectLength(env, "pool", "dy", dy.length, g.ySize);
  ExpectLength(env, "pool", "x", x.length, g.xSize);
  ExpectLength(env, "pool", "dx", dx.length, g.xSize);
  if (Overlaps(dx.data, g.xSize * 4, dy.data, g.ySize * 4) || Overlaps(dx.data, g.xSize * 4, x.data, g.xSize * 4)) {
    throw Napi::RangeError::New(env, "native: maxPoolGrad dx overlaps an input");
  }
  // Windows that do not overlap (stride >= window, as in Keras' MaxPooling2D) own their
  // pixels: dx is written once, branch-free and vectorisable, instead of scattered.
  if (g.sh >= g.fh && g.sw >= g.fw) {
    const bool tiles =
        g.padTop == 0 && g.padLeft == 0 && g.sh == g.fh && g.sw == g.fw && g.outH * g.fh == g.h && g.outW * g.fw == g.w;
    ParallelFor(g.n, ThreadsFor(g.xSize, threads), [&](size_t begin, size_t end) {
      MaxPoolGradOwnedWindows(g, x.data, dy.data, tiles, begin, end, dx.data);
    });
    return env.Undefined();
  }
  // Whole images per task: windows of one image only scatter into that image.
  ParallelFor(g.n, ThreadsFor(g.ySize * g.fh * g.fw, threads), [&](size_t begin, size_t end) {
    std::vector<float> best(g.c);
    std::vector<size_t> where(g.c);
    const size_t none = static_cast<size_t>(-1);
    for (size_t b = begin; b < end; ++b) {
      const float* image = x.data + b * g.h * g.w * g.c;
      float* grad = dx.data + b * g.h * g.w * g.c;
      std::memset(grad, 0, g.h * g.w * g.c * sizeof(float));
      for (size_t oy = 0; oy < g.outH; ++oy) {
        for (size_t ox = 0; ox < g.outW; ++ox) {
          size_t y0, y1, x0, x1;
          g.Window(oy, ox, &y0, &y1, &x0, &x1);
          std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
          std::fill(where.begin(), where.end(), none);
          for (size_t iy = y0; iy < y1; ++iy) {
            for (size_t ix = x0; ix < x1; ++ix) {
              const size_t offset = (iy * g.w + ix) * g.c;
              const float* p = image + offset;
              for (size_t ci = 0; ci < g.c; ++ci) {
                if (p[ci] > best[ci]) {
                  best[ci] = p[ci];
                  where[ci] = offset + ci;
                }
              }
            }
          }
          const float* d = dy.data + ((b * g.outH + oy) * g.outW + ox) * g.c;
          for (size_t ci = 0; ci < g.c; ++ci) {
            if (where[ci] != none) grad[where[ci]] += d[ci];
          }
        }
      }
    }
  });
  return env.Undefined();
}

Napi::Value AvgPoolGradJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 4) throw Napi::TypeError::New(env, "native: avgPoolGrad expects 4 arguments");
  auto dy = TypedArrayArg<float>(info[0], napi_float32_array, "dy");
  const PoolGeometry g = ParsePoolGeometry(info[1]);
  auto dx = TypedArrayArg<float>(info[2], napi_float32_array, "dx");
  const unsigned threads = ThreadsArg(info[3]);
  ExpectLength(env, "pool", "dy", dy.length, g.ySize);
  ExpectLength(env, "pool", "dx", dx.length, g.xSize);
  if (Overlaps(dx.data, g.xSize * 4, dy.data, g.ySize * 4))
    throw Napi::RangeError::New(env, "native: avgPoolGrad dx overlaps dy");
  const float weight = 1.0f / static_cast<float>(g.fh * g.fw);
  ParallelFor(g.n, ThreadsFor(g.ySize * g.fh * g.fw, threads), [&](size_t begin, size_t end) {
    for (size_t b = begin; b < end; ++b) {
      float* grad = dx.data + b * g.h * g.w * g.c;
      std::memset(grad, 0, g.h * g.w * g.c * sizeof(float));
      for (size_t oy = 0; oy < g.outH; ++oy) {
        for (size_t ox = 0; ox < g.outW; ++ox) {
          size_t y0, y1, x0, x1;
          g.Window(oy, ox, &y0, &y1, &x0, &x1);
          const float* __restrict d = dy.data + ((b * g.outH + oy) * g.outW + ox) * g.c;
          for (size_t iy = y0; iy < y1; ++iy)
            for (size_t ix = x0; ix < x1; ++ix) {
              float* __restrict p = grad + (iy * g.w + ix) * g.c;
              for (size_t ci = 0; ci < g.c; ++ci) p[ci] += d[ci];
            }
        }
      }
      for (size_t i = 0; i < g.h * g.w * g.c; ++i) grad[i] *= weight;
    }
  });
  return env.Undefined();
}

}  // namespace tta
