/*
 * test-bench.c - `paella bench`'s arithmetic: the mix files' parser and its
 * messages, the built-in mixes against the shipped files, the log-normal
 * inter-arrival times, the workload's draw by share, the percentile rule.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "../check-main.h"

static struct bench_mix mix;
static char err[512];

PAELLA_TEST(mix_parses_models_shares_caps)
{
	const char *text = "# a comment\n\n  resnet18 0.952 119   # the short one\n"
			   "inception_v3\t0.048\t6\n";

	ck_assert_int_eq(bench_mix_parse(text, "t.mix", &mix, err, sizeof(err)), 0);
	ck_assert_uint_eq(mix.nmodels, 2);
	ck_assert_str_eq(mix.models[0].name, "resnet18");
	ck_assert_double_eq_tol(mix.models[0].share, 0.952, 1e-12);
	ck_assert_uint_eq(mix.models[0].cap, 119);
	ck_assert_str_eq(mix.models[1].name, "inception_v3");
	ck_assert_uint_eq(mix.models[1].cap, 6);
	ck_assert_uint_eq(mix.total_cap, 125);
	ck_assert_double_eq_tol(mix.total_share, 1.0, 1e-12);
}
END_TEST

static void
expect_error(const char *text, const char *message)
{
	ck_assert_int_eq(bench_mix_parse(text, "bad.mix", &mix, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, message) != NULL, "wanted '%s' in '%s'", message, err);
}

PAELLA_TEST(mix_errors_name_the_line_and_problem)
{
	expect_error("a 1 2\nb 1\n", "bad.mix:2: 2 fields, expected three: MODEL SHARE CAP");
	expect_error("a 1 2 3\n", "bad.mix:1: more than three fields");
	expect_error("# x\na -1 2\n", "bad.mix:2: share '-1' is not a positive number");
	expect_error("a 0 2\n", "bad.mix:1: share '0' is not a positive number");
	expect_error("a 1x 2\n", "bad.mix:1: share '1x'");
	expect_error("a nan 2\n", "bad.mix:1: share 'nan'");
	expect_error("a 1 0\n", "bad.mix:1: cap '0' is not an integer 1 to 1024");
	expect_error("a 1 2.5\n", "bad.mix:1: cap '2.5'");
	expect_error("a 1 2000\n", "bad.mix:1: cap '2000'");
	expect_error("a 1 2\n\na 1 3\n", "bad.mix:3: model 'a' named twice");
	expect_error("# nothing\n\n", "bad.mix: no models");
	expect_error("a 1 1000\nb 1 1000\n", "bad.mix: 2000 requests in flight in all");
}
END_TEST

PAELLA_TEST(mix_load_unknown_name_and_missing_file)
{
	ck_assert_int_eq(bench_mix_load("fig99", &mix, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "no such built-in mix (fig11, fig12)"));
	ck_assert_int_eq(bench_mix_load("/nonexistent/x.mix", &mix, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.mix: cannot read"));
}
END_TEST

/* The binary's copies of fig11 and fig12 say what the shipped files say. */
PAELLA_TEST(mix_builtins_match_the_files)
{
	const char *names[] = { "fig11", "fig12" };
	const unsigned total_cap[] = { 141, 125 };

	for (unsigned i = 0; i < 2; i++) {
		struct bench_mix file;
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s.mix", BENCH_MIX_DIR, names[i]);
		ck_assert_msg(bench_mix_load(path, &file, err, sizeof(err)) == 0, "%s", err);
		ck_assert_int_eq(bench_mix_load(names[i], &mix, err, sizeof(err)), 0);
		ck_assert_str_eq(file.name, names[i]);
		ck_assert_str_eq(mix.name, names[i]);
		ck_assert_uint_eq(file.nmodels, mix.nmodels);
		ck_assert_uint_eq(mix.total_cap, total_cap[i]);
		for (unsigned m = 0; m < mix.nmodels; m++) {
			ck_assert_str_eq(file.models[m].name, mix.models[m].name);
			ck_assert(file.models[m].share == mix.models[m].share);
			ck_assert_uint_eq(file.models[m].cap, mix.models[m].cap);
		}
	}
}
END_TEST

/* Mean iat for a seed, sigma 1.5 and 2 (heavy tails: 10^6 draws). */
PAELLA_TEST(lognormal_mean_is_the_iat)
{
	const double sigmas[] = { 1.5, 2.0 };

	for (unsigned k = 0; k < 2; k++) {
		uint64_t s = bench_rng_seed(42);
		double sum = 0, logsum = 0;
		const unsigned n = 1000000;

		for (unsigned i = 0; i < n; i++) {
			double x = bench_rng_lognormal(&s, 500.0, sigmas[k]);

			sum += x;
			logsum += log(x);
		}
		/* mean iat within 5%, and the mean of ln x is mu. */
		ck_assert_double_eq_tol(sum / n, 500.0, 25.0);
		ck_assert_double_eq_tol(logsum / n, log(500.0) - sigmas[k] * sigmas[k] / 2, 0.01);
	}
}
END_TEST

PAELLA_TEST(arrivals_follow_shares_and_rate)
{
	struct bench_request *a = calloc(100000, sizeof(*a)), *b = calloc(100000, sizeof(*b));
	unsigned count[2] = { 0, 0 };

	ck_assert_int_eq(bench_mix_load("fig12", &mix, err, sizeof(err)), 0);
	bench_arrivals(&mix, 100000, 1e6, 1.5, 7, a);
	for (unsigned i = 0; i < 100000; i++) {
		count[a[i].model]++;
		if (i)
			ck_assert_uint_ge(a[i].at_ns, a[i - 1].at_ns);
	}
	ck_assert_double_eq_tol(count[1] / 100000.0, 0.048, 0.004);
	/* 100,000 arrivals of mean 1 ms: about 100 s. */
	ck_assert_double_eq_tol(a[99999].at_ns / 1e9, 100.0, 10.0);
	/* Same seed, twice the rate: the same models, half the times. */
	bench_arrivals(&mix, 100000, 5e5, 1.5, 7, b);
	for (unsigned i = 0; i < 100000; i += 997) {
		ck_assert_uint_eq(a[i].model, b[i].model);
		ck_assert_double_eq_tol((double)b[i].at_ns, a[i].at_ns / 2.0, 2.0);
	}
	/* iat 0: all at once. */
	bench_arrivals(&mix, 100, 0, 2, 7, b);
	ck_assert_uint_eq(b[99].at_ns, 0);
	free(a);
	free(b);
}
END_TEST

PAELLA_TEST(percentile_is_sorted_n_times_q)
{
	uint64_t v[100];
	struct bench_stats st;

	for (unsigned i = 0; i < 100; i++)
		v[i] = (uint64_t)(100 - i) * 1000; /* 100 us .. 1 us, unsorted */
	bench_stats_compute(v, 100, 2000000000ull, &st);
	/* sorted[i] = (i + 1) us: p99 = sorted[99], p50 = sorted[50], p90 = sorted[90]. */
	ck_assert_double_eq_tol(st.p99_us, 100.0, 1e-9);
	ck_assert_double_eq_tol(st.p50_us, 51.0, 1e-9);
	ck_assert_double_eq_tol(st.p90_us, 91.0, 1e-9);
	ck_assert_double_eq_tol(st.p95_us, 96.0, 1e-9);
	ck_assert_double_eq_tol(st.max_us, 100.0, 1e-9);
	ck_assert_double_eq_tol(st.mean_us, 50.5, 1e-9);
	ck_assert_double_eq_tol(st.throughput, 50.0, 1e-9);
	/* Past the end: the last one. */
	ck_assert_uint_eq(bench_percentile(v, 100, 1.0), 100000);
	ck_assert_uint_eq(bench_percentile(v, 1, 0.99), 1000);
	/* n = 1000: p99 = sorted[990]. */
	{
		uint64_t *w = malloc(1000 * sizeof(*w));

		for (unsigned i = 0; i < 1000; i++)
			w[i] = i;
		ck_assert_uint_eq(bench_percentile(w, 1000, 0.99), 990);
		free(w);
	}
	bench_stats_compute(v, 0, 0, &st);
	ck_assert(isnan(st.p99_us));
}
END_TEST

PAELLA_TEST(lists_parse)
{
	double v[4];

	ck_assert_int_eq(bench_parse_list("0.1,1e5,3", v, 4), 3);
	ck_assert(v[1] == 1e5);
	ck_assert_int_eq(bench_parse_list("1,,2", v, 4), 2);
	ck_assert_int_eq(bench_parse_list("1,x", v, 4), -1);
	ck_assert_int_eq(bench_parse_list("1,2,3,4,5", v, 4), -1);
	ck_assert_int_eq(bench_parse_list("", v, 4), -1);
}
END_TEST

PAELLA_CHECK_MAIN("bench", 30, NULL, NULL)
