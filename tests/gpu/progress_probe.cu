/*
 * progress_probe: checks that progress reports never run ahead of the blocks
 * that really finished.
 *
 * Each block spins about @spin clock cycles (so a grid takes several waves
 * and the CPU sees it half done), then thread 0 sets markers[block] = 1 in
 * host-mapped memory and fences at system scope; a barrier keeps every
 * thread of the block from reaching the block-exit epilogue before that.
 * So a block is counted by the instrumentation only after its marker is
 * visible to the CPU, and the CPU, reading the progress p and then counting
 * the markers m, must always find p <= m.
 *
 * Launch: any 1D, 2D or 3D grid and block; markers has one word per block
 * (linear block id, x fastest).
 */

extern "C" __global__ void progress_probe(unsigned *markers, unsigned spin)
{
	long long start = clock64();

	while (clock64() - start < (long long)spin)
		;
	if (threadIdx.x == 0 && threadIdx.y == 0 && threadIdx.z == 0) {
		unsigned block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);

		*(volatile unsigned *)&markers[block] = 1;
		__threadfence_system();
	}
	__syncthreads();
}
