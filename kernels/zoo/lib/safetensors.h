/*
 * safetensors.h - read and write safetensors files (the format PyTorch's
 * `safetensors` package writes: an 8-byte little-endian header length, a
 * JSON header, then the tensors' bytes).
 *
 * pzoo__st_open() maps a file and validates all of it before it returns:
 * the header length against the file, the JSON (parsed by jansson, duplicate
 * names refused), every entry's dtype, shape and data offsets, that the
 * tensors' byte ranges match their shapes and tile the data section exactly
 * (no gap, no overlap, nothing after).  Any fault is an error that names the
 * file, the tensor when there is one, and what is wrong; nothing is returned
 * then.  The tensors' bytes stay in the mapping until pzoo__st_close();
 * they need not be aligned: read them with pzoo__st_read_f32().
 *
 * pzoo__st_write() writes tensors of F32 and I64 (the tests make their
 * files with it, right and wrong).
 */
#ifndef PAELLA_SAFETENSORS_H
#define PAELLA_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "paella/paella.h"
#include "zoo-private.h"

#define PZOO__ST_MAX_DIMS 8
/* Largest header accepted, as the reference implementation: 100 MB. */
#define PZOO__ST_MAX_HEADER (100u * 1000u * 1000u)
/* Most tensors read from one file (torchvision's models have at most about
 * a thousand), and most JSON values (objects, arrays, array elements and
 * members) in the header: a tensor's entry is about 15.  Checked before the
 * header is parsed, so that a header of a million tiny entries costs
 * milliseconds, not seconds and gigabytes. */
#define PZOO__ST_MAX_TENSORS 16384u
#define PZOO__ST_MAX_VALUES (PZOO__ST_MAX_TENSORS * 24u)
/* Bytes of a name (or path) shown in a message, escaped (pzoo__escape()). */
#define PZOO__ST_NAME_SHOWN 200

#define PZOO__ST_DTYPE_LIST(X) \
	X(BOOL, 1) \
	X(U8, 1) \
	X(I8, 1) \
	X(F8_E5M2, 1) \
	X(F8_E4M3, 1) \
	X(I16, 2) \
	X(U16, 2) \
	X(F16, 2) \
	X(BF16, 2) \
	X(I32, 4) \
	X(U32, 4) \
	X(F32, 4) \
	X(F64, 8) \
	X(I64, 8) \
	X(U64, 8)

enum pzoo__st_dtype {
#define PZOO__ST_DTYPE_ENUM(name, size) PZOO__ST_##name,
	PZOO__ST_DTYPE_LIST(PZOO__ST_DTYPE_ENUM)
#undef PZOO__ST_DTYPE_ENUM
};

struct pzoo__st_tensor {
	const char *name;
	enum pzoo__st_dtype dtype;
	int ndim;
	int64_t shape[PZOO__ST_MAX_DIMS];
	uint64_t numel;
	/* In the file's mapping; possibly unaligned. */
	const unsigned char *data;
	uint64_t nbytes;
};

struct pzoo__st_file;

/* Opens and validates @path; see above.  Only a regular file is read (a
 * FIFO or device is refused without blocking).  NOT_FOUND when it does not
 * exist, IO_ERROR when it cannot be read, INVALID_ARGUMENT when it is not a
 * valid safetensors file.  Messages show names escaped (pzoo__escape()). */
enum paella_status
pzoo__st_open(const char *path, struct pzoo__st_file **out);

/* The same over @size bytes at @bytes (not copied: they must outlive the
 * file), named @name in messages: for the fuzzer and tests. */
enum paella_status
pzoo__st_parse(const char *name, const unsigned char *bytes, size_t size,
	       struct pzoo__st_file **out);

void
pzoo__st_close(struct pzoo__st_file *f);

const char *
pzoo__st_path(const struct pzoo__st_file *f);

unsigned
pzoo__st_count(const struct pzoo__st_file *f);

/* Tensors in the order of their data offsets. */
const struct pzoo__st_tensor *
pzoo__st_at(const struct pzoo__st_file *f, unsigned i);

/* NULL when the file has no tensor of that name. */
const struct pzoo__st_tensor *
pzoo__st_find(const struct pzoo__st_file *f, const char *name);

/* "F32" for PZOO__ST_F32; "?" for an unknown value. */
const char *
pzoo__st_dtype_name(enum pzoo__st_dtype dtype);

unsigned
pzoo__st_dtype_size(enum pzoo__st_dtype dtype);

/* Element @i of an F32 tensor. */
static inline float
pzoo__st_read_f32(const struct pzoo__st_tensor *t, uint64_t i)
{
	float v;

	__builtin_memcpy(&v, t->data + i * 4, 4);
	return v;
}

/* "[64, 3, 7, 7]" into @buf. */
void
pzoo__st_shape_str(int ndim, const int64_t *shape, char *buf, size_t cap);

/* A tensor to write: @data holds numel elements of @dtype (F32 or I64). */
struct pzoo__st_out {
	const char *name;
	enum pzoo__st_dtype dtype;
	int ndim;
	int64_t shape[PZOO__ST_MAX_DIMS];
	const void *data;
};

/* Writes @n tensors to @path (replaced).  IO_ERROR when it cannot. */
enum paella_status
pzoo__st_write(const char *path, const struct pzoo__st_out *tensors, unsigned n);

#endif /* PAELLA_SAFETENSORS_H */
