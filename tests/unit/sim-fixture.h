/*
 * sim-fixture.h - simulated runtimes, modules and models for the unit
 * tests of the runtime.  Header-only: each test program is its own binary.
 *
 * The module's kernels, on the simulated H100 (132 SMs): 256-thread blocks
 * of 32 registers fit 8 to an SM, so a wave is 1,056 blocks.
 *	k10	10 us per block, instrumented
 *	k50	50 us per block, instrumented
 *	kraw	10 us per block, left uninstrumented by the pass
 * Each takes two parameters: a buffer and an int.
 *
 * A chain model is: copy the input into a job buffer, N launches of one
 * kernel, copy the buffer to the output.  The simulator moves the bytes, so
 * the output equals the input when the data path is right.
 */
#ifndef PAELLA_TEST_SIM_FIXTURE_H
#define PAELLA_TEST_SIM_FIXTURE_H

#include <check.h>
#include <stdint.h>
#include <string.h>

#include "paella/instrument-abi.h"
#include "paella/paella.h"

#define WAVE_BLOCKS 1056u
#define IO_BYTES 64u
#define US 1000ull

/* Checks that a call returns the wanted status; says the message if not. */
#define ST_EQ(call, want) \
	do { \
		enum paella_status st_ = (call); \
		ck_assert_msg(st_ == (want), "%s: %s, expected %s (%s)", #call, \
			      paella_status_name(st_), paella_status_name(want), \
			      paella_last_error()); \
	} while (0)

/* Checks that the thread's last error message contains needle. */
static inline void
message_has(const char *needle)
{
	ck_assert_msg(strstr(paella_last_error(), needle) != NULL,
		      "message \"%s\" lacks \"%s\"", paella_last_error(), needle);
}

static const char fixture_manifest[] =
	"paella-manifest 2\n"
	"K k10 2 sample\n"
	"K k50 2 sample\n"
	"U kraw 2 skip-attribute\n"
	"K kc10 2 count\n"
	"K k1 2 sample\n";

static const struct paella_sim_kernel fixture_kernels[] = {
	{ "k10", 32, 0, 10 * US },
	{ "k50", 32, 0, 50 * US },
	{ "kraw", 32, 0, 10 * US },
	{ "kc10", 32, 0, 10 * US },
	{ "k1", 32, 0, 1 * US },
};

static inline struct paella_config
fixture_config(enum paella_policy policy, enum paella_dispatch_mode mode, double jitter)
{
	struct paella_config c;

	paella_config_init(&c);
	c.backend = PAELLA_BACKEND_SIM;
	c.policy = policy;
	c.dispatch_mode = mode;
	c.sim_jitter = jitter;
	c.sim_seed = 42;
	return c;
}

static inline struct paella_runtime *
fixture_runtime(const struct paella_config *c)
{
	struct paella_runtime *rt = NULL;
	enum paella_status st = paella_runtime_create(c, &rt);

	ck_assert_msg(st == PAELLA_STATUS_OK, "runtime: %s: %s", paella_status_name(st),
		      paella_last_error());
	return rt;
}

static inline struct paella_module *
fixture_module(struct paella_runtime *rt)
{
	struct paella_sim_module desc = { PAELLA_ABI_VERSION, fixture_manifest,
					  fixture_kernels, 5 };
	struct paella_module *mod = NULL;
	enum paella_status st = paella_module_load_sim(rt, &desc, &mod);

	ck_assert_msg(st == PAELLA_STATUS_OK, "module: %s", paella_last_error());
	return mod;
}

/* A chain of @n launches of @kernel, each of @blocks blocks of 256 threads. */
static inline struct paella_model *
fixture_chain(struct paella_runtime *rt, struct paella_module *mod, const char *name,
	      const char *kernel, unsigned n, unsigned blocks, unsigned concurrent)
{
	struct paella_model *m = NULL;
	unsigned buf = 0;
	int len = 1000;
	struct paella_arg args[2];
	struct paella_kernel_step step;
	enum paella_status st;

	ck_assert_int_eq(paella_model_create(rt, name, &m), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_model_add_buffer(m, PAELLA_BUFFER_JOB, 4096, &buf),
			 PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_model_add_copy(m, PAELLA_COPY_INPUT, buf, 0, 0, IO_BYTES),
			 PAELLA_STATUS_OK);
	args[0] = paella_arg_buffer(buf, 0);
	args[1] = paella_arg_value(&len, sizeof(len));
	memset(&step, 0, sizeof(step));
	step.module = mod;
	step.kernel = kernel;
	step.grid.x = blocks;
	step.grid.y = 1;
	step.grid.z = 1;
	step.block.x = 256;
	step.block.y = 1;
	step.block.z = 1;
	step.args = args;
	step.nargs = 2;
	for (unsigned i = 0; i < n; i++) {
		st = paella_model_add_kernel(m, &step);
		ck_assert_msg(st == PAELLA_STATUS_OK, "add_kernel: %s", paella_last_error());
	}
	ck_assert_int_eq(paella_model_add_copy(m, PAELLA_COPY_OUTPUT, buf, 0, 0, IO_BYTES),
			 PAELLA_STATUS_OK);
	st = paella_model_finalize(m, concurrent);
	ck_assert_msg(st == PAELLA_STATUS_OK, "finalize: %s", paella_last_error());
	return m;
}

/* One request and the buffers it reads and writes. */
struct fixture_request {
	unsigned char input[IO_BYTES];
	unsigned char output[IO_BYTES];
	struct paella_job *job;
	unsigned completions;
	enum paella_status status;
};

static inline void
fixture_request_fill(struct fixture_request *r, unsigned seed)
{
	for (unsigned i = 0; i < IO_BYTES; i++)
		r->input[i] = (unsigned char)(seed * 31 + i * 7 + 1);
	memset(r->output, 0, sizeof(r->output));
	r->completions = 0;
	r->job = NULL;
}

static inline void
fixture_count_completion(struct paella_job *job, enum paella_status status, void *data)
{
	struct fixture_request *r = data;

	__atomic_add_fetch(&r->completions, 1, __ATOMIC_RELAXED);
	r->status = status;
}

/* A job description that reads r's input and writes r's output. */
static inline struct paella_job_desc
fixture_desc(struct fixture_request *r)
{
	struct paella_job_desc d;

	memset(&d, 0, sizeof(d));
	d.input = r->input;
	d.input_bytes = IO_BYTES;
	d.output = r->output;
	d.output_bytes = IO_BYTES;
	return d;
}

static inline void
fixture_submit(struct paella_model *m, struct fixture_request *r, uint64_t deadline_ns)
{
	struct paella_job_desc d = fixture_desc(r);
	enum paella_status st;

	d.deadline_ns = deadline_ns;
	d.callback = fixture_count_completion;
	d.user_data = r;
	st = paella_job_submit(m, &d, &r->job);
	ck_assert_msg(st == PAELLA_STATUS_OK, "submit: %s", paella_last_error());
}

static inline struct paella_job_times
fixture_times(struct paella_job *job)
{
	struct paella_job_times t;

	ck_assert_int_eq(paella_job_times(job, &t), PAELLA_STATUS_OK);
	return t;
}

#endif /* PAELLA_TEST_SIM_FIXTURE_H */
