/*
 * bench-models.c - a mix's models for `paella bench`: the one file that
 * calls the model zoo (kernels/zoo), so that a change of the zoo's API is a
 * change here only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "paella/zoo.h"

struct bench_models {
	unsigned n;
	struct {
		struct paella_zoo_plan *plan;
		float *blob; /* NULL on sim */
		float *input;
		size_t in_bytes, out_bytes;
	} m[BENCH_MAX_MODELS];
	void *refs[BENCH_MAX_MODELS];
};

struct bench_rt_model {
	struct paella_zoo_model *rm;
};

bool
bench_models_known(const char *name)
{
	for (unsigned i = 0; i < paella_zoo_model_count(); i++)
		if (strcmp(paella_zoo_model_at(i)->name, name) == 0)
			return true;
	return false;
}

const char *
bench_models_names(void)
{
	static char list[512];

	if (list[0] == '\0')
		for (unsigned i = 0; i < paella_zoo_model_count(); i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 i ? " " : "", paella_zoo_model_at(i)->name);
	return list;
}

struct bench_models *
bench_models_prepare(const struct bench_mix *mix, bool sim, int num_sms, uint64_t seed,
		     const char *weights_dir, int only, char *err, size_t errlen)
{
	struct paella_zoo_options zopt = { .batch = 1, .num_sms = num_sms };
	struct bench_models *bm = calloc(1, sizeof(*bm));

	if (bm == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (unsigned i = 0; i < mix->nmodels; i++) {
		const char *name = mix->models[i].name;
		enum paella_status st;

		bm->n++;
		if (only >= 0 && (unsigned)only != i)
			continue;
		if (!bench_models_known(name)) {
			snprintf(err, errlen, "mix %s: no model '%s' in the zoo (%s)", mix->name, name,
				 bench_models_names());
			goto err;
		}
		st = paella_zoo_build(name, &zopt, &bm->m[i].plan);
		if (st != PAELLA_STATUS_OK) {
			snprintf(err, errlen, "%s: %s", name, paella_last_error());
			goto err;
		}
		struct paella_zoo_plan *plan = bm->m[i].plan;
		bm->m[i].in_bytes = (size_t)plan->storages[plan->input].floats * 4;
		bm->m[i].out_bytes = (size_t)plan->storages[plan->output].floats * 4;
		bm->m[i].input = malloc(bm->m[i].in_bytes);
		if (bm->m[i].input == NULL) {
			snprintf(err, errlen, "out of memory");
			goto err;
		}
		/* Seeded per model: a process serving one model (MPS) gets
		 * the same input. */
		uint64_t rs = bench_rng_seed(seed * 7919 + 11 + i);
		for (size_t k = 0; k < bm->m[i].in_bytes / 4; k++)
			bm->m[i].input[k] = (float)(bench_rng_uniform(&rs) * 2.0 - 1.0);
		if (weights_dir != NULL) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/%s.safetensors", weights_dir, name);
			st = paella_zoo_load_weights(plan, path, &bm->m[i].blob);
		} else if (!sim) {
			st = paella_zoo_random_blob(plan, seed * 1000003ull + i, &bm->m[i].blob);
		}
		if (st != PAELLA_STATUS_OK) {
			snprintf(err, errlen, "%s: weights: %s", name, paella_last_error());
			goto err;
		}
	}
	return bm;
err:
	bench_models_free(bm);
	return NULL;
}

void
bench_models_free(struct bench_models *bm)
{
	if (bm == NULL)
		return;
	for (unsigned i = 0; i < bm->n; i++) {
		paella_zoo_plan_free(bm->m[i].plan);
		free(bm->m[i].blob);
		free(bm->m[i].input);
		free(bm->refs[i]);
	}
	free(bm);
}

void **
bench_models_refs(struct bench_models *bm)
{
	return bm->refs;
}

const void *
bench_models_input(const struct bench_models *bm, unsigned m, size_t *in_bytes,
		   size_t *out_bytes)
{
	if (in_bytes)
		*in_bytes = bm->m[m].in_bytes;
	if (out_bytes)
		*out_bytes = bm->m[m].out_bytes;
	return bm->m[m].input;
}

static bool
file_exists(const char *path)
{
	FILE *f = fopen(path, "rb");

	if (f)
		fclose(f);
	return f != NULL;
}

const char *
bench_models_find_images(const char *dir, char *buf, size_t len)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/conv2d.cubin", dir);
	if (file_exists(path)) {
		snprintf(buf, len, "%s", dir);
		return buf;
	}
	snprintf(path, sizeof(path), "%s/zoo/conv2d.cubin", dir);
	if (file_exists(path)) {
		snprintf(buf, len, "%s/zoo", dir);
		return buf;
	}
	return NULL;
}

enum paella_status
bench_images_load(struct paella_runtime *rt, const char *dir, bool count_mode,
		  struct bench_images *imgs, char *err, size_t errlen)
{
	enum paella_status st;
	char path[4096];

	memset(imgs, 0, sizeof(*imgs));
	imgs->variant = count_mode ? PAELLA_ZOO_VARIANT_COUNT : PAELLA_ZOO_VARIANT_SAMPLE;
	if (strcmp(paella_runtime_backend_name(rt), "sim") == 0) {
		if (!count_mode)
			return PAELLA_STATUS_OK;
		snprintf(err, errlen, "the zoo has no count-mode models for the simulator yet");
		return PAELLA_STATUS_UNSUPPORTED;
	}
	/* A folder without count-mode images is a build without them. */
	snprintf(path, sizeof(path), "%s/%s%s.cubin", dir,
		 paella_zoo_image_name(PAELLA_ZOO_IMAGE_CONV2D), count_mode ? ".count" : "");
	if (!file_exists(path)) {
		snprintf(err, errlen, "%s: no such image (build kernels/zoo, or give --images)",
			 path);
		return count_mode ? PAELLA_STATUS_UNSUPPORTED : PAELLA_STATUS_NOT_FOUND;
	}
	st = paella_zoo_modules_load(rt, dir, imgs->variant, imgs->mods);
	if (st != PAELLA_STATUS_OK) {
		snprintf(err, errlen, "%s", paella_zoo_last_error());
		return st;
	}
	imgs->loaded = true;
	return PAELLA_STATUS_OK;
}

enum paella_status
bench_models_load(struct bench_models *bm, unsigned m, struct paella_runtime *rt,
		  struct bench_images *imgs, unsigned concurrent, struct bench_rt_model **out,
		  char *err, size_t errlen)
{
	struct bench_rt_model *r = calloc(1, sizeof(*r));
	enum paella_status st;

	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return PAELLA_STATUS_NO_MEMORY;
	}
	st = paella_zoo_model_create(rt, bm->m[m].plan, bm->m[m].blob, imgs->variant,
				     imgs->loaded ? imgs->mods : NULL, concurrent, &r->rm);
	if (st != PAELLA_STATUS_OK) {
		snprintf(err, errlen, "%s", paella_zoo_last_error());
		free(r);
		return st;
	}
	*out = r;
	return PAELLA_STATUS_OK;
}

struct paella_model *
bench_rt_model(struct bench_rt_model *rm)
{
	return paella_zoo_model_runtime(rm->rm);
}

void
bench_rt_model_destroy(struct bench_rt_model *rm)
{
	if (rm == NULL)
		return;
	paella_zoo_model_destroy(rm->rm);
	free(rm);
}

int
bench_gpu_num_sms(int device)
{
	int n = 0;

	if (paella_zoo_cuda_device(device, &n, NULL, 0) != PAELLA_STATUS_OK)
		return 0;
	return n;
}

/* Direct mode (paella.h) on a runtime of its own: each model's steps
 * straight onto one stream, plain copies of the uninstrumented images, no
 * dispatcher; models made as the benchmark's served ones are
 * (paella_zoo_model_create(), the same plans and weights). */
int
bench_models_reference(struct bench_models *bm, const char *images, int device, char *err,
		       size_t errlen)
{
	struct paella_module *mods[PAELLA_ZOO_NIMAGES] = { NULL };
	struct paella_runtime *rt = NULL;
	struct paella_stream *stream = NULL;
	struct paella_config c;
	enum paella_status st;
	int rc = -1;

	paella_config_init(&c);
	c.backend = PAELLA_BACKEND_CUDA;
	c.device = device;
	c.dispatch_mode = PAELLA_DISPATCH_MANUAL;
	if (paella_runtime_create(&c, &rt) != PAELLA_STATUS_OK ||
	    paella_stream_create(rt, 0, &stream) != PAELLA_STATUS_OK) {
		snprintf(err, errlen, "direct mode: %s", paella_last_error());
		goto out;
	}
	if (paella_zoo_modules_load(rt, images, PAELLA_ZOO_VARIANT_NOINST, mods) !=
	    PAELLA_STATUS_OK) {
		snprintf(err, errlen, "%s", paella_zoo_last_error());
		goto out;
	}
	for (unsigned m = 0; m < bm->n; m++) {
		struct paella_zoo_model *zm = NULL;
		struct paella_job *job = NULL;
		void *out;

		if (bm->m[m].plan == NULL)
			continue;
		out = malloc(bm->m[m].out_bytes);
		if (out == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		st = paella_zoo_model_create(rt, bm->m[m].plan, bm->m[m].blob,
					     PAELLA_ZOO_VARIANT_NOINST, mods, 1, &zm);
		if (st != PAELLA_STATUS_OK) {
			snprintf(err, errlen, "%s", paella_zoo_last_error());
			free(out);
			goto out;
		}
		struct paella_job_desc d = {
			.input = bm->m[m].input,
			.input_bytes = bm->m[m].in_bytes,
			.output = out,
			.output_bytes = bm->m[m].out_bytes,
		};
		st = paella_job_submit_direct(paella_zoo_model_runtime(zm), stream, &d, 0, &job);
		if (st == PAELLA_STATUS_OK)
			st = paella_job_wait(job, -1);
		if (st != PAELLA_STATUS_OK)
			snprintf(err, errlen, "%s: direct job: %s", bm->m[m].plan->model,
				 paella_last_error());
		paella_job_release(job);
		paella_zoo_model_destroy(zm);
		if (st != PAELLA_STATUS_OK) {
			free(out);
			goto out;
		}
		free(bm->refs[m]);
		bm->refs[m] = out;
	}
	rc = 0;
out:
	paella_stream_destroy(stream);
	paella_zoo_modules_unload(mods);
	paella_runtime_destroy(rt);
	return rc;
}
