/*
 * paella/paella.h - the public API of libpaellart, the Paella runtime.
 *
 * Paella serves many models on one GPU by scheduling their kernels itself:
 * kernels compiled with paella-cc report their progress, and the runtime's
 * dispatcher launches the next kernel just in time.  See DESIGN.md, "How the parts fit".
 *
 * This header is C99 and C++.  Every fallible call returns an
 * enum paella_status; PAELLA_STATUS_OK is zero.
 */
#ifndef PAELLA_PAELLA_H
#define PAELLA_PAELLA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* PAELLA_ABI_VERSION, the instrumentation ABI this runtime speaks and
 * paella-cc writes into every module (struct paella_sim_module's
 * abi_version), and the layout of the launch records. */
#include "instrument-abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define PAELLA_EXPORT __attribute__((visibility("default")))
#else
#define PAELLA_EXPORT
#endif

/*
 * The status codes, with the sentence paella_status_str() returns for each.
 * Append only: the numeric values are part of the ABI.
 */
#define PAELLA_STATUS_LIST(X) \
	X(OK, "success") \
	X(INVALID_ARGUMENT, "invalid argument") \
	X(NO_MEMORY, "out of memory") \
	X(NO_DEVICE, "no usable GPU: no NVIDIA driver, or no device") \
	X(DRIVER_ERROR, "the CUDA driver reported an error") \
	X(ABI_MISMATCH, "module built for another instrumentation ABI version") \
	X(NOT_FOUND, "not found") \
	X(TIMEOUT, "timed out") \
	X(BUSY, "busy: resource in use, try again") \
	X(SHUT_DOWN, "the runtime is shutting down") \
	X(UNSUPPORTED, "not supported") \
	X(IO_ERROR, "input/output error") \
	X(INTERNAL, "internal error")

enum paella_status {
#define PAELLA__STATUS_ENUM(name, str) PAELLA_STATUS_##name,
	PAELLA_STATUS_LIST(PAELLA__STATUS_ENUM)
#undef PAELLA__STATUS_ENUM
};

/**
 * paella_status_str - a short sentence describing @status.
 *
 * Returns a static string, never NULL; an unknown value gives
 * "unknown status".
 */
PAELLA_EXPORT const char *
paella_status_str(enum paella_status status);

/**
 * paella_status_name - the identifier of @status, e.g. "PAELLA_STATUS_NO_DEVICE".
 *
 * Returns a static string, never NULL; an unknown value gives
 * "PAELLA_STATUS_UNKNOWN".
 */
PAELLA_EXPORT const char *
paella_status_name(enum paella_status status);

/**
 * paella_version_string - the runtime's version, e.g. "0.1.0".
 *
 * Returns a static string.  Compare it with the version a program was built
 * against to detect a mismatched libpaellart.
 */
PAELLA_EXPORT const char *
paella_version_string(void);

/**
 * paella_last_error - the message of the last error this thread got.
 *
 * Every call that fails with a status other than PAELLA_STATUS_OK leaves a
 * sentence here saying what went wrong and what to do about it, like
 * dlerror().  Returns a thread-local string, "" when there is none; valid
 * until the thread's next paella_ call.
 */
PAELLA_EXPORT const char *
paella_last_error(void);

/* ---- runtime ----------------------------------------------------------------
 *
 * A runtime owns one GPU (or one simulated GPU), a pool of streams, the
 * modules and models loaded into it, and one dispatcher that decides which
 * job's kernel runs next.  Create it from a config that paella_config_init()
 * filled with defaults.
 */

struct paella_runtime;
struct paella_module;
struct paella_model;
struct paella_job;

enum paella_backend {
	/* cuda where a driver and a device answer, else sim, with a notice
	 * in the log saying why. */
	PAELLA_BACKEND_AUTO = 0,
	/* The GPU through the CUDA driver; PAELLA_STATUS_NO_DEVICE without. */
	PAELLA_BACKEND_CUDA,
	/* A simulated GPU in virtual time, deterministic for a seed. */
	PAELLA_BACKEND_SIM,
};

enum paella_policy {
	/* Shortest remaining processing time first, from per-kernel durations
	 * profiled when a model is finalized and refined as kernels complete. */
	PAELLA_POLICY_SRPT = 0,
	/* In order of submission. */
	PAELLA_POLICY_FIFO,
	/* SRPT, except that a job that has waited while other jobs were given
	 * fair_threshold_ns of GPU time goes first. */
	PAELLA_POLICY_FAIR,
	/* Earliest deadline first; jobs without a deadline after those with. */
	PAELLA_POLICY_EDF,
};

/* How the dispatcher learns that a running kernel's last wave has begun
 * (its progress), before the kernel completes. */
enum paella_progress {
	/* Grids of more than a wave run their plain copy with a tail marker
	 * beside them (a one-block kernel on a lower-priority stream that
	 * starts once the grid's last blocks have); where no marker fits, the
	 * instrumented code's sampled reports. */
	PAELLA_PROGRESS_MARKERS = 0,
	/* The instrumented code's sampled reports (or counts, for count-mode
	 * images) for every grid in which the sampling rule picks a block. */
	PAELLA_PROGRESS_REPORTS,
	/* None: every kernel runs its plain copy; the dispatcher learns only
	 * completions. */
	PAELLA_PROGRESS_NONE,
};

enum paella_dispatch_mode {
	/* A dispatcher thread: spins while work is in flight, sleeps when
	 * idle, wakes on submission. */
	PAELLA_DISPATCH_THREAD = 0,
	/* No thread: the application runs the dispatcher with
	 * paella_runtime_run_until() / _run_until_idle(), and paella_job_wait()
	 * runs it too.  With the sim backend this makes a run deterministic. */
	PAELLA_DISPATCH_MANUAL,
};

struct paella_config {
	enum paella_backend backend;
	/* CUDA device ordinal (cuda backend). */
	int device;
	/* Streams in the pool: at most this many jobs run at once.  1 to
	 * PAELLA_MAX_STREAMS; default 16. */
	unsigned streams;
	enum paella_policy policy;
	/* PAELLA_POLICY_FAIR: how much GPU time (estimated kernel durations)
	 * other jobs may receive while one waits, before it goes first.
	 * Default 2 ms. */
	uint64_t fair_threshold_ns;
	/* A kernel is launched only while the kernels in flight need fewer
	 * than this many full waves of the GPU for their remaining blocks,
	 * so the hardware queue stays short.  Default 2.0: on the serving
	 * benchmark's 8-model mix (batch-1 kernels, most under a wave) one
	 * wave left the GPU short of work between decisions (H100: 5 to 15%
	 * less throughput, 30 to 50% more p99 at 80% load;
	 * benchmarks/results/serving.md). */
	double launch_window_waves;
	/* Kernels of one job in flight at once: 2 (default) lets the
	 * dispatcher launch a job's next kernel on its stream before the
	 * current one ends, hiding launch latency; 1 never does. */
	unsigned max_kernels_in_flight_per_job;
	/* A job alone in the runtime (no other taken in and not completed)
	 * may have its max_kernels_in_flight_per_job kernels or graph runs in
	 * flight even past the launch window: with no other job to keep room
	 * for, the window would only hold its runs back one at a time (a run
	 * of 20 us of small kernels can fill two waves by itself).  A job
	 * that arrives meanwhile waits for the window as usual.  Default
	 * false. */
	bool lone_job_past_window;
	/* cuda backend: consecutive kernels of a model (sample-mode or
	 * uninstrumented) whose profiled GPU time adds up to at most this are
	 * captured at finalize into one CUDA graph and launched as one op: a
	 * launch call per run instead of per kernel, and about a microsecond
	 * between its kernels.  The dispatcher decides per run, so this also
	 * bounds how long another job waits behind one.  0 launches every
	 * kernel alone.  Default 20 us. */
	uint64_t graph_chunk_ns;
	/* cuda backend: a kernel launched alone (not in a graph run) whose
	 * profiled GPU time is at least this signals its completion with a
	 * one-warp completion kernel (programmatic dependent launch, sm_90 and
	 * later) rather than a stream write-value: seen about 0.3 us sooner,
	 * for about 1.5 us more of the dispatcher's CPU per launch.  0: every
	 * kernel launched alone; UINT64_MAX: never.  Default 20 us;
	 * PAELLA_COMPLETION=write-value in the environment sets UINT64_MAX at
	 * paella_config_init(). */
	uint64_t completion_kernel_ns;
	enum paella_dispatch_mode dispatch_mode;
	/* Progress signal; default PAELLA_PROGRESS_NONE: on the serving
	 * benchmark's mixes (H100), tail markers and sampled reports changed
	 * neither latency nor throughput beyond the runs' spread (batch-1
	 * kernels seldom exceed a wave; benchmarks/results/serving.md), so by
	 * default nothing is spent on them.  PAELLA_PROGRESS (markers,
	 * reports, none) in the environment sets it at paella_config_init(). */
	enum paella_progress progress;
	/* Grids in which the sampling rule picks no block (and graph runs, and
	 * transparent mode) run the kernel's plain copy.  false runs the
	 * instrumented code everywhere (to test it).  Default true;
	 * PAELLA_PLAIN_COPIES=0 in the environment sets false at
	 * paella_config_init(). */
	bool plain_copies;
	/* PAELLA_POLICY_FAIR, the original Paella's knob: a deficit counter
	 * per model; each kernel dispatched adds 1/(models with jobs) to every
	 * such model's counter and subtracts 1 from its own model's; when the
	 * largest counter reaches this threshold, that model's best job goes
	 * first instead of the SRPT pick.  0 (default) uses fair_threshold_ns
	 * instead. */
	double fair_deficit_threshold;
	/* Pin the dispatcher thread to this CPU; -1 (default) leaves it. */
	int dispatcher_cpu;
	/* sim backend: the card to simulate ("H100", "H200", "A100", "L4");
	 * NULL means "H100".  Copied at create. */
	const char *sim_card;
	/* sim backend: the seed of its random numbers. */
	uint64_t sim_seed;
	/* sim backend: each wave of a kernel's blocks runs its profiled
	 * duration times a factor drawn from [1 - jitter, 1 + jitter].
	 * Default 0.05; 0 makes durations exact. */
	double sim_jitter;
};

#define PAELLA_MAX_STREAMS 1024u

/**
 * paella_config_init - fills @config with the defaults.
 *
 * Start from this and change what you need: a zeroed struct is not the
 * default config (dispatcher_cpu 0 would pin to CPU 0).
 *
 * The scheduling switches of the environment are read here, and nowhere
 * else, so that a program can be run another way without a rebuild (a
 * value not understood is warned about and leaves the default; transparent
 * mode reads them the same way):
 *	PAELLA_PROGRESS=markers|reports|none	progress
 *	PAELLA_PLAIN_COPIES=0			plain_copies false
 *	PAELLA_COMPLETION=write-value		completion_kernel_ns UINT64_MAX
 * Two more variables are read where they act:
 *	PAELLA_LOG=debug|info|warn|error|none	the library's log on stderr,
 *						from that level on (default
 *						none: errors come back as
 *						statuses and paella_last_error())
 *	PAELLA_LIBCUDA=path			the driver library to dlopen
 */
PAELLA_EXPORT void
paella_config_init(struct paella_config *config);

/**
 * paella_runtime_create - starts a runtime.
 *
 * @config may be NULL for the defaults.  On success *@out is the runtime and,
 * in PAELLA_DISPATCH_THREAD mode, its dispatcher thread runs.  Returns
 * PAELLA_STATUS_NO_DEVICE for the cuda backend where there is no driver or
 * device, PAELLA_STATUS_INVALID_ARGUMENT for a config out of range (the
 * message names the field), PAELLA_STATUS_NOT_FOUND for an unknown sim card.
 */
PAELLA_EXPORT enum paella_status
paella_runtime_create(const struct paella_config *config,
		      struct paella_runtime **out);

/**
 * paella_runtime_shutdown - stops accepting jobs and lets those submitted
 * finish.
 *
 * Returns once every job submitted before has completed (its callback run
 * and its waiters woken); later submissions fail with
 * PAELLA_STATUS_SHUT_DOWN.  The dispatcher thread has exited when it
 * returns.  Calling it again does nothing.
 */
PAELLA_EXPORT enum paella_status
paella_runtime_shutdown(struct paella_runtime *rt);

/**
 * paella_runtime_destroy - shuts @rt down (see paella_runtime_shutdown()),
 * then frees its models, modules, streams and device memory.
 *
 * Job handles stay valid (their status and times readable) until
 * paella_job_release().  Model and module handles of @rt are freed.
 * NULL does nothing.
 */
PAELLA_EXPORT void
paella_runtime_destroy(struct paella_runtime *rt);

/**
 * paella_runtime_backend_name - "cuda" or "sim": what @rt runs on, which
 * with PAELLA_BACKEND_AUTO tells whether it found a GPU.
 */
PAELLA_EXPORT const char *
paella_runtime_backend_name(const struct paella_runtime *rt);

/**
 * paella_runtime_now_ns - the runtime's clock: CLOCK_MONOTONIC on cuda,
 * virtual time on sim.  Job timestamps and deadlines use it.
 */
PAELLA_EXPORT uint64_t
paella_runtime_now_ns(const struct paella_runtime *rt);

/**
 * paella_runtime_run_until - PAELLA_DISPATCH_MANUAL: runs the dispatcher in
 * the calling thread until the runtime's clock reaches @t_ns.
 *
 * On sim, virtual time moves on to @t_ns even when the GPU is idle, so a
 * test submits a job at a chosen time by running until it and submitting.
 * Returns PAELLA_STATUS_UNSUPPORTED in thread mode.
 */
PAELLA_EXPORT enum paella_status
paella_runtime_run_until(struct paella_runtime *rt, uint64_t t_ns);

/**
 * paella_runtime_run_until_idle - PAELLA_DISPATCH_MANUAL: runs the
 * dispatcher in the calling thread until every job submitted has completed.
 */
PAELLA_EXPORT enum paella_status
paella_runtime_run_until_idle(struct paella_runtime *rt);

struct paella_runtime_stats {
	uint64_t jobs_submitted;
	uint64_t jobs_completed;
	/* Kernels launched: each is one decision of the policy. */
	uint64_t kernels_launched;
	/* Of those, launched while the same job's previous kernel ran. */
	uint64_t early_launches;
	uint64_t copies_issued;
	/* Turns of the dispatcher's loop. */
	uint64_t dispatcher_iterations;
	/* Wall time the dispatcher spent on its own work: taking jobs,
	 * polling, deciding, launching (the driver's launch calls included),
	 * but not waiting for progress.  Sampled (one turn in 8, at random, is
	 * timed): an estimate. */
	uint64_t dispatcher_busy_ns;
	/* The most waves the kernels in flight still needed, as the
	 * dispatcher saw it, when it decided to launch another while other
	 * jobs were live (a lone job's launches past the window,
	 * lone_job_past_window, are not counted). */
	double max_load_at_launch;
	/* Kernels (launched alone) whose progress the dispatcher saw before
	 * their completion: from their reports or their tail markers. */
	uint64_t kernels_progress_seen;
};

/**
 * paella_runtime_stats - copies @rt's counters into @out.
 *
 * Read while the dispatcher runs, the counters may be a moment apart.
 */
PAELLA_EXPORT enum paella_status
paella_runtime_stats(struct paella_runtime *rt, struct paella_runtime_stats *out);

/* ---- modules ------------------------------------------------------------
 *
 * A module is device code: an image that paella-cc produced (cubin, fatbin
 * or PTX) on the cuda backend, or a description of kernels on the sim
 * backend.  Its instrumentation ABI version and manifest (which kernels were
 * instrumented, their parameter counts) are read and checked at load.
 */

/**
 * paella_module_load_file - loads the device image at @path (cuda backend).
 *
 * Reads the module's __paella_abi_version and __paella_manifest; a module
 * built for another ABI version is refused with PAELLA_STATUS_ABI_MISMATCH,
 * naming both versions.  A module not built by paella-cc (no ABI version)
 * loads with every kernel uninstrumented, and a warning.  On sim returns
 * PAELLA_STATUS_UNSUPPORTED: use paella_module_load_sim().
 *
 * @path must name a regular file: a directory, FIFO, socket or device is
 * refused with PAELLA_STATUS_INVALID_ARGUMENT, saying what it is, without
 * waiting for a writer.  Errors while loading (the driver's included) name
 * @path.
 *
 * On sim, a cubin (`paella-cc --cuda-device-only -c`, an ELF64 file; not a
 * fatbin, not PTX) loads too: the simulator reads its __paella_abi_version
 * and __paella_manifest, checked as on cuda, and its kernels' names,
 * registers and static shared memory; since an image carries no timing,
 * each block of its kernels runs PAELLA_SIM_IMAGE_BLOCK_NS.  Anything else
 * returns PAELLA_STATUS_INVALID_ARGUMENT: describe such a module with
 * paella_module_load_sim().
 */
PAELLA_EXPORT enum paella_status
paella_module_load_file(struct paella_runtime *rt, const char *path,
			struct paella_module **out);

/* On sim, how long each block of a kernel loaded from an image runs: 10 us,
 * so a grid of one wave takes 10 us and of n waves n times that.  For
 * other timings, describe the module with paella_module_load_sim(). */
#define PAELLA_SIM_IMAGE_BLOCK_NS 10000u

/**
 * paella_module_load_image - like paella_module_load_file(), from @bytes
 * bytes at @image (copied; a PTX text need not be NUL-terminated).
 */
PAELLA_EXPORT enum paella_status
paella_module_load_image(struct paella_runtime *rt, const void *image,
			 size_t bytes, struct paella_module **out);

/* What the simulator needs of one kernel. */
struct paella_sim_kernel {
	/* Its (mangled) name, as in the manifest. */
	const char *name;
	unsigned regs_per_thread;
	unsigned static_smem_bytes;
	/* How long one of its blocks runs. */
	uint64_t block_ns;
};

/* A module for the sim backend: what paella-cc would have put in the image,
 * and a profile of each kernel. */
struct paella_sim_module {
	/* The instrumentation ABI version the module claims to be built for:
	 * PAELLA_ABI_VERSION, or another to see it refused.  0 (not built by
	 * paella-cc: every kernel uninstrumented) only with manifest NULL: a
	 * manifest with abi_version 0 is refused with
	 * PAELLA_STATUS_INVALID_ARGUMENT, as a field left unset. */
	unsigned abi_version;
	/* The manifest text (paella/instrument-abi.h): which kernels exist,
	 * instrumented or not, and their parameter counts. */
	const char *manifest;
	const struct paella_sim_kernel *kernels;
	unsigned nkernels;
};

/**
 * paella_module_load_sim - loads a simulated module (sim backend).
 *
 * Every kernel of the manifest needs an entry in @desc->kernels.  The ABI
 * version is checked as for an image.  On cuda returns
 * PAELLA_STATUS_UNSUPPORTED.  @desc is copied.
 */
PAELLA_EXPORT enum paella_status
paella_module_load_sim(struct paella_runtime *rt,
		       const struct paella_sim_module *desc,
		       struct paella_module **out);

/**
 * paella_module_unload - frees @module.
 *
 * Returns PAELLA_STATUS_BUSY, and frees nothing, while a model uses one of
 * its kernels.  NULL returns PAELLA_STATUS_INVALID_ARGUMENT.
 */
PAELLA_EXPORT enum paella_status
paella_module_unload(struct paella_module *module);

/* ---- models ------------------------------------------------------------
 *
 * A model is an ordered list of steps: kernel launches and copies between
 * the job's host input/output and device buffers.  Build it with
 * paella_model_add_*(), then paella_model_finalize() allocates the per-job
 * buffer sets (so that many jobs of the model run at once) and profiles
 * each kernel; only then can jobs be submitted.
 */

enum paella_buffer_scope {
	/* One buffer for all jobs (weights): filled with
	 * paella_model_write_buffer(). */
	PAELLA_BUFFER_MODEL = 0,
	/* One per job in flight (input, output, activations). */
	PAELLA_BUFFER_JOB,
};

enum paella_arg_kind {
	/* The bytes of a value, copied when the step is added. */
	PAELLA_ARG_VALUE = 0,
	/* The device address of a buffer of the model, plus an offset: a
	 * model buffer's is fixed, a job buffer's is the job's own. */
	PAELLA_ARG_BUFFER,
};

/* One kernel argument.  Make them with paella_arg_value() and
 * paella_arg_buffer(). */
struct paella_arg {
	enum paella_arg_kind kind;
	/* PAELLA_ARG_VALUE: @size bytes at @value. */
	const void *value;
	size_t size;
	/* PAELLA_ARG_BUFFER: buffer index and byte offset into it. */
	unsigned buffer;
	size_t offset;
};

static inline struct paella_arg
paella_arg_value(const void *value, size_t size)
{
	struct paella_arg a;

	a.kind = PAELLA_ARG_VALUE;
	a.value = value;
	a.size = size;
	a.buffer = 0;
	a.offset = 0;
	return a;
}

static inline struct paella_arg
paella_arg_buffer(unsigned buffer, size_t offset)
{
	struct paella_arg a;

	a.kind = PAELLA_ARG_BUFFER;
	a.value = 0;
	a.size = 0;
	a.buffer = buffer;
	a.offset = offset;
	return a;
}

struct paella_dim3 {
	unsigned x, y, z;
};

struct paella_kernel_step {
	struct paella_module *module;
	/* The kernel's (mangled) name in @module. */
	const char *kernel;
	struct paella_dim3 grid;
	struct paella_dim3 block;
	unsigned dynamic_smem_bytes;
	/* One per parameter of the kernel as written (the launch record the
	 * pass adds is the runtime's business). */
	const struct paella_arg *args;
	unsigned nargs;
};

enum paella_copy_direction {
	/* From the job's input, at host_offset, into a job buffer. */
	PAELLA_COPY_INPUT = 0,
	/* From a job buffer into the job's output, at host_offset. */
	PAELLA_COPY_OUTPUT,
};

/**
 * paella_model_create - an empty model named @name (for messages).
 */
PAELLA_EXPORT enum paella_status
paella_model_create(struct paella_runtime *rt, const char *name,
		    struct paella_model **out);

/**
 * paella_model_add_buffer - declares a device buffer of @bytes bytes;
 * *@index names it in arguments and copies.
 */
PAELLA_EXPORT enum paella_status
paella_model_add_buffer(struct paella_model *model, enum paella_buffer_scope scope,
			size_t bytes, unsigned *index);

/**
 * paella_model_write_buffer - copies @bytes bytes from @data into model
 * buffer @index at @offset (synchronously).  Not for job buffers, and not
 * while jobs of the model run (PAELLA_STATUS_BUSY).
 */
PAELLA_EXPORT enum paella_status
paella_model_write_buffer(struct paella_model *model, unsigned index,
			  size_t offset, const void *data, size_t bytes);

/**
 * paella_model_add_kernel - appends a kernel launch.
 *
 * Checks what can be checked now: the kernel exists in the module
 * (PAELLA_STATUS_NOT_FOUND otherwise), the argument count matches the
 * manifest's, buffers and offsets exist, the block fits on an SM.
 */
PAELLA_EXPORT enum paella_status
paella_model_add_kernel(struct paella_model *model,
			const struct paella_kernel_step *step);

/**
 * paella_model_add_copy - appends a copy of @bytes bytes between the job's
 * input or output (at @host_offset) and job buffer @buffer (at
 * @buffer_offset).  The model's input size is the end of its furthest input
 * copy, its output size likewise.
 */
PAELLA_EXPORT enum paella_status
paella_model_add_copy(struct paella_model *model, enum paella_copy_direction dir,
		      unsigned buffer, size_t buffer_offset, size_t host_offset,
		      size_t bytes);

/**
 * paella_model_finalize - allocates @concurrent_jobs sets of job buffers
 * (jobs beyond that many wait for a set), profiles each kernel alone, and
 * makes the model ready for jobs.  No step can be added after.
 *
 * On cuda the profile runs each kernel on zeroed job buffers.  A model
 * needs at least one kernel.
 */
PAELLA_EXPORT enum paella_status
paella_model_finalize(struct paella_model *model, unsigned concurrent_jobs);

/**
 * paella_model_estimate_ns - the model's current estimate of one job's GPU
 * time: the sum of its kernels' profiled (and refined) durations.
 */
PAELLA_EXPORT enum paella_status
paella_model_estimate_ns(const struct paella_model *model, uint64_t *ns);

/**
 * paella_model_io_bytes - the sizes a job of @model must give exactly:
 * @input_bytes (the end of its furthest input copy) and @output_bytes
 * (likewise for output copies).  Either pointer may be NULL.
 */
PAELLA_EXPORT enum paella_status
paella_model_io_bytes(const struct paella_model *model, size_t *input_bytes,
		      size_t *output_bytes);

/**
 * paella_model_destroy - frees @model and its device memory.
 *
 * Returns PAELLA_STATUS_BUSY, and frees nothing, while jobs of the model
 * are queued or running.
 */
PAELLA_EXPORT enum paella_status
paella_model_destroy(struct paella_model *model);

/* ---- model capture -----------------------------------------------------
 *
 * A model can also be captured from the CUDA code that runs it, the way
 * CUDA stream capture turns host code into a graph: between
 * paella_model_capture_begin() and paella_model_capture_end(), every
 * <<<>>> launch that the calling thread makes from code built with paella-cc
 * (every paella_launch_kernel() call) is appended to the model as a kernel
 * step, and does not run.  Declare the buffers first and pass the kernels
 * the addresses paella_model_buffer_address() gives: a pointer-sized
 * argument whose value falls inside a buffer's range [address, address +
 * bytes) becomes that buffer plus an offset, so each job uses its own job
 * buffers; every other argument is recorded by value, as it was at the
 * launch.  paella_model_add_copy() and paella_model_add_kernel() may be
 * called between the launches: steps keep the order they were made in.
 *
 * Only launches through paella-cc's rewrite are captured: cudaMemcpy, the
 * CUDA libraries' kernels and launches of code built otherwise run as
 * usual, and the stream a launch names is ignored (a model is one
 * sequence).  Capture needs the cuda backend (the CUfunction comes from the
 * program's CUDA runtime, cudaGetFuncBySymbol, which must run on the same
 * device as the runtime) and a driver with cuFuncGetParamInfo (CUDA 12.4+)
 * for the kernels' argument sizes.
 */

/**
 * paella_model_buffer_address - the device address that stands for buffer
 * @index of @model in captured launches.
 *
 * A model buffer's is its real address (fill it with
 * paella_model_write_buffer()).  A job buffer has one in each job set, made
 * only at finalize, so its capture address is a device allocation of its
 * size, made at the first call and freed at paella_model_finalize(): being
 * allocated, its range is no other memory's, so no other pointer is taken
 * for it.  It is a placeholder: kernels launched while capturing do not run,
 * and nothing should read or write it.  After finalize, a job buffer has
 * none (PAELLA_STATUS_INVALID_ARGUMENT).
 */
PAELLA_EXPORT enum paella_status
paella_model_buffer_address(struct paella_model *model, unsigned index,
			    uint64_t *address);

/**
 * paella_model_capture_begin - from now until paella_model_capture_end(),
 * the calling thread's paella_launch_kernel() and _ptsz() calls are
 * recorded as kernel steps of @model and return cudaSuccess without
 * running anything.
 *
 * A thread captures one model at a time, and a model is captured by one
 * thread: PAELLA_STATUS_BUSY otherwise.  PAELLA_STATUS_UNSUPPORTED on the
 * sim backend, where the driver lacks cuFuncGetParamInfo, or where the
 * process has no CUDA runtime (cudaGetFuncBySymbol); a finalized model
 * gives PAELLA_STATUS_INVALID_ARGUMENT.
 */
PAELLA_EXPORT enum paella_status
paella_model_capture_begin(struct paella_model *model);

/**
 * paella_model_capture_end - ends the calling thread's capture of @model.
 *
 * A launch that cannot be recorded (a function the CUDA runtime does not
 * know, a parameter count that does not match the kernel's, a block that
 * does not fit) returns its cudaError_t and fails the capture; later
 * launches return cudaErrorStreamCaptureInvalidated (901).  Then this
 * returns the first failure's status, with its message in
 * paella_last_error(), and the model is left as it was before
 * paella_model_capture_begin(): nothing of the capture is kept.
 * PAELLA_STATUS_INVALID_ARGUMENT when @model is not being captured, or
 * when its capture began on another thread.  While capturing,
 * paella_model_finalize() and paella_model_destroy() return
 * PAELLA_STATUS_BUSY.
 */
PAELLA_EXPORT enum paella_status
paella_model_capture_end(struct paella_model *model);

/* ---- jobs --------------------------------------------------------------- */

/* Called once per job, on the dispatcher's thread, when the job completed
 * (or failed), before paella_job_wait() returns for it: keep it short.  It
 * may submit jobs, and release the handles its program holds (@job's
 * included, if the submitter kept one: a job submitted with out = NULL has
 * no handle, and releasing it is refused with a logged error).  It must
 * not wait for a job that is not done, run the dispatcher, shut down or
 * destroy the runtime: the dispatcher would wait for itself, so those
 * calls return PAELLA_STATUS_INVALID_ARGUMENT from a callback (destroy
 * frees nothing and logs why). */
typedef void (*paella_job_callback)(struct paella_job *job,
				    enum paella_status status, void *user_data);

struct paella_job_desc {
	/* Exactly the model's input size; read until the job completes. */
	const void *input;
	size_t input_bytes;
	/* Exactly the model's output size; written when the job completes. */
	void *output;
	size_t output_bytes;
	/* PAELLA_POLICY_EDF: the job should complete within this many ns of
	 * its submission; 0 for none. */
	uint64_t deadline_ns;
	paella_job_callback callback;
	void *user_data;
};

/* Times on the runtime's clock (paella_runtime_now_ns()). */
struct paella_job_times {
	uint64_t submitted_ns;
	/* When its first step was issued; 0 if it never started. */
	uint64_t first_launch_ns;
	/* When the dispatcher saw its last step complete. */
	uint64_t completed_ns;
};

/**
 * paella_job_submit - queues a job of @model and returns at once.
 *
 * *@out is the caller's handle: release it with paella_job_release(), before
 * or after the job completes.  @out may be NULL when a callback is given and
 * no handle is wanted.  Fails with PAELLA_STATUS_SHUT_DOWN once the runtime
 * shuts down, PAELLA_STATUS_INVALID_ARGUMENT for sizes that do not match the
 * model, an unfinalized model or a NULL handle.
 */
PAELLA_EXPORT enum paella_status
paella_job_submit(struct paella_model *model, const struct paella_job_desc *desc,
		  struct paella_job **out);

/**
 * paella_job_poll - PAELLA_STATUS_BUSY while @job runs; once it completed,
 * its outcome: PAELLA_STATUS_OK, or why it failed.  No system call.
 */
PAELLA_EXPORT enum paella_status
paella_job_poll(struct paella_job *job);

/**
 * paella_job_wait - waits for @job to complete, at most @timeout_ns
 * (negative: forever), and returns its outcome as paella_job_poll() does, or
 * PAELLA_STATUS_TIMEOUT.
 *
 * In PAELLA_DISPATCH_MANUAL mode it runs the dispatcher itself, and
 * @timeout_ns is on the runtime's clock (virtual on sim).
 */
PAELLA_EXPORT enum paella_status
paella_job_wait(struct paella_job *job, int64_t timeout_ns);

/**
 * paella_job_times - the job's timestamps; complete once it completed.
 */
PAELLA_EXPORT enum paella_status
paella_job_times(struct paella_job *job, struct paella_job_times *out);

/**
 * paella_job_user_data - the desc's user_data.
 */
PAELLA_EXPORT void *
paella_job_user_data(struct paella_job *job);

/**
 * paella_job_release - gives up the handle.  The job runs on if it has not
 * completed.  NULL does nothing.
 */
PAELLA_EXPORT void
paella_job_release(struct paella_job *job);

/* ---- direct mode ---------------------------------------------------------
 *
 * The way a careful user runs models without Paella's dispatcher, on the
 * very same model objects, so that a benchmark compares schedulers and
 * nothing else: a job's steps go straight onto a stream the caller owns
 * (its input copy, every kernel as its plain, uninstrumented copy, its
 * output copy), all enqueued before the call returns, back to back or as
 * one CUDA graph; no policy, no dispatcher thread, and the GPU's own block
 * scheduler decides among streams.  On sim, the caller's streams feed the
 * simulated block scheduler the same way.
 *
 * Direct jobs need a runtime in PAELLA_DISPATCH_MANUAL mode, driven by one
 * thread at a time (the dispatcher would otherwise share the backend with
 * the caller): paella_runtime_run_until() lets time pass and notes each
 * direct job's completion as soon as it is seen (exactly, on sim), and
 * paella_job_poll()/_wait()/_times()/_release() work on direct jobs as on
 * any other.  Jobs submitted with paella_job_submit() may share such a
 * runtime.
 */

struct paella_stream;

/**
 * paella_stream_create - a stream for direct jobs with @priority: 0 is the
 * default, a greater number runs first where the GPU has priorities (the
 * block scheduler takes a ready kernel of a higher-priority stream first);
 * clamped to the device's range.  PAELLA_STATUS_UNSUPPORTED in thread mode.
 */
PAELLA_EXPORT enum paella_status
paella_stream_create(struct paella_runtime *rt, int priority, struct paella_stream **out);

/**
 * paella_stream_destroy - waits for what @stream holds, then frees it.
 * NULL does nothing.
 */
PAELLA_EXPORT void
paella_stream_destroy(struct paella_stream *stream);

enum paella_direct_flags {
	/* The job's kernels as one CUDA graph replay (captured once per buffer
	 * set, at the first such job); on sim, as one launch. */
	PAELLA_DIRECT_GRAPH = 1u << 0,
};

/**
 * paella_job_submit_direct - enqueues a whole job of @model on @stream and
 * returns at once (see "direct mode" above).
 *
 * The job takes one of the model's buffer sets (paella_model_finalize()'s
 * @concurrent_jobs) until it completes: PAELLA_STATUS_BUSY when none is
 * free.  @desc is checked as paella_job_submit() checks it; its callback
 * and deadline must be 0 (a direct job has nobody to run a callback).
 * @flags: paella_direct_flags or'd.  On success *@out is the caller's
 * handle (paella_job_release()); on failure it is NULL, and whatever part
 * of the job was already enqueued drains on its own (a buffer set that an
 * enqueued kernel may still be using is retired, with a logged error).
 */
PAELLA_EXPORT enum paella_status
paella_job_submit_direct(struct paella_model *model, struct paella_stream *stream,
			 const struct paella_job_desc *desc, unsigned flags,
			 struct paella_job **out);

/* ---- transparent mode ----------------------------------------------------
 *
 * paella-cc rewrites `kernel<<<grid, block, shmem, stream>>>(args)` in host
 * code into a call of paella_launch_kernel() with cudaLaunchKernel's
 * arguments plus the kernel's parameter count (with PAELLA_LAUNCH_COUNT_MODE
 * of paella/instrument-abi.h or'd in when the program was compiled in count
 * mode).  The runtime launches the
 * kernel at once on the caller's stream with a launch record as its extra
 * last argument.  Returns a cudaError_t: 0 on success.
 */

/**
 * paella_launch_kernel - the launch entry point of code built with paella-cc
 * (legacy default stream semantics).  Same as cudaLaunchKernel(@func, @grid,
 * @block, @args, @shmem, @stream), @nparams being the length of @args.
 */
PAELLA_EXPORT int
paella_launch_kernel(const void *func, struct paella_dim3 grid,
		     struct paella_dim3 block, void **args, size_t shmem,
		     void *stream, int nparams);

/**
 * paella_launch_kernel_ptsz - the same, for code built with per-thread
 * default streams (cudaLaunchKernel_ptsz).
 */
PAELLA_EXPORT int
paella_launch_kernel_ptsz(const void *func, struct paella_dim3 grid,
			  struct paella_dim3 block, void **args, size_t shmem,
			  void *stream, int nparams);

#ifdef __cplusplus
}
#endif

#endif /* PAELLA_PAELLA_H */
