/*
 * cuda-driver.c - loading libcuda and reporting its errors.
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cudaTypedefs.h>

#include "cuda-driver.h"

#define DEFAULT_LIBCUDA "libcuda.so.1"

struct symbol {
	/* The name cuGetProcAddress knows ("cuMemAlloc"). */
	const char *name;
	/* The exported, versioned name, for dlsym ("cuMemAlloc_v2"). */
	const char *versioned;
	/* The CUDA version whose variant matches our prototype. */
	int version;
	size_t offset;
	bool required;
};

static const struct symbol symbols[] = {
#define SYM_REQUIRED(n, v) { #n, PAELLA__STR(n), v, offsetof(struct paella__cu, n), true },
#define SYM_OPTIONAL(n, v) { #n, PAELLA__STR(n), v, offsetof(struct paella__cu, n), false },
	PAELLA__CU_REQUIRED(SYM_REQUIRED)
	PAELLA__CU_OPTIONAL(SYM_OPTIONAL)
#undef SYM_REQUIRED
#undef SYM_OPTIONAL
};

/* The prototype we call through is the one cudaTypedefs.h gives the version
 * we ask cuGetProcAddress for. */
#define CHECK_VERSION(n, v) \
	_Static_assert(__builtin_types_compatible_p(__typeof__(&n), PFN_##n##_v##v), \
		       #n " at version " #v " has another prototype than cuda.h's");
PAELLA__CU_REQUIRED(CHECK_VERSION)
PAELLA__CU_OPTIONAL(CHECK_VERSION)
#undef CHECK_VERSION

_Static_assert(PAELLA__CU_MIN_DRIVER_VERSION <= CUDA_VERSION,
	       "the table asks for versions newer than cuda.h");

typedef CUresult (*get_proc_address_fn)(const char *symbol, void **pfn,
					int cuda_version, cuuint64_t flags,
					CUdriverProcAddressQueryResult *status);

static void *
resolve(const struct paella__cu *cu, get_proc_address_fn get_proc,
	const struct symbol *sym)
{
	void *fn = NULL;

	if (get_proc != NULL) {
		CUdriverProcAddressQueryResult q = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
		/* Legacy default-stream semantics, as the plain names in cuda.h
		 * have without CUDA_API_PER_THREAD_DEFAULT_STREAM. */
		CUresult rc = get_proc(sym->name, &fn, sym->version,
				       CU_GET_PROC_ADDRESS_LEGACY_STREAM, &q);

		if (rc == CUDA_SUCCESS && q == CU_GET_PROC_ADDRESS_SUCCESS && fn != NULL)
			return fn;
		fn = NULL;
	}
	/* A driver without cuGetProcAddress_v2, or one that does not know
	 * the name: the exported versioned symbol has the same prototype. */
	fn = dlsym(cu->lib, sym->versioned);
	return fn;
}

static enum paella_status
resolve_all(struct paella__cu *cu)
{
	get_proc_address_fn get_proc;

	*(void **)&get_proc = dlsym(cu->lib, "cuGetProcAddress_v2");
	cu->have_get_proc_address = get_proc != NULL;

	for (size_t i = 0; i < PAELLA__ARRAY_SIZE(symbols); i++) {
		const struct symbol *sym = &symbols[i];
		void *fn = resolve(cu, get_proc, sym);

		if (fn == NULL && sym->required)
			return paella__error_set(PAELLA_STATUS_NO_DEVICE,
				"%s lacks %s (%s): the NVIDIA driver is too old or broken",
				cu->path, sym->name, sym->versioned);
		if (fn == NULL)
			paella__log_info("%s lacks optional %s", cu->path, sym->name);
		memcpy((char *)cu + sym->offset, &fn, sizeof(fn));
	}
	return PAELLA_STATUS_OK;
}

enum paella_status
paella__cu_open(struct paella__cu **out)
{
	enum paella_status status = PAELLA_STATUS_OK;
	const char *env = getenv("PAELLA_LIBCUDA");
	const char *path = (env != NULL && *env != '\0') ? env : DEFAULT_LIBCUDA;
	__typeof__(cuDriverGetVersion) *get_version;
	struct paella__cu *cu;
	CUresult rc;

	*out = NULL;
	PAELLA__NEW_OR_RETURN(cu, "out of memory loading the CUDA driver");
	snprintf(cu->path, sizeof(cu->path), "%s", path);

	cu->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (cu->lib == NULL) {
		const char *why = dlerror();

		if (path == env)
			status = paella__error_set(PAELLA_STATUS_NO_DEVICE,
				"PAELLA_LIBCUDA=%s cannot be loaded: %s",
				path, why ? why : "unknown dlopen error");
		else
			status = paella__error_set(PAELLA_STATUS_NO_DEVICE,
				"%s not found: no NVIDIA driver on this machine (%s)",
				path, why ? why : "unknown dlopen error");
		goto err;
	}

	/* The version first, from the plain export every driver has: a driver
	 * too old is told so, rather than that it lacks some function. */
	*(void **)&get_version = dlsym(cu->lib, "cuDriverGetVersion");
	if (get_version == NULL) {
		status = paella__error_set(PAELLA_STATUS_NO_DEVICE,
			"%s has no cuDriverGetVersion: not a CUDA driver", cu->path);
		goto err;
	}
	rc = get_version(&cu->driver_version);
	if (rc != CUDA_SUCCESS) {
		status = paella__error_set(PAELLA_STATUS_NO_DEVICE,
			"cuDriverGetVersion failed (%d): the NVIDIA driver is broken", (int)rc);
		goto err;
	}
	if (cu->driver_version < PAELLA__CU_MIN_DRIVER_VERSION) {
		status = paella__error_set(PAELLA_STATUS_NO_DEVICE,
			"the NVIDIA driver (%s) supports CUDA %d.%d; paella needs %d.%d or newer",
			cu->path, cu->driver_version / 1000,
			cu->driver_version % 1000 / 10,
			PAELLA__CU_MIN_DRIVER_VERSION / 1000,
			PAELLA__CU_MIN_DRIVER_VERSION % 1000 / 10);
		goto err;
	}

	status = resolve_all(cu);
	if (status != PAELLA_STATUS_OK)
		goto err;

	rc = cu->cuInit(0);
	if (rc != CUDA_SUCCESS) {
		const char *str = NULL;

		if (cu->cuGetErrorString(rc, &str) != CUDA_SUCCESS || str == NULL)
			str = "no description";
		status = paella__error_set(PAELLA_STATUS_NO_DEVICE,
			"cuInit failed: %s (%s)", paella__cu_error_name(cu, rc), str);
		goto err;
	}

	paella__log_debug("loaded %s: CUDA driver %d, symbols via %s",
			  cu->path, cu->driver_version,
			  cu->have_get_proc_address ? "cuGetProcAddress" : "dlsym");
	*out = cu;
	return PAELLA_STATUS_OK;

err:
	paella__cu_close(cu);
	return status;
}

void
paella__cu_close(struct paella__cu *cu)
{
	if (cu != NULL && cu->lib != NULL)
		dlclose(cu->lib);
	free(cu);
}

const char *
paella__cu_error_name(const struct paella__cu *cu, CUresult rc)
{
	const char *name = NULL;

	if (cu != NULL && cu->cuGetErrorName != NULL &&
	    cu->cuGetErrorName(rc, &name) == CUDA_SUCCESS && name != NULL)
		return name;
	return "CUDA_ERROR_UNKNOWN_TO_DRIVER";
}

enum paella_status
paella__cu_status(CUresult rc)
{
	switch (rc) {
	case CUDA_SUCCESS:
		return PAELLA_STATUS_OK;
	case CUDA_ERROR_OUT_OF_MEMORY:
		return PAELLA_STATUS_NO_MEMORY;
	case CUDA_ERROR_NO_DEVICE:
	case CUDA_ERROR_INVALID_DEVICE:
	case CUDA_ERROR_DEVICE_UNAVAILABLE:
	case CUDA_ERROR_STUB_LIBRARY:
	case CUDA_ERROR_NOT_INITIALIZED:
		return PAELLA_STATUS_NO_DEVICE;
	case CUDA_ERROR_NOT_FOUND:
	case CUDA_ERROR_FILE_NOT_FOUND:
		return PAELLA_STATUS_NOT_FOUND;
	case CUDA_ERROR_NOT_SUPPORTED:
		return PAELLA_STATUS_UNSUPPORTED;
	default:
		return PAELLA_STATUS_DRIVER_ERROR;
	}
}

enum paella_status
paella__cu_fail(const struct paella__cu *cu, CUresult rc, const char *call,
		const char *file, int line)
{
	const char *str = NULL;

	if (cu == NULL || cu->cuGetErrorString == NULL ||
	    cu->cuGetErrorString(rc, &str) != CUDA_SUCCESS || str == NULL)
		str = "no description";
	/* The expression and the place are for whoever reads the source; the
	 * user gets the driver function and its answer. */
	paella__log_debug("%s failed at %s:%d: %s", call, file, line,
			  paella__cu_error_name(cu, rc));
	return paella__error_set(paella__cu_status(rc),
				 "the CUDA driver's %.*s failed: %s (%d: %s)",
				 (int)strcspn(call, "("), call, paella__cu_error_name(cu, rc),
				 (int)rc, str);
}

void
paella__ptx_module_init(struct paella__ptx_module *pm, const struct paella__cu *cu)
{
	memset(pm, 0, sizeof(*pm));
	pm->cu = cu;
	pthread_mutex_init(&pm->lock, NULL);
}

void
paella__ptx_module_fini(struct paella__ptx_module *pm)
{
	if (pm->module != NULL)
		pm->cu->cuModuleUnload(pm->module);
	pthread_mutex_destroy(&pm->lock);
}
