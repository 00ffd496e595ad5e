// Shared by every feature: argument re-checks that protect memory, overflow-safe
// size arithmetic and the thread pool. Friendly validation lives in the TS layer
// (lib/validate.ts); what is checked here is only what a bad pointer would need.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

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

// Throws a RangeError unless `value` is an integer number in [lo, hi].
int64_t IntegerArg(const Napi::Value& value, int64_t lo, int64_t hi, const char* name);
double NumberArg(const Napi::Value& value, const char* name);

// True when the byte ranges of two spans intersect.
bool Overlaps(const void* a, size_t aBytes, const void* b, size_t bBytes);

unsigned HardwareThreads();

// Runs fn(begin, end) over [0, count), split into at most `threads` contiguous
// ranges on a persistent pool. The calling thread takes part. When the pool is
// busy with another caller's job, the range runs on the calling thread alone, so
// nested or concurrent calls (async workers) never deadlock.
void ParallelFor(size_t count, unsigned threads, const std::function<void(size_t, size_t)>& fn);

// How many threads are worth using for `work` units of cheap work.
unsigned ThreadsFor(size_t work, unsigned requested, size_t minWorkPerThread = 1 << 15);

}  // namespace tta
