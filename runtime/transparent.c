/*
 * transparent.c - paella_launch_kernel(), the entry point that paella-cc's
 * host rewrite calls instead of cudaLaunchKernel, so that a CUDA program
 * built with paella-cc runs unchanged when linked with libpaellart.
 *
 * The kernel is launched at once on the caller's stream, as the program
 * asked: no dispatcher reorders it (the program's own stream order is its
 * semantics).  What the runtime adds is the instrumented kernel's extra last
 * argument, its launch record.
 *
 * The host stub's address becomes a CUfunction through the CUDA runtime
 * the program links (cudaGetFuncBySymbol, CUDA 11+); kernels run in the
 * context the CUDA runtime made current, its primary context.  An extra
 * argument is harmless to a kernel the pass left alone: the driver reads
 * only the parameters the kernel has.
 *
 * Since nothing here reads a launch's progress, a sample-mode kernel with a
 * plain copy in its module (manifest 3; found through cuFuncGetModule and
 * cuFuncGetName, driver 12.3+) runs the copy, with no record and no
 * completion write: the program pays nothing for the instrumentation.
 * Without a copy (or with PAELLA_PLAIN_COPIES=0) it runs its instrumented
 * code with a record that reports nothing, and still no completion write.
 * Only count-mode kernels take records here.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "cuda-driver.h"
#include "launch.h"
#include "log.h"
#include "notify.h"
#include "util.h"

/* Most parameters a kernel can have (the driver's limit is 4 KiB of them,
 * so 1,024 pointers or ints at most). */
#define MAX_PARAMS 1024

typedef int (*get_func_by_symbol_fn)(CUfunction *fn, const void *symbol);

struct outstanding {
	struct paella__notify_record *rec;
	struct outstanding *next;
};

/* A kernel's plain copy, looked up once (NULL: it has none). */
struct plain_entry {
	CUfunction fn, plain;
	struct plain_entry *next;
};

/* One per process: the program may launch from any thread. */
static struct {
	pthread_once_t once;
	enum paella_status status;
	struct paella__cu *cu;
	get_func_by_symbol_fn get_func;
	/* Guards the pool's records in flight (polling a record changes it). */
	pthread_mutex_t lock;
	struct paella__launcher *launcher;
	struct outstanding *in_flight;
	struct plain_entry *plains;
	uint64_t launches;
	/* paella_config.plain_copies as the environment sets it. */
	bool plain_copies;
} g = { PTHREAD_ONCE_INIT, PAELLA_STATUS_OK, NULL, NULL, PTHREAD_MUTEX_INITIALIZER,
	NULL, NULL, NULL, 0, true };

/* @fn's plain copy, or NULL; g.lock held.  A failed look-up (an old driver,
 * no copy) is remembered as NULL: the kernel then runs instrumented. */
static CUfunction
plain_copy(CUfunction fn)
{
	struct plain_entry *e;
	const char *name = NULL;
	char copy[1024];
	CUmodule mod = NULL;
	CUfunction plain = NULL;

	for (e = g.plains; e != NULL; e = e->next)
		if (e->fn == fn)
			return e->plain;
	if (g.plain_copies && g.cu->cuFuncGetName != NULL &&
	    g.cu->cuFuncGetModule != NULL && g.cu->cuFuncGetName(&name, fn) == CUDA_SUCCESS &&
	    g.cu->cuFuncGetModule(&mod, fn) == CUDA_SUCCESS && name != NULL &&
	    (size_t)snprintf(copy, sizeof(copy), "%s%s", name, PAELLA_PLAIN_CLONE_SUFFIX) <
		    sizeof(copy) &&
	    g.cu->cuModuleGetFunction(&plain, mod, copy) != CUDA_SUCCESS)
		plain = NULL;
	e = malloc(sizeof(*e));
	if (e != NULL) {
		e->fn = fn;
		e->plain = plain;
		e->next = g.plains;
		g.plains = e;
	}
	return plain;
}

static void
init_once(void)
{
	struct paella_config config;

	paella_config_init(&config);
	g.plain_copies = config.plain_copies;
	g.status = paella__cu_open(&g.cu);
	if (g.status != PAELLA_STATUS_OK)
		return;
	*(void **)&g.get_func = paella__cudart_func_lookup();
	if (g.get_func == NULL) {
		g.status = paella__error_set(PAELLA_STATUS_UNSUPPORTED,
			"paella_launch_kernel: cudaGetFuncBySymbol is not in the process: "
			"link the program with the shared CUDA runtime 11 or newer (-lcudart), "
			"as paella-cc does");
		return;
	}
	g.status = paella__launcher_create(g.cu, &g.launcher);
}

/* Returns the records of launches that completed; g.lock held. */
static void
reap(void)
{
	struct outstanding **pp = &g.in_flight;

	while (*pp != NULL) {
		struct outstanding *o = *pp;

		if (!paella__notify_done(o->rec)) {
			pp = &o->next;
			continue;
		}
		paella__notify_release(o->rec);
		*pp = o->next;
		free(o);
	}
}

/* Whether @stream is being captured into a graph (an old driver: no). */
static bool
capturing(CUstream stream)
{
	CUstreamCaptureStatus cs = CU_STREAM_CAPTURE_STATUS_NONE;

	return g.cu->cuStreamIsCapturing != NULL &&
	       g.cu->cuStreamIsCapturing(stream, &cs) == CUDA_SUCCESS &&
	       cs != CU_STREAM_CAPTURE_STATUS_NONE;
}

static int
launch(const void *func, struct paella_dim3 grid, struct paella_dim3 block, void **args,
       size_t shmem, CUstream stream, int nparams)
{
	struct paella__notify_record *rec = NULL;
	struct paella__launch l = { 0 };
	struct outstanding *o = NULL;
	void *params[MAX_PARAMS + 1];
	enum paella_status st;
	CUfunction fn = NULL;
	enum paella__notify_mode mode;
	CUresult rc = CUDA_SUCCESS;
	int err;

	/* Between paella_model_capture_begin() and _end() this thread's
	 * launches are recorded into the model, not run (capture.c). */
	if (paella__capture_active())
		return paella__capture_launch(func, grid, block, args, shmem, nparams);
	mode = (nparams & PAELLA_LAUNCH_COUNT_MODE) != 0 ? PAELLA__NOTIFY_COUNT
							 : PAELLA__NOTIFY_SAMPLE;
	nparams &= ~PAELLA_LAUNCH_COUNT_MODE;
	pthread_once(&g.once, init_once);
	if (g.status != PAELLA_STATUS_OK)
		return paella__cudart_error(g.status);
	if (func == NULL || nparams < 0 || nparams > MAX_PARAMS || (nparams > 0 && args == NULL) ||
	    shmem > UINT32_MAX) {
		paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_launch_kernel: bad arguments (kernel %p, %d parameters)", func, nparams);
		return CUDART_ERROR_INVALID_VALUE;
	}
	/* The CUDA runtime's own error codes pass through. */
	err = g.get_func(&fn, func);
	if (err != 0)
		return err;
	memcpy(params, args, (size_t)nparams * sizeof(void *));
	/* Nothing here reads a launch's progress: the plain copy where there
	 * is one, else the instrumented code with a record that reports
	 * nothing, and no signal.  Sample mode so needs no record at all: none
	 * to allocate (a record made while the program's own kernel spins on a
	 * flag the host sets later, as UnifiedMemoryPerf's does, would wait on
	 * that kernel: pinned allocations may synchronize), none to recycle,
	 * nothing for a graph capture to record.  Count mode's kernels count
	 * into their record in every block: they get one, and cannot be
	 * captured into a graph, which would replay it. */
	l.untracked = mode == PAELLA__NOTIFY_SAMPLE;
	if (!l.untracked) {
		if (capturing(stream)) {
			paella__error_set(PAELLA_STATUS_UNSUPPORTED,
				"paella_launch_kernel: a count-mode kernel cannot be captured into "
				"a CUDA graph (its blocks count into a record a replay would "
				"reuse): build it in sample mode, or with --paella-skip");
			return CUDART_ERROR_NOT_SUPPORTED;
		}
		o = malloc(sizeof(*o));
		if (o == NULL)
			return CUDART_ERROR_MEMORY_ALLOCATION;
	}

	pthread_mutex_lock(&g.lock);
	reap();
	l.fn = fn;
	l.mode = mode;
	l.plain = mode == PAELLA__NOTIFY_SAMPLE ? plain_copy(fn) : NULL;
	l.code = l.plain != NULL ? PAELLA__CODE_PLAIN : PAELLA__CODE_BUILT;
	paella__dim3_put(l.grid, grid);
	paella__dim3_put(l.block, block);
	l.smem = (unsigned)shmem;
	l.params = params;
	l.nparams = (unsigned)nparams;
	/* The wave is not asked of the driver here (a call per launch): the
	 * progress of these launches only recycles their records. */
	l.wave_blocks = 0;
	l.signal = PAELLA__SIGNAL_WRITE_VALUE;
	l.launch_error = &rc;
	st = paella__launch(g.launcher, &l, stream, &rec);
	if (st != PAELLA_STATUS_OK || rec == NULL) {
		if (st == PAELLA_STATUS_OK)
			g.launches++;
		pthread_mutex_unlock(&g.lock);
		free(o);
		/* Driver and runtime codes coincide for launch errors. */
		if (rc != CUDA_SUCCESS)
			return (int)rc;
		return paella__cudart_error(st);
	}
	o->rec = rec;
	o->next = g.in_flight;
	g.in_flight = o;
	g.launches++;
	pthread_mutex_unlock(&g.lock);
	return CUDART_SUCCESS;
}

PAELLA_EXPORT int
paella_launch_kernel(const void *func, struct paella_dim3 grid, struct paella_dim3 block,
		     void **args, size_t shmem, void *stream, int nparams)
{
	/* NULL is the legacy default stream: the driver table was resolved
	 * with legacy stream semantics. */
	return launch(func, grid, block, args, shmem, (CUstream)stream, nparams);
}

PAELLA_EXPORT int
paella_launch_kernel_ptsz(const void *func, struct paella_dim3 grid, struct paella_dim3 block,
			  void **args, size_t shmem, void *stream, int nparams)
{
	return launch(func, grid, block, args, shmem,
		      stream != NULL ? (CUstream)stream : CU_STREAM_PER_THREAD, nparams);
}
