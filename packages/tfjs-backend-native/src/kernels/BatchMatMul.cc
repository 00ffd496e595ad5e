#include "BatchMatMul.h"

#include "common.h"
#include "gemm.h"
#include "onednn.h"

namespace tta {

Napi::Value MatMulJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 7) throw Napi::TypeError::New(env, "native: matMul expects 7 arguments");
  auto a = TypedArrayArg<float>(info[0], napi_float32_array, "a");
  auto b = TypedArrayArg<float>(info[1], napi_float32_array, "b");
  Span<float> bias;
  if (!info[2].IsNull()) bias = TypedArrayArg<float>(info[2], napi_float32_array, "bias");
  const int activation = static_cast<int>(IntegerArg(info[3], 0, 2, "activation"));
  auto dims = TypedArrayArg<int32_t>(info[4], napi_int32_array, "dims");
  auto out = TypedArrayArg<float>(info[5], napi_float32_array, "out");
  const unsigned threads = ThreadsArg(info[6]);
  if (dims.length != 8) throw Napi::RangeError::New(env, "native: matMul dims must hold 8 integers");
  for (size_t i = 0; i < 6; ++i)
    if (dims.data[i] < 0) throw Napi::RangeError::New(env, "native: matMul dims negative");
  const size_t batch = dims.data[0], aBatches = dims.data[1], bBatches = dims.data[2];
  const size_t M = dims.data[3], N = dims.data[4], K = dims.data[5];
  const bool transA = dims.data[6] != 0, transB = dims.data[7] != 0;
  if ((aBatches != 1 && aBatches != batch) || (bBatches != 1 && bBatches != batch)) {
    throw Napi::RangeError::New(env, "native: matMul batches must be 1 or batch");
  }
  size_t aSize, bSize, outSize, mk, kn, mn;
  if (!CheckedProduct({M, K}, &mk) || !CheckedProduct({K, N}, &kn) || !CheckedProduct({M, N}, &mn) ||
      !CheckedProduct({aBatches, mk}, &aSize) || !CheckedProduct({bBatches, kn}, &bSize) ||
      !CheckedProduct({batch, mn}, &outSize) || a.length != aSize || b.length != bSize || out.length != outSize) {
    throw Napi::RangeError::New(env, "native: matMul operand lengths do not match dims");
  }
  if (bias.data != nullptr && bias.length != N)
    throw Napi::RangeError::New(env, "native: matMul bias must hold N values");
  if (Overlaps(out.data, outSize * 4, a.data, aSize * 4) || Overlaps(out.data, outSize * 4, b.data, bSize * 4)) {
    throw Napi::RangeError::New(env, "native: matMul out overlaps an input");
  }
  if (outSize == 0) return env.Undefined();
  const size_t lda = transA ? M : K, ldb = transB ? K : N;
  auto epilogue = [&](float* c, size_t rows) {
    if (bias.data == nullptr && activation == 0) return;
    for (size_t r = 0; r < rows; ++r) {
      float* __restrict o = c + r * N;
      if (bias.data != nullptr)
        for (size_t j = 0; j < N; ++j) o[j] += bias.data[j];
      if (activation == 1) {
        for (size_t j = 0; j < N; ++j) o[j] = o[j] < 0.0f ? 0.0f : o[j];
      } else if (activation == 2) {
        for (size_t j = 0; j < N; ++j) o[j] = o[j] < 0.0f ? 0.0f : (o[j] > 6.0f ? 6.0f : o[j]);
      }
    }
  };
  // One product (a dense layer and its gradients) on oneDNN's matmul when it takes it: twice
  // OpenBLAS's throughput here from 128 x 4096 x 128 up; below about a million multiply-adds its
  // per-call cost (about 20 us) outweighs that.
  size_t flops = 0;
  if (!CheckedProduct({M, N, K}, &flops)) flops = SIZE_MAX;
  if (batch == 1 && threads > 1 && flops >= (size_t{1} << 20) &&
      OnednnMatMul(transA, transB, M, N, K, a.data, b.data, bias.data, activation, out.data)) {
    return env.Undefined();
  }
  auto one = [&](size_t i, unsigned gemmThreads) {
    const float* ai = a.data + (aBatches == 1 ? 0 : i * mk);
    const float* bi = b.data + (bBatches == 1 ? 0 : i * kn);
    float* ci = out.data + i * mn;
    SgemmParallel(transA, transB, M, N, K, ai, lda, bi, ldb, false, ci, N, gemmThreads);
    epilogue(ci, M);
  };
  if (batch >= threads && batch > 1) {
    size_t work;
    if (!CheckedProduct({outSize, std::max<size_t>(K, 1)}, &work)) work = SIZE_MAX;
    ParallelFor(batch, ThreadsFor(work, threads, 1 << 16), [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) one(i, 1);
    });
  } else {
    for (size_t i = 0; i < batch; ++i) one(i, threads);
  }
  return env.Undefined();
}

}  // namespace tta
