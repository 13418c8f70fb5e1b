/*
 * test-direct.c - direct mode on the GPU: a chain of vector_add kernels run
 * as whole jobs on the caller's streams (plain kernels, and as one graph),
 * many at once on streams of two priorities, every output checked against
 * the same additions on the CPU and against the same model served by the
 * dispatcher.  Exit 77 where there is no GPU.
 *
 *	test-direct --images DIR      (DIR holds vector_add.cubin)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paella/paella.h"

#define N (1u << 20)
#define KERNELS 12u
#define JOBS 64u
#define SLOTS 8u

static int failures;

#define EXPECT(cond, ...)                                                       \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);    \
			fprintf(stderr, __VA_ARGS__);                           \
			fprintf(stderr, " (%s)\n", paella_last_error());        \
			failures++;                                             \
		}                                                               \
	} while (0)

/* The chain: x1 = x0 + w, x0 = x1 + w, ... KERNELS times. */
static struct paella_model *
chain(struct paella_runtime *rt, struct paella_module *mod, const float *w, unsigned sets)
{
	struct paella_model *m = NULL;
	unsigned wb = 0, x[2] = { 0, 0 };
	size_t bytes = N * sizeof(float);
	int n = (int)N;

	if (paella_model_create(rt, "chain", &m) != PAELLA_STATUS_OK ||
	    paella_model_add_buffer(m, PAELLA_BUFFER_MODEL, bytes, &wb) != PAELLA_STATUS_OK ||
	    paella_model_add_buffer(m, PAELLA_BUFFER_JOB, bytes, &x[0]) != PAELLA_STATUS_OK ||
	    paella_model_add_buffer(m, PAELLA_BUFFER_JOB, bytes, &x[1]) != PAELLA_STATUS_OK ||
	    paella_model_write_buffer(m, wb, 0, w, bytes) != PAELLA_STATUS_OK ||
	    paella_model_add_copy(m, PAELLA_COPY_INPUT, x[0], 0, 0, bytes) != PAELLA_STATUS_OK)
		return NULL;
	for (unsigned k = 0; k < KERNELS; k++) {
		struct paella_arg args[4] = {
			paella_arg_buffer(x[k & 1], 0),
			paella_arg_buffer(wb, 0),
			paella_arg_buffer(x[(k + 1) & 1], 0),
			paella_arg_value(&n, sizeof(n)),
		};
		struct paella_kernel_step step = {
			.module = mod,
			.kernel = "vector_add",
			.grid = { (N + 255) / 256, 1, 1 },
			.block = { 256, 1, 1 },
			.args = args,
			.nargs = 4,
		};

		if (paella_model_add_kernel(m, &step) != PAELLA_STATUS_OK)
			return NULL;
	}
	if (paella_model_add_copy(m, PAELLA_COPY_OUTPUT, x[KERNELS & 1], 0, 0, bytes) !=
		    PAELLA_STATUS_OK ||
	    paella_model_finalize(m, sets) != PAELLA_STATUS_OK)
		return NULL;
	return m;
}

static struct paella_runtime *
runtime(enum paella_dispatch_mode mode)
{
	struct paella_config c;
	struct paella_runtime *rt = NULL;

	paella_config_init(&c);
	c.backend = PAELLA_BACKEND_CUDA;
	c.dispatch_mode = mode;
	if (paella_runtime_create(&c, &rt) != PAELLA_STATUS_OK)
		return NULL;
	return rt;
}

int
main(int argc, char **argv)
{
	const char *images = NULL;
	char path[4096];
	float *w = malloc(N * sizeof(float)), *expect = malloc(N * sizeof(float));
	float *in = malloc((size_t)JOBS * N * sizeof(float));
	float *out = calloc((size_t)JOBS * N, sizeof(float));
	float *served = calloc(N, sizeof(float));
	struct paella_runtime *rt;
	struct paella_module *mod = NULL;
	struct paella_model *m;
	struct paella_stream *streams[SLOTS];
	struct paella_job *jobs[SLOTS];
	unsigned submitted = 0, done = 0, wrong = 0;

	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--images") == 0)
			images = argv[++i];
	if (images == NULL || w == NULL || expect == NULL || in == NULL || out == NULL ||
	    served == NULL) {
		fprintf(stderr, "usage: test-direct --images DIR\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/vector_add.cubin", images);
	rt = runtime(PAELLA_DISPATCH_MANUAL);
	if (rt == NULL) {
		printf("SKIP: no GPU (%s)\n", paella_last_error());
		return 77;
	}
	for (unsigned i = 0; i < N; i++)
		w[i] = (float)(i % 97) * 0.25f;
	for (unsigned j = 0; j < JOBS; j++)
		for (unsigned i = 0; i < N; i++)
			in[(size_t)j * N + i] = (float)((i + 7 * j) % 1013) * 0.5f;
	EXPECT(paella_module_load_file(rt, path, &mod) == PAELLA_STATUS_OK, "load %s", path);
	m = mod != NULL ? chain(rt, mod, w, SLOTS) : NULL;
	EXPECT(m != NULL, "model");
	if (m == NULL)
		return 1;
	/* Half the slots at a higher priority. */
	for (unsigned s = 0; s < SLOTS; s++) {
		EXPECT(paella_stream_create(rt, s < SLOTS / 2 ? 0 : 5, &streams[s]) ==
			       PAELLA_STATUS_OK, "stream %u", s);
		jobs[s] = NULL;
	}
	/* Every slot busy while jobs remain; odd jobs as graphs. */
	while (done < JOBS) {
		for (unsigned s = 0; s < SLOTS; s++) {
			if (jobs[s] != NULL && paella_job_poll(jobs[s]) != PAELLA_STATUS_BUSY) {
				EXPECT(paella_job_poll(jobs[s]) == PAELLA_STATUS_OK, "job");
				paella_job_release(jobs[s]);
				jobs[s] = NULL;
				done++;
			}
			if (jobs[s] == NULL && submitted < JOBS) {
				struct paella_job_desc d = {
					.input = in + (size_t)submitted * N,
					.input_bytes = N * sizeof(float),
					.output = out + (size_t)submitted * N,
					.output_bytes = N * sizeof(float),
				};
				enum paella_status st = paella_job_submit_direct(
					m, streams[s], &d, submitted % 2 ? PAELLA_DIRECT_GRAPH : 0,
					&jobs[s]);

				EXPECT(st == PAELLA_STATUS_OK, "submit %u", submitted);
				if (st != PAELLA_STATUS_OK)
					return 1;
				submitted++;
			}
		}
		paella_runtime_run_until(rt, paella_runtime_now_ns(rt) + 2000);
	}
	for (unsigned j = 0; j < JOBS; j++) {
		for (unsigned i = 0; i < N; i++) {
			float x = in[(size_t)j * N + i];

			for (unsigned k = 0; k < KERNELS; k++)
				x = x + w[i];
			expect[i] = x;
		}
		if (memcmp(expect, out + (size_t)j * N, N * sizeof(float)) != 0)
			wrong++;
	}
	EXPECT(wrong == 0, "%u of %u direct jobs' outputs differ from the CPU's", wrong, JOBS);
	for (unsigned s = 0; s < SLOTS; s++)
		paella_stream_destroy(streams[s]);
	paella_runtime_destroy(rt);

	/* The same model served by the dispatcher: the same bits. */
	rt = runtime(PAELLA_DISPATCH_THREAD);
	mod = NULL;
	EXPECT(rt != NULL && paella_module_load_file(rt, path, &mod) == PAELLA_STATUS_OK, "load");
	m = mod != NULL ? chain(rt, mod, w, 1) : NULL;
	if (m != NULL) {
		struct paella_job_desc d = {
			.input = in,
			.input_bytes = N * sizeof(float),
			.output = served,
			.output_bytes = N * sizeof(float),
		};
		struct paella_job *job = NULL;

		EXPECT(paella_job_submit(m, &d, &job) == PAELLA_STATUS_OK, "submit");
		EXPECT(job != NULL && paella_job_wait(job, -1) == PAELLA_STATUS_OK, "wait");
		paella_job_release(job);
		EXPECT(memcmp(served, out, N * sizeof(float)) == 0,
		       "the dispatcher's output differs from direct mode's");
	}
	if (rt != NULL)
		paella_runtime_destroy(rt);
	printf("direct mode: %u jobs (%u as graphs) on %u streams of two priorities, %u wrong; "
	       "%s\n", JOBS, JOBS / 2, SLOTS, wrong, failures == 0 ? "PASS" : "FAIL");
	free(w);
	free(expect);
	free(in);
	free(out);
	free(served);
	return failures == 0 ? 0 : 1;
}
