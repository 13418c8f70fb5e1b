/*
 * image-manifest.c - a small ELF64 reader for cubins: the sim backend's way
 * to load what paella-cc made, where there is no driver to ask.
 *
 * Every offset and size comes from the file, so each is checked against the
 * file's length before it is used, through the overflow helpers: a
 * truncated or bogus image is an INVALID_ARGUMENT, never a read out of
 * bounds (tests/fuzz/fuzz-image.c).
 */
#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image-manifest.h"
#include "log.h"
#include "paella/instrument-abi.h"
#include "util.h"

#ifndef EM_CUDA
#define EM_CUDA 190
#endif
/* st_other of a kernel's symbol in a cubin (an entry point, not a device
 * function). */
#define STO_CUDA_ENTRY 0x10
/* .nv.info attributes: formats, and the register count of a function
 * (EIFMT_SVAL: a 16-bit size, then the symbol index and the count). */
#define EIFMT_SVAL 0x04
#define EIATTR_REGCOUNT 0x2f
#define SECTION_NV_INFO ".nv.info"
#define SECTION_NV_SHARED ".nv.shared."

struct elf {
	const unsigned char *data;
	size_t bytes;
	Elf64_Shdr *sections;
	unsigned nsections;
	/* Of the section names. */
	const Elf64_Shdr *shstrtab;
};

static enum paella_status
bogus(const char *what)
{
	return paella__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
		"not a cubin paella-cc made: %s (the sim backend reads cubins, from "
		"`paella-cc --cuda-device-only -c`, not fatbins or PTX; or describe the "
		"module with paella_module_load_sim())", what);
}

/* Whether [off, off + size) lies inside the file. */
static bool
in_file(const struct elf *e, uint64_t off, uint64_t size)
{
	uint64_t end;

	return !paella__add_overflows(off, size, &end) && end <= e->bytes;
}

/* The bytes of @sh, or NULL for a section with none in the file. */
static const unsigned char *
section_data(const struct elf *e, const Elf64_Shdr *sh)
{
	if (sh->sh_type == SHT_NOBITS || !in_file(e, sh->sh_offset, sh->sh_size))
		return NULL;
	return e->data + sh->sh_offset;
}

/* The NUL-terminated string at @off of string table @sh, or NULL. */
static const char *
string_at(const struct elf *e, const Elf64_Shdr *sh, uint64_t off)
{
	const unsigned char *s = section_data(e, sh);

	if (s == NULL || sh->sh_type != SHT_STRTAB || off >= sh->sh_size ||
	    memchr(s + off, '\0', sh->sh_size - off) == NULL)
		return NULL;
	return (const char *)s + off;
}

static const char *
section_name(const struct elf *e, const Elf64_Shdr *sh)
{
	return e->shstrtab != NULL ? string_at(e, e->shstrtab, sh->sh_name) : NULL;
}

static enum paella_status
read_headers(struct elf *e)
{
	Elf64_Ehdr eh;
	uint64_t table;

	if (e->bytes < sizeof(eh) || memcmp(e->data, ELFMAG, SELFMAG) != 0)
		return bogus("no ELF header");
	memcpy(&eh, e->data, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return bogus("not a little-endian ELF64 file");
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	return bogus("this reader runs on little-endian hosts only");
#endif
	if (eh.e_machine != EM_CUDA)
		return bogus("an ELF file for another machine than a CUDA GPU");
	if (eh.e_shnum == 0 || eh.e_shentsize < sizeof(Elf64_Shdr))
		return bogus("no section headers");
	if (paella__mul_overflows(eh.e_shnum, eh.e_shentsize, &table) ||
	    !in_file(e, eh.e_shoff, table))
		return bogus("section headers past the end of the file (truncated?)");
	e->nsections = eh.e_shnum;
	e->sections = calloc(e->nsections, sizeof(*e->sections));
	if (e->sections == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "cubin: out of memory");
	for (unsigned i = 0; i < e->nsections; i++)
		memcpy(&e->sections[i], e->data + eh.e_shoff + (uint64_t)i * eh.e_shentsize,
		       sizeof(Elf64_Shdr));
	if (eh.e_shstrndx != SHN_UNDEF && eh.e_shstrndx < e->nsections)
		e->shstrtab = &e->sections[eh.e_shstrndx];
	return PAELLA_STATUS_OK;
}

/* The bytes of symbol @sym in its section, or NULL where it has none. */
static const unsigned char *
symbol_data(const struct elf *e, const Elf64_Sym *sym)
{
	const Elf64_Shdr *sh;
	const unsigned char *d;

	if (sym->st_shndx == SHN_UNDEF || sym->st_shndx >= e->nsections)
		return NULL;
	sh = &e->sections[sym->st_shndx];
	d = section_data(e, sh);
	if (d == NULL || sym->st_value < sh->sh_addr ||
	    sym->st_value - sh->sh_addr > sh->sh_size ||
	    sym->st_size > sh->sh_size - (sym->st_value - sh->sh_addr))
		return NULL;
	return d + (sym->st_value - sh->sh_addr);
}

static enum paella_status
read_abi(const struct elf *e, const Elf64_Sym *sym, struct paella__image *out)
{
	const unsigned char *d = symbol_data(e, sym);
	uint32_t v = 0;

	if (d == NULL || sym->st_size == 0 || sym->st_size > 8)
		return bogus(PAELLA_ABI_VERSION_SYMBOL " is not a 4-byte value in the file");
	memcpy(&v, d, sym->st_size < sizeof(v) ? sym->st_size : sizeof(v));
	/* As the cuda backend reads it: 0 would read as "no ABI". */
	out->abi_version = v != 0 ? v : UINT32_MAX;
	return PAELLA_STATUS_OK;
}

static enum paella_status
read_manifest(const struct elf *e, const Elf64_Sym *sym, struct paella__image *out)
{
	const unsigned char *d = symbol_data(e, sym);
	size_t len;

	if (d == NULL)
		return bogus(PAELLA_MANIFEST_SYMBOL " is not text in the file");
	free(out->manifest);
	len = strnlen((const char *)d, sym->st_size);
	out->manifest = malloc(len + 1);
	if (out->manifest == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "cubin: out of memory");
	memcpy(out->manifest, d, len);
	out->manifest[len] = '\0';
	return PAELLA_STATUS_OK;
}

/* The registers of each kernel, from .nv.info's EIATTR_REGCOUNT records;
 * @symidx[k] is kernel k's symbol.  A record it cannot read ends the walk:
 * the counts are a profile, not a contract. */
static void
read_regcounts(const struct elf *e, const uint64_t *symidx, struct paella__image *out)
{
	for (unsigned i = 0; i < e->nsections; i++) {
		const Elf64_Shdr *sh = &e->sections[i];
		const char *name = section_name(e, sh);
		const unsigned char *d = section_data(e, sh);
		uint64_t off = 0;

		if (name == NULL || d == NULL || strcmp(name, SECTION_NV_INFO) != 0)
			continue;
		while (sh->sh_size - off >= 4) {
			uint8_t fmt = d[off], attr = d[off + 1];
			uint16_t size;
			uint32_t sym, regs;

			if (fmt != EIFMT_SVAL) {
				off += 4;
				continue;
			}
			memcpy(&size, d + off + 2, sizeof(size));
			if (size > sh->sh_size - off - 4)
				break;
			if (attr == EIATTR_REGCOUNT && size >= 8) {
				memcpy(&sym, d + off + 4, sizeof(sym));
				memcpy(&regs, d + off + 8, sizeof(regs));
				for (unsigned k = 0; k < out->nkernels; k++)
					if (symidx[k] == sym && regs <= 255)
						out->kernels[k].regs_per_thread = regs;
			}
			off += 4 + (uint64_t)size;
		}
	}
}

/* Static shared memory: the size of section .nv.shared.<kernel>. */
static void
read_static_smem(const struct elf *e, struct paella__image *out)
{
	size_t prefix = strlen(SECTION_NV_SHARED);

	for (unsigned i = 0; i < e->nsections; i++) {
		const Elf64_Shdr *sh = &e->sections[i];
		const char *name = section_name(e, sh);

		if (name == NULL || strncmp(name, SECTION_NV_SHARED, prefix) != 0 ||
		    sh->sh_size > UINT32_MAX)
			continue;
		for (unsigned k = 0; k < out->nkernels; k++)
			if (strcmp(out->kernels[k].name, name + prefix) == 0)
				out->kernels[k].static_smem_bytes = (unsigned)sh->sh_size;
	}
}

static enum paella_status
read_symbols(const struct elf *e, const Elf64_Shdr *symtab, struct paella__image *out)
{
	const unsigned char *syms = section_data(e, symtab);
	const Elf64_Shdr *strtab;
	uint64_t *symidx = NULL;
	uint64_t n;
	enum paella_status st = PAELLA_STATUS_OK;

	if (syms == NULL || symtab->sh_entsize < sizeof(Elf64_Sym) ||
	    symtab->sh_link >= e->nsections)
		return bogus("a symbol table past the end of the file (truncated?)");
	strtab = &e->sections[symtab->sh_link];
	n = symtab->sh_size / symtab->sh_entsize;
	if (n > UINT32_MAX)
		return bogus("too many symbols");
	/* n is at most the file's length over 24: these fit. */
	out->kernels = calloc(n ? n : 1, sizeof(*out->kernels));
	symidx = calloc(n ? n : 1, sizeof(*symidx));
	if (out->kernels == NULL || symidx == NULL) {
		st = paella__error_set(PAELLA_STATUS_NO_MEMORY, "cubin: out of memory");
		goto out;
	}
	for (uint64_t i = 0; i < n; i++) {
		Elf64_Sym sym;
		const char *name;

		memcpy(&sym, syms + i * symtab->sh_entsize, sizeof(sym));
		if (sym.st_name == 0)
			continue;
		name = string_at(e, strtab, sym.st_name);
		if (name == NULL) {
			st = bogus("a symbol's name is outside the string table");
			goto out;
		}
		if (strcmp(name, PAELLA_ABI_VERSION_SYMBOL) == 0) {
			st = read_abi(e, &sym, out);
		} else if (strcmp(name, PAELLA_MANIFEST_SYMBOL) == 0) {
			st = read_manifest(e, &sym, out);
		} else if (ELF64_ST_TYPE(sym.st_info) == STT_FUNC &&
			   (sym.st_other & STO_CUDA_ENTRY) && sym.st_shndx != SHN_UNDEF) {
			out->kernels[out->nkernels].name = strdup(name);
			if (out->kernels[out->nkernels].name == NULL)
				st = paella__error_set(PAELLA_STATUS_NO_MEMORY,
						       "cubin: out of memory");
			symidx[out->nkernels++] = i;
		}
		if (st != PAELLA_STATUS_OK)
			goto out;
	}
	read_regcounts(e, symidx, out);
	read_static_smem(e, out);
out:
	free(symidx);
	return st;
}

enum paella_status
paella__image_read(const void *data, size_t bytes, struct paella__image *out)
{
	struct elf e = { .data = data, .bytes = bytes };
	enum paella_status st;

	memset(out, 0, sizeof(*out));
	if (data == NULL)
		return bogus("no bytes");
	st = read_headers(&e);
	for (unsigned i = 0; st == PAELLA_STATUS_OK && i < e.nsections; i++)
		if (e.sections[i].sh_type == SHT_SYMTAB) {
			st = read_symbols(&e, &e.sections[i], out);
			break;
		}
	if (st == PAELLA_STATUS_OK && out->abi_version != 0 && out->manifest == NULL)
		st = bogus("it has " PAELLA_ABI_VERSION_SYMBOL " but no " PAELLA_MANIFEST_SYMBOL);
	free(e.sections);
	if (st != PAELLA_STATUS_OK)
		paella__image_fini(out);
	return st;
}

enum paella_status
paella__image_sim_kernels(const struct paella__image *img, struct paella_sim_module *out)
{
	struct paella_sim_kernel *k;

	memset(out, 0, sizeof(*out));
	k = calloc(img->nkernels ? img->nkernels : 1, sizeof(*k));
	if (k == NULL)
		return paella__error_set(PAELLA_STATUS_NO_MEMORY, "cubin: out of memory");
	for (unsigned i = 0; i < img->nkernels; i++) {
		k[i].name = img->kernels[i].name;
		k[i].regs_per_thread = img->kernels[i].regs_per_thread;
		k[i].static_smem_bytes = img->kernels[i].static_smem_bytes;
		/* An image carries no timing. */
		k[i].block_ns = PAELLA_SIM_IMAGE_BLOCK_NS;
	}
	out->abi_version = img->abi_version;
	out->manifest = img->manifest;
	out->kernels = k;
	out->nkernels = img->nkernels;
	return PAELLA_STATUS_OK;
}

void
paella__image_fini(struct paella__image *img)
{
	for (unsigned i = 0; i < img->nkernels; i++)
		free(img->kernels[i].name);
	free(img->kernels);
	free(img->manifest);
	memset(img, 0, sizeof(*img));
}
