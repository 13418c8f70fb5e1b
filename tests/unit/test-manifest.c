/*
 * test-manifest.c - parsing the kernel manifest of a paella-cc module, as
 * the pass writes it (tests/pass/PaellaInstrument_manifest.ll).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "manifest.h"
#include "../check-main.h"

PAELLA_TEST(manifest_parses_what_the_pass_writes)
{
	static const char text[] = "paella-manifest 2\nK two 2 count\nK none 0 sample\nU skipped 1 skip-attribute\n";
	struct paella__manifest m;
	const struct paella__manifest_entry *e;

	/* The global's size includes its NUL, and may include padding. */
	ck_assert_int_eq(paella__manifest_parse(text, sizeof(text) + 3, "t", &m), PAELLA_STATUS_OK);
	ck_assert_uint_eq(m.count, 3);
	e = paella__manifest_find(&m, "two");
	ck_assert(e != NULL && e->instrumented && e->counted && e->nparams == 2);
	e = paella__manifest_find(&m, "none");
	ck_assert(e != NULL && e->instrumented && !e->counted && e->nparams == 0);
	e = paella__manifest_find(&m, "skipped");
	ck_assert(e != NULL && !e->instrumented && !e->counted && e->nparams == 1);
	ck_assert_str_eq(e->reason, "skip-attribute");
	ck_assert_ptr_null(paella__manifest_find(&m, "tw"));
	paella__manifest_fini(&m);
	ck_assert_uint_eq(m.count, 0);
}
END_TEST

/* Manifest 3: a sample-mode kernel may name its plain copy. */
PAELLA_TEST(manifest_v3_plain_copies)
{
	static const char text[] = "paella-manifest 3\nK k 2 sample k__paella_plain\n"
				   "K s 1 sample\nK c 1 count\nU u 1 grid-sync\n";
	struct paella__manifest m;
	const struct paella__manifest_entry *e;

	ck_assert_int_eq(paella__manifest_parse(text, sizeof(text), "t", &m), PAELLA_STATUS_OK);
	ck_assert_uint_eq(m.count, 4);
	e = paella__manifest_find(&m, "k");
	ck_assert(e != NULL && e->instrumented && !e->counted && e->nparams == 2);
	ck_assert_str_eq(e->plain, "k__paella_plain");
	ck_assert_ptr_null(paella__manifest_find(&m, "s")->plain);
	ck_assert_ptr_null(paella__manifest_find(&m, "c")->plain);
	ck_assert_ptr_null(paella__manifest_find(&m, "u")->plain);
	ck_assert_ptr_null(paella__manifest_find(&m, "k__paella_plain"));
	paella__manifest_fini(&m);
}
END_TEST

PAELLA_TEST(manifest_empty_and_blank_lines)
{
	struct paella__manifest m;

	ck_assert_int_eq(paella__manifest_parse("paella-manifest 2\n", 100, "t", &m),
			 PAELLA_STATUS_OK);
	ck_assert_uint_eq(m.count, 0);
	paella__manifest_fini(&m);
	ck_assert_int_eq(paella__manifest_parse("paella-manifest 2\n\nK a 1 sample\n\n", 100, "t", &m),
			 PAELLA_STATUS_OK);
	ck_assert_uint_eq(m.count, 1);
	paella__manifest_fini(&m);
}
END_TEST

PAELLA_TEST(manifest_rejects_garbage)
{
	static const char *const bad[] = {
		"",
		"paella-manifest 1\nK a 1\n",
		"paella-manifest 4\nK a 1 sample\n",
		"paella-manifest 2\nK a 1 sample a__paella_plain\n",
		"paella-manifest 3\nK a 1 count a__paella_plain\n",
		"paella-manifest 3\nK a 1 sample b__paella_plain\n",
		"paella-manifest 3\nK a 1 sample a__paella_plai\n",
		"paella-manifest 3\nK a 1 sample a__paella_plain x\n",
		"paella-manifest 3\nU a 1 grid-sync a__paella_plain\n",
		"paella-manifest 2\nK a\n",
		"paella-manifest 2\nK a 1\n",
		"paella-manifest 2\nK a one sample\n",
		"paella-manifest 2\nK a 1 extra\n",
		"paella-manifest 2\nK a 1 sample extra\n",
		"paella-manifest 2\nQ a 1\n",
		"paella-manifest 2\nK a -1 count\n",
		"paella-manifest 2\nK a 1 count\nU a 1 grid-sync\n",
	};
	struct paella__manifest m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		paella__error_clear();
		ck_assert_msg(paella__manifest_parse(bad[i], strlen(bad[i]) + 1, "mod.cubin", &m) ==
			      PAELLA_STATUS_INVALID_ARGUMENT, "accepted: %s", bad[i]);
		ck_assert_msg(strstr(paella__error_last(), "mod.cubin") != NULL, "message: %s",
			      paella__error_last());
		ck_assert_uint_eq(m.count, 0);
	}
}
END_TEST

PAELLA_CHECK_MAIN("manifest", 0, NULL, NULL)
