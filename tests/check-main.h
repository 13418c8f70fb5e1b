/*
 * check-main.h - a Check test program whose tests list themselves.
 *
 * A test written with PAELLA_TEST(name) { ... } END_TEST, in place of
 * Check's START_TEST, puts itself in the program's list of tests: no test
 * is written and then forgotten in a hand-kept suite, and no program
 * repeats the suite-building code.  PAELLA_LOOP_TEST(name, n) runs it for
 * each _i in [0, n); PAELLA_SIGNAL_TEST(name, sig) passes when it dies of
 * signal sig.  The file ends with PAELLA_CHECK_MAIN(suite, timeout_s, setup,
 * teardown), the program's main(): one test case of every test, in the
 * order they are written, each under the checked fixture setup/teardown
 * (NULL for none), each allowed timeout_s seconds (0: Check's default;
 * CK_DEFAULT_TIMEOUT and CK_TIMEOUT_MULTIPLIER still apply).
 *
 * The list is the linker section paella_tests, which the linker bounds with
 * __start_paella_tests and __stop_paella_tests (GNU ld and lld alike).
 * AddressSanitizer leaves globals in such named sections without redzones,
 * so the entries stay packed.
 */
#ifndef PAELLA_TESTS_CHECK_MAIN_H
#define PAELLA_TESTS_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

struct paella_test {
	const TTest *test;
	int signal;   /* 0, or the signal the test must die of */
	int loop_end; /* runs for _i in [0, loop_end) */
};

/* Check's START_TEST, with the entry in the list instead of its unused
 * pointer to the test. */
#define PAELLA_TEST_ENTRY(name, sig, n)                                                   \
	static void name##_fn(int _i CK_ATTRIBUTE_UNUSED);                                \
	static const TTest name##_ttest = { "" #name, name##_fn, __FILE__, __LINE__ };    \
	static const struct paella_test name##_entry                                      \
		__attribute__((used, section("paella_tests"), aligned(sizeof(void *)))) = { \
			&name##_ttest, (sig), (n)                                         \
		};                                                                        \
	static void name##_fn(int _i CK_ATTRIBUTE_UNUSED)

#define PAELLA_TEST(name) PAELLA_TEST_ENTRY(name, 0, 1)
#define PAELLA_LOOP_TEST(name, n) PAELLA_TEST_ENTRY(name, 0, n)
#define PAELLA_SIGNAL_TEST(name, sig) PAELLA_TEST_ENTRY(name, sig, 1)

extern const struct paella_test __start_paella_tests[], __stop_paella_tests[];

static inline int
paella_test_by_line(const void *a, const void *b)
{
	const struct paella_test *x = *(const struct paella_test *const *)a;
	const struct paella_test *y = *(const struct paella_test *const *)b;

	return (x->test->line > y->test->line) - (x->test->line < y->test->line);
}

/* Runs every test of the program in one test case; EXIT_SUCCESS when all
 * pass, EXIT_FAILURE otherwise (also when the program has no test). */
static inline int
paella_check_main(const char *suite, int timeout_s, SFun setup, SFun teardown)
{
	size_t n = (size_t)(__stop_paella_tests - __start_paella_tests);
	const struct paella_test **order = calloc(n ? n : 1, sizeof(*order));
	Suite *s = suite_create(suite);
	TCase *tc = tcase_create(suite);
	SRunner *sr;
	int failed;

	if (order == NULL || n == 0) {
		free(order);
		return EXIT_FAILURE;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = &__start_paella_tests[i];
	/* Within one object the section's order is the compiler's: sort by
	 * line, so the tests run as they are written. */
	qsort(order, n, sizeof(*order), paella_test_by_line);
	if (timeout_s > 0)
		tcase_set_timeout(tc, timeout_s);
	if (setup != NULL || teardown != NULL)
		tcase_add_checked_fixture(tc, setup, teardown);
	for (size_t i = 0; i < n; i++)
		_tcase_add_test(tc, order[i]->test, order[i]->signal, 0, 0, order[i]->loop_end);
	free(order);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#define PAELLA_CHECK_MAIN(suite, timeout_s, setup, teardown)          \
	int main(void)                                                \
	{                                                             \
		return paella_check_main((suite), (timeout_s), (setup), (teardown)); \
	}

#endif
