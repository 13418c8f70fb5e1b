/*
 * model-finalize.c - making a model ready for jobs: its per-job buffer sets
 * (device memory and each kernel's argument array, made once), the profile
 * of each kernel alone, the suffix sums of the estimates, and the graph
 * runs of short kernels; and freeing what finalize made.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "model.h"
#include "runtime-state.h"
#include "util.h"

/* Job buffers start on this boundary within a set, as cuMemAlloc aligns. */
#define BUFFER_ALIGN 256u
#define MAX_CONCURRENT_JOBS 4096u

static void
free_capture_addresses(struct paella_model *m)
{
	struct paella__backend *b = m->rt->backend;

	for (unsigned i = 0; i < m->nbuffers; i++) {
		if (m->buffers[i].capture_dptr != 0)
			b->ops->mem_free(b, m->buffers[i].capture_dptr);
		m->buffers[i].capture_dptr = 0;
	}
}

static void
bufset_fini(struct paella_model *m, struct paella__bufset *set)
{
	struct paella__backend *b = m->rt->backend;

	if (set->base != 0)
		b->ops->mem_free(b, set->base);
	if (set->params != NULL) {
		for (unsigned i = 0; i < m->nsteps; i++)
			free(set->params[i]);
		free(set->params);
	}
	free(set->addresses);
	memset(set, 0, sizeof(*set));
}

/* The argument arrays of every kernel step, pointing into this set. */
static enum paella_status
bufset_init(struct paella_model *m, struct paella__bufset *set)
{
	struct paella__backend *b = m->rt->backend;
	unsigned naddr = 0, k = 0;
	enum paella_status st;

	set->model = m;
	if (m->set_bytes > 0) {
		st = b->ops->mem_alloc(b, m->set_bytes, &set->base);
		if (st != PAELLA_STATUS_OK)
			return st;
	}
	for (unsigned i = 0; i < m->nsteps; i++)
		for (unsigned a = 0; a < m->steps[i].nargs; a++)
			naddr += m->steps[i].args[a].kind == PAELLA_ARG_BUFFER;
	set->params = calloc(m->nsteps, sizeof(*set->params));
	set->addresses = calloc(naddr ? naddr : 1, sizeof(*set->addresses));
	if (set->params == NULL || set->addresses == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "model %s: out of memory", m->name);
	for (unsigned i = 0; i < m->nsteps; i++) {
		struct paella__step *step = &m->steps[i];

		if (step->kind != PAELLA__STEP_KERNEL)
			continue;
		/* One slot more: the launch record's, filled at launch. */
		set->params[i] = calloc(step->nargs + 1, sizeof(void *));
		if (set->params[i] == NULL)
			return paella__error_set(PAELLA_STATUS_NO_MEMORY,
						 "model %s: out of memory", m->name);
		for (unsigned a = 0; a < step->nargs; a++) {
			const struct paella__arg_binding *bnd = &step->args[a];
			const struct paella__buffer *buf;

			if (bnd->kind == PAELLA_ARG_VALUE) {
				set->params[i][a] = step->values + bnd->value_offset;
				continue;
			}
			buf = &m->buffers[bnd->buffer];
			set->addresses[k] = (buf->scope == PAELLA_BUFFER_MODEL
						     ? buf->dptr
						     : set->base + buf->set_offset) + bnd->offset;
			set->params[i][a] = &set->addresses[k++];
		}
	}
	return PAELLA_STATUS_OK;
}

void
paella__model_update_suffix(struct paella_model *m)
{
	uint64_t sum = 0;

	m->suffix_ns[m->nsteps] = 0;
	for (unsigned i = m->nsteps; i-- > 0;) {
		struct paella__step *step = &m->steps[i];

		if (step->kind == PAELLA__STEP_KERNEL) {
			step->estimate_used_ns = __atomic_load_n(&step->estimate_ns, __ATOMIC_RELAXED);
			sum += step->estimate_used_ns;
		}
		m->suffix_ns[i] = sum;
	}
}

void
paella__step_launch_desc(const struct paella__step *step, void **params, unsigned stream,
			 enum paella__launch_want want, struct paella__launch_desc *desc)
{
	PAELLA__ASSERT(step->kind == PAELLA__STEP_KERNEL);
	enum paella__launch_code code = step->codes.code[want];
	bool plain = code != PAELLA__CODE_BUILT;

	memset(desc, 0, sizeof(*desc));
	desc->kernel = plain ? step->kernel.plain : step->kernel.bkernel;
	desc->instrumented = step->kernel.instrumented && !plain;
	desc->tail_marker = code == PAELLA__CODE_MARKED;
	desc->stream = stream;
	memcpy(desc->grid, step->grid, sizeof(desc->grid));
	memcpy(desc->block, step->block, sizeof(desc->block));
	desc->dynamic_smem = step->dynamic_smem;
	desc->params = params;
	desc->nparams = step->nargs;
	desc->counted = step->kernel.counted;
	desc->wave_blocks = step->wave_blocks;
	desc->completion_kernel = false;
	desc->completion_hint = false;
	desc->untracked = false;
}

/* Most kernels in one graph, whatever their estimates. */
#define MAX_RUN_KERNELS 64u

/* A count-mode kernel's record needs per-launch bases: never in a graph. */
static bool
graphable(const struct paella__step *step)
{
	return step->kind == PAELLA__STEP_KERNEL &&
	       !(step->kernel.instrumented && step->kernel.counted);
}

static void
graphs_free(struct paella_model *m)
{
	struct paella__backend *b = m->rt->backend;

	for (unsigned s = 0; s < m->nsets; s++) {
		void **lists[2] = { m->sets[s].graphs, m->sets[s].direct_graphs };

		for (unsigned l = 0; l < 2; l++) {
			if (lists[l] == NULL)
				continue;
			for (unsigned i = 0; i < m->nsteps; i++)
				if (lists[l][i] != NULL)
					b->ops->graph_destroy(b, lists[l][i]);
			free(lists[l]);
		}
		m->sets[s].graphs = NULL;
		m->sets[s].direct_graphs = NULL;
	}
	free(m->run_len);
	m->run_len = NULL;
}

/*
 * Splits the model's runs of consecutive graphable kernels into pieces of
 * at most graph_chunk_ns of profiled GPU time and captures each piece of
 * two or more kernels, for every buffer set, as a graph.  Where the backend
 * cannot, the model launches kernel by kernel, as it would with graphs
 * off: a warning, not an error.
 */
static enum paella_status
make_graphs(struct paella_model *m)
{
	struct paella__backend *b = m->rt->backend;
	uint64_t limit = m->rt->config.graph_chunk_ns;
	struct paella__launch_desc descs[MAX_RUN_KERNELS];
	unsigned nruns = 0;

	if (limit == 0 || b->ops->graph_create == NULL)
		return PAELLA_STATUS_OK;
	m->run_len = calloc(m->nsteps, sizeof(*m->run_len));
	if (m->run_len == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "model %s: out of memory", m->name);
	for (unsigned i = 0; i < m->nsteps;) {
		uint64_t sum = 0;
		unsigned n = 0;

		while (i + n < m->nsteps && n < MAX_RUN_KERNELS && graphable(&m->steps[i + n]) &&
		       sum + m->steps[i + n].estimate_ns <= limit) {
			sum += m->steps[i + n].estimate_ns;
			n++;
		}
		if (n >= 2) {
			m->run_len[i] = n;
			nruns++;
		}
		i += n > 0 ? n : 1;
	}
	for (unsigned s = 0; s < m->nsets && nruns > 0; s++) {
		struct paella__bufset *set = &m->sets[s];

		set->graphs = calloc(m->nsteps, sizeof(*set->graphs));
		if (set->graphs == NULL)
			return paella__error_set(PAELLA_STATUS_NO_MEMORY, "model %s: out of memory",
						 m->name);
		for (unsigned i = 0; i < m->nsteps; i++) {
			enum paella_status st;

			if (m->run_len[i] == 0)
				continue;
			for (unsigned j = 0; j < m->run_len[i]; j++) {
				const struct paella__step *step = &m->steps[i + j];

				/* The dispatcher reads a graph run's completion only. */
				paella__step_launch_desc(step, set->params[i + j], 0,
							 PAELLA__WANT_COMPLETION, &descs[j]);
			}
			st = b->ops->graph_create(b, descs, m->run_len[i], &set->graphs[i]);
			if (st != PAELLA_STATUS_OK) {
				paella__log_warn("model %s: kernels launched one by one, not as "
						 "graphs: %s", m->name, paella__error_last());
				graphs_free(m);
				return PAELLA_STATUS_OK;
			}
		}
	}
	if (nruns == 0) {
		free(m->run_len);
		m->run_len = NULL;
	} else {
		paella__log_info("model %s: %u runs of kernels launched as graphs", m->name, nruns);
	}
	return PAELLA_STATUS_OK;
}

static enum paella_status
profile_kernels(struct paella_model *m)
{
	struct paella__backend *b = m->rt->backend;

	for (unsigned i = 0; i < m->nsteps; i++) {
		struct paella__step *step = &m->steps[i];
		struct paella__launch_desc desc;
		enum paella_status st;
		uint64_t ns = 0;

		if (step->kind != PAELLA__STEP_KERNEL)
			continue;
		paella__step_launch_desc(step, m->sets[0].params[i], 0, PAELLA__WANT_PROGRESS, &desc);
		st = b->ops->profile(b, &desc, &ns);
		if (st != PAELLA_STATUS_OK)
			return st;
		/* Zero would read as "no estimate". */
		step->estimate_ns = ns > 0 ? ns : 1;
		paella__log_debug("model %s step %u (%s): %llu ns alone", m->name, i,
				  step->kernel_name, (unsigned long long)step->estimate_ns);
	}
	return PAELLA_STATUS_OK;
}

PAELLA_EXPORT enum paella_status
paella_model_finalize(struct paella_model *m, unsigned concurrent_jobs)
{
	enum paella_status st;
	size_t offset = 0, aligned, next;

	if (!paella__model_check(m, "paella_model_finalize", true))
		return PAELLA_STATUS_INVALID_ARGUMENT;
	if (m->capture != NULL)
		return paella__error_set(PAELLA_STATUS_BUSY,
			"model %s is being captured: end the capture with "
			"paella_model_capture_end() before finalizing it", m->name);
	if (m->nkernels == 0)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s has no kernel: add one with paella_model_add_kernel()", m->name);
	if (concurrent_jobs < 1 || concurrent_jobs > MAX_CONCURRENT_JOBS)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s: concurrent_jobs must be 1 to %u, not %u", m->name,
			MAX_CONCURRENT_JOBS, concurrent_jobs);
	for (unsigned i = 0; i < m->nbuffers; i++) {
		if (m->buffers[i].scope != PAELLA_BUFFER_JOB)
			continue;
		/* Sizes are the caller's: a sum that wraps would allocate a
		 * set too small for the copies into it. */
		if (paella__add_overflows(offset, BUFFER_ALIGN - 1, &aligned) ||
		    paella__add_overflows(aligned & ~(size_t)(BUFFER_ALIGN - 1),
					  m->buffers[i].bytes, &next))
			return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				"model %s: its job buffers add up to more than %zu bytes", m->name,
				SIZE_MAX);
		m->buffers[i].set_offset = aligned & ~(size_t)(BUFFER_ALIGN - 1);
		offset = next;
	}
	if (paella__mul_overflows(offset, concurrent_jobs, &aligned))
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s: %u sets of %zu bytes of job buffers do not fit in memory",
			m->name, concurrent_jobs, offset);
	m->set_bytes = offset;
	m->sets = calloc(concurrent_jobs, sizeof(*m->sets));
	m->suffix_ns = calloc(m->nsteps + 1, sizeof(*m->suffix_ns));
	if (m->sets == NULL || m->suffix_ns == NULL) {
		st = paella__error_set(PAELLA_STATUS_NO_MEMORY, "model %s: out of memory", m->name);
		goto err;
	}
	m->nsets = concurrent_jobs;
	for (unsigned i = 0; i < concurrent_jobs; i++) {
		st = bufset_init(m, &m->sets[i]);
		if (st != PAELLA_STATUS_OK)
			goto err;
	}
	st = profile_kernels(m);
	if (st != PAELLA_STATUS_OK)
		goto err;
	paella__model_update_suffix(m);
	st = make_graphs(m);
	if (st != PAELLA_STATUS_OK)
		goto err;
	for (unsigned i = concurrent_jobs; i-- > 0;) {
		m->sets[i].next_free = m->free_sets;
		m->free_sets = &m->sets[i];
	}
	m->finalized = true;
	free_capture_addresses(m);
	paella__log_info("model %s: %u steps, %u kernels, %llu ns of GPU time per job, %u sets "
			 "of %zu bytes", m->name, m->nsteps, m->nkernels,
			 (unsigned long long)m->suffix_ns[0], concurrent_jobs, m->set_bytes);
	return PAELLA_STATUS_OK;

err:
	graphs_free(m);
	for (unsigned i = 0; i < m->nsets; i++)
		bufset_fini(m, &m->sets[i]);
	free(m->sets);
	free(m->suffix_ns);
	m->sets = NULL;
	m->suffix_ns = NULL;
	m->nsets = 0;
	return st;
}

void
paella__model_free_sets(struct paella_model *m)
{
	free_capture_addresses(m);
	graphs_free(m);
	for (unsigned i = 0; i < m->nsets; i++)
		bufset_fini(m, &m->sets[i]);
	free(m->sets);
	m->sets = NULL;
	m->nsets = 0;
}
