/*
 * backend.h - what the runtime needs of a GPU, real or simulated.  Private.
 *
 * The dispatcher, models and modules are written against this table only,
 * so the same dispatcher and policies run on the CUDA driver
 * (backend-cuda.c) and on the simulator (backend-sim.c).
 *
 * Threads: module, kernel, memory and profile calls come from API threads
 * and must be safe against each other and against the dispatcher; launch,
 * copy, poll, release and advance come only from the thread
 * running the dispatcher, one at a time.  Every thread calls bind_thread()
 * before its first call (it makes the CUDA context current).
 *
 * A launch or copy returns an op handle; poll() it until done, then
 * release() it.  Ops of one stream complete in the order issued.
 */
#ifndef PAELLA_BACKEND_H
#define PAELLA_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "occupancy.h"
#include "paella/paella.h"

struct paella__backend;
/* A kernel of a loaded module; lives as long as its module. */
struct paella__bkernel;
/* A launch or copy in flight. */
struct paella__bop;

struct paella__device_info {
	char name[128];
	unsigned sm_count;
	/* For messages and the simulator; cuda asks the occupancy API. */
	struct paella__sm_limits sm;
	unsigned max_threads_per_block;
	unsigned max_smem_per_block;
};

struct paella__kernel_attrs {
	unsigned regs_per_thread;
	unsigned static_smem;
	/* The most threads a block of this kernel may have. */
	unsigned max_threads_per_block;
};

struct paella__launch_desc {
	struct paella__bkernel *kernel;
	unsigned stream;
	unsigned grid[3];
	unsigned block[3];
	unsigned dynamic_smem;
	/* nparams + 1 entries: the backend stores the launch record's address
	 * in params[nparams] when @instrumented. */
	void **params;
	unsigned nparams;
	bool instrumented;
	/* Instrumented in count mode rather than sample mode. */
	bool counted;
	/* @kernel is a plain copy of a grid of more than a wave: launch a tail
	 * marker beside it (notify.h, PAELLA__NOTIFY_MARKER) once it heads its
	 * stream; progress is the grid less a wave once the marker is seen. */
	bool tail_marker;
	/* Blocks of this kernel that one wave of the GPU holds (0: unknown):
	 * sets a sample-mode launch's interval. */
	uint64_t wave_blocks;
	/* Signal completion with the completion kernel where the backend has
	 * one (paella_config.completion_kernel_ns), else by write-value. */
	bool completion_kernel;
	/* Something in the stream follows this kernel before its job ends:
	 * its completion is a scheduling hint and need not make its writes
	 * visible to the CPU first (the completion kernel's relaxed store). */
	bool completion_hint;
	/* Direct mode: no record and no completion signal of its own (a later
	 * op on the stream says when the stream got past it); the op must not
	 * be polled, only released once a later op was seen done.  Only for
	 * uninstrumented launches. */
	bool untracked;
};

enum paella__copy_dir {
	PAELLA__COPY_TO_DEVICE,
	PAELLA__COPY_TO_HOST,
};

struct paella__backend_ops {
	const char *name;
	void (*destroy)(struct paella__backend *b);
	enum paella_status (*bind_thread)(struct paella__backend *b);
	/* The runtime's clock; any thread. */
	uint64_t (*now_ns)(struct paella__backend *b);

	/* An image of paella-cc: *abi_version 0 when the module has none,
	 * *manifest malloc'd text or NULL. */
	enum paella_status (*module_load_image)(struct paella__backend *b,
						const void *image, size_t bytes,
						void **module, unsigned *abi_version,
						char **manifest);
	enum paella_status (*module_load_sim)(struct paella__backend *b,
					      const struct paella_sim_module *desc,
					      void **module);
	void (*module_unload)(struct paella__backend *b, void *module);
	/* PAELLA_STATUS_NOT_FOUND when @module has no kernel @name. */
	enum paella_status (*kernel_get)(struct paella__backend *b, void *module,
					 const char *name, struct paella__bkernel **out,
					 struct paella__kernel_attrs *attrs);
	/* Model capture; NULL where the backend has no such thing (sim).
	 * module_external: a module of no image, to hold functions that the
	 * program's own CUDA runtime loaded; PAELLA_STATUS_UNSUPPORTED, with a
	 * message, when the driver cannot say a function's parameter sizes.
	 * Unloaded with module_unload. */
	enum paella_status (*module_external)(struct paella__backend *b, void **module);
	/* Wraps @function (a CUfunction of the backend's context) as a kernel
	 * of external @module, named @name in messages; *@nparams gets its
	 * parameter count as compiled (the launch record's included) and
	 * @sizes the first @max parameter sizes. */
	enum paella_status (*kernel_wrap)(struct paella__backend *b, void *module,
					  void *function, const char *name,
					  struct paella__bkernel **out,
					  struct paella__kernel_attrs *attrs,
					  size_t *sizes, unsigned max, unsigned *nparams);
	/* Whether launches of @kernel (a plain copy) at this block size can
	 * carry a tail marker; NULL where the backend has none.  From API
	 * threads, at model load. */
	bool (*tail_marker_ok)(struct paella__backend *b, struct paella__bkernel *kernel,
			       unsigned block_threads, unsigned dynamic_smem);
	/* Resident blocks per SM of @kernel at this block size: 0 when one
	 * block does not fit. */
	enum paella_status (*occupancy)(struct paella__backend *b,
					struct paella__bkernel *kernel,
					unsigned block_threads, unsigned dynamic_smem,
					unsigned *blocks_per_sm);

	enum paella_status (*mem_alloc)(struct paella__backend *b, size_t bytes,
					uint64_t *dptr);
	void (*mem_free)(struct paella__backend *b, uint64_t dptr);
	/* Synchronous, from API threads (weights, tests). */
	enum paella_status (*mem_write)(struct paella__backend *b, uint64_t dptr,
					const void *src, size_t bytes);
	enum paella_status (*mem_read)(struct paella__backend *b, void *dst,
				       uint64_t dptr, size_t bytes);

	/* The kernel run alone, synchronously, on a stream of its own: its
	 * duration in ns.  From API threads, while the dispatcher runs. */
	enum paella_status (*profile)(struct paella__backend *b,
				      const struct paella__launch_desc *launch,
				      uint64_t *ns);

	enum paella_status (*launch)(struct paella__backend *b,
				     const struct paella__launch_desc *launch,
				     struct paella__bop **op);
	/* Runs of kernels launched as one unit (a CUDA graph); NULL where the
	 * backend has none (sim).  graph_create captures @descs in order
	 * (count-mode kernels excluded: their counters need per-launch
	 * bases), filling each instrumented one's record slot with a record
	 * the graph keeps; graph_launch enqueues the run on @stream as one op
	 * whose completion is the run's; graph_destroy after its last launch
	 * was seen done. */
	enum paella_status (*graph_create)(struct paella__backend *b,
					   const struct paella__launch_desc *descs, unsigned n,
					   void **graph);
	void (*graph_destroy)(struct paella__backend *b, void *graph);
	enum paella_status (*graph_launch)(struct paella__backend *b, void *graph,
					   unsigned stream, struct paella__bop **out);
	enum paella_status (*copy)(struct paella__backend *b, unsigned stream,
				   enum paella__copy_dir dir, uint64_t dptr,
				   void *host, size_t bytes, struct paella__bop **op);
	/* Whether @op completed; *@progress (may be NULL) gets the blocks
	 * known finished (0 for a copy until done). */
	bool (*poll)(struct paella__backend *b, struct paella__bop *op,
		     uint64_t *progress);
	void (*release)(struct paella__backend *b, struct paella__bop *op);
	/* Direct mode's streams, beyond the pool's: *@id from nstreams up;
	 * @priority as paella_stream_create().  stream_destroy waits for what
	 * the stream holds.  From the thread running the dispatcher. */
	enum paella_status (*stream_create)(struct paella__backend *b, int priority,
					    unsigned *id);
	void (*stream_destroy)(struct paella__backend *b, unsigned id);
	/* The dispatcher has nothing to do until something changes: let time
	 * pass, but never past @until_ns (UINT64_MAX: no limit).  The
	 * simulator runs its next event, or moves its clock to @until_ns when
	 * that comes first or nothing is in flight; the GPU backend spins a
	 * moment. */
	void (*advance)(struct paella__backend *b, uint64_t until_ns);
};

/* The table entries every backend has, in two groups named by the prefix
 * of their functions: @state_prefix_destroy and the rest of the backend's
 * own state (clock, modules, memory), @stream_prefix_launch and the rest of
 * the work that goes onto streams, with bind_thread, which that work needs
 * first (the CUDA backend's is beside it, in backend-cuda.h).  Listed here,
 * beside the struct, so that a backend lacking one does not build; the
 * CUDA backend keeps the two groups in two files, hence two prefixes.  The
 * optional entries are named by hand. */
#define PAELLA__BACKEND_OPS(state_prefix, stream_prefix) \
	.destroy = state_prefix##_destroy, \
	.now_ns = state_prefix##_now_ns, \
	.module_load_image = state_prefix##_module_load_image, \
	.module_load_sim = state_prefix##_module_load_sim, \
	.module_unload = state_prefix##_module_unload, \
	.kernel_get = state_prefix##_kernel_get, \
	.occupancy = state_prefix##_occupancy, \
	.mem_alloc = state_prefix##_mem_alloc, \
	.mem_free = state_prefix##_mem_free, \
	.mem_write = state_prefix##_mem_write, \
	.mem_read = state_prefix##_mem_read, \
	.advance = state_prefix##_advance, \
	.bind_thread = stream_prefix##_bind_thread, \
	.profile = stream_prefix##_profile, \
	.launch = stream_prefix##_launch, \
	.graph_create = stream_prefix##_graph_create, \
	.graph_destroy = stream_prefix##_graph_destroy, \
	.graph_launch = stream_prefix##_graph_launch, \
	.copy = stream_prefix##_copy, \
	.poll = stream_prefix##_poll, \
	.release = stream_prefix##_release, \
	.stream_create = stream_prefix##_stream_create, \
	.stream_destroy = stream_prefix##_stream_destroy

struct paella__backend {
	const struct paella__backend_ops *ops;
	struct paella__device_info device;
	/* Streams the backend made at creation: ids 0 .. nstreams - 1; direct
	 * mode's come after, up to nstreams + PAELLA__MAX_DIRECT_STREAMS. */
	unsigned nstreams;
};

/* Direct-mode streams a runtime may hold at once (a cap of requests in
 * flight per stream, as the serving benchmark's baselines use them). */
#define PAELLA__MAX_DIRECT_STREAMS 512u

/* Parameters of the backends' constructors. */
struct paella__backend_params {
	int device;
	unsigned nstreams;
	const char *sim_card;
	uint64_t sim_seed;
	double sim_jitter;
	/* cuda: make the streams tail markers need (paella_config.progress
	 * is PAELLA_PROGRESS_MARKERS and plain copies are on). */
	bool tail_markers;
};

/* A backend's constructor; every backend has one of this type, so it is
 * declared once and the backends are named by it. */
typedef enum paella_status paella__backend_create_fn(const struct paella__backend_params *params,
						     struct paella__backend **out);

paella__backend_create_fn paella__backend_cuda_create;
paella__backend_create_fn paella__backend_sim_create;

#endif /* PAELLA_BACKEND_H */
