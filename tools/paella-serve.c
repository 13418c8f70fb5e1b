/*
 * paella-serve - serves a mix of models through libpaellart and reports the
 * latency each model's clients see, for one or several scheduling policies
 * side by side on the same load.
 *
 * Two mixes (--mix):
 *
 * zoo (the default): the zoo's eight torchvision classifiers
 * (kernels/zoo/, built as runtime models by runtime-model.c) with the
 * request mix of the original Paella's Fig. 11, in open loop: one stream of
 * arrivals with log-normal inter-arrival times (sigma 1.5 like the paper) at
 * --rate requests/s, each request's model drawn from the mix.  The arrival
 * sequence depends only on the seed, so every policy serves the same load.
 * Weights are random (fixed seed, batch norms folded as for a weights file)
 * or read from --weights-dir.  On cuda each job's logits are compared, bit
 * for bit, with what the zoo's own executor (exec.c) computed for the same
 * input and weights at start.
 *
 * chains: two synthetic models built from the real vector_add kernel of
 * kernels/, a short chain and a long chain, each job's output checked
 * against a CPU reference computed with the same float additions; clients
 * are threads, each bound to one model, in a closed loop: submit, wait,
 * check, think for an exponentially distributed time, again.
 *
 * On the GPU (backend cuda) the kernels come from the images; without one
 * (backend sim) the same models run on the simulated GPU, whose clock is
 * virtual: there one thread drives all clients in simulated time, and
 * outputs are not checked (the simulator runs no kernel code).
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

#include "exec.h"
#include "paella/instrument-abi.h"
#include "paella/paella.h"
#include "paella/zoo.h"

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
	/* --mix zoo */
	bool zoo;
	double rate;
	double sigma;
	unsigned concurrent;
	const char *weights_dir;
	char zoo_models[256];
	/* --graph-us, in ns; -1: the runtime's default. */
	long long graph_ns;
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

/* The same for the zoo's calls, which keep their own message. */
#define ZTRY(call) \
	do { \
		enum paella_status st_ = (call); \
		if (st_ != PAELLA_STATUS_OK) \
			die("%s: %s (%s)", #call, paella_status_name(st_), paella_zoo_last_error()); \
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

static bool
policy_of(const char *s, enum paella_policy *out)
{
	static const struct {
		const char *name;
		enum paella_policy p;
	} names[] = {
		{"fifo", PAELLA_POLICY_FIFO},
		{"srpt", PAELLA_POLICY_SRPT},
		{"fair", PAELLA_POLICY_FAIR},
		{"edf", PAELLA_POLICY_EDF},
	};
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name)) {
			*out = names[i].p;
			return true;
		}
	return false;
}

/* The list was checked in main(). */
static enum paella_policy
parse_policy(const char *s)
{
	enum paella_policy p = PAELLA_POLICY_FIFO;
	if (!policy_of(s, &p))
		die("unknown policy '%s'", s);
	return p;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: paella-serve [options]\n"
		"\n"
		"Serves a mix of models through libpaellart, on the GPU or on the simulated GPU,\n"
		"and prints each model's latency under each scheduling policy, side by side on\n"
		"the same load.\n"
		"\n"
		"  --mix zoo|chains         what to serve (default zoo):\n"
		"                           zoo: the zoo's eight classifiers with the request mix of\n"
		"                             Paella's Fig. 11 (resnet18 27.2%%, mobilenet_v2 25.7%%,\n"
		"                             resnet34 16.8%%, squeezenet1_1 8.95%%, resnet50 7.45%%,\n"
		"                             densenet121 7.06%%, googlenet 5.46%%, inception_v3 1.38%%),\n"
		"                             open-loop arrivals with log-normal inter-arrival times;\n"
		"                             on cuda every job's logits are compared bit for bit with\n"
		"                             the zoo executor's (exec.c) for the same input\n"
		"                           chains: a short and a long chain of vector_add kernels,\n"
		"                             closed-loop clients, every output checked on cuda\n"
		"  --backend auto|cuda|sim  GPU if there is one, else the simulated GPU (default auto)\n"
		"  --images DIR             where the device images are: vector_add.cubin (chains,\n"
		"                           default build/kernels); conv2d.cubin, pool.cubin,\n"
		"                           linear.cubin (zoo, default build/kernels/zoo; DIR/zoo is\n"
		"                           tried when DIR has none).  Not used on sim\n"
		"  --policies LIST          comma-separated: fifo,srpt,fair,edf (default fifo,srpt,fair)\n"
		"  --duration S             seconds of load per policy (default 2; simulated on sim)\n"
		"  --seed N                 random seed: arrivals, inputs, weights, simulator (default 1)\n"
		"  --csv FILE               also write the results as CSV, one row per policy and model\n"
		"  --graph-us US            launch runs of a model's kernels of up to US microseconds\n"
		"                           (profiled) as one CUDA graph; 0 launches kernel by\n"
		"                           kernel (default: the runtime's, 20; cuda only)\n"
		"\n"
		"zoo only:\n"
		"  --rate R                 requests per second, all models together (default 400)\n"
		"  --sigma S                sigma of the log-normal inter-arrival times (default 1.5,\n"
		"                           as the paper; 0 gives evenly spaced arrivals)\n"
		"  --models LIST            serve only these models (comma-separated), their shares\n"
		"                           of the mix rescaled (default: all eight)\n"
		"  --weights-dir DIR        weights from DIR/<model>.safetensors (torchvision names,\n"
		"                           as kernels/zoo/torch_reference.py writes them) instead of\n"
		"                           random ones (uniform, variance 1/fan_in, seed from --seed)\n"
		"  --concurrent N           jobs of one model in flight at once (its job buffer sets,\n"
		"                           1 to 64, default 8)\n"
		"\n"
		"chains only:\n"
		"  --short-clients N        clients of the short model (default 4)\n"
		"  --long-clients N         clients of the long model (default 4)\n"
		"\n"
		"  -h, --help               this text\n"
		"\n"
		"Latencies are from submission to completion as the runtime saw them (virtual time\n"
		"on sim); jobs/s counts the jobs that completed within the --duration window.\n"
		"Exits 1 when a job failed or returned a wrong output, 2 on bad options.\n");
}

/* ---- the zoo mix --------------------------------------------------------- */

struct zoo_mix_entry {
	const char *name;
	double share; /* percent of requests, Paella Fig. 11 */
};

static const struct zoo_mix_entry zoo_mix[] = {
	{"resnet18", 27.2},   {"mobilenet_v2", 25.7}, {"resnet34", 16.8},  {"squeezenet1_1", 8.95},
	{"resnet50", 7.45},   {"densenet121", 7.06},  {"googlenet", 5.46}, {"inception_v3", 1.38},
};
#define ZOO_NMIX (sizeof(zoo_mix) / sizeof(zoo_mix[0]))

struct zoo_served {
	const char *name;
	double share;
	struct paella_zoo_plan *plan;
	float *blob;     /* NULL on sim */
	float *input;
	float *expected; /* exec.c's logits, cuda only */
	size_t in_bytes, out_bytes;
	struct paella_zoo_model *rm;
	uint64_t estimate_ns;
	/* Per policy run: */
	uint64_t *lat;
	unsigned nlat, in_window, wrong, failed;
};

struct zoo_request {
	uint64_t at_ns; /* arrival, from the start of the run */
	unsigned model;
	float *out;
};

struct zoo_run {
	struct zoo_served *zs;
	unsigned nzs;
	struct zoo_request *req;
	unsigned nreq;
	bool check;
	uint64_t t0, end_ns;
	pthread_mutex_t lock;
	unsigned outstanding;
};

static double
rng_normal(uint64_t *s)
{
	double u1 = ((rng_next(s) >> 11) + 0.5) / 9007199254740992.0;
	double u2 = ((rng_next(s) >> 11) + 0.5) / 9007199254740992.0;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* The callback's user data: the run and the request. */
struct zoo_ctx {
	struct zoo_run *run;
	struct zoo_request *req;
};

static void
zoo_callback(struct paella_job *job, enum paella_status st, void *user)
{
	struct zoo_ctx *c = user;
	struct zoo_run *run = c->run;
	struct zoo_served *z = &run->zs[c->req->model];
	struct paella_job_times t;
	bool have_t = paella_job_times(job, &t) == PAELLA_STATUS_OK;

	pthread_mutex_lock(&run->lock);
	if (st != PAELLA_STATUS_OK) {
		z->failed++;
		if (z->failed == 1)
			fprintf(stderr, "paella-serve: a job of %s failed: %s (%s)\n", z->name,
				paella_status_name(st), paella_last_error());
	} else {
		if (run->check && memcmp(c->req->out, z->expected, z->out_bytes) != 0)
			z->wrong++;
		if (have_t) {
			z->lat[z->nlat++] = t.completed_ns - t.submitted_ns;
			z->in_window += t.completed_ns <= run->end_ns;
		}
	}
	run->outstanding--;
	pthread_mutex_unlock(&run->lock);
	free(c);
}

static void
zoo_submit(struct zoo_run *run, struct zoo_request *r)
{
	struct zoo_served *z = &run->zs[r->model];
	struct zoo_ctx *c = malloc(sizeof(*c));
	if (c == NULL)
		die("out of host memory");
	c->run = run;
	c->req = r;
	memset(r->out, 0xff, z->out_bytes);
	struct paella_job_desc d = {
		.input = z->input,
		.input_bytes = z->in_bytes,
		.output = r->out,
		.output_bytes = z->out_bytes,
		.callback = zoo_callback,
		.user_data = c,
	};
	pthread_mutex_lock(&run->lock);
	run->outstanding++;
	pthread_mutex_unlock(&run->lock);
	TRY(paella_job_submit(paella_zoo_model_runtime(z->rm), &d, NULL));
}

#define CU(cu, call) \
	do { \
		CUresult rc_ = (cu)->call; \
		if (rc_ != CUDA_SUCCESS) \
			die("%s: %s", #call, paella__cu_error_name((cu), rc_)); \
	} while (0)

/* cuda: the GPU's SM count, for the plans' split-K choices (the runtime and
 * the reference executor run the same plan, so only speed depends on it). */
static int
cuda_num_sms(int device)
{
	struct paella__cu *cu;
	CUdevice dev;
	int n = 0;

	TRY(paella__cu_open(&cu));
	CU(cu, cuDeviceGet(&dev, device));
	CU(cu, cuDeviceGetAttribute(&n, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev));
	paella__cu_close(cu);
	return n;
}

/* cuda: each model's logits for its input, computed by the zoo's own
 * executor (exec.c) with the same instrumented images, plan and weights: the
 * runtime's jobs must return exactly these. */
static void
zoo_reference(struct zoo_served *zs, unsigned n, const char *images, int device)
{
	struct paella__cu *cu;
	struct pzoo__exec *ex;
	CUdevice dev;
	CUcontext ctx;
	CUstream stream;

	TRY(paella__cu_open(&cu));
	CU(cu, cuDeviceGet(&dev, device));
	CU(cu, cuDevicePrimaryCtxRetain(&ctx, dev));
	CU(cu, cuCtxSetCurrent(ctx));
	CU(cu, cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
	TRY(pzoo__exec_create(cu, images, true, &ex));
	for (unsigned m = 0; m < n; m++) {
		struct pzoo__instance *inst;

		TRY(pzoo__instance_create(ex, zs[m].plan, zs[m].blob, &inst));
		/* On the launches' stream (see exec.h). */
		CU(cu, cuMemcpyHtoDAsync(pzoo__instance_input(inst), zs[m].input,
					 zs[m].in_bytes, stream));
		TRY(pzoo__instance_run(inst, stream));
		TRY(pzoo__instance_wait(inst, stream));
		CU(cu, cuMemcpyDtoH(zs[m].expected, pzoo__instance_output(inst),
				    zs[m].out_bytes));
		pzoo__instance_destroy(inst);
		bool finite = true;
		for (size_t i = 0; i < zs[m].out_bytes / 4; i++)
			finite &= isfinite(zs[m].expected[i]);
		if (!finite)
			fprintf(stderr, "paella-serve: warning: %s's reference logits are not all "
					"finite\n", zs[m].name);
	}
	pzoo__exec_destroy(ex);
	CU(cu, cuStreamDestroy(stream));
	CU(cu, cuCtxSetCurrent(NULL));
	CU(cu, cuDevicePrimaryCtxRelease(dev));
	paella__cu_close(cu);
}

static bool
file_exists(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (f)
		fclose(f);
	return f != NULL;
}

struct zoo_result {
	unsigned reqs, jobs, in_window, wrong, failed;
	double p50, p99, mean;
};

/* One line on stderr: what the dispatcher did in a run. */
static void
print_dispatch_stats(struct paella_runtime *rt, const char *policy)
{
	struct paella_runtime_stats st;

	if (paella_runtime_stats(rt, &st) != PAELLA_STATUS_OK)
		return;
	fprintf(stderr, "[%s] %s: %llu kernel launches (%llu early), %llu with progress seen "
		"before completion; dispatcher busy %.1f ms\n", paella_runtime_backend_name(rt),
		policy, (unsigned long long)st.kernels_launched,
		(unsigned long long)st.early_launches,
		(unsigned long long)st.kernels_progress_seen, (double)st.dispatcher_busy_ns / 1e6);
}

static void
zoo_stats(uint64_t *lat, unsigned n, struct zoo_result *r)
{
	double sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += lat[i] / 1000.0;
	r->mean = n ? sum / n : NAN;
	r->p50 = pct_us(lat, n, 0.5);
	r->p99 = pct_us(lat, n, 0.99);
}

static int
run_zoo(struct opts *o, enum paella_backend backend)
{
	struct zoo_served zs[ZOO_NMIX];
	unsigned nzs = 0;

	/* Which models: --models, in the mix's order. */
	memset(zs, 0, sizeof(zs));
	for (unsigned i = 0; i < ZOO_NMIX; i++) {
		bool want = o->zoo_models[0] == '\0';
		if (!want) {
			char list[256], *save = NULL;
			snprintf(list, sizeof(list), "%s", o->zoo_models);
			for (char *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save))
				want |= !strcmp(p, zoo_mix[i].name);
		}
		if (want) {
			zs[nzs].name = zoo_mix[i].name;
			zs[nzs].share = zoo_mix[i].share;
			nzs++;
		}
	}

	/* Where it runs: the runtime's auto choice, asked once. */
	struct paella_config cfg;
	struct paella_runtime *rt;
	paella_config_init(&cfg);
	cfg.backend = backend;
	cfg.dispatch_mode = PAELLA_DISPATCH_MANUAL;
	TRY(paella_runtime_create(&cfg, &rt));
	const bool sim = !strcmp(paella_runtime_backend_name(rt), "sim");
	paella_runtime_destroy(rt);

	char images[4096] = "";
	if (!sim) {
		const char *dir = o->images ? o->images : "build/kernels/zoo";
		if (file_exists(dir, "conv2d.cubin"))
			snprintf(images, sizeof(images), "%s", dir);
		else if (snprintf(images, sizeof(images), "%s/zoo", dir) > 0 &&
			 file_exists(images, "conv2d.cubin"))
			;
		else
			die("no zoo images (conv2d.cubin) in %s or %s/zoo: build kernels/zoo, or "
			    "give --images", dir, dir);
	}

	/* Plans, weights, inputs, and on cuda the reference logits. */
	struct paella_zoo_options zopt = {.batch = 1, .num_sms = sim ? 132 : cuda_num_sms(cfg.device)};
	double total_share = 0;
	uint64_t rs = 0x2545F4914F6CDD1Dull * (o->seed + 11);
	fprintf(stderr, "[%s] building %u models%s ...\n", sim ? "sim" : "cuda", nzs,
		sim ? "" : (o->weights_dir ? ", loading weights" : ", random weights"));
	for (unsigned m = 0; m < nzs; m++) {
		struct zoo_served *z = &zs[m];
		ZTRY(paella_zoo_build(z->name, &zopt, &z->plan));
		z->in_bytes = (size_t)z->plan->storages[z->plan->input].floats * 4;
		z->out_bytes = (size_t)z->plan->storages[z->plan->output].floats * 4;
		z->input = malloc(z->in_bytes);
		z->expected = malloc(z->out_bytes);
		if (!z->input || !z->expected)
			die("out of host memory");
		for (size_t i = 0; i < z->in_bytes / 4; i++)
			z->input[i] = (float)((rng_next(&rs) >> 11) / 9007199254740992.0 * 2.0 - 1.0);
		/* The simulator runs no kernel code: its parameters stay zero. */
		if (o->weights_dir) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s.safetensors", o->weights_dir, z->name);
			ZTRY(paella_zoo_load_weights(z->plan, path, &z->blob));
		} else if (!sim) {
			ZTRY(paella_zoo_random_blob(z->plan, o->seed * 1000003ull + m, &z->blob));
		}
		total_share += z->share;
	}
	if (!sim) {
		double t = wall_s();
		zoo_reference(zs, nzs, images, cfg.device);
		fprintf(stderr, "[cuda] reference logits from the zoo executor (exec.c) in %.1f s\n",
			wall_s() - t);
	}

	/* The arrivals, the same for every policy: log-normal inter-arrival
	 * times of mean 1/rate (mu = ln(1/rate) - sigma^2/2), each request's
	 * model drawn from the mix. */
	const double mean_ns = 1e9 / o->rate;
	const double mu = log(mean_ns) - o->sigma * o->sigma / 2;
	const uint64_t dur_ns = (uint64_t)(o->duration_s * 1e9);
	uint64_t as = 0x9E3779B97F4A7C15ull * (o->seed + 3);
	unsigned cap = 1024, nreq = 0;
	struct zoo_request *req = malloc(cap * sizeof(*req));
	if (!req)
		die("out of host memory");
	for (double t = exp(mu + o->sigma * rng_normal(&as));; t += exp(mu + o->sigma * rng_normal(&as))) {
		if (t >= (double)dur_ns)
			break;
		if (nreq == MAX_SAMPLES)
			die("more than %u requests: lower --rate or --duration", MAX_SAMPLES);
		if (nreq == cap) {
			cap *= 2;
			req = realloc(req, cap * sizeof(*req));
			if (!req)
				die("out of host memory");
		}
		double u = ((rng_next(&as) >> 11) + 0.5) / 9007199254740992.0 * total_share;
		unsigned m = 0;
		while (m + 1 < nzs && u >= zs[m].share) {
			u -= zs[m].share;
			m++;
		}
		req[nreq].at_ns = (uint64_t)t;
		req[nreq].model = m;
		req[nreq].out = malloc(zs[m].out_bytes);
		if (!req[nreq].out)
			die("out of host memory");
		nreq++;
	}
	unsigned per_model[ZOO_NMIX] = {0};
	for (unsigned i = 0; i < nreq; i++)
		per_model[req[i].model]++;
	for (unsigned m = 0; m < nzs; m++) {
		zs[m].lat = malloc((per_model[m] + 1) * sizeof(uint64_t));
		if (!zs[m].lat)
			die("out of host memory");
	}

	/* Every policy. */
	char *pol[16];
	unsigned npol = 0;
	char *save = NULL;
	for (char *p = strtok_r(o->policies, ",", &save); p && npol < 16; p = strtok_r(NULL, ",", &save))
		pol[npol++] = p;
	struct zoo_result (*res)[ZOO_NMIX + 1] = calloc(npol, sizeof(*res));
	uint64_t est_ns[ZOO_NMIX] = {0};
	uint64_t *all_lat = malloc((nreq + 1) * sizeof(uint64_t));
	if (!res || !all_lat)
		die("out of host memory");
	struct paella_module *mods[PAELLA_ZOO_NIMAGES];
	struct zoo_run run = {.zs = zs, .nzs = nzs, .req = req, .nreq = nreq, .check = !sim};
	pthread_mutex_init(&run.lock, NULL);
	bool bad = false;

	for (unsigned pi = 0; pi < npol; pi++) {
		paella_config_init(&cfg);
		cfg.backend = sim ? PAELLA_BACKEND_SIM : PAELLA_BACKEND_CUDA;
		cfg.policy = parse_policy(pol[pi]);
		if (o->graph_ns >= 0)
			cfg.graph_chunk_ns = (uint64_t)o->graph_ns;
		cfg.sim_seed = o->seed;
		cfg.sim_card = "H200";
		cfg.dispatch_mode = sim ? PAELLA_DISPATCH_MANUAL : PAELLA_DISPATCH_THREAD;
		TRY(paella_runtime_create(&cfg, &rt));
		if (!sim)
			ZTRY(paella_zoo_modules_load(rt, images, PAELLA_ZOO_VARIANT_SAMPLE, mods));
		for (unsigned m = 0; m < nzs; m++) {
			ZTRY(paella_zoo_model_create(rt, zs[m].plan, zs[m].blob,
						     PAELLA_ZOO_VARIANT_SAMPLE, sim ? NULL : mods,
						     o->concurrent, &zs[m].rm));
			TRY(paella_model_estimate_ns(paella_zoo_model_runtime(zs[m].rm), &est_ns[m]));
			zs[m].nlat = zs[m].in_window = zs[m].wrong = zs[m].failed = 0;
		}
		fprintf(stderr, "[%s] %s: %u requests over %.1f s ...\n", sim ? "sim" : "cuda",
			pol[pi], nreq, o->duration_s);
		run.outstanding = 0;
		run.t0 = paella_runtime_now_ns(rt);
		run.end_ns = run.t0 + dur_ns;
		if (sim) {
			for (unsigned i = 0; i < nreq; i++) {
				TRY(paella_runtime_run_until(rt, run.t0 + req[i].at_ns));
				zoo_submit(&run, &req[i]);
			}
			TRY(paella_runtime_run_until_idle(rt));
		} else {
			for (unsigned i = 0; i < nreq; i++) {
				uint64_t at = run.t0 + req[i].at_ns;
				struct timespec ts = {(time_t)(at / 1000000000ull), (long)(at % 1000000000ull)};
				while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
					;
				zoo_submit(&run, &req[i]);
			}
			double give_up = wall_s() + 120;
			for (;;) {
				pthread_mutex_lock(&run.lock);
				unsigned left = run.outstanding;
				pthread_mutex_unlock(&run.lock);
				if (left == 0)
					break;
				if (wall_s() > give_up)
					die("%u jobs still running 120 s after the last arrival", left);
				struct timespec ts = {0, 1000000};
				nanosleep(&ts, NULL);
			}
		}
		unsigned nall = 0;
		struct zoo_result *all = &res[pi][nzs];
		for (unsigned m = 0; m < nzs; m++) {
			struct zoo_served *z = &zs[m];
			struct zoo_result *r = &res[pi][m];
			memcpy(all_lat + nall, z->lat, z->nlat * sizeof(uint64_t));
			nall += z->nlat;
			r->reqs = per_model[m];
			r->jobs = z->nlat;
			r->in_window = z->in_window;
			r->wrong = z->wrong;
			r->failed = z->failed;
			zoo_stats(z->lat, z->nlat, r);
			all->reqs += r->reqs;
			all->jobs += r->jobs;
			all->in_window += r->in_window;
			all->wrong += r->wrong;
			all->failed += r->failed;
			bad |= z->wrong || z->failed || z->nlat != per_model[m];
			ZTRY(paella_zoo_model_destroy(z->rm));
			z->rm = NULL;
		}
		zoo_stats(all_lat, nall, all);
		print_dispatch_stats(rt, pol[pi]);
		if (!sim)
			ZTRY(paella_zoo_modules_unload(mods));
		paella_runtime_destroy(rt);
	}

	/* The table: one row a model, one group of columns a policy. */
	const char *bname = sim ? "sim" : "cuda";
	printf("%s: %u requests in %.1f s (%.0f/s offered, log-normal sigma %.2f)%s\n", bname, nreq,
	       o->duration_s, nreq / o->duration_s, o->sigma,
	       sim ? ", simulated H200, virtual time" : "");
	printf("%-14s %6s %6s %8s", "", "", "", "");
	for (unsigned pi = 0; pi < npol; pi++)
		printf(" | %-26s", pol[pi]);
	printf("\n%-14s %6s %6s %8s", "model", "share", "reqs", "alone us");
	for (unsigned pi = 0; pi < npol; pi++)
		printf(" | %8s %8s %8s", "p50 us", "p99 us", "jobs/s");
	printf("\n");
	for (unsigned m = 0; m <= nzs; m++) {
		if (m < nzs)
			printf("%-14s %5.2f%% %6u %8.0f", zs[m].name, zs[m].share * 100.0 / total_share,
			       per_model[m], est_ns[m] / 1000.0);
		else
			printf("%-14s %6s %6u %8s", "all", "", nreq, "");
		for (unsigned pi = 0; pi < npol; pi++) {
			struct zoo_result *r = &res[pi][m];
			printf(" | %8.1f %8.1f %8.1f", r->p50, r->p99, r->in_window / o->duration_s);
		}
		printf("\n");
	}
	unsigned wrong = 0, failed = 0, lost = 0;
	for (unsigned pi = 0; pi < npol; pi++) {
		wrong += res[pi][nzs].wrong;
		failed += res[pi][nzs].failed;
		lost += res[pi][nzs].reqs - res[pi][nzs].jobs - res[pi][nzs].failed;
	}
	printf("(\"alone us\": the runtime's estimate of one job alone on the GPU%s; jobs/s:\n"
	       " jobs completed within the %.1f s of arrivals)\n",
	       sim ? ", from the simulator's block durations (libpaellazoo)" : ", profiled at finalize",
	       o->duration_s);
	if (sim)
		printf("(simulated GPU: latencies in virtual time; outputs not checked, the simulator "
		       "runs no kernel code)\n");
	else if (!wrong && !failed && !lost)
		printf("(every job's logits equal, bit for bit, the zoo executor's for the same input: "
		       "%u jobs checked)\n", nreq * npol);
	if (wrong || failed || lost)
		printf("mismatches: %u wrong logits, %u failed jobs, %u lost\n", wrong, failed, lost);

	if (o->csv) {
		FILE *csv = fopen(o->csv, "w");
		if (!csv)
			die("cannot write %s: %s", o->csv, strerror(errno));
		fprintf(csv, "backend,policy,model,share,requests,jobs,wrong,failed,p50_us,p99_us,"
			     "mean_us,jobs_per_s,alone_us,rate,sigma,duration_s\n");
		for (unsigned pi = 0; pi < npol; pi++)
			for (unsigned m = 0; m <= nzs; m++) {
				struct zoo_result *r = &res[pi][m];
				fprintf(csv, "%s,%s,%s,%.4f,%u,%u,%u,%u,%.2f,%.2f,%.2f,%.1f,%.1f,%g,%g,%g\n",
					bname, pol[pi], m < nzs ? zs[m].name : "all",
					m < nzs ? zs[m].share / total_share : 1.0, r->reqs, r->jobs,
					r->wrong, r->failed, r->p50, r->p99, r->mean,
					r->in_window / o->duration_s,
					m < nzs ? est_ns[m] / 1000.0 : NAN, o->rate, o->sigma,
					o->duration_s);
			}
		fclose(csv);
	}

	for (unsigned i = 0; i < nreq; i++)
		free(req[i].out);
	free(req);
	free(res);
	free(all_lat);
	for (unsigned m = 0; m < nzs; m++) {
		paella_zoo_plan_free(zs[m].plan);
		free(zs[m].blob);
		free(zs[m].input);
		free(zs[m].expected);
		free(zs[m].lat);
	}
	pthread_mutex_destroy(&run.lock);
	if (bad)
		fprintf(stderr, "paella-serve: some jobs returned wrong outputs, failed or were lost\n");
	return bad ? 1 : 0;
}

/* ---- the chains mix ------------------------------------------------------ */

static int
run_chains(struct opts *po, enum paella_backend backend)
{
	struct opts o = *po;

	if (o.images == NULL)
		o.images = "build/kernels";
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
		if (o.graph_ns >= 0)
			cfg.graph_chunk_ns = (uint64_t)o.graph_ns;
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
						       PAELLA_MANIFEST_HEADER "K vector_add 4 sample\n", &k, 1};
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
		print_dispatch_stats(rt, p);
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

int
main(int argc, char **argv)
{
	struct opts o = {
		.backend = "auto",
		.duration_s = 2.0,
		.seed = 1,
		.graph_ns = -1,
		.models = {
			{"short", 4, 1u << 20, 4, 200.0},
			{"long", 32, 1u << 22, 4, 200.0},
		},
		.zoo = true,
		.rate = 400,
		.sigma = 1.5,
		.concurrent = 8,
	};
	snprintf(o.policies, sizeof(o.policies), "fifo,srpt,fair");
	enum {
		OPT_MIX = 256, OPT_RATE, OPT_SIGMA, OPT_MODELS, OPT_WEIGHTS, OPT_CONCURRENT, OPT_GRAPH,
	};
	static const struct option longopts[] = {
		{"backend", required_argument, NULL, 'b'},  {"images", required_argument, NULL, 'i'},
		{"policies", required_argument, NULL, 'p'}, {"duration", required_argument, NULL, 'd'},
		{"short-clients", required_argument, NULL, 's'},
		{"long-clients", required_argument, NULL, 'l'},
		{"seed", required_argument, NULL, 'r'},     {"csv", required_argument, NULL, 'c'},
		{"mix", required_argument, NULL, OPT_MIX},  {"rate", required_argument, NULL, OPT_RATE},
		{"sigma", required_argument, NULL, OPT_SIGMA},
		{"models", required_argument, NULL, OPT_MODELS},
		{"weights-dir", required_argument, NULL, OPT_WEIGHTS},
		{"concurrent", required_argument, NULL, OPT_CONCURRENT},
		{"graph-us", required_argument, NULL, OPT_GRAPH},
		{"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
	int ch;
	char *end;
	const char *chains_only = NULL, *zoo_only = NULL;
#define BAD(...) \
	do { \
		fprintf(stderr, "paella-serve: error: " __VA_ARGS__); \
		fputc('\n', stderr); \
		return 2; \
	} while (0)
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b': o.backend = optarg; break;
		case OPT_GRAPH: {
			double us = strtod(optarg, &end);
			if (end == optarg || *end || !(us >= 0) || us > 1e6)
				BAD("--graph-us wants microseconds 0 to 1000000, got '%s'", optarg);
			o.graph_ns = (long long)(us * 1000.0);
			break;
		}
		case 'i': o.images = optarg; break;
		case 'c': o.csv = optarg; break;
		case 'p':
			if (strlen(optarg) >= sizeof(o.policies))
				BAD("--policies: list too long");
			snprintf(o.policies, sizeof(o.policies), "%s", optarg);
			break;
		case 'd':
			o.duration_s = strtod(optarg, &end);
			if (end == optarg || *end || !(o.duration_s > 0) || o.duration_s > 3600)
				BAD("--duration wants seconds in (0, 3600], got '%s'", optarg);
			break;
		case 's':
		case 'l': {
			unsigned long v = strtoul(optarg, &end, 10);
			if (end == optarg || *end || v > 16 || optarg[0] == '-')
				BAD("--%s wants 0 to 16, got '%s'",
				    ch == 's' ? "short-clients" : "long-clients", optarg);
			o.models[ch == 's' ? 0 : 1].clients = (unsigned)v;
			chains_only = ch == 's' ? "--short-clients" : "--long-clients";
			break;
		}
		case 'r': {
			unsigned long v = strtoul(optarg, &end, 10);
			if (end == optarg || *end || v > 0xFFFFFFFFul || optarg[0] == '-')
				BAD("--seed wants an integer 0 to 4294967295, got '%s'", optarg);
			o.seed = (unsigned)v;
			break;
		}
		case OPT_MIX:
			if (!strcmp(optarg, "zoo"))
				o.zoo = true;
			else if (!strcmp(optarg, "chains"))
				o.zoo = false;
			else
				BAD("unknown --mix '%s' (zoo, chains)", optarg);
			break;
		case OPT_RATE:
			o.rate = strtod(optarg, &end);
			if (end == optarg || *end || !(o.rate > 0) || o.rate > 1e6)
				BAD("--rate wants requests per second in (0, 1000000], got '%s'", optarg);
			zoo_only = "--rate";
			break;
		case OPT_SIGMA:
			o.sigma = strtod(optarg, &end);
			if (end == optarg || *end || !(o.sigma >= 0) || o.sigma > 4)
				BAD("--sigma wants a number in [0, 4], got '%s'", optarg);
			zoo_only = "--sigma";
			break;
		case OPT_MODELS: {
			char list[256], *save = NULL;
			if (strlen(optarg) >= sizeof(o.zoo_models))
				BAD("--models: list too long");
			snprintf(list, sizeof(list), "%s", optarg);
			unsigned n = 0;
			for (char *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save), n++) {
				bool known = false;
				for (unsigned i = 0; i < ZOO_NMIX; i++)
					known |= !strcmp(p, zoo_mix[i].name);
				if (!known)
					BAD("--models: unknown model '%s' (resnet18, mobilenet_v2, "
					    "resnet34, squeezenet1_1, resnet50, densenet121, googlenet, "
					    "inception_v3)", p);
			}
			if (n == 0)
				BAD("--models wants at least one model");
			snprintf(o.zoo_models, sizeof(o.zoo_models), "%s", optarg);
			zoo_only = "--models";
			break;
		}
		case OPT_WEIGHTS:
			o.weights_dir = optarg;
			zoo_only = "--weights-dir";
			break;
		case OPT_CONCURRENT: {
			unsigned long v = strtoul(optarg, &end, 10);
			if (end == optarg || *end || v < 1 || v > 64 || optarg[0] == '-')
				BAD("--concurrent wants 1 to 64, got '%s'", optarg);
			o.concurrent = (unsigned)v;
			zoo_only = "--concurrent";
			break;
		}
		case 'h': usage(stdout); return 0;
		case ':': BAD("%s needs a value (see --help)", argv[optind - 1]);
		default:
			if (optopt)
				BAD("unknown option '-%c' (see --help)", optopt);
			BAD("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
#undef BAD
	if (optind < argc) {
		fprintf(stderr, "paella-serve: error: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	if (o.zoo && chains_only) {
		fprintf(stderr, "paella-serve: error: %s is for --mix chains\n", chains_only);
		return 2;
	}
	if (!o.zoo && zoo_only) {
		fprintf(stderr, "paella-serve: error: %s is for --mix zoo\n", zoo_only);
		return 2;
	}
	{
		char list[128], *save = NULL;
		unsigned n = 0;
		snprintf(list, sizeof(list), "%s", o.policies);
		for (char *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save), n++) {
			enum paella_policy pol;
			if (!policy_of(p, &pol)) {
				fprintf(stderr, "paella-serve: error: unknown policy '%s' (fifo, srpt, fair, edf)\n", p);
				return 2;
			}
		}
		if (n == 0 || n > 16) {
			fprintf(stderr, "paella-serve: error: --policies wants 1 to 16 policies\n");
			return 2;
		}
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
	return o.zoo ? run_zoo(&o, backend) : run_chains(&o, backend);
}
