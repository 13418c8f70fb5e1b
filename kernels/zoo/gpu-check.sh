#!/usr/bin/env bash
# The model zoo on a GPU machine, from a build made elsewhere (no clang
# there; it builds nothing): needs PyTorch, torchvision and safetensors in
# python3, the NVIDIA driver, and BUILD_DIR carried from the build machine.
#
#   kernels/zoo/gpu-check.sh BUILD_DIR OUT_DIR
#
# 1. layers: every layer kernel against the CPU reference, random shapes
#    (zoo-check layers), relative error <= 1e-5;
# 2. reference: kernels/zoo/torch_reference.py builds the 8 torchvision
#    models with random weights (fixed seed, eval, TF32 off), writes weights,
#    input and logits to OUT_DIR/data, and times PyTorch eager and CUDA graph;
# 3. models: our kernels on those weights against PyTorch's logits
#    (relative error <= 1e-3), served by the dispatcher and in direct mode
#    (bit for bit the same), then isolated latency of one job at a time
#    (paella_job_times): served (instrumented images), direct and direct as
#    one CUDA graph (uninstrumented), and per-launch GPU times.
# Logs and CSV in OUT_DIR; the model table is printed last.  Exit status 0
# only if every check passed (latency against the 1.5x goal is reported,
# not checked).  ZOO_MODELS=a,b limits the models; ZOO_REPS the timed runs.
set -uo pipefail
b=${1:?usage: gpu-check.sh BUILD_DIR OUT_DIR}
out=${2:?usage: gpu-check.sh BUILD_DIR OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
models=${ZOO_MODELS:-resnet18,mobilenet_v2,resnet34,squeezenet1_1,resnet50,densenet121,googlenet,inception_v3}
reps=${ZOO_REPS:-100}
check="$b/tests/zoo/zoo-check"
images="$b/kernels/zoo"
mkdir -p "$out/data"
rc=0

for f in "$check" "$images/conv2d.cubin" "$images/conv2d.noinst.cubin" "$images/pool.cubin" \
	"$images/linear.cubin"; do
	if [ ! -e "$f" ]; then
		echo "FAIL: $f is missing: build with ninja -C BUILD_DIR on the build machine and carry it"
		exit 1
	fi
done

echo "== card"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee "$out/card.txt"
echo "commit ${PAELLA_COMMIT:-unknown}" | tee "$out/commit.txt"
python3 -c 'import torch, torchvision; print("torch", torch.__version__, "torchvision", torchvision.__version__)' |
	tee "$out/torch-version.txt"

echo "== layer kernels against the CPU reference"
t0=$SECONDS
if ! "$check" layers --images "$images" --cases "${ZOO_LAYER_CASES:-6}" --csv "$out/layers.csv" \
	>"$out/layers.log" 2>&1; then
	rc=1
fi
echo "   $((SECONDS - t0)) s"

echo "== PyTorch: reference data and latency"
t0=$SECONDS
if ! python3 "$here/torch_reference.py" "$out/data" --models "$models" --bench --reps "$reps" \
	>"$out/torch.log" 2>&1; then
	echo "FAIL: torch_reference.py (see $out/torch.log)"
	tail -n 20 "$out/torch.log"
	rc=1
fi
cp -f "$out/data/torch_latency.csv" "$out/" 2>/dev/null
echo "   $((SECONDS - t0)) s"

echo "== our kernels: logits against PyTorch, latency"
t0=$SECONDS
if ! "$check" models --images "$images" --data "$out/data" --models "$models" --reps "$reps" \
	--csv "$out/models.csv" --profile "$out/kernels-profile.csv" >"$out/models.log" 2>&1; then
	rc=1
fi
echo "   $((SECONDS - t0)) s"

# ZOO_COMPARE_PLAIN=1: the same again with the instrumented code forced where
# the runtime would run a kernel's plain copy (PAELLA_PLAIN_COPIES=0), into
# OUT_DIR/no-plain.
if [ "${ZOO_COMPARE_PLAIN:-0}" = 1 ]; then
	echo "== our kernels again, plain copies off"
	t0=$SECONDS
	mkdir -p "$out/no-plain"
	if ! PAELLA_PLAIN_COPIES=0 "$check" models --images "$images" --data "$out/data" \
		--models "$models" --reps "$reps" --csv "$out/no-plain/models.csv" \
		--profile "$out/no-plain/kernels-profile.csv" >"$out/no-plain/models.log" 2>&1; then
		rc=1
	fi
	echo "   $((SECONDS - t0)) s"
fi

# ZOO_CONTROL=1: the plain images against a second load of themselves, the
# overhead method's own error, into OUT_DIR/control.
if [ "${ZOO_CONTROL:-0}" = 1 ]; then
	echo "== control: plain kernels against plain kernels"
	t0=$SECONDS
	mkdir -p "$out/control"
	if ! "$check" models --control --images "$images" --data "$out/data" --models "$models" \
		--reps "$reps" --csv "$out/control/models.csv" \
		--profile "$out/control/kernels-profile.csv" >"$out/control/models.log" 2>&1; then
		rc=1
	fi
	echo "   $((SECONDS - t0)) s"
fi

# The weights are large (about 400 MB) and made again on each run; the
# inputs and logits stay.
find "$out/data" -name '*.safetensors' ! -name '*.io.safetensors' -delete

echo
echo "== layers (full log: layers.log, layers.csv)"
grep -E '^FAIL' "$out/layers.log" | head -n 20
tail -n 10 "$out/layers.log"
echo
echo "== PyTorch (torch.log)"
grep -E 'relative error|CUDA graph' "$out/torch.log"
echo
echo "== models (full log: models.log; CSV: models.csv; per kernel: kernels-profile.csv, kernels-profile-overhead.csv)"
grep -E 'slowest|launch [0-9]+ \(|every launch' "$out/models.log" | head -n 40
tail -n 31 "$out/models.log"
if [ -f "$out/control/models.log" ]; then
	echo
	echo "== control (control/models.log)"
	tail -n 13 "$out/control/models.log"
fi
if [ -f "$out/no-plain/models.log" ]; then
	echo
	echo "== plain copies off (no-plain/models.log)"
	tail -n 12 "$out/no-plain/models.log"
fi
exit $rc
