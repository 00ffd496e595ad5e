#!/usr/bin/env bash
# Gives @tta/model its `tensorflow` (or `tensorflow-gpu`) backend: @tensorflow/tfjs-node(-gpu)
# 4.22.0 built against the libtensorflow that TensorFlow's own pip wheel ships.
#
# Why: tfjs-node's install hook downloads libtensorflow 2.9.1 from a Google bucket that now
# answers 403 (and that many machines cannot reach at all). The pip wheels carry the same
# C API (TF_*/TFE_* in libtensorflow_cc.so.2, headers under include/), and the N-API binding
# compiles against them unchanged. So this script:
#   1. pip-installs the wheel (tensorflow-cpu, or tensorflow[and-cuda] for --gpu) into a folder
#      it owns, $TTA_TENSORFLOW_HOME/<cpu|gpu> (pip --target), from pip's configured index;
#   2. lays out the package's deps/: the 14 C API headers the binding includes (copied), and
#      deps/lib links to the wheel's two libraries under every name the binding and tfjs-node's
#      scripts look for (plus deps/nvidia -> the CUDA libraries pip installed, for --gpu);
#   3. compiles the binding with node-pre-gyp --build-from-source against Node's own headers
#      (no header download), and checks that the backend loads and runs a convolution.
# It never runs the packages' own install hooks (the -gpu one wipes deps/ and downloads) and
# downloads nothing but the wheel, through pip. Running it again does only what is missing.
#
# Links, not copies: the libraries are 788 + 65 MB and stay in the pinned folder above, which
# nothing but this script writes. If it is removed, @tta/model names the dangling link and
# says to run this script again.
#
# Usage: bash scripts/setup-tensorflow.sh [--gpu] [--optional] [--force]
#   --gpu       @tensorflow/tfjs-node-gpu with the CUDA wheel (tensorflow[and-cuda]), Linux x64
#   --optional  if pip or the wheel cannot be had, say so in one line and exit 0 (CI)
#   --force     reinstall the wheel and rebuild the binding
# Environment: TTA_TENSORFLOW_HOME (default ${TTA_CACHE_DIR:-~/.cache/tta}/tensorflow),
#   TTA_TENSORFLOW_VERSION (default 2.21.*: the release whose headers were checked),
#   TTA_PYTHON (default python3), and pip's own settings (PIP_INDEX_URL, pip.conf, ...).
# Exit status: 0 done (or skipped with --optional), 3 pip or the wheel is missing, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

variant=cpu
optional=0
force=0
for arg in "$@"; do
  case "$arg" in
    --gpu) variant=gpu ;;
    --cpu) variant=cpu ;;
    --optional) optional=1 ;;
    --force) force=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup-tensorflow: unknown argument '$arg'; expected --gpu, --cpu, --optional, --force or --help" >&2; exit 1 ;;
  esac
done

log() { echo "setup-tensorflow: $*"; }
fail() { echo "setup-tensorflow: error: $*" >&2; exit 1; }
# pip or the wheel is missing: the one failure --optional tolerates.
unavailable() {
  if [ "$optional" = 1 ]; then
    echo "setup-tensorflow: skipped, the $backend backend will not be available: $*"
    exit 0
  fi
  echo "setup-tensorflow: error: $*" >&2
  exit 3
}

tf_version=${TTA_TENSORFLOW_VERSION:-2.21.*}
if [ "$variant" = gpu ]; then
  package=@tensorflow/tfjs-node-gpu
  backend=tensorflow-gpu
  wheel=tensorflow
  spec="tensorflow[and-cuda]==$tf_version"
else
  package=@tensorflow/tfjs-node
  backend=tensorflow
  wheel=tensorflow-cpu
  spec="tensorflow-cpu==$tf_version"
fi
home=${TTA_TENSORFLOW_HOME:-${TTA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tta}/tensorflow}
target=$home/$variant
python=${TTA_PYTHON:-python3}

[ "$(uname -s)" = Linux ] || fail "this recipe is for Linux (uname -s says $(uname -s))"
[ "$(uname -m)" = x86_64 ] || fail "the TensorFlow wheels it uses are for x86_64 (uname -m says $(uname -m))"

# 1. The JavaScript package, installed by pnpm without its hook (pnpm.ignoredBuiltDependencies).
pkgdir=$(cd packages/model && node -p "require('path').dirname(require.resolve('$package/package.json'))" 2>/dev/null) ||
  fail "$package is not installed under packages/model; run 'pnpm install --frozen-lockfile' first"
pkgdir=$(readlink -f "$pkgdir")

# 2. The wheel, into a folder this script owns.
wheel_ok() {
  [ -f "$target/tensorflow/libtensorflow_cc.so.2" ] && [ -f "$target/tensorflow/libtensorflow_framework.so.2" ] &&
    [ -f "$target/.tta-spec" ] && [ "$(cat "$target/.tta-spec")" = "$spec" ]
}
if [ "$force" = 1 ] || ! wheel_ok; then
  command -v "$python" >/dev/null 2>&1 || unavailable "no Python ('$python' is not on PATH; set TTA_PYTHON) to run pip with"
  "$python" -m pip --version >/dev/null 2>&1 || unavailable "'$python -m pip' does not run: install pip (e.g. apt-get install python3-pip) or set TTA_PYTHON to a Python that has it"
  log "installing $spec with pip into $target"
  mkdir -p "$home"
  staging=$(mktemp -d "$home/.$variant.XXXXXX")
  trap 'rm -rf "$staging"' EXIT
  # The CPU wheel's libraries need none of its Python dependencies; the CUDA one needs the
  # nvidia-* packages its [and-cuda] extra pulls in.
  deps_flag=--no-deps
  [ "$variant" = gpu ] && deps_flag=
  # shellcheck disable=SC2086
  if ! nice "$python" -m pip install --quiet --disable-pip-version-check --no-input --target "$staging" $deps_flag "$spec"; then
    unavailable "pip could not install $spec from its configured index (its output is above)"
  fi
  [ -f "$staging/tensorflow/libtensorflow_cc.so.2" ] ||
    fail "the $wheel wheel pip installed has no tensorflow/libtensorflow_cc.so.2 (in $staging); this recipe needs a TensorFlow 2.x Linux wheel"
  echo "$spec" > "$staging/.tta-spec"
  rm -rf "$target"
  mv "$staging" "$target"
  trap - EXIT
fi
tf_dist=$(cd "$target" && ls -d tensorflow*.dist-info | head -1)
tf_installed=${tf_dist%.dist-info}
log "using ${tf_installed/-/ } in $target"

# 3. deps/: headers copied (small, and what the binding was compiled with stays with it), the
# libraries linked. The binding's runpath is $ORIGIN/../../deps/lib and its NEEDED entries are
# the libraries' sonames (libtensorflow_cc.so.2, libtensorflow_framework.so.2); the
# linker looks for -ltensorflow(_framework); tfjs-node's scripts test libtensorflow.so.2.9.1.
headers=(
  tensorflow/c/c_api.h tensorflow/c/c_api_macros.h tensorflow/c/tf_attrtype.h tensorflow/c/tf_buffer.h
  tensorflow/c/tf_datatype.h tensorflow/c/tf_status.h tensorflow/c/tf_tensor.h tensorflow/c/tf_tstring.h
  tensorflow/c/eager/c_api.h tensorflow/core/platform/ctstring.h tensorflow/core/platform/ctstring_internal.h
  tsl/platform/ctstring.h tsl/platform/ctstring_internal.h xla/tsl/c/tsl_status.h
)
cc=$target/tensorflow/libtensorflow_cc.so.2
framework=$target/tensorflow/libtensorflow_framework.so.2
stamp="$tf_installed $cc node-$(node -p process.versions.modules)-napi-$(node -p process.versions.napi) $(node -p "require('$pkgdir/package.json').version")"
binding() { ls "$pkgdir"/lib/napi-v*/tfjs_binding.node 2>/dev/null | head -1; }

if [ "$force" = 0 ] && [ -n "$(binding)" ] && [ -f "$pkgdir/deps/.tta-stamp" ] && [ "$(cat "$pkgdir/deps/.tta-stamp")" = "$stamp" ] &&
  [ -e "$pkgdir/deps/lib/libtensorflow_cc.so.2" ]; then
  log "$package binding already built against it: $(binding)"
else
  for h in "${headers[@]}"; do
    [ -f "$target/tensorflow/include/$h" ] || fail "the wheel lacks the header include/$h that the binding needs (TensorFlow $tf_installed; TTA_TENSORFLOW_VERSION=2.21.* is the checked release)"
  done
  deps_new="$pkgdir/deps.tta-new"
  rm -rf "$deps_new"
  mkdir -p "$deps_new/lib" "$deps_new/include"
  for h in "${headers[@]}"; do
    mkdir -p "$deps_new/include/$(dirname "$h")"
    cp "$target/tensorflow/include/$h" "$deps_new/include/$h"
  done
  for name in libtensorflow.so libtensorflow.so.2 libtensorflow.so.2.9.1 libtensorflow_cc.so.2; do ln -s "$cc" "$deps_new/lib/$name"; done
  for name in libtensorflow_framework.so libtensorflow_framework.so.2 libtensorflow_framework.so.2.9.1; do ln -s "$framework" "$deps_new/lib/$name"; done
  # glibc takes $ORIGIN from the folder of the path a library was opened by (deps/lib, not
  # the wheel), so the CUDA wheel's $ORIGIN/../nvidia/... runpaths need deps/nvidia.
  [ -d "$target/nvidia" ] && ln -s "$target/nvidia" "$deps_new/nvidia"
  rm -rf "$pkgdir/deps"
  mv "$deps_new" "$pkgdir/deps"

  # If the package's hook ever runs anyway (e.g. `npm rebuild`), a custom tf-lib makes the CPU
  # package's hook build from source against deps/ rather than fetch a prebuilt addon.
  [ -f "$pkgdir/scripts/custom-binary.json" ] ||
    printf '{\n  "tf-lib": "file:///run-tta-scripts-setup-tensorflow.sh-instead"\n}\n' > "$pkgdir/scripts/custom-binary.json"

  # Node's own headers: node-gyp would otherwise download them.
  nodedir=${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null | grep -v '^undefined$' || true)}
  if [ -z "$nodedir" ] || [ ! -f "$nodedir/include/node/node_api.h" ]; then
    nodedir=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
  fi
  [ -f "$nodedir/include/node/node_api.h" ] ||
    fail "Node's headers are not at $nodedir/include/node (node_api.h); set npm_config_nodedir to the folder that has include/node"
  node_gyp=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")/node_modules/node-gyp/bin/node-gyp.js
  [ -f "$node_gyp" ] || node_gyp=
  pre_gyp=$(cd "$pkgdir" && node -p "require.resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp')")
  log "compiling the $package binding (node-pre-gyp, headers from $nodedir)"
  rm -rf "$pkgdir"/lib/napi-v* "$pkgdir"/build-tmp-napi-v*
  started=$SECONDS
  if ! (cd "$pkgdir" && npm_config_nodedir="$nodedir" npm_config_node_gyp="$node_gyp" nice node "$pre_gyp" install --build-from-source \
    > "$pkgdir/deps/build.log" 2>&1); then
    tail -30 "$pkgdir/deps/build.log" >&2
    fail "compiling the $package binding failed; the whole log is $pkgdir/deps/build.log"
  fi
  [ -n "$(binding)" ] || fail "node-pre-gyp reported success but left no lib/napi-v*/tfjs_binding.node in $pkgdir"
  echo "$stamp" > "$pkgdir/deps/.tta-stamp"
  log "built $(binding) in $((SECONDS - started)) s"
fi

# 4. Does the backend run? (TF_CPP_MIN_LOG_LEVEL=2 keeps TensorFlow's start-up notes quiet.)
check_log=$(mktemp)
# A 3x3 convolution of ones over 3 channels of ones: 12 in a corner, 18 on an edge, 27 inside.
check=$(cd packages/model && TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2} node -e "
  const tf = require('$package');
  const y = tf.conv2d(tf.ones([1, 8, 8, 3]), tf.ones([3, 3, 3, 4]), 1, 'same').dataSync();
  if (tf.getBackend() !== 'tensorflow' || y[0] !== 12 || y[9] !== 18 || y[36] !== 27)
    throw new Error('expected backend tensorflow and 12, 18, 27, received ' + [tf.getBackend(), y[0], y[9], y[36]].join(', '));
  console.log(tf.backend().isUsingGpuDevice ? 'a GPU' : 'the CPU');
" 2>"$check_log") || fail "$package does not load or compute: $(grep -m1 'Error' "$check_log" || tail -3 "$check_log")"
rm -f "$check_log"
device=$(echo "$check" | tail -1)
log "backend '$backend' works ($package on ${tf_installed/-/ }, running on $device)"
if [ "$variant" = gpu ] && [ "$device" != "a GPU" ]; then
  log "note: TensorFlow sees no GPU here (no NVIDIA driver, device or CUDA library), so @tta/model skips 'tensorflow-gpu' until it does"
fi
