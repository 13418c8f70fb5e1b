/*
 * module.h - loaded device code and what its manifest says.  Private.
 *
 * A module wraps the backend's module with the instrumentation ABI version
 * and the manifest read at load.  Model steps hold kernels of it; it cannot
 * be unloaded while they do.
 */
#ifndef PAELLA_MODULE_H
#define PAELLA_MODULE_H

#include <stdbool.h>

#include "backend.h"
#include "list.h"
#include "manifest.h"

struct paella_module {
	struct paella_runtime *rt;
	void *bmod;
	/* "path/to/k.cubin", "image", "sim module": for messages. */
	char *label;
	unsigned abi_version;
	/* False for an image that paella-cc did not build: every kernel then
	 * runs uninstrumented, its parameter count unchecked. */
	bool has_manifest;
	struct paella__manifest manifest;
	/* Model steps using a kernel of this module. */
	unsigned users;
	/* In the runtime's registry. */
	struct paella__list link;
};

/* What a step needs to know of a kernel. */
struct paella__kernel_ref {
	struct paella__bkernel *bkernel;
	struct paella__kernel_attrs attrs;
	bool instrumented;
	/* Instrumented in count mode (see paella/instrument-abi.h). */
	bool counted;
	/* Parameters as written; -1 when unknown (no manifest). */
	int nparams;
	/* Sample mode: the kernel's plain copy (manifest 3), launched instead
	 * where the sampling rule picks no block; NULL when there is none. */
	struct paella__bkernel *plain;
};

/* Looks @name up in @module: PAELLA_STATUS_NOT_FOUND, with a message
 * naming the module, when it has no such kernel. */
enum paella_status
paella__module_kernel(struct paella_module *module, const char *name,
		      struct paella__kernel_ref *out);

/* The runtime's external module, made at the first call: it holds the
 * kernels that model capture found through the program's CUDA runtime
 * (cudaGetFuncBySymbol) rather than in an image; it has no manifest, and
 * lives as long as the runtime.  PAELLA_STATUS_UNSUPPORTED, with a message,
 * where the backend cannot capture. */
enum paella_status
paella__module_external(struct paella_runtime *rt, struct paella_module **out);

/* Frees a module whose users are gone; the registry lock is held. */
void
paella__module_free(struct paella_module *module);

#endif /* PAELLA_MODULE_H */
