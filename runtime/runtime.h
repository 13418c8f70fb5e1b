/*
 * runtime.h - the runtime object that ties a backend, a dispatcher, and the
 * modules and models loaded into it.  Private.
 *
 * Locks (none is ever held while taking another):
 *	submit_lock	guards the incoming jobs, accepting/stopping/sleeping;
 *			`wake` signals the sleeping dispatcher thread.
 *	run_lock	manual mode: one thread at a time runs the dispatcher.
 *	registry_lock	guards the lists of modules and models.
 * See dispatcher.c for what the dispatcher owns without a lock.
 */
#ifndef PAELLA_RUNTIME_H
#define PAELLA_RUNTIME_H

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

	pthread_mutex_t submit_lock;
	pthread_cond_t wake;
	struct paella__list incoming;
	/* Read without the lock by the spinning dispatcher (atomic). */
	unsigned has_incoming;
	bool accepting;
	bool stopping;
	bool sleeping;
	uint64_t next_seq;
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

/* The dispatcher thread, or a manual-mode caller, takes the incoming jobs:
 * moves them to @into and returns whether there were any. */
bool
paella__runtime_take_incoming(struct paella_runtime *rt, struct paella__list *into);

#endif /* PAELLA_RUNTIME_H */
