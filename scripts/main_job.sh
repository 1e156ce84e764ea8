#!/usr/bin/env bash
# The main job (README, first command): install + build, summarise the UCI lower-limb data set, and write
# the report (report/summary.md with dataset.json and per-class spectrograms).
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
"$myoexo" --data "$data" report --out report
