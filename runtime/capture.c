/*
 * capture.c - model capture: between paella_model_capture_begin() and
 * _end(), the <<<>>> launches of code built with paella-cc, which reach
 * paella_launch_kernel() (transparent.c), become kernel steps of the model
 * instead of running, the way CUDA stream capture turns host code into a
 * graph.
 *
 * A launch names its kernel by the host stub's address; the program's CUDA
 * runtime turns that into a CUfunction (cudaGetFuncBySymbol), which the
 * cuda backend wraps as a kernel of the runtime's external module
 * (module.c).  The driver gives the kernel's parameter count and sizes
 * (cuFuncGetParamInfo): one parameter more than the launch passes means the
 * pass instrumented it.  A pointer-sized argument whose value falls inside
 * a buffer's capture range becomes that buffer plus an offset; every other
 * argument is copied by value.
 *
 * The capture is the calling thread's (thread-local), like a stream
 * capture in cudaStreamCaptureModeThreadLocal.  A launch that cannot be
 * recorded fails the capture: paella_model_capture_end() then reports the
 * first error and leaves the model as it was before the capture began.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "paella/instrument-abi.h"
#include "log.h"
#include "model.h"
#include "module.h"
#include "runtime-state.h"
#include "util.h"

/* As transparent.c: the driver's limit of 4 KiB of parameters. */
#define MAX_PARAMS 1024
/* cudaErrorInvalidValue, cudaErrorStreamCaptureInvalidated. */
#define CUDART_ERROR_INVALID_VALUE 1
#define CUDART_ERROR_CAPTURE_INVALIDATED 901

/* cudart's prototype: cudaGetFuncBySymbol(cudaFunction_t *, const void *),
 * and cudaFunction_t is the driver's CUfunction. */
struct CUfunc_st;
typedef int (*get_func_by_symbol_fn)(struct CUfunc_st **fn, const void *symbol);

static _Thread_local struct paella_model *tls_model;

bool
paella__capture_active(void)
{
	return tls_model != NULL;
}

void *
paella__cudart_func_lookup(void)
{
	void *fn;

	/* From the program's CUDA runtime, however it was linked.  A program
	 * paella-cc links with the static cudart exports that copy's look-up
	 * as paella_cudart_get_func_by_symbol (its own cudaGetFuncBySymbol is
	 * hidden): that one first, since a shared libcudart in the same
	 * process has none of the program's kernels registered. */
	fn = dlsym(RTLD_DEFAULT, "paella_cudart_get_func_by_symbol");
	if (fn == NULL)
		fn = dlsym(RTLD_DEFAULT, "cudaGetFuncBySymbol");
	return fn;
}

static get_func_by_symbol_fn
get_func_by_symbol(void)
{
	get_func_by_symbol_fn fn;

	*(void **)&fn = paella__cudart_func_lookup();
	return fn;
}

int
paella__cudart_error(enum paella_status st)
{
	switch (st) {
	case PAELLA_STATUS_OK:
		return CUDART_SUCCESS;
	case PAELLA_STATUS_INVALID_ARGUMENT:
		return CUDART_ERROR_INVALID_VALUE;
	case PAELLA_STATUS_NO_MEMORY:
		return CUDART_ERROR_MEMORY_ALLOCATION;
	case PAELLA_STATUS_NO_DEVICE:
		return CUDART_ERROR_NO_DEVICE;
	case PAELLA_STATUS_UNSUPPORTED:
		return CUDART_ERROR_INITIALIZATION;
	default:
		return CUDART_ERROR_UNKNOWN;
	}
}

void
paella__capture_free(struct paella_model *m)
{
	if (m->capture == NULL)
		return;
	if (tls_model == m)
		tls_model = NULL;
	free(m->capture);
	m->capture = NULL;
}

PAELLA_EXPORT enum paella_status
paella_model_buffer_address(struct paella_model *m, unsigned index, uint64_t *address)
{
	struct paella__backend *b;
	struct paella__buffer *buf;
	enum paella_status st;

	PAELLA__OUT_ARGS_OR_RETURN(m, "model", address);
	if (index >= m->nbuffers)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_model_buffer_address: model %s has no buffer %u (it has %u)",
			m->name, index, m->nbuffers);
	buf = &m->buffers[index];
	if (buf->scope == PAELLA_BUFFER_MODEL) {
		*address = buf->dptr;
		return PAELLA_STATUS_OK;
	}
	if (m->finalized)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_model_buffer_address: model %s is finalized: job buffer %u has "
			"an address of its own in each job, and none to capture with any more",
			m->name, index);
	if (buf->capture_dptr == 0) {
		b = m->rt->backend;
		st = b->ops->mem_alloc(b, buf->bytes, &buf->capture_dptr);
		if (st != PAELLA_STATUS_OK)
			return st;
	}
	*address = buf->capture_dptr;
	return PAELLA_STATUS_OK;
}

PAELLA_EXPORT enum paella_status
paella_model_capture_begin(struct paella_model *m)
{
	struct paella_module *ext = NULL;
	struct paella__capture *c;
	enum paella_status st;

	if (m == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_model_capture_begin: model is NULL");
	if (m->finalized)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_model_capture_begin: model %s is finalized: steps can no "
			"longer be added", m->name);
	if (m->capture != NULL)
		return paella__error_set(PAELLA_STATUS_BUSY,
			"paella_model_capture_begin: model %s is already being captured: "
			"end that capture first", m->name);
	if (tls_model != NULL)
		return paella__error_set(PAELLA_STATUS_BUSY,
			"paella_model_capture_begin: this thread is capturing model %s: a "
			"thread captures one model at a time, end that capture first",
			tls_model->name);
	st = paella__module_external(m->rt, &ext);
	if (st != PAELLA_STATUS_OK)
		return st;
	if (get_func_by_symbol() == NULL)
		return paella__error_set(PAELLA_STATUS_UNSUPPORTED,
			"paella_model_capture_begin: cudaGetFuncBySymbol is not in the "
			"process: link the program with the shared CUDA runtime 11 or newer "
			"(-lcudart), as paella-cc does");
	PAELLA__NEW_OR_RETURN(c, "paella_model_capture_begin: out of memory");
	c->owner = pthread_self();
	c->nsteps = m->nsteps;
	c->nkernels = m->nkernels;
	c->input_bytes = m->input_bytes;
	c->output_bytes = m->output_bytes;
	c->status = PAELLA_STATUS_OK;
	m->capture = c;
	tls_model = m;
	return PAELLA_STATUS_OK;
}

PAELLA_EXPORT enum paella_status
paella_model_capture_end(struct paella_model *m)
{
	struct paella__capture *c;
	enum paella_status st;

	if (m == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_model_capture_end: model is NULL");
	c = m->capture;
	if (c == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_model_capture_end: model %s is not being captured: begin "
			"with paella_model_capture_begin()", m->name);
	if (tls_model != m || !pthread_equal(c->owner, pthread_self()))
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_model_capture_end: the capture of model %s began on another "
			"thread: end it there", m->name);
	st = c->status;
	if (st != PAELLA_STATUS_OK) {
		unsigned dropped = m->nsteps - c->nsteps;

		paella__model_truncate(m, c->nsteps, c->nkernels, c->input_bytes,
				       c->output_bytes);
		paella__error_set(st, "model %s: the capture failed, and its %u steps were "
				  "dropped (the model is as before the capture): %s",
				  m->name, dropped, c->error);
	} else {
		paella__log_debug("model %s: captured %u launches", m->name, c->launches);
	}
	paella__capture_free(m);
	return st;
}

/* Marks the capture failed with the message of @st, set just before. */
static int
fail(struct paella__capture *c, enum paella_status st, int err)
{
	if (c->status == PAELLA_STATUS_OK) {
		c->status = st;
		snprintf(c->error, sizeof(c->error), "%s", paella__error_last());
	}
	return err != 0 ? err : paella__cudart_error(st);
}

/* The buffer whose capture range holds @value, and the offset into it. */
static bool
find_buffer(const struct paella_model *m, uint64_t value, unsigned *index, size_t *offset)
{
	for (unsigned i = 0; i < m->nbuffers; i++) {
		const struct paella__buffer *buf = &m->buffers[i];
		uint64_t base = buf->scope == PAELLA_BUFFER_MODEL ? buf->dptr : buf->capture_dptr;

		if (base != 0 && value >= base && value - base < buf->bytes) {
			*index = i;
			*offset = (size_t)(value - base);
			return true;
		}
	}
	return false;
}

int
paella__capture_launch(const void *func, struct paella_dim3 grid, struct paella_dim3 block,
		       void **args, size_t shmem, int nparams)
{
	struct paella_model *m = tls_model;
	struct paella__capture *c = m->capture;
	struct paella__backend *b = m->rt->backend;
	struct paella_module *ext = NULL;
	struct paella__kernel_ref k;
	struct paella_kernel_step step;
	struct paella_arg *pargs = NULL;
	size_t *sizes = NULL;
	char name[128];
	unsigned count = 0, launch = ++c->launches;
	enum paella_status st;
	Dl_info info;
	struct CUfunc_st *fn = NULL;
	bool counted = (nparams & PAELLA_LAUNCH_COUNT_MODE) != 0;
	int err;

	nparams &= ~PAELLA_LAUNCH_COUNT_MODE;
	if (c->status != PAELLA_STATUS_OK) {
		paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s: launch %u not captured: an earlier launch failed the "
			"capture (%s)", m->name, launch, c->error);
		return CUDART_ERROR_CAPTURE_INVALIDATED;
	}
	if (func == NULL || nparams < 0 || nparams > MAX_PARAMS || (nparams > 0 && args == NULL) ||
	    shmem > UINT32_MAX) {
		st = paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s, captured launch %u: bad arguments (kernel %p, %d parameters, "
			"args %p, %zu bytes of shared memory)", m->name, launch, func, nparams,
			(void *)args, shmem);
		return fail(c, st, CUDART_ERROR_INVALID_VALUE);
	}
	/* Its name for messages: the host stub's symbol, where the program
	 * exports it. */
	if (dladdr(func, &info) != 0 && info.dli_sname != NULL && info.dli_saddr == func)
		snprintf(name, sizeof(name), "%s", info.dli_sname);
	else
		snprintf(name, sizeof(name), "kernel at %p", func);
	err = get_func_by_symbol()(&fn, func);
	if (err != 0 || fn == NULL) {
		st = paella__error_set(PAELLA_STATUS_NOT_FOUND,
			"model %s, captured launch %u: %s is not a kernel the program's CUDA "
			"runtime knows (cudaGetFuncBySymbol returned error %d)", m->name, launch,
			name, err);
		return fail(c, st, err);
	}
	st = paella__module_external(m->rt, &ext);
	if (st != PAELLA_STATUS_OK)
		return fail(c, st, 0);
	sizes = calloc(MAX_PARAMS + 1, sizeof(*sizes));
	pargs = calloc(nparams > 0 ? (size_t)nparams : 1, sizeof(*pargs));
	if (sizes == NULL || pargs == NULL) {
		st = paella__error_set(PAELLA_STATUS_NO_MEMORY, "model %s: out of memory", m->name);
		goto out;
	}
	memset(&k, 0, sizeof(k));
	st = b->ops->kernel_wrap(b, ext->bmod, fn, name, &k.bkernel, &k.attrs, sizes,
				 MAX_PARAMS + 1, &count);
	if (st != PAELLA_STATUS_OK)
		goto out;
	/* The pass adds one parameter, the launch record; the launch passes
	 * the parameters as written. */
	if (count != (unsigned)nparams && count != (unsigned)nparams + 1) {
		st = paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s, captured launch %u: kernel %s has %u parameters, but the "
			"launch passes %d", m->name, launch, name, count, nparams);
		goto out;
	}
	k.instrumented = count == (unsigned)nparams + 1;
	k.counted = k.instrumented && counted;
	k.nparams = nparams;
	for (int i = 0; i < nparams; i++) {
		unsigned index;
		size_t offset;
		uint64_t v = 0;

		if (args[i] == NULL) {
			st = paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				"model %s, captured launch %u of %s: argument %d is NULL",
				m->name, launch, name, i);
			goto out;
		}
		if (sizes[i] == sizeof(uint64_t)) {
			memcpy(&v, args[i], sizeof(v));
			if (find_buffer(m, v, &index, &offset)) {
				pargs[i] = paella_arg_buffer(index, offset);
				continue;
			}
		}
		pargs[i] = paella_arg_value(args[i], sizes[i]);
	}
	memset(&step, 0, sizeof(step));
	step.module = ext;
	step.kernel = name;
	step.grid.x = grid.x;
	step.grid.y = grid.y;
	step.grid.z = grid.z;
	step.block.x = block.x;
	step.block.y = block.y;
	step.block.z = block.z;
	step.dynamic_smem_bytes = (unsigned)shmem;
	step.args = pargs;
	step.nargs = (unsigned)nparams;
	st = paella__model_add_kernel_ref(m, &step, &k);
out:
	free(sizes);
	free(pargs);
	if (st != PAELLA_STATUS_OK)
		return fail(c, st, 0);
	return 0;
}
