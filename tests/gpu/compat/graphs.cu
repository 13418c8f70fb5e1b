/*
 * CUDA graphs as nvcc users build them: a stream captured into a graph
 * (<<<>>> launches inside cudaStreamBeginCapture/EndCapture), kernel nodes
 * built by hand with cudaGraphAddKernelNode and with the generic
 * cudaGraphAddNode (CUDA 12.2+), whose argument array clang -O2 fills after
 * storing it, a kernel without parameters given kernelParams = NULL, and an
 * instantiated graph whose kernel node takes one of two parameter sets in
 * turn (cudaGraphExecKernelNodeSetParams(e, n, odd ? &p1 : &p0), as
 * jacobiCudaGraphs does).
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
	/* 3. Two parameter sets, one picked per replay. */
	{
		float a0 = 1.5f, b0 = -1.0f, a1 = 0.25f, b1 = 2.0f;
		int nn = n;
		void *args0[] = {&x, &a0, &b0, &nn};
		void *args1[] = {&x, &a1, &b1, &nn};
		cudaKernelNodeParams p0 = {}, p1 = {};
		cudaGraphNode_t k;
		cudaGraphExec_t ge;

		p0.func = p1.func = (void *)axpb;
		p0.gridDim = p1.gridDim = dim3(n / 256);
		p0.blockDim = p1.blockDim = dim3(256);
		p0.kernelParams = args0;
		p1.kernelParams = args1;
		CHECK(cudaGraphCreate(&g, 0));
		CHECK(cudaGraphAddKernelNode(&k, g, NULL, 0, &p0));
		CHECK(cudaGraphInstantiate(&ge, g, 0));
		for (int r = 0; r < 5; r++) {
			CHECK(cudaGraphExecKernelNodeSetParams(ge, k, (r & 1) ? &p1 : &p0));
			CHECK(cudaGraphLaunch(ge, s));
		}
		CHECK(cudaStreamSynchronize(s));
		printf("two parameter sets: sum=%.1f\n", sum(x, n));
		cudaGraphExecDestroy(ge);
		cudaGraphDestroy(g);
	}
	CHECK(cudaMemcpyFromSymbol(&h_ticks, ticks, sizeof(int)));
	printf("ticks=%d\n", h_ticks);
	return 0;
}
