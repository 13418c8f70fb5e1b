/*
 * exec.c - the zoo's GPU executor (exec.h).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "log.h"
#include "util.h"
#include "manifest.h"
#include "notify.h"
#include "paella/instrument-abi.h"

#define MANIFEST_MAX 16384
#define MAX_FUNCTIONS 64

struct function {
	const char *name;
	unsigned nargs;
	CUfunction f;
	/* How it reports, from its image's manifest. */
	enum paella__notify_mode mode;
	/* Sample mode: its plain copy (manifest 3), launched as the runtime
	 * does where the sampling rule picks no block; NULL when none. */
	CUfunction plain;
	/* The wave of its last launch shape, asked of the driver once. */
	unsigned wave_threads;
	uint32_t wave_smem;
	uint64_t wave_blocks;
};

struct pzoo__exec {
	const struct paella__cu *cu;
	bool instrumented;
	CUmodule mods[PAELLA_ZOO_NIMAGES];
	char paths[PAELLA_ZOO_NIMAGES][PATH_MAX];
	char *manifests[PAELLA_ZOO_NIMAGES];
	struct paella__notify_pool *pool;
	struct function fns[MAX_FUNCTIONS];
	unsigned nfns;
};

struct pzoo__instance {
	struct pzoo__exec *ex;
	const struct paella_zoo_plan *plan;
	CUdeviceptr params, arena;
	CUfunction *fns;
	/* Argument values, 8 bytes a slot, and the kernelParams arrays
	 * pointing into them (one slot more: the launch record). */
	uint64_t *vals;
	void **ptrs;
	struct paella__notify_record **recs;
	unsigned nrecs;
	/* While profiling: no completion write after each kernel, so that the
	 * events between launches time the kernels alone. */
	bool profiling;
};

/* ---- images ------------------------------------------------------------- */

static enum paella_status
read_global(const struct paella__cu *cu, CUmodule mod, const char *name, void *buf, size_t cap,
	    size_t *len)
{
	enum paella_status status = PAELLA_STATUS_OK;
	CUdeviceptr p;
	size_t size;

	*len = 0;
	if (cu->cuModuleGetGlobal(&p, &size, mod, name) != CUDA_SUCCESS)
		return PAELLA_STATUS_NOT_FOUND;
	if (size > cap)
		size = cap;
	PAELLA_CU_CHECK_GOTO(cu, cuMemcpyDtoH(buf, p, size), status, out);
	*len = size;
out:
	return status;
}

static enum paella_status
check_image(struct pzoo__exec *ex, unsigned i)
{
	uint64_t version = 0;
	size_t n;
	char *m;

	if (read_global(ex->cu, ex->mods[i], PAELLA_ABI_VERSION_SYMBOL, &version, sizeof(version),
			&n) != PAELLA_STATUS_OK || n == 0)
		return paella__error_set(PAELLA_STATUS_ABI_MISMATCH,
			"%s has no %s: not built by the paella pass (use the .noinst images "
			"for uninstrumented runs)", ex->paths[i], PAELLA_ABI_VERSION_SYMBOL);
	if (n < sizeof(version))
		version &= (UINT64_C(1) << (8 * n)) - 1;
	if (version != PAELLA_ABI_VERSION)
		return paella__error_set(PAELLA_STATUS_ABI_MISMATCH,
			"%s is built for instrumentation ABI %" PRIu64 ", this runtime speaks %d",
			ex->paths[i], version, PAELLA_ABI_VERSION);
	m = calloc(1, MANIFEST_MAX);
	if (m == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "out of memory");
	ex->manifests[i] = m;
	if (read_global(ex->cu, ex->mods[i], PAELLA_MANIFEST_SYMBOL, m, MANIFEST_MAX - 1, &n) !=
	    PAELLA_STATUS_OK ||
	    strncmp(m, PAELLA_MANIFEST_HEADER, strlen(PAELLA_MANIFEST_HEADER)) != 0)
		return paella__error_set(PAELLA_STATUS_ABI_MISMATCH, "%s: no manifest (%s)",
					 ex->paths[i], PAELLA_MANIFEST_SYMBOL);
	return PAELLA_STATUS_OK;
}

enum paella_status
pzoo__exec_create(const struct paella__cu *cu, const char *image_dir, bool instrumented,
			struct pzoo__exec **out)
{
	enum paella_status status = PAELLA_STATUS_OK;
	struct pzoo__exec *ex;

	*out = NULL;
	ex = calloc(1, sizeof(*ex));
	if (ex == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "out of memory");
	ex->cu = cu;
	ex->instrumented = instrumented;
	for (unsigned i = 0; i < PAELLA_ZOO_NIMAGES; i++) {
		FILE *fp;

		snprintf(ex->paths[i], sizeof(ex->paths[i]), "%s/%s%s.cubin", image_dir,
			 paella_zoo_image_name((enum paella_zoo_image)i),
			 instrumented ? "" : ".noinst");
		fp = fopen(ex->paths[i], "rb");
		if (fp == NULL) {
			status = paella__error_set(PAELLA_STATUS_NOT_FOUND,
				"%s: cannot open (build kernels/zoo first, or give the folder of "
				"the layer images)", ex->paths[i]);
			goto err;
		}
		fclose(fp);
		PAELLA_CU_CHECK_GOTO(cu, cuModuleLoad(&ex->mods[i], ex->paths[i]), status, err);
		if (instrumented) {
			status = check_image(ex, i);
			if (status != PAELLA_STATUS_OK)
				goto err;
		}
	}
	if (instrumented) {
		status = paella__notify_pool_create(cu, &ex->pool);
		if (status != PAELLA_STATUS_OK)
			goto err;
	}
	*out = ex;
	return PAELLA_STATUS_OK;
err:
	pzoo__exec_destroy(ex);
	return status;
}

void
pzoo__exec_destroy(struct pzoo__exec *ex)
{
	if (ex == NULL)
		return;
	if (ex->pool != NULL)
		paella__notify_pool_destroy(ex->pool);
	for (unsigned i = 0; i < PAELLA_ZOO_NIMAGES; i++) {
		if (ex->mods[i] != NULL)
			ex->cu->cuModuleUnload(ex->mods[i]);
		free(ex->manifests[i]);
	}
	free(ex);
}

/* The kernel of a launch, checked once: its parameter count (from the
 * manifest, or from the driver for uninstrumented images) must be the
 * plan's. */
static enum paella_status
resolve(struct pzoo__exec *ex, const struct paella_zoo_launch *l, CUfunction *out)
{
	enum paella_status status = PAELLA_STATUS_OK;
	const struct paella__cu *cu = ex->cu;
	struct function *fn;
	enum paella__notify_mode mode = PAELLA__NOTIFY_NONE;
	CUfunction f, plain = NULL;

	for (unsigned i = 0; i < ex->nfns; i++)
		if (strcmp(ex->fns[i].name, l->kernel) == 0) {
			if (ex->fns[i].nargs != l->nargs)
				PAELLA__BUG("%s bound with %u and %u arguments", l->kernel,
					    ex->fns[i].nargs, l->nargs);
			*out = ex->fns[i].f;
			return PAELLA_STATUS_OK;
		}
	if (ex->nfns == MAX_FUNCTIONS)
		PAELLA__BUG("more than %d layer kernels", MAX_FUNCTIONS);
	PAELLA_CU_CHECK_GOTO(cu, cuModuleGetFunction(&f, ex->mods[l->image], l->kernel), status,
			     out);
	if (ex->instrumented) {
		struct paella__manifest man;
		const struct paella__manifest_entry *e;
		bool ok;

		status = paella__manifest_parse(ex->manifests[l->image],
						strlen(ex->manifests[l->image]),
						ex->paths[l->image], &man);
		if (status != PAELLA_STATUS_OK)
			return status;
		e = paella__manifest_find(&man, l->kernel);
		ok = e != NULL && e->instrumented && e->nparams == l->nargs;
		mode = ok ? paella__notify_mode_of(true, e->counted) : PAELLA__NOTIFY_NONE;
		if (ok && e->plain != NULL &&
		    cu->cuModuleGetFunction(&plain, ex->mods[l->image], e->plain) != CUDA_SUCCESS) {
			status = paella__error_set(PAELLA_STATUS_ABI_MISMATCH,
				"%s: the manifest names %s, which the image lacks", ex->paths[l->image],
				e->plain);
			paella__manifest_fini(&man);
			return status;
		}
		paella__manifest_fini(&man);
		if (!ok)
			return paella__error_set(PAELLA_STATUS_ABI_MISMATCH,
				"%s: the manifest does not list \"K %s %u\": the plan and the "
				"kernel disagree on its parameters", ex->paths[l->image], l->kernel,
				l->nargs);
	} else if (cu->cuFuncGetParamInfo != NULL) {
		size_t off, size;

		if (cu->cuFuncGetParamInfo(f, l->nargs - 1, &off, &size) != CUDA_SUCCESS ||
		    cu->cuFuncGetParamInfo(f, l->nargs, &off, &size) == CUDA_SUCCESS)
			return paella__error_set(PAELLA_STATUS_ABI_MISMATCH,
				"%s: %s does not take %u parameters as the plan binds",
				ex->paths[l->image], l->kernel, l->nargs);
	}
	fn = &ex->fns[ex->nfns++];
	fn->name = l->kernel;
	fn->nargs = l->nargs;
	fn->f = f;
	fn->mode = mode;
	fn->plain = plain;
	fn->wave_threads = 0;
	*out = f;
out:
	return status;
}

/* ---- instances ---------------------------------------------------------- */

enum paella_status
pzoo__instance_create(struct pzoo__exec *ex, const struct paella_zoo_plan *plan,
			    const float *blob, struct pzoo__instance **out)
{
	const struct paella__cu *cu = ex->cu;
	enum paella_status status = PAELLA_STATUS_OK;
	struct pzoo__instance *inst;
	const unsigned slots = PAELLA_ZOO_MAX_ARGS + 1;

	*out = NULL;
	inst = calloc(1, sizeof(*inst));
	if (inst == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "out of memory");
	inst->ex = ex;
	inst->plan = plan;
	inst->fns = calloc(plan->nlaunches + 1, sizeof(*inst->fns));
	inst->vals = calloc((size_t)(plan->nlaunches + 1) * slots, sizeof(*inst->vals));
	inst->ptrs = calloc((size_t)(plan->nlaunches + 1) * slots, sizeof(*inst->ptrs));
	inst->recs = calloc(plan->nlaunches + 2, sizeof(*inst->recs));
	if (inst->fns == NULL || inst->vals == NULL || inst->ptrs == NULL || inst->recs == NULL) {
		status = paella__error_set(PAELLA_STATUS_NO_MEMORY, "out of memory");
		goto err;
	}
	PAELLA_CU_CHECK_GOTO(cu, cuMemAlloc(&inst->params, plan->param_floats * 4 + 256), status,
			     err);
	PAELLA_CU_CHECK_GOTO(cu, cuMemcpyHtoD(inst->params, blob, plan->param_floats * 4), status,
			     err);
	PAELLA_CU_CHECK_GOTO(cu, cuMemAlloc(&inst->arena, plan->arena_bytes + 256), status, err);
	/* Zero once: split-K counters start at zero and kernels leave them so. */
	PAELLA_CU_CHECK_GOTO(cu, cuMemsetD32(inst->arena, 0, (plan->arena_bytes + 256) / 4),
			     status, err);

	for (unsigned i = 0; i < plan->nlaunches; i++) {
		const struct paella_zoo_launch *l = &plan->launches[i];
		uint64_t *v = inst->vals + (size_t)i * slots;
		void **p = inst->ptrs + (size_t)i * slots;

		status = resolve(ex, l, &inst->fns[i]);
		if (status != PAELLA_STATUS_OK)
			goto err;
		for (unsigned a = 0; a < l->nargs; a++) {
			const struct paella_zoo_arg *arg = &l->args[a];
			int32_t i32;
			float f32;

			switch (arg->kind) {
			case PAELLA_ZOO_ARG_NULL:
				v[a] = 0;
				break;
			case PAELLA_ZOO_ARG_ACT:
				v[a] = (uint64_t)inst->arena +
				       paella_zoo_storage_offset_floats(plan, arg) * 4;
				break;
			case PAELLA_ZOO_ARG_PARAM:
				v[a] = (uint64_t)inst->params + plan->params[arg->ref].offset * 4;
				break;
			case PAELLA_ZOO_ARG_I32:
				i32 = arg->i32;
				memcpy(&v[a], &i32, sizeof(i32));
				break;
			case PAELLA_ZOO_ARG_F32:
				f32 = arg->f32;
				memcpy(&v[a], &f32, sizeof(f32));
				break;
			}
			p[a] = &v[a];
		}
	}
	/* The memset and the weights' upload are legacy-stream work, not
	 * done when their calls return (a pageable cuMemcpyHtoD lands after
	 * it returns), and kernels on a CU_STREAM_NON_BLOCKING stream do not
	 * wait for it: wait here, so that the instance is ready for any
	 * stream. */
	PAELLA_CU_CHECK_GOTO(cu, cuStreamSynchronize(NULL), status, err);
	*out = inst;
	return PAELLA_STATUS_OK;
err:
	pzoo__instance_destroy(inst);
	return status;
}

void
pzoo__instance_destroy(struct pzoo__instance *inst)
{
	if (inst == NULL)
		return;
	for (unsigned i = 0; i < inst->nrecs; i++) {
		paella__notify_set_done(inst->recs[i]);
		paella__notify_release(inst->recs[i]);
	}
	if (inst->params != 0)
		inst->ex->cu->cuMemFree(inst->params);
	if (inst->arena != 0)
		inst->ex->cu->cuMemFree(inst->arena);
	free(inst->fns);
	free(inst->vals);
	free(inst->ptrs);
	free(inst->recs);
	free(inst);
}

CUdeviceptr
pzoo__instance_input(const struct pzoo__instance *inst)
{
	return pzoo__instance_storage(inst, inst->plan->input);
}

CUdeviceptr
pzoo__instance_output(const struct pzoo__instance *inst)
{
	return pzoo__instance_storage(inst, inst->plan->output);
}

CUdeviceptr
pzoo__instance_storage(const struct pzoo__instance *inst, int storage)
{
	return inst->arena + inst->plan->storages[storage].offset;
}

/* Launches @f with @params (one slot free after its @nargs arguments for
 * the launch record), taking a record when the build is instrumented and
 * enqueueing its completion write unless the instance is being profiled. */
static enum paella_status
launch_recorded(struct pzoo__instance *inst, CUstream stream, CUfunction f,
		const uint32_t grid[3], const uint32_t block[3], uint32_t shmem,
		void **params, unsigned nargs)
{
	const struct paella__cu *cu = inst->ex->cu;
	struct paella__notify_record *rec = NULL;
	enum paella_status status = PAELLA_STATUS_OK;

	if (inst->nrecs >= inst->plan->nlaunches + 1)
		PAELLA__BUG("launches enqueued twice without a wait");
	if (inst->ex->instrumented) {
		uint64_t nblocks = (uint64_t)grid[0] * grid[1] * grid[2];
		unsigned threads = block[0] * block[1] * block[2];
		struct function *fn = NULL;

		for (unsigned i = 0; i < inst->ex->nfns && fn == NULL; i++)
			if (inst->ex->fns[i].f == f)
				fn = &inst->ex->fns[i];
		if (fn == NULL)
			PAELLA__BUG("launch of a kernel that was never resolved");
		if (fn->wave_threads != threads || fn->wave_smem != shmem) {
			fn->wave_blocks = paella__notify_wave_blocks(cu, f, threads, shmem);
			fn->wave_threads = threads;
			fn->wave_smem = shmem;
		}
		/* As the runtime does (paella__step_launch_desc): a grid in which
		 * the sampling rule picks no block runs the plain copy. */
		if (fn->mode == PAELLA__NOTIFY_SAMPLE && fn->plain != NULL &&
		    paella__notify_use_plain_copy(nblocks, fn->wave_blocks)) {
			f = fn->plain;
			status = paella__notify_acquire(inst->ex->pool, nblocks, PAELLA__NOTIFY_NONE,
							0, &rec);
		} else {
			status = paella__notify_acquire(inst->ex->pool, nblocks, fn->mode,
							fn->wave_blocks, &rec);
			if (status == PAELLA_STATUS_OK)
				params[nargs] = (void *)paella__notify_kernel_param(rec);
		}
		if (status != PAELLA_STATUS_OK)
			return status;
	}
	PAELLA_CU_CHECK_GOTO(cu, cuLaunchKernel(f, grid[0], grid[1], grid[2], block[0], block[1],
						block[2], shmem, stream, params, NULL),
			     status, err);
	if (rec != NULL) {
		inst->recs[inst->nrecs++] = rec;
		if (!inst->profiling)
			status = paella__notify_enqueue_completion(rec, stream);
	}
	return status;
err:
	if (rec != NULL)
		paella__notify_cancel(rec);
	return status;
}

static enum paella_status
launch_one(struct pzoo__instance *inst, CUstream stream, unsigned i)
{
	const struct paella_zoo_launch *l = &inst->plan->launches[i];

	return launch_recorded(inst, stream, inst->fns[i], l->grid, l->block, l->shmem,
			       inst->ptrs + (size_t)i * (PAELLA_ZOO_MAX_ARGS + 1), l->nargs);
}

enum paella_status
pzoo__instance_run_range(struct pzoo__instance *inst, CUstream stream,
			       unsigned first, unsigned last)
{
	for (unsigned i = first; i < last && i < inst->plan->nlaunches; i++) {
		enum paella_status status = launch_one(inst, stream, i);

		if (status != PAELLA_STATUS_OK)
			return status;
	}
	return PAELLA_STATUS_OK;
}

enum paella_status
pzoo__instance_run(struct pzoo__instance *inst, CUstream stream)
{
	return pzoo__instance_run_range(inst, stream, 0, inst->plan->nlaunches);
}

enum paella_status
pzoo__instance_wait(struct pzoo__instance *inst, CUstream stream)
{
	const struct paella__cu *cu = inst->ex->cu;
	enum paella_status status = PAELLA_STATUS_OK;

	PAELLA_CU_CHECK_GOTO(cu, cuStreamSynchronize(stream), status, out);
out:
	/* Even on error: the stream is done or broken, either way the
	 * records are no longer in flight. */
	for (unsigned i = 0; i < inst->nrecs; i++) {
		paella__notify_set_done(inst->recs[i]);
		paella__notify_release(inst->recs[i]);
	}
	inst->nrecs = 0;
	return status;
}

enum paella_status
pzoo__instance_spin(struct pzoo__instance *inst, CUstream stream,
			  unsigned long long ns)
{
	static const struct paella_zoo_launch spin = {
		.op = PAELLA_ZOO_OP_ADD, .image = PAELLA_ZOO_IMAGE_LINEAR,
		.kernel = "spin_wait", .grid = { 1, 1, 1 }, .block = { 1, 1, 1 }, .nargs = 1,
	};
	void *params[2] = { &ns, NULL };
	enum paella_status status;
	CUfunction f;

	status = resolve(inst->ex, &spin, &f);
	if (status != PAELLA_STATUS_OK)
		return status;
	return launch_recorded(inst, stream, f, spin.grid, spin.block, 0, params, spin.nargs);
}

enum paella_status
pzoo__instance_profile(struct pzoo__instance *inst, CUstream stream, float *ms)
{
	const struct paella__cu *cu = inst->ex->cu;
	const unsigned n = inst->plan->nlaunches;
	enum paella_status status = PAELLA_STATUS_OK;
	CUevent *ev = calloc(n + 1, sizeof(*ev));
	unsigned made = 0;

	if (ev == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "out of memory");
	for (; made <= n; made++)
		PAELLA_CU_CHECK_GOTO(cu, cuEventCreate(&ev[made], CU_EVENT_DEFAULT), status, out);
	/* The host enqueues everything behind a wait of 20 us per launch,
	 * then the GPU runs the launches back to back. */
	status = pzoo__instance_spin(inst, stream, 20000ull * n);
	if (status != PAELLA_STATUS_OK)
		goto out;
	PAELLA_CU_CHECK_GOTO(cu, cuEventRecord(ev[0], stream), status, out);
	inst->profiling = true;
	for (unsigned i = 0; i < n; i++) {
		status = pzoo__instance_run_range(inst, stream, i, i + 1);
		if (status != PAELLA_STATUS_OK)
			break;
		PAELLA_CU_CHECK_GOTO(cu, cuEventRecord(ev[i + 1], stream), status, out);
	}
	inst->profiling = false;
	/* The records are released after the stream is synchronized (their
	 * kernels are then done even without a completion write). */
	if (status == PAELLA_STATUS_OK)
		status = pzoo__instance_wait(inst, stream);
	else
		pzoo__instance_wait(inst, stream);
	if (status != PAELLA_STATUS_OK)
		goto out;
	for (unsigned i = 0; i < n; i++)
		PAELLA_CU_CHECK_GOTO(cu, cuEventElapsedTime(&ms[i], ev[i], ev[i + 1]), status, out);
out:
	for (unsigned i = 0; i < made; i++)
		cu->cuEventDestroy(ev[i]);
	free(ev);
	return status;
}
