/*
 * model.h - models: their steps, buffers, per-job buffer sets and
 * estimates.  Private.
 *
 * Built by API calls (model.c), a model is read-only once finalized, except
 * for what the dispatcher owns: the free buffer sets, the jobs parked
 * waiting for one, and the estimates it refines as kernels complete.
 */
#ifndef PAELLA_MODEL_H
#define PAELLA_MODEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "launch-rule.h"
#include "list.h"
#include "log.h"
#include "module.h"
#include "policy.h"

enum paella__step_kind {
	PAELLA__STEP_KERNEL,
	PAELLA__STEP_COPY_IN,
	PAELLA__STEP_COPY_OUT,
};

struct paella__arg_binding {
	enum paella_arg_kind kind;
	/* PAELLA_ARG_VALUE: where its bytes are in the step's values. */
	size_t value_offset;
	size_t size;
	/* PAELLA_ARG_BUFFER */
	unsigned buffer;
	size_t offset;
};

struct paella__step {
	enum paella__step_kind kind;

	/* Kernels. */
	struct paella_module *module;
	char *kernel_name;
	struct paella__kernel_ref kernel;
	unsigned grid[3];
	unsigned block[3];
	unsigned dynamic_smem;
	uint64_t nblocks;
	unsigned blocks_per_sm;
	/* Blocks that fill the GPU once. */
	uint64_t wave_blocks;
	/* 1 / wave_blocks: a block's share of a wave, for the dispatcher's
	 * load sums, which multiply on every poll. */
	double wave_per_block;
	/* The code its launches run, by what their caller wants (decided
	 * once, when the step is added). */
	struct paella__launch_codes codes;
	unsigned nargs;
	struct paella__arg_binding *args;
	unsigned char *values;
	/* Estimated duration: profiled at finalize, refined online by the
	 * dispatcher (read elsewhere with relaxed atomics). */
	uint64_t estimate_ns;
	/* The estimate that the model's suffix sums were made with. */
	uint64_t estimate_used_ns;

	/* Copies. */
	unsigned buffer;
	size_t buffer_offset;
	size_t host_offset;
	size_t bytes;
};

struct paella__buffer {
	enum paella_buffer_scope scope;
	size_t bytes;
	/* PAELLA_BUFFER_MODEL: its device memory. */
	uint64_t dptr;
	/* PAELLA_BUFFER_JOB: its offset in each buffer set. */
	size_t set_offset;
	/* PAELLA_BUFFER_JOB: the device allocation whose addresses stand for
	 * it during capture (paella_model_buffer_address()); 0 until asked
	 * for, freed at finalize. */
	uint64_t capture_dptr;
};

/* A capture in progress (capture.c). */
struct paella__capture {
	pthread_t owner;
	/* The model as it was at paella_model_capture_begin(), restored when
	 * the capture fails. */
	unsigned nsteps;
	unsigned nkernels;
	size_t input_bytes;
	size_t output_bytes;
	/* Launches seen; the first failure, and its message. */
	unsigned launches;
	enum paella_status status;
	char error[512];
};

/* The device memory of one job in flight, and its kernels' argument
 * arrays, made once at finalize. */
struct paella__bufset {
	struct paella_model *model;
	uint64_t base;
	/* params[step]: nargs + 1 pointers for kernel steps, else NULL. */
	void ***params;
	/* Storage the params point into: buffer addresses. */
	uint64_t *addresses;
	/* graphs[step]: the backend's graph of the run of kernels that starts
	 * at that step (model->run_len[step] > 1), else NULL. */
	void **graphs;
	/* Direct mode's graphs (direct.c): direct_graphs[step], the run of
	 * kernel steps from that step on as one graph, made at the first
	 * direct job that asks for graphs; NULL until then. */
	void **direct_graphs;
	struct paella__bufset *next_free;
};

struct paella_model {
	struct paella_runtime *rt;
	char *name;

	struct paella__step *steps;
	unsigned nsteps;
	unsigned steps_cap;
	unsigned nkernels;
	struct paella__buffer *buffers;
	unsigned nbuffers;
	unsigned buffers_cap;

	bool finalized;
	/* Non-NULL between paella_model_capture_begin() and _end(). */
	struct paella__capture *capture;
	size_t input_bytes;
	size_t output_bytes;
	size_t set_bytes;
	struct paella__bufset *sets;
	unsigned nsets;
	/* run_len[step]: kernels launched together as one graph from that
	 * step on (2 or more), else 0; NULL when the model uses no graphs. */
	unsigned *run_len;

	/* Owned by the dispatcher once finalized. */
	struct paella__bufset *free_sets;
	/* Jobs waiting for a buffer set. */
	struct paella__list parked;
	/* suffix_ns[i]: estimated GPU time of the kernel steps from step i
	 * on; nsteps + 1 entries. */
	uint64_t *suffix_ns;
	bool suffix_stale;
	struct paella__list stale_link;
	/* Its jobs, as a fairness policy groups them. */
	struct paella__sched_group sched_group;

	/* Jobs submitted and not completed; any thread, atomically. */
	uint64_t jobs_live;

	/* In the runtime's registry. */
	struct paella__list link;
};

/* The backend's description of kernel step @step launched with @params on
 * @stream, for a caller that wants @want of it; signalled by write-value. */
void
paella__step_launch_desc(const struct paella__step *step, void **params, unsigned stream,
			 enum paella__launch_want want, struct paella__launch_desc *desc);

/* Recomputes suffix_ns from the steps' current estimates. */
void
paella__model_update_suffix(struct paella_model *model);

/* Appends a kernel step of @kernel, a kernel of @s->module that the caller
 * looked up (paella_model_add_kernel() by name, capture by function);
 * @s->kernel names it in messages.  Checks as paella_model_add_kernel(). */
enum paella_status
paella__model_add_kernel_ref(struct paella_model *model, const struct paella_kernel_step *s,
			     const struct paella__kernel_ref *kernel);

/* Drops the steps from @nsteps on, and restores the counts of kernels and
 * the input and output sizes: a failed capture leaves nothing behind. */
void
paella__model_truncate(struct paella_model *model, unsigned nsteps, unsigned nkernels,
		       size_t input_bytes, size_t output_bytes);

/* Whether @m may be used by @fn (named in the message): not NULL, and not
 * finalized yet when @building.  Sets the error when not. */
static inline bool
paella__model_check(const struct paella_model *m, const char *fn, bool building)
{
	if (m == NULL) {
		paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT, "%s: model is NULL", fn);
		return false;
	}
	if (building && m->finalized) {
		paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: model %s is finalized: steps and buffers can no longer be added",
			fn, m->name);
		return false;
	}
	return true;
}

/* Frees what paella_model_finalize() made (model-finalize.c): the buffer
 * sets, their graphs, the capture addresses. */
void
paella__model_free_sets(struct paella_model *m);

/* Frees everything of @model; no job may be live, nor a capture open
 * (paella__capture_free() first). */
void
paella__model_free(struct paella_model *model);

#endif /* PAELLA_MODEL_H */
