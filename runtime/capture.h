/*
 * capture.h - model capture: while a thread captures a model, the launches
 * of code built with paella-cc are recorded into it (capture.c) instead of
 * run (transparent.c).  Private.
 */
#ifndef PAELLA_CAPTURE_H
#define PAELLA_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "paella/paella.h"

/* cudaError_t values returned where the driver gives none to pass on. */
#define CUDART_SUCCESS 0
#define CUDART_ERROR_INVALID_VALUE 1
#define CUDART_ERROR_MEMORY_ALLOCATION 2
#define CUDART_ERROR_INITIALIZATION 3
#define CUDART_ERROR_NO_DEVICE 100
#define CUDART_ERROR_NOT_SUPPORTED 801
#define CUDART_ERROR_UNKNOWN 999

/* Whether the calling thread is capturing a model. */
bool
paella__capture_active(void);

/* Records the launch into the calling thread's model; returns a
 * cudaError_t as paella_launch_kernel() does (0: recorded). */
int
paella__capture_launch(const void *func, struct paella_dim3 grid, struct paella_dim3 block,
		       void **args, size_t shmem, int nparams);

/* The cudaError_t that stands for @status (capture and transparent mode). */
int
paella__cudart_error(enum paella_status status);

/* The program's cudaGetFuncBySymbol (its static cudart's, exported by
 * paella-cc's shim, first), as a void pointer; NULL without a CUDA
 * runtime in the process. */
void *
paella__cudart_func_lookup(void);

/* Frees the capture of @model, if any (and ends it for the thread that
 * captures). */
void
paella__capture_free(struct paella_model *model);

#endif /* PAELLA_CAPTURE_H */
