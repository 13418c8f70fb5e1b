/*
 * backend-cuda.c - the real GPU, through the driver boundary
 * (cuda-driver.c) and launch records (notify.c).
 *
 * One primary context of one device, made current in every thread that
 * calls in; a pool of non-blocking streams; each launch takes a launch
 * record (notify.c) whose host-mapped words give its progress and
 * completion, and each copy a completion-only record written by a stream
 * write-value after it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cuda-driver.h"
#include "launch.h"
#include "log.h"
#include "notify.h"
#include "paella/instrument-abi.h"
#include "util.h"

/* Profile runs of a kernel at finalize: the fastest of these counts. */
#define PROFILE_RUNS 3
/* Spins per advance(): about a microsecond, under the 1.1 us a
 * notification takes to arrive. */
#define ADVANCE_SPINS 8

struct cuda_kernel {
	CUfunction fn;
	char *name;
	struct cuda_kernel *next;
	/* The tail marker for the last block shape asked for (the dispatcher's
	 * thread and model load; a step keeps one shape). */
	pthread_mutex_t marker_lock;
	bool marker_valid;
	bool marker_ok;
	unsigned marker_threads;
	unsigned marker_dsmem;
	struct paella__marker_launch marker;
};

struct cuda_module {
	CUmodule mod;
	/* Kernels looked up so far: a model step keeps a pointer to one. */
	pthread_mutex_t lock;
	struct cuda_kernel *kernels;
};

struct cuda_op {
	struct paella__notify_record *rec;
	struct cuda_op *next_free;
	/* Its stream, and its place in that stream's order (from 1). */
	unsigned stream;
	uint64_t stream_seq;
	/* A tail marker waits for the ops before it on its stream. */
	bool marker_pending;
	struct paella__marker_launch marker;
};

struct cuda {
	struct paella__backend base;
	struct paella__cu *cu;
	CUdevice dev;
	CUcontext ctx;
	bool ctx_retained;
	CUstream *streams;
	/* Per stream: a lower-priority partner for its kernels' tail markers
	 * (NULL entries when markers are off); ops issued on it, and the
	 * latest of them seen done (the dispatcher polls a stream's ops in
	 * order).  The dispatcher's thread only. */
	CUstream *marker_streams;
	uint64_t *stream_issued;
	uint64_t *stream_seen;
	CUstream profile_stream;
	/* One profile at a time: they share the stream and would time each
	 * other. */
	pthread_mutex_t profile_lock;
	struct paella__launcher *launcher;
	/* The dispatcher's thread only. */
	struct cuda_op *free_ops;
};

static struct cuda *
to_cuda(struct paella__backend *b)
{
	return (struct cuda *)b;
}

static enum paella_status
cuda_bind_thread(struct paella__backend *b)
{
	struct cuda *c = to_cuda(b);
	enum paella_status st = PAELLA_STATUS_OK;

	PAELLA_CU_CHECK_GOTO(c->cu, cuCtxSetCurrent(c->ctx), st, out);
out:
	return st;
}

static uint64_t
cuda_now_ns(struct paella__backend *b)
{
	return paella__monotonic_ns();
}

/* Reads module global @name into a malloc'd buffer of its size plus a NUL;
 * NULL without error when the module has none. */
static enum paella_status
read_global(struct cuda *c, CUmodule mod, const char *name, char **out, size_t *len)
{
	enum paella_status st = PAELLA_STATUS_OK;
	CUdeviceptr dptr;
	size_t bytes = 0;
	CUresult rc;
	char *buf;

	*out = NULL;
	*len = 0;
	rc = c->cu->cuModuleGetGlobal(&dptr, &bytes, mod, name);
	if (rc == CUDA_ERROR_NOT_FOUND)
		return PAELLA_STATUS_OK;
	if (rc != CUDA_SUCCESS)
		return paella__cu_fail(c->cu, rc, "cuModuleGetGlobal(__paella_*)", __FILE__, __LINE__);
	buf = calloc(1, bytes + 1);
	if (buf == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "reading %s: out of memory", name);
	PAELLA_CU_CHECK_GOTO(c->cu, cuMemcpyDtoH(buf, dptr, bytes), st, err);
	*out = buf;
	*len = bytes;
	return PAELLA_STATUS_OK;
err:
	free(buf);
	return st;
}

static enum paella_status
cuda_module_load_image(struct paella__backend *b, const void *image, size_t bytes,
		       void **module, unsigned *abi_version, char **manifest)
{
	struct cuda *c = to_cuda(b);
	enum paella_status st;
	struct cuda_module *m;
	char *abi = NULL;
	size_t len;

	*module = NULL;
	*abi_version = 0;
	*manifest = NULL;
	st = cuda_bind_thread(b);
	if (st != PAELLA_STATUS_OK)
		return st;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "module: out of memory");
	pthread_mutex_init(&m->lock, NULL);
	PAELLA_CU_CHECK_GOTO(c->cu, cuModuleLoadData(&m->mod, image), st, err);

	st = read_global(c, m->mod, PAELLA_ABI_VERSION_SYMBOL, &abi, &len);
	if (st != PAELLA_STATUS_OK)
		goto err_unload;
	if (abi != NULL) {
		uint32_t v = 0;

		memcpy(&v, abi, len < sizeof(v) ? len : sizeof(v));
		free(abi);
		/* Version 0 would read as "no ABI": a module claiming it is
		 * as wrong as any other mismatch. */
		*abi_version = v != 0 ? v : UINT32_MAX;
		st = read_global(c, m->mod, PAELLA_MANIFEST_SYMBOL, manifest, &len);
		if (st != PAELLA_STATUS_OK)
			goto err_unload;
	}
	*module = m;
	return PAELLA_STATUS_OK;

err_unload:
	c->cu->cuModuleUnload(m->mod);
err:
	pthread_mutex_destroy(&m->lock);
	free(m);
	return st;
}

static enum paella_status
cuda_module_load_sim(struct paella__backend *b, const struct paella_sim_module *desc,
		     void **module)
{
	return paella__error_set(PAELLA_STATUS_UNSUPPORTED,
		"the cuda backend runs device images: load one with paella_module_load_file() "
		"or _image(), or create the runtime with the sim backend for simulated modules");
}

static void
cuda_module_unload(struct paella__backend *b, void *module)
{
	struct cuda *c = to_cuda(b);
	struct cuda_module *m = module;

	while (m->kernels != NULL) {
		struct cuda_kernel *k = m->kernels;

		m->kernels = k->next;
		pthread_mutex_destroy(&k->marker_lock);
		free(k->name);
		free(k);
	}
	cuda_bind_thread(b);
	/* An external module (model capture) loaded nothing itself. */
	if (m->mod != NULL)
		c->cu->cuModuleUnload(m->mod);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static enum paella_status
func_attr(struct cuda *c, CUfunction fn, CUfunction_attribute attr, unsigned *out)
{
	enum paella_status st = PAELLA_STATUS_OK;
	int v = 0;

	PAELLA_CU_CHECK_GOTO(c->cu, cuFuncGetAttribute(&v, attr, fn), st, out);
	*out = v > 0 ? (unsigned)v : 0;
out:
	return st;
}

static enum paella_status
kernel_attrs(struct cuda *c, CUfunction fn, struct paella__kernel_attrs *attrs)
{
	enum paella_status st;

	st = func_attr(c, fn, CU_FUNC_ATTRIBUTE_NUM_REGS, &attrs->regs_per_thread);
	if (st == PAELLA_STATUS_OK)
		st = func_attr(c, fn, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, &attrs->static_smem);
	if (st == PAELLA_STATUS_OK)
		st = func_attr(c, fn, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK,
			       &attrs->max_threads_per_block);
	return st;
}

/* The module's entry for @fn, made on first use; NULL when out of memory. */
static struct cuda_kernel *
module_kernel(struct cuda_module *m, CUfunction fn, const char *name)
{
	struct cuda_kernel *k;

	pthread_mutex_lock(&m->lock);
	for (k = m->kernels; k != NULL; k = k->next)
		if (k->fn == fn)
			break;
	if (k == NULL && (k = calloc(1, sizeof(*k))) != NULL) {
		k->fn = fn;
		k->name = strdup(name);
		if (k->name == NULL) {
			free(k);
			k = NULL;
		} else {
			pthread_mutex_init(&k->marker_lock, NULL);
			k->next = m->kernels;
			m->kernels = k;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return k;
}

static enum paella_status
cuda_kernel_get(struct paella__backend *b, void *module, const char *name,
		struct paella__bkernel **out, struct paella__kernel_attrs *attrs)
{
	struct cuda *c = to_cuda(b);
	struct cuda_module *m = module;
	enum paella_status st = PAELLA_STATUS_OK;
	struct cuda_kernel *k;
	CUfunction fn;
	CUresult rc;

	st = cuda_bind_thread(b);
	if (st != PAELLA_STATUS_OK)
		return st;
	rc = c->cu->cuModuleGetFunction(&fn, m->mod, name);
	if (rc == CUDA_ERROR_NOT_FOUND)
		return PAELLA_STATUS_NOT_FOUND;
	if (rc != CUDA_SUCCESS)
		return paella__cu_fail(c->cu, rc, "cuModuleGetFunction", __FILE__, __LINE__);
	st = kernel_attrs(c, fn, attrs);
	if (st != PAELLA_STATUS_OK)
		return st;

	k = module_kernel(m, fn, name);
	if (k == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "kernel %s: out of memory", name);
	*out = (struct paella__bkernel *)k;
	return PAELLA_STATUS_OK;
}

static enum paella_status
cuda_module_external(struct paella__backend *b, void **module)
{
	struct cuda *c = to_cuda(b);
	struct cuda_module *m;

	*module = NULL;
	if (c->cu->cuFuncGetParamInfo == NULL)
		return paella__error_set(PAELLA_STATUS_UNSUPPORTED,
			"model capture needs cuFuncGetParamInfo (CUDA driver 12.4 or newer) to "
			"read a kernel's argument sizes, and the driver %s (version %d) lacks it: "
			"update the driver, or build the model with paella_model_add_kernel()",
			c->cu->path, c->cu->driver_version);
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "module: out of memory");
	pthread_mutex_init(&m->lock, NULL);
	*module = m;
	return PAELLA_STATUS_OK;
}

static enum paella_status
cuda_kernel_wrap(struct paella__backend *b, void *module, void *function, const char *name,
		 struct paella__bkernel **out, struct paella__kernel_attrs *attrs,
		 size_t *sizes, unsigned max, unsigned *nparams)
{
	struct cuda *c = to_cuda(b);
	struct cuda_module *m = module;
	CUfunction fn = function;
	enum paella_status st;
	struct cuda_kernel *k;
	unsigned n = 0;

	*out = NULL;
	*nparams = 0;
	st = cuda_bind_thread(b);
	if (st != PAELLA_STATUS_OK)
		return st;
	st = kernel_attrs(c, fn, attrs);
	if (st != PAELLA_STATUS_OK)
		return st;
	/* The driver answers for each parameter the kernel has, and fails
	 * past the last. */
	for (;;) {
		size_t offset = 0, size = 0;

		if (c->cu->cuFuncGetParamInfo(fn, n, &offset, &size) != CUDA_SUCCESS)
			break;
		if (n >= max)
			return paella__error_set(PAELLA_STATUS_UNSUPPORTED,
				"kernel %s has more than %u parameters", name, max);
		sizes[n++] = size;
	}

	k = module_kernel(m, fn, name);
	if (k == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "kernel %s: out of memory", name);
	*out = (struct paella__bkernel *)k;
	*nparams = n;
	return PAELLA_STATUS_OK;
}

static enum paella_status
cuda_occupancy(struct paella__backend *b, struct paella__bkernel *kernel,
	       unsigned block_threads, unsigned dynamic_smem, unsigned *blocks_per_sm)
{
	struct cuda *c = to_cuda(b);
	struct cuda_kernel *k = (struct cuda_kernel *)kernel;
	enum paella_status st;
	int n = 0;

	*blocks_per_sm = 0;
	st = cuda_bind_thread(b);
	if (st != PAELLA_STATUS_OK)
		return st;
	/* Above 48 KiB a kernel must opt in, for launches and for the
	 * occupancy API alike. */
	if (dynamic_smem > 48u * 1024u)
		PAELLA_CU_CHECK_GOTO(c->cu, cuFuncSetAttribute(k->fn,
				     CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
				     (int)dynamic_smem), st, out);
	PAELLA_CU_CHECK_GOTO(c->cu, cuOccupancyMaxActiveBlocksPerMultiprocessor(&n, k->fn,
			     (int)block_threads, dynamic_smem), st, out);
	*blocks_per_sm = n > 0 ? (unsigned)n : 0;
out:
	return st;
}

static enum paella_status
cuda_mem_alloc(struct paella__backend *b, size_t bytes, uint64_t *dptr)
{
	struct cuda *c = to_cuda(b);
	enum paella_status st;
	size_t words = (bytes + 3) / 4;
	CUdeviceptr p = 0;

	*dptr = 0;
	st = cuda_bind_thread(b);
	if (st != PAELLA_STATUS_OK)
		return st;
	PAELLA_CU_CHECK_GOTO(c->cu, cuMemAlloc(&p, words * 4), st, out);
	/* Zeroed, as the simulator's: a kernel profiled at finalize reads
	 * job buffers no input filled. */
	PAELLA_CU_CHECK_GOTO(c->cu, cuMemsetD32(p, 0, words), st, err);
	*dptr = p;
	return PAELLA_STATUS_OK;
err:
	c->cu->cuMemFree(p);
out:
	return st;
}

static void
cuda_mem_free(struct paella__backend *b, uint64_t dptr)
{
	struct cuda *c = to_cuda(b);

	if (dptr == 0)
		return;
	cuda_bind_thread(b);
	c->cu->cuMemFree(dptr);
}

static enum paella_status
cuda_mem_write(struct paella__backend *b, uint64_t dptr, const void *src, size_t bytes)
{
	struct cuda *c = to_cuda(b);
	enum paella_status st = cuda_bind_thread(b);

	if (st != PAELLA_STATUS_OK)
		return st;
	PAELLA_CU_CHECK_GOTO(c->cu, cuMemcpyHtoD(dptr, src, bytes), st, out);
	/* From pageable memory cuMemcpyHtoD may return before the data is on
	 * the device, and the pool's streams are non-blocking: they would not
	 * wait for it.  A write is synchronous for its caller, so finish it. */
	PAELLA_CU_CHECK_GOTO(c->cu, cuCtxSynchronize(), st, out);
out:
	return st;
}

static enum paella_status
cuda_mem_read(struct paella__backend *b, void *dst, uint64_t dptr, size_t bytes)
{
	struct cuda *c = to_cuda(b);
	enum paella_status st = cuda_bind_thread(b);

	if (st != PAELLA_STATUS_OK)
		return st;
	PAELLA_CU_CHECK_GOTO(c->cu, cuMemcpyDtoH(dst, dptr, bytes), st, out);
out:
	return st;
}

/* The tail marker for blocks of @k of @threads threads and @dsmem bytes of
 * dynamic shared memory, planned once per shape.  False when none fits. */
static bool
marker_for(struct cuda *c, struct cuda_kernel *k, unsigned threads, unsigned dsmem,
	   struct paella__marker_launch *out)
{
	bool ok;

	pthread_mutex_lock(&k->marker_lock);
	if (!k->marker_valid || k->marker_threads != threads || k->marker_dsmem != dsmem) {
		enum paella_status st = paella__marker_plan_function(paella__launcher_markers(c->launcher),
								      k->fn, threads, dsmem, &k->marker);

		if (st != PAELLA_STATUS_OK)
			paella__log_info("kernel %s, blocks of %u threads: no tail marker (%s); "
					 "it reports through its instrumented code", k->name,
					 threads, paella__error_last());
		k->marker_valid = true;
		k->marker_ok = st == PAELLA_STATUS_OK;
		k->marker_threads = threads;
		k->marker_dsmem = dsmem;
	}
	ok = k->marker_ok;
	*out = k->marker;
	pthread_mutex_unlock(&k->marker_lock);
	return ok;
}

static bool
cuda_tail_marker_ok(struct paella__backend *b, struct paella__bkernel *kernel,
		    unsigned block_threads, unsigned dynamic_smem)
{
	struct cuda *c = to_cuda(b);
	struct paella__marker_launch m;

	if (c->marker_streams == NULL || cuda_bind_thread(b) != PAELLA_STATUS_OK)
		return false;
	return marker_for(c, (struct cuda_kernel *)kernel, block_threads, dynamic_smem, &m);
}

/* @l as the launch path takes it (launch.h): the kernel @l names runs as
 * it is, with a record of its mode, signalled as @l asks. */
static void
to_launch(const struct paella__launch_desc *l, struct paella__launch *out)
{
	struct cuda_kernel *k = (struct cuda_kernel *)l->kernel;

	memset(out, 0, sizeof(*out));
	out->fn = k->fn;
	out->plain = k->fn;
	out->mode = paella__notify_mode_of(l->instrumented, l->counted);
	out->code = l->tail_marker ? PAELLA__CODE_MARKED : PAELLA__CODE_BUILT;
	memcpy(out->grid, l->grid, sizeof(out->grid));
	memcpy(out->block, l->block, sizeof(out->block));
	out->smem = l->dynamic_smem;
	out->params = l->params;
	out->nparams = l->nparams;
	out->wave_blocks = l->wave_blocks;
	out->untracked = l->untracked;
	out->signal = !l->completion_kernel ? PAELLA__SIGNAL_WRITE_VALUE
		      : l->completion_hint ? PAELLA__SIGNAL_KERNEL_HINT
					   : PAELLA__SIGNAL_KERNEL;
}

/* Launches @l on @stream with a record; on success the caller owns *@rec. */
static enum paella_status
launch_with_record(struct cuda *c, const struct paella__launch_desc *l, CUstream stream,
		   struct paella__notify_record **rec_out)
{
	struct paella__launch launch;

	to_launch(l, &launch);
	return paella__launch(c->launcher, &launch, stream, rec_out);
}

static enum paella_status
cuda_profile(struct paella__backend *b, const struct paella__launch_desc *l, uint64_t *ns)
{
	struct cuda *c = to_cuda(b);
	enum paella_status st;
	CUevent start = NULL, stop = NULL;
	float best_ms = -1.0f;

	*ns = 0;
	st = cuda_bind_thread(b);
	if (st != PAELLA_STATUS_OK)
		return st;
	pthread_mutex_lock(&c->profile_lock);
	PAELLA_CU_CHECK_GOTO(c->cu, cuEventCreate(&start, CU_EVENT_DEFAULT), st, out);
	PAELLA_CU_CHECK_GOTO(c->cu, cuEventCreate(&stop, CU_EVENT_DEFAULT), st, out);
	/* One run more than counted: the first loads the module's code. */
	for (int run = 0; run <= PROFILE_RUNS; run++) {
		struct paella__notify_record *rec = NULL;
		float ms = 0.0f;

		PAELLA_CU_CHECK_GOTO(c->cu, cuEventRecord(start, c->profile_stream), st, out);
		st = launch_with_record(c, l, c->profile_stream, &rec);
		if (st != PAELLA_STATUS_OK)
			goto out;
		PAELLA_CU_CHECK_GOTO(c->cu, cuEventRecord(stop, c->profile_stream), st, err_rec);
		PAELLA_CU_CHECK_GOTO(c->cu, cuStreamSynchronize(c->profile_stream), st, err_rec);
		paella__notify_set_done(rec);
		paella__notify_release(rec);
		PAELLA_CU_CHECK_GOTO(c->cu, cuEventElapsedTime(&ms, start, stop), st, out);
		if (run > 0 && (best_ms < 0.0f || ms < best_ms))
			best_ms = ms;
		continue;
err_rec:
		c->cu->cuStreamSynchronize(c->profile_stream);
		paella__notify_set_done(rec);
		paella__notify_release(rec);
		goto out;
	}
	*ns = (uint64_t)((double)best_ms * 1e6 + 0.5);
out:
	if (stop != NULL)
		c->cu->cuEventDestroy(stop);
	if (start != NULL)
		c->cu->cuEventDestroy(start);
	pthread_mutex_unlock(&c->profile_lock);
	return st;
}

static struct cuda_op *
op_get(struct cuda *c)
{
	struct cuda_op *op = c->free_ops;

	if (op != NULL) {
		c->free_ops = op->next_free;
		return op;
	}
	return calloc(1, sizeof(*op));
}

/* @op was just issued on @stream: its place in the stream's order. */
static void
op_issued(struct cuda *c, struct cuda_op *op, unsigned stream)
{
	op->stream = stream;
	op->stream_seq = ++c->stream_issued[stream];
	op->marker_pending = false;
}

/* Launches @op's pending tail marker if everything before its kernel on its
 * stream has been seen done: the kernel then heads the stream (it may have
 * started already; a late marker only says so late). */
static void
marker_try(struct cuda *c, struct cuda_op *op)
{
	enum paella_status st;

	if (c->stream_seen[op->stream] + 1 < op->stream_seq)
		return;
	op->marker_pending = false;
	st = paella__marker_enqueue(paella__launcher_markers(c->launcher), op->rec,
				    c->marker_streams[op->stream], &op->marker);
	if (st != PAELLA_STATUS_OK)
		/* Only a hint is lost: completion still comes from the stream. */
		paella__log_warn("tail marker not launched: %s", paella__error_last());
}

static enum paella_status
cuda_launch(struct paella__backend *b, const struct paella__launch_desc *l,
	    struct paella__bop **out)
{
	struct cuda *c = to_cuda(b);
	struct cuda_op *op = op_get(c);
	struct paella__launch_desc plain;
	enum paella_status st;
	bool marked = false;

	*out = NULL;
	if (op == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "launch: out of memory");
	PAELLA__ASSERT(c->streams[l->stream] != NULL);
	if (l->untracked) {
		PAELLA__ASSERT(!l->instrumented && !l->tail_marker);
		op->rec = NULL;
		st = launch_with_record(c, l, c->streams[l->stream], NULL);
		if (st != PAELLA_STATUS_OK) {
			op->next_free = c->free_ops;
			c->free_ops = op;
			return st;
		}
		op_issued(c, op, l->stream);
		*out = (struct paella__bop *)op;
		return PAELLA_STATUS_OK;
	}
	if (l->tail_marker) {
		PAELLA__ASSERT(!l->instrumented);
		marked = c->marker_streams != NULL &&
			 marker_for(c, (struct cuda_kernel *)l->kernel,
				    l->block[0] * l->block[1] * l->block[2], l->dynamic_smem,
				    &op->marker);
		if (!marked) {
			/* Completion only, as for any plain kernel. */
			plain = *l;
			plain.tail_marker = false;
			l = &plain;
		}
	}
	st = launch_with_record(c, l, c->streams[l->stream], &op->rec);
	if (st != PAELLA_STATUS_OK) {
		op->next_free = c->free_ops;
		c->free_ops = op;
		return st;
	}
	op_issued(c, op, l->stream);
	if (marked) {
		op->marker_pending = true;
		marker_try(c, op);
	}
	*out = (struct paella__bop *)op;
	return PAELLA_STATUS_OK;
}

/* ---- graphs ------------------------------------------------------------- */

/* A run of kernels captured once and launched with one call.  Each kernel
 * keeps the launch record it was captured with for the graph's life: a
 * graph node's parameters are fixed. */
struct cuda_graph {
	CUgraphExec exec;
	struct paella__notify_record **recs;
	unsigned nrecs;
};

static void
graph_free(struct cuda *c, struct cuda_graph *g)
{
	if (g->exec != NULL)
		c->cu->cuGraphExecDestroy(g->exec);
	for (unsigned i = 0; i < g->nrecs; i++) {
		if (g->exec == NULL) {
			/* Never launched. */
			paella__notify_cancel(g->recs[i]);
		} else {
			/* Only the graph's launches used it, and the caller
			 * has seen them done. */
			paella__notify_set_done(g->recs[i]);
			paella__notify_release(g->recs[i]);
		}
	}
	free(g->recs);
	free(g);
}

static enum paella_status
cuda_graph_create(struct paella__backend *b, const struct paella__launch_desc *descs,
		  unsigned n, void **out)
{
	struct cuda *c = to_cuda(b);
	const struct paella__cu *cu = c->cu;
	struct cuda_graph *g;
	enum paella_status st = PAELLA_STATUS_OK;
	CUgraph graph = NULL;
	CUresult rc;

	*out = NULL;
	if (cu->cuStreamBeginCapture == NULL || cu->cuStreamEndCapture == NULL ||
	    cu->cuGraphInstantiateWithFlags == NULL || cu->cuGraphLaunch == NULL ||
	    cu->cuGraphExecDestroy == NULL || cu->cuGraphDestroy == NULL)
		return paella__error_set(PAELLA_STATUS_UNSUPPORTED,
			"the CUDA driver has no stream capture or graph launch");
	st = cuda_bind_thread(b);
	if (st != PAELLA_STATUS_OK)
		return st;
	g = calloc(1, sizeof(*g));
	if (g == NULL || (g->recs = calloc(n, sizeof(*g->recs))) == NULL) {
		free(g);
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "graph: out of memory");
	}
	/* Records first: making one calls the driver, which a capturing
	 * thread may not. */
	for (unsigned i = 0; i < n; i++) {
		const struct paella__launch_desc *l = &descs[i];
		struct paella__launch launch;

		if (!l->instrumented)
			continue;
		if (l->counted) {
			st = paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				"a count-mode kernel cannot go into a graph: its counters need "
				"per-launch bases");
			goto err;
		}
		to_launch(l, &launch);
		st = paella__launch_record(c->launcher, &launch, &g->recs[g->nrecs]);
		if (st != PAELLA_STATUS_OK)
			goto err;
		g->nrecs++;
	}
	/* The profile stream: nothing else uses it outside a profile. */
	pthread_mutex_lock(&c->profile_lock);
	rc = cu->cuStreamBeginCapture(c->profile_stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
	if (rc != CUDA_SUCCESS) {
		st = paella__cu_fail(cu, rc, "cuStreamBeginCapture", __FILE__, __LINE__);
		pthread_mutex_unlock(&c->profile_lock);
		goto err;
	}
	for (unsigned i = 0, r = 0; i < n && st == PAELLA_STATUS_OK; i++) {
		struct paella__launch launch;

		/* Each kernel keeps its record for the graph's life; the run's
		 * completion is signalled at each graph launch. */
		to_launch(&descs[i], &launch);
		launch.signal = PAELLA__SIGNAL_NONE;
		launch.untracked = !paella__launch_instrumented(&launch);
		if (!launch.untracked)
			launch.record = g->recs[r++];
		st = paella__launch(c->launcher, &launch, c->profile_stream, NULL);
	}
	/* Ended whatever happened, so the stream is usable again. */
	rc = cu->cuStreamEndCapture(c->profile_stream, &graph);
	pthread_mutex_unlock(&c->profile_lock);
	if (st == PAELLA_STATUS_OK && rc != CUDA_SUCCESS)
		st = paella__cu_fail(cu, rc, "cuStreamEndCapture", __FILE__, __LINE__);
	if (st == PAELLA_STATUS_OK)
		PAELLA_CU_CHECK_GOTO(cu, cuGraphInstantiateWithFlags(&g->exec, graph, 0), st, err);
err:
	if (graph != NULL)
		cu->cuGraphDestroy(graph);
	if (st != PAELLA_STATUS_OK) {
		graph_free(c, g);
		return st;
	}
	*out = g;
	return PAELLA_STATUS_OK;
}

static void
cuda_graph_destroy(struct paella__backend *b, void *graph)
{
	if (graph != NULL)
		graph_free(to_cuda(b), graph);
}

static enum paella_status
cuda_graph_launch(struct paella__backend *b, void *graph, unsigned stream,
		  struct paella__bop **out)
{
	struct cuda *c = to_cuda(b);
	struct cuda_graph *g = graph;
	struct cuda_op *op = op_get(c);
	enum paella_status st;
	CUstream s;

	*out = NULL;
	if (op == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "graph launch: out of memory");
	PAELLA__ASSERT(c->streams[stream] != NULL);
	s = c->streams[stream];
	/* One completion for the run: stream order covers its kernels. */
	st = paella__notify_acquire(paella__launcher_pool(c->launcher), 1, PAELLA__NOTIFY_NONE, 0, &op->rec);
	if (st != PAELLA_STATUS_OK)
		goto err;
	PAELLA_CU_CHECK_GOTO(c->cu, cuGraphLaunch(g->exec, s), st, err_cancel);
	op_issued(c, op, stream);
	st = paella__notify_enqueue_completion(op->rec, s);
	if (st != PAELLA_STATUS_OK) {
		c->cu->cuStreamSynchronize(s);
		paella__notify_set_done(op->rec);
	}
	*out = (struct paella__bop *)op;
	return PAELLA_STATUS_OK;
err_cancel:
	paella__notify_cancel(op->rec);
err:
	op->next_free = c->free_ops;
	c->free_ops = op;
	return st;
}

static enum paella_status
cuda_copy(struct paella__backend *b, unsigned stream, enum paella__copy_dir dir,
	  uint64_t dptr, void *host, size_t bytes, struct paella__bop **out)
{
	struct cuda *c = to_cuda(b);
	struct cuda_op *op = op_get(c);
	CUstream s;
	enum paella_status st;

	*out = NULL;
	if (op == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "copy: out of memory");
	PAELLA__ASSERT(c->streams[stream] != NULL);
	s = c->streams[stream];
	op->rec = NULL;
	if (dir == PAELLA__COPY_TO_DEVICE)
		PAELLA_CU_CHECK_GOTO(c->cu, cuMemcpyHtoDAsync(dptr, host, bytes, s), st, err);
	else
		PAELLA_CU_CHECK_GOTO(c->cu, cuMemcpyDtoHAsync(host, dptr, bytes, s), st, err);
	st = paella__notify_acquire(paella__launcher_pool(c->launcher), 1, PAELLA__NOTIFY_NONE, 0, &op->rec);
	if (st != PAELLA_STATUS_OK)
		goto err_sync;
	st = paella__notify_enqueue_completion(op->rec, s);
	if (st != PAELLA_STATUS_OK) {
		paella__notify_cancel(op->rec);
		goto err_sync;
	}
	op_issued(c, op, stream);
	*out = (struct paella__bop *)op;
	return PAELLA_STATUS_OK;
err_sync:
	/* The copy is queued and reads or writes the job's memory: it must
	 * end before the job's buffers are reused. */
	c->cu->cuStreamSynchronize(s);
err:
	op->next_free = c->free_ops;
	c->free_ops = op;
	return st;
}

static bool
cuda_poll(struct paella__backend *b, struct paella__bop *bop, uint64_t *progress)
{
	struct cuda *c = to_cuda(b);
	struct cuda_op *op = (struct cuda_op *)bop;
	bool done;

	PAELLA__ASSERT(op->rec != NULL);
	done = paella__notify_poll(op->rec, progress);
	if (done) {
		/* Done before its turn came: no marker needed. */
		op->marker_pending = false;
		if (op->stream_seq > c->stream_seen[op->stream])
			c->stream_seen[op->stream] = op->stream_seq;
	} else if (op->marker_pending) {
		marker_try(c, op);
	}
	return done;
}

static void
cuda_release(struct paella__backend *b, struct paella__bop *bop)
{
	struct cuda *c = to_cuda(b);
	struct cuda_op *op = (struct cuda_op *)bop;

	if (op->rec != NULL)
		paella__notify_release(op->rec);
	op->rec = NULL;
	op->next_free = c->free_ops;
	c->free_ops = op;
}

static enum paella_status
cuda_stream_create(struct paella__backend *b, int priority, unsigned *id)
{
	struct cuda *c = to_cuda(b);
	enum paella_status st;
	int least = 0, greatest = 0, prio;
	unsigned i;

	for (i = b->nstreams; i < b->nstreams + PAELLA__MAX_DIRECT_STREAMS; i++)
		if (c->streams[i] == NULL)
			break;
	if (i == b->nstreams + PAELLA__MAX_DIRECT_STREAMS)
		return paella__error_set(PAELLA_STATUS_BUSY,
			"paella_stream_create: a runtime holds at most %u direct streams",
			PAELLA__MAX_DIRECT_STREAMS);
	/* CUDA's priorities count down: greatest (e.g. -5) runs first. */
	if (c->cu->cuCtxGetStreamPriorityRange == NULL ||
	    c->cu->cuStreamCreateWithPriority == NULL ||
	    c->cu->cuCtxGetStreamPriorityRange(&least, &greatest) != CUDA_SUCCESS) {
		PAELLA_CU_CHECK_GOTO(c->cu, cuStreamCreate(&c->streams[i], CU_STREAM_NON_BLOCKING),
				     st, out);
	} else {
		prio = least - priority;
		prio = prio < greatest ? greatest : prio > least ? least : prio;
		PAELLA_CU_CHECK_GOTO(c->cu, cuStreamCreateWithPriority(&c->streams[i],
				     CU_STREAM_NON_BLOCKING, prio), st, out);
	}
	c->stream_issued[i] = 0;
	c->stream_seen[i] = 0;
	*id = i;
	return PAELLA_STATUS_OK;
out:
	c->streams[i] = NULL;
	return st;
}

static void
cuda_stream_destroy(struct paella__backend *b, unsigned id)
{
	struct cuda *c = to_cuda(b);

	PAELLA__ASSERT(id >= b->nstreams && c->streams[id] != NULL);
	c->cu->cuStreamSynchronize(c->streams[id]);
	c->cu->cuStreamDestroy(c->streams[id]);
	c->streams[id] = NULL;
}

static void
cuda_advance(struct paella__backend *b, uint64_t until_ns)
{
	/* Notifications land in host memory with no call needed: spin. */
	for (int i = 0; i < ADVANCE_SPINS; i++)
		paella__cpu_relax();
	(void)until_ns;
}

static void
cuda_destroy(struct paella__backend *b)
{
	struct cuda *c = to_cuda(b);

	if (c == NULL)
		return;
	if (c->ctx != NULL)
		c->cu->cuCtxSetCurrent(c->ctx);
	paella__launcher_destroy(c->launcher);
	while (c->free_ops != NULL) {
		struct cuda_op *op = c->free_ops;

		c->free_ops = op->next_free;
		free(op);
	}
	if (c->streams != NULL)
		for (unsigned i = 0; i < c->base.nstreams + PAELLA__MAX_DIRECT_STREAMS; i++)
			if (c->streams[i] != NULL)
				c->cu->cuStreamDestroy(c->streams[i]);
	free(c->streams);
	if (c->marker_streams != NULL)
		for (unsigned i = 0; i < c->base.nstreams; i++)
			if (c->marker_streams[i] != NULL)
				c->cu->cuStreamDestroy(c->marker_streams[i]);
	free(c->marker_streams);
	free(c->stream_issued);
	free(c->stream_seen);
	if (c->profile_stream != NULL)
		c->cu->cuStreamDestroy(c->profile_stream);
	if (c->ctx_retained)
		c->cu->cuDevicePrimaryCtxRelease(c->dev);
	pthread_mutex_destroy(&c->profile_lock);
	paella__cu_close(c->cu);
	free(c);
}

static const struct paella__backend_ops cuda_ops = {
	.name = "cuda",
	.destroy = cuda_destroy,
	.bind_thread = cuda_bind_thread,
	.now_ns = cuda_now_ns,
	.module_load_image = cuda_module_load_image,
	.module_load_sim = cuda_module_load_sim,
	.module_unload = cuda_module_unload,
	.kernel_get = cuda_kernel_get,
	.module_external = cuda_module_external,
	.kernel_wrap = cuda_kernel_wrap,
	.tail_marker_ok = cuda_tail_marker_ok,
	.stream_create = cuda_stream_create,
	.stream_destroy = cuda_stream_destroy,
	.occupancy = cuda_occupancy,
	.mem_alloc = cuda_mem_alloc,
	.mem_free = cuda_mem_free,
	.mem_write = cuda_mem_write,
	.mem_read = cuda_mem_read,
	.profile = cuda_profile,
	.launch = cuda_launch,
	.graph_create = cuda_graph_create,
	.graph_destroy = cuda_graph_destroy,
	.graph_launch = cuda_graph_launch,
	.copy = cuda_copy,
	.poll = cuda_poll,
	.release = cuda_release,
	.advance = cuda_advance,
};

static enum paella_status
device_attr(struct cuda *c, CUdevice_attribute attr, unsigned *out)
{
	enum paella_status st = PAELLA_STATUS_OK;
	int v = 0;

	PAELLA_CU_CHECK_GOTO(c->cu, cuDeviceGetAttribute(&v, attr, c->dev), st, out);
	*out = v > 0 ? (unsigned)v : 0;
out:
	return st;
}

static enum paella_status
read_device(struct cuda *c)
{
	struct paella__device_info *d = &c->base.device;
	static const struct {
		CUdevice_attribute attr;
		size_t offset;
	} attrs[] = {
#define A(a, field) { a, offsetof(struct paella__device_info, field) }
		A(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, sm_count),
		A(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR, sm.max_threads),
		A(CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR, sm.max_regs),
		A(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR, sm.max_smem),
		A(CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR, sm.max_blocks),
		A(CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK, sm.smem_reserved_per_block),
		A(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, max_threads_per_block),
		A(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, max_smem_per_block),
#undef A
	};
	enum paella_status st = PAELLA_STATUS_OK;

	PAELLA_CU_CHECK_GOTO(c->cu, cuDeviceGetName(d->name, sizeof(d->name), c->dev), st, out);
	for (size_t i = 0; i < PAELLA__ARRAY_SIZE(attrs); i++) {
		st = device_attr(c, attrs[i].attr, (unsigned *)((char *)d + attrs[i].offset));
		if (st != PAELLA_STATUS_OK)
			return st;
	}
	d->sm.reg_alloc_unit = 256;
	d->sm.max_regs_per_thread = 255;
	d->sm.max_threads_per_block = d->max_threads_per_block;
	d->sm.max_smem_per_block = d->max_smem_per_block;
	if (d->sm_count == 0)
		return paella__error_set(PAELLA_STATUS_NO_DEVICE,
					 "device %s reports no multiprocessors", d->name);
out:
	return st;
}

/*
 * The job streams, non-blocking: the legacy default stream of a program
 * sharing the primary context must not serialise our jobs.  With tail
 * markers, each gets the highest priority and a partner stream of the
 * lowest for its markers: the block scheduler then starts a marker only
 * when no block of our kernels is waiting for room.
 */
static enum paella_status
create_streams(struct cuda *c, unsigned n, bool want_markers)
{
	enum paella_status st = PAELLA_STATUS_OK;
	int least = 0, greatest = 0;
	bool markers = want_markers && c->cu->cuCtxGetStreamPriorityRange != NULL &&
		       c->cu->cuStreamCreateWithPriority != NULL &&
		       c->cu->cuCtxGetStreamPriorityRange(&least, &greatest) == CUDA_SUCCESS &&
		       least != greatest;

	if (markers && (c->marker_streams = calloc(n, sizeof(*c->marker_streams))) == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "cuda backend: out of memory");
	for (unsigned i = 0; i < n; i++) {
		if (!markers) {
			PAELLA_CU_CHECK_GOTO(c->cu, cuStreamCreate(&c->streams[i],
					     CU_STREAM_NON_BLOCKING), st, out);
			continue;
		}
		PAELLA_CU_CHECK_GOTO(c->cu, cuStreamCreateWithPriority(&c->streams[i],
				     CU_STREAM_NON_BLOCKING, greatest), st, out);
		PAELLA_CU_CHECK_GOTO(c->cu, cuStreamCreateWithPriority(&c->marker_streams[i],
				     CU_STREAM_NON_BLOCKING, least), st, out);
	}
	if (markers)
		paella__log_info("cuda: tail markers on (job streams at priority %d, markers at %d)",
				 greatest, least);
out:
	return st;
}

enum paella_status
paella__backend_cuda_create(const struct paella__backend_params *p, struct paella__backend **out)
{
	enum paella_status st;
	struct cuda *c;
	int count = 0;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "cuda backend: out of memory");
	c->base.ops = &cuda_ops;
	c->base.nstreams = p->nstreams;
	pthread_mutex_init(&c->profile_lock, NULL);
	st = paella__cu_open(&c->cu);
	if (st != PAELLA_STATUS_OK) {
		pthread_mutex_destroy(&c->profile_lock);
		free(c);
		return st;
	}
	PAELLA_CU_CHECK_GOTO(c->cu, cuDeviceGetCount(&count), st, err);
	if (p->device < 0 || p->device >= count) {
		st = paella__error_set(PAELLA_STATUS_NO_DEVICE,
			"CUDA device %d asked for, but the driver sees %d device%s",
			p->device, count, count == 1 ? "" : "s");
		goto err;
	}
	PAELLA_CU_CHECK_GOTO(c->cu, cuDeviceGet(&c->dev, p->device), st, err);
	st = read_device(c);
	if (st != PAELLA_STATUS_OK)
		goto err;
	PAELLA_CU_CHECK_GOTO(c->cu, cuDevicePrimaryCtxRetain(&c->ctx, c->dev), st, err);
	c->ctx_retained = true;
	PAELLA_CU_CHECK_GOTO(c->cu, cuCtxSetCurrent(c->ctx), st, err);
	c->streams = calloc(p->nstreams + PAELLA__MAX_DIRECT_STREAMS, sizeof(*c->streams));
	if (c->streams == NULL) {
		st = paella__error_set(PAELLA_STATUS_NO_MEMORY, "cuda backend: out of memory");
		goto err;
	}
	c->stream_issued = calloc(p->nstreams + PAELLA__MAX_DIRECT_STREAMS,
				  sizeof(*c->stream_issued));
	c->stream_seen = calloc(p->nstreams + PAELLA__MAX_DIRECT_STREAMS, sizeof(*c->stream_seen));
	if (c->stream_issued == NULL || c->stream_seen == NULL) {
		st = paella__error_set(PAELLA_STATUS_NO_MEMORY, "cuda backend: out of memory");
		goto err;
	}
	st = create_streams(c, p->nstreams, p->tail_markers);
	if (st != PAELLA_STATUS_OK)
		goto err;
	PAELLA_CU_CHECK_GOTO(c->cu, cuStreamCreate(&c->profile_stream, CU_STREAM_NON_BLOCKING),
			     st, err);
	st = paella__launcher_create(c->cu, &c->launcher);
	if (st != PAELLA_STATUS_OK)
		goto err;
	paella__log_info("cuda: %s, %u SMs, driver %d", c->base.device.name,
			 c->base.device.sm_count, c->cu->driver_version);
	*out = &c->base;
	return PAELLA_STATUS_OK;
err:
	cuda_destroy(&c->base);
	return st;
}
