/*
 * bench.h - `paella bench`, the serving benchmark: the original Paella's
 * Figs. 11-13 against the hardware scheduler and MPS, swept over load.
 *
 * The parts, and how they go together:
 *   bench-mix.c     mixes (a small file format), the open-loop workload
 *                   (log-normal inter-arrival times, seeded), percentiles;
 *                   pure arithmetic, no runtime, so the tests reach it.
 *   bench-models.c  the only file that calls the model zoo: a mix's models
 *                   as runtime models (plans, weights, inputs, images).
 *   bench-run.c     the systems: a runtime per system, and the loop that
 *                   replays one load point's requests through it; MPS.
 *   bench.c         the command: options, the sweep, CSV, the summary.
 *
 *	bench_mix_load("fig11", &mix, err, sizeof(err));
 *	bench_arrivals(&mix, n, iat_ns, sigma, seed, reqs);
 *	env = bench_env_open(&system, &mix, models, &opts, why, sizeof(why));
 *	bench_env_run(env, reqs, n, &result);      once per load point
 *	bench_env_close(env);
 */
#ifndef PAELLA_BENCH_H
#define PAELLA_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "paella/paella.h"
#include "paella/zoo.h"

#define BENCH_MAX_MODELS 16
#define BENCH_NAME_MAX 64
/* A model's cap on requests in flight, and the mix's in all. */
#define BENCH_MAX_CAP 1024

/* ---- mixes (bench-mix.c) ------------------------------------------------ */

struct bench_mix_model {
	char name[BENCH_NAME_MAX];
	/* Relative share of the requests (normalised by the sum). */
	double share;
	/* Requests of this model in flight at most; more wait in the bench. */
	unsigned cap;
};

struct bench_mix {
	/* "fig11" for a built-in mix, else the file's name without .mix. */
	char name[BENCH_NAME_MAX];
	struct bench_mix_model models[BENCH_MAX_MODELS];
	unsigned nmodels;
	double total_share;
	unsigned total_cap;
};

/* Parses mix @text; @source names it in messages ("fig11.mix").  On error
 * returns -1 with "SOURCE:LINE: problem" in @err. */
int
bench_mix_parse(const char *text, const char *source, struct bench_mix *mix, char *err,
		size_t errlen);

/* @arg is a built-in mix's name (bench_mix_builtin_names()) or a file's
 * path.  -1 with a message in @err. */
int
bench_mix_load(const char *arg, struct bench_mix *mix, char *err, size_t errlen);

/* The built-in mixes: "fig11, fig12". */
const char *
bench_mix_builtin_names(void);

/* The text of built-in mix @name, NULL if none. */
const char *
bench_mix_builtin_text(const char *name);

/* ---- the workload --------------------------------------------------------- */

struct bench_request {
	/* Scheduled arrival, from the start of the run. */
	uint64_t at_ns;
	unsigned model;
};

/* xorshift64*, seeded through splitmix64 (any seed, 0 included). */
uint64_t
bench_rng_seed(uint64_t seed);
uint64_t
bench_rng_next(uint64_t *s);
/* Uniform in (0, 1). */
double
bench_rng_uniform(uint64_t *s);
double
bench_rng_normal(uint64_t *s);
/* Log-normal of mean @mean: exp(mu + sigma N(0,1)), mu = ln(mean) - sigma^2/2. */
double
bench_rng_lognormal(uint64_t *s, double mean, double sigma);

/* @n requests of @mix: each model drawn by share, inter-arrival times
 * log-normal of mean @iat_ns and @sigma; @iat_ns 0 releases all at 0.  The
 * same (@mix, @n, @sigma, @seed) give the same models and the same normal
 * draws at every rate. */
void
bench_arrivals(const struct bench_mix *mix, unsigned n, double iat_ns, double sigma,
	       uint64_t seed, struct bench_request *out);

/* ---- statistics ------------------------------------------------------------ */

/* The percentile rule of the original's artifact: sorted[n * q], the last
 * element when that is past the end.  @sorted ascending, @n > 0. */
uint64_t
bench_percentile(const uint64_t *sorted, size_t n, double q);

struct bench_stats {
	unsigned n;
	/* n / (last completion - start), requests/s. */
	double throughput;
	double mean_us, p50_us, p90_us, p95_us, p99_us, max_us;
};

/* Sorts @lat (ns, @n of them) and summarises them; @span_ns is the last
 * completion less the start. */
void
bench_stats_compute(uint64_t *lat, unsigned n, uint64_t span_ns, struct bench_stats *out);

/* Parses "0.1,0.3,1" into @out (at most @max); -1 on a bad list. */
int
bench_parse_list(const char *s, double *out, unsigned max);

/* ---- models (bench-models.c: every call into the zoo) --------------------- */

struct bench_models;

/* Plans, weights and one fixed input per model of @mix.  @sim: no weights
 * (the simulator runs no kernel code); @num_sms: the plans' split-K target
 * (0: 132).  @weights_dir NULL: random weights from @seed.  @only >= 0:
 * that model alone (the others stay empty).  NULL with a message in @err. */
struct bench_models *
bench_models_prepare(const struct bench_mix *mix, bool sim, int num_sms, uint64_t seed,
		     const char *weights_dir, int only, char *err, size_t errlen);

void
bench_models_free(struct bench_models *bm);

/* Whether @name is a model of the zoo; the zoo's names in @list. */
bool
bench_models_known(const char *name);
const char *
bench_models_names(void);

/* Each model's reference logits (cuda), against which every response is
 * compared bit for bit: BENCH_MAX_MODELS pointers owned by @bm, NULL until
 * set (by bench_models_reference(), else from the first response:
 * malloc'd by the caller, freed with @bm). */
void **
bench_models_refs(struct bench_models *bm);

/* cuda: sets each model's reference to the logits that direct mode
 * computes for its input, once, on a runtime of its own (a manual-mode
 * runtime, one stream, the uninstrumented images, models made as the served
 * ones are, from the same plans and weights), so that every response is
 * checked against them.  -1
 * with a message in @err. */
int
bench_models_reference(struct bench_models *bm, const char *images, int device, char *err,
		       size_t errlen);

/* Model @m's input, its size, and its output's. */
const void *
bench_models_input(const struct bench_models *bm, unsigned m, size_t *in_bytes,
		   size_t *out_bytes);

/* The zoo's images as bench_images_load() leaves them: on cuda loaded into
 * the runtime from a folder (instrumented, or the count-mode variant); on
 * sim none (loaded false: the models bring their own). */
struct bench_images {
	struct paella_module *mods[PAELLA_ZOO_NIMAGES];
	enum paella_zoo_variant variant;
	bool loaded;
};

/* Fills *@imgs for @rt from @dir; an error's message is in @err, and
 * *@imgs holds nothing then.  paella_zoo_modules_unload(imgs->mods) gives
 * them back. */
enum paella_status
bench_images_load(struct paella_runtime *rt, const char *dir, bool count_mode,
		  struct bench_images *imgs, char *err, size_t errlen);

/* Creates model @m of @bm in @rt with @concurrent buffer sets; an error's
 * message (the runtime's included) in @err. */
struct bench_rt_model;
enum paella_status
bench_models_load(struct bench_models *bm, unsigned m, struct paella_runtime *rt,
		  struct bench_images *imgs, unsigned concurrent, struct bench_rt_model **out,
		  char *err, size_t errlen);
struct paella_model *
bench_rt_model(struct bench_rt_model *rm);
void
bench_rt_model_destroy(struct bench_rt_model *rm);

/* The directory of the zoo's images: @dir when it has conv2d.cubin, else
 * @dir/zoo; NULL when neither has. */
const char *
bench_models_find_images(const char *dir, char *buf, size_t len);

/* cuda: the GPU's multiprocessor count (no context made); 0 if unknown. */
int
bench_gpu_num_sms(int device);

/* ---- systems (bench-run.c) -------------------------------------------------- */

enum bench_kind {
	BENCH_PAELLA = 0,
	BENCH_DIRECT,
	BENCH_MPS,
};

struct bench_system {
	char name[BENCH_NAME_MAX];
	enum bench_kind kind;
	/* BENCH_PAELLA */
	enum paella_policy policy;
	/* FAIR: the deficit threshold. */
	double fair_threshold;
	/* -1: the runtime's default, else an enum paella_progress. */
	int progress;
	bool no_graph;
	/* paella_config.lone_job_past_window (paella-lone). */
	bool lone_past_window;
	bool count_mode;
	/* > 0: the launch window in waves (a name's "-wW" suffix). */
	double window;
	/* BENCH_DIRECT */
	unsigned direct_flags;
	bool priority;
	bool single_stream;
};

/* Fills @sys from a system's name (cuda-ss, cuda-ms, cuda-graph, priority,
 * mps, paella, paella-fifo, paella-fair-T, paella-reports, paella-count,
 * paella-noprogress, paella-nograph, paella-lone; any paella system with a "-wW" suffix:
 * a launch window of W waves); -1 for an unknown name. */
int
bench_system_parse(const char *name, struct bench_system *sys);

/* The default list of systems, comma-separated. */
const char *
bench_default_systems(void);

struct bench_options {
	enum paella_backend backend; /* CUDA or SIM, resolved */
	const char *images;          /* cuda: the zoo's images */
	const char *sim_card;
	uint64_t seed;
	/* The paella binary, for MPS's children. */
	const char *self;
	const char *mix_arg;
	const char *weights_dir;
	unsigned requests;
	int num_sms;
	/* >= 0: serve this model of the mix alone (MPS's children). */
	int only_model;
	/* Progress on stderr. */
	bool progress;
	const char *progress_label;
};

/* One load point's outcome, per model of the mix. */
struct bench_model_result {
	uint64_t *lat; /* ns, one per completed request */
	unsigned n, failed, mismatches;
	uint64_t last_done_ns; /* from the start */
};

struct bench_result {
	struct bench_model_result m[BENCH_MAX_MODELS];
	unsigned nmodels;
	uint64_t last_done_ns;
	/* Wall seconds the point took. */
	double wall_s;
};

struct bench_env;

/* A system ready to serve @mix (a runtime with the mix's models, or MPS's
 * processes).  NULL when the system cannot run here: the reason in @why. */
struct bench_env *
bench_env_open(const struct bench_system *sys, const struct bench_mix *mix,
	       struct bench_models *bm, const struct bench_options *opts, char *why,
	       size_t whylen);

/* Replays @n requests (sorted by arrival) and fills @res (its lat arrays
 * allocated here: bench_result_free()).  -1 with a message on stderr when
 * the run broke. */
int
bench_env_run(struct bench_env *env, const struct bench_request *req, unsigned n,
	      struct bench_result *res);

void
bench_env_close(struct bench_env *env);

void
bench_result_free(struct bench_result *res);

/* MPS: the daemon, started once and stopped at exit (also on a signal). */
int
bench_mps_start(char *why, size_t whylen);
void
bench_mps_stop(void);

/* `paella bench --mps-child ...`: one model's process under MPS. */
int
bench_mps_child_main(int argc, char **argv);

/* `paella bench`. */
int
paella_bench_main(int argc, char **argv);

#endif /* PAELLA_BENCH_H */
