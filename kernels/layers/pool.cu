/*
 * pool.cu - pooling, fp32 NCHW, batch N, with PyTorch's semantics.
 *
 * maxpool2d and avgpool2d take the same 17 parameters (kernels/zoo/
 * layer-abi.h, PAELLA__POOL_ARG_*):
 *   x, x_ctot, y, y_ctot   input and output views (see conv2d.cu)
 *   N C H W P Q            shapes; P and Q are the caller's, computed as
 *                          PyTorch does (ceil_mode included: a window that
 *                          would start past the input and its left padding
 *                          is dropped)
 *   R S sh sw ph pw        window, stride, padding
 *   count_include_pad      avgpool2d: divide by the window clipped to the
 *                          padded input (1) or to the input (0);
 *                          maxpool2d ignores it
 * One thread per output element, blocks of 256, grid ceil(N*C*P*Q / 256).
 *
 * adaptive_avgpool2d(x, x_ctot, in_scale, in_shift, y, y_ctot, N, C, H, W,
 * P, Q): output (p, q) averages rows floor(p*H/P) to ceil((p+1)*H/P) - 1 and
 * the same for columns.  With in_scale set, each input becomes
 * max(x * in_scale[c] + in_shift[c], 0) first (DenseNet's final BN-ReLU).
 * One warp per output element: blocks of 256 (8 outputs), grid
 * ceil(N*C*P*Q / 8).
 */

#define THREADS 256

extern "C" __global__ void __launch_bounds__(THREADS)
maxpool2d(const float *__restrict__ x, int x_ctot, float *__restrict__ y, int y_ctot, int N,
	  int C, int H, int W, int P, int Q, int R, int S, int sh, int sw, int ph, int pw,
	  int count_include_pad)
{
	const long long total = (long long)N * C * P * Q;
	long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;

	if (i >= total)
		return;
	const int q = (int)(i % Q);
	const int p = (int)((i / Q) % P);
	const int c = (int)((i / ((long long)P * Q)) % C);
	const int img = (int)(i / ((long long)C * P * Q));
	const float *__restrict__ xc = x + ((long long)img * x_ctot + c) * H * W;
	const int h0 = p * sh - ph, w0 = q * sw - pw;
	const int h1 = min(h0 + R, H), w1 = min(w0 + S, W);
	float m = -__int_as_float(0x7f800000);

	for (int h = max(h0, 0); h < h1; h++)
		for (int ww = max(w0, 0); ww < w1; ww++) {
			float v = __ldg(xc + (long long)h * W + ww);

			/* NaN propagates, as in PyTorch. */
			if (v > m || v != v)
				m = v;
		}
	y[((long long)img * y_ctot + c) * P * Q + (long long)p * Q + q] = m;
}

extern "C" __global__ void __launch_bounds__(THREADS)
avgpool2d(const float *__restrict__ x, int x_ctot, float *__restrict__ y, int y_ctot, int N,
	  int C, int H, int W, int P, int Q, int R, int S, int sh, int sw, int ph, int pw,
	  int count_include_pad)
{
	const long long total = (long long)N * C * P * Q;
	long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;

	if (i >= total)
		return;
	const int q = (int)(i % Q);
	const int p = (int)((i / Q) % P);
	const int c = (int)((i / ((long long)P * Q)) % C);
	const int img = (int)(i / ((long long)C * P * Q));
	const float *__restrict__ xc = x + ((long long)img * x_ctot + c) * H * W;
	/* As ATen's avg_pool2d: the window clipped to the padded input gives
	 * the divisor with padding counted; clipped to the input, without. */
	int h0 = p * sh - ph, w0 = q * sw - pw;
	int h1 = min(h0 + R, H + ph), w1 = min(w0 + S, W + pw);
	const int padded = (h1 - h0) * (w1 - w0);
	float sum = 0.0f;

	h0 = max(h0, 0);
	w0 = max(w0, 0);
	h1 = min(h1, H);
	w1 = min(w1, W);
	for (int h = h0; h < h1; h++)
		for (int ww = w0; ww < w1; ww++)
			sum += __ldg(xc + (long long)h * W + ww);
	const int div = count_include_pad ? padded : (h1 - h0) * (w1 - w0);
	y[((long long)img * y_ctot + c) * P * Q + (long long)p * Q + q] = sum / (float)div;
}

extern "C" __global__ void __launch_bounds__(THREADS)
adaptive_avgpool2d(const float *__restrict__ x, int x_ctot, const float *__restrict__ in_scale,
		   const float *__restrict__ in_shift, float *__restrict__ y, int y_ctot, int N,
		   int C, int H, int W, int P, int Q)
{
	const long long total = (long long)N * C * P * Q;
	const int lane = threadIdx.x % 32;
	long long i = ((long long)blockIdx.x * blockDim.x + threadIdx.x) / 32;

	if (i >= total)
		return;
	const int q = (int)(i % Q);
	const int p = (int)((i / Q) % P);
	const int c = (int)((i / ((long long)P * Q)) % C);
	const int img = (int)(i / ((long long)C * P * Q));
	const float *__restrict__ xc = x + ((long long)img * x_ctot + c) * H * W;
	const int h0 = (int)(((long long)p * H) / P);
	const int h1 = (int)(((long long)(p + 1) * H + P - 1) / P);
	const int w0 = (int)(((long long)q * W) / Q);
	const int w1 = (int)(((long long)(q + 1) * W + Q - 1) / Q);
	const int ww = w1 - w0;
	const int n = (h1 - h0) * ww;
	const bool prologue = in_scale != nullptr;
	const float sc = prologue ? __ldg(in_scale + c) : 1.0f;
	const float sf = prologue ? __ldg(in_shift + c) : 0.0f;
	float sum = 0.0f;

	for (int e = lane; e < n; e += 32) {
		int h = h0 + e / ww, w_ = w0 + e % ww;
		float v = __ldg(xc + (long long)h * W + w_);

		if (prologue)
			v = fmaxf(fmaf(v, sc, sf), 0.0f);
		sum += v;
	}
#pragma unroll
	for (int o = 16; o > 0; o /= 2)
		sum += __shfl_xor_sync(0xffffffffu, sum, o);
	if (lane == 0)
		y[((long long)img * y_ctot + c) * P * Q + (long long)p * Q + q] = sum / (float)n;
}
