#!/usr/bin/env bash
# The main job (README, first command): install + build, then `myoexo report`: data-set summary, per-class
# spectrograms, LDA and CNN (configs/cnn1d.toml: trained here, W/P 30 epochs, L 10) under protocols W/P/L,
# and a real-time replay of a held-out recording through the whole chain into the simulated exoskeleton
# with both models. Writes report/report.html (open it in a browser; summary.md is the same in Markdown). About 11 min on 2 idle cores; MYOEXO_QUICK=1 runs a
# CI-sized version (2 CNN epochs, one held-out subject) in a few minutes.
# Usage: bash scripts/main_job.sh        (data: $MYOEXO_DATA, else ../shared/datasets; report: ./report)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

myoexo=build/src/app/myoexo
data="${MYOEXO_DATA:-../shared/datasets}"
if [ ! -d "$data/uci-lower-limb" ]; then
  # A fresh machine: fetch the public data set (fails with a clear message, never hangs, without internet).
  "$myoexo" download uci-lower-limb --dest "$data"
fi

"$myoexo" --data "$data" info "$data/uci-lower-limb"
quick=()
if [ "${MYOEXO_QUICK:-0}" = "1" ]; then quick=(--quick); fi
"$myoexo" --data "$data" report --out report "${quick[@]}"
