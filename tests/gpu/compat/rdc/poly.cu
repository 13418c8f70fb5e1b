/* Device functions another file calls (relocatable device code). */
__device__ int square(int x) { return x * x; }

__device__ int polynomial(int x)
{
	return square(x) % 1000 - 3 * x + 7;
}
