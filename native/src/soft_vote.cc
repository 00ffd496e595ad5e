// Soft voting over the view axis. Accumulates in double per image so that the
// result does not depend on the number of threads, and matches the TS reference.
#include "soft_vote.h"

#include <algorithm>
#include <atomic>
#include <cmath>
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

void Execute(SoftVoteJob& job) {
  if (job.n == 0) return;
  const size_t V = job.views, N = job.n, K = job.classes;
  double weightSum = 0;
  for (double w : job.weights) weightSum += w;
  std::atomic<int64_t> firstInvalid{std::numeric_limits<int64_t>::max()};
  const unsigned threads = ThreadsFor(V * N * K, job.threads, 1 << 14);

  ParallelFor(N, threads, [&](size_t begin, size_t end) {
    std::vector<double> acc(K), mean(job.merge == Merge::kVote ? K : 0);
    int64_t localInvalid = std::numeric_limits<int64_t>::max();
    auto noteInvalid = [&](size_t v, size_t i, size_t k) {
      localInvalid = std::min<int64_t>(localInvalid, static_cast<int64_t>((v * N + i) * K + k));
    };
    for (size_t i = begin; i < end; ++i) {
      std::fill(acc.begin(), acc.end(), job.merge == Merge::kMax ? -std::numeric_limits<double>::infinity() : 0.0);
      if (job.merge == Merge::kVote) std::fill(mean.begin(), mean.end(), 0.0);
      for (size_t v = 0; v < V; ++v) {
        const float* p = job.predictions + (v * N + i) * K;
        const double w = job.weights[v];
        for (size_t k = 0; k < K; ++k) {
          if (!std::isfinite(p[k]) || (job.merge == Merge::kGmean && p[k] < 0)) noteInvalid(v, i, k);
        }
        if (w == 0) continue;
        switch (job.merge) {
          case Merge::kMean:
          case Merge::kSum:
            for (size_t k = 0; k < K; ++k) acc[k] += w * p[k];
            break;
          case Merge::kGmean:
            for (size_t k = 0; k < K; ++k) acc[k] += w * std::log(static_cast<double>(p[k]));
            break;
          case Merge::kMax:
            for (size_t k = 0; k < K; ++k) acc[k] = std::max(acc[k], static_cast<double>(p[k]));
            break;
          case Merge::kVote:
            acc[ArgmaxFloat(p, K)] += w;
            for (size_t k = 0; k < K; ++k) mean[k] += w * p[k];
            break;
        }
      }
      float* s = job.scores + i * K;
      for (size_t k = 0; k < K; ++k) {
        double value = acc[k];
        if (job.merge == Merge::kMean || job.merge == Merge::kVote) value /= weightSum;
        if (job.merge == Merge::kGmean) value = std::exp(value / weightSum);
        s[k] = static_cast<float>(value);
      }
      size_t best = 0;
      for (size_t k = 1; k < K; ++k) {
        if (s[k] > s[best] || (job.merge == Merge::kVote && s[k] == s[best] && mean[k] > mean[best])) best = k;
      }
      job.labels[i] = static_cast<int32_t>(best);
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
  if (predictions.length != predictionElems) throw Napi::RangeError::New(env, "native: predictions length does not match shape");
  job.predictions = predictions.data;
  job.merge = static_cast<Merge>(IntegerArg(info[4], 0, 4, "merge"));
  auto weights = TypedArrayArg<double>(info[5], napi_float64_array, "weights");
  if (weights.length != job.views) throw Napi::RangeError::New(env, "native: weights length does not match views");
  job.weights.assign(weights.data, weights.data + weights.length);
  double weightSum = 0;
  for (double w : job.weights) {
    if (!(w >= 0) || !std::isfinite(w)) throw Napi::RangeError::New(env, "native: weights must be finite and non-negative");
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
  job.threads = static_cast<unsigned>(IntegerArg(info[8], 1, 1024, "threads"));
  return job;
}

class SoftVoteWorker : public Napi::AsyncWorker {
 public:
  SoftVoteWorker(Napi::Env env, SoftVoteJob job, const Napi::CallbackInfo& info)
      : Napi::AsyncWorker(env, "tta:softVote"), job_(std::move(job)), deferred_(Napi::Promise::Deferred::New(env)) {
    for (size_t a : {0, 6, 7}) refs_.push_back(Napi::Persistent(info[a].As<Napi::Object>()));
  }
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { tta::Execute(job_); }
  void OnOK() override { deferred_.Resolve(Napi::Number::New(Env(), static_cast<double>(job_.invalidIndex))); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  SoftVoteJob job_;
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> refs_;
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
