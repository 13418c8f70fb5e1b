#!/usr/bin/env bash
# Runs on the GPU machine, from a build made elsewhere (the GPU machine has no
# clang): every GPU check and benchmark in one go, logs and CSV under $OUT,
# short tables last.
#   benchmarks/gpu-check.sh [BUILD_DIR]      (default: build)
set -uo pipefail
b=${1:-build}
out=${OUT:-out}
mkdir -p "$out"
rc=0

echo "== card"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv | tee "$out/card.txt"
echo "commit ${PAELLA_COMMIT:-unknown}" | tee "$out/commit.txt"

echo "== instrumented kernels: outputs, progress, completion"
"$b/tests/gpu/test-instrumented-kernels" --images "$b/kernels" \
	--probe "$b/tests/gpu/progress_probe.cubin" --csv "$out/instrumented-kernels.csv" \
	>"$out/instrumented-kernels.log" 2>&1 || rc=1

echo "== instrumentation overhead"
"$b/benchmarks/overhead" --images "$b/kernels" --spin-dir "$b/benchmarks" \
	--csv "$out/overhead.csv" >"$out/overhead.log" 2>&1 || rc=1

tail -n 40 "$out/instrumented-kernels.log"
tail -n 25 "$out/overhead.log"
exit $rc
