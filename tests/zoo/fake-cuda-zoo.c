/*
 * fake-cuda-zoo.c - a CUDA driver for zoo-check without a GPU
 * (PAELLA_LIBCUDA=libfake-cuda-zoo.so): "device" memory is host memory and
 * the layer kernels run as their CPU reference (ref.h) inside
 * cuLaunchKernel, so `zoo-check layers` runs end to end on a CPU and checks
 * everything around the kernels: the plans, the zoo's models (their
 * argument bindings and copies), the runtime's launches, direct mode, and
 * how the check moves data to and from the device.
 *
 * The point is the driver's ordering rules, taken at their least
 * favourable, as a GPU may well take them (CUDA's "API synchronization
 * behavior"):
 *   - work on the legacy default stream (cuMemcpyHtoD, cuMemsetD32, the
 *     *Async calls and launches given stream 0) has not happened when the
 *     call returns.  A pageable cuMemcpyHtoD takes its source at once (it
 *     is staged) but lands later; it first waits for the legacy stream's
 *     earlier work.  Legacy work lands when something waits for it:
 *     cuCtxSynchronize, cuStreamSynchronize(0), cuMemcpyDtoH, cuMemFree,
 *     the next cuMemcpyHtoD, or work issued to a blocking stream;
 *   - a stream created with CU_STREAM_NON_BLOCKING never waits for the
 *     legacy stream: its copies and kernels happen at once, before legacy
 *     work still in flight, which may then land on top of their results;
 *   - cuMemAlloc'd memory is NaN until written.
 * So a check that uploads with cuMemcpyHtoD and launches on a non-blocking
 * stream reads NaN, and has its outputs overwritten by the late upload, as
 * the H200 did once the arena was large enough (about 430 KB).
 *
 * Images: stand-ins (fake-image.txt as tests/zoo/meson.build fills it in)
 * whose first line names the image's stem (conv2d, pool, linear) and
 * variant; cuModuleLoadData knows its kernels by the stem, and refuses
 * anything else (the runtime's PTX, as a card without it would).  An
 * instrumented image (variant not noinst) has the ABI version and a
 * manifest.  Events time nothing (every kernel takes 1 us); stream
 * priorities are none, as on a card without them.  Knobs:
 *   FAKE_CUDA_SMS=N      multiprocessors (default 132, the H200's, so the
 *                        random layer cases are the GPU run's)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda.h>

#include "layer-abi.h"
#include "paella/instrument-abi.h"
#include "ref.h"

#define FAKE_EXPORT __attribute__((visibility("default")))

/* ---- what runs ----------------------------------------------------------- */

enum fake_op { F_CONV, F_MAXPOOL, F_AVGPOOL, F_APOOL, F_LINEAR, F_SOFTMAX, F_ADD, F_SPIN };

struct fake_fn {
	const char *name;
	const char *image;
	enum fake_op op;
	unsigned nargs;
};

static const struct fake_fn fns[] = {
	{ "conv2d_igemm_64x64", "conv2d", F_CONV, PZOO__CONV_NARGS },
	{ "conv2d_igemm_128x64", "conv2d", F_CONV, PZOO__CONV_NARGS },
	{ "conv2d_igemm_128x32", "conv2d", F_CONV, PZOO__CONV_NARGS },
	{ "conv2d_igemm_32x128", "conv2d", F_CONV, PZOO__CONV_NARGS },
	{ "conv2d_igemm_64x64_1x1", "conv2d", F_CONV, PZOO__CONV_NARGS },
	{ "conv2d_igemm_128x64_1x1", "conv2d", F_CONV, PZOO__CONV_NARGS },
	{ "conv2d_igemm_128x32_1x1", "conv2d", F_CONV, PZOO__CONV_NARGS },
	{ "conv2d_igemm_32x128_1x1", "conv2d", F_CONV, PZOO__CONV_NARGS },
	{ "dwconv2d", "conv2d", F_CONV, PZOO__CONV_NARGS },
	{ "maxpool2d", "pool", F_MAXPOOL, PZOO__POOL_NARGS },
	{ "avgpool2d", "pool", F_AVGPOOL, PZOO__POOL_NARGS },
	{ "adaptive_avgpool2d", "pool", F_APOOL, PZOO__APOOL_NARGS },
	{ "linear", "linear", F_LINEAR, PZOO__LINEAR_NARGS },
	{ "softmax", "linear", F_SOFTMAX, PZOO__SOFTMAX_NARGS },
	{ "add", "linear", F_ADD, PZOO__ADD_NARGS },
	{ "spin_wait", "linear", F_SPIN, 1 },
};

struct fake_module {
	char stem[32];
	bool instrumented;
};

/* Kernel arguments, as the runtime passes them: a pointer to each value. */
#define PF(i) (*(float *const *)params[i])
#define PI(i) (*(const int *)params[i])

static void
run_kernel(const struct fake_fn *f, void **params)
{
	switch (f->op) {
	case F_CONV:
		pzoo__ref_conv2d(PF(PZOO__CONV_X), PI(PZOO__CONV_X_CTOT),
			PF(PZOO__CONV_IN_SCALE), PF(PZOO__CONV_IN_SHIFT), PF(PZOO__CONV_W),
			PF(PZOO__CONV_BIAS), PF(PZOO__CONV_RES), PI(PZOO__CONV_RES_CTOT),
			PF(PZOO__CONV_Y), PI(PZOO__CONV_Y_CTOT), PI(PZOO__CONV_N),
			PI(PZOO__CONV_C), PI(PZOO__CONV_H), PI(PZOO__CONV_W_IN),
			PI(PZOO__CONV_M), PI(PZOO__CONV_P), PI(PZOO__CONV_Q),
			PI(PZOO__CONV_R), PI(PZOO__CONV_S), PI(PZOO__CONV_SH),
			PI(PZOO__CONV_SW), PI(PZOO__CONV_PH), PI(PZOO__CONV_PW),
			PI(PZOO__CONV_GROUPS), PI(PZOO__CONV_ACT));
		break;
	case F_MAXPOOL:
		pzoo__ref_maxpool2d(PF(PZOO__POOL_X), PI(PZOO__POOL_X_CTOT), PF(PZOO__POOL_Y),
			PI(PZOO__POOL_Y_CTOT), PI(PZOO__POOL_N), PI(PZOO__POOL_C),
			PI(PZOO__POOL_H), PI(PZOO__POOL_W), PI(PZOO__POOL_P),
			PI(PZOO__POOL_Q), PI(PZOO__POOL_R), PI(PZOO__POOL_S),
			PI(PZOO__POOL_SH), PI(PZOO__POOL_SW), PI(PZOO__POOL_PH),
			PI(PZOO__POOL_PW));
		break;
	case F_AVGPOOL:
		pzoo__ref_avgpool2d(PF(PZOO__POOL_X), PI(PZOO__POOL_X_CTOT), PF(PZOO__POOL_Y),
			PI(PZOO__POOL_Y_CTOT), PI(PZOO__POOL_N), PI(PZOO__POOL_C),
			PI(PZOO__POOL_H), PI(PZOO__POOL_W), PI(PZOO__POOL_P),
			PI(PZOO__POOL_Q), PI(PZOO__POOL_R), PI(PZOO__POOL_S),
			PI(PZOO__POOL_SH), PI(PZOO__POOL_SW), PI(PZOO__POOL_PH),
			PI(PZOO__POOL_PW), PI(PZOO__POOL_COUNT_INCLUDE_PAD));
		break;
	case F_APOOL:
		pzoo__ref_adaptive_avgpool2d(PF(PZOO__APOOL_X), PI(PZOO__APOOL_X_CTOT),
			PF(PZOO__APOOL_IN_SCALE), PF(PZOO__APOOL_IN_SHIFT), PF(PZOO__APOOL_Y),
			PI(PZOO__APOOL_Y_CTOT), PI(PZOO__APOOL_N), PI(PZOO__APOOL_C),
			PI(PZOO__APOOL_H), PI(PZOO__APOOL_W), PI(PZOO__APOOL_P),
			PI(PZOO__APOOL_Q));
		break;
	case F_LINEAR:
		pzoo__ref_linear(PF(PZOO__LINEAR_X), PF(PZOO__LINEAR_W), PF(PZOO__LINEAR_B),
			PF(PZOO__LINEAR_Y), PI(PZOO__LINEAR_N), PI(PZOO__LINEAR_I),
			PI(PZOO__LINEAR_O), PI(PZOO__LINEAR_ACT));
		break;
	case F_SOFTMAX:
		pzoo__ref_softmax(PF(PZOO__SOFTMAX_X), PF(PZOO__SOFTMAX_Y),
			PI(PZOO__SOFTMAX_ROWS), PI(PZOO__SOFTMAX_COLS));
		break;
	case F_ADD:
		pzoo__ref_add(PF(PZOO__ADD_A), PF(PZOO__ADD_B), PF(PZOO__ADD_Y),
			PI(PZOO__ADD_N), PI(PZOO__ADD_ACT));
		break;
	case F_SPIN:
		break;
	}
}

/* ---- streams --------------------------------------------------------------- */

struct fake_stream {
	unsigned flags;
};

enum op_kind { OP_HTOD, OP_DTOH, OP_SET32, OP_KERNEL };

struct op {
	enum op_kind kind;
	void *dst;
	const void *src;
	/* OP_HTOD: the staged source, owned. */
	void *staged;
	size_t bytes;
	uint32_t value;
	const struct fake_fn *fn;
	void **params;
};

/* Legacy-stream work not landed yet, in order. */
static struct op *pending;
static size_t npending, cap_pending;

static void
apply(struct op *o)
{
	switch (o->kind) {
	case OP_HTOD:
		memcpy(o->dst, o->staged != NULL ? o->staged : o->src, o->bytes);
		break;
	case OP_DTOH:
		memcpy(o->dst, o->src, o->bytes);
		break;
	case OP_SET32:
		for (size_t i = 0; i < o->bytes / 4; i++)
			__atomic_store_n((uint32_t *)o->dst + i, o->value, __ATOMIC_RELEASE);
		break;
	case OP_KERNEL:
		run_kernel(o->fn, o->params);
		break;
	}
	free(o->staged);
	o->staged = NULL;
}

/* The legacy stream catches up. */
static void
flush_legacy(void)
{
	for (size_t i = 0; i < npending; i++)
		apply(&pending[i]);
	npending = 0;
}

/* The runtime unloads the driver when its last runtime goes: what the
 * legacy stream's queue holds would otherwise leak. */
__attribute__((destructor)) static void
fake_unload(void)
{
	flush_legacy();
	free(pending);
	pending = NULL;
	cap_pending = 0;
}

static bool
is_legacy(CUstream s)
{
	return s == NULL || s == CU_STREAM_LEGACY;
}

/* Work issued to @s: deferred on the legacy stream; after the legacy
 * stream's work on a blocking stream; at once on a non-blocking one. */
static CUresult
issue(CUstream s, struct op o)
{
	if (is_legacy(s)) {
		if (o.kind == OP_HTOD) {
			o.staged = malloc(o.bytes ? o.bytes : 1);
			if (o.staged == NULL)
				return CUDA_ERROR_OUT_OF_MEMORY;
			memcpy(o.staged, o.src, o.bytes);
		}
		if (o.kind == OP_KERNEL) {
			/* The arguments are read at the launch: run it now,
			 * after what the legacy stream has before it. */
			flush_legacy();
			apply(&o);
			return CUDA_SUCCESS;
		}
		if (npending == cap_pending) {
			size_t ncap = cap_pending ? 2 * cap_pending : 64;
			struct op *p = realloc(pending, ncap * sizeof(*p));

			if (p == NULL) {
				free(o.staged);
				return CUDA_ERROR_OUT_OF_MEMORY;
			}
			pending = p;
			cap_pending = ncap;
		}
		pending[npending++] = o;
		return CUDA_SUCCESS;
	}
	if (s != CU_STREAM_PER_THREAD && !(((struct fake_stream *)s)->flags & CU_STREAM_NON_BLOCKING))
		flush_legacy();
	apply(&o);
	return CUDA_SUCCESS;
}

/* ---- the driver ------------------------------------------------------------ */

FAKE_EXPORT CUresult CUDAAPI
cuInit(unsigned int flags)
{
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuDriverGetVersion(int *version)
{
	*version = CUDA_VERSION;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuGetErrorName(CUresult error, const char **str)
{
	*str = error == CUDA_SUCCESS ? "FAKE_CUDA_SUCCESS" : "FAKE_CUDA_ERROR";
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuGetErrorString(CUresult error, const char **str)
{
	*str = "an error of the zoo's fake driver";
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuDeviceGetCount(int *count)
{
	*count = 1;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuDeviceGet(CUdevice *device, int ordinal)
{
	if (ordinal != 0)
		return CUDA_ERROR_INVALID_DEVICE;
	*device = 0;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuDeviceGetAttribute(int *pi, CUdevice_attribute attrib, CUdevice dev)
{
	const char *sms = getenv("FAKE_CUDA_SMS");

	/* An H200's figures. */
	switch (attrib) {
	case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT:
		*pi = sms != NULL && atoi(sms) > 0 ? atoi(sms) : 132;
		break;
	case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR: *pi = 2048; break;
	case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR: *pi = 65536; break;
	case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR: *pi = 233472; break;
	case CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR: *pi = 32; break;
	case CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK: *pi = 1024; break;
	case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *pi = 1024; break;
	case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: *pi = 232448; break;
	case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *pi = 9; break;
	default: *pi = 0; break;
	}
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuDeviceGetName(char *name, int len, CUdevice dev)
{
	snprintf(name, (size_t)len, "fake CUDA device (CPU reference kernels)");
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev)
{
	static int ctx;

	*pctx = (CUcontext)&ctx;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuCtxSetCurrent(CUcontext ctx)
{
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuDevicePrimaryCtxRelease(CUdevice dev)
{
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuDeviceTotalMem(size_t *bytes, CUdevice dev)
{
	*bytes = (size_t)16 << 30;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuCtxGetCurrent(CUcontext *pctx)
{
	return cuDevicePrimaryCtxRetain(pctx, 0);
}

FAKE_EXPORT CUresult CUDAAPI
cuCtxGetDevice(CUdevice *device)
{
	*device = 0;
	return CUDA_SUCCESS;
}

/* No stream priorities, as on a card without them. */
FAKE_EXPORT CUresult CUDAAPI
cuCtxGetStreamPriorityRange(int *least, int *greatest)
{
	*least = 0;
	*greatest = 0;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuCtxSynchronize(void)
{
	flush_legacy();
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuMemAlloc(CUdeviceptr *dptr, size_t bytes)
{
	/* 256-byte aligned, as the driver's allocations are. */
	void *p = aligned_alloc(256, bytes ? (bytes + 255) / 256 * 256 : 256);

	if (p == NULL)
		return CUDA_ERROR_OUT_OF_MEMORY;
	/* Never written: NaN, as float. */
	memset(p, 0xff, bytes);
	*dptr = (CUdeviceptr)(uintptr_t)p;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuMemFree(CUdeviceptr dptr)
{
	flush_legacy();
	free((void *)(uintptr_t)dptr);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuMemHostAlloc(void **pp, size_t bytes, unsigned int flags)
{
	*pp = calloc(1, bytes ? bytes : 1);
	return *pp != NULL ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

FAKE_EXPORT CUresult CUDAAPI
cuMemHostGetDevicePointer(CUdeviceptr *dptr, void *p, unsigned int flags)
{
	*dptr = (CUdeviceptr)(uintptr_t)p;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuMemFreeHost(void *p)
{
	free(p);
	return CUDA_SUCCESS;
}

/* Pageable source: staged at once; a stream sync before it starts; lands
 * later. */
FAKE_EXPORT CUresult CUDAAPI
cuMemcpyHtoD(CUdeviceptr dst, const void *src, size_t bytes)
{
	flush_legacy();
	return issue(NULL, (struct op){ .kind = OP_HTOD, .dst = (void *)(uintptr_t)dst,
					.src = src, .bytes = bytes });
}

/* Returns once the copy is done. */
FAKE_EXPORT CUresult CUDAAPI
cuMemcpyDtoH(void *dst, CUdeviceptr src, size_t bytes)
{
	flush_legacy();
	memcpy(dst, (const void *)(uintptr_t)src, bytes);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuMemcpyHtoDAsync(CUdeviceptr dst, const void *src, size_t bytes, CUstream s)
{
	return issue(s, (struct op){ .kind = OP_HTOD, .dst = (void *)(uintptr_t)dst, .src = src,
				     .bytes = bytes });
}

FAKE_EXPORT CUresult CUDAAPI
cuMemcpyDtoHAsync(void *dst, CUdeviceptr src, size_t bytes, CUstream s)
{
	return issue(s, (struct op){ .kind = OP_DTOH, .dst = dst,
				     .src = (const void *)(uintptr_t)src, .bytes = bytes });
}

FAKE_EXPORT CUresult CUDAAPI
cuMemsetD32(CUdeviceptr dst, unsigned int value, size_t n)
{
	return issue(NULL, (struct op){ .kind = OP_SET32, .dst = (void *)(uintptr_t)dst,
					.bytes = n * 4, .value = value });
}

FAKE_EXPORT CUresult CUDAAPI
cuMemsetD32Async(CUdeviceptr dst, unsigned int value, size_t n, CUstream s)
{
	return issue(s, (struct op){ .kind = OP_SET32, .dst = (void *)(uintptr_t)dst,
				     .bytes = n * 4, .value = value });
}

FAKE_EXPORT CUresult CUDAAPI
cuStreamCreate(CUstream *ps, unsigned int flags)
{
	struct fake_stream *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return CUDA_ERROR_OUT_OF_MEMORY;
	s->flags = flags;
	*ps = (CUstream)s;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuStreamCreateWithPriority(CUstream *ps, unsigned int flags, int priority)
{
	(void)priority;
	return cuStreamCreate(ps, flags);
}

/* Events: work before them is done at issue (or lands at a sync). */
FAKE_EXPORT CUresult CUDAAPI
cuEventCreate(CUevent *e, unsigned int flags)
{
	*e = (CUevent)calloc(1, sizeof(int));
	return *e != NULL ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

FAKE_EXPORT CUresult CUDAAPI
cuEventRecord(CUevent e, CUstream s)
{
	if (is_legacy(s))
		flush_legacy();
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuEventSynchronize(CUevent e)
{
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuEventQuery(CUevent e)
{
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuEventElapsedTime(float *ms, CUevent start, CUevent end)
{
	*ms = 0.001f;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuEventDestroy(CUevent e)
{
	free(e);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuStreamDestroy(CUstream s)
{
	free(s);
	return CUDA_SUCCESS;
}

/* A non-blocking stream's work is done at issue; the legacy stream's when
 * synchronized. */
FAKE_EXPORT CUresult CUDAAPI
cuStreamSynchronize(CUstream s)
{
	if (is_legacy(s))
		flush_legacy();
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuStreamQuery(CUstream s)
{
	return is_legacy(s) && npending > 0 ? CUDA_ERROR_NOT_READY : CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuStreamWriteValue32(CUstream s, CUdeviceptr addr, cuuint32_t value, unsigned int flags)
{
	return issue(s, (struct op){ .kind = OP_SET32, .dst = (void *)(uintptr_t)addr, .bytes = 4,
				     .value = value });
}

FAKE_EXPORT CUresult CUDAAPI
cuModuleLoad(CUmodule *module, const char *fname)
{
	const char *base = strrchr(fname, '/') ? strrchr(fname, '/') + 1 : fname;
	struct fake_module *m = calloc(1, sizeof(*m));
	FILE *fp = fopen(fname, "rb");

	if (fp == NULL || m == NULL) {
		if (fp != NULL)
			fclose(fp);
		free(m);
		return CUDA_ERROR_FILE_NOT_FOUND;
	}
	fclose(fp);
	snprintf(m->stem, sizeof(m->stem), "%.*s", (int)strcspn(base, "."), base);
	m->instrumented = strstr(base, ".noinst.") == NULL;
	*module = (CUmodule)m;
	return CUDA_SUCCESS;
}

/* A stand-in image: "fake-cuda-zoo image STEM VARIANT" on its first line. */
FAKE_EXPORT CUresult CUDAAPI
cuModuleLoadData(CUmodule *module, const void *image)
{
	char stem[32], variant[32];
	struct fake_module *m;

	if (sscanf((const char *)image, "fake-cuda-zoo image %31s %31s", stem, variant) != 2)
		return CUDA_ERROR_INVALID_IMAGE;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return CUDA_ERROR_OUT_OF_MEMORY;
	snprintf(m->stem, sizeof(m->stem), "%s", stem);
	m->instrumented = strcmp(variant, "noinst") != 0;
	*module = (CUmodule)m;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuModuleUnload(CUmodule module)
{
	free(module);
	return CUDA_SUCCESS;
}

static const struct fake_fn *
find_fn(const struct fake_module *m, const char *name)
{
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		if (strcmp(fns[i].name, name) == 0 && strcmp(fns[i].image, m->stem) == 0)
			return &fns[i];
	return NULL;
}

/* An instrumented image's globals: the ABI version and the manifest of
 * its kernels with their parameter counts. */
FAKE_EXPORT CUresult CUDAAPI
cuModuleGetGlobal(CUdeviceptr *dptr, size_t *bytes, CUmodule hmod, const char *name)
{
	static uint64_t version = PAELLA_ABI_VERSION;
	static char manifest[4096];
	const struct fake_module *m = (const struct fake_module *)hmod;

	if (!m->instrumented)
		return CUDA_ERROR_NOT_FOUND;
	if (strcmp(name, PAELLA_ABI_VERSION_SYMBOL) == 0) {
		*dptr = (CUdeviceptr)(uintptr_t)&version;
		*bytes = sizeof(version);
		return CUDA_SUCCESS;
	}
	if (strcmp(name, PAELLA_MANIFEST_SYMBOL) != 0)
		return CUDA_ERROR_NOT_FOUND;
	snprintf(manifest, sizeof(manifest), "%s", PAELLA_MANIFEST_HEADER);
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		if (strcmp(fns[i].image, m->stem) == 0)
			snprintf(manifest + strlen(manifest), sizeof(manifest) - strlen(manifest),
				 "K %s %u sample\n", fns[i].name, fns[i].nargs);
	*dptr = (CUdeviceptr)(uintptr_t)manifest;
	*bytes = strlen(manifest) + 1;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuModuleGetFunction(CUfunction *hfunc, CUmodule hmod, const char *name)
{
	const struct fake_fn *f = find_fn((const struct fake_module *)hmod, name);

	if (f == NULL)
		return CUDA_ERROR_NOT_FOUND;
	*hfunc = (CUfunction)(uintptr_t)f;
	return CUDA_SUCCESS;
}

/* An uninstrumented kernel's parameter count, as the runtime checks it. */
FAKE_EXPORT CUresult CUDAAPI
cuFuncGetParamInfo(CUfunction func, size_t index, size_t *offset, size_t *size)
{
	const struct fake_fn *f = (const struct fake_fn *)(uintptr_t)func;

	if (index >= f->nargs)
		return CUDA_ERROR_INVALID_VALUE;
	*offset = index * 8;
	*size = 8;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuFuncGetAttribute(int *v, CUfunction_attribute attr, CUfunction fn)
{
	switch (attr) {
	case CU_FUNC_ATTRIBUTE_NUM_REGS: *v = 32; break;
	case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES: *v = 0; break;
	case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *v = 1024; break;
	case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: *v = 48 * 1024; break;
	default: return CUDA_ERROR_INVALID_VALUE;
	}
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuFuncSetAttribute(CUfunction fn, CUfunction_attribute attr, int value)
{
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuOccupancyMaxActiveBlocksPerMultiprocessor(int *n, CUfunction fn, int threads, size_t smem)
{
	*n = threads > 0 ? (2048 / threads < 32 ? 2048 / threads : 32) : 0;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuLaunchKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx,
	       unsigned int by, unsigned int bz, unsigned int shmem, CUstream s, void **params,
	       void **extra)
{
	if (gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0 || params == NULL)
		return CUDA_ERROR_INVALID_VALUE;
	return issue(s, (struct op){ .kind = OP_KERNEL, .fn = (const struct fake_fn *)(uintptr_t)f,
				     .params = params });
}

/* What the table gets for a name the fake does not implement. */
static CUresult
unimplemented(void)
{
	return CUDA_ERROR_NOT_SUPPORTED;
}

FAKE_EXPORT CUresult CUDAAPI
cuGetProcAddress(const char *symbol, void **pfn, int cuda_version, cuuint64_t flags,
		 CUdriverProcAddressQueryResult *status)
{
	static const struct {
		const char *name;
		void *fn;
	} known[] = {
#define FN(n) { #n, (void *)n },
		FN(cuInit) FN(cuDriverGetVersion) FN(cuGetErrorName) FN(cuGetErrorString)
		FN(cuDeviceGetCount) FN(cuDeviceGet) FN(cuDeviceGetAttribute) FN(cuDeviceGetName)
		FN(cuDevicePrimaryCtxRetain) FN(cuCtxSetCurrent) FN(cuCtxSynchronize)
		FN(cuMemAlloc) FN(cuMemFree) FN(cuMemHostAlloc) FN(cuMemHostGetDevicePointer)
		FN(cuMemFreeHost) FN(cuMemcpyHtoD) FN(cuMemcpyDtoH) FN(cuMemcpyHtoDAsync)
		FN(cuMemcpyDtoHAsync) FN(cuMemsetD32) FN(cuMemsetD32Async) FN(cuStreamCreate)
		FN(cuStreamDestroy) FN(cuStreamSynchronize) FN(cuStreamQuery)
		FN(cuStreamWriteValue32) FN(cuModuleLoad) FN(cuModuleUnload)
		FN(cuModuleGetGlobal) FN(cuModuleGetFunction) FN(cuFuncGetParamInfo)
		FN(cuLaunchKernel) FN(cuModuleLoadData) FN(cuDevicePrimaryCtxRelease)
		FN(cuDeviceTotalMem) FN(cuCtxGetCurrent) FN(cuCtxGetDevice)
		FN(cuCtxGetStreamPriorityRange) FN(cuStreamCreateWithPriority)
		FN(cuEventCreate) FN(cuEventRecord) FN(cuEventSynchronize) FN(cuEventQuery)
		FN(cuEventElapsedTime) FN(cuEventDestroy) FN(cuFuncGetAttribute)
		FN(cuFuncSetAttribute) FN(cuOccupancyMaxActiveBlocksPerMultiprocessor)
#undef FN
	};

	*pfn = (void *)unimplemented;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(symbol, known[i].name) == 0)
			*pfn = known[i].fn;
	if (status != NULL)
		*status = CU_GET_PROC_ADDRESS_SUCCESS;
	return CUDA_SUCCESS;
}
