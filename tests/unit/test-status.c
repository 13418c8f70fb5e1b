/*
 * test-status.c - status names and strings, the version.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "paella/paella.h"
#include "../check-main.h"

static const enum paella_status all[] = {
#define ALL(name, str) PAELLA_STATUS_##name,
	PAELLA_STATUS_LIST(ALL)
#undef ALL
};
#define NSTATUS (sizeof(all) / sizeof(all[0]))

PAELLA_TEST(status_ok_is_zero)
{
	ck_assert_int_eq(PAELLA_STATUS_OK, 0);
	ck_assert_str_eq(paella_status_name(PAELLA_STATUS_OK), "PAELLA_STATUS_OK");
}
END_TEST

PAELLA_TEST(status_names_and_strings_distinct)
{
	for (size_t i = 0; i < NSTATUS; i++) {
		const char *name = paella_status_name(all[i]);
		const char *str = paella_status_str(all[i]);

		ck_assert_int_eq(all[i], (int)i);
		ck_assert_ptr_nonnull(name);
		ck_assert_ptr_nonnull(str);
		ck_assert_msg(strncmp(name, "PAELLA_STATUS_", 14) == 0, "%s", name);
		ck_assert_msg(strlen(str) > 0, "status %zu has an empty string", i);
		for (size_t j = 0; j < i; j++) {
			ck_assert_str_ne(name, paella_status_name(all[j]));
			ck_assert_str_ne(str, paella_status_str(all[j]));
		}
	}
}
END_TEST

PAELLA_TEST(status_unknown_values)
{
	ck_assert_str_eq(paella_status_name((enum paella_status)NSTATUS),
			 "PAELLA_STATUS_UNKNOWN");
	ck_assert_str_eq(paella_status_str((enum paella_status)-1), "unknown status");
	ck_assert_str_eq(paella_status_name((enum paella_status)12345),
			 "PAELLA_STATUS_UNKNOWN");
}
END_TEST

PAELLA_TEST(status_version_string)
{
	const char *v = paella_version_string();

	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, PAELLA_TEST_VERSION);
}
END_TEST

PAELLA_CHECK_MAIN("status", 0, NULL, NULL)
