/*
 * paella - the command-line front end: one subcommand per row of the table
 * below (the model zoo's today: list the models, show a model's kernel
 * launches, check a weights file).  Options may come anywhere on the line.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "paella/zoo.h"

#ifndef PAELLA_VERSION
#define PAELLA_VERSION "unknown"
#endif

/* Exit codes, documented in usage(). */
enum {
	EXIT_OK = 0,
	EXIT_BAD_INPUT = 1,
	EXIT_USAGE = 2,
	EXIT_IO = 3,
	EXIT_OTHER = 4,
};

/*
 * The subcommands.  A command gets the line without the program's name
 * and without the command's own name (argv[0] is the command's name), its
 * options still anywhere in it, and returns an exit code above.  A command
 * defined in another file of tools/paella/ is declared here, one line, and
 * gets one row in the table.
 */
struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	/* For usage(): the synopsis and what it does. */
	const char *help;
};

static int cmd_models(int argc, char **argv);
static int cmd_plan(int argc, char **argv);
static int cmd_check_weights(int argc, char **argv);

static const struct command commands[] = {
	{ "models", cmd_models,
	  "  models [--batch N]          list the models of the zoo: kernel launches,\n"
	  "                              parameters, activation memory, GFLOPs\n" },
	{ "plan", cmd_plan,
	  "  plan MODEL [--batch N]      print MODEL's kernel launches in order\n" },
	{ "check-weights", cmd_check_weights,
	  "  check-weights MODEL FILE    check that the safetensors FILE holds MODEL's\n"
	  "                              weights (torchvision's state-dict names, finite\n"
	  "                              values, batch-norm variances not negative);\n"
	  "                              lists every problem\n" },
	{ "bench", paella_bench_main,
	  "  bench [--help]              the serving benchmark (Figs. 11-13 of Paella)\n" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *fp)
{
	fputs("usage: paella COMMAND [ARGS] [OPTIONS]\n"
	      "\n"
	      "Commands:\n", fp);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fputs(commands[i].help, fp);
	fputs("\n"
	      "Options (anywhere on the line):\n"
	      "  --batch N    images per run, 1 to 4096 (default 1)\n"
	      "  -h, --help   this text\n"
	      "  --version    the version\n"
	      "\n"
	      "Exit status: 0 success; 1 bad input (a weights file that is readable but\n"
	      "wrong); 2 usage (unknown command, model or option, missing arguments);\n"
	      "3 input/output (a file that cannot be read, or is not a regular file);\n"
	      "4 any other failure (out of memory).\n"
	      "\n"
	      "Models: resnet18 resnet34 resnet50 mobilenet_v2 squeezenet1_1 densenet121\n"
	      "googlenet inception_v3, as torchvision defines them (GoogLeNet and\n"
	      "Inception-v3 without auxiliary classifiers, transform_input=False).\n"
	      "A weights file comes from PyTorch:\n"
	      "  safetensors.torch.save_file(model.state_dict(), FILE)\n",
	      fp);
}

__attribute__((format(printf, 1, 2))) static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("paella: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (paella --help shows the usage)\n", stderr);
}

/* The exit code for a failed zoo call. */
static int
exit_code(enum paella_status st)
{
	switch (st) {
	case PAELLA_STATUS_INVALID_ARGUMENT:
		return EXIT_BAD_INPUT;
	case PAELLA_STATUS_IO_ERROR:
	case PAELLA_STATUS_NOT_FOUND:
		return EXIT_IO;
	default:
		return EXIT_OTHER;
	}
}

/* ---- the zoo's commands' options ---------------------------------------- */

struct zoo_args {
	int batch;
	/* The operands, in order. */
	char **operands;
	int noperands;
};

static const struct option zoo_longopts[] = {
	{ "batch", required_argument, NULL, 'b' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Parses the options anywhere in @argv (getopt permutes the operands to
 * the end); returns -1 to go on, or the exit code when the run ends here. */
static int
parse_zoo_args(int argc, char **argv, const char *operands, int min_operands, int max_operands,
	       struct zoo_args *a)
{
	int c;

	a->batch = 1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hb:", zoo_longopts, NULL)) != -1) {
		switch (c) {
		case 'b': {
			char *end;
			long v;

			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || v < 1 ||
			    v > PAELLA_ZOO_MAX_BATCH) {
				usage_error("--batch: '%s' is not a batch size of 1 to 4096",
					    optarg);
				return EXIT_USAGE;
			}
			a->batch = (int)v;
			break;
		}
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("paella %s\n", PAELLA_VERSION);
			return EXIT_OK;
		case ':':
			usage_error("%s needs a value", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	a->operands = argv + optind;
	a->noperands = argc - optind;
	if (a->noperands < min_operands || a->noperands > max_operands) {
		if (max_operands == 0)
			usage_error("%s takes no arguments, '%s' given", argv[0], a->operands[0]);
		else
			usage_error("%s needs %s, %d argument%s given", argv[0], operands,
				    a->noperands, a->noperands == 1 ? "" : "s");
		return EXIT_USAGE;
	}
	return -1;
}

static int
build(const char *model, int batch, struct paella_zoo_plan **plan)
{
	struct paella_zoo_options opts = { .batch = batch };
	enum paella_status st = paella_zoo_build(model, &opts, plan);

	if (st != PAELLA_STATUS_OK) {
		fprintf(stderr, "paella: %s\n", paella_zoo_last_error());
		return st == PAELLA_STATUS_NOT_FOUND ? EXIT_USAGE : exit_code(st);
	}
	return EXIT_OK;
}

/* ---- models ------------------------------------------------------------- */

static int
cmd_models(int argc, char **argv)
{
	struct zoo_args a;
	int rc;

	if ((rc = parse_zoo_args(argc, argv, "", 0, 0, &a)) >= 0)
		return rc;
	printf("%-14s %-7s %8s %12s %9s %10s %9s  %s\n", "model", "input", "kernels", "parameters",
	       "params MB", "act. MB", "GFLOPs", "description");
	for (unsigned i = 0; i < paella_zoo_model_count(); i++) {
		const struct paella_zoo_model_info *m = paella_zoo_model_at(i);
		struct paella_zoo_plan *plan;
		char input[32];

		if ((rc = build(m->name, a.batch, &plan)) != EXIT_OK)
			return rc;
		snprintf(input, sizeof(input), "%dx%d", m->in_h, m->in_w);
		printf("%-14s %-7s %8u %12" PRIu64 " %9.1f %10.1f %9.2f  %s\n", m->name, input,
		       plan->nlaunches, plan->parameters, plan->param_floats * 4.0 / 1e6,
		       plan->arena_bytes / 1e6, plan->flops / 1e9, m->description);
		paella_zoo_plan_free(plan);
	}
	printf("\nkernels: launches of one run at batch %d; parameters: torchvision's count; "
	       "params MB: the folded\ndevice blob; act. MB: the activation arena after reuse; "
	       "GFLOPs: multiply-adds count 2.\n", a.batch);
	return EXIT_OK;
}

/* ---- plan --------------------------------------------------------------- */

static void
print_arg(const struct paella_zoo_plan *plan, const struct paella_zoo_arg *a)
{
	switch (a->kind) {
	case PAELLA_ZOO_ARG_NULL:
		printf(" null");
		break;
	case PAELLA_ZOO_ARG_ACT:
		printf(" %s", plan->storages[a->ref].name);
		if (a->offset != 0)
			printf("+%" PRIu64, a->offset);
		break;
	case PAELLA_ZOO_ARG_PARAM:
		printf(" p%d", a->ref);
		break;
	case PAELLA_ZOO_ARG_I32:
		printf(" %d", a->i32);
		break;
	case PAELLA_ZOO_ARG_F32:
		printf(" %g", (double)a->f32);
		break;
	}
}

static int
cmd_plan(int argc, char **argv)
{
	struct paella_zoo_plan *plan;
	struct zoo_args a;
	int rc;

	if ((rc = parse_zoo_args(argc, argv, "MODEL", 1, 1, &a)) >= 0)
		return rc;
	if ((rc = build(a.operands[0], a.batch, &plan)) != EXIT_OK)
		return rc;
	printf("# %s, batch %d: %u launches, arena %.1f MB (%.1f MB without reuse), "
	       "%.1f MB of parameters\n", plan->model, plan->batch, plan->nlaunches,
	       plan->arena_bytes / 1e6, plan->storage_bytes / 1e6, plan->param_floats * 4.0 / 1e6);
	printf("# index layer kernel grid block: arguments\n");
	for (unsigned i = 0; i < plan->nlaunches; i++) {
		const struct paella_zoo_launch *l = &plan->launches[i];

		printf("%3u %-40s %-24s %ux%ux%u %u:", i, l->layer, l->kernel, l->grid[0],
		       l->grid[1], l->grid[2], l->block[0]);
		for (unsigned j = 0; j < l->nargs; j++)
			print_arg(plan, &l->args[j]);
		printf("\n");
	}
	paella_zoo_plan_free(plan);
	return EXIT_OK;
}

/* ---- check-weights ------------------------------------------------------ */

static void
print_problem(void *user, const char *message)
{
	(void)user;
	fprintf(stderr, "paella: %s\n", message);
}

static int
cmd_check_weights(int argc, char **argv)
{
	struct paella_zoo_plan *plan;
	enum paella_status st;
	struct zoo_args a;
	unsigned ntensors = 0;
	int rc;

	if ((rc = parse_zoo_args(argc, argv, "MODEL and FILE", 2, 2, &a)) >= 0)
		return rc;
	if ((rc = build(a.operands[0], 1, &plan)) != EXIT_OK)
		return rc;
	st = paella_zoo_check_weights(plan, a.operands[1], print_problem, NULL, &ntensors);
	if (st == PAELLA_STATUS_OK)
		printf("%s: ok for %s: %u tensors in the file, %u used, %" PRIu64 " parameters\n",
		       a.operands[1], plan->model, ntensors, plan->ntensors, plan->parameters);
	paella_zoo_plan_free(plan);
	return st == PAELLA_STATUS_OK ? EXIT_OK : exit_code(st);
}

/* ---- main --------------------------------------------------------------- */

/* Whether @arg is an option that takes the next argument as its value. */
static bool
takes_value(const char *arg)
{
	return strcmp(arg, "--batch") == 0 || strcmp(arg, "-b") == 0;
}

int
main(int argc, char **argv)
{
	int cmd_at = -1;

	/* The command is the first operand; options before it are the
	 * command's too. */
	for (int i = 1; i < argc && cmd_at < 0; i++) {
		if (strcmp(argv[i], "--") == 0) {
			if (i + 1 < argc)
				cmd_at = i + 1;
			break;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			if (takes_value(argv[i]))
				i++;
			continue;
		}
		cmd_at = i;
	}
	if (cmd_at < 0) {
		for (int i = 1; i < argc; i++) {
			if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
				usage(stdout);
				return EXIT_OK;
			}
			if (strcmp(argv[i], "--version") == 0) {
				printf("paella %s\n", PAELLA_VERSION);
				return EXIT_OK;
			}
		}
		for (int i = 1; i < argc; i++) {
			if (argv[i][0] != '-' || strcmp(argv[i], "--") == 0)
				continue;
			if (takes_value(argv[i]) || strncmp(argv[i], "--batch=", 8) == 0) {
				i += takes_value(argv[i]);
				continue;
			}
			usage_error("unknown option '%s'", argv[i]);
			return EXIT_USAGE;
		}
		usage_error("%s", "no command given");
		return EXIT_USAGE;
	}
	if (strcmp(argv[cmd_at], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t c = 0; c < NCOMMANDS; c++) {
		if (strcmp(argv[cmd_at], commands[c].name) != 0)
			continue;
		/* argv without the program: the command's name first, then the
		 * rest in order. */
		char *cmd = argv[cmd_at];

		for (int i = cmd_at; i > 1; i--)
			argv[i] = argv[i - 1];
		argv[1] = cmd;
		return commands[c].run(argc - 1, argv + 1);
	}
	usage_error("unknown command '%s'", argv[cmd_at]);
	return EXIT_USAGE;
}
