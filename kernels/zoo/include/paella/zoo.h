/*
 * paella/zoo.h - libpaellazoo, the model zoo: torchvision's image
 * classifiers as plans of layer-kernel launches, their weights, a CPU
 * interpreter of the plans, and each plan as a libpaellart model.  Built on
 * the public API (paella/paella.h) only; link libpaellazoo and a libpaellart.
 *
 * A plan (struct paella_zoo_plan) is everything needed to run a model with
 * the kernels of kernels/layers/ and nothing else:
 *   - tensors: what the weights file must hold (torchvision's state-dict
 *     names and shapes);
 *   - params: the device parameter blob, made from those tensors at load
 *     (batch norm folded into convolution weights and biases, weights
 *     transposed for the implicit GEMM), one float array;
 *   - storages: activation tensors, each placed at a byte offset of one
 *     activation arena by a liveness-based planner (storages whose launches
 *     do not overlap share memory);
 *   - launches: kernel name, grid, block, shared memory and the arguments,
 *     each bound to a storage (plus an element offset), a parameter, a
 *     constant or NULL.  Run in order on one stream they compute the model.
 * A concatenation is no launch: its branches write their channel slices of
 * one storage directly.  A plan is plain data: read its fields, never write
 * them.
 *
 * Serving a model (a benchmark):
 *	struct paella_zoo_model_config c;
 *	paella_zoo_model_config_init(&c);
 *	c.name = "resnet50"; c.image_dir = "build/kernels/zoo";
 *	c.variant = PAELLA_ZOO_VARIANT_COUNT; c.seed = 1; c.concurrent_jobs = 4;
 *	paella_zoo_model_build(rt, &c, &zm);
 *	paella_zoo_model_io_bytes(zm, &in, &out);
 *	paella_job_submit(paella_zoo_model_runtime(zm), &desc, &job);
 *	...
 *	paella_zoo_model_destroy(zm);
 *
 * Plans and weights alone:
 *	paella_zoo_build("resnet50", &opts, &plan);
 *	paella_zoo_load_weights(plan, "resnet50.safetensors", &blob);
 *	paella_zoo_run_cpu(plan, blob, input, logits);
 *	free(blob); paella_zoo_plan_free(plan);
 *
 * Errors: every call that fails returns a status and leaves a sentence in
 * paella_zoo_last_error() (the runtime's own message included when a
 * runtime call failed).  The library prints nothing unless PAELLA_LOG asks.
 */
#ifndef PAELLA_ZOO_H
#define PAELLA_ZOO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "paella/paella.h"

#define PAELLA_ZOO_NAME_MAX 80
/* Bounds of struct paella_zoo_options: batch, num_sms, force_splits. */
#define PAELLA_ZOO_MAX_BATCH 4096
#define PAELLA_ZOO_MAX_SMS 1024
#define PAELLA_ZOO_MAX_SPLITS 32
#define PAELLA_ZOO_MAX_ARGS 32
/* Placement granularity of params (floats) and storages (bytes). */
#define PAELLA_ZOO_PARAM_ALIGN 64
#define PAELLA_ZOO_ARENA_ALIGN 256

enum paella_zoo_arg_kind {
	PAELLA_ZOO_ARG_NULL,
	/* Storage `ref`, `offset` floats in: a device pointer. */
	PAELLA_ZOO_ARG_ACT,
	/* Param `ref` of the blob: a device pointer. */
	PAELLA_ZOO_ARG_PARAM,
	PAELLA_ZOO_ARG_I32,
	PAELLA_ZOO_ARG_F32,
};

struct paella_zoo_arg {
	enum paella_zoo_arg_kind kind;
	int32_t ref;
	int32_t i32;
	float f32;
	uint64_t offset;
};

/* The device images (build/kernels/zoo/<image>.cubin) of the kernels. */
enum paella_zoo_image {
	PAELLA_ZOO_IMAGE_CONV2D,
	PAELLA_ZOO_IMAGE_POOL,
	PAELLA_ZOO_IMAGE_LINEAR,
	PAELLA_ZOO_NIMAGES
};

/* Which parameter list (layer-abi.h) a kernel takes. */
enum paella_zoo_op {
	PAELLA_ZOO_OP_CONV,
	PAELLA_ZOO_OP_MAXPOOL,
	PAELLA_ZOO_OP_AVGPOOL,
	PAELLA_ZOO_OP_ADAPTIVE_AVGPOOL,
	PAELLA_ZOO_OP_LINEAR,
	PAELLA_ZOO_OP_SOFTMAX,
	PAELLA_ZOO_OP_ADD,
};

struct paella_zoo_launch {
	enum paella_zoo_op op;
	enum paella_zoo_image image;
	const char *kernel;
	uint32_t grid[3];
	uint32_t block[3];
	uint32_t shmem;
	unsigned nargs;
	struct paella_zoo_arg args[PAELLA_ZOO_MAX_ARGS];
	/* The torchvision module it computes, e.g. "layer1.0.conv1". */
	char layer[PAELLA_ZOO_NAME_MAX];
	/* Multiply-adds count 2. */
	double flops;
};

/* A tensor the weights file must hold. */
struct paella_zoo_tensor {
	char name[PAELLA_ZOO_NAME_MAX];
	int ndim;
	int64_t shape[4];
	uint64_t numel;
	/* A trainable parameter (weights, biases), as torchvision counts
	 * them; batch-norm running statistics are not. */
	bool parameter;
};

enum paella_zoo_recipe {
	/* Convolution weight [M][C/g][R][S] times the batch norm's scale,
	 * as [g][C/g * R * S][M/g]. */
	PAELLA_ZOO_P_CONV_WEIGHT,
	/* Bias of a convolution and/or its batch norm: [M]. */
	PAELLA_ZOO_P_CONV_BIAS,
	/* A batch norm as y = x * scale + shift: [C] each. */
	PAELLA_ZOO_P_BN_SCALE,
	PAELLA_ZOO_P_BN_SHIFT,
	/* A tensor as stored. */
	PAELLA_ZOO_P_COPY,
};

struct paella_zoo_param {
	enum paella_zoo_recipe recipe;
	/* Indices into the plan's tensors, -1 for none: the convolution's (or
	 * copied tensor's) weight and bias, and the batch norm's weight (its
	 * bias, running_mean and running_var follow it). */
	int weight, bias, bn;
	float eps;
	int groups;
	/* Floats into the blob (a multiple of PAELLA_ZOO_PARAM_ALIGN). */
	uint64_t offset;
	uint64_t count;
};

struct paella_zoo_storage {
	char name[PAELLA_ZOO_NAME_MAX];
	uint64_t floats;
	/* First and last launch that name it (after planning). */
	int first, last;
	/* Live for the whole run: the input, the output, split-K counters
	 * (which must stay zero between runs). */
	bool pinned;
	/* Bytes into the arena (after planning). */
	uint64_t offset;
};

struct paella_zoo_plan {
	char model[32];
	int batch;
	int in_c, in_h, in_w;
	int classes;
	struct paella_zoo_tensor *tensors;
	unsigned ntensors;
	struct paella_zoo_param *params;
	unsigned nparams;
	uint64_t param_floats;
	struct paella_zoo_storage *storages;
	unsigned nstorages;
	uint64_t arena_bytes;
	/* Sum of all storages: what the arena would be without reuse. */
	uint64_t storage_bytes;
	struct paella_zoo_launch *launches;
	unsigned nlaunches;
	/* Storages: [batch][in_c][in_h][in_w] and [batch][classes]. */
	int input, output;
	/* Trainable parameters: torchvision's count. */
	uint64_t parameters;
	double flops;
	/* Tensors a weights file may hold that the model does not use (a
	 * prefix such as "AuxLogits."), NULL-terminated; may be NULL. */
	const char *const *ignore;
};

struct paella_zoo_options {
	/* Images per run; 0 means 1. */
	int batch;
	/* Multiprocessors of the target GPU, for split-K; 0 means 132. */
	int num_sms;
	/* Tests: force every implicit-GEMM convolution onto one kernel
	 * (NULL: choose) and split count (0: choose). */
	const char *force_conv_kernel;
	int force_splits;
};

struct paella_zoo_model_info {
	const char *name;
	const char *description;
	int in_h, in_w;
};

/**
 * paella_zoo_last_error - the message of the last error this thread got
 * from a paella_zoo_ call; "" when none.  Valid until the next failing call.
 */
const char *
paella_zoo_last_error(void);

/** paella_zoo_model_count - how many models the zoo has. */
unsigned
paella_zoo_model_count(void);

/** paella_zoo_model_at - model @i (< paella_zoo_model_count()), else NULL. */
const struct paella_zoo_model_info *
paella_zoo_model_at(unsigned i);

/**
 * paella_zoo_build - the plan of model @name (see paella_zoo_model_at());
 * @opts may be NULL.  NOT_FOUND for an unknown model, INVALID_ARGUMENT for
 * options out of their bounds (PAELLA_ZOO_MAX_*) or an unknown forced kernel.  Free with paella_zoo_plan_free().
 */
enum paella_status
paella_zoo_build(const char *name, const struct paella_zoo_options *opts,
		 struct paella_zoo_plan **out);

void
paella_zoo_plan_free(struct paella_zoo_plan *plan);

/** paella_zoo_image_name - the image stem of @image: "conv2d", "pool", "linear". */
const char *
paella_zoo_image_name(enum paella_zoo_image image);

/* Elements of a launch's activation argument: the storage's base plus
 * offset, in floats. */
static inline uint64_t
paella_zoo_storage_offset_floats(const struct paella_zoo_plan *plan,
				 const struct paella_zoo_arg *a)
{
	return plan->storages[a->ref].offset / 4 + a->offset;
}

/* ---- weights ------------------------------------------------------------ */

/**
 * paella_zoo_load_weights - reads the safetensors file @path, checks it
 * against the plan's tensors (every one present, F32, the right shape,
 * finite values, batch norms' running variances not negative; no tensor the
 * model does not know except batch norms' num_batches_tracked and the plan's
 * ignored prefixes) and makes the parameter blob (plan->param_floats floats,
 * malloc'd, the caller frees).  On any error nothing is returned; the
 * message names the file, the tensor and what is wrong.  IO_ERROR or
 * NOT_FOUND when the file cannot be read (or is not a regular file),
 * INVALID_ARGUMENT when its contents are wrong.
 */
enum paella_status
paella_zoo_load_weights(const struct paella_zoo_plan *plan, const char *path,
			float **blob_out);

/* One problem of a weights file, a sentence naming the file and tensor
 * (names escaped: printable ASCII only). */
typedef void (*paella_zoo_problem_fn)(void *user, const char *message);

/**
 * paella_zoo_check_weights - like paella_zoo_load_weights() without the
 * blob, reporting every problem to @problem (may be NULL) rather than the
 * first.  *@ntensors (may be NULL) gets the number of tensors in the file.
 * OK when there is none; INVALID_ARGUMENT when the file is readable but
 * wrong (paella_zoo_last_error() has the first problem); IO_ERROR or
 * NOT_FOUND when it cannot be read (one problem reported).
 */
enum paella_status
paella_zoo_check_weights(const struct paella_zoo_plan *plan, const char *path,
			 paella_zoo_problem_fn problem, void *user, unsigned *ntensors);

/**
 * paella_zoo_random_blob - random weights for @plan, deterministic for
 * @seed, folded into a blob the way a weights file is (batch norms into
 * convolutions): convolution and linear weights uniform with variance
 * 1/fan_in, biases small, batch norms with gamma ~ 1, beta and running mean
 * ~ 0, running variance in [0.75, 1.25], so that activations stay finite
 * through every model.  The caller frees *@blob_out.
 */
enum paella_status
paella_zoo_random_blob(const struct paella_zoo_plan *plan, uint64_t seed, float **blob_out);

/* ---- the CPU reference -------------------------------------------------- */

/**
 * paella_zoo_run_cpu - runs the plan on the CPU with the reference kernels:
 * @input is [batch][in_c][in_h][in_w], @output [batch][classes].  Slow
 * (plain loops, double accumulators): for tests and to tell a wrong kernel
 * from a wrong model.  NO_MEMORY when the arena cannot be allocated.
 */
enum paella_status
paella_zoo_run_cpu(const struct paella_zoo_plan *plan, const float *blob,
		   const float *input, float *output);

/** paella_zoo_run_cpu_range - launches [first, last) of the plan on the CPU
 * over an arena the caller owns (plan->arena_bytes bytes). */
void
paella_zoo_run_cpu_range(const struct paella_zoo_plan *plan, const float *blob,
			 float *arena, unsigned first, unsigned last);

/**
 * paella_zoo_cuda_device - CUDA device @ordinal's multiprocessors (what
 * paella_zoo_options.num_sms wants for that card) and name, asked of the
 * driver (PAELLA_LIBCUDA, else libcuda.so.1) before any runtime exists.
 * Either output may be NULL.  PAELLA_STATUS_NO_DEVICE where there is no
 * driver or no such device.
 */
enum paella_status
paella_zoo_cuda_device(int ordinal, int *num_sms, char *name, size_t name_len);

/* ---- images and runtime models ------------------------------------------ */

/*
 * Which build of the layer images a model runs (kernels/zoo/meson.build
 * makes all three): <image>.cubin instrumented in sample mode (paella-cc's
 * default), <image>.noinst.cubin without the pass, <image>.count.cubin
 * instrumented in count mode (--paella-notify=count).  On the simulator the
 * variant is what each kernel's manifest line says.
 */
enum paella_zoo_variant {
	PAELLA_ZOO_VARIANT_SAMPLE = 0,
	PAELLA_ZOO_VARIANT_NOINST,
	PAELLA_ZOO_VARIANT_COUNT,
	PAELLA_ZOO_NVARIANTS
};

/** paella_zoo_variant_name - "sample", "noinst", "count"; NULL if unknown. */
const char *
paella_zoo_variant_name(enum paella_zoo_variant variant);

/** paella_zoo_variant_suffix - the file-name suffix: "", ".noinst", ".count". */
const char *
paella_zoo_variant_suffix(enum paella_zoo_variant variant);

/** paella_zoo_variant_parse - @name as paella_zoo_variant_name() spells it
 * (also "inst" and "instrumented" for sample); INVALID_ARGUMENT otherwise. */
enum paella_status
paella_zoo_variant_parse(const char *name, enum paella_zoo_variant *out);

/**
 * paella_zoo_modules_load - cuda: loads <image_dir>/<image><suffix>.cubin of
 * @variant for each zoo image into @mods (with paella_module_load_file(),
 * which checks ABI version and manifest).  On failure nothing stays loaded.
 */
enum paella_status
paella_zoo_modules_load(struct paella_runtime *rt, const char *image_dir,
			enum paella_zoo_variant variant,
			struct paella_module *mods[PAELLA_ZOO_NIMAGES]);

/** paella_zoo_modules_unload - unloads what paella_zoo_modules_load() loaded
 * (NULL entries skipped, entries set to NULL); the first failure's status. */
enum paella_status
paella_zoo_modules_unload(struct paella_module *mods[PAELLA_ZOO_NIMAGES]);

/*
 * A zoo plan as a libpaellart model (paella_model_*):
 *   - the parameter blob (folded weights) is one PAELLA_BUFFER_MODEL buffer
 *     of plan->param_floats * 4 + 256 bytes; a PARAM argument is that
 *     buffer at params[ref].offset * 4 bytes;
 *   - the activation arena (every storage at its planned offset: input,
 *     output, activations, split-K partial sums and counters) is one
 *     PAELLA_BUFFER_JOB buffer of plan->arena_bytes + 256 bytes;
 *   - the job's input is copied into the input storage, the logits out of
 *     the output storage: a job gives exactly paella_zoo_model_io_bytes();
 *   - each launch is one kernel step with the plan's grid, block and shmem.
 * Split-K counters: job buffers are zeroed when paella_model_finalize()
 * allocates them, and the conv kernels put each counter they use back to 0,
 * so they are zero again after every complete job.
 * On sim there is no image: every launch gets a sim module of its own (a
 * one-line manifest, as paella-cc writes it for the variant) with a block
 * duration from a rough cost model of an H200.
 */
struct paella_zoo_model;

struct paella_zoo_model_config {
	/* A model of the zoo, e.g. "resnet50". */
	const char *name;
	/* Images per job; 0 means 1. */
	int batch;
	/* SMs the plan's split-K choices aim at; 0 means 132. */
	int num_sms;
	enum paella_zoo_variant variant;
	/* cuda: the folder of the layer images (ignored when @modules is
	 * given, and on sim). */
	const char *image_dir;
	/* cuda: images already loaded (paella_zoo_modules_load(), of
	 * @variant), shared by several models and outliving them; NULL: the
	 * model loads its own and unloads them when destroyed. */
	struct paella_module *const *modules;
	/* A torchvision safetensors file; NULL: random weights from @seed
	 * (paella_zoo_random_blob()). */
	const char *weights_path;
	uint64_t seed;
	/* Job buffer sets (jobs in flight at once); 0 means 1. */
	unsigned concurrent_jobs;
};

/** paella_zoo_model_config_init - defaults: batch 1, 132 SMs, sample
 * variant, no image folder, random weights of seed 1, one job set.  @name
 * (and on cuda @image_dir or @modules) must still be set. */
void
paella_zoo_model_config_init(struct paella_zoo_model_config *config);

/**
 * paella_zoo_model_build - plans model @config->name, makes its weights,
 * builds and finalizes it in @rt.  Free with paella_zoo_model_destroy().
 */
enum paella_status
paella_zoo_model_build(struct paella_runtime *rt, const struct paella_zoo_model_config *config,
		       struct paella_zoo_model **out);

/**
 * paella_zoo_model_create - the same from a plan and blob of your own.
 * @blob: plan->param_floats floats; NULL leaves the parameters zero (sim:
 * the simulator runs no kernel code).  @mods: the images on cuda (of
 * @variant); ignored (may be NULL) on sim.  @plan need not outlive the
 * model (the model keeps a copy of what it needs).
 */
enum paella_status
paella_zoo_model_create(struct paella_runtime *rt, const struct paella_zoo_plan *plan,
			const float *blob, enum paella_zoo_variant variant,
			struct paella_module *const *mods, unsigned concurrent_jobs,
			struct paella_zoo_model **out);

/* What a job of a paella_zoo_model_create_part() model copies. */
enum paella_zoo_io {
	/* Its input into the input storage, the logits out of the output
	 * storage (as paella_zoo_model_create()). */
	PAELLA_ZOO_IO_LOGITS = 0,
	/* The whole activation arena (plan->arena_bytes, every storage at its
	 * planned offset) in and out: every byte but the split-K counters' is
	 * copied in (they stay as the kernels leave them: zero at finalize,
	 * and each complete run puts them back to zero), so the input is the
	 * arena's first bytes up to the last byte copied in, at most
	 * plan->arena_bytes (paella_zoo_model_io_bytes()). */
	PAELLA_ZOO_IO_ARENA,
	/* No copy: the kernels alone (no job is needed to read the model's
	 * paella_model_estimate_ns(), each kernel's GPU time as finalize
	 * profiled it, alone, on zeroed job buffers). */
	PAELLA_ZOO_IO_NONE,
};

/* Which launches of a plan a part model runs, and its copies. */
struct paella_zoo_part {
	unsigned first, last;
	enum paella_zoo_io io;
};

/**
 * paella_zoo_model_create_part - like paella_zoo_model_create(), with one
 * job set, for checks: a model of launches [@part->first, @part->last) of
 * @plan only (at least one), whose jobs copy what @part->io says
 * (paella_zoo_model_io_bytes() gives the sizes).  A layer's check is a
 * one-launch plan as PAELLA_ZOO_IO_ARENA; a launch's GPU time, a one-launch
 * part as PAELLA_ZOO_IO_NONE and paella_model_estimate_ns().
 */
enum paella_status
paella_zoo_model_create_part(struct paella_runtime *rt, const struct paella_zoo_plan *plan,
			     const float *blob, enum paella_zoo_variant variant,
			     struct paella_module *const *mods, const struct paella_zoo_part *part,
			     struct paella_zoo_model **out);

/** paella_zoo_model_destroy - destroys the model (BUSY while jobs run:
 * nothing freed), its sim modules and the images it loaded itself. */
enum paella_status
paella_zoo_model_destroy(struct paella_zoo_model *zm);

/** paella_zoo_model_runtime - the libpaellart model, for paella_job_submit(). */
struct paella_model *
paella_zoo_model_runtime(const struct paella_zoo_model *zm);

/** paella_zoo_model_io_bytes - a job's input and output sizes (either
 * pointer may be NULL). */
void
paella_zoo_model_io_bytes(const struct paella_zoo_model *zm, size_t *input_bytes,
			  size_t *output_bytes);

/** paella_zoo_model_plan - the plan the model was built from, when
 * paella_zoo_model_build() made it (owned by the model); else NULL. */
const struct paella_zoo_plan *
paella_zoo_model_plan(const struct paella_zoo_model *zm);

/** paella_zoo_model_sim_modules - how many sim modules the model owns (one
 * per launch on sim, 0 on cuda). */
unsigned
paella_zoo_model_sim_modules(const struct paella_zoo_model *zm);

#endif /* PAELLA_ZOO_H */
