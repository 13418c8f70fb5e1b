/* A __device__ table and the kernel that fills it (relocatable device code). */
__device__ int table[8];

__global__ void fill_table(int k)
{
	table[threadIdx.x] = (int)threadIdx.x * k;
}
