/*
 * Cooperative groups: a kernel that reads its grid rank (this_grid(), no
 * grid.sync()), launched with <<<>>> and with cudaLaunchCooperativeKernel,
 * and one that synchronises the grid, launched cooperatively.
 */
#include <cooperative_groups.h>
#include <cstdio>

namespace cg = cooperative_groups;

__global__ void ranks(unsigned long long *out)
{
	cg::grid_group g = cg::this_grid();

	out[g.thread_rank()] = g.thread_rank() * 3 + g.num_threads();
}

__global__ void two_phase(int *a, int *b, int n)
{
	cg::grid_group g = cg::this_grid();
	int i = g.thread_rank();

	if (i < n)
		a[i] = i * 2;
	g.sync();
	if (i < n)
		b[i] = a[(i + 1) % n] + a[i];
}

int main()
{
	const int blocks = 8, threads = 128, n = blocks * threads;
	unsigned long long *r, hr[n], s1 = 0, s2 = 0;
	int *a, *b, hb[n], coop = 0;
	long long sb = 0;
	void *args_r[] = { &r };
	int nn = n;
	void *args_t[] = { &a, &b, &nn };

	if (cudaMalloc(&r, sizeof(hr)) != cudaSuccess) {
		printf("SKIP: no CUDA device\n");
		return 77;
	}
	cudaMalloc(&a, n * sizeof(int));
	cudaMalloc(&b, n * sizeof(int));
	ranks<<<blocks, threads>>>(r);
	cudaMemcpy(hr, r, sizeof(hr), cudaMemcpyDeviceToHost);
	for (int i = 0; i < n; i++)
		s1 += hr[i];
	cudaMemset(r, 0, sizeof(hr));
	cudaDeviceGetAttribute(&coop, cudaDevAttrCooperativeLaunch, 0);
	if (coop) {
		cudaLaunchCooperativeKernel((void *)ranks, blocks, threads, args_r, 0, 0);
		cudaLaunchCooperativeKernel((void *)two_phase, blocks, threads, args_t, 0, 0);
	}
	cudaMemcpy(hr, r, sizeof(hr), cudaMemcpyDeviceToHost);
	cudaError_t err = cudaMemcpy(hb, b, sizeof(hb), cudaMemcpyDeviceToHost);
	err = err != cudaSuccess ? err : cudaGetLastError(); /* a failed launch too */
	if (err != cudaSuccess) {
		printf("FAIL: %s\n", cudaGetErrorString(err));
		return 1;
	}
	for (int i = 0; i < n; i++) {
		s2 += hr[i];
		sb += hb[i];
	}
	printf("ranks <<<>>>=%llu cooperative=%llu two_phase=%lld (cooperative launch %s)\n", s1, s2,
	       sb, coop ? "yes" : "no");
	return 0;
}
