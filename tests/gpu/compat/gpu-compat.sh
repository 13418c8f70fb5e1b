#!/bin/sh
# gpu-compat.sh BUILD_DIR OUT_DIR [NAME...]
#
# On a GPU machine (no compiler needed): runs every pair BUILD_DIR/<name>.inst
# (built by paella-cc, instrumented) and BUILD_DIR/<name>.base (built with
# --paella-no-instrument) and compares what they print.  The instrumented
# run has PAELLA_PLAIN_COPIES=0, so libpaellart launches the instrumented
# kernels with a launch record, never their plain copies.
#
# BUILD_DIR/<name>.args, where present, holds the program's arguments;
# BUILD_DIR/<name>.dir, a folder to run it in (its data);
# BUILD_DIR/<name>.outputs, the files (in that folder) the program writes
# its results to: they are appended to its output and compared too, then
# removed before the next run.  BUILD_DIR/lib is
# put first on LD_LIBRARY_PATH (libpaellart, and the CUDA libraries when
# carried).  Output is compared after dropping timing lines (times, rates)
# and pointer values.  Where the outputs differ the baseline runs again, up
# to COMPAT_BASE_RUNS (default 3) times: an instrumented output equal to one
# of those runs passes; where the baseline's runs differ from each other (a
# random seed, a race it prints), only the exit statuses are compared
# ("nondet").  A program whose builds both exit non-zero alike is "both"
# (same failure), not a pass: it shows nothing about the instrumentation.
# Prints a table and "N passed, N failed, N failed in both builds, N
# skipped"; exits 1 if any failed (or failed in both builds, unless
# COMPAT_BOTH_OK=1, for corpora with programs that need missing data), 77
# if every program skipped (no GPU), else 0.
#
# COMPAT_TIMEOUT (default 60) bounds each run in seconds; COMPAT_BUDGET
# (default 500) the whole call: programs not started by then are listed as
# "not run" (counted as skipped), to be given by name to a second call.
# COMPAT_JOBS=N (default 1) runs the programs in N shards at once, sharing
# the GPU (outputs are compared, not timed), and merges their tables.
set -u
bin=$(cd "$1" && pwd)
out=$2
shift 2
mkdir -p "$out"
out=$(cd "$out" && pwd)
limit=${COMPAT_TIMEOUT:-60}
both_ok=${COMPAT_BOTH_OK:-0}
budget=${COMPAT_BUDGET:-500}
base_runs=${COMPAT_BASE_RUNS:-3}
start=$(date +%s)
LD_LIBRARY_PATH="$bin/lib${CUDA_PATH:+:$CUDA_PATH/lib64}:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH

normalise() { # normalise FILE NAME: the program's own file name (it may print
	# argv[0]) reads the same for both builds
	# (and a name made of a process id, shm<pid>, reads the same too)
	sed -E "s/0x[0-9a-fA-F]+/0xADDR/g; s/shm[0-9]+/shmPID/g; s#[^ \[]*$2\.(base|inst)#$2#g" "$1" |
		grep -viE 'time|[0-9] *\(?(ms|msec|us|usec|s|sec|secs|seconds)\)?\b|[a-z]/s(ec)?\b|GB/s|MB/s|flop|tops\b|bandwidth|throughput|elapsed|fps|speedup|per sec|perf|clock|cycles|duration|latency|rate|iterations while waiting' ||
		true
}

run() { # run NAME FLAVOUR TAG: output in $out/NAME.TAG.out, status echoed
	name=$1 flavour=$2 tag=$3
	args=
	[ -f "$bin/$name.args" ] && args=$(cat "$bin/$name.args")
	dir="$bin"
	[ -d "$bin/$name.dir" ] && dir="$bin/$name.dir"
	(cd "$dir" && PAELLA_PLAIN_COPIES=0 timeout "$limit" "$bin/$name.$flavour" $args \
		>"$out/$name.$tag.out" 2>"$out/$name.$tag.err" </dev/null)
	status=$?
	if [ -f "$bin/$name.outputs" ]; then
		for f in $(cat "$bin/$name.outputs"); do
			echo "== $f"
			cat "$dir/$f" 2>/dev/null || echo "(not written)"
			rm -f "$dir/$f"
		done >>"$out/$name.$tag.out"
	fi
	echo $status
}

if [ $# -gt 0 ]; then
	names="$*"
else
	names=$(cd "$bin" && ls *.inst 2>/dev/null | sed 's/\.inst$//')
fi
jobs=${COMPAT_JOBS:-1}
if [ "$jobs" -gt 1 ]; then
	set -- $names
	rm -f "$out/table.txt"
	k=0
	while [ $k -lt "$jobs" ]; do
		shard=
		i=0
		for name in "$@"; do
			[ $((i % jobs)) = $k ] && shard="$shard $name"
			i=$((i + 1))
		done
		# An empty shard (fewer programs than jobs) runs nothing: named
		# no programs, the script would run them all.
		[ -n "$shard" ] &&
			COMPAT_JOBS=1 sh "$0" "$bin" "$out/shard-$k" $shard >"$out/shard-$k.log" 2>&1 &
		k=$((k + 1))
	done
	wait
	cat "$out"/shard-*/table.txt 2>/dev/null | sort >"$out/table.txt"
	printf '%-40s %6s %6s %-8s %s\n' program base inst verdict note
	cat "$out/table.txt"
	pass=$(awk '$4 == "pass"' "$out/table.txt" | wc -l)
	fail=$(awk '$4 == "FAIL"' "$out/table.txt" | wc -l)
	both=$(awk '$4 == "both"' "$out/table.txt" | wc -l)
	skip=$(awk '$4 == "skip"' "$out/table.txt" | wc -l)
	echo "$pass passed, $fail failed, $both failed in both builds, $skip skipped"
	[ "$fail" -gt 0 ] && exit 1
	[ "$both" -gt 0 ] && [ "$both_ok" != 1 ] && exit 1
	[ "$pass" -eq 0 ] && exit 77
	exit 0
fi
pass=0 fail=0 both=0 skip=0
: >"$out/table.txt" # a folder used before starts a new table
printf '%-40s %6s %6s %-8s %s\n' program base inst verdict note
for name in $names; do
	if [ $(($(date +%s) - start)) -gt "$budget" ]; then
		skip=$((skip + 1))
		printf '%-40s %6s %6s %-8s %s\n' "$name" - - skip "not run: COMPAT_BUDGET spent" |
			tee -a "$out/table.txt"
		continue
	fi
	b1=$(run "$name" base base1)
	i1=$(run "$name" inst inst)
	verdict= note=
	if [ "$b1" = 77 ] && [ "$i1" = 77 ]; then
		verdict=skip note="exit 77 (no GPU)"
	elif [ "$b1" != "$i1" ]; then
		verdict=FAIL note="exit status differs"
	else
		normalise "$out/$name.base1.out" "$name" >"$out/$name.base1.norm"
		normalise "$out/$name.inst.out" "$name" >"$out/$name.inst.norm"
		if cmp -s "$out/$name.base1.norm" "$out/$name.inst.norm"; then
			verdict=pass note="same output"
		else
			# Run the baseline again (COMPAT_BASE_RUNS times at most): the
			# instrumented output may be one the baseline also gives (a
			# printed race), or the baseline may differ from itself.
			verdict=FAIL note="output differs (diff $name.base1.norm $name.inst.norm)"
			varies=0
			k=2
			while [ $k -le $((base_runs + 1)) ]; do
				bk=$(run "$name" base base$k)
				normalise "$out/$name.base$k.out" "$name" >"$out/$name.base$k.norm"
				if [ "$bk" = "$b1" ] && cmp -s "$out/$name.base$k.norm" "$out/$name.inst.norm"; then
					verdict=pass note="same output as the baseline's run $k (its output varies)"
					break
				fi
				cmp -s "$out/$name.base1.norm" "$out/$name.base$k.norm" || varies=1
				k=$((k + 1))
			done
			if [ "$verdict" = FAIL ] && [ $varies = 1 ]; then
				verdict=pass note="nondet: baseline differs from itself; statuses equal"
			fi
		fi
		[ "$b1" = 124 ] && note="$note; both timed out"
		[ "$b1" != 0 ] && [ "$b1" != 124 ] && note="$note; both exit $b1"
		[ "$b1" != 0 ] && [ "$verdict" = pass ] && verdict=both
	fi
	case $verdict in
	pass) pass=$((pass + 1)) ;;
	both) both=$((both + 1)) ;;
	skip) skip=$((skip + 1)) ;;
	*) fail=$((fail + 1)) ;;
	esac
	printf '%-40s %6s %6s %-8s %s\n' "$name" "$b1" "$i1" "$verdict" "$note" | tee -a "$out/table.txt"
done
echo "$pass passed, $fail failed, $both failed in both builds, $skip skipped"
[ $fail -gt 0 ] && exit 1
[ $both -gt 0 ] && [ "$both_ok" != 1 ] && exit 1
[ $pass -eq 0 ] && exit 77
exit 0
