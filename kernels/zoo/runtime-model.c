/*
 * runtime-model.c - a zoo plan as a libpaellart model (runtime-model.h).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cards.h"
#include "log.h"
#include "occupancy.h"
#include "paella/instrument-abi.h"
#include "runtime-model.h"
#include "safetensors.h"

/* exec.c allocates 256 bytes more than the plan needs, for both. */
#define SLACK 256

enum paella_status
paella__zoo_rt_load_modules(struct paella_runtime *rt, const char *image_dir,
			    struct paella_module *mods[PAELLA__ZOO_NIMAGES])
{
	enum paella_status st = PAELLA_STATUS_OK;

	for (unsigned i = 0; i < PAELLA__ZOO_NIMAGES; i++)
		mods[i] = NULL;
	for (unsigned i = 0; i < PAELLA__ZOO_NIMAGES; i++) {
		char path[4096];
		FILE *fp;

		snprintf(path, sizeof(path), "%s/%s.cubin", image_dir,
			 paella__zoo_image_name((enum paella__zoo_image)i));
		fp = fopen(path, "rb");
		if (fp == NULL) {
			st = paella__error_set(PAELLA_STATUS_NOT_FOUND,
				"%s: cannot open (build kernels/zoo first, or give the folder of "
				"the layer images)", path);
			goto err;
		}
		fclose(fp);
		st = paella_module_load_file(rt, path, &mods[i]);
		if (st != PAELLA_STATUS_OK)
			goto err;
	}
	return PAELLA_STATUS_OK;
err:
	{
		/* Keep the first error's message: unloading may not set one, but
		 * be safe. */
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", paella_last_error());
		for (unsigned i = 0; i < PAELLA__ZOO_NIMAGES; i++)
			if (mods[i] != NULL)
				paella_module_unload(mods[i]);
		for (unsigned i = 0; i < PAELLA__ZOO_NIMAGES; i++)
			mods[i] = NULL;
		return paella__error_set(st, "%s", msg);
	}
}

/* ---- the simulator's profile of a launch -------------------------------- */

static bool
is_igemm(const char *kernel)
{
	return strncmp(kernel, "conv2d_igemm_", 13) == 0;
}

uint64_t
paella__zoo_sim_block_ns(const struct paella__zoo_launch *l, unsigned *regs, unsigned *smem)
{
	const struct paella__card *card = paella__card_find("H200");
	unsigned r = 32, s = 0;
	double rate, floor_ns;

	if (is_igemm(l->kernel)) {
		int bm = 64, bn = 64;

		/* conv2d.cu: As[2][16][BM], Bs[2][16][BN] floats and an int;
		 * the 8x4-per-thread tile (128x64) needs more registers. */
		if (sscanf(l->kernel + 13, "%dx%d", &bm, &bn) != 2) {
			bm = 64;
			bn = 64;
		}
		s = 2u * 16u * (unsigned)(bm + bn) * 4u + 4u;
		r = bm * bn / 256 >= 32 ? 128 : 64;
		floor_ns = 7000;
		rate = 10e12;
	} else if (l->op == PAELLA__ZOO_OP_CONV) {
		/* dwconv2d */
		r = 40;
		floor_ns = 5000;
		rate = 0.3e12;
	} else {
		if (l->op == PAELLA__ZOO_OP_LINEAR || l->op == PAELLA__ZOO_OP_SOFTMAX)
			s = 8u * 4u + 4u;
		r = 32;
		floor_ns = 3000;
		rate = 0.1e12;
	}
	if (regs != NULL)
		*regs = r;
	if (smem != NULL)
		*smem = s;

	double t_ns = floor_ns + l->flops / rate * 1e9;
	uint64_t blocks = (uint64_t)l->grid[0] * l->grid[1] * l->grid[2];
	unsigned threads = l->block[0] * l->block[1] * l->block[2];
	struct paella__sm_usage u = paella__block_usage(&card->sm, threads, r, s + l->shmem);
	unsigned per_sm = paella__occupancy(&card->sm, &u);
	uint64_t wave = (uint64_t)(per_sm ? per_sm : 1) * card->sm_count;
	uint64_t waves = blocks ? (blocks + wave - 1) / wave : 1;
	uint64_t ns = (uint64_t)llround(t_ns / (double)waves);

	return ns > 0 ? ns : 1;
}

/* ---- the model ---------------------------------------------------------- */

static enum paella_status
sim_module(struct paella_runtime *rt, const struct paella__zoo_launch *l,
	   struct paella_module **out)
{
	char manifest[256];
	struct paella_sim_kernel k = { .name = l->kernel };
	struct paella_sim_module desc = {
		.abi_version = PAELLA_ABI_VERSION,
		.manifest = manifest,
		.kernels = &k,
		.nkernels = 1,
	};

	snprintf(manifest, sizeof(manifest), PAELLA_MANIFEST_HEADER "K %s %u sample\n", l->kernel,
		 l->nargs);
	k.block_ns = paella__zoo_sim_block_ns(l, &k.regs_per_thread, &k.static_smem_bytes);
	return paella_module_load_sim(rt, &desc, out);
}

static void
free_model(struct paella__zoo_rt_model *m)
{
	for (unsigned i = 0; i < m->nsim_modules; i++)
		if (m->sim_modules[i] != NULL)
			paella_module_unload(m->sim_modules[i]);
	free(m->sim_modules);
	free(m);
}

enum paella_status
paella__zoo_rt_model_create(struct paella_runtime *rt, const struct paella__zoo_plan *plan,
			    const float *blob, struct paella_module *const *mods,
			    unsigned concurrent, struct paella__zoo_rt_model **out)
{
	const bool sim = strcmp(paella_runtime_backend_name(rt), "sim") == 0;
	const struct paella__zoo_storage *in = &plan->storages[plan->input];
	const struct paella__zoo_storage *outs = &plan->storages[plan->output];
	struct paella__zoo_rt_model *m;
	enum paella_status st;

	*out = NULL;
	if (!sim && mods == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s: on cuda the layer images are needed "
			"(paella__zoo_rt_load_modules())", plan->model);
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "out of memory");
	if (sim) {
		m->sim_modules = calloc(plan->nlaunches ? plan->nlaunches : 1,
					sizeof(*m->sim_modules));
		if (m->sim_modules == NULL) {
			free(m);
			return paella__error_set(PAELLA_STATUS_NO_MEMORY, "out of memory");
		}
	}
	m->input_bytes = (size_t)in->floats * 4;
	m->output_bytes = (size_t)outs->floats * 4;

	st = paella_model_create(rt, plan->model, &m->model);
	if (st != PAELLA_STATUS_OK)
		goto err;
	st = paella_model_add_buffer(m->model, PAELLA_BUFFER_MODEL,
				     (size_t)plan->param_floats * 4 + SLACK, &m->params_buffer);
	if (st != PAELLA_STATUS_OK)
		goto err;
	st = paella_model_add_buffer(m->model, PAELLA_BUFFER_JOB, (size_t)plan->arena_bytes + SLACK,
				     &m->arena_buffer);
	if (st != PAELLA_STATUS_OK)
		goto err;
	if (blob != NULL && plan->param_floats > 0) {
		st = paella_model_write_buffer(m->model, m->params_buffer, 0, blob,
					       (size_t)plan->param_floats * 4);
		if (st != PAELLA_STATUS_OK)
			goto err;
	}
	st = paella_model_add_copy(m->model, PAELLA_COPY_INPUT, m->arena_buffer, in->offset, 0,
				   m->input_bytes);
	if (st != PAELLA_STATUS_OK)
		goto err;

	for (unsigned i = 0; i < plan->nlaunches; i++) {
		const struct paella__zoo_launch *l = &plan->launches[i];
		struct paella_arg args[PAELLA__ZOO_MAX_ARGS];
		/* Values are copied when the step is added. */
		int32_t i32[PAELLA__ZOO_MAX_ARGS];
		float f32[PAELLA__ZOO_MAX_ARGS];
		static const uint64_t null_ptr = 0;
		struct paella_module *mod;

		for (unsigned a = 0; a < l->nargs; a++) {
			const struct paella__zoo_arg *arg = &l->args[a];

			switch (arg->kind) {
			case PAELLA__ZOO_ARG_NULL:
				args[a] = paella_arg_value(&null_ptr, sizeof(null_ptr));
				break;
			case PAELLA__ZOO_ARG_ACT:
				args[a] = paella_arg_buffer(m->arena_buffer,
					(size_t)paella__zoo_storage_offset_floats(plan, arg) * 4);
				break;
			case PAELLA__ZOO_ARG_PARAM:
				args[a] = paella_arg_buffer(m->params_buffer,
					(size_t)plan->params[arg->ref].offset * 4);
				break;
			case PAELLA__ZOO_ARG_I32:
				i32[a] = arg->i32;
				args[a] = paella_arg_value(&i32[a], sizeof(i32[a]));
				break;
			case PAELLA__ZOO_ARG_F32:
				f32[a] = arg->f32;
				args[a] = paella_arg_value(&f32[a], sizeof(f32[a]));
				break;
			}
		}
		if (sim) {
			st = sim_module(rt, l, &m->sim_modules[i]);
			if (st != PAELLA_STATUS_OK)
				goto err;
			m->nsim_modules = i + 1;
			mod = m->sim_modules[i];
		} else {
			mod = mods[l->image];
		}
		struct paella_kernel_step step = {
			.module = mod,
			.kernel = l->kernel,
			.grid = { l->grid[0], l->grid[1], l->grid[2] },
			.block = { l->block[0], l->block[1], l->block[2] },
			.dynamic_smem_bytes = l->shmem,
			.args = args,
			.nargs = l->nargs,
		};
		st = paella_model_add_kernel(m->model, &step);
		if (st != PAELLA_STATUS_OK)
			goto err;
	}
	st = paella_model_add_copy(m->model, PAELLA_COPY_OUTPUT, m->arena_buffer, outs->offset, 0,
				   m->output_bytes);
	if (st != PAELLA_STATUS_OK)
		goto err;
	st = paella_model_finalize(m->model, concurrent ? concurrent : 1);
	if (st != PAELLA_STATUS_OK)
		goto err;
	*out = m;
	return PAELLA_STATUS_OK;
err:
	{
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", paella_last_error());
		if (m->model != NULL)
			paella_model_destroy(m->model);
		free_model(m);
		return paella__error_set(st, "%s", msg);
	}
}

enum paella_status
paella__zoo_rt_model_destroy(struct paella__zoo_rt_model *m)
{
	enum paella_status st;

	if (m == NULL)
		return PAELLA_STATUS_OK;
	st = paella_model_destroy(m->model);
	if (st != PAELLA_STATUS_OK)
		return st;
	free_model(m);
	return PAELLA_STATUS_OK;
}

/* ---- random weights ----------------------------------------------------- */

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* Uniform in [-1, 1). */
static float
uni(uint64_t *s)
{
	*s += 0x9e3779b97f4a7c15ull;
	return (float)((double)(mix64(*s) >> 11) / 4503599627370496.0 - 1.0);
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

enum paella_status
paella__zoo_random_blob(const struct paella__zoo_plan *plan, uint64_t seed, float **blob_out)
{
	const struct paella__st_tensor **found;
	struct paella__st_tensor *ts;
	float **data;
	enum paella_status st = PAELLA_STATUS_OK;
	char what[96];

	*blob_out = NULL;
	found = calloc(plan->ntensors + 1, sizeof(*found));
	ts = calloc(plan->ntensors + 1, sizeof(*ts));
	data = calloc(plan->ntensors + 1, sizeof(*data));
	if (found == NULL || ts == NULL || data == NULL) {
		st = paella__error_set(PAELLA_STATUS_NO_MEMORY, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < plan->ntensors; i++) {
		const struct paella__zoo_tensor *t = &plan->tensors[i];
		uint64_t s = mix64(seed * 0x100000001b3ull + i + 1);
		float scale, base = 0.0f;

		data[i] = malloc((t->numel ? t->numel : 1) * sizeof(float));
		if (data[i] == NULL) {
			st = paella__error_set(PAELLA_STATUS_NO_MEMORY,
				"%s: random weights: out of memory", plan->model);
			goto out;
		}
		if (t->ndim >= 2) {
			/* Convolution [M][C/g][R][S] or linear [out][in]:
			 * variance 1/fan_in. */
			uint64_t fan_in = t->numel / (uint64_t)t->shape[0];

			scale = (float)sqrt(3.0 / (double)(fan_in ? fan_in : 1));
		} else if (ends_with(t->name, "running_var")) {
			base = 1.0f;
			scale = 0.25f;
		} else if (ends_with(t->name, "running_mean")) {
			scale = 0.1f;
		} else if (ends_with(t->name, ".weight")) {
			/* 1-D weight: a batch norm's gamma. */
			base = 1.0f;
			scale = 0.1f;
		} else {
			/* Biases (convolution, linear, batch norm beta). */
			scale = 0.05f;
		}
		for (uint64_t k = 0; k < t->numel; k++)
			data[i][k] = base + scale * uni(&s);
		ts[i].name = t->name;
		ts[i].dtype = PAELLA__ST_F32;
		ts[i].ndim = t->ndim;
		for (int d = 0; d < t->ndim && d < PAELLA__ST_MAX_DIMS; d++)
			ts[i].shape[d] = t->shape[d];
		ts[i].numel = t->numel;
		ts[i].data = (const unsigned char *)data[i];
		ts[i].nbytes = t->numel * 4;
		found[i] = &ts[i];
	}
	snprintf(what, sizeof(what), "random weights (seed %" PRIu64 ")", seed);
	st = paella__zoo_fold_blob(plan, found, what, blob_out);
out:
	if (data != NULL)
		for (unsigned i = 0; i < plan->ntensors; i++)
			free(data[i]);
	free(data);
	free(ts);
	free(found);
	return st;
}
