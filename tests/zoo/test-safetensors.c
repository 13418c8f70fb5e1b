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
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "zoo-private.h"
#include "safetensors.h"
#include "../check-main.h"

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
	struct pzoo__st_file *f = (struct pzoo__st_file *)1;
	enum paella_status st = pzoo__st_open(path, &f);

	ck_assert_int_eq(st, want);
	ck_assert_ptr_null(f);
	ck_assert_msg(strstr(paella_zoo_last_error(), fragment1) != NULL, "'%s' not in '%s'",
		      fragment1, paella_zoo_last_error());
	if (fragment2 != NULL)
		ck_assert_msg(strstr(paella_zoo_last_error(), fragment2) != NULL, "'%s' not in '%s'",
			      fragment2, paella_zoo_last_error());
}

static void
write_good(void)
{
	static const float a[6] = { 1.5f, -2, 3, 4, 5, 6.25f };
	static const float b[3] = { 7, 8, 9 };
	static const int64_t steps = 42;
	const struct pzoo__st_out t[3] = {
		{ "conv.weight", PZOO__ST_F32, 2, { 2, 3 }, a },
		{ "bn.num_batches_tracked", PZOO__ST_I64, 0, { 0 }, &steps },
		{ "conv.bias", PZOO__ST_F32, 1, { 3 }, b },
	};

	ck_assert_int_eq(pzoo__st_write(path, t, 3), PAELLA_STATUS_OK);
}

PAELLA_TEST(safetensors_reads_back)
{
	struct pzoo__st_file *f;
	const struct pzoo__st_tensor *t;
	int64_t v;

	write_good();
	ck_assert_int_eq(pzoo__st_open(path, &f), PAELLA_STATUS_OK);
	ck_assert_uint_eq(pzoo__st_count(f), 3);
	t = pzoo__st_find(f, "conv.weight");
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(t->dtype, PZOO__ST_F32);
	ck_assert_int_eq(t->ndim, 2);
	ck_assert_int_eq(t->shape[0], 2);
	ck_assert_int_eq(t->shape[1], 3);
	ck_assert_uint_eq(t->numel, 6);
	ck_assert_float_eq(pzoo__st_read_f32(t, 0), 1.5f);
	ck_assert_float_eq(pzoo__st_read_f32(t, 5), 6.25f);
	t = pzoo__st_find(f, "bn.num_batches_tracked");
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(t->dtype, PZOO__ST_I64);
	ck_assert_int_eq(t->ndim, 0);
	ck_assert_uint_eq(t->numel, 1);
	memcpy(&v, t->data, 8);
	ck_assert_int_eq(v, 42);
	ck_assert_float_eq(pzoo__st_read_f32(pzoo__st_find(f, "conv.bias"), 2), 9.0f);
	ck_assert_ptr_null(pzoo__st_find(f, "nope"));
	/* In file order. */
	ck_assert_str_eq(pzoo__st_at(f, 0)->name, "conv.weight");
	ck_assert_str_eq(pzoo__st_at(f, 2)->name, "conv.bias");
	pzoo__st_close(f);
}
END_TEST

PAELLA_TEST(safetensors_truncated)
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

PAELLA_TEST(safetensors_corrupt_header)
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

PAELLA_TEST(safetensors_wrong_dtype_and_size)
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

PAELLA_TEST(safetensors_layout)
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
		struct pzoo__st_file *f;

		ck_assert_int_eq(pzoo__st_open(path, &f), PAELLA_STATUS_OK);
		ck_assert_uint_eq(pzoo__st_find(f, "e")->numel, 0);
		ck_assert_uint_eq(pzoo__st_find(f, "a")->numel, 1);
		pzoo__st_close(f);
	}
	write_raw("{}", 0);
	{
		struct pzoo__st_file *f;

		ck_assert_int_eq(pzoo__st_open(path, &f), PAELLA_STATUS_OK);
		ck_assert_uint_eq(pzoo__st_count(f), 0);
		pzoo__st_close(f);
	}
}
END_TEST

PAELLA_TEST(safetensors_missing_file)
{
	struct pzoo__st_file *f;

	ck_assert_int_eq(pzoo__st_open("/nonexistent/w.safetensors", &f), PAELLA_STATUS_NOT_FOUND);
	ck_assert_ptr_null(f);
	ck_assert_ptr_nonnull(strstr(paella_zoo_last_error(), "/nonexistent/w.safetensors"));
	ck_assert_int_eq(pzoo__st_open("/tmp", &f), PAELLA_STATUS_IO_ERROR);
}
END_TEST

static void
on_alarm(int sig)
{
	(void)sig;
	/* Only async-signal-safe calls: the open blocked. */
	write(2, "FAIL: opening a FIFO blocked\n", 29);
	_exit(1);
}

/* Issue 15: a FIFO (or a device) given as a weights file is refused at
 * once instead of blocking for a writer; so is a directory. */
PAELLA_TEST(safetensors_not_regular_files)
{
	struct pzoo__st_file *f = (struct pzoo__st_file *)1;
	char fifo[256];

	snprintf(fifo, sizeof(fifo), "/tmp/paella-test-st-fifo-%d", (int)getpid());
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	signal(SIGALRM, on_alarm);
	alarm(10);
	ck_assert_int_eq(pzoo__st_open(fifo, &f), PAELLA_STATUS_IO_ERROR);
	alarm(0);
	unlink(fifo);
	ck_assert_ptr_null(f);
	ck_assert_ptr_nonnull(strstr(paella_zoo_last_error(), "not a regular file (a FIFO)"));
	ck_assert_int_eq(pzoo__st_open("/dev/null", &f), PAELLA_STATUS_IO_ERROR);
	ck_assert_ptr_nonnull(strstr(paella_zoo_last_error(), "(a device)"));
	ck_assert_int_eq(pzoo__st_open("/tmp", &f), PAELLA_STATUS_IO_ERROR);
	ck_assert_ptr_nonnull(strstr(paella_zoo_last_error(), "(a directory)"));
}
END_TEST

/* Names from a file reach messages escaped: no terminal escape passes. */
PAELLA_TEST(safetensors_names_escaped)
{
	write_raw("{\"a\\u001b[31mred\":{\"dtype\":\"F32\",\"shape\":[1],"
		  "\"data_offsets\":[0,8]}}", 4);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "'a\\x1b[31mred'", "data ends at byte 8");
	ck_assert_ptr_null(strchr(paella_zoo_last_error(), '\x1b'));
	write_raw("{\"t\":{\"dtype\":\"\\u001b]0;x\\u0007\",\"shape\":[1],"
		  "\"data_offsets\":[0,4]}}", 4);
	expect_error(PAELLA_STATUS_INVALID_ARGUMENT, "unknown dtype '\\x1b]0;x\\x07'", NULL);
}
END_TEST

/* Writes into buf (cap bytes, enough for them) a file of `count` empty F32
 * tensors: the 8-byte little-endian header length, then the header.  Returns
 * the file's length. */
static size_t
empty_tensors(unsigned char *buf, size_t cap, unsigned count)
{
	size_t n = 8;

	buf[n++] = '{';
	for (unsigned i = 0; i < count; i++)
		n += (size_t)snprintf((char *)buf + n, cap - n,
				      "%s\"t%u\":{\"dtype\":\"F32\",\"shape\":[0],"
				      "\"data_offsets\":[0,0]}", i ? "," : "", i);
	buf[n++] = '}';
	for (int b = 0; b < 8; b++)
		buf[b] = (unsigned char)((uint64_t)(n - 8) >> (8 * b));
	return n;
}

/* A header of many tiny tensors (within the format's 100 MB) is refused
 * before it is parsed: fast, and without gigabytes of JSON objects. */
PAELLA_TEST(safetensors_tensor_count_bounded)
{
	const unsigned many = 1000000;
	size_t cap = (size_t)many * 64 + 64, n;
	unsigned char *buf = malloc(cap);
	struct pzoo__st_file *f = (struct pzoo__st_file *)1;
	struct timespec t0, t1;
	double s;

	ck_assert_ptr_nonnull(buf);
	n = empty_tensors(buf, cap, many);
	ck_assert_uint_le(n - 8, PZOO__ST_MAX_HEADER);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(pzoo__st_parse("many.safetensors", buf, n, &f),
			 PAELLA_STATUS_INVALID_ARGUMENT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_ptr_null(f);
	ck_assert_ptr_nonnull(strstr(paella_zoo_last_error(), "at most 16384 tensors"));
	/* Well under a second even under the sanitizers (6 s before). */
	ck_assert_msg(s < 2.0, "refusing took %.2f s", s);

	/* The bound itself: 16384 empty tensors are read. */
	n = empty_tensors(buf, cap, PZOO__ST_MAX_TENSORS);
	ck_assert_int_eq(pzoo__st_parse("bound.safetensors", buf, n, &f), PAELLA_STATUS_OK);
	ck_assert_uint_eq(pzoo__st_count(f), PZOO__ST_MAX_TENSORS);
	pzoo__st_close(f);
	free(buf);
}
END_TEST

PAELLA_CHECK_MAIN("safetensors", 60, setup, teardown)
