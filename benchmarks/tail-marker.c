/*
 * tail-marker - can the GPU's own block scheduler tell the CPU that a
 * kernel has dispatched its last block, with no code in the kernel?
 *
 * The question behind it: a per-block report costs every block a test
 * (overhead.md measures about 1% on a memory-bound vector add even when the
 * test does nothing but diverge), while what the dispatcher needs from a
 * kernel of many waves is one moment: when its remaining blocks fit in
 * less than a wave, which is when its last block has been dispatched.  A
 * one-block "marker" kernel on a lower-priority stream, with the big
 * kernel's block shape and shared memory, can only be placed where one of
 * the kernel's blocks would fit once the kernel has none left to place; it
 * writes the time it started and a word in host memory.
 *
 * For each case, in one process, in turn: the big kernel alone (a vector add
 * whose blocks stamp their start and end with %globaltimer: the ground
 * truth), and with the marker put behind it three ways.  "Gated": the host
 * queues both behind a hold, and the marker's stream waits for an event
 * recorded just before the kernel (what a dispatcher must do when the kernel
 * is queued behind others on its stream).  "Gated + 2 us": the same with a
 * one-warp 2 us wait on the marker's stream before the marker.  "Launched
 * after": no hold and no event; the host launches the marker right after
 * the kernel (enough when the kernel's stream was idle).  Reported:
 *   gap      marker start - the kernel's last block start (ns; < 0 means
 *            the marker ran before the kernel had placed all its blocks)
 *   lead     kernel end (last block done) - marker start, on the GPU (us)
 *   cpu lead how much earlier the CPU saw the marker's word than a stream
 *            write-value after the kernel (us): the dispatcher's warning
 *   slowdown the kernel's time (first block start to last block end) with
 *            the marker / alone
 * Prints a table last; --csv writes it.  Exit 77 when there is no GPU.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-util.h"

struct paella__cu *cu;
const char *bench_name = "tail-marker";

struct tcase {
	unsigned log2n;
	unsigned smem; /* dynamic shared memory per block, bytes */
};

static const struct tcase cases[] = {
	{20, 0}, {22, 0}, {24, 0}, {26, 0}, {22, 40 << 10}, {24, 40 << 10},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))
#define THREADS 256

struct row {
	char label[48];
	unsigned blocks, per_sm;
	double waves, kernel_us;
	double gap_p50, gap_p1, gap_p99; /* ns */
	int early, runs;
	double lead_p50, lead_p1;         /* us, GPU */
	double cpu_lead_p50, cpu_lead_p1; /* us */
	double slowdown;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: tail-marker [--images DIR] [--runs N] [--csv FILE]\n"
		"\n"
		"Whether a one-block kernel on a lower-priority stream, shaped like a big\n"
		"kernel's blocks, starts when that kernel has dispatched its last block.\n"
		"\n"
		"  --images DIR   where tail_marker.noinst.cubin and spin.noinst.cubin are\n"
		"                 (default build/benchmarks)\n"
		"  --runs N       measured launches per case (default 200, at least 30)\n"
		"  --csv FILE     write the table as CSV\n"
		"  --help         this text\n");
}

static volatile uint32_t *
host_word(CUdeviceptr *dev)
{
	void *p;
	CHECK(cuMemHostAlloc(&p, 64, CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_PORTABLE));
	memset(p, 0, 64);
	CHECK(cuMemHostGetDevicePointer(dev, p, 0));
	return (volatile uint32_t *)p;
}

/* How the marker is put behind the kernel (see the header). */
enum mode { ALONE, GATED, DELAYED, HOST_ORDER, NMODES };
static const char *const mode_name[NMODES] = {"alone", "marker gated", "marker gated + 2 us",
					       "marker launched after"};

static void
run_case(const struct tcase *tc, CUfunction add, CUfunction marker, CUfunction spin, CUstream hi,
	 CUstream lo, int sms, int runs, struct row r[NMODES])
{
	unsigned long long n = 1ull << tc->log2n;
	unsigned blocks = (unsigned)(n / THREADS);
	CUdeviceptr a, b, c, stamps, dev_time, mword, dword;
	volatile uint32_t *mw = host_word(&mword), *dw = host_word(&dword);
	uint64_t *st = malloc(2 * sizeof(uint64_t) * blocks);
	double *gap[NMODES], *lead[NMODES], *cpu_lead[NMODES], *dur[NMODES];
	int early[NMODES] = {0}, count[NMODES] = {0};
	CUevent e_ready;
	int per_sm = 0;

	for (int m = 0; m < NMODES; m++) {
		gap[m] = calloc(runs, sizeof(double));
		lead[m] = calloc(runs, sizeof(double));
		cpu_lead[m] = calloc(runs, sizeof(double));
		dur[m] = calloc(runs, sizeof(double));
	}
	CHECK(cuOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, add, THREADS, tc->smem));
	CHECK(cuMemAlloc(&a, n * 4));
	CHECK(cuMemAlloc(&b, n * 4));
	CHECK(cuMemAlloc(&c, n * 4));
	CHECK(cuMemAlloc(&stamps, 2 * sizeof(uint64_t) * blocks));
	CHECK(cuMemAlloc(&dev_time, sizeof(uint64_t)));
	CHECK(cuMemsetD32(a, 0x3f800000u, n)); /* 1.0f */
	CHECK(cuMemsetD32(b, 0x40000000u, n)); /* 2.0f */
	CHECK(cuEventCreate(&e_ready, CU_EVENT_DISABLE_TIMING));
	CHECK(cuCtxSynchronize());

	void *add_params[] = {&a, &b, &c, &n, &stamps};
	/* The modes in turn, the first round a warm-up. */
	for (int i = 0; i < NMODES * (runs + 1); i++) {
		enum mode m = (enum mode)(i % NMODES);
		int k = i / NMODES - 1;
		uint32_t seq = (uint32_t)i + 1;
		unsigned long long hold = 20000, delay = 2000; /* ns */
		void *hold_params[] = {&hold}, *delay_params[] = {&delay};
		void *marker_params[] = {&dev_time, &mword, &seq};

		/* The host queues everything behind a hold; the marker's stream
		 * waits for the kernel's stream to reach the kernel. */
		if (m != HOST_ORDER)
			CHECK(cuLaunchKernel(spin, 1, 1, 1, 32, 1, 1, 0, hi, hold_params, NULL));
		CHECK(cuEventRecord(e_ready, hi));
		CHECK(cuLaunchKernel(add, blocks, 1, 1, THREADS, 1, 1, tc->smem, hi, add_params, NULL));
		CHECK(cuStreamWriteValue32(hi, dword, seq, CU_STREAM_WRITE_VALUE_DEFAULT));
		if (m == HOST_ORDER) {
			CHECK(cuLaunchKernel(marker, 1, 1, 1, THREADS, 1, 1, tc->smem, lo,
					     marker_params, NULL));
		} else if (m != ALONE) {
			CHECK(cuStreamWaitEvent(lo, e_ready, 0));
			if (m == DELAYED)
				CHECK(cuLaunchKernel(spin, 1, 1, 1, 32, 1, 1, 0, lo, delay_params, NULL));
			CHECK(cuLaunchKernel(marker, 1, 1, 1, THREADS, 1, 1, tc->smem, lo,
					     marker_params, NULL));
		}
		double t_marker = 0, t_done = 0;
		bool seen_marker = m == ALONE, seen_done = false;
		double t_give_up = bench_now_us() + 5e6;
		while (!seen_marker || !seen_done) {
			if (bench_now_us() > t_give_up) {
				fprintf(stderr, "tail-marker: %s not seen after 5 s (case 2^%u, run %d)\n",
					seen_done ? "the marker's word" : "the kernel's completion",
					tc->log2n, i);
				exit(1);
			}
			if (!seen_marker && mw[0] == seq) {
				t_marker = bench_now_us();
				seen_marker = true;
			}
			if (!seen_done && dw[0] == seq) {
				t_done = bench_now_us();
				seen_done = true;
			}
		}
		CHECK(cuStreamSynchronize(hi));
		CHECK(cuStreamSynchronize(lo));
		if (k < 0)
			continue;
		uint64_t mt = 0, first = UINT64_MAX, last = 0, end = 0;
		CHECK(cuMemcpyDtoH(st, stamps, 2 * sizeof(uint64_t) * blocks));
		CHECK(cuMemcpyDtoH(&mt, dev_time, sizeof(mt)));
		for (unsigned blk = 0; blk < blocks; blk++) {
			if (st[2 * blk] < first)
				first = st[2 * blk];
			if (st[2 * blk] > last)
				last = st[2 * blk];
			if (st[2 * blk + 1] > end)
				end = st[2 * blk + 1];
		}
		dur[m][k] = (double)(end - first) / 1000.0;
		if (m != ALONE) {
			gap[m][count[m]] = (double)(int64_t)(mt - last);
			lead[m][count[m]] = (double)(int64_t)(end - mt) / 1000.0;
			cpu_lead[m][count[m]] = t_done - t_marker;
			count[m]++;
			early[m] += mt < last;
		}
	}

	double alone_us = bench_quantile(dur[ALONE], runs, 0.5);
	for (int m = 0; m < NMODES; m++) {
		struct row *x = &r[m];

		snprintf(x->label, sizeof(x->label), "2^%u%s, %s", tc->log2n,
			 tc->smem ? " (40 KiB smem)" : "", mode_name[m]);
		x->blocks = blocks;
		x->per_sm = (unsigned)per_sm;
		x->waves = (double)blocks / ((double)per_sm * sms);
		x->runs = runs;
		x->early = early[m];
		x->kernel_us = bench_quantile(dur[m], runs, 0.5);
		x->slowdown = x->kernel_us / alone_us;
		if (m == ALONE) {
			x->gap_p1 = x->gap_p50 = x->gap_p99 = 0;
			x->lead_p1 = x->lead_p50 = x->cpu_lead_p1 = x->cpu_lead_p50 = 0;
		} else {
			x->gap_p1 = bench_quantile(gap[m], runs, 0.01);
			x->gap_p50 = bench_quantile(gap[m], runs, 0.5);
			x->gap_p99 = bench_quantile(gap[m], runs, 0.99);
			x->lead_p1 = bench_quantile(lead[m], runs, 0.01);
			x->lead_p50 = bench_quantile(lead[m], runs, 0.5);
			x->cpu_lead_p1 = bench_quantile(cpu_lead[m], runs, 0.01);
			x->cpu_lead_p50 = bench_quantile(cpu_lead[m], runs, 0.5);
		}
		free(gap[m]);
		free(lead[m]);
		free(cpu_lead[m]);
		free(dur[m]);
	}

	cu->cuEventDestroy(e_ready);
	cu->cuMemFree(a);
	cu->cuMemFree(b);
	cu->cuMemFree(c);
	cu->cuMemFree(stamps);
	cu->cuMemFree(dev_time);
	cu->cuMemFreeHost((void *)mw);
	cu->cuMemFreeHost((void *)dw);
	free(st);
}

int
main(int argc, char **argv)
{
	struct bench_args o = {.images = "build/benchmarks", .runs = 200};
	int rc = bench_parse_args(argc, argv, &o, 30, usage);
	if (rc >= 0)
		return rc;
	CUdevice dev;
	char name[128];
	int sms = 0, least = 0, greatest = 0;
	if (!bench_open_gpu(&dev, name, sizeof(name)))
		return 77;
	if (cu->cuStreamWaitEvent == NULL) {
		fprintf(stderr, "tail-marker: this driver has no cuStreamWaitEvent\n");
		return 1;
	}
	CHECK(cuDeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev));
	CHECK(cuCtxGetStreamPriorityRange(&least, &greatest));
	CUstream hi, lo;
	CHECK(cuStreamCreateWithPriority(&hi, CU_STREAM_NON_BLOCKING, greatest));
	CHECK(cuStreamCreateWithPriority(&lo, CU_STREAM_NON_BLOCKING, least));
	CUmodule mk = bench_load_image(o.images, "tail_marker.noinst");
	CUmodule ms = bench_load_image(o.images, "spin.noinst");
	CUfunction add, marker, spin;
	CHECK(cuModuleGetFunction(&add, mk, "stamped_add"));
	CHECK(cuModuleGetFunction(&marker, mk, "tail_marker"));
	CHECK(cuModuleGetFunction(&spin, ms, "spin_ns"));
	printf("%s, %d SMs; kernel stream priority %d, marker stream %d; %d runs per case\n", name,
	       sms, greatest, least, o.runs);

	struct row rows[NCASES * NMODES];
	for (size_t i = 0; i < NCASES; i++) {
		fprintf(stderr, "[%zu/%zu] 2^%u elements%s\n", i + 1, NCASES, cases[i].log2n,
			cases[i].smem ? ", 40 KiB shared memory" : "");
		run_case(&cases[i], add, marker, spin, hi, lo, sms, o.runs, &rows[i * NMODES]);
	}

	FILE *csv = NULL;
	if (o.csv && (csv = fopen(o.csv, "w")) == NULL) {
		fprintf(stderr, "tail-marker: cannot write %s: %s\n", o.csv, strerror(errno));
		return 1;
	}
	if (csv)
		fprintf(csv, "case,blocks,blocks_per_sm,waves,kernel_us,gap_ns_p1,gap_ns_p50,"
			     "gap_ns_p99,early,runs,lead_us_p1,lead_us_p50,cpu_lead_us_p1,"
			     "cpu_lead_us_p50,slowdown\n");
	printf("\n%-36s %7s %6s %9s %18s %6s %14s %14s %9s\n", "case", "blocks", "waves",
	       "kernel us", "gap ns p1/p50/p99", "early", "lead us p1/p50", "cpu lead p1/p50",
	       "slowdown");
	for (size_t i = 0; i < NCASES * NMODES; i++) {
		struct row *r = &rows[i];
		printf("%-36s %7u %6.1f %9.1f %6.0f/%5.0f/%5.0f %3d/%-3d %6.2f/%-7.2f %6.2f/%-7.2f %9.4f\n",
		       r->label, r->blocks, r->waves, r->kernel_us, r->gap_p1, r->gap_p50, r->gap_p99,
		       r->early, r->runs, r->lead_p1, r->lead_p50, r->cpu_lead_p1, r->cpu_lead_p50,
		       r->slowdown);
		if (csv)
			fprintf(csv, "%s,%u,%u,%.2f,%.2f,%.0f,%.0f,%.0f,%d,%d,%.3f,%.3f,%.3f,%.3f,%.5f\n",
				r->label, r->blocks, r->per_sm, r->waves, r->kernel_us, r->gap_p1,
				r->gap_p50, r->gap_p99, r->early, r->runs, r->lead_p1, r->lead_p50,
				r->cpu_lead_p1, r->cpu_lead_p50, r->slowdown);
	}
	if (csv)
		fclose(csv);
	return 0;
}
