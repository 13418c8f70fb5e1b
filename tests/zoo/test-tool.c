/*
 * test-tool - the paella command as a user runs it (PAELLA_TOOL names the
 * binary): models, plan, check-weights, help, and its exit codes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "weights-file.h"
#include "paella/zoo.h"
#include "../check-main.h"

static char out[1 << 16];
static char path[256];

static void
setup(void)
{
	snprintf(path, sizeof(path), "/tmp/paella-test-tool-%d.safetensors", (int)getpid());
}

static void
teardown(void)
{
	unlink(path);
}

/* Runs `paella ARGS` with stderr into stdout; returns the exit code. */
static int
run(const char *args)
{
	const char *tool = getenv("PAELLA_TOOL");
	char cmd[1024];
	size_t n;
	FILE *fp;
	int rc;

	ck_assert_msg(tool != NULL, "PAELLA_TOOL is not set");
	snprintf(cmd, sizeof(cmd), "'%s' %s 2>&1", tool, args);
	fp = popen(cmd, "r");
	ck_assert_ptr_nonnull(fp);
	n = fread(out, 1, sizeof(out) - 1, fp);
	out[n] = '\0';
	rc = pclose(fp);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

PAELLA_TEST(tool_models)
{
	static const char *const want[] = {
		"resnet18", "11689512", "resnet34", "21797672", "resnet50", "25557032",
		"mobilenet_v2", "3504872", "squeezenet1_1", "1235496", "densenet121", "7978856",
		"googlenet", "6624904", "inception_v3", "23834568", "299x299",
	};

	ck_assert_int_eq(run("models"), 0);
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(strstr(out, want[i]) != NULL, "'%s' not in:\n%s", want[i], out);
	ck_assert_int_eq(run("models --batch 4"), 0);
	ck_assert_ptr_nonnull(strstr(out, "batch 4"));
	ck_assert_int_eq(run("models --batch 0"), 2);
}
END_TEST

PAELLA_TEST(tool_plan)
{
	ck_assert_int_eq(run("plan squeezenet1_1"), 0);
	ck_assert_ptr_nonnull(strstr(out, "30 launches"));
	ck_assert_ptr_nonnull(strstr(out, "features.12.expand3x3"));
	ck_assert_ptr_nonnull(strstr(out, "adaptive_avgpool2d"));
	ck_assert_int_eq(run("plan alexnet"), 2);
	ck_assert_ptr_nonnull(strstr(out, "no model 'alexnet'"));
}
END_TEST

PAELLA_TEST(tool_check_weights)
{
	struct paella_zoo_plan *p;
	struct weights_fault f = { .drop = "features.3.squeeze.bias" };
	char args[512];

	ck_assert_int_eq(paella_zoo_build("squeezenet1_1", NULL, &p), PAELLA_STATUS_OK);
	ck_assert_int_eq(write_weights(p, path, NULL), PAELLA_STATUS_OK);
	snprintf(args, sizeof(args), "check-weights squeezenet1_1 %s", path);
	ck_assert_int_eq(run(args), 0);
	ck_assert_ptr_nonnull(strstr(out, "ok for squeezenet1_1"));

	snprintf(args, sizeof(args), "check-weights resnet18 %s", path);
	ck_assert_int_eq(run(args), 1);
	ck_assert_ptr_nonnull(strstr(out, "missing tensor 'conv1.weight'"));

	ck_assert_int_eq(write_weights(p, path, &f), PAELLA_STATUS_OK);
	snprintf(args, sizeof(args), "check-weights squeezenet1_1 %s", path);
	ck_assert_int_eq(run(args), 1);
	ck_assert_ptr_nonnull(strstr(out, "features.3.squeeze.bias"));

	/* Exit codes: 3 for a file that cannot be read, 2 for usage. */
	ck_assert_int_eq(run("check-weights squeezenet1_1 /nonexistent.safetensors"), 3);
	ck_assert_ptr_nonnull(strstr(out, "paella: /nonexistent.safetensors"));
	ck_assert_int_eq(run("check-weights squeezenet1_1 /tmp"), 3);
	ck_assert_ptr_nonnull(strstr(out, "not a regular file"));
	ck_assert_int_eq(run("check-weights squeezenet1_1"), 2);
	ck_assert_ptr_nonnull(strstr(out, "paella: check-weights needs MODEL and FILE"));
	ck_assert_ptr_null(strstr(out, "wrong arguments"));
	paella_zoo_plan_free(p);
}
END_TEST

/* Issue 15: every problem of a weights file is listed, each on its own line
 * prefixed with the program's name; exit 1 for bad weights. */
PAELLA_TEST(tool_check_weights_every_problem)
{
	struct paella_zoo_plan *p;
	struct weights_fault f = {
		.drop = "features.3.squeeze.bias",
		.nan = "features.0.weight",
		.extra = "stray",
	};
	char args[512];
	unsigned lines = 0;

	ck_assert_int_eq(paella_zoo_build("squeezenet1_1", NULL, &p), PAELLA_STATUS_OK);
	ck_assert_int_eq(write_weights(p, path, &f), PAELLA_STATUS_OK);
	snprintf(args, sizeof(args), "check-weights squeezenet1_1 %s", path);
	ck_assert_int_eq(run(args), 1);
	ck_assert_ptr_nonnull(strstr(out, "missing tensor 'features.3.squeeze.bias'"));
	ck_assert_ptr_nonnull(strstr(out, "'features.0.weight': 1 of"));
	ck_assert_ptr_nonnull(strstr(out, "'stray' is not part of model"));
	for (const char *l = out; (l = strstr(l, "paella: ")) != NULL; l++)
		lines++;
	ck_assert_uint_eq(lines, 3);
	ck_assert_ptr_null(strstr(out, " ok "));
	paella_zoo_plan_free(p);
}
END_TEST

/* Options anywhere on the line, as --help shows them: each command line,
 * its exit status, and what its output holds (NULL: anything). */
static const struct {
	const char *cmd;
	int status;
	const char *says;
} option_cases[] = {
	{ "plan resnet18 --batch 2", 0, "batch 2" },
	{ "plan --batch 3 resnet18", 0, "batch 3" },
	{ "--batch 4 plan resnet18", 0, "batch 4" },
	{ "plan resnet18 --batch=5", 0, "batch 5" },
	{ "models --version", 0, "paella " },
	{ "plan resnet18 --help", 0, "Exit status" },
	{ "plan resnet18 --batch", 2, "paella: --batch needs a value" },
	{ "plan resnet18 --frob", 2, "paella: unknown option '--frob'" },
	{ "plan resnet18 resnet34", 2, NULL },
	{ "models extra", 2, NULL },
	/* A model name with a terminal escape comes back escaped. */
	{ "plan \"$(printf 'x\\033[2J')\"", 2, "no model 'x\\x1b[2J'" },
};

PAELLA_TEST(tool_options_anywhere)
{
	for (size_t i = 0; i < sizeof(option_cases) / sizeof(option_cases[0]); i++) {
		ck_assert_msg(run(option_cases[i].cmd) == option_cases[i].status,
			      "'%s': exit status not %d:\n%s", option_cases[i].cmd,
			      option_cases[i].status, out);
		ck_assert_msg(option_cases[i].says == NULL || strstr(out, option_cases[i].says),
			      "'%s' does not say \"%s\":\n%s", option_cases[i].cmd,
			      option_cases[i].says, out);
		ck_assert_ptr_null(strchr(out, '\033'));
	}
}
END_TEST

PAELLA_TEST(tool_help)
{
	ck_assert_int_eq(run("--help"), 0);
	ck_assert_ptr_nonnull(strstr(out, "check-weights MODEL FILE"));
	ck_assert_ptr_nonnull(strstr(out, "Exit status: 0 success; 1 bad input"));
	ck_assert_int_eq(run("--version"), 0);
	ck_assert_ptr_nonnull(strstr(out, "paella "));
	ck_assert_int_eq(run(""), 2);
	ck_assert_int_eq(run("frobnicate"), 2);
}
END_TEST

PAELLA_CHECK_MAIN("tool", 60, setup, teardown)
