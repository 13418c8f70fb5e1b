/*
 * dispatch - what does running a model through libpaellart cost, against
 * launching the same kernels yourself?
 *
 * A model of 100 small kernels (vector_add over 2^16 elements: 256 blocks,
 * a few microseconds each), one job at a time, no copies.  Latency of one
 * inference, median over many, measured four ways in one process:
 *
 *   direct      the uninstrumented kernels launched back to back on one
 *               stream, then a stream synchronize
 *   graph       the same launches captured once into a CUDA graph; replay +
 *               synchronize
 *   paella      a libpaellart model of the kernels: submit + wait, in
 *               several configurations (table `ways` below): the default
 *               sample-mode build with the runtime's defaults (runs of
 *               kernels of up to 20 us launched as CUDA graphs), longer
 *               runs, graphs off (every kernel launched alone), the
 *               uninstrumented and the count-mode builds, and a deeper
 *               launch window
 *
 * Prints the medians and ratios against direct and graph; --csv writes them.
 * Exit 77 when there is no GPU.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench-util.h"
#include "paella/paella.h"

#define NKERNELS 100
#define ELEMENTS (1u << 16)

struct paella__cu *cu;
const char *bench_name = "dispatch";

#define TRY(call) \
	do { \
		enum paella_status st_ = (call); \
		if (st_ != PAELLA_STATUS_OK) { \
			fprintf(stderr, "dispatch: %s: %s (%s)\n", #call, paella_status_name(st_), \
				paella_last_error()); \
			exit(1); \
		} \
	} while (0)

/* Direct launches of the uninstrumented kernel on @stream; @graph captures
 * them first and replays. */
static double
time_direct(const char *image, int runs, bool graph)
{
	CUdevice dev;
	CUcontext ctx;
	CUmodule mod;
	CUfunction f;
	CUstream s;
	CUdeviceptr w, x[2];
	unsigned long long n = ELEMENTS;

	CHECK(cuDeviceGet(&dev, 0));
	CHECK(cuDevicePrimaryCtxRetain(&ctx, dev));
	CHECK(cuCtxSetCurrent(ctx));
	CHECK(cuModuleLoad(&mod, image));
	CHECK(cuModuleGetFunction(&f, mod, "vector_add"));
	CHECK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	CHECK(cuMemAlloc(&w, n * 4));
	CHECK(cuMemAlloc(&x[0], n * 4));
	CHECK(cuMemAlloc(&x[1], n * 4));
	CHECK(cuMemsetD32(w, 0x3f800000u, n)); /* 1.0f */
	CHECK(cuMemsetD32(x[0], 0x3f800000u, n));
	CHECK(cuCtxSynchronize());

	CUgraphExec exec = NULL;
	CUgraph g = NULL;
	void *params[NKERNELS][4];
	for (int k = 0; k < NKERNELS; k++) {
		params[k][0] = &x[k & 1];
		params[k][1] = &w;
		params[k][2] = &x[(k + 1) & 1];
		params[k][3] = &n;
	}
	if (graph) {
		if (!cu->cuStreamBeginCapture || !cu->cuGraphLaunch) {
			fprintf(stderr, "dispatch: this driver lacks CUDA graphs\n");
			exit(1);
		}
		CHECK(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
		for (int k = 0; k < NKERNELS; k++)
			CHECK(cuLaunchKernel(f, ELEMENTS / 256, 1, 1, 256, 1, 1, 0, s, params[k], NULL));
		CHECK(cuStreamEndCapture(s, &g));
		CHECK(cuGraphInstantiateWithFlags(&exec, g, 0));
	}
	double *t = calloc(runs, sizeof(double));
	for (int r = -10; r < runs; r++) {
		double t0 = bench_now_us();
		if (graph) {
			CHECK(cuGraphLaunch(exec, s));
		} else {
			for (int k = 0; k < NKERNELS; k++)
				CHECK(cuLaunchKernel(f, ELEMENTS / 256, 1, 1, 256, 1, 1, 0, s, params[k],
						     NULL));
		}
		CHECK(cuStreamSynchronize(s));
		if (r >= 0)
			t[r] = bench_now_us() - t0;
	}
	double m = bench_quantile(t, runs, 0.5);
	free(t);
	if (graph) {
		cu->cuGraphExecDestroy(exec);
		cu->cuGraphDestroy(g);
	}
	cu->cuMemFree(w);
	cu->cuMemFree(x[0]);
	cu->cuMemFree(x[1]);
	cu->cuStreamDestroy(s);
	cu->cuModuleUnload(mod);
	cu->cuDevicePrimaryCtxRelease(dev);
	return m;
}

/* One way of running the model through the runtime. */
struct paella_way {
	const char *name;
	/* Which build: "" (sample mode), ".noinst" or ".count". */
	const char *variant;
	unsigned in_flight;
	double window;
	uint64_t graph_chunk_ns;
	/* paella_config.lone_job_past_window. */
	bool lone;
};

static double
time_paella(const char *image, int runs, const struct paella_way *way, uint64_t *decisions,
	    double *busy_ns_per_decision)
{
	struct paella_config cfg;
	struct paella_runtime *rt;
	struct paella_module *mod;
	struct paella_model *model;
	unsigned w, x[2];
	unsigned long long n = ELEMENTS;
	size_t bytes = (size_t)n * 4;

	paella_config_init(&cfg);
	cfg.backend = PAELLA_BACKEND_CUDA;
	cfg.policy = PAELLA_POLICY_FIFO;
	cfg.max_kernels_in_flight_per_job = way->in_flight;
	cfg.launch_window_waves = way->window;
	cfg.graph_chunk_ns = way->graph_chunk_ns;
	cfg.lone_job_past_window = way->lone;
	TRY(paella_runtime_create(&cfg, &rt));
	TRY(paella_module_load_file(rt, image, &mod));
	TRY(paella_model_create(rt, "chain100", &model));
	TRY(paella_model_add_buffer(model, PAELLA_BUFFER_MODEL, bytes, &w));
	TRY(paella_model_add_buffer(model, PAELLA_BUFFER_JOB, bytes, &x[0]));
	TRY(paella_model_add_buffer(model, PAELLA_BUFFER_JOB, bytes, &x[1]));
	float *ones = malloc(bytes);
	for (unsigned i = 0; i < n; i++)
		ones[i] = 1.0f;
	TRY(paella_model_write_buffer(model, w, 0, ones, bytes));
	free(ones);
	for (int k = 0; k < NKERNELS; k++) {
		struct paella_arg args[4] = {
			paella_arg_buffer(x[k & 1], 0), paella_arg_buffer(w, 0),
			paella_arg_buffer(x[(k + 1) & 1], 0), paella_arg_value(&n, sizeof(n))};
		struct paella_kernel_step step = {.module = mod, .kernel = "vector_add",
						  .grid = {ELEMENTS / 256, 1, 1}, .block = {256, 1, 1},
						  .args = args, .nargs = 4};
		TRY(paella_model_add_kernel(model, &step));
	}
	TRY(paella_model_finalize(model, 1));

	struct paella_runtime_stats before, after;
	double *t = calloc(runs, sizeof(double));
	struct paella_job_desc d = {0};
	for (int r = -10; r < runs; r++) {
		struct paella_job *job;
		if (r == 0)
			TRY(paella_runtime_stats(rt, &before));
		double t0 = bench_now_us();
		TRY(paella_job_submit(model, &d, &job));
		TRY(paella_job_wait(job, -1));
		if (r >= 0)
			t[r] = bench_now_us() - t0;
		paella_job_release(job);
	}
	TRY(paella_runtime_stats(rt, &after));
	double m = bench_quantile(t, runs, 0.5);
	free(t);
	*decisions = after.kernels_launched - before.kernels_launched;
	*busy_ns_per_decision = *decisions ? (double)(after.dispatcher_busy_ns - before.dispatcher_busy_ns) /
						     *decisions
					   : 0;
	TRY(paella_model_destroy(model));
	TRY(paella_module_unload(mod));
	paella_runtime_destroy(rt);
	return m;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: dispatch [--images DIR] [--runs N] [--csv FILE]\n"
		"\n"
		"Latency of one inference of a 100-kernel model (vector_add, 2^16 elements)\n"
		"through libpaellart, against the same kernels launched directly on one stream\n"
		"and replayed as a CUDA graph.\n"
		"\n"
		"  --images DIR  where vector_add{,.noinst,.count}.cubin are\n"
		"                (default: build/kernels)\n"
		"  --runs N      inferences timed per way (default 300, at least 30)\n"
		"  --csv FILE    also write the rows as CSV\n");
}

int
main(int argc, char **argv)
{
	struct bench_args args = {.images = "build/kernels", .runs = 300};
	int status = bench_parse_args(argc, argv, &args, 30, usage);
	if (status >= 0)
		return status;
	const char *images = args.images, *csv_path = args.csv;
	int runs = args.runs;
	if (paella__cu_open(&cu) != PAELLA_STATUS_OK) {
		printf("SKIP: %s\n", paella__error_last());
		return 77;
	}
	char plain[4096], name[128];
	snprintf(plain, sizeof(plain), "%s/vector_add.noinst.cubin", images);
	CUdevice dev;
	CHECK(cuDeviceGet(&dev, 0));
	CHECK(cuDeviceGetName(name, sizeof(name), dev));

	fprintf(stderr, "direct ...\n");
	double direct = time_direct(plain, runs, false);
	fprintf(stderr, "graph ...\n");
	double graph = time_direct(plain, runs, true);
	static const struct paella_way ways[] = {
		{"paella (defaults: graphs <= 20 us)", "", 2, 1.0, 20000},
		{"paella, graphs <= 100 us", "", 2, 1.0, 100000},
		{"paella, no graphs", "", 2, 1.0, 0},
		{"paella, no graphs, 8 in flight", "", 8, 4.0, 0},
		{"paella, uninstrumented", ".noinst", 2, 1.0, 20000},
		{"paella, count mode (no graphs)", ".count", 2, 1.0, 20000},
		{"paella, window 2 (today's default)", "", 2, 2.0, 20000},
		{"paella, window 2, lone job past it", "", 2, 2.0, 20000, true},
	};
	enum { NWAYS = sizeof(ways) / sizeof(ways[0]) };
	double us[NWAYS], busy[NWAYS];
	uint64_t dec[NWAYS];
	for (unsigned i = 0; i < NWAYS; i++) {
		char image[4200];

		snprintf(image, sizeof(image), "%s/vector_add%s.cubin", images, ways[i].variant);
		fprintf(stderr, "%s ...\n", ways[i].name);
		us[i] = time_paella(image, runs, &ways[i], &dec[i], &busy[i]);
	}

	printf("dispatch: %s; one inference of %d vector_add kernels (%u elements each), median of %d\n\n",
	       name, NKERNELS, ELEMENTS, runs);
	printf("%-36s %12s %10s %10s %14s\n", "way", "latency us", "/ direct", "/ graph",
	       "us/decision");
	FILE *csv = NULL;
	if (csv_path && !(csv = fopen(csv_path, "w"))) {
		fprintf(stderr, "dispatch: cannot write %s: %s\n", csv_path, strerror(errno));
		return 1;
	}
	if (csv)
		fprintf(csv, "way,latency_us,ratio_direct,ratio_graph,dispatcher_us_per_kernel\n");
	printf("%-36s %12.1f %10.3f %10.3f\n", "direct (one stream)", direct, 1.0, direct / graph);
	printf("%-36s %12.1f %10.3f %10.3f\n", "CUDA graph", graph, graph / direct, 1.0);
	if (csv) {
		fprintf(csv, "direct (one stream),%.2f,1,%.4f,\n", direct, direct / graph);
		fprintf(csv, "CUDA graph,%.2f,%.4f,1,\n", graph, graph / direct);
	}
	for (unsigned i = 0; i < NWAYS; i++) {
		double per = busy[i] / 1000;

		printf("%-36s %12.1f %10.3f %10.3f %14.2f\n", ways[i].name, us[i], us[i] / direct,
		       us[i] / graph, per);
		if (csv)
			fprintf(csv, "%s,%.2f,%.4f,%.4f,%.3f\n", ways[i].name, us[i], us[i] / direct,
				us[i] / graph, per);
	}
	printf("\n(us/decision: the dispatcher's CPU time per kernel launched, sampled; "
	       "%llu kernels per way)\n", (unsigned long long)dec[0]);
	if (csv)
		fclose(csv);
	paella__cu_close(cu);
	return 0;
}
