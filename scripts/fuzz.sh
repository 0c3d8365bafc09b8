#!/usr/bin/env bash
# A long fuzzing campaign of tinypipe's reader and generator (tests/fuzz/tp_fuzz.py): crafted
# and byte-mutated .tflite models, each refused cleanly or compiled under ASan+UBSan and compared
# with TFLM. Splits the cases over JOBS processes; exits 1 if any case is a finding.
#
#   scripts/fuzz.sh [SEED] [CASES] [JOBS]        e.g. scripts/fuzz.sh 1 5000 2
#
# Figures go to fuzz-SEED.json (one part per job: fuzz-SEED.partN.json); set CORPUS=dir to keep
# one model per distinct outcome there.
set -euo pipefail
cd "$(dirname "$0")/.."
SEED=${1:-1}
CASES=${2:-5000}
JOBS=${3:-2}
PY=${PYTHON:-.venv/bin/python}
per=$(( (CASES + JOBS - 1) / JOBS ))
pids=()
for ((j = 0; j < JOBS; j++)); do
    start=$(( j * per ))
    n=$(( CASES - start < per ? CASES - start : per ))
    (( n > 0 )) || continue
    nice "$PY" -u tests/fuzz/tp_fuzz.py --seed "$SEED" --start "$start" --cases "$n" \
        --json "fuzz-$SEED.part$j.json" ${CORPUS:+--corpus "$CORPUS"} > "fuzz-$SEED.part$j.log" 2>&1 &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
"$PY" tests/fuzz/tp_fuzz.py --merge "fuzz-$SEED.json" fuzz-"$SEED".part*.json
exit $status
