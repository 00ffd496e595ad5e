#include "tfjs_kernels.h"

#include "batch_norm.h"
#include "conv2d.h"
#include "elementwise.h"
#include "gemm.h"
#include "matmul.h"
#include "pool.h"
#include "reduce.h"
#include "softmax.h"

namespace tta {

Napi::Object TfjsKernels(Napi::Env env) {
  Napi::Object kernels = Napi::Object::New(env);
  auto add = [&](const char* name, Napi::Value (*fn)(const Napi::CallbackInfo&)) {
    kernels.Set(name, Napi::Function::New(env, fn, name));
  };
  add("sgemm", SgemmJs);
  add("backendInfo", TfjsBackendInfoJs);
  add("conv2d", Conv2dJs);
  add("conv2dBackpropInput", Conv2dBackpropInputJs);
  add("conv2dBackpropFilter", Conv2dBackpropFilterJs);
  add("pool2d", Pool2dJs);
  add("maxPoolGrad", MaxPoolGradJs);
  add("avgPoolGrad", AvgPoolGradJs);
  add("matMul", MatMulJs);
  add("batchNorm", BatchNormJs);
  add("binary", BinaryJs);
  add("unary", UnaryJs);
  add("tile", TileJs);
  add("reduce", ReduceJs);
  add("softmax", SoftmaxJs);
  return kernels;
}

}  // namespace tta
