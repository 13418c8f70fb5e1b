/*
 * test-cuda-backend.c - the cuda backend and transparent mode on the fake
 * driver (fake-libcuda.c): module images with and without the ABI version
 * and manifest, jobs whose kernels "run" in cuLaunchKernel and report
 * through their launch records, driver failures, and paella_launch_kernel.
 * What only a GPU can show (real kernels, real timing) is the gpu suite's.
 */
#include <check.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cuda.h>

#include "paella/instrument-abi.h"
#include "paella/paella.h"
#include "../check-main.h"

#define IO_BYTES 64u

/* inc adds 1 to n bytes of its buffer and is instrumented; raw is inc left
 * alone by the pass (a "U" line). */
static const char image[] =
	"FAKE-IMAGE\n"
	"abi 2\n"
	"kernel inc 2 2 inc\n"
	"kernel cnt 2 1 inc\n"
	"kernel raw 2 0 inc\n"
	"manifest\n"
	"paella-manifest 2\n"
	"K inc 2 sample\n"
	"K cnt 2 count\n"
	"U raw 2 skip-attribute\n";

/* The same kernel with its plain copy (manifest 3), and a module whose
 * manifest names a copy it lacks. */
static const char image_plain[] =
	"FAKE-IMAGE\n"
	"abi 2\n"
	"kernel inc 2 2 inc\n"
	"kernel inc__paella_plain 2 0 inc\n"
	"manifest\n"
	"paella-manifest 3\n"
	"K inc 2 sample inc__paella_plain\n";
static const char image_plain_missing[] =
	"FAKE-IMAGE\n"
	"abi 2\n"
	"kernel inc 2 2 inc\n"
	"manifest\n"
	"paella-manifest 3\n"
	"K inc 2 sample inc__paella_plain\n";

static void *fake;

static void
use_fake(void)
{
	const char *path = getenv("PAELLA_TEST_FAKE_LIBCUDA");

	ck_assert_msg(path != NULL, "meson sets PAELLA_TEST_FAKE_LIBCUDA");
	setenv("PAELLA_LIBCUDA", path, 1);
	unsetenv("FAKE_CUDA_FAIL");
	unsetenv("FAKE_CUDA_DEFER_WRITES");
	fake = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	ck_assert_ptr_nonnull(fake);
}

/* One of the fake driver's counters, by its exported name. */
static unsigned
fake_counter(const char *symbol)
{
	unsigned (*fn)(void);

	*(void **)&fn = dlsym(fake, symbol);
	ck_assert_ptr_nonnull(fn);
	return fn();
}

static unsigned
fake_launches(void)
{
	return fake_counter("fake_cuda_launches");
}

static unsigned
fake_graph_launches(void)
{
	return fake_counter("fake_cuda_graph_launches");
}

static unsigned
fake_completion_launches(void)
{
	return fake_counter("fake_cuda_completion_launches");
}

static unsigned
fake_completion_hint_launches(void)
{
	return fake_counter("fake_cuda_completion_hint_launches");
}

static struct paella_runtime *
cuda_runtime_config(enum paella_dispatch_mode mode, uint64_t graph_chunk_ns,
		    uint64_t completion_kernel_ns)
{
	struct paella_config c;
	struct paella_runtime *rt = NULL;
	enum paella_status st;

	paella_config_init(&c);
	c.backend = PAELLA_BACKEND_CUDA;
	c.dispatch_mode = mode;
	c.streams = 4;
	c.graph_chunk_ns = graph_chunk_ns;
	c.completion_kernel_ns = completion_kernel_ns;
	st = paella_runtime_create(&c, &rt);
	ck_assert_msg(st == PAELLA_STATUS_OK, "%s", paella_last_error());
	ck_assert_str_eq(paella_runtime_backend_name(rt), "cuda");
	return rt;
}

static struct paella_runtime *
cuda_runtime_graphs(enum paella_dispatch_mode mode, uint64_t graph_chunk_ns)
{
	struct paella_config c;

	paella_config_init(&c);
	return cuda_runtime_config(mode, graph_chunk_ns, c.completion_kernel_ns);
}

static struct paella_runtime *
cuda_runtime(enum paella_dispatch_mode mode)
{
	struct paella_config c;

	paella_config_init(&c);
	return cuda_runtime_graphs(mode, c.graph_chunk_ns);
}

static struct paella_module *
load(struct paella_runtime *rt, const char *text, enum paella_status want)
{
	struct paella_module *mod = NULL;
	enum paella_status st = paella_module_load_image(rt, text, strlen(text), &mod);

	ck_assert_msg(st == want, "load: %s (%s)", paella_status_name(st), paella_last_error());
	return mod;
}

/* A step launching @kernel(buffer @buf, 64) in @blocks blocks of 128
 * threads; @args holds its two arguments. */
static void
io_step(struct paella_kernel_step *s, struct paella_arg args[2], struct paella_module *mod,
	const char *kernel, unsigned buf, unsigned blocks)
{
	static const int len = IO_BYTES;

	args[0] = paella_arg_buffer(buf, 0);
	args[1] = paella_arg_value(&len, sizeof(len));
	memset(s, 0, sizeof(*s));
	s->module = mod;
	s->kernel = kernel;
	s->grid.x = blocks;
	s->grid.y = s->grid.z = 1;
	s->block.x = 128;
	s->block.y = s->block.z = 1;
	s->args = args;
	s->nargs = 2;
}

/* Copy in, n launches of @kernel over the 64 bytes in grids of @blocks
 * blocks of 128 threads, then (@copy_out) copy out. */
static struct paella_model *
chain_io(struct paella_runtime *rt, struct paella_module *mod, const char *kernel, unsigned n,
	 unsigned blocks, bool copy_out)
{
	struct paella_model *m = NULL;
	struct paella_kernel_step s;
	struct paella_arg args[2];
	unsigned buf;

	ck_assert_int_eq(paella_model_create(rt, kernel, &m), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_model_add_buffer(m, PAELLA_BUFFER_JOB, IO_BYTES, &buf),
			 PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_model_add_copy(m, PAELLA_COPY_INPUT, buf, 0, 0, IO_BYTES),
			 PAELLA_STATUS_OK);
	io_step(&s, args, mod, kernel, buf, blocks);
	for (unsigned i = 0; i < n; i++)
		ck_assert_int_eq(paella_model_add_kernel(m, &s), PAELLA_STATUS_OK);
	if (copy_out)
		ck_assert_int_eq(paella_model_add_copy(m, PAELLA_COPY_OUTPUT, buf, 0, 0, IO_BYTES),
				 PAELLA_STATUS_OK);
	ck_assert_msg(paella_model_finalize(m, 2) == PAELLA_STATUS_OK, "%s", paella_last_error());
	return m;
}

static struct paella_model *
chain_blocks(struct paella_runtime *rt, struct paella_module *mod, const char *kernel, unsigned n,
	     unsigned blocks)
{
	return chain_io(rt, mod, kernel, n, blocks, true);
}

/* The same in grids of 300 blocks. */
static struct paella_model *
chain(struct paella_runtime *rt, struct paella_module *mod, const char *kernel, unsigned n)
{
	return chain_blocks(rt, mod, kernel, n, 300);
}

struct req {
	unsigned char in[IO_BYTES];
	unsigned char out[IO_BYTES];
	struct paella_job *job;
	unsigned calls;
	enum paella_status status;
};

static void
on_done(struct paella_job *job, enum paella_status st, void *data)
{
	struct req *r = data;

	__atomic_add_fetch(&r->calls, 1, __ATOMIC_RELAXED);
	r->status = st;
}

static void
submit(struct paella_model *m, struct req *r, unsigned seed)
{
	struct paella_job_desc d;

	for (unsigned i = 0; i < IO_BYTES; i++)
		r->in[i] = (unsigned char)(seed + i);
	memset(r->out, 0, sizeof(r->out));
	r->calls = 0;
	memset(&d, 0, sizeof(d));
	d.input = r->in;
	d.input_bytes = IO_BYTES;
	d.output = r->out;
	d.output_bytes = IO_BYTES;
	d.callback = on_done;
	d.user_data = r;
	ck_assert_int_eq(paella_job_submit(m, &d, &r->job), PAELLA_STATUS_OK);
}

static void
check_incremented(const struct req *r, unsigned times)
{
	for (unsigned i = 0; i < IO_BYTES; i++)
		ck_assert_uint_eq(r->out[i], (unsigned char)(r->in[i] + times));
}

PAELLA_LOOP_TEST(cuda_backend_runs_jobs, 2)
{
	enum paella_dispatch_mode mode = _i ? PAELLA_DISPATCH_MANUAL : PAELLA_DISPATCH_THREAD;
	struct paella_runtime *rt;
	struct paella_module *mod;
	struct paella_model *inc, *raw;
	struct req r[6];
	unsigned before;
	uint64_t est;

	use_fake();
	rt = cuda_runtime(mode);
	mod = load(rt, image, PAELLA_STATUS_OK);
	inc = chain(rt, mod, "inc", 3);
	raw = chain(rt, mod, "raw", 2);
	/* Profiled at finalize: the fake's events tick 10 us per run. */
	ck_assert_int_eq(paella_model_estimate_ns(inc, &est), PAELLA_STATUS_OK);
	ck_assert_uint_eq(est, 3 * 10000);
	before = fake_launches();
	for (unsigned i = 0; i < 6; i++)
		submit(i % 2 ? raw : inc, &r[i], i * 10);
	for (unsigned i = 0; i < 6; i++) {
		ck_assert_int_eq(paella_job_wait(r[i].job, -1), PAELLA_STATUS_OK);
		ck_assert_uint_eq(r[i].calls, 1);
		check_incremented(&r[i], i % 2 ? 2 : 3);
		paella_job_release(r[i].job);
	}
	ck_assert_uint_eq(fake_launches() - before, 3 * 3 + 3 * 2);
	paella_runtime_destroy(rt);
}
END_TEST

/* Runs @n jobs of @m, each adding @times to its input; returns the graph
 * launches they made. */
static unsigned
run_jobs(struct paella_model *m, unsigned n, unsigned times)
{
	unsigned before = fake_graph_launches();
	struct req r;

	for (unsigned i = 0; i < n; i++) {
		submit(m, &r, i * 7);
		ck_assert_int_eq(paella_job_wait(r.job, -1), PAELLA_STATUS_OK);
		check_incremented(&r, times);
		paella_job_release(r.job);
	}
	return fake_graph_launches() - before;
}

PAELLA_TEST(cuda_backend_graph_runs)
{
	struct paella_runtime *rt;
	struct paella_module *mod;
	struct paella_model *m;
	unsigned before;

	use_fake();
	/* Kernels of 10 us (the fake's profile), runs of at most 20 us: five
	 * sample-mode kernels go out as two graphs of two and one kernel. */
	rt = cuda_runtime_graphs(PAELLA_DISPATCH_THREAD, 20000);
	mod = load(rt, image, PAELLA_STATUS_OK);
	m = chain(rt, mod, "inc", 5);
	before = fake_launches();
	ck_assert_uint_eq(run_jobs(m, 4, 5), 4 * 2);
	ck_assert_uint_eq(fake_launches() - before, 4 * 5);
	/* A run's observed time refines its kernels' estimates, as a kernel's
	 * own does (the fair policy counts GPU time with them): four kernels,
	 * two runs of two, every estimate moves off the profiled 10 us. */
	{
		struct paella_model *m4 = chain(rt, mod, "inc", 4);
		uint64_t est = 0;

		ck_assert_int_eq(paella_model_estimate_ns(m4, &est), PAELLA_STATUS_OK);
		ck_assert_uint_eq(est, 4 * 10000);
		ck_assert_uint_eq(run_jobs(m4, 4, 4), 4 * 2);
		ck_assert_int_eq(paella_model_estimate_ns(m4, &est), PAELLA_STATUS_OK);
		ck_assert_uint_ne(est, 4 * 10000);
	}
	/* Uninstrumented kernels too; count-mode kernels never. */
	ck_assert_uint_eq(run_jobs(chain(rt, mod, "raw", 4), 3, 4), 3 * 2);
	ck_assert_uint_eq(run_jobs(chain(rt, mod, "cnt", 4), 3, 4), 0);
	/* Without a driver that captures, kernel by kernel, outputs the same. */
	setenv("FAKE_CUDA_FAIL", "cuStreamBeginCapture", 1);
	m = chain(rt, mod, "inc", 5);
	unsetenv("FAKE_CUDA_FAIL");
	ck_assert_uint_eq(run_jobs(m, 2, 5), 0);
	/* A graph launch the driver refuses fails its job, and only it. */
	m = chain(rt, mod, "inc", 2);
	setenv("FAKE_CUDA_FAIL", "cuGraphLaunch", 1);
	{
		struct req r;

		submit(m, &r, 3);
		ck_assert_int_eq(paella_job_wait(r.job, -1), PAELLA_STATUS_DRIVER_ERROR);
		paella_job_release(r.job);
	}
	unsetenv("FAKE_CUDA_FAIL");
	ck_assert_uint_eq(run_jobs(m, 1, 2), 1);
	paella_runtime_destroy(rt);

	/* graph_chunk_ns 0: no graphs. */
	rt = cuda_runtime_graphs(PAELLA_DISPATCH_THREAD, 0);
	mod = load(rt, image, PAELLA_STATUS_OK);
	ck_assert_uint_eq(run_jobs(chain(rt, mod, "inc", 5), 2, 5), 0);
	paella_runtime_destroy(rt);
}
END_TEST

/* Kernels launched alone whose estimate reaches completion_kernel_ns signal
 * their completion with the completion kernel, where it loads; the others,
 * and every kernel where it does not, by write-value.  Outputs the same. */
PAELLA_TEST(cuda_backend_completion_kernel)
{
	struct paella_runtime *rt;
	struct paella_module *mod;
	unsigned before, launched;

	use_fake();
	setenv("FAKE_CUDA_PTX_COMPLETION", "1", 1);
	/* 0: every kernel launched alone.  (The estimates move with what the
	 * fake's events report, so no threshold between.) */
	rt = cuda_runtime_config(PAELLA_DISPATCH_THREAD, 0, 0);
	mod = load(rt, image, PAELLA_STATUS_OK);
	{
		struct paella_model *inc = chain(rt, mod, "inc", 3), *raw = chain(rt, mod, "raw", 2);

		/* (Profiling at finalize launched kernels too, timed by events.) */
		before = fake_completion_launches();
		launched = fake_launches();
		ck_assert_uint_eq(run_jobs(inc, 4, 3), 0);
		ck_assert_uint_eq(run_jobs(raw, 2, 2), 0);
		launched = fake_launches() - launched;
		ck_assert_uint_eq(launched, 4 * 3 + 2 * 2);
		ck_assert_uint_eq(fake_completion_launches() - before, launched);
	}
	/* Each kernel above is followed by another or by the output copy:
	 * every completion is a hint.  Without the output copy, the last
	 * kernel ends the job, and its completion must carry its writes. */
	{
		struct paella_model *bare = chain_io(rt, mod, "inc", 3, 300, false);
		unsigned hints = fake_completion_hint_launches();
		struct paella_job_desc d;
		struct paella_job *job;
		unsigned char in[IO_BYTES] = {0};

		before = fake_completion_launches();
		memset(&d, 0, sizeof(d));
		d.input = in;
		d.input_bytes = IO_BYTES;
		ck_assert_int_eq(paella_job_submit(bare, &d, &job), PAELLA_STATUS_OK);
		ck_assert_int_eq(paella_job_wait(job, -1), PAELLA_STATUS_OK);
		paella_job_release(job);
		ck_assert_uint_eq(fake_completion_launches() - before, 3);
		ck_assert_uint_eq(fake_completion_hint_launches() - hints, 2);
		hints = fake_completion_hint_launches();
		before = fake_completion_launches();
		ck_assert_uint_eq(run_jobs(chain(rt, mod, "inc", 2), 2, 2), 0);
		ck_assert_uint_eq(fake_completion_launches() - before, 4);
		ck_assert_uint_eq(fake_completion_hint_launches() - hints, 4);
	}
	/* A refused completion kernel falls back to the write-value. */
	setenv("FAKE_CUDA_FAIL", "cuLaunchKernelEx", 1);
	before = fake_completion_launches();
	ck_assert_uint_eq(run_jobs(chain(rt, mod, "inc", 2), 2, 2), 0);
	ck_assert_uint_eq(fake_completion_launches() - before, 0);
	unsetenv("FAKE_CUDA_FAIL");
	paella_runtime_destroy(rt);

	/* UINT64_MAX: none. */
	rt = cuda_runtime_config(PAELLA_DISPATCH_THREAD, 0, UINT64_MAX);
	mod = load(rt, image, PAELLA_STATUS_OK);
	before = fake_completion_launches();
	ck_assert_uint_eq(run_jobs(chain(rt, mod, "inc", 3), 3, 3), 0);
	ck_assert_uint_eq(fake_completion_launches() - before, 0);
	paella_runtime_destroy(rt);

	/* Where the kernel does not load (before sm_90), the write-value. */
	unsetenv("FAKE_CUDA_PTX_COMPLETION");
	rt = cuda_runtime_config(PAELLA_DISPATCH_THREAD, 0, 0);
	mod = load(rt, image, PAELLA_STATUS_OK);
	before = fake_completion_launches();
	ck_assert_uint_eq(run_jobs(chain(rt, mod, "inc", 3), 3, 3), 0);
	ck_assert_uint_eq(fake_completion_launches() - before, 0);
	paella_runtime_destroy(rt);
}
END_TEST

static unsigned
fake_kernel_launches(const char *name)
{
	unsigned (*fn)(const char *);

	*(void **)&fn = dlsym(fake, "fake_cuda_kernel_launches");
	ck_assert_ptr_nonnull(fn);
	return fn(name);
}

/* A sample-mode grid in which the rule picks no block runs the kernel's
 * plain copy; a grid of many waves the instrumented kernel; outputs the
 * same.  A manifest naming a copy the module lacks is refused. */
PAELLA_TEST(cuda_backend_plain_copies)
{
	struct paella_runtime *rt;
	struct paella_module *mod;
	struct paella_model *small, *large;
	unsigned inst, plain;

	use_fake();
	/* The sampled reports, not the default (no progress at all). */
	setenv("PAELLA_PROGRESS", "reports", 1);
	rt = cuda_runtime_graphs(PAELLA_DISPATCH_THREAD, 0);
	mod = load(rt, image_plain, PAELLA_STATUS_OK);
	small = chain_blocks(rt, mod, "inc", 3, 300);
	large = chain_blocks(rt, mod, "inc", 2, 1000000);
	inst = fake_kernel_launches("inc");
	plain = fake_kernel_launches("inc__paella_plain");
	ck_assert_uint_eq(run_jobs(small, 4, 3), 0);
	ck_assert_uint_eq(fake_kernel_launches("inc__paella_plain") - plain, 4 * 3);
	ck_assert_uint_eq(fake_kernel_launches("inc") - inst, 0);
	ck_assert_uint_eq(run_jobs(large, 2, 2), 0);
	ck_assert_uint_eq(fake_kernel_launches("inc") - inst, 2 * 2);
	ck_assert_uint_eq(fake_kernel_launches("inc__paella_plain") - plain, 4 * 3);
	paella_runtime_destroy(rt);

	/* In graph runs, whatever the grid: the dispatcher reads a run's
	 * completion only, so its kernels' reports would go unread. */
	rt = cuda_runtime_graphs(PAELLA_DISPATCH_THREAD, 1000000);
	mod = load(rt, image_plain, PAELLA_STATUS_OK);
	small = chain_blocks(rt, mod, "inc", 3, 300);
	large = chain_blocks(rt, mod, "inc", 2, 1000000);
	inst = fake_kernel_launches("inc");
	plain = fake_kernel_launches("inc__paella_plain");
	ck_assert_uint_gt(run_jobs(small, 2, 3), 0);
	ck_assert_uint_gt(run_jobs(large, 2, 2), 0);
	ck_assert_uint_eq(fake_kernel_launches("inc__paella_plain") - plain, 2 * 3 + 2 * 2);
	ck_assert_uint_eq(fake_kernel_launches("inc") - inst, 0);
	paella_runtime_destroy(rt);

	rt = cuda_runtime_graphs(PAELLA_DISPATCH_THREAD, 0);
	mod = load(rt, image_plain_missing, PAELLA_STATUS_OK);
	{
		struct paella_model *m = NULL;
		struct paella_kernel_step s;
		struct paella_arg args[2];
		unsigned buf;

		ck_assert_int_eq(paella_model_create(rt, "bad", &m), PAELLA_STATUS_OK);
		ck_assert_int_eq(paella_model_add_buffer(m, PAELLA_BUFFER_JOB, IO_BYTES, &buf),
				 PAELLA_STATUS_OK);
		io_step(&s, args, mod, "inc", buf, 1);
		ck_assert_int_eq(paella_model_add_kernel(m, &s), PAELLA_STATUS_INVALID_ARGUMENT);
		ck_assert_msg(strstr(paella_last_error(), "inc__paella_plain") != NULL, "%s",
			      paella_last_error());
		paella_model_destroy(m);
	}
	paella_runtime_destroy(rt);
}
END_TEST

/* With stream priorities and the markers' PTX, a grid of more than a wave
 * runs the plain copy and gets a tail marker (or none, when its kernel was
 * seen done before its turn came); a grid of a wave or less never does. */
PAELLA_TEST(cuda_backend_tail_markers)
{
	struct paella_runtime *rt;
	struct paella_module *mod;
	struct paella_model *small, *large;
	unsigned inst, plain, markers;

	use_fake();
	setenv("FAKE_CUDA_PRIORITIES", "1", 1);
	setenv("FAKE_CUDA_PTX_MARKER", "1", 1);
	setenv("PAELLA_PROGRESS", "markers", 1);
	rt = cuda_runtime_graphs(PAELLA_DISPATCH_THREAD, 0);
	mod = load(rt, image_plain, PAELLA_STATUS_OK);
	small = chain_blocks(rt, mod, "inc", 3, 300);
	large = chain_blocks(rt, mod, "inc", 2, 1000000);
	inst = fake_kernel_launches("inc");
	plain = fake_kernel_launches("inc__paella_plain");
	markers = fake_counter("fake_cuda_marker_launches");
	ck_assert_uint_eq(run_jobs(small, 4, 3), 0);
	ck_assert_uint_eq(fake_counter("fake_cuda_marker_launches"), markers);
	ck_assert_uint_eq(run_jobs(large, 3, 2), 0);
	ck_assert_uint_eq(fake_kernel_launches("inc") - inst, 0);
	ck_assert_uint_eq(fake_kernel_launches("inc__paella_plain") - plain, 4 * 3 + 3 * 2);
	ck_assert_uint_gt(fake_counter("fake_cuda_marker_launches") - markers, 0);
	ck_assert_uint_le(fake_counter("fake_cuda_marker_launches") - markers, 3 * 2);
	/* Shaped like the kernel's block: the fake's kernels have 32
	 * registers, the chain's blocks 128 threads. */
	ck_assert_uint_eq(fake_counter("fake_cuda_marker_last_threads"), 128);
	paella_runtime_destroy(rt);
	unsetenv("FAKE_CUDA_PTX_MARKER");
	unsetenv("FAKE_CUDA_PRIORITIES");
}
END_TEST

PAELLA_TEST(cuda_backend_abi_checks)
{
	struct paella_runtime *rt;
	struct paella_module *mod;
	char path[] = "/tmp/paella-test-XXXXXX";
	const char *mismatch = "FAKE-IMAGE\nabi 7\nkernel inc 2 2 inc\nmanifest\n"
			       "paella-manifest 2\nK inc 2 sample\n";
	int fd;

	use_fake();
	rt = cuda_runtime(PAELLA_DISPATCH_MANUAL);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, mismatch, strlen(mismatch)), (int)strlen(mismatch));
	close(fd);
	ck_assert_int_eq(paella_module_load_file(rt, path, &mod), PAELLA_STATUS_ABI_MISMATCH);
	unlink(path);
	ck_assert_ptr_null(mod);
	ck_assert_msg(strstr(paella_last_error(), path) != NULL &&
		      strstr(paella_last_error(), "version 7") != NULL &&
		      strstr(paella_last_error(), "version 2") != NULL, "%s", paella_last_error());

	/* Has the version, lacks the manifest: not a working paella-cc. */
	load(rt, "FAKE-IMAGE\nabi 2\nkernel inc 2 2 inc\n", PAELLA_STATUS_INVALID_ARGUMENT);
	/* Not built by paella-cc: loads, kernels run uninstrumented with
	 * their argument count unchecked. */
	mod = load(rt, "FAKE-IMAGE\nkernel raw 2 0 inc\n", PAELLA_STATUS_OK);
	{
		struct paella_model *m = chain(rt, mod, "raw", 1);
		struct req r;

		submit(m, &r, 5);
		ck_assert_int_eq(paella_job_wait(r.job, -1), PAELLA_STATUS_OK);
		check_incremented(&r, 1);
		paella_job_release(r.job);
	}
	load(rt, "not an image", PAELLA_STATUS_DRIVER_ERROR);
	ck_assert_msg(strstr(paella_last_error(), "cuModuleLoadData") != NULL, "%s",
		      paella_last_error());
	/* A sentence naming what was loaded, not a C expression and a line. */
	ck_assert_msg(strstr(paella_last_error(), "cannot load module image") != NULL &&
		      strstr(paella_last_error(), ".c:") == NULL, "%s", paella_last_error());
	{
		char bad[] = "/tmp/paella-test-bad-image-XXXXXX";
		int bfd = mkstemp(bad);

		ck_assert_int_ge(bfd, 0);
		ck_assert_int_eq(write(bfd, "not an image", 12), 12);
		close(bfd);
		ck_assert_int_eq(paella_module_load_file(rt, bad, &mod),
				 PAELLA_STATUS_DRIVER_ERROR);
		ck_assert_msg(strstr(paella_last_error(), bad) != NULL, "%s",
			      paella_last_error());
		unlink(bad);
	}
	paella_runtime_destroy(rt);
}
END_TEST

PAELLA_TEST(cuda_backend_bad_input)
{
	struct paella_runtime *rt;
	struct paella_module *mod;
	struct paella_model *m;
	struct paella_sim_module desc = { PAELLA_ABI_VERSION, NULL, NULL, 0 };
	struct paella_kernel_step s;

	use_fake();
	rt = cuda_runtime(PAELLA_DISPATCH_MANUAL);
	ck_assert_int_eq(paella_module_load_sim(rt, &desc, &mod), PAELLA_STATUS_UNSUPPORTED);
	mod = load(rt, image, PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_model_create(rt, "m", &m), PAELLA_STATUS_OK);
	memset(&s, 0, sizeof(s));
	s.module = mod;
	s.kernel = "missing";
	s.grid.x = s.grid.y = s.grid.z = 1;
	s.block.x = s.block.y = s.block.z = 1;
	ck_assert_int_eq(paella_model_add_kernel(m, &s), PAELLA_STATUS_NOT_FOUND);
	ck_assert_msg(strstr(paella_last_error(), "missing") != NULL, "%s", paella_last_error());
	s.kernel = "inc";
	ck_assert_int_eq(paella_model_add_kernel(m, &s), PAELLA_STATUS_INVALID_ARGUMENT);
	paella_runtime_destroy(rt);
}
END_TEST

PAELLA_TEST(cuda_backend_launch_failure_loses_nothing)
{
	struct paella_runtime *rt;
	struct paella_module *mod;
	struct paella_model *m;
	struct req r[4];

	use_fake();
	/* Kernel by kernel (graphs: cuda_backend_graph_runs). */
	rt = cuda_runtime_graphs(PAELLA_DISPATCH_MANUAL, 0);
	mod = load(rt, image, PAELLA_STATUS_OK);
	m = chain(rt, mod, "inc", 2);
	setenv("FAKE_CUDA_FAIL", "cuLaunchKernel", 1);
	for (unsigned i = 0; i < 4; i++)
		submit(m, &r[i], i);
	ck_assert_int_eq(paella_runtime_run_until_idle(rt), PAELLA_STATUS_OK);
	for (unsigned i = 0; i < 4; i++) {
		ck_assert_uint_eq(r[i].calls, 1);
		ck_assert_int_eq(r[i].status, PAELLA_STATUS_DRIVER_ERROR);
		ck_assert_int_eq(paella_job_poll(r[i].job), PAELLA_STATUS_DRIVER_ERROR);
		paella_job_release(r[i].job);
	}
	/* The driver recovers, and so do jobs. */
	unsetenv("FAKE_CUDA_FAIL");
	submit(m, &r[0], 1);
	ck_assert_int_eq(paella_job_wait(r[0].job, -1), PAELLA_STATUS_OK);
	check_incremented(&r[0], 2);
	paella_job_release(r[0].job);
	paella_runtime_destroy(rt);
}
END_TEST

/* ---- transparent mode ---------------------------------------------------- */

static CUfunction stub_function;
static const char stub;
/* Model capture's kernels: host stubs and the functions they stand for. */
static const char stub_inc, stub_add, stub_raw;
static CUfunction inc_function, add_function, raw_function;

/* What the program's CUDA runtime would answer; the test binary exports it
 * (the project builds with -fvisibility=hidden) so that libpaellart finds
 * it as in a program linked with -lcudart. */
__attribute__((visibility("default"))) int
cudaGetFuncBySymbol(CUfunction *fn, const void *symbol);

__attribute__((visibility("default"))) int
cudaGetFuncBySymbol(CUfunction *fn, const void *symbol)
{
	if (symbol == &stub)
		*fn = stub_function;
	else if (symbol == &stub_inc)
		*fn = inc_function;
	else if (symbol == &stub_add)
		*fn = add_function;
	else if (symbol == &stub_raw)
		*fn = raw_function;
	else
		return 98; /* cudaErrorInvalidDeviceFunction */
	return 0;
}

/* The fake driver, with @image's "inc" behind the host stub &stub, as the
 * program's CUDA runtime would have loaded it. */
static void
stub_inc_of(const char *image_text)
{
	CUresult (*load_data)(CUmodule *, const void *);
	CUresult (*get_function)(CUfunction *, CUmodule, const char *);
	CUmodule mod;

	use_fake();
	*(void **)&load_data = dlsym(fake, "cuModuleLoadData");
	*(void **)&get_function = dlsym(fake, "cuModuleGetFunction");
	ck_assert_int_eq(load_data(&mod, image_text), CUDA_SUCCESS);
	ck_assert_int_eq(get_function(&stub_function, mod, "inc"), CUDA_SUCCESS);
}

PAELLA_TEST(transparent_launch_adds_the_record)
{
	unsigned char buf[IO_BYTES] = { 0 };
	CUdeviceptr dptr = (CUdeviceptr)(uintptr_t)buf;
	int n = IO_BYTES;
	void *args[2] = { &dptr, &n };
	struct paella_dim3 grid = { 1000, 1, 1 }, block = { 256, 1, 1 };
	unsigned before, writes;

	stub_inc_of(image);
	before = fake_launches();
	writes = fake_counter("fake_cuda_write_values");
	/* The fake plays the epilogue on params[2]: the record must be there.
	 * Nothing reads these launches' progress: the record is one that
	 * samples no block and has no address, and no completion is written. */
	for (unsigned i = 0; i < 5; i++) {
		ck_assert_int_eq(paella_launch_kernel(&stub, grid, block, args, 0, NULL, 2), 0);
		ck_assert_int_eq(paella_launch_kernel_ptsz(&stub, grid, block, args, 0, NULL, 2), 0);
	}
	ck_assert_uint_eq(fake_launches() - before, 10);
	ck_assert_uint_eq(buf[0], 10);
	ck_assert_uint_eq(fake_counter("fake_cuda_last_sample_param"), PAELLA_RECORD_TAG_MASK);
	ck_assert_uint_eq(fake_counter("fake_cuda_write_values"), writes);
	/* Not a kernel: the CUDA runtime's error passes through. */
	ck_assert_int_eq(paella_launch_kernel(&n, grid, block, args, 0, NULL, 2), 98);
	ck_assert_int_eq(paella_launch_kernel(&stub, grid, block, NULL, 0, NULL, 2), 1);
}
END_TEST

/* A launch the program captures into a CUDA graph: sample mode takes no
 * record and writes no completion (nothing that would break the capture,
 * which a graph replays); count mode, whose blocks count into their record,
 * is refused there with an error that says so. */
PAELLA_TEST(transparent_launch_in_a_capture)
{
	unsigned char buf[IO_BYTES] = { 0 };
	CUdeviceptr dptr = (CUdeviceptr)(uintptr_t)buf;
	/* The fake records 8 bytes of each argument of a captured launch. */
	long long n = IO_BYTES;
	void *args[2] = { &dptr, &n };
	struct paella_dim3 grid = { 1000, 1, 1 }, block = { 256, 1, 1 };
	CUresult (*begin)(CUstream, CUstreamCaptureMode);
	CUresult (*end)(CUstream, CUgraph *);
	CUresult (*destroy)(CUgraph);
	CUstream s = (CUstream)(uintptr_t)0x5150;
	CUgraph g = NULL;
	unsigned writes;

	stub_inc_of(image);
	*(void **)&begin = dlsym(fake, "cuStreamBeginCapture_v2");
	*(void **)&end = dlsym(fake, "cuStreamEndCapture");
	*(void **)&destroy = dlsym(fake, "cuGraphDestroy");
	ck_assert_int_eq(begin(s, CU_STREAM_CAPTURE_MODE_GLOBAL), CUDA_SUCCESS);
	writes = fake_counter("fake_cuda_write_values");
	ck_assert_int_eq(paella_launch_kernel(&stub, grid, block, args, 0, s, 2), 0);
	ck_assert_uint_eq(fake_counter("fake_cuda_write_values"), writes);
	ck_assert_int_eq(paella_launch_kernel(&stub, grid, block, args, 0, s,
					      2 | PAELLA_LAUNCH_COUNT_MODE), 801);
	ck_assert_ptr_nonnull(strstr(paella_last_error(), "cannot be captured"));
	ck_assert_int_eq(end(s, &g), CUDA_SUCCESS);
	ck_assert_int_eq(destroy(g), CUDA_SUCCESS);
	/* Outside the capture, count mode takes its record and is signalled. */
	ck_assert_int_eq(paella_launch_kernel(&stub, grid, block, args, 0, s,
					      2 | PAELLA_LAUNCH_COUNT_MODE), 0);
	ck_assert_uint_gt(fake_counter("fake_cuda_write_values"), writes);
}
END_TEST

/* Transparent mode reads no progress: a kernel with a plain copy runs the
 * copy, with the program's arguments only. */
PAELLA_TEST(transparent_runs_plain_copies)
{
	unsigned char buf[IO_BYTES] = { 0 };
	CUdeviceptr dptr = (CUdeviceptr)(uintptr_t)buf;
	int n = IO_BYTES;
	void *args[2] = { &dptr, &n };
	struct paella_dim3 grid = { 1000000, 1, 1 }, block = { 256, 1, 1 };
	unsigned inst, plain;

	stub_inc_of(image_plain);
	inst = fake_kernel_launches("inc");
	plain = fake_kernel_launches("inc__paella_plain");
	for (unsigned i = 0; i < 4; i++)
		ck_assert_int_eq(paella_launch_kernel(&stub, grid, block, args, 0, NULL, 2), 0);
	ck_assert_uint_eq(fake_kernel_launches("inc__paella_plain") - plain, 4);
	ck_assert_uint_eq(fake_kernel_launches("inc") - inst, 0);
	ck_assert_uint_eq(buf[0], 4);
}
END_TEST

/* ---- model capture ------------------------------------------------------- */

/* The program's own kernels, as its CUDA runtime would have loaded them:
 * inc and add instrumented, raw not. */
static const char capture_image[] =
	"FAKE-IMAGE\n"
	"abi 2\n"
	"kernel inc 2 2 inc 8,4\n"
	"kernel add 3 2 add 8,8,4\n"
	"kernel raw 2 0 inc 8,4\n";

#define WEIGHT_BYTES (IO_BYTES + 8u)

static void
load_program_kernels(void)
{
	CUresult (*load_data)(CUmodule *, const void *);
	CUresult (*get_function)(CUfunction *, CUmodule, const char *);
	CUmodule mod;

	*(void **)&load_data = dlsym(fake, "cuModuleLoadData");
	*(void **)&get_function = dlsym(fake, "cuModuleGetFunction");
	ck_assert_int_eq(load_data(&mod, capture_image), CUDA_SUCCESS);
	ck_assert_int_eq(get_function(&inc_function, mod, "inc"), CUDA_SUCCESS);
	ck_assert_int_eq(get_function(&add_function, mod, "add"), CUDA_SUCCESS);
	ck_assert_int_eq(get_function(&raw_function, mod, "raw"), CUDA_SUCCESS);
}

static struct paella_runtime *
capture_runtime(enum paella_dispatch_mode mode)
{
	use_fake();
	setenv("FAKE_CUDA_PARAM_INFO", "1", 1);
	load_program_kernels();
	return cuda_runtime(mode);
}

static const struct paella_dim3 grid1 = { 300, 1, 1 }, block1 = { 128, 1, 1 };

PAELLA_LOOP_TEST(capture_records_launches, 2)
{
	enum paella_dispatch_mode mode = _i ? PAELLA_DISPATCH_MANUAL : PAELLA_DISPATCH_THREAD;
	struct paella_runtime *rt;
	struct paella_model *m;
	unsigned char w[WEIGHT_BYTES], zero[IO_BYTES] = { 0 };
	unsigned io, wb, before;
	uint64_t a_io, a_w, a_io2, a_src, a_tail, est;
	int n = IO_BYTES, tail = IO_BYTES - 16;
	struct req r[2];

	rt = capture_runtime(mode);
	ck_assert_int_eq(paella_model_create(rt, "captured", &m), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_model_add_buffer(m, PAELLA_BUFFER_JOB, IO_BYTES, &io),
			 PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_model_add_buffer(m, PAELLA_BUFFER_MODEL, WEIGHT_BYTES, &wb),
			 PAELLA_STATUS_OK);
	for (unsigned i = 0; i < WEIGHT_BYTES; i++)
		w[i] = (unsigned char)(i * 3 + 7);
	ck_assert_int_eq(paella_model_write_buffer(m, wb, 0, w, WEIGHT_BYTES), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_model_buffer_address(m, io, &a_io), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_model_buffer_address(m, io, &a_io2), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_model_buffer_address(m, wb, &a_w), PAELLA_STATUS_OK);
	ck_assert_uint_ne(a_io, 0);
	ck_assert_uint_eq(a_io, a_io2);
	ck_assert_int_eq(paella_model_buffer_address(m, 7, &a_io2),
			 PAELLA_STATUS_INVALID_ARGUMENT);

	before = fake_launches();
	ck_assert_msg(paella_model_capture_begin(m) == PAELLA_STATUS_OK, "%s",
		      paella_last_error());
	ck_assert_int_eq(paella_model_add_copy(m, PAELLA_COPY_INPUT, io, 0, 0, IO_BYTES),
			 PAELLA_STATUS_OK);
	{
		/* io += 1; io += w[8..]; io[16..] += 1 (uninstrumented, at an
		 * offset into the job buffer). */
		void *inc_args[2] = { &a_io, &n };
		void *add_args[3] = { &a_io, &a_src, &n };
		void *raw_args[2] = { &a_tail, &tail };

		a_src = a_w + 8;
		a_tail = a_io + 16;
		ck_assert_int_eq(paella_launch_kernel(&stub_inc, grid1, block1, inc_args, 0,
						      NULL, 2), 0);
		ck_assert_int_eq(paella_launch_kernel_ptsz(&stub_add, grid1, block1, add_args, 0,
							   NULL, 3), 0);
		ck_assert_int_eq(paella_launch_kernel(&stub_raw, grid1, block1, raw_args, 0,
						      NULL, 2), 0);
	}
	ck_assert_int_eq(paella_model_add_copy(m, PAELLA_COPY_OUTPUT, io, 0, 0, IO_BYTES),
			 PAELLA_STATUS_OK);
	ck_assert_msg(paella_model_capture_end(m) == PAELLA_STATUS_OK, "%s", paella_last_error());
	/* Recorded, not run: the placeholder is untouched. */
	ck_assert_uint_eq(fake_launches(), before);
	ck_assert_int_eq(memcmp((void *)(uintptr_t)a_io, zero, IO_BYTES), 0);

	ck_assert_msg(paella_model_finalize(m, 2) == PAELLA_STATUS_OK, "%s", paella_last_error());
	ck_assert_int_eq(paella_model_estimate_ns(m, &est), PAELLA_STATUS_OK);
	ck_assert_uint_eq(est, 3 * 10000);
	ck_assert_int_eq(paella_model_buffer_address(m, io, &a_io2),
			 PAELLA_STATUS_INVALID_ARGUMENT);
	before = fake_launches();
	submit(m, &r[0], 1);
	submit(m, &r[1], 100);
	for (unsigned j = 0; j < 2; j++) {
		ck_assert_int_eq(paella_job_wait(r[j].job, -1), PAELLA_STATUS_OK);
		for (unsigned i = 0; i < IO_BYTES; i++)
			ck_assert_uint_eq(r[j].out[i],
					  (unsigned char)(r[j].in[i] + 1 + w[i + 8] + (i >= 16)));
		paella_job_release(r[j].job);
	}
	ck_assert_uint_eq(fake_launches() - before, 2 * 3);
	paella_runtime_destroy(rt);
}
END_TEST

static void *
end_elsewhere(void *m)
{
	return (void *)(uintptr_t)paella_model_capture_end(m);
}

PAELLA_TEST(capture_errors)
{
	struct paella_runtime *rt;
	struct paella_module *mod;
	struct paella_model *m, *other;
	struct paella_kernel_step s;
	struct paella_arg args[2];
	unsigned io;
	uint64_t a_io, est;
	int n = IO_BYTES;
	void *inc_args[2] = { &a_io, &n };
	pthread_t t;
	void *ret;

	/* The driver must give argument sizes. */
	use_fake();
	unsetenv("FAKE_CUDA_PARAM_INFO");
	rt = cuda_runtime(PAELLA_DISPATCH_MANUAL);
	ck_assert_int_eq(paella_model_create(rt, "m", &m), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_model_capture_begin(m), PAELLA_STATUS_UNSUPPORTED);
	ck_assert_msg(strstr(paella_last_error(), "cuFuncGetParamInfo") != NULL, "%s",
		      paella_last_error());
	ck_assert_int_eq(paella_model_capture_end(m), PAELLA_STATUS_INVALID_ARGUMENT);
	paella_runtime_destroy(rt);

	rt = capture_runtime(PAELLA_DISPATCH_MANUAL);
	mod = load(rt, image, PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_model_create(rt, "m", &m), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_model_create(rt, "other", &other), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_model_add_buffer(m, PAELLA_BUFFER_JOB, IO_BYTES, &io),
			 PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_model_buffer_address(m, io, &a_io), PAELLA_STATUS_OK);
	/* One kernel before the capture, by the API. */
	args[0] = paella_arg_buffer(io, 0);
	args[1] = paella_arg_value(&n, sizeof(n));
	memset(&s, 0, sizeof(s));
	s.module = mod;
	s.kernel = "inc";
	s.grid = grid1;
	s.block = block1;
	s.args = args;
	s.nargs = 2;
	ck_assert_int_eq(paella_model_add_kernel(m, &s), PAELLA_STATUS_OK);

	ck_assert_int_eq(paella_model_capture_end(m), PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_msg(strstr(paella_last_error(), "not being captured") != NULL, "%s",
		      paella_last_error());
	ck_assert_int_eq(paella_model_capture_begin(m), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_model_capture_begin(m), PAELLA_STATUS_BUSY);
	ck_assert_int_eq(paella_model_capture_begin(other), PAELLA_STATUS_BUSY);
	ck_assert_msg(strstr(paella_last_error(), "capturing model m") != NULL, "%s",
		      paella_last_error());
	ck_assert_int_eq(paella_model_finalize(m, 1), PAELLA_STATUS_BUSY);
	ck_assert_int_eq(paella_model_destroy(m), PAELLA_STATUS_BUSY);
	ck_assert_int_eq(paella_model_capture_end(other), PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_int_eq(pthread_create(&t, NULL, end_elsewhere, m), 0);
	ck_assert_int_eq(pthread_join(t, &ret), 0);
	ck_assert_int_eq((int)(uintptr_t)ret, PAELLA_STATUS_INVALID_ARGUMENT);

	/* A good launch, then one of a function the CUDA runtime does not
	 * know: the capture fails, and the later launch is refused. */
	ck_assert_int_eq(paella_model_add_copy(m, PAELLA_COPY_INPUT, io, 0, 0, IO_BYTES),
			 PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_launch_kernel(&stub_inc, grid1, block1, inc_args, 0, NULL, 2), 0);
	ck_assert_int_eq(paella_launch_kernel(&n, grid1, block1, inc_args, 0, NULL, 2), 98);
	ck_assert_int_eq(paella_launch_kernel(&stub_inc, grid1, block1, inc_args, 0, NULL, 2),
			 901);
	ck_assert_int_eq(paella_model_capture_end(m), PAELLA_STATUS_NOT_FOUND);
	ck_assert_msg(strstr(paella_last_error(), "cudaGetFuncBySymbol") != NULL &&
		      strstr(paella_last_error(), "dropped") != NULL, "%s", paella_last_error());
	ck_assert_int_eq(paella_model_capture_end(m), PAELLA_STATUS_INVALID_ARGUMENT);

	/* A launch whose parameter count is not the kernel's. */
	ck_assert_int_eq(paella_model_capture_begin(m), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_launch_kernel(&stub_inc, grid1, block1, inc_args, 0, NULL, 1), 1);
	ck_assert_int_eq(paella_model_capture_end(m), PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_msg(strstr(paella_last_error(), "has 3 parameters") != NULL, "%s",
		      paella_last_error());

	/* Nothing of the failed captures stayed: one kernel, no copies (an
	 * input size of 0). */
	ck_assert_int_eq(paella_model_finalize(m, 1), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_model_estimate_ns(m, &est), PAELLA_STATUS_OK);
	ck_assert_uint_eq(est, 10000);
	ck_assert_int_eq(paella_model_capture_begin(m), PAELLA_STATUS_INVALID_ARGUMENT);
	{
		struct paella_job_desc d;
		struct paella_job *job;

		memset(&d, 0, sizeof(d));
		ck_assert_int_eq(paella_job_submit(m, &d, &job), PAELLA_STATUS_OK);
		ck_assert_int_eq(paella_job_wait(job, -1), PAELLA_STATUS_OK);
		paella_job_release(job);
	}
	paella_runtime_destroy(rt);
}
END_TEST

PAELLA_TEST(capture_needs_cuda)
{
	struct paella_config c;
	struct paella_runtime *rt = NULL;
	struct paella_model *m;
	unsigned io;
	uint64_t a;

	paella_config_init(&c);
	c.backend = PAELLA_BACKEND_SIM;
	c.dispatch_mode = PAELLA_DISPATCH_MANUAL;
	ck_assert_int_eq(paella_runtime_create(&c, &rt), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_model_create(rt, "m", &m), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_model_add_buffer(m, PAELLA_BUFFER_JOB, 64, &io), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_model_buffer_address(m, io, &a), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_model_capture_begin(m), PAELLA_STATUS_UNSUPPORTED);
	ck_assert_msg(strstr(paella_last_error(), "cuda backend") != NULL, "%s",
		      paella_last_error());
	paella_runtime_destroy(rt);
}
END_TEST

PAELLA_CHECK_MAIN("cuda-backend", 60, NULL, NULL)
