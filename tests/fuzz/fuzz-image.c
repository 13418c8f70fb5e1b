/*
 * fuzz-image - libFuzzer target: the ELF64 reader with which the sim
 * backend loads cubins (runtime/image-manifest.c).  Whatever the bytes, it
 * returns an error or an image whose strings are NUL-terminated and whose
 * kernels all have names.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image-manifest.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct paella__image img;
	struct paella_sim_module desc;

	if (paella__image_read(data, size, &img) != PAELLA_STATUS_OK)
		return 0;
	if (img.manifest != NULL && strlen(img.manifest) > size)
		abort();
	for (unsigned i = 0; i < img.nkernels; i++)
		if (img.kernels[i].name == NULL || strlen(img.kernels[i].name) >= size)
			abort();
	if (paella__image_sim_kernels(&img, &desc) == PAELLA_STATUS_OK)
		free((void *)desc.kernels);
	paella__image_fini(&img);
	return 0;
}
