/*
 * runtime-model.h - a zoo plan as a libpaellart model (paella_model_*), so
 * that the runtime's dispatcher serves the zoo's models.
 *
 * The mapping follows exec.c, the zoo's own executor, exactly:
 *   - the parameter blob (folded weights) is one PAELLA_BUFFER_MODEL buffer
 *     of plan->param_floats * 4 + 256 bytes, written with
 *     paella_model_write_buffer(); a PARAM argument is that buffer at
 *     params[ref].offset * 4 bytes;
 *   - the activation arena (every storage at its planned offset: input,
 *     output, activations, split-K partial sums and counters) is one
 *     PAELLA_BUFFER_JOB buffer of plan->arena_bytes + 256 bytes; an ACT
 *     argument is that buffer at paella__zoo_storage_offset_floats() * 4;
 *   - NULL arguments are an 8-byte zero value, I32 and F32 4-byte values;
 *   - the job's input is copied (PAELLA_COPY_INPUT) into the input storage,
 *     the logits out (PAELLA_COPY_OUTPUT) of the output storage;
 *   - each launch is one kernel step with the plan's grid, block and shmem.
 *
 * Split-K counters.  exec.c zeroes its arena once and relies on the conv
 * kernels resetting each counter they use (the last block of a tile puts
 * it back to 0), so counters are zero again after every complete run.  The
 * runtime gives the same guarantee per job set: job buffers are zeroed when
 * paella_model_finalize() allocates them (cuda: cuMemsetD32; sim: calloc),
 * the profile run at finalize runs each kernel to completion (leaving the
 * counters at 0), and a set is reused only after its job completed.  A job
 * that failed in the middle of a split-K kernel may leave a counter
 * non-zero; on cuda such a failure leaves the context unusable anyway.
 *
 * Modules.  On cuda, paella__zoo_rt_load_modules() loads the three layer
 * images (<dir>/conv2d.cubin, pool.cubin, linear.cubin) with
 * paella_module_load_file(), which checks their ABI version and manifest.
 * On sim there is no image: every launch gets a sim module of its own (a
 * one-line manifest "K <kernel> <nargs>", as paella-cc writes it for the
 * instrumented images) so that each launch has its own block duration,
 * from paella__zoo_sim_block_ns().
 */
#ifndef PAELLA_ZOO_RUNTIME_MODEL_H
#define PAELLA_ZOO_RUNTIME_MODEL_H

#include <stdint.h>

#include "paella/paella.h"
#include "zoo.h"

struct paella__zoo_rt_model {
	struct paella_model *model;
	/* sim: one module per launch, owned (unloaded by destroy). */
	struct paella_module **sim_modules;
	unsigned nsim_modules;
	/* The job's input and output sizes. */
	size_t input_bytes, output_bytes;
	/* buffer indices: params (model), arena (job) */
	unsigned params_buffer, arena_buffer;
};

/* cuda: loads <image_dir>/<image>.cubin for each zoo image into @mods. */
enum paella_status
paella__zoo_rt_load_modules(struct paella_runtime *rt, const char *image_dir,
			    struct paella_module *mods[PAELLA__ZOO_NIMAGES]);

/*
 * Builds and finalizes the model of @plan in @rt, with @concurrent job sets.
 * @blob: plan->param_floats floats (paella__zoo_load_weights(),
 * paella__zoo_random_blob()); NULL leaves the parameters zero (sim: the
 * simulator runs no kernel code).  @mods: the images on cuda; ignored (may be
 * NULL) on sim.  @plan need not outlive the model.
 */
enum paella_status
paella__zoo_rt_model_create(struct paella_runtime *rt, const struct paella__zoo_plan *plan,
			    const float *blob, struct paella_module *const *mods,
			    unsigned concurrent, struct paella__zoo_rt_model **out);

/* Destroys the model (BUSY while jobs run: nothing freed) and its sim
 * modules. */
enum paella_status
paella__zoo_rt_model_destroy(struct paella__zoo_rt_model *m);

/*
 * The simulator's duration of one block of launch @l, in ns.
 *
 * Estimate: the launch alone takes
 *	t = floor + flops / R
 * by kind of kernel: implicit-GEMM convolution 7 us + flops / 10 TFLOP/s,
 * depthwise convolution 5 us + flops / 0.3 TFLOP/s, pooling, fully
 * connected, softmax and add 3 us + flops / 0.1 TFLOP/s (memory-bound),
 * fitted by hand to the H200's per-launch times in
 * benchmarks/results/models-kernels-2026-11-27-h200.csv.  Per job, against
 * that file's kernel sums (sim estimate / measured us, 2026-11-27): resnet18
 * 540/476, mobilenet_v2 556/561, resnet34 1022/877, squeezenet1_1 295/362,
 * resnet50 1257/1101, densenet121 1471/2032 (many small convolutions: low
 * by 28%), googlenet 890/965, inception_v3 2131/2113.  The
 * blocks run in waves of (blocks per SM) x 132 SMs (the simulator's own
 * occupancy arithmetic, H200), so
 *	block_ns = t / waves.
 * *@regs and *@smem (may be NULL) get the register and static shared
 * memory figures the simulator is told for the kernel.
 */
uint64_t
paella__zoo_sim_block_ns(const struct paella__zoo_launch *l, unsigned *regs, unsigned *smem);

/*
 * Random weights for @plan, deterministic for @seed, folded into a blob the
 * way a weights file is (batch norms into convolutions): convolution and
 * linear weights uniform with variance 1/fan_in, biases small, batch norms
 * with gamma ~ 1, beta and running mean ~ 0, running variance in [0.75,
 * 1.25], so that activations stay finite through every model.
 */
enum paella_status
paella__zoo_random_blob(const struct paella__zoo_plan *plan, uint64_t seed, float **blob_out);

#endif /* PAELLA_ZOO_RUNTIME_MODEL_H */
