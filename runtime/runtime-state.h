/*
 * runtime-state.h - the runtime object that ties a backend, a dispatcher,
 * and the modules and models loaded into it.  Private.  Fields only: the
 * parts below the public entry points (dispatcher, models, modules,
 * capture, direct mode) read them; runtime.c makes and frees the object,
 * and none of them calls into runtime.c, so no file includes a header of a
 * file that includes its own.
 *
 * Locks (none is ever held while taking another):
 *	run_lock	manual mode: one thread at a time runs the dispatcher.
 *	registry_lock	guards the lists of modules and models.
 * The dispatcher owns its inbox of submitted jobs and that inbox's lock;
 * see dispatcher.c for what it owns without a lock.
 */
#ifndef PAELLA_RUNTIME_STATE_H
#define PAELLA_RUNTIME_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "list.h"
#include "paella/paella.h"

struct paella__dispatcher;

struct paella_runtime {
	struct paella_config config;
	char *sim_card;
	struct paella__backend *backend;
	struct paella__dispatcher *dispatcher;

	/* Atomic. */
	uint64_t jobs_submitted;

	pthread_t thread;
	bool thread_started;
	pthread_mutex_t run_lock;

	pthread_mutex_t registry_lock;
	struct paella__list modules;
	struct paella__list models;
	/* Model capture's module of the program's own kernels (module.c);
	 * NULL until the first capture.  Guarded by registry_lock. */
	struct paella_module *external_module;

	/* Direct mode (direct.c), manual mode's thread only: jobs whose ops
	 * run, and the streams made for them. */
	struct paella__list direct_jobs;
	struct paella__list direct_streams;
};

#endif /* PAELLA_RUNTIME_STATE_H */
