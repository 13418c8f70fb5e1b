/*
 * weights.c - a weights file against a plan: every tensor checked, then the
 * parameter blob made (batch norms folded, convolution weights transposed).
 * The blob is returned only when all of it is made.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zoo-private.h"
#include "safetensors.h"
#include "paella/zoo.h"

static bool
ignored(const struct paella_zoo_plan *plan, const char *name)
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

/* Where the problems of a file go: the caller's callback, and the first
 * one kept as the zoo's error. */
struct sink {
	paella_zoo_problem_fn fn;
	void *user;
	unsigned count;
	enum paella_status first;
	char first_msg[1024];
};

PZOO__PRINTF(3, 4) static void
problem(struct sink *k, enum paella_status status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (k->count++ == 0) {
		k->first = status;
		memcpy(k->first_msg, msg, sizeof(msg));
	}
	if (k->fn != NULL)
		k->fn(k->user, msg);
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* STEP 1: the file holds the plan's tensors, F32, of the right shapes, and
 * nothing else the model would not use.  found[i] is set for each tensor
 * that is right. */
static void
check_tensors(const struct paella_zoo_plan *plan, const struct pzoo__st_file *st,
	      const struct pzoo__st_tensor **found, struct sink *k)
{
	const char *path = pzoo__st_path(st);
	bool *used = calloc(pzoo__st_count(st) + 1, sizeof(*used));

	if (used == NULL) {
		problem(k, PAELLA_STATUS_NO_MEMORY, "%s: out of memory", path);
		return;
	}
	for (unsigned i = 0; i < plan->ntensors; i++) {
		const struct paella_zoo_tensor *want = &plan->tensors[i];
		const struct pzoo__st_tensor *t = pzoo__st_find(st, want->name);
		bool same = t != NULL && t->ndim == want->ndim;

		if (t == NULL) {
			problem(k, PAELLA_STATUS_NOT_FOUND, "%s: missing tensor '%s' (model %s)",
				path, want->name, plan->model);
			continue;
		}
		used[t - pzoo__st_at(st, 0)] = true;
		if (t->dtype != PZOO__ST_F32) {
			problem(k, PAELLA_STATUS_INVALID_ARGUMENT,
				"%s: tensor '%s' is %s, model %s needs F32", path, want->name,
				pzoo__st_dtype_name(t->dtype), plan->model);
			continue;
		}
		for (int d = 0; same && d < want->ndim; d++)
			same = t->shape[d] == want->shape[d];
		if (!same) {
			char got[96], need[96];

			pzoo__st_shape_str(t->ndim, t->shape, got, sizeof(got));
			pzoo__st_shape_str(want->ndim, want->shape, need, sizeof(need));
			problem(k, PAELLA_STATUS_INVALID_ARGUMENT,
				"%s: tensor '%s' has shape %s, model %s needs %s", path,
				want->name, got, plan->model, need);
			continue;
		}
		found[i] = t;
	}
	for (unsigned i = 0; i < pzoo__st_count(st); i++) {
		const struct pzoo__st_tensor *t = pzoo__st_at(st, i);
		char name[PZOO__ST_NAME_SHOWN];

		if (used[i] || ignored(plan, t->name))
			continue;
		problem(k, PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: tensor '%s' is not part of model %s (weights of another model?)",
			path, pzoo__escape(t->name, name, sizeof(name)), plan->model);
	}
	free(used);
}

/* STEP 2: the values are numbers, and a batch norm's running variances
 * are not negative (they would fold to NaN). */
static void
check_values(const struct paella_zoo_plan *plan, const char *path,
	     const struct pzoo__st_tensor **found, struct sink *k)
{
	for (unsigned i = 0; i < plan->ntensors; i++) {
		const struct pzoo__st_tensor *t = found[i];
		uint64_t bad = 0, first = 0, neg = 0, first_neg = 0;
		bool var = ends_with(plan->tensors[i].name, "running_var");

		if (t == NULL)
			continue;
		for (uint64_t e = 0; e < t->numel; e++) {
			float v = pzoo__st_read_f32(t, e);

			if (!isfinite(v)) {
				if (bad++ == 0)
					first = e;
			} else if (var && v < 0.0f) {
				if (neg++ == 0)
					first_neg = e;
			}
		}
		if (bad != 0)
			problem(k, PAELLA_STATUS_INVALID_ARGUMENT,
				"%s: tensor '%s': %" PRIu64 " of %" PRIu64 " values are not finite "
				"numbers (NaN or infinity), the first at element %" PRIu64 " (%g)",
				path, plan->tensors[i].name, bad, t->numel, first,
				(double)pzoo__st_read_f32(t, first));
		if (neg != 0)
			problem(k, PAELLA_STATUS_INVALID_ARGUMENT,
				"%s: tensor '%s': %" PRIu64 " negative running variances, the first "
				"at element %" PRIu64 " (%g)", path, plan->tensors[i].name, neg,
				first_neg, (double)pzoo__st_read_f32(t, first_neg));
	}
}

/* Steps 1 and 2; found[] gets the tensors in the plan's order. */
static void
check_file(const struct paella_zoo_plan *plan, const struct pzoo__st_file *st,
	   const struct pzoo__st_tensor **found, struct sink *k)
{
	check_tensors(plan, st, found, k);
	check_values(plan, pzoo__st_path(st), found, k);
}

/* Batch norm @bn (index of its weight) as scale and shift, in double. */
static void
bn_affine(const struct pzoo__st_tensor **found, int bn, float eps, uint64_t c, double *scale,
	  double *shift)
{
	double gamma = pzoo__st_read_f32(found[bn], c);
	double beta = pzoo__st_read_f32(found[bn + 1], c);
	double mean = pzoo__st_read_f32(found[bn + 2], c);
	double var = pzoo__st_read_f32(found[bn + 3], c);

	*scale = gamma / sqrt(var + (double)eps);
	*shift = beta - mean * *scale;
}

/* STEP 2: one param of the blob. */
static enum paella_status
make_param(const struct paella_zoo_plan *plan, const char *path,
	   const struct pzoo__st_tensor **found, const struct paella_zoo_param *q, float *dst)
{
	switch (q->recipe) {
	case PAELLA_ZOO_P_CONV_WEIGHT: {
		const struct pzoo__st_tensor *w = found[q->weight];
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
					(float)(pzoo__st_read_f32(w, o * kred + k) * scale);
		}
		return PAELLA_STATUS_OK;
	}
	case PAELLA_ZOO_P_CONV_BIAS:
		for (uint64_t o = 0; o < q->count; o++) {
			double b = q->bias >= 0 ? pzoo__st_read_f32(found[q->bias], o) : 0.0;
			double scale, shift;

			if (q->bn >= 0) {
				bn_affine(found, q->bn, q->eps, o, &scale, &shift);
				b = b * scale + shift;
			}
			dst[o] = (float)b;
		}
		return PAELLA_STATUS_OK;
	case PAELLA_ZOO_P_BN_SCALE:
	case PAELLA_ZOO_P_BN_SHIFT:
		for (uint64_t c = 0; c < q->count; c++) {
			double scale, shift;

			bn_affine(found, q->bn, q->eps, c, &scale, &shift);
			dst[c] = (float)(q->recipe == PAELLA_ZOO_P_BN_SCALE ? scale : shift);
		}
		return PAELLA_STATUS_OK;
	case PAELLA_ZOO_P_COPY:
		for (uint64_t i = 0; i < q->count; i++)
			dst[i] = pzoo__st_read_f32(found[q->weight], i);
		return PAELLA_STATUS_OK;
	}
	return pzoo__error_set(PAELLA_STATUS_INTERNAL, "%s: %s: unknown param recipe %d",
				 path, plan->model, (int)q->recipe);
}

enum paella_status
pzoo__make_blob(const struct paella_zoo_plan *plan, const struct pzoo__st_file *st,
		float **blob_out)
{
	const struct pzoo__st_tensor **found = NULL;
	struct sink k = { 0 };
	enum paella_status status;

	*blob_out = NULL;
	found = calloc(plan->ntensors + 1, sizeof(*found));
	if (found == NULL)
		return pzoo__error_set(PAELLA_STATUS_NO_MEMORY, "out of memory");
	check_file(plan, st, found, &k);
	if (k.count != 0)
		status = pzoo__error_set(k.first, "%s%s", k.first_msg,
					 k.count > 1 ? " (and more problems: paella check-weights "
						       "lists them)" : "");
	else
		status = pzoo__fold_blob(plan, found, pzoo__st_path(st), blob_out);
	free(found);
	return status;
}

enum paella_status
pzoo__fold_blob(const struct paella_zoo_plan *plan, const struct pzoo__st_tensor **found,
		      const char *what, float **blob_out)
{
	enum paella_status status = PAELLA_STATUS_OK;
	float *blob;

	*blob_out = NULL;
	blob = calloc(plan->param_floats + 1, sizeof(float));
	if (blob == NULL)
		return pzoo__error_set(PAELLA_STATUS_NO_MEMORY,
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
paella_zoo_load_weights(const struct paella_zoo_plan *plan, const char *path, float **blob_out)
{
	struct pzoo__st_file *st;
	enum paella_status status;

	*blob_out = NULL;
	status = pzoo__st_open(path, &st);
	if (status != PAELLA_STATUS_OK)
		return status;
	status = pzoo__make_blob(plan, st, blob_out);
	pzoo__st_close(st);
	return status;
}

enum paella_status
paella_zoo_check_weights(const struct paella_zoo_plan *plan, const char *path,
			 paella_zoo_problem_fn fn, void *user, unsigned *ntensors)
{
	const struct pzoo__st_tensor **found = NULL;
	struct pzoo__st_file *st = NULL;
	struct sink k = { .fn = fn, .user = user };
	enum paella_status status;

	if (ntensors != NULL)
		*ntensors = 0;
	if (plan == NULL || path == NULL)
		return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				       "paella_zoo_check_weights: needs a plan and a path");
	status = pzoo__st_open(path, &st);
	if (status != PAELLA_STATUS_OK) {
		if (fn != NULL)
			fn(user, paella_zoo_last_error());
		return status;
	}
	if (ntensors != NULL)
		*ntensors = pzoo__st_count(st);
	found = calloc(plan->ntensors + 1, sizeof(*found));
	if (found == NULL) {
		status = pzoo__error_set(PAELLA_STATUS_NO_MEMORY, "out of memory");
		if (fn != NULL)
			fn(user, paella_zoo_last_error());
		goto out;
	}
	check_file(plan, st, found, &k);
	status = PAELLA_STATUS_OK;
	if (k.count != 0)
		status = pzoo__error_set(k.first == PAELLA_STATUS_NO_MEMORY
					 ? PAELLA_STATUS_NO_MEMORY : PAELLA_STATUS_INVALID_ARGUMENT,
					 "%s", k.first_msg);
out:
	free(found);
	pzoo__st_close(st);
	return status;
}
