#!/usr/bin/env bash
# Installs every Debian package myoexo needs (idempotent) and configures + builds it in build/.
# Usage: bash scripts/setup.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # tool chain and test/bench frameworks
  cmake ninja-build g++ pkg-config clang libclang-rt-14-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # libraries
  libeigen3-dev libfftw3-dev nlohmann-json3-dev libcli11-dev libtomlplusplus-dev
  libbiosig-dev libplplot-dev plplot-driver-cairo libcmark-gfm-dev libcmark-gfm-extensions-dev libcpp-httplib-dev libssl-dev libzip-dev libpugixml-dev
  libserialport-dev libmujoco-dev libtorch-dev libzmq3-dev cppzmq-dev
  # knee-angle trees are trained with XGBoost (estimating needs no library)
  libxgboost-dev
  # the BLAS a user installs: LibTorch (and the PyTorch peer) call the system's libblas.so.3, reference BLAS
  # unless this is installed (the speed tables name the BLAS each figure ran with)
  libopenblas0-pthread
  # `evaluate` across MPI ranks and its multi-rank test
  openmpi-bin libopenmpi-dev
  # the Python module (python/) and its tests
  pybind11-dev python3-dev python3-pytest python3-zmq python3-onnx
  # firmware/ compiles with Debian's AVR tool chain
  arduino-mk arduino-core-avr gcc-avr avr-libc
  # ... and runs in simavr for the hardware-in-the-loop test (tools/avr_board)
  simavr libsimavr-dev libelf-dev
  # the operator console is tested in Debian's headless Chromium (node and npm: below)
  chromium
  # reference scripts and peer benchmarks (never used by the product)
  python3 python3-numpy python3-scipy python3-sklearn python3-torch python3-pywt
)

# node and npm for the console's front-end libraries: Debian's, unless a node that brings its own npm is installed.
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${#missing[*]} Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#PACKAGES[*]} Debian packages present"
fi

# The console page's libraries (uPlot) and its browser-test driver (puppeteer-core), exactly as locked; the page is
# built into the program, so nothing is fetched at run time.
if ! cmp -s web/package-lock.json web/node_modules/.myoexo-installed-lock 2>/dev/null; then
  npm ci --prefix web --no-audit --no-fund --loglevel=error
  cp web/package-lock.json web/node_modules/.myoexo-installed-lock
fi

[ "${1:-}" = "--no-build" ] && exit 0
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
