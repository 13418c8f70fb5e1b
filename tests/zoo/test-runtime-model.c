/*
 * test-runtime-model - zoo plans as libpaellart models (runtime-model.c) on
 * the simulated GPU: resnet18 (with random weights written to its model
 * buffer) and mobilenet_v2 serve jobs to completion, side by side; every
 * model of the zoo builds and runs one job; the random weights are
 * deterministic and finite; every launch gets a block duration.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "paella/paella.h"
#include "paella/zoo.h"
#include "zoo-private.h"
#include "../check-main.h"

static struct paella_runtime *
sim_runtime(enum paella_policy policy)
{
	struct paella_config cfg;
	struct paella_runtime *rt = NULL;

	paella_config_init(&cfg);
	cfg.backend = PAELLA_BACKEND_SIM;
	cfg.dispatch_mode = PAELLA_DISPATCH_MANUAL;
	cfg.policy = policy;
	cfg.sim_card = "H200";
	cfg.sim_seed = 7;
	ck_assert_int_eq(paella_runtime_create(&cfg, &rt), PAELLA_STATUS_OK);
	return rt;
}

static size_t
io_input(const struct paella_zoo_model *m)
{
	size_t n;

	paella_zoo_model_io_bytes(m, &n, NULL);
	return n;
}

static size_t
io_output(const struct paella_zoo_model *m)
{
	size_t n;

	paella_zoo_model_io_bytes(m, NULL, &n);
	return n;
}

static struct paella_zoo_plan *
plan_of(const char *name)
{
	struct paella_zoo_plan *p = NULL;

	ck_assert_int_eq(paella_zoo_build(name, NULL, &p), PAELLA_STATUS_OK);
	return p;
}

PAELLA_TEST(rtmodel_serve_resnet18_mobilenet)
{
	struct paella_runtime *rt = sim_runtime(PAELLA_POLICY_SRPT);
	const char *names[2] = { "resnet18", "mobilenet_v2" };
	struct paella_zoo_plan *plans[2];
	struct paella_zoo_model *ms[2];
	enum { JOBS = 4 };
	struct paella_job *jobs[2][JOBS];
	float *in[2], *out[2][JOBS];
	float *blob = NULL;

	for (int m = 0; m < 2; m++) {
		uint64_t est = 0;

		plans[m] = plan_of(names[m]);
		blob = NULL;
		if (m == 0)
			ck_assert_int_eq(paella_zoo_random_blob(plans[m], 1, &blob),
					 PAELLA_STATUS_OK);
		ck_assert_int_eq(paella_zoo_model_create(rt, plans[m], blob, PAELLA_ZOO_VARIANT_SAMPLE,
							 NULL, 2, &ms[m]),
				 PAELLA_STATUS_OK);
		free(blob);
		ck_assert_uint_eq(paella_zoo_model_sim_modules(ms[m]), plans[m]->nlaunches);
		ck_assert_uint_eq(io_input(ms[m]), (size_t)3 * 224 * 224 * 4);
		ck_assert_uint_eq(io_output(ms[m]), (size_t)1000 * 4);
		ck_assert_int_eq(paella_model_estimate_ns(paella_zoo_model_runtime(ms[m]), &est), PAELLA_STATUS_OK);
		/* Hundreds of microseconds, not nothing and not seconds. */
		ck_assert_uint_gt(est, 100000);
		ck_assert_uint_lt(est, 5000000);
		in[m] = calloc(io_input(ms[m]), 1);
		ck_assert_ptr_nonnull(in[m]);
	}
	/* Interleaved, more jobs than job sets: some wait for a set. */
	for (int j = 0; j < JOBS; j++)
		for (int m = 0; m < 2; m++) {
			struct paella_job_desc d = { 0 };

			out[m][j] = malloc(io_output(ms[m]));
			ck_assert_ptr_nonnull(out[m][j]);
			d.input = in[m];
			d.input_bytes = io_input(ms[m]);
			d.output = out[m][j];
			d.output_bytes = io_output(ms[m]);
			ck_assert_int_eq(paella_job_submit(paella_zoo_model_runtime(ms[m]), &d, &jobs[m][j]),
					 PAELLA_STATUS_OK);
		}
	ck_assert_int_eq(paella_runtime_run_until_idle(rt), PAELLA_STATUS_OK);
	for (int m = 0; m < 2; m++)
		for (int j = 0; j < JOBS; j++) {
			struct paella_job_times t;

			ck_assert_int_eq(paella_job_poll(jobs[m][j]), PAELLA_STATUS_OK);
			ck_assert_int_eq(paella_job_times(jobs[m][j], &t), PAELLA_STATUS_OK);
			ck_assert_uint_gt(t.completed_ns, t.submitted_ns);
			paella_job_release(jobs[m][j]);
			free(out[m][j]);
		}
	struct paella_runtime_stats st;
	ck_assert_int_eq(paella_runtime_stats(rt, &st), PAELLA_STATUS_OK);
	ck_assert_uint_eq(st.jobs_completed, 2 * JOBS);
	ck_assert_uint_eq(st.kernels_launched,
			  (uint64_t)JOBS * (plans[0]->nlaunches + plans[1]->nlaunches));
	for (int m = 0; m < 2; m++) {
		ck_assert_int_eq(paella_zoo_model_destroy(ms[m]), PAELLA_STATUS_OK);
		paella_zoo_plan_free(plans[m]);
		free(in[m]);
	}
	paella_runtime_destroy(rt);
}
END_TEST

PAELLA_TEST(rtmodel_every_model_one_job)
{
	struct paella_runtime *rt = sim_runtime(PAELLA_POLICY_FIFO);

	for (unsigned i = 0; i < paella_zoo_model_count(); i++) {
		struct paella_zoo_plan *p = plan_of(paella_zoo_model_at(i)->name);
		struct paella_zoo_model *m = NULL;
		struct paella_job *job;
		struct paella_job_desc d = { 0 };
		void *in, *out;

		for (unsigned l = 0; l < p->nlaunches; l++) {
			unsigned regs = 0, smem = 0;

			ck_assert_uint_gt(pzoo__sim_block_ns(&p->launches[l], &regs, &smem), 0);
			ck_assert_uint_gt(regs, 0);
		}
		ck_assert_int_eq(paella_zoo_model_create(rt, p, NULL, PAELLA_ZOO_VARIANT_SAMPLE, NULL, 1,
						 &m),
				 PAELLA_STATUS_OK);
		in = calloc(io_input(m), 1);
		out = calloc(io_output(m), 1);
		d.input = in;
		d.input_bytes = io_input(m);
		d.output = out;
		d.output_bytes = io_output(m);
		ck_assert_int_eq(paella_job_submit(paella_zoo_model_runtime(m), &d, &job), PAELLA_STATUS_OK);
		ck_assert_int_eq(paella_job_wait(job, -1), PAELLA_STATUS_OK);
		paella_job_release(job);
		ck_assert_int_eq(paella_zoo_model_destroy(m), PAELLA_STATUS_OK);
		free(in);
		free(out);
		paella_zoo_plan_free(p);
	}
	paella_runtime_destroy(rt);
}
END_TEST

PAELLA_TEST(rtmodel_random_blob)
{
	struct paella_zoo_plan *p = plan_of("squeezenet1_1");
	float *a = NULL, *b = NULL, *c = NULL;

	ck_assert_int_eq(paella_zoo_random_blob(p, 5, &a), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_zoo_random_blob(p, 5, &b), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_zoo_random_blob(p, 6, &c), PAELLA_STATUS_OK);
	ck_assert_int_eq(memcmp(a, b, p->param_floats * 4), 0);
	ck_assert_int_ne(memcmp(a, c, p->param_floats * 4), 0);
	for (uint64_t i = 0; i < p->param_floats; i++)
		ck_assert(isfinite(a[i]) && fabsf(a[i]) < 10.0f);
	free(a);
	free(b);
	free(c);
	paella_zoo_plan_free(p);
}
END_TEST

/* On sim the images are not needed; on a runtime without the images, a cuda
 * build of the model is refused with a message, not a crash: tested through
 * the NULL-modules check, which needs no GPU. */
PAELLA_TEST(rtmodel_unknown_image_dir)
{
	struct paella_runtime *rt = sim_runtime(PAELLA_POLICY_FIFO);
	struct paella_module *mods[PAELLA_ZOO_NIMAGES];

	ck_assert_int_eq(paella_zoo_modules_load(rt, "/nonexistent", PAELLA_ZOO_VARIANT_SAMPLE,
						 mods), PAELLA_STATUS_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(paella_zoo_last_error(), "/nonexistent/conv2d.cubin"));
	ck_assert_int_eq(paella_zoo_modules_load(rt, "/nonexistent", PAELLA_ZOO_VARIANT_COUNT,
						 mods), PAELLA_STATUS_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(paella_zoo_last_error(), "/nonexistent/conv2d.count.cubin"));
	ck_assert_int_eq(paella_zoo_modules_load(rt, "/nonexistent", PAELLA_ZOO_VARIANT_NOINST,
						 mods), PAELLA_STATUS_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(paella_zoo_last_error(), "/nonexistent/conv2d.noinst.cubin"));
	for (unsigned i = 0; i < PAELLA_ZOO_NIMAGES; i++)
		ck_assert_ptr_null(mods[i]);
	paella_runtime_destroy(rt);
}
END_TEST

PAELLA_TEST(rtmodel_variants)
{
	enum paella_zoo_variant v;

	for (unsigned i = 0; i < PAELLA_ZOO_NVARIANTS; i++) {
		ck_assert_int_eq(paella_zoo_variant_parse(
			paella_zoo_variant_name((enum paella_zoo_variant)i), &v), PAELLA_STATUS_OK);
		ck_assert_uint_eq(v, i);
	}
	ck_assert_str_eq(paella_zoo_variant_suffix(PAELLA_ZOO_VARIANT_COUNT), ".count");
	ck_assert_str_eq(paella_zoo_variant_suffix(PAELLA_ZOO_VARIANT_NOINST), ".noinst");
	ck_assert_str_eq(paella_zoo_variant_suffix(PAELLA_ZOO_VARIANT_SAMPLE), "");
	ck_assert_int_eq(paella_zoo_variant_parse("inst", &v), PAELLA_STATUS_OK);
	ck_assert_int_eq(v, PAELLA_ZOO_VARIANT_SAMPLE);
	ck_assert_int_eq(paella_zoo_variant_parse("fast", &v), PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_ptr_null(paella_zoo_variant_name(PAELLA_ZOO_NVARIANTS));
}
END_TEST

/* paella_zoo_model_build(), as a benchmark calls it: each variant on sim
 * serves a job; the model owns its plan. */
PAELLA_TEST(rtmodel_build_variants)
{
	struct paella_runtime *rt = sim_runtime(PAELLA_POLICY_FIFO);

	for (unsigned i = 0; i < PAELLA_ZOO_NVARIANTS; i++) {
		struct paella_zoo_model_config c;
		struct paella_zoo_model *m = NULL;
		struct paella_job_desc d = { 0 };
		struct paella_job *job;
		size_t ni, no;
		void *in, *out;

		paella_zoo_model_config_init(&c);
		c.name = "squeezenet1_1";
		c.variant = (enum paella_zoo_variant)i;
		c.seed = 3;
		c.concurrent_jobs = 2;
		ck_assert_int_eq(paella_zoo_model_build(rt, &c, &m), PAELLA_STATUS_OK);
		ck_assert_ptr_nonnull(paella_zoo_model_plan(m));
		ck_assert_str_eq(paella_zoo_model_plan(m)->model, "squeezenet1_1");
		paella_zoo_model_io_bytes(m, &ni, &no);
		ck_assert_uint_eq(ni, (size_t)3 * 224 * 224 * 4);
		ck_assert_uint_eq(no, (size_t)1000 * 4);
		in = calloc(ni, 1);
		out = calloc(no, 1);
		d.input = in;
		d.input_bytes = ni;
		d.output = out;
		d.output_bytes = no;
		ck_assert_int_eq(paella_job_submit(paella_zoo_model_runtime(m), &d, &job),
				 PAELLA_STATUS_OK);
		ck_assert_int_eq(paella_runtime_run_until_idle(rt), PAELLA_STATUS_OK);
		ck_assert_int_eq(paella_job_poll(job), PAELLA_STATUS_OK);
		paella_job_release(job);
		ck_assert_int_eq(paella_zoo_model_destroy(m), PAELLA_STATUS_OK);
		free(in);
		free(out);
	}
	/* Bad input is an error with a message, not a crash. */
	struct paella_zoo_model_config c;
	struct paella_zoo_model *m = (struct paella_zoo_model *)1;

	paella_zoo_model_config_init(&c);
	c.name = "alexnet";
	ck_assert_int_eq(paella_zoo_model_build(rt, &c, &m), PAELLA_STATUS_NOT_FOUND);
	ck_assert_ptr_null(m);
	ck_assert_ptr_nonnull(strstr(paella_zoo_last_error(), "alexnet"));
	c.name = "resnet18";
	c.weights_path = "/nonexistent.safetensors";
	ck_assert_int_eq(paella_zoo_model_build(rt, &c, &m), PAELLA_STATUS_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(paella_zoo_last_error(), "/nonexistent.safetensors"));
	c.weights_path = NULL;
	c.batch = 5000;
	ck_assert_int_eq(paella_zoo_model_build(rt, &c, &m), PAELLA_STATUS_INVALID_ARGUMENT);
	paella_runtime_destroy(rt);
}
END_TEST

PAELLA_CHECK_MAIN("runtime-model", 120, NULL, NULL)
