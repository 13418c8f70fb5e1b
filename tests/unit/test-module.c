/*
 * test-module.c - loading modules on the simulated GPU: files that are not
 * regular files refused without a hang, abi_version 0 with a manifest
 * refused, cubins paella-cc made loaded and run with the documented block
 * duration, and a model's sizes and offsets checked with the right words.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sim-fixture.h"
#include "../check-main.h"

static struct paella_runtime *
manual_rt(void)
{
	struct paella_config c = fixture_config(PAELLA_POLICY_FIFO, PAELLA_DISPATCH_MANUAL, 0);

	return fixture_runtime(&c);
}

static const char *
cubin_path(void)
{
	const char *p = getenv("PAELLA_TEST_CUBIN");

	ck_assert_msg(p != NULL, "PAELLA_TEST_CUBIN is not set (meson sets it)");
	return p;
}

/* ---- files ------------------------------------------------------------------ */

PAELLA_TEST(module_file_not_regular)
{
	struct paella_runtime *rt = manual_rt();
	struct paella_module *mod = (struct paella_module *)1;
	char dir[] = "/tmp/paella-test-module-XXXXXX";
	char path[PATH_MAX];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, sock;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* A FIFO with no writer: open() without O_NONBLOCK would never return. */
	alarm(20);
	ST_EQ(paella_module_load_file(rt, dir, &mod), PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_ptr_null(mod);
	message_has("is a directory");
	ck_assert_msg(strstr(paella_last_error(), "9223372036854775807") == NULL, "%s",
		      paella_last_error());

	snprintf(path, sizeof(path), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ST_EQ(paella_module_load_file(rt, path, &mod), PAELLA_STATUS_INVALID_ARGUMENT);
	message_has("is a FIFO");
	message_has(path);
	unlink(path);

	snprintf(path, sizeof(path), "%s/sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	sock = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(sock, 0);
	ck_assert_int_eq(bind(sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* open() refuses a socket itself. */
	ST_EQ(paella_module_load_file(rt, path, &mod), PAELLA_STATUS_IO_ERROR);
	message_has(path);
	close(sock);
	unlink(path);

	ST_EQ(paella_module_load_file(rt, "/dev/null", &mod), PAELLA_STATUS_INVALID_ARGUMENT);
	message_has("a character device");

	snprintf(path, sizeof(path), "%s/empty", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ST_EQ(paella_module_load_file(rt, path, &mod), PAELLA_STATUS_INVALID_ARGUMENT);
	message_has("is 0 bytes");
	unlink(path);

	/* A file that is not a cubin: the error names it. */
	snprintf(path, sizeof(path), "%s/junk.cubin", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_eq(write(fd, "junk", 4), 4);
	close(fd);
	ST_EQ(paella_module_load_file(rt, path, &mod), PAELLA_STATUS_INVALID_ARGUMENT);
	message_has(path);
	message_has("not a cubin");
	unlink(path);
	alarm(0);
	rmdir(dir);
	paella_runtime_destroy(rt);
}
END_TEST

/* ---- the ABI version ---------------------------------------------------------- */

PAELLA_TEST(module_sim_abi_zero)
{
	struct paella_runtime *rt = manual_rt();
	struct paella_sim_module desc = { 0, fixture_manifest, fixture_kernels, 5 };
	struct paella_module *mod = NULL;

	/* A manifest with abi_version left 0 would go unchecked: refused. */
	ST_EQ(paella_module_load_sim(rt, &desc, &mod), PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_ptr_null(mod);
	message_has("PAELLA_ABI_VERSION");
	/* Without a manifest: a module not built by paella-cc, as on cuda. */
	desc.manifest = NULL;
	ST_EQ(paella_module_load_sim(rt, &desc, &mod), PAELLA_STATUS_OK);
	ST_EQ(paella_module_unload(mod), PAELLA_STATUS_OK);
	/* paella.h gives the version without instrument-abi.h. */
	ck_assert_uint_gt(PAELLA_ABI_VERSION, 0);
	paella_runtime_destroy(rt);
}
END_TEST

/* ---- cubins on sim ------------------------------------------------------------ */

static void *
read_all(const char *path, size_t *bytes)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_gt(n, 0);
	rewind(f);
	buf = malloc((size_t)n);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*bytes = (size_t)n;
	return buf;
}

PAELLA_TEST(module_sim_loads_cubin)
{
	struct paella_runtime *rt = manual_rt();
	struct paella_module *mod = NULL;
	struct paella_model *m = NULL;
	struct paella_kernel_step s;
	struct paella_arg args[4];
	unsigned a, bb, c;
	int n = 1024;
	uint64_t est = 0;

	ST_EQ(paella_module_load_file(rt, cubin_path(), &mod), PAELLA_STATUS_OK);
	ST_EQ(paella_model_create(rt, "vadd", &m), PAELLA_STATUS_OK);
	ST_EQ(paella_model_add_buffer(m, PAELLA_BUFFER_JOB, 4096, &a), PAELLA_STATUS_OK);
	ST_EQ(paella_model_add_buffer(m, PAELLA_BUFFER_JOB, 4096, &bb), PAELLA_STATUS_OK);
	ST_EQ(paella_model_add_buffer(m, PAELLA_BUFFER_JOB, 4096, &c), PAELLA_STATUS_OK);
	args[0] = paella_arg_buffer(a, 0);
	args[1] = paella_arg_buffer(bb, 0);
	args[2] = paella_arg_buffer(c, 0);
	args[3] = paella_arg_value(&n, sizeof(n));
	memset(&s, 0, sizeof(s));
	s.module = mod;
	s.kernel = "vector_add";
	s.grid.x = 4;
	s.grid.y = s.grid.z = 1;
	s.block.x = 256;
	s.block.y = s.block.z = 1;
	s.args = args;
	/* The manifest's parameter count is checked. */
	s.nargs = 3;
	ST_EQ(paella_model_add_kernel(m, &s), PAELLA_STATUS_INVALID_ARGUMENT);
	s.nargs = 4;
	ST_EQ(paella_model_add_kernel(m, &s), PAELLA_STATUS_OK);
	s.kernel = "no_such_kernel";
	ST_EQ(paella_model_add_kernel(m, &s), PAELLA_STATUS_NOT_FOUND);
	ST_EQ(paella_model_finalize(m, 1), PAELLA_STATUS_OK);
	/* One wave of PAELLA_SIM_IMAGE_BLOCK_NS, plus the launch's overheads. */
	ST_EQ(paella_model_estimate_ns(m, &est), PAELLA_STATUS_OK);
	ck_assert_uint_ge(est, PAELLA_SIM_IMAGE_BLOCK_NS);
	ck_assert_uint_lt(est, 2 * PAELLA_SIM_IMAGE_BLOCK_NS);
	paella_model_destroy(m);
	ST_EQ(paella_module_unload(mod), PAELLA_STATUS_OK);
	paella_runtime_destroy(rt);
}
END_TEST

PAELLA_TEST(module_sim_image_truncated)
{
	struct paella_runtime *rt = manual_rt();
	struct paella_module *mod = NULL;
	size_t bytes;
	unsigned char *img = read_all(cubin_path(), &bytes);

	ST_EQ(paella_module_load_image(rt, img, bytes, &mod), PAELLA_STATUS_OK);
	ST_EQ(paella_module_unload(mod), PAELLA_STATUS_OK);
	/* Every prefix: an error or, where the tail holds nothing read, a
	 * module; never a crash (ASan watches). */
	for (size_t n = 1; n < bytes; n += n < 256 ? 1 : 13) {
		enum paella_status st = paella_module_load_image(rt, img, n, &mod);

		if (st == PAELLA_STATUS_OK)
			ST_EQ(paella_module_unload(mod), PAELLA_STATUS_OK);
		else
			message_has("cannot load module image");
	}
	/* Another ABI version in the image: refused as on cuda. */
	{
		static const char sym[] = "paella-manifest";
		unsigned char *p = memmem(img, bytes, sym, sizeof(sym) - 1);

		ck_assert_ptr_nonnull(p);
		/* __paella_abi_version sits just before the manifest. */
		p[-4] = 99;
		ST_EQ(paella_module_load_image(rt, img, bytes, &mod), PAELLA_STATUS_ABI_MISMATCH);
		message_has("version 99");
	}
	free(img);
	paella_runtime_destroy(rt);
}
END_TEST

/* ---- a model's sizes ------------------------------------------------------------ */

PAELLA_TEST(module_model_size_messages)
{
	struct paella_runtime *rt = manual_rt();
	struct paella_model *m = NULL;
	unsigned jb, mb;
	unsigned char w[16] = { 0 };
	char huge[64];

	ST_EQ(paella_model_create(rt, "sizes", &m), PAELLA_STATUS_OK);
	ST_EQ(paella_model_add_buffer(m, PAELLA_BUFFER_JOB, 1024, &jb), PAELLA_STATUS_OK);
	ST_EQ(paella_model_add_buffer(m, PAELLA_BUFFER_MODEL, 16, &mb), PAELLA_STATUS_OK);

	/* A copy of 0 bytes is not one that "does not fit". */
	ST_EQ(paella_model_add_copy(m, PAELLA_COPY_INPUT, jb, 0, 0, 0),
	      PAELLA_STATUS_INVALID_ARGUMENT);
	message_has("0 bytes");
	ck_assert_msg(strstr(paella_last_error(), "does not fit") == NULL, "%s",
		      paella_last_error());
	/* A huge host offset is named, not reported as the buffer's offset 0. */
	ST_EQ(paella_model_add_copy(m, PAELLA_COPY_INPUT, jb, 0, SIZE_MAX - 3, 8),
	      PAELLA_STATUS_INVALID_ARGUMENT);
	snprintf(huge, sizeof(huge), "host offset %zu", SIZE_MAX - 3);
	message_has(huge);
	/* offset + bytes wrapping around. */
	ST_EQ(paella_model_add_copy(m, PAELLA_COPY_INPUT, jb, SIZE_MAX - 3, 0, 8),
	      PAELLA_STATUS_INVALID_ARGUMENT);
	message_has("does not fit");
	ST_EQ(paella_model_write_buffer(m, mb, SIZE_MAX - 3, w, 8),
	      PAELLA_STATUS_INVALID_ARGUMENT);
	message_has("do not fit");
	ST_EQ(paella_model_write_buffer(m, mb, 4, NULL, 8), PAELLA_STATUS_INVALID_ARGUMENT);
	message_has("from NULL");
	ST_EQ(paella_model_write_buffer(m, mb, 16, w, 0), PAELLA_STATUS_OK);
	ST_EQ(paella_model_add_copy(m, PAELLA_COPY_INPUT, jb, 8, SIZE_MAX - 8, 8),
	      PAELLA_STATUS_OK);

	paella_model_destroy(m);
	paella_runtime_destroy(rt);
}
END_TEST

PAELLA_CHECK_MAIN("module", 60, NULL, NULL)
