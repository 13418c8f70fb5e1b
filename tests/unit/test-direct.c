/*
 * test-direct.c - direct mode on the simulated GPU: whole jobs enqueued on
 * the caller's streams, the hardware's scheduler deciding among them.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sim-fixture.h"
#include "../check-main.h"

static struct paella_runtime *
manual_runtime(void)
{
	struct paella_config c = fixture_config(PAELLA_POLICY_SRPT, PAELLA_DISPATCH_MANUAL, 0.0);

	return fixture_runtime(&c);
}

static struct paella_job *
submit_direct(struct paella_model *m, struct paella_stream *s, struct fixture_request *r,
	      unsigned flags)
{
	struct paella_job_desc d = fixture_desc(r);
	struct paella_job *job = NULL;
	enum paella_status st;

	st = paella_job_submit_direct(m, s, &d, flags, &job);
	ck_assert_msg(st == PAELLA_STATUS_OK, "submit_direct: %s", paella_last_error());
	return job;
}

static uint64_t
latency(struct paella_job *job)
{
	struct paella_job_times t;

	ck_assert_int_eq(paella_job_times(job, &t), PAELLA_STATUS_OK);
	ck_assert_uint_gt(t.completed_ns, t.submitted_ns);
	return t.completed_ns - t.submitted_ns;
}

PAELLA_TEST(direct_job_runs_whole)
{
	struct paella_runtime *rt = manual_runtime();
	struct paella_module *mod = fixture_module(rt);
	/* Three 10 us kernels of one wave each. */
	struct paella_model *m = fixture_chain(rt, mod, "chain", "k10", 3, WAVE_BLOCKS, 2);
	struct paella_stream *s = NULL;
	struct fixture_request r;
	struct paella_job *job;
	uint64_t ns;

	ck_assert_int_eq(paella_stream_create(rt, 0, &s), PAELLA_STATUS_OK);
	fixture_request_fill(&r, 3);
	job = submit_direct(m, s, &r, 0);
	ck_assert_int_eq(paella_job_poll(job), PAELLA_STATUS_BUSY);
	ck_assert_int_eq(paella_job_wait(job, -1), PAELLA_STATUS_OK);
	/* The simulator's copies move the bytes: input out as output. */
	ck_assert_mem_eq(r.input, r.output, IO_BYTES);
	ns = latency(job);
	ck_assert_uint_ge(ns, 30 * US);
	ck_assert_uint_lt(ns, 60 * US);
	paella_job_release(job);
	paella_stream_destroy(s);
	paella_runtime_destroy(rt);
}
END_TEST

PAELLA_TEST(direct_graph_is_one_launch)
{
	struct paella_runtime *rt = manual_runtime();
	struct paella_module *mod = fixture_module(rt);
	/* Twenty 1 us kernels: twenty host launches take longer than one. */
	struct paella_model *m = fixture_chain(rt, mod, "tiny", "k1", 20, 64, 1);
	struct paella_stream *s = NULL;
	struct fixture_request r;
	struct paella_job *job;
	uint64_t plain_ns, graph_ns;

	ck_assert_int_eq(paella_stream_create(rt, 0, &s), PAELLA_STATUS_OK);
	fixture_request_fill(&r, 1);
	job = submit_direct(m, s, &r, 0);
	ck_assert_int_eq(paella_job_wait(job, -1), PAELLA_STATUS_OK);
	plain_ns = latency(job);
	paella_job_release(job);
	job = submit_direct(m, s, &r, PAELLA_DIRECT_GRAPH);
	ck_assert_int_eq(paella_job_wait(job, -1), PAELLA_STATUS_OK);
	graph_ns = latency(job);
	paella_job_release(job);
	ck_assert_mem_eq(r.input, r.output, IO_BYTES);
	ck_assert_msg(graph_ns < plain_ns, "graph %llu ns, plain %llu ns",
		      (unsigned long long)graph_ns, (unsigned long long)plain_ns);
	paella_runtime_destroy(rt);
}
END_TEST

PAELLA_TEST(direct_sets_and_modes)
{
	struct paella_config c = fixture_config(PAELLA_POLICY_SRPT, PAELLA_DISPATCH_THREAD, 0.0);
	struct paella_runtime *rt = fixture_runtime(&c);
	struct paella_stream *s = NULL;
	struct fixture_request r[2];
	struct paella_job *job = NULL;
	struct paella_job_desc d;
	struct paella_model *m;

	/* Thread mode: the dispatcher owns the backend. */
	ck_assert_int_eq(paella_stream_create(rt, 0, &s), PAELLA_STATUS_UNSUPPORTED);
	ck_assert_ptr_null(s);
	paella_runtime_destroy(rt);

	rt = manual_runtime();
	m = fixture_chain(rt, fixture_module(rt), "one", "k10", 1, 64, 1);
	ck_assert_int_eq(paella_stream_create(rt, 0, &s), PAELLA_STATUS_OK);
	fixture_request_fill(&r[0], 1);
	fixture_request_fill(&r[1], 2);
	job = submit_direct(m, s, &r[0], 0);
	/* One buffer set, in use. */
	memset(&d, 0, sizeof(d));
	d.input = r[1].input;
	d.input_bytes = IO_BYTES;
	d.output = r[1].output;
	d.output_bytes = IO_BYTES;
	ck_assert_int_eq(paella_job_submit_direct(m, s, &d, 0, &r[1].job), PAELLA_STATUS_BUSY);
	d.deadline_ns = 5;
	ck_assert_int_eq(paella_job_submit_direct(m, s, &d, 0, &r[1].job),
			 PAELLA_STATUS_INVALID_ARGUMENT);
	d.deadline_ns = 0;
	d.input_bytes = 1;
	ck_assert_int_eq(paella_job_submit_direct(m, s, &d, 0, &r[1].job),
			 PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_int_eq(paella_job_submit_direct(m, s, &d, 0x80, &r[1].job),
			 PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_int_eq(paella_model_destroy(m), PAELLA_STATUS_BUSY);
	/* Destroying the stream waits for its job; the set comes back. */
	paella_stream_destroy(s);
	ck_assert_int_eq(paella_job_poll(job), PAELLA_STATUS_OK);
	paella_job_release(job);
	ck_assert_int_eq(paella_stream_create(rt, 0, &s), PAELLA_STATUS_OK);
	job = submit_direct(m, s, &r[1], 0);
	/* Shutdown drains direct jobs too; the stream is freed with the
	 * runtime. */
	ck_assert_int_eq(paella_runtime_shutdown(rt), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_job_poll(job), PAELLA_STATUS_OK);
	ck_assert_mem_eq(r[1].input, r[1].output, IO_BYTES);
	paella_job_release(job);
	paella_runtime_destroy(rt);
}
END_TEST

PAELLA_TEST(direct_priority_goes_first)
{
	struct paella_runtime *rt = manual_runtime();
	struct paella_module *mod = fixture_module(rt);
	/* A long model that fills the GPU many times over, and a short one. */
	struct paella_model *big = fixture_chain(rt, mod, "big", "k50", 4, 8 * WAVE_BLOCKS, 4);
	struct paella_model *small = fixture_chain(rt, mod, "small", "k10", 1, 64, 1);
	uint64_t alone[2];

	for (int prio = 0; prio < 2; prio++) {
		struct paella_stream *lo = NULL, *hi = NULL;
		struct fixture_request rb[4], rs;
		struct paella_job *jb[4], *js;

		ck_assert_int_eq(paella_stream_create(rt, 0, &lo), PAELLA_STATUS_OK);
		ck_assert_int_eq(paella_stream_create(rt, prio, &hi), PAELLA_STATUS_OK);
		for (int i = 0; i < 4; i++) {
			fixture_request_fill(&rb[i], (unsigned)i);
			jb[i] = submit_direct(big, lo, &rb[i], 0);
		}
		/* The short job arrives once the long ones hold the queue. */
		ck_assert_int_eq(paella_runtime_run_until(rt, paella_runtime_now_ns(rt) +
							      100 * US), PAELLA_STATUS_OK);
		fixture_request_fill(&rs, 9);
		js = submit_direct(small, hi, &rs, 0);
		ck_assert_int_eq(paella_job_wait(js, -1), PAELLA_STATUS_OK);
		alone[prio] = latency(js);
		paella_job_release(js);
		for (int i = 0; i < 4; i++) {
			ck_assert_int_eq(paella_job_wait(jb[i], -1), PAELLA_STATUS_OK);
			paella_job_release(jb[i]);
		}
		paella_stream_destroy(lo);
		paella_stream_destroy(hi);
	}
	/* Same priority: behind the queued waves (head-of-line); higher: its
	 * blocks go as soon as an SM has room. */
	ck_assert_msg(alone[1] * 4 < alone[0], "priority %llu ns, none %llu ns",
		      (unsigned long long)alone[1], (unsigned long long)alone[0]);
	paella_runtime_destroy(rt);
}
END_TEST

PAELLA_CHECK_MAIN("direct", 0, NULL, NULL)
