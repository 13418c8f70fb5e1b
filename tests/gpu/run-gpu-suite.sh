#!/bin/sh
# run-gpu-suite.sh BUILD_DIR OUT_DIR
#
# The meson `gpu` suite on a GPU machine that has no meson or compiler: runs
# each of its tests from a build carried there (instrumented kernels, direct
# mode, transparent mode, capture, the nvcc-style compatibility programs),
# with LD_LIBRARY_PATH naming the carried runtime.  Logs in OUT_DIR; prints
# one line a test, then "N passed, N failed, N skipped"; exits 1 if any
# failed, 77 if all skipped (no GPU), else 0.
set -u
b=$(cd "$1" && pwd)
out=$2
mkdir -p "$out"
LD_LIBRARY_PATH="$b/runtime${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
pass=0 fail=0 skip=0

one() { # one NAME TIMEOUT COMMAND...
	name=$1 limit=$2
	shift 2
	timeout "$limit" "$@" >"$out/$name.log" 2>&1
	rc=$?
	case $rc in
	0) pass=$((pass + 1)) verdict=pass ;;
	77) skip=$((skip + 1)) verdict=skip ;;
	*) fail=$((fail + 1)) verdict="FAIL (exit $rc; $out/$name.log)" ;;
	esac
	printf '%-24s %s\n' "$name" "$verdict"
}

one instrumented-kernels 300 "$b/tests/gpu/test-instrumented-kernels" --images "$b/kernels" \
	--probe "$b/tests/gpu/progress_probe.cubin" --csv "$out/instrumented-kernels.csv"
one direct 300 "$b/tests/gpu/test-direct" --images "$b/kernels"
one transparent 120 "$b/tests/gpu/transparent"
one capture 120 "$b/tests/gpu/capture"
# The compatibility programs link libpaellart through LD_LIBRARY_PATH here.
mkdir -p "$out/compat-bin"
cp "$b"/tests/gpu/compat/bin/*.inst "$b"/tests/gpu/compat/bin/*.base "$out/compat-bin/"
one compat 300 sh "$(dirname "$0")/compat/gpu-compat.sh" "$out/compat-bin" "$out/compat"
tail -n 14 "$out/compat.log"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -gt 0 ] && exit 1
[ $pass -eq 0 ] && exit 77
exit 0
