#!/bin/sh
# test-verdicts.sh GPU_COMPAT_SH
#
# gpu-compat.sh's verdicts, on stand-in programs (shell scripts, no GPU):
# the same output passes; a different one fails; an instrumented output
# that one of the baseline's later runs also gives passes (a printed race);
# a result file named in .outputs that differs fails; both builds failing
# alike is "both", and fails the call unless
# COMPAT_BOTH_OK=1.
set -eu
script=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/bin/lib"
cd "$dir/bin"
printf '#!/bin/sh\necho same 1\n' >ok.base
cp ok.base ok.inst
printf '#!/bin/sh\necho right\n' >bad.base
printf '#!/bin/sh\necho wrong\n' >bad.inst
# The baseline prints A on its first two runs, B after: a race it prints,
# rarely one way (two baseline runs alone would call B a failure).
printf '#!/bin/sh\necho x >>"%s/seen"\nif [ $(wc -l <"%s/seen") -gt 2 ]; then echo B; else echo A; fi\n' \
	"$dir" "$dir" >race.base
printf '#!/bin/sh\necho B\n' >race.inst
# Rates in any unit, times in parentheses and names made of a process id
# are not compared.
printf '#!/bin/sh\necho sum 42; echo 100.5 Mpixels/sec; echo done in 3.2 \\(ms\\); echo shm123\n' >rate.base
printf '#!/bin/sh\necho sum 42; echo 99.1 Mpixels/sec; echo done in 4.0 \\(ms\\); echo shm456\n' >rate.inst
# Results written to a file (named in .outputs) are compared too.
printf '#!/bin/sh\necho done; echo 1.5 >result.txt\n' >file.base
printf '#!/bin/sh\necho done; echo 1.25 >result.txt\n' >file.inst
echo result.txt >file.outputs
printf '#!/bin/sh\necho no data; exit 1\n' >nodata.base
cp nodata.base nodata.inst
chmod +x ./*.base ./*.inst

fail() { echo "FAIL: $*"; exit 1; }
verdict() { awk -v n="$1" '$1 == n { print $4 }' "$dir/out/table.txt"; }

if sh "$script" "$dir/bin" "$dir/out" >"$dir/log" 2>&1; then
	fail "a differing program did not fail the call"
fi
[ "$(verdict ok)" = pass ] || fail "ok: $(verdict ok)"
[ "$(verdict bad)" = FAIL ] || fail "bad: $(verdict bad)"
[ "$(verdict race)" = pass ] || fail "race: $(verdict race)"
[ "$(verdict nodata)" = both ] || fail "nodata: $(verdict nodata)"
[ "$(verdict file)" = FAIL ] || fail "file: a different result file gave $(verdict file)"
[ "$(verdict rate)" = pass ] || fail "rate: $(verdict rate)"
[ -e "$dir/bin/result.txt" ] && fail "file: result.txt left behind"
grep -q '3 passed, 2 failed, 1 failed in both builds' "$dir/log" || fail "summary: $(tail -1 "$dir/log")"
# In shards: more jobs than programs; each program has one row; the same
# folder used again starts a new table.
rm -f "$dir/seen"
for n in 1 2; do
	COMPAT_JOBS=8 sh "$script" "$dir/bin" "$dir/sharded" >"$dir/log" 2>&1 || true
	rm -f "$dir/seen"
done
[ "$(wc -l <"$dir/sharded/table.txt")" = 6 ] || fail "sharded: $(wc -l <"$dir/sharded/table.txt") rows for 6 programs"
rm -f "$dir/bin/bad.base" "$dir/bin/bad.inst" "$dir/bin/file.inst" "$dir/bin/file.base" "$dir/seen"
rm -rf "$dir/out"
sh "$script" "$dir/bin" "$dir/out" >"$dir/log" 2>&1 && fail "both-fail passed without COMPAT_BOTH_OK"
rm -f "$dir/seen"
COMPAT_BOTH_OK=1 sh "$script" "$dir/bin" "$dir/out2" >"$dir/log" 2>&1 ||
	fail "COMPAT_BOTH_OK=1 still failed: $(tail -1 "$dir/log")"
echo "OK: pass, FAIL, a race the baseline also prints, rates and process ids, a result file, both-fail, shards"
