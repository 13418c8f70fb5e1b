/*
 * direct.h - direct mode: a model's jobs enqueued whole on the caller's
 * streams, with no dispatcher deciding (paella.h, "direct mode").  Private.
 *
 * Manual mode only, so the thread that runs the dispatcher is the caller's
 * and the backend is never used from two threads at once.
 */
#ifndef PAELLA_DIRECT_H
#define PAELLA_DIRECT_H

#include <stdbool.h>

#include "runtime-state.h"

/* Polls @rt's direct jobs and completes those whose last op is done;
 * returns whether any is still in flight.  The dispatcher's manual loop
 * calls it on every turn. */
bool
paella__direct_poll(struct paella_runtime *rt);

/* Frees the streams the caller did not destroy (runtime teardown, after
 * the jobs drained). */
void
paella__direct_free_streams(struct paella_runtime *rt);

#endif /* PAELLA_DIRECT_H */
