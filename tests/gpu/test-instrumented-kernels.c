/*
 * test-instrumented-kernels - the instrumentation on a real GPU.
 *
 * For each kernel of the suite (kernels/) and grids of 1 to 262,144 blocks in
 * 1D, 2D and 3D shapes: run the build without the pass and the instrumented
 * build on the same random inputs and compare the outputs bit for bit; while
 * the instrumented kernel runs, poll its progress from the CPU in a tight
 * loop: it must be monotone and never above the grid, the completion must be
 * seen, and afterwards the device counters must sum to exactly the grid.
 * The build without the pass runs on a completion-only record, whose
 * completion must be seen too.  Then the probe kernel (progress_probe.cu)
 * checks that a progress value never runs ahead of the blocks really
 * finished.
 *
 * A plain C program (no Check, no libcuda at link time): it is copied to the
 * GPU machine, which has the driver but no toolchain.  It reaches CUDA only
 * through the runtime's driver boundary, and exits 77 (meson: skipped) with
 * "SKIP: <why>" where there is no GPU.
 *
 * Usage: test-instrumented-kernels [--images DIR] [--probe FILE] [--csv FILE]
 *   DIR holds <image>.cubin and <image>.noinst.cubin (default: beside the
 *   executable); FILE the instrumented progress_probe.cubin (default: beside
 *   the executable).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cuda-driver.h"
#include "launch.h"
#include "notify-test.h"
#include "notify.h"
#include "paella/instrument-abi.h"

#define EXIT_SKIP 77
/* A kernel not seen complete after this long is taken as hung. */
#define KERNEL_TIMEOUT_S 30.0
#define OUTPUT_SENTINEL 0xdeadbeefu
#define MAX_PARAMS 16

static struct paella__cu *cu;
static CUstream stream;
static struct paella__launcher *launcher;

/* ---- small helpers ------------------------------------------------------ */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
die_status(enum paella_status st)
{
	fprintf(stderr, "FAIL: %s: %s\n", paella_status_name(st), paella__error_last());
	exit(EXIT_FAILURE);
}

static void
die_cu(CUresult rc, const char *call, const char *file, int line)
{
	die_status(paella__cu_fail(cu, rc, call, file, line));
}

/* Driver calls in the test: any failure ends the program with the call, the
 * place and the driver's error name. */
#define CU_OR_DIE(call) \
	do { \
		CUresult rc_ = cu->call; \
		if (rc_ != CUDA_SUCCESS) \
			die_cu(rc_, #call, __FILE__, __LINE__); \
	} while (0)

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL) {
		fprintf(stderr, "FAIL: out of host memory (%zu bytes)\n", n);
		exit(EXIT_FAILURE);
	}
	return p;
}

static uint32_t rng_state;

static uint32_t
rng(void)
{
	uint32_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	rng_state = x;
	return x;
}

/* Random floats in +-[0.5, 1.5): never zero, so a kernel that skipped an
 * element or a block cannot match by luck. */
static void
fill_random(float *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t r = rng();
		float f = 0.5f + (float)(r >> 9) * (1.0f / 8388608.0f);

		p[i] = (r & 1) ? -f : f;
	}
}

static CUdeviceptr
dev_alloc(size_t bytes)
{
	CUdeviceptr p;

	CU_OR_DIE(cuMemAlloc(&p, bytes ? bytes : 4));
	return p;
}

static CUdeviceptr
dev_random(size_t nfloats)
{
	float *h = xmalloc(nfloats * sizeof(float));
	CUdeviceptr d = dev_alloc(nfloats * sizeof(float));

	fill_random(h, nfloats);
	CU_OR_DIE(cuMemcpyHtoD(d, h, nfloats * sizeof(float)));
	free(h);
	return d;
}

/* ---- the kernels ------------------------------------------------------- */

enum kernel_kind { K_VECTOR_ADD, K_SGEMM, K_REDUCE, K_STENCIL, K_PROBE };

struct kernel {
	enum kernel_kind kind;
	/* The extern "C" name, and the stem of its image files. */
	const char *name;
	const char *image;
	/* Parameters of the source kernel, without the launch record. */
	unsigned nparams;
	/* inst: the default build (sample mode); count: built with
	 * --paella-notify=count. */
	CUmodule inst_mod, noinst_mod, count_mod;
	CUfunction inst, noinst, count;
};

static struct kernel kernels[] = {
	{ K_VECTOR_ADD, "vector_add", "vector_add", 4 },
	{ K_SGEMM, "sgemm_tiled", "sgemm", 14 },
	{ K_REDUCE, "reduce_sum", "reduction", 3 },
	{ K_STENCIL, "stencil3d", "stencil3d", 5 },
};

static struct kernel probe = { K_PROBE, "progress_probe", "progress_probe", 2 };

struct dims {
	unsigned x, y, z;
};

struct kcase {
	struct kernel *k;
	struct dims grid, block;
	/* Problem size, by kernel: vector_add/reduce n; sgemm M N K batch;
	 * stencil nx ny nz. */
	uint64_t n;
	int m_, n_, k_, batch;
	int nx, ny, nz;
	/* probe: clock cycles each block spins */
	unsigned spin;
};

/* The grids: 1 to 262,144 blocks, 1D, 2D and 3D.  Sizes keep the whole run
 * well under a minute of GPU time and a few GB of memory. */
static const struct kcase cases[] = {
	/* vector_add: 256-thread blocks, linear block id; n not always a
	 * multiple of 256, so the last block is partial. */
	{ &kernels[0], { 1, 1, 1 }, { 256, 1, 1 }, .n = 200 },
	{ &kernels[0], { 7, 1, 1 }, { 256, 1, 1 }, .n = 7 * 256 - 3 },
	{ &kernels[0], { 40, 25, 1 }, { 256, 1, 1 }, .n = 1000 * 256 },
	{ &kernels[0], { 16, 16, 16 }, { 256, 1, 1 }, .n = 4096 * 256 - 1 },
	{ &kernels[0], { 256, 256, 1 }, { 256, 1, 1 }, .n = 65536 * 256 },
	{ &kernels[0], { 262144, 1, 1 }, { 256, 1, 1 }, .n = 262144 * 256 },
	{ &kernels[0], { 64, 64, 64 }, { 256, 1, 1 }, .n = 262144 * 256 - 77 },
	/* sgemm_tiled: 64 x 64 tiles, grid (N/64, M/64, batch).  The last
	 * case's grid is 16x too large: most blocks return at once. */
	{ &kernels[1], { 1, 1, 1 }, { 256, 1, 1 }, .m_ = 50, .n_ = 60, .k_ = 37, .batch = 1 },
	{ &kernels[1], { 7, 1, 1 }, { 256, 1, 1 }, .m_ = 33, .n_ = 7 * 64 - 5, .k_ = 64, .batch = 1 },
	{ &kernels[1], { 25, 40, 1 }, { 256, 1, 1 }, .m_ = 2560, .n_ = 1600, .k_ = 32, .batch = 1 },
	{ &kernels[1], { 16, 16, 16 }, { 256, 1, 1 }, .m_ = 1024, .n_ = 1000, .k_ = 48, .batch = 16 },
	{ &kernels[1], { 64, 32, 32 }, { 256, 1, 1 }, .m_ = 2048, .n_ = 4096, .k_ = 16, .batch = 32 },
	{ &kernels[1], { 64, 64, 64 }, { 256, 1, 1 }, .m_ = 1024, .n_ = 1024, .k_ = 16, .batch = 64 },
	/* reduce_sum: each block sums 4 * blockDim.x elements; some grids
	 * have blocks past n, which return at once. */
	{ &kernels[2], { 1, 1, 1 }, { 256, 1, 1 }, .n = 1000 },
	{ &kernels[2], { 7, 1, 1 }, { 1024, 1, 1 }, .n = 6 * 4096 + 1 },
	{ &kernels[2], { 40, 25, 1 }, { 256, 1, 1 }, .n = 900 * 1024 + 5 },
	{ &kernels[2], { 16, 16, 16 }, { 128, 1, 1 }, .n = 4096 * 512 },
	{ &kernels[2], { 4096, 64, 1 }, { 64, 1, 1 }, .n = 262144ull * 256 },
	{ &kernels[2], { 64, 64, 64 }, { 32, 1, 1 }, .n = 262144ull * 128 - 100 },
	/* stencil3d: 32x4x2 blocks; grid-stride loops, so 1D and 2D grids
	 * smaller than the domain work too. */
	{ &kernels[3], { 1, 1, 1 }, { 32, 4, 2 }, .nx = 40, .ny = 20, .nz = 10 },
	{ &kernels[3], { 7, 1, 1 }, { 32, 4, 2 }, .nx = 100, .ny = 30, .nz = 20 },
	{ &kernels[3], { 40, 25, 1 }, { 32, 4, 2 }, .nx = 1280, .ny = 100, .nz = 16 },
	{ &kernels[3], { 16, 16, 16 }, { 32, 4, 2 }, .nx = 512, .ny = 64, .nz = 32 },
	{ &kernels[3], { 16, 128, 128 }, { 32, 4, 2 }, .nx = 512, .ny = 512, .nz = 256 },
};

/* Probe grids: several waves of blocks that each spin ~50 us, so that the
 * CPU sees the grid in many intermediate states. */
static const struct kcase probe_cases[] = {
	{ &probe, { 1, 1, 1 }, { 128, 1, 1 }, .spin = 100000 },
	{ &probe, { 7, 1, 1 }, { 128, 1, 1 }, .spin = 100000 },
	{ &probe, { 40, 25, 1 }, { 128, 1, 1 }, .spin = 100000 },
	{ &probe, { 16, 16, 16 }, { 64, 2, 1 }, .spin = 100000 },
	{ &probe, { 20000, 1, 1 }, { 128, 1, 1 }, .spin = 100000 },
	/* Each poll counts 262,144 markers (about a millisecond): blocks
	 * spin longer so that the grid lasts several polls. */
	{ &probe, { 64, 64, 64 }, { 32, 1, 1 }, .spin = 200000 },
};

/* ---- results ----------------------------------------------------------- */

struct result {
	const char *kernel;
	const char *mode;
	char grid[48];
	const char *shape;
	uint64_t blocks;
	char cls[24];
	const char *identical;
	uint64_t polls;
	uint64_t max_before;
	uint64_t final_count;
	uint64_t ahead; /* probe: polls where progress > markers */
	double ms;
	bool ok;
	char why[160];
};

static struct result results[128];
static unsigned nresults;

static void PAELLA__PRINTF(2, 3)
fail(struct result *r, const char *fmt, ...)
{
	va_list ap;

	r->ok = false;
	if (r->why[0] != '\0')
		return; /* keep the first reason */
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

static uint64_t
nblocks_of(struct dims g)
{
	return (uint64_t)g.x * g.y * g.z;
}

static const char *
shape_of(struct dims g)
{
	if (g.z > 1)
		return "3D";
	if (g.y > 1)
		return "2D";
	return "1D";
}

/* ---- loading ----------------------------------------------------------- */

static bool
file_exists(const char *path)
{
	return access(path, R_OK) == 0;
}

/* Reads a module global into @buf (up to @cap bytes); returns its size, or
 * 0 when the module has no such global. */
static size_t
read_global(CUmodule mod, const char *name, void *buf, size_t cap)
{
	CUdeviceptr ptr;
	size_t size;
	CUresult rc = cu->cuModuleGetGlobal(&ptr, &size, mod, name);

	if (rc != CUDA_SUCCESS)
		return 0;
	if (size > cap)
		size = cap;
	CU_OR_DIE(cuMemcpyDtoH(buf, ptr, size));
	return size;
}

/*
 * The instrumented module must carry our ABI version and list the kernel as
 * instrumented with its source parameter count; with cuFuncGetParamInfo, the
 * function must have exactly one parameter more, 8 bytes wide.
 */
static bool
check_instrumented(struct kernel *k, CUmodule mod, CUfunction fn, const char *mode,
		   const char *path)
{
	uint64_t version = 0;
	char manifest[8192];
	char want[160];
	size_t n;

	n = read_global(mod, PAELLA_ABI_VERSION_SYMBOL, &version, sizeof(version));
	if (n == 0) {
		fprintf(stderr, "FAIL: %s has no %s: not built by the paella pass\n",
			path, PAELLA_ABI_VERSION_SYMBOL);
		return false;
	}
	if (n < sizeof(version))
		version &= (UINT64_C(1) << (8 * n)) - 1;
	if (version != PAELLA_ABI_VERSION) {
		fprintf(stderr, "FAIL: %s is built for instrumentation ABI %llu; this runtime "
			"speaks ABI %d\n", path, (unsigned long long)version, PAELLA_ABI_VERSION);
		return false;
	}

	memset(manifest, 0, sizeof(manifest));
	n = read_global(mod, PAELLA_MANIFEST_SYMBOL, manifest, sizeof(manifest) - 1);
	if (n == 0 || strncmp(manifest, PAELLA_MANIFEST_HEADER,
			      strlen(PAELLA_MANIFEST_HEADER)) != 0) {
		fprintf(stderr, "FAIL: %s: no manifest (%s)\n", path, PAELLA_MANIFEST_SYMBOL);
		return false;
	}
	/* Sample mode names the kernel's plain copy (manifest 3). */
	if (strcmp(mode, PAELLA_NOTIFY_SAMPLE_NAME) == 0)
		snprintf(want, sizeof(want), "\nK %s %u %s %s%s\n", k->name, k->nparams, mode,
			 k->name, PAELLA_PLAIN_CLONE_SUFFIX);
	else
		snprintf(want, sizeof(want), "\nK %s %u %s\n", k->name, k->nparams, mode);
	if (strstr(manifest, want) == NULL) {
		fprintf(stderr, "FAIL: %s: the manifest does not list \"%.*s\":\n%s", path,
			(int)strlen(want) - 2, want + 1, manifest);
		return false;
	}
	if (strcmp(mode, PAELLA_NOTIFY_SAMPLE_NAME) == 0) {
		char plain_name[160];
		CUfunction plain;
		size_t off, size;

		snprintf(plain_name, sizeof(plain_name), "%s%s", k->name, PAELLA_PLAIN_CLONE_SUFFIX);
		if (cu->cuModuleGetFunction(&plain, mod, plain_name) != CUDA_SUCCESS ||
		    (cu->cuFuncGetParamInfo != NULL &&
		     cu->cuFuncGetParamInfo(plain, k->nparams, &off, &size) == CUDA_SUCCESS)) {
			fprintf(stderr, "FAIL: %s: no %s with the kernel's %u parameters\n", path,
				plain_name, k->nparams);
			return false;
		}
	}

	if (cu->cuFuncGetParamInfo != NULL) {
		size_t off, size;

		if (cu->cuFuncGetParamInfo(fn, k->nparams, &off, &size) != CUDA_SUCCESS ||
		    size != sizeof(CUdeviceptr) ||
		    cu->cuFuncGetParamInfo(fn, k->nparams + 1, &off, &size) == CUDA_SUCCESS) {
			fprintf(stderr, "FAIL: %s: %s should have %u parameters, the last a pointer\n",
				path, k->name, k->nparams + 1);
			return false;
		}
	}
	return true;
}

static CUmodule
load_module(const char *path)
{
	CUmodule mod;

	if (!file_exists(path)) {
		fprintf(stderr, "FAIL: %s: %s (build kernels/ and tests/gpu/ first, or pass "
			"--images DIR / --probe FILE)\n", path, strerror(errno));
		exit(EXIT_FAILURE);
	}
	CU_OR_DIE(cuModuleLoad(&mod, path));
	return mod;
}

static bool
load_kernel(struct kernel *k, const char *dir, const char *probe_path)
{
	char path[PATH_MAX], count_path[PATH_MAX];

	if (k->kind == K_PROBE) {
		size_t n = strlen(probe_path);

		snprintf(path, sizeof(path), "%s", probe_path);
		/* progress_probe.cubin -> progress_probe.count.cubin */
		if (n > 6 && strcmp(probe_path + n - 6, ".cubin") == 0)
			snprintf(count_path, sizeof(count_path), "%.*s.count.cubin", (int)(n - 6),
				 probe_path);
		else
			snprintf(count_path, sizeof(count_path), "%s.count", probe_path);
	} else {
		snprintf(path, sizeof(path), "%s/%s.noinst.cubin", dir, k->image);
		k->noinst_mod = load_module(path);
		CU_OR_DIE(cuModuleGetFunction(&k->noinst, k->noinst_mod, k->name));
		snprintf(path, sizeof(path), "%s/%s.cubin", dir, k->image);
		snprintf(count_path, sizeof(count_path), "%s/%s.count.cubin", dir, k->image);
	}
	k->inst_mod = load_module(path);
	CU_OR_DIE(cuModuleGetFunction(&k->inst, k->inst_mod, k->name));
	k->count_mod = load_module(count_path);
	CU_OR_DIE(cuModuleGetFunction(&k->count, k->count_mod, k->name));
	return check_instrumented(k, k->inst_mod, k->inst, PAELLA_NOTIFY_SAMPLE_NAME, path) &&
	       check_instrumented(k, k->count_mod, k->count, PAELLA_NOTIFY_COUNT_NAME,
				  count_path);
}

/* ---- running ----------------------------------------------------------- */

struct buffers {
	CUdeviceptr in[2];
	CUdeviceptr out;
	size_t out_bytes;
	/* parameter storage: kernelParams point into it */
	unsigned long long u64;
	int i[8];
	long long ll[3];
	float f[2];
};

static void
setup_buffers(const struct kcase *c, struct buffers *b, void **params)
{
	memset(b, 0, sizeof(*b));
	switch (c->k->kind) {
	case K_VECTOR_ADD:
		b->in[0] = dev_random(c->n);
		b->in[1] = dev_random(c->n);
		b->out_bytes = c->n * sizeof(float);
		b->out = dev_alloc(b->out_bytes);
		b->u64 = c->n;
		params[0] = &b->in[0];
		params[1] = &b->in[1];
		params[2] = &b->out;
		params[3] = &b->u64;
		break;
	case K_SGEMM: {
		/* Row-major, tightly packed: lda = K, ldb = ldc = N. */
		size_t a = (size_t)c->m_ * c->k_, bb = (size_t)c->k_ * c->n_;
		size_t cc = (size_t)c->m_ * c->n_;

		b->in[0] = dev_random(a * c->batch);
		b->in[1] = dev_random(bb * c->batch);
		b->out_bytes = cc * c->batch * sizeof(float);
		b->out = dev_alloc(b->out_bytes);
		b->i[0] = c->m_;
		b->i[1] = c->n_;
		b->i[2] = c->k_;
		b->f[0] = 1.25f; /* alpha */
		b->i[3] = c->k_; /* lda */
		b->ll[0] = (long long)a;
		b->i[4] = c->n_; /* ldb */
		b->ll[1] = (long long)bb;
		b->f[1] = 0.0f; /* beta: C is written, not read */
		b->i[5] = c->n_; /* ldc */
		b->ll[2] = (long long)cc;
		params[0] = &b->i[0];
		params[1] = &b->i[1];
		params[2] = &b->i[2];
		params[3] = &b->f[0];
		params[4] = &b->in[0];
		params[5] = &b->i[3];
		params[6] = &b->ll[0];
		params[7] = &b->in[1];
		params[8] = &b->i[4];
		params[9] = &b->ll[1];
		params[10] = &b->f[1];
		params[11] = &b->out;
		params[12] = &b->i[5];
		params[13] = &b->ll[2];
		break;
	}
	case K_REDUCE:
		b->in[0] = dev_random(c->n);
		b->out_bytes = nblocks_of(c->grid) * sizeof(float);
		b->out = dev_alloc(b->out_bytes);
		b->u64 = c->n;
		params[0] = &b->in[0];
		params[1] = &b->out;
		params[2] = &b->u64;
		break;
	case K_STENCIL: {
		size_t pts = (size_t)c->nx * c->ny * c->nz;

		b->in[0] = dev_random(pts);
		b->out_bytes = pts * sizeof(float);
		b->out = dev_alloc(b->out_bytes);
		b->i[0] = c->nx;
		b->i[1] = c->ny;
		b->i[2] = c->nz;
		params[0] = &b->in[0];
		params[1] = &b->out;
		params[2] = &b->i[0];
		params[3] = &b->i[1];
		params[4] = &b->i[2];
		break;
	}
	case K_PROBE:
		PAELLA__BUG("the probe has its own runner");
	}
}

static void
free_buffers(struct buffers *b)
{
	for (int i = 0; i < 2; i++)
		if (b->in[i] != 0)
			cu->cuMemFree(b->in[i]);
	if (b->out != 0)
		cu->cuMemFree(b->out);
}

static uint64_t
wave_blocks(CUfunction f, const struct kcase *c)
{
	return paella__notify_wave_blocks(cu, f, c->block.x * c->block.y * c->block.z, 0);
}

/* Case @c's launch of @f, built to report in @mode, as the runtime makes
 * it: the code as built, its record in params[@nparams], completion by the
 * completion kernel. */
static struct paella__launch
launch_of(CUfunction f, enum paella__notify_mode mode, const struct kcase *c, void **params,
	  unsigned nparams, enum paella__signal signal)
{
	struct paella__launch l = { 0 };

	l.fn = f;
	l.mode = mode;
	l.code = PAELLA__CODE_BUILT;
	l.grid[0] = c->grid.x;
	l.grid[1] = c->grid.y;
	l.grid[2] = c->grid.z;
	l.block[0] = c->block.x;
	l.block[1] = c->block.y;
	l.block[2] = c->block.z;
	l.params = params;
	l.nparams = nparams;
	l.wave_blocks = mode == PAELLA__NOTIFY_NONE ? 0 : wave_blocks(f, c);
	l.signal = signal;
	return l;
}

/* Counts the probe's markers: blocks whose marker the CPU sees. */
static uint64_t
count_markers(const volatile unsigned *markers, uint64_t n)
{
	uint64_t m = 0;

	for (uint64_t i = 0; i < n; i++)
		m += markers[i] != 0;
	return m;
}

/*
 * Runs the instrumented kernel with a launch record and polls it to
 * completion, checking every progress value; @markers (probe only) are
 * counted after each read of the progress.
 */
static void
run_instrumented(const struct kcase *c, enum paella__notify_mode mode, void **params,
		 unsigned nparams, const volatile unsigned *markers, struct result *r)
{
	uint64_t n = nblocks_of(c->grid), last = 0, total = 0;
	bool count = mode == PAELLA__NOTIFY_COUNT;
	struct paella__notify_record *rec;
	struct paella__launch l;
	enum paella_status st;
	uint32_t tag = 0;
	double t0;
	bool done;

	r->mode = count ? PAELLA_NOTIFY_COUNT_NAME : PAELLA_NOTIFY_SAMPLE_NAME;
	l = launch_of(count ? c->k->count : c->k->inst, mode, c, params, nparams,
		      PAELLA__SIGNAL_KERNEL_HINT);
	/* Taken first, to read its class before the launch. */
	st = paella__launch_record(launcher, &l, &rec);
	if (st != PAELLA_STATUS_OK)
		die_status(st);
	if (count) {
		snprintf(r->cls, sizeof(r->cls), "%u/%u",
			 paella__notify_class_shards(paella__notify_record_class(rec)),
			 paella__notify_record_class(rec).post_mask + 1);
	} else {
		tag = paella__notify_record_tag(rec);
		snprintf(r->cls, sizeof(r->cls), "1/%llu", 1ull << tag);
	}
	l.record = rec;

	t0 = now_s();
	st = paella__launch(launcher, &l, stream, NULL);
	if (st != PAELLA_STATUS_OK)
		die_status(st);

	do {
		uint64_t p;

		done = paella__notify_poll(rec, &p);
		r->polls++;
		/* Count mode only: a sample is thread 0's, a hint. */
		if (count && markers != NULL && p > count_markers(markers, n))
			r->ahead++;
		if (p < last)
			fail(r, "progress went back from %llu to %llu",
			     (unsigned long long)last, (unsigned long long)p);
		if (p > n)
			fail(r, "progress %llu above the grid", (unsigned long long)p);
		if (!done && p > r->max_before)
			r->max_before = p;
		last = p;
		if (!done && (r->polls & 0xfff) == 0 && now_s() - t0 > KERNEL_TIMEOUT_S) {
			fprintf(stderr, "FAIL: %s grid %s: completion not seen after %.0f s "
				"(progress %llu of %llu); giving up\n", c->k->name, r->grid,
				KERNEL_TIMEOUT_S, (unsigned long long)p, (unsigned long long)n);
			exit(EXIT_FAILURE);
		}
	} while (!done);
	r->ms = (now_s() - t0) * 1e3;

	CU_OR_DIE(cuStreamSynchronize(stream));
	if (count) {
		st = paella__notify_read_counters(rec, &total, NULL);
		if (st != PAELLA_STATUS_OK)
			die_status(st);
		r->final_count = total;
		if (total != n)
			fail(r, "device counters sum to %llu, grid is %llu",
			     (unsigned long long)total, (unsigned long long)n);
	} else {
		/* The host word holds one sampled block's id + 1 (the last
		 * store to land), or 0 when the rule samples none. */
		uint64_t mask = (UINT64_C(1) << tag) - 1, reports;
		uint32_t v = paella__notify_sample_word(rec);

		reports = paella__notify_sample_reports(n, tag);
		r->final_count = reports;
		if (reports == 0 && v != 0)
			fail(r, "no block should have reported, the host word is %u", v);
		if (reports != 0 && (v == 0 || ((v - 1) & mask) != mask ||
				     (uint64_t)v - 1 + (PAELLA_SAMPLE_TAIL_INTERVALS << tag) >= n))
			fail(r, "the host word %u is not a sampled block's id + 1 "
			     "(interval %llu, %llu reports expected)", v,
			     (unsigned long long)mask + 1, (unsigned long long)reports);
		if (r->max_before >= n)
			fail(r, "sampled progress reached the grid before completion");
	}
	if (r->ahead != 0)
		fail(r, "progress ran ahead of the finished blocks %llu times",
		     (unsigned long long)r->ahead);
	paella__notify_release(rec);
}

/* The build without the pass, on a completion-only record: the completion
 * write after the kernel must be seen without synchronizing. */
static void
run_uninstrumented(const struct kcase *c, void **params, struct result *r)
{
	uint64_t n = nblocks_of(c->grid);
	struct paella__notify_record *rec;
	enum paella_status st;
	double t0 = now_s();
	uint64_t polls = 0;

	struct paella__launch l = launch_of(c->k->noinst, PAELLA__NOTIFY_NONE, c, params, 0,
					    PAELLA__SIGNAL_KERNEL);

	st = paella__launch(launcher, &l, stream, &rec);
	if (st != PAELLA_STATUS_OK)
		die_status(st);
	while (!paella__notify_done(rec)) {
		if ((++polls & 0xfff) == 0 && now_s() - t0 > KERNEL_TIMEOUT_S) {
			fprintf(stderr, "FAIL: %s grid %s (no pass): completion not seen after "
				"%.0f s; giving up\n", c->k->name, r->grid, KERNEL_TIMEOUT_S);
			exit(EXIT_FAILURE);
		}
	}
	if (paella__notify_progress(rec) != n)
		fail(r, "a completed uninstrumented launch reports %llu of %llu blocks",
		     (unsigned long long)paella__notify_progress(rec), (unsigned long long)n);
	CU_OR_DIE(cuStreamSynchronize(stream));
	paella__notify_release(rec);
}

static void
init_result(struct result *r, const struct kcase *c)
{
	memset(r, 0, sizeof(*r));
	r->kernel = c->k->name;
	snprintf(r->grid, sizeof(r->grid), "%ux%ux%u", c->grid.x, c->grid.y, c->grid.z);
	r->shape = shape_of(c->grid);
	r->blocks = nblocks_of(c->grid);
	r->identical = "n/a";
	r->ok = true;
}

static void
run_case(const struct kcase *c, struct result *r, struct result *r2)
{
	void *params[MAX_PARAMS + 1] = { 0 };
	struct buffers b;
	void *ref, *out;

	init_result(r, c);
	setup_buffers(c, &b, params);
	ref = xmalloc(b.out_bytes);
	out = xmalloc(b.out_bytes);

	/* Same sentinel before both runs: what a kernel leaves alone must
	 * match too.  The copies and memsets run on the legacy stream, the
	 * kernels on a non-blocking one: synchronize in between. */
	CU_OR_DIE(cuMemsetD32(b.out, OUTPUT_SENTINEL, b.out_bytes / 4));
	CU_OR_DIE(cuCtxSynchronize());
	run_uninstrumented(c, params, r);
	CU_OR_DIE(cuMemcpyDtoH(ref, b.out, b.out_bytes));

	for (int m = 0; m < 2; m++) {
		struct result *rm = m == 0 ? r : r2;

		if (m == 1) {
			init_result(r2, c);
		}
		CU_OR_DIE(cuMemsetD32(b.out, OUTPUT_SENTINEL, b.out_bytes / 4));
		CU_OR_DIE(cuCtxSynchronize());
		run_instrumented(c, m == 0 ? PAELLA__NOTIFY_SAMPLE : PAELLA__NOTIFY_COUNT, params,
				 c->k->nparams, NULL, rm);
		CU_OR_DIE(cuMemcpyDtoH(out, b.out, b.out_bytes));

		if (memcmp(ref, out, b.out_bytes) == 0) {
			rm->identical = "yes";
		} else {
			rm->identical = "no";
			fail(rm, "outputs differ from the uninstrumented build");
		}
	}
	free(ref);
	free(out);
	free_buffers(&b);
}

static void
run_probe(const struct kcase *c, enum paella__notify_mode mode, struct result *r)
{
	void *params[3] = { 0 };
	uint64_t n = nblocks_of(c->grid);
	CUdeviceptr markers_dev;
	unsigned *markers;
	unsigned spin = c->spin;

	init_result(r, c);
	CU_OR_DIE(cuMemHostAlloc((void **)&markers, n * sizeof(*markers),
				 CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_PORTABLE));
	memset(markers, 0, n * sizeof(*markers));
	CU_OR_DIE(cuMemHostGetDevicePointer(&markers_dev, markers, 0));
	params[0] = &markers_dev;
	params[1] = &spin;
	run_instrumented(c, mode, params, c->k->nparams, markers, r);
	if (count_markers(markers, n) != n)
		fail(r, "only %llu of %llu markers set",
		     (unsigned long long)count_markers(markers, n), (unsigned long long)n);
	cu->cuMemFreeHost(markers);
}

/* ---- output ------------------------------------------------------------ */

static void
print_table(void)
{
	printf("\n%-14s %-12s %-5s %8s %-6s %-9s %-9s %9s %10s %10s %9s  %s\n",
	       "kernel", "grid", "shape", "blocks", "mode", "class", "identical", "polls",
	       "max-before", "count", "ms", "result");
	for (unsigned i = 0; i < nresults; i++) {
		const struct result *r = &results[i];

		printf("%-14s %-12s %-5s %8llu %-6s %-9s %-9s %9llu %10llu %10llu %9.3f  %s%s%s\n",
		       r->kernel, r->grid, r->shape, (unsigned long long)r->blocks, r->mode, r->cls,
		       r->identical, (unsigned long long)r->polls,
		       (unsigned long long)r->max_before, (unsigned long long)r->final_count,
		       r->ms, r->ok ? "PASS" : "FAIL", r->ok ? "" : ": ", r->why);
	}
	printf("(class: shards/post interval, or 1/sampling interval; max-before: most blocks "
	       "seen finished before completion; count: count mode, the device counters' sum; "
	       "sample mode, the blocks the rule samples; ms: launch to completion seen, "
	       "polling)\n");
}

static bool
write_csv(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		fprintf(stderr, "FAIL: cannot write %s: %s\n", path, strerror(errno));
		return false;
	}
	fprintf(f, "kernel,mode,grid,shape,blocks,shards,post_interval,identical,polls,"
		"max_progress_before_completion,final_device_count,progress_ahead,ms,result\n");
	for (unsigned i = 0; i < nresults; i++) {
		const struct result *r = &results[i];
		unsigned shards = 0, interval = 0;

		sscanf(r->cls, "%u/%u", &shards, &interval);
		fprintf(f, "%s,%s,%s,%s,%llu,%u,%u,%s,%llu,%llu,%llu,%llu,%.3f,%s\n",
			r->kernel, r->mode, r->grid, r->shape, (unsigned long long)r->blocks,
			shards, interval, r->identical, (unsigned long long)r->polls,
			(unsigned long long)r->max_before, (unsigned long long)r->final_count,
			(unsigned long long)r->ahead, r->ms, r->ok ? "pass" : "fail");
	}
	return fclose(f) == 0;
}

/* ---- main -------------------------------------------------------------- */

static void
exe_dir(char *buf, size_t cap)
{
	ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
	char *slash;

	if (n <= 0) {
		snprintf(buf, cap, ".");
		return;
	}
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: test-instrumented-kernels [--images DIR] [--probe FILE] [--csv FILE]\n"
		"  --images DIR  where <kernel>.cubin and <kernel>.noinst.cubin are\n"
		"                (default: the executable's directory)\n"
		"  --probe FILE  the instrumented progress_probe.cubin\n"
		"                (default: progress_probe.cubin beside the executable)\n"
		"  --csv FILE    also write the results as CSV\n"
		"Exits 0 when every check passes, 77 (skip) without a GPU, 1 otherwise.\n");
}

int
main(int argc, char **argv)
{
	char images[PATH_MAX], probe_path[PATH_MAX], dir[PATH_MAX];
	const char *csv = NULL;
	enum paella_status st;
	CUdevice dev;
	CUcontext ctx;
	char name[128];
	int count = 0, sms = 0;
	bool ok = true;
	double t0 = now_s();

	exe_dir(dir, sizeof(dir));
	snprintf(images, sizeof(images), "%s", dir);
	snprintf(probe_path, sizeof(probe_path), "%s/progress_probe.cubin", dir);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--images") == 0 && i + 1 < argc) {
			snprintf(images, sizeof(images), "%s", argv[++i]);
		} else if (strcmp(argv[i], "--probe") == 0 && i + 1 < argc) {
			snprintf(probe_path, sizeof(probe_path), "%s", argv[++i]);
		} else if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc) {
			csv = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return EXIT_SUCCESS;
		} else {
			fprintf(stderr, "test-instrumented-kernels: unknown or incomplete argument '%s'\n",
				argv[i]);
			usage(stderr);
			return EXIT_FAILURE;
		}
	}

	st = paella__cu_open(&cu);
	if (st == PAELLA_STATUS_NO_DEVICE) {
		printf("SKIP: %s\n", paella__error_last());
		return EXIT_SKIP;
	}
	if (st != PAELLA_STATUS_OK)
		die_status(st);
	CU_OR_DIE(cuDeviceGetCount(&count));
	if (count == 0) {
		printf("SKIP: the NVIDIA driver sees no device\n");
		paella__cu_close(cu);
		return EXIT_SKIP;
	}
	CU_OR_DIE(cuDeviceGet(&dev, 0));
	CU_OR_DIE(cuDeviceGetName(name, sizeof(name), dev));
	CU_OR_DIE(cuDeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev));
	CU_OR_DIE(cuDevicePrimaryCtxRetain(&ctx, dev));
	CU_OR_DIE(cuCtxSetCurrent(ctx));
	CU_OR_DIE(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
	st = paella__launcher_create(cu, &launcher);
	if (st != PAELLA_STATUS_OK)
		die_status(st);
	printf("device 0: %s, %d SMs, driver %d; images from %s\n", name, sms,
	       cu->driver_version, images);
	fflush(stdout);

	for (size_t i = 0; i < PAELLA__ARRAY_SIZE(kernels); i++)
		if (!load_kernel(&kernels[i], images, NULL))
			ok = false;
	if (!load_kernel(&probe, NULL, probe_path))
		ok = false;
	if (!ok)
		return EXIT_FAILURE;

	rng_state = 0x12345678u;
	for (size_t i = 0; i < PAELLA__ARRAY_SIZE(cases); i++) {
		struct result *r = &results[nresults];

		nresults += 2;
		run_case(&cases[i], r, r + 1);
		for (int m = 0; m < 2; m++)
			printf("%s %s %s: %s%s%s\n", r[m].kernel, r[m].grid, r[m].mode,
			       r[m].ok ? "pass" : "FAIL", r[m].ok ? "" : ": ", r[m].why);
		fflush(stdout);
		ok = ok && r[0].ok && r[1].ok;
	}
	for (size_t i = 0; i < PAELLA__ARRAY_SIZE(probe_cases); i++) {
		for (int m = 0; m < 2; m++) {
			struct result *r = &results[nresults++];

			run_probe(&probe_cases[i], m == 0 ? PAELLA__NOTIFY_SAMPLE
							 : PAELLA__NOTIFY_COUNT, r);
			printf("%s %s %s: %s%s%s\n", r->kernel, r->grid, r->mode,
			       r->ok ? "pass" : "FAIL", r->ok ? "" : ": ", r->why);
			fflush(stdout);
			ok = ok && r->ok;
		}
	}

	print_table();
	if (csv != NULL && !write_csv(csv))
		ok = false;
	printf("%s: %u cases, %.1f s\n", ok ? "PASS" : "FAIL", nresults, now_s() - t0);

	paella__launcher_destroy(launcher);
	cu->cuStreamDestroy(stream);
	for (size_t i = 0; i < PAELLA__ARRAY_SIZE(kernels); i++) {
		cu->cuModuleUnload(kernels[i].inst_mod);
		cu->cuModuleUnload(kernels[i].noinst_mod);
		cu->cuModuleUnload(kernels[i].count_mod);
	}
	cu->cuModuleUnload(probe.inst_mod);
	cu->cuModuleUnload(probe.count_mod);
	cu->cuDevicePrimaryCtxRelease(dev);
	paella__cu_close(cu);
	return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
