// Registration only: each feature lives in its own .cc/.h pair.
#include <napi.h>

#include "augment.h"
#include "common.h"
#include "soft_vote.h"
#include "testing.h"

namespace {

Napi::Value HardwareThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), tta::HardwareThreads());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("augment", Napi::Function::New(env, tta::Augment, "augment"));
  exports.Set("augmentAsync", Napi::Function::New(env, tta::AugmentAsync, "augmentAsync"));
  exports.Set("softVote", Napi::Function::New(env, tta::SoftVote, "softVote"));
  exports.Set("softVoteAsync", Napi::Function::New(env, tta::SoftVoteAsync, "softVoteAsync"));
  exports.Set("hardwareThreads", Napi::Function::New(env, HardwareThreads, "hardwareThreads"));
  exports.Set("testing", tta::TestingExports(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(tta_native, Init)
