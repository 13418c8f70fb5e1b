/*
 * launch-rule.h - which code of a kernel a launch runs: the kernel as
 * built, its plain copy, or its plain copy with a tail marker.  Private.
 *
 * Decided once per model step, when the backend plans the step's launches
 * (backend.h, plan_launch), for each thing a caller may want of a launch;
 * the dispatcher's hot path only looks the answer up.  Pure: no driver
 * call, so both backends, the benchmarks and the unit tests share it.
 */
#ifndef PAELLA_LAUNCH_RULE_H
#define PAELLA_LAUNCH_RULE_H

#include <stdbool.h>
#include <stdint.h>

#include "paella/paella.h"

enum paella__launch_code {
	/* The kernel as compiled: instrumented, or left alone by the pass. */
	PAELLA__CODE_BUILT,
	/* Its plain copy (manifest 3), no code of Paella's in it. */
	PAELLA__CODE_PLAIN,
	/* Its plain copy, with a tail marker (marker.h) for progress. */
	PAELLA__CODE_MARKED,
};

/* What the caller wants to know of a launch. */
enum paella__launch_want {
	/* Its progress as it runs: the dispatcher's kernel-by-kernel launches
	 * and profiles. */
	PAELLA__WANT_PROGRESS,
	/* Only its completion: a graph's kernels, whose run is seen whole. */
	PAELLA__WANT_COMPLETION,
	/* Nothing of its own: direct mode, where stream order covers it. */
	PAELLA__WANT_NOTHING,
	PAELLA__WANTS
};

struct paella__launch_rule_in {
	/* The kernel as built: instrumented, in count mode. */
	bool instrumented;
	bool counted;
	/* It has a plain copy. */
	bool has_plain;
	uint64_t nblocks;
	/* Blocks of it one wave of the GPU holds (0: unknown). */
	uint64_t wave_blocks;
	/* paella_config.progress and .plain_copies. */
	enum paella_progress progress;
	bool plain_copies;
};

/* The code a launch runs, by what its caller wants. */
struct paella__launch_codes {
	enum paella__launch_code code[PAELLA__WANTS];
};

/*
 * The rule.  A sample-mode kernel with a plain copy (and plain copies on)
 * runs the copy where its reports would say nothing: alone, when progress
 * is off or the sampling rule picks no block of its grid; marked, when
 * progress comes from markers, its grid is more than a wave and
 * @marker_fits(@ctx) says the backend has a marker for its blocks (asked
 * only then; NULL: never); and always in a graph.  Direct mode runs any
 * plain copy there is.
 */
void
paella__launch_rule(const struct paella__launch_rule_in *in, bool (*marker_fits)(void *ctx),
		    void *ctx, struct paella__launch_codes *out);

#endif /* PAELLA_LAUNCH_RULE_H */
