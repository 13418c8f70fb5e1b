/*
 * bench-util.h - what the GPU benchmarks share: a checking macro for driver
 * calls that exits with the call, the driver's error name and the place, a
 * monotonic clock, order statistics, loading a cubin, and the options most of them take.  Header only: each benchmark is one
 * small program.
 */
#ifndef PAELLA_BENCH_UTIL_H
#define PAELLA_BENCH_UTIL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cuda-driver.h"

/* Every benchmark has one driver table, opened in main(). */
extern struct paella__cu *cu;

/* The program's name, for messages: set by each benchmark. */
extern const char *bench_name;

#define CHECK(call) \
	do { \
		CUresult rc_ = cu->call; \
		if (rc_ != CUDA_SUCCESS) { \
			fprintf(stderr, "%s: %s failed: %s (%s:%d)\n", bench_name, #call, \
				paella__cu_error_name(cu, rc_), __FILE__, __LINE__); \
			exit(1); \
		} \
	} while (0)

/* Loads DIR/NAME.cubin, or exits naming the file and the driver's error. */
static inline CUmodule
bench_load_image(const char *dir, const char *name)
{
	char path[4096];
	CUmodule mod;
	CUresult rc;

	snprintf(path, sizeof(path), "%s/%s.cubin", dir, name);
	rc = cu->cuModuleLoad(&mod, path);
	if (rc != CUDA_SUCCESS) {
		fprintf(stderr, "%s: cannot load %s: %s (build the kernels first: ninja -C build)\n",
			bench_name, path, paella__cu_error_name(cu, rc));
		exit(1);
	}
	return mod;
}

/*
 * Opens the driver and makes device 0's primary context current, with the
 * card's name in @name.  Returns false, having printed "SKIP: <why>", where
 * there is no GPU: main() then exits 77.
 */
static inline bool
bench_open_gpu(CUdevice *dev, char *name, size_t name_len)
{
	CUcontext ctx;

	if (paella__cu_open(&cu) != PAELLA_STATUS_OK) {
		printf("SKIP: %s\n", paella__error_last());
		return false;
	}
	CHECK(cuDeviceGet(dev, 0));
	CHECK(cuDeviceGetName(name, (int)name_len, *dev));
	CHECK(cuDevicePrimaryCtxRetain(&ctx, *dev));
	CHECK(cuCtxSetCurrent(ctx));
	return true;
}

static inline double
bench_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static inline int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The @q quantile (0..1) of @v, linearly interpolated; sorts @v. */
static inline double
bench_quantile(double *v, int n, double q)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	double pos = q * (n - 1);
	int i = (int)pos;
	double f = pos - i;
	return i + 1 < n ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

/* --images DIR, --runs N and --csv FILE, with the defaults filled in before
 * bench_parse_args(). */
struct bench_args {
	const char *images;
	const char *csv;
	int runs;
};

/*
 * Parses those options and --help into @a; --runs below @min_runs, an
 * unknown option or a stray argument is an error.  Returns -1 to go on, or
 * the status main() should exit with.
 */
static inline int
bench_parse_args(int argc, char **argv, struct bench_args *a, int min_runs,
		 void (*usage)(FILE *))
{
	static const struct option longopts[] = {{"images", required_argument, NULL, 'i'},
						 {"runs", required_argument, NULL, 'r'},
						 {"csv", required_argument, NULL, 'c'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'i': a->images = optarg; break;
		case 'c': a->csv = optarg; break;
		case 'r':
			a->runs = atoi(optarg);
			if (a->runs < min_runs) {
				fprintf(stderr, "%s: --runs must be at least %d (got '%s')\n",
					bench_name, min_runs, optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", bench_name, argv[optind]);
		return 2;
	}
	return -1;
}

#endif /* PAELLA_BENCH_UTIL_H */
