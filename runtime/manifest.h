/*
 * manifest.h - the kernel manifest a paella-cc module carries
 * (__paella_manifest, format in paella/instrument-abi.h).  Private; pure.
 *
 * The runtime parses it at module load and looks kernels up in it when a
 * model step names one: whether to pass a launch record, and how many
 * arguments the kernel takes as written.
 */
#ifndef PAELLA_MANIFEST_H
#define PAELLA_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include "paella/paella.h"

struct paella__manifest_entry {
	char *name;
	bool instrumented;
	/* Instrumented in count mode (exact per-block counts) rather than
	 * sample mode (see paella/instrument-abi.h). */
	bool counted;
	/* Parameters as written, without the launch record. */
	unsigned nparams;
	/* Why it was left alone ("skip-attribute", ...); "" when instrumented. */
	char *reason;
	/* Sample mode, manifest 3: the kernel's uninstrumented copy, launched
	 * where no block would report; NULL when the module has none. */
	char *plain;
};

struct paella__manifest {
	struct paella__manifest_entry *entries;
	unsigned count;
};

/*
 * Parses @len bytes of @text (a NUL before @len ends it).  Returns
 * PAELLA_STATUS_INVALID_ARGUMENT, naming @what and the line, for text that
 * is not a manifest.  Free with paella__manifest_fini().
 */
enum paella_status
paella__manifest_parse(const char *text, size_t len, const char *what,
		       struct paella__manifest *out);

void
paella__manifest_fini(struct paella__manifest *man);

/* The entry of kernel @name, or NULL. */
const struct paella__manifest_entry *
paella__manifest_find(const struct paella__manifest *man, const char *name);

#endif /* PAELLA_MANIFEST_H */
