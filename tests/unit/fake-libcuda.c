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
 *
 * Every function has the prototype cuda.h gives it, so calls through the
 * runtime's table stay well-typed (UBSan's -fsanitize=function checks).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cuda.h>

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
	p = calloc(1, bytes);
	if (p == NULL)
		return CUDA_ERROR_OUT_OF_MEMORY;
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

FAKE_EXPORT CUresult CUDAAPI
cuStreamWriteValue32(CUstream stream, CUdeviceptr addr, cuuint32_t value,
		     unsigned int flags)
{
	uint32_t *p = (uint32_t *)(uintptr_t)addr;

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
