/*
 * log.h - the runtime's logging and its per-thread error message.  Private.
 *
 * Logging is silent unless the environment asks: PAELLA_LOG=debug, info,
 * warn or error prints that level and above to stderr.  Tests may install a
 * handler to capture messages instead.
 *
 * Errors a user should read go, besides the log, into a per-thread message
 * (like dlerror()): the call that failed sets it with paella__error_set()
 * and returns the status; paella__error_last() reads it back.
 */
#ifndef PAELLA_LOG_H
#define PAELLA_LOG_H

#include <stdbool.h>

#include "paella/paella.h"
#include "util.h"

enum paella__log_level {
	PAELLA__LOG_DEBUG,
	PAELLA__LOG_INFO,
	PAELLA__LOG_WARN,
	PAELLA__LOG_ERROR,
	PAELLA__LOG_NONE,
};

/* Longest message kept; longer ones are cut. */
#define PAELLA__MESSAGE_MAX 512

typedef void (*paella__log_handler)(enum paella__log_level level,
				    const char *message, void *data);

PAELLA__PRINTF(2, 3) void
paella__log(enum paella__log_level level, const char *fmt, ...);

bool
paella__log_enabled(enum paella__log_level level);

/* Sends messages of @min_level and above to @handler instead of stderr,
 * whatever PAELLA_LOG says; a NULL @handler restores the default.  Not
 * thread-safe: for tests, before any other thread logs. */
void
paella__log_set_handler(paella__log_handler handler, void *data,
			enum paella__log_level min_level);

const char *
paella__log_level_name(enum paella__log_level level);

#define paella__log_debug(...) paella__log(PAELLA__LOG_DEBUG, __VA_ARGS__)
#define paella__log_info(...) paella__log(PAELLA__LOG_INFO, __VA_ARGS__)
#define paella__log_warn(...) paella__log(PAELLA__LOG_WARN, __VA_ARGS__)
#define paella__log_error(...) paella__log(PAELLA__LOG_ERROR, __VA_ARGS__)

/* Sets this thread's error message, logs it at error level and returns
 * @status, so that a failing path reads `return paella__error_set(...)`. */
PAELLA__PRINTF(2, 3) enum paella_status
paella__error_set(enum paella_status status, const char *fmt, ...);

/* This thread's last error message; "" when none was set since the last
 * paella__error_clear(). */
const char *
paella__error_last(void);

void
paella__error_clear(void);

#endif /* PAELLA_LOG_H */
