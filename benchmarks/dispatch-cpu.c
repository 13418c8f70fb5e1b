/*
 * dispatch-cpu.c - how many scheduling decisions the dispatcher makes per
 * second of one CPU core, so that it is never the bottleneck.
 *
 * 64 jobs of 100 kernels each are queued on the simulated H100 at once,
 * then the dispatcher runs in this thread (manual mode, pinned to one core)
 * until all are done.  A decision is one kernel launch chosen by the
 * policy.  Reported twice: per second of wall time, which includes the
 * simulator's own work (its events, the block scheduler), and per second
 * of the dispatcher alone (wall time minus the time spent in the
 * simulator's advance), the figure that a real GPU's dispatcher would see.
 *
 * The jobs are of four models whose kernels take 1/8, 1/2, 1 and 2 waves
 * of the card, so that several kernels of different jobs run at once and
 * the launch window opens often.
 *
 * USAGE: dispatch-cpu [--jobs N] [--kernels N] [--rounds N] [--cpu N]
 *                     [--policy srpt|fifo|fair|edf|all] [--csv FILE]
 * Prints a table; with --csv also writes one row per round.
 */
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "paella/instrument-abi.h"
#include "paella/paella.h"

#define IO_BYTES 64u
#define NMODELS 4
#define MAX_JOBS 4096

struct options {
	unsigned jobs;
	unsigned kernels;
	unsigned rounds;
	int cpu;
	const char *policy;
	const char *csv;
};

struct result {
	uint64_t decisions;
	uint64_t wall_ns;
	uint64_t busy_ns;
	uint64_t iterations;
};

static const struct {
	const char *name;
	enum paella_policy policy;
} policies[] = {
	{ "srpt", PAELLA_POLICY_SRPT },
	{ "fifo", PAELLA_POLICY_FIFO },
	{ "fair", PAELLA_POLICY_FAIR },
	{ "edf", PAELLA_POLICY_EDF },
};

static void
usage(FILE *f, const char *argv0)
{
	fprintf(f,
		"usage: %s [--jobs N] [--kernels N] [--rounds N] [--cpu N]\n"
		"          [--policy srpt|fifo|fair|edf|all] [--csv FILE]\n"
		"\n"
		"Dispatch decisions per second of one CPU core: N jobs (default 64) of\n"
		"K kernels each (default 100) queued at once on the simulated H100,\n"
		"dispatched in this thread until done, ROUNDS times (default 10) per\n"
		"policy.  --cpu pins to that CPU (default 0; -1 leaves it).  Prints a\n"
		"table of the best and median round; --csv writes every round.\n",
		argv0);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int
parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int
parse_args(int argc, char **argv, struct options *o)
{
	o->jobs = 64;
	o->kernels = 100;
	o->rounds = 10;
	o->cpu = 0;
	o->policy = "all";
	o->csv = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned u;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout, argv[0]);
			exit(0);
		}
		if (v == NULL)
			goto bad;
		if (strcmp(a, "--jobs") == 0 && parse_uint(v, 1, MAX_JOBS, &o->jobs) == 0)
			;
		else if (strcmp(a, "--kernels") == 0 && parse_uint(v, 1, 100000, &o->kernels) == 0)
			;
		else if (strcmp(a, "--rounds") == 0 && parse_uint(v, 1, 1000, &o->rounds) == 0)
			;
		else if (strcmp(a, "--cpu") == 0 && strcmp(v, "-1") == 0)
			o->cpu = -1;
		else if (strcmp(a, "--cpu") == 0 && parse_uint(v, 0, CPU_SETSIZE - 1, &u) == 0)
			o->cpu = (int)u;
		else if (strcmp(a, "--policy") == 0)
			o->policy = v;
		else if (strcmp(a, "--csv") == 0)
			o->csv = v;
		else
			goto bad;
		i++;
		continue;
bad:
		fprintf(stderr, "%s: bad option %s%s%s\n", argv[0], a, v ? " " : "", v ? v : "");
		usage(stderr, argv[0]);
		return -1;
	}
	if (strcmp(o->policy, "all") != 0) {
		bool known = false;

		for (size_t p = 0; p < sizeof(policies) / sizeof(policies[0]); p++)
			known |= strcmp(o->policy, policies[p].name) == 0;
		if (!known) {
			fprintf(stderr, "%s: no policy called %s (srpt, fifo, fair, edf, all)\n",
				argv[0], o->policy);
			return -1;
		}
	}
	return 0;
}

static int
check(enum paella_status st, const char *what)
{
	if (st == PAELLA_STATUS_OK)
		return 0;
	fprintf(stderr, "dispatch-cpu: %s: %s: %s\n", what, paella_status_name(st),
		paella_last_error());
	return -1;
}

static struct paella_model *
make_model(struct paella_runtime *rt, struct paella_module *mod, unsigned blocks,
	   unsigned kernels, unsigned concurrent)
{
	struct paella_model *m = NULL;
	struct paella_kernel_step step;
	struct paella_arg args[2];
	unsigned buf = 0;
	int n = 1;

	if (check(paella_model_create(rt, "bench", &m), "model") != 0 ||
	    check(paella_model_add_buffer(m, PAELLA_BUFFER_JOB, 4096, &buf), "buffer") != 0 ||
	    check(paella_model_add_copy(m, PAELLA_COPY_INPUT, buf, 0, 0, IO_BYTES), "copy") != 0)
		return NULL;
	args[0] = paella_arg_buffer(buf, 0);
	args[1] = paella_arg_value(&n, sizeof(n));
	memset(&step, 0, sizeof(step));
	step.module = mod;
	step.kernel = "k";
	step.grid.x = blocks;
	step.grid.y = step.grid.z = 1;
	step.block.x = 256;
	step.block.y = step.block.z = 1;
	step.args = args;
	step.nargs = 2;
	for (unsigned i = 0; i < kernels; i++)
		if (check(paella_model_add_kernel(m, &step), "kernel") != 0)
			return NULL;
	if (check(paella_model_add_copy(m, PAELLA_COPY_OUTPUT, buf, 0, 0, IO_BYTES), "copy") != 0 ||
	    check(paella_model_finalize(m, concurrent), "finalize") != 0)
		return NULL;
	return m;
}

static int
run_policy(const struct options *o, enum paella_policy policy, struct result *res)
{
	static const unsigned blocks[NMODELS] = { 132, 528, 1056, 2112 };
	static const struct paella_sim_kernel kernel = { "k", 32, 0, 10000 };
	struct paella_sim_module desc = { PAELLA_ABI_VERSION, "paella-manifest 2\nK k 2 sample\n",
					  &kernel, 1 };
	struct paella_config c;
	struct paella_runtime *rt = NULL;
	struct paella_module *mod = NULL;
	struct paella_model *models[NMODELS];
	static unsigned char in[IO_BYTES], out[MAX_JOBS][IO_BYTES];
	struct paella_job **jobs = calloc(o->jobs, sizeof(*jobs));
	int rc = -1;

	paella_config_init(&c);
	c.backend = PAELLA_BACKEND_SIM;
	c.policy = policy;
	c.dispatch_mode = PAELLA_DISPATCH_MANUAL;
	c.streams = o->jobs < PAELLA_MAX_STREAMS ? o->jobs : PAELLA_MAX_STREAMS;
	c.sim_jitter = 0.05;
	/* A decision per kernel, as it measured before graph runs. */
	c.graph_chunk_ns = 0;
	if (jobs == NULL || check(paella_runtime_create(&c, &rt), "runtime") != 0 ||
	    check(paella_module_load_sim(rt, &desc, &mod), "module") != 0)
		goto out;
	for (unsigned m = 0; m < NMODELS; m++) {
		models[m] = make_model(rt, mod, blocks[m], o->kernels,
				       (o->jobs + NMODELS - 1) / NMODELS);
		if (models[m] == NULL)
			goto out;
	}
	for (unsigned r = 0; r < o->rounds; r++) {
		struct paella_runtime_stats before, after;
		uint64_t t0, t1;

		for (unsigned j = 0; j < o->jobs; j++) {
			struct paella_job_desc d;

			memset(&d, 0, sizeof(d));
			d.input = in;
			d.input_bytes = IO_BYTES;
			d.output = out[j];
			d.output_bytes = IO_BYTES;
			/* Deadlines for EDF, spread so that the order matters. */
			d.deadline_ns = 1000000ull + (uint64_t)((j * 7919u) % o->jobs) * 100000ull;
			if (check(paella_job_submit(models[j % NMODELS], &d, &jobs[j]), "submit") != 0)
				goto out;
		}
		paella_runtime_stats(rt, &before);
		t0 = now_ns();
		if (check(paella_runtime_run_until_idle(rt), "run") != 0)
			goto out;
		t1 = now_ns();
		paella_runtime_stats(rt, &after);
		for (unsigned j = 0; j < o->jobs; j++) {
			if (check(paella_job_poll(jobs[j]), "job") != 0)
				goto out;
			paella_job_release(jobs[j]);
			jobs[j] = NULL;
		}
		res[r].decisions = after.kernels_launched - before.kernels_launched;
		res[r].wall_ns = t1 - t0;
		res[r].busy_ns = after.dispatcher_busy_ns - before.dispatcher_busy_ns;
		res[r].iterations = after.dispatcher_iterations - before.dispatcher_iterations;
		if (res[r].decisions != (uint64_t)o->jobs * o->kernels) {
			fprintf(stderr, "dispatch-cpu: %llu decisions, expected %llu\n",
				(unsigned long long)res[r].decisions,
				(unsigned long long)o->jobs * o->kernels);
			goto out;
		}
	}
	rc = 0;
out:
	paella_runtime_destroy(rt);
	free(jobs);
	return rc;
}

static double
per_s(uint64_t n, uint64_t ns)
{
	return ns ? (double)n * 1e9 / (double)ns : 0.0;
}

static double
dispatcher_only(const struct result *r)
{
	return per_s(r->decisions, r->busy_ns);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
cpu_name(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, len, "unknown CPU");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
			snprintf(buf, len, "%s", colon + 2);
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
}

int
main(int argc, char **argv)
{
	struct options o;
	struct result *res;
	FILE *csv = NULL;
	char cpu[128];
	int failed = 0;

	if (parse_args(argc, argv, &o) != 0)
		return 2;
	if (o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0) {
			fprintf(stderr, "dispatch-cpu: cannot pin to CPU %d\n", o.cpu);
			return 1;
		}
	}
	if (o.csv != NULL) {
		csv = fopen(o.csv, "w");
		if (csv == NULL) {
			fprintf(stderr, "dispatch-cpu: cannot write %s\n", o.csv);
			return 1;
		}
		fprintf(csv, "policy,jobs,kernels_per_job,round,decisions,wall_ns,dispatcher_busy_ns,"
			     "decisions_per_s,dispatcher_only_per_s,iterations\n");
	}
	res = calloc(o.rounds, sizeof(*res));
	if (res == NULL)
		return 1;
	cpu_name(cpu, sizeof(cpu));
	printf("dispatch-cpu: %u jobs x %u kernels on the simulated H100, %u rounds, CPU %d (%s)\n\n",
	       o.jobs, o.kernels, o.rounds, o.cpu, cpu);
	printf("%-7s %10s %14s %14s %16s %16s\n", "policy", "decisions", "per s (best)",
	       "per s (median)", "dispatcher only", "dispatcher only");
	printf("%-7s %10s %14s %14s %16s %16s\n", "", "per round", "incl. sim", "incl. sim",
	       "(best)", "(median)");
	for (size_t p = 0; p < sizeof(policies) / sizeof(policies[0]); p++) {
		double *all, *alone;

		if (strcmp(o.policy, "all") != 0 && strcmp(o.policy, policies[p].name) != 0)
			continue;
		if (run_policy(&o, policies[p].policy, res) != 0) {
			failed = 1;
			continue;
		}
		all = calloc(o.rounds, sizeof(*all));
		alone = calloc(o.rounds, sizeof(*alone));
		if (all == NULL || alone == NULL)
			return 1;
		for (unsigned r = 0; r < o.rounds; r++) {
			all[r] = per_s(res[r].decisions, res[r].wall_ns);
			alone[r] = dispatcher_only(&res[r]);
			if (csv != NULL)
				fprintf(csv, "%s,%u,%u,%u,%llu,%llu,%llu,%.0f,%.0f,%llu\n",
					policies[p].name, o.jobs, o.kernels, r,
					(unsigned long long)res[r].decisions,
					(unsigned long long)res[r].wall_ns,
					(unsigned long long)res[r].busy_ns, all[r], alone[r],
					(unsigned long long)res[r].iterations);
		}
		qsort(all, o.rounds, sizeof(*all), cmp_double);
		qsort(alone, o.rounds, sizeof(*alone), cmp_double);
		printf("%-7s %10llu %14.0f %14.0f %16.0f %16.0f\n", policies[p].name,
		       (unsigned long long)res[0].decisions, all[o.rounds - 1], all[o.rounds / 2],
		       alone[o.rounds - 1], alone[o.rounds / 2]);
		free(all);
		free(alone);
	}
	printf("\ntarget: 500000 decisions per second on one core\n");
	if (csv != NULL)
		fclose(csv);
	free(res);
	return failed;
}
