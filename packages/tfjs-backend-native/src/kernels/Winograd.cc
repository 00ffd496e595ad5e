#include "Winograd.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "Simd.h"
#include "common.h"

namespace tta {

namespace {

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TTA_WINOGRAD_X86 1
#else
#define TTA_WINOGRAD_X86 0
#endif

// Rows of the GEMM's register tile: kRows x NV vectors of sums (6 x 4 of AVX-512's 32 registers,
// 6 x 2 of AVX2's 16), each loaded filter vector used kRows times.
constexpr size_t kRows = 6;
// Transformed inputs and products of one block of tiles together within a quarter of a core's L2
// (18 tiles for the reference CNN's second layer): 64 KB to 1 MB measured within 10%.
constexpr size_t kBlockBytes = 256 * 1024;

thread_local std::vector<float> tInput, tProducts, tZeros, tSink;

size_t DetectedWidth() {
#if TTA_WINOGRAD_X86
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") ? 16 : CpuHasAvx2Fma() ? 8 : 0;
#else
  return 0;
#endif
}

// The vector width in use: the widest the CPU has, or a narrower one a test asked for.
std::atomic<size_t> gWidth{DetectedWidth()};

size_t VectorWidth() { return gWidth.load(std::memory_order_relaxed); }

bool EnabledByDefault() {
  const char* setting = std::getenv("TTA_NATIVE_WINOGRAD");
  return setting == nullptr || std::strcmp(setting, "0") != 0;
}

std::atomic<bool> gEnabled{EnabledByDefault()};
std::atomic<size_t> gConvolutions{0};

// The transformed filter of a call on the JS thread (each convolution entry point is synchronous
// there; the pool's threads only read it).
thread_local std::vector<float> tFilter, tFlipped;

// The 1-D transforms of F(m, 3): input tile d (alpha = m + 2 values) -> B^T d, products
// -> A^T p (m outputs), filter g (3 values) -> G g (alpha values). Lavin and Gray's matrices
// (interpolation points 0, +-1, +-2 for F(4, 3)).
template <size_t M>
struct Minimal;

template <>
struct Minimal<4> {
  static constexpr size_t kAlpha = 6;
  template <typename T>
  static inline __attribute__((always_inline)) void Input(const T* d, T* t) {
    t[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];
    t[1] = -4.0f * (d[1] + d[2]) + d[3] + d[4];
    t[2] = 4.0f * (d[1] - d[2]) - d[3] + d[4];
    t[3] = 2.0f * (d[3] - d[1]) - d[2] + d[4];
    t[4] = 2.0f * (d[1] - d[3]) - d[2] + d[4];
    t[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];
  }
  template <typename T>
  static inline __attribute__((always_inline)) void Output(const T* p, T* y) {
    const T a = p[1] + p[2], b = p[1] - p[2], c = p[3] + p[4], e = p[3] - p[4];
    y[0] = p[0] + a + c;
    y[1] = b + 2.0f * e;
    y[2] = a + 4.0f * c;
    y[3] = b + 8.0f * e + p[5];
  }
  static void Filter(const double* g, double* u) {
    u[0] = g[0] / 4;
    u[1] = -(g[0] + g[1] + g[2]) / 6;
    u[2] = -(g[0] - g[1] + g[2]) / 6;
    u[3] = g[0] / 24 + g[1] / 12 + g[2] / 6;
    u[4] = g[0] / 24 - g[1] / 12 + g[2] / 6;
    u[5] = g[2];
  }
};

// The tile size used: F(4x4, 3x3), 4x fewer multiply-adds than the direct convolution.
constexpr size_t kTile = 4;
using Transform = Minimal<kTile>;
constexpr size_t kAlpha = Transform::kAlpha, kPlanes = kAlpha * kAlpha;
// Fewest output tiles (of the whole call) for which Winograd's is used: the filter transform is
// paid once a call, so with few tiles the direct convolution wins (a batch of one small image, a
// deep layer's 7x7 maps: 4 tiles; 7x7x512 -> 512 at batch 1 took 8.6 ms as Winograd's against
// 1.0 ms direct). Measured with conv2d on 2 threads: at 128 tiles 0.93x to 1.06x
// the direct convolution's speed (16 to 128 channels), at 256 tiles 1.01x to 1.30x, at the
// reference CNN's 2,048 about 2x; 128 is about where it breaks even.
constexpr size_t kMinTiles = 128;

// B^T d B for channels [c, c + lanes) of one input tile (px: its kAlpha x kAlpha pixels,
// row-major), stored at v[(kAlpha i + j) * stride + c].
template <typename T>
inline __attribute__((always_inline)) void TransformInput(const float* const* px, size_t c, float* v, size_t stride) {
  T t[kAlpha][kAlpha];
#pragma GCC unroll 8
  for (size_t j = 0; j < kAlpha; ++j) {
    T column[kAlpha], out[kAlpha];
#pragma GCC unroll 8
    for (size_t i = 0; i < kAlpha; ++i) column[i] = Load<T>(px[i * kAlpha + j] + c);
    Transform::Input<T>(column, out);
#pragma GCC unroll 8
    for (size_t i = 0; i < kAlpha; ++i) t[i][j] = out[i];
  }
#pragma GCC unroll 8
  for (size_t i = 0; i < kAlpha; ++i) {
    T out[kAlpha];
    Transform::Input<T>(t[i], out);
#pragma GCC unroll 8
    for (size_t j = 0; j < kAlpha; ++j) Store<T>(v + (i * kAlpha + j) * stride + c, out[j]);
  }
}

// A^T p A + bias, activated, for channels [oc, oc + lanes) of one tile's products (p[(kAlpha i
// + j) * stride]), stored to its kTile x kTile output pixels (out, row-major).
template <typename T>
inline __attribute__((always_inline)) void TransformOutput(const float* p, size_t stride, const float* bias,
                                                           int activation, float* const* out, size_t oc) {
  T s[kTile][kAlpha];
#pragma GCC unroll 8
  for (size_t j = 0; j < kAlpha; ++j) {
    T column[kAlpha], y[kTile];
#pragma GCC unroll 8
    for (size_t i = 0; i < kAlpha; ++i) column[i] = Load<T>(p + (i * kAlpha + j) * stride);
    Transform::Output<T>(column, y);
#pragma GCC unroll 8
    for (size_t i = 0; i < kTile; ++i) s[i][j] = y[i];
  }
  const T b = bias != nullptr ? Load<T>(bias + oc) : T{};
#pragma GCC unroll 8
  for (size_t i = 0; i < kTile; ++i) {
    T y[kTile];
    Transform::Output<T>(s[i], y);
#pragma GCC unroll 8
    for (size_t j = 0; j < kTile; ++j) Store<T>(out[i * kTile + j] + oc, Activate<T>(y[j] + b, activation));
  }
}

// c[kRows x NV*VW] = a[kRows x K] b[K x NV*VW] (row strides lda, ldb, ldc).
template <typename Vec, size_t VW, size_t NV>
inline __attribute__((always_inline)) void MicroKernel(size_t K, const float* a, size_t lda, const float* b, size_t ldb,
                                                       float* c, size_t ldc) {
  Vec acc[kRows][NV];
#pragma GCC unroll 8
  for (size_t i = 0; i < kRows; ++i) {
#pragma GCC unroll 4
    for (size_t j = 0; j < NV; ++j) acc[i][j] = Vec{};
  }
  for (size_t k = 0; k < K; ++k) {
    Vec bv[NV];
#pragma GCC unroll 4
    for (size_t j = 0; j < NV; ++j) bv[j] = Load<Vec>(b + k * ldb + j * VW);
#pragma GCC unroll 8
    for (size_t i = 0; i < kRows; ++i) {
      // x - (+0) is x for every x, -0 included, so this compiles to a bare broadcast (x + 0 did not).
      const Vec av = a[i * lda + k] - Vec{};
#pragma GCC unroll 4
      for (size_t j = 0; j < NV; ++j) acc[i][j] += av * bv[j];
    }
  }
#pragma GCC unroll 8
  for (size_t i = 0; i < kRows; ++i) {
#pragma GCC unroll 4
    for (size_t j = 0; j < NV; ++j) Store<Vec>(c + i * ldc + j * VW, acc[i][j]);
  }
}

template <typename Vec, size_t VW, size_t NV>
inline __attribute__((always_inline)) void ConvBody(const ConvGeometry& g, const float* x, const float* u,
                                                    const float* bias, int activation, float* y) {
  const size_t C = g.c, OC = g.outC;
  const size_t tilesW = (g.outW + kTile - 1) / kTile, perImage = (g.outH + kTile - 1) / kTile * tilesW;
  const size_t tiles = g.n * perImage;
  const size_t fit = kBlockBytes / (kPlanes * sizeof(float) * (C + OC)) / kRows * kRows;
  const size_t block = std::max(kRows, std::min<size_t>(96, fit));
  const size_t inStride = block * C, outStride = block * OC;
  if (tInput.size() < kPlanes * inStride) tInput.resize(kPlanes * inStride);
  if (tProducts.size() < kPlanes * outStride) tProducts.resize(kPlanes * outStride);
  if (tZeros.size() < C) tZeros.resize(C);
  if (tSink.size() < OC) tSink.resize(OC);
  float* v = tInput.data();
  float* m = tProducts.data();
  const float* zeros = tZeros.data();
  float* sink = tSink.data();
  for (size_t q0 = 0; q0 < tiles; q0 += block) {
    const size_t count = std::min(block, tiles - q0), rows = (count + kRows - 1) / kRows * kRows;
    for (size_t t = 0; t < count; ++t) {
      const size_t q = q0 + t, image = q / perImage, ty = q % perImage / tilesW, tx = q % perImage % tilesW;
      const ptrdiff_t iy0 = static_cast<ptrdiff_t>(kTile * ty) - g.padTop;
      const ptrdiff_t ix0 = static_cast<ptrdiff_t>(kTile * tx) - g.padLeft;
      const float* px[kPlanes];
      for (size_t i = 0; i < kAlpha; ++i) {
        for (size_t j = 0; j < kAlpha; ++j) {
          const ptrdiff_t iy = iy0 + static_cast<ptrdiff_t>(i), ix = ix0 + static_cast<ptrdiff_t>(j);
          const bool inside =
              iy >= 0 && iy < static_cast<ptrdiff_t>(g.h) && ix >= 0 && ix < static_cast<ptrdiff_t>(g.w);
          px[i * kAlpha + j] =
              inside ? x + ((image * g.h + static_cast<size_t>(iy)) * g.w + static_cast<size_t>(ix)) * C : zeros;
        }
      }
      size_t c = 0;
      for (; c + VW <= C; c += VW) TransformInput<Vec>(px, c, v + t * C, inStride);
      for (; c < C; ++c) TransformInput<float>(px, c, v + t * C, inStride);
    }
    // Rows past the last tile fill the register tile: zeros, their products unused.
    for (size_t xi = 0; xi < kPlanes; ++xi) {
      std::fill(v + xi * inStride + count * C, v + xi * inStride + rows * C, 0.0f);
    }
    for (size_t xi = 0; xi < kPlanes; ++xi) {
      const float* a = v + xi * inStride;
      const float* b = u + xi * C * OC;
      float* c = m + xi * outStride;
      for (size_t r = 0; r < rows; r += kRows) {
        size_t n0 = 0;
        for (; n0 + NV * VW <= OC; n0 += NV * VW)
          MicroKernel<Vec, VW, NV>(C, a + r * C, C, b + n0, OC, c + r * OC + n0, OC);
        if (NV > 2 && n0 + 2 * VW <= OC) {
          MicroKernel<Vec, VW, 2>(C, a + r * C, C, b + n0, OC, c + r * OC + n0, OC);
          n0 += 2 * VW;
        }
        for (; n0 < OC; n0 += VW) MicroKernel<Vec, VW, 1>(C, a + r * C, C, b + n0, OC, c + r * OC + n0, OC);
      }
    }
    for (size_t t = 0; t < count; ++t) {
      const size_t q = q0 + t, image = q / perImage, ty = q % perImage / tilesW, tx = q % perImage % tilesW;
      float* out[kTile * kTile];
      for (size_t i = 0; i < kTile; ++i) {
        for (size_t j = 0; j < kTile; ++j) {
          const size_t oy = kTile * ty + i, ox = kTile * tx + j;
          out[i * kTile + j] = oy < g.outH && ox < g.outW ? y + ((image * g.outH + oy) * g.outW + ox) * OC : sink;
        }
      }
      for (size_t oc = 0; oc < OC; oc += VW)
        TransformOutput<Vec>(m + t * OC + oc, outStride, bias, activation, out, oc);
    }
  }
}

// The filter [3][3][c][outC] transformed (G g G^T) to u [kPlanes][c][outC], on up to `threads`
// threads of the pool.
void TransformFilter(const ConvGeometry& g, const float* filter, float* u, unsigned threads) {
  // Every Winograd convolution transforms its filter once: counted here.
  ++gConvolutions;
  // G g G^T in double, rounded once; a block of input/output channel pairs at a time so that
  // each plane is written in runs (one pair at a time, the planes' stores all fell into one
  // cache set and this took a sixth of the block's time).
  constexpr size_t kPairs = 64;
  const size_t plane = g.c * g.outC, blocks = (plane + kPairs - 1) / kPairs;
  ParallelFor(blocks, ThreadsFor(plane * kPlanes * 8, threads), [&](size_t b0, size_t b1) {
    double block[kPlanes][kPairs];
    for (size_t k0 = b0 * kPairs; k0 < std::min(plane, b1 * kPairs); k0 += kPairs) {
      const size_t pairs = std::min(kPairs, plane - k0);
      for (size_t k = 0; k < pairs; ++k) {
        double f[3][3], r[kAlpha][3], column[3], out[kAlpha];
        for (size_t ky = 0; ky < 3; ++ky) {
          for (size_t kx = 0; kx < 3; ++kx) f[ky][kx] = filter[(ky * 3 + kx) * plane + k0 + k];
        }
        for (size_t j = 0; j < 3; ++j) {
          for (size_t i = 0; i < 3; ++i) column[i] = f[i][j];
          Transform::Filter(column, out);
          for (size_t i = 0; i < kAlpha; ++i) r[i][j] = out[i];
        }
        for (size_t i = 0; i < kAlpha; ++i) {
          Transform::Filter(r[i], out);
          for (size_t j = 0; j < kAlpha; ++j) block[i * kAlpha + j][k] = out[j];
        }
      }
      for (size_t xi = 0; xi < kPlanes; ++xi) {
        for (size_t k = 0; k < pairs; ++k) u[xi * plane + k0 + k] = static_cast<float>(block[xi][k]);
      }
    }
  });
}

#if TTA_WINOGRAD_X86
__attribute__((target("avx512f"))) void ConvAvx512(const ConvGeometry& g, const float* x, const float* u,
                                                   const float* bias, int activation, float* y) {
  ConvBody<Float16, 16, 4>(g, x, u, bias, activation, y);
}

__attribute__((target("avx2,fma"))) void ConvAvx2(const ConvGeometry& g, const float* x, const float* u,
                                                  const float* bias, int activation, float* y) {
  ConvBody<Float8, 8, 2>(g, x, u, bias, activation, y);
}
#endif

}  // namespace

const char* WinogradIsa() {
  const size_t width = VectorWidth();
  return width == 16 ? "avx512f" : width == 8 ? "avx2" : "";
}

Napi::Value SetWinogradIsaJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString())
    throw Napi::TypeError::New(env, "native: setWinogradIsa expects 'avx512f', 'avx2' or ''");
  const std::string isa = info[0].As<Napi::String>().Utf8Value();
  const size_t requested = isa == "avx512f" ? 16 : isa == "avx2" ? 8 : isa.empty() ? 0 : 1;
  if (requested == 1) throw Napi::RangeError::New(env, "native: setWinogradIsa expects 'avx512f', 'avx2' or ''");
  gWidth = std::min(requested, DetectedWidth());
  return Napi::String::New(env, WinogradIsa());
}

Napi::Value SetWinogradJs(const Napi::CallbackInfo& info) {
  if (info.Length() != 1 || !info[0].IsBoolean())
    throw Napi::TypeError::New(info.Env(), "native: setWinograd expects one boolean");
  gEnabled = info[0].As<Napi::Boolean>().Value();
  return Napi::Boolean::New(info.Env(), gEnabled);
}

bool WinogradEnabled() { return gEnabled; }
size_t WinogradConvolutions() { return gConvolutions; }

const float* WinogradTransformedFilter(const ConvGeometry& g, const float* filter, unsigned threads) {
  tFilter.resize(kPlanes * g.c * g.outC);
  TransformFilter(g, filter, tFilter.data(), threads);
  return tFilter.data();
}

bool WinogradForward(const ConvGeometry& g, const float* x, const float* filter, const float* bias, int activation,
                     float* y, unsigned threads) {
  if (!gEnabled || !WinogradApplies(g) || g.ySize == 0) return false;
  const float* u = WinogradTransformedFilter(g, filter, threads);
  // A few chunks of images per thread; each tile's result does not depend on the chunk it is in,
  // so this gives the bits of the convolution block's chunks.
  const unsigned workers = ThreadsFor(g.ySize * g.colWidth, threads, 1 << 16);
  const size_t chunks = std::min<size_t>(g.n, 4 * static_cast<size_t>(workers));
  const size_t perChunk = (g.n + chunks - 1) / chunks;
  ParallelFor((g.n + perChunk - 1) / perChunk, workers, [&](size_t c0, size_t c1) {
    for (size_t chunk = c0; chunk < c1; ++chunk) {
      const size_t b0 = chunk * perChunk, count = std::min(perChunk, g.n - b0);
      ConvGeometry sub = g;
      sub.n = count;
      WinogradConv(sub, x + b0 * g.h * g.w * g.c, u, bias, activation, y + b0 * g.outH * g.outW * g.outC);
    }
  });
  return true;
}

bool WinogradBackwardData(const ConvGeometry& g, const float* dy, const float* filter, float* dx, unsigned threads) {
  if (!gEnabled || g.fh != 3 || g.fw != 3 || g.sh != 1 || g.sw != 1) return false;
  // dx[iy][ix][c] = sum over ky, kx, o of dy[iy + padTop - ky][ix + padLeft - kx][o] w[ky][kx][c][o]:
  // the forward convolution of dy with the filter turned half a circle and its channels swapped,
  // padded by 2 - padTop and 2 - padLeft, producing the input's rows and columns.
  ConvGeometry t = g;
  t.h = g.outH;
  t.w = g.outW;
  t.c = g.outC;
  t.outC = g.c;
  t.padTop = 2 - g.padTop;
  t.padLeft = 2 - g.padLeft;
  t.outH = g.h;
  t.outW = g.w;
  t.xSize = g.ySize;
  t.ySize = g.xSize;
  t.colWidth = 9 * t.c;
  t.pixelsPerImage = g.h * g.w;
  if (!WinogradApplies(t) || t.ySize == 0 || t.xSize == 0) return false;
  tFlipped.resize(g.filterSize);
  for (size_t ky = 0; ky < 3; ++ky) {
    for (size_t kx = 0; kx < 3; ++kx) {
      const float* from = filter + ((2 - ky) * 3 + (2 - kx)) * g.c * g.outC;
      float* to = tFlipped.data() + (ky * 3 + kx) * g.c * g.outC;
      for (size_t c = 0; c < g.c; ++c) {
        for (size_t o = 0; o < g.outC; ++o) to[o * g.c + c] = from[c * g.outC + o];
      }
    }
  }
  return WinogradForward(t, dy, tFlipped.data(), nullptr, 0, dx, threads);
}

bool WinogradApplies(const ConvGeometry& g) {
  const size_t width = VectorWidth();
  const size_t tiles = g.n * ((g.outH + kTile - 1) / kTile) * ((g.outW + kTile - 1) / kTile);
  return width != 0 && g.fh == 3 && g.fw == 3 && g.sh == 1 && g.sw == 1 && g.c >= 8 && g.outC % width == 0 &&
         tiles >= kMinTiles;
}

void WinogradConv(const ConvGeometry& g, const float* x, const float* u, const float* bias, int activation, float* y) {
#if TTA_WINOGRAD_X86
  if (VectorWidth() == 16) {
    ConvAvx512(g, x, u, bias, activation, y);
    return;
  }
  if (VectorWidth() == 8) {
    ConvAvx2(g, x, u, bias, activation, y);
    return;
  }
#endif
  (void)g, (void)x, (void)u, (void)bias, (void)activation, (void)y;
  throw std::logic_error("native: Winograd convolution on a CPU WinogradApplies refused");
}

}  // namespace tta
