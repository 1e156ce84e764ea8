#!/usr/bin/env bash
# The LDA calibration table of the README: each UCI lower-limb subject as a new person. For every subject S an
# lda_context base is trained on the others, then `myoexo calibrate --model` refits it on the first N s of each of
# S's recordings (--lda-method refit), or adapts its class means and covariance with the base weighing W windows
# (--lda-method adapt --base-weight W, for each W in $WEIGHTS), and scores base and personal model on the windows
# after 10 s. Prints mean (min) accuracy and the wall time of one calibration per method and N.
# Usage: bash scripts/calibration_lda_loso.sh [OUT_DIR]   (after a build; data from ../shared/datasets)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
myoexo=$root/build/src/app/myoexo
uci=${MYOEXO_DATA:-$root/../shared/datasets}/uci-lower-limb
out=${1:-$root/calibration-lda}
weights=${WEIGHTS:-25 100 400}
[ -x "$myoexo" ] || { echo "build first: bash scripts/test.sh or cmake --build build" >&2; exit 2; }
mkdir -p "$out"
subjects=$(ls "$uci/A_TXT" "$uci/N_TXT" | grep -o '^[0-9]*[AN]' | sort -u)
for s in $subjects; do
  echo "subject $s ..." >&2
  "$myoexo" -q train --model lda_context --exclude-subject "$s" --out "$out/base_$s.json" > /dev/null
  for n in 2 5 10; do
    for method in refit $(for w in $weights; do echo "adapt$w"; done); do
      extra=(--lda-method refit)
      [ "$method" = refit ] || extra=(--lda-method adapt --base-weight "${method#adapt}")
      "$myoexo" -q calibrate --model "$out/base_$s.json" --dataset "$uci" --subject "$s" --seconds "$n" --test-from 10 \
                "${extra[@]}" --out "$out/${s}_${n}_$method.json" > "$out/${s}_${n}_$method.out" 2>&1 ||
        echo "  $s, $n s, $method: $(tail -1 "$out/${s}_${n}_$method.out")" >&2  # e.g. 2N: one class only
    done
  done
done
/usr/bin/python3 - "$out" <<'PY'
import glob, json, os, statistics as st, sys
rows = {}
for f in glob.glob(os.path.join(sys.argv[1], "*_*_*.calibration.json")):
    subject, n, method = os.path.basename(f).split(".")[0].split("_")
    j = json.load(open(f))
    t = j["test"]
    if t["windows"]:
        rows.setdefault((method, int(n)), []).append((t["base_accuracy"], t["calibrated_accuracy"], j["calibration"]["wall_s"]))
for method, n in sorted(rows, key=lambda k: (k[0] != "refit", len(k[0]), k[0], k[1])):
    b, c, w = zip(*rows[(method, n)])
    print(f"{method:>9} {n:>3} s, {len(b)} subjects: base {100*st.mean(b):.1f} % (min {100*min(b):.1f}), "
          f"calibrated {100*st.mean(c):.1f} % (min {100*min(c):.1f}), one calibration {st.mean(w):.2f} s mean, {max(w):.2f} s max")
PY
