// Registration only: each kernel lives in its own file under kernels/ (named after the
// TensorFlow.js kernel it backs, as in tfjs-backend-wasm).
#include <napi.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "common.h"
#include "gemm.h"
#include "kernels/AdamUpdate.h"
#include "kernels/BatchMatMul.h"
#include "kernels/Conv2D.h"
#include "kernels/ConvBlock.h"
#include "kernels/Elementwise.h"
#include "kernels/FusedBatchNorm.h"
#include "kernels/Pool2D.h"
#include "kernels/Reduce.h"
#include "kernels/ReluBiasGrad.h"
#include "kernels/Softmax.h"
#include "kernels/Winograd.h"
#include "onednn.h"

namespace {

using namespace tta;

// Tensors of a few MB are allocated and freed by the hundred per training step. With
// glibc's defaults each one is a fresh mmap whose page faults cost more than the kernel
// that fills it (7-15 ms per 16 MB here); keeping freed heap memory mapped makes them
// reusable. Returns whether the allocator was tuned.
Napi::Value RetainFreedMemoryJs(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__)
  const bool tuned = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
  return Napi::Boolean::New(info.Env(), tuned);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

Napi::Value HardwareThreadsJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), HardwareThreads());
}

// JS: setOnednn(enabled) -> whether oneDNN now runs the convolutions (false when not built with it).
Napi::Value SetOnednnJs(const Napi::CallbackInfo& info) {
  if (info.Length() != 1 || !info[0].IsBoolean()) {
    throw Napi::TypeError::New(info.Env(), "native: setOnednn expects one boolean");
  }
  return Napi::Boolean::New(info.Env(), SetOnednnEnabled(info[0].As<Napi::Boolean>().Value()));
}

Napi::Object Init(Napi::Env env, Napi::Object kernels) {
  auto add = [&](const char* name, Napi::Value (*fn)(const Napi::CallbackInfo&)) {
    kernels.Set(name, Napi::Function::New(env, fn, name));
  };
  add("hardwareThreads", HardwareThreadsJs);
  add("sgemm", SgemmJs);
  add("retainFreedMemory", RetainFreedMemoryJs);
  add("backendInfo", TfjsBackendInfoJs);
  add("setOnednn", SetOnednnJs);
  add("conv2d", Conv2dJs);
  add("conv2dBackpropInput", Conv2dBackpropInputJs);
  add("conv2dBackpropFilter", Conv2dBackpropFilterJs);
  add("convBlock", ConvBlockJs);
  add("setWinograd", SetWinogradJs);
  add("setWinogradIsa", SetWinogradIsaJs);
  add("pool2d", Pool2dJs);
  add("maxPoolGrad", MaxPoolGradJs);
  add("avgPoolGrad", AvgPoolGradJs);
  add("matMul", MatMulJs);
  add("adamUpdate", AdamUpdateJs);
  add("batchNorm", BatchNormJs);
  add("batchNormGrad", BatchNormGradJs);
  add("batchNormTraining", BatchNormTrainingJs);
  add("batchNormTrainingGrad", BatchNormTrainingGradJs);
  add("reluBiasGrad", ReluBiasGradJs);
  add("binary", BinaryJs);
  add("unary", UnaryJs);
  add("tile", TileJs);
  add("reduce", ReduceJs);
  add("softmax", SoftmaxJs);
  return kernels;
}

}  // namespace

NODE_API_MODULE(tta_tfjs_backend_native, Init)
