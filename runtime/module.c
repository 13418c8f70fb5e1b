/*
 * module.c - loading device code and checking it against the
 * instrumentation ABI this runtime speaks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "module.h"
#include "paella/instrument-abi.h"
#include "runtime-state.h"

/* Largest image read from a file: fatbins of big models run to hundreds
 * of MB, and a larger file is more likely a mistake. */
#define MAX_IMAGE_BYTES (UINT64_C(2) << 30)

void
paella__module_free(struct paella_module *module)
{
	struct paella__backend *b = module->rt->backend;

	if (module->bmod != NULL)
		b->ops->module_unload(b, module->bmod);
	paella__manifest_fini(&module->manifest);
	free(module->label);
	free(module);
}

/* Checks what the backend read from a module and registers it; on failure
 * unloads @bmod.  Takes ownership of @manifest_text. */
static enum paella_status
finish_load(struct paella_runtime *rt, void *bmod, const char *label,
	    unsigned abi_version, char *manifest_text, size_t manifest_len,
	    struct paella_module **out)
{
	struct paella__backend *b = rt->backend;
	enum paella_status st = PAELLA_STATUS_OK;
	struct paella_module *m;

	m = calloc(1, sizeof(*m));
	if (m == NULL || (m->label = strdup(label)) == NULL) {
		st = paella__error_set(PAELLA_STATUS_NO_MEMORY, "module %s: out of memory", label);
		goto err;
	}
	m->rt = rt;
	m->bmod = bmod;
	m->abi_version = abi_version;
	paella__list_init(&m->link);

	if (abi_version == 0) {
		/* Not built by paella-cc: nothing to check, nothing reports. */
		paella__log_warn("module %s has no %s: not built by paella-cc, so its "
				 "kernels run uninstrumented (completion only)",
				 label, PAELLA_ABI_VERSION_SYMBOL);
	} else if (abi_version != PAELLA_ABI_VERSION) {
		st = paella__error_set(PAELLA_STATUS_ABI_MISMATCH,
			"module %s was built for instrumentation ABI version %u, but this "
			"libpaellart (%s) speaks version %u: rebuild the module with the "
			"paella-cc that comes with this runtime",
			label, abi_version, paella_version_string(), PAELLA_ABI_VERSION);
		goto err;
	} else if (manifest_text == NULL) {
		st = paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"module %s has %s but no %s: it was not built by a working paella-cc, "
			"or it is a device link of relocatable (-rdc) code, whose manifests "
			"stay in their own modules: build the cubin from one .cu without -rdc",
			label, PAELLA_ABI_VERSION_SYMBOL, PAELLA_MANIFEST_SYMBOL);
		goto err;
	}
	if (manifest_text != NULL && abi_version != 0) {
		st = paella__manifest_parse(manifest_text, manifest_len, label, &m->manifest);
		if (st != PAELLA_STATUS_OK)
			goto err;
		m->has_manifest = true;
	}
	free(manifest_text);

	pthread_mutex_lock(&rt->registry_lock);
	paella__list_append(&rt->modules, &m->link);
	pthread_mutex_unlock(&rt->registry_lock);
	paella__log_debug("module %s: ABI %u, %u kernels in its manifest", label,
			  abi_version, m->manifest.count);
	*out = m;
	return PAELLA_STATUS_OK;

err:
	free(manifest_text);
	if (m != NULL) {
		m->bmod = NULL;
		paella__manifest_fini(&m->manifest);
		free(m->label);
		free(m);
	}
	b->ops->module_unload(b, bmod);
	return st;
}

static enum paella_status
load_image(struct paella_runtime *rt, const void *image, size_t bytes, const char *label,
	   struct paella_module **out)
{
	struct paella__backend *b = rt->backend;
	unsigned abi = 0;
	char *manifest = NULL;
	void *bmod = NULL;
	enum paella_status st;

	st = b->ops->module_load_image(b, image, bytes, &bmod, &abi, &manifest);
	if (st != PAELLA_STATUS_OK) {
		char why[512];

		/* The backend does not know the file: say which one failed. */
		snprintf(why, sizeof(why), "%s", paella__error_last());
		return paella__error_set(st, "cannot load module %s: %s", label, why);
	}
	return finish_load(rt, bmod, label, abi, manifest, manifest ? strlen(manifest) : 0, out);
}

PAELLA_EXPORT enum paella_status
paella_module_load_image(struct paella_runtime *rt, const void *image, size_t bytes,
			 struct paella_module **out)
{
	char *copy;
	enum paella_status st;

	if (out != NULL)
		*out = NULL;
	if (rt == NULL || image == NULL || out == NULL || bytes == 0)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_module_load_image: %s", rt == NULL ? "rt is NULL" :
			image == NULL ? "image is NULL" : out == NULL ? "out is NULL" :
			"the image is empty");
	/* PTX is text and the driver wants it NUL-terminated. */
	copy = malloc(bytes + 1);
	if (copy == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY,
					 "paella_module_load_image: out of memory");
	memcpy(copy, image, bytes);
	copy[bytes] = '\0';
	st = load_image(rt, copy, bytes + 1, "image", out);
	free(copy);
	return st;
}

/* What a file that is not a regular file is, for messages. */
static const char *
file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	return "not a regular file";
}

PAELLA_EXPORT enum paella_status
paella_module_load_file(struct paella_runtime *rt, const char *path, struct paella_module **out)
{
	enum paella_status st = PAELLA_STATUS_OK;
	struct stat sb;
	char *buf = NULL;
	size_t size, done = 0;
	int fd, flags;

	if (out != NULL)
		*out = NULL;
	if (rt == NULL || path == NULL || out == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_module_load_file: %s is NULL",
			rt == NULL ? "rt" : path == NULL ? "path" : "out");
	/* O_NONBLOCK: opening a FIFO with no writer would wait forever. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return paella__error_set(errno == ENOENT ? PAELLA_STATUS_NOT_FOUND
							 : PAELLA_STATUS_IO_ERROR,
			"cannot open module %s: %s", path, strerror(errno));
	if (fstat(fd, &sb) != 0) {
		st = paella__error_set(PAELLA_STATUS_IO_ERROR, "cannot read module %s: %s",
				       path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		st = paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"module %s is %s: give the path of a device image paella-cc made "
			"(a regular file)", path, file_kind(sb.st_mode));
		goto out;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
		st = paella__error_set(PAELLA_STATUS_IO_ERROR, "cannot read module %s: %s",
				       path, strerror(errno));
		goto out;
	}
	if (sb.st_size <= 0 || (uint64_t)sb.st_size > MAX_IMAGE_BYTES) {
		st = paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"module %s is %lld bytes: a device image paella-cc made is 1 byte "
			"to %llu MiB", path, (long long)sb.st_size,
			(unsigned long long)(MAX_IMAGE_BYTES >> 20));
		goto out;
	}
	size = (size_t)sb.st_size;
	buf = malloc(size + 1);
	if (buf == NULL) {
		st = paella__error_set(PAELLA_STATUS_NO_MEMORY, "module %s: out of memory", path);
		goto out;
	}
	while (done < size) {
		ssize_t n = read(fd, buf + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			st = paella__error_set(PAELLA_STATUS_IO_ERROR,
				"cannot read module %s: %s", path,
				n < 0 ? strerror(errno) : "it shrank while being read");
			goto out;
		}
		done += (size_t)n;
	}
	buf[size] = '\0';
	st = load_image(rt, buf, size + 1, path, out);
out:
	free(buf);
	close(fd);
	return st;
}

/* The manifest and the profiles must name the same kernels. */
static enum paella_status
check_sim_desc(const struct paella_sim_module *desc, struct paella__manifest *man)
{
	for (unsigned i = 0; i < man->count; i++) {
		bool found = false;

		for (unsigned k = 0; k < desc->nkernels && !found; k++)
			found = desc->kernels[k].name != NULL &&
				strcmp(desc->kernels[k].name, man->entries[i].name) == 0;
		if (!found)
			return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				"sim module: kernel %s of the manifest has no profile in "
				"kernels[]: give the simulator its registers, shared memory "
				"and block duration", man->entries[i].name);
	}
	return PAELLA_STATUS_OK;
}

PAELLA_EXPORT enum paella_status
paella_module_load_sim(struct paella_runtime *rt, const struct paella_sim_module *desc,
		       struct paella_module **out)
{
	struct paella__backend *b;
	struct paella__manifest man;
	enum paella_status st;
	char *text = NULL;
	void *bmod = NULL;

	if (out != NULL)
		*out = NULL;
	if (rt == NULL || desc == NULL || out == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_module_load_sim: %s is NULL",
			rt == NULL ? "rt" : desc == NULL ? "desc" : "out");
	if (desc->nkernels > 0 && desc->kernels == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_module_load_sim: nkernels is %u but kernels is NULL",
			desc->nkernels);
	/* Zero is what a description that forgot the field holds: its
	 * manifest would go unchecked and unread. */
	if (desc->abi_version == 0 && desc->manifest != NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"paella_module_load_sim: abi_version is 0 but a manifest is given: "
			"set abi_version to PAELLA_ABI_VERSION (%u), the version paella-cc "
			"writes, or leave manifest NULL for a module not built by paella-cc",
			PAELLA_ABI_VERSION);
	b = rt->backend;
	/* The ABI first, as for an image: a mismatch says so whatever else. */
	if (desc->abi_version != 0 && desc->abi_version == PAELLA_ABI_VERSION &&
	    desc->manifest != NULL) {
		st = paella__manifest_parse(desc->manifest, strlen(desc->manifest), "sim module", &man);
		if (st != PAELLA_STATUS_OK)
			return st;
		st = check_sim_desc(desc, &man);
		paella__manifest_fini(&man);
		if (st != PAELLA_STATUS_OK)
			return st;
	}
	st = b->ops->module_load_sim(b, desc, &bmod);
	if (st != PAELLA_STATUS_OK)
		return st;
	if (desc->manifest != NULL) {
		text = strdup(desc->manifest);
		if (text == NULL) {
			b->ops->module_unload(b, bmod);
			return paella__error_set(PAELLA_STATUS_NO_MEMORY, "sim module: out of memory");
		}
	}
	return finish_load(rt, bmod, "sim module", desc->abi_version, text,
			   text ? strlen(text) : 0, out);
}

PAELLA_EXPORT enum paella_status
paella_module_unload(struct paella_module *module)
{
	struct paella_runtime *rt;

	if (module == NULL)
		return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
					 "paella_module_unload: module is NULL");
	rt = module->rt;
	pthread_mutex_lock(&rt->registry_lock);
	if (__atomic_load_n(&module->users, __ATOMIC_ACQUIRE) != 0) {
		unsigned users = module->users;

		pthread_mutex_unlock(&rt->registry_lock);
		return paella__error_set(PAELLA_STATUS_BUSY,
			"module %s: %u model steps use its kernels: destroy those models first",
			module->label, users);
	}
	paella__list_unlink(&module->link);
	pthread_mutex_unlock(&rt->registry_lock);
	paella__module_free(module);
	return PAELLA_STATUS_OK;
}

enum paella_status
paella__module_external(struct paella_runtime *rt, struct paella_module **out)
{
	struct paella__backend *b = rt->backend;
	enum paella_status st = PAELLA_STATUS_OK;
	struct paella_module *m;
	void *bmod = NULL;

	*out = NULL;
	if (b->ops->module_external == NULL || b->ops->kernel_wrap == NULL)
		return paella__error_set(PAELLA_STATUS_UNSUPPORTED,
			"model capture records the kernels a CUDA program launches, so it "
			"needs the cuda backend; this runtime runs on %s: build the model "
			"with paella_model_add_kernel() instead", b->ops->name);
	pthread_mutex_lock(&rt->registry_lock);
	if (rt->external_module != NULL) {
		*out = rt->external_module;
		goto out;
	}
	st = b->ops->module_external(b, &bmod);
	if (st != PAELLA_STATUS_OK)
		goto out;
	m = calloc(1, sizeof(*m));
	if (m == NULL || (m->label = strdup("captured kernels (the program's own)")) == NULL) {
		free(m);
		b->ops->module_unload(b, bmod);
		st = paella__error_set(PAELLA_STATUS_NO_MEMORY, "capture: out of memory");
		goto out;
	}
	m->rt = rt;
	m->bmod = bmod;
	paella__list_init(&m->link);
	paella__list_append(&rt->modules, &m->link);
	rt->external_module = m;
	*out = m;
out:
	pthread_mutex_unlock(&rt->registry_lock);
	return st;
}

enum paella_status
paella__module_kernel(struct paella_module *module, const char *name,
		      struct paella__kernel_ref *out)
{
	struct paella__backend *b = module->rt->backend;
	const struct paella__manifest_entry *e;
	enum paella_status st;

	memset(out, 0, sizeof(*out));
	e = module->has_manifest ? paella__manifest_find(&module->manifest, name) : NULL;
	if (module->has_manifest && e == NULL)
		return paella__error_set(PAELLA_STATUS_NOT_FOUND,
			"module %s has no kernel \"%s\" in its manifest: kernels are named as "
			"compiled (C++ names mangled, e.g. _Z6vecaddPfS_S_i; `cuobjdump -elf` "
			"lists them)", module->label, name);
	st = b->ops->kernel_get(b, module->bmod, name, &out->bkernel, &out->attrs);
	if (st == PAELLA_STATUS_NOT_FOUND)
		return paella__error_set(PAELLA_STATUS_NOT_FOUND,
			"module %s has no kernel \"%s\": kernels are named as compiled (C++ "
			"names mangled, e.g. _Z6vecaddPfS_S_i; `cuobjdump -elf` lists them)",
			module->label, name);
	if (st != PAELLA_STATUS_OK)
		return st;
	out->instrumented = e != NULL && e->instrumented;
	out->counted = e != NULL && e->counted;
	out->nparams = e != NULL ? (int)e->nparams : -1;
	if (e != NULL && e->plain != NULL) {
		struct paella__kernel_attrs plain_attrs;

		st = b->ops->kernel_get(b, module->bmod, e->plain, &out->plain, &plain_attrs);
		if (st == PAELLA_STATUS_NOT_FOUND)
			return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				"module %s: the manifest names %s, the plain copy of %s, but the "
				"module has no such kernel: rebuild it with paella-cc",
				module->label, e->plain, name);
		if (st != PAELLA_STATUS_OK)
			return st;
	}
	return PAELLA_STATUS_OK;
}
