/*
 * sim-costs.h - the simulated GPU's timing constants and the counters it
 * keeps: a leaf header, shared by the simulated card (sim-hardware.c), the
 * backend over it (backend-sim.c) and the tests that read both through
 * backend-sim.h.  Private.
 */
#ifndef PAELLA_SIM_COSTS_H
#define PAELLA_SIM_COSTS_H

#include <stdint.h>

/* Host time of one cuLaunchKernel (DESIGN.md, hardware costs: 4.7 to 5.1 us): launches and
 * copies issued back to back reach the GPU this far apart. */
#define PAELLA_SIM_LAUNCH_NS 4800u
/* A progress post seen by the polling CPU (DESIGN.md, hardware costs: 1.07 us). */
#define PAELLA_SIM_PROGRESS_LATENCY_NS 1100u
/* Completion through a stream write-value after the op (1.07 + 1.3 us). */
#define PAELLA_SIM_COMPLETION_LATENCY_NS 2400u
/* A copy: fixed cost plus bytes at this rate (pageable memory over PCIe). */
#define PAELLA_SIM_COPY_LATENCY_NS 2000u
#define PAELLA_SIM_COPY_BYTES_PER_NS 25u

struct paella__sim_stats {
	uint64_t events;
	uint64_t kernels_launched;
	uint64_t kernels_completed;
	uint64_t copies;
	uint64_t block_batches;
	/* At each launch, the waves the kernels already in flight still
	 * needed for their unfinished blocks, by the GPU's true state: the
	 * largest of these. */
	double max_true_load_at_launch;
	/* The most threads resident on all SMs at once. */
	uint64_t max_resident_threads;
};

#endif /* PAELLA_SIM_COSTS_H */
