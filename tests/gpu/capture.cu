/*
 * Model capture on a real GPU: a CUDA program built with paella-cc records
 * two <<<>>> launches into a libpaellart model (paella_model_capture_begin
 * / _end), finalizes it and serves jobs of different inputs through the
 * runtime's dispatcher, each with its own job buffers.  The captured
 * launches must not run; the jobs' outputs must match the CPU's.
 * Exits 0 when right, 1 when not, 77 when there is no GPU.
 */
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include <paella/paella.h>

__global__ void scale(float *y, const float *x, const float *w, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;
	if (i >= n)
		return;
	y[i] = x[i] * w[i];
}

__global__ void bias(float *y, const float *b, float c, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;
	if (i >= n)
		return;
	y[i] = (y[i] + b[i]) + c;
}

#define CHECK(call) \
	do { \
		enum paella_status st_ = (call); \
		if (st_ != PAELLA_STATUS_OK) { \
			printf("FAIL: %s: %s (%s)\n", #call, paella_status_name(st_), \
			       paella_last_error()); \
			return 1; \
		} \
	} while (0)

int main()
{
	int devices = 0;
	if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
		printf("SKIP: no CUDA device\n");
		return 77;
	}
	const int n = 1 << 20;
	const size_t bytes = n * sizeof(float);
	const int jobs = 8;
	std::vector<float> w(n), b(n);
	for (int i = 0; i < n; i++) {
		w[i] = 0.25f + (i % 97) / 97.0f;
		b[i] = -1.0f + (i % 31) / 31.0f;
	}

	struct paella_config config;
	struct paella_runtime *rt = NULL;
	paella_config_init(&config);
	config.backend = PAELLA_BACKEND_CUDA;
	enum paella_status st = paella_runtime_create(&config, &rt);
	if (st == PAELLA_STATUS_NO_DEVICE) {
		printf("SKIP: %s\n", paella_last_error());
		return 77;
	}
	CHECK(st);

	struct paella_model *m = NULL;
	unsigned in, out, wb, bb;
	uint64_t a_in, a_out, a_w, a_b;
	CHECK(paella_model_create(rt, "captured", &m));
	CHECK(paella_model_add_buffer(m, PAELLA_BUFFER_JOB, bytes, &in));
	CHECK(paella_model_add_buffer(m, PAELLA_BUFFER_JOB, bytes, &out));
	CHECK(paella_model_add_buffer(m, PAELLA_BUFFER_MODEL, bytes, &wb));
	CHECK(paella_model_add_buffer(m, PAELLA_BUFFER_MODEL, bytes, &bb));
	CHECK(paella_model_write_buffer(m, wb, 0, w.data(), bytes));
	CHECK(paella_model_write_buffer(m, bb, 0, b.data(), bytes));
	CHECK(paella_model_buffer_address(m, in, &a_in));
	CHECK(paella_model_buffer_address(m, out, &a_out));
	CHECK(paella_model_buffer_address(m, wb, &a_w));
	CHECK(paella_model_buffer_address(m, bb, &a_b));

	CHECK(paella_model_capture_begin(m));
	CHECK(paella_model_add_copy(m, PAELLA_COPY_INPUT, in, 0, 0, bytes));
	scale<<<(n + 255) / 256, 256>>>((float *)(uintptr_t)a_out, (const float *)(uintptr_t)a_in,
					 (const float *)(uintptr_t)a_w, n);
	bias<<<(n + 127) / 128, 128>>>((float *)(uintptr_t)a_out, (const float *)(uintptr_t)a_b,
				       0.5f, n);
	CHECK(paella_model_add_copy(m, PAELLA_COPY_OUTPUT, out, 0, 0, bytes));
	CHECK(paella_model_capture_end(m));

	/* Recorded, not run: the output placeholder is still zero. */
	{
		std::vector<float> got(n, 1.0f);
		if (cudaDeviceSynchronize() != cudaSuccess ||
		    cudaMemcpy(got.data(), (void *)(uintptr_t)a_out, bytes,
			       cudaMemcpyDeviceToHost) != cudaSuccess) {
			printf("FAIL: reading the placeholder\n");
			return 1;
		}
		for (int i = 0; i < n; i++)
			if (got[i] != 0.0f) {
				printf("FAIL: a captured launch ran: out[%d] = %g\n", i, got[i]);
				return 1;
			}
	}
	CHECK(paella_model_finalize(m, 4));

	std::vector<std::vector<float>> x(jobs, std::vector<float>(n)), y(jobs, std::vector<float>(n));
	std::vector<struct paella_job *> handle(jobs);
	for (int j = 0; j < jobs; j++) {
		for (int i = 0; i < n; i++)
			x[j][i] = (float)((i * 7 + j * 13) % 1000) / 100.0f - 5.0f;
		struct paella_job_desc d;
		memset(&d, 0, sizeof(d));
		d.input = x[j].data();
		d.input_bytes = bytes;
		d.output = y[j].data();
		d.output_bytes = bytes;
		CHECK(paella_job_submit(m, &d, &handle[j]));
	}
	for (int j = 0; j < jobs; j++) {
		CHECK(paella_job_wait(handle[j], -1));
		paella_job_release(handle[j]);
		for (int i = 0; i < n; i++) {
			float want = (x[j][i] * w[i] + b[i]) + 0.5f;
			if (y[j][i] != want) {
				printf("FAIL: job %d: y[%d] = %g, want %g\n", j, i, y[j][i], want);
				return 1;
			}
		}
	}
	uint64_t est = 0;
	CHECK(paella_model_estimate_ns(m, &est));
	paella_runtime_destroy(rt);
	printf("PASS: 2 captured kernels, %d jobs of %d elements served (%llu ns a job)\n", jobs,
	       n, (unsigned long long)est);
	return 0;
}
