/*
 * log.c - logging and the per-thread error message.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static enum paella__log_level env_level = PAELLA__LOG_NONE;

static paella__log_handler handler;
static void *handler_data;
static enum paella__log_level handler_level = PAELLA__LOG_NONE;

static _Thread_local char error_message[PAELLA__MESSAGE_MAX];

static const char *const level_names[] = {
	[PAELLA__LOG_DEBUG] = "debug",
	[PAELLA__LOG_INFO] = "info",
	[PAELLA__LOG_WARN] = "warn",
	[PAELLA__LOG_ERROR] = "error",
	[PAELLA__LOG_NONE] = "none",
};

const char *
paella__log_level_name(enum paella__log_level level)
{
	if ((unsigned)level >= PAELLA__ARRAY_SIZE(level_names))
		return "?";
	return level_names[level];
}

static void
read_env(void)
{
	const char *v = getenv("PAELLA_LOG");

	if (v == NULL || *v == '\0')
		return;
	for (unsigned i = 0; i < PAELLA__ARRAY_SIZE(level_names); i++) {
		if (strcasecmp(v, level_names[i]) == 0) {
			env_level = (enum paella__log_level)i;
			return;
		}
	}
	/* Said once, and said even though logging is off: the user asked
	 * for something and would otherwise wonder why nothing prints. */
	fprintf(stderr, "paella: PAELLA_LOG=%s not understood; "
		"use debug, info, warn, error or none\n", v);
}

bool
paella__log_enabled(enum paella__log_level level)
{
	if (level >= PAELLA__LOG_NONE)
		return false;
	if (handler != NULL)
		return level >= handler_level;
	pthread_once(&env_once, read_env);
	return level >= env_level;
}

PAELLA__PRINTF(2, 0) static void
log_va(enum paella__log_level level, const char *fmt, va_list ap)
{
	char msg[PAELLA__MESSAGE_MAX];

	if (!paella__log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (handler != NULL) {
		handler(level, msg, handler_data);
		return;
	}
	/* One fprintf per message so that lines from threads do not mix. */
	fprintf(stderr, "paella %s: %s\n", paella__log_level_name(level), msg);
}

void
paella__log(enum paella__log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_va(level, fmt, ap);
	va_end(ap);
}

void
paella__log_set_handler(paella__log_handler fn, void *data,
			enum paella__log_level min_level)
{
	handler = fn;
	handler_data = data;
	handler_level = min_level;
}

enum paella_status
paella__error_set(enum paella_status status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(error_message, sizeof(error_message), fmt, ap);
	va_end(ap);
	paella__log(PAELLA__LOG_ERROR, "%s", error_message);
	return status;
}

const char *
paella__error_last(void)
{
	return error_message;
}

void
paella__error_clear(void)
{
	error_message[0] = '\0';
}

void
paella__abort(const char *file, int line, const char *func, const char *fmt, ...)
{
	char msg[PAELLA__MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One fprintf, as log_va(), so that another thread's lines do not
	 * split the last words of this one. */
	fprintf(stderr, "paella: internal error at %s:%d (%s): %s\n", file, line, func, msg);
	abort();
}
