/*
 * test-runtime.c - the public API on the simulated GPU: bad input gets the
 * right status and a message, and loses no job; the backend choice; jobs
 * waited for, polled and called back; 16 threads submitting at once.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sim-fixture.h"
#include "../check-main.h"

static struct paella_runtime *
manual_rt(void)
{
	struct paella_config c = fixture_config(PAELLA_POLICY_SRPT, PAELLA_DISPATCH_MANUAL, 0.05);

	return fixture_runtime(&c);
}

/* ---- creating runtimes --------------------------------------------------- */

PAELLA_TEST(runtime_config_errors)
{
	struct paella_config c;
	struct paella_runtime *rt = (struct paella_runtime *)1;

	ST_EQ(paella_runtime_create(NULL, NULL), PAELLA_STATUS_INVALID_ARGUMENT);
	paella_config_init(&c);
	c.backend = PAELLA_BACKEND_SIM;
	c.streams = 0;
	ST_EQ(paella_runtime_create(&c, &rt), PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_ptr_null(rt);
	message_has("streams");
	paella_config_init(&c);
	c.backend = PAELLA_BACKEND_SIM;
	c.launch_window_waves = 0.0 / 0.0;
	ST_EQ(paella_runtime_create(&c, &rt), PAELLA_STATUS_INVALID_ARGUMENT);
	message_has("launch_window_waves");
	paella_config_init(&c);
	c.backend = PAELLA_BACKEND_SIM;
	c.policy = (enum paella_policy)42;
	ST_EQ(paella_runtime_create(&c, &rt), PAELLA_STATUS_INVALID_ARGUMENT);
	message_has("policy");
	paella_config_init(&c);
	c.backend = PAELLA_BACKEND_SIM;
	c.max_kernels_in_flight_per_job = 0;
	ST_EQ(paella_runtime_create(&c, &rt), PAELLA_STATUS_INVALID_ARGUMENT);
	paella_config_init(&c);
	c.backend = PAELLA_BACKEND_SIM;
	c.sim_card = "GTX 480";
	ST_EQ(paella_runtime_create(&c, &rt), PAELLA_STATUS_NOT_FOUND);
	message_has("H100");
}
END_TEST

PAELLA_TEST(runtime_dispatcher_pinning)
{
	struct paella_config c = fixture_config(PAELLA_POLICY_SRPT, PAELLA_DISPATCH_THREAD, 0.0);
	struct paella_runtime *rt = NULL;

	c.dispatcher_cpu = 0;
	rt = fixture_runtime(&c);
	paella_runtime_destroy(rt);
	/* A CPU this machine does not have. */
	c.dispatcher_cpu = 1000;
	ST_EQ(paella_runtime_create(&c, &rt), PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_ptr_null(rt);
	message_has("dispatcher_cpu");
	c.dispatcher_cpu = -2;
	ST_EQ(paella_runtime_create(&c, &rt), PAELLA_STATUS_INVALID_ARGUMENT);
}
END_TEST

PAELLA_TEST(runtime_cards)
{
	static const char *const cards[] = { "H100", "h200", "A100", "L4" };

	for (unsigned i = 0; i < 4; i++) {
		struct paella_config c = fixture_config(PAELLA_POLICY_FIFO,
							PAELLA_DISPATCH_THREAD, 0.0);
		struct paella_runtime *rt;

		c.sim_card = cards[i];
		rt = fixture_runtime(&c);
		ck_assert_str_eq(paella_runtime_backend_name(rt), "sim");
		paella_runtime_destroy(rt);
	}
}
END_TEST

struct captured {
	unsigned warnings;
	char last[PAELLA__MESSAGE_MAX];
};

static void
capture(enum paella__log_level level, const char *msg, void *data)
{
	struct captured *c = data;

	if (level == PAELLA__LOG_WARN) {
		c->warnings++;
		snprintf(c->last, sizeof(c->last), "%s", msg);
	}
}

PAELLA_TEST(runtime_cuda_without_driver)
{
	struct paella_config c;
	struct paella_runtime *rt = NULL;
	struct captured cap = { 0, "" };

	setenv("PAELLA_LIBCUDA", "/nonexistent/libcuda.so.1", 1);
	paella_config_init(&c);
	c.backend = PAELLA_BACKEND_CUDA;
	ST_EQ(paella_runtime_create(&c, &rt), PAELLA_STATUS_NO_DEVICE);
	ck_assert_ptr_null(rt);
	message_has("/nonexistent/libcuda.so.1");

	/* auto: the simulator, and a notice saying why. */
	paella__log_set_handler(capture, &cap, PAELLA__LOG_WARN);
	c.backend = PAELLA_BACKEND_AUTO;
	ST_EQ(paella_runtime_create(&c, &rt), PAELLA_STATUS_OK);
	paella__log_set_handler(NULL, NULL, PAELLA__LOG_NONE);
	ck_assert_str_eq(paella_runtime_backend_name(rt), "sim");
	ck_assert_uint_eq(cap.warnings, 1);
	ck_assert_msg(strstr(cap.last, "no GPU") != NULL &&
		      strstr(cap.last, "/nonexistent/libcuda.so.1") != NULL, "notice: %s", cap.last);
	paella_runtime_destroy(rt);
	unsetenv("PAELLA_LIBCUDA");
}
END_TEST

/* ---- modules ---------------------------------------------------------------- */

PAELLA_TEST(runtime_module_errors)
{
	struct paella_runtime *rt = manual_rt();
	struct paella_sim_module desc = { PAELLA_ABI_VERSION, fixture_manifest,
					  fixture_kernels, 3 };
	struct paella_module *mod = (struct paella_module *)1;
	static const struct paella_sim_kernel two[] = {
		{ "k10", 32, 0, 10 * US }, { "k50", 32, 0, 50 * US },
	};
	char version[16];

	/* Another ABI: refused, naming both versions. */
	desc.abi_version = PAELLA_ABI_VERSION + 1;
	ST_EQ(paella_module_load_sim(rt, &desc, &mod), PAELLA_STATUS_ABI_MISMATCH);
	ck_assert_ptr_null(mod);
	snprintf(version, sizeof(version), "version %u", PAELLA_ABI_VERSION + 1);
	message_has(version);
	snprintf(version, sizeof(version), "version %u", PAELLA_ABI_VERSION);
	message_has(version);

	desc.abi_version = PAELLA_ABI_VERSION;
	desc.manifest = "paella-manifest 2\nX k10 2\n";
	ST_EQ(paella_module_load_sim(rt, &desc, &mod), PAELLA_STATUS_INVALID_ARGUMENT);
	message_has("manifest line 2");
	desc.manifest = "not a manifest";
	ST_EQ(paella_module_load_sim(rt, &desc, &mod), PAELLA_STATUS_INVALID_ARGUMENT);
	desc.manifest = fixture_manifest;
	desc.kernels = two;
	desc.nkernels = 2;
	ST_EQ(paella_module_load_sim(rt, &desc, &mod), PAELLA_STATUS_INVALID_ARGUMENT);
	message_has("kraw");

	ST_EQ(paella_module_load_sim(NULL, &desc, &mod), PAELLA_STATUS_INVALID_ARGUMENT);
	ST_EQ(paella_module_load_sim(rt, NULL, &mod), PAELLA_STATUS_INVALID_ARGUMENT);
	ST_EQ(paella_module_load_file(rt, "/nonexistent.cubin", &mod), PAELLA_STATUS_NOT_FOUND);
	/* The simulator reads cubins; anything else, naming the way out. */
	ST_EQ(paella_module_load_image(rt, "x", 1, &mod), PAELLA_STATUS_INVALID_ARGUMENT);
	message_has("not a cubin");
	message_has("paella_module_load_sim");
	ST_EQ(paella_module_unload(NULL), PAELLA_STATUS_INVALID_ARGUMENT);
	paella_runtime_destroy(rt);
}
END_TEST

/* ---- models ---------------------------------------------------------------- */

PAELLA_TEST(runtime_model_errors)
{
	struct paella_runtime *rt = manual_rt();
	struct paella_module *mod = fixture_module(rt);
	struct paella_model *m;
	unsigned jb, mb;
	int n = 1;
	struct paella_arg args[2] = { paella_arg_buffer(0, 0), paella_arg_value(&n, sizeof(n)) };
	struct paella_kernel_step s;
	unsigned char weights[16] = { 0 };

	ST_EQ(paella_model_create(NULL, "m", &m), PAELLA_STATUS_INVALID_ARGUMENT);
	ST_EQ(paella_model_create(rt, "m", &m), PAELLA_STATUS_OK);
	ST_EQ(paella_model_add_buffer(m, PAELLA_BUFFER_JOB, 1024, &jb), PAELLA_STATUS_OK);
	ST_EQ(paella_model_add_buffer(m, PAELLA_BUFFER_MODEL, 16, &mb), PAELLA_STATUS_OK);
	ST_EQ(paella_model_add_buffer(m, PAELLA_BUFFER_JOB, 0, &jb), PAELLA_STATUS_INVALID_ARGUMENT);
	ST_EQ(paella_model_add_buffer(NULL, PAELLA_BUFFER_JOB, 1, &jb),
	      PAELLA_STATUS_INVALID_ARGUMENT);
	ST_EQ(paella_model_write_buffer(m, mb, 0, weights, 16), PAELLA_STATUS_OK);
	ST_EQ(paella_model_write_buffer(m, mb, 8, weights, 16), PAELLA_STATUS_INVALID_ARGUMENT);
	ST_EQ(paella_model_write_buffer(m, jb, 0, weights, 16), PAELLA_STATUS_INVALID_ARGUMENT);
	message_has("job buffer");

	memset(&s, 0, sizeof(s));
	s.module = mod;
	s.kernel = "k10";
	s.grid.x = s.grid.y = s.grid.z = 1;
	s.block.x = 256;
	s.block.y = s.block.z = 1;
	s.args = args;
	s.nargs = 2;
	ST_EQ(paella_model_add_kernel(NULL, &s), PAELLA_STATUS_INVALID_ARGUMENT);
	ST_EQ(paella_model_add_kernel(m, NULL), PAELLA_STATUS_INVALID_ARGUMENT);
	s.kernel = "no_such_kernel";
	ST_EQ(paella_model_add_kernel(m, &s), PAELLA_STATUS_NOT_FOUND);
	message_has("no_such_kernel");
	s.kernel = "k10";
	s.nargs = 1;
	ST_EQ(paella_model_add_kernel(m, &s), PAELLA_STATUS_INVALID_ARGUMENT);
	message_has("takes 2 parameters");
	s.nargs = 2;
	s.block.x = 2048;
	ST_EQ(paella_model_add_kernel(m, &s), PAELLA_STATUS_INVALID_ARGUMENT);
	s.block.x = 256;
	s.dynamic_smem_bytes = 1u << 20;
	ST_EQ(paella_model_add_kernel(m, &s), PAELLA_STATUS_INVALID_ARGUMENT);
	message_has("shared memory");
	s.dynamic_smem_bytes = 0;
	s.grid.x = 0;
	ST_EQ(paella_model_add_kernel(m, &s), PAELLA_STATUS_INVALID_ARGUMENT);
	s.grid.x = 1;
	args[0] = paella_arg_buffer(7, 0);
	ST_EQ(paella_model_add_kernel(m, &s), PAELLA_STATUS_INVALID_ARGUMENT);
	args[0] = paella_arg_buffer(jb, 4096);
	ST_EQ(paella_model_add_kernel(m, &s), PAELLA_STATUS_INVALID_ARGUMENT);
	args[0] = paella_arg_buffer(jb, 0);

	ST_EQ(paella_model_add_copy(m, PAELLA_COPY_INPUT, mb, 0, 0, 8),
	      PAELLA_STATUS_INVALID_ARGUMENT);
	message_has("model buffer");
	ST_EQ(paella_model_add_copy(m, PAELLA_COPY_INPUT, jb, 1000, 0, 100),
	      PAELLA_STATUS_INVALID_ARGUMENT);
	ST_EQ(paella_model_finalize(m, 1), PAELLA_STATUS_INVALID_ARGUMENT);
	message_has("no kernel");
	ST_EQ(paella_model_add_copy(m, PAELLA_COPY_INPUT, jb, 0, 0, 100), PAELLA_STATUS_OK);
	ST_EQ(paella_model_add_kernel(m, &s), PAELLA_STATUS_OK);
	ST_EQ(paella_model_add_copy(m, PAELLA_COPY_OUTPUT, jb, 0, 0, 100), PAELLA_STATUS_OK);
	ST_EQ(paella_model_finalize(m, 0), PAELLA_STATUS_INVALID_ARGUMENT);
	ST_EQ(paella_model_finalize(m, 2), PAELLA_STATUS_OK);
	ST_EQ(paella_model_add_kernel(m, &s), PAELLA_STATUS_INVALID_ARGUMENT);
	message_has("finalized");
	ST_EQ(paella_model_finalize(m, 2), PAELLA_STATUS_INVALID_ARGUMENT);

	/* A module used by a model stays. */
	ST_EQ(paella_module_unload(mod), PAELLA_STATUS_BUSY);
	ST_EQ(paella_model_destroy(m), PAELLA_STATUS_OK);
	ST_EQ(paella_module_unload(mod), PAELLA_STATUS_OK);
	ST_EQ(paella_model_destroy(NULL), PAELLA_STATUS_INVALID_ARGUMENT);
	paella_runtime_destroy(rt);
}
END_TEST

PAELLA_TEST(runtime_model_estimate)
{
	struct paella_runtime *rt = manual_rt();
	struct paella_module *mod = fixture_module(rt);
	struct paella_model *m = fixture_chain(rt, mod, "m", "k10", 3, WAVE_BLOCKS + 1, 1);
	uint64_t ns = 0;

	/* Alone: two waves (one full, one of a block) per kernel. */
	ST_EQ(paella_model_estimate_ns(m, &ns), PAELLA_STATUS_OK);
	ck_assert_uint_eq(ns, 3 * 2 * 10 * US);
	ST_EQ(paella_model_estimate_ns(NULL, &ns), PAELLA_STATUS_INVALID_ARGUMENT);
	paella_runtime_destroy(rt);
}
END_TEST

/* The calls that hand a result back clear it, and name themselves and the
 * NULL argument, as the public header calls it. */
PAELLA_TEST(runtime_null_arguments_named)
{
	struct paella_runtime *rt = manual_rt();
	struct paella_module *mod = fixture_module(rt);
	struct paella_model *m = fixture_chain(rt, mod, "m", "k10", 1, 100, 1);
	struct paella_model *mout = m;
	struct paella_stream *sout = (struct paella_stream *)m;
	struct paella_runtime_stats rs;
	struct paella_job_times times;
	uint64_t addr = 7, ns = 7;

	ST_EQ(paella_model_create(NULL, "x", &mout), PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_ptr_null(mout);
	ck_assert_str_eq(paella_last_error(), "paella_model_create: rt is NULL");
	ST_EQ(paella_model_create(rt, "x", NULL), PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_str_eq(paella_last_error(), "paella_model_create: out is NULL");
	ST_EQ(paella_model_buffer_address(NULL, 0, &addr), PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_uint_eq(addr, 0);
	ck_assert_str_eq(paella_last_error(), "paella_model_buffer_address: model is NULL");
	ST_EQ(paella_model_buffer_address(m, 0, NULL), PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_str_eq(paella_last_error(), "paella_model_buffer_address: address is NULL");
	ST_EQ(paella_model_estimate_ns(NULL, &ns), PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_uint_eq(ns, 0);
	ck_assert_str_eq(paella_last_error(), "paella_model_estimate_ns: model is NULL");
	ST_EQ(paella_stream_create(NULL, 0, &sout), PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_ptr_null(sout);
	ck_assert_str_eq(paella_last_error(), "paella_stream_create: rt is NULL");
	memset(&rs, 0xff, sizeof(rs));
	ST_EQ(paella_runtime_stats(NULL, &rs), PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_uint_eq(rs.jobs_submitted, 0);
	ck_assert_str_eq(paella_last_error(), "paella_runtime_stats: rt is NULL");
	ST_EQ(paella_runtime_stats(rt, NULL), PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_str_eq(paella_last_error(), "paella_runtime_stats: out is NULL");
	ST_EQ(paella_job_times(NULL, &times), PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_str_eq(paella_last_error(), "paella_job_times: job is NULL");
	paella_runtime_destroy(rt);
}
END_TEST

/* ---- jobs --------------------------------------------------------------------- */

PAELLA_TEST(runtime_submit_errors_lose_nothing)
{
	struct paella_runtime *rt = manual_rt();
	struct paella_module *mod = fixture_module(rt);
	struct paella_model *m = fixture_chain(rt, mod, "m", "k10", 2, 100, 2);
	struct paella_model *unfinished;
	struct fixture_request good[4], bad;
	struct paella_job_desc d;
	struct paella_job *job = (struct paella_job *)1;
	unsigned char big[IO_BYTES * 2];
	struct paella_runtime_stats rs;

	for (unsigned i = 0; i < 4; i++) {
		fixture_request_fill(&good[i], i);
		fixture_submit(m, &good[i], 0);
	}
	fixture_request_fill(&bad, 9);
	memset(&d, 0, sizeof(d));
	d.input = big;
	d.input_bytes = sizeof(big);
	d.output = bad.output;
	d.output_bytes = IO_BYTES;
	ST_EQ(paella_job_submit(m, &d, &job), PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_ptr_null(job);
	message_has("takes 64 bytes of input");
	d.input_bytes = IO_BYTES;
	d.output_bytes = 1;
	ST_EQ(paella_job_submit(m, &d, &job), PAELLA_STATUS_INVALID_ARGUMENT);
	d.output_bytes = IO_BYTES;
	d.input = NULL;
	ST_EQ(paella_job_submit(m, &d, &job), PAELLA_STATUS_INVALID_ARGUMENT);
	d.input = big;
	ST_EQ(paella_job_submit(NULL, &d, &job), PAELLA_STATUS_INVALID_ARGUMENT);
	ST_EQ(paella_job_submit(m, NULL, &job), PAELLA_STATUS_INVALID_ARGUMENT);
	ST_EQ(paella_model_create(rt, "unfinished", &unfinished), PAELLA_STATUS_OK);
	ST_EQ(paella_job_submit(unfinished, &d, &job), PAELLA_STATUS_INVALID_ARGUMENT);
	message_has("paella_model_finalize");

	ST_EQ(paella_job_poll(NULL), PAELLA_STATUS_INVALID_ARGUMENT);
	ST_EQ(paella_job_wait(NULL, -1), PAELLA_STATUS_INVALID_ARGUMENT);
	ST_EQ(paella_job_times(NULL, NULL), PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_ptr_null(paella_job_user_data(NULL));
	paella_job_release(NULL);
	ST_EQ(paella_runtime_stats(NULL, &rs), PAELLA_STATUS_INVALID_ARGUMENT);
	ST_EQ(paella_runtime_shutdown(NULL), PAELLA_STATUS_INVALID_ARGUMENT);
	ST_EQ(paella_runtime_run_until_idle(NULL), PAELLA_STATUS_INVALID_ARGUMENT);
	paella_runtime_destroy(NULL);

	/* A model with jobs queued is not destroyed. */
	ST_EQ(paella_model_destroy(m), PAELLA_STATUS_BUSY);
	ST_EQ(paella_model_write_buffer(m, 0, 0, big, 1), PAELLA_STATUS_INVALID_ARGUMENT);

	/* After shutdown nothing is accepted, and what was is done. */
	ST_EQ(paella_runtime_shutdown(rt), PAELLA_STATUS_OK);
	ST_EQ(paella_job_submit(m, &d, &job), PAELLA_STATUS_SHUT_DOWN);
	message_has("shutting down");
	ST_EQ(paella_runtime_stats(rt, &rs), PAELLA_STATUS_OK);
	ck_assert_uint_eq(rs.jobs_submitted, 4);
	ck_assert_uint_eq(rs.jobs_completed, 4);
	for (unsigned i = 0; i < 4; i++) {
		ck_assert_uint_eq(good[i].completions, 1);
		ST_EQ(paella_job_poll(good[i].job), PAELLA_STATUS_OK);
		ck_assert(memcmp(good[i].input, good[i].output, IO_BYTES) == 0);
	}
	ST_EQ(paella_model_destroy(m), PAELLA_STATUS_OK);
	paella_runtime_destroy(rt);
	/* Handles outlive the runtime. */
	for (unsigned i = 0; i < 4; i++) {
		ST_EQ(paella_job_wait(good[i].job, -1), PAELLA_STATUS_OK);
		ck_assert_ptr_eq(paella_job_user_data(good[i].job), &good[i]);
		paella_job_release(good[i].job);
	}
}
END_TEST

PAELLA_TEST(runtime_manual_wait_and_timeout)
{
	struct paella_runtime *rt = manual_rt();
	struct paella_module *mod = fixture_module(rt);
	struct paella_model *m = fixture_chain(rt, mod, "m", "k50", 4, WAVE_BLOCKS, 1);
	struct fixture_request r;
	uint64_t t0;

	fixture_request_fill(&r, 1);
	fixture_submit(m, &r, 0);
	ST_EQ(paella_job_poll(r.job), PAELLA_STATUS_BUSY);
	ST_EQ(paella_job_wait(r.job, 0), PAELLA_STATUS_TIMEOUT);
	/* Four 50 us kernels cannot be done in 20 us of virtual time. */
	t0 = paella_runtime_now_ns(rt);
	ST_EQ(paella_job_wait(r.job, 20 * US), PAELLA_STATUS_TIMEOUT);
	ck_assert_uint_eq(paella_runtime_now_ns(rt), t0 + 20 * US);
	ST_EQ(paella_job_wait(r.job, -1), PAELLA_STATUS_OK);
	ck_assert_uint_eq(r.completions, 1);
	ck_assert(paella_runtime_now_ns(rt) >= 200 * US);
	ST_EQ(paella_runtime_run_until(rt, paella_runtime_now_ns(rt) + 5 * US), PAELLA_STATUS_OK);
	paella_job_release(r.job);
	paella_runtime_destroy(rt);
}
END_TEST

PAELLA_TEST(runtime_thread_mode_wait)
{
	struct paella_config c = fixture_config(PAELLA_POLICY_SRPT, PAELLA_DISPATCH_THREAD, 0.05);
	struct paella_runtime *rt = fixture_runtime(&c);
	struct paella_module *mod = fixture_module(rt);
	struct paella_model *m = fixture_chain(rt, mod, "m", "k10", 5, 3000, 4);
	struct fixture_request r[8];

	ST_EQ(paella_runtime_run_until_idle(rt), PAELLA_STATUS_UNSUPPORTED);
	for (unsigned i = 0; i < 8; i++) {
		fixture_request_fill(&r[i], i);
		fixture_submit(m, &r[i], 0);
	}
	for (unsigned i = 0; i < 8; i++) {
		struct paella_job_times t;

		ST_EQ(paella_job_wait(r[i].job, -1), PAELLA_STATUS_OK);
		/* The callback ran before the wait returned. */
		ck_assert_uint_eq(r[i].completions, 1);
		ck_assert(memcmp(r[i].input, r[i].output, IO_BYTES) == 0);
		t = fixture_times(r[i].job);
		ck_assert(t.submitted_ns <= t.first_launch_ns && t.first_launch_ns < t.completed_ns);
		paella_job_release(r[i].job);
	}
	/* The dispatcher sleeps now; a new job wakes it. */
	fixture_request_fill(&r[0], 100);
	fixture_submit(m, &r[0], 0);
	ST_EQ(paella_job_wait(r[0].job, 10ll * 1000 * 1000 * 1000), PAELLA_STATUS_OK);
	paella_job_release(r[0].job);
	paella_runtime_destroy(rt);
}
END_TEST

PAELLA_TEST(runtime_destroy_drains_queued_jobs)
{
	struct paella_config c = fixture_config(PAELLA_POLICY_FIFO, PAELLA_DISPATCH_THREAD, 0.05);
	struct paella_runtime *rt = fixture_runtime(&c);
	struct paella_module *mod = fixture_module(rt);
	struct paella_model *m = fixture_chain(rt, mod, "m", "k10", 10, 2000, 2);
	struct fixture_request r[20];

	for (unsigned i = 0; i < 20; i++) {
		fixture_request_fill(&r[i], i);
		fixture_submit(m, &r[i], 0);
	}
	paella_runtime_destroy(rt);
	for (unsigned i = 0; i < 20; i++) {
		ck_assert_uint_eq(r[i].completions, 1);
		ST_EQ(paella_job_poll(r[i].job), PAELLA_STATUS_OK);
		paella_job_release(r[i].job);
	}
}
END_TEST

/* ---- many threads ---------------------------------------------------------------- */

#define THREADS 16
#define JOBS_PER_THREAD 40

struct submitter {
	struct paella_model *models[2];
	struct fixture_request req[JOBS_PER_THREAD];
	unsigned index;
	unsigned errors;
};

static void *
submit_many(void *arg)
{
	struct submitter *s = arg;

	for (unsigned i = 0; i < JOBS_PER_THREAD; i++) {
		struct fixture_request *r = &s->req[i];
		struct paella_job_desc d;

		fixture_request_fill(r, s->index * 1000 + i);
		memset(&d, 0, sizeof(d));
		d.input = r->input;
		d.input_bytes = IO_BYTES;
		d.output = r->output;
		d.output_bytes = IO_BYTES;
		d.callback = fixture_count_completion;
		d.user_data = r;
		if (paella_job_submit(s->models[(s->index + i) % 2], &d, &r->job) != PAELLA_STATUS_OK)
			s->errors++;
		/* Every other job is waited for at once, the rest later. */
		if (i % 2 == 0 && paella_job_wait(r->job, -1) != PAELLA_STATUS_OK)
			s->errors++;
	}
	for (unsigned i = 0; i < JOBS_PER_THREAD; i++) {
		if (paella_job_wait(s->req[i].job, -1) != PAELLA_STATUS_OK ||
		    memcmp(s->req[i].input, s->req[i].output, IO_BYTES) != 0)
			s->errors++;
	}
	return NULL;
}

PAELLA_TEST(runtime_16_threads_submit_at_once)
{
	struct paella_config c = fixture_config(PAELLA_POLICY_SRPT, PAELLA_DISPATCH_THREAD, 0.1);
	struct paella_runtime *rt = fixture_runtime(&c);
	struct paella_module *mod = fixture_module(rt);
	struct paella_model *a = fixture_chain(rt, mod, "a", "k10", 3, 800, 8);
	struct paella_model *b = fixture_chain(rt, mod, "b", "k50", 2, 2500, 8);
	struct submitter *s = calloc(THREADS, sizeof(*s));
	pthread_t th[THREADS];
	struct paella_runtime_stats rs;

	for (unsigned i = 0; i < THREADS; i++) {
		s[i].models[0] = a;
		s[i].models[1] = b;
		s[i].index = i;
		ck_assert_int_eq(pthread_create(&th[i], NULL, submit_many, &s[i]), 0);
	}
	for (unsigned i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	ST_EQ(paella_runtime_stats(rt, &rs), PAELLA_STATUS_OK);
	ck_assert_uint_eq(rs.jobs_submitted, THREADS * JOBS_PER_THREAD);
	ck_assert_uint_eq(rs.jobs_completed, THREADS * JOBS_PER_THREAD);
	for (unsigned i = 0; i < THREADS; i++) {
		ck_assert_uint_eq(s[i].errors, 0);
		for (unsigned j = 0; j < JOBS_PER_THREAD; j++) {
			ck_assert_uint_eq(s[i].req[j].completions, 1);
			paella_job_release(s[i].req[j].job);
		}
	}
	paella_runtime_destroy(rt);
	free(s);
}
END_TEST

PAELLA_CHECK_MAIN("runtime", 120, NULL, NULL)
