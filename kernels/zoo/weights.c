/*
 * weights.c - a weights file against a plan: every tensor checked, then the
 * parameter blob made (batch norms folded, convolution weights transposed).
 * The blob is returned only when all of it is made.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "safetensors.h"
#include "zoo.h"

static bool
ignored(const struct paella__zoo_plan *plan, const char *name)
{
	static const char nbt[] = ".num_batches_tracked";
	size_t n = strlen(name);

	/* BatchNorm's step counter: an int64 buffer no inference uses. */
	if (n > sizeof(nbt) - 1 && strcmp(name + n - (sizeof(nbt) - 1), nbt) == 0)
		return true;
	if (plan->ignore != NULL)
		for (const char *const *p = plan->ignore; *p != NULL; p++)
			if (strncmp(name, *p, strlen(*p)) == 0)
				return true;
	return false;
}

/* STEP 1: the file holds the plan's tensors, F32, of the right shapes, and
 * nothing else the model would not use. */
static enum paella_status
check_tensors(const struct paella__zoo_plan *plan, const struct paella__st_file *st,
	      const struct paella__st_tensor **found)
{
	const char *path = paella__st_path(st);

	for (unsigned i = 0; i < plan->ntensors; i++) {
		const struct paella__zoo_tensor *want = &plan->tensors[i];
		const struct paella__st_tensor *t = paella__st_find(st, want->name);
		bool same = t != NULL && t->ndim == want->ndim;

		if (t == NULL)
			return paella__error_set(PAELLA_STATUS_NOT_FOUND,
				"%s: missing tensor '%s' (model %s)", path, want->name,
				plan->model);
		if (t->dtype != PAELLA__ST_F32)
			return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				"%s: tensor '%s' is %s, model %s needs F32", path, want->name,
				paella__st_dtype_name(t->dtype), plan->model);
		for (int d = 0; same && d < want->ndim; d++)
			same = t->shape[d] == want->shape[d];
		if (!same) {
			char got[96], need[96];

			paella__st_shape_str(t->ndim, t->shape, got, sizeof(got));
			paella__st_shape_str(want->ndim, want->shape, need, sizeof(need));
			return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				"%s: tensor '%s' has shape %s, model %s needs %s", path,
				want->name, got, plan->model, need);
		}
		found[i] = t;
	}
	for (unsigned i = 0; i < paella__st_count(st); i++) {
		const struct paella__st_tensor *t = paella__st_at(st, i);
		bool known = false;

		if (ignored(plan, t->name))
			continue;
		for (unsigned j = 0; j < plan->ntensors && !known; j++)
			known = found[j] == t;
		if (!known)
			return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				"%s: tensor '%s' is not part of model %s (weights of another "
				"model?)", path, t->name, plan->model);
	}
	return PAELLA_STATUS_OK;
}

/* Batch norm @bn (index of its weight) as scale and shift, in double. */
static void
bn_affine(const struct paella__st_tensor **found, int bn, float eps, uint64_t c, double *scale,
	  double *shift)
{
	double gamma = paella__st_read_f32(found[bn], c);
	double beta = paella__st_read_f32(found[bn + 1], c);
	double mean = paella__st_read_f32(found[bn + 2], c);
	double var = paella__st_read_f32(found[bn + 3], c);

	*scale = gamma / sqrt(var + (double)eps);
	*shift = beta - mean * *scale;
}

/* STEP 2: one param of the blob. */
static enum paella_status
make_param(const struct paella__zoo_plan *plan, const char *path,
	   const struct paella__st_tensor **found, const struct paella__zoo_param *q, float *dst)
{
	switch (q->recipe) {
	case PAELLA__ZOO_P_CONV_WEIGHT: {
		const struct paella__st_tensor *w = found[q->weight];
		const uint64_t m = (uint64_t)w->shape[0], cg = (uint64_t)w->shape[1];
		const uint64_t rs = (uint64_t)w->shape[2] * (uint64_t)w->shape[3];
		const uint64_t mg = m / (uint64_t)q->groups, kred = cg * rs;

		for (uint64_t o = 0; o < m; o++) {
			double scale = 1.0, shift;
			uint64_t g = o / mg, om = o % mg;

			if (q->bn >= 0)
				bn_affine(found, q->bn, q->eps, o, &scale, &shift);
			for (uint64_t k = 0; k < kred; k++)
				dst[(g * kred + k) * mg + om] =
					(float)(paella__st_read_f32(w, o * kred + k) * scale);
		}
		return PAELLA_STATUS_OK;
	}
	case PAELLA__ZOO_P_CONV_BIAS:
		for (uint64_t o = 0; o < q->count; o++) {
			double b = q->bias >= 0 ? paella__st_read_f32(found[q->bias], o) : 0.0;
			double scale, shift;

			if (q->bn >= 0) {
				bn_affine(found, q->bn, q->eps, o, &scale, &shift);
				b = b * scale + shift;
			}
			dst[o] = (float)b;
		}
		return PAELLA_STATUS_OK;
	case PAELLA__ZOO_P_BN_SCALE:
	case PAELLA__ZOO_P_BN_SHIFT:
		for (uint64_t c = 0; c < q->count; c++) {
			double scale, shift;

			bn_affine(found, q->bn, q->eps, c, &scale, &shift);
			dst[c] = (float)(q->recipe == PAELLA__ZOO_P_BN_SCALE ? scale : shift);
		}
		return PAELLA_STATUS_OK;
	case PAELLA__ZOO_P_COPY:
		for (uint64_t i = 0; i < q->count; i++)
			dst[i] = paella__st_read_f32(found[q->weight], i);
		return PAELLA_STATUS_OK;
	}
	return paella__error_set(PAELLA_STATUS_INTERNAL, "%s: %s: unknown param recipe %d",
				 path, plan->model, (int)q->recipe);
}

enum paella_status
paella__zoo_make_blob(const struct paella__zoo_plan *plan, const struct paella__st_file *st,
		      float **blob_out)
{
	const struct paella__st_tensor **found = NULL;
	enum paella_status status;

	*blob_out = NULL;
	found = calloc(plan->ntensors + 1, sizeof(*found));
	if (found == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "out of memory");
	status = check_tensors(plan, st, found);
	if (status == PAELLA_STATUS_OK)
		status = paella__zoo_fold_blob(plan, found, paella__st_path(st), blob_out);
	free(found);
	return status;
}

enum paella_status
paella__zoo_fold_blob(const struct paella__zoo_plan *plan, const struct paella__st_tensor **found,
		      const char *what, float **blob_out)
{
	enum paella_status status = PAELLA_STATUS_OK;
	float *blob;

	*blob_out = NULL;
	blob = calloc(plan->param_floats + 1, sizeof(float));
	if (blob == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY,
			"%s: %" PRIu64 " parameter floats: out of memory", plan->model,
			plan->param_floats);
	for (unsigned i = 0; i < plan->nparams; i++) {
		status = make_param(plan, what, found, &plan->params[i],
				    blob + plan->params[i].offset);
		if (status != PAELLA_STATUS_OK) {
			free(blob);
			return status;
		}
	}
	*blob_out = blob;
	return PAELLA_STATUS_OK;
}

enum paella_status
paella__zoo_load_weights(const struct paella__zoo_plan *plan, const char *path, float **blob_out)
{
	struct paella__st_file *st;
	enum paella_status status;

	*blob_out = NULL;
	status = paella__st_open(path, &st);
	if (status != PAELLA_STATUS_OK)
		return status;
	status = paella__zoo_make_blob(plan, st, blob_out);
	paella__st_close(st);
	return status;
}
