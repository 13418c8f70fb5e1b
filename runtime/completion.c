/*
 * completion.c - the completion kernel: the signal that a kernel has ended,
 * stored by a one-warp kernel that follows it rather than by the stream's
 * write-value.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "completion.h"
#include "log.h"
#include "util.h"

/*
 * The completion kernels: launched after a kernel with programmatic stream
 * serialization, they may start as the kernel's last blocks exit, wait in
 * griddepcontrol.wait until the kernel has completed and its memory is
 * visible to them, and store the launch's number into the host-mapped word.
 * PTX, compiled by the driver when first needed.
 *  - paella_completion: a release store at system scope, so that a CPU
 *    that sees the word also sees everything the kernel wrote, host-mapped
 *    memory included: for the kernel that ends a job.
 *  - paella_completion_hint: a relaxed store, for a kernel that something
 *    else in its stream follows (stream order keeps the data dependencies;
 *    the word only tells the dispatcher the GPU has room).  The release's
 *    system-scope fence costs about 0.5 us of completion latency on the H200
 *    (benchmarks/results/notify-latency.md).
 */
#define COMPLETION_ENTRY(name, store)                                              \
	".visible .entry " name "(.param .u64 p, .param .u32 v)\n"                 \
	"{\n"                                                                     \
	"	.reg .b64 %rd<2>;\n"                                                 \
	"	.reg .b32 %r<2>;\n"                                                  \
	"	griddepcontrol.wait;\n"                                              \
	"	ld.param.u64 %rd1, [p];\n"                                           \
	"	ld.param.u32 %r1, [v];\n"                                            \
	"	" store ".sys.global.u32 [%rd1], %r1;\n"                             \
	"	ret;\n"                                                              \
	"}\n"

static const char done_ptx[] =
	".version 8.0\n"
	".target sm_90\n"
	".address_size 64\n"
	COMPLETION_ENTRY("paella_completion", "st.release")
	COMPLETION_ENTRY("paella_completion_hint", "st.relaxed");

/* Decides how completions after kernels are signalled; ck->ptx.lock held. */
static void
decide(struct paella__completion_kernels *ck)
{
	const struct paella__cu *cu = ck->ptx.cu;
	CUresult rc;

	ck->ptx.tried = true;
	ck->kind = PAELLA__COMPLETION_WRITE_VALUE;
	if (cu->cuLaunchKernelEx == NULL) {
		paella__log_info("completion by write-value: the driver lacks cuLaunchKernelEx");
		return;
	}
	rc = cu->cuModuleLoadData(&ck->ptx.module, done_ptx);
	if (rc != CUDA_SUCCESS) {
		/* Before sm_90, or a fake driver: the write-value serves. */
		paella__log_info("completion by write-value: the completion kernel does not "
				 "load here (%s)", paella__cu_error_name(cu, rc));
		ck->ptx.module = NULL;
		return;
	}
	rc = cu->cuModuleGetFunction(&ck->done_fn, ck->ptx.module, "paella_completion");
	if (rc == CUDA_SUCCESS)
		rc = cu->cuModuleGetFunction(&ck->hint_fn, ck->ptx.module, "paella_completion_hint");
	if (rc != CUDA_SUCCESS) {
		paella__log_warn("completion by write-value: %s", paella__cu_error_name(cu, rc));
		cu->cuModuleUnload(ck->ptx.module);
		ck->ptx.module = NULL;
		return;
	}
	ck->kind = PAELLA__COMPLETION_KERNEL;
}

enum paella__completion
paella__completion_kind(struct paella__completion_kernels *ck)
{
	enum paella__completion c;

	pthread_mutex_lock(&ck->ptx.lock);
	if (!ck->ptx.tried)
		decide(ck);
	c = ck->kind;
	pthread_mutex_unlock(&ck->ptx.lock);
	return c;
}

enum paella_status
paella__completion_enqueue(struct paella__completion_kernels *ck,
			   struct paella__notify_record *rec, CUstream stream, bool hint)
{
	const struct paella__cu *cu = ck->ptx.cu;
	CUlaunchAttribute attr;
	CUlaunchConfig cfg;
	struct paella__notify_store done = paella__notify_done_store(rec);
	void *params[2] = { &done.word, &done.seq };
	CUresult rc;

	if (paella__completion_kind(ck) != PAELLA__COMPLETION_KERNEL)
		return paella__notify_enqueue_completion(rec, stream);
	memset(&attr, 0, sizeof(attr));
	memset(&cfg, 0, sizeof(cfg));
	attr.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
	attr.value.programmaticStreamSerializationAllowed = 1;
	cfg.gridDimX = cfg.gridDimY = cfg.gridDimZ = 1;
	cfg.blockDimX = 32;
	cfg.blockDimY = cfg.blockDimZ = 1;
	cfg.hStream = stream;
	cfg.attrs = &attr;
	cfg.numAttrs = 1;
	rc = cu->cuLaunchKernelEx(&cfg, hint ? ck->hint_fn : ck->done_fn, params, NULL);
	if (rc == CUDA_SUCCESS)
		return PAELLA_STATUS_OK;
	/* Whatever refused it (a stream being captured, say), the write-value
	 * still signals this launch. */
	paella__log_info("completion kernel refused (%s): write-value instead",
			 paella__cu_error_name(cu, rc));
	return paella__notify_enqueue_completion(rec, stream);
}
