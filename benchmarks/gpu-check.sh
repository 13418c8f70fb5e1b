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

# With the runtime's default (no progress signal) every kernel runs its
# plain copy and costs nothing by construction: measure the signals as they
# run when turned on (tail markers, then the sampled reports under --no-plain).
for mode in sample count; do
	echo "== instrumentation overhead, $mode mode (PAELLA_PROGRESS=markers)"
	PAELLA_PROGRESS=markers "$b/benchmarks/overhead" --images "$b/kernels" --spin-dir "$b/benchmarks" --notify $mode \
		--csv "$out/overhead-$mode.csv" >"$out/overhead-$mode.log" 2>&1 || rc=1
done

echo "== instrumentation overhead, sample mode, instrumented code forced (--no-plain)"
"$b/benchmarks/overhead" --images "$b/kernels" --spin-dir "$b/benchmarks" --notify sample --no-plain \
	--csv "$out/overhead-sample-no-plain.csv" >"$out/overhead-sample-no-plain.log" 2>&1 || rc=1

echo "== instrumentation overhead, control: the plain build against a second load of itself"
"$b/benchmarks/overhead" --images "$b/kernels" --spin-dir "$b/benchmarks" --control \
	--csv "$out/overhead-control.csv" >"$out/overhead-control.log" 2>&1 || rc=1

echo "== notification latency"
"$b/benchmarks/notify-latency" --images "$b/benchmarks" --runs "${NOTIFY_RUNS:-200}" \
	--csv "$out/notify-latency.csv" >"$out/notify-latency.log" 2>&1 || rc=1

echo "== tail marker: does a low-priority one-block kernel start at a big kernel's last dispatch?"
"$b/benchmarks/tail-marker" --images "$b/benchmarks" --csv "$out/tail-marker.csv" \
	>"$out/tail-marker.log" 2>&1 || rc=1

tail -n 48 "$out/instrumented-kernels.log"
tail -n 18 "$out/overhead-count.log"
tail -n 18 "$out/overhead-sample.log"
tail -n 18 "$out/overhead-sample-no-plain.log"
tail -n 18 "$out/overhead-control.log"
tail -n 30 "$out/notify-latency.log"
tail -n 26 "$out/tail-marker.log"
exit $rc
