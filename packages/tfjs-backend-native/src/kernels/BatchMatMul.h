// Batched matrix product for the TensorFlow.js backend (BatchMatMul, _FusedMatMul
// with a per-column bias and relu/relu6), on the shared GEMM.
#pragma once

#include <napi.h>

namespace tta {

// dims = Int32Array [batch, aBatches, bBatches, M, N, K, transA, transB]; aBatches and
// bBatches are 1 (broadcast) or batch.
// JS: matMul(a, b, bias | null, activation (0 linear, 1 relu, 2 relu6), dims, out, threads)
Napi::Value MatMulJs(const Napi::CallbackInfo& info);

}  // namespace tta
