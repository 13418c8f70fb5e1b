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

#include "capture.h"
#include "config.h"
#include "direct.h"
#include "dispatcher.h"
#include "log.h"
#include "model.h"
#include "module.h"
#include "runtime-state.h"
#include "util.h"


PAELLA_EXPORT const char *
paella_last_error(void)
{
	return paella__error_last();
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
	rc = pthread_create(&rt->thread, &attr, paella__dispatcher_thread, rt->dispatcher);
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
	st = paella__config_check(config);
	if (st != PAELLA_STATUS_OK)
		return st;
	PAELLA__NEW_OR_RETURN(rt, "paella_runtime_create: out of memory");
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
	pthread_mutex_init(&rt->run_lock, NULL);
	pthread_mutex_init(&rt->registry_lock, NULL);
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
	paella__dispatcher_set_extra_poll(rt->dispatcher, paella__direct_poll);
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
	free_runtime(rt);
	return st;
}

PAELLA_EXPORT enum paella_status
paella_runtime_shutdown(struct paella_runtime *rt)
{
	if (rt == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
					 "paella_runtime_shutdown: rt is NULL");
	if (paella__dispatcher_on_this_thread())
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_runtime_shutdown: called from a job's callback: the dispatcher "
			"would wait for itself");
	paella__dispatcher_stop(rt->dispatcher);

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
		struct paella_model *m = PAELLA__CONTAINER_OF(node, struct paella_model, link);

		/* A capture left open: its thread's state goes too. */
		paella__capture_free(m);
		paella__model_free(m);
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
	free(rt->sim_card);
	free(rt);
}

PAELLA_EXPORT void
paella_runtime_destroy(struct paella_runtime *rt)
{
	if (rt == NULL)
		return;
	if (paella_runtime_shutdown(rt) != PAELLA_STATUS_OK) {
		/* From a callback: freeing would pull the runtime from under
		 * the dispatcher running it; better a leak than a crash. */
		paella__log_error("paella_runtime_destroy: %s; nothing freed", paella__error_last());
		return;
	}
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
	if (paella__dispatcher_on_this_thread())
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: called from a job's callback, while the dispatcher runs", fn);
	if (!until_idle && until_ns == UINT64_MAX)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: UINT64_MAX never comes: run until a time, or until idle with "
			"paella_runtime_run_until_idle()", fn);
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
	PAELLA__OUT_ARGS_OR_RETURN(rt, "rt", out);
	paella__dispatcher_stats(rt->dispatcher, out);
	out->jobs_submitted = __atomic_load_n(&rt->jobs_submitted, __ATOMIC_RELAXED);
	return PAELLA_STATUS_OK;
}
