// Shared by every feature: argument re-checks that protect memory, overflow-safe
// size arithmetic and the thread pool. Friendly validation lives in the TS layer
// (lib/validate.ts); what is checked here is only what a bad pointer would need.
#pragma once

#include <napi.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

// Hot loops built twice on x86-64, for AVX2 and for the baseline, chosen at load time: the
// addon stays portable while machines with AVX2 run eight floats per instruction.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && defined(__linux__)
#define TTA_X86_CLONES __attribute__((target_clones("avx2", "default")))
#define TTA_X86_DISPATCH 1
#else
#define TTA_X86_CLONES
#define TTA_X86_DISPATCH 0
#endif

namespace tta {

// Product of the factors, or false when it does not fit in size_t.
bool CheckedProduct(std::initializer_list<size_t> factors, size_t* out);

// A typed array's elements, read in place (byteOffset applied).
template <typename T>
struct Span {
  T* data = nullptr;
  size_t length = 0;
};

// Throws a TypeError unless `value` is a typed array of `type`.
template <typename T>
Span<T> TypedArrayArg(const Napi::Value& value, napi_typedarray_type type, const char* name);

// Throws a RangeError "native: <kernel> <name> has N elements, expected M" unless a typed
// array's length is what the kernel's geometry needs: checked before any pointer is used.
void ExpectLength(Napi::Env env, const char* kernel, const char* name, size_t actual, size_t expected);

// Throws a RangeError unless `value` is an integer number in [lo, hi].
int64_t IntegerArg(const Napi::Value& value, int64_t lo, int64_t hi, const char* name);

// The most threads any entry point accepts (the TypeScript layer's MAX_THREADS).
constexpr int64_t kMaxThreads = 1024;

// A thread count argument: an integer in [1, kMaxThreads].
unsigned ThreadsArg(const Napi::Value& value);
double NumberArg(const Napi::Value& value, const char* name);

// True when the byte ranges of two spans intersect.
bool Overlaps(const void* a, size_t aBytes, const void* b, size_t bBytes);

// True when `out` intersects any of `others` (absent spans and `out` itself skipped).
bool OverlapsAny(const Span<float>& out, std::initializer_list<const Span<float>*> others);

unsigned HardwareThreads();

// Runs fn(begin, end) over [0, count), split into at most `threads` contiguous
// ranges on a persistent pool. The calling thread takes part. When the pool is
// busy with another caller's job, the range runs on the calling thread alone, so
// nested or concurrent calls (async workers) never deadlock. An exception thrown by
// fn on any thread is caught there; once every range has finished or been skipped,
// the first one is rethrown on the calling thread.
void ParallelFor(size_t count, unsigned threads, const std::function<void(size_t, size_t)>& fn);

// Whether the CPU has AVX2 and FMA (false off x86-64): the convolutions' own loops pick
// their build with that (target_clones cannot ask for two features in one clone).
bool CpuHasAvx2Fma();

// Compiles a loop-heavy function for AVX-512 and AVX2 as well as the baseline, the copy picked
// once at load time (GCC's and Clang's target_clones; nothing elsewhere). For bandwidth- and
// SIMD-bound kernels that must give the same bits on every CPU: without -ffp-contract (off for
// these sources), wider vectors change nothing but the speed.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TTA_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TTA_SIMD_CLONES
#endif

// How many threads are worth using for `work` units of cheap work.
unsigned ThreadsFor(size_t work, unsigned requested, size_t minWorkPerThread = 1 << 15);

// Per-channel sums over the rows of a [rows, channels] array, taken by `accumulate(r0, r1,
// acc0, acc1)` into two float accumulators over blocks of at most 64 rows, then added in
// double. Each slot sums its own rows, so the result does not depend on how the rows were
// split; float blocks keep the inner loops vectorisable, and are short enough for float to
// lose nothing that matters before the double sum.
template <typename Accumulate>
std::vector<double> ChannelSums(size_t rows, size_t channels, unsigned threads, Accumulate accumulate) {
  const unsigned slots = std::max(1u, std::min<unsigned>(ThreadsFor(rows * channels, threads),
                                                         static_cast<unsigned>(std::min<size_t>(rows, kMaxThreads))));
  // Allocated here, before the parallel region, so no worker allocates.
  std::vector<std::vector<double>> partial(slots, std::vector<double>(2 * channels, 0.0));
  std::vector<std::vector<float>> blocks(slots, std::vector<float>(2 * channels));
  ParallelFor(slots, slots, [&](size_t s0, size_t s1) {
    for (size_t s = s0; s < s1; ++s) {
      std::vector<double>& acc = partial[s];
      float* block0 = blocks[s].data();
      float* block1 = block0 + channels;
      const size_t first = rows * s / slots, last = rows * (s + 1) / slots;
      for (size_t r0 = first; r0 < last; r0 += 64) {
        const size_t r1 = std::min(last, r0 + 64);
        std::fill(block0, block0 + 2 * channels, 0.0f);
        accumulate(r0, r1, block0, block1);
        for (size_t c = 0; c < channels; ++c) {
          acc[c] += block0[c];
          acc[channels + c] += block1[c];
        }
      }
    }
  });
  std::vector<double> total(2 * channels, 0.0);
  for (const auto& p : partial) {
    for (size_t i = 0; i < 2 * channels; ++i) total[i] += p[i];
  }
  return total;
}

// An async entry point's worker: runs Run() on the libuv pool, settles a promise, keeps
// the JS objects it was given (typed arrays and so their buffers) alive until then, and
// turns any exception thrown by Run() into a rejection instead of a crash.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, const char* name, std::initializer_list<Napi::Value> keepAlive);
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  virtual void Run() = 0;
  // The value the promise resolves with; undefined by default.
  virtual Napi::Value Result(Napi::Env env) { return env.Undefined(); }

 private:
  void Execute() final;
  void OnOK() final { deferred_.Resolve(Result(Env())); }
  void OnError(const Napi::Error& error) final { deferred_.Reject(error.Value()); }

  Napi::Promise::Deferred deferred_;
  std::vector<Napi::Reference<Napi::Value>> keepAlive_;
};

}  // namespace tta
