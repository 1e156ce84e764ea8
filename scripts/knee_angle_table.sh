#!/usr/bin/env bash
# The knee-angle tables of the README: continuous knee angle from EMG on the UCI lower-limb data.
#  1. `myoexo evaluate --target knee_angle` for each model (ridge by default; networks by config name) under
#     W and L, per movement and pooled: RMSE, NMAE, R^2 (mean / worst subject), from each run's angle_metrics.json.
#  2. Replays of every sitting (sen) and standing (pie) recording through the whole chain into the simulated
#     exoskeleton, with an lda_context LDA + knee-angle ridge (or network) trained on the other subjects, proportional mode on
#     and off: the exoskeleton knee against the recorded goniometer (RMSE, lag) and the estimate's own RMSE.
# Usage: bash scripts/knee_angle_table.sh [OUT_DIR] [MODELS...]
#   defaults: OUT_DIR=knee-angle-table, MODELS=ridge; networks: MYOEXO_EPOCHS=30 MYOEXO_EPOCHS_LOSO=10 bash
#   scripts/knee_angle_table.sh out ridge cnn1d_context.  MYOEXO_REPLAYS=0 skips part 2, MYOEXO_TABLE=0 part 1; part 2 with the knee-angle
#   network in the live chain: MYOEXO_KNEE_MODEL=cnn1d_context MYOEXO_KNEE_EPOCHS=10; the trees: MYOEXO_KNEE_MODEL=trees.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
myoexo=$root/build/src/app/myoexo
out=${1:-$root/knee-angle-table}
shift $(( $# > 0 ? 1 : 0 )) || true
models=${*:-ridge}
data=${MYOEXO_DATA:-$root/../shared/datasets}/uci-lower-limb
[ -x "$myoexo" ] || { echo "build first: bash scripts/test.sh or cmake --build build" >&2; exit 2; }
[ -d "$data" ] || { echo "no data at $data (myoexo download uci-lower-limb)" >&2; exit 2; }
mkdir -p "$out"
epochs=()
[ -n "${MYOEXO_EPOCHS:-}" ] && epochs+=(--epochs "$MYOEXO_EPOCHS")
[ -n "${MYOEXO_EPOCHS_LOSO:-}" ] && epochs+=(--epochs-loso "$MYOEXO_EPOCHS_LOSO")

if [ "${MYOEXO_TABLE:-1}" = "0" ]; then
  models=""  # part 2 only
else
  echo "| model | protocol | movements | RMSE deg (mean / worst) | NMAE % (mean / worst) | R^2 (mean / worst) | fit s |"
  echo "|---|---|---|---|---|---|---|"
fi
for m in $models; do
  dir="$out/$m"
  start=$(date +%s)
  "$myoexo" -q evaluate --target knee_angle --model "$m" "${epochs[@]}" --no-plots --out "$dir" > "$dir.log" 2>&1 ||
    { echo "  $m failed: $(tail -1 "$dir.log")" >&2; continue; }
  /usr/bin/python3 - "$dir/angle_metrics.json" "$m" "$(( $(date +%s) - start ))" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
for p in j["protocols"]:
    s = p["summary"]
    print(f"| {sys.argv[2]} | {p['protocol']} | {p['scope']} | {s['mean_rmse_deg']:.1f} / {s['worst_rmse_deg']:.1f} | "
          f"{s['mean_nmae_pct']:.1f} / {s['worst_nmae_pct']:.1f} | {s['mean_r2']:.2f} / {s['worst_r2']:.2f} | {sys.argv[3]} |")
EOF
done

[ "${MYOEXO_REPLAYS:-1}" = "0" ] && exit 0
# The live knee model: ridge (default) or a network config (MYOEXO_KNEE_MODEL=cnn1d_context MYOEXO_KNEE_EPOCHS=10);
# MYOEXO_REPLAY_FILTER=sen keeps the sitting recordings only.
knee_model=${MYOEXO_KNEE_MODEL:-ridge}
knee_epochs=()
[ -n "${MYOEXO_KNEE_EPOCHS:-}" ] && knee_epochs+=(--knee-epochs "$MYOEXO_KNEE_EPOCHS")
echo
echo "| recording | knee RMSE vs goniometer, proportional off / on (deg) | lag off / on (ms) | estimate RMSE (deg) | following |"
echo "|---|---|---|---|---|"
for f in "$data"/*/*sen.txt "$data"/*/*pie.txt; do
  name=$(basename "$f" .txt)
  [[ "$name" == *"${MYOEXO_REPLAY_FILTER:-}"* ]] || continue
  # 2Npie and 2Nsen are copies of 1N's files: training on "the other subjects" would include their content.
  case "$name" in 2Npie|2Nsen) continue ;; esac
  # Trained once per replay (the LDA and the knee model, without the replayed subject), then replayed with
  # proportional mode off and on from the saved model.
  model="$out/replay/${name}_model.json"
  mkdir -p "$out/replay"
  "$myoexo" -q run --replay "$f" --train-on "$data" --lda-context 750 --knee-angle --knee-model "$knee_model" \
            "${knee_epochs[@]}" --no-plots --save-model "$model" \
            --out "$out/replay/${name}_off" > "$out/replay_${name}_off.log" 2>&1 ||
    { echo "  $name off failed: $(tail -1 "$out/replay_${name}_off.log")" >&2; continue; }
  "$myoexo" -q run --replay "$f" --model "$model" --proportional --no-plots \
            --out "$out/replay/${name}_on" > "$out/replay_${name}_on.log" 2>&1 ||
    { echo "  $name on failed: $(tail -1 "$out/replay_${name}_on.log")" >&2; continue; }
  /usr/bin/python3 - "$out/replay/${name}_off/summary.json" "$out/replay/${name}_on/summary.json" "$name" <<'EOF'
import json, sys
off, on = (json.load(open(p))["knee_tracking"] for p in sys.argv[1:3])
f = lambda v, fmt: "-" if v is None else format(v, fmt)
print(f"| {sys.argv[3]} | {f(off['exo_rmse_deg'], '.1f')} / {f(on['exo_rmse_deg'], '.1f')} | "
      f"{f(off['exo_lag_ms'], '.0f')} / {f(on['exo_lag_ms'], '.0f')} | {f(on.get('estimate_rmse_deg'), '.1f')} | "
      f"{100 * on['following_fraction']:.0f} % |")
EOF
done
