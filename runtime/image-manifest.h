/*
 * image-manifest.h - what the sim backend reads from a cubin paella-cc
 * made, without a driver: the instrumentation ABI version, the manifest,
 * and each kernel's name, registers and static shared memory.
 *
 * paella__image_read() parses the bytes (an ELF64 cubin, bounds-checked:
 * a truncated or bogus file is an error, never a crash); the sim backend
 * turns the result into a module with paella__image_sim_kernels(), each
 * kernel's blocks running PAELLA_SIM_IMAGE_BLOCK_NS; paella__image_fini()
 * frees it.
 */
#ifndef PAELLA_IMAGE_MANIFEST_H
#define PAELLA_IMAGE_MANIFEST_H

#include <stddef.h>

#include "paella/paella.h"

struct paella__image_kernel {
	char *name;
	unsigned regs_per_thread;
	unsigned static_smem_bytes;
};

struct paella__image {
	/* __paella_abi_version; 0 when the image has none (UINT32_MAX when
	 * it holds 0, as the cuda backend reads it). */
	unsigned abi_version;
	/* __paella_manifest, NUL-terminated; NULL when the image has none. */
	char *manifest;
	/* The image's entry functions. */
	struct paella__image_kernel *kernels;
	unsigned nkernels;
};

/* Reads @bytes bytes at @data.  INVALID_ARGUMENT, with a message, for
 * anything but a well-formed little-endian ELF64 CUDA image (fatbins and
 * PTX included: compile with `paella-cc --cuda-device-only -c` for a cubin). */
enum paella_status
paella__image_read(const void *data, size_t bytes, struct paella__image *out);

/* The image's kernels as the simulator takes them (@out->kernels points
 * into a new array, names into @img: free the array, and @img after it). */
enum paella_status
paella__image_sim_kernels(const struct paella__image *img, struct paella_sim_module *out);

void
paella__image_fini(struct paella__image *img);

#endif /* PAELLA_IMAGE_MANIFEST_H */
