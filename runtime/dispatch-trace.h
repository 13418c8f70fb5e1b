/*
 * dispatch-trace.h - what the dispatcher tells a tracer at each launch
 * (paella__dispatcher_set_trace): a leaf header, so that the dispatcher's
 * loop (dispatcher.c) and its decisions (dispatch-decisions.c) share the
 * type without including each other.  Private.
 */
#ifndef PAELLA_DISPATCH_TRACE_H
#define PAELLA_DISPATCH_TRACE_H

#include <stdbool.h>
#include <stdint.h>

struct paella_job;

/* What tests see of each decision. */
struct paella__trace_launch {
	struct paella_job *job;
	unsigned step;
	uint64_t now_ns;
	/* The policies' GPU-time clock before this launch. */
	uint64_t gpu_ns;
	/* Waves the kernels in flight needed, before this launch. */
	double load_before;
	/* The job's previous kernel was still in flight. */
	bool early;
};

typedef void (*paella__trace_fn)(void *data, const struct paella__trace_launch *launch);

#endif /* PAELLA_DISPATCH_TRACE_H */
