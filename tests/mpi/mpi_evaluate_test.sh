#!/usr/bin/env bash
# `myoexo evaluate` on MPI ranks against one process, on the real data (LDA, W/P/L, 33 tasks):
#  1. 3 ranks (oversubscribed on this machine) write the same metrics.json and summary.md, byte for byte;
#  2. a rank that loses a task (MYOEXO_TEST_LOSE_TASK) costs only that task: it is handed out again, the run says
#     so, and the report is still the same;
#  3. mpirun -n 1 is a plain one-process run;
#  4. --shard under mpirun is refused (the ranks already share the tasks).
# Usage: mpi_evaluate_test.sh MYOEXO DATA_ROOT OUT_DIR MPIEXEC. Exit 77 (skipped) without the UCI data.
set -euo pipefail
myoexo=$1 data=$2 out=$3 mpiexec=$4
[ -d "$data/uci-lower-limb" ] || { echo "uci-lower-limb data absent: skipped"; exit 77; }
rm -rf "$out" && mkdir -p "$out"
# Containers run tests as root, which Open MPI refuses unless told; shared memory between ranks on one machine.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMPI_MCA_plm=isolated \
       OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
fail() { echo "FAIL: $*"; exit 1; }
same() {  # the report of run $1 is the one-process report
  cmp -s "$out/one/metrics.json" "$out/$1/metrics.json" || fail "$1: metrics.json differs from the one-process run"
  cmp -s "$out/one/summary.md" "$out/$1/summary.md" || fail "$1: summary.md differs from the one-process run"
}

start=$(date +%s%N)
"$myoexo" --data "$data" evaluate --model lda --no-plots --out "$out/one" > "$out/one.log" 2>&1 || { cat "$out/one.log"; fail "one process"; }
one_ms=$(( ($(date +%s%N) - start) / 1000000 ))

start=$(date +%s%N)
"$mpiexec" -n 3 "$myoexo" --data "$data" evaluate --model lda --no-plots --out "$out/three" > "$out/three.log" 2>&1 \
  || { cat "$out/three.log"; fail "3 ranks"; }
three_ms=$(( ($(date +%s%N) - start) / 1000000 ))
same three
grep -q "33 tasks on 3 MPI ranks" "$out/three.log" || { cat "$out/three.log"; fail "3 ranks: no MPI summary line"; }
[ "$(ls "$out/three/tasks" | grep -c '^task_.*\.json$')" = 33 ] || fail "3 ranks: not 33 task records"
echo "one process: ${one_ms} ms, 3 ranks: ${three_ms} ms (wall, including start-up and data loading)"

MYOEXO_TEST_LOSE_TASK=1 "$mpiexec" -n 3 "$myoexo" --data "$data" evaluate --model lda --no-plots --out "$out/lost" \
  > "$out/lost.log" 2>&1 || { cat "$out/lost.log"; fail "3 ranks, one task lost"; }
grep -q "it is handed out again" "$out/lost.log" || { cat "$out/lost.log"; fail "a lost task was not reported"; }
same lost

"$mpiexec" -n 1 "$myoexo" --data "$data" evaluate --model lda --no-plots --out "$out/single" > "$out/single.log" 2>&1 \
  || { cat "$out/single.log"; fail "mpirun -n 1"; }
same single
grep -q "MPI ranks" "$out/single.log" && fail "mpirun -n 1 is not a one-process run"

if "$mpiexec" -n 2 "$myoexo" --data "$data" evaluate --model lda --no-plots --shard 0/2 --out "$out/shard" \
     > "$out/shard.log" 2>&1; then
  fail "--shard under mpirun was accepted"
fi
grep -q "leave --shard out" "$out/shard.log" || { cat "$out/shard.log"; fail "--shard under mpirun: no reason given"; }
echo "PASS"
