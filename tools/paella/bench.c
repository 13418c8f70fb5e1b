/*
 * bench.c - `paella bench`: the serving benchmark of the original Paella's
 * Figs. 11, 12 and 13, every system on the same requests, swept over load,
 * in one command; CSV per point, a summary table on stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define MAX_SYSTEMS 32
#define MAX_MIXES 8
#define MAX_POINTS 32
#define MAX_SIGMAS 8
#define MAX_THRESHOLDS 64
#define EXIT_USAGE 2

static const char default_loads[] = "0.1,0.3,0.5,0.7,0.8,0.9,1,1.2";
static const char default_thresholds[] =
	"0.01,0.1,1,10,20,30,40,50,60,70,80,90,100,200,300,400,500,600,700,800,900,1000,"
	"10000,100000";

struct cmd {
	struct bench_options o;
	const char *backend_arg;
	const char *images_arg;
	char mixes[MAX_MIXES][256];
	unsigned nmixes;
	struct bench_system systems[MAX_SYSTEMS];
	unsigned nsystems;
	double sigmas[MAX_SIGMAS];
	unsigned nsigmas;
	double loads[MAX_POINTS];
	unsigned nloads;
	bool absolute; /* --rates: loads are requests/s */
	double saturation;
	double thresholds[MAX_THRESHOLDS];
	int nthresholds; /* 0: no fairness sweep */
	const char *fair_mix;
	const char *csv_path;
	FILE *csv;
	bool bad;
};

/* The summary: one cell per system x mix x sigma x load (the "all" row). */
struct cell {
	unsigned mix, sys, sigma, load;
	double offered, achieved, p99_us, mean_us;
	bool ran;
};

static struct cell *cells;
static unsigned ncells, cells_cap;

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: paella bench [options]\n"
"\n"
"The serving benchmark of the original Paella's Figs. 11-13: mixes of the zoo's\n"
"models served open-loop by every system on the same requests, swept over load from\n"
"light to past saturation, and the fairness knob's sweep.  On the GPU when there is\n"
"one, else on the simulated GPU (virtual time, outputs not checked).\n"
"\n"
"A request copies its input to the GPU, runs its model and copies the logits back; its\n"
"latency runs from its scheduled arrival to its logits on the host, so time waiting\n"
"for its model's cap counts.  Inter-arrival times are log-normal of mean 1/rate\n"
"(mu = ln(iat) - sigma^2/2); each request's model is drawn by share; seeded.  The\n"
"loads are fractions of the saturation throughput, measured first with cuda-ms (all\n"
"requests released at once; paella where cuda-ms cannot run).\n"
"\n"
"  --backend auto|cuda|sim  the GPU if there is one, else the simulator (default auto)\n"
"  --mix LIST               mixes, built-in (%s) or files (tools/paella/mixes/\n"
"                           README.md: lines of MODEL SHARE CAP); default fig11,fig12\n"
"  --systems LIST           default: all of these but paella-noprogress (the\n"
"                           default's progress, named)\n"
"                           cuda-ss: one stream, requests one at a time in arrival\n"
"                             order; cuda-ms: a stream per request in flight, each\n"
"                             request enqueued whole, the hardware decides; cuda-graph:\n"
"                             cuda-ms with each request one CUDA graph; priority:\n"
"                             cuda-ms with stream priorities, the shortest model highest;\n"
"                             mps: a process per model under NVIDIA MPS (started and\n"
"                             stopped here); paella: the default configuration (SRPT,\n"
"                             a 2-wave window, no progress signal);\n"
"                             paella-fifo; paella-fair-T: the fairness knob at threshold\n"
"                             T; ablations: paella-markers (tail markers),\n"
"                             paella-reports (progress\n"
"                             from the pass's sampled reports), paella-count (exact\n"
"                             counts), paella-noprogress (completions only),\n"
"                             paella-nograph (no CUDA graph runs), paella-lone (a job\n"
"                             alone may go past the window); any paella system\n"
"                             with a -wW suffix (paella-w2, paella-fifo-w4): a launch\n"
"                             window of W waves instead of the default\n"
"  --sigmas LIST            log-normal sigmas (default 1.5,2)\n"
"  --loads LIST             fractions of the saturation throughput (default\n"
"                           %s)\n"
"  --rates LIST             offered loads in requests/s instead (no saturation run)\n"
"  --saturation R           take R requests/s as the saturation throughput\n"
"  --requests N             requests per load point (default 1000 on the GPU, 300 on\n"
"                           the simulator; the original ran 3000: fewer keep a whole\n"
"                           default run within about 8 minutes on an H100, and a few\n"
"                           on the simulator)\n"
"  --fairness LIST|none     Fig. 13: deficit thresholds of paella-fair, all requests of\n"
"                           --fair-mix released at once (default 0.01, 0.1, 1, 10 to\n"
"                           100 by 10, 200 to 1000 by 100, 1e4, 1e5)\n"
"  --fair-mix MIX           the mix of the fairness sweep (default fig12)\n"
"  --seed N                 requests, inputs, weights, simulator (default 1)\n"
"  --csv FILE               one row per system x mix x sigma x load x model (and \"all\")\n"
"  --images DIR             cuda: the zoo's images (default: beside this program,\n"
"                           build/kernels/zoo)\n"
"  --weights-dir DIR        cuda: weights DIR/MODEL.safetensors instead of random ones\n"
"  --sim-card NAME          sim: the card (default H200)\n"
"  -q, --quiet              no progress on stderr\n"
"  -h, --help               this text\n"
"\n"
"Per load point, per model and all: achieved throughput (completed / (last completion\n"
"- start)), mean, p50, p90, p95, p99 (sorted[n*0.99]), max.  On cuda every response's\n"
"logits are compared bit for bit with the model's reference logits for the same input\n"
"(one fixed input per model), for every system: computed once per model before the\n"
"runs through the runtime's direct mode (a runtime of its own, the model's steps\n"
"straight onto one stream, the uninstrumented images, variant noinst), from the same\n"
"plans and weights (paella_zoo_model_create()) as the served models.  Exits 1 on a\n"
"mismatch, a failed request or a broken run, 2 on bad options; a system that cannot\n"
"run here is reported and skipped.\n"
"Plots: benchmarks/plot_serving.py CSV OUTDIR.\n",
		bench_mix_builtin_names(), default_loads);
}

static int __attribute__((format(printf, 1, 2)))
bad_option(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "paella bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (see --help)\n");
	va_end(ap);
	return EXIT_USAGE;
}

static int
split_names(const char *s, char out[][256], unsigned max)
{
	char buf[2048], *save = NULL;
	unsigned n = 0;

	if (strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (n == max || strlen(p) >= 256)
			return -1;
		snprintf(out[n++], 256, "%s", p);
	}
	return n ? (int)n : -1;
}

static int
parse_args(struct cmd *c, int argc, char **argv)
{
	enum {
		OPT_MIX = 256, OPT_SYSTEMS, OPT_SIGMAS, OPT_LOADS, OPT_RATES, OPT_SAT, OPT_REQ,
		OPT_FAIR, OPT_FAIRMIX, OPT_SEED, OPT_CSV, OPT_IMAGES, OPT_WEIGHTS, OPT_CARD,
		OPT_BACKEND,
	};
	static const struct option longopts[] = {
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "mix", required_argument, NULL, OPT_MIX },
		{ "systems", required_argument, NULL, OPT_SYSTEMS },
		{ "sigmas", required_argument, NULL, OPT_SIGMAS },
		{ "loads", required_argument, NULL, OPT_LOADS },
		{ "rates", required_argument, NULL, OPT_RATES },
		{ "saturation", required_argument, NULL, OPT_SAT },
		{ "requests", required_argument, NULL, OPT_REQ },
		{ "fairness", required_argument, NULL, OPT_FAIR },
		{ "fair-mix", required_argument, NULL, OPT_FAIRMIX },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "csv", required_argument, NULL, OPT_CSV },
		{ "images", required_argument, NULL, OPT_IMAGES },
		{ "weights-dir", required_argument, NULL, OPT_WEIGHTS },
		{ "sim-card", required_argument, NULL, OPT_CARD },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char names[MAX_SYSTEMS][256], *end;
	const char *systems = bench_default_systems();
	int ch, k;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_BACKEND:
			c->backend_arg = optarg;
			break;
		case OPT_MIX:
			if ((k = split_names(optarg, c->mixes, MAX_MIXES)) < 0)
				return bad_option("--mix: '%s' is not a list of 1 to 8 mixes", optarg);
			c->nmixes = (unsigned)k;
			break;
		case OPT_SYSTEMS:
			systems = optarg;
			break;
		case OPT_SIGMAS:
			if ((k = bench_parse_list(optarg, c->sigmas, MAX_SIGMAS)) < 0)
				return bad_option("--sigmas: '%s' is not a list of numbers", optarg);
			c->nsigmas = (unsigned)k;
			for (unsigned i = 0; i < c->nsigmas; i++)
				if (!(c->sigmas[i] >= 0 && c->sigmas[i] <= 4))
					return bad_option("--sigmas: '%s': each in [0, 4]", optarg);
			break;
		case OPT_LOADS:
		case OPT_RATES:
			if ((k = bench_parse_list(optarg, c->loads, MAX_POINTS)) < 0)
				return bad_option("--loads/--rates: '%s' is not a list of numbers",
						  optarg);
			c->nloads = (unsigned)k;
			c->absolute = ch == OPT_RATES;
			for (unsigned i = 0; i < c->nloads; i++)
				if (!(c->loads[i] > 0) || c->loads[i] > 1e7)
					return bad_option("--loads/--rates: '%s': each positive", optarg);
			break;
		case OPT_SAT:
			c->saturation = strtod(optarg, &end);
			if (end == optarg || *end || !(c->saturation > 0) || c->saturation > 1e7)
				return bad_option("--saturation wants requests/s, got '%s'", optarg);
			break;
		case OPT_REQ: {
			long v = strtol(optarg, &end, 10);

			if (end == optarg || *end || v < 1 || v > 1000000)
				return bad_option("--requests wants 1 to 1000000, got '%s'", optarg);
			c->o.requests = (unsigned)v;
			break;
		}
		case OPT_FAIR:
			if (strcmp(optarg, "none") == 0) {
				c->nthresholds = 0;
				break;
			}
			if ((c->nthresholds = bench_parse_list(optarg, c->thresholds,
							       MAX_THRESHOLDS)) < 0)
				return bad_option("--fairness: '%s' is not a list of thresholds or "
						  "none", optarg);
			for (int i = 0; i < c->nthresholds; i++)
				if (!(c->thresholds[i] > 0))
					return bad_option("--fairness: '%s': thresholds are positive",
							  optarg);
			break;
		case OPT_FAIRMIX:
			c->fair_mix = optarg;
			break;
		case OPT_SEED: {
			unsigned long long v;

			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-')
				return bad_option("--seed wants a non-negative integer, got '%s'",
						  optarg);
			c->o.seed = v;
			break;
		}
		case OPT_CSV:
			c->csv_path = optarg;
			break;
		case OPT_IMAGES:
			c->images_arg = optarg;
			break;
		case OPT_WEIGHTS:
			c->o.weights_dir = optarg;
			break;
		case OPT_CARD:
			c->o.sim_card = optarg;
			break;
		case 'q':
			c->o.progress = false;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return bad_option("%s needs a value", argv[optind - 1]);
		default:
			return bad_option("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad_option("unexpected argument '%s'", argv[optind]);
	if ((k = split_names(systems, names, MAX_SYSTEMS)) < 0)
		return bad_option("--systems: '%s' is not a list of systems", systems);
	c->nsystems = 0;
	for (int i = 0; i < k; i++) {
		if (bench_system_parse(names[i], &c->systems[c->nsystems]) != 0)
			return bad_option("--systems: unknown system '%s' (cuda-ss, cuda-ms, "
					  "cuda-graph, priority, mps, paella, paella-fifo, "
					  "paella-fair-T, paella-markers, paella-reports, paella-count, "
					  "paella-noprogress, paella-nograph, paella-lone)", names[i]);
		c->nsystems++;
	}
	return -1;
}

/* ---- output ------------------------------------------------------------------------ */

static void
csv_header(FILE *f)
{
	fprintf(f, "experiment,backend,system,mix,sigma,load,offered_rps,threshold,model,requests,"
		   "completed,failed,mismatches,throughput_rps,mean_us,p50_us,p90_us,p95_us,"
		   "p99_us,max_us,saturation_rps\n");
}

/* Writes a point's rows (each model, then "all") and returns "all"'s stats. */
static void
report_point(struct cmd *c, const char *experiment, const char *system,
	     const struct bench_mix *mix, double sigma, double load, double offered,
	     double threshold, unsigned nreq, const unsigned *per_model,
	     struct bench_result *res, double saturation, struct bench_stats *all_out,
	     struct bench_stats *per_out)
{
	unsigned total = 0, failed = 0, mism = 0;
	uint64_t *all;
	unsigned nall = 0;

	for (unsigned m = 0; m < mix->nmodels; m++)
		total += res->m[m].n;
	all = malloc((total + 1) * sizeof(*all));
	for (unsigned m = 0; m <= mix->nmodels; m++) {
		struct bench_stats st;
		unsigned reqs, fl, mm;

		if (m < mix->nmodels) {
			struct bench_model_result *mr = &res->m[m];

			if (all != NULL && mr->lat != NULL)
				memcpy(all + nall, mr->lat, mr->n * sizeof(*all));
			nall += mr->n;
			bench_stats_compute(mr->lat, mr->n, mr->last_done_ns, &st);
			reqs = per_model[m];
			fl = mr->failed;
			mm = mr->mismatches;
			failed += fl;
			mism += mm;
			if (per_out)
				per_out[m] = st;
		} else {
			bench_stats_compute(all, all ? nall : 0, res->last_done_ns, &st);
			reqs = nreq;
			fl = failed;
			mm = mism;
			if (all_out)
				*all_out = st;
		}
		if (c->csv)
			fprintf(c->csv, "%s,%s,%s,%s,%g,%g,%.2f,%g,%s,%u,%u,%u,%u,%.2f,%.2f,%.2f,"
				"%.2f,%.2f,%.2f,%.2f,%.2f\n", experiment,
				c->o.backend == PAELLA_BACKEND_SIM ? "sim" : "cuda", system,
				mix->name, sigma, load, offered, threshold,
				m < mix->nmodels ? mix->models[m].name : "all", reqs, st.n, fl, mm,
				st.throughput, st.mean_us, st.p50_us, st.p90_us, st.p95_us,
				st.p99_us, st.max_us, saturation);
	}
	if (c->csv)
		fflush(c->csv);
	if (failed || mism || nall != nreq) {
		fprintf(stderr, "paella bench: %s, %s: %u failed, %u mismatched, %u of %u "
			"completed\n", system, mix->name, failed, mism, nall, nreq);
		c->bad = true;
	}
	free(all);
}

static void
add_cell(const struct cell *x)
{
	if (ncells == cells_cap) {
		unsigned cap = cells_cap ? cells_cap * 2 : 256;
		struct cell *p = realloc(cells, cap * sizeof(*p));

		if (p == NULL)
			return;
		cells = p;
		cells_cap = cap;
	}
	cells[ncells++] = *x;
}

static const struct cell *
find_cell(unsigned mix, unsigned sys, unsigned sigma, unsigned load)
{
	for (unsigned i = 0; i < ncells; i++)
		if (cells[i].mix == mix && cells[i].sys == sys && cells[i].sigma == sigma &&
		    cells[i].load == load)
			return &cells[i];
	return NULL;
}

/* ---- the sweep ------------------------------------------------------------------- */

static void
count_models(const struct bench_mix *mix, const struct bench_request *req, unsigned n,
	     unsigned *per)
{
	memset(per, 0, BENCH_MAX_MODELS * sizeof(*per));
	for (unsigned i = 0; i < n; i++)
		per[req[i].model]++;
}

/* The saturation throughput of @mix: all requests at once through cuda-ms
 * (paella where it cannot run). */
static double
measure_saturation(struct cmd *c, const struct bench_mix *mix, struct bench_models *bm)
{
	const char *names[] = { "cuda-ms", "paella" };
	struct bench_request *req = calloc(c->o.requests, sizeof(*req));
	double sat = 0;

	if (req == NULL)
		return 0;
	bench_arrivals(mix, c->o.requests, 0, 0, c->o.seed, req);
	for (unsigned i = 0; i < 2 && sat == 0; i++) {
		struct bench_system sys;
		struct bench_env *env;
		struct bench_result res;
		struct bench_stats all;
		unsigned per[BENCH_MAX_MODELS];
		char why[512], label[128];

		bench_system_parse(names[i], &sys);
		c->o.progress_label = label;
		snprintf(label, sizeof(label), "[%s %s: saturation, all at once]", names[i],
			 mix->name);
		env = bench_env_open(&sys, mix, bm, &c->o, why, sizeof(why));
		if (env == NULL) {
			fprintf(stderr, "paella bench: %s: saturation not measured with %s: %s\n",
				mix->name, names[i], why);
			continue;
		}
		if (bench_env_run(env, req, c->o.requests, &res) == 0) {
			count_models(mix, req, c->o.requests, per);
			report_point(c, "saturation", names[i], mix, 0, 0, 0, 0, c->o.requests, per,
				     &res, 0, &all, NULL);
			sat = all.throughput;
			fprintf(stderr, "paella bench: %s: saturation %.0f requests/s (%s, %u "
				"requests at once, %.1f s)\n", mix->name, sat, names[i],
				c->o.requests, res.wall_s);
		} else {
			c->bad = true;
		}
		bench_result_free(&res);
		bench_env_close(env);
	}
	free(req);
	return sat;
}

static void
run_mix(struct cmd *c, unsigned mi)
{
	struct bench_mix mix;
	struct bench_models *bm;
	struct bench_request *req = NULL;
	char err[512];
	double sat = c->saturation;
	bool sim = c->o.backend == PAELLA_BACKEND_SIM;
	double rates[MAX_POINTS];

	if (bench_mix_load(c->mixes[mi], &mix, err, sizeof(err)) != 0) {
		fprintf(stderr, "paella bench: %s\n", err);
		c->bad = true;
		return;
	}
	bm = bench_models_prepare(&mix, sim, c->o.num_sms, c->o.seed, c->o.weights_dir, -1, err,
				  sizeof(err));
	if (bm == NULL) {
		fprintf(stderr, "paella bench: %s\n", err);
		c->bad = true;
		return;
	}
	if (!sim && bench_models_reference(bm, c->o.images, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "paella bench: %s: reference logits: %s\n", mix.name, err);
		c->bad = true;
		goto out;
	}
	c->o.mix_arg = c->mixes[mi];
	req = calloc(c->o.requests, sizeof(*req));
	if (req == NULL)
		goto out;
	if (!c->absolute && sat == 0)
		sat = measure_saturation(c, &mix, bm);
	if (!c->absolute && sat == 0) {
		fprintf(stderr, "paella bench: %s: no saturation throughput: give --saturation or "
			"--rates\n", mix.name);
		c->bad = true;
		goto out;
	}
	for (unsigned l = 0; l < c->nloads; l++)
		rates[l] = c->absolute ? c->loads[l] : c->loads[l] * sat;
	{
		double secs = 0;

		for (unsigned l = 0; l < c->nloads; l++)
			secs += c->o.requests / rates[l];
		fprintf(stderr, "paella bench: %s: %u load points x %u sigmas x %u systems, %.1f "
			"s of arrivals per system%s\n", mix.name, c->nloads, c->nsigmas,
			c->nsystems, secs * c->nsigmas, sim ? " (virtual time)" : "");
	}
	for (unsigned s = 0; s < c->nsystems; s++) {
		const struct bench_system *sys = &c->systems[s];
		struct bench_env *env = bench_env_open(sys, &mix, bm, &c->o, err, sizeof(err));

		if (env == NULL) {
			printf("%s: not run (%s)\n", sys->name, err);
			fflush(stdout);
			continue;
		}
		for (unsigned g = 0; g < c->nsigmas; g++)
			for (unsigned l = 0; l < c->nloads; l++) {
				struct bench_result res;
				struct bench_stats all;
				unsigned per[BENCH_MAX_MODELS];
				char label[160];
				struct cell cell = { mi, s, g, l, rates[l], 0, NAN, NAN, false };

				snprintf(label, sizeof(label), "[%s %s sigma %g load %g: %.0f/s]",
					 sys->name, mix.name, c->sigmas[g],
					 c->absolute ? rates[l] : c->loads[l], rates[l]);
				c->o.progress_label = label;
				bench_arrivals(&mix, c->o.requests, 1e9 / rates[l], c->sigmas[g],
					       c->o.seed, req);
				count_models(&mix, req, c->o.requests, per);
				if (bench_env_run(env, req, c->o.requests, &res) != 0) {
					c->bad = true;
					bench_result_free(&res);
					add_cell(&cell);
					printf("%s: broken at %s, sigma %g, %.0f requests/s (see "
					       "stderr): its other points skipped\n", sys->name,
					       mix.name, c->sigmas[g], rates[l]);
					g = c->nsigmas;
					break;
				}
				report_point(c, "load", sys->name, &mix, c->sigmas[g],
					     c->absolute ? 0 : c->loads[l], rates[l], 0,
					     c->o.requests, per, &res, sat, &all, NULL);
				cell.achieved = all.throughput;
				cell.p99_us = all.p99_us;
				cell.mean_us = all.mean_us;
				cell.ran = true;
				add_cell(&cell);
				if (c->o.progress)
					fprintf(stderr, "%s p50 %.2f ms, p99 %.2f ms, %.0f/s achieved "
						"(%.1f s)\n", label, all.p50_us / 1e3,
						all.p99_us / 1e3, all.throughput, res.wall_s);
				bench_result_free(&res);
			}
		bench_env_close(env);
	}
out:
	free(req);
	bench_models_free(bm);
	c->o.mix_arg = NULL;
}

static void
print_summary(struct cmd *c)
{
	for (unsigned mi = 0; mi < c->nmixes; mi++)
		for (unsigned g = 0; g < c->nsigmas; g++) {
			bool any = false;

			for (unsigned i = 0; i < ncells; i++)
				any |= cells[i].mix == mi && cells[i].sigma == g && cells[i].ran;
			if (!any)
				continue;
			for (int what = 0; what < 2; what++) {
				printf("\n%s, sigma %g: %s\n", c->mixes[mi], c->sigmas[g],
				       what == 0 ? "p99 latency of all requests (ms)"
						 : "achieved throughput (requests/s)");
				printf("%-6s %9s", c->absolute ? "" : "load", "offered/s");
				for (unsigned s = 0; s < c->nsystems; s++)
					if (find_cell(mi, s, g, 0))
						printf(" %11.11s", c->systems[s].name);
				printf("\n");
				for (unsigned l = 0; l < c->nloads; l++) {
					const struct cell *any_cell = NULL;

					for (unsigned s = 0; s < c->nsystems && !any_cell; s++)
						any_cell = find_cell(mi, s, g, l);
					if (any_cell == NULL)
						continue;
					if (c->absolute)
						printf("%-6s %9.0f", "", any_cell->offered);
					else
						printf("%-6g %9.0f", c->loads[l], any_cell->offered);
					for (unsigned s = 0; s < c->nsystems; s++) {
						const struct cell *x = find_cell(mi, s, g, l);

						if (find_cell(mi, s, g, 0) == NULL)
							continue;
						if (x == NULL || !x->ran)
							printf(" %11s", "-");
						else if (what == 0)
							printf(" %11.2f", x->p99_us / 1e3);
						else
							printf(" %11.0f", x->achieved);
					}
					printf("\n");
				}
			}
		}
}

/* Fig. 13: paella-fair at each threshold on --fair-mix, all at once. */
static void
run_fairness(struct cmd *c)
{
	struct bench_mix mix;
	struct bench_models *bm = NULL;
	struct bench_request *req = NULL;
	struct bench_stats per_st[BENCH_MAX_MODELS];
	unsigned per[BENCH_MAX_MODELS];
	char err[512];
	bool header = false;

	if (c->nthresholds <= 0)
		return;
	if (bench_mix_load(c->fair_mix, &mix, err, sizeof(err)) != 0) {
		fprintf(stderr, "paella bench: fairness: %s\n", err);
		c->bad = true;
		return;
	}
	bm = bench_models_prepare(&mix, c->o.backend == PAELLA_BACKEND_SIM, c->o.num_sms,
				  c->o.seed, c->o.weights_dir, -1, err, sizeof(err));
	req = calloc(c->o.requests, sizeof(*req));
	if (bm == NULL || req == NULL) {
		fprintf(stderr, "paella bench: fairness: %s\n", bm ? "out of memory" : err);
		c->bad = true;
		goto out;
	}
	if (c->o.backend == PAELLA_BACKEND_CUDA &&
	    bench_models_reference(bm, c->o.images, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "paella bench: fairness: reference logits: %s\n", err);
		c->bad = true;
		goto out;
	}
	c->o.mix_arg = c->fair_mix;
	bench_arrivals(&mix, c->o.requests, 0, 0, c->o.seed, req);
	count_models(&mix, req, c->o.requests, per);
	for (int t = 0; t < c->nthresholds; t++) {
		struct bench_system sys;
		struct bench_env *env;
		struct bench_result res;
		struct bench_stats all;
		char name[64], label[128];

		snprintf(name, sizeof(name), "paella-fair-%g", c->thresholds[t]);
		bench_system_parse(name, &sys);
		snprintf(label, sizeof(label), "[fairness %s threshold %g, all at once]", mix.name,
			 c->thresholds[t]);
		c->o.progress_label = label;
		env = bench_env_open(&sys, &mix, bm, &c->o, err, sizeof(err));
		if (env == NULL) {
			printf("\nfairness: not run (%s)\n", err);
			break;
		}
		if (bench_env_run(env, req, c->o.requests, &res) != 0) {
			c->bad = true;
		} else {
			report_point(c, "fairness", "paella-fair", &mix, 0, 0, 0, c->thresholds[t],
				     c->o.requests, per, &res, 0, &all, per_st);
			if (!header) {
				printf("\nfairness (Fig. 13): %s, %u requests at once, mean latency "
				       "(ms) by deficit threshold\n%-10s", mix.name, c->o.requests,
				       "threshold");
				for (unsigned m = 0; m < mix.nmodels; m++)
					printf(" %13.13s", mix.models[m].name);
				printf(" %13s\n", "all");
				header = true;
			}
			printf("%-10g", c->thresholds[t]);
			for (unsigned m = 0; m < mix.nmodels; m++)
				printf(" %13.2f", per_st[m].mean_us / 1e3);
			printf(" %13.2f\n", all.mean_us / 1e3);
			fflush(stdout);
		}
		bench_result_free(&res);
		bench_env_close(env);
	}
out:
	free(req);
	bench_models_free(bm);
	c->o.mix_arg = NULL;
}

/* Which backend AUTO gives, asked once of a runtime. */
static int
resolve_backend(struct cmd *c)
{
	struct paella_config cfg;
	struct paella_runtime *rt;
	enum paella_status st;

	if (c->backend_arg == NULL || strcmp(c->backend_arg, "auto") == 0)
		c->o.backend = PAELLA_BACKEND_AUTO;
	else if (strcmp(c->backend_arg, "cuda") == 0)
		c->o.backend = PAELLA_BACKEND_CUDA;
	else if (strcmp(c->backend_arg, "sim") == 0)
		c->o.backend = PAELLA_BACKEND_SIM;
	else
		return bad_option("unknown backend '%s' (auto, cuda, sim)", c->backend_arg);
	if (c->o.backend == PAELLA_BACKEND_SIM)
		return -1;
	paella_config_init(&cfg);
	cfg.backend = c->o.backend;
	cfg.dispatch_mode = PAELLA_DISPATCH_MANUAL;
	st = paella_runtime_create(&cfg, &rt);
	if (st != PAELLA_STATUS_OK) {
		fprintf(stderr, "paella bench: %s\n", paella_last_error());
		return 1;
	}
	c->o.backend = strcmp(paella_runtime_backend_name(rt), "sim") == 0 ? PAELLA_BACKEND_SIM
									     : PAELLA_BACKEND_CUDA;
	paella_runtime_destroy(rt);
	return -1;
}

int
paella_bench_main(int argc, char **argv)
{
	static struct cmd c;
	static char self[PATH_MAX], images[4096];
	char err[512];
	ssize_t k;
	int rc;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--mps-child") == 0)
			return bench_mps_child_main(argc - 1, argv + 1);
	memset(&c, 0, sizeof(c));
	c.o.requests = 0; /* 1000 on cuda, 300 on sim: after the backend is known */
	c.o.seed = 1;
	c.o.sim_card = "H200";
	c.o.progress = true;
	c.o.only_model = -1;
	c.fair_mix = "fig12";
	snprintf(c.mixes[0], sizeof(c.mixes[0]), "fig11");
	snprintf(c.mixes[1], sizeof(c.mixes[1]), "fig12");
	c.nmixes = 2;
	c.nsigmas = (unsigned)bench_parse_list("1.5,2", c.sigmas, MAX_SIGMAS);
	c.nloads = (unsigned)bench_parse_list(default_loads, c.loads, MAX_POINTS);
	c.nthresholds = bench_parse_list(default_thresholds, c.thresholds, MAX_THRESHOLDS);
	if ((rc = parse_args(&c, argc, argv)) >= 0)
		return rc;
	/* Every mix now, so that a bad file stops the run before it starts. */
	for (unsigned i = 0; i < c.nmixes; i++) {
		struct bench_mix mix;

		if (bench_mix_load(c.mixes[i], &mix, err, sizeof(err)) != 0) {
			fprintf(stderr, "paella bench: %s\n", err);
			return EXIT_USAGE;
		}
		for (unsigned m = 0; m < mix.nmodels; m++)
			if (!bench_models_known(mix.models[m].name)) {
				fprintf(stderr, "paella bench: mix %s: no model '%s' in the zoo (%s)\n",
					c.mixes[i], mix.models[m].name, bench_models_names());
				return EXIT_USAGE;
			}
	}
	if ((rc = resolve_backend(&c)) >= 0)
		return rc;
	if (c.o.requests == 0)
		c.o.requests = c.o.backend == PAELLA_BACKEND_SIM ? 300 : 1000;
	k = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[k > 0 ? k : 0] = '\0';
	c.o.self = self;
	if (c.o.backend == PAELLA_BACKEND_CUDA) {
		char beside[PATH_MAX + 32];
		const char *slash = strrchr(self, '/');

		/* build/tools/paella/paella -> build/kernels/zoo */
		snprintf(beside, sizeof(beside), "%.*s/../../kernels", slash ? (int)(slash - self) : 1,
			 slash ? self : ".");
		if (c.images_arg != NULL)
			c.o.images = bench_models_find_images(c.images_arg, images, sizeof(images));
		else if ((c.o.images = bench_models_find_images(beside, images, sizeof(images))) ==
			 NULL)
			c.o.images = bench_models_find_images("build/kernels", images,
							      sizeof(images));
		if (c.o.images == NULL) {
			fprintf(stderr, "paella bench: no zoo images (conv2d.cubin) in %s: build "
				"kernels/zoo, or give --images\n", c.images_arg ? c.images_arg
										: beside);
			return 1;
		}
		c.o.num_sms = bench_gpu_num_sms(0);
	}
	if (c.csv_path) {
		c.csv = fopen(c.csv_path, "w");
		if (c.csv == NULL) {
			fprintf(stderr, "paella bench: cannot write %s: %s\n", c.csv_path,
				strerror(errno));
			return 1;
		}
		csv_header(c.csv);
	}
	printf("paella bench on %s%s%s: %u requests per point, seed %llu\n",
	       c.o.backend == PAELLA_BACKEND_SIM ? "the simulated " : "the GPU",
	       c.o.backend == PAELLA_BACKEND_SIM ? c.o.sim_card : "",
	       c.o.backend == PAELLA_BACKEND_SIM ? " (virtual time, outputs not checked)" : "",
	       c.o.requests, (unsigned long long)c.o.seed);
	fflush(stdout);
	for (unsigned i = 0; i < c.nmixes && c.nsystems && c.nloads; i++)
		run_mix(&c, i);
	run_fairness(&c);
	print_summary(&c);
	bench_mps_stop();
	if (c.csv) {
		fclose(c.csv);
		printf("\nCSV: %s (plots: benchmarks/plot_serving.py %s OUTDIR)\n", c.csv_path,
		       c.csv_path);
	}
	if (c.o.backend == PAELLA_BACKEND_CUDA && !c.bad)
		printf("every response's logits equal direct mode's (uninstrumented images) for the "
		       "same input, bit for bit\n");
	free(cells);
	cells = NULL;
	ncells = cells_cap = 0;
	if (c.bad)
		fprintf(stderr, "paella bench: failed requests, mismatched logits or broken runs "
			"(see above)\n");
	return c.bad ? 1 : 0;
}
