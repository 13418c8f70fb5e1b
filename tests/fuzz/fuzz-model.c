/*
 * fuzz-model - libFuzzer target: the zoo's model description, what a
 * caller hands paella_zoo_build() (a model name and the options: batch, SM
 * count, a forced convolution kernel and split count), and the plan it
 * returns checked for consistency: every argument names a storage or
 * parameter that exists, every storage lies inside the arena, every
 * parameter inside the blob.
 *
 * Input: 2 bytes batch, 2 bytes SM count, 1 byte split count, 1 byte
 * forced kernel (index into a table, or none), the rest the model name
 * (sometimes a real one, picked by the first name byte, so that the
 * builders run).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paella/zoo.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_plan(const struct paella_zoo_plan *p)
{
	for (unsigned i = 0; i < p->nstorages; i++)
		if (p->storages[i].offset + p->storages[i].floats * 4 > p->arena_bytes)
			abort();
	for (unsigned i = 0; i < p->nparams; i++)
		if (p->params[i].offset + p->params[i].count > p->param_floats)
			abort();
	for (unsigned l = 0; l < p->nlaunches; l++) {
		const struct paella_zoo_launch *la = &p->launches[l];

		if (la->nargs > PAELLA_ZOO_MAX_ARGS || la->grid[0] == 0 || la->block[0] == 0)
			abort();
		for (unsigned a = 0; a < la->nargs; a++) {
			const struct paella_zoo_arg *g = &la->args[a];

			if (g->kind == PAELLA_ZOO_ARG_ACT &&
			    (g->ref < 0 || (unsigned)g->ref >= p->nstorages ||
			     g->offset * 4 > p->storages[g->ref].floats * 4))
				abort();
			if (g->kind == PAELLA_ZOO_ARG_PARAM &&
			    (g->ref < 0 || (unsigned)g->ref >= p->nparams))
				abort();
		}
	}
	if (p->input < 0 || (unsigned)p->input >= p->nstorages || p->output < 0 ||
	    (unsigned)p->output >= p->nstorages)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const kernels[] = {
		"conv2d_igemm_64x64", "conv2d_igemm_128x64_1x1", "conv2d_igemm_32x128",
		"conv2d_igemm_128x32", "dwconv2d", "",
	};
	struct paella_zoo_options o = { 0 };
	struct paella_zoo_plan *plan = NULL;
	char name[64];
	size_t n;

	if (size < 6)
		return 0;
	/* Mostly small batches: a big one builds the same plan, slower. */
	o.batch = (int)(int16_t)(data[0] | data[1] << 8);
	if (o.batch > 64 && o.batch < PAELLA_ZOO_MAX_BATCH - 2)
		o.batch %= 64;
	o.num_sms = (int)(int16_t)(data[2] | data[3] << 8);
	o.force_splits = (int)(int8_t)data[4];
	if (data[5] < sizeof(kernels) / sizeof(kernels[0]))
		o.force_conv_kernel = kernels[data[5]];
	data += 6;
	size -= 6;
	if (size > 0 && data[0] < 8 * 8 && data[0] % 8 == 0) {
		/* A real model, so that the builders run. */
		snprintf(name, sizeof(name), "%s", paella_zoo_model_at(data[0] / 8)->name);
	} else {
		n = size < sizeof(name) - 1 ? size : sizeof(name) - 1;
		memcpy(name, data, n);
		name[n] = '\0';
	}
	if (paella_zoo_build(name, &o, &plan) == PAELLA_STATUS_OK) {
		check_plan(plan);
		paella_zoo_plan_free(plan);
	}
	return 0;
}
