/*
 * runtime.c - creating and destroying a runtime: choosing its backend,
 * starting its dispatcher, and draining it at the end.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "direct.h"
#include "dispatcher.h"
#include "log.h"
#include "model.h"
#include "module.h"
#include "runtime.h"
#include "util.h"

#define DEFAULT_STREAMS 16u
#define DEFAULT_FAIR_THRESHOLD_NS UINT64_C(2000000)
#define MAX_KERNELS_PER_JOB 8u

PAELLA_EXPORT const char *
paella_last_error(void)
{
	return paella__error_last();
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
	const char *v;

	v = getenv("PAELLA_PROGRESS");
	if (v != NULL && *v != '\0') {
		if (strcmp(v, "markers") == 0)
			c->progress = PAELLA_PROGRESS_MARKERS;
		else if (strcmp(v, "reports") == 0)
			c->progress = PAELLA_PROGRESS_REPORTS;
		else if (strcmp(v, "none") == 0)
			c->progress = PAELLA_PROGRESS_NONE;
		else
			paella__log_warn("PAELLA_PROGRESS=%s: expected markers, reports or none", v);
	}
	v = getenv("PAELLA_PLAIN_COPIES");
	if (v != NULL && *v != '\0') {
		if (strcmp(v, "0") == 0)
			c->plain_copies = false;
		else if (strcmp(v, "1") != 0)
			paella__log_warn("PAELLA_PLAIN_COPIES=%s: expected 0 or 1", v);
	}
	v = getenv("PAELLA_COMPLETION");
	if (v != NULL && *v != '\0') {
		if (strcmp(v, "write-value") == 0)
			c->completion_kernel_ns = UINT64_MAX;
		else if (strcmp(v, "kernel") != 0)
			paella__log_warn("PAELLA_COMPLETION=%s: expected kernel or write-value", v);
	}
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
	config->launch_window_waves = 1.0;
	config->max_kernels_in_flight_per_job = 2;
	config->graph_chunk_ns = 20000;
	config->completion_kernel_ns = 20000;
	config->dispatch_mode = PAELLA_DISPATCH_THREAD;
	config->dispatcher_cpu = -1;
	config->sim_jitter = 0.05;
	config->progress = PAELLA_PROGRESS_MARKERS;
	config->plain_copies = true;
	apply_environment(config);
}

static enum paella_status
check_config(const struct paella_config *c)
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

static enum paella_status
make_backend(struct paella_runtime *rt)
{
	const struct paella_config *c = &rt->config;
	struct paella__backend_params p = {
		c->device, c->streams, rt->sim_card, c->sim_seed, c->sim_jitter,
		c->progress == PAELLA_PROGRESS_MARKERS && c->plain_copies,
	};
	enum paella_status st;

	switch (c->backend) {
	case PAELLA_BACKEND_CUDA:
		return paella__backend_cuda_create(&p, &rt->backend);
	case PAELLA_BACKEND_SIM:
		return paella__backend_sim_create(&p, &rt->backend);
	case PAELLA_BACKEND_AUTO:
		st = paella__backend_cuda_create(&p, &rt->backend);
		if (st != PAELLA_STATUS_NO_DEVICE)
			return st;
		paella__log_warn("no GPU (%s): running on the simulated %s instead",
				 paella__error_last(), rt->sim_card ? rt->sim_card : "H100");
		paella__error_clear();
		return paella__backend_sim_create(&p, &rt->backend);
	}
	return PAELLA_STATUS_INVALID_ARGUMENT;
}

static enum paella_status
start_thread(struct paella_runtime *rt)
{
	pthread_attr_t attr;
	int rc;

	pthread_attr_init(&attr);
	if (rt->config.dispatcher_cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(rt->config.dispatcher_cpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	rc = pthread_create(&rt->thread, &attr, paella__dispatcher_thread, rt);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return paella__error_set(rc == EINVAL ? PAELLA_STATUS_INVALID_ARGUMENT
						      : PAELLA_STATUS_NO_MEMORY,
			"cannot start the dispatcher thread%s: %s",
			rt->config.dispatcher_cpu >= 0 ? " on the CPU dispatcher_cpu names" : "",
			strerror(rc));
	rt->thread_started = true;
	return PAELLA_STATUS_OK;
}

static void free_runtime(struct paella_runtime *rt);

PAELLA_EXPORT enum paella_status
paella_runtime_create(const struct paella_config *config, struct paella_runtime **out)
{
	struct paella_runtime *rt;
	struct paella_config defaults;
	enum paella_status st;

	if (out == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
					 "paella_runtime_create: out is NULL");
	*out = NULL;
	if (config == NULL) {
		paella_config_init(&defaults);
		config = &defaults;
	}
	st = check_config(config);
	if (st != PAELLA_STATUS_OK)
		return st;
	rt = calloc(1, sizeof(*rt));
	if (rt == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "paella_runtime_create: out of memory");
	rt->config = *config;
	if (config->sim_card != NULL) {
		rt->sim_card = strdup(config->sim_card);
		if (rt->sim_card == NULL) {
			free(rt);
			return paella__error_set(PAELLA_STATUS_NO_MEMORY,
						 "paella_runtime_create: out of memory");
		}
	}
	rt->config.sim_card = rt->sim_card;
	pthread_mutex_init(&rt->submit_lock, NULL);
	pthread_cond_init(&rt->wake, NULL);
	pthread_mutex_init(&rt->run_lock, NULL);
	pthread_mutex_init(&rt->registry_lock, NULL);
	paella__list_init(&rt->incoming);
	paella__list_init(&rt->direct_jobs);
	paella__list_init(&rt->direct_streams);
	paella__list_init(&rt->modules);
	paella__list_init(&rt->models);

	st = make_backend(rt);
	if (st != PAELLA_STATUS_OK)
		goto err;
	st = rt->backend->ops->bind_thread(rt->backend);
	if (st != PAELLA_STATUS_OK)
		goto err;
	st = paella__dispatcher_create(rt, &rt->dispatcher);
	if (st != PAELLA_STATUS_OK)
		goto err;
	rt->accepting = true;
	if (config->dispatch_mode == PAELLA_DISPATCH_THREAD) {
		st = start_thread(rt);
		if (st != PAELLA_STATUS_OK)
			goto err;
	}
	paella__log_info("runtime on %s (%s, %u SMs), policy %d, %u streams",
			 rt->backend->ops->name, rt->backend->device.name,
			 rt->backend->device.sm_count, (int)config->policy, config->streams);
	*out = rt;
	return PAELLA_STATUS_OK;

err:
	rt->accepting = false;
	free_runtime(rt);
	return st;
}

PAELLA_EXPORT enum paella_status
paella_runtime_shutdown(struct paella_runtime *rt)
{
	if (rt == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
					 "paella_runtime_shutdown: rt is NULL");
	pthread_mutex_lock(&rt->submit_lock);
	rt->accepting = false;
	rt->stopping = true;
	pthread_cond_signal(&rt->wake);
	pthread_mutex_unlock(&rt->submit_lock);

	if (rt->config.dispatch_mode == PAELLA_DISPATCH_THREAD) {
		if (rt->thread_started)
			pthread_join(rt->thread, NULL);
		rt->thread_started = false;
	} else if (rt->dispatcher != NULL) {
		pthread_mutex_lock(&rt->run_lock);
		paella__dispatcher_run(rt->dispatcher, UINT64_MAX, NULL, true);
		pthread_mutex_unlock(&rt->run_lock);
	}
	return PAELLA_STATUS_OK;
}

static void
free_runtime(struct paella_runtime *rt)
{
	struct paella__list *node, *tmp;

	paella__direct_free_streams(rt);
	PAELLA__LIST_FOREACH_SAFE(node, tmp, &rt->models) {
		paella__list_unlink(node);
		paella__model_free(PAELLA__CONTAINER_OF(node, struct paella_model, link));
	}
	PAELLA__LIST_FOREACH_SAFE(node, tmp, &rt->modules) {
		paella__list_unlink(node);
		paella__module_free(PAELLA__CONTAINER_OF(node, struct paella_module, link));
	}
	paella__dispatcher_destroy(rt->dispatcher);
	if (rt->backend != NULL)
		rt->backend->ops->destroy(rt->backend);
	pthread_mutex_destroy(&rt->registry_lock);
	pthread_mutex_destroy(&rt->run_lock);
	pthread_cond_destroy(&rt->wake);
	pthread_mutex_destroy(&rt->submit_lock);
	free(rt->sim_card);
	free(rt);
}

PAELLA_EXPORT void
paella_runtime_destroy(struct paella_runtime *rt)
{
	if (rt == NULL)
		return;
	paella_runtime_shutdown(rt);
	free_runtime(rt);
}

PAELLA_EXPORT const char *
paella_runtime_backend_name(const struct paella_runtime *rt)
{
	return rt != NULL ? rt->backend->ops->name : "none";
}

PAELLA_EXPORT uint64_t
paella_runtime_now_ns(const struct paella_runtime *rt)
{
	return rt != NULL ? rt->backend->ops->now_ns(rt->backend) : 0;
}

static enum paella_status
run_manual(struct paella_runtime *rt, const char *fn, uint64_t until_ns, bool until_idle)
{
	enum paella_status st;

	if (rt == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT, "%s: rt is NULL", fn);
	if (rt->config.dispatch_mode != PAELLA_DISPATCH_MANUAL)
		return paella__error_set(PAELLA_STATUS_UNSUPPORTED,
			"%s: the runtime has its own dispatcher thread; create it with "
			"dispatch_mode PAELLA_DISPATCH_MANUAL to run the dispatcher yourself", fn);
	pthread_mutex_lock(&rt->run_lock);
	st = paella__dispatcher_run(rt->dispatcher, until_ns, NULL, until_idle);
	pthread_mutex_unlock(&rt->run_lock);
	return st;
}

PAELLA_EXPORT enum paella_status
paella_runtime_run_until(struct paella_runtime *rt, uint64_t t_ns)
{
	return run_manual(rt, "paella_runtime_run_until", t_ns, false);
}

PAELLA_EXPORT enum paella_status
paella_runtime_run_until_idle(struct paella_runtime *rt)
{
	return run_manual(rt, "paella_runtime_run_until_idle", UINT64_MAX, true);
}

PAELLA_EXPORT enum paella_status
paella_runtime_stats(struct paella_runtime *rt, struct paella_runtime_stats *out)
{
	if (rt == NULL || out == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_runtime_stats: %s is NULL", rt == NULL ? "rt" : "out");
	memset(out, 0, sizeof(*out));
	paella__dispatcher_stats(rt->dispatcher, out);
	out->jobs_submitted = __atomic_load_n(&rt->jobs_submitted, __ATOMIC_RELAXED);
	return PAELLA_STATUS_OK;
}

bool
paella__runtime_take_incoming(struct paella_runtime *rt, struct paella__list *into)
{
	paella__list_init(into);
	/* The spinning dispatcher checks without the lock first. */
	if (!__atomic_load_n(&rt->has_incoming, __ATOMIC_ACQUIRE))
		return false;
	pthread_mutex_lock(&rt->submit_lock);
	paella__list_splice(into, &rt->incoming);
	__atomic_store_n(&rt->has_incoming, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&rt->submit_lock);
	return !paella__list_empty(into);
}
