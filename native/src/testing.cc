#include "testing.h"

#include <new>
#include <stdexcept>
#include <string>

#include "common.h"

namespace tta {

namespace {

// Runs ParallelFor over `count` items on `threads` threads; the range holding item
// `throwAt` throws (kind 0: std::runtime_error, 1: std::bad_alloc, 2: a non-std value)
// from whichever thread runs it, a pool worker or the caller.
struct ThrowJob {
  size_t count;
  unsigned threads;
  size_t throwAt;
  int kind;
};

void RunThrowJob(const ThrowJob& job) {
  ParallelFor(job.count, job.threads, [&](size_t begin, size_t end) {
    if (job.throwAt < begin || job.throwAt >= end) return;
    switch (job.kind) {
      case 0:
        throw std::runtime_error("range " + std::to_string(begin) + "-" + std::to_string(end) + " failed");
      case 1:
        throw std::bad_alloc();
      default:
        throw 42;
    }
  });
}

ThrowJob ParseThrowJob(const Napi::CallbackInfo& info) {
  if (info.Length() != 4) throw Napi::TypeError::New(info.Env(), "native: parallelForThrows expects 4 arguments");
  return ThrowJob{static_cast<size_t>(IntegerArg(info[0], 1, 1 << 20, "count")), ThreadsArg(info[1]),
                  static_cast<size_t>(IntegerArg(info[2], 0, 1 << 20, "throwAt")),
                  static_cast<int>(IntegerArg(info[3], 0, 2, "kind"))};
}

Napi::Value ParallelForThrows(const Napi::CallbackInfo& info) {
  RunThrowJob(ParseThrowJob(info));
  return info.Env().Undefined();
}

class ThrowWorker : public PromiseWorker {
 public:
  ThrowWorker(Napi::Env env, ThrowJob job) : PromiseWorker(env, "tta:test", {}), job_(job) {}

 protected:
  void Run() override { RunThrowJob(job_); }

 private:
  ThrowJob job_;
};

Napi::Value ParallelForThrowsAsync(const Napi::CallbackInfo& info) {
  auto* worker = new ThrowWorker(info.Env(), ParseThrowJob(info));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

Napi::Object TestingExports(Napi::Env env) {
  Napi::Object testing = Napi::Object::New(env);
  testing.Set("parallelForThrows", Napi::Function::New(env, ParallelForThrows, "parallelForThrows"));
  testing.Set("parallelForThrowsAsync", Napi::Function::New(env, ParallelForThrowsAsync, "parallelForThrowsAsync"));
  return testing;
}

}  // namespace tta
