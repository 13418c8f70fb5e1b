/*
 * ref.h - the CPU reference of every layer kernel: plain C loops with double
 * accumulators, one function per parameter list of layer-abi.h, taking the
 * same arguments as the kernel (host pointers instead of device ones; the
 * split-K workspace and counters are not needed).  The GPU checks compare
 * the kernels with these; paella_zoo_run_cpu() runs whole plans on them.
 */
#ifndef PAELLA_REF_H
#define PAELLA_REF_H

#include <stdint.h>

void
pzoo__ref_conv2d(const float *x, int x_ctot, const float *in_scale, const float *in_shift,
		   const float *w, const float *bias, const float *res, int res_ctot, float *y,
		   int y_ctot, int N, int C, int H, int W, int M, int P, int Q, int R, int S,
		   int sh, int sw, int ph, int pw, int groups, int act);

void
pzoo__ref_maxpool2d(const float *x, int x_ctot, float *y, int y_ctot, int N, int C, int H,
		      int W, int P, int Q, int R, int S, int sh, int sw, int ph, int pw);

void
pzoo__ref_avgpool2d(const float *x, int x_ctot, float *y, int y_ctot, int N, int C, int H,
		      int W, int P, int Q, int R, int S, int sh, int sw, int ph, int pw,
		      int count_include_pad);

void
pzoo__ref_adaptive_avgpool2d(const float *x, int x_ctot, const float *in_scale,
			       const float *in_shift, float *y, int y_ctot, int N, int C, int H,
			       int W, int P, int Q);

void
pzoo__ref_linear(const float *x, const float *w, const float *b, float *y, int N, int I, int O,
		   int act);

void
pzoo__ref_softmax(const float *x, float *y, int rows, int cols);

void
pzoo__ref_add(const float *a, const float *b, float *y, int n, int act);

/* Activation of layer-abi.h's enum pzoo__act, in double. */
double
pzoo__ref_act(double v, int act);

#endif /* PAELLA_REF_H */
