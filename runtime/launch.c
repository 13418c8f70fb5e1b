/*
 * launch.c - how a kernel goes out on the GPU (launch.h).
 */
#include <stdlib.h>

#include "launch.h"
#include "log.h"
#include "util.h"

struct paella__launcher {
	const struct paella__cu *cu;
	struct paella__notify_pool *pool;
	struct paella__completion_kernels completion;
	struct paella__markers markers;
};

enum paella_status
paella__launcher_create(const struct paella__cu *cu, struct paella__launcher **out)
{
	struct paella__launcher *lc;
	enum paella_status st;

	*out = NULL;
	PAELLA__NEW_OR_RETURN(lc, "launcher: out of memory");
	st = paella__notify_pool_create(cu, &lc->pool);
	if (st != PAELLA_STATUS_OK) {
		free(lc);
		return st;
	}
	lc->cu = cu;
	/* Their kernels load on first use: nothing more can fail here. */
	paella__ptx_module_init(&lc->completion.ptx, cu);
	paella__ptx_module_init(&lc->markers.ptx, cu);
	*out = lc;
	return PAELLA_STATUS_OK;
}

void
paella__launcher_destroy(struct paella__launcher *lc)
{
	if (lc == NULL)
		return;
	paella__notify_pool_destroy(lc->pool);
	paella__ptx_module_fini(&lc->completion.ptx);
	paella__ptx_module_fini(&lc->markers.ptx);
	free(lc);
}

struct paella__notify_pool *
paella__launcher_pool(struct paella__launcher *lc)
{
	return lc->pool;
}

struct paella__markers *
paella__launcher_markers(struct paella__launcher *lc)
{
	return &lc->markers;
}

struct paella__completion_kernels *
paella__launcher_completion(struct paella__launcher *lc)
{
	return &lc->completion;
}

bool
paella__launch_instrumented(const struct paella__launch *l)
{
	return l->code == PAELLA__CODE_BUILT && l->mode != PAELLA__NOTIFY_NONE;
}

static uint64_t
grid_blocks(const struct paella__launch *l)
{
	return (uint64_t)l->grid[0] * l->grid[1] * l->grid[2];
}

enum paella_status
paella__launch_record(struct paella__launcher *lc, const struct paella__launch *l,
		      struct paella__notify_record **out)
{
	enum paella__notify_mode mode = l->code == PAELLA__CODE_MARKED ? PAELLA__NOTIFY_MARKER
					: l->code == PAELLA__CODE_PLAIN ? PAELLA__NOTIFY_NONE
									: l->mode;

	return paella__notify_acquire(lc->pool, grid_blocks(l), mode, l->wave_blocks, out);
}

static enum paella_status
enqueue_signal(struct paella__launcher *lc, const struct paella__launch *l,
       struct paella__notify_record *rec, CUstream stream)
{
	switch (l->signal) {
	case PAELLA__SIGNAL_WRITE_VALUE:
		return paella__notify_enqueue_completion(rec, stream);
	case PAELLA__SIGNAL_KERNEL:
	case PAELLA__SIGNAL_KERNEL_HINT:
		return paella__completion_enqueue(&lc->completion, rec, stream,
						  l->signal == PAELLA__SIGNAL_KERNEL_HINT);
	case PAELLA__SIGNAL_NONE:
		break;
	}
	return PAELLA_STATUS_OK;
}

static enum paella_status
launch_kernel(const struct paella__cu *cu, const struct paella__launch *l, CUfunction fn,
	      CUstream stream)
{
	CUresult rc = cu->cuLaunchKernel(fn, l->grid[0], l->grid[1], l->grid[2], l->block[0],
					 l->block[1], l->block[2], l->smem, stream, l->params,
					 NULL);

	if (rc == CUDA_SUCCESS)
		return PAELLA_STATUS_OK;
	if (l->launch_error != NULL)
		*l->launch_error = rc;
	return paella__cu_fail(cu, rc, "cuLaunchKernel", __FILE__, __LINE__);
}

enum paella_status
paella__launch(struct paella__launcher *lc, const struct paella__launch *l, CUstream stream,
	       struct paella__notify_record **rec_out)
{
	const struct paella__cu *cu = lc->cu;
	struct paella__notify_record *rec = l->record;
	CUfunction fn = l->code == PAELLA__CODE_BUILT ? l->fn : l->plain;
	enum paella_status st = PAELLA_STATUS_OK;

	if (rec_out != NULL)
		*rec_out = NULL;
	PAELLA__ASSERT(fn != NULL);
	if (l->untracked) {
		static const uint64_t inert = PAELLA_INERT_RECORD;

		PAELLA__ASSERT(l->code != PAELLA__CODE_MARKED && rec == NULL);
		if (paella__launch_instrumented(l)) {
			PAELLA__ASSERT(l->mode == PAELLA__NOTIFY_SAMPLE);
			l->params[l->nparams] = (void *)&inert;
		}
		st = launch_kernel(cu, l, fn, stream);
		if (st != PAELLA_STATUS_OK)
			goto out;
		if (l->after_kernel != NULL)
			PAELLA_CU_CHECK_GOTO(cu, cuEventRecord(l->after_kernel, stream), st, out);
		return PAELLA_STATUS_OK;
	}
	PAELLA__ASSERT(rec != NULL || rec_out != NULL);
	if (rec == NULL) {
		st = paella__launch_record(lc, l, &rec);
		if (st != PAELLA_STATUS_OK)
			return st;
	}
	if (paella__launch_instrumented(l))
		l->params[l->nparams] = (void *)paella__notify_kernel_param(rec);
	st = launch_kernel(cu, l, fn, stream);
	if (st != PAELLA_STATUS_OK)
		goto err_cancel;
	if (l->after_kernel != NULL)
		PAELLA_CU_CHECK_GOTO(cu, cuEventRecord(l->after_kernel, stream), st, err_launched);
	st = enqueue_signal(lc, l, rec, stream);
	if (st != PAELLA_STATUS_OK)
		goto err_launched;
	if (rec_out != NULL)
		*rec_out = rec;
	return PAELLA_STATUS_OK;

err_launched:
	/* The kernel runs but nothing will say when it ends: wait for it so
	 * that the record can be reused safely. */
	cu->cuStreamSynchronize(stream);
	if (l->record == NULL) {
		paella__notify_set_done(rec);
		paella__notify_release(rec);
	}
	return st;
err_cancel:
	if (l->record == NULL)
		paella__notify_cancel(rec);
out:
	return st;
}
