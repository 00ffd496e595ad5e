// NHWC 2-D convolution (forward with fused bias and activation, and both gradients) on oneDNN,
// when the addon is built with it (TTA_HAVE_DNNL). oneDNN picks direct, im2col or Winograd
// implementations and JIT-compiles them for the CPU it runs on; primitives are created once per
// geometry and cached, since creating one compiles code. Callers keep their own kernels as the
// fallback: every function returns false when oneDNN is absent or declines the geometry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tta {

// Geometry of one convolution (dilation 1); filters are HWIO as TensorFlow.js stores them.
struct OnednnConvShape {
  size_t n, h, w, c, fh, fw, outC, sh, sw;
  ptrdiff_t padTop, padLeft;
  size_t outH, outW;
};

// Whether the addon was built with oneDNN, and its version ("" when not).
bool OnednnAvailable();
std::string OnednnVersion();
// Whether the convolutions below run (on by default when built with oneDNN, unless the
// environment says TTA_NATIVE_ONEDNN=0); off makes them return false, so callers use their
// own kernels. Returns the state now in force.
bool SetOnednnEnabled(bool enabled);
bool OnednnEnabled();
// Convolutions and matrix products oneDNN has run since the addon loaded (for tests and benchmarks).
size_t OnednnConvolutions();
size_t OnednnMatMuls();

// y = act(conv(x, filter) + bias); activation 0 linear, 1 relu, 2 relu6; bias may be null.
bool OnednnConvForward(const OnednnConvShape& g, const float* x, const float* filter, const float* bias, int activation,
                       float* y);
// The same on the calling thread alone (oneDNN's OpenMP team of 1, primitives cached per
// thread), for kernels that run several convolutions of a few images in parallel themselves.
// Calls with the same non-zero packToken (one per caller's call: the filter does not change in
// between) reuse the filter packed for oneDNN by the thread's previous call.
bool OnednnConvForwardSerial(const OnednnConvShape& g, const float* x, const float* filter, const float* bias,
                             int activation, float* y, uint64_t packToken);
// Row-major c[m x n] = act(op(a) op(b) + bias) on oneDNN's matmul primitive (its AVX-512 kernels;
// Debian's OpenBLAS stops at AVX2), on oneDNN's own threads: call it from one thread at a time.
// bias (n values) may be null; activation as for the convolutions.
bool OnednnMatMul(bool transA, bool transB, size_t m, size_t n, size_t k, const float* a, const float* b,
                  const float* bias, int activation, float* c);
// dx = the gradient of the input from dy and the filter.
bool OnednnConvBackwardData(const OnednnConvShape& g, const float* dy, const float* filter, float* dx);
// dw = the gradient of the filter (HWIO) from x and dy.
bool OnednnConvBackwardWeights(const OnednnConvShape& g, const float* x, const float* dy, float* dw);

}  // namespace tta
