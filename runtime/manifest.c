/*
 * manifest.c - parsing the kernel manifest of a module.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "manifest.h"
#include "paella/instrument-abi.h"

void
paella__manifest_fini(struct paella__manifest *man)
{
	for (unsigned i = 0; i < man->count; i++) {
		free(man->entries[i].name);
		free(man->entries[i].reason);
		free(man->entries[i].plain);
	}
	free(man->entries);
	man->entries = NULL;
	man->count = 0;
}

/* Splits @line (NUL-terminated, modified) at spaces into at most @max
 * fields; returns how many. */
static unsigned
split(char *line, char **fields, unsigned max)
{
	unsigned n = 0;
	char *save = NULL;

	for (char *tok = strtok_r(line, " \t\r", &save); tok != NULL && n < max;
	     tok = strtok_r(NULL, " \t\r", &save))
		fields[n++] = tok;
	return n;
}

static bool
parse_count(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > 4096)
		return false;
	*out = (unsigned)v;
	return true;
}

static enum paella_status
parse_line(char *line, unsigned lineno, const char *what, bool v3,
	   struct paella__manifest_entry *e)
{
	char *f[6];
	unsigned n = split(line, f, 6);
	bool k, sample;

	if (n == 0)
		return PAELLA_STATUS_NOT_FOUND; /* blank: skipped */
	k = strcmp(f[0], "K") == 0;
	sample = k && n >= 4 && strcmp(f[3], PAELLA_NOTIFY_SAMPLE_NAME) == 0;
	/* A plain copy: sample mode, manifest 3, and named as the pass names
	 * it (so that a corrupt line cannot point the runtime elsewhere). */
	if ((!k && strcmp(f[0], "U") != 0) || n < 3 || (k && n != 4 && !(sample && n == 5 && v3)) ||
	    (!k && n > 4) || !parse_count(f[2], &e->nparams) ||
	    (k && !sample && strcmp(f[3], PAELLA_NOTIFY_COUNT_NAME) != 0) ||
	    (n == 5 && (strncmp(f[4], f[1], strlen(f[1])) != 0 ||
			strcmp(f[4] + strlen(f[1]), PAELLA_PLAIN_CLONE_SUFFIX) != 0)))
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: manifest line %u is not \"K <kernel> <params> sample|count\" "
			"(manifest 3: \"K <kernel> <params> sample <kernel>%s\" too) or "
			"\"U <kernel> <params> <reason>\": rebuild the module with paella-cc",
			what, lineno, PAELLA_PLAIN_CLONE_SUFFIX);
	e->instrumented = k;
	e->counted = k && !sample;
	e->name = strdup(f[1]);
	e->reason = strdup(!k && n == 4 ? f[3] : "");
	e->plain = n == 5 ? strdup(f[4]) : NULL;
	if (e->name == NULL || e->reason == NULL || (n == 5 && e->plain == NULL)) {
		free(e->name);
		free(e->reason);
		free(e->plain);
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "%s: out of memory", what);
	}
	return PAELLA_STATUS_OK;
}

enum paella_status
paella__manifest_parse(const char *text, size_t len, const char *what,
		       struct paella__manifest *out)
{
	enum paella_status status = PAELLA_STATUS_OK;
	size_t hlen = strlen(PAELLA_MANIFEST_HEADER);
	unsigned lines = 0, lineno = 1;
	char *copy, *cur, *save = NULL;
	bool v3;

	_Static_assert(sizeof(PAELLA_MANIFEST_HEADER) == sizeof(PAELLA_MANIFEST_HEADER_V2),
		       "both headers have one length");
	memset(out, 0, sizeof(*out));
	len = strnlen(text, len);
	v3 = len >= hlen && memcmp(text, PAELLA_MANIFEST_HEADER, hlen) == 0;
	if (!v3 && (len < hlen || memcmp(text, PAELLA_MANIFEST_HEADER_V2, hlen) != 0))
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: the manifest does not start with \"%.*s\" (or version 2): "
			"rebuild the module with a matching paella-cc", what,
			(int)hlen - 1, PAELLA_MANIFEST_HEADER);
	copy = strndup(text + hlen, len - hlen);
	if (copy == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "%s: out of memory", what);
	for (const char *p = copy; *p; p++)
		lines += *p == '\n';
	out->entries = calloc(lines + 1, sizeof(*out->entries));
	if (out->entries == NULL) {
		status = paella__error_set(PAELLA_STATUS_NO_MEMORY, "%s: out of memory", what);
		goto out;
	}
	for (cur = strtok_r(copy, "\n", &save); cur != NULL; cur = strtok_r(NULL, "\n", &save)) {
		struct paella__manifest_entry *e = &out->entries[out->count];

		lineno++;
		status = parse_line(cur, lineno, what, v3, e);
		if (status == PAELLA_STATUS_NOT_FOUND) {
			status = PAELLA_STATUS_OK;
			continue;
		}
		if (status != PAELLA_STATUS_OK)
			goto out;
		if (paella__manifest_find(out, e->name) != NULL) {
			status = paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				"%s: kernel %s appears twice in the manifest", what, e->name);
			free(e->name);
			free(e->reason);
			free(e->plain);
			goto out;
		}
		out->count++;
	}
out:
	free(copy);
	if (status != PAELLA_STATUS_OK)
		paella__manifest_fini(out);
	return status;
}

const struct paella__manifest_entry *
paella__manifest_find(const struct paella__manifest *man, const char *name)
{
	for (unsigned i = 0; i < man->count; i++)
		if (strcmp(man->entries[i].name, name) == 0)
			return &man->entries[i];
	return NULL;
}
