/*
 * backend-sim.c - a GPU simulated in virtual time, for testing policies and
 * the dispatcher deterministically and for machines without a GPU.
 *
 * A discrete-event model: SMs with the per-SM limits of a named card; a
 * hardware block scheduler that takes kernels in the order they became
 * ready (arrived and at the head of their stream) and places the first
 * one's blocks breadth-first over the SMs with room, a later kernel only
 * once every block of the earlier ones is placed (head-of-line blocking, the
 * behaviour Paella works around); blocks that a kernel places together run
 * together, for the kernel's profiled block duration times a jitter factor
 * drawn from the seed, and finish as one event.  The host sees progress and
 * completion only after the notification latencies of backend-sim.h.
 *
 * Time moves only in advance(), which the thread running
 * the dispatcher calls; the same inputs in the same order give the same run.
 * Kernels do not execute: copies move bytes (device memory is host memory),
 * so a model's data path is still checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend-sim.h"
#include "cards.h"
#include "image-manifest.h"
#include "list.h"
#include "log.h"
#include "util.h"

/* The longest a simulated block may run: virtual time is 64-bit
 * nanoseconds, and a run's events must never wrap it. */
#define SIM_MAX_BLOCK_NS (UINT64_C(3600) * 1000000000)

/* Groups of SMs whose blocks, placed together, finish at their own time. */
#define SIM_GROUPS 4u

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

enum op_kind { OP_KERNEL, OP_COPY };

struct sim_op {
	enum op_kind kind;
	unsigned stream;
	/* Next op issued on the same stream. */
	struct sim_op *stream_next;
	/* In the scheduler's ready list while blocks remain to place. */
	struct paella__list ready_link;
	/* In the list of kernels whose blocks have not all finished. */
	struct paella__list busy_link;
	bool arrived;
	bool done;
	bool visible_done;
	/* Events that still point at this op. */
	unsigned pending_events;

	/* A kernel of a graph run other than its last: nobody polls it, it
	 * goes back to the free list once its events are all handled. */
	bool internal;

	/* Kernels. */
	bool instrumented;
	bool counted;
	struct paella__sm_usage block;
	unsigned occupancy;
	uint64_t block_ns;
	uint64_t nblocks;
	uint64_t unplaced;
	uint64_t finished;
	uint64_t visible;

	/* Copies. */
	enum paella__copy_dir dir;
	uint64_t dptr;
	void *host;
	size_t bytes;

	struct sim_op *next_free;
};

/* Blocks of one kernel placed at one moment: they finish together. */
struct sim_batch {
	struct sim_op *op;
	uint64_t count;
	/* Blocks on each SM; only SMs first, first + stride, ... have any. */
	uint8_t *per_sm;
	unsigned first;
	unsigned stride;
	struct sim_batch *next_free;
};

enum event_type {
	EV_ARRIVE,
	EV_BATCH_DONE,
	EV_COPY_DONE,
	EV_PROGRESS,
	EV_VISIBLE,
};

struct sim_event {
	uint64_t t;
	/* Order among events of one time: the order they were made. */
	uint64_t seq;
	enum event_type type;
	void *ptr;
	uint64_t count;
};

struct sim_stream {
	struct sim_op *head;
	struct sim_op *tail;
	/* Direct mode's streams: made by stream_create, their priority. */
	bool in_use;
	int priority;
};

struct sim {
	struct paella__backend base;
	const struct paella__card *card;
	double jitter;
	uint64_t rng;

	/* Written by the dispatcher's thread, read by any. */
	uint64_t now;
	/* When the host is done issuing what it issued so far. */
	uint64_t host_free;

	struct sim_stream *streams;
	struct paella__sm_usage *sm_free;
	/* Sums over the SMs (64-bit: 132 SMs of 64K registers overflow
	 * nothing, but a card twice that would). */
	struct {
		uint64_t threads, regs, smem, blocks;
	} total_free;
	/* Scratch for placement: blocks that fit, blocks placed, per SM. */
	unsigned *fit;
	unsigned *placed;
	unsigned next_sm;
	uint64_t resident_threads;

	struct paella__list ready;
	struct paella__list busy;

	struct sim_event *events;
	unsigned nevents;
	unsigned events_cap;
	uint64_t event_seq;

	struct sim_op *free_ops;
	struct sim_batch *free_batches;

	/* Device memory handed out, against the card's. */
	uint64_t allocated;

	struct paella__sim_stats stats;
};

struct alloc_header {
	uint64_t bytes;
	uint64_t pad;
};

static struct sim *
to_sim(struct paella__backend *b)
{
	return (struct sim *)b;
}

/* ---- randomness --------------------------------------------------------- */

static uint64_t
rng_next(struct sim *s)
{
	/* xorshift64*: small, fast, and the same everywhere. */
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * UINT64_C(0x2545f4914f6cdd1d);
}

static uint64_t
jittered(struct sim *s, uint64_t ns)
{
	double u, f;

	if (s->jitter <= 0.0)
		return ns;
	u = (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
	f = 1.0 + s->jitter * (2.0 * u - 1.0);
	return (uint64_t)((double)ns * f + 0.5);
}

/* ---- events ------------------------------------------------------------- */

static bool
event_before(const struct sim_event *a, const struct sim_event *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void
event_push(struct sim *s, uint64_t t, enum event_type type, void *ptr, uint64_t count)
{
	struct sim_event ev = { t, s->event_seq++, type, ptr, count };
	unsigned i;

	if (s->nevents == s->events_cap) {
		unsigned cap = s->events_cap ? s->events_cap * 2 : 256;
		struct sim_event *e = realloc(s->events, cap * sizeof(*e));

		/* Events cannot be dropped without losing work in flight. */
		if (e == NULL)
			PAELLA__BUG("sim: out of memory for %u events", cap);
		s->events = e;
		s->events_cap = cap;
	}
	i = s->nevents++;
	while (i > 0 && event_before(&ev, &s->events[(i - 1) / 2])) {
		s->events[i] = s->events[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->events[i] = ev;
	if (type != EV_BATCH_DONE)
		((struct sim_op *)ptr)->pending_events++;
	else
		((struct sim_batch *)ptr)->op->pending_events++;
}

static struct sim_event
event_pop(struct sim *s)
{
	struct sim_event top = s->events[0];
	struct sim_event last = s->events[--s->nevents];
	unsigned i = 0;

	for (;;) {
		unsigned c = 2 * i + 1;

		if (c >= s->nevents)
			break;
		if (c + 1 < s->nevents && event_before(&s->events[c + 1], &s->events[c]))
			c++;
		if (!event_before(&s->events[c], &last))
			break;
		s->events[i] = s->events[c];
		i = c;
	}
	if (s->nevents > 0)
		s->events[i] = last;
	return top;
}

/* ---- the block scheduler ------------------------------------------------ */

static struct sim_batch *
batch_get(struct sim *s)
{
	struct sim_batch *b = s->free_batches;

	if (b != NULL) {
		s->free_batches = b->next_free;
		memset(b->per_sm, 0, s->card->sm_count);
		return b;
	}
	b = calloc(1, sizeof(*b));
	if (b != NULL)
		b->per_sm = calloc(s->card->sm_count, 1);
	if (b == NULL || b->per_sm == NULL)
		PAELLA__BUG("sim: out of memory for a block batch");
	return b;
}

static void
batch_put(struct sim *s, struct sim_batch *b)
{
	b->next_free = s->free_batches;
	s->free_batches = b;
}

static void
sm_take(struct sim *s, unsigned sm, const struct paella__sm_usage *blk, unsigned n)
{
	struct paella__sm_usage *f = &s->sm_free[sm];

	PAELLA__ASSERT(f->blocks >= n && f->threads >= n * blk->threads &&
		       f->regs >= n * blk->regs && f->smem >= n * blk->smem);
	f->blocks -= n;
	f->threads -= n * blk->threads;
	f->regs -= n * blk->regs;
	f->smem -= n * blk->smem;
	s->total_free.blocks -= n;
	s->total_free.threads -= n * blk->threads;
	s->total_free.regs -= n * blk->regs;
	s->total_free.smem -= n * blk->smem;
}

static void
sm_give(struct sim *s, unsigned sm, const struct paella__sm_usage *blk, unsigned n)
{
	const struct paella__sm_limits *lim = &s->card->sm;
	struct paella__sm_usage *f = &s->sm_free[sm];

	f->blocks += n;
	f->threads += n * blk->threads;
	f->regs += n * blk->regs;
	f->smem += n * blk->smem;
	s->total_free.blocks += n;
	s->total_free.threads += n * blk->threads;
	s->total_free.regs += n * blk->regs;
	s->total_free.smem += n * blk->smem;
	PAELLA__ASSERT(f->blocks <= lim->max_blocks && f->threads <= lim->max_threads &&
		       f->regs <= lim->max_regs && f->smem <= lim->max_smem);
}

/*
 * Places as many unplaced blocks of @op as fit now, breadth-first: every SM
 * with room gets one before any gets a second, as the hardware spreads a
 * grid.  Returns whether any block was placed.
 */
static bool
place_blocks(struct sim *s, struct sim_op *op)
{
	const struct paella__sm_usage *blk = &op->block;
	unsigned nsm = s->card->sm_count;
	unsigned at_level[64] = { 0 };
	uint64_t total = 0, want, placed = 0;
	unsigned level = 0, top = 0;
	struct sim_batch *b;

	/* A full GPU, the usual case while a kernel waits: no SM scan. */
	if (s->total_free.blocks == 0 || s->total_free.threads < blk->threads ||
	    s->total_free.regs < blk->regs || s->total_free.smem < blk->smem)
		return false;
	for (unsigned i = 0; i < nsm; i++) {
		const struct paella__sm_usage *f = &s->sm_free[i];
		unsigned n;

		/* Divisions only for an SM that is partly used and has room:
		 * they are most of the simulator's time otherwise. */
		if (f->blocks == 0 || f->threads < blk->threads || f->regs < blk->regs ||
		    f->smem < blk->smem)
			n = 0;
		else if (f->blocks == s->card->sm.max_blocks)
			n = op->occupancy;
		else
			n = paella__blocks_fit(f, blk);
		s->fit[i] = n;
		total += n;
		if (n > top)
			top = n;
		at_level[n < 63 ? n : 63]++;
	}
	if (total == 0)
		return false;
	want = op->unplaced < total ? op->unplaced : total;
	/* at_level[l]: SMs that fit at least l blocks. */
	for (unsigned l = 62; l > 0; l--)
		at_level[l] += at_level[l + 1];

	/* The lowest level L such that giving each SM up to L blocks covers
	 * what we want; SMs get min(fit, L - 1), and the rest one more each
	 * from a rotating start, so partial waves spread over the card. */
	if (want < total) {
		uint64_t covered = 0;

		for (level = 1; level <= top; level++) {
			if (covered + at_level[level] >= want)
				break;
			covered += at_level[level];
		}
	} else {
		level = top + 1;
	}

	for (unsigned i = 0; i < nsm; i++) {
		unsigned n = s->fit[i] < level - 1 ? s->fit[i] : level - 1;

		s->placed[i] = n;
		placed += n;
	}
	for (unsigned k = 0, start = s->next_sm; k < nsm && placed < want; k++) {
		unsigned i = (start + k) % nsm;

		if (s->fit[i] >= level) {
			s->placed[i]++;
			placed++;
			s->next_sm = (i + 1) % nsm;
		}
	}
	PAELLA__ASSERT(placed == want);
	for (unsigned i = 0; i < nsm; i++)
		if (s->placed[i] != 0)
			sm_take(s, i, &op->block, s->placed[i]);
	op->unplaced -= placed;
	s->resident_threads += placed * op->block.threads;
	if (s->resident_threads > s->stats.max_resident_threads)
		s->stats.max_resident_threads = s->resident_threads;

	/* With jitter, blocks placed together still end at different times:
	 * each group of SMs gets its own duration, so progress arrives in
	 * steps, as on a GPU.  Without, one event does. */
	for (unsigned g = 0; g < (s->jitter > 0.0 ? SIM_GROUPS : 1u); g++) {
		uint64_t count = 0;

		b = batch_get(s);
		b->op = op;
		b->first = g;
		b->stride = s->jitter > 0.0 ? SIM_GROUPS : 1u;
		for (unsigned i = g; i < nsm; i += b->stride) {
			b->per_sm[i] = (uint8_t)s->placed[i];
			count += s->placed[i];
		}
		if (count == 0) {
			batch_put(s, b);
			continue;
		}
		b->count = count;
		s->stats.block_batches++;
		event_push(s, s->now + jittered(s, op->block_ns), EV_BATCH_DONE, b, 0);
	}
	return true;
}

/* The hardware scheduler's turn: kernels in the order they became ready. */
static void
schedule_blocks(struct sim *s)
{
	struct paella__list *node, *tmp;

	PAELLA__LIST_FOREACH_SAFE(node, tmp, &s->ready) {
		struct sim_op *op = PAELLA__CONTAINER_OF(node, struct sim_op, ready_link);

		place_blocks(s, op);
		if (op->unplaced > 0)
			break;
		paella__list_unlink(&op->ready_link);
	}
}

/* ---- ops ------------------------------------------------------------------ */

static void
op_ready(struct sim *s, struct sim_op *op)
{
	if (op->kind == OP_KERNEL) {
		/* Behind every ready kernel of a stream of at least its
		 * priority: the hardware's stream priorities, which decide
		 * whose blocks go first but preempt none. */
		int prio = s->streams[op->stream].priority;
		struct paella__list *node, *tmp;

		PAELLA__LIST_FOREACH_SAFE(node, tmp, &s->ready) {
			struct sim_op *o = PAELLA__CONTAINER_OF(node, struct sim_op, ready_link);

			if (s->streams[o->stream].priority < prio) {
				/* Appending to a node puts it before that node. */
				paella__list_append(node, &op->ready_link);
				return;
			}
		}
		paella__list_append(&s->ready, &op->ready_link);
		return;
	}
	event_push(s, s->now + PAELLA_SIM_COPY_LATENCY_NS +
		   op->bytes / PAELLA_SIM_COPY_BYTES_PER_NS, EV_COPY_DONE, op, 0);
}

static void
op_complete(struct sim *s, struct sim_op *op)
{
	struct sim_stream *st = &s->streams[op->stream];
	/* Count mode: the last block's post; otherwise the write-value
	 * after the kernel. */
	uint64_t latency = op->kind == OP_KERNEL && op->counted
				   ? PAELLA_SIM_PROGRESS_LATENCY_NS
				   : PAELLA_SIM_COMPLETION_LATENCY_NS;

	op->done = true;
	PAELLA__ASSERT(st->head == op);
	st->head = op->stream_next;
	if (st->head == NULL)
		st->tail = NULL;
	else if (st->head->arrived)
		op_ready(s, st->head);
	event_push(s, s->now + latency, EV_VISIBLE, op, 0);
}

static void
handle(struct sim *s, const struct sim_event *ev)
{
	struct sim_op *op;
	struct sim_batch *b;

	switch (ev->type) {
	case EV_ARRIVE:
		op = ev->ptr;
		op->pending_events--;
		op->arrived = true;
		if (s->streams[op->stream].head == op)
			op_ready(s, op);
		break;
	case EV_BATCH_DONE:
		b = ev->ptr;
		op = b->op;
		op->pending_events--;
		for (unsigned i = b->first; i < s->card->sm_count; i += b->stride)
			if (b->per_sm[i] != 0)
				sm_give(s, i, &op->block, b->per_sm[i]);
		s->resident_threads -= b->count * op->block.threads;
		op->finished += b->count;
		PAELLA__ASSERT(op->finished <= op->nblocks);
		if (op->finished == op->nblocks) {
			paella__list_unlink(&op->busy_link);
			s->stats.kernels_completed++;
			op_complete(s, op);
		} else if (op->instrumented) {
			event_push(s, s->now + PAELLA_SIM_PROGRESS_LATENCY_NS,
				   EV_PROGRESS, op, b->count);
		}
		batch_put(s, b);
		break;
	case EV_COPY_DONE:
		op = ev->ptr;
		op->pending_events--;
		if (op->dir == PAELLA__COPY_TO_DEVICE)
			memcpy((void *)(uintptr_t)op->dptr, op->host, op->bytes);
		else
			memcpy(op->host, (const void *)(uintptr_t)op->dptr, op->bytes);
		op_complete(s, op);
		break;
	case EV_PROGRESS:
		op = ev->ptr;
		op->pending_events--;
		op->visible += ev->count;
		break;
	case EV_VISIBLE:
		op = ev->ptr;
		op->pending_events--;
		op->visible = op->nblocks;
		op->visible_done = true;
		break;
	default:
		return;
	}
	if (op->internal && op->visible_done && op->pending_events == 0) {
		op->next_free = s->free_ops;
		s->free_ops = op;
	}
}

/* Runs every event at the earliest pending time, then the scheduler. */
static void
step(struct sim *s)
{
	uint64_t t = s->events[0].t;

	PAELLA__ASSERT(t >= s->now);
	__atomic_store_n(&s->now, t, __ATOMIC_RELAXED);
	while (s->nevents > 0 && s->events[0].t == t) {
		struct sim_event ev = event_pop(s);

		s->stats.events++;
		handle(s, &ev);
	}
	schedule_blocks(s);
}

static struct sim_op *
op_get(struct sim *s)
{
	struct sim_op *op = s->free_ops;

	if (op != NULL)
		s->free_ops = op->next_free;
	else
		op = malloc(sizeof(*op));
	if (op == NULL)
		return NULL;
	memset(op, 0, sizeof(*op));
	paella__list_init(&op->ready_link);
	paella__list_init(&op->busy_link);
	return op;
}

/* The host issues @op: it reaches the GPU once the host has finished what
 * it issued before and this call.  @call false: it comes with the op issued
 * just before, in the same call (a graph's next kernel). */
static void
issue_ex(struct sim *s, struct sim_op *op, bool call)
{
	struct sim_stream *st = &s->streams[op->stream];

	if (st->tail != NULL)
		st->tail->stream_next = op;
	else
		st->head = op;
	st->tail = op;
	if (call)
		s->host_free = (s->host_free > s->now ? s->host_free : s->now) +
			       PAELLA_SIM_LAUNCH_NS;
	event_push(s, s->host_free, EV_ARRIVE, op, 0);
}

static void
issue(struct sim *s, struct sim_op *op)
{
	issue_ex(s, op, true);
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
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "sim module: out of memory");
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
block_of(struct sim *s, const struct sim_kernel *k, unsigned threads, unsigned dyn)
{
	return paella__block_usage(&s->card->sm, threads, k->regs_per_thread,
				   k->static_smem + dyn);
}

static enum paella_status
sim_occupancy(struct paella__backend *b, struct paella__bkernel *kernel,
	      unsigned block_threads, unsigned dynamic_smem, unsigned *blocks_per_sm)
{
	struct sim *s = to_sim(b);
	struct paella__sm_usage blk = block_of(s, (struct sim_kernel *)kernel,
					       block_threads, dynamic_smem);

	*blocks_per_sm = paella__occupancy(&s->card->sm, &blk);
	return PAELLA_STATUS_OK;
}

static enum paella_status
sim_mem_alloc(struct paella__backend *b, size_t bytes, uint64_t *dptr)
{
	struct sim *s = to_sim(b);
	uint64_t total = __atomic_add_fetch(&s->allocated, bytes, __ATOMIC_RELAXED);
	struct alloc_header *h;

	*dptr = 0;
	if (total > s->card->memory_bytes || bytes > SIZE_MAX - sizeof(*h)) {
		__atomic_sub_fetch(&s->allocated, bytes, __ATOMIC_RELAXED);
		return paella__error_set(PAELLA_STATUS_NO_MEMORY,
			"sim: %zu bytes of device memory would exceed the %s's %llu GiB",
			bytes, s->card->name,
			(unsigned long long)(s->card->memory_bytes >> 30));
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
	struct sim *s = to_sim(b);
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

/* The waves that the kernels in flight still need, by the true state. */
static double
true_load(struct sim *s)
{
	struct paella__list *node, *tmp;
	double load = 0.0;

	PAELLA__LIST_FOREACH_SAFE(node, tmp, &s->busy) {
		struct sim_op *op = PAELLA__CONTAINER_OF(node, struct sim_op, busy_link);

		load += (double)(op->nblocks - op->finished) /
			((double)op->occupancy * s->card->sm_count);
	}
	return load;
}

/* Makes the op of kernel launch @l and issues it (@call: in a call of its
 * own, else with the op before it). */
static enum paella_status
launch_op(struct sim *s, const struct paella__launch_desc *l, bool call, struct sim_op **out)
{
	struct sim_kernel *k = (struct sim_kernel *)l->kernel;
	struct sim_op *op;
	double load;

	*out = NULL;
	PAELLA__ASSERT(l->stream < s->base.nstreams + PAELLA__MAX_DIRECT_STREAMS);
	op = op_get(s);
	if (op == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "sim: out of memory for a launch");
	op->kind = OP_KERNEL;
	op->stream = l->stream;
	op->instrumented = l->instrumented;
	op->counted = l->instrumented && l->counted;
	op->block = block_of(s, k, block_threads(l), l->dynamic_smem);
	op->occupancy = paella__occupancy(&s->card->sm, &op->block);
	op->block_ns = k->block_ns;
	op->nblocks = grid_blocks(l);
	op->unplaced = op->nblocks;
	if (op->occupancy == 0 || op->nblocks == 0) {
		op->next_free = s->free_ops;
		s->free_ops = op;
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"sim: launch of %s: %s", k->name,
			op->nblocks == 0 ? "empty grid" : "a block does not fit on an SM");
	}
	if (l->instrumented)
		l->params[l->nparams] = NULL;

	/* Measured at each launch decision: a graph's later kernels come
	 * with its first. */
	load = true_load(s);
	if (call && load > s->stats.max_true_load_at_launch)
		s->stats.max_true_load_at_launch = load;
	s->stats.kernels_launched++;
	paella__list_append(&s->busy, &op->busy_link);
	issue_ex(s, op, call);
	*out = op;
	return PAELLA_STATUS_OK;
}

static enum paella_status
sim_launch(struct paella__backend *b, const struct paella__launch_desc *l,
	   struct paella__bop **out)
{
	return launch_op(to_sim(b), l, true, (struct sim_op **)out);
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
	struct sim *s = to_sim(b);
	struct sim_graph *g = graph;
	struct sim_op *op = NULL;

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
	struct sim *s = to_sim(b);
	struct sim_op *op;

	*out = NULL;
	PAELLA__ASSERT(stream < s->base.nstreams + PAELLA__MAX_DIRECT_STREAMS);
	op = op_get(s);
	if (op == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "sim: out of memory for a copy");
	op->kind = OP_COPY;
	op->stream = stream;
	op->dir = dir;
	op->dptr = dptr;
	op->host = host;
	op->bytes = bytes;
	s->stats.copies++;
	issue(s, op);
	*out = (struct paella__bop *)op;
	return PAELLA_STATUS_OK;
}

static bool
sim_poll(struct paella__backend *b, struct paella__bop *bop, uint64_t *progress)
{
	struct sim_op *op = (struct sim_op *)bop;

	if (progress != NULL)
		*progress = op->visible;
	return op->visible_done;
}

static void
sim_release(struct paella__backend *b, struct paella__bop *bop)
{
	struct sim *s = to_sim(b);
	struct sim_op *op = (struct sim_op *)bop;

	if (!op->visible_done || op->pending_events != 0)
		PAELLA__BUG("sim: op released before the host saw it complete");
	op->next_free = s->free_ops;
	s->free_ops = op;
}

static enum paella_status
sim_stream_create(struct paella__backend *b, int priority, unsigned *id)
{
	struct sim *s = to_sim(b);

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
	struct sim *s = to_sim(b);

	/* The caller waited for its ops: nothing on it is left to run. */
	PAELLA__ASSERT(s->streams[id].in_use && s->streams[id].head == NULL);
	s->streams[id].in_use = false;
}

static void
sim_advance(struct paella__backend *b, uint64_t until_ns)
{
	struct sim *s = to_sim(b);

	if (s->nevents > 0 && s->events[0].t <= until_ns) {
		step(s);
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
	struct sim *s = to_sim(b);

	if (s == NULL)
		return;
	/* Ops still in the event heap or streams belong to an aborted run. */
	for (unsigned i = 0; i < s->nevents; i++)
		if (s->events[i].type == EV_BATCH_DONE)
			batch_put(s, s->events[i].ptr);
	while (s->free_batches != NULL) {
		struct sim_batch *bt = s->free_batches;

		s->free_batches = bt->next_free;
		free(bt->per_sm);
		free(bt);
	}
	while (s->free_ops != NULL) {
		struct sim_op *op = s->free_ops;

		s->free_ops = op->next_free;
		free(op);
	}
	free(s->events);
	free(s->streams);
	free(s->sm_free);
	free(s->fit);
	free(s->placed);
	free(s);
}

static const struct paella__backend_ops sim_ops = {
	.name = "sim",
	.destroy = sim_destroy,
	.bind_thread = sim_bind_thread,
	.now_ns = sim_now_ns,
	.module_load_image = sim_module_load_image,
	.module_load_sim = sim_module_load_sim,
	.module_unload = sim_module_unload,
	.kernel_get = sim_kernel_get,
	.occupancy = sim_occupancy,
	.mem_alloc = sim_mem_alloc,
	.mem_free = sim_mem_free,
	.mem_write = sim_mem_write,
	.mem_read = sim_mem_read,
	.profile = sim_profile,
	.launch = sim_launch,
	.graph_create = sim_graph_create,
	.graph_destroy = sim_graph_destroy,
	.graph_launch = sim_graph_launch,
	.copy = sim_copy,
	.poll = sim_poll,
	.release = sim_release,
	.advance = sim_advance,
	.stream_create = sim_stream_create,
	.stream_destroy = sim_stream_destroy,
};

enum paella_status
paella__backend_sim_create(const struct paella__backend_params *p,
			   struct paella__backend **out)
{
	const char *name = p->sim_card ? p->sim_card : "H100";
	const struct paella__card *card = paella__card_find(name);
	struct sim *s;

	*out = NULL;
	if (card == NULL)
		return paella__error_set(PAELLA_STATUS_NOT_FOUND,
			"sim: no card called \"%s\"; the simulator knows %s",
			name, paella__card_names());
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "sim: out of memory");
	s->base.ops = &sim_ops;
	s->base.nstreams = p->nstreams;
	s->card = card;
	s->jitter = p->sim_jitter;
	/* xorshift needs a nonzero state; mix the seed so 0 and 1 differ. */
	s->rng = (p->sim_seed ^ UINT64_C(0x9e3779b97f4a7c15)) | 1;
	paella__list_init(&s->ready);
	paella__list_init(&s->busy);
	s->streams = calloc(p->nstreams + PAELLA__MAX_DIRECT_STREAMS, sizeof(*s->streams));
	s->sm_free = calloc(card->sm_count, sizeof(*s->sm_free));
	s->fit = calloc(card->sm_count, sizeof(*s->fit));
	s->placed = calloc(card->sm_count, sizeof(*s->placed));
	if (s->streams == NULL || s->sm_free == NULL || s->fit == NULL || s->placed == NULL) {
		sim_destroy(&s->base);
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "sim: out of memory");
	}
	for (unsigned i = 0; i < card->sm_count; i++) {
		s->sm_free[i] = paella__sm_empty(&card->sm);
		s->total_free.threads += card->sm.max_threads;
		s->total_free.regs += card->sm.max_regs;
		s->total_free.smem += card->sm.max_smem;
		s->total_free.blocks += card->sm.max_blocks;
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
