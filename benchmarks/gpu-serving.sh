#!/usr/bin/env bash
# Runs on the GPU machine, from a build made elsewhere (no compiler needed):
# the serving benchmark, `paella bench` with its defaults (the Fig. 11 and
# Fig. 12 mixes, sigma 1.5 and 2, every system, the load sweep from the
# measured saturation, the fairness sweep), then the plots where Python has
# matplotlib.  CSV, logs and plots under OUTDIR; the summary last.
#   benchmarks/gpu-serving.sh [BUILD_DIR [OUTDIR]] [-- paella bench options]
# (default build and out; e.g. -- --requests 3000 for the original's count)
set -uo pipefail
b=${1:-build}
out=${2:-${OUT:-out}}
shift $(( $# > 2 ? 2 : $# ))
[ "${1:-}" = "--" ] && shift
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$out/card.txt"
echo "commit ${PAELLA_COMMIT:-unknown}" | tee "$out/commit.txt"
command -v nvidia-cuda-mps-control >/dev/null ||
	echo "nvidia-cuda-mps-control not in PATH: the mps system will not run"

start=$(date +%s)
# stdout: the summary; stderr: progress and one line per point.
timeout 1500 "$b/tools/paella/paella" bench --backend cuda --images "$b/kernels/zoo" \
	--csv "$out/serving.csv" "$@" >"$out/summary.txt" 2>"$out/bench.log"
rc=$?
echo "paella bench exited $rc after $(( $(date +%s) - start )) s" | tee -a "$out/bench.log"

src=$(cd "$(dirname "$0")" && pwd)
if python3 -c 'import matplotlib' 2>/dev/null; then
	python3 "$src/plot_serving.py" "$out/serving.csv" "$out/plots" >"$out/plots.log" 2>&1 ||
		echo "plotting failed: see $out/plots.log"
else
	echo "no matplotlib here: plot elsewhere with benchmarks/plot_serving.py $out/serving.csv DIR"
fi
grep -E 'saturation|not run|failed|mismatch|giving up|error' "$out/bench.log" | tail -n 40
cat "$out/summary.txt"
exit $rc
