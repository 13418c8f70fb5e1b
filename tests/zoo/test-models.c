/*
 * test-models - the model plans: torchvision's parameter counts and names,
 * output shapes, launches whose arguments are all bound, activation
 * placement that never lets two live storages share memory, and PyTorch's
 * pooling output sizes.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "zoo-private.h"
#include "paella/zoo.h"
#include "../check-main.h"

static const struct {
	const char *name;
	uint64_t parameters; /* sum(p.numel() for p in model.parameters()) */
	unsigned launches;
	int in_h;
	const char *tensor; /* one state-dict entry and its shape */
	int64_t shape[4];
} expected[] = {
	{ "resnet18", 11689512, 23, 224, "layer4.1.conv2.weight", { 512, 512, 3, 3 } },
	{ "resnet34", 21797672, 39, 224, "layer3.5.bn2.running_var", { 256 } },
	{ "resnet50", 25557032, 56, 224, "layer4.2.conv3.weight", { 2048, 512, 1, 1 } },
	{ "mobilenet_v2", 3504872, 54, 224, "features.17.conv.2.weight", { 320, 960, 1, 1 } },
	{ "squeezenet1_1", 1235496, 30, 224, "features.12.expand3x3.weight", { 256, 64, 3, 3 } },
	{ "densenet121", 7978856, 126, 224, "features.denseblock4.denselayer16.conv2.weight",
	  { 32, 128, 3, 3 } },
	{ "googlenet", 6624904, 72, 224, "inception5b.branch4.1.conv.weight", { 128, 832, 1, 1 } },
	/* Without AuxLogits (torchvision's 27,161,264 includes them). */
	{ "inception_v3", 23834568, 109, 299, "Mixed_7c.branch3x3dbl_3b.conv.weight",
	  { 384, 384, 3, 1 } },
};
#define NMODELS ((int)(sizeof(expected) / sizeof(expected[0])))

static const struct paella_zoo_tensor *
find_tensor(const struct paella_zoo_plan *p, const char *name)
{
	for (unsigned i = 0; i < p->ntensors; i++)
		if (strcmp(p->tensors[i].name, name) == 0)
			return &p->tensors[i];
	return NULL;
}

PAELLA_LOOP_TEST(models_match_torchvision, NMODELS)
{
	const unsigned i = (unsigned)_i;
	struct paella_zoo_plan *p;
	const struct paella_zoo_tensor *t;
	uint64_t params = 0;

	ck_assert_uint_eq(paella_zoo_model_count(), 8);
	ck_assert_int_eq(paella_zoo_build(expected[i].name, NULL, &p), PAELLA_STATUS_OK);
	ck_assert_str_eq(p->model, expected[i].name);
	ck_assert_uint_eq(p->parameters, expected[i].parameters);
	ck_assert_uint_eq(p->nlaunches, expected[i].launches);
	ck_assert_int_eq(p->batch, 1);
	ck_assert_int_eq(p->in_c, 3);
	ck_assert_int_eq(p->in_h, expected[i].in_h);
	ck_assert_int_eq(p->in_w, expected[i].in_h);
	ck_assert_int_eq(p->classes, 1000);
	ck_assert_uint_eq(p->storages[p->output].floats, 1000);
	ck_assert_uint_eq(p->storages[p->input].floats, 3ull * expected[i].in_h * expected[i].in_h);
	t = find_tensor(p, expected[i].tensor);
	ck_assert_msg(t != NULL, "%s: no tensor %s", expected[i].name, expected[i].tensor);
	for (int d = 0; d < t->ndim; d++)
		ck_assert_int_eq(t->shape[d], expected[i].shape[d]);
	for (unsigned k = 0; k < p->ntensors; k++)
		if (p->tensors[k].parameter)
			params += p->tensors[k].numel;
	ck_assert_uint_eq(params, expected[i].parameters);
	ck_assert_msg(p->flops > 1e8, "%s: %g FLOPs", p->model, p->flops);
	paella_zoo_plan_free(p);
}
END_TEST

/* Every launch binds every argument, to something that exists; grids are
 * within the hardware's limits. */
PAELLA_LOOP_TEST(models_launches_are_bound, NMODELS)
{
	const unsigned i = (unsigned)_i;
	struct paella_zoo_plan *p;

	ck_assert_int_eq(paella_zoo_build(expected[i].name, NULL, &p), PAELLA_STATUS_OK);
	for (unsigned l = 0; l < p->nlaunches; l++) {
		const struct paella_zoo_launch *L = &p->launches[l];
		unsigned want = 0;

		switch (L->op) {
		case PAELLA_ZOO_OP_CONV:
			want = PZOO__CONV_NARGS;
			break;
		case PAELLA_ZOO_OP_MAXPOOL:
		case PAELLA_ZOO_OP_AVGPOOL:
			want = PZOO__POOL_NARGS;
			break;
		case PAELLA_ZOO_OP_ADAPTIVE_AVGPOOL:
			want = PZOO__APOOL_NARGS;
			break;
		case PAELLA_ZOO_OP_LINEAR:
			want = PZOO__LINEAR_NARGS;
			break;
		case PAELLA_ZOO_OP_SOFTMAX:
			want = PZOO__SOFTMAX_NARGS;
			break;
		case PAELLA_ZOO_OP_ADD:
			want = PZOO__ADD_NARGS;
			break;
		}
		ck_assert_uint_eq(L->nargs, want);
		ck_assert_ptr_nonnull(L->kernel);
		ck_assert_uint_eq(L->block[0] * L->block[1] * L->block[2], PZOO__LAYER_THREADS);
		ck_assert(L->grid[0] >= 1 && L->grid[1] >= 1 && L->grid[2] >= 1);
		ck_assert(L->grid[1] <= 65535 && L->grid[2] <= 65535);
		for (unsigned a = 0; a < L->nargs; a++) {
			const struct paella_zoo_arg *A = &L->args[a];

			if (A->kind == PAELLA_ZOO_ARG_ACT) {
				ck_assert(A->ref >= 0 && (unsigned)A->ref < p->nstorages);
				ck_assert_uint_le(A->offset, p->storages[A->ref].floats);
			} else if (A->kind == PAELLA_ZOO_ARG_PARAM) {
				ck_assert(A->ref >= 0 && (unsigned)A->ref < p->nparams);
			}
		}
		if (L->op == PAELLA_ZOO_OP_CONV) {
			int splits = L->args[PZOO__CONV_SPLITS].i32;

			ck_assert_int_ge(splits, 1);
			ck_assert_int_eq(L->args[PZOO__CONV_WS].kind == PAELLA_ZOO_ARG_ACT,
					 splits > 1);
			ck_assert_int_eq(L->args[PZOO__CONV_K_PER_SPLIT].i32 % 16 == 0 || splits == 1,
					 1);
		}
	}
	for (unsigned k = 0; k < p->nparams; k++) {
		ck_assert_uint_eq(p->params[k].offset % PAELLA_ZOO_PARAM_ALIGN, 0);
		ck_assert_uint_le(p->params[k].offset + p->params[k].count, p->param_floats);
	}
	paella_zoo_plan_free(p);
}
END_TEST

/* No two storages that are live at the same time share a byte; the
 * input, output and split-K counters are live throughout. */
PAELLA_LOOP_TEST(models_placement_is_safe, NMODELS)
{
	const unsigned i = (unsigned)_i;
	struct paella_zoo_plan *p;

	ck_assert_int_eq(paella_zoo_build(expected[i].name, NULL, &p), PAELLA_STATUS_OK);
	ck_assert_uint_le(p->arena_bytes, p->storage_bytes);
	for (unsigned a = 0; a < p->nstorages; a++) {
		const struct paella_zoo_storage *s = &p->storages[a];

		ck_assert_uint_eq(s->offset % PAELLA_ZOO_ARENA_ALIGN, 0);
		ck_assert_uint_le(s->offset + s->floats * 4, p->arena_bytes);
		if (s->pinned) {
			ck_assert_int_eq(s->first, 0);
			ck_assert_int_eq(s->last, (int)p->nlaunches - 1);
		}
		for (unsigned b = a + 1; b < p->nstorages; b++) {
			const struct paella_zoo_storage *t = &p->storages[b];
			bool live = !(s->last < t->first || t->last < s->first);
			bool overlap = s->offset < t->offset + t->floats * 4 &&
				       t->offset < s->offset + s->floats * 4;

			ck_assert_msg(!(live && overlap), "%s: %s and %s overlap while live",
				      p->model, s->name, t->name);
		}
	}
	/* Every launch names storages within their live range. */
	for (unsigned l = 0; l < p->nlaunches; l++)
		for (unsigned k = 0; k < p->launches[l].nargs; k++) {
			const struct paella_zoo_arg *A = &p->launches[l].args[k];

			if (A->kind != PAELLA_ZOO_ARG_ACT)
				continue;
			ck_assert_int_le(p->storages[A->ref].first, (int)l);
			ck_assert_int_ge(p->storages[A->ref].last, (int)l);
		}
	ck_assert(p->storages[p->input].pinned);
	ck_assert(p->storages[p->output].pinned);
	paella_zoo_plan_free(p);
}
END_TEST

PAELLA_TEST(models_batch)
{
	struct paella_zoo_options o1 = { .batch = 1 }, o3 = { .batch = 3 };
	struct paella_zoo_plan *a, *b;

	ck_assert_int_eq(paella_zoo_build("resnet50", &o1, &a), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_zoo_build("resnet50", &o3, &b), PAELLA_STATUS_OK);
	ck_assert_int_eq(b->batch, 3);
	ck_assert_uint_eq(b->parameters, a->parameters);
	ck_assert_uint_eq(b->param_floats, a->param_floats);
	ck_assert_uint_eq(b->storages[b->output].floats, 3000);
	ck_assert_uint_eq(b->nlaunches, a->nlaunches);
	ck_assert_double_eq_tol(b->flops / a->flops, 3.0, 1e-9);
	paella_zoo_plan_free(a);
	paella_zoo_plan_free(b);
}
END_TEST

PAELLA_TEST(models_unknown)
{
	struct paella_zoo_plan *p = (struct paella_zoo_plan *)1;

	ck_assert_int_eq(paella_zoo_build("alexnet", NULL, &p), PAELLA_STATUS_NOT_FOUND);
	ck_assert_ptr_null(p);
	ck_assert_ptr_nonnull(strstr(paella_zoo_last_error(), "alexnet"));
}
END_TEST

PAELLA_TEST(models_pool_out_like_pytorch)
{
	/* (input, kernel, stride, padding, ceil_mode) -> PyTorch's size. */
	static const int cases[][6] = {
		{ 112, 3, 2, 0, 1, 56 }, { 14, 2, 2, 0, 1, 7 }, { 111, 3, 2, 0, 1, 55 },
		{ 5, 2, 2, 0, 1, 3 },	 { 4, 3, 2, 1, 1, 3 },	{ 6, 3, 3, 1, 1, 3 },
		{ 7, 3, 2, 1, 0, 4 },	 { 147, 3, 2, 0, 0, 73 }, { 1, 1, 1, 0, 1, 1 },
		{ 10, 4, 3, 2, 1, 4 },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(pzoo__zb_pool_out(cases[i][0], cases[i][1], cases[i][2],
						  cases[i][3], cases[i][4]) == cases[i][5],
			      "case %u", i);
}
END_TEST

/* A whole model through the CPU interpreter: finite, deterministic. */
PAELLA_TEST(models_cpu_run)
{
	struct paella_zoo_plan *p;
	float *blob, *in, *o1, *o2;

	ck_assert_int_eq(paella_zoo_build("squeezenet1_1", NULL, &p), PAELLA_STATUS_OK);
	blob = malloc(p->param_floats * sizeof(float));
	in = malloc(p->storages[p->input].floats * sizeof(float));
	o1 = malloc(1000 * sizeof(float));
	o2 = malloc(1000 * sizeof(float));
	for (uint64_t k = 0; k < p->param_floats; k++)
		blob[k] = (float)((k * 2654435761u) % 1000) / 10000.0f - 0.04f;
	for (uint64_t k = 0; k < p->storages[p->input].floats; k++)
		in[k] = (float)((k * 40503u) % 997) / 500.0f - 1.0f;
	ck_assert_int_eq(paella_zoo_run_cpu(p, blob, in, o1), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_zoo_run_cpu(p, blob, in, o2), PAELLA_STATUS_OK);
	for (int k = 0; k < 1000; k++) {
		ck_assert(isfinite(o1[k]));
		ck_assert(o1[k] >= 0.0f); /* ReLU before the pooling */
	}
	ck_assert_mem_eq(o1, o2, 1000 * sizeof(float));
	free(blob);
	free(in);
	free(o1);
	free(o2);
	paella_zoo_plan_free(p);
}
END_TEST

PAELLA_CHECK_MAIN("models", 120, NULL, NULL)
