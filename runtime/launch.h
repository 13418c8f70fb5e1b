/*
 * launch.h - how a kernel goes out on the GPU: the one place that takes a
 * launch record, passes it to the kernel as its last argument, launches,
 * and arranges the completion signal.  Private.
 *
 * The CUDA backend (its launches, profiles and graphs), transparent mode,
 * the benchmarks and the GPU tests all launch through paella__launch().
 * Which code runs is the caller's paella__launch_code (launch-rule.h
 * decides it once per step); the signal is the caller's too.
 *
 *	paella__launcher_create(cu, &lc);
 *	struct paella__launch l = { .fn = f, .mode = PAELLA__NOTIFY_SAMPLE, ... };
 *	paella__launch(lc, &l, stream, &rec);
 *	while (!paella__notify_done(rec))
 *		...;
 *	paella__notify_release(rec);
 *
 * A PAELLA__CODE_MARKED launch returns a marker-mode record; its tail
 * marker goes out later, once the kernel heads its stream
 * (paella__marker_enqueue() with paella__launcher_markers()).
 */
#ifndef PAELLA_LAUNCH_H
#define PAELLA_LAUNCH_H

#include <stdbool.h>
#include <stdint.h>

#include <cuda.h>

#include "completion.h"
#include "cuda-driver.h"
#include "launch-rule.h"
#include "marker.h"
#include "notify.h"

/* How the launch's completion is signalled. */
enum paella__signal {
	/* The stream's write-value: after any operation. */
	PAELLA__SIGNAL_WRITE_VALUE,
	/* The completion kernel (completion.h) where there is one, else the
	 * write-value: a release store, for a kernel that ends a job ... */
	PAELLA__SIGNAL_KERNEL,
	/* ... or a relaxed one, for a kernel that something stream-ordered
	 * follows. */
	PAELLA__SIGNAL_KERNEL_HINT,
	/* None: the caller signals, or never needs to (a graph's kernels). */
	PAELLA__SIGNAL_NONE,
};

struct paella__launch {
	/* The kernel as built, and how it reports (PAELLA__NOTIFY_NONE: the
	 * pass left it alone). */
	CUfunction fn;
	enum paella__notify_mode mode;
	/* Its plain copy: needed by PAELLA__CODE_PLAIN and _MARKED. */
	CUfunction plain;
	enum paella__launch_code code;
	unsigned grid[3];
	unsigned block[3];
	unsigned smem;
	/* nparams + 1 entries: the record's address goes in params[nparams]
	 * when the code runs is instrumented. */
	void **params;
	unsigned nparams;
	/* Blocks of the kernel one wave holds (0: unknown): a sample-mode
	 * launch's interval, a marker's progress. */
	uint64_t wave_blocks;
	/* No record and no signal (direct mode: a later op of the stream says
	 * when it got past this one; a launch captured into a program's graph,
	 * which may replay it any number of times).  Instrumented code then
	 * gets a record that reports nothing: sample mode only. */
	bool untracked;
	enum paella__signal signal;
	/* Benchmarks: an event to record between the kernel and its signal, so
	 * that it times the kernel alone; NULL: none. */
	CUevent after_kernel;
	/* A record taken beforehand with paella__launch_record() (a graph's
	 * capture may not make one, nor a benchmark between timed launches);
	 * NULL: the launch takes its own. */
	struct paella__notify_record *record;
	/* Where the driver's refusal of the launch goes, if it refuses (for a
	 * caller that passes the driver's code on); NULL: nowhere. */
	CUresult *launch_error;
};

/* The launches' record pool, completion kernel and tail markers, of one
 * context. */
struct paella__launcher;

/* Makes no driver call. */
enum paella_status
paella__launcher_create(const struct paella__cu *cu, struct paella__launcher **out);

/* Every record must have been released. */
void
paella__launcher_destroy(struct paella__launcher *lc);

/* Completion-only records for operations other than kernels (copies,
 * graph launches), which the stream's write-value signals. */
struct paella__notify_pool *
paella__launcher_pool(struct paella__launcher *lc);

struct paella__markers *
paella__launcher_markers(struct paella__launcher *lc);

struct paella__completion_kernels *
paella__launcher_completion(struct paella__launcher *lc);

/* Whether @l's code is instrumented and so needs a record even when the
 * caller wants nothing of it. */
bool
paella__launch_instrumented(const struct paella__launch *l);

/* Takes the record @l needs: marker mode for PAELLA__CODE_MARKED,
 * completion-only for plain code, else the kernel's mode. */
enum paella_status
paella__launch_record(struct paella__launcher *lc, const struct paella__launch *l,
		      struct paella__notify_record **out);

/*
 * Launches @l on @stream: takes its record (unless untracked or given),
 * passes it to instrumented code, launches, records @l->after_kernel and
 * enqueues the signal.  *@rec (may be NULL for an untracked launch) gets
 * the record, the caller's to poll and release.  On failure nothing is left
 * in use: a record given is given back too; a signal that failed after the
 * launch is waited for (the stream synchronized) first.
 */
enum paella_status
paella__launch(struct paella__launcher *lc, const struct paella__launch *l, CUstream stream,
	       struct paella__notify_record **rec);

#endif /* PAELLA_LAUNCH_H */
