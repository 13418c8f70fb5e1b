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

#include "log.h"
#include "weights-file.h"
#include "zoo.h"

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
tensor_index(const struct paella__zoo_plan *p, const char *name)
{
	for (unsigned i = 0; i < p->ntensors; i++)
		if (strcmp(p->tensors[i].name, name) == 0)
			return (int)i;
	ck_abort_msg("no tensor %s", name);
	return -1;
}

static const struct paella__zoo_param *
param_of(const struct paella__zoo_plan *p, enum paella__zoo_recipe recipe, int weight, int bn)
{
	for (unsigned i = 0; i < p->nparams; i++)
		if (p->params[i].recipe == recipe &&
		    (weight < 0 || p->params[i].weight == weight) && (bn < 0 || p->params[i].bn == bn))
			return &p->params[i];
	ck_abort_msg("no param");
	return NULL;
}

static double
file_value(const struct paella__zoo_plan *p, int t, uint64_t i)
{
	return wf_tensor_value(&p->tensors[t], i, (unsigned)t);
}

/* The folded weight and bias of convolution @conv with batch norm @bn,
 * checked element by element against the definition. */
static void
check_fold(const struct paella__zoo_plan *p, const float *blob, const char *conv, const char *bn,
	   float eps)
{
	char n[128];
	int w, g;

	snprintf(n, sizeof(n), "%s.weight", conv);
	w = tensor_index(p, n);
	snprintf(n, sizeof(n), "%s.weight", bn);
	g = tensor_index(p, n);
	{
		const struct paella__zoo_param *pw = param_of(p, PAELLA__ZOO_P_CONV_WEIGHT, w, g);
		const struct paella__zoo_param *pb = param_of(p, PAELLA__ZOO_P_CONV_BIAS, w, g);
		const struct paella__zoo_tensor *t = &p->tensors[w];
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

START_TEST(weights_fold_batch_norm)
{
	struct paella__zoo_plan *p;
	float *blob = NULL;

	ck_assert_int_eq(paella__zoo_build("mobilenet_v2", NULL, &p), PAELLA_STATUS_OK);
	ck_assert_int_eq(write_weights(p, path, NULL), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella__zoo_load_weights(p, path, &blob), PAELLA_STATUS_OK);
	ck_assert_ptr_nonnull(blob);
	check_fold(p, blob, "features.0.0", "features.0.1", 1e-5f);
	/* Depthwise (32 groups) and a projection. */
	check_fold(p, blob, "features.1.conv.0.0", "features.1.conv.0.1", 1e-5f);
	check_fold(p, blob, "features.2.conv.2", "features.2.conv.3", 1e-5f);
	/* The classifier is copied as PyTorch stores it. */
	{
		int w = tensor_index(p, "classifier.1.weight");
		const struct paella__zoo_param *q = param_of(p, PAELLA__ZOO_P_COPY, w, -1);

		for (uint64_t i = 0; i < q->count; i += 997)
			ck_assert_float_eq(blob[q->offset + i], (float)file_value(p, w, i));
	}
	free(blob);
	paella__zoo_plan_free(p);
}
END_TEST

START_TEST(weights_googlenet_eps_and_prologue)
{
	struct paella__zoo_plan *p;
	float *blob = NULL;

	/* BasicConv2d's batch norm has eps 0.001. */
	ck_assert_int_eq(paella__zoo_build("googlenet", NULL, &p), PAELLA_STATUS_OK);
	ck_assert_int_eq(write_weights(p, path, NULL), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella__zoo_load_weights(p, path, &blob), PAELLA_STATUS_OK);
	check_fold(p, blob, "inception3a.branch2.1.conv", "inception3a.branch2.1.bn", 1e-3f);
	free(blob);
	paella__zoo_plan_free(p);

	/* DenseNet's norm1 becomes a scale and shift on conv1's input. */
	ck_assert_int_eq(paella__zoo_build("densenet121", NULL, &p), PAELLA_STATUS_OK);
	ck_assert_int_eq(write_weights(p, path, NULL), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella__zoo_load_weights(p, path, &blob), PAELLA_STATUS_OK);
	{
		int g = tensor_index(p, "features.denseblock2.denselayer3.norm1.weight");
		const struct paella__zoo_param *s = param_of(p, PAELLA__ZOO_P_BN_SCALE, -1, g);
		const struct paella__zoo_param *f = param_of(p, PAELLA__ZOO_P_BN_SHIFT, -1, g);

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
	paella__zoo_plan_free(p);
}
END_TEST

static void
expect_refused(const struct paella__zoo_plan *p, enum paella_status want, const char *frag1,
	       const char *frag2)
{
	float *blob = (float *)1;
	enum paella_status st = paella__zoo_load_weights(p, path, &blob);

	ck_assert_int_eq(st, want);
	ck_assert_ptr_null(blob);
	ck_assert_msg(strstr(paella__error_last(), frag1) != NULL, "'%s' not in '%s'", frag1,
		      paella__error_last());
	if (frag2 != NULL)
		ck_assert_msg(strstr(paella__error_last(), frag2) != NULL, "'%s' not in '%s'", frag2,
			      paella__error_last());
}

START_TEST(weights_refuse_mismatches)
{
	struct paella__zoo_plan *p;
	struct weights_fault f;

	ck_assert_int_eq(paella__zoo_build("squeezenet1_1", NULL, &p), PAELLA_STATUS_OK);

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
		struct paella__zoo_plan *r;

		ck_assert_int_eq(paella__zoo_build("resnet18", NULL, &r), PAELLA_STATUS_OK);
		ck_assert_int_eq(write_weights(p, path, NULL), PAELLA_STATUS_OK);
		expect_refused(r, PAELLA_STATUS_NOT_FOUND, "missing tensor 'conv1.weight'",
			       "resnet18");
		paella__zoo_plan_free(r);
	}
	paella__zoo_plan_free(p);
}
END_TEST

START_TEST(weights_ignore_aux_classifiers)
{
	struct paella__zoo_plan *p;
	struct weights_fault f = { .extra = "aux1.fc2.weight" };
	float *blob = NULL;

	/* A checkpoint saved with aux_logits=True still loads. */
	ck_assert_int_eq(paella__zoo_build("googlenet", NULL, &p), PAELLA_STATUS_OK);
	ck_assert_int_eq(write_weights(p, path, &f), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella__zoo_load_weights(p, path, &blob), PAELLA_STATUS_OK);
	free(blob);
	paella__zoo_plan_free(p);
}
END_TEST

static Suite *
weights_suite(void)
{
	Suite *s = suite_create("weights");
	TCase *tc = tcase_create("weights");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, weights_fold_batch_norm);
	tcase_add_test(tc, weights_googlenet_eps_and_prologue);
	tcase_add_test(tc, weights_refuse_mismatches);
	tcase_add_test(tc, weights_ignore_aux_classifiers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(weights_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
