/*
 * launch-rule.c - which code of a kernel a launch runs (launch-rule.h).
 */
#include "launch-rule.h"
#include "notify.h"

void
paella__launch_rule(const struct paella__launch_rule_in *in, bool (*marker_fits)(void *ctx),
		    void *ctx, struct paella__launch_codes *out)
{
	bool plain = in->has_plain && in->instrumented && !in->counted && in->plain_copies;
	/* A grid in which the rule picks no block (little more than a wave)
	 * reports nothing: its plain copy runs instead and completes the same
	 * way; progress reads 0 until completion either way. */
	bool alone = plain && (in->progress == PAELLA_PROGRESS_NONE ||
			       paella__notify_use_plain_copy(in->nblocks, in->wave_blocks));
	/* A grid of more than a wave runs its plain copy too, with a tail
	 * marker for progress, where the backend has one that fits its
	 * blocks: the marker costs the kernel nothing measurable, the sampled
	 * reports 1 to 6% (benchmarks/results/overhead.md). */
	bool marked = plain && in->progress == PAELLA_PROGRESS_MARKERS &&
		      paella__notify_use_tail_marker(in->nblocks, in->wave_blocks) &&
		      marker_fits != NULL && marker_fits(ctx);

	out->code[PAELLA__WANT_PROGRESS] = marked  ? PAELLA__CODE_MARKED
					   : alone ? PAELLA__CODE_PLAIN
						   : PAELLA__CODE_BUILT;
	/* The dispatcher reads a graph run's completion only, never its
	 * kernels' progress: their reports would tell nobody anything. */
	out->code[PAELLA__WANT_COMPLETION] = plain ? PAELLA__CODE_PLAIN : PAELLA__CODE_BUILT;
	out->code[PAELLA__WANT_NOTHING] = in->has_plain ? PAELLA__CODE_PLAIN : PAELLA__CODE_BUILT;
}
