/*
 * builder.c - the plan builder (builder.h): layers to launches, the choice
 * of convolution kernel and split-K, and the placement of activations.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "zoo-private.h"

struct pzoo__zb {
	struct paella_zoo_plan *plan;
	struct paella_zoo_options opts;
	unsigned cap_tensors, cap_params, cap_storages, cap_launches;
	/* The split-K counters storage, -1 until a convolution splits. */
	int counters;
	bool oom;
	bool has_input, has_output;
};

/* ---- growth ------------------------------------------------------------ */

static bool
grow(struct pzoo__zb *b, void **arr, unsigned *cap, unsigned n, size_t elem)
{
	void *p;
	unsigned ncap;

	if (b->oom)
		return false;
	if (n < *cap)
		return true;
	ncap = *cap ? *cap * 2 : 64;
	p = realloc(*arr, (size_t)ncap * elem);
	if (p == NULL) {
		b->oom = true;
		return false;
	}
	memset((char *)p + (size_t)*cap * elem, 0, (size_t)(ncap - *cap) * elem);
	*arr = p;
	*cap = ncap;
	return true;
}

#define GROW(b, field, capfield, n) \
	grow((b), (void **)&(b)->plan->field, &(b)->capfield, (n), sizeof(*(b)->plan->field))

static void PZOO__PRINTF(3, 4)
name_fmt(char *dst, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, cap, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap)
		PZOO__BUG("name too long: %s", dst);
}

/* ---- tensors and params ------------------------------------------------ */

static int
add_tensor(struct pzoo__zb *b, const char *prefix, const char *suffix, bool parameter,
	   int ndim, const int64_t *shape)
{
	struct paella_zoo_plan *p = b->plan;
	struct paella_zoo_tensor *t;
	char name[PAELLA_ZOO_NAME_MAX];

	name_fmt(name, sizeof(name), "%s%s", prefix, suffix);
	for (unsigned i = 0; i < p->ntensors; i++)
		if (strcmp(p->tensors[i].name, name) == 0)
			PZOO__BUG("%s: tensor %s registered twice", p->model, name);
	if (!GROW(b, tensors, cap_tensors, p->ntensors))
		return -1;
	t = &p->tensors[p->ntensors];
	memcpy(t->name, name, sizeof(name));
	t->ndim = ndim;
	t->numel = 1;
	for (int i = 0; i < ndim; i++) {
		t->shape[i] = shape[i];
		t->numel *= (uint64_t)shape[i];
	}
	t->parameter = parameter;
	if (parameter)
		p->parameters += t->numel;
	return (int)p->ntensors++;
}

/* The four tensors of a batch norm over @c channels; returns the index of
 * its weight (bias, running_mean, running_var follow). */
static int
add_bn(struct pzoo__zb *b, const char *bn, int c)
{
	int64_t shape[1] = { c };
	int first = add_tensor(b, bn, ".weight", true, 1, shape);

	add_tensor(b, bn, ".bias", true, 1, shape);
	add_tensor(b, bn, ".running_mean", false, 1, shape);
	add_tensor(b, bn, ".running_var", false, 1, shape);
	return first;
}

static int
add_param(struct pzoo__zb *b, enum paella_zoo_recipe recipe, int weight, int bias, int bn,
	  float eps, int groups, uint64_t count)
{
	struct paella_zoo_plan *p = b->plan;

	if (!GROW(b, params, cap_params, p->nparams))
		return -1;
	p->params[p->nparams] = (struct paella_zoo_param){
		.recipe = recipe, .weight = weight, .bias = bias, .bn = bn, .eps = eps,
		.groups = groups, .offset = p->param_floats, .count = count,
	};
	p->param_floats += (count + PAELLA_ZOO_PARAM_ALIGN - 1) / PAELLA_ZOO_PARAM_ALIGN *
			   PAELLA_ZOO_PARAM_ALIGN;
	return (int)p->nparams++;
}

/* ---- storages and views -------------------------------------------------- */

static int
add_storage(struct pzoo__zb *b, const char *name, uint64_t floats, bool pinned)
{
	struct paella_zoo_plan *p = b->plan;
	struct paella_zoo_storage *s;

	if (!GROW(b, storages, cap_storages, p->nstorages))
		return -1;
	s = &p->storages[p->nstorages];
	name_fmt(s->name, sizeof(s->name), "%s", name);
	s->floats = floats;
	s->pinned = pinned;
	s->first = -1;
	s->last = -1;
	return (int)p->nstorages++;
}

struct pzoo__zv
pzoo__zb_new(struct pzoo__zb *b, const char *name, int c, int h, int w)
{
	struct pzoo__zv v = { -1, 0, c, c, h, w };

	v.storage = add_storage(b, name, (uint64_t)b->plan->batch * c * h * w, false);
	return v;
}

struct pzoo__zv
pzoo__zb_input(struct pzoo__zb *b, int c, int h, int w)
{
	struct pzoo__zv v = pzoo__zb_new(b, "input", c, h, w);

	if (b->has_input)
		PZOO__BUG("%s: two inputs", b->plan->model);
	b->has_input = true;
	b->plan->input = v.storage;
	b->plan->in_c = c;
	b->plan->in_h = h;
	b->plan->in_w = w;
	if (v.storage >= 0)
		b->plan->storages[v.storage].pinned = true;
	return v;
}

struct pzoo__zv
pzoo__zb_slice(struct pzoo__zv v, int coff, int c)
{
	if (coff < 0 || c < 1 || coff + c > v.c)
		PZOO__BUG("slice [%d, %d) of a view of %d channels", coff, coff + c, v.c);
	v.coff += coff;
	v.c = c;
	return v;
}

void
pzoo__zb_output(struct pzoo__zb *b, struct pzoo__zv v)
{
	if (b->has_output)
		PZOO__BUG("%s: two outputs", b->plan->model);
	if (v.coff != 0 || v.c != v.ctot)
		PZOO__BUG("%s: the output must be a whole storage", b->plan->model);
	b->has_output = true;
	b->plan->output = v.storage;
	b->plan->classes = v.c * v.h * v.w;
	if (v.storage >= 0)
		b->plan->storages[v.storage].pinned = true;
}

static void
check_view(const struct pzoo__zb *b, const char *layer, const char *what,
	   struct pzoo__zv v, int c, int h, int w)
{
	if (v.c != c || v.h != h || v.w != w)
		PZOO__BUG("%s: %s: %s is %dx%dx%d, the layer needs %dx%dx%d", b->plan->model,
			    layer, what, v.c, v.h, v.w, c, h, w);
}

/* ---- launches ---------------------------------------------------------- */

static struct paella_zoo_arg
a_view(struct pzoo__zv v)
{
	struct paella_zoo_arg a = { PAELLA_ZOO_ARG_ACT, v.storage, 0, 0.0f,
				     (uint64_t)v.coff * v.h * v.w };

	return a;
}

static struct paella_zoo_arg
a_storage(int storage, uint64_t offset)
{
	struct paella_zoo_arg a = { PAELLA_ZOO_ARG_ACT, storage, 0, 0.0f, offset };

	return a;
}

static struct paella_zoo_arg
a_param(int param)
{
	struct paella_zoo_arg a = { PAELLA_ZOO_ARG_PARAM, param, 0, 0.0f, 0 };

	if (param < 0)
		a.kind = PAELLA_ZOO_ARG_NULL;
	return a;
}

static struct paella_zoo_arg
a_null(void)
{
	struct paella_zoo_arg a = { PAELLA_ZOO_ARG_NULL, -1, 0, 0.0f, 0 };

	return a;
}

static struct paella_zoo_arg
a_i32(int v)
{
	struct paella_zoo_arg a = { PAELLA_ZOO_ARG_I32, -1, v, 0.0f, 0 };

	return a;
}

static struct paella_zoo_launch *
add_launch(struct pzoo__zb *b, enum paella_zoo_op op, enum paella_zoo_image image,
	   const char *kernel, const char *layer, unsigned nargs)
{
	struct paella_zoo_plan *p = b->plan;
	struct paella_zoo_launch *l;

	if (!GROW(b, launches, cap_launches, p->nlaunches))
		return NULL;
	l = &p->launches[p->nlaunches++];
	memset(l, 0, sizeof(*l));
	l->op = op;
	l->image = image;
	l->kernel = kernel;
	l->nargs = nargs;
	l->block[0] = PZOO__LAYER_THREADS;
	l->block[1] = l->block[2] = 1;
	l->grid[1] = l->grid[2] = 1;
	name_fmt(l->layer, sizeof(l->layer), "%s", layer);
	return l;
}

static uint32_t
blocks_for(uint64_t threads)
{
	uint64_t n = (threads + PZOO__LAYER_THREADS - 1) / PZOO__LAYER_THREADS;

	if (n == 0 || n > 0x7fffffffu)
		PZOO__BUG("a grid of %llu blocks", (unsigned long long)n);
	return (uint32_t)n;
}

/* ---- convolution ------------------------------------------------------- */

struct conv_cfg {
	const char *kernel, *kernel_1x1;
	int bm, bn;
	/* Relative throughput of a block's inner loop: 8x4 register
	 * blocks load less shared memory per multiply-add than 4x4. */
	double eff;
};

static const struct conv_cfg conv_cfgs[] = {
	{ "conv2d_igemm_64x64", "conv2d_igemm_64x64_1x1", 64, 64, 1.0 },
	{ "conv2d_igemm_128x64", "conv2d_igemm_128x64_1x1", 128, 64, 1.25 },
	{ "conv2d_igemm_128x32", "conv2d_igemm_128x32_1x1", 128, 32, 1.0 },
	{ "conv2d_igemm_32x128", "conv2d_igemm_32x128_1x1", 32, 128, 0.9 },
};

/* Most reduction slices a convolution is cut into. */
#define MAX_SPLITS PAELLA_ZOO_MAX_SPLITS

bool
pzoo__zb_conv_kernel_known(const char *name)
{
	for (unsigned i = 0; i < PZOO__ARRAY_SIZE(conv_cfgs); i++)
		if (strcmp(name, conv_cfgs[i].kernel) == 0 ||
		    strcmp(name, conv_cfgs[i].kernel_1x1) == 0)
			return true;
	return false;
}
/* Blocks of an implicit-GEMM kernel resident on one multiprocessor (256
 * threads at about 128 registers). */
#define BLOCKS_PER_SM 2

struct conv_choice {
	const struct conv_cfg *cfg;
	int splits;
	int k_per_split;
	double cost;
};

/*
 * Picks the tile and split-K of an implicit-GEMM convolution with a rough
 * model of time: blocks run in waves of (SMs x BLOCKS_PER_SM); a block costs
 * its reduction steps times its tile area (over the config's efficiency),
 * a fixed start and epilogue, and with split-K the partial tile round trip.
 * At batch 1 the late layers have few output tiles and long reductions:
 * split-K is what fills the GPU.
 */
static struct conv_choice
choose_conv(const struct pzoo__zb *b, int mg, int npix, int kred, int groups)
{
	const int ksteps = (kred + PZOO__CONV_BK - 1) / PZOO__CONV_BK;
	const double slots = (double)b->opts.num_sms * BLOCKS_PER_SM;
	struct conv_choice best = { NULL, 1, 0, INFINITY };

	for (unsigned i = 0; i < PZOO__ARRAY_SIZE(conv_cfgs); i++) {
		const struct conv_cfg *cfg = &conv_cfgs[i];
		double tiles = (double)((mg + cfg->bm - 1) / cfg->bm) *
			       ((npix + cfg->bn - 1) / cfg->bn) * groups;
		double u = cfg->bm * cfg->bn / 4096.0 / cfg->eff;

		if (b->opts.force_conv_kernel != NULL &&
		    strcmp(b->opts.force_conv_kernel, cfg->kernel) != 0 &&
		    strcmp(b->opts.force_conv_kernel, cfg->kernel_1x1) != 0)
			continue;
		for (int s = 1; s <= MAX_SPLITS && s <= ksteps; s++) {
			int steps = (ksteps + s - 1) / s;
			int seff = (ksteps + steps - 1) / steps;
			double blocks, t, cost;

			/* Tests force a split count, empty slices included
			 * (a slice past the reduction adds zeros). */
			if (b->opts.force_splits > 0) {
				if (s > 1)
					break;
				seff = b->opts.force_splits;
				steps = (ksteps + seff - 1) / seff;
			}
			blocks = tiles * seff;
			t = steps * u + 2.0;
			if (seff > 1)
				t += 1.0 + 0.25 * u * seff;
			cost = ceil(blocks / slots) * t;
			/* Prefer fewer splits unless clearly faster. */
			if (cost < best.cost * 0.98) {
				best.cfg = cfg;
				best.splits = seff;
				best.k_per_split = steps * PZOO__CONV_BK;
				best.cost = cost;
			}
		}
	}
	if (best.cfg == NULL)
		PZOO__BUG("no convolution kernel for the forced choice %s / %d splits",
			    b->opts.force_conv_kernel ? b->opts.force_conv_kernel : "-",
			    b->opts.force_splits);
	return best;
}

struct pzoo__zv
pzoo__zb_conv(struct pzoo__zb *b, struct pzoo__zv x, const struct pzoo__zb_conv *o)
{
	struct paella_zoo_plan *p = b->plan;
	const int n = p->batch, groups = o->groups > 0 ? o->groups : 1;
	const int c = x.c, m = o->m;
	const int P = (x.h + 2 * o->ph - o->kh) / o->sh + 1;
	const int Q = (x.w + 2 * o->pw - o->kw) / o->sw + 1;
	const int cg = c / groups, mg = m / groups;
	const int kred = cg * o->kh * o->kw;
	const int npix = n * P * Q;
	int64_t wshape[4] = { m, cg, o->kh, o->kw }, bshape[1] = { m };
	int wt, bt = -1, bn = -1, pw_param, pb_param = -1, ps = -1, pf = -1;
	struct pzoo__zv y;
	struct paella_zoo_launch *l;
	bool pointwise, depthwise;

	if (c % groups != 0 || m % groups != 0 || P < 1 || Q < 1)
		PZOO__BUG("%s: %s: %d -> %d channels, %d groups, %dx%d input, %dx%d kernel",
			    p->model, o->conv, c, m, groups, x.h, x.w, o->kh, o->kw);

	/* STEP 1: the file's tensors and the params made of them. */
	wt = add_tensor(b, o->conv, ".weight", true, 4, wshape);
	if (o->bias)
		bt = add_tensor(b, o->conv, ".bias", true, 1, bshape);
	if (o->bn != NULL)
		bn = add_bn(b, o->bn, m);
	pw_param = add_param(b, PAELLA_ZOO_P_CONV_WEIGHT, wt, bt, bn, o->eps, groups,
			     (uint64_t)m * kred);
	if (bt >= 0 || bn >= 0)
		pb_param = add_param(b, PAELLA_ZOO_P_CONV_BIAS, wt, bt, bn, o->eps, groups,
				     (uint64_t)m);
	if (o->pre_bn != NULL) {
		int pre = add_bn(b, o->pre_bn, c);

		ps = add_param(b, PAELLA_ZOO_P_BN_SCALE, -1, -1, pre, o->pre_eps, 1, (uint64_t)c);
		pf = add_param(b, PAELLA_ZOO_P_BN_SHIFT, -1, -1, pre, o->pre_eps, 1, (uint64_t)c);
	}

	/* STEP 2: the output. */
	if (o->out != NULL) {
		y = *o->out;
		check_view(b, o->conv, "the output view", y, m, P, Q);
	} else {
		y = pzoo__zb_new(b, o->conv, m, P, Q);
	}
	if (o->res != NULL)
		check_view(b, o->conv, "the residual", *o->res, m, P, Q);

	/* STEP 3: the kernel. */
	depthwise = cg == 1 && mg == 1;
	pointwise = o->kh == 1 && o->kw == 1 && o->sh == 1 && o->sw == 1 && o->ph == 0 &&
		    o->pw == 0;
	if (depthwise && (b->opts.force_conv_kernel == NULL ||
			  strcmp(b->opts.force_conv_kernel, "dwconv2d") == 0)) {
		l = add_launch(b, PAELLA_ZOO_OP_CONV, PAELLA_ZOO_IMAGE_CONV2D, "dwconv2d", o->conv,
			       PZOO__CONV_NARGS);
		if (l == NULL)
			return y;
		l->grid[0] = blocks_for((uint64_t)n * m * P * Q);
		l->args[PZOO__CONV_WS] = a_null();
		l->args[PZOO__CONV_COUNTERS] = a_null();
		l->args[PZOO__CONV_SPLITS] = a_i32(1);
		l->args[PZOO__CONV_K_PER_SPLIT] = a_i32(kred);
	} else {
		struct conv_choice ch = choose_conv(b, mg, npix, kred, groups);
		int tiles_x = (npix + ch.cfg->bn - 1) / ch.cfg->bn;
		int tiles_y = (mg + ch.cfg->bm - 1) / ch.cfg->bm;

		l = add_launch(b, PAELLA_ZOO_OP_CONV, PAELLA_ZOO_IMAGE_CONV2D,
			       pointwise ? ch.cfg->kernel_1x1 : ch.cfg->kernel, o->conv,
			       PZOO__CONV_NARGS);
		if (l == NULL)
			return y;
		l->grid[0] = (uint32_t)tiles_x;
		l->grid[1] = (uint32_t)tiles_y;
		l->grid[2] = (uint32_t)(groups * ch.splits);
		if (tiles_y > 65535 || groups * ch.splits > 65535)
			PZOO__BUG("%s: %s: grid too large", p->model, o->conv);
		if (ch.splits > 1) {
			uint64_t tiles = (uint64_t)tiles_x * tiles_y * groups;
			char wsname[PAELLA_ZOO_NAME_MAX];
			int ws;
			uint64_t cbase;

			name_fmt(wsname, sizeof(wsname), "%s.splitk", o->conv);
			ws = add_storage(b, wsname, tiles * ch.splits * ch.cfg->bm * ch.cfg->bn,
					 false);
			if (b->counters < 0)
				b->counters = add_storage(b, "splitk.counters", 0, true);
			if (ws < 0 || b->counters < 0)
				return y;
			cbase = p->storages[b->counters].floats;
			p->storages[b->counters].floats += tiles;
			l->args[PZOO__CONV_WS] = a_storage(ws, 0);
			l->args[PZOO__CONV_COUNTERS] = a_storage(b->counters, cbase);
		} else {
			l->args[PZOO__CONV_WS] = a_null();
			l->args[PZOO__CONV_COUNTERS] = a_null();
		}
		l->args[PZOO__CONV_SPLITS] = a_i32(ch.splits);
		l->args[PZOO__CONV_K_PER_SPLIT] = a_i32(ch.splits > 1 ? ch.k_per_split : kred);
	}
	l->args[PZOO__CONV_X] = a_view(x);
	l->args[PZOO__CONV_X_CTOT] = a_i32(x.ctot);
	l->args[PZOO__CONV_IN_SCALE] = a_param(ps);
	l->args[PZOO__CONV_IN_SHIFT] = a_param(pf);
	l->args[PZOO__CONV_W] = a_param(pw_param);
	l->args[PZOO__CONV_BIAS] = a_param(pb_param);
	if (o->res != NULL) {
		l->args[PZOO__CONV_RES] = a_view(*o->res);
		l->args[PZOO__CONV_RES_CTOT] = a_i32(o->res->ctot);
	} else {
		l->args[PZOO__CONV_RES] = a_null();
		l->args[PZOO__CONV_RES_CTOT] = a_i32(0);
	}
	l->args[PZOO__CONV_Y] = a_view(y);
	l->args[PZOO__CONV_Y_CTOT] = a_i32(y.ctot);
	l->args[PZOO__CONV_N] = a_i32(n);
	l->args[PZOO__CONV_C] = a_i32(c);
	l->args[PZOO__CONV_H] = a_i32(x.h);
	l->args[PZOO__CONV_W_IN] = a_i32(x.w);
	l->args[PZOO__CONV_M] = a_i32(m);
	l->args[PZOO__CONV_P] = a_i32(P);
	l->args[PZOO__CONV_Q] = a_i32(Q);
	l->args[PZOO__CONV_R] = a_i32(o->kh);
	l->args[PZOO__CONV_S] = a_i32(o->kw);
	l->args[PZOO__CONV_SH] = a_i32(o->sh);
	l->args[PZOO__CONV_SW] = a_i32(o->sw);
	l->args[PZOO__CONV_PH] = a_i32(o->ph);
	l->args[PZOO__CONV_PW] = a_i32(o->pw);
	l->args[PZOO__CONV_GROUPS] = a_i32(groups);
	l->args[PZOO__CONV_ACT] = a_i32((int)o->act);
	l->flops = 2.0 * npix * m * (double)kred;
	p->flops += l->flops;
	return y;
}

/* ---- pooling ----------------------------------------------------------- */

int
pzoo__zb_pool_out(int in, int k, int s, int p, bool ceil_mode)
{
	int num = in + 2 * p - k + (ceil_mode ? s - 1 : 0);
	int out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;

	/* PyTorch: the last window must start inside the input or its left
	 * padding. */
	if (ceil_mode && (out - 1) * s >= in + p)
		out--;
	return out;
}

static struct pzoo__zv
pool(struct pzoo__zb *b, bool max, const char *name, struct pzoo__zv x, int k, int s, int p,
     bool ceil_mode, bool count_include_pad, const struct pzoo__zv *out)
{
	struct paella_zoo_plan *pl = b->plan;
	const int P = pzoo__zb_pool_out(x.h, k, s, p, ceil_mode);
	const int Q = pzoo__zb_pool_out(x.w, k, s, p, ceil_mode);
	struct pzoo__zv y;
	struct paella_zoo_launch *l;

	if (P < 1 || Q < 1 || p * 2 > k)
		PZOO__BUG("%s: %s: pooling %dx%d by %d/%d/%d", pl->model, name, x.h, x.w, k, s, p);
	if (out != NULL) {
		y = *out;
		check_view(b, name, "the output view", y, x.c, P, Q);
	} else {
		y = pzoo__zb_new(b, name, x.c, P, Q);
	}
	l = add_launch(b, max ? PAELLA_ZOO_OP_MAXPOOL : PAELLA_ZOO_OP_AVGPOOL,
		       PAELLA_ZOO_IMAGE_POOL, max ? "maxpool2d" : "avgpool2d", name,
		       PZOO__POOL_NARGS);
	if (l == NULL)
		return y;
	l->grid[0] = blocks_for((uint64_t)pl->batch * x.c * P * Q);
	l->args[PZOO__POOL_X] = a_view(x);
	l->args[PZOO__POOL_X_CTOT] = a_i32(x.ctot);
	l->args[PZOO__POOL_Y] = a_view(y);
	l->args[PZOO__POOL_Y_CTOT] = a_i32(y.ctot);
	l->args[PZOO__POOL_N] = a_i32(pl->batch);
	l->args[PZOO__POOL_C] = a_i32(x.c);
	l->args[PZOO__POOL_H] = a_i32(x.h);
	l->args[PZOO__POOL_W] = a_i32(x.w);
	l->args[PZOO__POOL_P] = a_i32(P);
	l->args[PZOO__POOL_Q] = a_i32(Q);
	l->args[PZOO__POOL_R] = a_i32(k);
	l->args[PZOO__POOL_S] = a_i32(k);
	l->args[PZOO__POOL_SH] = a_i32(s);
	l->args[PZOO__POOL_SW] = a_i32(s);
	l->args[PZOO__POOL_PH] = a_i32(p);
	l->args[PZOO__POOL_PW] = a_i32(p);
	l->args[PZOO__POOL_COUNT_INCLUDE_PAD] = a_i32(count_include_pad);
	l->flops = (double)pl->batch * x.c * P * Q * k * k;
	pl->flops += l->flops;
	return y;
}

struct pzoo__zv
pzoo__zb_maxpool(struct pzoo__zb *b, const char *name, struct pzoo__zv x, int k, int s,
		   int p, bool ceil_mode, const struct pzoo__zv *out)
{
	return pool(b, true, name, x, k, s, p, ceil_mode, false, out);
}

struct pzoo__zv
pzoo__zb_avgpool(struct pzoo__zb *b, const char *name, struct pzoo__zv x, int k, int s,
		   int p, bool ceil_mode, bool count_include_pad, const struct pzoo__zv *out)
{
	return pool(b, false, name, x, k, s, p, ceil_mode, count_include_pad, out);
}

struct pzoo__zv
pzoo__zb_adaptive_avgpool(struct pzoo__zb *b, const char *name, struct pzoo__zv x,
			    int oh, int ow, const char *pre_bn, float pre_eps)
{
	struct paella_zoo_plan *pl = b->plan;
	struct pzoo__zv y = pzoo__zb_new(b, name, x.c, oh, ow);
	struct paella_zoo_launch *l;
	int ps = -1, pf = -1;
	uint64_t warps = (uint64_t)pl->batch * x.c * oh * ow;

	if (pre_bn != NULL) {
		int bn = add_bn(b, pre_bn, x.c);

		ps = add_param(b, PAELLA_ZOO_P_BN_SCALE, -1, -1, bn, pre_eps, 1, (uint64_t)x.c);
		pf = add_param(b, PAELLA_ZOO_P_BN_SHIFT, -1, -1, bn, pre_eps, 1, (uint64_t)x.c);
	}
	l = add_launch(b, PAELLA_ZOO_OP_ADAPTIVE_AVGPOOL, PAELLA_ZOO_IMAGE_POOL,
		       "adaptive_avgpool2d", name, PZOO__APOOL_NARGS);
	if (l == NULL)
		return y;
	l->grid[0] = blocks_for(warps * 32);
	l->args[PZOO__APOOL_X] = a_view(x);
	l->args[PZOO__APOOL_X_CTOT] = a_i32(x.ctot);
	l->args[PZOO__APOOL_IN_SCALE] = a_param(ps);
	l->args[PZOO__APOOL_IN_SHIFT] = a_param(pf);
	l->args[PZOO__APOOL_Y] = a_view(y);
	l->args[PZOO__APOOL_Y_CTOT] = a_i32(y.ctot);
	l->args[PZOO__APOOL_N] = a_i32(pl->batch);
	l->args[PZOO__APOOL_C] = a_i32(x.c);
	l->args[PZOO__APOOL_H] = a_i32(x.h);
	l->args[PZOO__APOOL_W] = a_i32(x.w);
	l->args[PZOO__APOOL_P] = a_i32(oh);
	l->args[PZOO__APOOL_Q] = a_i32(ow);
	l->flops = (double)pl->batch * x.c * x.h * x.w;
	pl->flops += l->flops;
	return y;
}

/* ---- fully connected, softmax, add ------------------------------------- */

struct pzoo__zv
pzoo__zb_linear(struct pzoo__zb *b, const char *name, struct pzoo__zv x, int out_features,
		  bool bias, enum pzoo__act act)
{
	struct paella_zoo_plan *pl = b->plan;
	const int in = x.c * x.h * x.w;
	int64_t wshape[2] = { out_features, in }, bshape[1] = { out_features };
	int wt, bt = -1, pw, pb = -1;
	struct pzoo__zv y;
	struct paella_zoo_launch *l;

	if (x.coff != 0 || x.c != x.ctot)
		PZOO__BUG("%s: %s: the input of a linear layer must be a whole storage",
			    pl->model, name);
	wt = add_tensor(b, name, ".weight", true, 2, wshape);
	pw = add_param(b, PAELLA_ZOO_P_COPY, wt, -1, -1, 0.0f, 1, (uint64_t)out_features * in);
	if (bias) {
		bt = add_tensor(b, name, ".bias", true, 1, bshape);
		pb = add_param(b, PAELLA_ZOO_P_COPY, bt, -1, -1, 0.0f, 1, (uint64_t)out_features);
	}
	y = pzoo__zb_new(b, name, out_features, 1, 1);
	l = add_launch(b, PAELLA_ZOO_OP_LINEAR, PAELLA_ZOO_IMAGE_LINEAR, "linear", name,
		       PZOO__LINEAR_NARGS);
	if (l == NULL)
		return y;
	l->grid[0] = blocks_for((uint64_t)out_features * 32);
	l->args[PZOO__LINEAR_X] = a_view(x);
	l->args[PZOO__LINEAR_W] = a_param(pw);
	l->args[PZOO__LINEAR_B] = a_param(pb);
	l->args[PZOO__LINEAR_Y] = a_view(y);
	l->args[PZOO__LINEAR_N] = a_i32(pl->batch);
	l->args[PZOO__LINEAR_I] = a_i32(in);
	l->args[PZOO__LINEAR_O] = a_i32(out_features);
	l->args[PZOO__LINEAR_ACT] = a_i32((int)act);
	l->flops = 2.0 * pl->batch * in * (double)out_features;
	pl->flops += l->flops;
	return y;
}

struct pzoo__zv
pzoo__zb_softmax(struct pzoo__zb *b, const char *name, struct pzoo__zv x)
{
	struct paella_zoo_plan *pl = b->plan;
	const int cols = x.c * x.h * x.w;
	struct pzoo__zv y = pzoo__zb_new(b, name, x.c, x.h, x.w);
	struct paella_zoo_launch *l;

	if (x.coff != 0 || x.c != x.ctot)
		PZOO__BUG("%s: %s: softmax needs a whole storage", pl->model, name);
	l = add_launch(b, PAELLA_ZOO_OP_SOFTMAX, PAELLA_ZOO_IMAGE_LINEAR, "softmax", name,
		       PZOO__SOFTMAX_NARGS);
	if (l == NULL)
		return y;
	l->grid[0] = (uint32_t)pl->batch;
	l->args[PZOO__SOFTMAX_X] = a_view(x);
	l->args[PZOO__SOFTMAX_Y] = a_view(y);
	l->args[PZOO__SOFTMAX_ROWS] = a_i32(pl->batch);
	l->args[PZOO__SOFTMAX_COLS] = a_i32(cols);
	l->flops = 3.0 * pl->batch * cols;
	pl->flops += l->flops;
	return y;
}

struct pzoo__zv
pzoo__zb_add(struct pzoo__zb *b, const char *name, struct pzoo__zv a, struct pzoo__zv c,
	       enum pzoo__act act)
{
	struct paella_zoo_plan *pl = b->plan;
	const uint64_t n = (uint64_t)pl->batch * a.c * a.h * a.w;
	struct pzoo__zv y = pzoo__zb_new(b, name, a.c, a.h, a.w);
	struct paella_zoo_launch *l;

	if (a.coff != 0 || a.c != a.ctot || c.coff != 0 || c.c != c.ctot)
		PZOO__BUG("%s: %s: add needs whole storages", pl->model, name);
	check_view(b, name, "the second operand", c, a.c, a.h, a.w);
	if (n > 0x7fffffffu)
		PZOO__BUG("%s: %s: %llu elements", pl->model, name, (unsigned long long)n);
	l = add_launch(b, PAELLA_ZOO_OP_ADD, PAELLA_ZOO_IMAGE_LINEAR, "add", name,
		       PZOO__ADD_NARGS);
	if (l == NULL)
		return y;
	l->grid[0] = blocks_for((n + 3) / 4);
	l->args[PZOO__ADD_A] = a_view(a);
	l->args[PZOO__ADD_B] = a_view(c);
	l->args[PZOO__ADD_Y] = a_view(y);
	l->args[PZOO__ADD_N] = a_i32((int)n);
	l->args[PZOO__ADD_ACT] = a_i32((int)act);
	l->flops = (double)n;
	pl->flops += l->flops;
	return y;
}

/* ---- the builder ------------------------------------------------------- */

struct pzoo__zb *
pzoo__zb_create(const char *model, const struct paella_zoo_options *opts)
{
	struct pzoo__zb *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->plan = calloc(1, sizeof(*b->plan));
	if (b->plan == NULL) {
		free(b);
		return NULL;
	}
	if (opts != NULL)
		b->opts = *opts;
	if (b->opts.batch <= 0)
		b->opts.batch = 1;
	if (b->opts.num_sms <= 0)
		b->opts.num_sms = 132;
	snprintf(b->plan->model, sizeof(b->plan->model), "%s", model);
	b->plan->batch = b->opts.batch;
	b->plan->input = b->plan->output = -1;
	b->counters = -1;
	return b;
}

int
pzoo__zb_batch(const struct pzoo__zb *b)
{
	return b->plan->batch;
}

void
pzoo__zb_ignore(struct pzoo__zb *b, const char *const *prefixes)
{
	b->plan->ignore = prefixes;
}

void
pzoo__zb_abort(struct pzoo__zb *b)
{
	if (b == NULL)
		return;
	paella_zoo_plan_free(b->plan);
	free(b);
}

static uint64_t
align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

static int
cmp_by_size(const void *pa, const void *pb, void *ctx)
{
	const struct paella_zoo_storage *s = ctx;
	unsigned a = *(const unsigned *)pa, b = *(const unsigned *)pb;

	if (s[a].floats != s[b].floats)
		return s[a].floats > s[b].floats ? -1 : 1;
	return a < b ? -1 : a > b;
}

/*
 * Places the storages in one arena: each storage lives from the first to
 * the last launch that names it (pinned ones for the whole run); largest
 * first, each goes to the lowest offset where it overlaps no placed storage
 * that is live at the same time.
 */
static bool
place_storages(struct paella_zoo_plan *p)
{
	unsigned *order = NULL, nplaced = 0;

	for (unsigned i = 0; i < p->nlaunches; i++) {
		const struct paella_zoo_launch *l = &p->launches[i];

		for (unsigned a = 0; a < l->nargs; a++) {
			struct paella_zoo_storage *s;

			if (l->args[a].kind != PAELLA_ZOO_ARG_ACT)
				continue;
			s = &p->storages[l->args[a].ref];
			if (s->first < 0)
				s->first = (int)i;
			s->last = (int)i;
		}
	}
	p->storage_bytes = 0;
	for (unsigned i = 0; i < p->nstorages; i++) {
		struct paella_zoo_storage *s = &p->storages[i];

		if (s->pinned || s->first < 0) {
			s->first = 0;
			s->last = p->nlaunches > 0 ? (int)p->nlaunches - 1 : 0;
		}
		p->storage_bytes += align_up(s->floats * 4, PAELLA_ZOO_ARENA_ALIGN);
	}

	order = malloc((p->nstorages + 1) * sizeof(*order));
	if (order == NULL)
		return false;
	for (unsigned i = 0; i < p->nstorages; i++)
		order[i] = i;
	qsort_r(order, p->nstorages, sizeof(*order), cmp_by_size, p->storages);

	p->arena_bytes = 0;
	for (unsigned k = 0; k < p->nstorages; k++) {
		struct paella_zoo_storage *s = &p->storages[order[k]];
		uint64_t size = align_up(s->floats * 4 ? s->floats * 4 : 4, PAELLA_ZOO_ARENA_ALIGN);
		uint64_t off = 0;
		bool moved = true;

		/* Fixed point: bump past every live overlap until none. */
		while (moved) {
			moved = false;
			for (unsigned j = 0; j < nplaced; j++) {
				const struct paella_zoo_storage *t = &p->storages[order[j]];
				uint64_t tsize = align_up(t->floats * 4 ? t->floats * 4 : 4,
							  PAELLA_ZOO_ARENA_ALIGN);

				if (t->last < s->first || s->last < t->first)
					continue;
				if (off < t->offset + tsize && t->offset < off + size) {
					off = t->offset + tsize;
					moved = true;
				}
			}
		}
		s->offset = off;
		if (off + size > p->arena_bytes)
			p->arena_bytes = off + size;
		nplaced++;
	}
	free(order);
	return true;
}

enum paella_status
pzoo__zb_finish(struct pzoo__zb *b, struct paella_zoo_plan **out)
{
	struct paella_zoo_plan *p = b->plan;

	*out = NULL;
	if (b->oom || !place_storages(p)) {
		pzoo__zb_abort(b);
		return pzoo__error_set(PAELLA_STATUS_NO_MEMORY, "building a plan: out of memory");
	}
	if (!b->has_input || !b->has_output)
		PZOO__BUG("%s: a plan needs an input and an output", p->model);
	free(b);
	*out = p;
	return PAELLA_STATUS_OK;
}

void
paella_zoo_plan_free(struct paella_zoo_plan *plan)
{
	if (plan == NULL)
		return;
	free(plan->tensors);
	free(plan->params);
	free(plan->storages);
	free(plan->launches);
	free(plan);
}

const char *
paella_zoo_image_name(enum paella_zoo_image image)
{
	switch (image) {
	case PAELLA_ZOO_IMAGE_CONV2D:
		return "conv2d";
	case PAELLA_ZOO_IMAGE_POOL:
		return "pool";
	case PAELLA_ZOO_IMAGE_LINEAR:
		return "linear";
	case PAELLA_ZOO_NIMAGES:
		break;
	}
	return "?";
}
