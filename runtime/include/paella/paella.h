/*
 * paella/paella.h - the public API of libpaellart, the Paella runtime.
 *
 * Paella serves many models on one GPU by scheduling their kernels itself:
 * kernels compiled with paella-cc report their progress, and the runtime's
 * dispatcher launches the next kernel just in time.  See DESIGN.md.
 *
 * This header is C99 and C++.  Every fallible call returns an
 * enum paella_status; PAELLA_STATUS_OK is zero.
 */
#ifndef PAELLA_PAELLA_H
#define PAELLA_PAELLA_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define PAELLA_EXPORT __attribute__((visibility("default")))
#else
#define PAELLA_EXPORT
#endif

/*
 * The status codes, with the sentence paella_status_str() returns for each.
 * Append only: the numeric values are part of the ABI.
 */
#define PAELLA_STATUS_LIST(X) \
	X(OK, "success") \
	X(INVALID_ARGUMENT, "invalid argument") \
	X(NO_MEMORY, "out of memory") \
	X(NO_DEVICE, "no usable GPU: no NVIDIA driver, or no device") \
	X(DRIVER_ERROR, "the CUDA driver reported an error") \
	X(ABI_MISMATCH, "module built for another instrumentation ABI version") \
	X(NOT_FOUND, "not found") \
	X(TIMEOUT, "timed out") \
	X(BUSY, "busy: resource in use, try again") \
	X(SHUT_DOWN, "the runtime is shutting down") \
	X(UNSUPPORTED, "not supported") \
	X(IO_ERROR, "input/output error") \
	X(INTERNAL, "internal error")

enum paella_status {
#define PAELLA__STATUS_ENUM(name, str) PAELLA_STATUS_##name,
	PAELLA_STATUS_LIST(PAELLA__STATUS_ENUM)
#undef PAELLA__STATUS_ENUM
};

/**
 * paella_status_str - a short sentence describing @status.
 *
 * Returns a static string, never NULL; an unknown value gives
 * "unknown status".
 */
PAELLA_EXPORT const char *
paella_status_str(enum paella_status status);

/**
 * paella_status_name - the identifier of @status, e.g. "PAELLA_STATUS_NO_DEVICE".
 *
 * Returns a static string, never NULL; an unknown value gives
 * "PAELLA_STATUS_UNKNOWN".
 */
PAELLA_EXPORT const char *
paella_status_name(enum paella_status status);

/**
 * paella_version_string - the runtime's version, e.g. "0.1.0".
 *
 * Returns a static string.  Compare it with the version a program was built
 * against to detect a mismatched libpaellart.
 */
PAELLA_EXPORT const char *
paella_version_string(void);

/*
 * To come: runtime handles (backend, device, dispatcher policy), models
 * (loading paella-cc modules, per-kernel profiles), jobs (submit, wait,
 * completion flags).
 */

#ifdef __cplusplus
}
#endif

#endif /* PAELLA_PAELLA_H */
