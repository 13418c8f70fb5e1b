#!/bin/sh
# build-programs.sh PAELLA_CC SRC_DIR OUT_DIR
# build-programs.sh --check OUT_DIR
#
# Builds the nvcc-style compatibility programs of SRC_DIR (this folder) with
# paella-cc, each twice: OUT_DIR/<name>.inst (instrumented, libpaellart) and
# OUT_DIR/<name>.base (--paella-no-instrument).  Single files, an -rdc
# program of three files, a Makefile project (make NVCC=paella-cc) and a
# CMake project (-DCMAKE_CUDA_COMPILER=paella-cc, static cudart).  Stops at
# the first program that does not build.  gpu-compat.sh runs the pairs.
# --check: every program is there, twice, and each instrumented build links
# libpaellart while no baseline does.
set -eu
programs="minmax atomics coop templates virtual graphs dynpar rdc templates-O0 coop-G make-saxpy cmake-heat"

check() {
	for p in $programs; do
		for f in "$1/$p.inst" "$1/$p.base"; do
			[ -x "$f" ] || { echo "$f: missing" >&2; exit 1; }
		done
		readelf -d "$1/$p.inst" | grep -q 'libpaellart' ||
			{ echo "$p.inst: does not link libpaellart" >&2; exit 1; }
		if readelf -d "$1/$p.base" | grep -q 'libpaellart'; then
			echo "$p.base: links libpaellart (--paella-no-instrument)" >&2
			exit 1
		fi
	done
	echo "$(echo $programs | wc -w) programs, instrumented and not, in $1"
}

if [ "$1" = --check ]; then
	check "$2"
	exit 0
fi
cc=$(realpath "$1")
src=$(realpath "$2")
out=$3
mkdir -p "$out"
out=$(realpath "$out")
work="$out/work"
rm -rf "$work"
mkdir -p "$work"

build() { # build NAME FLAVOUR-FLAGS... -- ARGS...
	name=$1
	shift
	echo "paella-cc $*" >&2
	"$cc" "$@"
}

for flavour in inst base; do
	extra=
	[ "$flavour" = base ] && extra=--paella-no-instrument
	for p in minmax atomics coop templates virtual graphs; do
		build $p $extra -O2 "$src/$p.cu" -o "$out/$p.$flavour"
	done
	# Dynamic parallelism needs relocatable device code, as with nvcc.
	build dynpar $extra -O2 -rdc=true "$src/dynpar.cu" -o "$out/dynpar.$flavour"
	# -rdc over several files: compiled one by one (-dc), then linked.
	for f in main poly table; do
		build rdc $extra -O2 -dc "$src/rdc/$f.cu" -o "$work/rdc-$f.$flavour.o"
	done
	build rdc $extra "$work/rdc-main.$flavour.o" "$work/rdc-poly.$flavour.o" \
		"$work/rdc-table.$flavour.o" -o "$out/rdc.$flavour"
	# -O0 and -G builds of the launch-path program.
	build templates-O0 $extra -O0 "$src/templates.cu" -o "$out/templates-O0.$flavour"
	build coop-G $extra -G "$src/coop.cu" -o "$out/coop-G.$flavour"
	# The Makefile written for nvcc.
	rm -rf "$work/make"
	cp -r "$src/make" "$work/make"
	make -s -C "$work/make" NVCC="$cc" NVCC_EXTRA="$extra" >&2
	cp "$work/make/saxpy" "$out/make-saxpy.$flavour"
	# The CMake project (static cudart, separable compilation);
	# --paella-no-instrument in CMAKE_CUDA_FLAGS, which CMake passes to
	# the compiles only.
	rm -rf "$work/cmake-$flavour"
	cmake -S "$src/cmake" -B "$work/cmake-$flavour" -DCMAKE_CUDA_COMPILER="$cc" \
		-DCMAKE_CUDA_FLAGS="$extra" >/dev/null
	cmake --build "$work/cmake-$flavour" >&2
	cp "$work/cmake-$flavour/heat" "$out/cmake-heat.$flavour"
done
rm -rf "$work"
check "$out"
