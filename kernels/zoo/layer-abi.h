/*
 * layer-abi.h - the parameter lists of the layer kernels (kernels/layers/),
 * one enum per signature, so that the model builder (which binds the
 * arguments), the CPU reference (which reads them back) and the executor
 * (which checks the instrumented manifest's parameter counts) agree on one
 * order.  The kernels' own comments say what each parameter means.
 */
#ifndef PAELLA_LAYER_ABI_H
#define PAELLA_LAYER_ABI_H

/* Activations fused into an epilogue. */
enum paella__act {
	PAELLA__ACT_NONE = 0,
	PAELLA__ACT_RELU = 1,
	PAELLA__ACT_RELU6 = 2,
};

/* conv2d_igemm_* and dwconv2d (conv2d.cu). */
enum paella__conv_arg {
	PAELLA__CONV_X,
	PAELLA__CONV_X_CTOT,
	PAELLA__CONV_IN_SCALE,
	PAELLA__CONV_IN_SHIFT,
	PAELLA__CONV_W,
	PAELLA__CONV_BIAS,
	PAELLA__CONV_RES,
	PAELLA__CONV_RES_CTOT,
	PAELLA__CONV_Y,
	PAELLA__CONV_Y_CTOT,
	PAELLA__CONV_WS,
	PAELLA__CONV_COUNTERS,
	PAELLA__CONV_N,
	PAELLA__CONV_C,
	PAELLA__CONV_H,
	PAELLA__CONV_W_IN,
	PAELLA__CONV_M,
	PAELLA__CONV_P,
	PAELLA__CONV_Q,
	PAELLA__CONV_R,
	PAELLA__CONV_S,
	PAELLA__CONV_SH,
	PAELLA__CONV_SW,
	PAELLA__CONV_PH,
	PAELLA__CONV_PW,
	PAELLA__CONV_GROUPS,
	PAELLA__CONV_ACT,
	PAELLA__CONV_SPLITS,
	PAELLA__CONV_K_PER_SPLIT,
	PAELLA__CONV_NARGS
};

/* maxpool2d and avgpool2d (pool.cu). */
enum paella__pool_arg {
	PAELLA__POOL_X,
	PAELLA__POOL_X_CTOT,
	PAELLA__POOL_Y,
	PAELLA__POOL_Y_CTOT,
	PAELLA__POOL_N,
	PAELLA__POOL_C,
	PAELLA__POOL_H,
	PAELLA__POOL_W,
	PAELLA__POOL_P,
	PAELLA__POOL_Q,
	PAELLA__POOL_R,
	PAELLA__POOL_S,
	PAELLA__POOL_SH,
	PAELLA__POOL_SW,
	PAELLA__POOL_PH,
	PAELLA__POOL_PW,
	PAELLA__POOL_COUNT_INCLUDE_PAD,
	PAELLA__POOL_NARGS
};

/* adaptive_avgpool2d (pool.cu). */
enum paella__apool_arg {
	PAELLA__APOOL_X,
	PAELLA__APOOL_X_CTOT,
	PAELLA__APOOL_IN_SCALE,
	PAELLA__APOOL_IN_SHIFT,
	PAELLA__APOOL_Y,
	PAELLA__APOOL_Y_CTOT,
	PAELLA__APOOL_N,
	PAELLA__APOOL_C,
	PAELLA__APOOL_H,
	PAELLA__APOOL_W,
	PAELLA__APOOL_P,
	PAELLA__APOOL_Q,
	PAELLA__APOOL_NARGS
};

/* linear (linear.cu). */
enum paella__linear_arg {
	PAELLA__LINEAR_X,
	PAELLA__LINEAR_W,
	PAELLA__LINEAR_B,
	PAELLA__LINEAR_Y,
	PAELLA__LINEAR_N,
	PAELLA__LINEAR_I,
	PAELLA__LINEAR_O,
	PAELLA__LINEAR_ACT,
	PAELLA__LINEAR_NARGS
};

/* softmax (linear.cu). */
enum paella__softmax_arg {
	PAELLA__SOFTMAX_X,
	PAELLA__SOFTMAX_Y,
	PAELLA__SOFTMAX_ROWS,
	PAELLA__SOFTMAX_COLS,
	PAELLA__SOFTMAX_NARGS
};

/* add (linear.cu). */
enum paella__add_arg {
	PAELLA__ADD_A,
	PAELLA__ADD_B,
	PAELLA__ADD_Y,
	PAELLA__ADD_N,
	PAELLA__ADD_ACT,
	PAELLA__ADD_NARGS
};

/* Threads per block of every layer kernel. */
#define PAELLA__LAYER_THREADS 256
/* Depth of a reduction slice of the implicit GEMM: k_per_split is a
 * multiple of it. */
#define PAELLA__CONV_BK 16

#endif /* PAELLA_LAYER_ABI_H */
