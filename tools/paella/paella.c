/*
 * paella - the command-line front end: the model zoo today (list the models,
 * show a model's kernel launches, check a weights file); serving later.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "log.h"
#include "safetensors.h"
#include "zoo.h"

#ifndef PAELLA_VERSION
#define PAELLA_VERSION "unknown"
#endif

#define EXIT_USAGE 2

static void
usage(FILE *fp)
{
	fputs("usage: paella COMMAND [ARGS]\n"
	      "\n"
	      "Commands:\n"
	      "  models [--batch N]          list the models of the zoo: kernel launches,\n"
	      "                              parameters, activation memory, GFLOPs\n"
	      "  plan MODEL [--batch N]      print MODEL's kernel launches in order\n"
	      "  check-weights MODEL FILE    check that the safetensors FILE holds MODEL's\n"
	      "                              weights (torchvision's state-dict names); prints\n"
	      "                              what is wrong, exits 1 if anything is\n"
	      "  bench [--help]              the serving benchmark (Figs. 11-13 of Paella)\n"
	      "\n"
	      "Options:\n"
	      "  --batch N    images per run (default 1)\n"
	      "  -h, --help   this text\n"
	      "  --version    the version\n"
	      "\n"
	      "Models: resnet18 resnet34 resnet50 mobilenet_v2 squeezenet1_1 densenet121\n"
	      "googlenet inception_v3, as torchvision defines them (GoogLeNet and\n"
	      "Inception-v3 without auxiliary classifiers, transform_input=False).\n"
	      "A weights file comes from PyTorch:\n"
	      "  safetensors.torch.save_file(model.state_dict(), FILE)\n",
	      fp);
}

static int
parse_batch(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 4096) {
		fprintf(stderr, "paella: --batch: '%s' is not a batch size of 1 to 4096\n", s);
		exit(EXIT_USAGE);
	}
	return (int)v;
}

static struct paella__zoo_plan *
build_or_die(const char *model, int batch)
{
	struct paella__zoo_options opts = { .batch = batch };
	struct paella__zoo_plan *plan;
	enum paella_status st = paella__zoo_build(model, &opts, &plan);

	if (st != PAELLA_STATUS_OK) {
		fprintf(stderr, "paella: %s\n", paella__error_last());
		exit(st == PAELLA_STATUS_NOT_FOUND ? EXIT_USAGE : EXIT_FAILURE);
	}
	return plan;
}

static int
cmd_models(int batch)
{
	printf("%-14s %-7s %8s %12s %9s %10s %9s  %s\n", "model", "input", "kernels", "parameters",
	       "params MB", "act. MB", "GFLOPs", "description");
	for (unsigned i = 0; i < paella__zoo_model_count(); i++) {
		const struct paella__zoo_model_info *m = paella__zoo_model_at(i);
		struct paella__zoo_plan *plan = build_or_die(m->name, batch);
		char input[16];

		snprintf(input, sizeof(input), "%dx%d", m->in_h, m->in_w);
		printf("%-14s %-7s %8u %12" PRIu64 " %9.1f %10.1f %9.2f  %s\n", m->name, input,
		       plan->nlaunches, plan->parameters, plan->param_floats * 4.0 / 1e6,
		       plan->arena_bytes / 1e6, plan->flops / 1e9, m->description);
		paella__zoo_plan_free(plan);
	}
	printf("\nkernels: launches of one run at batch %d; parameters: torchvision's count; "
	       "params MB: the folded\ndevice blob; act. MB: the activation arena after reuse; "
	       "GFLOPs: multiply-adds count 2.\n", batch);
	return 0;
}

static void
print_arg(const struct paella__zoo_plan *plan, const struct paella__zoo_arg *a)
{
	switch (a->kind) {
	case PAELLA__ZOO_ARG_NULL:
		printf(" null");
		break;
	case PAELLA__ZOO_ARG_ACT:
		printf(" %s", plan->storages[a->ref].name);
		if (a->offset != 0)
			printf("+%" PRIu64, a->offset);
		break;
	case PAELLA__ZOO_ARG_PARAM:
		printf(" p%d", a->ref);
		break;
	case PAELLA__ZOO_ARG_I32:
		printf(" %d", a->i32);
		break;
	case PAELLA__ZOO_ARG_F32:
		printf(" %g", (double)a->f32);
		break;
	}
}

static int
cmd_plan(const char *model, int batch)
{
	struct paella__zoo_plan *plan = build_or_die(model, batch);

	printf("# %s, batch %d: %u launches, arena %.1f MB (%.1f MB without reuse), "
	       "%.1f MB of parameters\n", plan->model, plan->batch, plan->nlaunches,
	       plan->arena_bytes / 1e6, plan->storage_bytes / 1e6, plan->param_floats * 4.0 / 1e6);
	printf("# index layer kernel grid block: arguments\n");
	for (unsigned i = 0; i < plan->nlaunches; i++) {
		const struct paella__zoo_launch *l = &plan->launches[i];

		printf("%3u %-40s %-24s %ux%ux%u %u:", i, l->layer, l->kernel, l->grid[0],
		       l->grid[1], l->grid[2], l->block[0]);
		for (unsigned a = 0; a < l->nargs; a++)
			print_arg(plan, &l->args[a]);
		printf("\n");
	}
	paella__zoo_plan_free(plan);
	return 0;
}

static int
cmd_check_weights(const char *model, const char *path)
{
	struct paella__zoo_plan *plan = build_or_die(model, 1);
	struct paella__st_file *st = NULL;
	enum paella_status status;
	float *blob = NULL;
	int rc = 1;

	status = paella__st_open(path, &st);
	if (status == PAELLA_STATUS_OK)
		status = paella__zoo_make_blob(plan, st, &blob);
	if (status != PAELLA_STATUS_OK) {
		fprintf(stderr, "paella: %s\n", paella__error_last());
		goto out;
	}
	printf("%s: ok for %s: %u tensors in the file, %u used, %" PRIu64 " parameters\n", path,
	       model, paella__st_count(st), plan->ntensors, plan->parameters);
	rc = 0;
out:
	free(blob);
	paella__st_close(st);
	paella__zoo_plan_free(plan);
	return rc;
}

static const struct option longopts[] = {
	{ "batch", required_argument, NULL, 'b' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Reads options up to the first operand ("+" in @optstring) or all of them;
 * returns -1 to go on, or the exit status when an option ends the run. */
static int
parse_options(int argc, char **argv, const char *optstring, int *batch)
{
	int c;

	while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			*batch = parse_batch(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("paella %s\n", PAELLA_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	return -1;
}

int
main(int argc, char **argv)
{
	const char *cmd;
	int batch = 1, rc;

	if ((rc = parse_options(argc, argv, "+h", &batch)) >= 0)
		return rc;
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind++];
	if (strcmp(cmd, "bench") == 0)
		return paella_bench_main(argc - optind + 1, argv + optind - 1);
	/* Options may follow the command too. */
	if ((rc = parse_options(argc, argv, "h", &batch)) >= 0)
		return rc;
	argv += optind;
	argc -= optind;
	if (strcmp(cmd, "models") == 0 && argc == 0)
		return cmd_models(batch);
	if (strcmp(cmd, "plan") == 0 && argc == 1)
		return cmd_plan(argv[0], batch);
	if (strcmp(cmd, "check-weights") == 0 && argc == 2)
		return cmd_check_weights(argv[0], argv[1]);
	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "paella: unknown command or wrong arguments: %s\n\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
