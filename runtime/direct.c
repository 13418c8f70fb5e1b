/*
 * direct.c - direct mode: a job's steps enqueued whole, at once, on a
 * stream of the caller's, as a user without Paella would run a model.
 *
 * Kernels go out as their plain copies (an uninstrumented kernel as it
 * is), with no launch record and no completion signal of their own: stream
 * order covers them, and only the job's last op (its output copy, for a
 * model that ends with one) signals its completion, as a program that
 * polls its stream learns it.  With PAELLA_DIRECT_GRAPH each run of
 * consecutive kernel steps is one graph replay, captured per buffer set at
 * the first job that asks.
 *
 * Manual mode only (paella.h): the caller's thread is the dispatcher's, so
 * the model's free buffer sets and the backend are never shared between
 * threads.  The dispatcher's loop polls the direct jobs on every turn, so
 * paella_runtime_run_until() and paella_job_wait() see them complete as
 * soon as they do (on sim, at the exact virtual time).
 */
#include <stdlib.h>
#include <string.h>

#include "direct.h"
#include "dispatcher.h"
#include "job.h"
#include "log.h"
#include "model.h"
#include "util.h"

struct paella_stream {
	struct paella_runtime *rt;
	unsigned id;
	struct paella__list link;
};

PAELLA_EXPORT enum paella_status
paella_stream_create(struct paella_runtime *rt, int priority, struct paella_stream **out)
{
	struct paella__backend *b;
	struct paella_stream *s;
	enum paella_status st;

	PAELLA__OUT_ARGS_OR_RETURN(rt, "rt", out);
	if (rt->config.dispatch_mode != PAELLA_DISPATCH_MANUAL)
		return paella__error_set(PAELLA_STATUS_UNSUPPORTED,
			"paella_stream_create: direct mode needs a runtime in "
			"PAELLA_DISPATCH_MANUAL mode (the dispatcher thread would share the "
			"backend with the caller)");
	b = rt->backend;
	if (b->ops->stream_create == NULL)
		return paella__error_set(PAELLA_STATUS_UNSUPPORTED,
			"paella_stream_create: the %s backend has no direct mode", b->ops->name);
	PAELLA__NEW_OR_RETURN(s, "paella_stream_create: out of memory");
	st = b->ops->bind_thread(b);
	if (st == PAELLA_STATUS_OK)
		st = b->ops->stream_create(b, priority, &s->id);
	if (st != PAELLA_STATUS_OK) {
		free(s);
		return st;
	}
	s->rt = rt;
	paella__list_append(&rt->direct_streams, &s->link);
	*out = s;
	return PAELLA_STATUS_OK;
}

static void
stream_free(struct paella_stream *s)
{
	struct paella__backend *b = s->rt->backend;

	paella__list_unlink(&s->link);
	b->ops->stream_destroy(b, s->id);
	free(s);
}

/* Runs the dispatcher's manual loop until no direct job of @s (NULL: any)
 * is in flight. */
static void
drain(struct paella_runtime *rt, const struct paella_stream *s)
{
	for (;;) {
		struct paella__list *node, *tmp;
		struct paella_job *job = NULL;

		PAELLA__LIST_FOREACH_SAFE(node, tmp, &rt->direct_jobs) {
			struct paella_job *j = PAELLA__CONTAINER_OF(node, struct paella_job, link);

			if (s == NULL || j->direct_stream == s) {
				job = j;
				break;
			}
		}
		if (job == NULL)
			return;
		/* Holds a reference while waiting: completing drops the
		 * runtime's. */
		__atomic_add_fetch(&job->refs, 1, __ATOMIC_ACQ_REL);
		paella_job_wait(job, -1);
		paella__job_unref(job);
	}
}

PAELLA_EXPORT void
paella_stream_destroy(struct paella_stream *s)
{
	if (s == NULL)
		return;
	drain(s->rt, s);
	stream_free(s);
}

void
paella__direct_free_streams(struct paella_runtime *rt)
{
	struct paella__list *node, *tmp;

	PAELLA__LIST_FOREACH_SAFE(node, tmp, &rt->direct_streams)
		stream_free(PAELLA__CONTAINER_OF(node, struct paella_stream, link));
}

/* The launch of kernel step @i of @m with @params, as a direct job runs it:
 * its plain copy where it has one, no record, no marker, no completion. */
static void
direct_desc(const struct paella_model *m, unsigned i, void **params, unsigned stream,
	    struct paella__launch_desc *desc)
{
	paella__step_launch_desc(&m->steps[i], params, stream, PAELLA__WANT_NOTHING, desc);
}

/* Kernel steps from @i on, up to the next copy or the end. */
static unsigned
kernel_run(const struct paella_model *m, unsigned i)
{
	unsigned n = 0;

	while (i + n < m->nsteps && m->steps[i + n].kind == PAELLA__STEP_KERNEL)
		n++;
	return n;
}

/* The graph of the kernel run from step @i, for @set: made once. */
static enum paella_status
direct_graph(struct paella_model *m, struct paella__bufset *set, unsigned i, unsigned n,
	     void **out)
{
	struct paella__backend *b = m->rt->backend;
	struct paella__launch_desc *descs;
	enum paella_status st;

	if (b->ops->graph_create == NULL)
		return paella__error_set(PAELLA_STATUS_UNSUPPORTED,
			"PAELLA_DIRECT_GRAPH: the %s backend has no graphs", b->ops->name);
	if (set->direct_graphs == NULL &&
	    (set->direct_graphs = calloc(m->nsteps, sizeof(*set->direct_graphs))) == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "model %s: out of memory", m->name);
	if (set->direct_graphs[i] != NULL) {
		*out = set->direct_graphs[i];
		return PAELLA_STATUS_OK;
	}
	descs = calloc(n, sizeof(*descs));
	if (descs == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "model %s: out of memory", m->name);
	for (unsigned j = 0; j < n; j++)
		direct_desc(m, i + j, set->params[i + j], 0, &descs[j]);
	st = b->ops->graph_create(b, descs, n, &set->direct_graphs[i]);
	free(descs);
	*out = set->direct_graphs[i];
	return st;
}

/* Enqueues every step of @job on its stream; on failure, what was enqueued
 * stays with the job. */
static enum paella_status
enqueue(struct paella_job *job, bool graphs)
{
	struct paella_model *m = job->model;
	struct paella__backend *b = m->rt->backend;
	struct paella__bufset *set = job->bufset;
	unsigned stream = job->direct_stream->id;

	for (unsigned i = 0; i < m->nsteps;) {
		const struct paella__step *step = &m->steps[i];
		struct paella__bop *bop = NULL;
		enum paella_status st;
		unsigned n = 1;

		if (step->kind != PAELLA__STEP_KERNEL) {
			bool in = step->kind == PAELLA__STEP_COPY_IN;
			uint64_t dptr = set->base + m->buffers[step->buffer].set_offset +
					step->buffer_offset;
			void *host = in ? (void *)((const char *)job->input + step->host_offset)
					: (void *)((char *)job->output + step->host_offset);

			st = b->ops->copy(b, stream,
					  in ? PAELLA__COPY_TO_DEVICE : PAELLA__COPY_TO_HOST, dptr,
					  host, step->bytes, &bop);
		} else if (graphs) {
			void *graph = NULL;

			n = kernel_run(m, i);
			st = direct_graph(m, set, i, n, &graph);
			if (st == PAELLA_STATUS_OK)
				st = b->ops->graph_launch(b, graph, stream, &bop);
		} else {
			struct paella__launch_desc desc;

			direct_desc(m, i, set->params[i], stream, &desc);
			/* The last op must say when the job is done. */
			desc.untracked = i + 1 < m->nsteps;
			st = b->ops->launch(b, &desc, &bop);
		}
		if (st != PAELLA_STATUS_OK)
			return st;
		job->direct_untracked[job->ndirect_ops] =
			step->kind == PAELLA__STEP_KERNEL && !graphs && i + 1 < m->nsteps;
		job->direct_ops[job->ndirect_ops++] = bop;
		i += n;
	}
	return PAELLA_STATUS_OK;
}

/* What paella_job_submit_direct() refuses, before it takes anything. */
static enum paella_status
check_direct_submit(const struct paella_model *model, const struct paella_stream *stream,
		    const struct paella_job_desc *desc, unsigned flags, struct paella_job **out)
{
	enum paella_status st = paella__job_check_desc(model, desc, out,
						       "paella_job_submit_direct");

	if (st != PAELLA_STATUS_OK)
		return st;
	if (stream == NULL || out == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_job_submit_direct: %s is NULL", stream == NULL ? "stream" : "out");
	if (stream->rt != model->rt)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_job_submit_direct: model %s and the stream belong to different "
			"runtimes", model->name);
	if (desc->callback != NULL || desc->deadline_ns != 0)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_job_submit_direct: a direct job takes no callback and no "
			"deadline (nothing but the caller's polling runs it)");
	if ((flags & ~(unsigned)PAELLA_DIRECT_GRAPH) != 0)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_job_submit_direct: unknown flags 0x%x", flags);
	if (!paella__dispatcher_accepting(model->rt->dispatcher))
		return paella__error_set(PAELLA_STATUS_SHUT_DOWN,
			"the runtime is shutting down: no job is accepted after "
			"paella_runtime_shutdown() or paella_runtime_destroy()");
	if (model->free_sets == NULL)
		return paella__error_set(PAELLA_STATUS_BUSY,
			"model %s: all %u buffer sets are in use (paella_model_finalize()'s "
			"concurrent_jobs): wait for a job to complete", model->name, model->nsets);
	return PAELLA_STATUS_OK;
}

PAELLA_EXPORT enum paella_status
paella_job_submit_direct(struct paella_model *model, struct paella_stream *stream,
			 const struct paella_job_desc *desc, unsigned flags,
			 struct paella_job **out)
{
	enum paella_status st = check_direct_submit(model, stream, desc, flags, out);
	struct paella_runtime *rt;
	struct paella__backend *b;
	struct paella_job *job;

	if (st != PAELLA_STATUS_OK)
		return st;
	rt = model->rt;
	b = rt->backend;
	st = b->ops->bind_thread(b);
	if (st != PAELLA_STATUS_OK)
		return st;
	job = paella__job_from_desc(model, desc);
	if (job == NULL ||
	    (job->direct_ops = calloc(model->nsteps, sizeof(*job->direct_ops))) == NULL ||
	    (job->direct_untracked = calloc(model->nsteps, sizeof(bool))) == NULL) {
		if (job != NULL) {
			free(job->direct_ops);
			job->refs = 1;
			paella__job_unref(job);
		}
		return paella__error_set(PAELLA_STATUS_NO_MEMORY,
					 "paella_job_submit_direct: out of memory");
	}
	job->manual = true;
	job->has_handle = true;
	job->direct_stream = stream;
	job->bufset = model->free_sets;
	model->free_sets = job->bufset->next_free;
	job->times.submitted_ns = b->ops->now_ns(b);
	job->times.first_launch_ns = job->times.submitted_ns;
	__atomic_add_fetch(&model->jobs_live, 1, __ATOMIC_ACQ_REL);
	__atomic_add_fetch(&rt->jobs_submitted, 1, __ATOMIC_RELAXED);
	st = enqueue(job, (flags & PAELLA_DIRECT_GRAPH) != 0);
	if (st != PAELLA_STATUS_OK) {
		job->status = st;
		job->failed = true;
		/* The caller gets no handle; what was enqueued stays the
		 * runtime's until it drains (paella__direct_poll()).  An
		 * untracked kernel may still run on the set: the set is kept
		 * out of use rather than risk two jobs in it. */
		job->has_handle = false;
		job->refs = 1;
		if (job->ndirect_ops > 0)
			paella__log_error("model %s: a direct job failed after %u ops; its "
					  "buffer set is retired", model->name, job->ndirect_ops);
		paella__list_append(&rt->direct_jobs, &job->link);
		return st;
	}
	paella__list_append(&rt->direct_jobs, &job->link);
	*out = job;
	return PAELLA_STATUS_OK;
}

/* Releases @job's ops, gives its set back (unless retired) and completes it. */
static void
complete(struct paella_job *job, uint64_t now)
{
	struct paella_model *m = job->model;
	struct paella__backend *b = m->rt->backend;
	bool retire_set = job->failed && job->ndirect_ops > 0;

	for (unsigned i = 0; i < job->ndirect_ops; i++)
		b->ops->release(b, job->direct_ops[i]);
	free(job->direct_ops);
	free(job->direct_untracked);
	job->direct_ops = NULL;
	job->direct_untracked = NULL;
	if (!retire_set) {
		job->bufset->next_free = m->free_sets;
		m->free_sets = job->bufset;
	}
	job->bufset = NULL;
	paella__list_unlink(&job->link);
	__atomic_sub_fetch(&m->jobs_live, 1, __ATOMIC_ACQ_REL);
	paella__job_complete(job, job->failed ? job->status : PAELLA_STATUS_OK, now);
}

bool
paella__direct_poll(struct paella_runtime *rt)
{
	struct paella__backend *b = rt->backend;
	struct paella__list *node, *tmp;
	bool in_flight = false;

	PAELLA__LIST_FOREACH_SAFE(node, tmp, &rt->direct_jobs) {
		struct paella_job *job = PAELLA__CONTAINER_OF(node, struct paella_job, link);
		struct paella__bop *last;

		if (job->failed) {
			/* Its tracked ops must be seen done before their records
			 * are reused; its untracked ones are why its set retires. */
			bool busy = false;

			for (unsigned i = 0; i < job->ndirect_ops; i++)
				if (!job->direct_untracked[i] &&
				    !b->ops->poll(b, job->direct_ops[i], NULL))
					busy = true;
			if (busy)
				in_flight = true;
			else
				complete(job, b->ops->now_ns(b));
			continue;
		}
		last = job->direct_ops[job->ndirect_ops - 1];
		if (b->ops->poll(b, last, NULL))
			complete(job, b->ops->now_ns(b));
		else
			in_flight = true;
	}
	return in_flight;
}
