/*
 * bench-run.c - the systems of `paella bench` and the loop that replays a
 * load point through one: a runtime per system (Paella's dispatcher, or
 * direct jobs on the caller's streams, the hardware deciding), and MPS's
 * processes, one per model.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"


/* How far the manual-mode loop lets time pass while requests are in
 * flight before it looks for completions (a request waiting for its
 * model's cap is submitted at most this late). */
#define STEP_SIM_NS 5000ull
#define STEP_CUDA_NS 2000ull
/* A load point that has not finished after this is broken. */
#define POINT_TIMEOUT_S 600.0

struct mps_child {
	pid_t pid;
	FILE *to, *from;
	unsigned model;
};

struct bench_env {
	struct bench_system sys;
	const struct bench_mix *mix;
	struct bench_models *bm;
	struct bench_options opts;
	bool sim, manual, check;
	struct paella_runtime *rt;
	struct bench_images imgs;
	struct bench_rt_model *rms[BENCH_MAX_MODELS];
	struct paella_model *models[BENCH_MAX_MODELS];
	/* Direct: one stream per slot (cuda-ss: one in all). */
	struct paella_stream **streams;
	unsigned nstreams;
	/* Slots: model m owns [base[m], base[m] + cap[m]). */
	unsigned base[BENCH_MAX_MODELS], cap[BENCH_MAX_MODELS], nslots;
	size_t in_bytes[BENCH_MAX_MODELS], out_bytes[BENCH_MAX_MODELS], max_out;
	/* MPS */
	struct mps_child children[BENCH_MAX_MODELS];
	unsigned nchildren;
	/* Run from this time (CLOCK_MONOTONIC) instead of now: MPS's children. */
	uint64_t start_ns;
};

static double
wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- systems ------------------------------------------------------------------ */

enum { PROGRESS_DEFAULT = -1, PROGRESS_MARKERS, PROGRESS_REPORTS, PROGRESS_NONE };

static int
parse_base(const char *name, struct bench_system *sys);

int
bench_system_parse(const char *name, struct bench_system *sys)
{
	const char *w = strstr(name, "-w");
	char base[BENCH_NAME_MAX], *end;
	double window;

	if (strlen(name) >= sizeof(sys->name))
		return -1;
	/* paella...-wW: the launch window, on any paella system. */
	if (strncmp(name, "paella", 6) == 0 && w != NULL && strstr(w + 2, "-w") == NULL) {
		errno = 0;
		window = strtod(w + 2, &end);
		if (errno || end == w + 2 || *end || !(window > 0) || !isfinite(window) ||
		    (size_t)(w - name) >= sizeof(base))
			return -1;
		memcpy(base, name, (size_t)(w - name));
		base[w - name] = '\0';
		if (parse_base(base, sys) != 0 || sys->kind != BENCH_PAELLA)
			return -1;
		sys->window = window;
		snprintf(sys->name, sizeof(sys->name), "%s", name);
		return 0;
	}
	return parse_base(name, sys);
}

static int
parse_base(const char *name, struct bench_system *sys)
{
	char *end;

	memset(sys, 0, sizeof(*sys));
	snprintf(sys->name, sizeof(sys->name), "%s", name);
	sys->progress = PROGRESS_DEFAULT;
	sys->policy = PAELLA_POLICY_SRPT;
	if (strcmp(name, "cuda-ss") == 0) {
		sys->kind = BENCH_DIRECT;
		sys->single_stream = true;
	} else if (strcmp(name, "cuda-ms") == 0) {
		sys->kind = BENCH_DIRECT;
	} else if (strcmp(name, "cuda-graph") == 0) {
		sys->kind = BENCH_DIRECT;
		sys->direct_flags = PAELLA_DIRECT_GRAPH;
	} else if (strcmp(name, "priority") == 0) {
		sys->kind = BENCH_DIRECT;
		sys->priority = true;
	} else if (strcmp(name, "mps") == 0) {
		sys->kind = BENCH_MPS;
	} else if (strcmp(name, "paella") == 0) {
		sys->kind = BENCH_PAELLA;
	} else if (strcmp(name, "paella-fifo") == 0) {
		sys->policy = PAELLA_POLICY_FIFO;
	} else if (strncmp(name, "paella-fair-", 12) == 0) {
		sys->policy = PAELLA_POLICY_FAIR;
		errno = 0;
		sys->fair_threshold = strtod(name + 12, &end);
		if (errno || end == name + 12 || *end || !(sys->fair_threshold > 0) ||
		    !isfinite(sys->fair_threshold))
			return -1;
	} else if (strcmp(name, "paella-markers") == 0) {
		sys->progress = PROGRESS_MARKERS;
	} else if (strcmp(name, "paella-reports") == 0) {
		sys->progress = PROGRESS_REPORTS;
	} else if (strcmp(name, "paella-noprogress") == 0) {
		sys->progress = PROGRESS_NONE;
	} else if (strcmp(name, "paella-count") == 0) {
		sys->count_mode = true;
		sys->progress = PROGRESS_REPORTS;
	} else if (strcmp(name, "paella-nograph") == 0) {
		sys->no_graph = true;
	} else if (strcmp(name, "paella-lone") == 0) {
		sys->lone_past_window = true;
	} else {
		return -1;
	}
	return 0;
}

const char *
bench_default_systems(void)
{
	return "cuda-ss,cuda-ms,cuda-graph,priority,mps,paella,paella-fifo,paella-fair-10,"
	       "paella-markers,paella-reports,paella-count,paella-nograph";
}

/* ---- opening a system ------------------------------------------------------------ */

static int __attribute__((format(printf, 3, 4)))
why_set(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* The config of @sys. */
static int
make_config(const struct bench_env *env, struct paella_config *cfg)
{
	const struct bench_system *sys = &env->sys;

	paella_config_init(cfg);
	cfg->backend = env->opts.backend;
	cfg->sim_card = env->opts.sim_card;
	cfg->sim_seed = env->opts.seed;
	cfg->dispatch_mode = env->manual ? PAELLA_DISPATCH_MANUAL : PAELLA_DISPATCH_THREAD;
	cfg->streams = env->mix->total_cap < PAELLA_MAX_STREAMS ? env->mix->total_cap
								  : PAELLA_MAX_STREAMS;
	if (sys->kind != BENCH_PAELLA)
		return 0;
	cfg->policy = sys->policy;
	cfg->lone_job_past_window = sys->lone_past_window;
	if (sys->no_graph)
		cfg->graph_chunk_ns = 0;
	if (sys->window > 0)
		cfg->launch_window_waves = sys->window;
	if (sys->progress == PROGRESS_MARKERS)
		cfg->progress = PAELLA_PROGRESS_MARKERS;
	else if (sys->progress == PROGRESS_REPORTS)
		cfg->progress = PAELLA_PROGRESS_REPORTS;
	else if (sys->progress == PROGRESS_NONE)
		cfg->progress = PAELLA_PROGRESS_NONE;
	if (sys->policy == PAELLA_POLICY_FAIR)
		cfg->fair_deficit_threshold = sys->fair_threshold;
	return 0;
}

static int
mps_open(struct bench_env *env, char *why, size_t whylen);
static void
mps_close(struct bench_env *env);

struct bench_env *
bench_env_open(const struct bench_system *sys, const struct bench_mix *mix,
	       struct bench_models *bm, const struct bench_options *opts, char *why,
	       size_t whylen)
{
	struct bench_env *env = calloc(1, sizeof(*env));
	struct paella_config cfg;
	enum paella_status st;
	uint64_t est[BENCH_MAX_MODELS];
	int only = opts->only_model;

	if (env == NULL) {
		why_set(why, whylen, "out of memory");
		return NULL;
	}
	env->sys = *sys;
	env->mix = mix;
	env->bm = bm;
	env->opts = *opts;
	env->sim = opts->backend == PAELLA_BACKEND_SIM;
	env->check = !env->sim;
	env->manual = env->sim || sys->kind != BENCH_PAELLA;
	for (unsigned m = 0; m < mix->nmodels; m++) {
		env->cap[m] = mix->models[m].cap;
		env->base[m] = env->nslots;
		if (only < 0 || (unsigned)only == m)
			env->nslots += env->cap[m];
		bench_models_input(bm, m, &env->in_bytes[m], &env->out_bytes[m]);
		if (env->out_bytes[m] > env->max_out)
			env->max_out = env->out_bytes[m];
	}
	if (sys->kind == BENCH_MPS) {
		if (mps_open(env, why, whylen) != 0)
			goto err;
		return env;
	}
	if (sys->count_mode && env->sim) {
		why_set(why, whylen, "the zoo has no count-mode models for the simulator yet");
		goto err;
	}
	make_config(env, &cfg);
	st = paella_runtime_create(&cfg, &env->rt);
	if (st != PAELLA_STATUS_OK) {
		why_set(why, whylen, "runtime: %s", paella_last_error());
		goto err;
	}
	char imgs_err[1024];

	st = bench_images_load(env->rt, opts->images, sys->count_mode, &env->imgs, imgs_err,
			       sizeof(imgs_err));
	if (st != PAELLA_STATUS_OK) {
		why_set(why, whylen, "%s", imgs_err);
		goto err;
	}
	for (unsigned m = 0; m < mix->nmodels; m++) {
		if (only >= 0 && (unsigned)only != m)
			continue;
		st = bench_models_load(bm, m, env->rt, &env->imgs, env->cap[m], &env->rms[m],
				       imgs_err, sizeof(imgs_err));
		if (st != PAELLA_STATUS_OK) {
			why_set(why, whylen, "%s: %s", mix->models[m].name, imgs_err);
			goto err;
		}
		env->models[m] = bench_rt_model(env->rms[m]);
		if (paella_model_estimate_ns(env->models[m], &est[m]) != PAELLA_STATUS_OK)
			est[m] = 0;
	}
	if (sys->kind == BENCH_DIRECT) {
		env->nstreams = sys->single_stream ? 1 : env->nslots;
		env->streams = calloc(env->nstreams, sizeof(*env->streams));
		if (env->streams == NULL) {
			why_set(why, whylen, "out of memory");
			goto err;
		}
		for (unsigned m = 0; m < mix->nmodels; m++) {
			int prio = 0;

			if (only >= 0 && (unsigned)only != m)
				continue;
			/* priority: the shorter the model alone, the higher. */
			if (sys->priority)
				for (unsigned k = 0; k < mix->nmodels; k++)
					prio += k != m && (only < 0 || (unsigned)only == k) &&
						est[k] > est[m];
			for (unsigned s = 0; s < env->cap[m]; s++) {
				unsigned i = sys->single_stream ? 0 : env->base[m] + s;

				if (env->streams[i] != NULL)
					continue;
				st = paella_stream_create(env->rt, prio, &env->streams[i]);
				if (st != PAELLA_STATUS_OK) {
					why_set(why, whylen, "stream: %s", paella_last_error());
					goto err;
				}
			}
		}
	}
	return env;
err:
	bench_env_close(env);
	return NULL;
}

void
bench_env_close(struct bench_env *env)
{
	if (env == NULL)
		return;
	if (env->sys.kind == BENCH_MPS) {
		mps_close(env);
		free(env);
		return;
	}
	for (unsigned i = 0; env->streams && i < env->nstreams; i++)
		if (env->streams[i] != NULL)
			paella_stream_destroy(env->streams[i]);
	free(env->streams);
	if (env->rt != NULL && env->manual)
		paella_runtime_run_until_idle(env->rt);
	for (unsigned m = 0; m < env->mix->nmodels; m++)
		bench_rt_model_destroy(env->rms[m]);
	paella_zoo_modules_unload(env->imgs.mods);
	paella_runtime_destroy(env->rt);
	free(env);
}

void
bench_result_free(struct bench_result *res)
{
	for (unsigned m = 0; m < BENCH_MAX_MODELS; m++) {
		free(res->m[m].lat);
		res->m[m].lat = NULL;
	}
}

/* ---- the loop ---------------------------------------------------------------------- */

struct slot {
	struct paella_job *job;
	unsigned req;
	unsigned model;
	unsigned char *out;
};

/* The line that moves while a point runs, on a terminal only; @last
 * clears it. */
static void
show_progress(const struct bench_env *env, unsigned done, unsigned n, bool last)
{
	if (!env->opts.progress || !isatty(2))
		return;
	if (last)
		fprintf(stderr, "\r\033[K");
	else
		fprintf(stderr, "\r\033[K%s %u/%u requests done",
			env->opts.progress_label ? env->opts.progress_label : "", done, n);
	fflush(stderr);
}

/* Checks @s's output against its model's first response. */
static void
check_output(struct bench_env *env, const struct slot *s, struct bench_model_result *mr)
{
	void **refs = bench_models_refs(env->bm);
	size_t bytes = env->out_bytes[s->model];

	if (!env->check)
		return;
	if (refs[s->model] == NULL) {
		refs[s->model] = malloc(bytes);
		if (refs[s->model] != NULL)
			memcpy(refs[s->model], s->out, bytes);
		return;
	}
	if (memcmp(refs[s->model], s->out, bytes) != 0)
		mr->mismatches++;
}

static enum paella_status
submit(struct bench_env *env, struct slot *s, unsigned slot_index)
{
	struct paella_job_desc d;
	unsigned m = s->model;

	memset(&d, 0, sizeof(d));
	d.input = bench_models_input(env->bm, m, NULL, NULL);
	d.input_bytes = env->in_bytes[m];
	d.output = s->out;
	d.output_bytes = env->out_bytes[m];
	if (env->check)
		memset(s->out, 0xff, env->out_bytes[m]);
	if (env->sys.kind == BENCH_DIRECT)
		return paella_job_submit_direct(env->models[m],
						env->streams[env->sys.single_stream ? 0 : slot_index],
						&d, env->sys.direct_flags, &s->job);
	return paella_job_submit(env->models[m], &d, &s->job);
}

static int
mps_run(struct bench_env *env, const struct bench_request *req, unsigned n,
	struct bench_result *res);

int
bench_env_run(struct bench_env *env, const struct bench_request *req, unsigned n,
	      struct bench_result *res)
{
	const struct bench_mix *mix = env->mix;
	unsigned nm = mix->nmodels;
	unsigned *idx = NULL, cnt[BENCH_MAX_MODELS] = { 0 }, head[BENCH_MAX_MODELS] = { 0 };
	unsigned off[BENCH_MAX_MODELS], inflight[BENCH_MAX_MODELS] = { 0 };
	unsigned *busy = NULL, nbusy = 0, total = 0, done = 0;
	unsigned *freelist = NULL, nfree[BENCH_MAX_MODELS] = { 0 };
	struct slot *slots = NULL;
	unsigned char *outs = NULL;
	uint64_t t0, step = env->sim ? STEP_SIM_NS : STEP_CUDA_NS;
	double wall0 = wall_s(), shown = wall0;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	res->nmodels = nm;
	if (env->sys.kind == BENCH_MPS)
		return mps_run(env, req, n, res);
	idx = malloc((n + 1) * sizeof(*idx));
	busy = malloc((env->nslots + 1) * sizeof(*busy));
	freelist = malloc((env->nslots + 1) * sizeof(*freelist));
	slots = calloc(env->nslots + 1, sizeof(*slots));
	outs = malloc((env->nslots + 1) * (env->max_out + 16));
	if (!idx || !busy || !freelist || !slots || !outs) {
		fprintf(stderr, "paella bench: out of memory\n");
		goto out;
	}
	/* Each model's requests in arrival order. */
	for (unsigned i = 0; i < n; i++) {
		if (env->models[req[i].model] == NULL) {
			fprintf(stderr, "paella bench: a request of %s, which this process does not "
				"serve\n", mix->models[req[i].model].name);
			goto out;
		}
		cnt[req[i].model]++;
	}
	for (unsigned m = 0, o = 0; m < nm; m++) {
		off[m] = o;
		o += cnt[m];
		res->m[m].lat = malloc((cnt[m] + 1) * sizeof(uint64_t));
		if (res->m[m].lat == NULL) {
			fprintf(stderr, "paella bench: out of memory\n");
			goto out;
		}
	}
	{
		unsigned fill[BENCH_MAX_MODELS] = { 0 };

		for (unsigned i = 0; i < n; i++)
			idx[off[req[i].model] + fill[req[i].model]++] = i;
	}
	for (unsigned m = 0; m < nm; m++)
		for (unsigned s = 0; env->models[m] && s < env->cap[m]; s++) {
			unsigned k = env->base[m] + s;

			slots[k].model = m;
			slots[k].out = outs + (size_t)k * (env->max_out + 16);
			freelist[env->base[m] + nfree[m]++] = k;
		}

	t0 = env->start_ns ? env->start_ns : paella_runtime_now_ns(env->rt);
	for (;;) {
		uint64_t now = paella_runtime_now_ns(env->rt), rel = now > t0 ? now - t0 : 0;
		uint64_t wake = UINT64_MAX;

		/* Completions. */
		for (unsigned b = 0; b < nbusy;) {
			struct slot *s = &slots[busy[b]];
			enum paella_status st = paella_job_poll(s->job);
			struct paella_job_times t;
			struct bench_model_result *mr = &res->m[s->model];
			uint64_t arrival = t0 + req[s->req].at_ns, end = now;

			if (st == PAELLA_STATUS_BUSY) {
				b++;
				continue;
			}
			if (paella_job_times(s->job, &t) == PAELLA_STATUS_OK && t.completed_ns)
				end = t.completed_ns;
			if (st == PAELLA_STATUS_OK) {
				mr->lat[mr->n++] = end > arrival ? end - arrival : 0;
				check_output(env, s, mr);
				if (end - t0 > mr->last_done_ns)
					mr->last_done_ns = end - t0;
				if (end - t0 > res->last_done_ns)
					res->last_done_ns = end - t0;
			} else {
				if (mr->failed++ == 0)
					fprintf(stderr, "\npaella bench: %s: a request of %s failed: "
						"%s\n", env->sys.name, mix->models[s->model].name,
						paella_status_name(st));
			}
			paella_job_release(s->job);
			s->job = NULL;
			freelist[env->base[s->model] + nfree[s->model]++] = busy[b];
			inflight[s->model]--;
			total--;
			done++;
			busy[b] = busy[--nbusy];
		}
		/* Arrivals, while their model is under its cap (cuda-ss: one
		 * request at a time, in arrival order). */
		for (;;) {
			unsigned pick = UINT32_MAX;

			for (unsigned m = 0; m < nm; m++) {
				if (head[m] == cnt[m] || inflight[m] == env->cap[m])
					continue;
				if (req[idx[off[m] + head[m]]].at_ns > rel)
					continue;
				if (pick == UINT32_MAX ||
				    idx[off[m] + head[m]] < idx[off[pick] + head[pick]])
					pick = m;
			}
			if (pick == UINT32_MAX || (env->sys.single_stream && total == 1))
				break;
			unsigned k = freelist[env->base[pick] + --nfree[pick]];
			struct slot *s = &slots[k];
			enum paella_status st;

			s->req = idx[off[pick] + head[pick]++];
			st = submit(env, s, k);
			if (st != PAELLA_STATUS_OK) {
				fprintf(stderr, "\npaella bench: %s: submitting a request of %s: %s (%s)\n",
					env->sys.name, mix->models[pick].name, paella_status_name(st),
					paella_last_error());
				goto out;
			}
			inflight[pick]++;
			total++;
			busy[nbusy++] = k;
		}
		if (done == n)
			break;
		/* The next arrival not yet due. */
		for (unsigned m = 0; m < nm; m++)
			if (head[m] < cnt[m] && req[idx[off[m] + head[m]]].at_ns > rel &&
			    t0 + req[idx[off[m] + head[m]]].at_ns < wake)
				wake = t0 + req[idx[off[m] + head[m]]].at_ns;
		if (env->manual) {
			/* Completion times come from the jobs, exact: the loop
			 * need only look for completions while a request waits
			 * for its model's cap, or at the end. */
			bool blocked = false;

			for (unsigned m = 0; m < nm && !blocked; m++)
				blocked = head[m] < cnt[m] && req[idx[off[m] + head[m]]].at_ns <= rel;
			if (blocked && now + step < wake)
				wake = now + step;
			else if (total > 0 && wake == UINT64_MAX)
				wake = now + 10 * step;
			if (wake == UINT64_MAX) {
				fprintf(stderr, "\npaella bench: %s: nothing in flight and nothing to "
					"come, with %u of %u requests done\n", env->sys.name, done, n);
				goto out;
			}
			enum paella_status st = paella_runtime_run_until(env->rt, wake);
			if (st != PAELLA_STATUS_OK) {
				fprintf(stderr, "\npaella bench: %s: %s (%s)\n", env->sys.name,
					paella_status_name(st), paella_last_error());
				goto out;
			}
		} else if (total == 0 && wake != UINT64_MAX) {
			struct timespec ts = { (time_t)(wake / 1000000000ull),
					       (long)(wake % 1000000000ull) };

			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
				;
		} else {
			sched_yield();
		}
		double w = wall_s();
		if (w - shown > 0.25) {
			shown = w;
			show_progress(env, done, n, false);
		}
		if (w - wall0 > POINT_TIMEOUT_S) {
			fprintf(stderr, "\npaella bench: %s: %u of %u requests done after %.0f s: "
				"giving up\n", env->sys.name, done, n, POINT_TIMEOUT_S);
			goto out;
		}
	}
	show_progress(env, done, n, true);
	rc = 0;
out:
	/* A broken run leaves jobs behind: let them finish before their
	 * buffers go. */
	for (unsigned b = 0; b < nbusy; b++) {
		paella_job_wait(slots[busy[b]].job, 10000000000ll);
		paella_job_release(slots[busy[b]].job);
	}
	res->wall_s = wall_s() - wall0;
	free(idx);
	free(busy);
	free(freelist);
	free(slots);
	free(outs);
	return rc;
}

/* ---- MPS ---------------------------------------------------------------------------- */

/*
 * The original ran one process per model under NVIDIA MPS.  The parent
 * starts the MPS control daemon with its pipe and log folders in /tmp and
 * gives them to its children only (the parent's own contexts stay out of
 * MPS); each child is this program again (fork and exec, so that no CUDA
 * state crosses a fork), serving one model as cuda-ms does.  Protocol on
 * the child's stdin/stdout, one line each:
 *	child:  ready
 *	parent: run START_NS COUNT, then COUNT lines AT_NS (CLOCK_MONOTONIC
 *	        start, each arrival from it)
 *	child:  done N FAILED MISMATCHES LAST_DONE_NS, N lines of latency
 *	        (ns), then "ref HEX" (its first response) or "ref -"
 *	parent: quit
 */
static char mps_pipe_dir[64], mps_log_dir[64];
static char mps_env_pipe[128], mps_env_log[128];
static const char *mps_control;
static bool mps_running, mps_atexit;
static pid_t mps_children[BENCH_MAX_MODELS];

static char **
mps_envp(void)
{
	extern char **environ;
	static char **envp;
	size_t n = 0;

	if (envp != NULL)
		return envp;
	while (environ[n])
		n++;
	envp = calloc(n + 3, sizeof(*envp));
	if (envp == NULL)
		return environ;
	memcpy(envp, environ, n * sizeof(*envp));
	envp[n] = mps_env_pipe;
	envp[n + 1] = mps_env_log;
	return envp;
}

/* Runs @argv with MPS's environment, @input on its stdin; its exit status. */
static int
run_with_mps_env(char *const argv[], const char *input, bool quiet)
{
	int fd[2];
	pid_t pid;
	int status;

	if (pipe(fd) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(fd[0], 0);
		close(fd[0]);
		close(fd[1]);
		if (quiet) {
			int nul = open("/dev/null", O_WRONLY);
			if (nul >= 0) {
				dup2(nul, 1);
				dup2(nul, 2);
			}
		}
		execve(argv[0], argv, mps_envp());
		_exit(127);
	}
	close(fd[0]);
	if (input != NULL && write(fd[1], input, strlen(input)) < 0)
		;
	close(fd[1]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void
bench_mps_stop(void)
{
	char *argv[] = { (char *)mps_control, NULL };

	for (unsigned i = 0; i < BENCH_MAX_MODELS; i++)
		if (mps_children[i] > 0) {
			kill(mps_children[i], SIGKILL);
			waitpid(mps_children[i], NULL, 0);
			mps_children[i] = 0;
		}
	if (!mps_running)
		return;
	mps_running = false;
	run_with_mps_env(argv, "quit\n", true);
	rmdir(mps_pipe_dir);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
}

static void
mps_on_signal(int sig)
{
	bench_mps_stop();
	signal(sig, SIG_DFL);
	raise(sig);
}

static const char *
find_in_path(const char *name)
{
	static char found[4096];
	const char *path = getenv("PATH");
	char buf[8192], *save = NULL;

	snprintf(buf, sizeof(buf), "%s:/usr/bin:/usr/local/cuda/bin:/usr/local/nvidia/bin",
		 path ? path : "");
	for (char *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(found, sizeof(found), "%s/%s", d, name);
		if (access(found, X_OK) == 0)
			return found;
	}
	return NULL;
}

int
bench_mps_start(char *why, size_t whylen)
{
	char *argv[3];
	int rc;

	if (mps_running)
		return 0;
	mps_control = find_in_path("nvidia-cuda-mps-control");
	if (mps_control == NULL)
		return why_set(why, whylen, "nvidia-cuda-mps-control is not installed (not in PATH)");
	snprintf(mps_pipe_dir, sizeof(mps_pipe_dir), "/tmp/paella-mps-pipe-XXXXXX");
	snprintf(mps_log_dir, sizeof(mps_log_dir), "/tmp/paella-mps-log-XXXXXX");
	if (mkdtemp(mps_pipe_dir) == NULL || mkdtemp(mps_log_dir) == NULL)
		return why_set(why, whylen, "cannot make MPS's folders in /tmp: %s", strerror(errno));
	snprintf(mps_env_pipe, sizeof(mps_env_pipe), "CUDA_MPS_PIPE_DIRECTORY=%s", mps_pipe_dir);
	snprintf(mps_env_log, sizeof(mps_env_log), "CUDA_MPS_LOG_DIRECTORY=%s", mps_log_dir);
	argv[0] = (char *)mps_control;
	argv[1] = (char *)"-d";
	argv[2] = NULL;
	rc = run_with_mps_env(argv, NULL, false);
	if (rc != 0)
		return why_set(why, whylen, "nvidia-cuda-mps-control -d exited with %d (its log: %s)",
			       rc, mps_log_dir);
	mps_running = true;
	if (!mps_atexit) {
		atexit(bench_mps_stop);
		mps_atexit = true;
	}
	signal(SIGINT, mps_on_signal);
	signal(SIGTERM, mps_on_signal);
	signal(SIGHUP, mps_on_signal);
	return 0;
}

/* A line from @f within @timeout_s; false at its end or past the time. */
static bool
read_line(FILE *f, char *buf, size_t len, double timeout_s)
{
	struct pollfd p = { .fd = fileno(f), .events = POLLIN };

	/* The protocol reads every line a child wrote before waiting for its
	 * next: nothing sits in @f's buffer while we poll its descriptor. */
	if (poll(&p, 1, (int)(timeout_s * 1000)) <= 0)
		return false;
	return fgets(buf, (int)len, f) != NULL;
}

static int
mps_open(struct bench_env *env, char *why, size_t whylen)
{
	const struct bench_options *o = &env->opts;

	if (o->backend != PAELLA_BACKEND_CUDA)
		return why_set(why, whylen, "MPS needs a GPU (the backend is sim)");
	if (bench_mps_start(why, whylen) != 0)
		return -1;
	for (unsigned m = 0; m < env->mix->nmodels; m++) {
		struct mps_child *c = &env->children[m];
		int in[2], out[2];
		char model[16], seed[32], line[256];
		char *argv[20];
		unsigned a = 0;

		if (pipe(in) != 0 || pipe(out) != 0)
			return why_set(why, whylen, "pipe: %s", strerror(errno));
		snprintf(model, sizeof(model), "%u", m);
		snprintf(seed, sizeof(seed), "%llu", (unsigned long long)o->seed);
		argv[a++] = (char *)o->self;
		argv[a++] = (char *)"bench";
		argv[a++] = (char *)"--mps-child";
		argv[a++] = model;
		argv[a++] = (char *)"--mix";
		argv[a++] = (char *)o->mix_arg;
		argv[a++] = (char *)"--images";
		argv[a++] = (char *)o->images;
		argv[a++] = (char *)"--seed";
		argv[a++] = seed;
		if (o->weights_dir) {
			argv[a++] = (char *)"--weights-dir";
			argv[a++] = (char *)o->weights_dir;
		}
		argv[a] = NULL;
		c->pid = fork();
		if (c->pid < 0)
			return why_set(why, whylen, "fork: %s", strerror(errno));
		if (c->pid == 0) {
			dup2(in[0], 0);
			dup2(out[1], 1);
			close(in[0]);
			close(in[1]);
			close(out[0]);
			close(out[1]);
			execve(argv[0], argv, mps_envp());
			_exit(127);
		}
		mps_children[m] = c->pid;
		close(in[0]);
		close(out[1]);
		c->to = fdopen(in[1], "w");
		c->from = fdopen(out[0], "r");
		c->model = m;
		env->nchildren = m + 1;
		if (!c->to || !c->from)
			return why_set(why, whylen, "fdopen: %s", strerror(errno));
		if (!read_line(c->from, line, sizeof(line), 300) || strcmp(line, "ready\n") != 0)
			return why_set(why, whylen, "the process serving %s did not start under MPS "
				       "(see its message above; MPS's log: %s)",
				       env->mix->models[m].name, mps_log_dir);
	}
	return 0;
}

static void
mps_close(struct bench_env *env)
{
	for (unsigned i = 0; i < env->nchildren; i++) {
		struct mps_child *c = &env->children[i];
		int status;

		if (c->to) {
			fputs("quit\n", c->to);
			fclose(c->to);
		}
		if (c->from)
			fclose(c->from);
		if (c->pid > 0) {
			for (int k = 0; k < 100 && waitpid(c->pid, &status, WNOHANG) == 0; k++)
				usleep(100000);
			if (waitpid(c->pid, &status, WNOHANG) == 0) {
				kill(c->pid, SIGKILL);
				waitpid(c->pid, &status, 0);
			}
			mps_children[i] = 0;
		}
	}
	/* The daemon goes with its clients: the systems that follow run
	 * outside MPS, as they would on a machine without it. */
	bench_mps_stop();
}

static int
hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int
mps_run(struct bench_env *env, const struct bench_request *req, unsigned n,
	struct bench_result *res)
{
	/* 200 ms for every child to have its requests. */
	uint64_t start = mono_ns() + 200000000ull;
	double wall0 = wall_s();
	void **refs = bench_models_refs(env->bm);
	char *line = NULL;
	size_t linecap = 0;
	int rc = -1;

	for (unsigned i = 0; i < env->nchildren; i++) {
		struct mps_child *c = &env->children[i];
		unsigned count = 0;

		for (unsigned k = 0; k < n; k++)
			count += req[k].model == c->model;
		fprintf(c->to, "run %llu %u\n", (unsigned long long)start, count);
		for (unsigned k = 0; k < n; k++)
			if (req[k].model == c->model)
				fprintf(c->to, "%llu\n", (unsigned long long)req[k].at_ns);
		fflush(c->to);
		res->m[c->model].lat = malloc((count + 1) * sizeof(uint64_t));
		if (res->m[c->model].lat == NULL)
			goto out;
	}
	for (unsigned i = 0; i < env->nchildren; i++) {
		struct mps_child *c = &env->children[i];
		struct bench_model_result *mr = &res->m[c->model];
		unsigned nlat, failed, mism;
		unsigned long long last;
		char head[256];

		if (!read_line(c->from, head, sizeof(head), POINT_TIMEOUT_S) ||
		    sscanf(head, "done %u %u %u %llu", &nlat, &failed, &mism, &last) != 4) {
			fprintf(stderr, "\npaella bench: mps: the process serving %s stopped "
				"answering\n", env->mix->models[c->model].name);
			goto out;
		}
		for (unsigned k = 0; k < nlat; k++) {
			if (getline(&line, &linecap, c->from) <= 0)
				goto out;
			mr->lat[mr->n++] = strtoull(line, NULL, 10);
		}
		mr->failed = failed;
		mr->mismatches = mism;
		mr->last_done_ns = last;
		if (last > res->last_done_ns)
			res->last_done_ns = last;
		if (getline(&line, &linecap, c->from) <= 0 || strncmp(line, "ref ", 4) != 0)
			goto out;
		if (line[4] != '-') {
			size_t bytes = env->out_bytes[c->model];
			unsigned char *out = malloc(bytes);

			if (out == NULL)
				goto out;
			for (size_t b = 0; b < bytes; b++)
				out[b] = (unsigned char)(hexval(line[4 + 2 * b]) * 16 +
							 hexval(line[5 + 2 * b]));
			if (refs[c->model] == NULL)
				refs[c->model] = out;
			else {
				mr->mismatches += memcmp(refs[c->model], out, bytes) != 0;
				free(out);
			}
		}
	}
	rc = 0;
out:
	free(line);
	res->wall_s = wall_s() - wall0;
	return rc;
}

/* `paella bench --mps-child M --mix MIX --images DIR --seed N
 * [--weights-dir DIR]`: serves model M of MIX as cuda-ms does, under MPS. */
int
bench_mps_child_main(int argc, char **argv)
{
	struct bench_options o;
	struct bench_system sys;
	struct bench_mix mix;
	struct bench_models *bm = NULL;
	struct bench_env *env = NULL;
	struct bench_request *req = NULL;
	struct bench_result res;
	char err[512], line[256];
	int model = -1, rc = 1;

	memset(&o, 0, sizeof(o));
	o.backend = PAELLA_BACKEND_CUDA;
	for (int i = 0; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--mps-child") == 0)
			model = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--mix") == 0)
			o.mix_arg = argv[i + 1];
		else if (strcmp(argv[i], "--images") == 0)
			o.images = argv[i + 1];
		else if (strcmp(argv[i], "--seed") == 0)
			o.seed = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--weights-dir") == 0)
			o.weights_dir = argv[i + 1];
	}
	if (o.mix_arg == NULL || o.images == NULL || model < 0) {
		fprintf(stderr, "paella bench --mps-child: wrong arguments (an internal command)\n");
		return 2;
	}
	if (bench_mix_load(o.mix_arg, &mix, err, sizeof(err)) != 0 ||
	    (unsigned)model >= mix.nmodels) {
		fprintf(stderr, "paella bench --mps-child: %s\n", err);
		return 2;
	}
	o.only_model = model;
	o.num_sms = bench_gpu_num_sms(0);
	bm = bench_models_prepare(&mix, false, o.num_sms, o.seed, o.weights_dir, model, err,
				  sizeof(err));
	if (bm == NULL) {
		fprintf(stderr, "paella bench --mps-child: %s\n", err);
		goto out;
	}
	if (bench_models_reference(bm, o.images, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "paella bench: mps: %s: reference logits: %s\n",
			mix.models[model].name, err);
		goto out;
	}
	bench_system_parse("cuda-ms", &sys);
	env = bench_env_open(&sys, &mix, bm, &o, err, sizeof(err));
	if (env == NULL) {
		fprintf(stderr, "paella bench: mps: %s: %s\n", mix.models[model].name, err);
		goto out;
	}
	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		unsigned long long start;
		unsigned count;
		void **refs;
		size_t bytes;

		if (strcmp(line, "quit\n") == 0)
			break;
		if (sscanf(line, "run %llu %u", &start, &count) != 2)
			goto out;
		free(req);
		req = calloc(count + 1, sizeof(*req));
		if (req == NULL)
			goto out;
		for (unsigned k = 0; k < count; k++) {
			if (fgets(line, sizeof(line), stdin) == NULL)
				goto out;
			req[k].at_ns = strtoull(line, NULL, 10);
			req[k].model = (unsigned)model;
		}
		/* The runtime's clock is CLOCK_MONOTONIC on cuda. */
		env->start_ns = start;
		if (bench_env_run(env, req, count, &res) != 0)
			goto out;
		struct bench_model_result *mr = &res.m[model];
		printf("done %u %u %u %llu\n", mr->n, mr->failed, mr->mismatches,
		       (unsigned long long)mr->last_done_ns);
		for (unsigned k = 0; k < mr->n; k++)
			printf("%llu\n", (unsigned long long)mr->lat[k]);
		refs = bench_models_refs(bm);
		bench_models_input(bm, (unsigned)model, NULL, &bytes);
		if (refs[model] == NULL) {
			printf("ref -\n");
		} else {
			printf("ref ");
			for (size_t b = 0; b < bytes; b++)
				printf("%02x", ((unsigned char *)refs[model])[b]);
			printf("\n");
		}
		fflush(stdout);
		bench_result_free(&res);
	}
	rc = 0;
out:
	free(req);
	bench_env_close(env);
	bench_models_free(bm);
	return rc;
}
