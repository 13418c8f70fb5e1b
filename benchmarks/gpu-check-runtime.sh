#!/usr/bin/env bash
# Runs on the GPU machine, from a build made elsewhere: the runtime's GPU
# checks (transparent mode, the 8-model mix served under several policies) and
# the model zoo's check.  Logs and CSV under $OUT; short tables last.
#   benchmarks/gpu-check-runtime.sh [BUILD_DIR]      (default: build)
set -uo pipefail
b=${1:-build}
out=${OUT:-out}
mkdir -p "$out"
rc=0
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$out/card.txt"
echo "commit ${PAELLA_COMMIT:-unknown}" | tee "$out/commit.txt"

echo "== transparent mode: a plain CUDA program built with paella-cc"
LD_LIBRARY_PATH="$b/runtime" timeout 60 "$b/tests/gpu/transparent" 2>&1 | tee "$out/transparent.log" || rc=1

echo "== dispatch: a 100-kernel model through libpaellart against direct launches and a graph"
timeout 120 "$b/benchmarks/dispatch" --images "$b/kernels" --csv "$out/dispatch.csv" >"$out/dispatch.log" 2>&1 || rc=1

echo "== serving: the 8-model mix through paella bench (every response's logits checked)"
timeout 300 "$b/tools/paella/paella" bench --backend cuda --images "$b/kernels/zoo" --mix fig11 \
	--systems paella,paella-fifo,paella-fair-10,cuda-ms --sigmas 1.5 --loads 0.5,0.9 \
	--requests 500 --fairness none -q --csv "$out/serve-zoo.csv" >"$out/serve-zoo.log" 2>&1 || rc=1

echo "== model zoo"
PAELLA_COMMIT=${PAELLA_COMMIT:-unknown} timeout 300 kernels/zoo/gpu-check.sh "$b" /tmp/zoo >"$out/zoo.log" 2>&1 || rc=1
tar czf "$out/zoo.tgz" -C /tmp/zoo --exclude=data . 2>/dev/null

tail -n 25 "$out/zoo.log"
cat "$out/dispatch.log"
cat "$out/serve-zoo.log"
exit $rc
