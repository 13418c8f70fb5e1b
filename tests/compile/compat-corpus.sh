#!/bin/sh
# compat-corpus.sh PAELLA_CC CHECKOUT OUT_DIR [SAMPLE...]
#
# CHECKOUT is NVIDIA/cuda-samples (it has Samples/) or a Rodinia 3.1 GPU
# tree such as yuhc/gpu-rodinia (it has cuda/<benchmark>/Makefile).
#
# Rodinia: each benchmark is built by its own Makefile, written for nvcc,
# with CUDA_DIR and PATH pointing at an overlay toolkit whose bin/nvcc runs
# paella-cc and whose lib64/libcudart.so is a linker script adding
# libpaellart as needed (the Makefiles link with gcc -lcudart).  Benchmarks
# that call APIs CUDA 13 removed (cudaThreadSynchronize, cudaThreadExit,
# texture references, cutil) or build for architectures before sm_75 are
# excluded: nvcc 13 refuses them too.  The
# executables become OUT_DIR/rodinia-<benchmark>[-<exe>].{inst,base}, with
# .args from the benchmark's run script where it needs no data file
# (hotspot: inputs made here, see rodinia_inputs).
#
# cuda-samples: builds the programs of a checkout of NVIDIA/cuda-samples (CUDA 13 branch,
# Samples/<category>/<sample>/) with paella-cc as their CMakeLists.txt would
# with nvcc: the sources named by add_executable, each compiled on its own
# (-rdc=true where the target sets CUDA_SEPARABLE_COMPILATION), the device
# images its custom steps make (-fatbin, -ptx: uninstrumented), then linked
# with the toolkit libraries the target names and the shared CUDA runtime
# (CMake's default is the static one, which tests/gpu/compat covers; shared
# here keeps the binaries small enough to carry to a GPU machine).  Twice: OUT_DIR/<sample>.inst (instrumented) and
# OUT_DIR/<sample>.base (--paella-no-instrument), stripped, for
# tests/gpu/compat/gpu-compat.sh.  Third-party sources are read from the
# checkout, never copied into the tree.
#
# A sample is excluded, with its reason, where this machine cannot build it
# whatever the compiler: graphics, MPI, OpenMP runtime, NvSci, EGL,
# toolkit components not installed here (NPP, nvJPEG, libNVVM, the static
# cuFFT that cuFFT callbacks need), platform
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
touch "$results"

exclusion() { # exclusion DIR: the reason this sample is out, or nothing
	d=$1
	case $d in
	*/8_Platform_Specific/*) echo "platform-specific (Tegra/Windows)"; return ;;
	*/7_libNVVM/*) echo "libNVVM samples (need LLVM's libNVVM build)"; return ;;
	esac
	src=$(find "$d" -maxdepth 2 -type f | grep -E '\.(cu|cuh|cpp|c|h|hpp)$')
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
	# cuFFT's callbacks work with the static library only (the shared one
	# answers CUFFT_NOT_IMPLEMENTED), and the toolkit here has none.
	if grep -qE 'CUDA::cufft_static' "$d/CMakeLists.txt" 2>/dev/null &&
		[ ! -f "$cuda/lib64/libcufft_static.a" ]; then
		echo "needs libcufft_static.a (cuFFT callbacks), not installed here"; return
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
	for t in $(grep -oE 'CUDA::[A-Za-z_]+' "$d/CMakeLists.txt" 2>/dev/null | sort -u); do
		case $t in
		CUDA::cuda_driver) l="$l -L$cuda/lib64/stubs -lcuda" ;;
		CUDA::cudart | CUDA::cudart_static) ;;
		CUDA::cufft_static) l="$l -lcufft_static -lculibos" ;;
		CUDA::cublas) l="$l -lcublas -lcublasLt" ;;
		# What CMake's imported targets bring with them.
		CUDA::cusolver) l="$l -lcusolver -lcusparse -lcublas -lcublasLt" ;;
		*) l="$l -l${t#CUDA::}" ;;
		esac
	done
	grep -q 'NAME nvJitLink' "$d/CMakeLists.txt" 2>/dev/null && l="$l -lnvJitLink"
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
			-I"$root/Common" -I. -Iinc -c "$s" -o "$o") || return 1
		objs="$objs $o"
	done
	(cd "$d" && "$cc" $extra $rdc $objs -o "$out/$name.$flavour" $(libs "$d") \
		-cudart shared) || return 1
	strip "$out/$name.$flavour"
	rm -rf "$obj"
}

# custom_images DIR NAME: the device images the sample's CMake project makes
# in a custom step (`${CMAKE_CUDA_COMPILER} ... -fatbin` or `-ptx` of its
# CUDA_KERNEL_SOURCE into CUDA_FATBIN_FILE / CUDA_PTX_FILE), made the same way
# with paella-cc into OUT_DIR/NAME.images, for run_dir.
custom_images() {
	d=$1 name=$2
	rm -rf "$out/$name.images"
	for kind in FATBIN PTX; do
		file=$(grep -oE "set\(CUDA_${kind}_FILE \"[^\"]+\"" "$d/CMakeLists.txt" 2>/dev/null |
			head -1 | sed -E 's#.*/##; s#"$##')
		[ -n "$file" ] || continue
		src=$(grep -oE 'set\(CUDA_KERNEL_SOURCE "[^"]+"' "$d/CMakeLists.txt" | head -1 |
			sed -E 's#.*/##; s#"$##')
		flag=-fatbin
		[ $kind = PTX ] && flag=-ptx
		mkdir -p "$out/$name.images"
		(cd "$d" && "$cc" -I"$root/Common" -I. -Wno-deprecated-gpu-targets \
			-o "$out/$name.images/$file" $flag "$src") || return 1
	done
	return 0
}

# run_dir DIR NAME: OUT_DIR/NAME.dir, the folder gpu-compat.sh runs the sample
# in, with what it reads at run time where sdkFindFilePath looks first (./
# and ./data/): its data/ folder, the files of Common/data its sources name,
# and the files of its own folder (input matrices; the sources the NVRTC
# samples compile when they run).
run_dir() {
	d=$1 name=$2
	r="$out/$name.dir"
	rm -rf "$r"
	mkdir -p "$r/data"
	[ -d "$d/data" ] && cp -r "$d/data/." "$r/data/"
	src=$(find "$d" -maxdepth 1 -type f)
	for f in "$root"/Common/data/*; do
		[ -f "$f" ] && grep -qF "$(basename "$f")" $src && cp "$f" "$r/data/"
	done
	find "$d" -maxdepth 1 -type f -exec cp {} "$r/" \;
	if [ -d "$out/$name.images" ]; then
		cp "$out/$name.images"/* "$r/"
		rm -rf "$out/$name.images"
	fi
	# The toolkit headers the CMake project copies beside the executable
	# after the build (POST_BUILD copy, copy_directory of
	# ${CUDA_INCLUDE_DIR}/...): NVRTC samples compile with them at run time.
	flat=$(tr '\n' ' ' <"$d/CMakeLists.txt" 2>/dev/null)
	echo "$flat" | grep -oE 'copy_directory +\$\{CUDA_INCLUDE_DIR\}/[^ )]+ +\$\{CMAKE_CURRENT_BINARY_DIR\}/[^ )]+' |
		while read -r _ from to; do
			cp -r "$cuda/include/${from#*\}/}" "$r/${to#*\}/}"
		done
	for h in $(echo "$flat" | grep -oE '\$\{CUDA_INCLUDE_DIR\}/[^ )/]+\.(h|hpp)'); do
		cp "$cuda/include/${h#*\}/}" "$r/"
	done
	rmdir "$r/data" 2>/dev/null
	rmdir "$r" 2>/dev/null
	return 0
}


rodinia() { # rodinia ROOT
	for flavour in inst base; do
		ov="$out/overlay-$flavour"
		rm -rf "$ov"
		mkdir -p "$ov/bin" "$ov/lib64"
		extra=
		[ "$flavour" = base ] && extra=--paella-no-instrument
		printf '#!/bin/sh\nexec "%s" %s "$@"\n' "$cc" "$extra" >"$ov/bin/nvcc"
		chmod +x "$ov/bin/nvcc"
		ln -s "$cuda/include" "$ov/include"
		for f in "$cuda"/lib64/*; do ln -s "$f" "$ov/lib64/"; done
		rm -f "$ov/lib64/libcudart.so"
		rt=$(dirname "$(realpath "$(dirname "$cc")/../runtime/libpaellart.so")")
		echo "INPUT($cuda/lib64/libcudart.so AS_NEEDED($rt/libpaellart.so))" \
			>"$ov/lib64/libcudart.so"
	done
	for d in "$1"/cuda/*/; do
		d=${d%/}
		b=$(basename "$d")
		[ -f "$d/Makefile" ] || continue
		if [ $# -gt 1 ] && ! echo " $* " | grep -q " $b "; then continue; fi
		removed=$(grep -rlE 'cudaThreadSynchronize|cudaThreadExit|texture *<|cudaBindTexture|cutil' \
			--include='*.cu' --include='*.c' --include='*.cpp' --include='*.h' --include='*.cuh' \
			"$d" | head -1)
		if [ -n "$removed" ]; then
			api=$(grep -ohE 'cudaThreadSynchronize|cudaThreadExit|texture *<|cudaBindTexture|cutil' \
				"$removed" | head -1)
			printf 'rodinia-%s\texcluded\tuses %s, removed in CUDA 13 (%s)\n' "$b" "$api" \
				"${removed#$1/}" >>"$results"
			continue
		fi
		old_arch=$(grep -rhoE '(sm|compute)_([1-6][0-9])\b' --include=Makefile "$d" | head -1)
		if [ -n "$old_arch" ]; then
			printf 'rodinia-%s\texcluded\tbuilds for %s, which nvcc 13 does not support\n' \
				"$b" "$old_arch" >>"$results"
			continue
		fi
		log="$out/logs/rodinia-$b.log"
		: >"$log"
		ok=1
		for flavour in inst base; do
			# The Makefiles include ../../common/make.config.
			w="$out/work/cuda/$b.$flavour"
			rm -rf "$w"
			mkdir -p "$out/work/cuda" "$out/work/common"
			cp -r "$d" "$w"
			cp -r "$1/common/." "$out/work/common/"
			before=$(find "$w" -type f -perm -u+x | sort)
			ov="$out/overlay-$flavour"
			if ! (cd "$w" && PATH="$ov/bin:$PATH" make CUDA_DIR="$ov" CUDA_LIB_DIR="$ov/lib64" \
				SDK_DIR="$ov" >>"$log" 2>&1); then
				ok=0
				break
			fi
			for exe in $(find "$w" -type f -perm -u+x | sort); do
				echo "$before" | grep -qxF "$exe" && continue
				file "$exe" | grep -q ELF || continue
				name="rodinia-$b"
				[ "$(basename "$exe")" = "$b" ] || name="$name-$(basename "$exe")"
				cp "$exe" "$out/$name.$flavour"
				strip "$out/$name.$flavour"
				args=$(grep -hoE "\./$(basename "$exe")( [^ >]+)*|cuda/$(basename "$exe")( [^ >]+)*" \
					"$d/run" 2>/dev/null | grep -v '\.\./' | head -1 | cut -d' ' -f2-)
				[ -n "$args" ] && [ "$args" != "$(basename "$exe")" ] && echo "$args" >"$out/$name.args"
			done
		done
		if [ $ok = 1 ]; then
			printf 'rodinia-%s\tbuilt\t\n' "$b" >>"$results"
		else
			first=$(grep -m1 -E 'error|fatal|undefined' "$log" | cut -c1-200)
			printf 'rodinia-%s\tFAILED\t%s\n' "$b" "$first" >>"$results"
		fi
	done
	rm -rf "$out/work" "$out"/overlay-*
	rodinia_inputs
}

# Rodinia's inputs come in a separate data archive, not in the repository.
# hotspot's are two grids of numbers (temperatures, powers) that any values
# exercise: made here, the same every time (a fixed seed), with the result
# grid written to a file gpu-compat.sh compares (.outputs).  heartwall reads
# a video: not made, so it fails in both builds alike.
rodinia_inputs() {
	[ -f "$out/rodinia-hotspot.inst" ] || return 0
	d="$out/rodinia-hotspot.dir"
	mkdir -p "$d"
	awk 'BEGIN { srand(1); for (i = 0; i < 512 * 512; i++) printf "%.4f\n", 323 + 20 * rand() }' \
		>"$d/temp_512"
	awk 'BEGIN { srand(2); for (i = 0; i < 512 * 512; i++) printf "%.6f\n", 0.002 * rand() }' \
		>"$d/power_512"
	echo "512 2 2 temp_512 power_512 output.out" >"$out/rodinia-hotspot.args"
	echo output.out >"$out/rodinia-hotspot.outputs"
}

if [ -d "$root/cuda" ] && [ ! -d "$root/Samples" ]; then
	rodinia "$root" "$@"
	built=$(grep -c '^rodinia-.*	built	' "$results")
	failed=$(grep -c '^rodinia-.*	FAILED	' "$results")
	excluded=$(grep -c '^rodinia-.*	excluded	' "$results")
	echo "rodinia: $built built, $failed failed, $excluded excluded"
	exit 0
fi

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
	if build_one "$d" "$name" inst >"$log" 2>&1 && build_one "$d" "$name" base >>"$log" 2>&1 &&
		custom_images "$d" "$name" >>"$log" 2>&1; then
		printf '%s\tbuilt\t\n' "$name" >>"$results"
		run_dir "$d" "$name"
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
