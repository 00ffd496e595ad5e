// GCC's vector extension for the convolutions' hand-blocked loops (Conv2D.cc's direct kernel,
// Winograd.cc): sums held in these types stay in registers (arrays of floats were spilled to the
// stack on every step), and each function that uses them builds for whatever instruction set it
// targets.
#pragma once

#include <cstring>

namespace tta {

typedef float Float8 __attribute__((vector_size(32)));
typedef float Float16 __attribute__((vector_size(64)));

// One vector (or float) from p, which needs no particular alignment.
template <typename T>
inline __attribute__((always_inline)) T Load(const float* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <typename T>
inline __attribute__((always_inline)) void Store(float* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

// A convolution's activation on each lane: 0 linear, 1 relu, 2 relu6 (NaN passes through).
template <typename T>
inline __attribute__((always_inline)) T Activate(T v, int activation) {
  if (activation >= 1) v = v < 0.0f ? T{} : v;
  if (activation == 2) v = v > 6.0f ? T{} + 6.0f : v;
  return v;
}

}  // namespace tta
