/*
 * exec.h - a small executor of zoo plans on a GPU, through the runtime's
 * driver boundary (cuda-driver.h): until the runtime has models of its own,
 * this is how the GPU checks and benchmarks run the zoo.
 *
 *	pzoo__exec_create(cu, "build/kernels/zoo", instrumented, &ex);
 *	pzoo__instance_create(ex, plan, blob, &inst);   weights uploaded
 *	cuMemcpyHtoDAsync(pzoo__instance_input(inst), ..., stream);
 *	pzoo__instance_run(inst, stream);               every launch enqueued
 *	pzoo__instance_wait(inst, stream);              synchronized
 *	cuMemcpyDtoH(..., pzoo__instance_output(inst), ...);
 *
 * Copy the input on the stream the launches go to: a plain cuMemcpyHtoD
 * runs on the legacy default stream, which a CU_STREAM_NON_BLOCKING stream
 * does not wait for, and returns before a pageable copy has landed.
 *
 * The executor loads the layer images (<dir>/<image>.cubin, instrumented, or
 * <image>.noinst.cubin) and checks them: an instrumented image must carry
 * this runtime's ABI version and list each kernel with the parameter count
 * the plan binds.  An instrumented launch gets a launch record from the
 * runtime's notification pool and a completion write after it, as the
 * dispatcher will do.  The calling thread must have the context current.
 */
#ifndef PAELLA_ZOO_EXEC_H
#define PAELLA_ZOO_EXEC_H

#include <stdbool.h>

#include "cuda-driver.h"
#include "paella/zoo.h"

struct pzoo__exec;
struct pzoo__instance;

enum paella_status
pzoo__exec_create(const struct paella__cu *cu, const char *image_dir, bool instrumented,
			struct pzoo__exec **out);

void
pzoo__exec_destroy(struct pzoo__exec *ex);

/* Uploads @blob (plan->param_floats floats), allocates and zeroes the
 * activation arena, resolves every launch's kernel and arguments, and waits
 * for the uploads: the instance is ready for launches on any stream.  @plan
 * must outlive the instance. */
enum paella_status
pzoo__instance_create(struct pzoo__exec *ex, const struct paella_zoo_plan *plan,
			    const float *blob, struct pzoo__instance **out);

void
pzoo__instance_destroy(struct pzoo__instance *inst);

/* Device addresses of the plan's input and output storages. */
CUdeviceptr
pzoo__instance_input(const struct pzoo__instance *inst);

CUdeviceptr
pzoo__instance_output(const struct pzoo__instance *inst);

/* Device address of storage @storage (for tests that read intermediates). */
CUdeviceptr
pzoo__instance_storage(const struct pzoo__instance *inst, int storage);

/* Enqueues launches [first, last) of the plan on @stream.  Each launch is
 * enqueued at most once between two waits. */
enum paella_status
pzoo__instance_run_range(struct pzoo__instance *inst, CUstream stream,
			       unsigned first, unsigned last);

/* Enqueues every launch on @stream. */
enum paella_status
pzoo__instance_run(struct pzoo__instance *inst, CUstream stream);

/* Synchronizes @stream and returns the launch records to the pool. */
enum paella_status
pzoo__instance_wait(struct pzoo__instance *inst, CUstream stream);

/* Enqueues a kernel that waits @ns nanoseconds on the GPU, so that what is
 * enqueued behind it runs back to back. */
enum paella_status
pzoo__instance_spin(struct pzoo__instance *inst, CUstream stream,
			  unsigned long long ns);

/* Runs the plan once with an event around each launch and stores each
 * launch's GPU time in @ms (plan->nlaunches floats). */
enum paella_status
pzoo__instance_profile(struct pzoo__instance *inst, CUstream stream, float *ms);

#endif /* PAELLA_ZOO_EXEC_H */
