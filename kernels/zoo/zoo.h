/*
 * zoo.h - the model zoo: torchvision's image classifiers as plans of layer
 * kernel launches, their weights, and a CPU interpreter of the plans.
 *
 * A plan (struct paella__zoo_plan) is everything needed to run a model with
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
 * one storage directly.
 *
 * Use:
 *	paella__zoo_build("resnet50", &opts, &plan);
 *	paella__zoo_load_weights(plan, "resnet50.safetensors", &blob);
 *	paella__zoo_run_cpu(plan, blob, input, logits);   (or zoo-exec.h on a GPU)
 *	free(blob); paella__zoo_plan_free(plan);
 */
#ifndef PAELLA_ZOO_H
#define PAELLA_ZOO_H

#include <stdbool.h>
#include <stdint.h>

#include "layer-abi.h"
#include "paella/paella.h"

#define PAELLA__ZOO_NAME_MAX 80
#define PAELLA__ZOO_MAX_ARGS 32
/* Placement granularity of params (floats) and storages (bytes). */
#define PAELLA__ZOO_PARAM_ALIGN 64
#define PAELLA__ZOO_ARENA_ALIGN 256

enum paella__zoo_arg_kind {
	PAELLA__ZOO_ARG_NULL,
	/* Storage `ref`, `offset` floats in: a device pointer. */
	PAELLA__ZOO_ARG_ACT,
	/* Param `ref` of the blob: a device pointer. */
	PAELLA__ZOO_ARG_PARAM,
	PAELLA__ZOO_ARG_I32,
	PAELLA__ZOO_ARG_F32,
};

struct paella__zoo_arg {
	enum paella__zoo_arg_kind kind;
	int32_t ref;
	int32_t i32;
	float f32;
	uint64_t offset;
};

/* The device images (build/kernels/zoo/<image>.cubin) of the kernels. */
enum paella__zoo_image {
	PAELLA__ZOO_IMAGE_CONV2D,
	PAELLA__ZOO_IMAGE_POOL,
	PAELLA__ZOO_IMAGE_LINEAR,
	PAELLA__ZOO_NIMAGES
};

/* Which parameter list (layer-abi.h) a kernel takes. */
enum paella__zoo_op {
	PAELLA__ZOO_OP_CONV,
	PAELLA__ZOO_OP_MAXPOOL,
	PAELLA__ZOO_OP_AVGPOOL,
	PAELLA__ZOO_OP_ADAPTIVE_AVGPOOL,
	PAELLA__ZOO_OP_LINEAR,
	PAELLA__ZOO_OP_SOFTMAX,
	PAELLA__ZOO_OP_ADD,
};

struct paella__zoo_launch {
	enum paella__zoo_op op;
	enum paella__zoo_image image;
	const char *kernel;
	uint32_t grid[3];
	uint32_t block[3];
	uint32_t shmem;
	unsigned nargs;
	struct paella__zoo_arg args[PAELLA__ZOO_MAX_ARGS];
	/* The torchvision module it computes, e.g. "layer1.0.conv1". */
	char layer[PAELLA__ZOO_NAME_MAX];
	/* Multiply-adds count 2. */
	double flops;
};

/* A tensor the weights file must hold. */
struct paella__zoo_tensor {
	char name[PAELLA__ZOO_NAME_MAX];
	int ndim;
	int64_t shape[4];
	uint64_t numel;
	/* A trainable parameter (weights, biases), as torchvision counts
	 * them; batch-norm running statistics are not. */
	bool parameter;
};

enum paella__zoo_recipe {
	/* Convolution weight [M][C/g][R][S] times the batch norm's scale,
	 * as [g][C/g * R * S][M/g]. */
	PAELLA__ZOO_P_CONV_WEIGHT,
	/* Bias of a convolution and/or its batch norm: [M]. */
	PAELLA__ZOO_P_CONV_BIAS,
	/* A batch norm as y = x * scale + shift: [C] each. */
	PAELLA__ZOO_P_BN_SCALE,
	PAELLA__ZOO_P_BN_SHIFT,
	/* A tensor as stored. */
	PAELLA__ZOO_P_COPY,
};

struct paella__zoo_param {
	enum paella__zoo_recipe recipe;
	/* Indices into the plan's tensors, -1 for none: the convolution's (or
	 * copied tensor's) weight and bias, and the batch norm's weight (its
	 * bias, running_mean and running_var follow it). */
	int weight, bias, bn;
	float eps;
	int groups;
	/* Floats into the blob (a multiple of PAELLA__ZOO_PARAM_ALIGN). */
	uint64_t offset;
	uint64_t count;
};

struct paella__zoo_storage {
	char name[PAELLA__ZOO_NAME_MAX];
	uint64_t floats;
	/* First and last launch that name it (after planning). */
	int first, last;
	/* Live for the whole run: the input, the output, split-K counters
	 * (which must stay zero between runs). */
	bool pinned;
	/* Bytes into the arena (after planning). */
	uint64_t offset;
};

struct paella__zoo_plan {
	char model[32];
	int batch;
	int in_c, in_h, in_w;
	int classes;
	struct paella__zoo_tensor *tensors;
	unsigned ntensors;
	struct paella__zoo_param *params;
	unsigned nparams;
	uint64_t param_floats;
	struct paella__zoo_storage *storages;
	unsigned nstorages;
	uint64_t arena_bytes;
	/* Sum of all storages: what the arena would be without reuse. */
	uint64_t storage_bytes;
	struct paella__zoo_launch *launches;
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

struct paella__zoo_options {
	/* Images per run; 0 means 1. */
	int batch;
	/* Multiprocessors of the target GPU, for split-K; 0 means 132. */
	int num_sms;
	/* Tests: force every implicit-GEMM convolution onto one kernel
	 * (NULL: choose) and split count (0: choose). */
	const char *force_conv_kernel;
	int force_splits;
};

struct paella__zoo_model_info {
	const char *name;
	const char *description;
	int in_h, in_w;
};

unsigned
paella__zoo_model_count(void);

const struct paella__zoo_model_info *
paella__zoo_model_at(unsigned i);

/* Builds the plan of model @name (see paella__zoo_model_at); @opts may be
 * NULL.  NOT_FOUND for an unknown model. */
enum paella_status
paella__zoo_build(const char *name, const struct paella__zoo_options *opts,
		  struct paella__zoo_plan **out);

void
paella__zoo_plan_free(struct paella__zoo_plan *plan);

/* The image stem of @image: "conv2d", "pool", "linear". */
const char *
paella__zoo_image_name(enum paella__zoo_image image);

/* Elements of a launch's activation argument: the storage's base plus
 * offset, in floats. */
static inline uint64_t
paella__zoo_storage_offset_floats(const struct paella__zoo_plan *plan,
				  const struct paella__zoo_arg *a)
{
	return plan->storages[a->ref].offset / 4 + a->offset;
}

/*
 * Reads the safetensors file @path, checks it against the plan's tensors
 * (every one present, F32, the right shape; no tensor the model does not
 * know except batch norms' num_batches_tracked and the plan's ignored
 * prefixes) and makes the parameter blob (plan->param_floats floats,
 * malloc'd, the caller frees).  On any error nothing is returned; the
 * message names the file, the tensor and what is wrong.
 */
enum paella_status
paella__zoo_load_weights(const struct paella__zoo_plan *plan, const char *path,
			 float **blob_out);

struct paella__st_file;

/* The same from an open file (the checks and the folding). */
enum paella_status
paella__zoo_make_blob(const struct paella__zoo_plan *plan, const struct paella__st_file *st,
		      float **blob_out);

struct paella__st_tensor;

/* The folding alone: the blob from @found, one F32 tensor per plan tensor
 * (in the plan's order, shapes already checked), e.g. tensors made in
 * memory.  @what names the source in messages. */
enum paella_status
paella__zoo_fold_blob(const struct paella__zoo_plan *plan, const struct paella__st_tensor **found,
		      const char *what, float **blob_out);

/*
 * Runs the plan on the CPU with the reference kernels (ref.h): @input is
 * [batch][in_c][in_h][in_w], @output [batch][classes].  Slow (plain loops,
 * double accumulators): for tests and to tell a wrong kernel from a wrong
 * model.  NO_MEMORY when the arena cannot be allocated.
 */
enum paella_status
paella__zoo_run_cpu(const struct paella__zoo_plan *plan, const float *blob,
		    const float *input, float *output);

/* Runs launches [first, last) of the plan on the CPU over an arena the
 * caller owns (plan->arena_bytes bytes). */
void
paella__zoo_run_cpu_range(const struct paella__zoo_plan *plan, const float *blob,
			  float *arena, unsigned first, unsigned last);

#endif /* PAELLA_ZOO_H */
