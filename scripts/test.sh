#!/usr/bin/env bash
# Builds everything and runs all tests: the sanitizer build, bounded fuzzing of every text reader and the
# serial frame parser, the firmware compile, then the full CTest suite (last, so its summary closes the output).
# Usage: bash scripts/test.sh       (FUZZ_SECONDS=45 by default; FUZZ_SECONDS=0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc)

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build (non-LibTorch tests) =="
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMYOEXO_SANITIZE=ON \
      -DMYOEXO_BUILD_BENCH=OFF -DMYOEXO_NATIVE=OFF -DMYOEXO_WITH_MPI=OFF
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -j"$jobs" --output-on-failure -LE "torch|slow|browser"

fuzz_seconds=${FUZZ_SECONDS:-45}
if [ "$fuzz_seconds" -gt 0 ]; then
  echo "== libFuzzer: ${fuzz_seconds} s per reader =="
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMYOEXO_FUZZ=ON \
      -DMYOEXO_NATIVE=OFF
  cmake --build build-fuzz -j"$jobs"
  for f in build-fuzz/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    name=$(basename "$f")
    mkdir -p "build-fuzz/corpus/$name"
    echo "-- $name"
    "$f" -max_total_time="$fuzz_seconds" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 \
         "build-fuzz/corpus/$name" "fuzz/seeds/${name#fuzz_}" 2>&1 | tail -n 12
  done
fi

echo "== Firmware: the Arduino sketch compiles with Debian's AVR tool chain =="
make -s -C firmware/myoware_stream

echo "== Unit tests (Release) =="
ctest --test-dir build -j"$jobs" --output-on-failure
