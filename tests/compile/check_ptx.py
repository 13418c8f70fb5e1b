#!/usr/bin/env python3
"""Check what paella-cc makes of one kernel file.

  check_ptx.py compare --paella-cc P --ptxas X --source k.cu --workdir D
      Builds k.cu to PTX for sm_90 with the pass and with
      --paella-no-instrument, assembles both with ptxas -arch=sm_90, and
      checks that every .entry got exactly one parameter more (a 64-bit
      pointer, at the end), that every .func kept its signature, that the
      instrumented PTX defines __paella_abi_version and __paella_manifest
      (and the other does not), and that the manifest lists each kernel with
      its original parameter count.

  check_ptx.py skip --paella-cc P --ptxas X --source k.cu --workdir D --skip RE --kernel NAME
      Builds with --paella-skip=RE and checks that NAME kept its original
      parameter count and is listed as uninstrumented (U) in the manifest.

  check_ptx.py cubin --image k.cubin [--image ...]
      Checks that each image is a CUDA ELF for sm_90.

Exit 0 on success, 1 on failure, 77 (skip) where ptxas is missing.
"""
import argparse
import os
import re
import struct
import subprocess
import sys

SKIP = 77
ARCH = "sm_90"


PLAIN_SUFFIX = "__paella_plain"


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run(cmd, **kw):
    print("$ " + " ".join(cmd), flush=True)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if p.stdout:
        print(p.stdout, end="" if p.stdout.endswith("\n") else "\n")
    if p.returncode != 0:
        fail("exit status %d from: %s" % (p.returncode, " ".join(cmd)))
    return p.stdout


def strip_comments(ptx):
    ptx = re.sub(r"/\*.*?\*/", "", ptx, flags=re.S)
    return re.sub(r"//[^\n]*", "", ptx)


SIG_RE = re.compile(
    r"\.(entry|func)\s+"            # kind
    r"(?:\((?P<ret>[^)]*)\)\s*)?"  # .func return parameter
    r"(?P<name>[A-Za-z_$%][\w$]*)\s*"
    r"(?:\((?P<params>[^)]*)\))?")


def param_type(decl):
    """`.param .u64 .ptr .align 1 k_param_0` -> `.param .u64 .ptr .align 1`;
    an array keeps its size: `... .b8 f_param_0[16]` -> `... .b8 [16]`."""
    words = decl.split()
    if words and not words[-1].startswith("."):
        words[-1] = re.sub(r"^[\w$]+", "", words[-1])
    return " ".join(w for w in words if w)


def signatures(ptx):
    """{'entry': {name: [param types]}, 'func': {name: (ret, [param types])}}."""
    out = {"entry": {}, "func": {}}
    for m in SIG_RE.finditer(strip_comments(ptx)):
        kind, name = m.group(1), m.group("name")
        params = m.group("params") or ""
        types = [param_type(p) for p in params.split(",") if p.strip()]
        if kind == "entry":
            out["entry"][name] = types
        else:
            ret = param_type(m.group("ret") or "")
            out["func"].setdefault(name, set()).add((ret, tuple(types)))
    return out


def global_bytes(ptx, name):
    """Initialiser bytes of `.global ... .b8 name[N] = {...}`, or None."""
    m = re.search(r"\.global\s[^;]*\b" + re.escape(name) + r"\s*\[\d*\]\s*=\s*\{([^}]*)\}", ptx)
    if not m:
        return None
    return bytes(int(x, 0) for x in m.group(1).split(",") if x.strip())


def has_global(ptx, name):
    return re.search(r"\.global\s[^;]*\b" + re.escape(name) + r"\b", ptx) is not None


def manifest(ptx):
    raw = global_bytes(ptx, "__paella_manifest")
    if raw is None:
        return None
    text = raw.split(b"\0")[0].decode("ascii", "replace")
    lines = text.splitlines()
    entries = {}
    for line in lines[1:]:
        w = line.split()
        if len(w) >= 3 and w[0] in ("K", "U"):
            entries[w[1]] = (w[0], int(w[2]), " ".join(w[3:]))
    return lines[0] if lines else "", entries


def build_ptx(args, out, extra):
    cmd = [args.paella_cc] + extra + ["--cuda-device-only", "-S", "-O3", "-arch=" + ARCH,
                                      args.source, "-o", out]
    run(cmd)
    with open(out) as f:
        return f.read()


def assemble(args, ptx_path):
    run([args.ptxas, "-arch=" + ARCH, ptx_path, "-o", ptx_path + ".o"])


def need_ptxas(args):
    if not args.ptxas or not os.access(args.ptxas, os.X_OK):
        print("SKIP: ptxas not found (%r); install the CUDA toolkit or set CUDA_PATH" % args.ptxas)
        sys.exit(SKIP)


def compare(args):
    need_ptxas(args)
    os.makedirs(args.workdir, exist_ok=True)
    base = os.path.splitext(os.path.basename(args.source))[0]
    inst_path = os.path.join(args.workdir, base + ".ptx")
    noinst_path = os.path.join(args.workdir, base + ".noinst.ptx")
    inst = build_ptx(args, inst_path, [])
    noinst = build_ptx(args, noinst_path, ["--paella-no-instrument"])
    assemble(args, inst_path)
    assemble(args, noinst_path)

    si, sn = signatures(inst), signatures(noinst)
    if not sn["entry"]:
        fail("no .entry in %s" % noinst_path)
    # Sample mode keeps an uninstrumented copy of each kernel, with the
    # signature the kernel had before the pass.
    plain = {n: t for n, t in si["entry"].items() if n.endswith(PLAIN_SUFFIX)}
    for n in plain:
        del si["entry"][n]
    for name, pn in sn["entry"].items():
        if plain.get(name + PLAIN_SUFFIX) != pn:
            fail(".entry %s%s: missing or not the uninstrumented signature: %s"
                 % (name, PLAIN_SUFFIX, plain.get(name + PLAIN_SUFFIX)))
        print(".entry %s%s: the uninstrumented signature" % (name, PLAIN_SUFFIX))
    if set(si["entry"]) != set(sn["entry"]):
        fail("kernels differ: instrumented %s, uninstrumented %s"
             % (sorted(si["entry"]), sorted(sn["entry"])))
    for name in sorted(sn["entry"]):
        pi, pn = si["entry"][name], sn["entry"][name]
        print(".entry %s: %d parameters uninstrumented, %d instrumented; added: %s"
              % (name, len(pn), len(pi), pi[len(pn):]))
        if len(pi) != len(pn) + 1:
            fail(".entry %s: expected %d parameters, found %d" % (name, len(pn) + 1, len(pi)))
        if pi[:len(pn)] != pn:
            fail(".entry %s: original parameters changed: %s -> %s" % (name, pn, pi[:len(pn)]))
        if ".u64" not in pi[-1] and ".b64" not in pi[-1]:
            fail(".entry %s: the added parameter is not 64-bit: %s" % (name, pi[-1]))
    if set(si["func"]) != set(sn["func"]):
        fail(".func set differs: instrumented %s, uninstrumented %s"
             % (sorted(si["func"]), sorted(sn["func"])))
    for name in sorted(sn["func"]):
        print(".func %s: %s" % (name, "unchanged" if si["func"][name] == sn["func"][name]
                                else "CHANGED"))
        if si["func"][name] != sn["func"][name]:
            fail(".func %s changed: %s -> %s" % (name, sn["func"][name], si["func"][name]))

    for g in ("__paella_abi_version", "__paella_manifest"):
        if not has_global(inst, g):
            fail("instrumented PTX has no global %s" % g)
        if has_global(noinst, g):
            fail("uninstrumented PTX has the global %s" % g)
        print("global %s: present instrumented, absent uninstrumented" % g)
    m = manifest(inst)
    if m is None:
        fail("cannot read the initialiser of __paella_manifest")
    header, entries = m
    print("manifest: %r, %s" % (header, entries))
    if header != "paella-manifest 3":
        fail("manifest header is %r" % header)
    for name, pn in sn["entry"].items():
        want = ("K", len(pn), "sample " + name + PLAIN_SUFFIX)
        if entries.get(name) != want:
            fail("manifest line for %s is %s, expected %s" % (name, entries.get(name), want))
    print("OK: %d kernel(s), %d device function(s)" % (len(sn["entry"]), len(sn["func"])))


def skip(args):
    need_ptxas(args)
    os.makedirs(args.workdir, exist_ok=True)
    base = os.path.splitext(os.path.basename(args.source))[0]
    skip_path = os.path.join(args.workdir, base + ".skip.ptx")
    noinst_path = os.path.join(args.workdir, base + ".noinst.ptx")
    skipped = build_ptx(args, skip_path, ["--paella-skip=" + args.skip])
    noinst = build_ptx(args, noinst_path, ["--paella-no-instrument"])
    assemble(args, skip_path)
    ps = signatures(skipped)["entry"].get(args.kernel)
    pn = signatures(noinst)["entry"].get(args.kernel)
    if ps is None or pn is None:
        fail("no .entry %s" % args.kernel)
    print(".entry %s: %d parameters uninstrumented, %d with --paella-skip=%s"
          % (args.kernel, len(pn), len(ps), args.skip))
    if ps != pn:
        fail(".entry %s was instrumented despite --paella-skip" % args.kernel)
    m = manifest(skipped)
    if m is not None:
        line = m[1].get(args.kernel)
        print("manifest line: %s" % (line,))
        if not line or line[0] != "U" or line[1] != len(pn):
            fail("manifest should list %s as U with %d parameters, has %s" % (args.kernel, len(pn), line))
    print("OK")


def cubin(args):
    for path in args.image:
        with open(path, "rb") as f:
            h = f.read(64)
        if len(h) < 52 or h[:4] != b"\x7fELF" or h[4] != 2:
            fail("%s is not a 64-bit ELF file" % path)
        machine = struct.unpack_from("<H", h, 18)[0]
        flags = struct.unpack_from("<I", h, 48)[0]
        abi = h[8]
        # CUDA ELF ABI 8 (CUDA 12.8+) moved the SM number to bits 8..15.
        sm = (flags >> 8) & 0xFF if abi >= 8 else flags & 0xFF
        print("%s: e_machine %d, ABI %d, e_flags %#x -> sm_%d" % (path, machine, abi, flags, sm))
        if machine != 190:
            fail("%s: e_machine %d is not EM_CUDA (190)" % (path, machine))
        if "sm_%d" % sm != ARCH:
            fail("%s: built for sm_%d, expected %s" % (path, sm, ARCH))
    print("OK")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["compare", "skip", "cubin"])
    ap.add_argument("--paella-cc")
    ap.add_argument("--ptxas", default="")
    ap.add_argument("--source")
    ap.add_argument("--workdir")
    ap.add_argument("--skip")
    ap.add_argument("--kernel")
    ap.add_argument("--image", nargs="+", default=[])
    args = ap.parse_args()
    if args.mode == "cubin":
        cubin(args)
    elif args.mode == "skip":
        skip(args)
    else:
        compare(args)


if __name__ == "__main__":
    main()
