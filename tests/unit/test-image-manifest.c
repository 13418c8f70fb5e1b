/*
 * test-image-manifest.c - the ELF64 reader of runtime/image-manifest.c on a
 * cubin paella-cc made (kernels/vector_add.cubin): what it finds, and that
 * every corruption of the headers gives an error, never a read out of
 * bounds (the unit suite runs under ASan too; tests/fuzz/fuzz-image.c
 * goes further).
 */
#include <check.h>
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image-manifest.h"
#include "log.h"
#include "paella/instrument-abi.h"
#include "../check-main.h"

struct file {
	unsigned char *data;
	size_t bytes;
};

static struct file
cubin(void)
{
	const char *path = getenv("PAELLA_TEST_CUBIN");
	struct file f = { 0 };
	FILE *fp;
	long n;

	ck_assert_msg(path != NULL, "PAELLA_TEST_CUBIN is not set (meson sets it)");
	fp = fopen(path, "rb");
	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	ck_assert_int_gt(n, (long)sizeof(Elf64_Ehdr));
	rewind(fp);
	f.data = malloc((size_t)n);
	ck_assert_ptr_nonnull(f.data);
	ck_assert_uint_eq(fread(f.data, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	f.bytes = (size_t)n;
	return f;
}

static const struct paella__image_kernel *
kernel(const struct paella__image *img, const char *name)
{
	for (unsigned i = 0; i < img->nkernels; i++)
		if (strcmp(img->kernels[i].name, name) == 0)
			return &img->kernels[i];
	return NULL;
}

PAELLA_TEST(image_reads_cubin)
{
	struct file f = cubin();
	struct paella__image img;
	struct paella_sim_module desc;
	const struct paella__image_kernel *k;

	ck_assert_int_eq(paella__image_read(f.data, f.bytes, &img), PAELLA_STATUS_OK);
	ck_assert_uint_eq(img.abi_version, PAELLA_ABI_VERSION);
	ck_assert_ptr_nonnull(img.manifest);
	ck_assert_msg(strncmp(img.manifest, "paella-manifest ", 16) == 0, "%s", img.manifest);
	ck_assert_ptr_nonnull(strstr(img.manifest, "K vector_add 4 "));
	k = kernel(&img, "vector_add");
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_gt(k->regs_per_thread, 0);
	ck_assert_uint_le(k->regs_per_thread, 255);
	ck_assert_ptr_nonnull(kernel(&img, "vector_add__paella_plain"));
	/* Globals are not kernels. */
	ck_assert_ptr_null(kernel(&img, PAELLA_MANIFEST_SYMBOL));

	ck_assert_int_eq(paella__image_sim_kernels(&img, &desc), PAELLA_STATUS_OK);
	ck_assert_uint_eq(desc.nkernels, img.nkernels);
	for (unsigned i = 0; i < desc.nkernels; i++)
		ck_assert_uint_eq(desc.kernels[i].block_ns, PAELLA_SIM_IMAGE_BLOCK_NS);
	free((void *)desc.kernels);
	paella__image_fini(&img);
	free(f.data);
}
END_TEST

static void
expect_bogus(const unsigned char *data, size_t bytes, const char *what)
{
	struct paella__image img;
	enum paella_status st = paella__image_read(data, bytes, &img);

	ck_assert_msg(st == PAELLA_STATUS_INVALID_ARGUMENT, "%s: %s", what,
		      paella_status_name(st));
	ck_assert_msg(strstr(paella__error_last(), "not a cubin") != NULL, "%s: %s", what,
		      paella__error_last());
	ck_assert_ptr_null(img.manifest);
	ck_assert_uint_eq(img.nkernels, 0);
}

PAELLA_TEST(image_refuses_bogus_headers)
{
	struct file f = cubin();
	unsigned char *d = malloc(f.bytes);
	Elf64_Ehdr eh;
	Elf64_Shdr sh;

	expect_bogus((const unsigned char *)"", 0, "empty");
	expect_bogus((const unsigned char *)"paella-manifest 3\n", 18, "text");
	expect_bogus(f.data, sizeof(Elf64_Ehdr) - 1, "short header");
	expect_bogus(f.data, sizeof(Elf64_Ehdr), "header only");

	memcpy(&eh, f.data, sizeof(eh));
#define MUTATE(field, value, what) \
	do { \
		Elf64_Ehdr m_ = eh; \
		m_.field = (value); \
		memcpy(d, f.data, f.bytes); \
		memcpy(d, &m_, sizeof(m_)); \
		expect_bogus(d, f.bytes, what); \
	} while (0)
	MUTATE(e_ident[EI_CLASS], ELFCLASS32, "ELF32");
	MUTATE(e_ident[EI_DATA], ELFDATA2MSB, "big-endian");
	MUTATE(e_machine, EM_X86_64, "x86-64");
	MUTATE(e_shoff, UINT64_MAX - 8, "section headers at the end of the address space");
	MUTATE(e_shoff, f.bytes, "section headers past the end");
	MUTATE(e_shnum, 0xffff, "too many sections");
	MUTATE(e_shentsize, 8, "short section headers");
	MUTATE(e_shnum, 0, "no sections");
#undef MUTATE

	/* Each section header in turn: an offset or size past the end, or a
	 * link to a section that does not exist.  The reader may ignore a
	 * section it does not need, but never reads out of bounds. */
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		size_t at = eh.e_shoff + (size_t)i * eh.e_shentsize;
		uint64_t bad[] = { f.bytes, UINT64_MAX, UINT64_MAX - 16, f.bytes - 1 };

		for (unsigned v = 0; v < sizeof(bad) / sizeof(bad[0]); v++) {
			for (unsigned field = 0; field < 4; field++) {
				struct paella__image img;

				memcpy(d, f.data, f.bytes);
				memcpy(&sh, d + at, sizeof(sh));
				if (field == 0)
					sh.sh_offset = bad[v];
				else if (field == 1)
					sh.sh_size = bad[v];
				else if (field == 2)
					sh.sh_link = (uint32_t)bad[v];
				else
					sh.sh_name = (uint32_t)bad[v];
				memcpy(d + at, &sh, sizeof(sh));
				if (paella__image_read(d, f.bytes, &img) == PAELLA_STATUS_OK)
					paella__image_fini(&img);
			}
		}
	}
	free(d);
	free(f.data);
}
END_TEST

/* Flipped bytes anywhere, and every prefix: errors or images, no crash. */
PAELLA_TEST(image_survives_corruption)
{
	struct file f = cubin();
	unsigned char *d = malloc(f.bytes);
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (size_t n = 0; n <= f.bytes; n++) {
		struct paella__image img;

		memcpy(d, f.data, n);
		if (paella__image_read(d, n, &img) == PAELLA_STATUS_OK)
			paella__image_fini(&img);
	}
	for (unsigned round = 0; round < 3000; round++) {
		struct paella__image img;

		memcpy(d, f.data, f.bytes);
		for (unsigned k = 0; k < 1 + round % 8; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			d[x % f.bytes] = (unsigned char)(x >> 32);
		}
		if (paella__image_read(d, f.bytes, &img) == PAELLA_STATUS_OK)
			paella__image_fini(&img);
	}
	free(d);
	free(f.data);
}
END_TEST

PAELLA_CHECK_MAIN("image-manifest", 60, NULL, NULL)
