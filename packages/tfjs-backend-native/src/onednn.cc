#include "onednn.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace tta {
namespace {

bool EnabledByDefault() {
  const char* setting = std::getenv("TTA_NATIVE_ONEDNN");
  return OnednnAvailable() && (setting == nullptr || std::strcmp(setting, "0") != 0);
}

std::atomic<bool> enabled{EnabledByDefault()};
std::atomic<size_t> convolutions{0};
std::atomic<size_t> matMuls{0};

}  // namespace

bool SetOnednnEnabled(bool on) {
  enabled = on && OnednnAvailable();
  return enabled;
}
bool OnednnEnabled() { return enabled; }
size_t OnednnConvolutions() { return convolutions; }
size_t OnednnMatMuls() { return matMuls; }

}  // namespace tta

#ifdef TTA_HAVE_DNNL

#include <dlfcn.h>

#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "oneapi/dnnl/dnnl.hpp"

namespace tta {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using Dt = memory::data_type;

dnnl::engine& Engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

memory::dim D(size_t v) { return static_cast<memory::dim>(v); }

// oneDNN's logical dimensions are always N, C, H, W (O, I, H, W for weights); the tags say how
// the bytes are laid out, so TensorFlow.js' NHWC tensors and HWIO filters are used in place.
struct Descs {
  memory::desc src, weightsUser, weightsAny, bias, dst;
  memory::dims strides, padL, padR;
};

bool MakeDescs(const OnednnConvShape& g, Descs* d) {
  if (g.padTop < 0 || g.padLeft < 0) return false;
  for (size_t v : {g.n, g.h, g.w, g.c, g.fh, g.fw, g.outC, g.sh, g.sw, g.outH, g.outW}) {
    if (v == 0) return false;
  }
  // The bottom/right padding that gives exactly outH x outW (oneDNN checks it with a floor).
  auto padEnd = [](size_t in, size_t k, size_t s, size_t out, ptrdiff_t begin) -> ptrdiff_t {
    ptrdiff_t end = static_cast<ptrdiff_t>((out - 1) * s + k) - static_cast<ptrdiff_t>(in) - begin;
    if (end < 0) end = 0;
    const ptrdiff_t span = static_cast<ptrdiff_t>(in) + begin + end - static_cast<ptrdiff_t>(k);
    return span >= 0 && static_cast<size_t>(span) / s + 1 == out ? end : -1;
  };
  const ptrdiff_t padBottom = padEnd(g.h, g.fh, g.sh, g.outH, g.padTop);
  const ptrdiff_t padRight = padEnd(g.w, g.fw, g.sw, g.outW, g.padLeft);
  if (padBottom < 0 || padRight < 0) return false;
  d->src = memory::desc({D(g.n), D(g.c), D(g.h), D(g.w)}, Dt::f32, Tag::nhwc);
  d->dst = memory::desc({D(g.n), D(g.outC), D(g.outH), D(g.outW)}, Dt::f32, Tag::nhwc);
  d->weightsUser = memory::desc({D(g.outC), D(g.c), D(g.fh), D(g.fw)}, Dt::f32, Tag::hwio);
  d->weightsAny = memory::desc({D(g.outC), D(g.c), D(g.fh), D(g.fw)}, Dt::f32, Tag::any);
  d->bias = memory::desc({D(g.outC)}, Dt::f32, Tag::x);
  d->strides = {D(g.sh), D(g.sw)};
  d->padL = {static_cast<memory::dim>(g.padTop), static_cast<memory::dim>(g.padLeft)};
  d->padR = {static_cast<memory::dim>(padBottom), static_cast<memory::dim>(padRight)};
  return true;
}

using Key = std::tuple<int, size_t, size_t, size_t, size_t, size_t, size_t, size_t, size_t, size_t, ptrdiff_t,
                       ptrdiff_t, size_t, size_t, int>;

Key KeyOf(int kind, const OnednnConvShape& g, int variant) {
  return Key{kind, g.n, g.h, g.w, g.c, g.fh, g.fw, g.outC, g.sh, g.sw, g.padTop, g.padLeft, g.outH, g.outW, variant};
}

// A compiled primitive and the weight layout it wants, with the reorder to or from HWIO when
// that layout is not HWIO itself.
struct Compiled {
  dnnl::primitive primitive;
  memory::desc weights;
  bool reorderWeights = false;
  dnnl::reorder weightsReorder;
};

using Cache = std::map<Key, std::shared_ptr<Compiled>>;
std::mutex cacheMutex;
Cache cache;

template <typename Build>
std::shared_ptr<Compiled> CachedIn(Cache& in, const Key& key, Build build) {
  auto it = in.find(key);
  if (it != in.end()) return it->second;
  // A training run sees a handful of geometries; a bound keeps odd callers from growing it forever.
  if (in.size() >= 256) in.clear();
  auto compiled = std::make_shared<Compiled>(build());
  in.emplace(key, compiled);
  return compiled;
}

template <typename Build>
std::shared_ptr<Compiled> Cached(const Key& key, Build build) {
  std::lock_guard<std::mutex> lock(cacheMutex);
  return CachedIn(cache, key, build);
}

// The OpenMP runtime oneDNN was built with, looked up at run time (this addon is not built with
// OpenMP itself): a thread's omp_set_num_threads(1) makes the oneDNN calls it makes serial.
struct OpenMp {
  using SetThreads = void (*)(int);
  using GetThreads = int (*)();
  SetThreads set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  GetThreads get = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
};
const OpenMp& Omp() {
  static const OpenMp omp;
  return omp;
}

// Sets this thread's OpenMP team size to 1 for its lifetime, then restores it.
class SerialScope {
 public:
  SerialScope() : before_(Omp().get()) { Omp().set(1); }
  ~SerialScope() { Omp().set(before_); }

 private:
  int before_;
};

memory Wrap(const memory::desc& desc, const void* data) { return memory(desc, Engine(), const_cast<void*>(data)); }

// A compiled primitive whose weights (or weight gradient, `gradient`) are in `layout`, with the
// reorder between that layout and the user's HWIO `user` when they differ.
Compiled Compile(dnnl::primitive primitive, const memory::desc& layout, const Descs& d, const void* user,
                 bool gradient) {
  Compiled c;
  c.primitive = std::move(primitive);
  c.weights = layout;
  c.reorderWeights = layout != d.weightsUser;
  if (c.reorderWeights) {
    c.weightsReorder = gradient ? dnnl::reorder(memory(layout, Engine()), Wrap(d.weightsUser, user))
                                : dnnl::reorder(Wrap(d.weightsUser, user), memory(layout, Engine()));
  }
  return c;
}

// The filter as the primitive wants it: the user's HWIO array itself, or a reordered copy.
memory PackedFilter(const Compiled& c, const Descs& d, const float* filter, dnnl::stream& stream) {
  memory weights = Wrap(d.weightsUser, filter);
  if (!c.reorderWeights) return weights;
  memory packed(c.weights, Engine());
  c.weightsReorder.execute(stream, weights, packed);
  return packed;
}

dnnl::convolution_forward::primitive_desc ForwardDesc(const Descs& d, bool bias, dnnl::prop_kind kind,
                                                      const dnnl::primitive_attr& attr = dnnl::primitive_attr()) {
  const auto desc = bias ? dnnl::convolution_forward::desc(kind, dnnl::algorithm::convolution_direct, d.src,
                                                           d.weightsAny, d.bias, d.dst, d.strides, d.padL, d.padR)
                         : dnnl::convolution_forward::desc(kind, dnnl::algorithm::convolution_direct, d.src,
                                                           d.weightsAny, d.dst, d.strides, d.padL, d.padR);
  return dnnl::convolution_forward::primitive_desc(desc, attr, Engine());
}

}  // namespace

bool OnednnAvailable() { return true; }

std::string OnednnVersion() {
  const dnnl_version_t* v = dnnl_version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

namespace {

// The forward convolution, its primitive from `cached` (key, build -> shared_ptr<Compiled>) and its
// packed filter from `pack` (compiled, descs, filter, stream -> memory).
template <typename CachedFn, typename PackFn>
bool ConvForwardWith(CachedFn cached, PackFn pack, const OnednnConvShape& g, const float* x, const float* filter,
                     const float* bias, int activation, float* y) {
  Descs d;
  if (!enabled || activation < 0 || activation > 2 || !MakeDescs(g, &d)) return false;
  try {
    const bool hasBias = bias != nullptr;
    auto compiled = cached(KeyOf(0, g, activation * 2 + (hasBias ? 1 : 0)), [&] {
      dnnl::post_ops ops;
      if (activation == 1) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
      if (activation == 2) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, 0.0f, 6.0f);
      dnnl::primitive_attr attr;
      attr.set_post_ops(ops);
      const auto pd = ForwardDesc(d, hasBias, dnnl::prop_kind::forward_inference, attr);
      return Compile(dnnl::convolution_forward(pd), pd.weights_desc(), d, filter, false);
    });
    dnnl::stream stream(Engine());
    const memory weights = pack(*compiled, d, filter, stream);
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, Wrap(d.src, x)}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, Wrap(d.dst, y)}};
    if (hasBias) args.emplace(DNNL_ARG_BIAS, Wrap(d.bias, bias));
    compiled->primitive.execute(stream, args);
    stream.wait();
    ++convolutions;
    return true;
  } catch (const dnnl::error&) {
    return false;
  }
}

}  // namespace

bool OnednnConvForward(const OnednnConvShape& g, const float* x, const float* filter, const float* bias, int activation,
                       float* y) {
  return ConvForwardWith([](const Key& key, auto build) { return Cached(key, build); }, PackedFilter, g, x, filter,
                         bias, activation, y);
}

bool OnednnConvForwardSerial(const OnednnConvShape& g, const float* x, const float* filter, const float* bias,
                             int activation, float* y, uint64_t packToken) {
  if (Omp().set == nullptr || Omp().get == nullptr) return false;
  // oneDNN's shared scratchpad lets a primitive run only on the thread that created it, and one
  // created under a team size of 1 plans its work for one thread: a cache per thread.
  thread_local Cache local;
  // The filter packed for the last call with a token: the chunks of one caller's call share it.
  thread_local struct {
    uint64_t token = 0;
    const Compiled* compiled = nullptr;
    const float* filter = nullptr;
    memory packed;
  } last;
  auto pack = [packToken](const Compiled& compiled, const Descs& d, const float* user, dnnl::stream& stream) {
    if (packToken != 0 && last.token == packToken && last.compiled == &compiled && last.filter == user)
      return last.packed;
    memory packed = PackedFilter(compiled, d, user, stream);
    last = {packToken, &compiled, user, packed};
    return packed;
  };
  SerialScope serial;
  return ConvForwardWith([](const Key& key, auto build) { return CachedIn(local, key, build); }, pack, g, x, filter,
                         bias, activation, y);
}

bool OnednnMatMul(bool transA, bool transB, size_t m, size_t n, size_t k, const float* a, const float* b,
                  const float* bias, int activation, float* c) {
  if (!enabled || activation < 0 || activation > 2 || m == 0 || n == 0 || k == 0) return false;
  try {
    const bool hasBias = bias != nullptr;
    // Logical dims row-major; a transposed operand is the same bytes with swapped strides.
    const memory::desc src({D(m), D(k)}, Dt::f32, transA ? memory::dims{1, D(m)} : memory::dims{D(k), 1});
    const memory::desc weights({D(k), D(n)}, Dt::f32, transB ? memory::dims{1, D(k)} : memory::dims{D(n), 1});
    const memory::desc dst({D(m), D(n)}, Dt::f32, Tag::ab);
    const memory::desc biasDesc({1, D(n)}, Dt::f32, Tag::ab);
    const Key key{3, m, n, k, transA, transB, 0, 0, 0, 0, 0, 0, 0, 0, activation * 2 + (hasBias ? 1 : 0)};
    auto compiled = Cached(key, [&] {
      dnnl::post_ops ops;
      if (activation == 1) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
      if (activation == 2) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, 0.0f, 6.0f);
      dnnl::primitive_attr attr;
      attr.set_post_ops(ops);
      const auto desc =
          hasBias ? dnnl::matmul::desc(src, weights, biasDesc, dst) : dnnl::matmul::desc(src, weights, dst);
      Compiled c;
      c.primitive = dnnl::matmul(dnnl::matmul::primitive_desc(desc, attr, Engine()));
      return c;
    });
    dnnl::stream stream(Engine());
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, Wrap(src, a)}, {DNNL_ARG_WEIGHTS, Wrap(weights, b)}, {DNNL_ARG_DST, Wrap(dst, c)}};
    if (hasBias) args.emplace(DNNL_ARG_BIAS, Wrap(biasDesc, bias));
    compiled->primitive.execute(stream, args);
    stream.wait();
    ++matMuls;
    return true;
  } catch (const dnnl::error&) {
    return false;
  }
}

bool OnednnConvBackwardData(const OnednnConvShape& g, const float* dy, const float* filter, float* dx) {
  Descs d;
  if (!enabled || !MakeDescs(g, &d)) return false;
  try {
    auto compiled = Cached(KeyOf(1, g, 0), [&] {
      const auto hint = ForwardDesc(d, false, dnnl::prop_kind::forward_training);
      const dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, d.src, d.weightsAny, d.dst,
                                                       d.strides, d.padL, d.padR);
      const dnnl::convolution_backward_data::primitive_desc pd(desc, Engine(), hint);
      return Compile(dnnl::convolution_backward_data(pd), pd.weights_desc(), d, filter, false);
    });
    dnnl::stream stream(Engine());
    const memory weights = PackedFilter(*compiled, d, filter, stream);
    compiled->primitive.execute(
        stream,
        {{DNNL_ARG_DIFF_DST, Wrap(d.dst, dy)}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DIFF_SRC, Wrap(d.src, dx)}});
    stream.wait();
    ++convolutions;
    return true;
  } catch (const dnnl::error&) {
    return false;
  }
}

bool OnednnConvBackwardWeights(const OnednnConvShape& g, const float* x, const float* dy, float* dw) {
  Descs d;
  if (!enabled || !MakeDescs(g, &d)) return false;
  try {
    auto compiled = Cached(KeyOf(2, g, 0), [&] {
      const auto hint = ForwardDesc(d, false, dnnl::prop_kind::forward_training);
      const dnnl::convolution_backward_weights::desc desc(dnnl::algorithm::convolution_direct, d.src, d.weightsAny,
                                                          d.dst, d.strides, d.padL, d.padR);
      const dnnl::convolution_backward_weights::primitive_desc pd(desc, Engine(), hint);
      return Compile(dnnl::convolution_backward_weights(pd), pd.diff_weights_desc(), d, dw, true);
    });
    dnnl::stream stream(Engine());
    memory user = Wrap(d.weightsUser, dw);
    memory packed = compiled->reorderWeights ? memory(compiled->weights, Engine()) : user;
    compiled->primitive.execute(
        stream,
        {{DNNL_ARG_SRC, Wrap(d.src, x)}, {DNNL_ARG_DIFF_DST, Wrap(d.dst, dy)}, {DNNL_ARG_DIFF_WEIGHTS, packed}});
    if (compiled->reorderWeights) compiled->weightsReorder.execute(stream, packed, user);
    stream.wait();
    ++convolutions;
    return true;
  } catch (const dnnl::error&) {
    return false;
  }
}

}  // namespace tta

#else  // !TTA_HAVE_DNNL

namespace tta {

bool OnednnAvailable() { return false; }
std::string OnednnVersion() { return ""; }
bool OnednnConvForward(const OnednnConvShape&, const float*, const float*, const float*, int, float*) { return false; }
bool OnednnConvForwardSerial(const OnednnConvShape&, const float*, const float*, const float*, int, float*, uint64_t) {
  return false;
}
bool OnednnConvBackwardData(const OnednnConvShape&, const float*, const float*, float*) { return false; }
bool OnednnMatMul(bool, bool, size_t, size_t, size_t, const float*, const float*, const float*, int, float*) {
  return false;
}
bool OnednnConvBackwardWeights(const OnednnConvShape&, const float*, const float*, float*) { return false; }

}  // namespace tta

#endif
