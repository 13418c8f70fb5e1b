/*
 * fake-libcuda.c - a stand-in for libcuda.so.1 that the unit tests load with
 * PAELLA_LIBCUDA.  "Device" memory is host memory, so the host side of the
 * instrumentation ABI runs end to end without a GPU.
 *
 * Knobs, read at each call (the tests set them per test):
 *   FAKE_CUDA_DRIVER_VERSION=N   what cuDriverGetVersion reports
 *   FAKE_CUDA_INIT_RESULT=N      what cuInit returns
 *   FAKE_CUDA_HIDE=a,b           names cuGetProcAddress says it lacks
 *   FAKE_CUDA_FAIL=a,b           functions that fail (cuMemAlloc: out of memory)
 *   FAKE_CUDA_DEFER_WRITES=1     cuStreamWriteValue32 waits for fake_cuda_flush()
 *   FAKE_CUDA_PARAM_INFO=1       cuGetProcAddress has cuFuncGetParamInfo (read when
 *                                the runtime opens the driver; hidden otherwise)
 *   FAKE_CUDA_PTX_COMPLETION=1   cuModuleLoadData takes the runtime's completion-kernel
 *                                PTX (refused otherwise, as a pre-Hopper GPU would):
 *                                launched by cuLaunchKernelEx with programmatic stream
 *                                serialization, it writes its word as a stream write
 *                                would (deferred likewise)
 *
 * A device, a primary context, streams and events that do nothing but
 * exist, so that the runtime's cuda backend runs end to end.  Module images
 * are text (see cuModuleLoadData below); their kernels "run" inside
 * cuLaunchKernel: an instrumented one plays the block-exit epilogue of
 * paella/instrument-abi.h on its launch record, and a kernel whose
 * behaviour is "inc" adds 1 to each of the n bytes its (buffer, n)
 * arguments name, and one that is "add" adds src[i] to dst[i] for its
 * (dst, src, n), so that argument bindings are checked too.
 * Every function has the prototype cuda.h gives it, so calls through the
 * runtime's table stay well-typed (UBSan's -fsanitize=function checks).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda.h>

#include "paella/instrument-abi.h"

#define FAKE_EXPORT __attribute__((visibility("default")))

static int
env_int(const char *name, int fallback)
{
	const char *v = getenv(name);

	return (v != NULL && *v != '\0') ? atoi(v) : fallback;
}

/* Whether @name is an item of the comma-separated list in env @var. */
static int
env_lists(const char *var, const char *name)
{
	const char *v = getenv(var);
	size_t n = strlen(name);

	while (v != NULL && *v != '\0') {
		const char *end = strchr(v, ',');
		size_t len = end ? (size_t)(end - v) : strlen(v);

		if (len == n && strncmp(v, name, n) == 0)
			return 1;
		v = end ? end + 1 : NULL;
	}
	return 0;
}

FAKE_EXPORT CUresult CUDAAPI
cuInit(unsigned int flags)
{
	return (CUresult)env_int("FAKE_CUDA_INIT_RESULT", CUDA_SUCCESS);
}

FAKE_EXPORT CUresult CUDAAPI
cuDriverGetVersion(int *version)
{
	*version = env_int("FAKE_CUDA_DRIVER_VERSION", CUDA_VERSION);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuGetErrorName(CUresult error, const char **str)
{
	switch (error) {
	case CUDA_SUCCESS: *str = "FAKE_CUDA_SUCCESS"; break;
	case CUDA_ERROR_INVALID_VALUE: *str = "FAKE_CUDA_ERROR_INVALID_VALUE"; break;
	case CUDA_ERROR_OUT_OF_MEMORY: *str = "FAKE_CUDA_ERROR_OUT_OF_MEMORY"; break;
	case CUDA_ERROR_NO_DEVICE: *str = "FAKE_CUDA_ERROR_NO_DEVICE"; break;
	case CUDA_ERROR_NOT_SUPPORTED: *str = "FAKE_CUDA_ERROR_NOT_SUPPORTED"; break;
	default:
		*str = NULL;
		return CUDA_ERROR_INVALID_VALUE;
	}
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuGetErrorString(CUresult error, const char **str)
{
	*str = "a canned error of the fake driver";
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuDeviceGetCount(int *count)
{
	*count = env_int("FAKE_CUDA_DEVICES", 1);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuMemAlloc(CUdeviceptr *dptr, size_t bytes)
{
	void *p;

	if (env_lists("FAKE_CUDA_FAIL", "cuMemAlloc"))
		return CUDA_ERROR_OUT_OF_MEMORY;
	/* 256-byte aligned, as the driver's allocations are. */
	p = aligned_alloc(256, (bytes + 255) / 256 * 256);
	if (p == NULL)
		return CUDA_ERROR_OUT_OF_MEMORY;
	memset(p, 0, bytes);
	*dptr = (CUdeviceptr)(uintptr_t)p;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuMemFree(CUdeviceptr dptr)
{
	free((void *)(uintptr_t)dptr);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuMemsetD32(CUdeviceptr dst, unsigned int value, size_t n)
{
	uint32_t *p = (uint32_t *)(uintptr_t)dst;

	for (size_t i = 0; i < n; i++)
		p[i] = value;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuMemcpyHtoD(CUdeviceptr dst, const void *src, size_t bytes)
{
	memcpy((void *)(uintptr_t)dst, src, bytes);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuMemcpyDtoH(void *dst, CUdeviceptr src, size_t bytes)
{
	memcpy(dst, (const void *)(uintptr_t)src, bytes);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuMemHostAlloc(void **pp, size_t bytes, unsigned int flags)
{
	if (env_lists("FAKE_CUDA_FAIL", "cuMemHostAlloc"))
		return CUDA_ERROR_OUT_OF_MEMORY;
	*pp = calloc(1, bytes);
	return *pp ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
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

/* Like the real driver: CUDA 13.0 added cuCtxSynchronize_v2(ctx), and a
 * lookup of "cuCtxSynchronize" at 13000 returns it, while cuda.h keeps the
 * plain prototype. */
FAKE_EXPORT CUresult CUDAAPI
cuCtxSynchronize(void)
{
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuCtxSynchronize_v2(CUcontext ctx)
{
	return CUDA_ERROR_CONTEXT_IS_DESTROYED;
}

/* Deferred stream writes: the "kernel" has not finished until the test says. */
#define MAX_DEFERRED 64
static struct {
	uint32_t *addr;
	uint32_t value;
} deferred[MAX_DEFERRED];
static int ndeferred;

static unsigned fake_write_values;

FAKE_EXPORT unsigned fake_cuda_write_values(void);
FAKE_EXPORT unsigned
fake_cuda_write_values(void)
{
	return fake_write_values;
}

FAKE_EXPORT CUresult CUDAAPI
cuStreamWriteValue32(CUstream stream, CUdeviceptr addr, cuuint32_t value,
		     unsigned int flags)
{
	uint32_t *p = (uint32_t *)(uintptr_t)addr;

	fake_write_values++;

	if (env_int("FAKE_CUDA_DEFER_WRITES", 0) && ndeferred < MAX_DEFERRED) {
		deferred[ndeferred].addr = p;
		deferred[ndeferred].value = value;
		ndeferred++;
		return CUDA_SUCCESS;
	}
	__atomic_store_n(p, value, __ATOMIC_RELEASE);
	return CUDA_SUCCESS;
}

/* Lands the deferred writes, in order: the stream reached them. */
FAKE_EXPORT void fake_cuda_flush(void);
FAKE_EXPORT void
fake_cuda_flush(void)
{
	for (int i = 0; i < ndeferred; i++)
		__atomic_store_n(deferred[i].addr, deferred[i].value, __ATOMIC_RELEASE);
	ndeferred = 0;
}

/* ---- device, context, streams, events ------------------------------------ */

FAKE_EXPORT CUresult CUDAAPI
cuDeviceGet(CUdevice *dev, int ordinal)
{
	if (ordinal < 0 || ordinal >= env_int("FAKE_CUDA_DEVICES", 1))
		return CUDA_ERROR_INVALID_DEVICE;
	*dev = ordinal;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuDeviceGetName(char *name, int len, CUdevice dev)
{
	strncpy(name, "Fake GPU", (size_t)len);
	name[len - 1] = '\0';
	return CUDA_SUCCESS;
}

/* An H100's figures. */
FAKE_EXPORT CUresult CUDAAPI
cuDeviceGetAttribute(int *v, CUdevice_attribute attr, CUdevice dev)
{
	switch (attr) {
	case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *v = 132; break;
	case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR: *v = 2048; break;
	case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR: *v = 65536; break;
	case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR: *v = 233472; break;
	case CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR: *v = 32; break;
	case CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK: *v = 1024; break;
	case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *v = 1024; break;
	case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: *v = 232448; break;
	default: return CUDA_ERROR_INVALID_VALUE;
	}
	return CUDA_SUCCESS;
}

static int fake_context;

FAKE_EXPORT CUresult CUDAAPI
cuDevicePrimaryCtxRetain(CUcontext *ctx, CUdevice dev)
{
	*ctx = (CUcontext)&fake_context;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuDevicePrimaryCtxRelease(CUdevice dev)
{
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuCtxSetCurrent(CUcontext ctx)
{
	return ctx == (CUcontext)&fake_context ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}

FAKE_EXPORT CUresult CUDAAPI
cuStreamCreate(CUstream *s, unsigned int flags)
{
	*s = (CUstream)calloc(1, 16);
	return *s ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

/* Stream priorities: a range (0 least, -5 greatest) with
 * FAKE_CUDA_PRIORITIES=1, else none (both 0), as on a card without them. */
FAKE_EXPORT CUresult CUDAAPI
cuCtxGetStreamPriorityRange(int *least, int *greatest)
{
	*least = 0;
	*greatest = env_int("FAKE_CUDA_PRIORITIES", 0) ? -5 : 0;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuStreamCreateWithPriority(CUstream *s, unsigned int flags, int priority)
{
	(void)priority;
	return cuStreamCreate(s, flags);
}

FAKE_EXPORT CUresult CUDAAPI
cuStreamDestroy(CUstream s)
{
	free(s);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuStreamSynchronize(CUstream s)
{
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuEventCreate(CUevent *e, unsigned int flags)
{
	*e = (CUevent)calloc(1, sizeof(int));
	return *e ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

FAKE_EXPORT CUresult CUDAAPI
cuEventRecord(CUevent e, CUstream s)
{
	static int clock;

	/* Each record a tick later: a profiled kernel takes 10 us. */
	*(int *)e = ++clock;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuEventElapsedTime(float *ms, CUevent start, CUevent end)
{
	*ms = 0.01f * (float)(*(int *)end - *(int *)start);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuEventDestroy(CUevent e)
{
	free(e);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuMemcpyHtoDAsync(CUdeviceptr dst, const void *src, size_t bytes, CUstream s)
{
	memcpy((void *)(uintptr_t)dst, src, bytes);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuMemcpyDtoHAsync(void *dst, CUdeviceptr src, size_t bytes, CUstream s)
{
	memcpy(dst, (const void *)(uintptr_t)src, bytes);
	return CUDA_SUCCESS;
}

/* ---- modules and kernels ------------------------------------------------- */

/*
 * An image is text:
 *	FAKE-IMAGE
 *	abi 1                           (optional: __paella_abi_version)
 *	kernel <name> <params> <instrumented 0|1|2> <none|inc|add> [sizes]
 *	                                (1: count mode, 2: sample mode)
 *	                                (sizes: "8,4", each parameter's bytes as
 *	                                written, for cuFuncGetParamInfo; default 8)
 *	manifest                        (optional: the rest is __paella_manifest)
 *	paella-manifest 2|3
 *	K <name> <params> <sample|count> [<name>__paella_plain]
 */
#define FAKE_MAX_KERNELS 16

struct fake_module;

struct fake_kernel {
	char name[64];
	struct fake_module *module;
	int nparams;
	int instrumented;
	int inc;
	int add;
	/* Of the parameters as written; the launch record's is 8. */
	size_t sizes[16];
};

struct fake_module {
	int has_abi;
	uint32_t abi;
	char *manifest;
	int nkernels;
	struct fake_kernel kernels[FAKE_MAX_KERNELS];
};

/* The runtime's completion kernel, when FAKE_CUDA_PTX_COMPLETION lets its
 * PTX load: one module, two functions (the release and the hint), told
 * apart by address. */
static char completion_module, completion_fn, completion_hint_fn;
static unsigned completion_launches, completion_hint_launches;

static bool
is_completion_fn(CUfunction f)
{
	return (void *)f == (void *)&completion_fn || (void *)f == (void *)&completion_hint_fn;
}

/* Launches of either completion kernel, and of the hint one alone. */
FAKE_EXPORT unsigned fake_cuda_completion_launches(void);
FAKE_EXPORT unsigned
fake_cuda_completion_launches(void)
{
	return completion_launches;
}

FAKE_EXPORT unsigned fake_cuda_completion_hint_launches(void);
FAKE_EXPORT unsigned
fake_cuda_completion_hint_launches(void)
{
	return completion_hint_launches;
}

/* The runtime's tail markers, when FAKE_CUDA_PTX_MARKER lets their PTX
 * load: one fake function per variant, its registers the live values its
 * name gives plus 8 (as ptxas on sm_90).  A launch stores the launch's
 * number into the word at once (deferred with FAKE_CUDA_DEFER_WRITES). */
#define FAKE_MARKERS 16
static char marker_module;
static struct fake_marker {
	unsigned live;
} markers[FAKE_MARKERS];
static unsigned nmarkers, marker_launches, marker_last_threads, marker_last_smem;

static struct fake_marker *
marker_of(CUfunction f)
{
	struct fake_marker *m = (struct fake_marker *)(void *)f;

	return m >= markers && m < markers + FAKE_MARKERS ? m : NULL;
}

FAKE_EXPORT unsigned fake_cuda_marker_launches(void);
FAKE_EXPORT unsigned
fake_cuda_marker_launches(void)
{
	return marker_launches;
}

FAKE_EXPORT unsigned fake_cuda_marker_last_threads(void);
FAKE_EXPORT unsigned
fake_cuda_marker_last_threads(void)
{
	return marker_last_threads;
}

FAKE_EXPORT unsigned fake_cuda_marker_last_smem(void);
FAKE_EXPORT unsigned
fake_cuda_marker_last_smem(void)
{
	return marker_last_smem;
}

FAKE_EXPORT CUresult CUDAAPI
cuModuleLoadData(CUmodule *out, const void *image)
{
	const char *text = image;
	const char *man = strstr(text, "\nmanifest\n");
	struct fake_module *m;
	const char *line;

	if (strstr(text, ".entry paella_completion(") != NULL) {
		if (!env_int("FAKE_CUDA_PTX_COMPLETION", 0))
			return CUDA_ERROR_INVALID_PTX;
		*out = (CUmodule)(void *)&completion_module;
		return CUDA_SUCCESS;
	}
	if (strstr(text, ".entry paella_tail_marker_r") != NULL) {
		if (!env_int("FAKE_CUDA_PTX_MARKER", 0))
			return CUDA_ERROR_INVALID_PTX;
		*out = (CUmodule)(void *)&marker_module;
		return CUDA_SUCCESS;
	}
	if (strncmp(text, "FAKE-IMAGE\n", 11) != 0)
		return CUDA_ERROR_INVALID_IMAGE;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return CUDA_ERROR_OUT_OF_MEMORY;
	for (line = text; line != NULL && (man == NULL || line < man + 1);
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		struct fake_kernel *k = &m->kernels[m->nkernels];
		char behaviour[16], sizes[64] = "";
		unsigned abi;
		int fields;

		if (sscanf(line, "abi %u", &abi) == 1) {
			m->has_abi = 1;
			m->abi = abi;
		} else if (m->nkernels < FAKE_MAX_KERNELS &&
			   (fields = sscanf(line, "kernel %63s %d %d %15s %63s", k->name,
					    &k->nparams, &k->instrumented, behaviour,
					    sizes)) >= 4) {
			const char *p = sizes;

			/* %s crosses the line's end: a fifth word that is not
			 * a size list is the next line's. */
			if (fields == 5 && (sizes[0] < '0' || sizes[0] > '9'))
				fields = 4;
			k->inc = strcmp(behaviour, "inc") == 0;
			k->add = strcmp(behaviour, "add") == 0;
			for (int i = 0; i < 16; i++)
				k->sizes[i] = 8;
			for (int i = 0; fields == 5 && i < 16 && *p != '\0'; i++) {
				k->sizes[i] = (size_t)strtoul(p, (char **)&p, 10);
				if (*p == ',')
					p++;
			}
			k->module = m;
			m->nkernels++;
		}
	}
	if (man != NULL)
		m->manifest = strdup(man + strlen("\nmanifest\n"));
	*out = (CUmodule)m;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuModuleUnload(CUmodule mod)
{
	struct fake_module *m = (struct fake_module *)mod;

	if ((void *)mod == (void *)&completion_module || (void *)mod == (void *)&marker_module)
		return CUDA_SUCCESS;
	free(m->manifest);
	free(m);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuModuleGetGlobal(CUdeviceptr *dptr, size_t *bytes, CUmodule mod, const char *name)
{
	struct fake_module *m = (struct fake_module *)mod;

	if (strcmp(name, PAELLA_ABI_VERSION_SYMBOL) == 0 && m->has_abi) {
		*dptr = (CUdeviceptr)(uintptr_t)&m->abi;
		*bytes = sizeof(m->abi);
		return CUDA_SUCCESS;
	}
	if (strcmp(name, PAELLA_MANIFEST_SYMBOL) == 0 && m->manifest != NULL) {
		*dptr = (CUdeviceptr)(uintptr_t)m->manifest;
		*bytes = strlen(m->manifest) + 1;
		return CUDA_SUCCESS;
	}
	return CUDA_ERROR_NOT_FOUND;
}

FAKE_EXPORT CUresult CUDAAPI
cuModuleGetFunction(CUfunction *fn, CUmodule mod, const char *name)
{
	struct fake_module *m = (struct fake_module *)mod;

	if ((void *)mod == (void *)&completion_module) {
		if (strcmp(name, "paella_completion") == 0)
			*fn = (CUfunction)(void *)&completion_fn;
		else if (strcmp(name, "paella_completion_hint") == 0)
			*fn = (CUfunction)(void *)&completion_hint_fn;
		else
			return CUDA_ERROR_NOT_FOUND;
		return CUDA_SUCCESS;
	}
	if ((void *)mod == (void *)&marker_module) {
		unsigned live;

		if (sscanf(name, "paella_tail_marker_r%u", &live) != 1 || nmarkers == FAKE_MARKERS)
			return CUDA_ERROR_NOT_FOUND;
		markers[nmarkers].live = live;
		*fn = (CUfunction)(void *)&markers[nmarkers++];
		return CUDA_SUCCESS;
	}
	for (int i = 0; i < m->nkernels; i++) {
		if (strcmp(m->kernels[i].name, name) == 0) {
			*fn = (CUfunction)&m->kernels[i];
			return CUDA_SUCCESS;
		}
	}
	return CUDA_ERROR_NOT_FOUND;
}

FAKE_EXPORT CUresult CUDAAPI
cuFuncGetAttribute(int *v, CUfunction_attribute attr, CUfunction fn)
{
	switch (attr) {
	case CU_FUNC_ATTRIBUTE_NUM_REGS:
		*v = marker_of(fn) != NULL ? (int)marker_of(fn)->live + 8
					   : env_int("FAKE_CUDA_NUM_REGS", 32);
		break;
	case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES: *v = 0; break;
	case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *v = 1024; break;
	default: return CUDA_ERROR_INVALID_VALUE;
	}
	return CUDA_SUCCESS;
}

/* cuFuncGetParamInfo, as the real one: fails past the last parameter.  Not
 * exported under its name (the runtime would find it with dlsym): only
 * cuGetProcAddress hands it out, with FAKE_CUDA_PARAM_INFO=1. */
static CUresult CUDAAPI
fake_func_get_param_info(CUfunction fn, size_t index, size_t *offset, size_t *size)
{
	struct fake_kernel *k = (struct fake_kernel *)fn;
	size_t off = 0;

	if (index >= (size_t)(k->nparams + (k->instrumented != 0)) || index > 16)
		return CUDA_ERROR_INVALID_VALUE;
	for (size_t i = 0; i <= index; i++) {
		size_t sz = i < (size_t)k->nparams && i < 16 ? k->sizes[i] : 8;

		off = (off + sz - 1) / sz * sz;
		if (i == index) {
			*offset = off;
			*size = sz;
		}
		off += sz;
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

/* What the tests can ask of the launches the fake saw. */
static unsigned fake_launches;
/* The record parameter of the last sample-mode launch. */
static CUdeviceptr last_sample_param;

FAKE_EXPORT unsigned fake_cuda_last_sample_param(void);
FAKE_EXPORT unsigned
fake_cuda_last_sample_param(void)
{
	return (unsigned)last_sample_param;
}

FAKE_EXPORT unsigned fake_cuda_launches(void);
FAKE_EXPORT unsigned
fake_cuda_launches(void)
{
	return fake_launches;
}

/* The sample-mode epilogue of every block, in block order: @param is the
 * record's address plus the tag. */
static void
play_sample_epilogue(CUdeviceptr param, uint64_t nblocks)
{
	uint32_t tag = (uint32_t)(param & PAELLA_RECORD_TAG_MASK);
	struct paella_launch_record *rec =
		(struct paella_launch_record *)(uintptr_t)(param - tag);
	uint64_t mask = (UINT64_C(1) << tag) - 1;

	/* As the pass's code: the record is read only by a sampled block (a
	 * record that reports nothing has no address). */
	for (uint64_t id = 0; id < nblocks; id++)
		if ((id & mask) == mask && id + (PAELLA_SAMPLE_TAIL_INTERVALS << tag) < nblocks) {
			uint32_t *host = (uint32_t *)(uintptr_t)rec->host_counts;

			__atomic_store_n(&host[0], (uint32_t)id + 1, __ATOMIC_RELEASE);
		}
}

/* The count-mode epilogue of every block, in block order, as the pass
 * emits it. */
static void
play_epilogue(struct paella_launch_record *rec, uint64_t nblocks)
{
	uint32_t *host = (uint32_t *)(uintptr_t)rec->host_counts;

	for (uint64_t id = 0; id < nblocks; id++) {
		uint32_t s = (uint32_t)id & rec->shard_mask;
		uint32_t index = (uint32_t)(id >> rec->shard_shift);
		uint32_t last = (uint32_t)((nblocks - 1 - s) >> rec->shard_shift);
		uint32_t v = ++rec->counters[s * PAELLA_COUNTER_STRIDE_WORDS];

		if ((index & rec->post_mask) == rec->post_mask || index == last)
			__atomic_store_n(&host[s], v, __ATOMIC_RELEASE);
	}
}

/* ---- stream capture and graphs ----------------------------------------------
 * A capturing stream records launches, with their parameters' values, and
 * runs none; a graph launch runs them in order.  One capture at a time. */

#define FAKE_GRAPH_MAX 64
#define FAKE_PARAM_MAX 17

struct fake_launch {
	CUfunction f;
	unsigned grid[3];
	/* Each parameter's value in an 8-byte slot, and pointers to them. */
	uint64_t values[FAKE_PARAM_MAX];
	void *params[FAKE_PARAM_MAX];
};

struct fake_graph {
	int n;
	struct fake_launch launches[FAKE_GRAPH_MAX];
};

static CUstream capturing;
static struct fake_graph *capture_graph;
static unsigned fake_graph_launches;

FAKE_EXPORT unsigned fake_cuda_graph_launches(void);
FAKE_EXPORT unsigned
fake_cuda_graph_launches(void)
{
	return fake_graph_launches;
}

FAKE_EXPORT CUresult CUDAAPI
cuStreamBeginCapture_v2(CUstream s, CUstreamCaptureMode mode)
{
	if (env_lists("FAKE_CUDA_FAIL", "cuStreamBeginCapture"))
		return CUDA_ERROR_NOT_SUPPORTED;
	if (capturing != NULL)
		return CUDA_ERROR_ILLEGAL_STATE;
	capture_graph = calloc(1, sizeof(*capture_graph));
	if (capture_graph == NULL)
		return CUDA_ERROR_OUT_OF_MEMORY;
	capturing = s;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuStreamIsCapturing(CUstream s, CUstreamCaptureStatus *status)
{
	*status = capturing != NULL && s == capturing ? CU_STREAM_CAPTURE_STATUS_ACTIVE
						      : CU_STREAM_CAPTURE_STATUS_NONE;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuStreamEndCapture(CUstream s, CUgraph *graph)
{
	if (capturing == NULL || s != capturing)
		return CUDA_ERROR_ILLEGAL_STATE;
	*graph = (CUgraph)capture_graph;
	capturing = NULL;
	capture_graph = NULL;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuGraphInstantiateWithFlags(CUgraphExec *exec, CUgraph graph, unsigned long long flags)
{
	struct fake_graph *copy = malloc(sizeof(*copy));

	if (copy == NULL)
		return CUDA_ERROR_OUT_OF_MEMORY;
	memcpy(copy, graph, sizeof(*copy));
	/* The copy's parameter pointers point into the copy. */
	for (int i = 0; i < copy->n; i++)
		for (int j = 0; j < FAKE_PARAM_MAX; j++)
			copy->launches[i].params[j] = &copy->launches[i].values[j];
	*exec = (CUgraphExec)copy;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuGraphDestroy(CUgraph graph)
{
	free(graph);
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuGraphExecDestroy(CUgraphExec exec)
{
	free(exec);
	return CUDA_SUCCESS;
}

static CUresult run_kernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, void **params);

FAKE_EXPORT CUresult CUDAAPI
cuGraphLaunch(CUgraphExec exec, CUstream s)
{
	struct fake_graph *g = (struct fake_graph *)exec;

	if (env_lists("FAKE_CUDA_FAIL", "cuGraphLaunch"))
		return CUDA_ERROR_LAUNCH_FAILED;
	__atomic_add_fetch(&fake_graph_launches, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < g->n; i++) {
		struct fake_launch *l = &g->launches[i];

		run_kernel(l->f, l->grid[0], l->grid[1], l->grid[2], l->params);
	}
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuLaunchKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
	       unsigned int bx, unsigned int by, unsigned int bz, unsigned int smem,
	       CUstream stream, void **params, void **extra)
{
	struct fake_kernel *k = (struct fake_kernel *)f;

	if (env_lists("FAKE_CUDA_FAIL", "cuLaunchKernel"))
		return CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES;
	if (marker_of(f) != NULL) {
		marker_launches++;
		marker_last_threads = bx * by * bz;
		marker_last_smem = smem;
		__atomic_store_n((uint32_t *)(uintptr_t)*(CUdeviceptr *)params[0],
				 *(uint32_t *)params[1], __ATOMIC_RELAXED);
		return CUDA_SUCCESS;
	}
	if (capturing != NULL && stream == capturing) {
		struct fake_launch *l;
		int n = k->nparams + (k->instrumented != 0);

		if (capture_graph->n == FAKE_GRAPH_MAX || n > FAKE_PARAM_MAX)
			return CUDA_ERROR_NOT_SUPPORTED;
		l = &capture_graph->launches[capture_graph->n++];
		l->f = f;
		l->grid[0] = gx;
		l->grid[1] = gy;
		l->grid[2] = gz;
		for (int i = 0; i < n; i++) {
			size_t size = i < k->nparams ? k->sizes[i] : 8;

			memcpy(&l->values[i], params[i], size > 8 ? 8 : size);
			l->params[i] = &l->values[i];
		}
		return CUDA_SUCCESS;
	}
	return run_kernel(f, gx, gy, gz, params);
}

/* For transparent mode's look-up of a kernel's plain copy. */
FAKE_EXPORT CUresult CUDAAPI
cuFuncGetName(const char **name, CUfunction f)
{
	if (is_completion_fn(f)) {
		*name = (void *)f == (void *)&completion_fn ? "paella_completion"
							   : "paella_completion_hint";
		return CUDA_SUCCESS;
	}
	*name = ((struct fake_kernel *)f)->name;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult CUDAAPI
cuFuncGetModule(CUmodule *mod, CUfunction f)
{
	if (is_completion_fn(f)) {
		*mod = (CUmodule)(void *)&completion_module;
		return CUDA_SUCCESS;
	}
	*mod = (CUmodule)((struct fake_kernel *)f)->module;
	return CUDA_SUCCESS;
}

/* The completion kernel (programmatic stream serialization required: without
 * it the real one would also work, but the runtime means to ask for it), or
 * any other kernel as cuLaunchKernel runs it. */
FAKE_EXPORT CUresult CUDAAPI
cuLaunchKernelEx(const CUlaunchConfig *config, CUfunction f, void **params, void **extra)
{
	if (env_lists("FAKE_CUDA_FAIL", "cuLaunchKernelEx"))
		return CUDA_ERROR_NOT_SUPPORTED;
	if (is_completion_fn(f)) {
		int programmatic = 0;

		for (unsigned i = 0; i < config->numAttrs; i++)
			programmatic |= config->attrs[i].id ==
						CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION &&
					config->attrs[i].value.programmaticStreamSerializationAllowed;
		if (!programmatic || config->gridDimX * config->gridDimY * config->gridDimZ != 1)
			return CUDA_ERROR_INVALID_VALUE;
		__atomic_add_fetch(&completion_launches, 1, __ATOMIC_RELAXED);
		if ((void *)f == (void *)&completion_hint_fn)
			__atomic_add_fetch(&completion_hint_launches, 1, __ATOMIC_RELAXED);
		return cuStreamWriteValue32(config->hStream, *(CUdeviceptr *)params[0],
					    *(uint32_t *)params[1], 0);
	}
	return cuLaunchKernel(f, config->gridDimX, config->gridDimY, config->gridDimZ,
			      config->blockDimX, config->blockDimY, config->blockDimZ,
			      config->sharedMemBytes, config->hStream, params, extra);
}

/* Launches run so far, by kernel name (the tests ask which of a kernel and
 * its plain copy ran). */
#define FAKE_MAX_NAMES 64
static struct {
	char name[64];
	unsigned launches;
} by_name[FAKE_MAX_NAMES];
static pthread_mutex_t by_name_lock = PTHREAD_MUTEX_INITIALIZER;

static void
count_by_name(const char *name)
{
	pthread_mutex_lock(&by_name_lock);
	for (int i = 0; i < FAKE_MAX_NAMES; i++) {
		if (by_name[i].name[0] == '\0')
			snprintf(by_name[i].name, sizeof(by_name[i].name), "%s", name);
		if (strcmp(by_name[i].name, name) == 0) {
			by_name[i].launches++;
			break;
		}
	}
	pthread_mutex_unlock(&by_name_lock);
}

FAKE_EXPORT unsigned fake_cuda_kernel_launches(const char *name);
FAKE_EXPORT unsigned
fake_cuda_kernel_launches(const char *name)
{
	unsigned n = 0;

	pthread_mutex_lock(&by_name_lock);
	for (int i = 0; i < FAKE_MAX_NAMES && by_name[i].name[0] != '\0'; i++)
		if (strcmp(by_name[i].name, name) == 0)
			n = by_name[i].launches;
	pthread_mutex_unlock(&by_name_lock);
	return n;
}

/* Runs fake kernel @f now, on the host. */
static CUresult
run_kernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, void **params)
{
	struct fake_kernel *k = (struct fake_kernel *)f;

	__atomic_add_fetch(&fake_launches, 1, __ATOMIC_RELAXED);
	count_by_name(k->name);
	if (k->inc) {
		unsigned char *p = (unsigned char *)(uintptr_t)*(CUdeviceptr *)params[0];
		int n = *(int *)params[1];

		for (int i = 0; i < n; i++)
			p[i]++;
	}
	if (k->add) {
		unsigned char *dst = (unsigned char *)(uintptr_t)*(CUdeviceptr *)params[0];
		const unsigned char *src = (const unsigned char *)(uintptr_t)*(CUdeviceptr *)params[1];
		int n = *(int *)params[2];

		for (int i = 0; i < n; i++)
			dst[i] = (unsigned char)(dst[i] + src[i]);
	}
	if (k->instrumented == 1) {
		CUdeviceptr rec = *(const CUdeviceptr *)params[k->nparams];

		play_epilogue((struct paella_launch_record *)(uintptr_t)rec,
			      (uint64_t)gx * gy * gz);
	} else if (k->instrumented == 2) {
		last_sample_param = *(const CUdeviceptr *)params[k->nparams];
		play_sample_epilogue(last_sample_param, (uint64_t)gx * gy * gz);
	}
	return CUDA_SUCCESS;
}

/* What the table gets for a name the fake does not implement; never called
 * by the tests, so its prototype does not matter. */
static CUresult
unimplemented(void)
{
	return CUDA_ERROR_NOT_SUPPORTED;
}

FAKE_EXPORT CUresult CUDAAPI
cuGetProcAddress(const char *symbol, void **pfn, int cuda_version,
		 cuuint64_t flags, CUdriverProcAddressQueryResult *status)
{
	static const struct {
		const char *name;
		void *fn;
	} known[] = {
#define FN(n) { #n, (void *)n },
		FN(cuInit)
		FN(cuDriverGetVersion)
		FN(cuGetErrorName)
		FN(cuGetErrorString)
		FN(cuDeviceGetCount)
		FN(cuMemAlloc)
		FN(cuMemFree)
		FN(cuMemsetD32)
		FN(cuMemcpyHtoD)
		FN(cuMemcpyDtoH)
		FN(cuMemHostAlloc)
		FN(cuMemHostGetDevicePointer)
		FN(cuMemFreeHost)
		FN(cuStreamWriteValue32)
		FN(cuDeviceGet)
		FN(cuDeviceGetName)
		FN(cuDeviceGetAttribute)
		FN(cuDevicePrimaryCtxRetain)
		FN(cuDevicePrimaryCtxRelease)
		FN(cuCtxSetCurrent)
		FN(cuStreamCreate)
		FN(cuStreamDestroy)
		FN(cuStreamSynchronize)
		FN(cuEventCreate)
		FN(cuEventRecord)
		FN(cuEventElapsedTime)
		FN(cuEventDestroy)
		FN(cuMemcpyHtoDAsync)
		FN(cuMemcpyDtoHAsync)
		FN(cuModuleLoadData)
		FN(cuModuleUnload)
		FN(cuModuleGetGlobal)
		FN(cuModuleGetFunction)
		FN(cuFuncGetAttribute)
		FN(cuCtxGetStreamPriorityRange)
		FN(cuStreamCreateWithPriority)
		FN(cuFuncSetAttribute)
		FN(cuOccupancyMaxActiveBlocksPerMultiprocessor)
		FN(cuLaunchKernel)
		FN(cuLaunchKernelEx)
		FN(cuFuncGetName)
		FN(cuFuncGetModule)
		FN(cuStreamBeginCapture)
		FN(cuStreamEndCapture)
		FN(cuStreamIsCapturing)
		FN(cuGraphInstantiateWithFlags)
		FN(cuGraphDestroy)
		FN(cuGraphExecDestroy)
		FN(cuGraphLaunch)
#undef FN
	};

	*pfn = NULL;
	if (strcmp(symbol, "cuCtxSynchronize") == 0) {
		*pfn = cuda_version >= 13000 ? (void *)cuCtxSynchronize_v2
					     : (void *)cuCtxSynchronize;
		if (status)
			*status = CU_GET_PROC_ADDRESS_SUCCESS;
		return CUDA_SUCCESS;
	}
	if (strcmp(symbol, "cuFuncGetParamInfo") == 0 && env_int("FAKE_CUDA_PARAM_INFO", 0) &&
	    !env_lists("FAKE_CUDA_HIDE", symbol)) {
		__typeof__(cuFuncGetParamInfo) *fn = fake_func_get_param_info;

		*pfn = (void *)fn;
		if (status)
			*status = CU_GET_PROC_ADDRESS_SUCCESS;
		return CUDA_SUCCESS;
	}
	if (env_lists("FAKE_CUDA_HIDE", symbol) ||
	    strcmp(symbol, "cuFuncGetParamInfo") == 0) {
		if (status)
			*status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
		return CUDA_ERROR_NOT_FOUND;
	}
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strcmp(symbol, known[i].name) == 0) {
			*pfn = known[i].fn;
			break;
		}
	}
	if (*pfn == NULL)
		*pfn = (void *)unimplemented;
	if (status)
		*status = CU_GET_PROC_ADDRESS_SUCCESS;
	return CUDA_SUCCESS;
}
