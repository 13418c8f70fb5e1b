/*
 * test-weights - loading a weights file into a plan: batch norms folded into
 * convolutions (regular, depthwise) and into DenseNet's input prologues,
 * weights transposed to the kernels' layout; a file with a tensor missing,
 * of the wrong dtype or shape, an unknown tensor, or cut short is refused
 * with the tensor named, and nothing is returned.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zoo-private.h"
#include "weights-file.h"
#include "paella/zoo.h"
#include "../check-main.h"

static char path[256];

static void
setup(void)
{
	snprintf(path, sizeof(path), "/tmp/paella-test-weights-%d.safetensors", (int)getpid());
}

static void
teardown(void)
{
	unlink(path);
}

static int
tensor_index(const struct paella_zoo_plan *p, const char *name)
{
	for (unsigned i = 0; i < p->ntensors; i++)
		if (strcmp(p->tensors[i].name, name) == 0)
			return (int)i;
	ck_abort_msg("no tensor %s", name);
	return -1;
}

static const struct paella_zoo_param *
param_of(const struct paella_zoo_plan *p, enum paella_zoo_recipe recipe, int weight, int bn)
{
	for (unsigned i = 0; i < p->nparams; i++)
		if (p->params[i].recipe == recipe &&
		    (weight < 0 || p->params[i].weight == weight) && (bn < 0 || p->params[i].bn == bn))
			return &p->params[i];
	ck_abort_msg("no param");
	return NULL;
}

static double
file_value(const struct paella_zoo_plan *p, int t, uint64_t i)
{
	return wf_tensor_value(&p->tensors[t], i, (unsigned)t);
}

/* The folded weight and bias of convolution @conv with batch norm @bn,
 * checked element by element against the definition. */
static void
check_fold(const struct paella_zoo_plan *p, const float *blob, const char *conv, const char *bn,
	   float eps)
{
	char n[128];
	int w, g;

	snprintf(n, sizeof(n), "%s.weight", conv);
	w = tensor_index(p, n);
	snprintf(n, sizeof(n), "%s.weight", bn);
	g = tensor_index(p, n);
	{
		const struct paella_zoo_param *pw = param_of(p, PAELLA_ZOO_P_CONV_WEIGHT, w, g);
		const struct paella_zoo_param *pb = param_of(p, PAELLA_ZOO_P_CONV_BIAS, w, g);
		const struct paella_zoo_tensor *t = &p->tensors[w];
		const uint64_t m = (uint64_t)t->shape[0], kred = t->numel / m;
		const uint64_t mg = m / (uint64_t)pw->groups;

		ck_assert_float_eq(pw->eps, eps);
		for (uint64_t o = 0; o < m; o++) {
			double gamma = file_value(p, g, o), beta = file_value(p, g + 1, o);
			double mean = file_value(p, g + 2, o), var = file_value(p, g + 3, o);
			double scale = gamma / sqrt(var + eps);
			uint64_t grp = o / mg, om = o % mg;

			for (uint64_t k = 0; k < kred; k++) {
				double want = file_value(p, w, o * kred + k) * scale;
				double got = blob[pw->offset + (grp * kred + k) * mg + om];

				ck_assert_msg(fabs(got - want) <= 1e-6 * (1 + fabs(want)),
					      "%s [%llu][%llu]: %g != %g", conv,
					      (unsigned long long)o, (unsigned long long)k, got, want);
			}
			ck_assert_double_eq_tol(blob[pb->offset + o], beta - mean * scale, 1e-6);
		}
	}
}

PAELLA_TEST(weights_fold_batch_norm)
{
	struct paella_zoo_plan *p;
	float *blob = NULL;

	ck_assert_int_eq(paella_zoo_build("mobilenet_v2", NULL, &p), PAELLA_STATUS_OK);
	ck_assert_int_eq(write_weights(p, path, NULL), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_zoo_load_weights(p, path, &blob), PAELLA_STATUS_OK);
	ck_assert_ptr_nonnull(blob);
	check_fold(p, blob, "features.0.0", "features.0.1", 1e-5f);
	/* Depthwise (32 groups) and a projection. */
	check_fold(p, blob, "features.1.conv.0.0", "features.1.conv.0.1", 1e-5f);
	check_fold(p, blob, "features.2.conv.2", "features.2.conv.3", 1e-5f);
	/* The classifier is copied as PyTorch stores it. */
	{
		int w = tensor_index(p, "classifier.1.weight");
		const struct paella_zoo_param *q = param_of(p, PAELLA_ZOO_P_COPY, w, -1);

		for (uint64_t i = 0; i < q->count; i += 997)
			ck_assert_float_eq(blob[q->offset + i], (float)file_value(p, w, i));
	}
	free(blob);
	paella_zoo_plan_free(p);
}
END_TEST

PAELLA_TEST(weights_googlenet_eps_and_prologue)
{
	struct paella_zoo_plan *p;
	float *blob = NULL;

	/* BasicConv2d's batch norm has eps 0.001. */
	ck_assert_int_eq(paella_zoo_build("googlenet", NULL, &p), PAELLA_STATUS_OK);
	ck_assert_int_eq(write_weights(p, path, NULL), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_zoo_load_weights(p, path, &blob), PAELLA_STATUS_OK);
	check_fold(p, blob, "inception3a.branch2.1.conv", "inception3a.branch2.1.bn", 1e-3f);
	free(blob);
	paella_zoo_plan_free(p);

	/* DenseNet's norm1 becomes a scale and shift on conv1's input. */
	ck_assert_int_eq(paella_zoo_build("densenet121", NULL, &p), PAELLA_STATUS_OK);
	ck_assert_int_eq(write_weights(p, path, NULL), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_zoo_load_weights(p, path, &blob), PAELLA_STATUS_OK);
	{
		int g = tensor_index(p, "features.denseblock2.denselayer3.norm1.weight");
		const struct paella_zoo_param *s = param_of(p, PAELLA_ZOO_P_BN_SCALE, -1, g);
		const struct paella_zoo_param *f = param_of(p, PAELLA_ZOO_P_BN_SHIFT, -1, g);

		ck_assert_uint_eq(s->count, 128 + 2 * 32);
		for (uint64_t c = 0; c < s->count; c++) {
			double scale = file_value(p, g, c) / sqrt(file_value(p, g + 3, c) + 1e-5);

			ck_assert_double_eq_tol(blob[s->offset + c], scale, 1e-6);
			ck_assert_double_eq_tol(blob[f->offset + c],
						file_value(p, g + 1, c) - file_value(p, g + 2, c) * scale,
						1e-6);
		}
	}
	check_fold(p, blob, "features.denseblock2.denselayer3.conv1",
		   "features.denseblock2.denselayer3.norm2", 1e-5f);
	free(blob);
	paella_zoo_plan_free(p);
}
END_TEST

static void
expect_refused(const struct paella_zoo_plan *p, enum paella_status want, const char *frag1,
	       const char *frag2)
{
	float *blob = (float *)1;
	enum paella_status st = paella_zoo_load_weights(p, path, &blob);

	ck_assert_int_eq(st, want);
	ck_assert_ptr_null(blob);
	ck_assert_msg(strstr(paella_zoo_last_error(), frag1) != NULL, "'%s' not in '%s'", frag1,
		      paella_zoo_last_error());
	if (frag2 != NULL)
		ck_assert_msg(strstr(paella_zoo_last_error(), frag2) != NULL, "'%s' not in '%s'", frag2,
			      paella_zoo_last_error());
}

PAELLA_TEST(weights_refuse_mismatches)
{
	struct paella_zoo_plan *p;
	struct weights_fault f;

	ck_assert_int_eq(paella_zoo_build("squeezenet1_1", NULL, &p), PAELLA_STATUS_OK);

	f = (struct weights_fault){ .drop = "features.9.expand3x3.bias" };
	ck_assert_int_eq(write_weights(p, path, &f), PAELLA_STATUS_OK);
	expect_refused(p, PAELLA_STATUS_NOT_FOUND, "missing tensor 'features.9.expand3x3.bias'",
		       "squeezenet1_1");

	f = (struct weights_fault){ .as_i64 = "classifier.1.weight" };
	ck_assert_int_eq(write_weights(p, path, &f), PAELLA_STATUS_OK);
	expect_refused(p, PAELLA_STATUS_INVALID_ARGUMENT, "'classifier.1.weight' is I64",
		       "needs F32");

	f = (struct weights_fault){ .reshape = "features.0.weight" };
	ck_assert_int_eq(write_weights(p, path, &f), PAELLA_STATUS_OK);
	expect_refused(p, PAELLA_STATUS_INVALID_ARGUMENT,
		       "'features.0.weight' has shape [65, 3, 3, 3]", "needs [64, 3, 3, 3]");

	f = (struct weights_fault){ .extra = "aux1.fc.weight" };
	ck_assert_int_eq(write_weights(p, path, &f), PAELLA_STATUS_OK);
	expect_refused(p, PAELLA_STATUS_INVALID_ARGUMENT, "'aux1.fc.weight' is not part of model",
		       NULL);

	/* Cut short: refused by the reader, naming the last tensor. */
	ck_assert_int_eq(write_weights(p, path, NULL), PAELLA_STATUS_OK);
	{
		FILE *fp = fopen(path, "rb");
		long size;

		fseek(fp, 0, SEEK_END);
		size = ftell(fp);
		fclose(fp);
		ck_assert_int_eq(truncate(path, size / 2), 0);
	}
	expect_refused(p, PAELLA_STATUS_INVALID_ARGUMENT, "truncated", NULL);

	/* Weights of another model. */
	{
		struct paella_zoo_plan *r;

		ck_assert_int_eq(paella_zoo_build("resnet18", NULL, &r), PAELLA_STATUS_OK);
		ck_assert_int_eq(write_weights(p, path, NULL), PAELLA_STATUS_OK);
		expect_refused(r, PAELLA_STATUS_NOT_FOUND, "missing tensor 'conv1.weight'",
			       "resnet18");
		paella_zoo_plan_free(r);
	}
	paella_zoo_plan_free(p);
}
END_TEST

/* Issue 15: weights that are not numbers, and batch-norm statistics that
 * fold to NaN, are refused naming the tensor. */
PAELLA_TEST(weights_refuse_non_numbers)
{
	struct paella_zoo_plan *p;
	struct weights_fault f;

	ck_assert_int_eq(paella_zoo_build("resnet18", NULL, &p), PAELLA_STATUS_OK);

	f = (struct weights_fault){ .nan = "layer1.0.conv1.weight" };
	ck_assert_int_eq(write_weights(p, path, &f), PAELLA_STATUS_OK);
	expect_refused(p, PAELLA_STATUS_INVALID_ARGUMENT, "'layer1.0.conv1.weight'",
		       "not finite");

	f = (struct weights_fault){ .inf = "fc.bias" };
	ck_assert_int_eq(write_weights(p, path, &f), PAELLA_STATUS_OK);
	expect_refused(p, PAELLA_STATUS_INVALID_ARGUMENT, "'fc.bias'", "-inf");

	f = (struct weights_fault){ .nan = "bn1.running_mean" };
	ck_assert_int_eq(write_weights(p, path, &f), PAELLA_STATUS_OK);
	expect_refused(p, PAELLA_STATUS_INVALID_ARGUMENT, "'bn1.running_mean'", "element 1");

	f = (struct weights_fault){ .negative = "layer2.1.bn2.running_var" };
	ck_assert_int_eq(write_weights(p, path, &f), PAELLA_STATUS_OK);
	expect_refused(p, PAELLA_STATUS_INVALID_ARGUMENT, "'layer2.1.bn2.running_var'",
		       "negative running variance");

	/* A negative value elsewhere is a number like any other. */
	f = (struct weights_fault){ .negative = "layer2.1.bn2.running_mean" };
	ck_assert_int_eq(write_weights(p, path, &f), PAELLA_STATUS_OK);
	{
		float *blob = NULL;

		ck_assert_int_eq(paella_zoo_load_weights(p, path, &blob), PAELLA_STATUS_OK);
		for (uint64_t i = 0; i < p->param_floats; i++)
			ck_assert(isfinite(blob[i]));
		free(blob);
	}
	paella_zoo_plan_free(p);
}
END_TEST

struct problems {
	unsigned n;
	char text[8192];
};

static void
collect(void *user, const char *msg)
{
	struct problems *pr = user;
	size_t len = strlen(pr->text);

	pr->n++;
	snprintf(pr->text + len, sizeof(pr->text) - len, "%s\n", msg);
}

/* paella_zoo_check_weights() lists every problem, not the first; names
 * from the file are printed escaped. */
PAELLA_TEST(weights_check_lists_every_problem)
{
	struct paella_zoo_plan *p;
	struct weights_fault f = {
		.drop = "layer3.0.downsample.1.bias",
		.nan = "conv1.weight",
		.negative = "bn1.running_var",
		.as_i64 = "fc.weight",
		.extra = "evil\x1b[2Jname",
	};
	struct problems pr = { 0 };
	unsigned ntensors = 0;

	ck_assert_int_eq(paella_zoo_build("resnet18", NULL, &p), PAELLA_STATUS_OK);
	ck_assert_int_eq(write_weights(p, path, &f), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_zoo_check_weights(p, path, collect, &pr, &ntensors),
			 PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_uint_eq(pr.n, 5);
	ck_assert_uint_eq(ntensors, p->ntensors + 1);
	ck_assert_ptr_nonnull(strstr(pr.text, "missing tensor 'layer3.0.downsample.1.bias'"));
	ck_assert_ptr_nonnull(strstr(pr.text, "'conv1.weight': 1 of 9408 values are not finite"));
	ck_assert_ptr_nonnull(strstr(pr.text, "'bn1.running_var': 1 negative"));
	ck_assert_ptr_nonnull(strstr(pr.text, "'fc.weight' is I64"));
	ck_assert_ptr_nonnull(strstr(pr.text, "'evil\\x1b[2Jname' is not part"));
	ck_assert_ptr_null(strchr(pr.text, '\x1b'));

	/* A good file: OK, no problem. */
	pr = (struct problems){ 0 };
	ck_assert_int_eq(write_weights(p, path, NULL), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_zoo_check_weights(p, path, collect, &pr, &ntensors),
			 PAELLA_STATUS_OK);
	ck_assert_uint_eq(pr.n, 0);

	/* A file that cannot be read: one problem, IO_ERROR or NOT_FOUND. */
	ck_assert_int_eq(paella_zoo_check_weights(p, "/nonexistent/w.safetensors", collect, &pr,
						  NULL), PAELLA_STATUS_NOT_FOUND);
	ck_assert_int_eq(paella_zoo_check_weights(p, "/tmp", collect, &pr, NULL),
			 PAELLA_STATUS_IO_ERROR);
	ck_assert_uint_eq(pr.n, 2);
	paella_zoo_plan_free(p);
}
END_TEST

PAELLA_TEST(weights_ignore_aux_classifiers)
{
	struct paella_zoo_plan *p;
	struct weights_fault f = { .extra = "aux1.fc2.weight" };
	float *blob = NULL;

	/* A checkpoint saved with aux_logits=True still loads. */
	ck_assert_int_eq(paella_zoo_build("googlenet", NULL, &p), PAELLA_STATUS_OK);
	ck_assert_int_eq(write_weights(p, path, &f), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella_zoo_load_weights(p, path, &blob), PAELLA_STATUS_OK);
	free(blob);
	paella_zoo_plan_free(p);
}
END_TEST

PAELLA_CHECK_MAIN("weights", 120, setup, teardown)
