/*
 * weights-file.h - for the zoo's tests: write a safetensors file with every
 * tensor a plan needs (random, running variances positive) plus a
 * num_batches_tracked counter, with one tensor dropped, retyped, reshaped
 * or an extra one added on request.
 */
#ifndef PAELLA_TEST_WEIGHTS_FILE_H
#define PAELLA_TEST_WEIGHTS_FILE_H

#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "safetensors.h"
#include "paella/zoo.h"

struct weights_fault {
	const char *drop;	/* leave this tensor out */
	const char *as_i64;	/* write this one as I64 */
	const char *reshape;	/* give this one a first dimension of 1 more */
	const char *extra;	/* add a tensor of this name */
	const char *nan;	/* element 1 of this one is NaN */
	const char *inf;	/* element 0 of this one is -infinity */
	const char *negative;	/* element 2 of this one is -0.5 (a running variance) */
};

static inline float
wf_value(uint64_t i, uint64_t salt)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull ^ salt;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return (float)(x % 20001) / 10000.0f - 1.0f;
}

/* Element i of the plan's tensor t as the file holds it. */
static inline float
wf_tensor_value(const struct paella_zoo_tensor *t, uint64_t i, unsigned index)
{
	float v = wf_value(i, index);

	if (strstr(t->name, "running_var") != NULL)
		return 1.0f + 0.5f * v;
	if (strstr(t->name, "bn") != NULL || strstr(t->name, "norm") != NULL)
		return v;
	return v * 0.1f;
}

static inline enum paella_status
write_weights(const struct paella_zoo_plan *p, const char *path, const struct weights_fault *f)
{
	struct pzoo__st_out *out = calloc(p->ntensors + 2, sizeof(*out));
	void **bufs = calloc(p->ntensors + 2, sizeof(*bufs));
	static const int64_t steps = 7;
	static const float extra[2] = { 1.0f, 2.0f };
	enum paella_status st;
	unsigned n = 0;

	for (unsigned i = 0; i < p->ntensors; i++) {
		const struct paella_zoo_tensor *t = &p->tensors[i];
		struct pzoo__st_out *o = &out[n];

		if (f != NULL && f->drop != NULL && strcmp(f->drop, t->name) == 0)
			continue;
		o->name = t->name;
		o->ndim = t->ndim;
		memcpy(o->shape, t->shape, sizeof(t->shape));
		if (f != NULL && f->as_i64 != NULL && strcmp(f->as_i64, t->name) == 0) {
			int64_t *v = calloc(t->numel + 1, sizeof(int64_t));

			o->dtype = PZOO__ST_I64;
			o->data = bufs[n] = v;
		} else {
			uint64_t numel = t->numel;
			float *v;

			if (f != NULL && f->reshape != NULL && strcmp(f->reshape, t->name) == 0) {
				o->shape[0]++;
				numel = t->numel / (uint64_t)t->shape[0] * (uint64_t)o->shape[0];
			}
			v = malloc((numel + 1) * sizeof(float));
			for (uint64_t k = 0; k < numel; k++)
				v[k] = wf_tensor_value(t, k, i);
			if (f != NULL && f->nan != NULL && strcmp(f->nan, t->name) == 0 && numel > 1)
				v[1] = NAN;
			if (f != NULL && f->inf != NULL && strcmp(f->inf, t->name) == 0)
				v[0] = -INFINITY;
			if (f != NULL && f->negative != NULL && strcmp(f->negative, t->name) == 0 &&
			    numel > 2)
				v[2] = -0.5f;
			o->dtype = PZOO__ST_F32;
			o->data = bufs[n] = v;
		}
		n++;
	}
	out[n++] = (struct pzoo__st_out){ "bn1.num_batches_tracked", PZOO__ST_I64, 0, { 0 },
					    &steps };
	if (f != NULL && f->extra != NULL)
		out[n++] = (struct pzoo__st_out){ f->extra, PZOO__ST_F32, 1, { 2 }, extra };
	st = pzoo__st_write(path, out, n);
	for (unsigned i = 0; i < p->ntensors + 2; i++)
		free(bufs[i]);
	free(bufs);
	free(out);
	return st;
}

#endif /* PAELLA_TEST_WEIGHTS_FILE_H */
