#!/usr/bin/env bash
# Sets up a fresh machine that has Node.js and npm: the system packages the native
# addon builds with (a C++17 compiler, cmake, OpenBLAS), pnpm, and the workspace
# (install, which builds the addon, then a full build).
#
#   --with-tensorflow[=cpu|gpu]  then also the `tensorflow` (or `tensorflow-gpu`) backend:
#                                @tensorflow/tfjs-node(-gpu) built against TensorFlow's pip
#                                wheel by scripts/setup-tensorflow.sh
#   --tensorflow-optional        if pip or the wheel cannot be had, say so and go on (CI)
set -euo pipefail
cd "$(dirname "$0")/.."

tensorflow=""
tensorflow_flags=()
for arg in "$@"; do
  case "$arg" in
    --with-tensorflow | --with-tensorflow=cpu) tensorflow=cpu ;;
    --with-tensorflow=gpu) tensorflow=gpu; tensorflow_flags+=(--gpu) ;;
    --tensorflow-optional) tensorflow_flags+=(--optional) ;;
    *) echo "setup: unknown argument '$arg'; expected --with-tensorflow[=cpu|gpu] or --tensorflow-optional" >&2; exit 1 ;;
  esac
done

apt_packages=()
command -v cmake >/dev/null 2>&1 || apt_packages+=(cmake)
command -v g++ >/dev/null 2>&1 || apt_packages+=(g++ make)
command -v ninja >/dev/null 2>&1 || apt_packages+=(ninja-build)
# OpenBLAS gives the native TensorFlow.js backend its GEMM; without it the addon
# still builds, on a slower portable path.
dpkg -s libopenblas-dev >/dev/null 2>&1 || apt_packages+=(libopenblas-dev)
dpkg -s libdnnl-dev >/dev/null 2>&1 || apt_packages+=(libdnnl-dev)
# The C++ gates of pnpm test:ci (scripts/lint-cpp.sh).
command -v clang-format >/dev/null 2>&1 || apt_packages+=(clang-format)
command -v clang-tidy >/dev/null 2>&1 || apt_packages+=(clang-tidy)
# Headless Chromium renders the HTML report in @tta/report's browser test.
[ -x /usr/bin/chromium ] || apt_packages+=(chromium)

if [ ${#apt_packages[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: please install: ${apt_packages[*]} (no apt-get here)" >&2
  else
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "setup: installing ${apt_packages[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_packages[@]}"
  fi
fi

if ! command -v pnpm >/dev/null 2>&1; then
  # Corepack cannot verify registry signatures on some machines; npm can install pnpm.
  npm install -g pnpm@10
fi

pnpm install --frozen-lockfile
pnpm build

if [ -n "$tensorflow" ]; then
  bash scripts/setup-tensorflow.sh ${tensorflow_flags[@]+"${tensorflow_flags[@]}"}
fi
