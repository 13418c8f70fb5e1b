/*
 * paella_cudart_static.c - linked by paella-cc into a program that links the
 * CUDA runtime statically (nvcc's and CMake's default): exports that copy's
 * kernel look-up under a name libpaellart finds with dlsym.
 *
 * libcudart_static.a registers the program's kernels in its own copy of the
 * CUDA runtime, whose cudaGetFuncBySymbol is hidden; a shared libcudart in
 * the same process (a library may load one) knows none of them.  So
 * paella_launch_kernel asks for paella_cudart_get_func_by_symbol first.
 */
int cudaGetFuncBySymbol(void **fn, const void *symbol);

__attribute__((visibility("default"))) int
paella_cudart_get_func_by_symbol(void **fn, const void *symbol);

int
paella_cudart_get_func_by_symbol(void **fn, const void *symbol)
{
	return cudaGetFuncBySymbol(fn, symbol);
}
