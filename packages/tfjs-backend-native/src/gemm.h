// Single-precision GEMM for the TensorFlow.js backend: OpenBLAS when the build found
// it (TTA_HAVE_OPENBLAS), a portable blocked loop otherwise. Row-major throughout.
#pragma once

#include <napi.h>

#include <cstddef>

namespace tta {

// C[M x N] = op(A) op(B) + (accumulate ? C : 0), op = transpose when the flag is set.
// Runs on the calling thread only; callers parallelise over independent blocks so
// that BLAS threads never compete with the shared pool.
void SgemmSerial(bool transA, bool transB, size_t M, size_t N, size_t K, const float* A, size_t lda, const float* B,
                 size_t ldb, bool accumulate, float* C, size_t ldc);

// The same, split over the rows (or columns when there are few rows) of C on the pool.
void SgemmParallel(bool transA, bool transB, size_t M, size_t N, size_t K, const float* A, size_t lda, const float* B,
                   size_t ldb, bool accumulate, float* C, size_t ldc, unsigned threads);

// Which GEMM is compiled in: "openblas" or "portable".
const char* GemmImplementation();

// JS: sgemm(transA, transB, M, N, K, a, b, c, threads): c = op(a) op(b), dense row-major.
Napi::Value SgemmJs(const Napi::CallbackInfo& info);
// JS: backendInfo(): { gemm, threads, blasConfig }
Napi::Value TfjsBackendInfoJs(const Napi::CallbackInfo& info);

}  // namespace tta
