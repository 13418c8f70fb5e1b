/*
 * layer-abi.h - the parameter lists of the layer kernels (kernels/layers/),
 * one enum per signature, so that the model builder (which binds the
 * arguments), the CPU reference (which reads them back) and the executor
 * (which checks the instrumented manifest's parameter counts) agree on one
 * order.  The kernels' own comments say what each parameter means.
 */
#ifndef PAELLA_ZOO_LAYER_ABI_H
#define PAELLA_ZOO_LAYER_ABI_H

/* Activations fused into an epilogue. */
enum pzoo__act {
	PZOO__ACT_NONE = 0,
	PZOO__ACT_RELU = 1,
	PZOO__ACT_RELU6 = 2,
};

/* conv2d_igemm_* and dwconv2d (conv2d.cu). */
enum pzoo__conv_arg {
	PZOO__CONV_X,
	PZOO__CONV_X_CTOT,
	PZOO__CONV_IN_SCALE,
	PZOO__CONV_IN_SHIFT,
	PZOO__CONV_W,
	PZOO__CONV_BIAS,
	PZOO__CONV_RES,
	PZOO__CONV_RES_CTOT,
	PZOO__CONV_Y,
	PZOO__CONV_Y_CTOT,
	PZOO__CONV_WS,
	PZOO__CONV_COUNTERS,
	PZOO__CONV_N,
	PZOO__CONV_C,
	PZOO__CONV_H,
	PZOO__CONV_W_IN,
	PZOO__CONV_M,
	PZOO__CONV_P,
	PZOO__CONV_Q,
	PZOO__CONV_R,
	PZOO__CONV_S,
	PZOO__CONV_SH,
	PZOO__CONV_SW,
	PZOO__CONV_PH,
	PZOO__CONV_PW,
	PZOO__CONV_GROUPS,
	PZOO__CONV_ACT,
	PZOO__CONV_SPLITS,
	PZOO__CONV_K_PER_SPLIT,
	PZOO__CONV_NARGS
};

/* maxpool2d and avgpool2d (pool.cu). */
enum pzoo__pool_arg {
	PZOO__POOL_X,
	PZOO__POOL_X_CTOT,
	PZOO__POOL_Y,
	PZOO__POOL_Y_CTOT,
	PZOO__POOL_N,
	PZOO__POOL_C,
	PZOO__POOL_H,
	PZOO__POOL_W,
	PZOO__POOL_P,
	PZOO__POOL_Q,
	PZOO__POOL_R,
	PZOO__POOL_S,
	PZOO__POOL_SH,
	PZOO__POOL_SW,
	PZOO__POOL_PH,
	PZOO__POOL_PW,
	PZOO__POOL_COUNT_INCLUDE_PAD,
	PZOO__POOL_NARGS
};

/* adaptive_avgpool2d (pool.cu). */
enum pzoo__apool_arg {
	PZOO__APOOL_X,
	PZOO__APOOL_X_CTOT,
	PZOO__APOOL_IN_SCALE,
	PZOO__APOOL_IN_SHIFT,
	PZOO__APOOL_Y,
	PZOO__APOOL_Y_CTOT,
	PZOO__APOOL_N,
	PZOO__APOOL_C,
	PZOO__APOOL_H,
	PZOO__APOOL_W,
	PZOO__APOOL_P,
	PZOO__APOOL_Q,
	PZOO__APOOL_NARGS
};

/* linear (linear.cu). */
enum pzoo__linear_arg {
	PZOO__LINEAR_X,
	PZOO__LINEAR_W,
	PZOO__LINEAR_B,
	PZOO__LINEAR_Y,
	PZOO__LINEAR_N,
	PZOO__LINEAR_I,
	PZOO__LINEAR_O,
	PZOO__LINEAR_ACT,
	PZOO__LINEAR_NARGS
};

/* softmax (linear.cu). */
enum pzoo__softmax_arg {
	PZOO__SOFTMAX_X,
	PZOO__SOFTMAX_Y,
	PZOO__SOFTMAX_ROWS,
	PZOO__SOFTMAX_COLS,
	PZOO__SOFTMAX_NARGS
};

/* add (linear.cu). */
enum pzoo__add_arg {
	PZOO__ADD_A,
	PZOO__ADD_B,
	PZOO__ADD_Y,
	PZOO__ADD_N,
	PZOO__ADD_ACT,
	PZOO__ADD_NARGS
};

/* Threads per block of every layer kernel. */
#define PZOO__LAYER_THREADS 256
/* Depth of a reduction slice of the implicit GEMM: k_per_split is a
 * multiple of it. */
#define PZOO__CONV_BK 16

#endif /* PAELLA_ZOO_LAYER_ABI_H */
