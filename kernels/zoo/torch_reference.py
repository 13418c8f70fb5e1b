#!/usr/bin/env python3
"""PyTorch's side of the model-zoo check: reference data and latency.

For each of the eight torchvision models of the zoo, built with random
weights (a fixed seed; no download), this writes into OUT_DIR:

  <model>.safetensors     the state dict, torchvision's names (what the
                          zoo's loader reads)
  <model>.io.safetensors  "input" [1,3,H,W], "logits" (PyTorch fp32 on
                          --device, TF32 off) and "logits_ref" (the same
                          model in float64 on the CPU, rounded to fp32)

Random weights alone would leave the batch norms as identities (running
mean 0, variance 1), which would not test the folding, and let activations
drift with depth.  So each batch norm gets a random affine transform, and
its running statistics are then measured as in training, on a few batches
of random inputs (momentum None: a plain average): activations stay near
unit scale, as in a trained network.

With --bench (CUDA only), it also times each model at batch 1, fp32 with
cuDNN and TF32 off: eager, and replayed as a CUDA graph; wall-clock time
from the call to the end of torch.cuda.synchronize(), median of --reps runs
after warm-up.  Results go to OUT_DIR/torch_latency.csv.

usage: torch_reference.py OUT_DIR [--models a,b] [--device cuda] [--seed 0]
                          [--bench] [--reps 100]
"""
import argparse
import copy
import csv
import os
import statistics
import sys
import time

import torch
import torchvision.models as tvm
from safetensors.torch import save_file

MODELS = ["resnet18", "mobilenet_v2", "resnet34", "squeezenet1_1", "resnet50",
          "densenet121", "googlenet", "inception_v3"]


def build(name):
    if name == "googlenet":
        return tvm.googlenet(weights=None, aux_logits=False, transform_input=False,
                             init_weights=True)
    if name == "inception_v3":
        return tvm.inception_v3(weights=None, aux_logits=False, transform_input=False,
                                init_weights=True)
    return getattr(tvm, name)(weights=None)


def input_size(name):
    return 299 if name == "inception_v3" else 224


def fp32_strict():
    """TF32 off everywhere; both the old flags and the newer precision API."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        torch.backends.cuda.matmul.fp32_precision = "ieee"
        torch.backends.cudnn.conv.fp32_precision = "ieee"
    except (AttributeError, RuntimeError):
        pass
    torch.set_float32_matmul_precision("highest")


@torch.no_grad()
def randomize_bn(model, gen, device, size, batches=2, batch=8):
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    if not bns:
        return
    for m in bns:
        m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
        m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
        m.reset_running_stats()
        m.momentum = None
    model.train()
    for _ in range(batches):
        x = torch.randn(batch, 3, size, size, generator=gen)
        model(x.to(device))
    for m in bns:
        m.momentum = 0.1
    model.eval()


def make_reference(name, out_dir, device, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    size = input_size(name)
    model = build(name).eval().to(device)
    randomize_bn(model, gen, device, size)
    model.eval()
    x = torch.randn(1, 3, size, size, generator=gen)

    with torch.no_grad():
        logits = model(x.to(device)).float().cpu()
        ref = copy.deepcopy(model).cpu().double()
        logits_ref = ref(x.double()).float()
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(out_dir, name + ".safetensors"))
    save_file({"input": x.contiguous(), "logits": logits.contiguous(),
               "logits_ref": logits_ref.contiguous()},
              os.path.join(out_dir, name + ".io.safetensors"))
    err = (logits - logits_ref).abs().max().item() / logits_ref.abs().max().item()
    print(f"{name}: wrote weights and io; PyTorch {device} fp32 vs float64: "
          f"relative error {err:.2e}, |logits| max {logits_ref.abs().max().item():.3g}",
          flush=True)
    return model, x


def time_ms(fn, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


@torch.no_grad()
def bench(name, model, x, reps):
    x = x.cuda()
    for _ in range(20):
        model(x)
    torch.cuda.synchronize()
    eager = time_ms(lambda: model(x), reps)

    static_x = x.clone()
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(5):
            model(static_x)
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        model(static_x)
    for _ in range(20):
        g.replay()
    torch.cuda.synchronize()
    graph = time_ms(g.replay, reps)
    print(f"{name}: PyTorch eager {eager[0]:.3f} ms, CUDA graph {graph[0]:.3f} ms (median "
          f"of {reps})", flush=True)
    return eager, graph


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--reps", type=int, default=100)
    args = ap.parse_args()

    models = [m for m in args.models.split(",") if m]
    for m in models:
        if m not in MODELS:
            sys.exit(f"unknown model {m}; known: {', '.join(MODELS)}")
    if args.bench and args.device != "cuda":
        sys.exit("--bench needs --device cuda")
    os.makedirs(args.out_dir, exist_ok=True)
    fp32_strict()
    torch.backends.cudnn.benchmark = args.bench
    print(f"torch {torch.__version__}, device {args.device}"
          + (f" ({torch.cuda.get_device_name()})" if args.device == "cuda" else ""),
          flush=True)

    rows = []
    for i, name in enumerate(models):
        model, x = make_reference(name, args.out_dir, args.device, args.seed + i)
        if args.bench:
            eager, graph = bench(name, model, x, args.reps)
            rows.append([name, f"{eager[0]:.4f}", f"{eager[1]:.4f}", f"{graph[0]:.4f}",
                         f"{graph[1]:.4f}", torch.__version__, torch.cuda.get_device_name()])
        del model
        if args.device == "cuda":
            torch.cuda.empty_cache()
    if args.bench:
        with open(os.path.join(args.out_dir, "torch_latency.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["model", "eager_ms_p50", "eager_ms_min", "graph_ms_p50", "graph_ms_min",
                        "torch", "device"])
            w.writerows(rows)


if __name__ == "__main__":
    main()
