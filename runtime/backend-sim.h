/*
 * backend-sim.h - what tests and benchmarks may ask of the simulated GPU
 * beyond the backend table.  Private.
 *
 * The simulator's timing constants, so a test can reason about expected
 * times, and counters that check the dispatcher against the GPU's true
 * state (the dispatcher sees it only through delayed notifications): both
 * in sim-costs.h, which the simulated card (sim-hardware.c) uses too.
 */
#ifndef PAELLA_BACKEND_SIM_H
#define PAELLA_BACKEND_SIM_H

#include <stdint.h>

#include "backend.h"
#include "sim-costs.h"

/* @b must be a sim backend. */
void
paella__sim_get_stats(struct paella__backend *b, struct paella__sim_stats *out);

/* Whether @b is the simulator. */
bool
paella__backend_is_sim(const struct paella__backend *b);

#endif /* PAELLA_BACKEND_SIM_H */
