/*
 * test-ref - the CPU reference of the layer kernels (kernels/zoo/ref.c),
 * which the GPU checks trust: against PyTorch's outputs on small inputs
 * (values computed once with torch 2.15 and written here) and against an
 * independent direct convolution over PyTorch's weight layout.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref.h"
#include "zoo-private.h"
#include "paella/zoo.h"
#include "../check-main.h"

static float x25[25];

static void
setup(void)
{
	for (int i = 0; i < 25; i++)
		x25[i] = (float)(i + 1);
}

static void
expect(const float *got, const float *want, int n, double tol)
{
	for (int i = 0; i < n; i++)
		ck_assert_msg(fabs(got[i] - want[i]) <= tol, "element %d: %g, expected %g", i,
			      (double)got[i], (double)want[i]);
}

PAELLA_TEST(ref_maxpool_ceil_mode)
{
	/* F.max_pool2d(arange(1, 26).view(1, 1, 5, 5), 3, 2, 1, ceil_mode=True) */
	static const float want[9] = { 7, 9, 10, 17, 19, 20, 22, 24, 25 };
	float y[9];

	pzoo__ref_maxpool2d(x25, 1, y, 1, 1, 1, 5, 5, 3, 3, 3, 3, 2, 2, 1, 1);
	expect(y, want, 9, 0.0);
}
END_TEST

PAELLA_TEST(ref_avgpool_count_include_pad)
{
	static const float cip[9] = { 1.7777777910232544f, 3.6666667461395264f,
				      3.1111111640930176f, 7.666666507720947f, 13.0f,
				      9.666666984558105f, 8.44444465637207f, 13.666666984558105f,
				      9.777777671813965f };
	static const float nocip[9] = { 4.0f, 5.5f, 7.0f, 11.5f, 13.0f, 14.5f, 19.0f, 20.5f, 22.0f };
	/* k2 s2 ceil_mode: the last window, past the input, divides by 1. */
	static const float k2[9] = { 4.0f, 6.0f, 7.5f, 14.0f, 16.0f, 17.5f, 21.5f, 23.5f, 25.0f };
	float y[9];

	pzoo__ref_avgpool2d(x25, 1, y, 1, 1, 1, 5, 5, 3, 3, 3, 3, 2, 2, 1, 1, 1);
	expect(y, cip, 9, 1e-6);
	pzoo__ref_avgpool2d(x25, 1, y, 1, 1, 1, 5, 5, 3, 3, 3, 3, 2, 2, 1, 1, 0);
	expect(y, nocip, 9, 1e-6);
	pzoo__ref_avgpool2d(x25, 1, y, 1, 1, 1, 5, 5, 3, 3, 2, 2, 2, 2, 0, 0, 1);
	expect(y, k2, 9, 1e-6);
}
END_TEST

PAELLA_TEST(ref_adaptive_avgpool)
{
	/* F.adaptive_avg_pool2d(arange(1, 26).view(1, 1, 5, 5), (3, 2)) */
	static const float want[6] = { 4.5f, 6.5f, 12.0f, 14.0f, 19.5f, 21.5f };
	const float scale[1] = { 2.0f }, shift[1] = { -10.0f };
	float y[6], y1[1];

	pzoo__ref_adaptive_avgpool2d(x25, 1, NULL, NULL, y, 1, 1, 1, 5, 5, 3, 2);
	expect(y, want, 6, 1e-6);
	/* With the BN-ReLU prologue: mean of max(2x - 10, 0) over 1..25. */
	pzoo__ref_adaptive_avgpool2d(x25, 1, scale, shift, y1, 1, 1, 1, 5, 5, 1, 1);
	{
		double s = 0.0;

		for (int i = 1; i <= 25; i++)
			s += 2.0 * i - 10.0 > 0.0 ? 2.0 * i - 10.0 : 0.0;
		ck_assert_double_eq_tol(y1[0], s / 25.0, 1e-5);
	}
}
END_TEST

PAELLA_TEST(ref_pool_views)
{
	/* Channel 1 of a 3-channel input into channel 2 of a 4-channel
	 * output: nothing else written. */
	float x[3 * 4], y[4 * 1];

	for (int i = 0; i < 12; i++)
		x[i] = (float)i;
	for (int i = 0; i < 4; i++)
		y[i] = -1.0f;
	pzoo__ref_maxpool2d(x + 4, 3, y + 2, 4, 1, 1, 2, 2, 1, 1, 2, 2, 2, 2, 0, 0);
	ck_assert_float_eq(y[2], 7.0f);
	ck_assert_float_eq(y[0], -1.0f);
	ck_assert_float_eq(y[1], -1.0f);
	ck_assert_float_eq(y[3], -1.0f);
}
END_TEST

static unsigned rs = 12345;

static float
frand(void)
{
	rs = rs * 1103515245u + 12345u;
	return (float)((rs >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* A convolution straight from the definition, over PyTorch's weight
 * layout [M][C/g][R][S]. */
static double
direct(const float *x, int ctot, const float *w, int C, int H, int W, int M, int R, int S,
       int sh, int sw, int ph, int pw, int groups, int n, int o, int p, int q)
{
	int cg = C / groups, g = o / (M / groups);
	double acc = 0.0;

	for (int c = 0; c < cg; c++)
		for (int r = 0; r < R; r++)
			for (int s = 0; s < S; s++) {
				int ih = p * sh - ph + r, iw = q * sw - pw + s;

				if (ih < 0 || ih >= H || iw < 0 || iw >= W)
					continue;
				acc += (double)w[((o * cg + c) * R + r) * S + s] *
				       x[((n * ctot) + g * cg + c) * H * W + ih * W + iw];
			}
	return acc;
}

PAELLA_TEST(ref_conv_against_direct)
{
	static const int shapes[][12] = {
		/* N C H W M R S sh sw ph pw groups */
		{ 1, 3, 9, 7, 5, 3, 3, 1, 1, 1, 1, 1 },
		{ 2, 4, 8, 8, 6, 1, 7, 1, 1, 0, 3, 2 },
		{ 1, 6, 11, 10, 6, 3, 3, 2, 2, 1, 1, 6 },
		{ 1, 5, 7, 9, 4, 5, 5, 3, 2, 2, 0, 1 },
		{ 3, 2, 5, 5, 3, 2, 2, 1, 1, 0, 0, 1 },
	};

	for (unsigned t = 0; t < sizeof(shapes) / sizeof(shapes[0]); t++) {
		const int *s = shapes[t];
		int N = s[0], C = s[1], H = s[2], W = s[3], M = s[4], R = s[5], S = s[6];
		int sh = s[7], sw = s[8], ph = s[9], pw = s[10], g = s[11];
		int P = (H + 2 * ph - R) / sh + 1, Q = (W + 2 * pw - S) / sw + 1;
		int cg = C / g, mg = M / g, kred = cg * R * S;
		/* Input and output are views: one spare channel each. */
		int xct = C + 1, yct = M + 2;
		float *x = malloc(sizeof(float) * N * xct * H * W);
		float *w = malloc(sizeof(float) * M * kred), *wt = malloc(sizeof(float) * M * kred);
		float *b = malloc(sizeof(float) * M), *res = malloc(sizeof(float) * N * M * P * Q);
		float *y = malloc(sizeof(float) * N * yct * P * Q);

		for (int i = 0; i < N * xct * H * W; i++)
			x[i] = frand();
		for (int i = 0; i < M * kred; i++)
			w[i] = frand();
		for (int i = 0; i < M; i++)
			b[i] = frand();
		for (int i = 0; i < N * M * P * Q; i++)
			res[i] = frand();
		/* The kernels' layout: [g][C/g * R * S][M/g]. */
		for (int o = 0; o < M; o++)
			for (int k = 0; k < kred; k++)
				wt[((o / mg) * kred + k) * mg + o % mg] = w[o * kred + k];
		for (int act = 0; act < 3; act++) {
			for (int i = 0; i < N * yct * P * Q; i++)
				y[i] = 99.0f;
			pzoo__ref_conv2d(x, xct, NULL, NULL, wt, b, res, M, y + P * Q, yct, N, C,
					   H, W, M, P, Q, R, S, sh, sw, ph, pw, g, act);
			for (int n = 0; n < N; n++)
				for (int o = 0; o < M; o++)
					for (int p = 0; p < P; p++)
						for (int q = 0; q < Q; q++) {
							double v = direct(x, xct, w, C, H, W, M, R, S,
									  sh, sw, ph, pw, g, n, o, p, q) +
								   b[o] + res[((n * M + o) * P + p) * Q + q];
							float got = y[((n * yct) + 1 + o) * P * Q + p * Q + q];

							v = pzoo__ref_act(v, act);
							ck_assert_msg(fabs(got - v) <= 1e-5 * (1 + fabs(v)),
								      "shape %u act %d: %g != %g", t, act,
								      (double)got, v);
						}
			/* The spare channels are untouched. */
			for (int n = 0; n < N; n++)
				for (int i = 0; i < P * Q; i++) {
					ck_assert_float_eq(y[(n * yct) * P * Q + i], 99.0f);
					ck_assert_float_eq(y[(n * yct + M + 1) * P * Q + i], 99.0f);
				}
		}
		free(x);
		free(w);
		free(wt);
		free(b);
		free(res);
		free(y);
	}
}
END_TEST

PAELLA_TEST(ref_conv_prologue)
{
	/* A 1x1 convolution of weight 1 over relu(2x + 1) with zero padding
	 * 1: the padded border stays 0, not relu(0 * 2 + 1) = 1. */
	const float x[4] = { 1, 2, 3, 4 }, w[1] = { 1.0f }, sc[1] = { 2.0f }, sf[1] = { 1.0f };
	float y[16];

	pzoo__ref_conv2d(x, 1, sc, sf, w, NULL, NULL, 0, y, 1, 1, 1, 2, 2, 1, 4, 4, 1, 1, 1, 1, 1,
			   1, 1, 0);
	ck_assert_float_eq(y[0], 0.0f);
	ck_assert_float_eq(y[5], 3.0f);
	ck_assert_float_eq(y[6], 5.0f);
	ck_assert_float_eq(y[9], 7.0f);
	ck_assert_float_eq(y[10], 9.0f);
	ck_assert_float_eq(y[15], 0.0f);
}
END_TEST

PAELLA_TEST(ref_linear_softmax_add)
{
	const float x[6] = { 1, 2, 3, 4, 5, 6 }, w[6] = { 1, 0, -1, 2, 2, 2 }, b[2] = { 0.5f, -20 };
	float y[4], big[3] = { 1000.0f, 1001.0f, 1002.0f }, p[3], s[3];

	pzoo__ref_linear(x, w, b, y, 2, 3, 2, PZOO__ACT_NONE);
	ck_assert_float_eq(y[0], -1.5f);
	ck_assert_float_eq(y[1], -8.0f);
	ck_assert_float_eq(y[2], -1.5f);
	ck_assert_float_eq(y[3], 10.0f);
	pzoo__ref_linear(x, w, b, y, 2, 3, 2, PZOO__ACT_RELU);
	ck_assert_float_eq(y[1], 0.0f);
	/* Softmax stays finite for large logits. */
	pzoo__ref_softmax(big, p, 1, 3);
	ck_assert_double_eq_tol(p[0] + p[1] + p[2], 1.0, 1e-6);
	ck_assert_double_eq_tol(p[2], 1.0 / (1.0 + exp(-1.0) + exp(-2.0)), 1e-6);
	pzoo__ref_add(x, w, s, 3, PZOO__ACT_RELU6);
	ck_assert_float_eq(s[0], 2.0f);
	ck_assert_float_eq(s[1], 2.0f);
	ck_assert_float_eq(s[2], 2.0f);
	pzoo__ref_add(x + 3, x + 3, s, 3, PZOO__ACT_RELU6);
	ck_assert_float_eq(s[0], 6.0f);
}
END_TEST

PAELLA_CHECK_MAIN("ref", 0, setup, NULL)
