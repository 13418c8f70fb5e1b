/*
 * CUDA graphs as nvcc users build them: a stream captured into a graph
 * (<<<>>> launches inside cudaStreamBeginCapture/EndCapture), kernel nodes
 * built by hand with cudaGraphAddKernelNode and with the generic
 * cudaGraphAddNode (CUDA 12.2+), whose argument array clang -O2 fills after
 * storing it, and a kernel without parameters given kernelParams = NULL.
 * Each graph is replayed several times: the instrumented build must give
 * the same sums as the plain one.
 */
#include <cstdio>

__global__ void axpb(float *x, float a, float b, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		x[i] = a * x[i] + b;
}

__device__ int ticks;

__global__ void tick(void) /* no parameters */
{
	if (threadIdx.x == 0 && blockIdx.x == 0)
		ticks++;
}

#define CHECK(call)                                                                        \
	do {                                                                               \
		cudaError_t e_ = (call);                                                   \
		if (e_ != cudaSuccess) {                                                   \
			printf("FAIL: %s: %s\n", #call, cudaGetErrorString(e_));         \
			return 1;                                                          \
		}                                                                          \
	} while (0)

static double sum(const float *d, int n)
{
	static float h[1 << 16];
	double s = 0;

	cudaMemcpy(h, d, n * sizeof(float), cudaMemcpyDeviceToHost);
	for (int i = 0; i < n; i++)
		s += h[i];
	return s;
}

/* Instantiates @g, replays it @reps times on @s, prints the sum of @x; 1 on
 * failure.  Destroys @g. */
static int replay(cudaGraph_t g, cudaStream_t s, int reps, const char *what, const float *x,
		  int n)
{
	cudaGraphExec_t ge;

	CHECK(cudaGraphInstantiate(&ge, g, 0));
	for (int r = 0; r < reps; r++)
		CHECK(cudaGraphLaunch(ge, s));
	CHECK(cudaStreamSynchronize(s));
	CHECK(cudaGetLastError());
	printf("%s: sum=%.1f\n", what, sum(x, n));
	cudaGraphExecDestroy(ge);
	cudaGraphDestroy(g);
	return 0;
}

int main()
{
	const int n = 1 << 16;
	float *x;
	cudaStream_t s;
	cudaGraph_t g;
	int h_ticks = 0;

	if (cudaMalloc(&x, n * sizeof(float)) != cudaSuccess) {
		printf("SKIP: no CUDA device\n");
		return 77;
	}
	CHECK(cudaMemset(x, 0, n * sizeof(float)));
	CHECK(cudaStreamCreate(&s));

	/* 1. Stream capture. */
	CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
	axpb<<<n / 256, 256, 0, s>>>(x, 1.0f, 1.0f, n);
	axpb<<<n / 256, 256, 0, s>>>(x, 2.0f, 0.5f, n);
	tick<<<1, 32, 0, s>>>();
	CHECK(cudaStreamEndCapture(s, &g));
	if (replay(g, s, 3, "captured", x, n))
		return 1;

	/* 2. Kernel nodes by hand, both APIs, and a parameterless one. */
	{
		float a = 0.5f, b = 3.0f;
		int nn = n;
		void *args[] = {&x, &a, &b, &nn};
		cudaGraphNode_t k1, k2, k3;
		cudaKernelNodeParams p = {};
		cudaGraphNodeParams q = {cudaGraphNodeTypeKernel};
		cudaGraphNodeParams t = {cudaGraphNodeTypeKernel};

		CHECK(cudaGraphCreate(&g, 0));
		p.func = (void *)axpb;
		p.gridDim = dim3(n / 256);
		p.blockDim = dim3(256);
		p.kernelParams = args;
		CHECK(cudaGraphAddKernelNode(&k1, g, NULL, 0, &p));
		q.kernel.func = (void *)axpb;
		q.kernel.gridDim = dim3(n / 256);
		q.kernel.blockDim = dim3(256);
		q.kernel.kernelParams = args;
		CHECK(cudaGraphAddNode(&k2, g, &k1, NULL, 1, &q));
		t.kernel.func = (void *)tick;
		t.kernel.gridDim = dim3(1);
		t.kernel.blockDim = dim3(32);
		t.kernel.kernelParams = NULL;
		CHECK(cudaGraphAddNode(&k3, g, &k2, NULL, 1, &t));
		if (replay(g, s, 2, "by hand", x, n))
			return 1;
	}
	CHECK(cudaMemcpyFromSymbol(&h_ticks, ticks, sizeof(int)));
	printf("ticks=%d\n", h_ticks);
	return 0;
}
