// Soft voting over the view axis. Accumulates in double per image so that the
// result does not depend on the number of threads, and matches the TS reference.
#include "soft_vote.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "common.h"

namespace tta {

namespace {

enum class Merge : int { kMean = 0, kSum = 1, kGmean = 2, kMax = 3, kVote = 4 };

struct SoftVoteJob {
  const float* predictions;
  size_t views, n, classes;
  Merge merge;
  std::vector<double> weights;
  float* scores;
  int32_t* labels;
  unsigned threads;
  int64_t invalidIndex = -1;
};

size_t ArgmaxFloat(const float* row, size_t classes) {
  size_t best = 0;
  for (size_t k = 1; k < classes; ++k) {
    if (row[k] > row[best]) best = k;
  }
  return best;
}

// The hot loops of mean/sum (float to double, multiply, add) and of the finiteness check
// are TTA_X86_CLONES: machines with AVX2 handle four doubles per instruction. No FMA
// (-ffp-contract=off), so both clones give the same bits as the TS reference.

TTA_X86_CLONES void AddWeighted(double* __restrict a, const float* __restrict p, size_t len, double w) {
  for (size_t x = 0; x < len; ++x) a[x] += w * static_cast<double>(p[x]);
}

// Whether a run holds a NaN or an infinity (and, when gmean asks, a value below 0). Integer
// tests on the bits, OR-reduced, so the compiler vectorises the pass (a floating-point
// reduction would be a serial chain without -ffast-math).
TTA_X86_CLONES bool AnyNonFinite(const float* p, size_t len) {
  uint32_t bad = 0;
  for (size_t x = 0; x < len; ++x) {
    uint32_t bits;
    std::memcpy(&bits, p + x, sizeof bits);
    bad |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  return bad != 0;
}

TTA_X86_CLONES bool AnyNegative(const float* p, size_t len) {
  uint32_t bad = 0;
  for (size_t x = 0; x < len; ++x) {
    uint32_t bits;
    std::memcpy(&bits, p + x, sizeof bits);
    bad |= static_cast<uint32_t>((bits >> 31) != 0 && (bits & 0x7fffffffu) != 0);
  }
  return bad != 0;
}

// Images are merged a block at a time: the rows of consecutive images in one view are
// contiguous, so each view adds one long run of block * classes values to the block's
// accumulators (vectorisable, no per-row loop overhead when there are few classes). Every
// accumulator still sees the views in order, so results equal a per-image loop exactly.
template <Merge kMerge>
void MergeImages(SoftVoteJob& job, double weightSum, size_t begin, size_t end, int64_t* firstInvalid) {
  const size_t V = job.views, N = job.n, K = job.classes;
  const size_t block = std::max<size_t>(1, 2048 / K);
  std::vector<double> acc(block * K), mean(kMerge == Merge::kVote ? block * K : 0);
  for (size_t i0 = begin; i0 < end; i0 += block) {
    const size_t rows = std::min(end - i0, block), len = rows * K;
    double* __restrict a = acc.data();
    double* __restrict m = mean.data();
    std::fill(a, a + len, kMerge == Merge::kMax ? -std::numeric_limits<double>::infinity() : 0.0);
    if (kMerge == Merge::kVote) std::fill(m, m + len, 0.0);
    for (size_t v = 0; v < V; ++v) {
      const float* __restrict p = job.predictions + (v * N + i0) * K;
      if (AnyNonFinite(p, len) || (kMerge == Merge::kGmean && AnyNegative(p, len))) {
        for (size_t x = 0; x < len; ++x) {
          if (!std::isfinite(p[x]) || (kMerge == Merge::kGmean && p[x] < 0)) {
            *firstInvalid = std::min<int64_t>(*firstInvalid, static_cast<int64_t>((v * N + i0) * K + x));
            break;
          }
        }
      }
      const double w = job.weights[v];
      if (w == 0) continue;
      if (kMerge == Merge::kMean || kMerge == Merge::kSum) {
        AddWeighted(a, p, len, w);
      } else if (kMerge == Merge::kGmean) {
        for (size_t x = 0; x < len; ++x) a[x] += w * std::log(static_cast<double>(p[x]));
      } else if (kMerge == Merge::kMax) {
        for (size_t x = 0; x < len; ++x) a[x] = std::max(a[x], static_cast<double>(p[x]));
      } else {
        for (size_t r = 0; r < rows; ++r) a[r * K + ArgmaxFloat(p + r * K, K)] += w;
        AddWeighted(m, p, len, w);
      }
    }
    for (size_t r = 0; r < rows; ++r) {
      float* s = job.scores + (i0 + r) * K;
      const double* ar = a + r * K;
      for (size_t k = 0; k < K; ++k) {
        double value = ar[k];
        if (kMerge == Merge::kMean || kMerge == Merge::kVote) value /= weightSum;
        if (kMerge == Merge::kGmean) value = std::exp(value / weightSum);
        s[k] = static_cast<float>(value);
      }
      const double* mr = kMerge == Merge::kVote ? m + r * K : nullptr;
      size_t best = 0;
      for (size_t k = 1; k < K; ++k) {
        if (s[k] > s[best] || (kMerge == Merge::kVote && s[k] == s[best] && mr[k] > mr[best])) best = k;
      }
      job.labels[i0 + r] = static_cast<int32_t>(best);
    }
  }
}

void Execute(SoftVoteJob& job) {
  if (job.n == 0) return;
  double weightSum = 0;
  for (double w : job.weights) weightSum += w;
  std::atomic<int64_t> firstInvalid{std::numeric_limits<int64_t>::max()};
  const unsigned threads = ThreadsFor(job.views * job.n * job.classes, job.threads, 1 << 16);
  ParallelFor(job.n, threads, [&](size_t begin, size_t end) {
    int64_t localInvalid = std::numeric_limits<int64_t>::max();
    switch (job.merge) {
      case Merge::kMean:
        MergeImages<Merge::kMean>(job, weightSum, begin, end, &localInvalid);
        break;
      case Merge::kSum:
        MergeImages<Merge::kSum>(job, weightSum, begin, end, &localInvalid);
        break;
      case Merge::kGmean:
        MergeImages<Merge::kGmean>(job, weightSum, begin, end, &localInvalid);
        break;
      case Merge::kMax:
        MergeImages<Merge::kMax>(job, weightSum, begin, end, &localInvalid);
        break;
      case Merge::kVote:
        MergeImages<Merge::kVote>(job, weightSum, begin, end, &localInvalid);
        break;
    }
    int64_t seen = firstInvalid.load();
    while (localInvalid < seen && !firstInvalid.compare_exchange_weak(seen, localInvalid)) {
    }
  });
  int64_t invalid = firstInvalid.load();
  job.invalidIndex = invalid == std::numeric_limits<int64_t>::max() ? -1 : invalid;
}

SoftVoteJob ParseArgs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 9) throw Napi::TypeError::New(env, "native: softVote expects 9 arguments");
  SoftVoteJob job;
  const int64_t maxDim = int64_t{1} << 40;
  job.views = static_cast<size_t>(IntegerArg(info[1], 1, maxDim, "views"));
  job.n = static_cast<size_t>(IntegerArg(info[2], 0, maxDim, "n"));
  job.classes = static_cast<size_t>(IntegerArg(info[3], 1, maxDim, "classes"));
  size_t predictionElems, scoreElems;
  if (!CheckedProduct({job.views, job.n, job.classes}, &predictionElems) ||
      !CheckedProduct({job.n, job.classes}, &scoreElems)) {
    throw Napi::RangeError::New(env, "native: shape overflows");
  }
  auto predictions = TypedArrayArg<float>(info[0], napi_float32_array, "predictions");
  if (predictions.length != predictionElems)
    throw Napi::RangeError::New(env, "native: predictions length does not match shape");
  job.predictions = predictions.data;
  job.merge = static_cast<Merge>(IntegerArg(info[4], 0, 4, "merge"));
  auto weights = TypedArrayArg<double>(info[5], napi_float64_array, "weights");
  if (weights.length != job.views) throw Napi::RangeError::New(env, "native: weights length does not match views");
  job.weights.assign(weights.data, weights.data + weights.length);
  double weightSum = 0;
  for (double w : job.weights) {
    if (!(w >= 0) || !std::isfinite(w))
      throw Napi::RangeError::New(env, "native: weights must be finite and non-negative");
    weightSum += w;
  }
  if (!(weightSum > 0)) throw Napi::RangeError::New(env, "native: weights must not all be zero");
  auto scores = TypedArrayArg<float>(info[6], napi_float32_array, "scores");
  if (scores.length != scoreElems) throw Napi::RangeError::New(env, "native: scores length does not match n * classes");
  auto labels = TypedArrayArg<int32_t>(info[7], napi_int32_array, "labels");
  if (labels.length != job.n) throw Napi::RangeError::New(env, "native: labels length does not match n");
  const size_t predictionBytes = predictions.length * sizeof(float);
  if (Overlaps(scores.data, scores.length * sizeof(float), predictions.data, predictionBytes) ||
      Overlaps(labels.data, labels.length * sizeof(int32_t), predictions.data, predictionBytes) ||
      Overlaps(labels.data, labels.length * sizeof(int32_t), scores.data, scores.length * sizeof(float))) {
    throw Napi::RangeError::New(env, "native: outputs overlap each other or the predictions");
  }
  job.scores = scores.data;
  job.labels = labels.data;
  job.threads = ThreadsArg(info[8]);
  return job;
}

class SoftVoteWorker : public PromiseWorker {
 public:
  SoftVoteWorker(Napi::Env env, SoftVoteJob job, const Napi::CallbackInfo& info)
      : PromiseWorker(env, "tta:softVote", {info[0], info[6], info[7]}), job_(std::move(job)) {}

 protected:
  void Run() override { tta::Execute(job_); }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, static_cast<double>(job_.invalidIndex)); }

 private:
  SoftVoteJob job_;
};

}  // namespace

Napi::Value SoftVote(const Napi::CallbackInfo& info) {
  SoftVoteJob job = ParseArgs(info);
  Execute(job);
  return Napi::Number::New(info.Env(), static_cast<double>(job.invalidIndex));
}

Napi::Value SoftVoteAsync(const Napi::CallbackInfo& info) {
  SoftVoteJob job = ParseArgs(info);
  auto* worker = new SoftVoteWorker(info.Env(), std::move(job), info);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace tta
