/*
 * backend-cuda.h - the cuda backend's state, shared by its two halves.
 * Private to backend-cuda.c and cuda-ops.c.
 *
 * backend-cuda.c opens the driver, reads the device, makes the context and
 * the job streams, loads modules and looks up their kernels, allocates
 * memory, and holds the backend table.  cuda-ops.c does the work that goes
 * onto streams: profiles, launches with their tail markers, graph runs and
 * copies, each an op polled through its launch record.  The table's entries
 * for the second are the paella__cuda_* functions below.
 */
#ifndef PAELLA_BACKEND_CUDA_H
#define PAELLA_BACKEND_CUDA_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <cuda.h>

#include "backend.h"
#include "cuda-driver.h"
#include "launch.h"

struct paella__cuda_kernel {
	CUfunction fn;
	char *name;
	struct paella__cuda_kernel *next;
	/* The tail marker for the last block shape asked for (the dispatcher's
	 * thread and model load; a step keeps one shape). */
	pthread_mutex_t marker_lock;
	bool marker_valid;
	bool marker_ok;
	unsigned marker_threads;
	unsigned marker_dsmem;
	struct paella__marker_launch marker;
};

/* A launch, copy or graph run in flight; private to cuda-ops.c. */
struct paella__cuda_op;

struct paella__cuda {
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
	struct paella__cuda_op *free_ops;
};

static inline struct paella__cuda *
paella__cuda_of(struct paella__backend *b)
{
	return (struct paella__cuda *)b;
}

/* Makes the backend's context current in the calling thread. */
static inline enum paella_status
paella__cuda_bind_thread(struct paella__backend *b)
{
	struct paella__cuda *c = paella__cuda_of(b);
	enum paella_status st = PAELLA_STATUS_OK;

	PAELLA_CU_CHECK_GOTO(c->cu, cuCtxSetCurrent(c->ctx), st, out);
out:
	return st;
}

/* The tail marker for blocks of @k of @threads threads and @dsmem bytes of
 * dynamic shared memory, planned once per shape.  False when none fits. */
bool
paella__cuda_marker_for(struct paella__cuda *c, struct paella__cuda_kernel *k, unsigned threads,
			unsigned dsmem, struct paella__marker_launch *out);

/* Frees the ops kept for reuse (at destroy). */
void
paella__cuda_free_ops(struct paella__cuda *c);

/* The backend table's entries of cuda-ops.c (backend.h says what each does). */
enum paella_status
paella__cuda_profile(struct paella__backend *b, const struct paella__launch_desc *l, uint64_t *ns);
enum paella_status
paella__cuda_launch(struct paella__backend *b, const struct paella__launch_desc *l,
		    struct paella__bop **out);
enum paella_status
paella__cuda_graph_create(struct paella__backend *b, const struct paella__launch_desc *descs,
			  unsigned n, void **out);
void
paella__cuda_graph_destroy(struct paella__backend *b, void *graph);
enum paella_status
paella__cuda_graph_launch(struct paella__backend *b, void *graph, unsigned stream,
			  struct paella__bop **out);
enum paella_status
paella__cuda_copy(struct paella__backend *b, unsigned stream, enum paella__copy_dir dir,
		  uint64_t dptr, void *host, size_t bytes, struct paella__bop **out);
bool
paella__cuda_poll(struct paella__backend *b, struct paella__bop *bop, uint64_t *progress);
void
paella__cuda_release(struct paella__backend *b, struct paella__bop *bop);
enum paella_status
paella__cuda_stream_create(struct paella__backend *b, int priority, unsigned *id);
void
paella__cuda_stream_destroy(struct paella__backend *b, unsigned id);

#endif /* PAELLA_BACKEND_CUDA_H */
