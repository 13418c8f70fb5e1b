/*
 * config.c - the runtime's configuration: its defaults, the environment's
 * switches (read here and nowhere else), and the check of a caller's
 * config before a runtime is made of it.
 */
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

#define DEFAULT_STREAMS 16u
#define DEFAULT_FAIR_THRESHOLD_NS UINT64_C(2000000)
#define MAX_KERNELS_PER_JOB 8u

/* The index of environment switch @name's value among @choices (NULL
 * ended); -1 when it is unset or empty, and when it is none of them, after a
 * warning that says what is expected. */
static int
env_choice(const char *name, const char *const *choices, const char *expected)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		return -1;
	for (int i = 0; choices[i] != NULL; i++)
		if (strcmp(v, choices[i]) == 0)
			return i;
	paella__log_warn("%s=%s: expected %s", name, v, expected);
	return -1;
}

/*
 * The environment's switches, read here and nowhere else, so that a whole
 * program (transparent mode included) can be run another way without a
 * rebuild; paella.h documents them.  A value not understood is warned
 * about and leaves the default.
 */
static void
apply_environment(struct paella_config *c)
{
	static const char *const progress[] = { "markers", "reports", "none", NULL };
	static const enum paella_progress progress_of[] = {
		PAELLA_PROGRESS_MARKERS, PAELLA_PROGRESS_REPORTS, PAELLA_PROGRESS_NONE,
	};
	static const char *const plain_copies[] = { "0", "1", NULL };
	static const char *const completion[] = { "kernel", "write-value", NULL };
	int i;

	i = env_choice("PAELLA_PROGRESS", progress, "markers, reports or none");
	if (i >= 0)
		c->progress = progress_of[i];
	if (env_choice("PAELLA_PLAIN_COPIES", plain_copies, "0 or 1") == 0)
		c->plain_copies = false;
	if (env_choice("PAELLA_COMPLETION", completion, "kernel or write-value") == 1)
		c->completion_kernel_ns = UINT64_MAX;
}

PAELLA_EXPORT void
paella_config_init(struct paella_config *config)
{
	if (config == NULL)
		return;
	memset(config, 0, sizeof(*config));
	config->backend = PAELLA_BACKEND_AUTO;
	config->streams = DEFAULT_STREAMS;
	config->policy = PAELLA_POLICY_SRPT;
	config->fair_threshold_ns = DEFAULT_FAIR_THRESHOLD_NS;
	config->launch_window_waves = 2.0;
	config->max_kernels_in_flight_per_job = 2;
	config->graph_chunk_ns = 20000;
	config->completion_kernel_ns = 20000;
	config->dispatch_mode = PAELLA_DISPATCH_THREAD;
	config->dispatcher_cpu = -1;
	config->sim_jitter = 0.05;
	config->progress = PAELLA_PROGRESS_NONE;
	config->plain_copies = true;
	apply_environment(config);
}

enum paella_status
paella__config_check(const struct paella_config *c)
{
	const char *bad = NULL;

	if ((unsigned)c->backend > PAELLA_BACKEND_SIM)
		bad = "backend is not PAELLA_BACKEND_AUTO, _CUDA or _SIM";
	else if (c->streams < 1 || c->streams > PAELLA_MAX_STREAMS)
		bad = "streams must be 1 to PAELLA_MAX_STREAMS (1024)";
	else if ((unsigned)c->policy > PAELLA_POLICY_EDF)
		bad = "policy is not PAELLA_POLICY_SRPT, _FIFO, _FAIR or _EDF";
	else if (!(c->launch_window_waves > 0.0) || !isfinite(c->launch_window_waves))
		bad = "launch_window_waves must be a positive number of waves (1.0 is usual)";
	else if (c->max_kernels_in_flight_per_job < 1 ||
		 c->max_kernels_in_flight_per_job > MAX_KERNELS_PER_JOB)
		bad = "max_kernels_in_flight_per_job must be 1 to 8";
	else if ((unsigned)c->dispatch_mode > PAELLA_DISPATCH_MANUAL)
		bad = "dispatch_mode is not PAELLA_DISPATCH_THREAD or _MANUAL";
	else if (c->dispatcher_cpu < -1 || c->dispatcher_cpu >= CPU_SETSIZE)
		bad = "dispatcher_cpu must be -1 (no pinning) or a CPU number";
	else if ((unsigned)c->progress > PAELLA_PROGRESS_NONE)
		bad = "progress is not PAELLA_PROGRESS_MARKERS, _REPORTS or _NONE";
	else if (!(c->fair_deficit_threshold >= 0.0) || !isfinite(c->fair_deficit_threshold))
		bad = "fair_deficit_threshold must be 0 (off) or a positive number of kernels";
	else if (!(c->sim_jitter >= 0.0 && c->sim_jitter < 1.0))
		bad = "sim_jitter must be at least 0 and below 1";
	if (bad != NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_runtime_create: %s (start from paella_config_init())", bad);
	return PAELLA_STATUS_OK;
}

