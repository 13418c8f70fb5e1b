/*
 * bench-util.h - what the GPU benchmarks share: a checking macro for driver
 * calls that exits with the call, the driver's error name and the place, a
 * monotonic clock, and order statistics.  Header only: each benchmark is one
 * small program.
 */
#ifndef PAELLA_BENCH_UTIL_H
#define PAELLA_BENCH_UTIL_H

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

#endif /* PAELLA_BENCH_UTIL_H */
