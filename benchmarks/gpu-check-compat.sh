#!/bin/sh
# Runs on the GPU machine (no compiler there; it builds nothing): the `gpu`
# test suite from a carried build, then the nvcc drop-in's corpus (public
# CUDA programs built here by paella-cc twice, instrumented and not), each
# pair run and compared by tests/gpu/compat/gpu-compat.sh.
#
#   benchmarks/gpu-check-compat.sh BUILD_DIR CORPUS_TGZ OUT_DIR
#
# CORPUS_TGZ: a .tar.gz of one folder all/ (see benchmarks/results/compat.md
# for how it is made).  SERVE=1 adds the short serving check (the 8-model mix,
# every response's logits against direct mode's) while time is left.
# Programs that fail with 8 sharing the GPU run again alone.
# COMPAT_BUDGET (default 300) bounds the corpus run in seconds.
# Logs in OUT_DIR; short tables last; exit 1 if anything failed.
set -u
b=$1 tgz=$2 out=$3
mkdir -p "$out"
rc=0
start=$(date +%s)
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$out/card.txt"

echo "== gpu suite"
sh "$(dirname "$0")/../tests/gpu/run-gpu-suite.sh" "$b" "$out/suite" >"$out/suite.log" 2>&1 || rc=1

echo "== corpus"
work=$(mktemp -d)
tar -C "$work" -xzf "$tgz"
COMPAT_TIMEOUT=${COMPAT_TIMEOUT:-40} COMPAT_JOBS=${COMPAT_JOBS:-8} COMPAT_BOTH_OK=1 \
	COMPAT_BUDGET=${COMPAT_BUDGET:-300} \
	sh "$(dirname "$0")/../tests/gpu/compat/gpu-compat.sh" "$work/all" "$out/compat" \
	>"$out/compat.log" 2>&1 || rc=1

# What failed with 8 programs sharing the GPU runs again alone: a program
# that fails only under sharing (memory, a race) says nothing about us.
again=$(awk '$4 == "FAIL" || $4 == "both" { print $1 }' "$out/compat/table.txt" 2>/dev/null)
left=$((500 - ($(date +%s) - start)))
if [ -n "$again" ] && [ $left -gt 60 ]; then
	echo "== alone: $(echo $again | wc -w) programs ($left s left)"
	COMPAT_TIMEOUT=${COMPAT_TIMEOUT:-40} COMPAT_BOTH_OK=1 COMPAT_BUDGET=$((left - 40)) \
		sh "$(dirname "$0")/../tests/gpu/compat/gpu-compat.sh" "$work/all" "$out/alone" $again \
		>"$out/alone.log" 2>&1 || rc=1
fi

if [ "${SERVE:-0}" = 1 ]; then
	left=$((560 - ($(date +%s) - start)))
	if [ $left -gt 60 ]; then
		echo "== serving check ($left s left)"
		timeout "$left" "$b/tools/paella/paella" bench --backend cuda --images "$b/kernels/zoo" \
			--mix fig11 --systems paella,cuda-ms --sigmas 1.5 --loads 0.5,0.9 \
			--requests 300 --fairness none -q --csv "$out/serve-zoo.csv" \
			>"$out/serve-zoo.log" 2>&1 || rc=1
	else
		echo "== serving check: not run ($left s left)"
	fi
fi

grep -E "FAIL|both|skip" "$out/compat/table.txt" 2>/dev/null | grep -v " pass " | head -40
tail -n 3 "$out/compat.log"
[ -f "$out/alone.log" ] && { echo "-- alone:"; grep -vE " pass " "$out/alone.log" | tail -n 30; }
cat "$out/suite.log"
[ -f "$out/serve-zoo.log" ] && tail -n 15 "$out/serve-zoo.log"
rm -rf "$work"
exit $rc
