/*
 * paella_nvcc_compat.h - what nvcc 13 accepts and clang 22 refuses, given
 * the meaning nvcc gives it, so that code written for nvcc builds unchanged.
 *
 * paella-cc includes it (-include) before every CUDA input, after clang's
 * own CUDA headers; --paella-no-compat leaves it out.  Each part says which
 * nvcc behaviour it reproduces:
 *
 *   - host min()/max() on the integer and floating types CUDA's
 *     math_functions.hpp declares __host__ __device__ for nvcc (clang
 *     declares them for the device only): same overloads, same results
 *     (mixed signed/unsigned compare as unsigned, as umin/umax do);
 *   - nvcc's scoped atomic built-ins, __nv_atomic_* with the __NV_ATOMIC_*
 *     orders and __NV_THREAD_SCOPE_* scopes (CUDA 12.8+), built on clang's
 *     __scoped_atomic_* built-ins with the same order and scope;
 *   - __cxa_pure_virtual on the device: a vtable of an abstract class takes
 *     its address, which ptxas refuses for an undefined function; nvcc's
 *     device runtime traps there, and so does this one (linkonce: emitted
 *     only where a vtable names it);
 *   - nan() and nanf() on the device, which clang declares and never
 *     defines: libdevice's, as nvcc's;
 *   - device operator new and delete without #include <new> (a virtual
 *     destructor's deleting variant calls sized delete): nvcc declares them
 *     implicitly; clang's CUDA <new> wrapper defines them, so it is included.
 *
 * Not here, because no header can do it: clang refuses a __shared__
 * variable whose type has a non-empty constructor (nvcc warns and never
 * runs the constructor).
 */
#ifndef PAELLA_NVCC_COMPAT_H
#define PAELLA_NVCC_COMPAT_H

#if defined(__CUDA__) && defined(__cplusplus) && !defined(__CUDACC_RTC__)

#define PAELLA_NVCC_COMPAT 1

/* ---- host min/max, as math_functions.hpp gives nvcc ---------------------- */

#define PAELLA__MINMAX(T, A, B, R)                                                   \
	static inline __host__ R min(const A a, const B b)                           \
	{                                                                              \
		return (T)a < (T)b ? (T)a : (T)b;                                      \
	}                                                                              \
	static inline __host__ R max(const A a, const B b)                           \
	{                                                                              \
		return (T)a > (T)b ? (T)a : (T)b;                                      \
	}

PAELLA__MINMAX(int, int, int, int)
PAELLA__MINMAX(unsigned int, unsigned int, unsigned int, unsigned int)
PAELLA__MINMAX(unsigned int, int, unsigned int, unsigned int)
PAELLA__MINMAX(unsigned int, unsigned int, int, unsigned int)
PAELLA__MINMAX(long int, long int, long int, long int)
PAELLA__MINMAX(unsigned long int, unsigned long int, unsigned long int, unsigned long int)
PAELLA__MINMAX(unsigned long int, long int, unsigned long int, unsigned long int)
PAELLA__MINMAX(unsigned long int, unsigned long int, long int, unsigned long int)
PAELLA__MINMAX(long long int, long long int, long long int, long long int)
PAELLA__MINMAX(unsigned long long int, unsigned long long int, unsigned long long int,
	       unsigned long long int)
PAELLA__MINMAX(unsigned long long int, long long int, unsigned long long int,
	       unsigned long long int)
PAELLA__MINMAX(unsigned long long int, unsigned long long int, long long int,
	       unsigned long long int)
#undef PAELLA__MINMAX

/* Floating point: fminf/fmaxf/fmin/fmax, as nvcc's overloads call them
 * (a NaN operand gives the other one). */
extern "C" {
float fminf(float, float) throw();
float fmaxf(float, float) throw();
double fmin(double, double) throw();
double fmax(double, double) throw();
}
static inline __host__ float min(const float a, const float b) { return fminf(a, b); }
static inline __host__ float max(const float a, const float b) { return fmaxf(a, b); }
static inline __host__ double min(const double a, const double b) { return fmin(a, b); }
static inline __host__ double max(const double a, const double b) { return fmax(a, b); }
static inline __host__ double min(const float a, const double b) { return fmin((double)a, b); }
static inline __host__ double max(const float a, const double b) { return fmax((double)a, b); }
static inline __host__ double min(const double a, const float b) { return fmin(a, (double)b); }
static inline __host__ double max(const double a, const float b) { return fmax(a, (double)b); }

/* ---- nvcc's scoped atomics ----------------------------------------------- */

/* nvcc declares these in crt/device_functions.h, in a part clang's CUDA
 * wrapper does not include (clang 22, CUDA 13.0). */
enum {
	__NV_ATOMIC_RELAXED,
	__NV_ATOMIC_CONSUME,
	__NV_ATOMIC_ACQUIRE,
	__NV_ATOMIC_RELEASE,
	__NV_ATOMIC_ACQ_REL,
	__NV_ATOMIC_SEQ_CST
};

enum {
	__NV_THREAD_SCOPE_THREAD,
	__NV_THREAD_SCOPE_BLOCK,
	__NV_THREAD_SCOPE_CLUSTER,
	__NV_THREAD_SCOPE_DEVICE,
	__NV_THREAD_SCOPE_SYSTEM
};

/* The orders are the C11 ones, in the same order; a scope becomes clang's
 * memory scope (a constant after inlining, as it is in nvcc's calls). */
#define PAELLA__SCOPED(scope, EXPR)                                                  \
	switch (scope) {                                                               \
	case __NV_THREAD_SCOPE_THREAD: {                                               \
		const int __paella_s = __MEMORY_SCOPE_SINGLE;                          \
		EXPR;                                                                  \
	}                                                                              \
	case __NV_THREAD_SCOPE_BLOCK: {                                                \
		const int __paella_s = __MEMORY_SCOPE_WRKGRP;                          \
		EXPR;                                                                  \
	}                                                                              \
	case __NV_THREAD_SCOPE_CLUSTER: {                                              \
		const int __paella_s = __MEMORY_SCOPE_CLUSTR;                          \
		EXPR;                                                                  \
	}                                                                              \
	case __NV_THREAD_SCOPE_DEVICE: {                                               \
		const int __paella_s = __MEMORY_SCOPE_DEVICE;                          \
		EXPR;                                                                  \
	}                                                                              \
	default: {                                                                     \
		const int __paella_s = __MEMORY_SCOPE_SYSTEM;                          \
		EXPR;                                                                  \
	}                                                                              \
	}

#define PAELLA__FETCH_OP(OP)                                                         \
	template <typename T>                                                          \
	static __device__ __forceinline__ T __nv_atomic_fetch_##OP(                    \
		T *ptr, T val, int order, int scope = __NV_THREAD_SCOPE_SYSTEM)        \
	{                                                                              \
		PAELLA__SCOPED(scope,                                                  \
			       return __scoped_atomic_fetch_##OP(ptr, val, order,      \
								 __paella_s))  \
	}                                                                              \
	template <typename T>                                                          \
	static __device__ __forceinline__ void __nv_atomic_##OP(                       \
		T *ptr, T val, int order, int scope = __NV_THREAD_SCOPE_SYSTEM)        \
	{                                                                              \
		(void)__nv_atomic_fetch_##OP(ptr, val, order, scope);                  \
	}

PAELLA__FETCH_OP(add)
PAELLA__FETCH_OP(sub)
PAELLA__FETCH_OP(min)
PAELLA__FETCH_OP(max)
PAELLA__FETCH_OP(and)
PAELLA__FETCH_OP(or)
PAELLA__FETCH_OP(xor)
#undef PAELLA__FETCH_OP

template <typename T>
static __device__ __forceinline__ T
__nv_atomic_exchange_n(T *ptr, T val, int order, int scope = __NV_THREAD_SCOPE_SYSTEM)
{
	PAELLA__SCOPED(scope, return __scoped_atomic_exchange_n(ptr, val, order, __paella_s))
}

template <typename T>
static __device__ __forceinline__ void
__nv_atomic_exchange(T *ptr, T *val, T *ret, int order, int scope = __NV_THREAD_SCOPE_SYSTEM)
{
	PAELLA__SCOPED(scope, __scoped_atomic_exchange(ptr, val, ret, order, __paella_s); return)
}

template <typename T>
static __device__ __forceinline__ bool
__nv_atomic_compare_exchange_n(T *ptr, T *expected, T desired, bool weak, int success_order,
			       int failure_order, int scope = __NV_THREAD_SCOPE_SYSTEM)
{
	PAELLA__SCOPED(scope, return __scoped_atomic_compare_exchange_n(ptr, expected, desired, weak,
									success_order, failure_order,
									__paella_s))
}

template <typename T>
static __device__ __forceinline__ bool
__nv_atomic_compare_exchange(T *ptr, T *expected, T *desired, bool weak, int success_order,
			     int failure_order, int scope = __NV_THREAD_SCOPE_SYSTEM)
{
	PAELLA__SCOPED(scope, return __scoped_atomic_compare_exchange(ptr, expected, desired, weak,
								      success_order, failure_order,
								      __paella_s))
}

template <typename T>
static __device__ __forceinline__ T
__nv_atomic_load_n(T *ptr, int order, int scope = __NV_THREAD_SCOPE_SYSTEM)
{
	PAELLA__SCOPED(scope, return __scoped_atomic_load_n(ptr, order, __paella_s))
}

template <typename T>
static __device__ __forceinline__ void
__nv_atomic_load(T *ptr, T *ret, int order, int scope = __NV_THREAD_SCOPE_SYSTEM)
{
	PAELLA__SCOPED(scope, __scoped_atomic_load(ptr, ret, order, __paella_s); return)
}

template <typename T>
static __device__ __forceinline__ void
__nv_atomic_store_n(T *ptr, T val, int order, int scope = __NV_THREAD_SCOPE_SYSTEM)
{
	PAELLA__SCOPED(scope, __scoped_atomic_store_n(ptr, val, order, __paella_s); return)
}

template <typename T>
static __device__ __forceinline__ void
__nv_atomic_store(T *ptr, T *val, int order, int scope = __NV_THREAD_SCOPE_SYSTEM)
{
	PAELLA__SCOPED(scope, __scoped_atomic_store(ptr, val, order, __paella_s); return)
}

static __device__ __forceinline__ void
__nv_atomic_thread_fence(int order, int scope = __NV_THREAD_SCOPE_SYSTEM)
{
	PAELLA__SCOPED(scope, __scoped_atomic_thread_fence(order, __paella_s); return)
}
#undef PAELLA__SCOPED

/* ---- device operator new/delete ------------------------------------------ */

#include <new>

/* ---- nan() and nanf() on the device -------------------------------------- */

/* clang's CUDA headers declare them for the device and define them nowhere:
 * a call compiles, and fails at ptxas (whole program) or nvlink (-rdc) as an
 * undefined ::nan.  nvcc's come from libdevice, as these do. */
extern "C" __device__ double __nv_nan(const char *);
extern "C" __device__ float __nv_nanf(const char *);
__device__ double nan(const char *tag) { return __nv_nan(tag); }
__device__ float nanf(const char *tag) { return __nv_nanf(tag); }

/* ---- __cxa_pure_virtual on the device ------------------------------------ */

#if defined(__CUDA_ARCH__)
extern "C" __device__ inline void __cxa_pure_virtual(void)
{
	__trap();
}
#endif

#endif /* __CUDA__ && __cplusplus && !__CUDACC_RTC__ */
#endif /* PAELLA_NVCC_COMPAT_H */
