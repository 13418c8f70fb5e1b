/*
 * cuda-driver.h - the one boundary through which the runtime reaches the
 * CUDA driver.  Private.
 *
 * libcuda is never linked: paella__cu_open() loads it with dlopen() and
 * fills a table of function pointers through cuGetProcAddress, so that a
 * machine without the NVIDIA driver still builds and runs everything but GPU
 * work, and tests can substitute a fake driver (PAELLA_LIBCUDA=/path).
 *
 * Call a driver function as cu->cuMemAlloc(...): cuda.h maps the name to the
 * versioned symbol (cuMemAlloc_v2) and the table's field carries that name
 * too, so the prototype is the one of the cuda.h we were built against.
 *
 * Each entry names the CUDA version whose variant of the function has that
 * prototype, and cuGetProcAddress is asked for exactly that version: asked
 * for "cuCtxSynchronize" at 13000 it would return cuCtxSynchronize_v2, which
 * takes a context, while cuda.h 13.0 still declares the plain name without
 * one.  cuda-driver.c checks each pair against cudaTypedefs.h at compile
 * time (PFN_<name>_v<version>).
 */
#ifndef PAELLA_CUDA_DRIVER_H
#define PAELLA_CUDA_DRIVER_H

#include <pthread.h>
#include <stdbool.h>

#include <cuda.h>

#include "log.h"
#include "paella/paella.h"
#include "util.h"

/* Every function the runtime uses, with the version of its prototype.  A
 * driver that lacks one is refused. */
#define PAELLA__CU_REQUIRED(X) \
	X(cuInit, 2000) \
	X(cuDriverGetVersion, 2020) \
	X(cuGetErrorName, 6000) \
	X(cuGetErrorString, 6000) \
	X(cuDeviceGet, 2000) \
	X(cuDeviceGetCount, 2000) \
	X(cuDeviceGetAttribute, 2000) \
	X(cuDeviceGetName, 2000) \
	X(cuDeviceTotalMem, 3020) \
	X(cuDevicePrimaryCtxRetain, 7000) \
	X(cuDevicePrimaryCtxRelease, 11000) \
	X(cuCtxCreate, 12050) \
	X(cuCtxDestroy, 4000) \
	X(cuCtxSetCurrent, 4000) \
	X(cuCtxGetCurrent, 4000) \
	X(cuCtxSynchronize, 2000) \
	X(cuCtxGetStreamPriorityRange, 5050) \
	X(cuModuleLoad, 2000) \
	X(cuModuleLoadData, 2000) \
	X(cuModuleUnload, 2000) \
	X(cuModuleGetFunction, 2000) \
	X(cuModuleGetGlobal, 3020) \
	X(cuFuncGetAttribute, 2020) \
	X(cuFuncSetAttribute, 9000) \
	X(cuOccupancyMaxActiveBlocksPerMultiprocessor, 6050) \
	X(cuLaunchKernel, 4000) \
	X(cuMemAlloc, 3020) \
	X(cuMemFree, 3020) \
	X(cuMemcpyHtoD, 3020) \
	X(cuMemcpyDtoH, 3020) \
	X(cuMemcpyHtoDAsync, 3020) \
	X(cuMemcpyDtoHAsync, 3020) \
	X(cuMemsetD32, 3020) \
	X(cuMemsetD32Async, 3020) \
	X(cuMemHostAlloc, 2020) \
	X(cuMemHostGetDevicePointer, 3020) \
	X(cuMemFreeHost, 2000) \
	X(cuStreamCreate, 2000) \
	X(cuStreamCreateWithPriority, 5050) \
	X(cuStreamDestroy, 4000) \
	X(cuStreamSynchronize, 2000) \
	X(cuStreamQuery, 2000) \
	X(cuStreamWriteValue32, 11070) \
	X(cuEventCreate, 2000) \
	X(cuEventRecord, 2000) \
	X(cuEventSynchronize, 2000) \
	X(cuEventElapsedTime, 12080) \
	X(cuEventQuery, 2000) \
	X(cuEventDestroy, 4000)

/* Functions the runtime can do without: NULL in the table when absent. */
#define PAELLA__CU_OPTIONAL(X) \
	X(cuFuncGetParamInfo, 12040) \
	X(cuCtxGetDevice, 2000) \
	X(cuFuncGetName, 12030) \
	X(cuFuncGetModule, 11000) \
	X(cuLaunchKernelEx, 11060) \
	X(cuStreamBeginCapture, 10010) \
	X(cuStreamEndCapture, 10000) \
	X(cuStreamIsCapturing, 10000) \
	X(cuGraphInstantiateWithFlags, 11040) \
	X(cuStreamWaitEvent, 3020) \
	X(cuGraphLaunch, 10000) \
	X(cuGraphExecDestroy, 10000) \
	X(cuGraphDestroy, 10000)

/* The oldest driver that has every version above (cuEventElapsedTime_v2):
 * asked for a version newer than itself, a driver returns the newest variant
 * it knows, whose prototype may differ. */
#define PAELLA__CU_MIN_DRIVER_VERSION 12080

struct paella__cu {
	void *lib;
	/* What dlopen() loaded, for messages. */
	char path[256];
	/* cuDriverGetVersion(): 13000 for CUDA 13.0. */
	int driver_version;
	/* Whether symbols came through cuGetProcAddress (else dlsym). */
	bool have_get_proc_address;
#define PAELLA__CU_FIELD(name, version) __typeof__(name) *name;
	PAELLA__CU_REQUIRED(PAELLA__CU_FIELD)
	PAELLA__CU_OPTIONAL(PAELLA__CU_FIELD)
#undef PAELLA__CU_FIELD
};

/*
 * Loads the driver (env PAELLA_LIBCUDA, else "libcuda.so.1"), resolves the
 * table and calls cuInit(0).  Returns PAELLA_STATUS_NO_DEVICE, with a message
 * in paella__error_last(), when there is no driver, it is too old, or cuInit
 * finds no device.  Free with paella__cu_close().
 */
enum paella_status
paella__cu_open(struct paella__cu **out);

void
paella__cu_close(struct paella__cu *cu);

/* The driver's name for @rc ("CUDA_ERROR_OUT_OF_MEMORY"), or a fixed text
 * when the driver does not know it. */
const char *
paella__cu_error_name(const struct paella__cu *cu, CUresult rc);

/* The status a driver error maps to: NO_MEMORY, NO_DEVICE, NOT_FOUND, or
 * DRIVER_ERROR for the rest. */
enum paella_status
paella__cu_status(CUresult rc);

/* Reports a failed driver call and returns paella__cu_status(rc): the
 * driver function's name and error in paella__error_last() (and the error
 * log), the whole expression and @file:@line in the debug log.  Callers
 * that know what was being done (the module being loaded) prefix it.
 * Used by PAELLA_CU_CHECK_GOTO. */
enum paella_status
paella__cu_fail(const struct paella__cu *cu, CUresult rc, const char *call,
		const char *file, int line);

/*
 * A module of PTX that the runtime writes itself (the completion kernels,
 * the tail markers), held in its owner's struct: the owner loads it on
 * first use, under @lock, so that it loads in the context current then
 * (the launches' one).  Init makes no driver call; fini unloads the module
 * where it loaded.
 */
struct paella__ptx_module {
	const struct paella__cu *cu;
	pthread_mutex_t lock;
	/* Whether the owner tried to load it; @module stays NULL where that
	 * failed. */
	bool tried;
	CUmodule module;
};

void
paella__ptx_module_init(struct paella__ptx_module *pm, const struct paella__cu *cu);

void
paella__ptx_module_fini(struct paella__ptx_module *pm);

/*
 * Calls cu->call; on failure reports the driver's error name (and, in the
 * debug log, the call's text and the place), stores the mapped status in @status_var and jumps to
 * @label.  Usage:
 *	PAELLA_CU_CHECK_GOTO(cu, cuMemAlloc(&ptr, size), status, out);
 */
#define PAELLA_CU_CHECK_GOTO(cu, call, status_var, label) \
	do { \
		CUresult paella__cu_rc_ = (cu)->call; \
		if (PAELLA__UNLIKELY(paella__cu_rc_ != CUDA_SUCCESS)) { \
			(status_var) = paella__cu_fail((cu), paella__cu_rc_, \
						       #call, __FILE__, __LINE__); \
			goto label; \
		} \
	} while (0)

#endif /* PAELLA_CUDA_DRIVER_H */
