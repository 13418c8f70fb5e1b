/*
 * safetensors.c - the safetensors reader and writer (see safetensors.h).
 * The header is JSON, parsed by jansson; everything it says is checked
 * against the file before a tensor is handed out.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "zoo-private.h"
#include "safetensors.h"

struct pzoo__st_file {
	char *path;
	/* The whole file, mapped read-only (NULL for an empty data section
	 * of a file too small to map: never, a valid file has 8 bytes). */
	const unsigned char *map;
	size_t size;
	/* The mapping is ours to unmap (pzoo__st_open(), not _parse()). */
	bool mapped;
	struct pzoo__st_tensor *tensors;
	unsigned ntensors;
	/* Names, owned: the JSON is freed once parsed. */
	char **names;
};

static const struct {
	const char *name;
	unsigned size;
} dtypes[] = {
#define PZOO__ST_DTYPE_ROW(n, s) { #n, s },
	PZOO__ST_DTYPE_LIST(PZOO__ST_DTYPE_ROW)
#undef PZOO__ST_DTYPE_ROW
};

const char *
pzoo__st_dtype_name(enum pzoo__st_dtype dtype)
{
	if ((unsigned)dtype >= PZOO__ARRAY_SIZE(dtypes))
		return "?";
	return dtypes[dtype].name;
}

unsigned
pzoo__st_dtype_size(enum pzoo__st_dtype dtype)
{
	if ((unsigned)dtype >= PZOO__ARRAY_SIZE(dtypes))
		return 0;
	return dtypes[dtype].size;
}

static bool
dtype_from_name(const char *name, enum pzoo__st_dtype *out)
{
	for (unsigned i = 0; i < PZOO__ARRAY_SIZE(dtypes); i++)
		if (strcmp(dtypes[i].name, name) == 0) {
			*out = (enum pzoo__st_dtype)i;
			return true;
		}
	return false;
}

void
pzoo__st_shape_str(int ndim, const int64_t *shape, char *buf, size_t cap)
{
	size_t n = 0;

	if (cap == 0)
		return;
	buf[0] = '\0';
	n += (size_t)snprintf(buf + n, cap - n, "[");
	for (int i = 0; i < ndim && n < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s%" PRId64, i ? ", " : "", shape[i]);
	if (n < cap)
		snprintf(buf + n, cap - n, "]");
}

void
pzoo__st_close(struct pzoo__st_file *f)
{
	if (f == NULL)
		return;
	if (f->mapped && f->map != NULL)
		munmap((void *)f->map, f->size);
	if (f->names != NULL)
		for (unsigned i = 0; i < f->ntensors; i++)
			free(f->names[i]);
	free(f->names);
	free(f->tensors);
	free(f->path);
	free(f);
}

const char *
pzoo__st_path(const struct pzoo__st_file *f)
{
	return f->path;
}

unsigned
pzoo__st_count(const struct pzoo__st_file *f)
{
	return f->ntensors;
}

const struct pzoo__st_tensor *
pzoo__st_at(const struct pzoo__st_file *f, unsigned i)
{
	return i < f->ntensors ? &f->tensors[i] : NULL;
}

const struct pzoo__st_tensor *
pzoo__st_find(const struct pzoo__st_file *f, const char *name)
{
	/* A few hundred tensors, looked up once each at load. */
	for (unsigned i = 0; i < f->ntensors; i++)
		if (strcmp(f->tensors[i].name, name) == 0)
			return &f->tensors[i];
	return NULL;
}

/* A JSON integer that fits in [0, INT64_MAX]. */
static bool
json_uint(const json_t *v, uint64_t *out)
{
	json_int_t i;

	if (!json_is_integer(v))
		return false;
	i = json_integer_value(v);
	if (i < 0)
		return false;
	*out = (uint64_t)i;
	return true;
}

/* Fills @t from one header entry; on error sets the message and returns
 * the status. */
static enum paella_status
parse_entry(const char *path, const char *name, json_t *entry, uint64_t data_len,
	    struct pzoo__st_tensor *t, uint64_t *begin_out)
{
	json_t *dtype, *shape, *offsets, *v;
	uint64_t begin, end, numel = 1, bytes;
	const char *key;
	char ename[PZOO__ST_NAME_SHOWN], ename2[PZOO__ST_NAME_SHOWN];
	size_t i;

	name = pzoo__escape(name, ename, sizeof(ename));
	if (!json_is_object(entry))
		return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: tensor '%s': header entry is not an object", path, name);
	json_object_foreach(entry, key, v) {
		if (strcmp(key, "dtype") != 0 && strcmp(key, "shape") != 0 &&
		    strcmp(key, "data_offsets") != 0)
			return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				"%s: tensor '%s': unknown header field '%s'", path, name,
				pzoo__escape(key, ename2, sizeof(ename2)));
	}
	dtype = json_object_get(entry, "dtype");
	shape = json_object_get(entry, "shape");
	offsets = json_object_get(entry, "data_offsets");
	if (!json_is_string(dtype))
		return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: tensor '%s': no \"dtype\" string", path, name);
	if (!dtype_from_name(json_string_value(dtype), &t->dtype))
		return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: tensor '%s': unknown dtype '%s'", path, name,
			pzoo__escape(json_string_value(dtype), ename2, sizeof(ename2)));
	if (!json_is_array(shape))
		return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: tensor '%s': no \"shape\" array", path, name);
	if (json_array_size(shape) > PZOO__ST_MAX_DIMS)
		return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: tensor '%s': %zu dimensions, at most %d supported", path, name,
			json_array_size(shape), PZOO__ST_MAX_DIMS);
	t->ndim = (int)json_array_size(shape);
	json_array_foreach(shape, i, v) {
		uint64_t d;

		if (!json_uint(v, &d) || d > (uint64_t)INT64_MAX)
			return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				"%s: tensor '%s': dimension %zu is not a non-negative integer",
				path, name, i);
		t->shape[i] = (int64_t)d;
		if (d != 0 && numel > UINT64_MAX / d)
			return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				"%s: tensor '%s': element count overflows", path, name);
		numel *= d;
	}
	if (!json_is_array(offsets) || json_array_size(offsets) != 2 ||
	    !json_uint(json_array_get(offsets, 0), &begin) ||
	    !json_uint(json_array_get(offsets, 1), &end))
		return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: tensor '%s': \"data_offsets\" is not two non-negative integers",
			path, name);
	if (begin > end)
		return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: tensor '%s': data offsets [%" PRIu64 ", %" PRIu64 "] are reversed",
			path, name, begin, end);
	if (end > data_len)
		return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: tensor '%s': data ends at byte %" PRIu64 " but the file has %" PRIu64
			" data bytes (truncated?)", path, name, end, data_len);
	if (numel > UINT64_MAX / pzoo__st_dtype_size(t->dtype))
		return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: tensor '%s': byte size overflows", path, name);
	bytes = numel * pzoo__st_dtype_size(t->dtype);
	if (end - begin != bytes) {
		char s[128];

		pzoo__st_shape_str(t->ndim, t->shape, s, sizeof(s));
		return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: tensor '%s': %s %s needs %" PRIu64 " bytes, its data offsets span %"
			PRIu64, path, name, pzoo__st_dtype_name(t->dtype), s, bytes, end - begin);
	}
	t->numel = numel;
	t->nbytes = bytes;
	*begin_out = begin;
	return PAELLA_STATUS_OK;
}

static enum paella_status
parse(struct pzoo__st_file *f);

struct span {
	uint64_t begin;
	uint64_t nbytes;
	unsigned index;
};

static int
cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	/* An empty tensor shares its offset with the next one: first. */
	if (x->nbytes != y->nbytes)
		return x->nbytes < y->nbytes ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Counts the JSON header's objects and values (outside strings) without
 * parsing it, so that a header of a million tiny entries is refused before
 * jansson spends seconds and gigabytes on it. */
static void
prescan(const unsigned char *h, uint64_t len, uint64_t *objects, uint64_t *values)
{
	bool in_string = false;

	*objects = 0;
	*values = 0;
	for (uint64_t i = 0; i < len; i++) {
		unsigned char c = h[i];

		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"') {
			in_string = true;
		} else if (c == '{') {
			(*objects)++;
			(*values)++;
		} else if (c == '[' || c == ',') {
			(*values)++;
		}
	}
}

enum paella_status
pzoo__st_parse(const char *name, const unsigned char *bytes, size_t size,
	       struct pzoo__st_file **out)
{
	struct pzoo__st_file *f;
	enum paella_status status;
	char shown[PZOO__ST_NAME_SHOWN];

	*out = NULL;
	f = calloc(1, sizeof(*f));
	if (f == NULL || (f->path = strdup(pzoo__escape(name, shown, sizeof(shown)))) == NULL) {
		free(f);
		return pzoo__error_set(PAELLA_STATUS_NO_MEMORY, "%s: out of memory", shown);
	}
	f->map = bytes;
	f->size = size;
	status = parse(f);
	if (status != PAELLA_STATUS_OK) {
		pzoo__st_close(f);
		return status;
	}
	*out = f;
	return PAELLA_STATUS_OK;
}

enum paella_status
pzoo__st_open(const char *path, struct pzoo__st_file **out)
{
	enum paella_status status = PAELLA_STATUS_OK;
	struct pzoo__st_file *f = NULL;
	char shown[PZOO__ST_NAME_SHOWN];
	struct stat sb;
	void *map;
	int fd = -1, fl;

	*out = NULL;
	pzoo__escape(path, shown, sizeof(shown));
	f = calloc(1, sizeof(*f));
	if (f == NULL || (f->path = strdup(shown)) == NULL) {
		status = pzoo__error_set(PAELLA_STATUS_NO_MEMORY, "%s: out of memory", shown);
		goto err;
	}
	/* Non-blocking, so that a FIFO or a device does not hang the open;
	 * only a regular file is read, and then blocking again. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		status = pzoo__error_set(errno == ENOENT ? PAELLA_STATUS_NOT_FOUND
							 : PAELLA_STATUS_IO_ERROR,
					 "%s: %s", shown, strerror(errno));
		goto err;
	}
	if (fstat(fd, &sb) != 0) {
		status = pzoo__error_set(PAELLA_STATUS_IO_ERROR, "%s: %s", shown, strerror(errno));
		goto err;
	}
	if (!S_ISREG(sb.st_mode)) {
		status = pzoo__error_set(PAELLA_STATUS_IO_ERROR,
			"%s: not a regular file (a %s)", shown,
			S_ISDIR(sb.st_mode) ? "directory" : S_ISFIFO(sb.st_mode) ? "FIFO" :
			S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) ? "device" :
			S_ISSOCK(sb.st_mode) ? "socket" : "special file");
		goto err;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
		status = pzoo__error_set(PAELLA_STATUS_IO_ERROR, "%s: %s", shown, strerror(errno));
		goto err;
	}
	if (sb.st_size < 8) {
		status = pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: truncated: %lld bytes, a safetensors file starts with an 8-byte "
			"header length", shown, (long long)sb.st_size);
		goto err;
	}
	f->size = (size_t)sb.st_size;
	map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		status = pzoo__error_set(PAELLA_STATUS_IO_ERROR, "%s: mmap: %s", shown,
					 strerror(errno));
		goto err;
	}
	f->map = map;
	f->mapped = true;
	close(fd);
	fd = -1;
	status = parse(f);
	if (status != PAELLA_STATUS_OK)
		goto err;
	*out = f;
	return PAELLA_STATUS_OK;
err:
	if (fd >= 0)
		close(fd);
	pzoo__st_close(f);
	return status;
}

/* Validates the mapped file @f (map, size, path set) and fills its
 * tensors; see safetensors.h. */
static enum paella_status
parse(struct pzoo__st_file *f)
{
	enum paella_status status = PAELLA_STATUS_OK;
	const char *path = f->path;
	struct pzoo__st_tensor *sorted = NULL;
	struct span *spans = NULL;
	json_t *root = NULL;
	json_error_t jerr;
	uint64_t hlen, data_len, pos, objects, values;
	const char *key;
	json_t *value;
	unsigned n = 0;
	char ename[PZOO__ST_NAME_SHOWN];

	if (f->size < 8)
		return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: truncated: %zu bytes, a safetensors file starts with an 8-byte "
			"header length", path, f->size);

	/* STEP 1: the header length, little-endian. */
	hlen = 0;
	for (int i = 7; i >= 0; i--)
		hlen = (hlen << 8) | f->map[i];
	if (hlen > f->size - 8) {
		status = pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: truncated or corrupt: the header claims %" PRIu64 " bytes, %zu follow",
			path, hlen, f->size - 8);
		goto err;
	}
	if (hlen > PZOO__ST_MAX_HEADER || hlen < 2) {
		status = pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: corrupt: header length %" PRIu64 " (2 to %u bytes expected)", path,
			hlen, PZOO__ST_MAX_HEADER);
		goto err;
	}
	data_len = f->size - 8 - hlen;
	prescan(f->map + 8, hlen, &objects, &values);
	/* The root, __metadata__ and one object per tensor. */
	if (objects > PZOO__ST_MAX_TENSORS + 2 || values > PZOO__ST_MAX_VALUES) {
		status = pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: the header holds %" PRIu64 " objects and %" PRIu64 " values; "
			"at most %u tensors are read", path, objects, values,
			PZOO__ST_MAX_TENSORS);
		goto err;
	}

	/* STEP 2: the JSON. */
	root = json_loadb((const char *)f->map + 8, hlen, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		status = pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: corrupt header: %s (JSON line %d, column %d)", path,
			pzoo__escape(jerr.text, ename, sizeof(ename)), jerr.line, jerr.column);
		goto err;
	}
	if (!json_is_object(root)) {
		status = pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: corrupt header: not a JSON object", path);
		goto err;
	}

	/* STEP 3: every entry. */
	f->tensors = calloc(json_object_size(root) + 1, sizeof(*f->tensors));
	f->names = calloc(json_object_size(root) + 1, sizeof(*f->names));
	spans = calloc(json_object_size(root) + 1, sizeof(*spans));
	if (f->tensors == NULL || f->names == NULL || spans == NULL) {
		status = pzoo__error_set(PAELLA_STATUS_NO_MEMORY, "%s: out of memory", path);
		goto err;
	}
	json_object_foreach(root, key, value) {
		struct pzoo__st_tensor *t = &f->tensors[n];
		uint64_t begin;

		if (strcmp(key, "__metadata__") == 0) {
			const char *mk;
			json_t *mv;

			if (!json_is_object(value)) {
				status = pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
					"%s: corrupt header: __metadata__ is not an object", path);
				goto err;
			}
			json_object_foreach(value, mk, mv) {
				if (!json_is_string(mv)) {
					status = pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
						"%s: corrupt header: __metadata__ '%s' is not a string",
						path, pzoo__escape(mk, ename, sizeof(ename)));
					goto err;
				}
			}
			continue;
		}
		status = parse_entry(path, key, value, data_len, t, &begin);
		if (status != PAELLA_STATUS_OK)
			goto err;
		f->names[n] = strdup(key);
		if (f->names[n] == NULL) {
			status = pzoo__error_set(PAELLA_STATUS_NO_MEMORY, "%s: out of memory", path);
			goto err;
		}
		t->name = f->names[n];
		t->data = f->map + 8 + hlen + begin;
		spans[n].begin = begin;
		spans[n].nbytes = t->nbytes;
		spans[n].index = n;
		n++;
		f->ntensors = n;
	}

	/* STEP 4: the byte ranges tile the data section: sorted by offset,
	 * each starts where the previous ended, and the last ends the file. */
	qsort(spans, n, sizeof(*spans), cmp_span);
	pos = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct pzoo__st_tensor *t = &f->tensors[spans[i].index];

		if (spans[i].begin != pos) {
			status = pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				"%s: tensor '%s': data starts at byte %" PRIu64 ", expected %" PRIu64
				" (%s)", path, pzoo__escape(t->name, ename, sizeof(ename)),
				spans[i].begin, pos,
				spans[i].begin < pos ? "overlaps the tensor before it"
						     : "a gap before it");
			goto err;
		}
		pos += t->nbytes;
	}
	if (pos != data_len) {
		status = pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
			"%s: %" PRIu64 " data bytes after the last tensor", path, data_len - pos);
		goto err;
	}
	/* Keep the tensors in file order. */
	sorted = calloc(n + 1, sizeof(*sorted));
	if (sorted == NULL) {
		status = pzoo__error_set(PAELLA_STATUS_NO_MEMORY, "%s: out of memory", path);
		goto err;
	}
	for (unsigned i = 0; i < n; i++)
		sorted[i] = f->tensors[spans[i].index];
	free(f->tensors);
	f->tensors = sorted;
	json_decref(root);
	free(spans);
	return PAELLA_STATUS_OK;

err:
	if (root != NULL)
		json_decref(root);
	free(spans);
	return status;
}

enum paella_status
pzoo__st_write(const char *path, const struct pzoo__st_out *tensors, unsigned n)
{
	enum paella_status status = PAELLA_STATUS_OK;
	json_t *root = json_object(), *meta = json_object();
	char *header = NULL;
	FILE *fp = NULL;
	uint64_t pos = 0, hlen;
	size_t len, pad;
	unsigned char lenbuf[8];

	if (root == NULL || meta == NULL) {
		status = pzoo__error_set(PAELLA_STATUS_NO_MEMORY, "%s: out of memory", path);
		goto out;
	}
	json_object_set_new(meta, "format", json_string("pt"));
	json_object_set(root, "__metadata__", meta);
	for (unsigned i = 0; i < n; i++) {
		const struct pzoo__st_out *t = &tensors[i];
		json_t *e = json_object(), *shape = json_array(), *off = json_array();
		uint64_t numel = 1;

		if (t->dtype != PZOO__ST_F32 && t->dtype != PZOO__ST_I64) {
			json_decref(e);
			json_decref(shape);
			json_decref(off);
			status = pzoo__error_set(PAELLA_STATUS_UNSUPPORTED,
				"%s: tensor '%s': writing %s is not supported", path, t->name,
				pzoo__st_dtype_name(t->dtype));
			goto out;
		}
		for (int d = 0; d < t->ndim; d++) {
			json_array_append_new(shape, json_integer(t->shape[d]));
			numel *= (uint64_t)t->shape[d];
		}
		json_array_append_new(off, json_integer((json_int_t)pos));
		pos += numel * pzoo__st_dtype_size(t->dtype);
		json_array_append_new(off, json_integer((json_int_t)pos));
		json_object_set_new(e, "dtype", json_string(pzoo__st_dtype_name(t->dtype)));
		json_object_set_new(e, "shape", shape);
		json_object_set_new(e, "data_offsets", off);
		json_object_set_new(root, t->name, e);
	}
	header = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (header == NULL) {
		status = pzoo__error_set(PAELLA_STATUS_NO_MEMORY, "%s: out of memory", path);
		goto out;
	}
	/* Pad the header with spaces to a multiple of 8, as the reference
	 * writer does, so that the data section starts aligned. */
	len = strlen(header);
	pad = (8 - len % 8) % 8;
	hlen = len + pad;
	for (int b = 0; b < 8; b++)
		lenbuf[b] = (unsigned char)(hlen >> (8 * b));
	fp = fopen(path, "wb");
	if (fp == NULL) {
		status = pzoo__error_set(PAELLA_STATUS_IO_ERROR, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fwrite(lenbuf, 1, 8, fp) != 8 || fwrite(header, 1, len, fp) != len ||
	    fwrite("        ", 1, pad, fp) != pad)
		goto io_err;
	for (unsigned i = 0; i < n; i++) {
		uint64_t numel = 1;

		for (int d = 0; d < tensors[i].ndim; d++)
			numel *= (uint64_t)tensors[i].shape[d];
		numel *= pzoo__st_dtype_size(tensors[i].dtype);
		if (numel != 0 && fwrite(tensors[i].data, 1, numel, fp) != numel)
			goto io_err;
	}
	if (fclose(fp) != 0) {
		fp = NULL;
		goto io_err;
	}
	fp = NULL;
	goto out;

io_err:
	status = pzoo__error_set(PAELLA_STATUS_IO_ERROR, "%s: write: %s", path, strerror(errno));
out:
	if (fp != NULL)
		fclose(fp);
	free(header);
	json_decref(meta);
	json_decref(root);
	return status;
}
