/*
 * sim-hardware.h - the simulated card under the sim backend: its streams,
 * its event queue in virtual time and its hardware block scheduler.
 * Private to backend-sim.c and sim-hardware.c.
 *
 * backend-sim.c turns the backend table's calls into ops: it fills one
 * from paella__sim_op_get(), hands it to paella__sim_issue(), and reads
 * what the host may see of it (visible, visible_done) until it releases it
 * with paella__sim_op_put().  Time moves only in paella__sim_step(), which
 * runs the next events and lets the block scheduler place what fits; the
 * same inputs in the same order give the same run.
 */
#ifndef PAELLA_SIM_HARDWARE_H
#define PAELLA_SIM_HARDWARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "sim-costs.h"
#include "cards.h"
#include "list.h"
#include "occupancy.h"

enum paella__sim_op_kind {
	PAELLA__SIM_OP_KERNEL,
	PAELLA__SIM_OP_COPY,
};

struct paella__sim_op {
	enum paella__sim_op_kind kind;
	unsigned stream;
	/* Next op issued on the same stream. */
	struct paella__sim_op *stream_next;
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

	struct paella__sim_op *next_free;
};

struct paella__sim_stream {
	struct paella__sim_op *head;
	struct paella__sim_op *tail;
	/* Direct mode's streams: made by stream_create, their priority. */
	bool in_use;
	int priority;
};

/* Private to sim-hardware.c. */
struct paella__sim_event;
struct paella__sim_batch;

struct paella__sim {
	struct paella__backend base;
	const struct paella__card *card;
	double jitter;
	uint64_t rng;

	/* Written by the dispatcher's thread, read by any. */
	uint64_t now;
	/* When the host is done issuing what it issued so far. */
	uint64_t host_free;

	struct paella__sim_stream *streams;
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

	struct paella__sim_event *events;
	unsigned nevents;
	unsigned events_cap;
	uint64_t event_seq;

	struct paella__sim_op *free_ops;
	struct paella__sim_batch *free_batches;

	/* Device memory handed out, against the card's. */
	uint64_t allocated;

	struct paella__sim_stats stats;
};

/* Sets up the card's empty SMs and @nstreams streams (the pool's and direct
 * mode's) in @s, zeroed but for its base; false when out of memory.  @seed
 * and @jitter as paella_config's sim_seed and sim_jitter. */
bool
paella__sim_init(struct paella__sim *s, const struct paella__card *card, unsigned nstreams,
		 uint64_t seed, double jitter);

/* Frees what paella__sim_init() and the run made; ops still in flight
 * belong to an aborted run and go too.  Not @s itself. */
void
paella__sim_fini(struct paella__sim *s);

/* A zeroed op; NULL when out of memory. */
struct paella__sim_op *
paella__sim_op_get(struct paella__sim *s);

/* @op goes back to the free list: no event may point at it. */
void
paella__sim_op_put(struct paella__sim *s, struct paella__sim_op *op);

/* The host issues @op (kind, stream and its fields set): it reaches the GPU
 * once the host has finished what it issued before and this call.  @call
 * false: it comes with the op issued just before, in the same call (a
 * graph's next kernel). */
void
paella__sim_issue(struct paella__sim *s, struct paella__sim_op *op, bool call);

/* When the next event happens: UINT64_MAX when none is pending. */
uint64_t
paella__sim_next_event_ns(const struct paella__sim *s);

/* Runs every event at the earliest pending time, then the block
 * scheduler.  An event must be pending. */
void
paella__sim_step(struct paella__sim *s);

/* The waves that the kernels in flight still need, by the true state. */
double
paella__sim_true_load(struct paella__sim *s);

#endif /* PAELLA_SIM_HARDWARE_H */
