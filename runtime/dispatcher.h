/*
 * dispatcher.h - the loop that decides which kernel runs next.  Private.
 *
 * One per runtime.  It takes submitted jobs, polls the ops in flight for
 * progress and completion, and, while the kernels in flight need less than
 * the launch window of GPU waves, launches the next kernel of the job its
 * policy prefers.  It runs in its own thread (paella__dispatcher_thread) or,
 * in manual mode, in whichever thread calls paella__dispatcher_run().
 */
#ifndef PAELLA_DISPATCHER_H
#define PAELLA_DISPATCHER_H

#include <stdbool.h>
#include <stdint.h>

#include "dispatch-trace.h"
#include "paella/paella.h"

struct paella_runtime;
struct paella_job;
struct paella__dispatcher;

enum paella_status
paella__dispatcher_create(struct paella_runtime *rt, struct paella__dispatcher **out);

/* Every job must have completed. */
void
paella__dispatcher_destroy(struct paella__dispatcher *d);

/* Queues @job (any thread): its submission time, order and absolute
 * deadline (sched.deadline_ns holds the relative one, 0 for none) are set
 * here; PAELLA_STATUS_SHUT_DOWN once the dispatcher stops accepting. */
enum paella_status
paella__dispatcher_submit(struct paella__dispatcher *d, struct paella_job *job);

/* Whether jobs are still accepted. */
bool
paella__dispatcher_accepting(struct paella__dispatcher *d);

/* Whether the calling thread is running a dispatcher now (its thread, or
 * a manual-mode caller): a callback is, and must not wait for one. */
bool
paella__dispatcher_on_this_thread(void);

/* Stops accepting jobs and tells the thread to exit once they are done. */
void
paella__dispatcher_stop(struct paella__dispatcher *d);

/* Manual mode: @poll runs on every turn of the loop and says whether its
 * own work is in flight (direct mode's jobs, which the dispatcher does not
 * know). */
void
paella__dispatcher_set_extra_poll(struct paella__dispatcher *d,
				  bool (*poll)(struct paella_runtime *rt));

/* The body of the dispatcher thread (@dispatcher): returns once the
 * dispatcher is stopped and every job has completed. */
void *
paella__dispatcher_thread(void *dispatcher);

/*
 * Manual mode: runs the dispatcher in the calling thread (the caller holds
 * rt->run_lock) until the runtime's clock reaches @until_ns, or @job (if not
 * NULL) has completed, or, when @until_idle, no job is left.  Returns
 * PAELLA_STATUS_TIMEOUT when @job had not completed by @until_ns.
 */
enum paella_status
paella__dispatcher_run(struct paella__dispatcher *d, uint64_t until_ns,
		       struct paella_job *job, bool until_idle);

void
paella__dispatcher_stats(struct paella__dispatcher *d, struct paella_runtime_stats *out);

/* Calls @fn at each kernel launch, from the dispatcher's thread.  Set it
 * before submitting. */
void
paella__dispatcher_set_trace(struct paella__dispatcher *d, paella__trace_fn fn, void *data);

#endif /* PAELLA_DISPATCHER_H */
