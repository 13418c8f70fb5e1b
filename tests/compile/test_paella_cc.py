#!/usr/bin/env python3
"""Tests of paella-cc's command line, one per invocation:

  test_paella_cc.py CASE --paella-cc P --workdir D [--runtime-dir R]

Cases:
  help           --help exits 0 and documents --paella-no-instrument
  version        --version exits 0 and names the ABI version
  bogus          an unknown --paella-bogus exits 2 with one line of error
  skip-regex     an invalid --paella-skip regex: one line of error, exit 2,
                 before clang runs; one reaching the pass through -mllvm: an
                 error diagnostic, no crash report; a valid one skips
  missing        a missing input exits non-zero and names the file
  no-input       no input file exits 2 with one line of error
  env-errors     a missing clang, CUDA toolkit or plugin: one line each, exit 2
                 (--paella-no-instrument --paella-no-compat needs no plugin)
  print-plugin   --paella-print-plugin prints an existing paella-instrument.so
  verbose        -v prints the clang command with the plugin, -x cuda, sm_90
  arch           nvcc's -arch=sm_80 and -arch sm_80 become --cuda-gpu-arch
  cubin          --paella-cubin makes an sm_90 CUDA ELF
  mixed          a .cu and a .o in one link: -x cuda does not reach the .o
  link-noinst    a <<<>>> program links with --paella-no-instrument
  link-missing   without the runtime, the link fails naming paella_launch_kernel
  link-runtime   with libpaellart beside paella-cc, the link succeeds
                 (skips, 77, while the runtime library is not built or does
                 not define paella_launch_kernel yet)
  nvcc-flags     nvcc's common flags become their clang equivalents (-v)
  nvcc-errors    nvcc flags paella-cc cannot honour, and architectures
                 before sm_75 (CUDA 13 has none): one error line, exit 2
  nvcc-images    -ptx, -cubin, -fatbin: uninstrumented images a program
                 loads itself (--cuda-device-only: instrumented)
  compat-header  CUDA inputs get the nvcc-compatibility header, and code
                 only nvcc accepted compiles (--paella-no-compat: not)
  static-cudart  a link with the static cudart gets no shared one and
                 exports the static copy's kernel look-up
  link-as-needed objects built with --paella-no-instrument, linked
                 without it, do not bring libpaellart in
  rdc-link       -dc objects, one launching (from the host and from the
                 device) a kernel the other defines, which reads a static
                 __constant__ the host sets, linked without a CUDA input:
                 the device link happens (a fat binary), instrumented and
                 not; the device-side launch passes a no-report record
  rdc-device-runtime  -rdc=true, -dc, -fgpu-rdc: device-side cudaMalloc and
                 cudaGetDevice reach the device runtime, not CUDA's stubs
  device-kernels with CUDA 13's headers, at -O0 and -O2: a kernel launched
                 from the device keeps its layout (U device-launched), its
                 parent is left alone (U device-launch); a this_grid() rank
                 reader is instrumented in sample mode, a grid.sync() user
                 is not (the manifest in the PTX says so)

Exit 0 on success, 1 on failure, 77 on skip.
"""
import argparse
import os
import re
import shlex
import struct
import subprocess
import sys

SKIP = 77

KERNEL = r"""
extern "C" __global__ void scale(float *x, float s, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		x[i] *= s;
}
"""

PROGRAM = r"""
#include <cstdio>

extern "C" __global__ void fill(float *x, float v, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		x[i] = v;
}

int main(void)
{
	float *d = nullptr;

	if (cudaMalloc(&d, 1024 * sizeof(float)) != cudaSuccess) {
		printf("no GPU\n");
		return 0;
	}
	fill<<<4, 256>>>(d, 1.0f, 1024);
	printf("%d\n", (int)cudaDeviceSynchronize());
	return 0;
}
"""

# A host function that launches, called from an object built without CUDA.
LAUNCHER = r"""
extern "C" __global__ void twice(float *x, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		x[i] *= 2.0f;
}

extern "C" int launch_twice(float *x, int n)
{
	twice<<<(n + 255) / 256, 256>>>(x, n);
	return (int)cudaGetLastError();
}
"""

MAIN_C = r"""
int launch_twice(float *x, int n);

int main(void)
{
	return launch_twice((float *)0, 0) < 0;
}
"""


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def skip(msg):
    print("SKIP: " + msg)
    sys.exit(SKIP)


class Ctx:
    def __init__(self, args):
        self.cc = os.path.abspath(args.paella_cc)
        self.dir = os.path.abspath(args.workdir)
        self.runtime_dir = args.runtime_dir
        os.makedirs(self.dir, exist_ok=True)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def path(self, name):
        return os.path.join(self.dir, name)

    def run(self, args, env=None, expect=None):
        """Runs paella-cc; returns (status, stdout, stderr)."""
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        cmd = [self.cc] + args
        print("$ " + " ".join(["%s=%s" % kv for kv in (env or {}).items()] + [shlex.quote(c) for c in cmd]))
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=full_env, cwd=self.dir)
        print("exit %d" % p.returncode)
        for label, text in (("stdout", p.stdout), ("stderr", p.stderr)):
            if text:
                tail = text if len(text) < 4000 else "...\n" + text[-4000:]
                print("--- %s\n%s" % (label, tail.rstrip("\n")))
        if expect is not None and p.returncode != expect:
            fail("expected exit status %d, got %d" % (expect, p.returncode))
        return p.returncode, p.stdout, p.stderr


def one_error_line(stderr, *words):
    lines = stderr.strip("\n").split("\n")
    if len(lines) != 1 or not lines[0].startswith("paella-cc: error: "):
        fail("expected one line 'paella-cc: error: ...', got %r" % stderr)
    for w in words:
        if w not in lines[0]:
            fail("error line does not mention %r: %s" % (w, lines[0]))
    print("OK: %s" % lines[0])


def case_help(c):
    _, out, _ = c.run(["--help"], expect=0)
    for w in ("--paella-no-instrument", "--paella-skip=", "--paella-cubin", "--paella-print-plugin",
              "--cuda-device-only -S", "-arch"):
        if w not in out:
            fail("--help does not mention %s" % w)
    print("OK")


def case_version(c):
    _, out, _ = c.run(["--version"], expect=0)
    if not re.search(r"paella-cc \S+ \(instrumentation ABI \d+\)", out):
        fail("--version does not print 'paella-cc VERSION (instrumentation ABI N)'")
    print("OK")


def case_bogus(c):
    src = c.write("k.cu", KERNEL)
    _, _, err = c.run(["--paella-bogus", "-c", src], expect=2)
    one_error_line(err, "--paella-bogus")


def case_skip_regex(c):
    src = c.write("k.cu", KERNEL)
    for bad in ("[", "(", "a{1", "*x"):
        _, _, err = c.run(["--paella-skip=" + bad, "--cuda-device-only", "-S", src,
                           "-o", c.path("k.ptx")], expect=2)
        one_error_line(err, "--paella-skip='%s'" % bad, "regex")
    # Past paella-cc's check, straight to the pass: a diagnostic, not a crash.
    status, _, err = c.run(["--cuda-device-only", "-S", src, "-o", c.path("k.ptx"),
                            "-mllvm", "-paella-skip=(["])
    if status == 0:
        fail("an invalid -paella-skip reaching the pass compiled")
    if "bad -paella-skip regex" not in err:
        fail("the pass did not name the invalid regex: %r" % err)
    for w in ("PLEASE submit a bug report", "Stack dump", "error in backend"):
        if w in err:
            fail("an invalid regex crashed the compiler (%r)" % w)
    # A valid one still leaves the kernel alone.
    ptx = c.path("skip.ptx")
    c.run(["--paella-skip=^sc(a|x)le$", "--cuda-device-only", "-S", src, "-o", ptx], expect=0)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from check_ptx import manifest
    with open(ptx) as f:
        got = manifest(f.read())
    if got is None or got[1].get("scale", ("",))[0] != "U" or got[1]["scale"][2] != "skip-regex":
        fail("--paella-skip=^sc(a|x)le$ did not leave scale alone: %s" % (got,))
    print("OK")


def case_missing(c):
    status, _, err = c.run(["-c", "no-such-kernel.cu", "-o", c.path("x.o")])
    if status == 0:
        fail("a missing input succeeded")
    one_error_line(err, "no-such-kernel.cu")


def case_no_input(c):
    _, _, err = c.run(["-O3", "-c"], expect=2)
    one_error_line(err, "no input")


def case_env_errors(c):
    src = c.write("k.cu", KERNEL)
    args = ["--cuda-device-only", "-S", src, "-o", c.path("k.ptx")]
    _, _, err = c.run(args, env={"PAELLA_CLANG": "/nonexistent/clang-22"}, expect=2)
    one_error_line(err, "PAELLA_CLANG")
    _, _, err = c.run(args, env={"PAELLA_CLANG": "", "PATH": "/nonexistent"}, expect=2)
    one_error_line(err, "clang")
    _, _, err = c.run(args, env={"CUDA_PATH": "/nonexistent/cuda"}, expect=2)
    one_error_line(err, "/nonexistent/cuda", "CUDA_PATH")
    _, _, err = c.run(args, env={"PAELLA_PLUGIN": "/nonexistent/paella-instrument.so"}, expect=2)
    one_error_line(err, "PAELLA_PLUGIN")
    # Uninstrumented, the plugin still makes the nvcc fix-ups: a bad
    # PAELLA_PLUGIN is named; with --paella-no-compat too, the build is plain
    # clang's and needs no plugin.
    _, _, err = c.run(["--paella-no-instrument"] + args, env={"PAELLA_PLUGIN": "/nonexistent/p.so"},
                      expect=2)
    one_error_line(err, "PAELLA_PLUGIN")
    c.run(["--paella-no-instrument", "--paella-no-compat"] + args,
          env={"PAELLA_PLUGIN": "/nonexistent/p.so"}, expect=0)
    print("OK")


def case_print_plugin(c):
    _, out, _ = c.run(["--paella-print-plugin"], expect=0)
    path = out.strip()
    if not path.endswith("paella-instrument.so") or not os.path.isfile(path):
        fail("--paella-print-plugin printed %r, not an existing paella-instrument.so" % path)
    print("OK: %s" % path)


def clang_line(err):
    """The first stderr line: the command paella-cc runs."""
    first = err.split("\n", 1)[0]
    try:
        return shlex.split(first)
    except ValueError:
        fail("first stderr line is not a shell-quoted command: %r" % first)


def case_verbose(c):
    src = c.write("k v.cu", KERNEL)  # a space, to see the quoting
    _, _, err = c.run(["-v", "-O2", "-DSCALE=2", "--cuda-device-only", "-S", src, "-o", c.path("k.ptx")],
                      expect=0)
    argv = clang_line(err)
    print("command: %s" % argv)
    if "clang" not in os.path.basename(argv[0]):
        fail("the command does not start with clang: %s" % argv[0])
    need = ["-v", "-O2", "-DSCALE=2", "--cuda-device-only", "-S", "--cuda-gpu-arch=sm_90",
            "-Wno-unknown-cuda-version", src]
    for w in need:
        if w not in argv:
            fail("%r missing from the clang command" % w)
    if not any(a.startswith("-fpass-plugin=") and a.endswith("paella-instrument.so") for a in argv):
        fail("no -fpass-plugin=...paella-instrument.so")
    if not any(a.startswith("--cuda-path=") for a in argv):
        fail("no --cuda-path=")
    i = argv.index(src)
    if argv[i - 2:i] != ["-x", "cuda"]:
        fail("-x cuda does not precede the .cu input")
    if "-isystem" not in argv or not argv[argv.index("-isystem") + 1].endswith("/include/cccl"):
        fail("no -isystem CUDA/include/cccl")
    print("OK")


def case_arch(c):
    src = c.write("k.cu", KERNEL)
    for form in (["-arch=sm_80"], ["-arch", "sm_80"]):
        _, _, err = c.run(["-v"] + form + ["--cuda-device-only", "-S", src, "-o", c.path("k80.ptx")],
                          expect=0)
        argv = clang_line(err)
        if "--cuda-gpu-arch=sm_80" not in argv or "--cuda-gpu-arch=sm_90" in argv or "-arch" in argv:
            fail("%s did not become exactly --cuda-gpu-arch=sm_80: %s" % (form, argv))
        with open(c.path("k80.ptx")) as f:
            if not re.search(r"^\.target\s+sm_80\b", f.read(), re.M):
                fail("the PTX is not for sm_80")
    print("OK")


def check_cuda_elf(path, sm):
    with open(path, "rb") as f:
        h = f.read(64)
    if h[:4] != b"\x7fELF" or struct.unpack_from("<H", h, 18)[0] != 190:
        fail("%s is not a CUDA ELF" % path)
    flags = struct.unpack_from("<I", h, 48)[0]
    got = (flags >> 8) & 0xFF if h[8] >= 8 else flags & 0xFF
    if got != sm:
        fail("%s is for sm_%d, not sm_%d" % (path, got, sm))
    print("%s: CUDA ELF for sm_%d" % (path, got))


def case_cubin(c):
    src = c.write("k.cu", KERNEL)
    out = c.path("k.cubin")
    c.run(["--paella-cubin", "-O3", src, "-o", out], expect=0)
    check_cuda_elf(out, 90)
    out2 = c.path("k2.cubin")
    c.run(["--cuda-device-only", "-c", "-O3", src, "-o", out2], expect=0)
    check_cuda_elf(out2, 90)
    _, _, err = c.run(["--paella-cubin", "-S", src, "-o", c.path("k.s")], expect=2)
    one_error_line(err, "--paella-cubin")
    print("OK")


def case_mixed(c):
    cu = c.write("launcher.cu", LAUNCHER)
    main_c = c.write("main.c", MAIN_C)
    main_o = c.path("main.o")
    # No .cu input: plain C, no CUDA flags.
    _, _, err = c.run(["-v", "-c", main_c, "-o", main_o], expect=0)
    argv = clang_line(err)
    if "-x" in argv or any(a.startswith("-fpass-plugin") for a in argv):
        fail("CUDA flags on a C-only compile: %s" % argv)
    # .cu then .o: the .o must not be read as CUDA source.
    _, _, err = c.run(["-v", "--paella-no-instrument", cu, main_o, "-o", c.path("mixed")], expect=0)
    argv = clang_line(err)
    i = argv.index(main_o)
    if argv[i - 2:i] != ["-x", "none"]:
        fail("-x none does not precede the object after a .cu input: %s" % argv)
    for w in ("-lcudart",):
        if w not in argv:
            fail("%s missing from the link" % w)
    print("OK")


def case_link_noinst(c):
    src = c.write("prog.cu", PROGRAM)
    _, _, err = c.run(["-v", "--paella-no-instrument", "-O2", src, "-o", c.path("prog.noinst")], expect=0)
    argv = clang_line(err)
    if "-lpaellart" in argv:
        fail("--paella-no-instrument still links the runtime: %s" % argv)
    # The plugin, if it comes, makes its nvcc fix-ups only.
    if any(a.startswith("-fpass-plugin") for a in argv) and "-paella-fixups-only" not in argv:
        fail("--paella-no-instrument loads the plugin to instrument: %s" % argv)
    if argv.count("-lcudart") != 1:
        fail("expected -lcudart once: %s" % argv)
    print("OK")


RDC_KERNEL = r"""
__device__ int table[8];
static __constant__ int offset[1]; /* static, and named by host code */

__global__ void fill_table(int k)
{
	table[threadIdx.x] = (int)threadIdx.x * k + offset[0];
}

void set_offset(int v)
{
	cudaMemcpyToSymbol(offset, &v, sizeof v);
}
"""

RDC_MAIN = r"""
#include <cstdio>
extern __device__ int table[8];
__global__ void fill_table(int k); /* defined in the other file */
void set_offset(int v);

__global__ void read_table(int *out)
{
	out[threadIdx.x] = table[threadIdx.x];
}

__global__ void refill(int k) /* a device-side launch across files */
{
	fill_table<<<1, 8>>>(k);
}

int main()
{
	int *d;
	cudaMalloc(&d, 8 * sizeof(int));
	set_offset(1);
	fill_table<<<1, 8>>>(3);
	refill<<<1, 1>>>(4);
	read_table<<<1, 8>>>(d);
	return cudaGetLastError() != cudaSuccess;
}
"""


def elf_sections(path):
    """The section names of an ELF64 file."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        fail("%s is not an ELF64 file" % path)
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    str_off = struct.unpack_from("<Q", data, shoff + shstrndx * shentsize + 0x18)[0]
    names = []
    for i in range(shnum):
        name = struct.unpack_from("<I", data, shoff + i * shentsize)[0]
        end = data.index(b"\0", str_off + name)
        names.append(data[str_off + name:end].decode())
    return names


def case_rdc_link(c):
    """Relocatable device code over two files, one launching a kernel the
    other defines, compiled with -dc and linked with no CUDA input: the link
    does the device link (the executable carries a fat binary), instrumented
    and not, and the PTX declares no kernel as a plain function."""
    kern = c.write("table.cu", RDC_KERNEL)
    main = c.write("main.cu", RDC_MAIN)
    for flavour, extra in (("inst", []), ("base", ["--paella-no-instrument"])):
        objs = []
        for src in (kern, main):
            o = c.path("%s.%s.o" % (os.path.basename(src), flavour))
            c.run(extra + ["-O2", "-dc", src, "-o", o], expect=0)
            objs.append(o)
        exe = c.path("prog." + flavour)
        c.run(extra + objs + ["-o", exe], expect=0)
        if ".nv_fatbin" not in elf_sections(exe):
            fail("%s has no .nv_fatbin: the device code was not linked" % exe)
        ptx = c.path("main.%s.ptx" % flavour)
        c.run(extra + ["-O2", "-rdc=true", "--cuda-device-only", "-S", main, "-o", ptx], expect=0)
        text = open(ptx).read()
        if re.search(r"\.extern \.func[^;]*fill_table", text):
            fail("%s declares the kernel fill_table as .extern .func (nvlink refuses it)" % ptx)
        if not re.search(r"\.extern \.entry[^;]*fill_table", text):
            fail("%s: the device-launched fill_table is not declared .extern .entry" % ptx)
        # refill's launch of fill_table: 4 bytes of parameters, then (when
        # instrumenting) the no-report record at offset 8.
        padded = re.search(r"st\.b64\s+\[%rd\d+\+8\], 31;", text)
        if flavour == "inst" and not padded:
            fail("%s: the device-side launch of another file's kernel has no no-report record" % ptx)
        if flavour == "base" and padded:
            fail("%s: --paella-no-instrument changed a device-side launch" % ptx)
        if flavour == "inst":
            if not re.search(r"\.weak \.global \.align 4 \.u32 __paella_abi_version", text):
                fail("%s: __paella_abi_version is not weak" % ptx)
            if re.search(r"\.visible \.global[^\n]*__paella_manifest", text):
                fail("%s: an -rdc module's manifest is visible (the device link would clash)" % ptx)
        print("%s: links, with a fat binary" % exe)
    print("OK")


def case_link_missing(c):
    src = c.write("prog.cu", PROGRAM)
    # PAELLA_RUNTIME_DIR set and empty: link without libpaellart.
    status, _, err = c.run(["-O2", src, "-o", c.path("prog.inst")], env={"PAELLA_RUNTIME_DIR": ""})
    if status == 0:
        fail("the instrumented program linked without the runtime: the host-side rewrite is missing")
    if "paella_launch_kernel" not in err:
        fail("the link error does not name paella_launch_kernel")
    print("OK: the link fails on paella_launch_kernel")


def case_link_runtime(c):
    lib = os.path.join(c.runtime_dir or "", "libpaellart.so")
    if not c.runtime_dir or not os.path.isfile(lib):
        skip("%s is not built yet" % lib)
    try:
        syms = subprocess.run(["nm", "-D", "--defined-only", lib], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True).stdout
    except OSError:
        skip("nm (binutils) is missing")
    if not re.search(r"\bpaella_launch_kernel\b", syms):
        skip("%s does not define paella_launch_kernel yet" % lib)
    src = c.write("prog.cu", PROGRAM)
    out = c.path("prog.rt")
    _, _, err = c.run(["-v", "-O2", src, "-o", out], expect=0)
    argv = clang_line(err)
    if "-lpaellart" not in argv:
        fail("-lpaellart missing from the link: %s" % argv)
    print("OK")


def case_nvcc_flags(c):
    src = c.write("k.cu", KERNEL)
    nvcc = ["-gencode", "arch=compute_90,code=sm_90", "--use_fast_math", "-Xcompiler", "-Wall,-fPIC",
            "-Xptxas", "-v", "-maxrregcount=32", "--expt-relaxed-constexpr", "--expt-extended-lambda",
            "-lineinfo", "-ccbin", "g++", "-Wno-deprecated-gpu-targets", "-rdc=true", "-O3"]
    _, _, err = c.run(["-v"] + nvcc + ["--cuda-device-only", "-S", "-x", "cu", src, "-o", c.path("k.ptx")],
                      expect=0)
    argv = clang_line(err)
    want = [["--cuda-gpu-arch=sm_90"], ["-fgpu-flush-denormals-to-zero"], ["-fgpu-approx-transcendentals"],
            ["-Xarch_device", "-mllvm=-nvptx-prec-divf32=0"], ["-Xarch_device", "-mllvm=-nvptx-prec-sqrtf32=0"],
            ["-Xarch_host", "-Wall"], ["-Xarch_host", "-fPIC"], ["-Xcuda-ptxas", "-v"],
            ["-Xcuda-ptxas", "--maxrregcount=32"], ["-gline-tables-only"], ["-fgpu-rdc"], ["-x", "cuda"]]
    for seq in want:
        if not any(argv[i:i + len(seq)] == seq for i in range(len(argv))):
            fail("%s missing from the clang command" % seq)
    for gone in ("-gencode", "--use_fast_math", "-Xcompiler", "-Xptxas", "-maxrregcount=32",
                 "--expt-relaxed-constexpr", "--expt-extended-lambda", "-lineinfo", "-ccbin", "g++",
                 "-Wno-deprecated-gpu-targets", "-rdc=true", "cu"):
        if gone in argv:
            fail("nvcc's %r reached clang" % gone)
    with open(c.path("k.ptx")) as f:
        ptx = f.read()
    if not re.search(r"^\.target\s+sm_90\b", ptx, re.M):
        fail("the PTX is not for sm_90")
    if ".ftz" not in ptx and "ex2.approx" not in ptx and "scale" not in ptx:
        fail("no kernel in the PTX")
    # -G: device debug; -arch=compute_80: sm_80; -dc: -c and -fgpu-rdc.
    _, _, err = c.run(["-v", "-G", "-arch=compute_80", "-dc", src, "-o", c.path("k.o")], expect=0)
    argv = clang_line(err)
    for w in ("-g", "--cuda-gpu-arch=sm_80", "-c", "-fgpu-rdc"):
        if w not in argv:
            fail("%r missing from the clang command: %s" % (w, argv))
    print("OK")


def case_nvcc_errors(c):
    src = c.write("k.cu", KERNEL)
    for flag, word in (("-dlink", "device"), ("-lib", "ar")):
        status, _, err = c.run([flag, src, "-o", c.path("x")])
        if status != 2:
            fail("%s: expected exit 2, got %d" % (flag, status))
        one_error_line(err, flag, word)
    status, _, err = c.run(["-cudart", "bogus", src])
    if status != 2:
        fail("-cudart bogus: expected exit 2")
    one_error_line(err, "static, shared and none")
    # Architectures CUDA 13 dropped, in nvcc's and clang's spellings
    # (CMake's compiler identification tries --cuda-gpu-arch=sm_52):
    # refused before clang runs, so no crash reproducer lands in TMPDIR.
    tmp = c.path("tmp")
    os.makedirs(tmp, exist_ok=True)
    env = dict(os.environ, TMPDIR=tmp)
    for form in (["-arch=sm_52"], ["-gencode", "arch=compute_70,code=sm_70"],
                 ["--cuda-gpu-arch=sm_52"], ["--offload-arch", "sm_60"]):
        status, _, err = c.run(form + ["-c", src, "-o", c.path("old.o")], env=env)
        if status != 2:
            fail("%s: expected exit 2, got %d" % (form, status))
        one_error_line(err, "unsupported GPU architecture", "sm_75")
    if os.listdir(tmp):
        fail("an old architecture left files in TMPDIR: %s" % os.listdir(tmp))
    print("OK")


def case_nvcc_images(c):
    """nvcc's -ptx, -cubin and -fatbin make a device image the program loads
    itself and launches by hand: uninstrumented (the parameters as written,
    no manifest); -cubin and -fatbin give a CUDA ELF the driver loads.
    Clang's --cuda-device-only still gives the instrumented image."""
    src = c.write("k.cu", KERNEL)
    ptx = c.path("k.ptx")
    c.run(["-O2", "-ptx", src, "-o", ptx], expect=0)
    text = open(ptx).read()
    if "paella" in text:
        fail("-ptx: the image is instrumented (it names paella): %s" % ptx)
    if len(re.findall(r"\.param [^\n]*scale_param_\d", text)) != 3:
        fail("-ptx: scale does not have its 3 parameters as written")
    for flag in ("-cubin", "-fatbin"):
        out = c.path("k" + flag)
        c.run(["-O2", flag, src, "-o", out], expect=0)
        check_cuda_elf(out, 90)
        if b"__paella_manifest" in open(out, "rb").read():
            fail("%s: the image carries a manifest (instrumented)" % flag)
    status, _, err = c.run(["-fatbin", "-gencode", "arch=compute_80,code=sm_80", "-gencode",
                            "arch=compute_90,code=sm_90", src, "-o", c.path("k2.fatbin")])
    if status != 2:
        fail("-fatbin for two architectures: expected exit 2, got %d" % status)
    one_error_line(err, "-fatbin", "one architecture")
    inst = c.path("k.inst.ptx")
    c.run(["-O2", "--cuda-device-only", "-S", src, "-o", inst], expect=0)
    if "__paella_manifest" not in open(inst).read():
        fail("--cuda-device-only -S is no longer instrumented")
    print("OK")


NVCC_STYLE = r"""
struct Shape {
	__device__ virtual float area() const = 0;
	__device__ virtual ~Shape() {}
};
struct Square : Shape {
	float s;
	__device__ Square(float s) : s(s) {}
	__device__ float area() const override { return s * s; }
};

__global__ void k(float *o, int *c)
{
	Square q(2.f);
	const Shape *p = &q;

	o[0] = p->area();
	o[1] = (float)nan("");
	__nv_atomic_fetch_add(c, 1, __NV_ATOMIC_RELAXED, __NV_THREAD_SCOPE_DEVICE);
}

int pick(int a, unsigned b, long c, unsigned long d)
{
	return (int)(min(a, b) + max(c, d));
}
"""


def case_compat_header(c):
    src = c.write("nv.cu", NVCC_STYLE)
    _, _, err = c.run(["-v", "-O2", "-c", src, "-o", c.path("nv.o")], expect=0)
    argv = clang_line(err)
    i = argv.index("-include") if "-include" in argv else -1
    if i < 0 or not argv[i + 1].endswith("paella_nvcc_compat.h") or not os.path.isfile(argv[i + 1]):
        fail("no -include .../paella_nvcc_compat.h: %s" % argv)
    status, _, err = c.run(["--paella-no-compat", "-O2", "-c", src, "-o", c.path("nv2.o")])
    if status == 0:
        fail("nvcc-only code compiled without the compatibility header: is the test still needed?")
    if "--paella-no-compat" in err:
        fail("--paella-no-compat reached clang")
    print("OK")


def case_static_cudart(c):
    lib = os.path.join(c.runtime_dir or "", "libpaellart.so")
    if not c.runtime_dir or not os.path.isfile(lib):
        skip("%s is not built yet" % lib)
    src = c.write("prog.cu", PROGRAM)
    out = c.path("prog.static")
    _, _, err = c.run(["-v", "-O2", src, "-o", out, "-lcudart_static", "-ldl", "-lrt", "-lpthread"], expect=0)
    argv = clang_line(err)
    if "-lcudart" in argv:
        fail("a shared cudart beside the static one: %s" % argv)
    if not any(a.endswith("libpaella_cudart_static.a") for a in argv):
        fail("no static-cudart shim in the link: %s" % argv)
    dyn = subprocess.run(["nm", "-D", "--defined-only", out], stdout=subprocess.PIPE, text=True).stdout
    if "paella_cudart_get_func_by_symbol" not in dyn:
        fail("the program does not export paella_cudart_get_func_by_symbol")
    needed = subprocess.run(["readelf", "-d", out], stdout=subprocess.PIPE, text=True).stdout
    if "libcudart.so" in needed or "libpaellart" not in needed:
        fail("expected libpaellart and no libcudart.so:\n%s" % needed)
    # nvcc's -cudart static says the same.
    _, _, err = c.run(["-v", "-cudart", "static", "-O2", src, "-o", out], expect=0)
    argv = clang_line(err)
    if "-lcudart" in argv or "-lcudart_static" not in argv:
        fail("-cudart static: %s" % argv)
    print("OK")


def case_link_as_needed(c):
    lib = os.path.join(c.runtime_dir or "", "libpaellart.so")
    if not c.runtime_dir or not os.path.isfile(lib):
        skip("%s is not built yet" % lib)
    src = c.write("prog.cu", PROGRAM)
    c.run(["--paella-no-instrument", "-O2", "-c", src, "-o", c.path("prog.o")], expect=0)
    c.run([c.path("prog.o"), "-o", c.path("prog.base")], expect=0)
    needed = subprocess.run(["readelf", "-d", c.path("prog.base")], stdout=subprocess.PIPE, text=True).stdout
    if "libpaellart" in needed:
        fail("an uninstrumented program links libpaellart:\n%s" % needed)
    c.run(["-O2", "-c", src, "-o", c.path("prog.i.o")], expect=0)
    c.run([c.path("prog.i.o"), "-o", c.path("prog.inst")], expect=0)
    needed = subprocess.run(["readelf", "-d", c.path("prog.inst")], stdout=subprocess.PIPE, text=True).stdout
    if "libpaellart" not in needed:
        fail("an instrumented program does not link libpaellart:\n%s" % needed)
    print("OK")


DEVICE_KERNELS = r"""
#include <cooperative_groups.h>
namespace cg = cooperative_groups;

__global__ void child(int *out, int base, int scale)
{
	out[base + threadIdx.x] = (base + threadIdx.x) * scale;
}

__global__ void parent(int *out, int scale)
{
	if (threadIdx.x == 0)
		child<<<1, 64>>>(out, blockIdx.x * 64, scale);
}

__global__ void ranks(unsigned long long *out)
{
	cg::grid_group g = cg::this_grid();

	out[g.thread_rank()] = g.thread_rank() * 3 + g.num_threads();
}

__global__ void two_phase(int *a, int n)
{
	cg::grid_group g = cg::this_grid();
	int i = g.thread_rank();

	if (i < n)
		a[i] = i;
	g.sync();
	if (i < n)
		a[i] += a[(i + 1) % n];
}
"""


def case_device_kernels(c):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from check_ptx import manifest

    src = c.write("dk.cu", DEVICE_KERNELS)
    for opt, notify, want_ranks in (("-O2", [], ("K", "sample")), ("-O0", [], ("K", "sample")),
                                    ("-O2", ["--paella-notify=count"], ("U", "grid-group"))):
        ptx = c.path("dk%s%s.ptx" % (opt, "-count" if notify else ""))
        c.run(notify + [opt, "-rdc=true", "--cuda-device-only", "-S", src, "-o", ptx], expect=0)
        with open(ptx) as f:
            got = manifest(f.read())
        if got is None:
            fail("no manifest in %s" % ptx)
        _, entries = got
        print("manifest: %s" % entries)
        want = {"_Z5childPiii": ("U", 3, "device-launched"), "_Z6parentPii": ("U", 2, "device-launch"),
                "_Z9two_phasePii": ("U", 2, "grid-sync")}
        for name, (k, n, why) in want.items():
            e = entries.get(name)
            if not e or e[0] != k or e[1] != n or not e[2].startswith(why):
                fail("%s %s: manifest has %s, expected %s %d %s" % (opt, name, e, k, n, why))
        e = entries.get("_Z5ranksPy")
        if not e or e[0] != want_ranks[0] or not e[2].startswith(want_ranks[1]):
            fail("%s %s ranks: manifest has %s, expected %s" % (opt, notify, e, want_ranks))
    print("OK")


DEVICE_RUNTIME = r"""
__global__ void grow(float **out, int *dev)
{
	cudaMalloc((void **)out, 64 * sizeof(float));
	cudaGetDevice(dev);
}
"""


def case_rdc_device_runtime(c):
    """With -rdc=true (as nvcc, which defines __CUDACC_RDC__), device-side
    cudaMalloc and cudaGetDevice call the device runtime: CUDA's headers
    otherwise define them as stubs that return cudaErrorUnknown."""
    src = c.write("dr.cu", DEVICE_RUNTIME)
    for flags in (["-rdc=true"], ["-dc"], ["-fgpu-rdc"]):
        ptx = c.path("dr.ptx")
        c.run(flags + ["--cuda-device-only", "-S", src, "-o", ptx], expect=0)
        text = open(ptx).read()
        for fn in ("__cudaCDP2Malloc", "__cudaCDP2GetDevice"):
            if not re.search(r"\.extern \.func[^;]*\b%s\b" % fn, text):
                fail("%s: %s is not the device runtime's (.extern): a stub?" % (flags, fn))
            if re.search(r"\.(weak|visible) \.func[^;]*\b%s\b" % fn, text):
                fail("%s: %s is defined in the PTX (CUDA's stub)" % (flags, fn))
    # A relocatable object on the line does not make the .cu beside it
    # relocatable: no __CUDACC_RDC__ for its compilation.
    obj = c.path("dr.o")
    c.run(["-dc", src, "-o", obj], expect=0)
    main = c.write("main.cu", "int main() { return 0; }\n")
    _, out, err = c.run(["-###", main, obj, "-o", c.path("x")], expect=0)
    if "__CUDACC_RDC__" in out + err:
        fail("a plain .cu linked with a relocatable object was given __CUDACC_RDC__")
    print("OK")


CASES = {
    "help": case_help,
    "version": case_version,
    "bogus": case_bogus,
    "skip-regex": case_skip_regex,
    "missing": case_missing,
    "no-input": case_no_input,
    "env-errors": case_env_errors,
    "print-plugin": case_print_plugin,
    "verbose": case_verbose,
    "arch": case_arch,
    "cubin": case_cubin,
    "mixed": case_mixed,
    "link-noinst": case_link_noinst,
    "link-missing": case_link_missing,
    "link-runtime": case_link_runtime,
    "nvcc-flags": case_nvcc_flags,
    "nvcc-images": case_nvcc_images,
    "nvcc-errors": case_nvcc_errors,
    "compat-header": case_compat_header,
    "static-cudart": case_static_cudart,
    "link-as-needed": case_link_as_needed,
    "device-kernels": case_device_kernels,
    "rdc-link": case_rdc_link,
    "rdc-device-runtime": case_rdc_device_runtime,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("case", choices=sorted(CASES))
    ap.add_argument("--paella-cc", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--runtime-dir")
    args = ap.parse_args()
    CASES[args.case](Ctx(args))


if __name__ == "__main__":
    main()
