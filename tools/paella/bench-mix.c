/*
 * bench-mix.c - mixes, the open-loop workload and the percentile rule of
 * `paella bench`: arithmetic only, no runtime, so that the tests reach it.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* Copies of tools/paella/mixes/fig11.mix and fig12.mix (tests/bench checks
 * that they match), so that the binary runs where the tree is not. */
static const struct {
	const char *name;
	const char *text;
} builtin_mixes[] = {
	{ "fig11",
	  "resnet18       0.272   38\n"
	  "mobilenet_v2   0.257   36\n"
	  "resnet34       0.168   24\n"
	  "squeezenet1_1  0.0895  13\n"
	  "resnet50       0.0745  10\n"
	  "densenet121    0.0706  10\n"
	  "googlenet      0.0546   8\n"
	  "inception_v3   0.0138   2\n" },
	{ "fig12",
	  "resnet18       0.952  119\n"
	  "inception_v3   0.048    6\n" },
};

const char *
bench_mix_builtin_names(void)
{
	return "fig11, fig12";
}

const char *
bench_mix_builtin_text(const char *name)
{
	for (size_t i = 0; i < sizeof(builtin_mixes) / sizeof(builtin_mixes[0]); i++)
		if (strcmp(name, builtin_mixes[i].name) == 0)
			return builtin_mixes[i].text;
	return NULL;
}

static int __attribute__((format(printf, 5, 6)))
mix_error(char *err, size_t errlen, const char *source, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (line)
		k = snprintf(err, errlen, "%s:%u: ", source, line);
	else
		k = snprintf(err, errlen, "%s: ", source);
	if (k < 0 || (size_t)k >= errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

int
bench_mix_parse(const char *text, const char *source, struct bench_mix *mix, char *err,
		size_t errlen)
{
	unsigned lineno = 0;
	const char *p = text;

	memset(mix, 0, sizeof(*mix));
	while (*p) {
		char line[512], *fields[4], *save = NULL, *tok, *end;
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		unsigned nf = 0;
		struct bench_mix_model *m;
		double share;
		long cap;

		lineno++;
		if (len >= sizeof(line))
			return mix_error(err, errlen, source, lineno, "line longer than %zu characters",
					 sizeof(line) - 1);
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (nl ? 1 : 0);
		if ((tok = strchr(line, '#')) != NULL)
			*tok = '\0';
		for (tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
			if (nf == 3)
				return mix_error(err, errlen, source, lineno,
						 "more than three fields (MODEL SHARE CAP): '%s'", tok);
			fields[nf++] = tok;
		}
		if (nf == 0)
			continue;
		if (nf != 3)
			return mix_error(err, errlen, source, lineno,
					 "%u field%s, expected three: MODEL SHARE CAP", nf,
					 nf == 1 ? "" : "s");
		if (strlen(fields[0]) >= BENCH_NAME_MAX)
			return mix_error(err, errlen, source, lineno, "model name longer than %d "
					 "characters", BENCH_NAME_MAX - 1);
		for (unsigned i = 0; i < mix->nmodels; i++)
			if (strcmp(mix->models[i].name, fields[0]) == 0)
				return mix_error(err, errlen, source, lineno,
						 "model '%s' named twice", fields[0]);
		if (mix->nmodels == BENCH_MAX_MODELS)
			return mix_error(err, errlen, source, lineno, "more than %d models",
					 BENCH_MAX_MODELS);
		errno = 0;
		share = strtod(fields[1], &end);
		if (errno || end == fields[1] || *end || !isfinite(share) || !(share > 0))
			return mix_error(err, errlen, source, lineno,
					 "share '%s' is not a positive number", fields[1]);
		errno = 0;
		cap = strtol(fields[2], &end, 10);
		if (errno || end == fields[2] || *end || cap < 1 || cap > BENCH_MAX_CAP)
			return mix_error(err, errlen, source, lineno,
					 "cap '%s' is not an integer 1 to %d", fields[2], BENCH_MAX_CAP);
		m = &mix->models[mix->nmodels++];
		snprintf(m->name, sizeof(m->name), "%s", fields[0]);
		m->share = share;
		m->cap = (unsigned)cap;
		mix->total_share += share;
		mix->total_cap += m->cap;
	}
	if (mix->nmodels == 0)
		return mix_error(err, errlen, source, 0, "no models (lines of MODEL SHARE CAP)");
	if (mix->total_cap > BENCH_MAX_CAP)
		return mix_error(err, errlen, source, 0, "%u requests in flight in all, more than %d",
				 mix->total_cap, BENCH_MAX_CAP);
	return 0;
}

int
bench_mix_load(const char *arg, struct bench_mix *mix, char *err, size_t errlen)
{
	const char *text = bench_mix_builtin_text(arg);
	const char *base;
	char *buf = NULL;
	size_t len;
	int rc;

	if (text != NULL) {
		rc = bench_mix_parse(text, arg, mix, err, errlen);
		snprintf(mix->name, sizeof(mix->name), "%s", arg);
		return rc;
	}
	if (strchr(arg, '/') == NULL && strstr(arg, ".mix") == NULL)
		return mix_error(err, errlen, arg, 0, "no such built-in mix (%s), nor a file "
				 "(a path with a '/' or ending in .mix)", bench_mix_builtin_names());
	FILE *f = fopen(arg, "r");
	if (f == NULL)
		return mix_error(err, errlen, arg, 0, "cannot read: %s", strerror(errno));
	buf = malloc(1 << 16);
	if (buf == NULL) {
		fclose(f);
		return mix_error(err, errlen, arg, 0, "out of memory");
	}
	len = fread(buf, 1, (1 << 16) - 1, f);
	if (!feof(f)) {
		fclose(f);
		free(buf);
		return mix_error(err, errlen, arg, 0, "larger than 64 KiB: not a mix");
	}
	fclose(f);
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		free(buf);
		return mix_error(err, errlen, arg, 0, "binary file: not a mix");
	}
	rc = bench_mix_parse(buf, arg, mix, err, errlen);
	free(buf);
	base = strrchr(arg, '/');
	base = base ? base + 1 : arg;
	len = strcspn(base, ".");
	if (len == 0 || len >= sizeof(mix->name))
		len = strlen(base) < sizeof(mix->name) ? strlen(base) : sizeof(mix->name) - 1;
	memcpy(mix->name, base, len);
	mix->name[len] = '\0';
	return rc;
}

/* ---- random numbers -------------------------------------------------------- */

uint64_t
bench_rng_seed(uint64_t seed)
{
	uint64_t z = seed + 0x9E3779B97F4A7C15ull;

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	return z ? z : 0x2545F4914F6CDD1Dull;
}

uint64_t
bench_rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

double
bench_rng_uniform(uint64_t *s)
{
	return ((bench_rng_next(s) >> 11) + 0.5) / 9007199254740992.0;
}

double
bench_rng_normal(uint64_t *s)
{
	double u1 = bench_rng_uniform(s), u2 = bench_rng_uniform(s);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double
bench_rng_lognormal(uint64_t *s, double mean, double sigma)
{
	double mu = log(mean) - sigma * sigma / 2.0;

	return exp(mu + sigma * bench_rng_normal(s));
}

void
bench_arrivals(const struct bench_mix *mix, unsigned n, double iat_ns, double sigma,
	       uint64_t seed, struct bench_request *out)
{
	/* Two streams, so that the models drawn do not depend on the rate. */
	uint64_t ms = bench_rng_seed(seed * 2 + 1), ts = bench_rng_seed(seed * 2 + 2);
	double t = 0;

	for (unsigned i = 0; i < n; i++) {
		double u = bench_rng_uniform(&ms) * mix->total_share;
		unsigned m = 0;

		while (m + 1 < mix->nmodels && u >= mix->models[m].share) {
			u -= mix->models[m].share;
			m++;
		}
		if (iat_ns > 0)
			t += bench_rng_lognormal(&ts, iat_ns, sigma);
		out[i].at_ns = (uint64_t)t;
		out[i].model = m;
	}
}

/* ---- statistics ------------------------------------------------------------ */

uint64_t
bench_percentile(const uint64_t *sorted, size_t n, double q)
{
	size_t i = (size_t)((double)n * q);

	return sorted[i < n ? i : n - 1];
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

void
bench_stats_compute(uint64_t *lat, unsigned n, uint64_t span_ns, struct bench_stats *out)
{
	double sum = 0;

	memset(out, 0, sizeof(*out));
	out->n = n;
	if (n == 0) {
		out->mean_us = out->p50_us = out->p90_us = out->p95_us = out->p99_us =
			out->max_us = NAN;
		return;
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
	for (unsigned i = 0; i < n; i++)
		sum += (double)lat[i];
	out->throughput = span_ns ? n / (span_ns / 1e9) : NAN;
	out->mean_us = sum / n / 1e3;
	out->p50_us = bench_percentile(lat, n, 0.50) / 1e3;
	out->p90_us = bench_percentile(lat, n, 0.90) / 1e3;
	out->p95_us = bench_percentile(lat, n, 0.95) / 1e3;
	out->p99_us = bench_percentile(lat, n, 0.99) / 1e3;
	out->max_us = lat[n - 1] / 1e3;
}

int
bench_parse_list(const char *s, double *out, unsigned max)
{
	char buf[1024], *save = NULL, *end;
	unsigned n = 0;

	if (strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		double v;

		errno = 0;
		v = strtod(p, &end);
		if (errno || end == p || *end || !isfinite(v) || n == max)
			return -1;
		out[n++] = v;
	}
	return n ? (int)n : -1;
}
