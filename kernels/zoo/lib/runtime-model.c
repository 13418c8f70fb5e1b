/*
 * runtime-model.c - a zoo plan as a libpaellart model (paella/zoo.h), with
 * nothing but the runtime's public API: on cuda the layer images of a
 * variant, on sim one simulated module per launch.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paella/instrument-abi.h"
#include "safetensors.h"
#include "zoo-private.h"

/* 256 bytes more than the plan needs, for both buffers. */
#define SLACK 256
/* The card the simulator's block durations are fitted to: an H200. */
#define SIM_SMS 132

struct paella_zoo_model {
	struct paella_model *model;
	/* sim: one module per launch, owned (unloaded by destroy). */
	struct paella_module **sim_modules;
	unsigned nsim_modules;
	/* cuda: images this model loaded itself (paella_zoo_model_build()
	 * without modules), unloaded by destroy. */
	struct paella_module *own_mods[PAELLA_ZOO_NIMAGES];
	/* paella_zoo_model_build()'s plan, owned. */
	struct paella_zoo_plan *plan;
	size_t input_bytes, output_bytes;
	unsigned params_buffer, arena_buffer;
};

/* ---- variants and images ------------------------------------------------ */

static const char *const variant_names[PAELLA_ZOO_NVARIANTS] = { "sample", "noinst", "count" };
static const char *const variant_suffixes[PAELLA_ZOO_NVARIANTS] = { "", ".noinst", ".count" };

const char *
paella_zoo_variant_name(enum paella_zoo_variant variant)
{
	return (unsigned)variant < PAELLA_ZOO_NVARIANTS ? variant_names[variant] : NULL;
}

const char *
paella_zoo_variant_suffix(enum paella_zoo_variant variant)
{
	return (unsigned)variant < PAELLA_ZOO_NVARIANTS ? variant_suffixes[variant] : NULL;
}

enum paella_status
paella_zoo_variant_parse(const char *name, enum paella_zoo_variant *out)
{
	char esc[64];

	if (name == NULL || out == NULL)
		return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				       "paella_zoo_variant_parse: NULL argument");
	for (unsigned i = 0; i < PAELLA_ZOO_NVARIANTS; i++)
		if (strcmp(name, variant_names[i]) == 0) {
			*out = (enum paella_zoo_variant)i;
			return PAELLA_STATUS_OK;
		}
	if (strcmp(name, "inst") == 0 || strcmp(name, "instrumented") == 0) {
		*out = PAELLA_ZOO_VARIANT_SAMPLE;
		return PAELLA_STATUS_OK;
	}
	return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			       "'%s' is no image variant (sample, noinst or count)",
			       pzoo__escape(name, esc, sizeof(esc)));
}

enum paella_status
paella_zoo_modules_unload(struct paella_module *mods[PAELLA_ZOO_NIMAGES])
{
	enum paella_status first = PAELLA_STATUS_OK;

	for (unsigned i = 0; i < PAELLA_ZOO_NIMAGES; i++) {
		enum paella_status st;

		if (mods[i] == NULL)
			continue;
		st = paella_module_unload(mods[i]);
		if (st != PAELLA_STATUS_OK) {
			if (first == PAELLA_STATUS_OK)
				first = pzoo__error_from_runtime(st, "unloading a layer image");
			continue;
		}
		mods[i] = NULL;
	}
	return first;
}

enum paella_status
paella_zoo_modules_load(struct paella_runtime *rt, const char *image_dir,
			enum paella_zoo_variant variant,
			struct paella_module *mods[PAELLA_ZOO_NIMAGES])
{
	enum paella_status st = PAELLA_STATUS_OK;
	char msg[1024];

	for (unsigned i = 0; i < PAELLA_ZOO_NIMAGES; i++)
		mods[i] = NULL;
	if (rt == NULL || image_dir == NULL || (unsigned)variant >= PAELLA_ZOO_NVARIANTS)
		return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_zoo_modules_load: needs a runtime, a folder and a variant");
	for (unsigned i = 0; i < PAELLA_ZOO_NIMAGES; i++) {
		char path[4096];
		FILE *fp;

		snprintf(path, sizeof(path), "%s/%s%s.cubin", image_dir,
			 paella_zoo_image_name((enum paella_zoo_image)i),
			 variant_suffixes[variant]);
		fp = fopen(path, "rb");
		if (fp == NULL) {
			st = pzoo__error_set(PAELLA_STATUS_NOT_FOUND,
				"%s: cannot open (build kernels/zoo first, or give the folder of "
				"the layer images)", path);
			goto err;
		}
		fclose(fp);
		st = paella_module_load_file(rt, path, &mods[i]);
		if (st != PAELLA_STATUS_OK) {
			st = pzoo__error_from_runtime(st, path);
			goto err;
		}
	}
	return PAELLA_STATUS_OK;
err:
	/* Keep the first error's message. */
	snprintf(msg, sizeof(msg), "%s", paella_zoo_last_error());
	paella_zoo_modules_unload(mods);
	for (unsigned i = 0; i < PAELLA_ZOO_NIMAGES; i++)
		mods[i] = NULL;
	return pzoo__error_set(st, "%s", msg);
}

/* ---- the simulator's profile of a launch -------------------------------- */

static unsigned
round_up(unsigned x, unsigned unit)
{
	return (x + unit - 1) / unit * unit;
}

unsigned
pzoo__sm90_occupancy(unsigned threads, unsigned regs, unsigned smem)
{
	/* sm_90: 2048 threads, 64K registers (allocated per warp in units of
	 * 256), 228 KiB of shared memory (1 KiB reserved per block), 32
	 * blocks per SM. */
	unsigned warps = (threads + 31) / 32;
	unsigned b_threads = warps * 32;
	unsigned b_regs = warps * round_up(regs * 32, 256);
	unsigned b_smem = smem + 1024;
	unsigned n = 32;

	if (b_threads > 0 && 2048 / b_threads < n)
		n = 2048 / b_threads;
	if (b_regs > 0 && 65536 / b_regs < n)
		n = 65536 / b_regs;
	if (228 * 1024 / b_smem < n)
		n = 228 * 1024 / b_smem;
	return n;
}

static bool
is_igemm(const char *kernel)
{
	return strncmp(kernel, "conv2d_igemm_", 13) == 0;
}

uint64_t
pzoo__sim_block_ns(const struct paella_zoo_launch *l, unsigned *regs, unsigned *smem)
{
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
	} else if (l->op == PAELLA_ZOO_OP_CONV) {
		/* dwconv2d */
		r = 40;
		floor_ns = 5000;
		rate = 0.3e12;
	} else {
		if (l->op == PAELLA_ZOO_OP_LINEAR || l->op == PAELLA_ZOO_OP_SOFTMAX)
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
	unsigned per_sm = pzoo__sm90_occupancy(threads, r, s + l->shmem);
	uint64_t wave = (uint64_t)(per_sm ? per_sm : 1) * SIM_SMS;
	uint64_t waves = blocks ? (blocks + wave - 1) / wave : 1;
	uint64_t ns = (uint64_t)llround(t_ns / (double)waves);

	return ns > 0 ? ns : 1;
}

/* ---- the model ---------------------------------------------------------- */

static enum paella_status
sim_module(struct paella_runtime *rt, const struct paella_zoo_launch *l,
	   enum paella_zoo_variant variant, struct paella_module **out)
{
	char manifest[256];
	struct paella_sim_kernel k = { .name = l->kernel };
	struct paella_sim_module desc = {
		.abi_version = PAELLA_ABI_VERSION,
		.manifest = manifest,
		.kernels = &k,
		.nkernels = 1,
	};
	enum paella_status st;

	/* As paella-cc writes each variant's manifest line. */
	if (variant == PAELLA_ZOO_VARIANT_NOINST)
		snprintf(manifest, sizeof(manifest), PAELLA_MANIFEST_HEADER "U %s %u skip-regex\n",
			 l->kernel, l->nargs);
	else
		snprintf(manifest, sizeof(manifest), PAELLA_MANIFEST_HEADER "K %s %u %s\n",
			 l->kernel, l->nargs,
			 variant == PAELLA_ZOO_VARIANT_COUNT ? "count" : "sample");
	k.block_ns = pzoo__sim_block_ns(l, &k.regs_per_thread, &k.static_smem_bytes);
	st = paella_module_load_sim(rt, &desc, out);
	if (st != PAELLA_STATUS_OK)
		return pzoo__error_from_runtime(st, l->kernel);
	return PAELLA_STATUS_OK;
}

static void
free_model(struct paella_zoo_model *m)
{
	for (unsigned i = 0; i < m->nsim_modules; i++)
		if (m->sim_modules[i] != NULL)
			paella_module_unload(m->sim_modules[i]);
	free(m->sim_modules);
	paella_zoo_modules_unload(m->own_mods);
	paella_zoo_plan_free(m->plan);
	free(m);
}

/* One launch's arguments as the runtime's: values point into @i32, @f32. */
static void
launch_args(const struct paella_zoo_model *m, const struct paella_zoo_plan *plan,
	    const struct paella_zoo_launch *l, struct paella_arg *args, int32_t *i32, float *f32)
{
	static const uint64_t null_ptr = 0;

	for (unsigned a = 0; a < l->nargs; a++) {
		const struct paella_zoo_arg *arg = &l->args[a];

		switch (arg->kind) {
		case PAELLA_ZOO_ARG_NULL:
			args[a] = paella_arg_value(&null_ptr, sizeof(null_ptr));
			break;
		case PAELLA_ZOO_ARG_ACT:
			args[a] = paella_arg_buffer(m->arena_buffer,
				(size_t)paella_zoo_storage_offset_floats(plan, arg) * 4);
			break;
		case PAELLA_ZOO_ARG_PARAM:
			args[a] = paella_arg_buffer(m->params_buffer,
				(size_t)plan->params[arg->ref].offset * 4);
			break;
		case PAELLA_ZOO_ARG_I32:
			i32[a] = arg->i32;
			args[a] = paella_arg_value(&i32[a], sizeof(i32[a]));
			break;
		case PAELLA_ZOO_ARG_F32:
			f32[a] = arg->f32;
			args[a] = paella_arg_value(&f32[a], sizeof(f32[a]));
			break;
		}
	}
}

/* PAELLA_ZOO_IO_ARENA: the job's input is the whole arena; every byte of
 * it but the split-K counters' is copied in (they stay as the kernels leave
 * them; pinned, they share their bytes with no other storage), in as few
 * copies as the counters leave. */
static enum paella_status
add_arena_copies(struct paella_zoo_model *m, const struct paella_zoo_plan *plan)
{
	uint64_t at = 0;

	for (;;) {
		/* The first counters storage at or after @at. */
		const struct paella_zoo_storage *next = NULL;
		enum paella_status st;
		uint64_t end;

		for (unsigned i = 0; i < plan->nstorages; i++) {
			const struct paella_zoo_storage *s = &plan->storages[i];

			if (strcmp(s->name, "splitk.counters") == 0 && s->floats > 0 &&
			    s->offset >= at && (next == NULL || s->offset < next->offset))
				next = s;
		}
		end = next != NULL ? next->offset : plan->arena_bytes;
		if (end > at) {
			st = paella_model_add_copy(m->model, PAELLA_COPY_INPUT, m->arena_buffer,
						   (size_t)at, (size_t)at, (size_t)(end - at));
			if (st != PAELLA_STATUS_OK)
				return st;
			/* The job's input ends where its last copy does. */
			m->input_bytes = (size_t)end;
		}
		if (next == NULL)
			return PAELLA_STATUS_OK;
		at = next->offset + next->floats * 4;
	}
}

/* Adds the plan's buffers, copies and launches [part->first, part->last)
 * to @m, and finalizes. */
static enum paella_status
fill_model(struct paella_runtime *rt, struct paella_zoo_model *m,
	   const struct paella_zoo_plan *plan, const float *blob, enum paella_zoo_variant variant,
	   struct paella_module *const *mods, unsigned concurrent, bool sim,
	   const struct paella_zoo_part *part)
{
	const struct paella_zoo_storage *in = &plan->storages[plan->input];
	const struct paella_zoo_storage *outs = &plan->storages[plan->output];
	enum paella_status st;

	if (sim) {
		m->sim_modules = calloc(plan->nlaunches ? plan->nlaunches : 1,
					sizeof(*m->sim_modules));
		if (m->sim_modules == NULL)
			return pzoo__error_set(PAELLA_STATUS_NO_MEMORY, "out of memory");
	}
	switch (part->io) {
	case PAELLA_ZOO_IO_LOGITS:
		m->input_bytes = (size_t)in->floats * 4;
		m->output_bytes = (size_t)outs->floats * 4;
		break;
	case PAELLA_ZOO_IO_ARENA:
		/* The input, less counters at the arena's end (below). */
		m->input_bytes = 0;
		m->output_bytes = (size_t)plan->arena_bytes;
		break;
	case PAELLA_ZOO_IO_NONE:
		m->input_bytes = m->output_bytes = 0;
		break;
	}

	st = paella_model_create(rt, plan->model, &m->model);
	if (st != PAELLA_STATUS_OK)
		goto rt_err;
	st = paella_model_add_buffer(m->model, PAELLA_BUFFER_MODEL,
				     (size_t)plan->param_floats * 4 + SLACK, &m->params_buffer);
	if (st != PAELLA_STATUS_OK)
		goto rt_err;
	st = paella_model_add_buffer(m->model, PAELLA_BUFFER_JOB, (size_t)plan->arena_bytes + SLACK,
				     &m->arena_buffer);
	if (st != PAELLA_STATUS_OK)
		goto rt_err;
	if (blob != NULL && plan->param_floats > 0) {
		st = paella_model_write_buffer(m->model, m->params_buffer, 0, blob,
					       (size_t)plan->param_floats * 4);
		if (st != PAELLA_STATUS_OK)
			goto rt_err;
	}
	if (part->io == PAELLA_ZOO_IO_LOGITS)
		st = paella_model_add_copy(m->model, PAELLA_COPY_INPUT, m->arena_buffer, in->offset,
					   0, m->input_bytes);
	else if (part->io == PAELLA_ZOO_IO_ARENA)
		st = add_arena_copies(m, plan);
	if (st != PAELLA_STATUS_OK)
		goto rt_err;

	for (unsigned i = part->first; i < part->last; i++) {
		const struct paella_zoo_launch *l = &plan->launches[i];
		struct paella_arg args[PAELLA_ZOO_MAX_ARGS];
		/* Values are copied when the step is added. */
		int32_t i32[PAELLA_ZOO_MAX_ARGS];
		float f32[PAELLA_ZOO_MAX_ARGS];
		struct paella_module *mod;

		launch_args(m, plan, l, args, i32, f32);
		if (sim) {
			st = sim_module(rt, l, variant, &m->sim_modules[i]);
			if (st != PAELLA_STATUS_OK)
				return st;
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
			goto rt_err;
	}
	if (part->io != PAELLA_ZOO_IO_NONE)
		st = paella_model_add_copy(m->model, PAELLA_COPY_OUTPUT, m->arena_buffer,
					   part->io == PAELLA_ZOO_IO_LOGITS ? outs->offset : 0, 0,
					   m->output_bytes);
	if (st != PAELLA_STATUS_OK)
		goto rt_err;
	st = paella_model_finalize(m->model, concurrent ? concurrent : 1);
	if (st != PAELLA_STATUS_OK)
		goto rt_err;
	return PAELLA_STATUS_OK;
rt_err:
	return pzoo__error_from_runtime(st, plan->model);
}

/* The model of @plan; it takes @own_mods and @own_plan (may be NULL) even
 * when it fails. */
static enum paella_status
create(struct paella_runtime *rt, const struct paella_zoo_plan *plan, const float *blob,
       enum paella_zoo_variant variant, struct paella_module *const *mods,
       struct paella_module *const *own_mods, struct paella_zoo_plan *own_plan,
       unsigned concurrent, const struct paella_zoo_part *part, struct paella_zoo_model **out)
{
	struct paella_zoo_model *m;
	enum paella_status st;
	char msg[1024];
	bool sim;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		st = pzoo__error_set(PAELLA_STATUS_NO_MEMORY, "out of memory");
		goto err_nomodel;
	}
	if (own_mods != NULL)
		for (unsigned i = 0; i < PAELLA_ZOO_NIMAGES; i++)
			m->own_mods[i] = own_mods[i];
	m->plan = own_plan;
	if (rt == NULL || plan == NULL || (unsigned)variant >= PAELLA_ZOO_NVARIANTS) {
		st = pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_zoo_model_create: needs a runtime, a plan and a variant");
		goto err;
	}
	sim = strcmp(paella_runtime_backend_name(rt), "sim") == 0;
	if (!sim && mods == NULL) {
		st = pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s: on cuda the layer images are needed "
			"(paella_zoo_modules_load())", plan->model);
		goto err;
	}
	st = fill_model(rt, m, plan, blob, variant, mods, concurrent, sim, part);
	if (st != PAELLA_STATUS_OK)
		goto err;
	*out = m;
	return PAELLA_STATUS_OK;
err:
	/* Keep the first error's message. */
	snprintf(msg, sizeof(msg), "%s", paella_zoo_last_error());
	if (m->model != NULL)
		paella_model_destroy(m->model);
	free_model(m);
	return pzoo__error_set(st, "%s", msg);
err_nomodel:
	if (own_mods != NULL) {
		struct paella_module *tmp[PAELLA_ZOO_NIMAGES];

		for (unsigned i = 0; i < PAELLA_ZOO_NIMAGES; i++)
			tmp[i] = own_mods[i];
		paella_zoo_modules_unload(tmp);
	}
	paella_zoo_plan_free(own_plan);
	return st;
}

enum paella_status
paella_zoo_model_create(struct paella_runtime *rt, const struct paella_zoo_plan *plan,
			const float *blob, enum paella_zoo_variant variant,
			struct paella_module *const *mods, unsigned concurrent_jobs,
			struct paella_zoo_model **out)
{
	if (out == NULL)
		return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				       "paella_zoo_model_create: NULL out");
	struct paella_zoo_part all = { 0, plan != NULL ? plan->nlaunches : 0,
				       PAELLA_ZOO_IO_LOGITS };

	return create(rt, plan, blob, variant, mods, NULL, NULL, concurrent_jobs, &all, out);
}

enum paella_status
paella_zoo_model_create_part(struct paella_runtime *rt, const struct paella_zoo_plan *plan,
			     const float *blob, enum paella_zoo_variant variant,
			     struct paella_module *const *mods, const struct paella_zoo_part *part,
			     struct paella_zoo_model **out)
{
	if (out == NULL)
		return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				       "paella_zoo_model_create_part: NULL out");
	*out = NULL;
	if (plan == NULL || part == NULL || part->first >= part->last ||
	    part->last > plan->nlaunches || (unsigned)part->io > PAELLA_ZOO_IO_NONE)
		return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_zoo_model_create_part: needs a plan and launches [first, last) "
			"of it, at least one, and an io of paella_zoo_io");
	return create(rt, plan, blob, variant, mods, NULL, NULL, 1, part, out);
}

void
paella_zoo_model_config_init(struct paella_zoo_model_config *config)
{
	memset(config, 0, sizeof(*config));
	config->batch = 1;
	config->num_sms = 132;
	config->variant = PAELLA_ZOO_VARIANT_SAMPLE;
	config->seed = 1;
	config->concurrent_jobs = 1;
}

enum paella_status
paella_zoo_model_build(struct paella_runtime *rt, const struct paella_zoo_model_config *c,
		       struct paella_zoo_model **out)
{
	struct paella_module *mods[PAELLA_ZOO_NIMAGES] = { NULL };
	struct paella_module *const *use = NULL;
	struct paella_zoo_options opts = { 0 };
	struct paella_zoo_plan *plan = NULL;
	float *blob = NULL;
	enum paella_status st;

	if (out == NULL)
		return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				       "paella_zoo_model_build: NULL out");
	*out = NULL;
	if (rt == NULL || c == NULL || c->name == NULL)
		return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_zoo_model_build: needs a runtime and a config with a model name");
	if ((unsigned)c->variant >= PAELLA_ZOO_NVARIANTS)
		return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_zoo_model_build: variant %d is none of sample, noinst, count",
			(int)c->variant);
	opts.batch = c->batch;
	opts.num_sms = c->num_sms;
	st = paella_zoo_build(c->name, &opts, &plan);
	if (st != PAELLA_STATUS_OK)
		return st;
	if (c->weights_path != NULL)
		st = paella_zoo_load_weights(plan, c->weights_path, &blob);
	else
		st = paella_zoo_random_blob(plan, c->seed, &blob);
	if (st != PAELLA_STATUS_OK)
		goto err;
	if (strcmp(paella_runtime_backend_name(rt), "sim") != 0) {
		use = c->modules;
		if (use == NULL) {
			if (c->image_dir == NULL) {
				st = pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
					"model %s: on cuda give the layer images' folder "
					"(image_dir) or loaded images (modules)", plan->model);
				goto err;
			}
			st = paella_zoo_modules_load(rt, c->image_dir, c->variant, mods);
			if (st != PAELLA_STATUS_OK)
				goto err;
			use = mods;
		}
	}
	/* The model takes the plan and the images it loaded, even on failure. */
	struct paella_zoo_part all = { 0, plan->nlaunches, PAELLA_ZOO_IO_LOGITS };

	st = create(rt, plan, blob, c->variant, use, mods, plan, c->concurrent_jobs, &all, out);
	free(blob);
	return st;
err:
	free(blob);
	paella_zoo_modules_unload(mods);
	paella_zoo_plan_free(plan);
	return st;
}

enum paella_status
paella_zoo_model_destroy(struct paella_zoo_model *m)
{
	enum paella_status st;

	if (m == NULL)
		return PAELLA_STATUS_OK;
	st = paella_model_destroy(m->model);
	if (st != PAELLA_STATUS_OK)
		return pzoo__error_from_runtime(st, "paella_zoo_model_destroy");
	free_model(m);
	return PAELLA_STATUS_OK;
}

struct paella_model *
paella_zoo_model_runtime(const struct paella_zoo_model *zm)
{
	return zm != NULL ? zm->model : NULL;
}

void
paella_zoo_model_io_bytes(const struct paella_zoo_model *zm, size_t *input_bytes,
			  size_t *output_bytes)
{
	if (input_bytes != NULL)
		*input_bytes = zm != NULL ? zm->input_bytes : 0;
	if (output_bytes != NULL)
		*output_bytes = zm != NULL ? zm->output_bytes : 0;
}

const struct paella_zoo_plan *
paella_zoo_model_plan(const struct paella_zoo_model *zm)
{
	return zm != NULL ? zm->plan : NULL;
}

unsigned
paella_zoo_model_sim_modules(const struct paella_zoo_model *zm)
{
	return zm != NULL ? zm->nsim_modules : 0;
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
paella_zoo_random_blob(const struct paella_zoo_plan *plan, uint64_t seed, float **blob_out)
{
	const struct pzoo__st_tensor **found;
	struct pzoo__st_tensor *ts;
	float **data;
	enum paella_status st = PAELLA_STATUS_OK;
	char what[96];

	*blob_out = NULL;
	found = calloc(plan->ntensors + 1, sizeof(*found));
	ts = calloc(plan->ntensors + 1, sizeof(*ts));
	data = calloc(plan->ntensors + 1, sizeof(*data));
	if (found == NULL || ts == NULL || data == NULL) {
		st = pzoo__error_set(PAELLA_STATUS_NO_MEMORY, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < plan->ntensors; i++) {
		const struct paella_zoo_tensor *t = &plan->tensors[i];
		uint64_t s = mix64(seed * 0x100000001b3ull + i + 1);
		float scale, base = 0.0f;

		data[i] = malloc((t->numel ? t->numel : 1) * sizeof(float));
		if (data[i] == NULL) {
			st = pzoo__error_set(PAELLA_STATUS_NO_MEMORY,
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
		ts[i].dtype = PZOO__ST_F32;
		ts[i].ndim = t->ndim;
		for (int d = 0; d < t->ndim && d < PZOO__ST_MAX_DIMS; d++)
			ts[i].shape[d] = t->shape[d];
		ts[i].numel = t->numel;
		ts[i].data = (const unsigned char *)data[i];
		ts[i].nbytes = t->numel * 4;
		found[i] = &ts[i];
	}
	snprintf(what, sizeof(what), "random weights (seed %" PRIu64 ")", seed);
	st = pzoo__fold_blob(plan, found, what, blob_out);
out:
	if (data != NULL)
		for (unsigned i = 0; i < plan->ntensors; i++)
			free(data[i]);
	free(data);
	free(ts);
	free(found);
	return st;
}
