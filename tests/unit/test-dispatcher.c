/*
 * test-dispatcher.c - the dispatcher and its policies on the simulated GPU,
 * in manual mode so that every run is deterministic: which job runs first,
 * how long a job can be made to wait, deadlines, how full the hardware
 * queue gets, and that every job completes exactly once.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "backend-sim.h"
#include "dispatcher.h"
#include "runtime-state.h"
#include "sim-fixture.h"
#include "../check-main.h"

/* ---- a record of the dispatcher's decisions ------------------------------- */

#define MAX_TRACE 20000

struct trace_log {
	unsigned n;
	struct paella__trace_launch e[MAX_TRACE];
};

static void
record(void *data, const struct paella__trace_launch *l)
{
	struct trace_log *log = data;

	ck_assert_uint_lt(log->n, MAX_TRACE);
	log->e[log->n++] = *l;
}

static struct trace_log *
trace(struct paella_runtime *rt)
{
	struct trace_log *log = calloc(1, sizeof(*log));

	ck_assert_ptr_nonnull(log);
	paella__dispatcher_set_trace(rt->dispatcher, record, log);
	return log;
}

static void
run_idle(struct paella_runtime *rt)
{
	ck_assert_int_eq(paella_runtime_run_until_idle(rt), PAELLA_STATUS_OK);
}

static void
check_done(struct fixture_request *r)
{
	ck_assert_uint_eq(r->completions, 1);
	ck_assert_int_eq(r->status, PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_job_poll(r->job), PAELLA_STATUS_OK);
	ck_assert_msg(memcmp(r->input, r->output, IO_BYTES) == 0,
		      "the output is not the input copied through the job buffer");
}

/* ---- policies ---------------------------------------------------------------- */

/* A long job is running when a short one arrives: the finish of each. */
static void
long_then_short(enum paella_policy policy, uint64_t *long_done, uint64_t *short_done,
		uint64_t *short_submitted)
{
	struct paella_config c = fixture_config(policy, PAELLA_DISPATCH_MANUAL, 0.0);
	struct paella_runtime *rt = fixture_runtime(&c);
	struct paella_module *mod = fixture_module(rt);
	struct paella_model *lng = fixture_chain(rt, mod, "long", "k10", 20, WAVE_BLOCKS, 4);
	struct paella_model *shrt = fixture_chain(rt, mod, "short", "k10", 2, WAVE_BLOCKS, 4);
	struct fixture_request a, b;

	fixture_request_fill(&a, 1);
	fixture_request_fill(&b, 2);
	fixture_submit(lng, &a, 0);
	ck_assert_int_eq(paella_runtime_run_until(rt, 30 * US), PAELLA_STATUS_OK);
	fixture_submit(shrt, &b, 0);
	run_idle(rt);
	check_done(&a);
	check_done(&b);
	*long_done = fixture_times(a.job).completed_ns;
	*short_done = fixture_times(b.job).completed_ns;
	*short_submitted = fixture_times(b.job).submitted_ns;
	ck_assert_uint_eq(*short_submitted, 30 * US);
	paella_job_release(a.job);
	paella_job_release(b.job);
	paella_runtime_destroy(rt);
}

PAELLA_TEST(dispatcher_srpt_runs_shorter_job_first)
{
	uint64_t lng, shrt, sub;

	long_then_short(PAELLA_POLICY_SRPT, &lng, &shrt, &sub);
	ck_assert_msg(shrt < lng, "SRPT: short done at %llu, long at %llu",
		      (unsigned long long)shrt, (unsigned long long)lng);
	/* Two 10 us kernels, launch and notification latencies, and the
	 * long job's kernel already running: well under 100 us. */
	ck_assert_msg(shrt - sub < 100 * US, "SRPT: the short job took %llu ns",
		      (unsigned long long)(shrt - sub));

	long_then_short(PAELLA_POLICY_FIFO, &lng, &shrt, &sub);
	ck_assert_msg(shrt > lng, "FIFO: short done at %llu, before the long at %llu",
		      (unsigned long long)shrt, (unsigned long long)lng);
}
END_TEST

PAELLA_TEST(dispatcher_fifo_keeps_arrival_order)
{
	struct paella_config c = fixture_config(PAELLA_POLICY_FIFO, PAELLA_DISPATCH_MANUAL, 0.05);
	struct paella_runtime *rt = fixture_runtime(&c);
	struct paella_module *mod = fixture_module(rt);
	/* Different lengths, so that SRPT would reorder them. */
	struct paella_model *m[3] = {
		fixture_chain(rt, mod, "a", "k10", 6, WAVE_BLOCKS, 8),
		fixture_chain(rt, mod, "b", "k10", 2, WAVE_BLOCKS, 8),
		fixture_chain(rt, mod, "c", "k10", 4, WAVE_BLOCKS / 2, 8),
	};
	struct fixture_request r[9];
	uint64_t prev_first = 0, prev_done = 0;

	for (unsigned i = 0; i < 9; i++) {
		fixture_request_fill(&r[i], i);
		fixture_submit(m[i % 3], &r[i], 0);
	}
	run_idle(rt);
	for (unsigned i = 0; i < 9; i++) {
		struct paella_job_times t = fixture_times(r[i].job);

		check_done(&r[i]);
		ck_assert_msg(t.first_launch_ns >= prev_first && t.completed_ns > prev_done,
			      "job %u started at %llu and ended at %llu, before job %u", i,
			      (unsigned long long)t.first_launch_ns,
			      (unsigned long long)t.completed_ns, i - 1);
		prev_first = t.first_launch_ns;
		prev_done = t.completed_ns;
		paella_job_release(r[i].job);
	}
	paella_runtime_destroy(rt);
}
END_TEST

/*
 * A long job and a stream of short ones that alone overload the GPU.  The
 * largest gap, in the dispatcher's GPU-time clock, between the long job's
 * arrival or a launch of its and its next launch.
 */
static uint64_t
long_job_worst_gap(enum paella_policy policy, uint64_t threshold, uint64_t *long_done)
{
	struct paella_config c = fixture_config(policy, PAELLA_DISPATCH_MANUAL, 0.0);
	struct paella_runtime *rt;
	struct paella_module *mod;
	struct paella_model *lng, *shrt;
	struct fixture_request *reqs = calloc(100, sizeof(*reqs));
	struct fixture_request a;
	struct trace_log *log;
	uint64_t last = 0, worst = 0;
	unsigned n = 0;

	c.fair_threshold_ns = threshold;
	c.streams = 64;
	rt = fixture_runtime(&c);
	mod = fixture_module(rt);
	lng = fixture_chain(rt, mod, "long", "k10", 10, WAVE_BLOCKS, 2);
	shrt = fixture_chain(rt, mod, "short", "k10", 2, WAVE_BLOCKS, 64);
	log = trace(rt);

	fixture_request_fill(&a, 0);
	fixture_request_fill(&reqs[n], 1);
	fixture_submit(shrt, &reqs[n++], 0);
	fixture_submit(lng, &a, 0);
	/* A short job every 25 us, each needing two 10 us waves and their
	 * latencies: more than the GPU can do. */
	for (uint64_t t = 25 * US; n < 100; t += 25 * US) {
		ck_assert_int_eq(paella_runtime_run_until(rt, t), PAELLA_STATUS_OK);
		fixture_request_fill(&reqs[n], n + 1);
		fixture_submit(shrt, &reqs[n++], 0);
	}
	run_idle(rt);
	check_done(&a);
	for (unsigned i = 0; i < n; i++) {
		check_done(&reqs[i]);
		paella_job_release(reqs[i].job);
	}
	for (unsigned i = 0; i < log->n; i++) {
		if (log->e[i].job != a.job)
			continue;
		if (log->e[i].gpu_ns - last > worst)
			worst = log->e[i].gpu_ns - last;
		last = log->e[i].gpu_ns;
	}
	*long_done = fixture_times(a.job).completed_ns;
	paella_job_release(a.job);
	free(log);
	free(reqs);
	paella_runtime_destroy(rt);
	return worst;
}

PAELLA_TEST(dispatcher_fair_bounds_wait_of_long_job)
{
	uint64_t threshold = 200 * US, srpt_done, fair_done;
	uint64_t srpt = long_job_worst_gap(PAELLA_POLICY_SRPT, threshold, &srpt_done);
	uint64_t fair = long_job_worst_gap(PAELLA_POLICY_FAIR, threshold, &fair_done);

	/* Past the threshold, the long job goes at the next decision: one
	 * more short kernel at most, whose estimate refines towards the
	 * ~16 us a 10 us wave takes with its latencies. */
	ck_assert_msg(fair <= threshold + 40 * US,
		      "FAIR: the long job waited %llu ns of GPU time (threshold %llu)",
		      (unsigned long long)fair, (unsigned long long)threshold);
	ck_assert_msg(srpt > 5 * threshold,
		      "SRPT was expected to starve the long job; worst gap %llu ns",
		      (unsigned long long)srpt);
	ck_assert_msg(fair_done < srpt_done, "FAIR finished the long job at %llu, SRPT at %llu",
		      (unsigned long long)fair_done, (unsigned long long)srpt_done);
}
END_TEST

/* Four jobs whose deadlines are the reverse of their arrival order, and
 * feasible one after the other. */
static unsigned
deadlines_missed(enum paella_policy policy)
{
	struct paella_config c = fixture_config(policy, PAELLA_DISPATCH_MANUAL, 0.05);
	struct paella_runtime *rt = fixture_runtime(&c);
	struct paella_module *mod = fixture_module(rt);
	struct paella_model *m = fixture_chain(rt, mod, "m", "k10", 6, WAVE_BLOCKS, 4);
	/* A job alone: 6 waves of 10 us, each with ~6 us of latencies. */
	static const uint64_t deadline[4] = { 800 * US, 600 * US, 400 * US, 200 * US };
	struct fixture_request r[4];
	unsigned missed = 0;

	for (unsigned i = 0; i < 4; i++) {
		fixture_request_fill(&r[i], i);
		fixture_submit(m, &r[i], deadline[i]);
	}
	run_idle(rt);
	for (unsigned i = 0; i < 4; i++) {
		struct paella_job_times t = fixture_times(r[i].job);

		check_done(&r[i]);
		missed += t.completed_ns - t.submitted_ns > deadline[i];
		paella_job_release(r[i].job);
	}
	paella_runtime_destroy(rt);
	return missed;
}

PAELLA_TEST(dispatcher_edf_meets_feasible_deadlines)
{
	ck_assert_uint_eq(deadlines_missed(PAELLA_POLICY_EDF), 0);
	/* The same set in arrival order misses: the test has teeth. */
	ck_assert_uint_gt(deadlines_missed(PAELLA_POLICY_FIFO), 0);
}
END_TEST

/* ---- occupancy gating ---------------------------------------------------------- */

/* Many jobs of kernels of 0.3, 1.7 and 3 waves: the most waves the GPU
 * truly still had to run, when the dispatcher launched another kernel. */
static double
worst_true_load(double window, double *seen_by_dispatcher)
{
	struct paella_config c = fixture_config(PAELLA_POLICY_SRPT, PAELLA_DISPATCH_MANUAL, 0.1);
	struct paella_runtime *rt;
	struct paella_module *mod;
	struct paella_model *m[3];
	struct fixture_request r[30];
	struct paella__sim_stats ss;
	struct paella_runtime_stats rs;

	c.launch_window_waves = window;
	rt = fixture_runtime(&c);
	mod = fixture_module(rt);
	m[0] = fixture_chain(rt, mod, "small", "k10", 5, WAVE_BLOCKS * 3 / 10, 16);
	m[1] = fixture_chain(rt, mod, "mid", "k10", 4, WAVE_BLOCKS * 17 / 10, 16);
	m[2] = fixture_chain(rt, mod, "big", "k50", 3, WAVE_BLOCKS * 3, 16);
	for (unsigned i = 0; i < 30; i++) {
		fixture_request_fill(&r[i], i);
		fixture_submit(m[i % 3], &r[i], 0);
	}
	run_idle(rt);
	for (unsigned i = 0; i < 30; i++) {
		check_done(&r[i]);
		paella_job_release(r[i].job);
	}
	paella__sim_get_stats(rt->backend, &ss);
	ck_assert_int_eq(paella_runtime_stats(rt, &rs), PAELLA_STATUS_OK);
	ck_assert_uint_eq(rs.jobs_completed, 30);
	ck_assert_uint_eq(ss.kernels_launched, 10 * 5 + 10 * 4 + 10 * 3);
	ck_assert_uint_eq(ss.kernels_completed, ss.kernels_launched);
	/* The simulator reports progress as blocks finish: kernels of more
	 * than a wave are seen moving before they complete, never more than
	 * were launched. */
	ck_assert_uint_gt(rs.kernels_progress_seen, 0);
	ck_assert_uint_le(rs.kernels_progress_seen, rs.kernels_launched);
	*seen_by_dispatcher = rs.max_load_at_launch;
	paella_runtime_destroy(rt);
	return ss.max_true_load_at_launch;
}

PAELLA_TEST(dispatcher_gating_keeps_hardware_queue_short)
{
	double seen, truth = worst_true_load(1.0, &seen);

	/* The dispatcher launches only under the window, and the GPU is
	 * never further behind than the dispatcher believes. */
	ck_assert_msg(seen < 1.0, "launched with %.3f waves in flight", seen);
	ck_assert_msg(truth <= seen + 1e-9, "true load %.3f above the dispatcher's %.3f",
		      truth, seen);
	/* Without gating the same work queues many waves deep. */
	truth = worst_true_load(1000.0, &seen);
	ck_assert_msg(truth > 3.0, "ungated, the queue only reached %.3f waves", truth);
}
END_TEST

/* ---- every job, exactly once ------------------------------------------------- */

PAELLA_LOOP_TEST(dispatcher_every_job_completes_once, 2)
{
	struct paella_config c = fixture_config(_i % 2 ? PAELLA_POLICY_FAIR : PAELLA_POLICY_SRPT,
						PAELLA_DISPATCH_MANUAL, 0.2);
	struct paella_runtime *rt;
	struct paella_module *mod;
	struct paella_model *m[4];
	enum { N = 400 };
	struct fixture_request *r = calloc(N, sizeof(*r));
	struct paella_runtime_stats rs;
	uint64_t t = 0, seed = 12345;

	/* Few streams and buffer sets: jobs wait for both. */
	c.streams = 5;
	c.fair_threshold_ns = 100 * US;
	rt = fixture_runtime(&c);
	mod = fixture_module(rt);
	m[0] = fixture_chain(rt, mod, "a", "k10", 3, 500, 2);
	m[1] = fixture_chain(rt, mod, "b", "k50", 1, 3000, 3);
	m[2] = fixture_chain(rt, mod, "c", "kraw", 4, 100, 1);
	m[3] = fixture_chain(rt, mod, "d", "k10", 12, 2000, 4);
	for (unsigned i = 0; i < N; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		t += (seed >> 33) % (40 * US);
		ck_assert_int_eq(paella_runtime_run_until(rt, t), PAELLA_STATUS_OK);
		fixture_request_fill(&r[i], i);
		fixture_submit(m[(seed >> 20) % 4], &r[i], 0);
	}
	run_idle(rt);
	for (unsigned i = 0; i < N; i++) {
		struct paella_job_times jt = fixture_times(r[i].job);

		check_done(&r[i]);
		ck_assert(jt.submitted_ns <= jt.first_launch_ns);
		ck_assert(jt.first_launch_ns < jt.completed_ns);
		paella_job_release(r[i].job);
	}
	ck_assert_int_eq(paella_runtime_stats(rt, &rs), PAELLA_STATUS_OK);
	ck_assert_uint_eq(rs.jobs_submitted, N);
	ck_assert_uint_eq(rs.jobs_completed, N);
	/* Nothing completes twice after the runtime is gone, either. */
	paella_runtime_destroy(rt);
	for (unsigned i = 0; i < N; i++)
		ck_assert_uint_eq(r[i].completions, 1);
	free(r);
}
END_TEST

/* Completion times of a fixed workload. */
static void
workload_times(uint64_t seed, uint64_t *out, unsigned n)
{
	struct paella_config c = fixture_config(PAELLA_POLICY_SRPT, PAELLA_DISPATCH_MANUAL, 0.1);
	struct paella_runtime *rt;
	struct paella_module *mod;
	struct paella_model *m[2];
	struct fixture_request r[16];

	c.sim_seed = seed;
	rt = fixture_runtime(&c);
	mod = fixture_module(rt);
	m[0] = fixture_chain(rt, mod, "a", "k10", 4, 1500, 8);
	m[1] = fixture_chain(rt, mod, "b", "k50", 2, 700, 8);
	for (unsigned i = 0; i < n; i++) {
		ck_assert_int_eq(paella_runtime_run_until(rt, i * 7 * US), PAELLA_STATUS_OK);
		fixture_request_fill(&r[i], i);
		fixture_submit(m[i % 2], &r[i], 0);
	}
	run_idle(rt);
	for (unsigned i = 0; i < n; i++) {
		out[i] = fixture_times(r[i].job).completed_ns;
		paella_job_release(r[i].job);
	}
	paella_runtime_destroy(rt);
}

PAELLA_TEST(dispatcher_sim_is_deterministic)
{
	uint64_t a[16], b[16], c[16];

	workload_times(7, a, 16);
	workload_times(7, b, 16);
	workload_times(8, c, 16);
	ck_assert(memcmp(a, b, sizeof(a)) == 0);
	ck_assert_msg(memcmp(a, c, sizeof(a)) != 0, "another seed gave the same run");
}
END_TEST

/* ---- launch latency hiding ----------------------------------------------------- */

/* Runs one job of @m (input filled from @seed) alone to its end, fills @rs
 * with the runtime's counters, destroys @rt; returns the job's latency. */
static uint64_t
one_job_latency(struct paella_runtime *rt, struct paella_model *m, unsigned seed,
		struct paella_runtime_stats *rs)
{
	struct fixture_request r;
	struct paella_job_times t;

	fixture_request_fill(&r, seed);
	fixture_submit(m, &r, 0);
	run_idle(rt);
	check_done(&r);
	t = fixture_times(r.job);
	ck_assert_int_eq(paella_runtime_stats(rt, rs), PAELLA_STATUS_OK);
	paella_job_release(r.job);
	paella_runtime_destroy(rt);
	return t.completed_ns - t.submitted_ns;
}

static uint64_t
chain_latency(unsigned max_kernels, uint64_t *early)
{
	struct paella_config c = fixture_config(PAELLA_POLICY_SRPT, PAELLA_DISPATCH_MANUAL, 0.0);
	struct paella_runtime *rt;
	struct paella_module *mod;
	struct paella_model *m;
	struct paella_runtime_stats rs;
	uint64_t latency;

	c.max_kernels_in_flight_per_job = max_kernels;
	rt = fixture_runtime(&c);
	mod = fixture_module(rt);
	/* 1.5 waves: once the first wave ends, half a wave is left and the
	 * window opens while the kernel still runs. */
	m = fixture_chain(rt, mod, "m", "k10", 10, WAVE_BLOCKS * 3 / 2, 1);
	latency = one_job_latency(rt, m, 3, &rs);
	*early = rs.early_launches;
	return latency;
}

/* The profiled estimate of a chain of @n 1 us kernels of 0.3 waves on a
 * runtime configured as @c, without graphs.  Estimates are made at
 * finalize, so a graph limit in kernels takes a model of its own first. */
static uint64_t
k1_chain_estimate(struct paella_config c, unsigned n)
{
	struct paella_runtime *rt;
	struct paella_model *m;
	uint64_t est = 0;

	c.graph_chunk_ns = 0;
	rt = fixture_runtime(&c);
	m = fixture_chain(rt, fixture_module(rt), "probe", "k1", n, WAVE_BLOCKS * 3 / 10, 1);
	ck_assert_int_eq(paella_model_estimate_ns(m, &est), PAELLA_STATUS_OK);
	paella_runtime_destroy(rt);
	return est;
}

/* A chain of six 1 us kernels of 0.3 waves (the host's launches, 4.8 us
 * each on the simulated card, are what bounds it), graph runs of at most
 * @runs_of kernels' estimates (0: none); returns its latency. */
static uint64_t
graph_chain_latency(unsigned runs_of, uint64_t *kernels)
{
	struct paella_config c = fixture_config(PAELLA_POLICY_SRPT, PAELLA_DISPATCH_MANUAL, 0.0);
	struct paella_runtime *rt;
	struct paella_module *mod;
	struct paella_model *m;
	struct paella_runtime_stats rs;
	uint64_t latency;

	c.graph_chunk_ns = runs_of * (k1_chain_estimate(c, 6) / 6);
	rt = fixture_runtime(&c);
	mod = fixture_module(rt);
	m = fixture_chain(rt, mod, "m", "k1", 6, WAVE_BLOCKS * 3 / 10, 1);
	latency = one_job_latency(rt, m, 5, &rs);
	*kernels = rs.kernels_launched;
	return latency;
}

PAELLA_TEST(dispatcher_graph_runs)
{
	uint64_t k_alone, k_pairs, k_threes;
	uint64_t alone = graph_chain_latency(0, &k_alone);
	uint64_t pairs = graph_chain_latency(2, &k_pairs);
	uint64_t threes = graph_chain_latency(3, &k_threes);

	/* Every kernel runs either way. */
	ck_assert_uint_eq(k_alone, 6);
	ck_assert_uint_eq(k_pairs, 6);
	ck_assert_uint_eq(k_threes, 6);
	/* Each host call saved is a launch's cost (4.8 us on the simulated
	 * card): 3 saved by pairs, 4 by threes. */
	ck_assert_msg(pairs + 3 * 3 * US < alone, "pairs %llu ns, alone %llu ns",
		      (unsigned long long)pairs, (unsigned long long)alone);
	ck_assert_msg(threes < pairs, "threes %llu ns, pairs %llu ns",
		      (unsigned long long)threes, (unsigned long long)pairs);
}
END_TEST

PAELLA_TEST(dispatcher_early_launch_hides_latency)
{
	uint64_t early_on, early_off;
	uint64_t with = chain_latency(2, &early_on);
	uint64_t without = chain_latency(1, &early_off);

	ck_assert_uint_eq(early_off, 0);
	ck_assert_uint_ge(early_on, 8);
	/* Each of the 9 later kernels saves about a launch (4.8 us). */
	ck_assert_msg(with + 9 * 3 * US < without, "latency %llu ns with early launch, %llu without",
		      (unsigned long long)with, (unsigned long long)without);
}
END_TEST

/* One job alone: 24 kernels of 1 us and 0.3 waves, in graph runs of 8
 * (2.4 waves each, seen only whole), so each run fills the 2-wave window by
 * itself.  Returns the job's latency; *@past gets the launches made at or
 * past the window. */
static uint64_t
lone_runs_latency(bool lone, unsigned *past)
{
	struct paella_config c = fixture_config(PAELLA_POLICY_SRPT, PAELLA_DISPATCH_MANUAL, 0.0);
	struct paella_runtime *rt;
	struct paella_model *m;
	struct paella_runtime_stats rs;
	struct trace_log *log;
	uint64_t est = k1_chain_estimate(c, 24), latency;

	/* Eight kernels' estimates and half of one more. */
	c.graph_chunk_ns = 8 * (est / 24) + est / 48;
	c.lone_job_past_window = lone;
	rt = fixture_runtime(&c);
	m = fixture_chain(rt, fixture_module(rt), "m", "k1", 24, WAVE_BLOCKS * 3 / 10, 1);
	log = trace(rt);
	latency = one_job_latency(rt, m, 4, &rs);
	ck_assert_uint_eq(rs.kernels_launched, 24);
	ck_assert_uint_eq(log->n, 3);
	*past = 0;
	for (unsigned i = 0; i < log->n; i++)
		*past += log->e[i].load_before >= 2.0;
	free(log);
	return latency;
}

PAELLA_TEST(dispatcher_lone_job_past_window)
{
	unsigned past_on, past_off;
	uint64_t with = lone_runs_latency(true, &past_on);
	uint64_t without = lone_runs_latency(false, &past_off);

	ck_assert_uint_eq(past_off, 0);
	ck_assert_uint_eq(past_on, 2);
	/* Runs 2 and 3 go out while the one before runs: a launch and a
	 * completion's notice saved for each. */
	ck_assert_msg(with + 2 * 3 * US < without, "latency %llu ns past the window, %llu without",
		      (unsigned long long)with, (unsigned long long)without);
}
END_TEST

/* With the rule on, two jobs live at once still keep to the window; the
 * one left alone goes past it. */
PAELLA_TEST(dispatcher_lone_rule_keeps_window_with_company)
{
	struct paella_config c = fixture_config(PAELLA_POLICY_FIFO, PAELLA_DISPATCH_MANUAL, 0.0);
	struct paella_runtime *rt;
	struct paella_module *mod;
	struct paella_model *m[2];
	struct fixture_request r[2];
	struct trace_log *log;
	uint64_t done[2];
	unsigned together = 0, past = 0;

	c.lone_job_past_window = true;
	rt = fixture_runtime(&c);
	mod = fixture_module(rt);
	m[0] = fixture_chain(rt, mod, "a", "k10", 4, WAVE_BLOCKS * 5 / 2, 1);
	m[1] = fixture_chain(rt, mod, "b", "k10", 8, WAVE_BLOCKS * 5 / 2, 1);
	log = trace(rt);
	for (unsigned i = 0; i < 2; i++) {
		fixture_request_fill(&r[i], 10 + i);
		fixture_submit(m[i], &r[i], 0);
	}
	run_idle(rt);
	for (unsigned i = 0; i < 2; i++) {
		check_done(&r[i]);
		done[i] = fixture_times(r[i].job).completed_ns;
	}
	for (unsigned i = 0; i < log->n; i++) {
		const struct paella__trace_launch *l = &log->e[i];

		if (l->now_ns < done[0] && l->now_ns < done[1]) {
			together++;
			ck_assert_msg(l->load_before < 2.0, "launch %u with company at %.2f waves",
				      i, l->load_before);
		} else if (l->load_before >= 2.0) {
			past++;
		}
	}
	ck_assert_uint_ge(together, 4);
	ck_assert_uint_ge(past, 1);
	for (unsigned i = 0; i < 2; i++)
		paella_job_release(r[i].job);
	paella_runtime_destroy(rt);
	free(log);
}
END_TEST

PAELLA_TEST(dispatcher_uninstrumented_kernels_complete)
{
	struct paella_config c = fixture_config(PAELLA_POLICY_SRPT, PAELLA_DISPATCH_MANUAL, 0.0);
	struct paella_runtime *rt;
	struct paella_module *mod;
	struct paella_model *raw;

	/* Kernel by kernel: the completion signals, not graph runs, are what
	 * this compares. */
	c.graph_chunk_ns = 0;
	/* One wave: each next kernel waits for the last one's completion. */
	c.launch_window_waves = 1.0;
	rt = fixture_runtime(&c);
	mod = fixture_module(rt);
	raw = fixture_chain(rt, mod, "raw", "kraw", 3, WAVE_BLOCKS, 1);
	struct paella_model *ins = fixture_chain(rt, mod, "ins", "kc10", 3, WAVE_BLOCKS, 1);
	struct paella_model *smp = fixture_chain(rt, mod, "smp", "k10", 3, WAVE_BLOCKS, 1);
	struct fixture_request a, b, s;
	uint64_t ta, tb, tc;

	fixture_request_fill(&a, 1);
	fixture_submit(raw, &a, 0);
	run_idle(rt);
	fixture_request_fill(&b, 2);
	fixture_submit(ins, &b, 0);
	run_idle(rt);
	fixture_request_fill(&s, 3);
	fixture_submit(smp, &s, 0);
	run_idle(rt);
	check_done(&a);
	check_done(&b);
	check_done(&s);
	ta = fixture_times(a.job).completed_ns - fixture_times(a.job).submitted_ns;
	tb = fixture_times(b.job).completed_ns - fixture_times(b.job).submitted_ns;
	tc = fixture_times(s.job).completed_ns - fixture_times(s.job).submitted_ns;
	/* Completion through a write-value is seen 1.3 us after a count-mode
	 * post; the output copy follows the last kernel in stream order, so
	 * only the first two kernels' completions delay the job.  Sample mode
	 * completes through the write-value, as an uninstrumented kernel. */
	ck_assert_uint_eq(ta - tb, 2 * (PAELLA_SIM_COMPLETION_LATENCY_NS -
					PAELLA_SIM_PROGRESS_LATENCY_NS));
	ck_assert_uint_eq(tc, ta);
	paella_job_release(a.job);
	paella_job_release(b.job);
	paella_job_release(s.job);
	paella_runtime_destroy(rt);
}
END_TEST

PAELLA_TEST(dispatcher_streams_limit_concurrency)
{
	struct paella_config c = fixture_config(PAELLA_POLICY_FIFO, PAELLA_DISPATCH_MANUAL, 0.0);
	struct paella_runtime *rt;
	struct paella_module *mod;
	struct paella_model *m;
	struct fixture_request r[8];

	c.streams = 2;
	rt = fixture_runtime(&c);
	mod = fixture_module(rt);
	/* Small kernels: the window would let all eight run at once. */
	m = fixture_chain(rt, mod, "m", "k10", 2, 10, 8);
	for (unsigned i = 0; i < 8; i++) {
		fixture_request_fill(&r[i], i);
		fixture_submit(m, &r[i], 0);
	}
	run_idle(rt);
	for (unsigned i = 0; i < 8; i++) {
		unsigned overlapping = 0;
		struct paella_job_times ti = fixture_times(r[i].job);

		check_done(&r[i]);
		for (unsigned j = 0; j < 8; j++) {
			struct paella_job_times tj = fixture_times(r[j].job);

			overlapping += tj.first_launch_ns <= ti.first_launch_ns &&
				       tj.completed_ns > ti.first_launch_ns;
		}
		ck_assert_msg(overlapping <= 2, "%u jobs ran at once on 2 streams", overlapping);
	}
	for (unsigned i = 0; i < 8; i++)
		paella_job_release(r[i].job);
	paella_runtime_destroy(rt);
}
END_TEST

PAELLA_CHECK_MAIN("dispatcher", 60, NULL, NULL)
