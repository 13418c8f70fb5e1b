/*
 * overhead - how much slower is a kernel once paella-instrument has added
 * its block-exit epilogue?
 *
 * Each kernel is built twice by paella-cc, with and without
 * --paella-no-instrument, and both builds run side by side in this process,
 * alternating (ABBA) on one stream, each launch bracketed by events.  A spin
 * kernel holds the stream while a round of launches is queued, so the times
 * are the GPU's, not the host's enqueue rate.  Inputs rotate over enough
 * copies to overflow L2, are random and never zero; each case checks the two
 * builds' outputs byte for byte.  The instrumented launches get real launch
 * records from the runtime's pool, as in serving.  Every launch, of either
 * build, reads its own input set (the second launch of a pair must not find
 * the first one's inputs in L2) and is followed by the stream write-value
 * the runtime enqueues after every kernel (what follows a kernel on the
 * stream moves its end event by up to half a microsecond).  A launch's
 * place in its pair moves its time too, so the ratio of a case is the
 * geometric mean of two medians, over the pairs in which the instrumented
 * build ran first and over those in which it ran second (ABBA gives as many
 * of each); the CSV gives both.  And every timed launch follows the same
 * one-warp separator kernel: a kernel launched right after itself runs
 * faster than after another one.
 *
 * Prints a table and the geometric mean of the ratios last; --csv writes the
 * rows.  Exit 77 when there is no GPU.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench-util.h"
#include "launch.h"
#include "notify-test.h"
#include "notify.h"

#define MAX_PARAMS 16
#define MAX_SETS 16
#define ROUND 40 /* ABBA pairs queued behind one spin */

struct opts {
	const char *images;
	const char *csv;
	const char *only;
	const char *spin_dir;
	int runs;
	bool quick;
};

/* Which instrumented build: sample (<kernel>.cubin) or count
 * (<kernel>.count.cubin). */
static enum paella__notify_mode notify_mode = PAELLA__NOTIFY_SAMPLE;
/* --no-plain: run the instrumented code even where the runtime would run the
 * kernel's plain copy (grids in which the sampling rule picks no block). */
static bool no_plain;
/* The runtime's switches as the environment sets them (PAELLA_PROGRESS,
 * PAELLA_PLAIN_COPIES): launches follow them as the runtime's would. */
static struct paella_config bench_config;
/* --control: the "instrumented" side is a second load of the plain build,
 * so every ratio is the method's own error. */
static bool control;

struct buf {
	CUdeviceptr d[MAX_SETS];
	size_t bytes;
	bool output;
};

struct bcase {
	const char *image; /* kernels/<image>.cubin */
	const char *func;
	char label[64];
	unsigned grid[3], block[3];
	int nbufs;
	struct buf bufs[4];
	/* The kernel's parameters in order: B a buffer (the next of bufs[]),
	 * any other letter the next scalar of scalars[] (ints and floats sit in
	 * the low bytes: the driver reads only the parameter's size). */
	const char *layout;
	uint64_t scalars[12];
	int nsets;
};

struct result {
	char label[64];
	const char *func;
	uint64_t blocks;
	double t_base_us, t_inst_us, ratio, ratio_lo, ratio_hi;
	/* Medians of the pairs in which the instrumented build ran first, and
	 * second: a launch's place in its pair moves its time (the control
	 * shows it), so the ratio is their geometric mean, which cancels it. */
	double ratio_inst_first, ratio_inst_second;
	bool identical;
	/* The instrumented build's launches ran its plain copy, and with a
	 * tail marker. */
	bool plain_copy;
	bool marked;
};

struct paella__cu *cu;
const char *bench_name = "overhead";
static CUstream stream;
/* Where the runtime's tail markers go: lower priority than stream. */
static CUstream marker_stream;
static CUfunction spin_fn;

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t
rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* Uniform in [0.5, 1.5): never zero, no cancellation to hide bad indexing. */
static void
fill_random(float *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h[i] = 0.5f + (float)(rng_next() & 0xFFFFFF) / 16777216.0f;
}

static int
set_params(struct bcase *c, int set, void **params, CUdeviceptr *ptrs)
{
	int k = 0, b = 0, s = 0;
	for (const char *p = c->layout; *p; p++) {
		if (*p == 'B') {
			ptrs[b] = c->bufs[b].d[set];
			params[k++] = &ptrs[b++];
		} else {
			params[k++] = &c->scalars[s++];
		}
	}
	return k;
}

static uint64_t
float_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof(u));
	return u;
}

static void
launch(struct bcase *c, CUfunction f, int set, struct paella__notify_record *rec)
{
	void *params[MAX_PARAMS];
	CUdeviceptr ptrs[4];
	int k = set_params(c, set, params, ptrs);
	if (rec)
		params[k] = (void *)paella__notify_kernel_param(rec);
	CHECK(cuLaunchKernel(f, c->grid[0], c->grid[1], c->grid[2], c->block[0],
			     c->block[1], c->block[2], 0, stream, params, NULL));
}

static void
spin(double us)
{
	unsigned long long ns = (unsigned long long)(us * 1000);
	void *params[] = {&ns};
	CHECK(cuLaunchKernel(spin_fn, 1, 1, 1, 32, 1, 1, 0, stream, params, NULL));
}

static void
alloc_case(struct bcase *c, size_t l2_bytes)
{
	size_t set_bytes = 0;
	for (int b = 0; b < c->nbufs; b++)
		set_bytes += c->bufs[b].bytes;
	c->nsets = (int)((3 * l2_bytes) / set_bytes + 1);
	if (c->nsets < 2)
		c->nsets = 2;
	if (c->nsets > MAX_SETS)
		c->nsets = MAX_SETS;
	for (int b = 0; b < c->nbufs; b++) {
		size_t n = c->bufs[b].bytes / sizeof(float);
		float *h = malloc(c->bufs[b].bytes);
		if (!h) {
			fprintf(stderr, "overhead: out of host memory\n");
			exit(1);
		}
		for (int s = 0; s < c->nsets; s++) {
			CHECK(cuMemAlloc(&c->bufs[b].d[s], c->bufs[b].bytes));
			fill_random(h, n);
			CHECK(cuMemcpyHtoD(c->bufs[b].d[s], h, c->bufs[b].bytes));
		}
		free(h);
		/* Our stream is non-blocking and a copy from pageable memory may
		 * return before it lands: make sure it has. */
		CHECK(cuCtxSynchronize());
	}
}

static void
free_case(struct bcase *c)
{
	for (int b = 0; b < c->nbufs; b++)
		for (int s = 0; s < c->nsets; s++)
			cu->cuMemFree(c->bufs[b].d[s]);
}

/* Blocks of @f at @c's shape that one wave holds: sets the sampling
 * interval as the runtime's models do. */
static uint64_t
wave_blocks(const struct bcase *c, CUfunction f)
{
	return paella__notify_wave_blocks(cu, f, c->block[0] * c->block[1] * c->block[2], 0);
}

/* The launch of @f at @c's shape on set @set (params[] filled, the record's
 * slot last), the instrumented build's as the runtime makes it: its code as
 * built, or a plain copy (completion only), or a plain copy with a tail
 * marker; the control build's plain.  @inst: the instrumented build. */
static struct paella__launch
launch_of(struct bcase *c, CUfunction f, int set, void **params, CUdeviceptr *ptrs, bool inst,
	  uint64_t wave, bool plain, bool marked)
{
	struct paella__launch l = { 0 };

	l.fn = f;
	l.plain = f;
	l.mode = inst ? notify_mode : PAELLA__NOTIFY_NONE;
	l.code = !inst || !plain ? PAELLA__CODE_BUILT
		 : marked	 ? PAELLA__CODE_MARKED
				 : PAELLA__CODE_PLAIN;
	memcpy(l.grid, c->grid, sizeof(l.grid));
	memcpy(l.block, c->block, sizeof(l.block));
	l.nparams = (unsigned)set_params(c, set, params, ptrs);
	l.params = params;
	l.wave_blocks = inst ? wave : 0;
	l.signal = PAELLA__SIGNAL_WRITE_VALUE;
	return l;
}

/* What the launch rule asks of the benchmark: a tail marker for plain copy
 * @f at @c's shape, on the marker stream where there is one. */
struct marker_ask {
	const struct bcase *c;
	CUfunction f;
	struct paella__launcher *lc;
	struct paella__marker_launch *m;
};

static bool
marker_fits(void *ctx)
{
	struct marker_ask *a = ctx;
	const struct bcase *c = a->c;

	if (marker_stream == NULL)
		return false;
	if (paella__marker_plan_function(paella__launcher_markers(a->lc), a->f,
					 c->block[0] * c->block[1] * c->block[2], 0, a->m) !=
	    PAELLA_STATUS_OK) {
		fprintf(stderr, "overhead: %s: %s; instrumented code instead\n", c->label,
			paella__error_last());
		return false;
	}
	return true;
}

/* What the runtime launches for the instrumented build at @c's shape, by
 * the runtime's own rule (launch-rule.h) as a model step's launches take
 * it: the kernel; or its plain copy where the sampling rule picks no block;
 * or its plain copy and a tail marker (*@m) for a grid of more than a wave. */
static CUfunction
inst_function(const struct bcase *c, CUmodule minst, uint64_t wave,
	      struct paella__launcher *lc, bool *plain, bool *marked,
	      struct paella__marker_launch *m)
{
	struct paella__launch_rule_in rule = { 0 };
	struct marker_ask ask = { c, NULL, lc, m };
	struct paella__launch_codes codes;
	enum paella__launch_code code;
	char name[128];
	CUfunction f;

	*plain = false;
	*marked = false;
	if (control) {
		*plain = true;
		CHECK(cuModuleGetFunction(&f, minst, c->func));
		return f;
	}
	snprintf(name, sizeof(name), "%s%s", c->func, PAELLA_PLAIN_CLONE_SUFFIX);
	rule.instrumented = true;
	rule.counted = notify_mode == PAELLA__NOTIFY_COUNT;
	rule.has_plain = cu->cuModuleGetFunction(&ask.f, minst, name) == CUDA_SUCCESS;
	rule.nblocks = (uint64_t)c->grid[0] * c->grid[1] * c->grid[2];
	rule.wave_blocks = wave;
	rule.progress = bench_config.progress;
	/* Off with --no-plain or PAELLA_PLAIN_COPIES=0. */
	rule.plain_copies = !no_plain;
	paella__launch_rule(&rule, marker_fits, &ask, &codes);
	code = codes.code[PAELLA__WANT_PROGRESS];
	*plain = code != PAELLA__CODE_BUILT;
	*marked = code == PAELLA__CODE_MARKED;
	if (*plain)
		return ask.f;
	CHECK(cuModuleGetFunction(&f, minst, c->func));
	return f;
}

/* Runs both builds on set 0 from the same inputs (outputs poisoned first)
 * and compares every output buffer byte for byte. */
static bool
outputs_identical(struct bcase *c, CUfunction base, CUfunction inst, bool plain,
		  struct paella__launcher *lc)
{
	bool same = true;
	for (int b = 0; b < c->nbufs && same; b++) {
		if (!c->bufs[b].output)
			continue;
		size_t bytes = c->bufs[b].bytes;
		unsigned char *h0 = malloc(bytes), *h1 = malloc(bytes), *keep = malloc(bytes);
		CHECK(cuMemcpyDtoH(keep, c->bufs[b].d[0], bytes)); /* in-out (sgemm's C) */
		CHECK(cuMemsetD32(c->bufs[b].d[0], 0x7fc00001u, bytes / 4));
		CHECK(cuMemcpyHtoD(c->bufs[b].d[0], keep, bytes));
		CHECK(cuCtxSynchronize()); /* see alloc_case */
		launch(c, base, 0, NULL);
		CHECK(cuStreamSynchronize(stream));
		CHECK(cuMemcpyDtoH(h0, c->bufs[b].d[0], bytes));
		CHECK(cuMemcpyHtoD(c->bufs[b].d[0], keep, bytes));
		CHECK(cuCtxSynchronize());
		struct paella__notify_record *rec;
		void *params[MAX_PARAMS];
		CUdeviceptr ptrs[4];
		struct paella__launch l = launch_of(c, inst, 0, params, ptrs, true,
						    wave_blocks(c, inst), plain, false);
		if (paella__launch(lc, &l, stream, &rec) != PAELLA_STATUS_OK) {
			fprintf(stderr, "overhead: %s\n", paella__error_last());
			exit(1);
		}
		CHECK(cuStreamSynchronize(stream));
		while (!paella__notify_done(rec))
			;
		/* Count mode: the device counters must hold the grid. */
		uint64_t counted = (uint64_t)c->grid[0] * c->grid[1] * c->grid[2];
		if (notify_mode == PAELLA__NOTIFY_COUNT)
			paella__notify_read_counters(rec, &counted, NULL);
		paella__notify_release(rec);
		CHECK(cuMemcpyDtoH(h1, c->bufs[b].d[0], bytes));
		same = memcmp(h0, h1, bytes) == 0 &&
		       counted == (uint64_t)c->grid[0] * c->grid[1] * c->grid[2];
		CHECK(cuMemcpyHtoD(c->bufs[b].d[0], keep, bytes));
		free(h0);
		free(h1);
		free(keep);
	}
	return same;
}

static void
run_case(struct bcase *c, CUmodule mbase, CUmodule minst, struct paella__launcher *lc,
	 int runs, struct result *r)
{
	CUfunction fb, fi;
	bool plain, marked;
	struct paella__marker_launch marker;
	CHECK(cuModuleGetFunction(&fb, mbase, c->func));
	CHECK(cuModuleGetFunction(&fi, minst, c->func));
	uint64_t nblocks = (uint64_t)c->grid[0] * c->grid[1] * c->grid[2];
	/* The wave of the instrumented kernel, as the runtime plans with. */
	uint64_t wave = wave_blocks(c, fi);
	fi = inst_function(c, minst, wave, lc, &plain, &marked, &marker);

	double *tb = calloc(runs, sizeof(double)), *ti = calloc(runs, sizeof(double));
	double *ratio = calloc(runs, sizeof(double));
	double *by_place[2] = {calloc(runs, sizeof(double)), calloc(runs, sizeof(double))};
	int nplace[2] = {0, 0};
	CUevent ev[4 * ROUND];
	for (int i = 0; i < 4 * ROUND; i++)
		CHECK(cuEventCreate(&ev[i], CU_EVENT_DEFAULT));
	/* recs[2 i] for the instrumented launch of pair i, recs[2 i + 1] a
	 * completion-only record for the plain one. */
	struct paella__notify_record *recs[2 * ROUND];

	/* Warm-up: module load, first-launch costs, the pool's records. */
	for (int i = 0; i < 3; i++)
		launch(c, fb, i % c->nsets, NULL);
	CHECK(cuStreamSynchronize(stream));

	int done = 0;
	while (done < runs) {
		int n = runs - done < ROUND ? runs - done : ROUND;
		/* Taken before the timed launches, as a model's are warm. */
		for (int i = 0; i < n; i++) {
			void *params[MAX_PARAMS];
			CUdeviceptr ptrs[4];
			struct paella__launch li = launch_of(c, fi, 0, params, ptrs, true, wave, plain,
							     marked);
			struct paella__launch lb = launch_of(c, fb, 0, params, ptrs, false, 0, false,
							     false);

			if (paella__launch_record(lc, &li, &recs[2 * i]) != PAELLA_STATUS_OK ||
			    paella__launch_record(lc, &lb, &recs[2 * i + 1]) != PAELLA_STATUS_OK) {
				fprintf(stderr, "overhead: %s\n", paella__error_last());
				exit(1);
			}
		}
		spin(300.0 + 40.0 * n);
		for (int i = 0; i < n; i++) {
			bool inst_first = (done + i) & 1;
			for (int k = 0; k < 2; k++) {
				bool inst = (k == 0) == inst_first;
				int set = (2 * (done + i) + k) % c->nsets;
				CUevent *e = &ev[4 * i + (inst ? 2 : 0)];
				void *params[MAX_PARAMS];
				CUdeviceptr ptrs[4];
				struct paella__launch l = launch_of(c, inst ? fi : fb, set, params, ptrs,
								    inst, wave, plain, marked);
				/* Every timed launch follows the same separator, not
				 * the other build or itself: a kernel launched right
				 * after itself runs faster than after another one
				 * (the control showed up to 5% on 4,096 blocks). */
				spin(0.0);
				CHECK(cuEventRecord(e[0], stream));
				l.record = recs[2 * i + (inst ? 0 : 1)];
				l.after_kernel = e[1];
				if (paella__launch(lc, &l, stream, NULL) != PAELLA_STATUS_OK) {
					fprintf(stderr, "overhead: %s\n", paella__error_last());
					exit(1);
				}
			}
		}
		/* The runtime launches a kernel's tail marker once the kernel
		 * heads its stream, which it learns by polling (here: the
		 * event just before the kernel), and the launch takes its
		 * microseconds: so here, launch by launch. */
		for (int i = 0; marked && i < n; i++) {
			while (cu->cuEventQuery(ev[4 * i + 2]) == CUDA_ERROR_NOT_READY)
				;
			CHECK(cuEventQuery(ev[4 * i + 2]));
			if (paella__marker_enqueue(paella__launcher_markers(lc), recs[2 * i],
						   marker_stream, &marker) != PAELLA_STATUS_OK) {
				fprintf(stderr, "overhead: %s\n", paella__error_last());
				exit(1);
			}
		}
		CHECK(cuStreamSynchronize(stream));
		CHECK(cuStreamSynchronize(marker_stream));
		for (int i = 0; i < n; i++) {
			float msb, msi;
			CHECK(cuEventElapsedTime(&msb, ev[4 * i], ev[4 * i + 1]));
			CHECK(cuEventElapsedTime(&msi, ev[4 * i + 2], ev[4 * i + 3]));
			tb[done + i] = msb * 1000.0;
			ti[done + i] = msi * 1000.0;
			ratio[done + i] = (double)msi / msb;
			int place = ((done + i) & 1) ? 0 : 1; /* 0: instrumented first */
			by_place[place][nplace[place]++] = ratio[done + i];
			for (int j = 2 * i; j <= 2 * i + 1; j++) {
				while (!paella__notify_done(recs[j]))
					;
				paella__notify_release(recs[j]);
			}
		}
		done += n;
	}

	snprintf(r->label, sizeof(r->label), "%s", c->label);
	r->func = c->func;
	r->blocks = nblocks;
	r->t_base_us = bench_quantile(tb, runs, 0.5);
	r->t_inst_us = bench_quantile(ti, runs, 0.5);
	r->ratio_inst_first = bench_quantile(by_place[0], nplace[0], 0.5);
	r->ratio_inst_second = bench_quantile(by_place[1], nplace[1], 0.5);
	r->ratio = sqrt(r->ratio_inst_first * r->ratio_inst_second);
	r->ratio_lo = bench_quantile(ratio, runs, 0.25);
	r->ratio_hi = bench_quantile(ratio, runs, 0.75);
	r->identical = outputs_identical(c, fb, fi, plain, lc);
	r->plain_copy = plain;
	r->marked = marked;
	for (int i = 0; i < 4 * ROUND; i++)
		cu->cuEventDestroy(ev[i]);
	free(tb);
	free(ti);
	free(ratio);
	free(by_place[0]);
	free(by_place[1]);
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: overhead [--images DIR] [--runs N] [--csv FILE] [--only SUBSTR] [--quick]\n"
		"                [--notify sample|count] [--no-plain] [--control]\n"
		"\n"
		"Times each kernel built with and without paella-instrument, side by side,\n"
		"and prints the ratio (instrumented / plain) per case and their geometric mean.\n"
		"\n"
		"  --images DIR   where <kernel>.cubin and <kernel>.noinst.cubin are\n"
		"                 (default: build/kernels)\n"
		"  --runs N       timed launches of each build per case (default 60, at least 30)\n"
		"  --csv FILE     also write the rows as CSV\n"
		"  --only SUBSTR  run only the cases whose label contains SUBSTR\n"
		"  --spin-dir DIR where spin.noinst.cubin is (default: build/benchmarks)\n"
		"  --quick        fewer sizes (for a smoke test)\n"
		"  --notify MODE  the instrumented build: sample (default, <kernel>.cubin) or\n"
		"                 count (<kernel>.count.cubin)\n"
		"  --no-plain     run the instrumented code even for grids in which the sampling\n"
		"                 rule picks no block (the runtime runs the plain copy there)\n"
		"  --control      measure the plain build against a second load of itself: the\n"
		"                 method's own error, case by case\n"
		"\n"
		"As launched, a grid of more than a wave runs the plain copy with the runtime's\n"
		"tail marker (PAELLA_PROGRESS=reports: the sampled reports instead).\n");
}

static void
add_vector_add(struct bcase *cs, int *n, unsigned long long elems)
{
	struct bcase *c = &cs[(*n)++];
	memset(c, 0, sizeof(*c));
	c->image = "vector_add";
	c->func = "vector_add";
	snprintf(c->label, sizeof(c->label), "vector_add n=2^%d", (int)log2((double)elems));
	c->grid[0] = (unsigned)((elems + 255) / 256);
	c->grid[1] = c->grid[2] = 1;
	c->block[0] = 256;
	c->block[1] = c->block[2] = 1;
	c->nbufs = 3;
	c->bufs[0].bytes = c->bufs[1].bytes = c->bufs[2].bytes = elems * 4;
	c->bufs[2].output = true;
	c->layout = "BBBL";
	c->scalars[0] = elems;
}

static void
add_sgemm(struct bcase *cs, int *n, int m)
{
	struct bcase *c = &cs[(*n)++];
	memset(c, 0, sizeof(*c));
	c->image = "sgemm";
	c->func = "sgemm_tiled";
	snprintf(c->label, sizeof(c->label), "sgemm %dx%dx%d", m, m, m);
	c->grid[0] = (m + 63) / 64;
	c->grid[1] = (m + 63) / 64;
	c->grid[2] = 1;
	c->block[0] = 256;
	c->block[1] = c->block[2] = 1;
	c->nbufs = 3;
	c->bufs[0].bytes = c->bufs[1].bytes = c->bufs[2].bytes = (size_t)m * m * 4;
	c->bufs[2].output = true;
	/* M N K alpha A lda strideA B ldb strideB beta C ldc strideC; beta is
	 * not zero, so C is read too and stays bounded over the runs. */
	c->layout = "iiifBiLBiLfBiL";
	uint64_t sc[] = {m, m, m, float_bits(1.0f), m, 0, m, 0, float_bits(0.5f), m, 0};
	memcpy(c->scalars, sc, sizeof(sc));
}

static void
add_case(struct bcase *cs, int *n, const char *image, const char *func, const char *label,
	 unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
	 size_t in_bytes, size_t out_bytes)
{
	struct bcase *c = &cs[(*n)++];
	memset(c, 0, sizeof(*c));
	c->image = image;
	c->func = func;
	snprintf(c->label, sizeof(c->label), "%s", label);
	c->grid[0] = gx, c->grid[1] = gy, c->grid[2] = gz;
	c->block[0] = bx, c->block[1] = by, c->block[2] = bz;
	c->nbufs = 2;
	c->bufs[0].bytes = in_bytes;
	c->bufs[1].bytes = out_bytes;
	c->bufs[1].output = true;
	c->layout = "BB";
}

int
main(int argc, char **argv)
{
	struct opts o = {.images = "build/kernels", .spin_dir = "build/benchmarks", .runs = 60};
	static const struct option longopts[] = {
		{"images", required_argument, NULL, 'i'}, {"csv", required_argument, NULL, 'c'},
		{"runs", required_argument, NULL, 'r'},   {"only", required_argument, NULL, 'o'},
		{"quick", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
		{"spin-dir", required_argument, NULL, 's'},
		{"notify", required_argument, NULL, 'n'},
		{"no-plain", no_argument, NULL, 'P'},
		{"control", no_argument, NULL, 'C'},
		{NULL, 0, NULL, 0}};
	int ch;

	paella_config_init(&bench_config);
	if (!bench_config.plain_copies)
		no_plain = true;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'i': o.images = optarg; break;
		case 'c': o.csv = optarg; break;
		case 'o': o.only = optarg; break;
		case 'q': o.quick = true; break;
		case 's': o.spin_dir = optarg; break;
		case 'P': no_plain = true; break;
		case 'C': control = true; break;
		case 'n':
			if (strcmp(optarg, "sample") == 0) {
				notify_mode = PAELLA__NOTIFY_SAMPLE;
			} else if (strcmp(optarg, "count") == 0) {
				notify_mode = PAELLA__NOTIFY_COUNT;
			} else {
				fprintf(stderr, "overhead: --notify is sample or count (got '%s')\n",
					optarg);
				return 2;
			}
			break;
		case 'r':
			o.runs = atoi(optarg);
			if (o.runs < 30) {
				fprintf(stderr, "overhead: --runs must be at least 30 (got '%s')\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "overhead: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	CUdevice dev;
	char name[128];
	int l2 = 0, sms = 0;
	if (!bench_open_gpu(&dev, name, sizeof(name)))
		return 77;
	CHECK(cuDeviceGetAttribute(&l2, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, dev));
	CHECK(cuDeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev));
	/* As the runtime's streams: with tail markers, the kernels' at the
	 * highest priority, the markers' at the lowest. */
	int least = 0, greatest = 0;
	CHECK(cuCtxGetStreamPriorityRange(&least, &greatest));
	if (!control && !no_plain && notify_mode == PAELLA__NOTIFY_SAMPLE &&
	    bench_config.progress == PAELLA_PROGRESS_MARKERS && bench_config.plain_copies &&
	    least != greatest) {
		CHECK(cuStreamCreateWithPriority(&stream, CU_STREAM_NON_BLOCKING, greatest));
		CHECK(cuStreamCreateWithPriority(&marker_stream, CU_STREAM_NON_BLOCKING, least));
	} else {
		CHECK(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
	}
	CUmodule mspin = bench_load_image(o.spin_dir, "spin.noinst");
	CHECK(cuModuleGetFunction(&spin_fn, mspin, "spin_ns"));

	struct paella__launcher *lc;
	if (paella__launcher_create(cu, &lc) != PAELLA_STATUS_OK) {
		fprintf(stderr, "overhead: %s\n", paella__error_last());
		return 1;
	}

	struct bcase cs[32];
	int n = 0;
	add_vector_add(cs, &n, 256); /* one block */
	for (int e = 16; e <= 26; e += o.quick ? 10 : 2)
		add_vector_add(cs, &n, 1ull << e);
	for (int m = 512; m <= 4096; m *= o.quick ? 8 : 2)
		add_sgemm(cs, &n, m);
	add_case(cs, &n, "reduction", "reduce_sum", "reduce_sum n=2^24", 16384, 1, 1, 256, 1, 1,
		 (size_t)4 << 24, 16384 * 4);
	cs[n - 1].layout = "BBL";
	cs[n - 1].scalars[0] = 1ull << 24;
	add_case(cs, &n, "stencil3d", "stencil3d", "stencil3d 256^3", 8, 64, 128, 32, 4, 2,
		 (size_t)4 << 24, (size_t)4 << 24);
	cs[n - 1].layout = "BBiii";
	cs[n - 1].scalars[0] = cs[n - 1].scalars[1] = cs[n - 1].scalars[2] = 256;

	printf("overhead: %s, %d SMs, L2 %d MiB; %d timed launches of each build per case\n",
	       name, sms, l2 >> 20, o.runs);
	struct result res[32];
	int nres = 0;
	for (int i = 0; i < n; i++) {
		struct bcase *c = &cs[i];
		if (o.only && !strstr(c->label, o.only))
			continue;
		fprintf(stderr, "[%d/%d] %s ...\n", i + 1, n, c->label);
		alloc_case(c, (size_t)l2);
		char base_name[64];
		snprintf(base_name, sizeof(base_name), "%s.noinst", c->image);
		CUmodule mbase = bench_load_image(o.images, base_name);
		char inst_name[64];
		snprintf(inst_name, sizeof(inst_name), "%s%s", c->image,
			 control ? ".noinst" : notify_mode == PAELLA__NOTIFY_COUNT ? ".count" : "");
		CUmodule minst = bench_load_image(o.images, inst_name);
		run_case(c, mbase, minst, lc, o.runs, &res[nres++]);
		cu->cuModuleUnload(mbase);
		cu->cuModuleUnload(minst);
		free_case(c);
	}

	FILE *csv = NULL;
	if (o.csv) {
		csv = fopen(o.csv, "w");
		if (!csv) {
			fprintf(stderr, "overhead: cannot write %s: %s\n", o.csv, strerror(errno));
			return 1;
		}
		fprintf(csv, "case,kernel,blocks,plain_us,instrumented_us,ratio,ratio_p25,ratio_p75,identical,launched,ratio_inst_first,ratio_inst_second\n");
	}
	printf("\n%-22s %9s %11s %11s %8s %17s %9s  %s\n", "case", "blocks", "plain us", "instr us",
	       "ratio", "ratio p25..p75", "identical", "launched");
	double logsum = 0;
	bool all_same = true;
	for (int i = 0; i < nres; i++) {
		struct result *r = &res[i];
		const char *launched = r->marked ? "plain + marker"
				       : r->plain_copy ? "plain copy" : "instrumented";

		printf("%-22s %9llu %11.2f %11.2f %8.4f %8.4f..%-8.4f %9s  %s\n", r->label,
		       (unsigned long long)r->blocks, r->t_base_us, r->t_inst_us, r->ratio, r->ratio_lo,
		       r->ratio_hi, r->identical ? "yes" : "NO", launched);
		if (csv)
			fprintf(csv, "%s,%s,%llu,%.3f,%.3f,%.5f,%.5f,%.5f,%s,%s,%.5f,%.5f\n", r->label,
				r->func, (unsigned long long)r->blocks, r->t_base_us, r->t_inst_us,
				r->ratio, r->ratio_lo, r->ratio_hi, r->identical ? "yes" : "no", launched,
				r->ratio_inst_first, r->ratio_inst_second);
		logsum += log(r->ratio);
		all_same &= r->identical;
	}
	double geo = nres ? exp(logsum / nres) : 1.0;
	printf("\ngeometric mean ratio over %d cases (%s): %.4f (%+.2f%%)\n", nres,
	       control ? "control: plain build against itself"
	       : notify_mode == PAELLA__NOTIFY_COUNT ? "count mode" : "sample mode",
	       geo, (geo - 1) * 100);
	if (csv)
		fclose(csv);
	paella__launcher_destroy(lc);
	cu->cuStreamDestroy(stream);
	if (marker_stream != NULL)
		cu->cuStreamDestroy(marker_stream);
	cu->cuDevicePrimaryCtxRelease(dev);
	paella__cu_close(cu);
	return all_same ? 0 : 1;
}
