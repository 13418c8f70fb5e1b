/*
 * util.h - small helpers shared by the runtime's files.  Private.
 */
#ifndef PAELLA_UTIL_H
#define PAELLA_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "paella/paella.h"

#define PAELLA__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define PAELLA__STR_(x) #x
/* Stringifies after macro expansion: PAELLA__STR(cuMemAlloc) is "cuMemAlloc_v2". */
#define PAELLA__STR(x) PAELLA__STR_(x)

#if defined(__GNUC__) || defined(__clang__)
#define PAELLA__PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define PAELLA__NORETURN __attribute__((noreturn))
#define PAELLA__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define PAELLA__PRINTF(fmt, args)
#define PAELLA__NORETURN
#define PAELLA__UNLIKELY(x) (x)
#endif

/* Aborts with a message naming the place: for broken internal invariants,
 * never for bad input (that returns a status). */
PAELLA__NORETURN PAELLA__PRINTF(4, 5) void
paella__abort(const char *file, int line, const char *func, const char *fmt, ...);

/* Checked in every build type: a broken invariant must not run on. */
#define PAELLA__ASSERT(cond) \
	do { \
		if (PAELLA__UNLIKELY(!(cond))) \
			paella__abort(__FILE__, __LINE__, __func__, \
				      "assertion failed: %s", #cond); \
	} while (0)

#define PAELLA__BUG(...) paella__abort(__FILE__, __LINE__, __func__, __VA_ARGS__)

/* @p = one zeroed object of its type; where that fails, the function returns
 * PAELLA_STATUS_NO_MEMORY with @msg as the error (paella__error_set, log.h):
 * for the allocations that come before anything needs undoing. */
#define PAELLA__NEW_OR_RETURN(p, msg) \
	do { \
		(p) = calloc(1, sizeof(*(p))); \
		if ((p) == NULL) \
			return paella__error_set(PAELLA_STATUS_NO_MEMORY, "%s", (msg)); \
	} while (0)

/* The first check of a public call that hands its result back through
 * @out: clears *@out (when given), then returns
 * PAELLA_STATUS_INVALID_ARGUMENT from the caller when @obj or @out is NULL,
 * naming the caller and the argument (@obj_name for @obj, as the public
 * header calls it). */
#define PAELLA__OUT_ARGS_OR_RETURN(obj, obj_name, out) \
	do { \
		if ((out) != NULL) \
			memset((out), 0, sizeof(*(out))); \
		if ((obj) == NULL || (out) == NULL) \
			return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT, \
				"%s: %s is NULL", __func__, \
				(obj) == NULL ? (obj_name) : #out); \
	} while (0)

/* Sizes and offsets that come from a caller are added and multiplied only
 * through these: each is true, leaving *out undefined, where the exact
 * result does not fit in *out's type.  The builtins are type-generic, so
 * one name serves size_t and uint64_t alike (as the kernel's
 * check_add_overflow()). */
#define paella__add_overflows(a, b, out) __builtin_add_overflow((a), (b), (out))
#define paella__mul_overflows(a, b, out) __builtin_mul_overflow((a), (b), (out))

static inline int
paella__is_pow2_u64(uint64_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

/* Smallest power of two >= x; 1 for x <= 1.  x must be <= 2^63. */
static inline uint64_t
paella__next_pow2_u64(uint64_t x)
{
	uint64_t p = 1;

	while (p < x)
		p <<= 1;
	return p;
}

/* Largest power of two <= x; 1 for x <= 1. */
static inline uint64_t
paella__floor_pow2_u64(uint64_t x)
{
	uint64_t p = 1;

	while (p <= x / 2)
		p <<= 1;
	return p;
}

static inline uint32_t
paella__log2_u64(uint64_t pow2)
{
	uint32_t s = 0;

	while ((UINT64_C(1) << s) < pow2)
		s++;
	return s;
}

/* A grid or block as the API gives it, into the x, y, z array that steps
 * and launches keep. */
static inline void
paella__dim3_put(unsigned out[3], struct paella_dim3 d)
{
	out[0] = d.x;
	out[1] = d.y;
	out[2] = d.z;
}

/* CLOCK_MONOTONIC in ns: the cuda backend's clock, and wall time spent. */
static inline uint64_t
paella__monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

/* In spin loops: lets the core's other thread run and saves power. */
static inline void
paella__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

#endif /* PAELLA_UTIL_H */
