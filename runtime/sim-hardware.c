/*
 * sim-hardware.c - the simulated card: streams, an event queue in virtual
 * time, and the hardware block scheduler (sim-hardware.h).
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
 */
#include <stdlib.h>
#include <string.h>

#include "list.h"
#include "log.h"
#include "sim-hardware.h"
#include "util.h"

/* Groups of SMs whose blocks, placed together, finish at their own time. */
#define SIM_GROUPS 4u

/* Blocks of one kernel placed at one moment: they finish together. */
struct paella__sim_batch {
	struct paella__sim_op *op;
	uint64_t count;
	/* Blocks on each SM; only SMs first, first + stride, ... have any. */
	uint8_t *per_sm;
	unsigned first;
	unsigned stride;
	struct paella__sim_batch *next_free;
};

enum event_type {
	EV_ARRIVE,
	EV_BATCH_DONE,
	EV_COPY_DONE,
	EV_PROGRESS,
	EV_VISIBLE,
};

struct paella__sim_event {
	uint64_t t;
	/* Order among events of one time: the order they were made. */
	uint64_t seq;
	enum event_type type;
	void *ptr;
	uint64_t count;
};

/* ---- randomness --------------------------------------------------------- */

static uint64_t
rng_next(struct paella__sim *s)
{
	/* xorshift64*: small, fast, and the same everywhere. */
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * UINT64_C(0x2545f4914f6cdd1d);
}

static uint64_t
jittered(struct paella__sim *s, uint64_t ns)
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
event_before(const struct paella__sim_event *a, const struct paella__sim_event *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void
event_push(struct paella__sim *s, uint64_t t, enum event_type type, void *ptr, uint64_t count)
{
	struct paella__sim_event ev = { t, s->event_seq++, type, ptr, count };
	unsigned i;

	if (s->nevents == s->events_cap) {
		unsigned cap = s->events_cap ? s->events_cap * 2 : 256;
		struct paella__sim_event *e = realloc(s->events, cap * sizeof(*e));

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
		((struct paella__sim_op *)ptr)->pending_events++;
	else
		((struct paella__sim_batch *)ptr)->op->pending_events++;
}

static struct paella__sim_event
event_pop(struct paella__sim *s)
{
	struct paella__sim_event top = s->events[0];
	struct paella__sim_event last = s->events[--s->nevents];
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

static struct paella__sim_batch *
batch_get(struct paella__sim *s)
{
	struct paella__sim_batch *b;

	PAELLA__FREE_POP(s->free_batches, b, next_free);
	if (b != NULL) {
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
batch_free(struct paella__sim_batch *b)
{
	free(b->per_sm);
	free(b);
}

static void
batch_put(struct paella__sim *s, struct paella__sim_batch *b)
{
	PAELLA__FREE_PUSH(s->free_batches, b, next_free);
}

static void
sm_take(struct paella__sim *s, unsigned sm, const struct paella__sm_usage *blk, unsigned n)
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
sm_give(struct paella__sim *s, unsigned sm, const struct paella__sm_usage *blk, unsigned n)
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
place_blocks(struct paella__sim *s, struct paella__sim_op *op)
{
	const struct paella__sm_usage *blk = &op->block;
	unsigned nsm = s->card->sm_count;
	unsigned at_level[64] = { 0 };
	uint64_t total = 0, want, placed = 0;
	unsigned level = 0, top = 0;
	struct paella__sim_batch *b;

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
schedule_blocks(struct paella__sim *s)
{
	struct paella__list *node, *tmp;

	PAELLA__LIST_FOREACH_SAFE(node, tmp, &s->ready) {
		struct paella__sim_op *op =
			PAELLA__CONTAINER_OF(node, struct paella__sim_op, ready_link);

		place_blocks(s, op);
		if (op->unplaced > 0)
			break;
		paella__list_unlink(&op->ready_link);
	}
}

/* ---- ops ------------------------------------------------------------------ */

static void
op_ready(struct paella__sim *s, struct paella__sim_op *op)
{
	if (op->kind == PAELLA__SIM_OP_KERNEL) {
		/* Behind every ready kernel of a stream of at least its
		 * priority: the hardware's stream priorities, which decide
		 * whose blocks go first but preempt none. */
		int prio = s->streams[op->stream].priority;
		struct paella__list *node, *tmp;

		PAELLA__LIST_FOREACH_SAFE(node, tmp, &s->ready) {
			struct paella__sim_op *o =
				PAELLA__CONTAINER_OF(node, struct paella__sim_op, ready_link);

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
op_complete(struct paella__sim *s, struct paella__sim_op *op)
{
	struct paella__sim_stream *st = &s->streams[op->stream];
	/* Count mode: the last block's post; otherwise the write-value
	 * after the kernel. */
	uint64_t latency = op->kind == PAELLA__SIM_OP_KERNEL && op->counted
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
handle(struct paella__sim *s, const struct paella__sim_event *ev)
{
	struct paella__sim_op *op;
	struct paella__sim_batch *b;

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
	if (op->internal && op->visible_done && op->pending_events == 0)
		paella__sim_op_put(s, op);
}

/* ---- what backend-sim.c asks of the card ---------------------------------- */

uint64_t
paella__sim_next_event_ns(const struct paella__sim *s)
{
	return s->nevents > 0 ? s->events[0].t : UINT64_MAX;
}

void
paella__sim_step(struct paella__sim *s)
{
	uint64_t t = s->events[0].t;

	PAELLA__ASSERT(t >= s->now);
	__atomic_store_n(&s->now, t, __ATOMIC_RELAXED);
	while (s->nevents > 0 && s->events[0].t == t) {
		struct paella__sim_event ev = event_pop(s);

		s->stats.events++;
		handle(s, &ev);
	}
	schedule_blocks(s);
}

struct paella__sim_op *
paella__sim_op_get(struct paella__sim *s)
{
	struct paella__sim_op *op;

	PAELLA__FREE_POP(s->free_ops, op, next_free);
	if (op == NULL)
		op = malloc(sizeof(*op));
	if (op == NULL)
		return NULL;
	memset(op, 0, sizeof(*op));
	paella__list_init(&op->ready_link);
	paella__list_init(&op->busy_link);
	return op;
}

void
paella__sim_op_put(struct paella__sim *s, struct paella__sim_op *op)
{
	PAELLA__FREE_PUSH(s->free_ops, op, next_free);
}

void
paella__sim_issue(struct paella__sim *s, struct paella__sim_op *op, bool call)
{
	struct paella__sim_stream *st = &s->streams[op->stream];

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

double
paella__sim_true_load(struct paella__sim *s)
{
	struct paella__list *node, *tmp;
	double load = 0.0;

	PAELLA__LIST_FOREACH_SAFE(node, tmp, &s->busy) {
		struct paella__sim_op *op =
			PAELLA__CONTAINER_OF(node, struct paella__sim_op, busy_link);

		load += (double)(op->nblocks - op->finished) /
			((double)op->occupancy * s->card->sm_count);
	}
	return load;
}

bool
paella__sim_init(struct paella__sim *s, const struct paella__card *card, unsigned nstreams,
		 uint64_t seed, double jitter)
{
	s->card = card;
	s->jitter = jitter;
	/* xorshift needs a nonzero state; mix the seed so 0 and 1 differ. */
	s->rng = (seed ^ UINT64_C(0x9e3779b97f4a7c15)) | 1;
	paella__list_init(&s->ready);
	paella__list_init(&s->busy);
	s->streams = calloc(nstreams, sizeof(*s->streams));
	s->sm_free = calloc(card->sm_count, sizeof(*s->sm_free));
	s->fit = calloc(card->sm_count, sizeof(*s->fit));
	s->placed = calloc(card->sm_count, sizeof(*s->placed));
	if (s->streams == NULL || s->sm_free == NULL || s->fit == NULL || s->placed == NULL)
		return false;
	for (unsigned i = 0; i < card->sm_count; i++) {
		s->sm_free[i] = paella__sm_empty(&card->sm);
		s->total_free.threads += card->sm.max_threads;
		s->total_free.regs += card->sm.max_regs;
		s->total_free.smem += card->sm.max_smem;
		s->total_free.blocks += card->sm.max_blocks;
	}
	return true;
}

void
paella__sim_fini(struct paella__sim *s)
{
	/* Ops still in the event heap or streams belong to an aborted run. */
	for (unsigned i = 0; i < s->nevents; i++)
		if (s->events[i].type == EV_BATCH_DONE)
			batch_put(s, s->events[i].ptr);
	PAELLA__FREE_DRAIN(s->free_batches, next_free, batch_free);
	PAELLA__FREE_DRAIN(s->free_ops, next_free, free);
	free(s->events);
	free(s->streams);
	free(s->sm_free);
	free(s->fit);
	free(s->placed);
}
