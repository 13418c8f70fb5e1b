/*
 * model.c - building models: steps, buffers, argument bindings, and
 * freeing them (finalizing is model-finalize.c's).
 *
 * A model is built from one thread; once finalized it is read-only but for
 * what the dispatcher owns (model.h).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "model.h"
#include "runtime-state.h"
#include "util.h"

#define MAX_KERNEL_ARGS 1024u

PAELLA_EXPORT enum paella_status
paella_model_create(struct paella_runtime *rt, const char *name, struct paella_model **out)
{
	struct paella_model *m;

	PAELLA__OUT_ARGS_OR_RETURN(rt, "rt", out);
	m = calloc(1, sizeof(*m));
	if (m == NULL || (m->name = strdup(name ? name : "(unnamed)")) == NULL) {
		free(m);
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "paella_model_create: out of memory");
	}
	m->rt = rt;
	paella__list_init(&m->parked);
	paella__list_init(&m->stale_link);
	paella__heap_node_init(&m->sched_group.node);
	pthread_mutex_lock(&rt->registry_lock);
	paella__list_append(&rt->models, &m->link);
	pthread_mutex_unlock(&rt->registry_lock);
	*out = m;
	return PAELLA_STATUS_OK;
}

static bool
grow(void **array, unsigned *cap, unsigned count, size_t elem)
{
	void *p;
	unsigned ncap;
	size_t bytes;

	if (count < *cap)
		return true;
	if (*cap > UINT_MAX / 2)
		return false;
	ncap = *cap ? *cap * 2 : 8;
	if (paella__mul_overflows(ncap, elem, &bytes))
		return false;
	p = realloc(*array, bytes);
	if (p == NULL)
		return false;
	memset((char *)p + *cap * elem, 0, (ncap - *cap) * elem);
	*array = p;
	*cap = ncap;
	return true;
}

PAELLA_EXPORT enum paella_status
paella_model_add_buffer(struct paella_model *m, enum paella_buffer_scope scope,
			size_t bytes, unsigned *index)
{
	struct paella__backend *b;
	struct paella__buffer *buf;
	enum paella_status st;

	if (!paella__model_check(m, "paella_model_add_buffer", true))
		return PAELLA_STATUS_INVALID_ARGUMENT;
	if (index == NULL || bytes == 0 ||
	    (scope != PAELLA_BUFFER_MODEL && scope != PAELLA_BUFFER_JOB))
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_model_add_buffer: model %s: %s", m->name,
			index == NULL ? "index is NULL" : bytes == 0 ? "a buffer of 0 bytes" :
			"scope is not PAELLA_BUFFER_MODEL or PAELLA_BUFFER_JOB");
	if (!grow((void **)&m->buffers, &m->buffers_cap, m->nbuffers, sizeof(*m->buffers)))
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "model %s: out of memory", m->name);
	buf = &m->buffers[m->nbuffers];
	memset(buf, 0, sizeof(*buf));
	buf->scope = scope;
	buf->bytes = bytes;
	if (scope == PAELLA_BUFFER_MODEL) {
		b = m->rt->backend;
		st = b->ops->mem_alloc(b, bytes, &buf->dptr);
		if (st != PAELLA_STATUS_OK)
			return st;
	}
	*index = m->nbuffers++;
	return PAELLA_STATUS_OK;
}

PAELLA_EXPORT enum paella_status
paella_model_write_buffer(struct paella_model *m, unsigned index, size_t offset,
			  const void *data, size_t bytes)
{
	struct paella__backend *b;
	struct paella__buffer *buf;
	size_t end;

	if (!paella__model_check(m, "paella_model_write_buffer", false))
		return PAELLA_STATUS_INVALID_ARGUMENT;
	if (index >= m->nbuffers || m->buffers[index].scope != PAELLA_BUFFER_MODEL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_model_write_buffer: model %s has no model buffer %u%s", m->name,
			index, index < m->nbuffers ? " (it is a job buffer: jobs fill those "
			"with input copies)" : "");
	buf = &m->buffers[index];
	if (data == NULL && bytes != 0)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_model_write_buffer: model %s buffer %u: %zu bytes from NULL",
			m->name, index, bytes);
	if (paella__add_overflows(offset, bytes, &end) || end > buf->bytes)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_model_write_buffer: model %s buffer %u is %zu bytes; "
			"%zu bytes at offset %zu do not fit", m->name, index, buf->bytes, bytes,
			offset);
	if (__atomic_load_n(&m->jobs_live, __ATOMIC_ACQUIRE) != 0)
		return paella__error_set(PAELLA_STATUS_BUSY,
			"model %s: jobs are running: write its buffers before submitting, "
			"or wait for them", m->name);
	if (bytes == 0)
		return PAELLA_STATUS_OK;
	b = m->rt->backend;
	return b->ops->mem_write(b, buf->dptr + offset, data, bytes);
}

/* What the rule asks of the backend: a tail marker for the step's blocks. */
struct marker_ask {
	struct paella__backend *b;
	struct paella__bkernel *plain;
	unsigned threads;
	unsigned dynamic_smem;
};

static bool
marker_fits(void *ctx)
{
	struct marker_ask *a = ctx;

	return a->b->ops->tail_marker_ok != NULL &&
	       a->b->ops->tail_marker_ok(a->b, a->plain, a->threads, a->dynamic_smem);
}

static enum paella_status
check_dims(const struct paella_model *m, const struct paella_kernel_step *s,
	   const struct paella__kernel_ref *k, uint64_t *nblocks, unsigned *threads)
{
	const struct paella__device_info *dev = &m->rt->backend->device;
	uint64_t blocks, t;
	unsigned max_threads = k->attrs.max_threads_per_block < dev->max_threads_per_block
				       ? k->attrs.max_threads_per_block
				       : dev->max_threads_per_block;

	/* The GPU's own limits, on every backend (the simulator would take
	 * what the GPU refuses), checked before any product can wrap. */
	if (s->grid.x == 0 || s->grid.y == 0 || s->grid.z == 0 || s->grid.x > INT32_MAX ||
	    s->grid.y > 65535 || s->grid.z > 65535)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s, kernel %s: grid %u x %u x %u; a grid is 1 to 2147483647 "
			"blocks in x and 1 to 65535 in y and z", m->name, s->kernel, s->grid.x,
			s->grid.y, s->grid.z);
	if (s->block.x == 0 || s->block.y == 0 || s->block.z == 0 || s->block.x > 1024 ||
	    s->block.y > 1024 || s->block.z > 64)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s, kernel %s: block %u x %u x %u; a block is 1 to 1024 threads "
			"in x and y and 1 to 64 in z", m->name, s->kernel, s->block.x, s->block.y,
			s->block.z);
	blocks = (uint64_t)s->grid.x * s->grid.y * s->grid.z;
	t = (uint64_t)s->block.x * s->block.y * s->block.z;
	if (blocks > UINT32_MAX)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s, kernel %s: a grid of %llu blocks; grids of 1 to %u blocks "
			"are supported", m->name, s->kernel, (unsigned long long)blocks, UINT32_MAX);
	if (t > max_threads)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s, kernel %s: blocks of %llu threads; this kernel takes 1 to %u",
			m->name, s->kernel, (unsigned long long)t, max_threads);
	if ((uint64_t)s->dynamic_smem_bytes + k->attrs.static_smem > dev->max_smem_per_block)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s, kernel %s: %u bytes of static and %u of dynamic shared "
			"memory; a block may have at most %u on %s", m->name, s->kernel,
			k->attrs.static_smem, s->dynamic_smem_bytes, dev->max_smem_per_block,
			dev->name);
	*nblocks = blocks;
	*threads = (unsigned)t;
	return PAELLA_STATUS_OK;
}

static enum paella_status
bind_args(struct paella_model *m, const struct paella_kernel_step *s, struct paella__step *step)
{
	size_t values = 0;

	if (s->nargs > MAX_KERNEL_ARGS || (s->nargs > 0 && s->args == NULL))
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s, kernel %s: %u arguments%s", m->name, s->kernel, s->nargs,
			s->args == NULL ? " but args is NULL" : ": too many");
	for (unsigned i = 0; i < s->nargs; i++) {
		const struct paella_arg *a = &s->args[i];

		if (a->kind == PAELLA_ARG_VALUE) {
			if (a->value == NULL || a->size == 0 || a->size > 4096)
				return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
					"model %s, kernel %s, argument %u: a value needs 1 to "
					"4096 bytes at a non-NULL address", m->name, s->kernel, i);
			values += (a->size + 7) & ~(size_t)7;
		} else if (a->kind == PAELLA_ARG_BUFFER) {
			if (a->buffer >= m->nbuffers || a->offset >= m->buffers[a->buffer].bytes)
				return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
					"model %s, kernel %s, argument %u: buffer %u offset %zu "
					"is not inside a buffer of the model (it has %u)",
					m->name, s->kernel, i, a->buffer, a->offset, m->nbuffers);
		} else {
			return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				"model %s, kernel %s, argument %u: kind %d is not "
				"PAELLA_ARG_VALUE or PAELLA_ARG_BUFFER", m->name, s->kernel, i,
				(int)a->kind);
		}
	}
	step->nargs = s->nargs;
	step->args = calloc(s->nargs ? s->nargs : 1, sizeof(*step->args));
	step->values = calloc(values ? values : 1, 1);
	if (step->args == NULL || step->values == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "model %s: out of memory", m->name);
	values = 0;
	for (unsigned i = 0; i < s->nargs; i++) {
		const struct paella_arg *a = &s->args[i];
		struct paella__arg_binding *bnd = &step->args[i];

		bnd->kind = a->kind;
		if (a->kind == PAELLA_ARG_VALUE) {
			bnd->value_offset = values;
			bnd->size = a->size;
			memcpy(step->values + values, a->value, a->size);
			values += (a->size + 7) & ~(size_t)7;
		} else {
			bnd->buffer = a->buffer;
			bnd->offset = a->offset;
		}
	}
	return PAELLA_STATUS_OK;
}

static void
step_fini(struct paella__step *step)
{
	if (step->module != NULL)
		__atomic_sub_fetch(&step->module->users, 1, __ATOMIC_ACQ_REL);
	free(step->kernel_name);
	free(step->args);
	free(step->values);
	memset(step, 0, sizeof(*step));
}

PAELLA_EXPORT enum paella_status
paella_model_add_kernel(struct paella_model *m, const struct paella_kernel_step *s)
{
	struct paella__kernel_ref k;
	enum paella_status st;

	if (!paella__model_check(m, "paella_model_add_kernel", true))
		return PAELLA_STATUS_INVALID_ARGUMENT;
	if (s == NULL || s->module == NULL || s->kernel == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_model_add_kernel: model %s: %s is NULL", m->name,
			s == NULL ? "the step" : s->module == NULL ? "step->module" : "step->kernel");
	if (s->module->rt != m->rt)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s, kernel %s: the module belongs to another runtime",
			m->name, s->kernel);
	st = paella__module_kernel(s->module, s->kernel, &k);
	if (st != PAELLA_STATUS_OK)
		return st;
	return paella__model_add_kernel_ref(m, s, &k);
}

enum paella_status
paella__model_add_kernel_ref(struct paella_model *m, const struct paella_kernel_step *s,
			     const struct paella__kernel_ref *k)
{
	struct paella__backend *b = m->rt->backend;
	struct paella__launch_rule_in rule;
	struct marker_ask ask;
	struct paella__step step;
	unsigned threads = 0, bps = 0;
	enum paella_status st;

	memset(&step, 0, sizeof(step));
	step.kind = PAELLA__STEP_KERNEL;
	step.kernel = *k;
	if (step.kernel.nparams >= 0 && (unsigned)step.kernel.nparams != s->nargs)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s, kernel %s takes %d parameters (its manifest says); the step "
			"binds %u", m->name, s->kernel, step.kernel.nparams, s->nargs);
	st = check_dims(m, s, &step.kernel, &step.nblocks, &threads);
	if (st != PAELLA_STATUS_OK)
		return st;
	st = b->ops->occupancy(b, step.kernel.bkernel, threads, s->dynamic_smem_bytes, &bps);
	if (st != PAELLA_STATUS_OK)
		return st;
	if (bps == 0)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s, kernel %s: one block of %u threads (%u registers each, %u "
			"bytes of shared memory) does not fit on an SM of %s", m->name, s->kernel,
			threads, step.kernel.attrs.regs_per_thread,
			step.kernel.attrs.static_smem + s->dynamic_smem_bytes, b->device.name);

	paella__dim3_put(step.grid, s->grid);
	paella__dim3_put(step.block, s->block);
	step.dynamic_smem = s->dynamic_smem_bytes;
	step.blocks_per_sm = bps;
	step.wave_blocks = (uint64_t)bps * b->device.sm_count;
	step.wave_per_block = 1.0 / (double)step.wave_blocks;
	rule.instrumented = step.kernel.instrumented;
	rule.counted = step.kernel.counted;
	rule.has_plain = step.kernel.plain != NULL;
	rule.nblocks = step.nblocks;
	rule.wave_blocks = step.wave_blocks;
	rule.progress = m->rt->config.progress;
	rule.plain_copies = m->rt->config.plain_copies;
	ask.b = b;
	ask.plain = step.kernel.plain;
	ask.threads = threads;
	ask.dynamic_smem = s->dynamic_smem_bytes;
	paella__launch_rule(&rule, marker_fits, &ask, &step.codes);
	st = bind_args(m, s, &step);
	if (st != PAELLA_STATUS_OK)
		goto err;
	step.kernel_name = strdup(s->kernel);
	if (step.kernel_name == NULL ||
	    !grow((void **)&m->steps, &m->steps_cap, m->nsteps, sizeof(*m->steps))) {
		st = paella__error_set(PAELLA_STATUS_NO_MEMORY, "model %s: out of memory", m->name);
		goto err;
	}
	step.module = s->module;
	__atomic_add_fetch(&s->module->users, 1, __ATOMIC_ACQ_REL);
	m->steps[m->nsteps++] = step;
	m->nkernels++;
	return PAELLA_STATUS_OK;
err:
	step_fini(&step);
	return st;
}

PAELLA_EXPORT enum paella_status
paella_model_add_copy(struct paella_model *m, enum paella_copy_direction dir, unsigned buffer,
		      size_t buffer_offset, size_t host_offset, size_t bytes)
{
	struct paella__step *step;
	size_t end;

	if (!paella__model_check(m, "paella_model_add_copy", true))
		return PAELLA_STATUS_INVALID_ARGUMENT;
	if (dir != PAELLA_COPY_INPUT && dir != PAELLA_COPY_OUTPUT)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s: copy direction %d is not PAELLA_COPY_INPUT or _OUTPUT",
			m->name, (int)dir);
	if (buffer >= m->nbuffers || m->buffers[buffer].scope != PAELLA_BUFFER_JOB)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s: copies go to and from job buffers; buffer %u is %s",
			m->name, buffer, buffer >= m->nbuffers ? "not a buffer of the model"
			: "a model buffer, which every job shares");
	if (bytes == 0)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s: a copy of 0 bytes (buffer %u): a copy moves 1 byte or more",
			m->name, buffer);
	if (paella__add_overflows(buffer_offset, bytes, &end) || end > m->buffers[buffer].bytes)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s: a copy of %zu bytes at offset %zu of buffer %u (%zu bytes) "
			"does not fit", m->name, bytes, buffer_offset, buffer,
			m->buffers[buffer].bytes);
	if (paella__add_overflows(host_offset, bytes, &end))
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s: a copy of %zu bytes at host offset %zu ends past %zu, the "
			"largest size a job's input or output can have", m->name, bytes,
			host_offset, SIZE_MAX);
	if (!grow((void **)&m->steps, &m->steps_cap, m->nsteps, sizeof(*m->steps)))
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "model %s: out of memory", m->name);
	step = &m->steps[m->nsteps++];
	memset(step, 0, sizeof(*step));
	step->kind = dir == PAELLA_COPY_INPUT ? PAELLA__STEP_COPY_IN : PAELLA__STEP_COPY_OUT;
	step->buffer = buffer;
	step->buffer_offset = buffer_offset;
	step->host_offset = host_offset;
	step->bytes = bytes;
	if (dir == PAELLA_COPY_INPUT && end > m->input_bytes)
		m->input_bytes = end;
	if (dir == PAELLA_COPY_OUTPUT && end > m->output_bytes)
		m->output_bytes = end;
	return PAELLA_STATUS_OK;
}

void
paella__model_truncate(struct paella_model *m, unsigned nsteps, unsigned nkernels,
		       size_t input_bytes, size_t output_bytes)
{
	while (m->nsteps > nsteps)
		step_fini(&m->steps[--m->nsteps]);
	m->nkernels = nkernels;
	m->input_bytes = input_bytes;
	m->output_bytes = output_bytes;
}

/* The capture addresses of job buffers stand for them no more. */
PAELLA_EXPORT enum paella_status
paella_model_estimate_ns(const struct paella_model *m, uint64_t *ns)
{
	uint64_t sum = 0;

	PAELLA__OUT_ARGS_OR_RETURN(m, "model", ns);
	if (!m->finalized)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"model %s is not finalized: it is profiled at paella_model_finalize()",
			m->name);
	for (unsigned i = 0; i < m->nsteps; i++)
		if (m->steps[i].kind == PAELLA__STEP_KERNEL)
			sum += __atomic_load_n(&m->steps[i].estimate_ns, __ATOMIC_RELAXED);
	*ns = sum;
	return PAELLA_STATUS_OK;
}

enum paella_status
paella_model_io_bytes(const struct paella_model *m, size_t *input_bytes, size_t *output_bytes)
{
	if (m == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
					 "paella_model_io_bytes: model is NULL");
	if (input_bytes != NULL)
		*input_bytes = m->input_bytes;
	if (output_bytes != NULL)
		*output_bytes = m->output_bytes;
	return PAELLA_STATUS_OK;
}

void
paella__model_free(struct paella_model *m)
{
	struct paella__backend *b = m->rt->backend;

	paella__model_free_sets(m);
	for (unsigned i = 0; i < m->nbuffers; i++)
		if (m->buffers[i].scope == PAELLA_BUFFER_MODEL)
			b->ops->mem_free(b, m->buffers[i].dptr);
	free(m->buffers);
	for (unsigned i = 0; i < m->nsteps; i++)
		step_fini(&m->steps[i]);
	free(m->steps);
	free(m->suffix_ns);
	paella__heap_fini(&m->sched_group.members);
	free(m->name);
	free(m);
}

PAELLA_EXPORT enum paella_status
paella_model_destroy(struct paella_model *m)
{
	struct paella_runtime *rt;
	uint64_t live;

	if (m == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
					 "paella_model_destroy: model is NULL");
	live = __atomic_load_n(&m->jobs_live, __ATOMIC_ACQUIRE);
	if (live != 0)
		return paella__error_set(PAELLA_STATUS_BUSY,
			"model %s has %llu jobs queued or running: wait for them before "
			"destroying it", m->name, (unsigned long long)live);
	if (m->capture != NULL)
		return paella__error_set(PAELLA_STATUS_BUSY,
			"model %s is being captured: end the capture with "
			"paella_model_capture_end() before destroying it", m->name);
	rt = m->rt;
	pthread_mutex_lock(&rt->registry_lock);
	paella__list_unlink(&m->link);
	pthread_mutex_unlock(&rt->registry_lock);
	paella__model_free(m);
	return PAELLA_STATUS_OK;
}
