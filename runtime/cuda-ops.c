/*
 * cuda-ops.c - the cuda backend's work on its streams (backend-cuda.h):
 * profiles, launches with their tail markers, graph runs and copies.
 *
 * Each launch takes a launch record (notify.c) whose host-mapped words give
 * its progress and completion, and each copy or graph run a completion-only
 * record written by a stream write-value after it.  A tail marker goes out
 * once its kernel heads its stream, which the ops seen done on that stream
 * tell.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backend-cuda.h"
#include "launch.h"
#include "list.h"
#include "log.h"
#include "notify.h"
#include "util.h"

/* Profile runs of a kernel at finalize: the fastest of these counts. */
#define PROFILE_RUNS 3

struct paella__cuda_op {
	struct paella__notify_record *rec;
	struct paella__cuda_op *next_free;
	/* Its stream, and its place in that stream's order (from 1). */
	unsigned stream;
	uint64_t stream_seq;
	/* A tail marker waits for the ops before it on its stream. */
	bool marker_pending;
	struct paella__marker_launch marker;
};

bool
paella__cuda_marker_for(struct paella__cuda *c, struct paella__cuda_kernel *k, unsigned threads,
			unsigned dsmem, struct paella__marker_launch *out)
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

/* @l as the launch path takes it (launch.h): the kernel @l names runs as
 * it is, with a record of its mode, signalled as @l asks. */
static void
to_launch(const struct paella__launch_desc *l, struct paella__launch *out)
{
	struct paella__cuda_kernel *k = (struct paella__cuda_kernel *)l->kernel;

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
launch_with_record(struct paella__cuda *c, const struct paella__launch_desc *l, CUstream stream,
		   struct paella__notify_record **rec_out)
{
	struct paella__launch launch;

	to_launch(l, &launch);
	return paella__launch(c->launcher, &launch, stream, rec_out);
}

enum paella_status
paella__cuda_profile(struct paella__backend *b, const struct paella__launch_desc *l, uint64_t *ns)
{
	struct paella__cuda *c = paella__cuda_of(b);
	enum paella_status st;
	CUevent start = NULL, stop = NULL;
	float best_ms = -1.0f;

	*ns = 0;
	st = paella__cuda_bind_thread(b);
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

/* An op from the free list, else a new one; NULL when out of memory. */
static struct paella__cuda_op *
op_get(struct paella__cuda *c)
{
	struct paella__cuda_op *op;

	PAELLA__FREE_POP(c->free_ops, op, next_free);
	return op != NULL ? op : calloc(1, sizeof(*op));
}

static void
op_put(struct paella__cuda *c, struct paella__cuda_op *op)
{
	PAELLA__FREE_PUSH(c->free_ops, op, next_free);
}

void
paella__cuda_free_ops(struct paella__cuda *c)
{
	PAELLA__FREE_DRAIN(c->free_ops, next_free, free);
}

/* @op was just issued on @stream: its place in the stream's order. */
static void
op_issued(struct paella__cuda *c, struct paella__cuda_op *op, unsigned stream)
{
	op->stream = stream;
	op->stream_seq = ++c->stream_issued[stream];
	op->marker_pending = false;
}

/* Launches @op's pending tail marker if everything before its kernel on its
 * stream has been seen done: the kernel then heads the stream (it may have
 * started already; a late marker only says so late). */
static void
marker_try(struct paella__cuda *c, struct paella__cuda_op *op)
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

enum paella_status
paella__cuda_launch(struct paella__backend *b, const struct paella__launch_desc *l,
	    struct paella__bop **out)
{
	struct paella__cuda *c = paella__cuda_of(b);
	struct paella__cuda_op *op = op_get(c);
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
			op_put(c, op);
			return st;
		}
		op_issued(c, op, l->stream);
		*out = (struct paella__bop *)op;
		return PAELLA_STATUS_OK;
	}
	if (l->tail_marker) {
		PAELLA__ASSERT(!l->instrumented);
		marked = c->marker_streams != NULL &&
			 paella__cuda_marker_for(c, (struct paella__cuda_kernel *)l->kernel,
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
		op_put(c, op);
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
graph_free(struct paella__cuda *c, struct cuda_graph *g)
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

enum paella_status
paella__cuda_graph_create(struct paella__backend *b, const struct paella__launch_desc *descs,
		  unsigned n, void **out)
{
	struct paella__cuda *c = paella__cuda_of(b);
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
	st = paella__cuda_bind_thread(b);
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

void
paella__cuda_graph_destroy(struct paella__backend *b, void *graph)
{
	if (graph != NULL)
		graph_free(paella__cuda_of(b), graph);
}

enum paella_status
paella__cuda_graph_launch(struct paella__backend *b, void *graph, unsigned stream,
		  struct paella__bop **out)
{
	struct paella__cuda *c = paella__cuda_of(b);
	struct cuda_graph *g = graph;
	struct paella__cuda_op *op = op_get(c);
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
	op_put(c, op);
	return st;
}

enum paella_status
paella__cuda_copy(struct paella__backend *b, unsigned stream, enum paella__copy_dir dir,
	  uint64_t dptr, void *host, size_t bytes, struct paella__bop **out)
{
	struct paella__cuda *c = paella__cuda_of(b);
	struct paella__cuda_op *op = op_get(c);
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
	op_put(c, op);
	return st;
}

bool
paella__cuda_poll(struct paella__backend *b, struct paella__bop *bop, uint64_t *progress)
{
	struct paella__cuda *c = paella__cuda_of(b);
	struct paella__cuda_op *op = (struct paella__cuda_op *)bop;
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

void
paella__cuda_release(struct paella__backend *b, struct paella__bop *bop)
{
	struct paella__cuda *c = paella__cuda_of(b);
	struct paella__cuda_op *op = (struct paella__cuda_op *)bop;

	if (op->rec != NULL)
		paella__notify_release(op->rec);
	op->rec = NULL;
	op_put(c, op);
}

enum paella_status
paella__cuda_stream_create(struct paella__backend *b, int priority, unsigned *id)
{
	struct paella__cuda *c = paella__cuda_of(b);
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

void
paella__cuda_stream_destroy(struct paella__backend *b, unsigned id)
{
	struct paella__cuda *c = paella__cuda_of(b);

	PAELLA__ASSERT(id >= b->nstreams && c->streams[id] != NULL);
	c->cu->cuStreamSynchronize(c->streams[id]);
	c->cu->cuStreamDestroy(c->streams[id]);
	c->streams[id] = NULL;
}
