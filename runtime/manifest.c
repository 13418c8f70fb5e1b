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
parse_line(char *line, unsigned lineno, const char *what,
	   struct paella__manifest_entry *e)
{
	char *f[5];
	unsigned n = split(line, f, 5);
	bool k;

	if (n == 0)
		return PAELLA_STATUS_NOT_FOUND; /* blank: skipped */
	k = strcmp(f[0], "K") == 0;
	if ((!k && strcmp(f[0], "U") != 0) || n < 3 || (k && n != 4) || (!k && n > 4) ||
	    !parse_count(f[2], &e->nparams) ||
	    (k && strcmp(f[3], PAELLA_NOTIFY_SAMPLE_NAME) != 0 &&
	     strcmp(f[3], PAELLA_NOTIFY_COUNT_NAME) != 0))
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: manifest line %u is not \"K <kernel> <params> sample|count\" or "
			"\"U <kernel> <params> <reason>\": rebuild the module with paella-cc",
			what, lineno);
	e->instrumented = k;
	e->counted = k && strcmp(f[3], PAELLA_NOTIFY_COUNT_NAME) == 0;
	e->name = strdup(f[1]);
	e->reason = strdup(!k && n == 4 ? f[3] : "");
	if (e->name == NULL || e->reason == NULL) {
		free(e->name);
		free(e->reason);
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

	memset(out, 0, sizeof(*out));
	len = strnlen(text, len);
	if (len < hlen || memcmp(text, PAELLA_MANIFEST_HEADER, hlen) != 0)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: the manifest does not start with \"%.*s\": "
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
		status = parse_line(cur, lineno, what, e);
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
