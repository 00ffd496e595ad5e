#include "ConvBlock.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "Conv2D.h"
#include "FusedBatchNorm.h"
#include "Pool2D.h"
#include "Winograd.h"
#include "common.h"

namespace tta {

namespace {

// Convolution output per chunk: half a core's L2 cache here (1 MB). For the reference CNN's blocks,
// 256 KB to 2 MB measured within 7% of each other.
constexpr size_t kChunkBytes = 512 * 1024;

thread_local std::vector<float> tChunk;

}  // namespace

Napi::Value ConvBlockJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 13) throw Napi::TypeError::New(env, "native: convBlock expects 13 arguments");
  auto x = TypedArrayArg<float>(info[0], napi_float32_array, "x");
  auto filter = TypedArrayArg<float>(info[1], napi_float32_array, "filter");
  Span<float> bias, mean, variance, offset, scale;
  if (!info[2].IsNull()) bias = TypedArrayArg<float>(info[2], napi_float32_array, "bias");
  const int activation = static_cast<int>(IntegerArg(info[3], 0, 2, "activation"));
  const ConvGeometry g = ParseConvGeometry(info[4]);
  if (!info[5].IsNull()) mean = TypedArrayArg<float>(info[5], napi_float32_array, "mean");
  if (!info[6].IsNull()) variance = TypedArrayArg<float>(info[6], napi_float32_array, "variance");
  if (!info[7].IsNull()) offset = TypedArrayArg<float>(info[7], napi_float32_array, "offset");
  if (!info[8].IsNull()) scale = TypedArrayArg<float>(info[8], napi_float32_array, "scale");
  const double epsilon = NumberArg(info[9], "epsilon");
  const bool pooled = !info[10].IsNull();
  PoolGeometry p{};
  if (pooled) p = ParsePoolGeometry(info[10]);
  auto out = TypedArrayArg<float>(info[11], napi_float32_array, "out");
  const unsigned threads = ThreadsArg(info[12]);

  ExpectLength(env, "convBlock", "x", x.length, g.xSize);
  ExpectLength(env, "convBlock", "filter", filter.length, g.filterSize);
  if (bias.data != nullptr) ExpectLength(env, "convBlock", "bias", bias.length, g.outC);
  if ((mean.data == nullptr) != (variance.data == nullptr))
    throw Napi::TypeError::New(env, "native: convBlock needs mean and variance together");
  const bool normalized = mean.data != nullptr;
  if (!normalized && (offset.data != nullptr || scale.data != nullptr))
    throw Napi::TypeError::New(env, "native: convBlock offset and scale need mean and variance");
  if (pooled && (p.n != g.n || p.h != g.outH || p.w != g.outW || p.c != g.outC))
    throw Napi::RangeError::New(env, "native: convBlock pool input is not the convolution's output");
  ExpectLength(env, "convBlock", "out", out.length, pooled ? p.ySize : g.ySize);
  if (Overlaps(out.data, out.length * 4, x.data, g.xSize * 4) ||
      Overlaps(out.data, out.length * 4, filter.data, g.filterSize * 4) ||
      (bias.data != nullptr && Overlaps(out.data, out.length * 4, bias.data, g.outC * 4))) {
    throw Napi::RangeError::New(env, "native: convBlock out overlaps an input");
  }
  ChannelAffine affine;
  if (normalized) affine = BatchNormAffine(env, mean, variance, offset, scale, epsilon, g.outC);
  const ChannelAffine* maybeAffine = normalized ? &affine : nullptr;
  if (g.ySize == 0 || out.length == 0) return Napi::Boolean::New(env, false);
  const bool winograd = WinogradEnabled() && WinogradApplies(g);
  // Once per call; the chunks only read it.
  const float* transformed = winograd ? WinogradTransformedFilter(g, filter.data, threads) : nullptr;

  // Chunks of a few images spread over the threads, each convolved, normalised and pooled by
  // one thread while its convolution output is in that core's cache: no 16 MB intermediate, and
  // no hand-over between oneDNN's threads and the pool's.
  const size_t convPerImage = g.outH * g.outW * g.outC;
  const size_t perChunk = std::max<size_t>(1, std::min(g.n, kChunkBytes / (convPerImage * sizeof(float))));
  const size_t chunks = (g.n + perChunk - 1) / perChunk;
  const size_t outPerImage = pooled ? p.outH * p.outW * p.c : convPerImage;
  // One token per call: its chunks on a thread pack the filter for oneDNN once.
  static std::atomic<uint64_t> calls{0};
  const uint64_t packToken = ++calls;
  ParallelFor(chunks, ThreadsFor(g.ySize * g.colWidth, threads, 1 << 16), [&](size_t c0, size_t c1) {
    for (size_t chunk = c0; chunk < c1; ++chunk) {
      const size_t b0 = chunk * perChunk, count = std::min(perChunk, g.n - b0);
      ConvGeometry sub = g;
      sub.n = count;
      sub.xSize = count * g.h * g.w * g.c;
      sub.ySize = count * convPerImage;
      const float* xs = x.data + b0 * g.h * g.w * g.c;
      float* os = out.data + b0 * outPerImage;
      auto convolve = [&](float* y) {
        if (winograd) {
          WinogradConv(sub, xs, transformed, bias.data, activation, y);
        } else {
          ConvForward(sub, xs, filter.data, bias.data, activation, y, 0, packToken);
        }
      };
      if (!pooled) {
        convolve(os);
        if (maybeAffine != nullptr) AffineRows(affine, os, os, count * g.outH * g.outW, g.outC);
        continue;
      }
      if (tChunk.size() < sub.ySize) tChunk.resize(sub.ySize);
      convolve(tChunk.data());
      PoolGeometry subPool = p;
      subPool.n = count;
      MaxPoolRows(subPool, tChunk.data(), maybeAffine, 0, count * p.outH, os);
    }
  });
  return Napi::Boolean::New(env, winograd);
}

}  // namespace tta
