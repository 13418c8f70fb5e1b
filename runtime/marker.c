/*
 * marker.c - tail markers: a one-block kernel on a lower-priority stream
 * that the block scheduler starts only once a plain kernel has no block
 * left to place, so that its start says the kernel's last wave runs.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "marker.h"
#include "util.h"

/* Tail-marker variants: the live values each keeps (ptxas adds about 8
 * registers of its own: 32, 48, 64, 96, 128, 168 and 254 on sm_90). */
static const unsigned marker_live[] = { 24, 40, 56, 88, 120, 160, 246 };
_Static_assert(PAELLA__ARRAY_SIZE(marker_live) == PAELLA__MARKER_VARIANTS,
	       "marker.h's PAELLA__MARKER_VARIANTS counts the variants");

bool
paella__marker_choose_shape(unsigned kthreads, unsigned kregs, const unsigned *variant_regs,
			    const unsigned *variant_max_threads, unsigned nvariants,
			    struct paella__marker_shape *out)
{
	uint64_t kwarps = ((uint64_t)kthreads + 31) / 32;
	uint64_t kunits = ((uint64_t)kregs + PAELLA_MARKER_REG_UNIT - 1) / PAELLA_MARKER_REG_UNIT;
	uint64_t need = kwarps * (kunits ? kunits : 1);
	uint64_t best_cost = UINT64_MAX, best_warps = 0;
	bool found = false;

	if (kthreads == 0)
		return false;
	for (unsigned i = 0; i < nvariants; i++) {
		uint64_t units = (variant_regs[i] + PAELLA_MARKER_REG_UNIT - 1) /
				 PAELLA_MARKER_REG_UNIT;
		uint64_t warps, cost;

		if (units == 0)
			continue;
		/* Enough warps for the block's threads and register file. */
		warps = (need + units - 1) / units;
		if (warps < kwarps)
			warps = kwarps;
		if (warps * 32 > variant_max_threads[i])
			continue;
		cost = warps * units;
		if (!found || cost < best_cost || (cost == best_cost && warps < best_warps)) {
			found = true;
			best_cost = cost;
			best_warps = warps;
			out->variant = i;
			out->threads = (unsigned)(warps * 32);
		}
	}
	return found;
}

/*
 * The tail markers, PTX made here: thread 0 stores the launch's number
 * (relaxed, system scope: a hint, no fence) into the record's marker word.
 * Behind a branch never taken (the last parameter is always 0), each variant
 * loads N values with volatile loads and stores them back in reverse, which
 * keeps N registers live, so that ptxas gives the marker at least N + a few
 * registers per thread: that is its register-file footprint.
 */
#define MARKER_PTX_BYTES 65536

static size_t
marker_ptx_entry(char *buf, size_t cap, size_t at, unsigned live)
{
#define PUT(...) at += (size_t)snprintf(buf + at, at < cap ? cap - at : 0, __VA_ARGS__)
	PUT(".visible .entry paella_tail_marker_r%u(.param .u64 word, .param .u32 seq, "
	    ".param .u64 never)\n{\n", live);
	PUT("\t.reg .pred %%p<3>;\n\t.reg .b32 %%r<%u>;\n\t.reg .b64 %%rd<3>;\n", live + 3);
	PUT("\tmov.u32 %%r1, %%tid.x;\n\tsetp.ne.u32 %%p1, %%r1, 0;\n\t@%%p1 bra SKIP;\n");
	PUT("\tld.param.u64 %%rd1, [word];\n\tld.param.u32 %%r2, [seq];\n");
	PUT("\tst.relaxed.sys.global.u32 [%%rd1], %%r2;\nSKIP:\n");
	PUT("\tld.param.u64 %%rd2, [never];\n\tsetp.eq.u64 %%p2, %%rd2, 0;\n\t@%%p2 bra END;\n");
	for (unsigned i = 0; i < live; i++)
		PUT("\tld.volatile.global.u32 %%r%u, [%%rd2+%u];\n", i + 3, 4 * i);
	for (unsigned i = 0; i < live; i++)
		PUT("\tst.volatile.global.u32 [%%rd2+%u], %%r%u;\n", 4 * i, live + 2 - i);
	PUT("END:\n\tret;\n}\n");
#undef PUT
	return at;
}

/* Loads the marker variants; mk->ptx.lock held. */
static void
load(struct paella__markers *mk)
{
	const struct paella__cu *cu = mk->ptx.cu;
	char *ptx = malloc(MARKER_PTX_BYTES);
	size_t at;
	CUresult rc;

	mk->ptx.tried = true;
	if (ptx == NULL)
		return;
	at = (size_t)snprintf(ptx, MARKER_PTX_BYTES,
			      ".version 8.0\n.target sm_90\n.address_size 64\n");
	for (unsigned i = 0; i < PAELLA__MARKER_VARIANTS; i++)
		at = marker_ptx_entry(ptx, MARKER_PTX_BYTES, at, marker_live[i]);
	if (at >= MARKER_PTX_BYTES) {
		paella__log_warn("tail markers: PTX too long (%zu bytes)", at);
		free(ptx);
		return;
	}
	rc = cu->cuModuleLoadData(&mk->ptx.module, ptx);
	free(ptx);
	if (rc != CUDA_SUCCESS) {
		paella__log_info("no tail markers: they do not load here (%s)",
				 paella__cu_error_name(cu, rc));
		mk->ptx.module = NULL;
		return;
	}
	for (unsigned i = 0; i < PAELLA__MARKER_VARIANTS; i++) {
		char name[64];
		CUfunction fn;
		int regs = 0, max_threads = 0;

		snprintf(name, sizeof(name), "paella_tail_marker_r%u", marker_live[i]);
		rc = cu->cuModuleGetFunction(&fn, mk->ptx.module, name);
		if (rc == CUDA_SUCCESS)
			rc = cu->cuFuncGetAttribute(&regs, CU_FUNC_ATTRIBUTE_NUM_REGS, fn);
		/* The registers bound the block: 254 of them allow 256 threads. */
		if (rc == CUDA_SUCCESS)
			rc = cu->cuFuncGetAttribute(&max_threads,
						    CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, fn);
		if (rc != CUDA_SUCCESS || regs <= 0 || max_threads <= 0) {
			paella__log_warn("tail marker %s: %s", name, paella__cu_error_name(cu, rc));
			continue;
		}
		/* Taken as measured: the JIT decides, not the name. */
		mk->fn[mk->nmarkers] = fn;
		mk->regs[mk->nmarkers] = (unsigned)regs;
		mk->max_threads[mk->nmarkers] = (unsigned)max_threads;
		mk->nmarkers++;
	}
	paella__log_debug("tail markers: %u variants loaded", mk->nmarkers);
}

enum paella_status
paella__marker_plan(struct paella__markers *mk, unsigned kthreads, unsigned kregs,
			   unsigned ksmem, struct paella__marker_launch *out)
{
	const struct paella__cu *cu = mk->ptx.cu;
	struct paella__marker_shape shape;
	enum paella_status st = PAELLA_STATUS_OK;
	CUresult rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&mk->ptx.lock);
	if (!mk->ptx.tried)
		load(mk);
	if (mk->nmarkers == 0) {
		st = paella__error_set(PAELLA_STATUS_UNSUPPORTED,
				       "tail markers are not available on this device");
		goto out;
	}
	if (!paella__marker_choose_shape(kthreads, kregs, mk->regs,
					 mk->max_threads, mk->nmarkers, &shape)) {
		st = paella__error_set(PAELLA_STATUS_UNSUPPORTED,
			"no tail marker covers a block of %u threads of %u registers", kthreads,
			kregs);
		goto out;
	}
	out->fn = mk->fn[shape.variant];
	out->threads = shape.threads;
	out->smem = ksmem;
	/* Above 48 KiB a kernel must opt in; the attribute only raises a
	 * limit, so setting it for each plan is harmless. */
	if (ksmem > 48u * 1024u && cu->cuFuncSetAttribute != NULL) {
		rc = cu->cuFuncSetAttribute(out->fn,
					    CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
					    (int)ksmem);
		if (rc != CUDA_SUCCESS)
			st = paella__error_set(PAELLA_STATUS_UNSUPPORTED,
				"tail marker with %u bytes of shared memory: %s", ksmem,
				paella__cu_error_name(cu, rc));
	}
out:
	pthread_mutex_unlock(&mk->ptx.lock);
	return st;
}

enum paella_status
paella__marker_plan_function(struct paella__markers *mk, CUfunction f,
				    unsigned kthreads, unsigned dsmem,
				    struct paella__marker_launch *out)
{
	const struct paella__cu *cu = mk->ptx.cu;
	enum paella_status st = PAELLA_STATUS_OK;
	int regs = 0, ssmem = 0;

	memset(out, 0, sizeof(*out));
	PAELLA_CU_CHECK_GOTO(cu, cuFuncGetAttribute(&regs, CU_FUNC_ATTRIBUTE_NUM_REGS, f), st, out);
	PAELLA_CU_CHECK_GOTO(cu, cuFuncGetAttribute(&ssmem, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, f),
			     st, out);
	st = paella__marker_plan(mk, kthreads, regs > 0 ? (unsigned)regs : 0,
					(ssmem > 0 ? (unsigned)ssmem : 0) + dsmem, out);
out:
	return st;
}

enum paella_status
paella__marker_enqueue(struct paella__markers *mk, struct paella__notify_record *rec,
		       CUstream stream, const struct paella__marker_launch *m)
{
	const struct paella__cu *cu = mk->ptx.cu;
	struct paella__notify_store marker = paella__notify_marker_store(rec);
	CUdeviceptr never = 0;
	void *params[3] = { &marker.word, &marker.seq, &never };
	enum paella_status status = PAELLA_STATUS_OK;

	PAELLA_CU_CHECK_GOTO(cu, cuLaunchKernel(m->fn, 1, 1, 1, m->threads, 1, 1, m->smem,
			     stream, params, NULL), status, out);
out:
	return status;
}
