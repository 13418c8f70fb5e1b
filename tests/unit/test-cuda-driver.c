/*
 * test-cuda-driver.c - loading libcuda through the boundary file, with a
 * missing driver and with the fake one (fake-libcuda.c).
 */
#include <check.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda-driver.h"
#include "../check-main.h"

static const char *
fake_path(void)
{
	const char *p = getenv("PAELLA_TEST_FAKE_LIBCUDA");

	ck_assert_msg(p != NULL, "meson sets PAELLA_TEST_FAKE_LIBCUDA");
	return p;
}

static void
use_fake(void)
{
	setenv("PAELLA_LIBCUDA", fake_path(), 1);
	unsetenv("FAKE_CUDA_DRIVER_VERSION");
	unsetenv("FAKE_CUDA_INIT_RESULT");
	unsetenv("FAKE_CUDA_HIDE");
	unsetenv("FAKE_CUDA_FAIL");
	paella__error_clear();
}

struct captured {
	int errors;
	char last[PAELLA__MESSAGE_MAX];
	/* The last debug message. */
	char debug[PAELLA__MESSAGE_MAX];
};

static void
capture(enum paella__log_level level, const char *msg, void *data)
{
	struct captured *c = data;

	if (level == PAELLA__LOG_ERROR)
		c->errors++;
	if (level == PAELLA__LOG_DEBUG) {
		snprintf(c->debug, sizeof(c->debug), "%s", msg);
		return;
	}
	snprintf(c->last, sizeof(c->last), "%s", msg);
}

PAELLA_TEST(cuda_driver_missing_library)
{
	struct paella__cu *cu = (struct paella__cu *)1;
	enum paella_status st;

	setenv("PAELLA_LIBCUDA", "/nonexistent/libcuda.so.1", 1);
	paella__error_clear();
	st = paella__cu_open(&cu);
	ck_assert_int_eq(st, PAELLA_STATUS_NO_DEVICE);
	ck_assert_ptr_null(cu);
	ck_assert_msg(strstr(paella__error_last(), "/nonexistent/libcuda.so.1") != NULL,
		      "message: %s", paella__error_last());
	ck_assert_msg(strstr(paella__error_last(), "cannot be loaded") != NULL,
		      "message: %s", paella__error_last());
}
END_TEST

PAELLA_TEST(cuda_driver_no_driver_message)
{
	struct paella__cu *cu = NULL;
	void *real = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);

	/* Only meaningful where there is no driver, like the build machines. */
	if (real != NULL) {
		dlclose(real);
		return;
	}
	unsetenv("PAELLA_LIBCUDA");
	paella__error_clear();
	ck_assert_int_eq(paella__cu_open(&cu), PAELLA_STATUS_NO_DEVICE);
	ck_assert_msg(strstr(paella__error_last(),
			     "libcuda.so.1 not found: no NVIDIA driver on this machine") != NULL,
		      "message: %s", paella__error_last());
}
END_TEST

PAELLA_TEST(cuda_driver_fake_loads)
{
	struct paella__cu *cu = NULL;
	int count = 0;

	use_fake();
	ck_assert_int_eq(paella__cu_open(&cu), PAELLA_STATUS_OK);
	ck_assert_ptr_nonnull(cu);
	ck_assert(cu->have_get_proc_address);
	ck_assert_int_eq(cu->driver_version, CUDA_VERSION);
	ck_assert_int_eq(cu->cuDeviceGetCount(&count), CUDA_SUCCESS);
	ck_assert_int_eq(count, 1);
	/* Asked for the variant cuda.h declares, not the newest. */
	ck_assert_int_eq(cu->cuCtxSynchronize(), CUDA_SUCCESS);
	/* Optional and absent: NULL, and loading still succeeds. */
	ck_assert_ptr_null(cu->cuFuncGetParamInfo);
	ck_assert_ptr_nonnull(cu->cuLaunchKernel);
	ck_assert_str_eq(paella__cu_error_name(cu, CUDA_ERROR_OUT_OF_MEMORY),
			 "FAKE_CUDA_ERROR_OUT_OF_MEMORY");
	ck_assert_str_eq(paella__cu_error_name(cu, (CUresult)99999),
			 "CUDA_ERROR_UNKNOWN_TO_DRIVER");
	paella__cu_close(cu);
}
END_TEST

PAELLA_TEST(cuda_driver_dlsym_fallback)
{
	struct paella__cu *cu = NULL;
	CUdeviceptr p = 0;

	use_fake();
	/* cuGetProcAddress denies it; the exported cuMemAlloc_v2 serves. */
	setenv("FAKE_CUDA_HIDE", "cuMemAlloc", 1);
	ck_assert_int_eq(paella__cu_open(&cu), PAELLA_STATUS_OK);
	ck_assert_int_eq(cu->cuMemAlloc(&p, 16), CUDA_SUCCESS);
	ck_assert(p != 0);
	ck_assert_int_eq(cu->cuMemFree(p), CUDA_SUCCESS);
	paella__cu_close(cu);
}
END_TEST

PAELLA_TEST(cuda_driver_required_missing)
{
	struct paella__cu *cu = NULL;

	use_fake();
	/* Not exported by the fake either: loading must refuse, naming it. */
	setenv("FAKE_CUDA_HIDE", "cuStreamQuery", 1);
	ck_assert_int_eq(paella__cu_open(&cu), PAELLA_STATUS_NO_DEVICE);
	ck_assert_ptr_null(cu);
	ck_assert_msg(strstr(paella__error_last(), "cuStreamQuery") != NULL,
		      "message: %s", paella__error_last());
}
END_TEST

PAELLA_TEST(cuda_driver_too_old)
{
	struct paella__cu *cu = NULL;

	use_fake();
	setenv("FAKE_CUDA_DRIVER_VERSION", "12040", 1);
	ck_assert_int_eq(paella__cu_open(&cu), PAELLA_STATUS_NO_DEVICE);
	ck_assert_msg(strstr(paella__error_last(), "12.4") != NULL,
		      "message: %s", paella__error_last());
}
END_TEST

PAELLA_TEST(cuda_driver_init_fails)
{
	struct paella__cu *cu = NULL;
	char code[16];

	use_fake();
	snprintf(code, sizeof(code), "%d", (int)CUDA_ERROR_NO_DEVICE);
	setenv("FAKE_CUDA_INIT_RESULT", code, 1);
	ck_assert_int_eq(paella__cu_open(&cu), PAELLA_STATUS_NO_DEVICE);
	ck_assert_msg(strstr(paella__error_last(), "cuInit") != NULL &&
		      strstr(paella__error_last(), "FAKE_CUDA_ERROR_NO_DEVICE") != NULL,
		      "message: %s", paella__error_last());
}
END_TEST

static enum paella_status
alloc_checked(const struct paella__cu *cu, int *reached_end)
{
	enum paella_status status = PAELLA_STATUS_OK;
	CUdeviceptr p = 0;

	PAELLA_CU_CHECK_GOTO(cu, cuMemAlloc(&p, 64), status, out);
	cu->cuMemFree(p);
	*reached_end = 1;
out:
	return status;
}

PAELLA_TEST(cuda_driver_check_macro_reports)
{
	struct paella__cu *cu = NULL;
	struct captured cap = { 0 };
	int reached = 0;
	const char *msg;

	use_fake();
	ck_assert_int_eq(paella__cu_open(&cu), PAELLA_STATUS_OK);

	ck_assert_int_eq(alloc_checked(cu, &reached), PAELLA_STATUS_OK);
	ck_assert_int_eq(reached, 1);

	setenv("FAKE_CUDA_FAIL", "cuMemAlloc", 1);
	paella__log_set_handler(capture, &cap, PAELLA__LOG_DEBUG);
	reached = 0;
	ck_assert_int_eq(alloc_checked(cu, &reached), PAELLA_STATUS_NO_MEMORY);
	paella__log_set_handler(NULL, NULL, PAELLA__LOG_NONE);
	ck_assert_int_eq(reached, 0);

	/* The user reads the driver function and its error; the expression
	 * and the source line go to the debug log only. */
	msg = paella__error_last();
	ck_assert_msg(strstr(msg, "cuMemAlloc") != NULL, "message: %s", msg);
	ck_assert_msg(strstr(msg, "(&p, 64)") == NULL, "message: %s", msg);
	ck_assert_msg(strstr(msg, "FAKE_CUDA_ERROR_OUT_OF_MEMORY") != NULL, "message: %s", msg);
	ck_assert_msg(strstr(msg, "test-cuda-driver.c:") == NULL, "message: %s", msg);
	ck_assert_msg(strstr(cap.debug, "cuMemAlloc(&p, 64)") != NULL, "debug: %s", cap.debug);
	ck_assert_msg(strstr(cap.debug, "test-cuda-driver.c:") != NULL, "debug: %s", cap.debug);
	ck_assert_int_eq(cap.errors, 1);
	ck_assert_str_eq(cap.last, msg);
	paella__cu_close(cu);
}
END_TEST

PAELLA_TEST(cuda_driver_status_mapping)
{
	ck_assert_int_eq(paella__cu_status(CUDA_SUCCESS), PAELLA_STATUS_OK);
	ck_assert_int_eq(paella__cu_status(CUDA_ERROR_OUT_OF_MEMORY), PAELLA_STATUS_NO_MEMORY);
	ck_assert_int_eq(paella__cu_status(CUDA_ERROR_NO_DEVICE), PAELLA_STATUS_NO_DEVICE);
	ck_assert_int_eq(paella__cu_status(CUDA_ERROR_NOT_FOUND), PAELLA_STATUS_NOT_FOUND);
	ck_assert_int_eq(paella__cu_status(CUDA_ERROR_LAUNCH_FAILED), PAELLA_STATUS_DRIVER_ERROR);
}
END_TEST

PAELLA_CHECK_MAIN("cuda-driver", 0, NULL, NULL)
