/*
 * conv2d.cu - 2D convolution, fp32 NCHW, batch N: an implicit GEMM for every
 * shape and group count, and a direct kernel for depthwise convolutions.
 *
 * Every convolution entry point takes the same 29 parameters (the order is
 * kernels/zoo/layer-abi.h's PAELLA__CONV_ARG_*), so the model zoo binds them
 * one way and the CPU reference (kernels/zoo/ref.c) reads them one way:
 *
 *   x, x_ctot        input: x points at the view's first channel of image 0;
 *                    image n starts at x + n * x_ctot * H * W (a view into a
 *                    larger concatenation buffer has x_ctot > C)
 *   in_scale,        optional prologue (both NULL or both set): the input
 *   in_shift         element x of channel c becomes max(x * in_scale[c] +
 *                    in_shift[c], 0) before the convolution; padding stays 0
 *                    (DenseNet's BN-ReLU-conv)
 *   w                weights with any batch norm folded in, laid out
 *                    [groups][C/groups * R * S][M/groups] (reduction index
 *                    major, output channel contiguous: the GEMM's A^T)
 *   bias             [M] or NULL
 *   res, res_ctot    optional residual, shaped like the output: added
 *                    before the activation
 *   y, y_ctot        output view, like x: a branch of a concatenation
 *                    writes its channel slice straight into the buffer
 *   ws, counters     split-K workspace and per-tile counters (zero before
 *                    the first launch; the kernel leaves them zero)
 *   N C H W          input shape (C: channels of the view, all groups)
 *   M P Q            output channels and spatial size
 *   R S              kernel height and width
 *   sh sw ph pw      stride and zero padding
 *   groups           C and M are multiples of it
 *   act              0 none, 1 ReLU, 2 ReLU6
 *   splits,          the reduction (C/groups * R * S) is cut into `splits`
 *   k_per_split      slices of k_per_split (a multiple of 16); 1 and the
 *                    whole reduction without split-K
 *
 * conv2d_igemm_<BM>x<BN>: the GEMM is out-channels (M/groups) x output
 * pixels (N * P * Q) x reduction.  A block of 256 threads computes a BM x BN
 * tile, each thread a TM x TN register block, over 16-deep slices of the
 * reduction staged in shared memory (two buffers: the next slice's global
 * loads are in flight while the current one is multiplied).  The input is
 * gathered (im2col on the fly) with zero fill outside the image and past the
 * edges of the problem, so no size needs to divide a tile.  Grid:
 * (ceil(NPQ / BN), ceil(M/groups / BM), groups * splits).  With splits > 1
 * each block writes its partial tile to `ws`; the last block of a tile to
 * arrive (a counter per tile) sums the slices in a fixed order, so results
 * are the same run to run, applies the epilogue and resets the counter.
 * The _1x1 variants are for 1x1 kernels with stride 1 and no padding.
 *
 * dwconv2d: groups == C == M (one filter per channel); one thread per output
 * element, blocks of 256, grid ceil(N * C * P * Q / 256).
 */

#define BK 16
#define THREADS 256

enum { ACT_NONE = 0, ACT_RELU = 1, ACT_RELU6 = 2 };

static __device__ __forceinline__ float
activate(float v, int act)
{
	if (act == ACT_RELU)
		return fmaxf(v, 0.0f);
	if (act == ACT_RELU6)
		return fminf(fmaxf(v, 0.0f), 6.0f);
	return v;
}

#define CONV_PARAMS \
	const float *__restrict__ x, int x_ctot, const float *__restrict__ in_scale, \
	const float *__restrict__ in_shift, const float *__restrict__ w, \
	const float *__restrict__ bias, const float *__restrict__ res, int res_ctot, \
	float *__restrict__ y, int y_ctot, float *__restrict__ ws, \
	unsigned *__restrict__ counters, int N, int C, int H, int W, int M, int P, int Q, \
	int R, int S, int sh, int sw, int ph, int pw, int groups, int act, int splits, \
	int k_per_split

#define CONV_ARGS \
	x, x_ctot, in_scale, in_shift, w, bias, res, res_ctot, y, y_ctot, ws, counters, \
	N, C, H, W, M, P, Q, R, S, sh, sw, ph, pw, groups, act, splits, k_per_split

template <int BM, int BN, int TM, int TN, bool PW>
static __device__ __forceinline__ void
conv_igemm(CONV_PARAMS)
{
	constexpr int TX = BN / TN;
	constexpr int TY = BM / TM;
	static_assert(TX * TY == THREADS, "one output block per thread");
	static_assert(TN == 4 && (TM == 4 || TM == 8), "float4 fragments");
	/* B (input) loads: thread t loads row t / 16 of the slice, pixels
	 * t % 16 + 16 j: 16 consecutive threads read 16 consecutive pixels. */
	constexpr int B_PER = BN / 16;
	/* A (weight) loads, float4 when M/groups is a multiple of 4. */
	constexpr int A_VEC = BK * BM / 4;
	constexpr int A_VPT = (A_VEC + THREADS - 1) / THREADS;
	constexpr int A_SPT = (BK * BM + THREADS - 1) / THREADS;

	__shared__ __align__(16) float As[2][BK][BM];
	__shared__ __align__(16) float Bs[2][BK][BN];
	__shared__ int last_block;

	const int tid = threadIdx.x;
	const int tx = tid % TX, ty = tid / TX;
	const int g = blockIdx.z / splits, split = blockIdx.z % splits;
	const int Cg = C / groups, Mg = M / groups;
	const int RS = R * S;
	const int Kred = Cg * RS;
	const int PQ = P * Q;
	const int Npix = N * PQ;
	const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
	const int kbeg = split * k_per_split;
	const int kend = min(Kred, kbeg + k_per_split);
	const long long HW = (long long)H * W;
	const float *__restrict__ wg = w + (long long)g * Kred * Mg;
	const float *__restrict__ xg = x + (long long)g * Cg * HW;
	const bool prologue = in_scale != nullptr;
	const bool avec = (Mg & 3) == 0;
	const int bk = tid / 16, bn = tid % 16;

	float acc[TM][TN];
	long long boff[B_PER];
	int bih[B_PER], biw[B_PER];
	float breg[B_PER];
	float4 areg4[A_VPT];
	float areg[A_SPT];

	if (m0 >= Mg || n0 >= Npix)
		return;

#pragma unroll
	for (int i = 0; i < TM; i++)
#pragma unroll
		for (int j = 0; j < TN; j++)
			acc[i][j] = 0.0f;

	/* STEP 1: where each of this thread's B pixels reads from.  Pixels
	 * past the problem get an origin no row reaches, so they load 0. */
#pragma unroll
	for (int j = 0; j < B_PER; j++) {
		int n = n0 + bn + 16 * j;

		if (n < Npix) {
			int img = n / PQ, pq = n - img * PQ;
			int p = pq / Q, q = pq - p * Q;

			/* 1x1, stride 1, no padding: the pixel's own
			 * offset, and row 0 marks it valid. */
			boff[j] = (long long)img * x_ctot * HW + (PW ? pq : 0);
			bih[j] = PW ? 0 : p * sh - ph;
			biw[j] = PW ? 0 : q * sw - pw;
		} else {
			boff[j] = 0;
			bih[j] = -0x40000000;
			biw[j] = 0;
		}
	}

	auto load_a = [&](int k0) {
		if (avec) {
#pragma unroll
			for (int v = 0; v < A_VPT; v++) {
				int e = tid + v * THREADS;
				int kk = e / (BM / 4), m = m0 + (e % (BM / 4)) * 4;
				int k = k0 + kk;

				areg4[v] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
				if (e < A_VEC && k < kend && m < Mg)
					areg4[v] = __ldg((const float4 *)(wg + (long long)k * Mg + m));
			}
		} else {
#pragma unroll
			for (int v = 0; v < A_SPT; v++) {
				int e = tid + v * THREADS;
				int kk = e / BM, m = m0 + e % BM;
				int k = k0 + kk;

				areg[v] = 0.0f;
				if (e < BK * BM && k < kend && m < Mg)
					areg[v] = __ldg(wg + (long long)k * Mg + m);
			}
		}
	};
	auto store_a = [&](int buf) {
		if (avec) {
#pragma unroll
			for (int v = 0; v < A_VPT; v++) {
				int e = tid + v * THREADS;

				if (e < A_VEC)
					*(float4 *)&As[buf][e / (BM / 4)][(e % (BM / 4)) * 4] = areg4[v];
			}
		} else {
#pragma unroll
			for (int v = 0; v < A_SPT; v++) {
				int e = tid + v * THREADS;

				if (e < BK * BM)
					As[buf][e / BM][e % BM] = areg[v];
			}
		}
	};
	auto load_b = [&](int k0) {
		int k = k0 + bk;

		if (k >= kend) {
#pragma unroll
			for (int j = 0; j < B_PER; j++)
				breg[j] = 0.0f;
			return;
		}
		int c, r, s;

		if (PW) {
			c = k;
			r = s = 0;
		} else {
			int rs;

			c = k / RS;
			rs = k - c * RS;
			r = rs / S;
			s = rs - r * S;
		}
		const float *__restrict__ xc = xg + (long long)c * HW;
		float sc = 1.0f, sf = 0.0f;

		if (prologue) {
			sc = __ldg(in_scale + g * Cg + c);
			sf = __ldg(in_shift + g * Cg + c);
		}
#pragma unroll
		for (int j = 0; j < B_PER; j++) {
			bool ok;
			long long off;
			float v = 0.0f;

			if (PW) {
				ok = bih[j] == 0;
				off = boff[j];
			} else {
				int ih = bih[j] + r, iw = biw[j] + s;

				ok = (unsigned)ih < (unsigned)H && (unsigned)iw < (unsigned)W;
				off = boff[j] + (long long)ih * W + iw;
			}
			if (ok) {
				v = __ldg(xc + off);
				if (prologue)
					v = fmaxf(fmaf(v, sc, sf), 0.0f);
			}
			breg[j] = v;
		}
	};
	auto store_b = [&](int buf) {
#pragma unroll
		for (int j = 0; j < B_PER; j++)
			Bs[buf][bk][bn + 16 * j] = breg[j];
	};

	/* STEP 2: the reduction, one 16-deep slice at a time; the next
	 * slice's loads are issued before the current one is multiplied. */
	const int nsteps = kend > kbeg ? (kend - kbeg + BK - 1) / BK : 0;

	if (nsteps > 0) {
		load_a(kbeg);
		load_b(kbeg);
		store_a(0);
		store_b(0);
		__syncthreads();
	}
	for (int step = 0; step < nsteps; step++) {
		const int cur = step & 1;
		const bool more = step + 1 < nsteps;

		if (more) {
			load_a(kbeg + (step + 1) * BK);
			load_b(kbeg + (step + 1) * BK);
		}
#pragma unroll
		for (int kk = 0; kk < BK; kk++) {
			float a[TM], b[TN];

#pragma unroll
			for (int i = 0; i < TM; i += 4) {
				float4 t = *(const float4 *)&As[cur][kk][ty * TM + i];

				a[i] = t.x;
				a[i + 1] = t.y;
				a[i + 2] = t.z;
				a[i + 3] = t.w;
			}
			{
				float4 t = *(const float4 *)&Bs[cur][kk][tx * TN];

				b[0] = t.x;
				b[1] = t.y;
				b[2] = t.z;
				b[3] = t.w;
			}
#pragma unroll
			for (int i = 0; i < TM; i++)
#pragma unroll
				for (int j = 0; j < TN; j++)
					acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
		}
		if (more) {
			store_a(cur ^ 1);
			store_b(cur ^ 1);
		}
		__syncthreads();
	}

	/* STEP 3 (split-K): publish the partial tile; the last of the tile's
	 * blocks to arrive sums all partials in split order. */
	if (splits > 1) {
		const int tile = (g * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
		constexpr int NV = TM * TN / 4;
		float4 *part = (float4 *)ws + ((long long)tile * splits + split) * (NV * THREADS);

#pragma unroll
		for (int v = 0; v < NV; v++) {
			int e = v * 4;

			part[v * THREADS + tid] = make_float4(acc[e / TN][e % TN], acc[e / TN][e % TN + 1],
							      acc[e / TN][e % TN + 2], acc[e / TN][e % TN + 3]);
		}
		__threadfence();
		__syncthreads();
		if (tid == 0)
			last_block = atomicAdd(&counters[tile], 1u) == (unsigned)splits - 1;
		__syncthreads();
		if (!last_block)
			return;
		__threadfence();
#pragma unroll
		for (int i = 0; i < TM; i++)
#pragma unroll
			for (int j = 0; j < TN; j++)
				acc[i][j] = 0.0f;
		for (int s = 0; s < splits; s++) {
			const float4 *src = (const float4 *)ws + ((long long)tile * splits + s) * (NV * THREADS);

#pragma unroll
			for (int v = 0; v < NV; v++) {
				float4 t = __ldcg(src + v * THREADS + tid);
				int e = v * 4;

				acc[e / TN][e % TN] += t.x;
				acc[e / TN][e % TN + 1] += t.y;
				acc[e / TN][e % TN + 2] += t.z;
				acc[e / TN][e % TN + 3] += t.w;
			}
		}
		if (tid == 0)
			counters[tile] = 0;
	}

	/* STEP 4: bias, residual, activation, store into the output view. */
	const long long y_img = (long long)y_ctot * PQ;
	const long long r_img = (long long)res_ctot * PQ;
	const int nb = n0 + tx * TN;
	const bool vec = (PQ & 3) == 0 && nb + 3 < Npix;

#pragma unroll
	for (int i = 0; i < TM; i++) {
		const int m = m0 + ty * TM + i;

		if (m >= Mg)
			continue;
		const int mc = g * Mg + m;
		const float bv = bias != nullptr ? __ldg(bias + mc) : 0.0f;

		if (vec) {
			/* Four pixels of one image (PQ is a multiple of 4),
			 * 16-byte aligned. */
			int img = nb / PQ, pq = nb - img * PQ;
			float4 v = make_float4(acc[i][0] + bv, acc[i][1] + bv, acc[i][2] + bv,
					       acc[i][3] + bv);

			if (res != nullptr) {
				float4 t = __ldg((const float4 *)(res + img * r_img +
								   (long long)mc * PQ + pq));

				v.x += t.x;
				v.y += t.y;
				v.z += t.z;
				v.w += t.w;
			}
			v.x = activate(v.x, act);
			v.y = activate(v.y, act);
			v.z = activate(v.z, act);
			v.w = activate(v.w, act);
			*(float4 *)(y + img * y_img + (long long)mc * PQ + pq) = v;
			continue;
		}
#pragma unroll
		for (int j = 0; j < TN; j++) {
			const int n = nb + j;

			if (n >= Npix)
				continue;
			int img = n / PQ, pq = n - img * PQ;
			float v = acc[i][j] + bv;

			if (res != nullptr)
				v += __ldg(res + img * r_img + (long long)mc * PQ + pq);
			y[img * y_img + (long long)mc * PQ + pq] = activate(v, act);
		}
	}
}

#define DEFINE_IGEMM(name, BM, BN, TM, TN, PW) \
	extern "C" __global__ void __launch_bounds__(THREADS) name(CONV_PARAMS) \
	{ \
		conv_igemm<BM, BN, TM, TN, PW>(CONV_ARGS); \
	}

DEFINE_IGEMM(conv2d_igemm_64x64, 64, 64, 4, 4, false)
DEFINE_IGEMM(conv2d_igemm_128x64, 128, 64, 8, 4, false)
DEFINE_IGEMM(conv2d_igemm_128x32, 128, 32, 4, 4, false)
DEFINE_IGEMM(conv2d_igemm_32x128, 32, 128, 4, 4, false)
DEFINE_IGEMM(conv2d_igemm_64x64_1x1, 64, 64, 4, 4, true)
DEFINE_IGEMM(conv2d_igemm_128x64_1x1, 128, 64, 8, 4, true)
DEFINE_IGEMM(conv2d_igemm_128x32_1x1, 128, 32, 4, 4, true)
DEFINE_IGEMM(conv2d_igemm_32x128_1x1, 32, 128, 4, 4, true)

/* Depthwise: output channel c reads input channel c only. */
extern "C" __global__ void __launch_bounds__(THREADS)
dwconv2d(CONV_PARAMS)
{
	const long long total = (long long)N * C * P * Q;
	const long long HW = (long long)H * W;
	const int RS = R * S;
	long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;

	if (i >= total)
		return;
	const int q = (int)(i % Q);
	const int p = (int)((i / Q) % P);
	const int c = (int)((i / ((long long)P * Q)) % C);
	const int img = (int)(i / ((long long)C * P * Q));
	const float *__restrict__ xc = x + (long long)img * x_ctot * HW + (long long)c * HW;
	const float *__restrict__ wc = w + (long long)c * RS;
	const int ih0 = p * sh - ph, iw0 = q * sw - pw;
	const bool prologue = in_scale != nullptr;
	const float sc = prologue ? __ldg(in_scale + c) : 1.0f;
	const float sf = prologue ? __ldg(in_shift + c) : 0.0f;
	float acc = 0.0f;

	for (int r = 0; r < R; r++) {
		int ih = ih0 + r;

		if ((unsigned)ih >= (unsigned)H)
			continue;
		for (int s = 0; s < S; s++) {
			int iw = iw0 + s;
			float v;

			if ((unsigned)iw >= (unsigned)W)
				continue;
			v = __ldg(xc + (long long)ih * W + iw);
			if (prologue)
				v = fmaxf(fmaf(v, sc, sf), 0.0f);
			acc = fmaf(v, __ldg(wc + r * S + s), acc);
		}
	}
	if (bias != nullptr)
		acc += __ldg(bias + c);
	const long long o = (long long)c * P * Q + (long long)p * Q + q;
	if (res != nullptr)
		acc += __ldg(res + (long long)img * res_ctot * P * Q + o);
	y[(long long)img * y_ctot * P * Q + o] = activate(acc, act);
}
