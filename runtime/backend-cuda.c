/*
 * backend-cuda.c - the real GPU, through the driver boundary
 * (cuda-driver.c) and launch records (notify.c).
 *
 * One primary context of one device, made current in every thread that
 * calls in; a pool of non-blocking streams; modules and their kernels,
 * device memory and occupancy here, the work that goes onto the streams in
 * cuda-ops.c.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backend-cuda.h"
#include "cuda-driver.h"
#include "log.h"
#include "paella/instrument-abi.h"
#include "util.h"

/* Spins per advance(): about a microsecond, under the 1.1 us a
 * notification takes to arrive. */
#define ADVANCE_SPINS 8

struct cuda_module {
	CUmodule mod;
	/* Kernels looked up so far: a model step keeps a pointer to one. */
	pthread_mutex_t lock;
	struct paella__cuda_kernel *kernels;
};

static uint64_t
cuda_now_ns(struct paella__backend *b)
{
	return paella__monotonic_ns();
}

/* Reads module global @name into a malloc'd buffer of its size plus a NUL;
 * NULL without error when the module has none. */
static enum paella_status
read_global(struct paella__cuda *c, CUmodule mod, const char *name, char **out, size_t *len)
{
	enum paella_status st = PAELLA_STATUS_OK;
	CUdeviceptr dptr;
	size_t bytes = 0;
	CUresult rc;
	char *buf;

	*out = NULL;
	*len = 0;
	rc = c->cu->cuModuleGetGlobal(&dptr, &bytes, mod, name);
	if (rc == CUDA_ERROR_NOT_FOUND)
		return PAELLA_STATUS_OK;
	if (rc != CUDA_SUCCESS)
		return paella__cu_fail(c->cu, rc, "cuModuleGetGlobal(__paella_*)", __FILE__, __LINE__);
	buf = calloc(1, bytes + 1);
	if (buf == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "reading %s: out of memory", name);
	PAELLA_CU_CHECK_GOTO(c->cu, cuMemcpyDtoH(buf, dptr, bytes), st, err);
	*out = buf;
	*len = bytes;
	return PAELLA_STATUS_OK;
err:
	free(buf);
	return st;
}

static enum paella_status
cuda_module_load_image(struct paella__backend *b, const void *image, size_t bytes,
		       void **module, unsigned *abi_version, char **manifest)
{
	struct paella__cuda *c = paella__cuda_of(b);
	enum paella_status st;
	struct cuda_module *m;
	char *abi = NULL;
	size_t len;

	*module = NULL;
	*abi_version = 0;
	*manifest = NULL;
	st = paella__cuda_bind_thread(b);
	if (st != PAELLA_STATUS_OK)
		return st;
	PAELLA__NEW_OR_RETURN(m, "module: out of memory");
	pthread_mutex_init(&m->lock, NULL);
	PAELLA_CU_CHECK_GOTO(c->cu, cuModuleLoadData(&m->mod, image), st, err);

	st = read_global(c, m->mod, PAELLA_ABI_VERSION_SYMBOL, &abi, &len);
	if (st != PAELLA_STATUS_OK)
		goto err_unload;
	if (abi != NULL) {
		uint32_t v = 0;

		memcpy(&v, abi, len < sizeof(v) ? len : sizeof(v));
		free(abi);
		/* Version 0 would read as "no ABI": a module claiming it is
		 * as wrong as any other mismatch. */
		*abi_version = v != 0 ? v : UINT32_MAX;
		st = read_global(c, m->mod, PAELLA_MANIFEST_SYMBOL, manifest, &len);
		if (st != PAELLA_STATUS_OK)
			goto err_unload;
	}
	*module = m;
	return PAELLA_STATUS_OK;

err_unload:
	c->cu->cuModuleUnload(m->mod);
err:
	pthread_mutex_destroy(&m->lock);
	free(m);
	return st;
}

static enum paella_status
cuda_module_load_sim(struct paella__backend *b, const struct paella_sim_module *desc,
		     void **module)
{
	return paella__error_set(PAELLA_STATUS_UNSUPPORTED,
		"the cuda backend runs device images: load one with paella_module_load_file() "
		"or _image(), or create the runtime with the sim backend for simulated modules");
}

static void
cuda_module_unload(struct paella__backend *b, void *module)
{
	struct paella__cuda *c = paella__cuda_of(b);
	struct cuda_module *m = module;

	while (m->kernels != NULL) {
		struct paella__cuda_kernel *k = m->kernels;

		m->kernels = k->next;
		pthread_mutex_destroy(&k->marker_lock);
		free(k->name);
		free(k);
	}
	paella__cuda_bind_thread(b);
	/* An external module (model capture) loaded nothing itself. */
	if (m->mod != NULL)
		c->cu->cuModuleUnload(m->mod);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static enum paella_status
func_attr(struct paella__cuda *c, CUfunction fn, CUfunction_attribute attr, unsigned *out)
{
	enum paella_status st = PAELLA_STATUS_OK;
	int v = 0;

	PAELLA_CU_CHECK_GOTO(c->cu, cuFuncGetAttribute(&v, attr, fn), st, out);
	*out = v > 0 ? (unsigned)v : 0;
out:
	return st;
}

static enum paella_status
kernel_attrs(struct paella__cuda *c, CUfunction fn, struct paella__kernel_attrs *attrs)
{
	enum paella_status st;

	st = func_attr(c, fn, CU_FUNC_ATTRIBUTE_NUM_REGS, &attrs->regs_per_thread);
	if (st == PAELLA_STATUS_OK)
		st = func_attr(c, fn, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, &attrs->static_smem);
	if (st == PAELLA_STATUS_OK)
		st = func_attr(c, fn, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK,
			       &attrs->max_threads_per_block);
	return st;
}

/* The module's entry for @fn, made on first use; NULL when out of memory. */
static struct paella__cuda_kernel *
module_kernel(struct cuda_module *m, CUfunction fn, const char *name)
{
	struct paella__cuda_kernel *k;

	pthread_mutex_lock(&m->lock);
	for (k = m->kernels; k != NULL; k = k->next)
		if (k->fn == fn)
			break;
	if (k == NULL && (k = calloc(1, sizeof(*k))) != NULL) {
		k->fn = fn;
		k->name = strdup(name);
		if (k->name == NULL) {
			free(k);
			k = NULL;
		} else {
			pthread_mutex_init(&k->marker_lock, NULL);
			k->next = m->kernels;
			m->kernels = k;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return k;
}

static enum paella_status
cuda_kernel_get(struct paella__backend *b, void *module, const char *name,
		struct paella__bkernel **out, struct paella__kernel_attrs *attrs)
{
	struct paella__cuda *c = paella__cuda_of(b);
	struct cuda_module *m = module;
	enum paella_status st = PAELLA_STATUS_OK;
	struct paella__cuda_kernel *k;
	CUfunction fn;
	CUresult rc;

	st = paella__cuda_bind_thread(b);
	if (st != PAELLA_STATUS_OK)
		return st;
	rc = c->cu->cuModuleGetFunction(&fn, m->mod, name);
	if (rc == CUDA_ERROR_NOT_FOUND)
		return PAELLA_STATUS_NOT_FOUND;
	if (rc != CUDA_SUCCESS)
		return paella__cu_fail(c->cu, rc, "cuModuleGetFunction", __FILE__, __LINE__);
	st = kernel_attrs(c, fn, attrs);
	if (st != PAELLA_STATUS_OK)
		return st;

	k = module_kernel(m, fn, name);
	if (k == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "kernel %s: out of memory", name);
	*out = (struct paella__bkernel *)k;
	return PAELLA_STATUS_OK;
}

static enum paella_status
cuda_module_external(struct paella__backend *b, void **module)
{
	struct paella__cuda *c = paella__cuda_of(b);
	struct cuda_module *m;

	*module = NULL;
	if (c->cu->cuFuncGetParamInfo == NULL)
		return paella__error_set(PAELLA_STATUS_UNSUPPORTED,
			"model capture needs cuFuncGetParamInfo (CUDA driver 12.4 or newer) to "
			"read a kernel's argument sizes, and the driver %s (version %d) lacks it: "
			"update the driver, or build the model with paella_model_add_kernel()",
			c->cu->path, c->cu->driver_version);
	PAELLA__NEW_OR_RETURN(m, "module: out of memory");
	pthread_mutex_init(&m->lock, NULL);
	*module = m;
	return PAELLA_STATUS_OK;
}

static enum paella_status
cuda_kernel_wrap(struct paella__backend *b, void *module, void *function, const char *name,
		 struct paella__bkernel **out, struct paella__kernel_attrs *attrs,
		 size_t *sizes, unsigned max, unsigned *nparams)
{
	struct paella__cuda *c = paella__cuda_of(b);
	struct cuda_module *m = module;
	CUfunction fn = function;
	enum paella_status st;
	struct paella__cuda_kernel *k;
	unsigned n = 0;

	*out = NULL;
	*nparams = 0;
	st = paella__cuda_bind_thread(b);
	if (st != PAELLA_STATUS_OK)
		return st;
	st = kernel_attrs(c, fn, attrs);
	if (st != PAELLA_STATUS_OK)
		return st;
	/* The driver answers for each parameter the kernel has, and fails
	 * past the last. */
	for (;;) {
		size_t offset = 0, size = 0;

		if (c->cu->cuFuncGetParamInfo(fn, n, &offset, &size) != CUDA_SUCCESS)
			break;
		if (n >= max)
			return paella__error_set(PAELLA_STATUS_UNSUPPORTED,
				"kernel %s has more than %u parameters", name, max);
		sizes[n++] = size;
	}

	k = module_kernel(m, fn, name);
	if (k == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "kernel %s: out of memory", name);
	*out = (struct paella__bkernel *)k;
	*nparams = n;
	return PAELLA_STATUS_OK;
}

static enum paella_status
cuda_occupancy(struct paella__backend *b, struct paella__bkernel *kernel,
	       unsigned block_threads, unsigned dynamic_smem, unsigned *blocks_per_sm)
{
	struct paella__cuda *c = paella__cuda_of(b);
	struct paella__cuda_kernel *k = (struct paella__cuda_kernel *)kernel;
	enum paella_status st;
	int n = 0;

	*blocks_per_sm = 0;
	st = paella__cuda_bind_thread(b);
	if (st != PAELLA_STATUS_OK)
		return st;
	/* Above 48 KiB a kernel must opt in, for launches and for the
	 * occupancy API alike. */
	if (dynamic_smem > 48u * 1024u)
		PAELLA_CU_CHECK_GOTO(c->cu, cuFuncSetAttribute(k->fn,
				     CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
				     (int)dynamic_smem), st, out);
	PAELLA_CU_CHECK_GOTO(c->cu, cuOccupancyMaxActiveBlocksPerMultiprocessor(&n, k->fn,
			     (int)block_threads, dynamic_smem), st, out);
	*blocks_per_sm = n > 0 ? (unsigned)n : 0;
out:
	return st;
}

static enum paella_status
cuda_mem_alloc(struct paella__backend *b, size_t bytes, uint64_t *dptr)
{
	struct paella__cuda *c = paella__cuda_of(b);
	enum paella_status st;
	size_t words = (bytes + 3) / 4;
	CUdeviceptr p = 0;

	*dptr = 0;
	st = paella__cuda_bind_thread(b);
	if (st != PAELLA_STATUS_OK)
		return st;
	PAELLA_CU_CHECK_GOTO(c->cu, cuMemAlloc(&p, words * 4), st, out);
	/* Zeroed, as the simulator's: a kernel profiled at finalize reads
	 * job buffers no input filled. */
	PAELLA_CU_CHECK_GOTO(c->cu, cuMemsetD32(p, 0, words), st, err);
	*dptr = p;
	return PAELLA_STATUS_OK;
err:
	c->cu->cuMemFree(p);
out:
	return st;
}

static void
cuda_mem_free(struct paella__backend *b, uint64_t dptr)
{
	struct paella__cuda *c = paella__cuda_of(b);

	if (dptr == 0)
		return;
	paella__cuda_bind_thread(b);
	c->cu->cuMemFree(dptr);
}

static enum paella_status
cuda_mem_write(struct paella__backend *b, uint64_t dptr, const void *src, size_t bytes)
{
	struct paella__cuda *c = paella__cuda_of(b);
	enum paella_status st = paella__cuda_bind_thread(b);

	if (st != PAELLA_STATUS_OK)
		return st;
	PAELLA_CU_CHECK_GOTO(c->cu, cuMemcpyHtoD(dptr, src, bytes), st, out);
	/* From pageable memory cuMemcpyHtoD may return before the data is on
	 * the device, and the pool's streams are non-blocking: they would not
	 * wait for it.  A write is synchronous for its caller, so finish it. */
	PAELLA_CU_CHECK_GOTO(c->cu, cuCtxSynchronize(), st, out);
out:
	return st;
}

static enum paella_status
cuda_mem_read(struct paella__backend *b, void *dst, uint64_t dptr, size_t bytes)
{
	struct paella__cuda *c = paella__cuda_of(b);
	enum paella_status st = paella__cuda_bind_thread(b);

	if (st != PAELLA_STATUS_OK)
		return st;
	PAELLA_CU_CHECK_GOTO(c->cu, cuMemcpyDtoH(dst, dptr, bytes), st, out);
out:
	return st;
}

static bool
cuda_tail_marker_ok(struct paella__backend *b, struct paella__bkernel *kernel,
		    unsigned block_threads, unsigned dynamic_smem)
{
	struct paella__cuda *c = paella__cuda_of(b);
	struct paella__marker_launch m;

	if (c->marker_streams == NULL || paella__cuda_bind_thread(b) != PAELLA_STATUS_OK)
		return false;
	return paella__cuda_marker_for(c, (struct paella__cuda_kernel *)kernel, block_threads,
				       dynamic_smem, &m);
}

static void
cuda_advance(struct paella__backend *b, uint64_t until_ns)
{
	/* Notifications land in host memory with no call needed: spin. */
	for (int i = 0; i < ADVANCE_SPINS; i++)
		paella__cpu_relax();
	(void)until_ns;
}

static void
cuda_destroy(struct paella__backend *b)
{
	struct paella__cuda *c = paella__cuda_of(b);

	if (c == NULL)
		return;
	if (c->ctx != NULL)
		c->cu->cuCtxSetCurrent(c->ctx);
	paella__launcher_destroy(c->launcher);
	paella__cuda_free_ops(c);
	if (c->streams != NULL)
		for (unsigned i = 0; i < c->base.nstreams + PAELLA__MAX_DIRECT_STREAMS; i++)
			if (c->streams[i] != NULL)
				c->cu->cuStreamDestroy(c->streams[i]);
	free(c->streams);
	if (c->marker_streams != NULL)
		for (unsigned i = 0; i < c->base.nstreams; i++)
			if (c->marker_streams[i] != NULL)
				c->cu->cuStreamDestroy(c->marker_streams[i]);
	free(c->marker_streams);
	free(c->stream_issued);
	free(c->stream_seen);
	if (c->profile_stream != NULL)
		c->cu->cuStreamDestroy(c->profile_stream);
	if (c->ctx_retained)
		c->cu->cuDevicePrimaryCtxRelease(c->dev);
	pthread_mutex_destroy(&c->profile_lock);
	paella__cu_close(c->cu);
	free(c);
}

static const struct paella__backend_ops cuda_ops = {
	.name = "cuda",
	PAELLA__BACKEND_OPS(cuda, paella__cuda),
	/* What only the GPU has. */
	.module_external = cuda_module_external,
	.kernel_wrap = cuda_kernel_wrap,
	.tail_marker_ok = cuda_tail_marker_ok,
};

static enum paella_status
device_attr(struct paella__cuda *c, CUdevice_attribute attr, unsigned *out)
{
	enum paella_status st = PAELLA_STATUS_OK;
	int v = 0;

	PAELLA_CU_CHECK_GOTO(c->cu, cuDeviceGetAttribute(&v, attr, c->dev), st, out);
	*out = v > 0 ? (unsigned)v : 0;
out:
	return st;
}

static enum paella_status
read_device(struct paella__cuda *c)
{
	struct paella__device_info *d = &c->base.device;
	static const struct {
		CUdevice_attribute attr;
		size_t offset;
	} attrs[] = {
#define A(a, field) { a, offsetof(struct paella__device_info, field) }
		A(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, sm_count),
		A(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR, sm.max_threads),
		A(CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR, sm.max_regs),
		A(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR, sm.max_smem),
		A(CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR, sm.max_blocks),
		A(CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK, sm.smem_reserved_per_block),
		A(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, max_threads_per_block),
		A(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, max_smem_per_block),
#undef A
	};
	enum paella_status st = PAELLA_STATUS_OK;

	PAELLA_CU_CHECK_GOTO(c->cu, cuDeviceGetName(d->name, sizeof(d->name), c->dev), st, out);
	for (size_t i = 0; i < PAELLA__ARRAY_SIZE(attrs); i++) {
		st = device_attr(c, attrs[i].attr, (unsigned *)((char *)d + attrs[i].offset));
		if (st != PAELLA_STATUS_OK)
			return st;
	}
	d->sm.reg_alloc_unit = 256;
	d->sm.max_regs_per_thread = 255;
	d->sm.max_threads_per_block = d->max_threads_per_block;
	d->sm.max_smem_per_block = d->max_smem_per_block;
	if (d->sm_count == 0)
		return paella__error_set(PAELLA_STATUS_NO_DEVICE,
					 "device %s reports no multiprocessors", d->name);
out:
	return st;
}

/*
 * The job streams, non-blocking: the legacy default stream of a program
 * sharing the primary context must not serialise our jobs.  With tail
 * markers, each gets the highest priority and a partner stream of the
 * lowest for its markers: the block scheduler then starts a marker only
 * when no block of our kernels is waiting for room.
 */
static enum paella_status
create_streams(struct paella__cuda *c, unsigned n, bool want_markers)
{
	enum paella_status st = PAELLA_STATUS_OK;
	int least = 0, greatest = 0;
	bool markers = want_markers && c->cu->cuCtxGetStreamPriorityRange != NULL &&
		       c->cu->cuStreamCreateWithPriority != NULL &&
		       c->cu->cuCtxGetStreamPriorityRange(&least, &greatest) == CUDA_SUCCESS &&
		       least != greatest;

	if (markers && (c->marker_streams = calloc(n, sizeof(*c->marker_streams))) == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "cuda backend: out of memory");
	for (unsigned i = 0; i < n; i++) {
		if (!markers) {
			PAELLA_CU_CHECK_GOTO(c->cu, cuStreamCreate(&c->streams[i],
					     CU_STREAM_NON_BLOCKING), st, out);
			continue;
		}
		PAELLA_CU_CHECK_GOTO(c->cu, cuStreamCreateWithPriority(&c->streams[i],
				     CU_STREAM_NON_BLOCKING, greatest), st, out);
		PAELLA_CU_CHECK_GOTO(c->cu, cuStreamCreateWithPriority(&c->marker_streams[i],
				     CU_STREAM_NON_BLOCKING, least), st, out);
	}
	if (markers)
		paella__log_info("cuda: tail markers on (job streams at priority %d, markers at %d)",
				 greatest, least);
out:
	return st;
}

enum paella_status
paella__backend_cuda_create(const struct paella__backend_params *p, struct paella__backend **out)
{
	enum paella_status st;
	struct paella__cuda *c;
	int count = 0;

	*out = NULL;
	PAELLA__NEW_OR_RETURN(c, "cuda backend: out of memory");
	c->base.ops = &cuda_ops;
	c->base.nstreams = p->nstreams;
	pthread_mutex_init(&c->profile_lock, NULL);
	st = paella__cu_open(&c->cu);
	if (st != PAELLA_STATUS_OK) {
		pthread_mutex_destroy(&c->profile_lock);
		free(c);
		return st;
	}
	PAELLA_CU_CHECK_GOTO(c->cu, cuDeviceGetCount(&count), st, err);
	if (p->device < 0 || p->device >= count) {
		st = paella__error_set(PAELLA_STATUS_NO_DEVICE,
			"CUDA device %d asked for, but the driver sees %d device%s",
			p->device, count, count == 1 ? "" : "s");
		goto err;
	}
	PAELLA_CU_CHECK_GOTO(c->cu, cuDeviceGet(&c->dev, p->device), st, err);
	st = read_device(c);
	if (st != PAELLA_STATUS_OK)
		goto err;
	PAELLA_CU_CHECK_GOTO(c->cu, cuDevicePrimaryCtxRetain(&c->ctx, c->dev), st, err);
	c->ctx_retained = true;
	PAELLA_CU_CHECK_GOTO(c->cu, cuCtxSetCurrent(c->ctx), st, err);
	c->streams = calloc(p->nstreams + PAELLA__MAX_DIRECT_STREAMS, sizeof(*c->streams));
	if (c->streams == NULL) {
		st = paella__error_set(PAELLA_STATUS_NO_MEMORY, "cuda backend: out of memory");
		goto err;
	}
	c->stream_issued = calloc(p->nstreams + PAELLA__MAX_DIRECT_STREAMS,
				  sizeof(*c->stream_issued));
	c->stream_seen = calloc(p->nstreams + PAELLA__MAX_DIRECT_STREAMS, sizeof(*c->stream_seen));
	if (c->stream_issued == NULL || c->stream_seen == NULL) {
		st = paella__error_set(PAELLA_STATUS_NO_MEMORY, "cuda backend: out of memory");
		goto err;
	}
	st = create_streams(c, p->nstreams, p->tail_markers);
	if (st != PAELLA_STATUS_OK)
		goto err;
	PAELLA_CU_CHECK_GOTO(c->cu, cuStreamCreate(&c->profile_stream, CU_STREAM_NON_BLOCKING),
			     st, err);
	st = paella__launcher_create(c->cu, &c->launcher);
	if (st != PAELLA_STATUS_OK)
		goto err;
	paella__log_info("cuda: %s, %u SMs, driver %d", c->base.device.name,
			 c->base.device.sm_count, c->cu->driver_version);
	*out = &c->base;
	return PAELLA_STATUS_OK;
err:
	cuda_destroy(&c->base);
	return st;
}
