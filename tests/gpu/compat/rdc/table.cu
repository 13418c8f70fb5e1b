/*
 * A __device__ table and the kernel that fills it (relocatable device code),
 * with an offset in a static __constant__ that host code sets (clang renames
 * it for -rdc); main.cu launches the kernel from the host and the device.
 */
__device__ int table[8];
static __constant__ int offset[1];

__global__ void fill_table(int k)
{
	table[threadIdx.x] = (int)threadIdx.x * k + offset[0];
}

void set_offset(int v)
{
	cudaMemcpyToSymbol(offset, &v, sizeof v);
}
