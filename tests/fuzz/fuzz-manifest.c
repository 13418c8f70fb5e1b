/*
 * fuzz-manifest - libFuzzer target: the runtime's parser of a module's
 * kernel manifest (runtime/manifest.c), the text paella-cc embeds in every
 * image and the runtime reads from images it is handed.  Every entry of a
 * parsed manifest must be found by its name.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct paella__manifest man;

	memset(&man, 0, sizeof(man));
	if (paella__manifest_parse((const char *)data, size, "fuzz", &man) != PAELLA_STATUS_OK)
		return 0;
	for (unsigned i = 0; i < man.count; i++) {
		const struct paella__manifest_entry *e = &man.entries[i];

		if (e->name == NULL || paella__manifest_find(&man, e->name) == NULL)
			abort();
	}
	paella__manifest_fini(&man);
	return 0;
}
