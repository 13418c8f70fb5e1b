/*
 * sgemm_tiled: C = alpha * A * B + beta * C, single precision, row-major,
 * batched.
 *
 *   A: M x K, row i at A + i * lda    B: K x N, row k at B + k * ldb
 *   C: M x N, row i at C + i * ldc    matrix z of a batch at X + z * strideX
 *
 * Any M, N, K (edges are guarded; no multiple of the tile needed).  As in
 * BLAS, beta == 0 writes C without reading it, so C may hold garbage.
 *
 * Launch: 256 threads (1D block), grid (ceil(N / 64), ceil(M / 64), batch):
 * blockIdx.x walks N, blockIdx.y walks M, blockIdx.z the batch.  Each block
 * computes a 64 x 64 tile of C; each thread a 4 x 4 register block, rows
 * ty + 16 * i and columns tx + 16 * j so that a warp's shared-memory reads
 * are broadcasts or conflict-free and its stores of C are 16 floats wide.
 * Blocks past the matrix (a larger grid) return at once.
 */

#define TILE_M 64
#define TILE_N 64
#define TILE_K 16
#define THREADS 256
#define PER_THREAD 4 /* 4 x 4 outputs per thread */

extern "C" __global__ void __launch_bounds__(THREADS)
sgemm_tiled(int M, int N, int K, float alpha, const float *__restrict__ A, int lda,
	    long long strideA, const float *__restrict__ B, int ldb, long long strideB,
	    float beta, float *__restrict__ C, int ldc, long long strideC)
{
	/* +1 on A's rows: the loads below write 16 k-values of 2 rows per warp. */
	__shared__ float As[TILE_M][TILE_K + 1];
	__shared__ float Bs[TILE_K][TILE_N];
	const int m0 = blockIdx.y * TILE_M;
	const int n0 = blockIdx.x * TILE_N;
	const int tid = threadIdx.x;
	const int tx = tid % 16, ty = tid / 16;
	float acc[PER_THREAD][PER_THREAD];

	if (m0 >= M || n0 >= N)
		return;
	A += blockIdx.z * strideA;
	B += blockIdx.z * strideB;
	C += blockIdx.z * strideC;

	for (int i = 0; i < PER_THREAD; i++)
		for (int j = 0; j < PER_THREAD; j++)
			acc[i][j] = 0.0f;

	for (int k0 = 0; k0 < K; k0 += TILE_K) {
		/* STEP 1: the 64 x 16 slice of A and the 16 x 64 slice of B,
		 * zero outside the matrices.  Consecutive threads read
		 * consecutive addresses of a row. */
		for (int l = 0; l < TILE_M * TILE_K / THREADS; l++) {
			int e = tid + l * THREADS;
			int r = e / TILE_K, kk = e % TILE_K;
			int gm = m0 + r, gk = k0 + kk;

			As[r][kk] = (gm < M && gk < K) ? A[(long long)gm * lda + gk] : 0.0f;
		}
		for (int l = 0; l < TILE_K * TILE_N / THREADS; l++) {
			int e = tid + l * THREADS;
			int kk = e / TILE_N, c = e % TILE_N;
			int gk = k0 + kk, gn = n0 + c;

			Bs[kk][c] = (gk < K && gn < N) ? B[(long long)gk * ldb + gn] : 0.0f;
		}
		__syncthreads();

		/* STEP 2: rank-16 update of the 4 x 4 register block. */
#pragma unroll
		for (int kk = 0; kk < TILE_K; kk++) {
			float a[PER_THREAD], b[PER_THREAD];

			for (int i = 0; i < PER_THREAD; i++)
				a[i] = As[ty + 16 * i][kk];
			for (int j = 0; j < PER_THREAD; j++)
				b[j] = Bs[kk][tx + 16 * j];
			for (int i = 0; i < PER_THREAD; i++)
				for (int j = 0; j < PER_THREAD; j++)
					acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
		}
		/* The next slice overwrites the tiles. */
		__syncthreads();
	}

	/* STEP 3: write back the part of the tile inside C. */
	for (int i = 0; i < PER_THREAD; i++) {
		int gm = m0 + ty + 16 * i;

		if (gm >= M)
			continue;
		for (int j = 0; j < PER_THREAD; j++) {
			int gn = n0 + tx + 16 * j;
			float *p;

			if (gn >= N)
				continue;
			p = &C[(long long)gm * ldc + gn];
			*p = beta == 0.0f ? alpha * acc[i][j] : fmaf(alpha, acc[i][j], beta * *p);
		}
	}
}
