/*
 * exec.h - a small executor of zoo plans on a GPU, through the runtime's
 * driver boundary (cuda-driver.h): until the runtime has models of its own,
 * this is how the GPU checks and benchmarks run the zoo.
 *
 *	paella__zoo_exec_create(cu, "build/kernels/zoo", instrumented, &ex);
 *	paella__zoo_instance_create(ex, plan, blob, &inst);   weights uploaded
 *	cuMemcpyHtoDAsync(paella__zoo_instance_input(inst), ..., stream);
 *	paella__zoo_instance_run(inst, stream);               every launch enqueued
 *	paella__zoo_instance_wait(inst, stream);              synchronized
 *	cuMemcpyDtoH(..., paella__zoo_instance_output(inst), ...);
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
#include "zoo.h"

struct paella__zoo_exec;
struct paella__zoo_instance;

enum paella_status
paella__zoo_exec_create(const struct paella__cu *cu, const char *image_dir, bool instrumented,
			struct paella__zoo_exec **out);

void
paella__zoo_exec_destroy(struct paella__zoo_exec *ex);

/* Uploads @blob (plan->param_floats floats), allocates and zeroes the
 * activation arena, resolves every launch's kernel and arguments, and waits
 * for the uploads: the instance is ready for launches on any stream.  @plan
 * must outlive the instance. */
enum paella_status
paella__zoo_instance_create(struct paella__zoo_exec *ex, const struct paella__zoo_plan *plan,
			    const float *blob, struct paella__zoo_instance **out);

void
paella__zoo_instance_destroy(struct paella__zoo_instance *inst);

/* Device addresses of the plan's input and output storages. */
CUdeviceptr
paella__zoo_instance_input(const struct paella__zoo_instance *inst);

CUdeviceptr
paella__zoo_instance_output(const struct paella__zoo_instance *inst);

/* Device address of storage @storage (for tests that read intermediates). */
CUdeviceptr
paella__zoo_instance_storage(const struct paella__zoo_instance *inst, int storage);

/* Enqueues launches [first, last) of the plan on @stream.  Each launch is
 * enqueued at most once between two waits. */
enum paella_status
paella__zoo_instance_run_range(struct paella__zoo_instance *inst, CUstream stream,
			       unsigned first, unsigned last);

/* Enqueues every launch on @stream. */
enum paella_status
paella__zoo_instance_run(struct paella__zoo_instance *inst, CUstream stream);

/* Synchronizes @stream and returns the launch records to the pool. */
enum paella_status
paella__zoo_instance_wait(struct paella__zoo_instance *inst, CUstream stream);

/* Enqueues a kernel that waits @ns nanoseconds on the GPU, so that what is
 * enqueued behind it runs back to back. */
enum paella_status
paella__zoo_instance_spin(struct paella__zoo_instance *inst, CUstream stream,
			  unsigned long long ns);

/* Runs the plan once with an event around each launch and stores each
 * launch's GPU time in @ms (plan->nlaunches floats). */
enum paella_status
paella__zoo_instance_profile(struct paella__zoo_instance *inst, CUstream stream, float *ms);

#endif /* PAELLA_ZOO_EXEC_H */
