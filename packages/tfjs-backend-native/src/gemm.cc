#include "gemm.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <mutex>
#include <vector>

#include "common.h"
#include "kernels/Winograd.h"
#include "onednn.h"

#ifdef TTA_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace tta {

namespace {

#ifdef TTA_HAVE_OPENBLAS
// Our pool does the parallel split, so OpenBLAS must not start its own threads on
// top of it (2 pool threads x N BLAS threads would oversubscribe the cores).
void EnsureSerialBlas() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}
#endif

// Portable kernel for C += A * B with A, B not transposed; inner loop vectorises.
void PortableGemmNN(size_t M, size_t N, size_t K, const float* A, size_t lda, const float* B, size_t ldb, float* C,
                    size_t ldc) {
  constexpr size_t kBlockK = 128;
  constexpr size_t kBlockN = 512;
  for (size_t j0 = 0; j0 < N; j0 += kBlockN) {
    const size_t j1 = std::min(N, j0 + kBlockN);
    for (size_t k0 = 0; k0 < K; k0 += kBlockK) {
      const size_t k1 = std::min(K, k0 + kBlockK);
      for (size_t i = 0; i < M; ++i) {
        float* __restrict c = C + i * ldc;
        for (size_t k = k0; k < k1; ++k) {
          const float a = A[i * lda + k];
          const float* __restrict b = B + k * ldb;
          for (size_t j = j0; j < j1; ++j) c[j] += a * b[j];
        }
      }
    }
  }
}

void PortableGemm(bool transA, bool transB, size_t M, size_t N, size_t K, const float* A, size_t lda, const float* B,
                  size_t ldb, bool accumulate, float* C, size_t ldc) {
  if (!accumulate) {
    for (size_t i = 0; i < M; ++i) std::memset(C + i * ldc, 0, N * sizeof(float));
  }
  if (K == 0) return;
  std::vector<float> packedA, packedB;
  if (transA) {  // stored K x M -> M x K
    packedA.resize(M * K);
    for (size_t k = 0; k < K; ++k)
      for (size_t i = 0; i < M; ++i) packedA[i * K + k] = A[k * lda + i];
    A = packedA.data();
    lda = K;
  }
  if (transB) {  // stored N x K -> K x N
    packedB.resize(K * N);
    for (size_t j = 0; j < N; ++j)
      for (size_t k = 0; k < K; ++k) packedB[k * N + j] = B[j * ldb + k];
    B = packedB.data();
    ldb = N;
  }
  PortableGemmNN(M, N, K, A, lda, B, ldb, C, ldc);
}

}  // namespace

const char* GemmImplementation() {
#ifdef TTA_HAVE_OPENBLAS
  return "openblas";
#else
  return "portable";
#endif
}

void SgemmSerial(bool transA, bool transB, size_t M, size_t N, size_t K, const float* A, size_t lda, const float* B,
                 size_t ldb, bool accumulate, float* C, size_t ldc) {
  if (M == 0 || N == 0) return;
#ifdef TTA_HAVE_OPENBLAS
  const size_t limit = static_cast<size_t>(INT_MAX);
  if (M <= limit && N <= limit && K <= limit && lda <= limit && ldb <= limit && ldc <= limit && K > 0) {
    EnsureSerialBlas();
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), 1.0f, A, static_cast<int>(lda), B,
                static_cast<int>(ldb), accumulate ? 1.0f : 0.0f, C, static_cast<int>(ldc));
    return;
  }
#endif
  PortableGemm(transA, transB, M, N, K, A, lda, B, ldb, accumulate, C, ldc);
}

void SgemmParallel(bool transA, bool transB, size_t M, size_t N, size_t K, const float* A, size_t lda, const float* B,
                   size_t ldb, bool accumulate, float* C, size_t ldc, unsigned threads) {
  size_t flops = 0;
  if (!CheckedProduct({M, N, std::max<size_t>(K, 1)}, &flops)) flops = SIZE_MAX;
  threads = ThreadsFor(flops, threads, size_t{1} << 18);
  if (threads <= 1) {
    SgemmSerial(transA, transB, M, N, K, A, lda, B, ldb, accumulate, C, ldc);
    return;
  }
  if (M >= N || M >= 64 * threads) {
    ParallelFor(M, threads, [&](size_t begin, size_t end) {
      const float* a = transA ? A + begin : A + begin * lda;
      SgemmSerial(transA, transB, end - begin, N, K, a, lda, B, ldb, accumulate, C + begin * ldc, ldc);
    });
  } else {
    ParallelFor(N, threads, [&](size_t begin, size_t end) {
      const float* b = transB ? B + begin * ldb : B + begin;
      SgemmSerial(transA, transB, M, end - begin, K, A, lda, b, ldb, accumulate, C + begin, ldc);
    });
  }
}

Napi::Value SgemmJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 9) throw Napi::TypeError::New(env, "native: sgemm expects 9 arguments");
  const bool transA = info[0].ToBoolean();
  const bool transB = info[1].ToBoolean();
  const size_t M = static_cast<size_t>(IntegerArg(info[2], 0, INT_MAX, "M"));
  const size_t N = static_cast<size_t>(IntegerArg(info[3], 0, INT_MAX, "N"));
  const size_t K = static_cast<size_t>(IntegerArg(info[4], 0, INT_MAX, "K"));
  auto a = TypedArrayArg<float>(info[5], napi_float32_array, "a");
  auto b = TypedArrayArg<float>(info[6], napi_float32_array, "b");
  auto c = TypedArrayArg<float>(info[7], napi_float32_array, "c");
  const unsigned threads = ThreadsArg(info[8]);
  size_t mk, kn, mn;
  if (!CheckedProduct({M, K}, &mk) || !CheckedProduct({K, N}, &kn) || !CheckedProduct({M, N}, &mn) || a.length != mk ||
      b.length != kn || c.length != mn) {
    throw Napi::RangeError::New(env, "native: sgemm operand lengths do not match M, N, K");
  }
  if (Overlaps(c.data, mn * 4, a.data, mk * 4) || Overlaps(c.data, mn * 4, b.data, kn * 4)) {
    throw Napi::RangeError::New(env, "native: sgemm output overlaps an input");
  }
  SgemmParallel(transA, transB, M, N, K, a.data, transA ? M : K, b.data, transB ? K : N, false, c.data, N, threads);
  return env.Undefined();
}

Napi::Value TfjsBackendInfoJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  result.Set("gemm", GemmImplementation());
  result.Set("threads", HardwareThreads());
  result.Set("onednn", OnednnVersion());
  result.Set("onednnEnabled", OnednnEnabled());
  result.Set("onednnConvolutions", static_cast<double>(OnednnConvolutions()));
  result.Set("onednnMatMuls", static_cast<double>(OnednnMatMuls()));
  result.Set("winograd", WinogradIsa());
  result.Set("winogradEnabled", WinogradEnabled());
  result.Set("winogradConvolutions", static_cast<double>(WinogradConvolutions()));
#ifdef TTA_HAVE_OPENBLAS
  EnsureSerialBlas();
  result.Set("blasThreads", openblas_get_num_threads());
  result.Set("blasConfig", std::string(openblas_get_config()));
#else
  result.Set("blasThreads", 0);
  result.Set("blasConfig", "");
#endif
  return result;
}

}  // namespace tta
