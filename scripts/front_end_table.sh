#!/usr/bin/env bash
# The front-end table of the README: does the reference system's preprocessing (20-150 Hz band-pass, wavelet
# denoising) help or hurt on the UCI lower-limb data? Runs `myoexo evaluate` for every band (20-150, 20-450 Hz)
# x wavelet stage (none, wavelet) x model, under the protocols asked for, and prints one Markdown row per run:
# mean (worst subject) accuracy per protocol and the stage's delay.
# Usage: bash scripts/front_end_table.sh [OUT_DIR] [PROTOCOL] [MODELS...]
#   defaults: OUT_DIR=front-end-table, PROTOCOL=all, MODELS="lda lda_context"
#   networks: e.g. MYOEXO_EPOCHS=10 bash scripts/front_end_table.sh out W cnn1d spectrogram_cnn
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
myoexo=$root/build/src/app/myoexo
out=${1:-$root/front-end-table}
protocol=${2:-all}
shift $(( $# > 2 ? 2 : $# )) || true
models=${*:-lda lda_context}
[ -x "$myoexo" ] || { echo "build first: bash scripts/test.sh or cmake --build build" >&2; exit 2; }
epochs=()
[ -n "${MYOEXO_EPOCHS:-}" ] && epochs=(--epochs "$MYOEXO_EPOCHS")
mkdir -p "$out"
for m in $models; do
  for band in "20 150" "20 450"; do
    for dn in none wavelet; do
      dir="$out/${m}_${band// /-}_$dn"
      echo "$m, ${band// /-} Hz, $dn ..." >&2
      start=$(date +%s)
      # shellcheck disable=SC2086
      "$myoexo" -q evaluate --protocol "$protocol" --model "$m" --bandpass $band --denoise "$dn" --no-plots \
                "${epochs[@]}" --out "$dir" > "$dir.log" 2>&1 || { echo "  failed: $(tail -1 "$dir.log")" >&2; continue; }
      echo "$(( $(date +%s) - start ))" > "$dir.seconds"
    done
  done
done
/usr/bin/python3 - "$out" <<'PY'
import glob, json, os, sys
rows = []
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*", "metrics.json"))):
    j = json.load(open(f))
    fe = j["front_end"]
    d = os.path.dirname(f)
    secs = open(d + ".seconds").read().strip() if os.path.exists(d + ".seconds") else "?"
    cells = []
    for p in ("W", "P", "L"):
        s = j["protocols"].get(p, {}).get("summary")
        cells.append("—" if not s else f"{100*s['mean_accuracy']:.1f} % ({100*s['min_accuracy']:.1f})"
                     if p != "P" else f"{100*s['mean_accuracy']:.1f} %")
    band = "-".join(f"{x:g}" for x in fe["band_pass_hz"])
    name = os.path.basename(d).split("_20-")[0]  # the --model argument
    rows.append(f"| {name} | {band} Hz | {'wavelet' if fe['denoise'] else 'none'} "
                f"({fe['delay_samples']} samples) | " + " | ".join(cells) + f" | {secs} s |")
print("| --model | band-pass | wavelet stage (delay) | W mean (worst) | P | L mean (worst) | wall |")
print("|---|---|---|---|---|---|---|")
print("\n".join(rows))
PY
