/*
 * fuzz-safetensors - libFuzzer target: the safetensors reader on arbitrary
 * bytes, and what the weights loader does with a file the reader accepts
 * (the checks against a plan and the folding), as for a file from the
 * network.  Nothing may crash, leak or read outside the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "safetensors.h"
#include "zoo-private.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct paella_zoo_plan *plan;
	struct pzoo__st_file *f = NULL;
	volatile float sink = 0.0f;
	float *blob = NULL;

	/* The smallest model: every tensor kind (convolutions with biases,
	 * no batch norm) in a few dozen tensors. */
	if (plan == NULL && paella_zoo_build("squeezenet1_1", NULL, &plan) != PAELLA_STATUS_OK)
		abort();
	if (pzoo__st_parse("fuzz.safetensors", data, size, &f) != PAELLA_STATUS_OK)
		return 0;
	for (unsigned i = 0; i < pzoo__st_count(f); i++) {
		const struct pzoo__st_tensor *t = pzoo__st_at(f, i);

		if (pzoo__st_find(f, t->name) == NULL)
			abort();
		if (t->dtype == PZOO__ST_F32 && t->numel > 0)
			sink += pzoo__st_read_f32(t, t->numel - 1) + pzoo__st_read_f32(t, 0);
	}
	if (pzoo__make_blob(plan, f, &blob) == PAELLA_STATUS_OK)
		free(blob);
	pzoo__st_close(f);
	(void)sink;
	return 0;
}
