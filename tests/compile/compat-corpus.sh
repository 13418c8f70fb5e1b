#!/bin/sh
# compat-corpus.sh PAELLA_CC CHECKOUT OUT_DIR [SAMPLE...]
#
# Builds the programs of a checkout of NVIDIA/cuda-samples (CUDA 13 branch,
# Samples/<category>/<sample>/) with paella-cc as their CMakeLists.txt would
# with nvcc: the sources named by add_executable, each compiled on its own
# (-rdc=true where the target sets CUDA_SEPARABLE_COMPILATION), then linked
# with the toolkit libraries the target names and the shared CUDA runtime
# (CMake's default is the static one, which tests/gpu/compat covers; shared
# here keeps the binaries small enough to carry to a GPU machine).  Twice: OUT_DIR/<sample>.inst (instrumented) and
# OUT_DIR/<sample>.base (--paella-no-instrument), stripped, for
# tests/gpu/compat/gpu-compat.sh.  Third-party sources are read from the
# checkout, never copied into the tree.
#
# A sample is excluded, with its reason, where this machine cannot build it
# whatever the compiler: graphics, MPI, OpenMP runtime, NvSci, EGL,
# toolkit components not installed here (NPP, nvJPEG, libNVVM), platform
# samples (Tegra, Windows).  Writes OUT_DIR/results.tsv: sample, result
# (built | FAILED | excluded), note (the first error, or the reason).
set -u
cc=$(realpath "$1")
root=$(realpath "$2")
out=$3
shift 3
mkdir -p "$out/logs"
out=$(realpath "$out")
cuda=${CUDA_PATH:-/usr/local/cuda}
results="$out/results.tsv"
[ $# -gt 0 ] || : >"$results"

exclusion() { # exclusion DIR: the reason this sample is out, or nothing
	d=$1
	case $d in
	*/8_Platform_Specific/*) echo "platform-specific (Tegra/Windows)"; return ;;
	*/7_libNVVM/*) echo "libNVVM samples (need LLVM's libNVVM build)"; return ;;
	esac
	src=$(ls "$d" | grep -E '\.(cu|cuh|cpp|c|h|hpp)$' | sed "s|^|$d/|")
	[ -n "$src" ] || { echo "no sources"; return; }
	if grep -lqE '#include *[<"](GL/|GLES|vulkan|EGL/|X11/|d3d|dxgi|helper_gl|GLFW)' $src 2>/dev/null; then
		echo "graphics (OpenGL/Vulkan/EGL/Direct3D)"; return
	fi
	if grep -lqE '#include *[<"]mpi\.h' $src; then echo "MPI"; return; fi
	if grep -lqE '#include *[<"]omp\.h' $src; then echo "OpenMP runtime (no libomp here)"; return; fi
	if grep -lqE 'nvscibuf|nvscisync|NvSci' $src; then echo "NvSci"; return; fi
	if grep -lqE '#include *[<"](npp|nvjpeg|FreeImage|cudla|nvml)' $src; then
		echo "toolkit component or library not installed here (NPP/nvJPEG/FreeImage/cuDLA/NVML)"; return
	fi
	if grep -qE 'CUDA::(npp|nvjpeg|nvml)' "$d/CMakeLists.txt" 2>/dev/null; then
		echo "toolkit component not installed here"; return
	fi
}

# The sources add_executable names (variables expanded where they are the
# project's name), else every .cu/.cpp/.c of the folder.
sources() {
	d=$1
	s=$(tr '\n' ' ' <"$d/CMakeLists.txt" 2>/dev/null | grep -oE 'add_executable\([^)]*\)' | head -1 |
		sed -E 's/add_executable\(//; s/\)//' | tr ' ' '\n' | grep -E '\.(cu|cpp|cc|c)$')
	[ -n "$s" ] || s=$(ls "$d" | grep -E '\.(cu|cpp|c)$')
	echo "$s"
}

libs() {
	d=$1
	l=
	for t in $(grep -oE 'CUDA::[a-z_]+' "$d/CMakeLists.txt" 2>/dev/null | sort -u); do
		case $t in
		CUDA::cuda_driver) l="$l -L$cuda/lib64/stubs -lcuda" ;;
		CUDA::cudart | CUDA::cudart_static) ;;
		CUDA::cufft_static) l="$l -lcufft" ;;
		CUDA::cublas) l="$l -lcublas -lcublasLt" ;;
		*) l="$l -l${t#CUDA::}" ;;
		esac
	done
	echo "$l"
}

build_one() { # build_one DIR NAME FLAVOUR
	d=$1 name=$2 flavour=$3
	extra=
	[ "$flavour" = base ] && extra=--paella-no-instrument
	rdc=
	grep -q 'CUDA_SEPARABLE_COMPILATION ON' "$d/CMakeLists.txt" 2>/dev/null && rdc=-rdc=true
	obj="$out/obj/$name.$flavour"
	rm -rf "$obj"
	mkdir -p "$obj"
	objs=
	for s in $(sources "$d"); do
		o="$obj/$(echo "$s" | tr '/' '_').o"
		case $s in
		*.cu) flags="$rdc --extended-lambda -std=c++17" ;;
		*.c) flags= ;;
		*) flags="-std=c++17" ;;
		esac
		(cd "$d" && "$cc" $extra -O2 -lineinfo -Wno-deprecated-gpu-targets $flags \
			-I"$root/Common" -I. -c "$s" -o "$o") || return 1
		objs="$objs $o"
	done
	(cd "$d" && "$cc" $extra $rdc $objs -o "$out/$name.$flavour" $(libs "$d") \
		-cudart shared) || return 1
	strip "$out/$name.$flavour"
	rm -rf "$obj"
}

if [ $# -gt 0 ]; then
	dirs=
	for s in "$@"; do dirs="$dirs $(ls -d "$root"/Samples/*/"$s")"; done
else
	dirs=$(ls -d "$root"/Samples/*/*/)
fi
for d in $dirs; do
	d=${d%/}
	name=$(basename "$d")
	why=$(exclusion "$d")
	if [ -n "$why" ]; then
		printf '%s\texcluded\t%s\n' "$name" "$why" >>"$results"
		continue
	fi
	log="$out/logs/$name.log"
	if build_one "$d" "$name" inst >"$log" 2>&1 && build_one "$d" "$name" base >>"$log" 2>&1; then
		printf '%s\tbuilt\t\n' "$name" >>"$results"
	else
		first=$(grep -m1 -E 'error|fatal|undefined' "$log" | cut -c1-200)
		printf '%s\tFAILED\t%s\n' "$name" "$first" >>"$results"
		rm -f "$out/$name.inst" "$out/$name.base"
	fi
done
rm -rf "$out/obj"
built=$(grep -c '	built	' "$results")
failed=$(grep -c '	FAILED	' "$results")
excluded=$(grep -c '	excluded	' "$results")
echo "$built built, $failed failed, $excluded excluded (of $((built + failed + excluded)))"
