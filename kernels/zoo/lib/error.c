/*
 * error.c - the zoo's error message (paella_zoo_last_error()), its logging
 * (silent unless PAELLA_LOG asks, as the runtime's) and name escaping.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zoo-private.h"

static _Thread_local char last_error[1024];

const char *
paella_zoo_last_error(void)
{
	return last_error;
}

static bool
log_enabled(void)
{
	const char *v = getenv("PAELLA_LOG");

	return v != NULL && (strcmp(v, "debug") == 0 || strcmp(v, "info") == 0 ||
			     strcmp(v, "warn") == 0 || strcmp(v, "error") == 0);
}

enum paella_status
pzoo__error_set(enum paella_status status, const char *fmt, ...)
{
	char msg[sizeof(last_error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The message may be built from the previous one. */
	memcpy(last_error, msg, sizeof(msg));
	if (log_enabled())
		fprintf(stderr, "paella-zoo: error: %s\n", last_error);
	return status;
}

enum paella_status
pzoo__error_from_runtime(enum paella_status status, const char *what)
{
	const char *msg = paella_last_error();

	if (msg == NULL || msg[0] == '\0')
		msg = paella_status_str(status);
	if (what != NULL)
		return pzoo__error_set(status, "%s: %s", what, msg);
	return pzoo__error_set(status, "%s", msg);
}

void
pzoo__abort(const char *file, int line, const char *func, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "paella-zoo: BUG at %s:%d (%s): ", file, line, func);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

char *
pzoo__escape(const char *s, char *buf, size_t cap)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char tmp[5];
		size_t k;

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'' && c != '"') {
			tmp[0] = (char)c;
			tmp[1] = '\0';
		} else {
			snprintf(tmp, sizeof(tmp), "\\x%02x", c);
		}
		k = strlen(tmp);
		if (n + k + 4 > cap) {
			memcpy(buf + n, "...", 4);
			return buf;
		}
		memcpy(buf + n, tmp, k);
		n += k;
	}
	buf[n] = '\0';
	return buf;
}
