// 3x3 convolutions with stride 1 as Winograd's minimal filtering F(4x4, 3x3) (Lavin and Gray,
// "Fast Algorithms for Convolutional Neural Networks", 2016): each 4x4 output tile comes from a
// 6x6 input tile with 36 multiplies per input/output channel pair instead of 144, 4x fewer
// multiply-adds than the direct convolution, which on the reference CNN's second layer already
// runs at this machine's FMA peak. The input is transformed, multiplied by the transformed filter
// as 36 matrix products (tiles x input channels times input x output channels), and transformed
// back; the transforms add and scale neighbouring pixels (by up to 8), so results differ from the
// direct convolution's by rounding, about 1e-5 relative (within the kernel tests' 1e-4). The
// forward convolutions (training's and the convolution block's) and input gradients use it.
// F(2x2, 3x3), more accurate, was measured and left out: the reference CNN's second block took
// 0.68x the direct convolution's time with it, 0.54x with F(4x4, 3x3) (batch 128, 2 threads).
#pragma once

#include <napi.h>

#include <cstddef>

#include "Conv2D.h"

namespace tta {

// Whether F(4x4, 3x3) takes this geometry on this CPU: a 3x3 filter with stride 1, at least 8
// input channels, output channels a multiple of the vector width (16 with AVX-512, 8 with AVX2
// and FMA), at least 128 output tiles of 4x4 in all (else the filter transform costs more than
// it saves), never on other CPUs.
bool WinogradApplies(const ConvGeometry& g);
// The instruction set the transforms and products run on here: "avx512f", "avx2" or "" (none).
const char* WinogradIsa();

// JS: setWinogradIsa('avx512f' | 'avx2' | ''): runs the transforms and products on that
// instruction set, or the widest below it the CPU has ('' turns Winograd off); returns the one
// now used. For tests of the narrower builds on wider CPUs.
Napi::Value SetWinogradIsaJs(const Napi::CallbackInfo& info);

// JS: setWinograd(enabled): whether 3x3 stride-1 convolutions (forward, input gradient and
// fused blocks) may run as Winograd's; returns the setting. On unless TTA_NATIVE_WINOGRAD=0.
Napi::Value SetWinogradJs(const Napi::CallbackInfo& info);
bool WinogradEnabled();
// Convolutions (forward, input gradient or block) run as Winograd's since the addon loaded.
size_t WinogradConvolutions();

// y = act(conv(x, filter) + bias) as Winograd's on up to `threads` threads of the pool (0: the
// calling thread) when enabled and WinogradApplies; false (nothing written) otherwise.
bool WinogradForward(const ConvGeometry& g, const float* x, const float* filter, const float* bias, int activation,
                     float* y, unsigned threads);
// The input gradient dx of a 3x3 stride-1 convolution from dy, as the Winograd forward
// convolution of dy with the filter turned and transposed, when enabled and that convolution
// applies; false (nothing written) otherwise.
bool WinogradBackwardData(const ConvGeometry& g, const float* dy, const float* filter, float* dx, unsigned threads);

// The filter [3][3][c][outC] transformed (G g G^T) for WinogradConv, on up to `threads` threads of
// the pool: a buffer of the calling thread's, valid until its next Winograd convolution. Counted
// as one Winograd convolution.
const float* WinogradTransformedFilter(const ConvGeometry& g, const float* filter, unsigned threads);

// y = act(conv(x, filter) + bias) for g.n images on the calling thread, `u` from WinogradTransformedFilter,
// for a geometry WinogradApplies took.
void WinogradConv(const ConvGeometry& g, const float* x, const float* u, const float* bias, int activation, float* y);

}  // namespace tta
