#include "common.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace tta {

bool CheckedProduct(std::initializer_list<size_t> factors, size_t* out) {
  size_t product = 1;
  for (size_t f : factors) {
    if (__builtin_mul_overflow(product, f, &product)) return false;
  }
  *out = product;
  return true;
}

template <typename T>
Span<T> TypedArrayArg(const Napi::Value& value, napi_typedarray_type type, const char* name) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw Napi::TypeError::New(value.Env(), std::string("native: ") + name + " has the wrong typed array kind");
  }
  auto array = value.As<Napi::TypedArrayOf<T>>();
  return Span<T>{array.Data(), array.ElementLength()};
}

template Span<float> TypedArrayArg<float>(const Napi::Value&, napi_typedarray_type, const char*);
template Span<uint8_t> TypedArrayArg<uint8_t>(const Napi::Value&, napi_typedarray_type, const char*);
template Span<int32_t> TypedArrayArg<int32_t>(const Napi::Value&, napi_typedarray_type, const char*);
template Span<double> TypedArrayArg<double>(const Napi::Value&, napi_typedarray_type, const char*);

int64_t IntegerArg(const Napi::Value& value, int64_t lo, int64_t hi, const char* name) {
  if (!value.IsNumber()) {
    throw Napi::TypeError::New(value.Env(), std::string("native: ") + name + " must be a number");
  }
  double d = value.As<Napi::Number>().DoubleValue();
  if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) ||
      d != static_cast<double>(static_cast<int64_t>(d))) {
    throw Napi::RangeError::New(value.Env(), std::string("native: ") + name + " is out of range");
  }
  return static_cast<int64_t>(d);
}

unsigned ThreadsArg(const Napi::Value& value) {
  return static_cast<unsigned>(IntegerArg(value, 1, kMaxThreads, "threads"));
}

double NumberArg(const Napi::Value& value, const char* name) {
  if (!value.IsNumber()) {
    throw Napi::TypeError::New(value.Env(), std::string("native: ") + name + " must be a number");
  }
  return value.As<Napi::Number>().DoubleValue();
}

bool Overlaps(const void* a, size_t aBytes, const void* b, size_t bBytes) {
  if (aBytes == 0 || bBytes == 0) return false;
  auto pa = reinterpret_cast<uintptr_t>(a);
  auto pb = reinterpret_cast<uintptr_t>(b);
  return pa < pb + bBytes && pb < pa + aBytes;
}

bool OverlapsAny(const Span<float>& out, std::initializer_list<const Span<float>*> others) {
  for (const Span<float>* o : others) {
    if (o != &out && o->data != nullptr && Overlaps(out.data, out.length * 4, o->data, o->length * 4)) return true;
  }
  return false;
}

bool CpuHasAvx2Fma() {
#if TTA_X86_DISPATCH
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
#else
  return false;
#endif
}

unsigned HardwareThreads() {
  static const unsigned n = std::max(1u, std::thread::hardware_concurrency());
  return n;
}

unsigned ThreadsFor(size_t work, unsigned requested, size_t minWorkPerThread) {
  size_t useful = std::max<size_t>(1, work / std::max<size_t>(1, minWorkPerThread));
  return static_cast<unsigned>(std::min<size_t>(std::max(1u, requested), useful));
}

namespace {

class ThreadPool {
 public:
  static ThreadPool& Instance() {
    // Leaked on purpose: joining threads from a static destructor at process exit
    // races with Node's own teardown.
    static ThreadPool* pool = new ThreadPool();
    return *pool;
  }

  void Run(size_t count, unsigned threads, const std::function<void(size_t, size_t)>& fn) {
    std::unique_lock<std::mutex> runLock(runMutex_, std::try_to_lock);
    if (!runLock.owns_lock()) {
      fn(0, count);
      return;
    }
    EnsureWorkers(threads - 1);
    const uint64_t chunks = std::min<uint64_t>(threads, count);
    uint64_t generation;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      generation = ++generation_;
      job_ = &fn;
      count_ = count;
      chunks_ = chunks;
      pending_.store(chunks);
      failed_.store(false);
      // High half: generation, low half: next chunk. A worker that wakes late for
      // an old generation can never claim a chunk of the new one.
      next_.store(generation << 32);
    }
    wake_.notify_all();
    Work(generation);
    std::exception_ptr error;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [&] { return pending_.load() == 0; });
      job_ = nullptr;
      error = std::exchange(error_, nullptr);
    }
    // Every range has returned, so nothing still uses fn: safe to unwind the caller.
    if (error) std::rethrow_exception(error);
  }

 private:
  void EnsureWorkers(unsigned wanted) {
    std::lock_guard<std::mutex> lock(mutex_);
    while (workers_.size() < wanted) {
      workers_.emplace_back([this] { Loop(); });
      workers_.back().detach();
    }
  }

  void Loop() {
    uint64_t seen = 0;
    for (;;) {
      uint64_t generation;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_ != seen; });
        generation = seen = generation_;
      }
      Work(generation);
    }
  }

  void Work(uint64_t generation) {
    const std::function<void(size_t, size_t)>* fn;
    size_t count;
    uint64_t chunks;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (generation_ != generation || job_ == nullptr) return;
      fn = job_;
      count = count_;
      chunks = chunks_;
    }
    for (;;) {
      uint64_t value = next_.load();
      uint64_t chunk;
      do {
        if ((value >> 32) != (generation & 0xffffffffu)) return;
        chunk = value & 0xffffffffu;
        if (chunk >= chunks) return;
      } while (!next_.compare_exchange_weak(value, value + 1));
      size_t begin = static_cast<size_t>(count * chunk / chunks);
      size_t end = static_cast<size_t>(count * (chunk + 1) / chunks);
      // A throwing range must not take its thread (and so the process) down, nor leave
      // the caller waiting: record the first exception, skip the ranges not yet started.
      if (!failed_.load()) {
        try {
          (*fn)(begin, end);
        } catch (...) {
          std::lock_guard<std::mutex> lock(mutex_);
          if (!error_) error_ = std::current_exception();
          failed_.store(true);
        }
      }
      if (pending_.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_all();
      }
    }
  }

  std::mutex runMutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::vector<std::thread> workers_;
  uint64_t generation_ = 0;
  const std::function<void(size_t, size_t)>* job_ = nullptr;
  size_t count_ = 0;
  uint64_t chunks_ = 0;
  std::atomic<uint64_t> next_{0};
  std::atomic<uint64_t> pending_{0};
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
};

}  // namespace

void ExpectLength(Napi::Env env, const char* kernel, const char* name, size_t actual, size_t expected) {
  if (actual != expected) {
    throw Napi::RangeError::New(env, std::string("native: ") + kernel + " " + name + " has " + std::to_string(actual) +
                                         " elements, expected " + std::to_string(expected));
  }
}

void ParallelFor(size_t count, unsigned threads, const std::function<void(size_t, size_t)>& fn) {
  if (count == 0) return;
  if (threads <= 1 || count == 1) {
    fn(0, count);
    return;
  }
  ThreadPool::Instance().Run(count, threads, fn);
}

PromiseWorker::PromiseWorker(Napi::Env env, const char* name, std::initializer_list<Napi::Value> keepAlive)
    : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {
  for (const Napi::Value& value : keepAlive) keepAlive_.push_back(Napi::Persistent(value));
}

void PromiseWorker::Execute() {
  try {
    Run();
  } catch (const std::exception& error) {
    SetError(std::string("native: ") + error.what());
  } catch (...) {
    SetError("native: unknown exception");
  }
}

}  // namespace tta
