/*
 * zoo-check - the model zoo against references, and its latency.
 *
 *   zoo-check layers [--images DIR] [--seed N] [--cases N] [--csv FILE]
 *	Every layer kernel (each implicit-GEMM tile, split-K, depthwise,
 *	pooling, adaptive pooling, linear, softmax, add) on random shapes,
 *	odd sizes included, views into larger buffers, against the CPU
 *	reference (ref.h): relative error (max |gpu - cpu| / max |cpu| over
 *	what the kernel writes) at most 1e-5; what it must not write, bit for
 *	bit untouched; a second run bit-identical (split-K counters reset);
 *	the instrumented image bit-identical to the uninstrumented one.  Each
 *	case is a one-launch plan made a model whose job copies the whole
 *	activation arena in and out (paella_zoo_model_create_part()): the
 *	instrumented image's code run twice by the dispatcher (a manual-mode
 *	runtime with plain copies off), the uninstrumented image once in
 *	direct mode (paella_job_submit_direct()).  GPU.
 *
 *   zoo-check models --data DIR [--images DIR] [--models a,b] [--reps N]
 *		      [--csv FILE] [--profile FILE]
 *	For each model with DIR/<model>.safetensors and .io.safetensors (from
 *	kernels/zoo/torch_reference.py): load the weights with the zoo's
 *	loader, build the model with the zoo (paella_zoo_model_create()) and
 *	compare its logits with PyTorch's (relative error at most 1e-3), as
 *	served by Paella's dispatcher (instrumented images) and in direct mode
 *	(uninstrumented images, launched one by one and as one CUDA graph);
 *	on a mismatch, find the first launch whose kernel disagrees with the
 *	CPU reference on the same inputs.  Then time one job at a time
 *	(paella_job_times(): submitted to completed, on the runtime's clock;
 *	median of --reps) in each of the three ways, and per-kernel GPU times
 *	(each launch a model of its own, profiled by paella_model_finalize(),
 *	instrumented and not); read DIR/torch_latency.csv if there and print
 *	the table last.  GPU.
 *
 *   zoo-check cpu-models --data DIR [--models a,b]
 *	The same comparison with the CPU interpreter (no GPU): tells a wrong
 *	model definition from a wrong kernel.
 *
 * Everything on the GPU goes through the public API: a runtime in
 * PAELLA_DISPATCH_MANUAL mode (this thread runs its dispatcher), the zoo's
 * models, direct mode and jobs.  A plain C program linked statically with
 * the runtime and the zoo (jansson included): it is copied to the GPU
 * machine, which has the driver but no toolchain.  GPU modes exit 77
 * ("SKIP: why") without a GPU.  With PAELLA_LIBCUDA=libfake-cuda-zoo.so
 * (fake-cuda-zoo.c), `layers` runs on a CPU against the CPU reference
 * itself: what it checks there is the data movement around the kernels
 * (the models' copies and bindings, the runtime's launches), not the
 * kernels.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "builder.h"
#include "ref.h"
#include "safetensors.h"
#include "paella/zoo.h"

#define EXIT_SKIP 77
#define LAYER_TOL 1e-5
#define MODEL_TOL 1e-3

static int num_sms = 132;
static char device_name[128] = "?";

/* ---- helpers ------------------------------------------------------------ */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static void PZOO__PRINTF(1, 2)
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAILURE);
}

static void
die_status(enum paella_status st)
{
	/* The zoo and the runtime keep their own last messages. */
	die("%s: %s%s%s", paella_status_name(st), paella_last_error(),
	    paella_zoo_last_error()[0] != '\0' ? "; zoo: " : "", paella_zoo_last_error());
}

#define CHECK(call) \
	do { \
		enum paella_status st_ = (call); \
		if (st_ != PAELLA_STATUS_OK) \
			die_status(st_); \
	} while (0)

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		die("out of host memory (%zu bytes)", n);
	return p;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

/* Uniform in [lo, hi]. */
static int
rnd(int lo, int hi)
{
	return lo + (int)(rng() % (uint64_t)(hi - lo + 1));
}

static float
rndf(float lo, float hi)
{
	return lo + (hi - lo) * (float)((rng() >> 40) * (1.0 / 16777216.0));
}

/* The device's SMs and name, or exit 77 where there is none. */
static void
gpu_open(void)
{
	if (paella_zoo_cuda_device(0, &num_sms, device_name, sizeof(device_name)) !=
	    PAELLA_STATUS_OK) {
		printf("SKIP: %s\n", paella_zoo_last_error());
		exit(EXIT_SKIP);
	}
	printf("device: %s, %d SMs\n", device_name, num_sms);
}

/* A cuda runtime in manual mode: this thread runs its dispatcher (in
 * paella_job_wait()) and may submit direct jobs.  @instrumented_code: the
 * dispatcher runs an instrumented kernel's instrumented code, never its
 * plain copy, and launches every kernel alone (no graph runs); otherwise
 * the defaults, with the environment's switches (PAELLA_PLAIN_COPIES, ...). */
static struct paella_runtime *
gpu_runtime(bool instrumented_code)
{
	struct paella_runtime *rt = NULL;
	struct paella_config c;
	enum paella_status st;

	paella_config_init(&c);
	c.backend = PAELLA_BACKEND_CUDA;
	c.dispatch_mode = PAELLA_DISPATCH_MANUAL;
	if (instrumented_code) {
		c.plain_copies = false;
		c.graph_chunk_ns = 0;
	}
	st = paella_runtime_create(&c, &rt);
	if (st == PAELLA_STATUS_NO_DEVICE) {
		printf("SKIP: %s\n", paella_last_error());
		exit(EXIT_SKIP);
	}
	CHECK(st);
	return rt;
}

static void
load_images(struct paella_runtime *rt, const char *dir, enum paella_zoo_variant variant,
	    struct paella_module *mods[PAELLA_ZOO_NIMAGES])
{
	CHECK(paella_zoo_modules_load(rt, dir, variant, mods));
}

/* How a job runs. */
enum way {
	/* paella_job_submit(): Paella's dispatcher, in paella_job_wait(). */
	SERVED,
	/* paella_job_submit_direct(): every step straight onto the stream. */
	DIRECT,
	/* The same, the kernels as one CUDA graph replay. */
	DIRECT_GRAPH,
};

/* One job of @m, waited for; its times in @t (may be NULL). */
static void
run_job(struct paella_model *m, struct paella_stream *stream, enum way way, const void *in,
	size_t in_bytes, void *out, size_t out_bytes, struct paella_job_times *t)
{
	struct paella_job_desc d = {
		.input = in,
		.input_bytes = in_bytes,
		.output = out,
		.output_bytes = out_bytes,
	};
	struct paella_job *job = NULL;

	if (way == SERVED)
		CHECK(paella_job_submit(m, &d, &job));
	else
		CHECK(paella_job_submit_direct(m, stream, &d, way == DIRECT_GRAPH ?
					       PAELLA_DIRECT_GRAPH : 0, &job));
	CHECK(paella_job_wait(job, -1));
	if (t != NULL)
		CHECK(paella_job_times(job, t));
	paella_job_release(job);
}

/* Where an argument of a launch points in a host arena. */
static const struct paella_zoo_arg *
output_arg(const struct paella_zoo_launch *l)
{
	switch (l->op) {
	case PAELLA_ZOO_OP_CONV:
		return &l->args[PZOO__CONV_Y];
	case PAELLA_ZOO_OP_MAXPOOL:
	case PAELLA_ZOO_OP_AVGPOOL:
		return &l->args[PZOO__POOL_Y];
	case PAELLA_ZOO_OP_ADAPTIVE_AVGPOOL:
		return &l->args[PZOO__APOOL_Y];
	case PAELLA_ZOO_OP_LINEAR:
		return &l->args[PZOO__LINEAR_Y];
	case PAELLA_ZOO_OP_SOFTMAX:
		return &l->args[PZOO__SOFTMAX_Y];
	case PAELLA_ZOO_OP_ADD:
		return &l->args[PZOO__ADD_Y];
	}
	return NULL;
}

/* max |a - b| / max |b| over n floats; NaN anywhere gives +inf. */
static double
rel_err(const float *a, const float *b, uint64_t n)
{
	double num = 0.0, den = 0.0;

	for (uint64_t i = 0; i < n; i++) {
		double d = fabs((double)a[i] - (double)b[i]);

		if (isnan(a[i]) || isnan(b[i]))
			return INFINITY;
		num = d > num ? d : num;
		den = fabs((double)b[i]) > den ? fabs((double)b[i]) : den;
	}
	if (den == 0.0)
		return num == 0.0 ? 0.0 : INFINITY;
	return num / den;
}

static int
argmax(const float *v, int n)
{
	int best = 0;

	for (int i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	return best;
}

/* ---- layers -------------------------------------------------------------- */

enum layer_kind { L_CONV, L_MAXPOOL, L_AVGPOOL, L_APOOL, L_LINEAR, L_SOFTMAX, L_ADD, L_KINDS };

static const char *const conv_kernels[] = {
	"conv2d_igemm_64x64", "conv2d_igemm_128x64", "conv2d_igemm_128x32",
	"conv2d_igemm_32x128", "conv2d_igemm_64x64_1x1", "conv2d_igemm_128x64_1x1",
	"conv2d_igemm_128x32_1x1", "conv2d_igemm_32x128_1x1", "dwconv2d", NULL /* choose */,
};

struct lcase {
	char desc[256];
	struct paella_zoo_plan *plan;
	/* What the kernel writes: storage, channels [coff, coff + c) of
	 * ctot, hw per channel. */
	int out;
	int coff, c, ctot;
	uint64_t hw;
};

/* A view into a storage of more channels than it uses, at a random
 * channel offset: the kernels must honour ctot and touch nothing else. */
static struct pzoo__zv
padded_view(struct pzoo__zb *b, const char *name, int c, int h, int w, bool is_input)
{
	int extra = rnd(0, 1) ? rnd(1, 5) : 0;
	int coff = extra ? rnd(0, extra) : 0;
	struct pzoo__zv s = is_input ? pzoo__zb_input(b, c + extra, h, w)
				       : pzoo__zb_new(b, name, c + extra, h, w);

	return pzoo__zb_slice(s, coff, c);
}

static void
set_out(struct lcase *lc, struct pzoo__zv v)
{
	lc->out = v.storage;
	lc->coff = v.coff;
	lc->c = v.c;
	lc->ctot = v.ctot;
	lc->hw = (uint64_t)v.h * v.w;
}

static struct pzoo__zv
whole(struct pzoo__zb *b, struct pzoo__zv v)
{
	struct pzoo__zv s = v;

	(void)b;
	s.coff = 0;
	s.c = s.ctot;
	return s;
}

static void
make_conv_case(struct lcase *lc, const char *kernel, int splits)
{
	static const int ks[][2] = { { 1, 1 }, { 3, 3 }, { 3, 3 }, { 5, 5 }, { 7, 7 }, { 1, 7 },
				     { 7, 1 }, { 1, 3 }, { 3, 1 }, { 2, 2 }, { 4, 3 } };
	struct paella_zoo_options opts = { .num_sms = num_sms, .force_conv_kernel = kernel,
					    .force_splits = splits };
	bool pw = kernel != NULL && strstr(kernel, "_1x1") != NULL;
	bool dw = kernel != NULL && strcmp(kernel, "dwconv2d") == 0;
	int n = rnd(0, 3) == 0 ? rnd(2, 3) : 1;
	int groups, cg, mg, kh, kw, sh, sw, ph, pw_, h, w, P, Q;
	struct pzoo__zb *b;
	struct pzoo__zv x, y, r;
	struct pzoo__zb_conv o = { .conv = "conv", .eps = 1e-5f };

	do {
		if (dw) {
			groups = rnd(1, 48);
			cg = mg = 1;
		} else {
			groups = rnd(0, 3) == 0 ? rnd(2, 4) : 1;
			cg = rnd(0, 4) == 0 ? rnd(1, 4) : rnd(1, 40);
			mg = rnd(0, 4) == 0 ? rnd(1, 7) : rnd(1, 150);
		}
		if (pw) {
			kh = kw = 1;
			sh = sw = 1;
			ph = pw_ = 0;
		} else {
			int k = rnd(0, (int)PZOO__ARRAY_SIZE(ks) - 1);

			kh = ks[k][0];
			kw = ks[k][1];
			sh = rnd(0, 2) ? 1 : rnd(2, 3);
			sw = rnd(0, 3) ? sh : rnd(1, 3);
			ph = rnd(0, kh / 2 + 1);
			pw_ = rnd(0, kw / 2 + 1);
		}
		h = rnd(1, 36);
		w = rnd(1, 36);
		P = (h + 2 * ph - kh) / sh + 1;
		Q = (w + 2 * pw_ - kw) / sw + 1;
	} while (P < 1 || Q < 1 || h + 2 * ph < kh || w + 2 * pw_ < kw);
	opts.batch = n;
	b = pzoo__zb_create("layer", &opts);
	if (b == NULL)
		die("out of memory");
	x = padded_view(b, "x", groups * cg, h, w, true);
	y = padded_view(b, "y", groups * mg, P, Q, false);
	o.m = groups * mg;
	o.kh = kh;
	o.kw = kw;
	o.sh = sh;
	o.sw = sw;
	o.ph = ph;
	o.pw = pw_;
	o.groups = groups;
	o.act = (enum pzoo__act)rnd(0, 2);
	o.bias = rnd(0, 2) == 0;
	o.bn = rnd(0, 1) ? "bn" : NULL;
	o.out = &y;
	if (rnd(0, 2) == 0) {
		r = padded_view(b, "res", groups * mg, P, Q, false);
		o.res = &r;
	}
	if (rnd(0, 3) == 0) {
		o.pre_bn = "pre";
		o.pre_eps = 1e-5f;
	}
	pzoo__zb_conv(b, x, &o);
	pzoo__zb_output(b, whole(b, y));
	CHECK(pzoo__zb_finish(b, &lc->plan));
	set_out(lc, y);
	snprintf(lc->desc, sizeof(lc->desc),
		 "%s n%d c%d(+%d) %dx%d -> m%d %dx%d k%dx%d s%d,%d p%d,%d g%d act%d%s%s%s",
		 lc->plan->launches[0].kernel, n, groups * cg, x.ctot - x.c, h, w, groups * mg, P,
		 Q, kh, kw, sh, sw, ph, pw_, groups, (int)o.act, o.res ? " res" : "",
		 o.pre_bn ? " pre" : "", o.bias || o.bn ? " bias" : "");
	{
		char sp[32];

		snprintf(sp, sizeof(sp), " splits%d",
			 lc->plan->launches[0].args[PZOO__CONV_SPLITS].i32);
		strncat(lc->desc, sp, sizeof(lc->desc) - strlen(lc->desc) - 1);
	}
}

static void
make_pool_case(struct lcase *lc, enum layer_kind kind)
{
	struct paella_zoo_options opts = { .num_sms = num_sms, .batch = rnd(1, 2) };
	struct pzoo__zb *b = pzoo__zb_create("layer", &opts);
	int k, s, p, h, w, c = rnd(1, 20);
	bool ceil_mode = rnd(0, 1), cip = rnd(0, 1);
	struct pzoo__zv x, y;

	if (b == NULL)
		die("out of memory");
	do {
		k = rnd(1, 5);
		s = rnd(1, 3);
		p = rnd(0, k / 2);
		h = rnd(1, 30);
		w = rnd(1, 30);
	} while (h + 2 * p < k || w + 2 * p < k ||
		 pzoo__zb_pool_out(h, k, s, p, ceil_mode) < 1 ||
		 pzoo__zb_pool_out(w, k, s, p, ceil_mode) < 1);
	x = padded_view(b, "x", c, h, w, true);
	y = padded_view(b, "y", c, pzoo__zb_pool_out(h, k, s, p, ceil_mode),
			pzoo__zb_pool_out(w, k, s, p, ceil_mode), false);
	if (kind == L_MAXPOOL)
		pzoo__zb_maxpool(b, "pool", x, k, s, p, ceil_mode, &y);
	else
		pzoo__zb_avgpool(b, "pool", x, k, s, p, ceil_mode, cip, &y);
	pzoo__zb_output(b, whole(b, y));
	CHECK(pzoo__zb_finish(b, &lc->plan));
	set_out(lc, y);
	snprintf(lc->desc, sizeof(lc->desc), "%s n%d c%d %dx%d k%d s%d p%d%s%s -> %dx%d",
		 kind == L_MAXPOOL ? "maxpool2d" : "avgpool2d", opts.batch, c, h, w, k, s, p,
		 ceil_mode ? " ceil" : "", kind == L_AVGPOOL && cip ? " count_pad" : "", y.h, y.w);
}

static void
make_misc_case(struct lcase *lc, enum layer_kind kind)
{
	struct paella_zoo_options opts = { .num_sms = num_sms, .batch = rnd(1, 5) };
	struct pzoo__zb *b = pzoo__zb_create("layer", &opts);
	struct pzoo__zv x, y, z;

	if (b == NULL)
		die("out of memory");
	switch (kind) {
	case L_APOOL: {
		int c = rnd(1, 40), h = rnd(1, 20), w = rnd(1, 20), oh = rnd(1, 9), ow = rnd(1, 9);
		bool pre = rnd(0, 1);

		x = padded_view(b, "x", c, h, w, true);
		y = pzoo__zb_adaptive_avgpool(b, "apool", x, oh, ow, pre ? "pre" : NULL, 1e-5f);
		snprintf(lc->desc, sizeof(lc->desc), "adaptive_avgpool2d n%d c%d %dx%d -> %dx%d%s",
			 opts.batch, c, h, w, oh, ow, pre ? " pre" : "");
		break;
	}
	case L_LINEAR: {
		int in = rnd(0, 1) ? rnd(1, 300) * 4 : rnd(1, 1200), out = rnd(1, 400);
		enum pzoo__act act = (enum pzoo__act)rnd(0, 2);
		bool bias = rnd(0, 3) != 0;

		x = pzoo__zb_input(b, in, 1, 1);
		y = pzoo__zb_linear(b, "fc", x, out, bias, act);
		snprintf(lc->desc, sizeof(lc->desc), "linear n%d %d -> %d act%d%s", opts.batch, in,
			 out, (int)act, bias ? " bias" : "");
		break;
	}
	case L_SOFTMAX: {
		int cols = rnd(0, 1) ? 1000 : rnd(1, 3000);

		x = pzoo__zb_input(b, cols, 1, 1);
		y = pzoo__zb_softmax(b, "softmax", x);
		snprintf(lc->desc, sizeof(lc->desc), "softmax %d x %d", opts.batch, cols);
		break;
	}
	default: {
		int c = rnd(1, 64), h = rnd(1, 40), w = rnd(1, 40);
		enum pzoo__act act = (enum pzoo__act)rnd(0, 2);

		x = pzoo__zb_input(b, c, h, w);
		z = pzoo__zb_new(b, "b", c, h, w);
		y = pzoo__zb_add(b, "add", x, z, act);
		snprintf(lc->desc, sizeof(lc->desc), "add n%d %dx%dx%d act%d", opts.batch, c, h, w,
			 (int)act);
		break;
	}
	}
	pzoo__zb_output(b, y);
	CHECK(pzoo__zb_finish(b, &lc->plan));
	set_out(lc, y);
}

/* Random parameters: convolution weights scaled by the reduction length,
 * batch-norm scales near 1. */
static float *
random_blob(const struct paella_zoo_plan *plan)
{
	float *blob = xmalloc((plan->param_floats + 1) * sizeof(float));

	for (unsigned i = 0; i < plan->nparams; i++) {
		const struct paella_zoo_param *q = &plan->params[i];
		float lo = -1.0f, hi = 1.0f;

		if (q->recipe == PAELLA_ZOO_P_CONV_WEIGHT) {
			const struct paella_zoo_tensor *t = &plan->tensors[q->weight];
			float s = 1.0f / sqrtf((float)(t->numel / (uint64_t)t->shape[0]));

			lo = -s;
			hi = s;
		} else if (q->recipe == PAELLA_ZOO_P_BN_SCALE) {
			lo = 0.5f;
			hi = 1.5f;
		}
		for (uint64_t k = 0; k < q->count; k++)
			blob[q->offset + k] = rndf(lo, hi);
	}
	return blob;
}

/* The arena at the start: every storage random but split-K state. */
static float *
random_arena(const struct paella_zoo_plan *plan)
{
	float *arena = calloc(plan->arena_bytes / 4 + 64, sizeof(float));

	if (arena == NULL)
		die("out of memory");
	for (unsigned i = 0; i < plan->nstorages; i++) {
		const struct paella_zoo_storage *s = &plan->storages[i];

		if (strstr(s->name, "splitk") != NULL)
			continue;
		for (uint64_t k = 0; k < s->floats; k++)
			arena[s->offset / 4 + k] = rndf(-1.0f, 1.0f);
	}
	return arena;
}

/* The images and runtime of the layer checks. */
struct layer_env {
	struct paella_runtime *rt;
	struct paella_stream *stream;
	struct paella_module *inst[PAELLA_ZOO_NIMAGES], *noinst[PAELLA_ZOO_NIMAGES];
};

/* @runs jobs of the plan as an arena model of @variant, each given
 * @arena_in (split-K counters are not copied in: from the second run on
 * the kernels must have put them back to zero), each arena out into
 * @arena_out + run * arena floats. */
static void
gpu_run_arena(const struct layer_env *env, enum paella_zoo_variant variant, enum way way,
	      const struct paella_zoo_plan *plan, const float *blob, const float *arena_in,
	      float *arena_out, int runs)
{
	struct paella_zoo_part all = { 0, plan->nlaunches, PAELLA_ZOO_IO_ARENA };
	struct paella_zoo_model *zm;
	size_t bytes = (size_t)plan->arena_bytes, in_bytes = 0;

	CHECK(paella_zoo_model_create_part(env->rt, plan, blob, variant,
					   variant == PAELLA_ZOO_VARIANT_NOINST ? env->noinst
										: env->inst,
					   &all, &zm));
	/* The input stops short of counters at the arena's end. */
	paella_zoo_model_io_bytes(zm, &in_bytes, NULL);
	for (int r = 0; r < runs; r++)
		run_job(paella_zoo_model_runtime(zm), env->stream, way, arena_in, in_bytes,
			arena_out + (size_t)r * (bytes / 4), bytes, NULL);
	CHECK(paella_zoo_model_destroy(zm));
}

struct lresult {
	char desc[256];
	double err;
	bool ok;
	char why[128];
};

static bool
check_layer_case(const struct layer_env *env, struct lcase *lc, struct lresult *res)
{
	const struct paella_zoo_plan *plan = lc->plan;
	const uint64_t af = plan->arena_bytes / 4;
	const struct paella_zoo_storage *os = &plan->storages[lc->out];
	float *blob = random_blob(plan);
	float *arena = random_arena(plan);
	float *cpu = xmalloc(plan->arena_bytes + 4);
	float *gi = xmalloc(2 * plan->arena_bytes + 4);
	float *gn = xmalloc(plan->arena_bytes + 4);
	const uint64_t batch = os->floats / ((uint64_t)lc->ctot * lc->hw);
	double num = 0.0, den = 0.0;
	bool untouched = true;

	snprintf(res->desc, sizeof(res->desc), "%s", lc->desc);
	res->ok = true;
	memcpy(cpu, arena, plan->arena_bytes);
	paella_zoo_run_cpu_range(plan, blob, cpu, 0, plan->nlaunches);
	gpu_run_arena(env, PAELLA_ZOO_VARIANT_SAMPLE, SERVED, plan, blob, arena, gi, 2);
	gpu_run_arena(env, PAELLA_ZOO_VARIANT_NOINST, DIRECT, plan, blob, arena, gn, 1);

	for (uint64_t n = 0; n < batch; n++)
		for (int c = 0; c < lc->ctot; c++) {
			bool written = c >= lc->coff && c < lc->coff + lc->c;
			uint64_t base = os->offset / 4 + (n * lc->ctot + (uint64_t)c) * lc->hw;

			for (uint64_t i = 0; i < lc->hw; i++) {
				float g = gi[base + i], r = cpu[base + i];

				if (!written) {
					if (memcmp(&g, &arena[base + i], 4) != 0)
						untouched = false;
					continue;
				}
				if (isnan(g) || isnan(r))
					num = INFINITY;
				else if (fabs((double)g - r) > num)
					num = fabs((double)g - r);
				if (fabs((double)r) > den)
					den = fabs((double)r);
			}
		}
	res->err = den > 0.0 ? num / den : (num > 0.0 ? INFINITY : 0.0);
	if (!(res->err <= LAYER_TOL)) {
		res->ok = false;
		snprintf(res->why, sizeof(res->why), "relative error %.3g > %g", res->err, LAYER_TOL);
	} else if (!untouched) {
		res->ok = false;
		snprintf(res->why, sizeof(res->why), "wrote channels outside its view");
	} else if (memcmp(gi + os->offset / 4, gi + af + os->offset / 4, os->floats * 4) != 0) {
		res->ok = false;
		snprintf(res->why, sizeof(res->why), "second run differs (split-K state?)");
	} else if (memcmp(gi + os->offset / 4, gn + os->offset / 4, os->floats * 4) != 0) {
		res->ok = false;
		snprintf(res->why, sizeof(res->why), "instrumented differs from uninstrumented");
	}
	free(blob);
	free(arena);
	free(cpu);
	free(gi);
	free(gn);
	(void)af;
	return res->ok;
}

static int
cmd_layers(const char *images, int cases, const char *csv_path)
{
	struct layer_env env = { 0 };
	struct lresult *results;
	unsigned nres = 0, nfail = 0, total;
	double worst[L_KINDS] = { 0 };
	unsigned counts[L_KINDS] = { 0 };
	FILE *csv = NULL;

	gpu_open();
	env.rt = gpu_runtime(true);
	CHECK(paella_stream_create(env.rt, 0, &env.stream));
	load_images(env.rt, images, PAELLA_ZOO_VARIANT_SAMPLE, env.inst);
	load_images(env.rt, images, PAELLA_ZOO_VARIANT_NOINST, env.noinst);
	printf("instrumented: the dispatcher runs the instrumented code twice; uninstrumented: "
	       "one direct job\n");
	total = (unsigned)(PZOO__ARRAY_SIZE(conv_kernels) * 3 + 3) * (unsigned)cases +
		(L_KINDS - 1) * (unsigned)cases;
	results = calloc(total + 1, sizeof(*results));
	if (results == NULL)
		die("out of memory");
	for (int r = 0; r < cases; r++) {
		for (enum layer_kind k = L_CONV; k < L_KINDS; k++) {
			unsigned variants = k == L_CONV ? PZOO__ARRAY_SIZE(conv_kernels) * 3 + 3 : 1;

			for (unsigned v = 0; v < variants; v++) {
				struct lcase lc = { 0 };
				struct lresult *res = &results[nres++];

				if (k == L_CONV) {
					unsigned ki = v % PZOO__ARRAY_SIZE(conv_kernels);
					const char *kern = conv_kernels[ki];
					int sp = 0;

					/* Per kernel: the builder's split, none, and a
					 * forced 2 to 5 (empty slices included); then
					 * three cases where the builder chooses all. */
					if (v >= PZOO__ARRAY_SIZE(conv_kernels) * 3)
						kern = NULL;
					else if (v / PZOO__ARRAY_SIZE(conv_kernels) == 1)
						sp = 1;
					else if (v / PZOO__ARRAY_SIZE(conv_kernels) == 2 && kern &&
						 strcmp(kern, "dwconv2d") != 0)
						sp = rnd(2, 5);
					make_conv_case(&lc, kern, sp);
				} else if (k == L_MAXPOOL || k == L_AVGPOOL) {
					make_pool_case(&lc, k);
				} else {
					make_misc_case(&lc, k);
				}
				if (!check_layer_case(&env, &lc, res)) {
					nfail++;
					printf("FAIL %s: %s\n", res->desc, res->why);
				}
				if (res->err > worst[k])
					worst[k] = res->err;
				counts[k]++;
				paella_zoo_plan_free(lc.plan);
			}
		}
	}
	if (csv_path != NULL && (csv = fopen(csv_path, "w")) != NULL) {
		fprintf(csv, "case,rel_err,ok,why\n");
		for (unsigned i = 0; i < nres; i++)
			fprintf(csv, "\"%s\",%.3e,%d,\"%s\"\n", results[i].desc, results[i].err,
				results[i].ok, results[i].why);
		fclose(csv);
	}
	printf("\n%-22s %6s %12s\n", "layer kernels", "cases", "worst error");
	{
		static const char *const names[L_KINDS] = {
			"conv2d (all kernels)", "maxpool2d", "avgpool2d", "adaptive_avgpool2d",
			"linear", "softmax", "add",
		};

		for (int k = 0; k < L_KINDS; k++)
			printf("%-22s %6u %12.2e\n", names[k], counts[k], worst[k]);
	}
	printf("%u passed, %u failed\n", nres - nfail, nfail);
	free(results);
	paella_stream_destroy(env.stream);
	CHECK(paella_zoo_modules_unload(env.inst));
	CHECK(paella_zoo_modules_unload(env.noinst));
	paella_runtime_destroy(env.rt);
	return nfail ? EXIT_FAILURE : 0;
}

/* ---- models -------------------------------------------------------------- */

struct io {
	struct pzoo__st_file *st;
	const struct pzoo__st_tensor *input, *logits, *logits_ref;
};

static bool
load_io(const char *dir, const struct paella_zoo_plan *plan, struct io *io, char *why,
	size_t cap)
{
	char path[4096];
	const struct paella_zoo_storage *in = &plan->storages[plan->input];

	memset(io, 0, sizeof(*io));
	snprintf(path, sizeof(path), "%s/%s.io.safetensors", dir, plan->model);
	if (pzoo__st_open(path, &io->st) != PAELLA_STATUS_OK) {
		snprintf(why, cap, "%s", paella_zoo_last_error());
		return false;
	}
	io->input = pzoo__st_find(io->st, "input");
	io->logits = pzoo__st_find(io->st, "logits");
	io->logits_ref = pzoo__st_find(io->st, "logits_ref");
	if (io->input == NULL || io->logits == NULL || io->logits_ref == NULL ||
	    io->input->dtype != PZOO__ST_F32 || io->logits->dtype != PZOO__ST_F32 ||
	    io->logits_ref->dtype != PZOO__ST_F32 || io->input->numel != in->floats ||
	    io->logits->numel != (uint64_t)plan->batch * plan->classes ||
	    io->logits_ref->numel != io->logits->numel) {
		snprintf(why, cap, "%s: needs F32 input [%d,%d,%d,%d], logits and logits_ref [%d,%d]",
			 path, plan->batch, plan->in_c, plan->in_h, plan->in_w, plan->batch,
			 plan->classes);
		pzoo__st_close(io->st);
		io->st = NULL;
		return false;
	}
	return true;
}

static float *
tensor_copy(const struct pzoo__st_tensor *t)
{
	float *v = xmalloc(t->numel * sizeof(float));

	for (uint64_t i = 0; i < t->numel; i++)
		v[i] = pzoo__st_read_f32(t, i);
	return v;
}

struct mresult {
	char model[32];
	unsigned kernels;
	bool have;
	bool ok;
	char why[512];
	double err_torch, err_ref;
	bool top1;
	/* The served logits are not direct mode's, bit for bit. */
	bool direct_differs;
	double load_ms;
	/* Served by the dispatcher (instrumented images); direct jobs
	 * (uninstrumented), launch by launch and as one graph. */
	double inst_p50, inst_min, noinst_p50, noinst_min, graph_p50, graph_min, gpu_sum;
	double torch_eager, torch_graph;
	/* Geometric mean over the model's launches of instrumented / plain
	 * GPU time (and its log sum). */
	double overhead_geo, overhead_logsum;
};

/* Rounds of per-launch profiling of each build (each round the best of the
 * runtime's own profile runs). */
#define PROFILE_ROUNDS 3

static int
cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

/* Median of @n floats; sorts them. */
static float
median_f(float *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_float);
	return v[n / 2];
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One job at a time, @reps of them after 10 to warm up: median and least
 * of submitted to completed (paella_job_times(), the runtime's clock). */
static void
latency(struct paella_model *m, struct paella_stream *stream, enum way way, const float *in,
	size_t in_bytes, float *out, size_t out_bytes, int reps, double *p50, double *min)
{
	double *t = xmalloc((size_t)reps * sizeof(double));

	for (int i = 0; i < 10; i++)
		run_job(m, stream, way, in, in_bytes, out, out_bytes, NULL);
	for (int i = 0; i < reps; i++) {
		struct paella_job_times jt;

		run_job(m, stream, way, in, in_bytes, out, out_bytes, &jt);
		t[i] = (double)(jt.completed_ns - jt.submitted_ns) * 1e-6;
	}
	qsort(t, (size_t)reps, sizeof(double), cmp_double);
	*p50 = t[reps / 2];
	*min = t[0];
	free(t);
}

/* Launch @i's GPU time in ms with @mods: a model of that launch alone, no
 * copies, zero parameters, which paella_model_finalize() profiles (events
 * around the launch, best of its runs, on zeroed job buffers). */
static float
launch_ms(struct paella_runtime *rt, const struct paella_zoo_plan *plan,
	  enum paella_zoo_variant variant, struct paella_module *const *mods, unsigned i)
{
	struct paella_zoo_part one = { i, i + 1, PAELLA_ZOO_IO_NONE };
	struct paella_zoo_model *zm;
	uint64_t ns = 0;

	CHECK(paella_zoo_model_create_part(rt, plan, NULL, variant, mods, &one, &zm));
	CHECK(paella_model_estimate_ns(paella_zoo_model_runtime(zm), &ns));
	CHECK(paella_zoo_model_destroy(zm));
	return (float)((double)ns * 1e-6);
}

/* After a wrong result: run the plan launch by launch, each a one-launch
 * model whose job copies the whole arena in and out, the way that gave
 * the wrong logits, and, for each, the CPU reference on the same arena;
 * report the first launches whose outputs disagree. */
static void
find_bad_launch(struct paella_runtime *rt, struct paella_stream *stream, enum way way,
		enum paella_zoo_variant variant, struct paella_module *const *mods,
		const struct paella_zoo_plan *plan, const float *blob, const float *input)
{
	size_t bytes = (size_t)plan->arena_bytes;
	float *before = calloc(1, bytes + 4), *after = xmalloc(bytes + 4);
	const struct paella_zoo_storage *in = &plan->storages[plan->input];
	unsigned reported = 0;

	if (before == NULL)
		die("out of memory");
	/* What a job of the whole model starts from: a zeroed arena, the
	 * input in its storage. */
	memcpy(before + in->offset / 4, input, in->floats * 4);
	for (unsigned i = 0; i < plan->nlaunches && reported < 5; i++) {
		struct paella_zoo_part one = { i, i + 1, PAELLA_ZOO_IO_ARENA };
		const struct paella_zoo_arg *y = output_arg(&plan->launches[i]);
		const struct paella_zoo_storage *s = &plan->storages[y->ref];
		struct paella_zoo_model *zm;
		double err;

		size_t in_bytes = 0;

		CHECK(paella_zoo_model_create_part(rt, plan, blob, variant, mods, &one, &zm));
		paella_zoo_model_io_bytes(zm, &in_bytes, NULL);
		run_job(paella_zoo_model_runtime(zm), stream, way, before, in_bytes, after, bytes,
			NULL);
		CHECK(paella_zoo_model_destroy(zm));
		paella_zoo_run_cpu_range(plan, blob, before, i, i + 1);
		err = rel_err(after + s->offset / 4, before + s->offset / 4, s->floats);
		if (!(err <= LAYER_TOL)) {
			printf("  launch %u (%s, %s, grid %ux%ux%u): relative error %.3g against "
			       "the CPU reference\n", i, plan->launches[i].layer,
			       plan->launches[i].kernel, plan->launches[i].grid[0],
			       plan->launches[i].grid[1], plan->launches[i].grid[2], err);
			reported++;
		}
		/* On from the GPU's arena. */
		memcpy(before, after, bytes);
	}
	if (reported == 0)
		printf("  every launch agrees with the CPU reference: the model definition "
		       "differs from PyTorch's\n");
	free(before);
	free(after);
}

static void
read_torch_csv(const char *path, struct mresult *rows, unsigned n)
{
	FILE *fp = fopen(path, "r");
	char line[512];

	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char name[64];
		double e50, emin, g50, gmin;

		if (sscanf(line, "%63[^,],%lf,%lf,%lf,%lf", name, &e50, &emin, &g50, &gmin) != 5)
			continue;
		for (unsigned i = 0; i < n; i++)
			if (strcmp(rows[i].model, name) == 0) {
				rows[i].torch_eager = e50;
				rows[i].torch_graph = g50;
			}
	}
	fclose(fp);
}

static bool
selected(const char *list, const char *name)
{
	size_t n = strlen(name);

	if (list == NULL)
		return true;
	for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return true;
	return false;
}

/* --control: the "instrumented" side runs the plain images too (a second
 * load of them), so the overhead figures are the method's own error. */
static bool control;

static int
cmd_models(const char *data, const char *images, const char *only, int reps,
	   const char *csv_path, const char *profile_path, bool on_cpu)
{
	struct mresult rows[16] = { 0 };
	/* serve: the defaults (and the environment's switches): the served
	 * jobs and the direct ones; prof: the instrumented code everywhere,
	 * for the per-launch profile. */
	struct paella_runtime *serve = NULL, *prof_rt = NULL;
	struct paella_stream *stream = NULL;
	struct paella_module *inst[PAELLA_ZOO_NIMAGES] = { NULL };
	struct paella_module *noinst[PAELLA_ZOO_NIMAGES] = { NULL };
	struct paella_module *pinst[PAELLA_ZOO_NIMAGES] = { NULL };
	struct paella_module *pnoinst[PAELLA_ZOO_NIMAGES] = { NULL };
	const enum paella_zoo_variant inst_variant =
		control ? PAELLA_ZOO_VARIANT_NOINST : PAELLA_ZOO_VARIANT_SAMPLE;
	FILE *prof = NULL, *ovh = NULL, *csv;
	unsigned n = 0, bad = 0;
	char path[4096];

	if (!on_cpu) {
		gpu_open();
		serve = gpu_runtime(false);
		prof_rt = gpu_runtime(true);
		CHECK(paella_stream_create(serve, 0, &stream));
		load_images(serve, images, inst_variant, inst);
		load_images(serve, images, PAELLA_ZOO_VARIANT_NOINST, noinst);
		load_images(prof_rt, images, inst_variant, pinst);
		load_images(prof_rt, images, PAELLA_ZOO_VARIANT_NOINST, pnoinst);
		if (profile_path != NULL && (prof = fopen(profile_path, "w")) != NULL)
			fprintf(prof, "model,index,layer,kernel,grid,ms\n");
		if (profile_path != NULL) {
			/* The instrumentation's cost per launch, beside the profile. */
			snprintf(path, sizeof(path), "%.*s-overhead.csv",
				 (int)(strlen(profile_path) > 4 &&
				       !strcmp(profile_path + strlen(profile_path) - 4, ".csv")
					       ? strlen(profile_path) - 4 : strlen(profile_path)),
				 profile_path);
			if ((ovh = fopen(path, "w")) != NULL)
				fprintf(ovh, "model,index,layer,kernel,grid,block,plain_ms,instrumented_ms,ratio\n");
		}
	}
	for (unsigned m = 0; m < paella_zoo_model_count(); m++) {
		const char *name = paella_zoo_model_at(m)->name;
		struct paella_zoo_options opts = { .batch = 1, .num_sms = num_sms };
		struct mresult *r = &rows[n];
		struct paella_zoo_plan *plan;
		float *blob = NULL, *input, *out, *want, *want_ref;
		struct io io;
		double t0;

		if (!selected(only, name))
			continue;
		n++;
		snprintf(r->model, sizeof(r->model), "%s", name);
		CHECK(paella_zoo_build(name, &opts, &plan));
		r->kernels = plan->nlaunches;
		snprintf(path, sizeof(path), "%s/%s.safetensors", data, name);
		t0 = now_ms();
		if (paella_zoo_load_weights(plan, path, &blob) != PAELLA_STATUS_OK) {
			snprintf(r->why, sizeof(r->why), "%s", paella_zoo_last_error());
			printf("%s: %s\n", name, r->why);
			bad++;
			paella_zoo_plan_free(plan);
			continue;
		}
		r->load_ms = now_ms() - t0;
		if (!load_io(data, plan, &io, r->why, sizeof(r->why))) {
			printf("%s: %s\n", name, r->why);
			bad++;
			free(blob);
			paella_zoo_plan_free(plan);
			continue;
		}
		r->have = true;
		input = tensor_copy(io.input);
		want = tensor_copy(io.logits);
		want_ref = tensor_copy(io.logits_ref);
		out = xmalloc(io.logits->numel * sizeof(float));

		if (on_cpu) {
			t0 = now_ms();
			CHECK(paella_zoo_run_cpu(plan, blob, input, out));
			r->inst_p50 = now_ms() - t0;
		} else {
			float *ms = xmalloc(plan->nlaunches * sizeof(float));
			unsigned order[8] = { 0 };
			size_t in_bytes = io.input->numel * 4, out_bytes = io.logits->numel * 4;
			float *direct_out = xmalloc(out_bytes), *graph_out = xmalloc(out_bytes);
			struct paella_zoo_model *zi, *zn;
			struct paella_model *mi, *mn;

			CHECK(paella_zoo_model_create(serve, plan, blob, inst_variant, inst, 1, &zi));
			CHECK(paella_zoo_model_create(serve, plan, blob, PAELLA_ZOO_VARIANT_NOINST,
						      noinst, 1, &zn));
			mi = paella_zoo_model_runtime(zi);
			mn = paella_zoo_model_runtime(zn);
			run_job(mi, stream, SERVED, input, in_bytes, out, out_bytes, NULL);
			run_job(mn, stream, DIRECT, input, in_bytes, direct_out, out_bytes, NULL);
			run_job(mn, stream, DIRECT_GRAPH, input, in_bytes, graph_out, out_bytes, NULL);
			/* Direct mode is the benchmark's reference: what is served
			 * must equal it bit for bit. */
			if (memcmp(out, direct_out, out_bytes) != 0 ||
			    memcmp(out, graph_out, out_bytes) != 0) {
				printf("%s: served logits differ from direct mode's (%.2e) or its "
				       "graph's (%.2e)  FAIL\n", name,
				       rel_err(out, direct_out, io.logits->numel),
				       rel_err(out, graph_out, io.logits->numel));
				r->direct_differs = true;
			}
			latency(mi, stream, SERVED, input, in_bytes, direct_out, out_bytes, reps,
				&r->inst_p50, &r->inst_min);
			latency(mn, stream, DIRECT, input, in_bytes, direct_out, out_bytes, reps,
				&r->noinst_p50, &r->noinst_min);
			latency(mn, stream, DIRECT_GRAPH, input, in_bytes, direct_out, out_bytes,
				reps, &r->graph_p50, &r->graph_min);
			CHECK(paella_zoo_model_destroy(zi));
			CHECK(paella_zoo_model_destroy(zn));
			free(direct_out);
			free(graph_out);
			/* Every launch's GPU time, instrumented and not, alternating,
			 * median of PROFILE_ROUNDS: the instrumentation's cost at the
			 * shapes the models use (no completion signal in between). */
			{
				float *mi_ms = xmalloc((size_t)PROFILE_ROUNDS * plan->nlaunches * sizeof(float));
				float *mn_ms = xmalloc((size_t)PROFILE_ROUNDS * plan->nlaunches * sizeof(float));
				float *col = xmalloc(PROFILE_ROUNDS * sizeof(float));

				for (int k = 0; k < PROFILE_ROUNDS; k++)
					for (unsigned i = 0; i < plan->nlaunches; i++) {
						float *a = &mn_ms[(size_t)k * plan->nlaunches + i];
						float *b = &mi_ms[(size_t)k * plan->nlaunches + i];

						if (k & 1) {
							*b = launch_ms(prof_rt, plan, inst_variant, pinst, i);
							*a = launch_ms(prof_rt, plan, PAELLA_ZOO_VARIANT_NOINST,
								       pnoinst, i);
						} else {
							*a = launch_ms(prof_rt, plan, PAELLA_ZOO_VARIANT_NOINST,
								       pnoinst, i);
							*b = launch_ms(prof_rt, plan, inst_variant, pinst, i);
						}
					}
				r->overhead_logsum = 0.0;
				for (unsigned i = 0; i < plan->nlaunches; i++) {
					float plain, instr;

					for (int k = 0; k < PROFILE_ROUNDS; k++)
						col[k] = mn_ms[(size_t)k * plan->nlaunches + i];
					plain = median_f(col, PROFILE_ROUNDS);
					for (int k = 0; k < PROFILE_ROUNDS; k++)
						col[k] = mi_ms[(size_t)k * plan->nlaunches + i];
					instr = median_f(col, PROFILE_ROUNDS);
					ms[i] = plain;
					if (plain > 0.0f && instr > 0.0f)
						r->overhead_logsum += log((double)instr / plain);
					if (ovh != NULL) {
						const struct paella_zoo_launch *l = &plan->launches[i];

						fprintf(ovh, "%s,%u,%s,%s,%ux%ux%u,%ux%ux%u,%.5f,%.5f,%.4f\n",
							name, i, l->layer, l->kernel, l->grid[0], l->grid[1],
							l->grid[2], l->block[0], l->block[1], l->block[2],
							plain, instr, plain > 0.0f ? instr / plain : 0.0);
					}
				}
				r->overhead_geo = exp(r->overhead_logsum / plan->nlaunches);
				free(mi_ms);
				free(mn_ms);
				free(col);
			}
			r->gpu_sum = 0.0;
			for (unsigned i = 0; i < plan->nlaunches; i++) {
				const struct paella_zoo_launch *l = &plan->launches[i];

				r->gpu_sum += ms[i];
				if (prof != NULL)
					fprintf(prof, "%s,%u,%s,%s,%ux%ux%u,%.5f\n", name, i, l->layer,
						l->kernel, l->grid[0], l->grid[1], l->grid[2], ms[i]);
			}
			/* The slowest launches, for whoever tunes the kernels. */
			for (unsigned k = 0; k < 5 && k < plan->nlaunches; k++) {
				unsigned best = 0;
				float bv = -1.0f;

				for (unsigned i = 0; i < plan->nlaunches; i++) {
					bool used = false;

					for (unsigned j = 0; j < k; j++)
						used |= order[j] == i;
					if (!used && ms[i] > bv) {
						bv = ms[i];
						best = i;
					}
				}
				order[k] = best;
			}
			printf("%s: slowest launches:", name);
			for (unsigned k = 0; k < 5 && k < plan->nlaunches; k++)
				printf(" %s (%s) %.3f ms;", plan->launches[order[k]].layer,
				       plan->launches[order[k]].kernel, ms[order[k]]);
			printf("\n");
			free(ms);
		}
		r->err_torch = rel_err(out, want, io.logits->numel);
		r->err_ref = rel_err(out, want_ref, io.logits->numel);
		r->top1 = argmax(out, plan->classes) == argmax(want_ref, plan->classes);
		r->ok = r->err_torch <= MODEL_TOL && r->err_ref <= MODEL_TOL && !r->direct_differs;
		printf("%s: relative error %.2e against PyTorch fp32, %.2e against float64; top-1 %s"
		       "%s\n", name, r->err_torch, r->err_ref, r->top1 ? "same" : "DIFFERENT",
		       r->ok ? "" : "  FAIL");
		if (!r->ok) {
			bad++;
			snprintf(r->why, sizeof(r->why), "logits differ");
			if (!on_cpu && r->direct_differs)
				printf("  the served logits are not direct mode's: launch by launch, "
				       "served:\n");
			if (!on_cpu)
				find_bad_launch(serve, stream, SERVED, inst_variant, inst, plan, blob,
						input);
		}
		fflush(stdout);
		free(input);
		free(want);
		free(want_ref);
		free(out);
		free(blob);
		pzoo__st_close(io.st);
		paella_zoo_plan_free(plan);
	}
	if (prof != NULL)
		fclose(prof);
	if (ovh != NULL)
		fclose(ovh);
	snprintf(path, sizeof(path), "%s/torch_latency.csv", data);
	read_torch_csv(path, rows, n);

	if (csv_path != NULL && (csv = fopen(csv_path, "w")) != NULL) {
		fprintf(csv, "model,kernels,rel_err_torch,rel_err_f64,top1_same,ok,"
			"paella_inst_ms_p50,paella_inst_ms_min,paella_noinst_ms_p50,"
			"paella_noinst_ms_min,gpu_kernel_sum_ms,torch_eager_ms_p50,torch_graph_ms_p50,"
			"device,direct_graph_ms_p50,direct_graph_ms_min\n");
		for (unsigned i = 0; i < n; i++)
			fprintf(csv, "%s,%u,%.3e,%.3e,%d,%d,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,\"%s\","
				"%.4f,%.4f\n",
				rows[i].model, rows[i].kernels, rows[i].err_torch, rows[i].err_ref,
				rows[i].top1, rows[i].ok, rows[i].inst_p50, rows[i].inst_min,
				rows[i].noinst_p50, rows[i].noinst_min, rows[i].gpu_sum,
				rows[i].torch_eager, rows[i].torch_graph, device_name,
				rows[i].graph_p50, rows[i].graph_min);
		fclose(csv);
	}

	printf("\n%s, batch 1, fp32; latency: %s\n",
	       on_cpu ? "CPU reference interpreter" : device_name,
	       on_cpu ? "wall-clock ms of one run"
		      : "median ms of one job at a time, submitted to completed (paella_job_times)");
	if (on_cpu)
		printf("%-14s %7s %10s %10s %6s %10s\n", "model", "kernels", "err torch",
		       "err f64", "top-1", "cpu ms");
	else
		printf("%-14s %7s %9s %9s %5s | %8s %8s %8s %8s | %8s %8s | %6s\n", "model",
		       "kernels", "err torch", "err f64", "top-1", "paella", "direct", "d-graph",
		       "gpu sum", "torch", "graph", "/graph");
	for (unsigned i = 0; i < n; i++) {
		const struct mresult *r = &rows[i];

		if (!r->have) {
			printf("%-14s  %s\n", r->model, r->why);
			continue;
		}
		if (on_cpu) {
			printf("%-14s %7u %10.2e %10.2e %6s %10.0f%s\n", r->model, r->kernels,
			       r->err_torch, r->err_ref, r->top1 ? "same" : "DIFF", r->inst_p50,
			       r->ok ? "" : "  FAIL");
			continue;
		}
		printf("%-14s %7u %9.2e %9.2e %5s | %8.3f %8.3f %8.3f %8.3f | %8.3f %8.3f | ",
		       r->model, r->kernels, r->err_torch, r->err_ref, r->top1 ? "same" : "DIFF",
		       r->inst_p50, r->noinst_p50, r->graph_p50, r->gpu_sum, r->torch_eager,
		       r->torch_graph);
		if (r->torch_graph > 0.0)
			printf("%5.2fx", r->inst_p50 / r->torch_graph);
		else
			printf("%6s", "-");
		printf("%s\n", r->ok ? "" : "  FAIL");
	}
	if (!on_cpu) {
		double logsum = 0.0;
		unsigned launches = 0;

		printf("paella: a job served by Paella's dispatcher alone (paella_job_submit(), "
		       "%s images,\nthe runtime's defaults and PAELLA_* switches); direct: a direct "
		       "job (paella_job_submit_direct():\ninput copy, the uninstrumented kernels "
		       "back to back, output copy, on one stream); d-graph:\nthe same, its kernels "
		       "one CUDA graph replay (PAELLA_DIRECT_GRAPH); gpu sum: the kernels'\nGPU "
		       "times (uninstrumented, each profiled alone) added up; torch / graph: PyTorch "
		       "eager\nand CUDA-graph (cuDNN, TF32 off); /graph: paella over graph (goal: at "
		       "most 1.5x).\n", control ? "uninstrumented (control)" : "instrumented");
		printf("\ninstrumentation overhead at the models' shapes (each launch's GPU time, "
		       "instrumented code / plain,\neach a one-launch model profiled by "
		       "paella_model_finalize(); median of %d alternating rounds;\ngeometric mean over "
		       "the model's launches)%s:\n", PROFILE_ROUNDS,
		       control ? "\nCONTROL: both sides run the plain images (the method's own error)"
			       : "");
		for (unsigned i = 0; i < n; i++) {
			if (!rows[i].have || rows[i].overhead_geo <= 0.0)
				continue;
			printf("  %-14s %4u launches  %+6.2f%%\n", rows[i].model, rows[i].kernels,
			       (rows[i].overhead_geo - 1.0) * 100.0);
			logsum += rows[i].overhead_logsum;
			launches += rows[i].kernels;
		}
		if (launches > 0)
			printf("  %-14s %4u launches  %+6.2f%%\n", "all", launches,
			       (exp(logsum / launches) - 1.0) * 100.0);
	}
	printf("%u passed, %u failed\n", n - bad, bad);
	if (serve != NULL) {
		paella_stream_destroy(stream);
		CHECK(paella_zoo_modules_unload(inst));
		CHECK(paella_zoo_modules_unload(noinst));
		CHECK(paella_zoo_modules_unload(pinst));
		CHECK(paella_zoo_modules_unload(pnoinst));
		paella_runtime_destroy(prof_rt);
		paella_runtime_destroy(serve);
	}
	return bad ? EXIT_FAILURE : 0;
}

/* ---- main ---------------------------------------------------------------- */

static void
usage(FILE *fp)
{
	fputs("usage: zoo-check layers [--images DIR] [--seed N] [--cases N] [--csv FILE]\n"
	      "       zoo-check models --data DIR [--images DIR] [--models a,b] [--reps N]\n"
	      "                        [--csv FILE] [--profile FILE] [--control]\n"
	      "       zoo-check cpu-models --data DIR [--models a,b]\n", fp);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "images", required_argument, NULL, 'i' },
		{ "data", required_argument, NULL, 'd' },
		{ "models", required_argument, NULL, 'm' },
		{ "reps", required_argument, NULL, 'r' },
		{ "csv", required_argument, NULL, 'c' },
		{ "profile", required_argument, NULL, 'p' },
		{ "seed", required_argument, NULL, 's' },
		{ "cases", required_argument, NULL, 'n' },
		{ "control", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *images = ZOO_IMAGE_DIR, *data = NULL, *models = NULL, *csv = NULL;
	const char *profile = NULL, *cmd;
	int reps = 100, cases = 4, c;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			images = optarg;
			break;
		case 'd':
			data = optarg;
			break;
		case 'm':
			models = optarg;
			break;
		case 'r':
			reps = atoi(optarg) > 0 ? atoi(optarg) : 1;
			break;
		case 'c':
			csv = optarg;
			break;
		case 'p':
			profile = optarg;
			break;
		case 's':
			rng_state = strtoull(optarg, NULL, 0) * 0x9e3779b97f4a7c15ull + 1;
			break;
		case 'n':
			cases = atoi(optarg) > 0 ? atoi(optarg) : 1;
			break;
		case 'C':
			control = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (strcmp(cmd, "layers") == 0)
		return cmd_layers(images, cases, csv);
	if ((strcmp(cmd, "models") == 0 || strcmp(cmd, "cpu-models") == 0) && data != NULL)
		return cmd_models(data, images, models, reps, csv, profile,
				  strcmp(cmd, "cpu-models") == 0);
	usage(stderr);
	return 2;
}
