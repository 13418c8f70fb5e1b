#!/bin/sh
# compat-bundle.sh BUILD_DIR OUT_TGZ CORPUS_DIR...
#
# Packs what gpu-compat.sh runs on a GPU machine into one .tar.gz of a
# folder all/: from each CORPUS_DIR (made by compat-corpus.sh) the program
# pairs <name>.inst/.base with their .args, .outputs and .dir run folders;
# the project's own compatibility programs (BUILD_DIR/tests/gpu/compat/bin)
# as compat-<name>; and lib/libpaellart.so.0 from BUILD_DIR/runtime (the
# corpus programs find it through LD_LIBRARY_PATH there).
#
#   benchmarks/gpu-check-compat.sh BUILD_DIR OUT_TGZ OUT   (on the GPU machine)
set -eu
build=$1 tgz=$2
shift 2
[ $# -gt 0 ] || { echo "usage: compat-bundle.sh BUILD_DIR OUT_TGZ CORPUS_DIR..." >&2; exit 2; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
all="$stage/all"
mkdir -p "$all/lib"
pairs=0
for dir in "$@"; do
	for inst in "$dir"/*.inst; do
		[ -e "$inst" ] || continue
		name=$(basename "$inst" .inst)
		[ -f "$dir/$name.base" ] || continue
		cp "$inst" "$dir/$name.base" "$all/"
		for extra in args outputs; do
			[ -f "$dir/$name.$extra" ] && cp "$dir/$name.$extra" "$all/"
		done
		[ -d "$dir/$name.dir" ] && cp -r "$dir/$name.dir" "$all/"
		pairs=$((pairs + 1))
	done
done
for inst in "$build"/tests/gpu/compat/bin/*.inst; do
	[ -e "$inst" ] || continue
	name=$(basename "$inst" .inst)
	cp "$inst" "$all/compat-$name.inst"
	cp "$build/tests/gpu/compat/bin/$name.base" "$all/compat-$name.base"
	pairs=$((pairs + 1))
done
cp -L "$build/runtime/libpaellart.so.0" "$all/lib/"
tar -C "$stage" -cf - all | gzip >"$tgz"
echo "$pairs pairs, $(du -sh "$all" | cut -f1) unpacked, $(du -sh "$tgz" | cut -f1) packed: $tgz"
