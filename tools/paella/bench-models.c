/*
 * bench-models.c - a mix's models for `paella bench`: the one file that
 * calls the model zoo (kernels/zoo), so that a change of the zoo's API is a
 * change here only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cuda-driver.h"
#include "exec.h"
#include "log.h"
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

struct bench_images {
	struct paella_module *mods[PAELLA_ZOO_NIMAGES];
	enum paella_zoo_variant variant;
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
		  struct bench_images **out)
{
	struct bench_images *imgs;
	enum paella_status st = PAELLA_STATUS_OK;

	*out = NULL;
	if (strcmp(paella_runtime_backend_name(rt), "sim") == 0) {
		if (count_mode)
			return paella__error_set(PAELLA_STATUS_UNSUPPORTED,
				"the zoo has no count-mode models for the simulator yet");
		return PAELLA_STATUS_OK;
	}
	imgs = calloc(1, sizeof(*imgs));
	if (imgs == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "out of memory");
	imgs->variant = count_mode ? PAELLA_ZOO_VARIANT_COUNT : PAELLA_ZOO_VARIANT_SAMPLE;
	for (unsigned i = 0; i < PAELLA_ZOO_NIMAGES; i++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s%s.cubin", dir,
			 paella_zoo_image_name((enum paella_zoo_image)i), count_mode ? ".count" : "");
		if (!file_exists(path)) {
			st = paella__error_set(count_mode ? PAELLA_STATUS_UNSUPPORTED
							  : PAELLA_STATUS_NOT_FOUND,
				"%s: no such image%s", path,
				" (build kernels/zoo, or give --images)");
			goto err;
		}
		st = paella_module_load_file(rt, path, &imgs->mods[i]);
		if (st != PAELLA_STATUS_OK)
			goto err;
	}
	*out = imgs;
	return PAELLA_STATUS_OK;
err:
	{
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", paella_last_error());
		bench_images_unload(imgs);
		return paella__error_set(st, "%s", msg);
	}
}

void
bench_images_unload(struct bench_images *imgs)
{
	if (imgs == NULL)
		return;
	for (unsigned i = 0; i < PAELLA_ZOO_NIMAGES; i++)
		if (imgs->mods[i] != NULL)
			paella_module_unload(imgs->mods[i]);
	free(imgs);
}

enum paella_status
bench_models_load(struct bench_models *bm, unsigned m, struct paella_runtime *rt,
		  struct bench_images *imgs, unsigned concurrent, struct bench_rt_model **out)
{
	struct bench_rt_model *r = calloc(1, sizeof(*r));
	enum paella_status st;

	if (r == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "out of memory");
	st = paella_zoo_model_create(rt, bm->m[m].plan, bm->m[m].blob,
				     imgs ? imgs->variant : PAELLA_ZOO_VARIANT_SAMPLE, imgs ? imgs->mods : NULL,
				     concurrent, &r->rm);
	if (st != PAELLA_STATUS_OK) {
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
	struct paella__cu *cu;
	CUdevice dev;
	int n = 0;

	if (paella__cu_open(&cu) != PAELLA_STATUS_OK)
		return 0;
	if (cu->cuDeviceGet(&dev, device) != CUDA_SUCCESS ||
	    cu->cuDeviceGetAttribute(&n, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev) !=
		    CUDA_SUCCESS)
		n = 0;
	paella__cu_close(cu);
	return n;
}

#define CU_OR_FAIL(call) \
	do { \
		CUresult rc_ = cu->call; \
		if (rc_ != CUDA_SUCCESS) { \
			snprintf(err, errlen, "%s: %s", #call, paella__cu_error_name(cu, rc_)); \
			goto out; \
		} \
	} while (0)

int
bench_models_reference(struct bench_models *bm, const char *images, int device, char *err,
		       size_t errlen)
{
	struct paella__cu *cu = NULL;
	struct pzoo__exec *ex = NULL;
	CUdevice dev;
	CUcontext ctx = NULL;
	CUstream stream = NULL;
	int rc = -1;

	if (paella__cu_open(&cu) != PAELLA_STATUS_OK) {
		snprintf(err, errlen, "%s", paella_last_error());
		return -1;
	}
	CU_OR_FAIL(cuDeviceGet(&dev, device));
	CU_OR_FAIL(cuDevicePrimaryCtxRetain(&ctx, dev));
	CU_OR_FAIL(cuCtxSetCurrent(ctx));
	CU_OR_FAIL(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
	if (pzoo__exec_create(cu, images, true, &ex) != PAELLA_STATUS_OK) {
		snprintf(err, errlen, "the zoo's executor: %s", paella_last_error());
		goto out;
	}
	for (unsigned m = 0; m < bm->n; m++) {
		struct pzoo__instance *inst;
		void *out;

		if (bm->m[m].plan == NULL)
			continue;
		out = malloc(bm->m[m].out_bytes);
		if (out == NULL ||
		    pzoo__instance_create(ex, bm->m[m].plan, bm->m[m].blob, &inst) !=
			    PAELLA_STATUS_OK) {
			snprintf(err, errlen, "%s: %s", bm->m[m].plan->model,
				 out ? paella_last_error() : "out of memory");
			free(out);
			goto out;
		}
		/* On the launches' stream (exec.h). */
		if (cu->cuMemcpyHtoDAsync(pzoo__instance_input(inst), bm->m[m].input,
					  bm->m[m].in_bytes, stream) != CUDA_SUCCESS ||
		    pzoo__instance_run(inst, stream) != PAELLA_STATUS_OK ||
		    pzoo__instance_wait(inst, stream) != PAELLA_STATUS_OK ||
		    cu->cuMemcpyDtoH(out, pzoo__instance_output(inst), bm->m[m].out_bytes) !=
			    CUDA_SUCCESS) {
			snprintf(err, errlen, "%s: the zoo's executor failed", bm->m[m].plan->model);
			pzoo__instance_destroy(inst);
			free(out);
			goto out;
		}
		pzoo__instance_destroy(inst);
		free(bm->refs[m]);
		bm->refs[m] = out;
	}
	rc = 0;
out:
	pzoo__exec_destroy(ex);
	if (stream)
		cu->cuStreamDestroy(stream);
	if (ctx) {
		cu->cuCtxSetCurrent(NULL);
		cu->cuDevicePrimaryCtxRelease(dev);
	}
	paella__cu_close(cu);
	return rc;
}
