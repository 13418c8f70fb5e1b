/*
 * notify-latency - how long after a grid's last block ends does the CPU know
 * the grid is complete?
 *
 * Reference: each block of benchmarks/latency_probe.cu stores a word into
 * host-mapped memory as its last act; a CPU thread polling those words sees
 * the last block's store one PCIe one-way latency after it was made.  That
 * one-way latency is measured in the same run by a ping-pong kernel (round
 * trip / 2).  So for every signal:
 *
 *   latency after the last block ends = (CPU time the signal is seen
 *                                        - CPU time the last store is seen)
 *                                       + one-way latency
 *
 * Signals compared, each on its own launches of the same probe:
 *   posts        the count-mode build's posts reach the grid size (no
 *                write-value enqueued, so the posts alone decide)
 *   count+wv     the count-mode build, posts or write-value, first seen
 *   write-value  cuStreamWriteValue32 after the kernel into host memory
 *                (uninstrumented build, completion-only record)
 *   wv-nobarrier the same with CU_STREAM_WRITE_VALUE_NO_MEMORY_BARRIER
 *   paella       what the runtime does after a kernel of 20 us or more that
 *                something in its stream follows (a kernel, an output copy):
 *                the sample-mode build and the runtime's completion kernel
 *                (paella__notify_enqueue_kernel_completion: launched with
 *                programmatic stream serialization, griddepcontrol.wait,
 *                then a relaxed store of the word: a scheduling hint)
 *   paella-end   the same for the kernel that ends a job: the completion
 *                kernel's store is a release at system scope, so the
 *                kernel's writes are visible to the CPU before the word
 *   query        cuStreamQuery polled in a loop
 *   event-sync   cuEventSynchronize in a second thread
 *   pdl          the plain build and the completion kernel of paella-end
 *                (pdl-trigger: the probe's blocks also let it launch early)
 * The completion kernel must run here (sm_90, cuLaunchKernelEx, and not
 * PAELLA_COMPLETION=write-value): exit 1 otherwise.
 * Where the last block by id is not the last to end (the probe's blocks did
 * not all start together), the reference is corrected by the difference,
 * read from the blocks' end times on the GPU's timer.
 *
 * Prints p50 and p99 per signal and grid; --csv writes the samples' summary.
 * Exit 77 when there is no GPU.
 */
#include <errno.h>
#include <math.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench-util.h"
#include "launch.h"
#include "notify.h"

#define MAX_BLOCKS 4096

struct paella__cu *cu;
const char *bench_name = "notify-latency";
static CUstream stream;

/* Host-mapped words the probe writes. */
static volatile unsigned *done_h;
static CUdeviceptr done_d;
/* Device memory: each block's end on the GPU's global timer (ns). */
static CUdeviceptr ends_d;
static unsigned long long ends_h[MAX_BLOCKS];
/* Launches whose last block by id ended before another block did, by more
 * than 100 ns: their latency is corrected by the difference. */
static int late_blocks;

/* Blocks finish in id order (the probe staggers them), so the last block's
 * word is the reference; every word is checked once the launch is over. */
#define STAGGER_NS 100ull

enum signal {
	SIG_POSTS,
	SIG_COUNT_WV,
	SIG_WRITE_VALUE,
	SIG_WV_NOBARRIER,
	SIG_PAELLA,
	SIG_QUERY,
	SIG_EVENT,
	SIG_PDL,
	SIG_PDL_TRIGGER,
	SIG_PAELLA_END,
	SIG_COUNT
};
static const char *signal_names[] = {"posts",  "count+wv", "write-value", "wv-nobarrier",
				     "paella", "query",    "event-sync",  "pdl",
				     "pdl-trigger", "paella-end"};

/* The probe's three builds. */
struct probes {
	CUfunction sample, count, plain;
};

struct event_wait {
	CUevent ev;
	double t;
	CUcontext ctx;
};

static void *
event_waiter(void *arg)
{
	struct event_wait *w = arg;
	cu->cuCtxSetCurrent(w->ctx);
	cu->cuEventSynchronize(w->ev);
	w->t = bench_now_us();
	return NULL;
}

/* One launch of the probe with one signal; returns signal seen - last store
 * seen, in microseconds. */
static double
measure_once(enum signal sig, const struct probes *pr, unsigned nblocks,
	     unsigned long long spin_ns, unsigned seq, struct paella__launcher *launcher,
	     CUcontext ctx)
{
	struct paella__notify_record *rec = NULL;
	enum paella__notify_mode mode = PAELLA__NOTIFY_NONE;
	unsigned long long stagger_ns = STAGGER_NS;
	unsigned trigger = sig == SIG_PDL_TRIGGER;
	void *params[7] = {&done_d, &seq, &spin_ns, &stagger_ns, &ends_d, &trigger, NULL};
	uint64_t wave = 0;
	CUfunction f = pr->plain;

	if (sig == SIG_POSTS || sig == SIG_COUNT_WV) {
		mode = PAELLA__NOTIFY_COUNT;
		f = pr->count;
	} else if (sig == SIG_PAELLA || sig == SIG_PAELLA_END) {
		/* As the runtime would: a wave of 128-thread blocks, asked of
		 * the driver once (a model asks at finalize). */
		static uint64_t probe_wave;

		mode = PAELLA__NOTIFY_SAMPLE;
		f = pr->sample;
		if (probe_wave == 0)
			probe_wave = paella__notify_wave_blocks(cu, f, 128, 0);
		wave = probe_wave;
	}
	struct paella__launch l = {
		.fn = f, .mode = mode, .code = PAELLA__CODE_BUILT,
		.grid = {nblocks, 1, 1}, .block = {128, 1, 1},
		.params = params, .nparams = 6, .wave_blocks = wave,
		/* The stream or an event says when it ends: no record. */
		.untracked = sig == SIG_QUERY || sig == SIG_EVENT,
		/* Posts alone, or the write below. */
		.signal = PAELLA__SIGNAL_NONE,
	};
	if (sig == SIG_COUNT_WV || sig == SIG_WRITE_VALUE)
		l.signal = PAELLA__SIGNAL_WRITE_VALUE;
	/* The runtime's completion kernel (main() checked that it runs here). */
	if (sig == SIG_PAELLA || sig == SIG_PAELLA_END || sig == SIG_PDL || sig == SIG_PDL_TRIGGER)
		l.signal = sig == SIG_PAELLA ? PAELLA__SIGNAL_KERNEL_HINT : PAELLA__SIGNAL_KERNEL;
	if (paella__launch(launcher, &l, stream, &rec) != PAELLA_STATUS_OK) {
		fprintf(stderr, "notify-latency: %s\n", paella__error_last());
		exit(1);
	}
	if (sig == SIG_WV_NOBARRIER) {
		struct paella__notify_store done = paella__notify_done_store(rec);
		CUresult rc = cu->cuStreamWriteValue32(stream, done.word, done.seq,
						       CU_STREAM_WRITE_VALUE_NO_MEMORY_BARRIER);

		if (rc != CUDA_SUCCESS) {
			/* Not every platform takes the flag: reported as missed. */
			static bool told;

			if (!told)
				fprintf(stderr, "notify-latency: the write-value without a memory "
					"barrier is refused here (%s)\n", paella__cu_error_name(cu, rc));
			told = true;
			CHECK(cuStreamSynchronize(stream));
			paella__notify_set_done(rec);
			paella__notify_release(rec);
			return NAN;
		}
	}
	/* The reference: the last block's store. */
	unsigned ref_block = nblocks - 1;

	struct event_wait w = {.ctx = ctx};
	pthread_t th;
	if (sig == SIG_EVENT) {
		CHECK(cuEventCreate(&w.ev, CU_EVENT_BLOCKING_SYNC));
		CHECK(cuEventRecord(w.ev, stream));
		pthread_create(&th, NULL, event_waiter, &w);
	}

	double t_ref = 0, t_sig = 0;
	bool timed_out = false;
	while (t_ref == 0 || (t_sig == 0 && sig != SIG_EVENT)) {
		/* Posts alone can stop short of the grid (a shard's last poster is
		 * not always its last block to finish): give up after 2 ms. */
		if (t_ref != 0 && bench_now_us() - t_ref > 2000.0) {
			timed_out = true;
			break;
		}
		if (t_ref == 0 && done_h[ref_block] == seq)
			t_ref = bench_now_us();
		if (t_sig == 0) {
			bool got = false;
			switch (sig) {
			case SIG_POSTS:
			case SIG_COUNT_WV:
			case SIG_WRITE_VALUE:
			case SIG_WV_NOBARRIER:
			case SIG_PAELLA:
			case SIG_PAELLA_END:
			case SIG_PDL:
			case SIG_PDL_TRIGGER:
				got = paella__notify_done(rec);
				break;
			case SIG_QUERY:
				got = cu->cuStreamQuery(stream) == CUDA_SUCCESS;
				break;
			default:
				break;
			}
			if (got)
				t_sig = bench_now_us();
		}
	}
	if (sig == SIG_EVENT) {
		pthread_join(th, NULL);
		t_sig = w.t;
		cu->cuEventDestroy(w.ev);
	}
	CHECK(cuStreamSynchronize(stream));
	for (unsigned b = 0; b < nblocks; b++)
		if (done_h[b] != seq) {
			fprintf(stderr, "notify-latency: block %u of %u never wrote its word\n", b, nblocks);
			exit(1);
		}
	if (rec) {
		if (!paella__notify_done(rec))
			paella__notify_set_done(rec); /* posts stale; stream is synchronized */
		paella__notify_release(rec);
	}
	/* The grid ends with its last block to end, which is block
	 * nblocks - 1 when the blocks all started together; when they did not,
	 * the reference store came that much before the grid's end. */
	unsigned long long last = 0;

	CHECK(cuMemcpyDtoH(ends_h, ends_d, nblocks * sizeof(ends_h[0])));
	for (unsigned b = 0; b < nblocks; b++)
		if (ends_h[b] > last)
			last = ends_h[b];
	double late_us = (double)(last - ends_h[nblocks - 1]) / 1000.0;
	if (late_us > 0.1)
		late_blocks++;
	/* May be negative: the signal can be seen before the CPU notices the
	 * reference store, when both arrive within one poll of each other. */
	return timed_out ? NAN : t_sig - t_ref - late_us;
}

static double
measure_one_way(CUfunction pp, int rounds, double *p99)
{
	volatile unsigned *ping, *pong;
	void *mem;
	CUdeviceptr ping_d, pong_d;
	CHECK(cuMemHostAlloc(&mem, 256, CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_PORTABLE));
	memset(mem, 0, 256);
	ping = mem;
	pong = (volatile unsigned *)((char *)mem + 128);
	CHECK(cuMemHostGetDevicePointer(&ping_d, (void *)ping, 0));
	CHECK(cuMemHostGetDevicePointer(&pong_d, (void *)pong, 0));
	unsigned r = (unsigned)rounds;
	void *params[] = {&ping_d, &pong_d, &r};
	CHECK(cuLaunchKernel(pp, 1, 1, 1, 1, 1, 1, 0, stream, params, NULL));
	double *half = calloc(rounds, sizeof(double));
	for (unsigned i = 1; i <= r; i++) {
		double t0 = bench_now_us();
		__atomic_store_n(ping, i, __ATOMIC_RELEASE);
		while (__atomic_load_n(pong, __ATOMIC_ACQUIRE) != i)
			;
		half[i - 1] = (bench_now_us() - t0) / 2;
	}
	CHECK(cuStreamSynchronize(stream));
	/* The first rounds include the kernel's start. */
	double p50 = bench_quantile(half + 10, rounds - 10, 0.5);
	*p99 = bench_quantile(half + 10, rounds - 10, 0.99);
	free(half);
	cu->cuMemFreeHost(mem);
	return p50;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: notify-latency [--images DIR] [--runs N] [--csv FILE]\n"
		"\n"
		"How long after a grid's last block ends the CPU sees its completion: through\n"
		"Paella's progress posts, its stream write-value, cuStreamQuery polling and\n"
		"cuEventSynchronize, each measured against the last block's own store to host\n"
		"memory plus the one-way latency measured by a ping-pong in the same run.\n"
		"\n"
		"  --images DIR  where latency_probe{,.count,.noinst}.cubin are\n"
		"                (default: build/benchmarks)\n"
		"  --runs N      launches per signal and grid (default 300, at least 50)\n"
		"  --csv FILE    also write the summary as CSV\n");
}

int
main(int argc, char **argv)
{
	struct bench_args args = {.images = "build/benchmarks", .runs = 300};
	int status = bench_parse_args(argc, argv, &args, 50, usage);
	if (status >= 0)
		return status;
	const char *images = args.images, *csv_path = args.csv;
	int runs = args.runs;

	CUdevice dev;
	char name[128];
	if (!bench_open_gpu(&dev, name, sizeof(name)))
		return 77;
	CUcontext ctx; /* the waiting thread makes it current too */
	CHECK(cuCtxGetCurrent(&ctx));
	CHECK(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));

	CUmodule minst = bench_load_image(images, "latency_probe");
	CUmodule mcount = bench_load_image(images, "latency_probe.count");
	CUmodule mplain = bench_load_image(images, "latency_probe.noinst");
	CUfunction pp;
	struct probes pr;
	CHECK(cuModuleGetFunction(&pr.sample, minst, "latency_probe"));
	CHECK(cuModuleGetFunction(&pr.count, mcount, "latency_probe"));
	CHECK(cuModuleGetFunction(&pr.plain, mplain, "latency_probe"));
	CHECK(cuModuleGetFunction(&pp, mplain, "ping_pong"));

	void *done_mem;
	CHECK(cuMemHostAlloc(&done_mem, MAX_BLOCKS * sizeof(unsigned),
			     CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_PORTABLE));
	memset(done_mem, 0, MAX_BLOCKS * sizeof(unsigned));
	done_h = done_mem;
	CHECK(cuMemAlloc(&ends_d, MAX_BLOCKS * sizeof(ends_h[0])));
	CHECK(cuMemHostGetDevicePointer(&done_d, done_mem, 0));

	struct paella__launcher *launcher;
	if (paella__launcher_create(cu, &launcher) != PAELLA_STATUS_OK) {
		fprintf(stderr, "notify-latency: %s\n", paella__error_last());
		return 1;
	}

	double ow99;
	double ow = measure_one_way(pp, 2000, &ow99);
	printf("notify-latency: %s; one-way GPU store -> polling CPU: p50 %.2f us, p99 %.2f us\n", name,
	       ow, ow99);
	/* The pdl rows and the paella row measure the runtime's completion
	 * kernel: without it they would measure the write-value under its name. */
	if (paella__completion_kind(paella__launcher_completion(launcher)) !=
	    PAELLA__COMPLETION_KERNEL) {
		fprintf(stderr, "notify-latency: the runtime's completion kernel does not run here "
			"(sm_90 and cuLaunchKernelEx needed, PAELLA_COMPLETION not write-value)\n");
		return 1;
	}
	printf("the runtime's completion after a kernel here: completion kernel (programmatic "
	       "stream serialization)\n");

	static const unsigned grids[] = {1, 132, 1056};
	const unsigned long long spin_ns = 20000;
	double *d = calloc(runs, sizeof(double));
	FILE *csv = NULL;
	if (csv_path) {
		csv = fopen(csv_path, "w");
		if (!csv) {
			fprintf(stderr, "notify-latency: cannot write %s: %s\n", csv_path, strerror(errno));
			return 1;
		}
		fprintf(csv, "signal,blocks,runs,missed,after_last_block_p50_us,after_last_block_p99_us,one_way_p50_us\n");
	}
	printf("\n%-12s %7s %22s %22s\n", "signal", "blocks", "after last block p50", "p99 (us)");
	unsigned seq = 1;
	for (unsigned g = 0; g < sizeof(grids) / sizeof(grids[0]); g++) {
		for (int s = 0; s < SIG_COUNT; s++) {
			fprintf(stderr, "[%s, %u blocks] ...\n", signal_names[s], grids[g]);
			for (int i = 0; i < 5; i++) /* warm-up */
				measure_once(s, &pr, grids[g], spin_ns, ++seq, launcher, ctx);
			int n = 0, missed = 0;
			late_blocks = 0;
			for (int i = 0; i < runs; i++) {
				double x = measure_once(s, &pr, grids[g], spin_ns, ++seq, launcher, ctx);
				if (isnan(x))
					missed++;
				else
					d[n++] = x + ow;
			}
			double p50 = n ? bench_quantile(d, n, 0.5) : -1, p99 = n ? bench_quantile(d, n, 0.99) : -1;
			printf("%-12s %7u %22.2f %22.2f", signal_names[s], grids[g], p50, p99);
			if (missed)
				printf("   (%d of %d launches never seen complete by this signal alone)", missed,
				       runs);
			if (late_blocks)
				printf("   (%d launches had a block end after the last by id: corrected)",
				       late_blocks);
			printf("\n");
			if (csv)
				fprintf(csv, "%s,%u,%d,%d,%.3f,%.3f,%.3f\n", signal_names[s], grids[g], runs,
					missed, p50, p99, ow);
		}
	}
	if (csv)
		fclose(csv);
	free(d);
	paella__launcher_destroy(launcher);
	cu->cuMemFreeHost(done_mem);
	cu->cuStreamDestroy(stream);
	cu->cuDevicePrimaryCtxRelease(dev);
	paella__cu_close(cu);
	return 0;
}
