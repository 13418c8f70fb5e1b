/*
 * paella-serve - serves a mix of models through libpaellart and reports the
 * latency each model's clients see, for one or several scheduling policies
 * side by side on the same load.
 *
 * The mix (for now): two synthetic models built from the real vector_add
 * kernel of kernels/, a short chain and a long chain.  Each job's output is
 * checked against a CPU reference computed with the same float additions, so
 * a wrong or lost result is counted, not hidden.  Clients are threads, each
 * bound to one model, in a closed loop: submit, wait, check, think for an
 * exponentially distributed time, again.
 *
 * On the GPU (backend cuda) the kernels come from build/kernels/vector_add
 * .cubin; without one (backend sim) the same models run on the simulated GPU,
 * whose clock is virtual: there one thread drives all clients in simulated
 * time.
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "paella/instrument-abi.h"
#include "paella/paella.h"

#define MAX_CLIENTS 64
#define MAX_SAMPLES (1u << 20)

struct model_spec {
	const char *name;
	unsigned kernels;  /* vector_add launches in the chain */
	unsigned elements; /* per launch */
	unsigned clients;
	double think_us; /* mean think time between a client's jobs */
};

struct opts {
	const char *backend;
	const char *images;
	const char *csv;
	char policies[128];
	double duration_s;
	unsigned seed;
	struct model_spec models[2];
};

struct served_model {
	const struct model_spec *spec;
	struct paella_model *model;
	float *input;     /* a (host) */
	float *expected;  /* CPU reference of the chain on input */
	size_t bytes;
	/* Latencies (ns) of completed jobs; errors. */
	uint64_t *lat;
	unsigned nlat;
	unsigned wrong, failed;
	/* False on the simulator, which runs no kernel code. */
	bool check;
	pthread_mutex_t lock;
};

static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("paella-serve: error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

#define TRY(call) \
	do { \
		enum paella_status st_ = (call); \
		if (st_ != PAELLA_STATUS_OK) \
			die("%s: %s (%s)", #call, paella_status_name(st_), paella_last_error()); \
	} while (0)

static uint64_t
rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static double
rng_exp(uint64_t *s, double mean)
{
	double u = ((rng_next(s) >> 11) + 0.5) / 9007199254740992.0;
	return -log(u) * mean;
}

/* The chain: x0 = input; x(k+1) = x(k) + w; output = x(kernels).  The job
 * buffers ping-pong; w is a model buffer (the "weights"). */
static void
build_model(struct paella_runtime *rt, struct paella_module *mod, struct served_model *sm,
	    const float *weights, unsigned concurrent)
{
	const struct model_spec *sp = sm->spec;
	unsigned long long n = sp->elements;
	size_t bytes = (size_t)n * sizeof(float);
	unsigned w, x[2];

	TRY(paella_model_create(rt, sp->name, &sm->model));
	TRY(paella_model_add_buffer(sm->model, PAELLA_BUFFER_MODEL, bytes, &w));
	TRY(paella_model_add_buffer(sm->model, PAELLA_BUFFER_JOB, bytes, &x[0]));
	TRY(paella_model_add_buffer(sm->model, PAELLA_BUFFER_JOB, bytes, &x[1]));
	TRY(paella_model_write_buffer(sm->model, w, 0, weights, bytes));
	TRY(paella_model_add_copy(sm->model, PAELLA_COPY_INPUT, x[0], 0, 0, bytes));
	for (unsigned k = 0; k < sp->kernels; k++) {
		struct paella_arg args[4] = {
			paella_arg_buffer(x[k & 1], 0),
			paella_arg_buffer(w, 0),
			paella_arg_buffer(x[(k + 1) & 1], 0),
			paella_arg_value(&n, sizeof(n)),
		};
		struct paella_kernel_step step = {
			.module = mod,
			.kernel = "vector_add",
			.grid = {(unsigned)((n + 255) / 256), 1, 1},
			.block = {256, 1, 1},
			.args = args,
			.nargs = 4,
		};
		TRY(paella_model_add_kernel(sm->model, &step));
	}
	TRY(paella_model_add_copy(sm->model, PAELLA_COPY_OUTPUT, x[sp->kernels & 1], 0, 0, bytes));
	TRY(paella_model_finalize(sm->model, concurrent));
	sm->bytes = bytes;
}

static void
record(struct served_model *sm, struct paella_job *job, enum paella_status st, const float *out)
{
	struct paella_job_times t;
	pthread_mutex_lock(&sm->lock);
	if (st != PAELLA_STATUS_OK) {
		sm->failed++;
	} else {
		if (sm->check && memcmp(out, sm->expected, sm->bytes) != 0)
			sm->wrong++;
		if (paella_job_times(job, &t) == PAELLA_STATUS_OK && sm->nlat < MAX_SAMPLES)
			sm->lat[sm->nlat++] = t.completed_ns - t.submitted_ns;
	}
	pthread_mutex_unlock(&sm->lock);
}

/* ---- cuda: one thread per client, real time ------------------------------ */

struct client {
	struct served_model *sm;
	struct paella_runtime *rt;
	uint64_t seed;
	double deadline_s;
};

static double
wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
client_thread(void *arg)
{
	struct client *c = arg;
	float *out = malloc(c->sm->bytes);
	struct paella_job_desc d = {
		.input = c->sm->input,
		.input_bytes = c->sm->bytes,
		.output = out,
		.output_bytes = c->sm->bytes,
	};

	while (wall_s() < c->deadline_s) {
		struct paella_job *job;
		double think = rng_exp(&c->seed, c->sm->spec->think_us);
		struct timespec ts = {0, (long)(think * 1000)};
		nanosleep(&ts, NULL);
		memset(out, 0xff, c->sm->bytes);
		if (paella_job_submit(c->sm->model, &d, &job) != PAELLA_STATUS_OK)
			die("submit: %s", paella_last_error());
		record(c->sm, job, paella_job_wait(job, -1), out);
		paella_job_release(job);
	}
	free(out);
	return NULL;
}

static void
serve_threads(struct paella_runtime *rt, struct served_model *sms, unsigned nsm, double duration_s,
	      unsigned seed)
{
	pthread_t th[MAX_CLIENTS];
	struct client cl[MAX_CLIENTS];
	unsigned n = 0;
	double deadline = wall_s() + duration_s;

	for (unsigned m = 0; m < nsm; m++)
		for (unsigned i = 0; i < sms[m].spec->clients && n < MAX_CLIENTS; i++, n++) {
			cl[n] = (struct client){&sms[m], rt, 0x9E3779B97F4A7C15ull * (seed + n + 1), deadline};
			pthread_create(&th[n], NULL, client_thread, &cl[n]);
		}
	for (unsigned i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

/* ---- sim: one thread drives every client in virtual time ---------------- */

struct vclient {
	struct served_model *sm;
	struct paella_job *job; /* in flight, or NULL while thinking */
	uint64_t next_ns;       /* when it submits next */
	float *out;
	uint64_t seed;
};

static void
serve_virtual(struct paella_runtime *rt, struct served_model *sms, unsigned nsm, double duration_s,
	      unsigned seed)
{
	struct vclient vc[MAX_CLIENTS];
	unsigned n = 0;
	uint64_t t0 = paella_runtime_now_ns(rt), end = t0 + (uint64_t)(duration_s * 1e9);

	for (unsigned m = 0; m < nsm; m++)
		for (unsigned i = 0; i < sms[m].spec->clients && n < MAX_CLIENTS; i++, n++) {
			vc[n] = (struct vclient){&sms[m], NULL, 0, malloc(sms[m].bytes),
						 0x9E3779B97F4A7C15ull * (seed + n + 1)};
			vc[n].next_ns = t0 + (uint64_t)(rng_exp(&vc[n].seed, sms[m].spec->think_us) * 1000);
		}
	for (;;) {
		bool any = false;
		uint64_t next = UINT64_MAX;
		for (unsigned i = 0; i < n; i++) {
			struct vclient *c = &vc[i];
			if (c->job && paella_job_poll(c->job) != PAELLA_STATUS_BUSY) {
				record(c->sm, c->job, paella_job_poll(c->job), c->out);
				paella_job_release(c->job);
				c->job = NULL;
				c->next_ns = paella_runtime_now_ns(rt) +
					     (uint64_t)(rng_exp(&c->seed, c->sm->spec->think_us) * 1000);
			}
			if (!c->job && c->next_ns < end) {
				if (paella_runtime_now_ns(rt) >= c->next_ns) {
					struct paella_job_desc d = {.input = c->sm->input,
								    .input_bytes = c->sm->bytes,
								    .output = c->out,
								    .output_bytes = c->sm->bytes};
					memset(c->out, 0xff, c->sm->bytes);
					TRY(paella_job_submit(c->sm->model, &d, &c->job));
				} else if (c->next_ns < next) {
					next = c->next_ns;
				}
			}
			any |= c->job != NULL || c->next_ns < end;
		}
		if (!any)
			break;
		/* Advance the simulation to the next arrival, or a little so
		 * that jobs in flight progress. */
		uint64_t now = paella_runtime_now_ns(rt);
		uint64_t step = next != UINT64_MAX && next > now ? next - now : 0;
		if (step == 0 || step > 2000)
			step = 2000;
		TRY(paella_runtime_run_until(rt, now + step));
	}
	for (unsigned i = 0; i < n; i++)
		free(vc[i].out);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static double
pct_us(uint64_t *v, unsigned n, double q)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[(unsigned)(q * (n - 1) + 0.5)] / 1000.0;
}

static enum paella_policy
parse_policy(const char *s)
{
	if (!strcmp(s, "fifo"))
		return PAELLA_POLICY_FIFO;
	if (!strcmp(s, "srpt"))
		return PAELLA_POLICY_SRPT;
	if (!strcmp(s, "fair"))
		return PAELLA_POLICY_FAIR;
	if (!strcmp(s, "edf"))
		return PAELLA_POLICY_EDF;
	fprintf(stderr, "paella-serve: error: unknown policy '%s' (fifo, srpt, fair, edf)\n", s);
	exit(2);
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: paella-serve [options]\n"
		"\n"
		"Serves a mix of two models (a short and a long chain of vector_add kernels)\n"
		"through libpaellart with closed-loop clients, checks every output, and prints\n"
		"each model's latency under each policy, side by side on the same load.\n"
		"\n"
		"  --backend auto|cuda|sim  GPU if there is one, else the simulated GPU (default auto)\n"
		"  --images DIR             where vector_add.cubin is (default build/kernels)\n"
		"  --policies LIST          comma-separated: fifo,srpt,fair,edf (default fifo,srpt,fair)\n"
		"  --duration S             seconds of load per policy (default 2; simulated on sim)\n"
		"  --short-clients N        clients of the short model (default 4)\n"
		"  --long-clients N         clients of the long model (default 4)\n"
		"  --seed N                 random seed (default 1)\n"
		"  --csv FILE               also write the table as CSV\n");
}

int
main(int argc, char **argv)
{
	struct opts o = {
		.backend = "auto",
		.images = "build/kernels",
		.duration_s = 2.0,
		.seed = 1,
		.models = {
			{"short", 4, 1u << 20, 4, 200.0},
			{"long", 32, 1u << 22, 4, 200.0},
		},
	};
	snprintf(o.policies, sizeof(o.policies), "fifo,srpt,fair");
	static const struct option longopts[] = {
		{"backend", required_argument, NULL, 'b'},  {"images", required_argument, NULL, 'i'},
		{"policies", required_argument, NULL, 'p'}, {"duration", required_argument, NULL, 'd'},
		{"short-clients", required_argument, NULL, 's'},
		{"long-clients", required_argument, NULL, 'l'},
		{"seed", required_argument, NULL, 'r'},     {"csv", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
	int ch;
	char *end;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b': o.backend = optarg; break;
		case 'i': o.images = optarg; break;
		case 'c': o.csv = optarg; break;
		case 'p': snprintf(o.policies, sizeof(o.policies), "%s", optarg); break;
		case 'd':
			o.duration_s = strtod(optarg, &end);
			if (*end || o.duration_s <= 0 || o.duration_s > 3600) {
				fprintf(stderr, "paella-serve: error: --duration wants seconds in (0, 3600], got '%s'\n", optarg);
				return 2;
			}
			break;
		case 's':
		case 'l': {
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || v > 16) {
				fprintf(stderr, "paella-serve: error: --%s wants 0 to 16, got '%s'\n",
					ch == 's' ? "short-clients" : "long-clients", optarg);
				return 2;
			}
			o.models[ch == 's' ? 0 : 1].clients = (unsigned)v;
			break;
		}
		case 'r': o.seed = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "paella-serve: error: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	enum paella_backend backend;
	if (!strcmp(o.backend, "auto"))
		backend = PAELLA_BACKEND_AUTO;
	else if (!strcmp(o.backend, "cuda"))
		backend = PAELLA_BACKEND_CUDA;
	else if (!strcmp(o.backend, "sim"))
		backend = PAELLA_BACKEND_SIM;
	else {
		fprintf(stderr, "paella-serve: error: unknown backend '%s' (auto, cuda, sim)\n", o.backend);
		return 2;
	}

	/* Inputs, weights and the CPU reference, shared by every policy. */
	unsigned nsm = 2;
	struct served_model sms[2];
	float *weights[2];
	uint64_t rs = 0x2545F4914F6CDD1Dull * (o.seed + 7);
	for (unsigned m = 0; m < nsm; m++) {
		const struct model_spec *sp = &o.models[m];
		size_t n = sp->elements;
		memset(&sms[m], 0, sizeof(sms[m]));
		sms[m].spec = sp;
		sms[m].input = malloc(n * sizeof(float));
		sms[m].expected = malloc(n * sizeof(float));
		weights[m] = malloc(n * sizeof(float));
		sms[m].lat = malloc(MAX_SAMPLES * sizeof(uint64_t));
		if (!sms[m].input || !sms[m].expected || !weights[m] || !sms[m].lat)
			die("out of host memory");
		for (size_t i = 0; i < n; i++) {
			sms[m].input[i] = 0.5f + (float)(rng_next(&rs) & 0xFFFF) / 65536.0f;
			weights[m][i] = 0.25f + (float)(rng_next(&rs) & 0xFFFF) / 131072.0f;
			float x = sms[m].input[i];
			for (unsigned k = 0; k < sp->kernels; k++)
				x = x + weights[m][i];
			sms[m].expected[i] = x;
		}
		pthread_mutex_init(&sms[m].lock, NULL);
	}

	FILE *csv = NULL;
	if (o.csv && !(csv = fopen(o.csv, "w")))
		die("cannot write %s: %s", o.csv, strerror(errno));
	if (csv)
		fprintf(csv, "backend,policy,model,kernels,clients,jobs,wrong,failed,p50_us,p99_us,mean_us,jobs_per_s\n");

	printf("%-8s %-6s %-6s %7s %8s %6s %6s %10s %10s %10s %9s\n", "backend", "policy", "model",
	       "kernels", "clients", "jobs", "wrong", "p50 us", "p99 us", "mean us", "jobs/s");
	bool bad = false, backend_was_sim = false;
	char *save = NULL;
	for (char *p = strtok_r(o.policies, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		struct paella_config cfg;
		struct paella_runtime *rt;
		struct paella_module *mod;
		paella_config_init(&cfg);
		cfg.backend = backend;
		cfg.policy = parse_policy(p);
		cfg.sim_seed = o.seed;
		TRY(paella_runtime_create(&cfg, &rt));
		bool sim = !strcmp(paella_runtime_backend_name(rt), "sim");
		backend_was_sim |= sim;
		if (sim) {
			/* Stop the thread-mode runtime: the simulated load is driven
			 * by hand in virtual time. */
			paella_runtime_destroy(rt);
			cfg.backend = PAELLA_BACKEND_SIM;
			cfg.dispatch_mode = PAELLA_DISPATCH_MANUAL;
			TRY(paella_runtime_create(&cfg, &rt));
			/* vector_add as paella-cc builds it: 26 registers; a block of
			 * 256 threads moves 3 KiB, about 1 us on an H100 wave. */
			static const struct paella_sim_kernel k = {"vector_add", 26, 0, 1000};
			struct paella_sim_module sm = {PAELLA_ABI_VERSION,
						       PAELLA_MANIFEST_HEADER "K vector_add 4\n", &k, 1};
			TRY(paella_module_load_sim(rt, &sm, &mod));
		} else {
			char path[4096];
			snprintf(path, sizeof(path), "%s/vector_add.cubin", o.images);
			TRY(paella_module_load_file(rt, path, &mod));
		}
		for (unsigned m = 0; m < nsm; m++) {
			sms[m].nlat = sms[m].wrong = sms[m].failed = 0;
			sms[m].check = !sim;
			build_model(rt, mod, &sms[m], weights[m], o.models[m].clients ? o.models[m].clients : 1);
		}
		fprintf(stderr, "[%s] %s: serving for %.1f s ...\n", paella_runtime_backend_name(rt), p,
			o.duration_s);
		double t0 = wall_s();
		if (sim)
			serve_virtual(rt, sms, nsm, o.duration_s, o.seed);
		else
			serve_threads(rt, sms, nsm, o.duration_s, o.seed);
		double elapsed = sim ? o.duration_s : wall_s() - t0;
		for (unsigned m = 0; m < nsm; m++) {
			struct served_model *s = &sms[m];
			double sum = 0;
			for (unsigned i = 0; i < s->nlat; i++)
				sum += s->lat[i] / 1000.0;
			double mean = s->nlat ? sum / s->nlat : NAN;
			double p50 = pct_us(s->lat, s->nlat, 0.5), p99 = pct_us(s->lat, s->nlat, 0.99);
			printf("%-8s %-6s %-6s %7u %8u %6u %6u %10.1f %10.1f %10.1f %9.0f\n",
			       paella_runtime_backend_name(rt), p, s->spec->name, s->spec->kernels,
			       s->spec->clients, s->nlat, s->wrong + s->failed, p50, p99, mean,
			       s->nlat / elapsed);
			if (csv)
				fprintf(csv, "%s,%s,%s,%u,%u,%u,%u,%u,%.2f,%.2f,%.2f,%.1f\n",
					paella_runtime_backend_name(rt), p, s->spec->name, s->spec->kernels,
					s->spec->clients, s->nlat, s->wrong, s->failed, p50, p99, mean,
					s->nlat / elapsed);
			bad |= s->wrong || s->failed;
			TRY(paella_model_destroy(s->model));
		}
		TRY(paella_module_unload(mod));
		paella_runtime_destroy(rt);
	}
	if (csv)
		fclose(csv);
	if (bad)
		fprintf(stderr, "paella-serve: some jobs returned wrong outputs or failed\n");
	else if (!strcmp(o.backend, "sim") || backend_was_sim)
		printf("(simulated GPU: latencies in virtual time; outputs not checked, the simulator runs no kernel code)\n");
	else
		printf("(every output checked against the CPU reference)\n");
	for (unsigned m = 0; m < nsm; m++) {
		free(sms[m].input);
		free(sms[m].expected);
		free(sms[m].lat);
		free(weights[m]);
	}
	return bad ? 1 : 0;
}
