/*
 * stencil3d: 7-point stencil on an nx * ny * nz grid (x fastest):
 *   out = 0.4 * c + 0.1 * (x-1 + x+1 + y-1 + y+1 + z-1 + z+1)
 * on interior points; boundary points are copied from in.
 *
 * Launch: 3D blocks (32 x 4 x 2 usual) on a 3D grid of
 * (ceil(nx/32), ceil(ny/4), ceil(nz/2)) blocks.  Grid-stride loops in every
 * dimension keep it correct for any block and grid shape, smaller grids
 * (1D, 2D) included.
 */

extern "C" __global__ void stencil3d(const float *__restrict__ in, float *__restrict__ out,
				     int nx, int ny, int nz)
{
	const long long sx = 1, sy = nx, sz = (long long)nx * ny;

	for (int z = blockIdx.z * blockDim.z + threadIdx.z; z < nz; z += blockDim.z * gridDim.z) {
		for (int y = blockIdx.y * blockDim.y + threadIdx.y; y < ny;
		     y += blockDim.y * gridDim.y) {
			for (int x = blockIdx.x * blockDim.x + threadIdx.x; x < nx;
			     x += blockDim.x * gridDim.x) {
				long long i = x * sx + y * sy + z * sz;

				if (x == 0 || y == 0 || z == 0 || x == nx - 1 || y == ny - 1 ||
				    z == nz - 1) {
					out[i] = in[i];
					continue;
				}
				out[i] = 0.4f * in[i] +
					 0.1f * (in[i - sx] + in[i + sx] + in[i - sy] +
						 in[i + sy] + in[i - sz] + in[i + sz]);
			}
		}
	}
}
