/*
 * backend-sim.c - a GPU simulated in virtual time, for testing policies and
 * the dispatcher deterministically and for machines without a GPU.
 *
 * The backend table over the simulated card of sim-hardware.c: modules of
 * kernels described by their resources and block durations, device memory
 * that is host memory, and launches, copies and graph runs made into ops of
 * the card.  Time moves only in advance(), which the thread running the
 * dispatcher calls.  Kernels do not execute: copies move bytes, so a
 * model's data path is still checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend-sim.h"
#include "cards.h"
#include "image-manifest.h"
#include "list.h"
#include "log.h"
#include "sim-hardware.h"
#include "util.h"

/* The longest a simulated block may run: virtual time is 64-bit
 * nanoseconds, and a run's events must never wrap it. */
#define SIM_MAX_BLOCK_NS (UINT64_C(3600) * 1000000000)

struct sim_kernel {
	char *name;
	unsigned regs_per_thread;
	unsigned static_smem;
	uint64_t block_ns;
};

struct sim_module {
	unsigned count;
	struct sim_kernel *kernels;
};

/* Before each block of simulated device memory: its size, for free. */
struct alloc_header {
	uint64_t bytes;
	uint64_t pad;
};

static struct paella__sim *
to_sim(struct paella__backend *b)
{
	return (struct paella__sim *)b;
}

/* ---- the backend table ---------------------------------------------------- */

static enum paella_status
sim_bind_thread(struct paella__backend *b)
{
	return PAELLA_STATUS_OK;
}

static uint64_t
sim_now_ns(struct paella__backend *b)
{
	return __atomic_load_n(&to_sim(b)->now, __ATOMIC_RELAXED);
}

static enum paella_status
sim_module_load_sim(struct paella__backend *b, const struct paella_sim_module *desc,
		    void **module);

/* A cubin's kernels, each block running PAELLA_SIM_IMAGE_BLOCK_NS. */
static enum paella_status
sim_module_load_image(struct paella__backend *b, const void *image, size_t bytes,
		      void **module, unsigned *abi_version, char **manifest)
{
	struct paella__image img;
	struct paella_sim_module desc;
	enum paella_status st;

	*module = NULL;
	*abi_version = 0;
	*manifest = NULL;
	st = paella__image_read(image, bytes, &img);
	if (st != PAELLA_STATUS_OK)
		return st;
	st = paella__image_sim_kernels(&img, &desc);
	if (st == PAELLA_STATUS_OK) {
		st = sim_module_load_sim(b, &desc, module);
		free((void *)desc.kernels);
	}
	if (st == PAELLA_STATUS_OK) {
		*abi_version = img.abi_version;
		*manifest = img.manifest;
		img.manifest = NULL;
	}
	paella__image_fini(&img);
	return st;
}

static void
module_free(struct sim_module *m)
{
	if (m == NULL)
		return;
	for (unsigned i = 0; i < m->count; i++)
		free(m->kernels[i].name);
	free(m->kernels);
	free(m);
}

static enum paella_status
sim_module_load_sim(struct paella__backend *b, const struct paella_sim_module *desc,
		    void **module)
{
	struct sim_module *m;

	*module = NULL;
	PAELLA__NEW_OR_RETURN(m, "sim module: out of memory");
	m->kernels = calloc(desc->nkernels ? desc->nkernels : 1, sizeof(*m->kernels));
	if (m->kernels == NULL)
		goto oom;
	for (unsigned i = 0; i < desc->nkernels; i++) {
		const struct paella_sim_kernel *k = &desc->kernels[i];

		if (k->name == NULL || k->block_ns == 0 || k->block_ns > SIM_MAX_BLOCK_NS) {
			module_free(m);
			return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				"sim module: kernel %u has %s: give each kernel a name and "
				"a block duration of 1 ns to 1 hour", i,
				k->name == NULL ? "no name" : k->block_ns == 0 ? "block_ns 0"
									  : "a block_ns over an hour");
		}
		m->kernels[i].name = strdup(k->name);
		if (m->kernels[i].name == NULL)
			goto oom;
		m->count = i + 1;
		m->kernels[i].regs_per_thread = k->regs_per_thread;
		m->kernels[i].static_smem = k->static_smem_bytes;
		m->kernels[i].block_ns = k->block_ns;
	}
	*module = m;
	return PAELLA_STATUS_OK;
oom:
	module_free(m);
	return paella__error_set(PAELLA_STATUS_NO_MEMORY, "sim module: out of memory");
}

static void
sim_module_unload(struct paella__backend *b, void *module)
{
	module_free(module);
}

static enum paella_status
sim_kernel_get(struct paella__backend *b, void *module, const char *name,
	       struct paella__bkernel **out, struct paella__kernel_attrs *attrs)
{
	struct sim_module *m = module;

	for (unsigned i = 0; i < m->count; i++) {
		struct sim_kernel *k = &m->kernels[i];

		if (strcmp(k->name, name) != 0)
			continue;
		*out = (struct paella__bkernel *)k;
		attrs->regs_per_thread = k->regs_per_thread;
		attrs->static_smem = k->static_smem;
		attrs->max_threads_per_block = to_sim(b)->card->sm.max_threads_per_block;
		return PAELLA_STATUS_OK;
	}
	return PAELLA_STATUS_NOT_FOUND;
}

static struct paella__sm_usage
block_of(struct paella__sim *s, const struct sim_kernel *k, unsigned threads, unsigned dyn)
{
	return paella__block_usage(&s->card->sm, threads, k->regs_per_thread,
				   k->static_smem + dyn);
}

static enum paella_status
sim_occupancy(struct paella__backend *b, struct paella__bkernel *kernel,
	      unsigned block_threads, unsigned dynamic_smem, unsigned *blocks_per_sm)
{
	struct paella__sim *s = to_sim(b);
	struct paella__sm_usage blk = block_of(s, (struct sim_kernel *)kernel,
					       block_threads, dynamic_smem);

	*blocks_per_sm = paella__occupancy(&s->card->sm, &blk);
	return PAELLA_STATUS_OK;
}

static enum paella_status
sim_mem_alloc(struct paella__backend *b, size_t bytes, uint64_t *dptr)
{
	struct paella__sim *s = to_sim(b);
	struct alloc_header *h;

	*dptr = 0;
	/* A size beyond the card is refused before it is added: added, a size
	 * near SIZE_MAX would wrap the total round to a small number. */
	if (bytes > s->card->memory_bytes)
		goto too_big;
	if (__atomic_add_fetch(&s->allocated, bytes, __ATOMIC_RELAXED) > s->card->memory_bytes) {
		__atomic_sub_fetch(&s->allocated, bytes, __ATOMIC_RELAXED);
		goto too_big;
	}
	h = calloc(1, sizeof(*h) + bytes);
	if (h == NULL) {
		__atomic_sub_fetch(&s->allocated, bytes, __ATOMIC_RELAXED);
		return paella__error_set(PAELLA_STATUS_NO_MEMORY,
			"sim: no host memory for %zu bytes of simulated device memory", bytes);
	}
	h->bytes = bytes;
	*dptr = (uint64_t)(uintptr_t)(h + 1);
	return PAELLA_STATUS_OK;

too_big:
	return paella__error_set(PAELLA_STATUS_NO_MEMORY,
		"sim: %zu bytes of device memory would exceed the %s's %llu GiB",
		bytes, s->card->name, (unsigned long long)(s->card->memory_bytes >> 30));
}

static void
sim_mem_free(struct paella__backend *b, uint64_t dptr)
{
	struct alloc_header *h;

	if (dptr == 0)
		return;
	h = (struct alloc_header *)(uintptr_t)dptr - 1;
	__atomic_sub_fetch(&to_sim(b)->allocated, h->bytes, __ATOMIC_RELAXED);
	free(h);
}

static enum paella_status
sim_mem_write(struct paella__backend *b, uint64_t dptr, const void *src, size_t bytes)
{
	memcpy((void *)(uintptr_t)dptr, src, bytes);
	return PAELLA_STATUS_OK;
}

static enum paella_status
sim_mem_read(struct paella__backend *b, void *dst, uint64_t dptr, size_t bytes)
{
	memcpy(dst, (const void *)(uintptr_t)dptr, bytes);
	return PAELLA_STATUS_OK;
}

static uint64_t
grid_blocks(const struct paella__launch_desc *l)
{
	return (uint64_t)l->grid[0] * l->grid[1] * l->grid[2];
}

static unsigned
block_threads(const struct paella__launch_desc *l)
{
	return l->block[0] * l->block[1] * l->block[2];
}

static enum paella_status
sim_profile(struct paella__backend *b, const struct paella__launch_desc *l, uint64_t *ns)
{
	struct paella__sim *s = to_sim(b);
	struct sim_kernel *k = (struct sim_kernel *)l->kernel;
	struct paella__sm_usage blk = block_of(s, k, block_threads(l), l->dynamic_smem);
	uint64_t wave = (uint64_t)paella__occupancy(&s->card->sm, &blk) * s->card->sm_count;

	if (wave == 0)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"sim: a block of %s does not fit on an SM", k->name);
	/* Alone, the grid runs in whole waves of one block duration each. */
	*ns = (grid_blocks(l) + wave - 1) / wave * k->block_ns;
	return PAELLA_STATUS_OK;
}

/* Makes the op of kernel launch @l and issues it (@call: in a call of its
 * own, else with the op before it). */
static enum paella_status
launch_op(struct paella__sim *s, const struct paella__launch_desc *l, bool call,
	  struct paella__sim_op **out)
{
	struct sim_kernel *k = (struct sim_kernel *)l->kernel;
	struct paella__sim_op *op;
	double load;

	*out = NULL;
	PAELLA__ASSERT(l->stream < s->base.nstreams + PAELLA__MAX_DIRECT_STREAMS);
	op = paella__sim_op_get(s);
	if (op == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "sim: out of memory for a launch");
	op->kind = PAELLA__SIM_OP_KERNEL;
	op->stream = l->stream;
	op->instrumented = l->instrumented;
	op->counted = l->instrumented && l->counted;
	op->block = block_of(s, k, block_threads(l), l->dynamic_smem);
	op->occupancy = paella__occupancy(&s->card->sm, &op->block);
	op->block_ns = k->block_ns;
	op->nblocks = grid_blocks(l);
	op->unplaced = op->nblocks;
	if (op->occupancy == 0 || op->nblocks == 0) {
		paella__sim_op_put(s, op);
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"sim: launch of %s: %s", k->name,
			op->nblocks == 0 ? "empty grid" : "a block does not fit on an SM");
	}
	if (l->instrumented)
		l->params[l->nparams] = NULL;

	/* Measured at each launch decision: a graph's later kernels come
	 * with its first. */
	load = paella__sim_true_load(s);
	if (call && load > s->stats.max_true_load_at_launch)
		s->stats.max_true_load_at_launch = load;
	s->stats.kernels_launched++;
	paella__list_append(&s->busy, &op->busy_link);
	paella__sim_issue(s, op, call);
	*out = op;
	return PAELLA_STATUS_OK;
}

static enum paella_status
sim_launch(struct paella__backend *b, const struct paella__launch_desc *l,
	   struct paella__bop **out)
{
	return launch_op(to_sim(b), l, true, (struct paella__sim_op **)out);
}

/* ---- graphs: a run of kernels issued in one host call ------------------- */

/* A whole model's kernels fit (the zoo's largest has 126). */
#define SIM_GRAPH_MAX 4096u

struct sim_graph {
	unsigned n;
	struct paella__launch_desc descs[];
};

static enum paella_status
sim_graph_create(struct paella__backend *b, const struct paella__launch_desc *descs, unsigned n,
		 void **out)
{
	struct sim_graph *g;

	*out = NULL;
	if (n == 0 || n > SIM_GRAPH_MAX)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
					 "sim: a graph of %u kernels (1 to %u)", n, SIM_GRAPH_MAX);
	g = calloc(1, sizeof(*g) + n * sizeof(g->descs[0]));
	if (g == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "sim: out of memory for a graph");
	g->n = n;
	memcpy(g->descs, descs, n * sizeof(*descs));
	*out = g;
	return PAELLA_STATUS_OK;
}

static void
sim_graph_destroy(struct paella__backend *b, void *graph)
{
	free(graph);
}

/* One host call; the kernels run in stream order; the run is polled
 * through its last kernel. */
static enum paella_status
sim_graph_launch(struct paella__backend *b, void *graph, unsigned stream,
		 struct paella__bop **out)
{
	struct paella__sim *s = to_sim(b);
	struct sim_graph *g = graph;
	struct paella__sim_op *op = NULL;

	*out = NULL;
	for (unsigned i = 0; i < g->n; i++) {
		struct paella__launch_desc l = g->descs[i];
		enum paella_status st;

		l.stream = stream;
		st = launch_op(s, &l, i == 0, &op);
		/* Checked when the graph was made: every kernel fits. */
		if (st != PAELLA_STATUS_OK)
			PAELLA__BUG("sim: a graph's kernel no longer launches: %s",
				    paella__error_last());
		op->internal = i + 1 < g->n;
	}
	*out = (struct paella__bop *)op;
	return PAELLA_STATUS_OK;
}

static enum paella_status
sim_copy(struct paella__backend *b, unsigned stream, enum paella__copy_dir dir,
	 uint64_t dptr, void *host, size_t bytes, struct paella__bop **out)
{
	struct paella__sim *s = to_sim(b);
	struct paella__sim_op *op;

	*out = NULL;
	PAELLA__ASSERT(stream < s->base.nstreams + PAELLA__MAX_DIRECT_STREAMS);
	op = paella__sim_op_get(s);
	if (op == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "sim: out of memory for a copy");
	op->kind = PAELLA__SIM_OP_COPY;
	op->stream = stream;
	op->dir = dir;
	op->dptr = dptr;
	op->host = host;
	op->bytes = bytes;
	s->stats.copies++;
	paella__sim_issue(s, op, true);
	*out = (struct paella__bop *)op;
	return PAELLA_STATUS_OK;
}

static bool
sim_poll(struct paella__backend *b, struct paella__bop *bop, uint64_t *progress)
{
	struct paella__sim_op *op = (struct paella__sim_op *)bop;

	if (progress != NULL)
		*progress = op->visible;
	return op->visible_done;
}

static void
sim_release(struct paella__backend *b, struct paella__bop *bop)
{
	struct paella__sim *s = to_sim(b);
	struct paella__sim_op *op = (struct paella__sim_op *)bop;

	if (!op->visible_done || op->pending_events != 0)
		PAELLA__BUG("sim: op released before the host saw it complete");
	paella__sim_op_put(s, op);
}

static enum paella_status
sim_stream_create(struct paella__backend *b, int priority, unsigned *id)
{
	struct paella__sim *s = to_sim(b);

	for (unsigned i = b->nstreams; i < b->nstreams + PAELLA__MAX_DIRECT_STREAMS; i++) {
		if (s->streams[i].in_use)
			continue;
		memset(&s->streams[i], 0, sizeof(s->streams[i]));
		s->streams[i].in_use = true;
		s->streams[i].priority = priority;
		*id = i;
		return PAELLA_STATUS_OK;
	}
	return paella__error_set(PAELLA_STATUS_BUSY,
		"paella_stream_create: a runtime holds at most %u direct streams",
		PAELLA__MAX_DIRECT_STREAMS);
}

static void
sim_stream_destroy(struct paella__backend *b, unsigned id)
{
	struct paella__sim *s = to_sim(b);

	/* The caller waited for its ops: nothing on it is left to run. */
	PAELLA__ASSERT(s->streams[id].in_use && s->streams[id].head == NULL);
	s->streams[id].in_use = false;
}

static void
sim_advance(struct paella__backend *b, uint64_t until_ns)
{
	struct paella__sim *s = to_sim(b);

	if (s->nevents > 0 && paella__sim_next_event_ns(s) <= until_ns) {
		paella__sim_step(s);
		return;
	}
	if (until_ns == UINT64_MAX)
		PAELLA__BUG("sim: asked to wait for progress with nothing in flight");
	if (until_ns > s->now)
		__atomic_store_n(&s->now, until_ns, __ATOMIC_RELAXED);
}

static void
sim_destroy(struct paella__backend *b)
{
	struct paella__sim *s = to_sim(b);

	if (s == NULL)
		return;
	paella__sim_fini(s);
	free(s);
}

static const struct paella__backend_ops sim_ops = {
	.name = "sim",
	PAELLA__BACKEND_OPS(sim, sim),
};

enum paella_status
paella__backend_sim_create(const struct paella__backend_params *p,
			   struct paella__backend **out)
{
	const char *name = p->sim_card ? p->sim_card : "H100";
	const struct paella__card *card = paella__card_find(name);
	struct paella__sim *s;

	*out = NULL;
	if (card == NULL)
		return paella__error_set(PAELLA_STATUS_NOT_FOUND,
			"sim: no card called \"%s\"; the simulator knows %s",
			name, paella__card_names());
	PAELLA__NEW_OR_RETURN(s, "sim: out of memory");
	s->base.ops = &sim_ops;
	s->base.nstreams = p->nstreams;
	if (!paella__sim_init(s, card, p->nstreams + PAELLA__MAX_DIRECT_STREAMS, p->sim_seed,
			      p->sim_jitter)) {
		sim_destroy(&s->base);
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "sim: out of memory");
	}

	snprintf(s->base.device.name, sizeof(s->base.device.name), "simulated %s", card->name);
	s->base.device.sm_count = card->sm_count;
	s->base.device.sm = card->sm;
	s->base.device.max_threads_per_block = card->sm.max_threads_per_block;
	s->base.device.max_smem_per_block = card->sm.max_smem_per_block;
	*out = &s->base;
	return PAELLA_STATUS_OK;
}

void
paella__sim_get_stats(struct paella__backend *b, struct paella__sim_stats *out)
{
	PAELLA__ASSERT(paella__backend_is_sim(b));
	*out = to_sim(b)->stats;
}

bool
paella__backend_is_sim(const struct paella__backend *b)
{
	return b != NULL && b->ops == &sim_ops;
}
