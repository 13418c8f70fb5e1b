/*
 * ref.c - the CPU reference of the layer kernels (ref.h), and the CPU
 * interpreter of plans (paella_zoo_run_cpu in zoo.h).  Written for being
 * obviously right, not fast: direct loops over the definitions, double
 * accumulators.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "zoo-private.h"
#include "ref.h"
#include "paella/zoo.h"

double
pzoo__ref_act(double v, int act)
{
	if (act == PZOO__ACT_RELU)
		return v > 0.0 ? v : 0.0;
	if (act == PZOO__ACT_RELU6)
		return v < 0.0 ? 0.0 : v > 6.0 ? 6.0 : v;
	return v;
}

void
pzoo__ref_conv2d(const float *x, int x_ctot, const float *in_scale, const float *in_shift,
		   const float *w, const float *bias, const float *res, int res_ctot, float *y,
		   int y_ctot, int N, int C, int H, int W, int M, int P, int Q, int R, int S,
		   int sh, int sw, int ph, int pw, int groups, int act)
{
	const int cg = C / groups, mg = M / groups;
	const long long kred = (long long)cg * R * S;
	const long long hw = (long long)H * W, pq = (long long)P * Q;
	double *acc = malloc((size_t)pq * sizeof(double));

	PZOO__ASSERT(acc != NULL);
	for (int n = 0; n < N; n++)
		for (int g = 0; g < groups; g++)
			for (int om = 0; om < mg; om++) {
				const int o = g * mg + om;

				for (long long i = 0; i < pq; i++)
					acc[i] = 0.0;
				for (int c = 0; c < cg; c++) {
					const int ci = g * cg + c;
					const float *xc = x + ((long long)n * x_ctot + ci) * hw;

					for (int r = 0; r < R; r++)
						for (int s = 0; s < S; s++) {
							/* w is [g][c*R*S][M/g]. */
							const double wv = w[((long long)g * kred +
									     ((long long)c * R + r) * S + s) *
									    mg + om];

							for (int p = 0; p < P; p++) {
								const int ih = p * sh - ph + r;

								if (ih < 0 || ih >= H)
									continue;
								for (int q = 0; q < Q; q++) {
									const int iw = q * sw - pw + s;
									double v;

									if (iw < 0 || iw >= W)
										continue;
									v = xc[(long long)ih * W + iw];
									if (in_scale != NULL) {
										v = v * in_scale[ci] + in_shift[ci];
										v = v > 0.0 ? v : 0.0;
									}
									acc[p * Q + q] += wv * v;
								}
							}
						}
				}
				for (long long i = 0; i < pq; i++) {
					double v = acc[i] + (bias != NULL ? bias[o] : 0.0);

					if (res != NULL)
						v += res[((long long)n * res_ctot + o) * pq + i];
					y[((long long)n * y_ctot + o) * pq + i] =
						(float)pzoo__ref_act(v, act);
				}
			}
	free(acc);
}

void
pzoo__ref_maxpool2d(const float *x, int x_ctot, float *y, int y_ctot, int N, int C, int H,
		      int W, int P, int Q, int R, int S, int sh, int sw, int ph, int pw)
{
	for (int n = 0; n < N; n++)
		for (int c = 0; c < C; c++)
			for (int p = 0; p < P; p++)
				for (int q = 0; q < Q; q++) {
					const float *xc = x + ((long long)n * x_ctot + c) * H * W;
					float m = -INFINITY;

					for (int r = 0; r < R; r++)
						for (int s = 0; s < S; s++) {
							int ih = p * sh - ph + r, iw = q * sw - pw + s;

							if (ih < 0 || ih >= H || iw < 0 || iw >= W)
								continue;
							if (xc[ih * W + iw] > m || isnan(xc[ih * W + iw]))
								m = xc[ih * W + iw];
						}
					y[(((long long)n * y_ctot + c) * P + p) * Q + q] = m;
				}
}

void
pzoo__ref_avgpool2d(const float *x, int x_ctot, float *y, int y_ctot, int N, int C, int H,
		      int W, int P, int Q, int R, int S, int sh, int sw, int ph, int pw,
		      int count_include_pad)
{
	for (int n = 0; n < N; n++)
		for (int c = 0; c < C; c++)
			for (int p = 0; p < P; p++)
				for (int q = 0; q < Q; q++) {
					const float *xc = x + ((long long)n * x_ctot + c) * H * W;
					/* PyTorch: padded cells count when they lie
					 * within the padded input, never beyond it
					 * (a ceil_mode window past the edge). */
					int h0 = p * sh - ph, w0 = q * sw - pw;
					int h1 = h0 + R < H + ph ? h0 + R : H + ph;
					int w1 = w0 + S < W + pw ? w0 + S : W + pw;
					int padded = (h1 - h0) * (w1 - w0), inside = 0;
					double sum = 0.0;

					for (int ih = h0; ih < h1; ih++)
						for (int iw = w0; iw < w1; iw++) {
							if (ih < 0 || ih >= H || iw < 0 || iw >= W)
								continue;
							sum += xc[ih * W + iw];
							inside++;
						}
					y[(((long long)n * y_ctot + c) * P + p) * Q + q] =
						(float)(sum / (count_include_pad ? padded : inside));
				}
}

void
pzoo__ref_adaptive_avgpool2d(const float *x, int x_ctot, const float *in_scale,
			       const float *in_shift, float *y, int y_ctot, int N, int C, int H,
			       int W, int P, int Q)
{
	for (int n = 0; n < N; n++)
		for (int c = 0; c < C; c++)
			for (int p = 0; p < P; p++)
				for (int q = 0; q < Q; q++) {
					const float *xc = x + ((long long)n * x_ctot + c) * H * W;
					int h0 = (int)((long long)p * H / P);
					int h1 = (int)(((long long)(p + 1) * H + P - 1) / P);
					int w0 = (int)((long long)q * W / Q);
					int w1 = (int)(((long long)(q + 1) * W + Q - 1) / Q);
					double sum = 0.0;

					for (int ih = h0; ih < h1; ih++)
						for (int iw = w0; iw < w1; iw++) {
							double v = xc[ih * W + iw];

							if (in_scale != NULL) {
								v = v * in_scale[c] + in_shift[c];
								v = v > 0.0 ? v : 0.0;
							}
							sum += v;
						}
					y[(((long long)n * y_ctot + c) * P + p) * Q + q] =
						(float)(sum / ((h1 - h0) * (w1 - w0)));
				}
}

void
pzoo__ref_linear(const float *x, const float *w, const float *b, float *y, int N, int I, int O,
		   int act)
{
	for (int n = 0; n < N; n++)
		for (int o = 0; o < O; o++) {
			double acc = b != NULL ? b[o] : 0.0;

			for (int i = 0; i < I; i++)
				acc += (double)w[(long long)o * I + i] * x[(long long)n * I + i];
			y[(long long)n * O + o] = (float)pzoo__ref_act(acc, act);
		}
}

void
pzoo__ref_softmax(const float *x, float *y, int rows, int cols)
{
	for (int r = 0; r < rows; r++) {
		const float *xr = x + (long long)r * cols;
		float *yr = y + (long long)r * cols;
		double m = -INFINITY, s = 0.0;

		for (int i = 0; i < cols; i++)
			m = xr[i] > m ? xr[i] : m;
		for (int i = 0; i < cols; i++)
			s += exp(xr[i] - m);
		for (int i = 0; i < cols; i++)
			yr[i] = (float)(exp(xr[i] - m) / s);
	}
}

void
pzoo__ref_add(const float *a, const float *b, float *y, int n, int act)
{
	for (int i = 0; i < n; i++)
		y[i] = (float)pzoo__ref_act((double)a[i] + b[i], act);
}

/* ---- the interpreter ---------------------------------------------------- */

static float *
ptr(const struct paella_zoo_plan *plan, const float *blob, float *arena,
    const struct paella_zoo_arg *a)
{
	switch (a->kind) {
	case PAELLA_ZOO_ARG_ACT:
		return arena + paella_zoo_storage_offset_floats(plan, a);
	case PAELLA_ZOO_ARG_PARAM:
		return (float *)blob + plan->params[a->ref].offset;
	case PAELLA_ZOO_ARG_NULL:
		return NULL;
	case PAELLA_ZOO_ARG_I32:
	case PAELLA_ZOO_ARG_F32:
		break;
	}
	PZOO__BUG("argument of kind %d is not a pointer", (int)a->kind);
}

void
paella_zoo_run_cpu_range(const struct paella_zoo_plan *plan, const float *blob,
			  float *arena, unsigned first, unsigned last)
{
	for (unsigned li = first; li < last && li < plan->nlaunches; li++) {
		const struct paella_zoo_launch *l = &plan->launches[li];
		const struct paella_zoo_arg *a = l->args;
#define P_(i) ptr(plan, blob, arena, &a[i])
#define I_(i) (a[i].i32)

		switch (l->op) {
		case PAELLA_ZOO_OP_CONV:
			pzoo__ref_conv2d(P_(PZOO__CONV_X), I_(PZOO__CONV_X_CTOT),
				P_(PZOO__CONV_IN_SCALE), P_(PZOO__CONV_IN_SHIFT),
				P_(PZOO__CONV_W), P_(PZOO__CONV_BIAS), P_(PZOO__CONV_RES),
				I_(PZOO__CONV_RES_CTOT), P_(PZOO__CONV_Y),
				I_(PZOO__CONV_Y_CTOT), I_(PZOO__CONV_N), I_(PZOO__CONV_C),
				I_(PZOO__CONV_H), I_(PZOO__CONV_W_IN), I_(PZOO__CONV_M),
				I_(PZOO__CONV_P), I_(PZOO__CONV_Q), I_(PZOO__CONV_R),
				I_(PZOO__CONV_S), I_(PZOO__CONV_SH), I_(PZOO__CONV_SW),
				I_(PZOO__CONV_PH), I_(PZOO__CONV_PW), I_(PZOO__CONV_GROUPS),
				I_(PZOO__CONV_ACT));
			break;
		case PAELLA_ZOO_OP_MAXPOOL:
		case PAELLA_ZOO_OP_AVGPOOL:
			if (l->op == PAELLA_ZOO_OP_MAXPOOL)
				pzoo__ref_maxpool2d(P_(PZOO__POOL_X), I_(PZOO__POOL_X_CTOT),
					P_(PZOO__POOL_Y), I_(PZOO__POOL_Y_CTOT),
					I_(PZOO__POOL_N), I_(PZOO__POOL_C), I_(PZOO__POOL_H),
					I_(PZOO__POOL_W), I_(PZOO__POOL_P), I_(PZOO__POOL_Q),
					I_(PZOO__POOL_R), I_(PZOO__POOL_S), I_(PZOO__POOL_SH),
					I_(PZOO__POOL_SW), I_(PZOO__POOL_PH),
					I_(PZOO__POOL_PW));
			else
				pzoo__ref_avgpool2d(P_(PZOO__POOL_X), I_(PZOO__POOL_X_CTOT),
					P_(PZOO__POOL_Y), I_(PZOO__POOL_Y_CTOT),
					I_(PZOO__POOL_N), I_(PZOO__POOL_C), I_(PZOO__POOL_H),
					I_(PZOO__POOL_W), I_(PZOO__POOL_P), I_(PZOO__POOL_Q),
					I_(PZOO__POOL_R), I_(PZOO__POOL_S), I_(PZOO__POOL_SH),
					I_(PZOO__POOL_SW), I_(PZOO__POOL_PH),
					I_(PZOO__POOL_PW), I_(PZOO__POOL_COUNT_INCLUDE_PAD));
			break;
		case PAELLA_ZOO_OP_ADAPTIVE_AVGPOOL:
			pzoo__ref_adaptive_avgpool2d(P_(PZOO__APOOL_X),
				I_(PZOO__APOOL_X_CTOT), P_(PZOO__APOOL_IN_SCALE),
				P_(PZOO__APOOL_IN_SHIFT), P_(PZOO__APOOL_Y),
				I_(PZOO__APOOL_Y_CTOT), I_(PZOO__APOOL_N), I_(PZOO__APOOL_C),
				I_(PZOO__APOOL_H), I_(PZOO__APOOL_W), I_(PZOO__APOOL_P),
				I_(PZOO__APOOL_Q));
			break;
		case PAELLA_ZOO_OP_LINEAR:
			pzoo__ref_linear(P_(PZOO__LINEAR_X), P_(PZOO__LINEAR_W),
				P_(PZOO__LINEAR_B), P_(PZOO__LINEAR_Y), I_(PZOO__LINEAR_N),
				I_(PZOO__LINEAR_I), I_(PZOO__LINEAR_O), I_(PZOO__LINEAR_ACT));
			break;
		case PAELLA_ZOO_OP_SOFTMAX:
			pzoo__ref_softmax(P_(PZOO__SOFTMAX_X), P_(PZOO__SOFTMAX_Y),
				I_(PZOO__SOFTMAX_ROWS), I_(PZOO__SOFTMAX_COLS));
			break;
		case PAELLA_ZOO_OP_ADD:
			pzoo__ref_add(P_(PZOO__ADD_A), P_(PZOO__ADD_B), P_(PZOO__ADD_Y),
				I_(PZOO__ADD_N), I_(PZOO__ADD_ACT));
			break;
		}
#undef P_
#undef I_
	}
}

enum paella_status
paella_zoo_run_cpu(const struct paella_zoo_plan *plan, const float *blob, const float *input,
		    float *output)
{
	float *arena = calloc(plan->arena_bytes / 4 + 1, sizeof(float));
	const struct paella_zoo_storage *in = &plan->storages[plan->input];
	const struct paella_zoo_storage *out = &plan->storages[plan->output];

	if (arena == NULL)
		return pzoo__error_set(PAELLA_STATUS_NO_MEMORY,
			"%s: an arena of %llu bytes: out of memory", plan->model,
			(unsigned long long)plan->arena_bytes);
	memcpy(arena + in->offset / 4, input, in->floats * sizeof(float));
	paella_zoo_run_cpu_range(plan, blob, arena, 0, plan->nlaunches);
	memcpy(output, arena + out->offset / 4, out->floats * sizeof(float));
	free(arena);
	return PAELLA_STATUS_OK;
}
