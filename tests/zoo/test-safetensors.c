/*
 * test-safetensors - the safetensors reader on files the test makes: a good
 * one read back exactly, and broken ones (truncated, corrupt header, wrong
 * sizes, overlapping or missing data) refused with a message that names the
 * tensor and the fault.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "safetensors.h"

static char path[256];

static void
setup(void)
{
	snprintf(path, sizeof(path), "/tmp/paella-test-st-%d.safetensors", (int)getpid());
}

static void
teardown(void)
{
	unlink(path);
}

/* A file of an 8-byte length, @header verbatim and @ndata bytes. */
static void
write_raw(const char *header, size_t ndata)
{
	FILE *fp = fopen(path, "wb");
	uint64_t n = strlen(header);
	unsigned char len[8];

	ck_assert_ptr_nonnull(fp);
	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)(n >> (8 * i));
	fwrite(len, 1, 8, fp);
	fwrite(header, 1, n, fp);
	for (size_t i = 0; i < ndata; i++)
		fputc((int)(i & 0xff), fp);
	fclose(fp);
}

static void
expect_error(enum paella_status want, const char *fragment1, const char *fragment2)
{
	struct paella__st_file *f = (struct paella__st_file *)1;
	enum paella_status st = paella__st_open(path, &f);

	ck_assert_int_eq(st, want);
	ck_assert_ptr_null(f);
	ck_assert_msg(strstr(paella__error_last(), fragment1) != NULL, "'%s' not in '%s'",
		      fragment1, paella__error_last());
	if (fragment2 != NULL)
		ck_assert_msg(strstr(paella__error_last(), fragment2) != NULL, "'%s' not in '%s'",
			      fragment2, paella__error_last());
}

static void
write_good(void)
{
	static const float a[6] = { 1.5f, -2, 3, 4, 5, 6.25f };
	static const float b[3] = { 7, 8, 9 };
	static const int64_t steps = 42;
	const struct paella__st_out t[3] = {
		{ "conv.weight", PAELLA__ST_F32, 2, { 2, 3 }, a },
		{ "bn.num_batches_tracked", PAELLA__ST_I64, 0, { 0 }, &steps },
		{ "conv.bias", PAELLA__ST_F32, 1, { 3 }, b },
	};

	ck_assert_int_eq(paella__st_write(path, t, 3), PAELLA_STATUS_OK);
}

START_TEST(safetensors_reads_back)
{
	struct paella__st_file *f;
	const struct paella__st_tensor *t;
	int64_t v;

	write_good();
	ck_assert_int_eq(paella__st_open(path, &f), PAELLA_STATUS_OK);
	ck_assert_uint_eq(paella__st_count(f), 3);
	t = paella__st_find(f, "conv.weight");
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(t->dtype, PAELLA__ST_F32);
	ck_assert_int_eq(t->ndim, 2);
	ck_assert_int_eq(t->shape[0], 2);
	ck_assert_int_eq(t->shape[1], 3);
	ck_assert_uint_eq(t->numel, 6);
	ck_assert_float_eq(paella__st_read_f32(t, 0), 1.5f);
	ck_assert_float_eq(paella__st_read_f32(t, 5), 6.25f);
	t = paella__st_find(f, "bn.num_batches_tracked");
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(t->dtype, PAELLA__ST_I64);
	ck_assert_int_eq(t->ndim, 0);
	ck_assert_uint_eq(t->numel, 1);
	memcpy(&v, t->data, 8);
	ck_assert_int_eq(v, 42);
	ck_assert_float_eq(paella__st_read_f32(paella__st_find(f, "conv.bias"), 2), 9.0f);
	ck_assert_ptr_null(paella__st_find(f, "nope"));
	/* In file order. */
	ck_assert_str_eq(paella__st_at(f, 0)->name, "conv.weight");
	ck_assert_str_eq(paella__st_at(f, 2)->name, "conv.bias");
	paella__st_close(f);
}
END_TEST

START_TEST(safetensors_truncated)
{
	long size;
	FILE *fp;

	write_good();
	fp = fopen(path, "rb");
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fclose(fp);
	/* Into the last tensor's bytes: it names the tensor. */
	ck_assert_int_eq(truncate(path, size - 4), 0);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "conv.bias", "truncated");
	/* Into the header. */
	ck_assert_int_eq(truncate(path, 20), 0);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "truncated", "header");
	/* Shorter than the length field. */
	ck_assert_int_eq(truncate(path, 5), 0);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "truncated", "5 bytes");
	ck_assert_int_eq(truncate(path, 0), 0);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "truncated", NULL);
}
END_TEST

START_TEST(safetensors_corrupt_header)
{
	FILE *fp;

	write_good();
	/* Clobber the JSON's opening brace. */
	fp = fopen(path, "r+b");
	fseek(fp, 8, SEEK_SET);
	fputc('X', fp);
	fclose(fp);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "corrupt header", NULL);

	write_raw("[1, 2, 3]", 0);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "not a JSON object", NULL);
	write_raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, "
		  "\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "corrupt header", "duplicate");
	write_raw("{\"__metadata__\": {\"format\": 3}}", 0);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "__metadata__", "format");
	write_raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4], "
		  "\"x\": 1}}", 4);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "'a'", "unknown header field 'x'");
	write_raw("{\"a\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "'a'", "dtype");
	write_raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [1, -2], \"data_offsets\": [0, 4]}}", 4);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "'a'", "dimension 1");
	write_raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4]}}", 4);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "'a'", "data_offsets");
	/* A header length past the end of the file. */
	fp = fopen(path, "wb");
	fwrite("\xff\xff\xff\xff\x00\x00\x00\x00{}", 1, 10, fp);
	fclose(fp);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "header claims", NULL);
}
END_TEST

START_TEST(safetensors_wrong_dtype_and_size)
{
	write_raw("{\"w\": {\"dtype\": \"F17\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 8);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "'w'", "unknown dtype 'F17'");
	/* Shape and byte range disagree. */
	write_raw("{\"w\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 20]}}", 20);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "'w'", "needs 24 bytes");
	write_raw("{\"w\": {\"dtype\": \"F16\", \"shape\": [2, 3], \"data_offsets\": [0, 24]}}", 24);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "'w'", "needs 12 bytes");
}
END_TEST

START_TEST(safetensors_layout)
{
	/* Overlapping tensors. */
	write_raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, "
		  "\"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "'b'", "overlaps");
	/* A gap. */
	write_raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, "
		  "\"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 12]}}", 12);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "'b'", "gap");
	/* Bytes after the last tensor. */
	write_raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 9);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "5 data bytes after", NULL);
	/* Reversed offsets. */
	write_raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [4, 0]}}", 4);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "'a'", "reversed");
	/* Empty tensors and an empty file of tensors are fine. */
	write_raw("{\"e\": {\"dtype\": \"F32\", \"shape\": [0, 5], \"data_offsets\": [0, 0]}, "
		  "\"a\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [0, 4]}}", 4);
	{
		struct paella__st_file *f;

		ck_assert_int_eq(paella__st_open(path, &f), PAELLA_STATUS_OK);
		ck_assert_uint_eq(paella__st_find(f, "e")->numel, 0);
		ck_assert_uint_eq(paella__st_find(f, "a")->numel, 1);
		paella__st_close(f);
	}
	write_raw("{}", 0);
	{
		struct paella__st_file *f;

		ck_assert_int_eq(paella__st_open(path, &f), PAELLA_STATUS_OK);
		ck_assert_uint_eq(paella__st_count(f), 0);
		paella__st_close(f);
	}
}
END_TEST

START_TEST(safetensors_missing_file)
{
	struct paella__st_file *f;

	ck_assert_int_eq(paella__st_open("/nonexistent/w.safetensors", &f), PAELLA_STATUS_IO_ERROR);
	ck_assert_ptr_null(f);
	ck_assert_ptr_nonnull(strstr(paella__error_last(), "/nonexistent/w.safetensors"));
	ck_assert_int_eq(paella__st_open("/tmp", &f), PAELLA_STATUS_IO_ERROR);
}
END_TEST

static Suite *
safetensors_suite(void)
{
	Suite *s = suite_create("safetensors");
	TCase *tc = tcase_create("safetensors");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, safetensors_reads_back);
	tcase_add_test(tc, safetensors_truncated);
	tcase_add_test(tc, safetensors_corrupt_header);
	tcase_add_test(tc, safetensors_wrong_dtype_and_size);
	tcase_add_test(tc, safetensors_layout);
	tcase_add_test(tc, safetensors_missing_file);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(safetensors_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
