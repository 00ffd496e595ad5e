#include "Conv2D.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "Simd.h"
#include "Winograd.h"
#include "common.h"
#include "gemm.h"
#include "onednn.h"

namespace tta {

namespace {}  // namespace

ConvGeometry ParseConvGeometry(const Napi::Value& value) {
  Napi::Env env = value.Env();
  auto dims = TypedArrayArg<int32_t>(value, napi_int32_array, "dims");
  if (dims.length != 13) throw Napi::RangeError::New(env, "native: conv2d dims must hold 13 integers");
  const int32_t* d = dims.data;
  for (int i = 0; i < 13; ++i) {
    if (i == 9 || i == 10) continue;
    const bool mayBeZero = i == 0 || i == 3 || i == 6 || i == 11 || i == 12 || i == 1 || i == 2;
    if (d[i] < (mayBeZero ? 0 : 1)) throw Napi::RangeError::New(env, "native: conv2d dims out of range");
  }
  ConvGeometry g{};
  g.n = d[0];
  g.h = d[1];
  g.w = d[2];
  g.c = d[3];
  g.fh = d[4];
  g.fw = d[5];
  g.outC = d[6];
  g.sh = d[7];
  g.sw = d[8];
  g.padTop = d[9];
  g.padLeft = d[10];
  g.outH = d[11];
  g.outW = d[12];
  if (!CheckedProduct({g.n, g.h, g.w, g.c}, &g.xSize) || !CheckedProduct({g.fh, g.fw, g.c, g.outC}, &g.filterSize) ||
      !CheckedProduct({g.n, g.outH, g.outW, g.outC}, &g.ySize) || !CheckedProduct({g.fh, g.fw, g.c}, &g.colWidth) ||
      !CheckedProduct({g.outH, g.outW}, &g.pixelsPerImage)) {
    throw Napi::RangeError::New(env, "native: conv2d sizes overflow");
  }
  return g;
}

namespace {

OnednnConvShape OnednnShape(const ConvGeometry& g) {
  return {g.n, g.h, g.w, g.c, g.fh, g.fw, g.outC, g.sh, g.sw, g.padTop, g.padLeft, g.outH, g.outW};
}

// Images per block: enough rows for an efficient GEMM, few enough for the cache.
size_t ImagesPerBlock(const ConvGeometry& g) {
  const size_t targetRows = 256;
  return std::max<size_t>(1, targetRows / std::max<size_t>(1, g.pixelsPerImage));
}

// Column matrix for images [b0, b1): row (b, oy, ox), columns (ky, kx, ci), zero padding.
void Im2col(const ConvGeometry& g, const float* x, size_t b0, size_t b1, float* col) {
  const size_t rowWidth = g.colWidth;
  const size_t kxBytes = g.c * sizeof(float);
  for (size_t b = b0; b < b1; ++b) {
    const float* image = x + b * g.h * g.w * g.c;
    for (size_t oy = 0; oy < g.outH; ++oy) {
      for (size_t ox = 0; ox < g.outW; ++ox) {
        float* row = col + (((b - b0) * g.outH + oy) * g.outW + ox) * rowWidth;
        const ptrdiff_t iy0 = static_cast<ptrdiff_t>(oy * g.sh) - g.padTop;
        const ptrdiff_t ix0 = static_cast<ptrdiff_t>(ox * g.sw) - g.padLeft;
        for (size_t ky = 0; ky < g.fh; ++ky) {
          const ptrdiff_t iy = iy0 + static_cast<ptrdiff_t>(ky);
          float* dst = row + ky * g.fw * g.c;
          if (iy < 0 || iy >= static_cast<ptrdiff_t>(g.h)) {
            std::memset(dst, 0, g.fw * kxBytes);
            continue;
          }
          const float* src = image + static_cast<size_t>(iy) * g.w * g.c;
          if (ix0 >= 0 && ix0 + static_cast<ptrdiff_t>(g.fw) <= static_cast<ptrdiff_t>(g.w)) {
            std::memcpy(dst, src + static_cast<size_t>(ix0) * g.c, g.fw * kxBytes);
            continue;
          }
          for (size_t kx = 0; kx < g.fw; ++kx) {
            const ptrdiff_t ix = ix0 + static_cast<ptrdiff_t>(kx);
            if (ix < 0 || ix >= static_cast<ptrdiff_t>(g.w)) {
              std::memset(dst + kx * g.c, 0, kxBytes);
            } else {
              std::memcpy(dst + kx * g.c, src + static_cast<size_t>(ix) * g.c, kxBytes);
            }
          }
        }
      }
    }
  }
}

// Adds the column matrix of images [b0, b1) back into dx (the adjoint of Im2col).
void Col2imAdd(const ConvGeometry& g, const float* col, size_t b0, size_t b1, float* dx) {
  for (size_t b = b0; b < b1; ++b) {
    float* image = dx + b * g.h * g.w * g.c;
    for (size_t oy = 0; oy < g.outH; ++oy) {
      for (size_t ox = 0; ox < g.outW; ++ox) {
        const float* row = col + (((b - b0) * g.outH + oy) * g.outW + ox) * g.colWidth;
        const ptrdiff_t iy0 = static_cast<ptrdiff_t>(oy * g.sh) - g.padTop;
        const ptrdiff_t ix0 = static_cast<ptrdiff_t>(ox * g.sw) - g.padLeft;
        for (size_t ky = 0; ky < g.fh; ++ky) {
          const ptrdiff_t iy = iy0 + static_cast<ptrdiff_t>(ky);
          if (iy < 0 || iy >= static_cast<ptrdiff_t>(g.h)) continue;
          for (size_t kx = 0; kx < g.fw; ++kx) {
            const ptrdiff_t ix = ix0 + static_cast<ptrdiff_t>(kx);
            if (ix < 0 || ix >= static_cast<ptrdiff_t>(g.w)) continue;
            float* __restrict dst = image + (static_cast<size_t>(iy) * g.w + static_cast<size_t>(ix)) * g.c;
            const float* __restrict src = row + (ky * g.fw + kx) * g.c;
            for (size_t ci = 0; ci < g.c; ++ci) dst[ci] += src[ci];
          }
        }
      }
    }
  }
}

thread_local std::vector<float> tColumns;

float* Columns(size_t size) {
  if (tColumns.size() < size) tColumns.resize(size);
  return tColumns.data();
}

// Layers with few input channels (an image network's first layer: 3) convolve directly:
// im2col + GEMM has an inner dimension of fh * fw * c = 27 there, too short for GEMM's
// packing to pay for itself, and the column matrix is 9 times the input. W output channels
// at a time stay in registers.
bool UseDirect(const ConvGeometry& g) { return g.c <= 4 && g.outC % 8 == 0 && g.colWidth <= 64; }

// Output pixel p's image, and the top-left corner of its window (may lie in the padding).
struct Window {
  const float* image;
  ptrdiff_t iy0, ix0;
  bool interior;
};

// Output pixel (b, oy, ox), walked in order without a division per pixel.
struct Pixel {
  size_t b, oy, ox;
  Pixel(const ConvGeometry& g, size_t p) : b(p / g.pixelsPerImage), oy(p % g.pixelsPerImage / g.outW), ox(p % g.outW) {}
  void Next(const ConvGeometry& g) {
    if (++ox < g.outW) return;
    ox = 0;
    if (++oy < g.outH) return;
    oy = 0;
    ++b;
  }
};

inline Window WindowOf(const ConvGeometry& g, const float* x, const Pixel& px) {
  const size_t b = px.b, oy = px.oy, ox = px.ox;
  Window win{x + b * g.h * g.w * g.c, static_cast<ptrdiff_t>(oy * g.sh) - g.padTop,
             static_cast<ptrdiff_t>(ox * g.sw) - g.padLeft, false};
  win.interior = win.iy0 >= 0 && win.ix0 >= 0 &&
                 win.iy0 + static_cast<ptrdiff_t>(g.fh) <= static_cast<ptrdiff_t>(g.h) &&
                 win.ix0 + static_cast<ptrdiff_t>(g.fw) <= static_cast<ptrdiff_t>(g.w);
  return win;
}

// The input values under output pixel p's window, (ky, kx, ci) order, 0 in the padding.
inline void GatherTaps(const ConvGeometry& g, const float* x, const Pixel& px, float* taps) {
  const Window win = WindowOf(g, x, px);
  const size_t rowLength = g.fw * g.c;
  if (win.interior) {
    // NHWC: each window row is fw * c contiguous values.
    for (size_t ky = 0; ky < g.fh; ++ky) {
      std::memcpy(taps + ky * rowLength,
                  win.image + (static_cast<size_t>(win.iy0) + ky) * g.w * g.c + static_cast<size_t>(win.ix0) * g.c,
                  rowLength * sizeof(float));
    }
    return;
  }
  for (size_t ky = 0; ky < g.fh; ++ky) {
    const ptrdiff_t iy = win.iy0 + static_cast<ptrdiff_t>(ky);
    for (size_t kx = 0; kx < g.fw; ++kx) {
      const ptrdiff_t ix = win.ix0 + static_cast<ptrdiff_t>(kx);
      float* dst = taps + (ky * g.fw + kx) * g.c;
      if (iy < 0 || iy >= static_cast<ptrdiff_t>(g.h) || ix < 0 || ix >= static_cast<ptrdiff_t>(g.w)) {
        std::memset(dst, 0, g.c * sizeof(float));
      } else {
        std::memcpy(dst, win.image + (static_cast<size_t>(iy) * g.w + static_cast<size_t>(ix)) * g.c,
                    g.c * sizeof(float));
      }
    }
  }
}

// Output channels [o0, o0 + W) of pixels [p0, p1): bias + sum of taps x filter, then the activation,
// eight floats at a time (Simd.h).
template <size_t W>
inline __attribute__((always_inline)) void DirectConvPixels(const ConvGeometry& g, const float* x, const float* filter,
                                                            const float* bias, int activation, size_t p0, size_t p1,
                                                            size_t o0, float* y) {
  constexpr size_t V = W / 8;
  float taps[64];
  const size_t rowLength = g.fw * g.c;
  Float8 initial[V];
  for (size_t k = 0; k < V; ++k) initial[k] = bias != nullptr ? Load<Float8>(bias + o0 + 8 * k) : Float8{};
  auto store = [&](size_t p, const Float8* acc) {
    float* out = y + p * g.outC + o0;
#pragma GCC unroll 8
    for (size_t k = 0; k < V; ++k) {
      Store<Float8>(out + 8 * k, Activate<Float8>(acc[k], activation));
    }
  };
  Pixel px(g, p0);
  for (size_t p = p0; p < p1; ++p, px.Next(g)) {
    Float8 acc[V];
#pragma GCC unroll 8
    for (size_t k = 0; k < V; ++k) acc[k] = initial[k];
    const Window win = WindowOf(g, x, px);
    // Two neighbouring interior pixels at once: twice the independent sums in flight (one
    // pixel's chain of fused multiply-adds is latency-bound) and each weight loaded once.
    if (win.interior && p + 1 < p1 && px.ox + 1 < g.outW &&
        win.ix0 + static_cast<ptrdiff_t>(g.sw + g.fw) <= static_cast<ptrdiff_t>(g.w)) {
      Float8 next[V];
#pragma GCC unroll 8
      for (size_t k = 0; k < V; ++k) next[k] = initial[k];
      for (size_t ky = 0; ky < g.fh; ++ky) {
        const float* src =
            win.image + (static_cast<size_t>(win.iy0) + ky) * g.w * g.c + static_cast<size_t>(win.ix0) * g.c;
        const float* src1 = src + g.sw * g.c;
        const float* weights = filter + ky * rowLength * g.outC + o0;
        for (size_t j = 0; j < rowLength; ++j) {
          const Float8 v = Float8{} + src[j], v1 = Float8{} + src1[j];
          const float* row = weights + j * g.outC;
#pragma GCC unroll 8
          for (size_t k = 0; k < V; ++k) {
            const Float8 w = Load<Float8>(row + 8 * k);
            acc[k] += v * w;
            next[k] += v1 * w;
          }
        }
      }
      store(p, acc);
      ++p;
      px.Next(g);
      store(p, next);
      continue;
    }
    if (win.interior) {
      // Read the window in place: no gather for the pixels away from the border.
      for (size_t ky = 0; ky < g.fh; ++ky) {
        const float* src =
            win.image + (static_cast<size_t>(win.iy0) + ky) * g.w * g.c + static_cast<size_t>(win.ix0) * g.c;
        const float* weights = filter + ky * rowLength * g.outC + o0;
        for (size_t j = 0; j < rowLength; ++j) {
          const Float8 v = Float8{} + src[j];
          const float* row = weights + j * g.outC;
#pragma GCC unroll 8
          for (size_t k = 0; k < V; ++k) acc[k] += v * Load<Float8>(row + 8 * k);
        }
      }
    } else {
      GatherTaps(g, x, px, taps);
      for (size_t t = 0; t < g.colWidth; ++t) {
        const Float8 v = Float8{} + taps[t];
        const float* row = filter + t * g.outC + o0;
#pragma GCC unroll 8
        for (size_t k = 0; k < V; ++k) acc[k] += v * Load<Float8>(row + 8 * k);
      }
    }
    store(p, acc);
  }
}

inline __attribute__((always_inline)) void DirectConvBody(const ConvGeometry& g, const float* x, const float* filter,
                                                          const float* bias, int activation, size_t p0, size_t p1,
                                                          float* y) {
  for (size_t o0 = 0; o0 < g.outC;) {
    const size_t left = g.outC - o0;
    if (left >= 32) {
      DirectConvPixels<32>(g, x, filter, bias, activation, p0, p1, o0, y);
      o0 += 32;
    } else if (left >= 16) {
      DirectConvPixels<16>(g, x, filter, bias, activation, p0, p1, o0, y);
      o0 += 16;
    } else {
      DirectConvPixels<8>(g, x, filter, bias, activation, p0, p1, o0, y);
      o0 += 8;
    }
  }
}

// dw[t][o0 .. o0 + W) += sum over pixels [p0, p1) of taps[p][t] * dy[p][o0 ..): one tap row at
// a time over a block of pixels whose taps were gathered first, the sums in registers.
template <size_t W>
inline __attribute__((always_inline)) void DirectFilterGradBlock(const ConvGeometry& g, const float* taps,
                                                                 const float* dy, size_t p0, size_t p1, size_t o0,
                                                                 float* dw) {
  constexpr size_t V = W / 8;
  for (size_t t = 0; t < g.colWidth; ++t) {
    // Even and odd pixels in separate sums: twice the independent chains in flight.
    Float8 acc[V], odd[V];
#pragma GCC unroll 8
    for (size_t k = 0; k < V; ++k) acc[k] = odd[k] = Float8{};
    size_t p = p0;
    for (; p + 1 < p1; p += 2) {
      const Float8 v = Float8{} + taps[(p - p0) * g.colWidth + t], v1 = Float8{} + taps[(p + 1 - p0) * g.colWidth + t];
      const float* row = dy + p * g.outC + o0;
#pragma GCC unroll 8
      for (size_t k = 0; k < V; ++k) {
        acc[k] += v * Load<Float8>(row + 8 * k);
        odd[k] += v1 * Load<Float8>(row + g.outC + 8 * k);
      }
    }
    if (p < p1) {
      const Float8 v = Float8{} + taps[(p - p0) * g.colWidth + t];
#pragma GCC unroll 8
      for (size_t k = 0; k < V; ++k) acc[k] += v * Load<Float8>(dy + p * g.outC + o0 + 8 * k);
    }
    float* out = dw + t * g.outC + o0;
#pragma GCC unroll 8
    for (size_t k = 0; k < V; ++k) Store<Float8>(out + 8 * k, Load<Float8>(out + 8 * k) + (acc[k] + odd[k]));
  }
}

inline __attribute__((always_inline)) void DirectFilterGradBody(const ConvGeometry& g, const float* x, const float* dy,
                                                                size_t p0, size_t p1, float* dw) {
  constexpr size_t kBlock = 64;
  float taps[kBlock * 64];
  for (size_t b0 = p0; b0 < p1; b0 += kBlock) {
    const size_t b1 = std::min(p1, b0 + kBlock);
    Pixel px(g, b0);
    for (size_t p = b0; p < b1; ++p, px.Next(g)) GatherTaps(g, x, px, taps + (p - b0) * g.colWidth);
    for (size_t o0 = 0; o0 < g.outC;) {
      const size_t left = g.outC - o0;
      if (left >= 32) {
        DirectFilterGradBlock<32>(g, taps, dy, b0, b1, o0, dw);
        o0 += 32;
      } else if (left >= 16) {
        DirectFilterGradBlock<16>(g, taps, dy, b0, b1, o0, dw);
        o0 += 16;
      } else {
        DirectFilterGradBlock<8>(g, taps, dy, b0, b1, o0, dw);
        o0 += 8;
      }
    }
  }
}

// Each direct loop built for AVX2 + FMA and for the baseline (this file is compiled with
// -ffp-contract=fast, see CMakeLists.txt), chosen at run time.
#if TTA_X86_DISPATCH
#define TTA_AVX2_FMA __attribute__((target("avx2,fma")))
#else
#define TTA_AVX2_FMA
#endif

TTA_AVX2_FMA void DirectConvAvx2(const ConvGeometry& g, const float* x, const float* filter, const float* bias,
                                 int activation, size_t p0, size_t p1, float* y) {
  DirectConvBody(g, x, filter, bias, activation, p0, p1, y);
}

void DirectConv(const ConvGeometry& g, const float* x, const float* filter, const float* bias, int activation,
                size_t p0, size_t p1, float* y) {
  if (CpuHasAvx2Fma()) {
    DirectConvAvx2(g, x, filter, bias, activation, p0, p1, y);
  } else {
    DirectConvBody(g, x, filter, bias, activation, p0, p1, y);
  }
}

TTA_AVX2_FMA void DirectFilterGradAvx2(const ConvGeometry& g, const float* x, const float* dy, size_t p0, size_t p1,
                                       float* dw) {
  DirectFilterGradBody(g, x, dy, p0, p1, dw);
}

void DirectFilterGrad(const ConvGeometry& g, const float* x, const float* dy, size_t p0, size_t p1, float* dw) {
  if (CpuHasAvx2Fma()) {
    DirectFilterGradAvx2(g, x, dy, p0, p1, dw);
  } else {
    DirectFilterGradBody(g, x, dy, p0, p1, dw);
  }
}

}  // namespace

void ConvForward(const ConvGeometry& g, const float* x, const float* filter, const float* bias, int activation,
                 float* y, unsigned threads, uint64_t packToken) {
  if (g.ySize == 0) return;
  // threads 0 is a convolution block's chunk: the block chose the direct convolution itself.
  if (threads != 0 && WinogradForward(g, x, filter, bias, activation, y, threads)) return;
  const bool onednn = threads == 0 ? OnednnConvForwardSerial(OnednnShape(g), x, filter, bias, activation, y, packToken)
                                   : OnednnConvForward(OnednnShape(g), x, filter, bias, activation, y);
  if (onednn) return;
  if (UseDirect(g)) {
    const size_t pixels = g.n * g.pixelsPerImage;
    ParallelFor(pixels, ThreadsFor(g.ySize * g.colWidth, threads, 1 << 16),
                [&](size_t begin, size_t end) { DirectConv(g, x, filter, bias, activation, begin, end, y); });
    return;
  }
  const size_t perBlock = ImagesPerBlock(g);
  const size_t blocks = (g.n + perBlock - 1) / perBlock;
  ParallelFor(blocks, ThreadsFor(g.ySize * g.colWidth, threads, 1 << 16), [&](size_t begin, size_t end) {
    for (size_t blk = begin; blk < end; ++blk) {
      const size_t b0 = blk * perBlock, b1 = std::min(g.n, b0 + perBlock);
      const size_t rows = (b1 - b0) * g.pixelsPerImage;
      float* out = y + b0 * g.pixelsPerImage * g.outC;
      const float* col;
      if (g.Pointwise()) {
        col = x + b0 * g.pixelsPerImage * g.c;
      } else {
        float* buffer = Columns(rows * g.colWidth);
        Im2col(g, x, b0, b1, buffer);
        col = buffer;
      }
      SgemmSerial(false, false, rows, g.outC, g.colWidth, col, g.colWidth, filter, g.outC, false, out, g.outC);
      if (bias == nullptr && activation == 0) continue;
      for (size_t r = 0; r < rows; ++r) {
        float* __restrict o = out + r * g.outC;
        if (bias != nullptr)
          for (size_t k = 0; k < g.outC; ++k) o[k] += bias[k];
        if (activation == 1) {
          for (size_t k = 0; k < g.outC; ++k) o[k] = o[k] < 0.0f ? 0.0f : o[k];
        } else if (activation == 2) {
          for (size_t k = 0; k < g.outC; ++k) o[k] = o[k] < 0.0f ? 0.0f : (o[k] > 6.0f ? 6.0f : o[k]);
        }
      }
    }
  });
}

Napi::Value Conv2dJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 7) throw Napi::TypeError::New(env, "native: conv2d expects 7 arguments");
  auto x = TypedArrayArg<float>(info[0], napi_float32_array, "x");
  auto filter = TypedArrayArg<float>(info[1], napi_float32_array, "filter");
  Span<float> bias;
  if (!info[2].IsNull()) bias = TypedArrayArg<float>(info[2], napi_float32_array, "bias");
  const int activation = static_cast<int>(IntegerArg(info[3], 0, 2, "activation"));
  const ConvGeometry g = ParseConvGeometry(info[4]);
  auto y = TypedArrayArg<float>(info[5], napi_float32_array, "out");
  const unsigned threads = ThreadsArg(info[6]);
  ExpectLength(env, "conv2d", "x", x.length, g.xSize);
  ExpectLength(env, "conv2d", "filter", filter.length, g.filterSize);
  ExpectLength(env, "conv2d", "out", y.length, g.ySize);
  if (bias.data != nullptr) ExpectLength(env, "conv2d", "bias", bias.length, g.outC);
  if (Overlaps(y.data, g.ySize * 4, x.data, g.xSize * 4) ||
      Overlaps(y.data, g.ySize * 4, filter.data, g.filterSize * 4) ||
      (bias.data != nullptr && Overlaps(y.data, g.ySize * 4, bias.data, g.outC * 4))) {
    throw Napi::RangeError::New(env, "native: conv2d out overlaps an input");
  }
  ConvForward(g, x.data, filter.data, bias.data, activation, y.data, threads);
  return env.Undefined();
}

Napi::Value Conv2dBackpropInputJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 5) throw Napi::TypeError::New(env, "native: conv2dBackpropInput expects 5 arguments");
  auto dy = TypedArrayArg<float>(info[0], napi_float32_array, "dy");
  auto filter = TypedArrayArg<float>(info[1], napi_float32_array, "filter");
  const ConvGeometry g = ParseConvGeometry(info[2]);
  auto dx = TypedArrayArg<float>(info[3], napi_float32_array, "dx");
  const unsigned threads = ThreadsArg(info[4]);
  ExpectLength(env, "conv2d", "dy", dy.length, g.ySize);
  ExpectLength(env, "conv2d", "filter", filter.length, g.filterSize);
  ExpectLength(env, "conv2d", "dx", dx.length, g.xSize);
  if (Overlaps(dx.data, g.xSize * 4, dy.data, g.ySize * 4) ||
      Overlaps(dx.data, g.xSize * 4, filter.data, g.filterSize * 4)) {
    throw Napi::RangeError::New(env, "native: conv2d dx overlaps an input");
  }
  if (g.xSize == 0) return env.Undefined();
  if (g.ySize != 0 && WinogradBackwardData(g, dy.data, filter.data, dx.data, threads)) return env.Undefined();
  if (g.ySize != 0 && OnednnConvBackwardData(OnednnShape(g), dy.data, filter.data, dx.data)) return env.Undefined();

  const size_t perBlock = ImagesPerBlock(g);
  const size_t blocks = (g.n + perBlock - 1) / perBlock;
  ParallelFor(blocks, ThreadsFor(g.ySize * g.colWidth, threads, 1 << 16), [&](size_t begin, size_t end) {
    for (size_t blk = begin; blk < end; ++blk) {
      const size_t b0 = blk * perBlock, b1 = std::min(g.n, b0 + perBlock);
      const size_t rows = (b1 - b0) * g.pixelsPerImage;
      const float* dyBlock = dy.data + b0 * g.pixelsPerImage * g.outC;
      float* dxBlock = dx.data + b0 * g.h * g.w * g.c;
      if (g.Pointwise()) {
        SgemmSerial(false, true, rows, g.c, g.outC, dyBlock, g.outC, filter.data, g.outC, false, dxBlock, g.c);
        continue;
      }
      float* col = Columns(rows * g.colWidth);
      SgemmSerial(false, true, rows, g.colWidth, g.outC, dyBlock, g.outC, filter.data, g.outC, false, col, g.colWidth);
      std::memset(dxBlock, 0, (b1 - b0) * g.h * g.w * g.c * sizeof(float));
      Col2imAdd(g, col, b0, b1, dx.data);
    }
  });
  return env.Undefined();
}

Napi::Value Conv2dBackpropFilterJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 5) throw Napi::TypeError::New(env, "native: conv2dBackpropFilter expects 5 arguments");
  auto x = TypedArrayArg<float>(info[0], napi_float32_array, "x");
  auto dy = TypedArrayArg<float>(info[1], napi_float32_array, "dy");
  const ConvGeometry g = ParseConvGeometry(info[2]);
  auto dw = TypedArrayArg<float>(info[3], napi_float32_array, "dw");
  const unsigned threads = ThreadsArg(info[4]);
  ExpectLength(env, "conv2d", "x", x.length, g.xSize);
  ExpectLength(env, "conv2d", "dy", dy.length, g.ySize);
  ExpectLength(env, "conv2d", "dw", dw.length, g.filterSize);
  if (Overlaps(dw.data, g.filterSize * 4, x.data, g.xSize * 4) ||
      Overlaps(dw.data, g.filterSize * 4, dy.data, g.ySize * 4)) {
    throw Napi::RangeError::New(env, "native: conv2dBackpropFilter dw overlaps an input");
  }
  if (g.filterSize == 0) return env.Undefined();
  if (g.ySize != 0 && OnednnConvBackwardWeights(OnednnShape(g), x.data, dy.data, dw.data)) return env.Undefined();
  std::memset(dw.data, 0, g.filterSize * sizeof(float));
  if (g.ySize == 0) return env.Undefined();

  if (UseDirect(g)) {
    const size_t pixels = g.n * g.pixelsPerImage;
    const unsigned slots =
        std::max(1u, std::min<unsigned>(ThreadsFor(g.ySize * g.colWidth, threads, 1 << 16),
                                        static_cast<unsigned>(std::min<size_t>(pixels, kMaxThreads))));
    std::vector<std::vector<float>> partial(slots);
    ParallelFor(slots, slots, [&](size_t s0, size_t s1) {
      for (size_t s = s0; s < s1; ++s) {
        partial[s].assign(g.filterSize, 0.0f);
        DirectFilterGrad(g, x.data, dy.data, pixels * s / slots, pixels * (s + 1) / slots, partial[s].data());
      }
    });
    for (const auto& acc : partial) {
      for (size_t i = 0; i < g.filterSize; ++i) dw.data[i] += acc[i];
    }
    return env.Undefined();
  }
  const size_t perBlock = ImagesPerBlock(g);
  const size_t blocks = (g.n + perBlock - 1) / perBlock;
  const unsigned slots =
      std::min<unsigned>(ThreadsFor(g.ySize * g.colWidth, threads, 1 << 16), static_cast<unsigned>(blocks));
  // One partial filter gradient per slot, summed at the end: the blocks all write dw.
  std::vector<std::vector<float>> partial(slots);
  ParallelFor(slots, slots, [&](size_t s0, size_t s1) {
    for (size_t s = s0; s < s1; ++s) {
      std::vector<float>& acc = partial[s];
      acc.assign(g.filterSize, 0.0f);
      const size_t blk0 = blocks * s / slots, blk1 = blocks * (s + 1) / slots;
      for (size_t blk = blk0; blk < blk1; ++blk) {
        const size_t b0 = blk * perBlock, b1 = std::min(g.n, b0 + perBlock);
        const size_t rows = (b1 - b0) * g.pixelsPerImage;
        const float* col;
        if (g.Pointwise()) {
          col = x.data + b0 * g.pixelsPerImage * g.c;
        } else {
          float* buffer = Columns(rows * g.colWidth);
          Im2col(g, x.data, b0, b1, buffer);
          col = buffer;
        }
        SgemmSerial(true, false, g.colWidth, g.outC, rows, col, g.colWidth, dy.data + b0 * g.pixelsPerImage * g.outC,
                    g.outC, true, acc.data(), g.outC);
      }
    }
  });
  for (const auto& acc : partial) {
    for (size_t i = 0; i < g.filterSize; ++i) dw.data[i] += acc[i];
  }
  return env.Undefined();
}

}  // namespace tta
