#!/usr/bin/env bash
# The installed tree: `cmake --install` into a fresh prefix, then
#  1. the headers, libraries, CMake package, program, resources and licence files are where the README says;
#  2. the installed program finds its resources beside itself (not in this source tree) and runs a replay into the
#     simulated exoskeleton from another folder;
#  3. a project outside this repository finds the package (find_package(myoexo)), builds against the installed
#     headers and static libraries, and its band-pass impulse response equals SciPy's.
# Usage: install_test.sh BUILD_DIR OUT_DIR DATA_ROOT
set -euo pipefail
build=$1 out=$2 data=${MYOEXO_DATA:-$3}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$out"; mkdir -p "$out"
prefix=$out/prefix
fails=0
check() { if eval "$1"; then echo "ok   $2"; else echo "FAIL $2"; fails=$((fails + 1)); fi; }

cmake --install "$build" --prefix "$prefix" > "$out/install.log"
for f in include/myoexo/dsp/butterworth.hpp include/myoexo/session/session.hpp lib/cmake/myoexo/myoexoConfig.cmake \
         lib/cmake/myoexo/myoexoConfigVersion.cmake lib/libmyoexo_dsp.a bin/myoexo share/myoexo/configs/cnn1d.toml \
         share/myoexo/configs/boards share/myoexo/models/exo_leg.xml share/doc/myoexo/LICENSE \
         share/doc/myoexo/THIRD_PARTY_LICENSES.md share/doc/myoexo/CITATION.cff; do
  check "[ -e '$prefix/$f' ]" "installed: $f"
done
check "[ ! -e '$prefix/include/myoexo/app' ]" "the program's own headers are not installed"

# 2. Resources beside the installed program.
version=$(cd "$out" && env -u MYOEXO_RESOURCES "$prefix/bin/myoexo" --version)
echo "$version"
check "grep -qx 'resources: $prefix/share/myoexo' <<< \"\$version\"" "the installed program finds its resources in its prefix"
uci=$data/uci-lower-limb
if [ -f "$uci/A_TXT/1Amar.txt" ]; then
  (cd "$out" && env -u MYOEXO_RESOURCES "$prefix/bin/myoexo" -q run --replay "$uci/A_TXT/1Amar.txt" --train-on "$uci/N_TXT" \
     --seconds 3 --no-plots --out "$out/run") > "$out/run.log" 2>&1 || true
  check "grep -q '\"actuators\": \"mujoco\"' '$out/run/summary.json' 2> /dev/null && grep -q '\"sim_model\": \"$prefix/share/myoexo/models/exo_leg.xml\"' '$out/run/summary.json'" \
        "the installed program replays into the MuJoCo exoskeleton with the installed model ($(tail -1 "$out/run.log"))"
else
  echo "skip the installed replay: UCI data absent"
fi

# 3. A project outside the repository.
gen=()
command -v ninja > /dev/null && gen=(-G Ninja)
cmake -S "$here/consumer" -B "$out/consumer" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
      > "$out/consumer.configure.log" 2>&1 || { echo "FAIL configure: $(tail -20 "$out/consumer.configure.log")"; exit 1; }
cmake --build "$out/consumer" > "$out/consumer.build.log" 2>&1 || { echo "FAIL build: $(tail -30 "$out/consumer.build.log")"; exit 1; }
"$out/consumer/consumer" > "$out/impulse.txt"
head -1 "$out/impulse.txt"
/usr/bin/python3 - "$out/impulse.txt" <<'PY' && echo "ok   the outside project's band-pass equals SciPy's (1e-12)" || { echo "FAIL the outside project's band-pass differs from SciPy's"; exit 1; }
import sys, numpy as np
from scipy import signal
got = np.loadtxt(sys.argv[1], comments="#")
x = np.zeros(len(got)); x[0] = 1.0
ref = signal.sosfilt(signal.butter(4, [20, 450], "bandpass", fs=1000, output="sos"), x)
err = np.max(np.abs(got - ref))
print(f"     max |difference| = {err:.3g} over {len(got)} samples")
sys.exit(0 if err < 1e-12 else 1)
PY
echo "$fails failed"
[ "$fails" -eq 0 ]
