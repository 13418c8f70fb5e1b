/*
 * paella-cc - compile CUDA with clang and the paella-instrument pass.
 *
 * A thin driver around `clang -x cuda`: it finds clang, the CUDA toolkit and
 * the pass plugin, adds the flags clang needs for CUDA 13 and sm_90, and the
 * runtime library when it links an executable, then execs clang with the
 * user's own flags unchanged.  Its own flags start with `--paella-`.
 *
 * Why a program and not a script: the plugin and the runtime are found
 * beside the binary (/proc/self/exe), in the build tree and in the install
 * tree alike, and the arguments go to clang exactly as given, never through
 * a shell.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paella/instrument-abi.h"

#ifndef PAELLA_VERSION
#define PAELLA_VERSION "unknown"
#endif
/* The configured toolkit, used when CUDA_PATH says nothing. */
#ifndef PAELLA_DEFAULT_CUDA
#define PAELLA_DEFAULT_CUDA "/usr/local/cuda"
#endif

#define PLUGIN_NAME "paella-instrument.so"
#define RUNTIME_NAME "libpaellart.so"
#define DEFAULT_ARCH "sm_90"

/* The exit status of every error paella-cc finds itself. */
#define EXIT_USAGE 2

static const char *progname = "paella-cc";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: error: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}

/* The pass compiles --paella-skip with llvm::Regex, POSIX extended syntax:
 * a regex it would refuse is refused here, before clang runs. */
static void check_skip_regex(const char *re)
{
	regex_t rx;
	char why[256];
	int rc = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);

	if (rc != 0) {
		regerror(rc, &rx, why, sizeof(why));
		die("--paella-skip='%s' is not a valid regex: %s (POSIX extended syntax, "
		    "e.g. --paella-skip='^my_lib_')", re, why);
	}
	regfree(&rx);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "%s: out of memory\n", progname);
		abort();
	}
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *s;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	s = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* A growable argv, NULL-terminated at all times. */
struct argv_buf {
	const char **v;
	size_t n, cap;
};

static void argv_push(struct argv_buf *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		const char **v = realloc(a->v, cap * sizeof(*v));

		if (!v) {
			fprintf(stderr, "%s: out of memory\n", progname);
			abort();
		}
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_executable(const char *path)
{
	return is_file(path) && access(path, X_OK) == 0;
}

/* Directory holding this executable, or NULL where /proc is not there. */
static char *self_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return xstrdup(buf[0] ? buf : "/");
}

/* First executable called `name` in $PATH, or NULL. */
static char *search_path(const char *name)
{
	const char *path = getenv("PATH");
	const char *p, *end;

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p = end + 1) {
		size_t len;
		char *cand;

		end = strchr(p, ':');
		len = end ? (size_t)(end - p) : strlen(p);
		cand = len ? xasprintf("%.*s/%s", (int)len, p, name) : xasprintf("./%s", name);
		if (is_executable(cand))
			return cand;
		free(cand);
		if (!end)
			return NULL;
	}
}

static char *find_clang(void)
{
	const char *env = getenv("PAELLA_CLANG");
	char *found;

	if (env && *env) {
		if (strchr(env, '/')) {
			if (!is_executable(env))
				die("PAELLA_CLANG='%s' is not an executable file "
				    "(point it at clang 22, or unset it to use clang-22 from PATH)", env);
			return xstrdup(env);
		}
		found = search_path(env);
		if (!found)
			die("PAELLA_CLANG='%s' is not on the PATH "
			    "(give a full path, or unset it to use clang-22 from PATH)", env);
		return found;
	}
	found = search_path("clang-22");
	if (found)
		return found;
	die("clang-22 is not on the PATH (install clang-22, or set PAELLA_CLANG=/path/to/clang)");
}

static const char *cuda_root(const char *given)
{
	const char *env = getenv("CUDA_PATH");

	if (given)
		return given;
	if (env && *env)
		return env;
	return PAELLA_DEFAULT_CUDA;
}

static void check_cuda(const char *cuda, bool from_flag)
{
	char *h = xasprintf("%s/include/cuda.h", cuda);

	if (!is_file(h))
		die("no CUDA toolkit at '%s': %s is missing (%s)", cuda, h,
		    from_flag ? "fix --cuda-path" : "set CUDA_PATH to the toolkit root, e.g. /usr/local/cuda");
	free(h);
}

/*
 * The plugin: $PAELLA_PLUGIN, else beside paella-cc in the build tree
 * (<builddir>/tools/paella-cc, <builddir>/pass/paella-instrument.so) or the
 * install tree (<prefix>/bin, <prefix>/lib[/<triple>]/paella).  Returns NULL
 * where none exists; `tried` then lists where it looked.
 */
static char *find_plugin(const char *dir, char *tried, size_t tried_len)
{
	const char *env = getenv("PAELLA_PLUGIN");
	const char *rel[] = {
		"../pass/" PLUGIN_NAME,
		PLUGIN_NAME,
		"../lib/paella/" PLUGIN_NAME,
		"../lib/x86_64-linux-gnu/paella/" PLUGIN_NAME,
		"../lib64/paella/" PLUGIN_NAME,
	};
	size_t used = 0;

	tried[0] = '\0';
	if (env && *env) {
		if (!is_file(env))
			die("PAELLA_PLUGIN='%s' does not exist "
			    "(point it at paella-instrument.so, or unset it to use the one beside paella-cc)", env);
		return xstrdup(env);
	}
	if (!dir)
		return NULL;
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char *cand = xasprintf("%s/%s", dir, rel[i]);
		char *real;

		if (is_file(cand)) {
			real = realpath(cand, NULL);
			if (real) {
				free(cand);
				return real;
			}
			return cand;
		}
		if (used < tried_len) {
			int n = snprintf(tried + used, tried_len - used, "%s%s", used ? ", " : "", cand);

			if (n > 0)
				used += (size_t)n;
		}
		free(cand);
	}
	return NULL;
}

/*
 * Directory holding libpaellart.so: $PAELLA_RUNTIME_DIR (set and empty: none,
 * to link without the runtime), else beside paella-cc, else NULL.
 */
static char *find_runtime_dir(const char *dir)
{
	const char *env = getenv("PAELLA_RUNTIME_DIR");
	const char *rel[] = {
		"../runtime",
		"../lib",
		"../lib/x86_64-linux-gnu",
		"../lib64",
	};

	if (env) {
		char *lib;

		if (!*env)
			return NULL;
		lib = xasprintf("%s/%s", env, RUNTIME_NAME);
		if (!is_file(lib))
			die("PAELLA_RUNTIME_DIR='%s' holds no " RUNTIME_NAME
			    " (fix it, set it empty to link without the runtime, or unset it)", env);
		free(lib);
		return xstrdup(env);
	}
	if (!dir)
		return NULL;
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char *cand = xasprintf("%s/%s/%s", dir, rel[i], RUNTIME_NAME);

		if (is_file(cand)) {
			char *real = realpath(cand, NULL);

			free(cand);
			if (real) {
				char *slash = strrchr(real, '/');

				*slash = '\0';
				return real;
			}
			return xasprintf("%s/%s", dir, rel[i]);
		}
		free(cand);
	}
	return NULL;
}

/* The first of dir/rel[0..n) that is a file, or NULL (also where dir is
 * NULL); the caller frees it. */
static char *find_beside(const char *dir, const char *const *rel, size_t n)
{
	if (!dir)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char *cand = xasprintf("%s/%s", dir, rel[i]);

		if (is_file(cand))
			return cand;
		free(cand);
	}
	return NULL;
}

#define COMPAT_NAME "paella_nvcc_compat.h"

/* The nvcc-compatibility header: beside paella-cc in the build tree
 * (<builddir>/tools/include/) or the install tree (<prefix>/include/paella/). */
static char *find_compat_header(const char *dir)
{
	const char *rel[] = { "include/" COMPAT_NAME, "../include/paella/" COMPAT_NAME };

	return find_beside(dir, rel, sizeof(rel) / sizeof(rel[0]));
}

#define CUDART_SHIM_NAME "libpaella_cudart_static.a"
#define CUDART_SHIM_SYMBOL "paella_cudart_get_func_by_symbol"

/* The static-cudart shim (tools/include/paella_cudart_static.c): beside
 * paella-cc in the build tree or the install tree. */
static char *find_cudart_shim(const char *dir)
{
	const char *rel[] = {
		"include/" CUDART_SHIM_NAME,
		"../lib/paella/" CUDART_SHIM_NAME,
		"../lib/x86_64-linux-gnu/paella/" CUDART_SHIM_NAME,
		"../lib64/paella/" CUDART_SHIM_NAME,
	};

	return find_beside(dir, rel, sizeof(rel) / sizeof(rel[0]));
}

/* Single-quote `s` for a POSIX shell where it needs it. */
static void print_quoted(FILE *f, const char *s)
{
	const char *safe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			   "0123456789_-+=/.,:@%^";

	if (*s && strspn(s, safe) == strlen(s)) {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* Clang options whose value is the next argument (so it is not an input). */
static bool takes_separate_value(const char *a)
{
	static const char *const opts[] = {
		"-o", "-I", "-D", "-U", "-L", "-l", "-F", "-T", "-u", "-z", "-e",
		"-include", "-imacros", "-isystem", "-idirafter", "-iquote", "-isysroot",
		"-iprefix", "-iwithprefix", "-iwithprefixbefore", "-include-pch",
		"-ivfsoverlay", "-cxx-isystem", "-isystem-after", "-working-directory",
		"-MF", "-MT", "-MQ", "-MJ", "-Xclang", "-Xlinker", "-Xassembler",
		"-Xpreprocessor", "-Xarch_device", "-Xarch_host", "-Xcuda-ptxas",
		"-Xcuda-fatbinary", "-Xoffload-linker", "-Xopenmp-target", "-mllvm",
		"-target", "--target", "-gcc-toolchain", "--param", "--serialize-diagnostics",
		"-dependency-file", "--output", "-rpath", "--sysroot", "-B",
		NULL,
	};

	for (const char *const *o = opts; *o; o++)
		if (strcmp(a, *o) == 0)
			return true;
	/* -Xarch_<arch> <arg> */
	return starts_with(a, "-Xarch_") && strchr(a + 7, '=') == NULL;
}


/*
 * nvcc's command line.  What paella-cc does with each nvcc flag is listed in
 * usage() and in README.md; a flag it cannot honour is an error that says
 * what to do instead, never silently something else.
 */
enum cudart_mode { CUDART_SHARED, CUDART_STATIC, CUDART_NONE };

struct nvcc_state {
	bool user_arch;         /* an architecture was given */
	bool rdc;               /* -rdc=true, -dc, -fgpu-rdc: CUDA inputs compile relocatable */
	bool rdc_objects;       /* a relocatable object is linked */
	/* -ptx, -cubin, -fatbin: a device image the program loads itself (the
	 * driver API: cuModuleLoad, cuLaunchKernel) and launches by hand, with
	 * the parameters as written: built uninstrumented. */
	bool image;
	bool fatbin;            /* -fatbin */
	unsigned narchs;        /* architectures given */
	bool device_debug;      /* -G */
	enum cudart_mode cudart;
	bool cudart_given;      /* a cudart library named on the command line */
	struct argv_buf host;   /* -Xcompiler flags, placed once inputs are known */
	struct argv_buf linker; /* -Xlinker flags */
};

/* The value of a flag written `-f V`, `-f=V` or (short nvcc flags) `-fV`:
 * NULL when @a is not @flag.  Advances *i past a separate value. */
static const char *flag_value(char **argv, int *i, const char *flag, bool joined_ok)
{
	const char *a = argv[*i];
	size_t n = strlen(flag);

	if (strncmp(a, flag, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] == '\0') {
		if (!argv[*i + 1])
			die("%s needs a value (see paella-cc --help, 'nvcc options')", flag);
		return argv[++*i];
	}
	return joined_ok ? a + n : NULL;
}

/* Each comma-separated item of @list, pushed to @b (nvcc's -Xcompiler a,b). */
static void push_list(struct argv_buf *b, const char *list)
{
	char *copy = xstrdup(list), *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		argv_push(b, xstrdup(t));
	free(copy);
}

/* CUDA 13's ptxas knows sm_75 and later; nvcc 13 refuses older ones
 * up front.  Refused here too, before clang runs: clang would hand the
 * architecture to ptxas, which fails, and clang then leaves a crash
 * reproducer (a 5 MB preprocessed source) in the temporary folder, as
 * CMake's compiler identification (sm_52) would at every configure. */
#define OLDEST_ARCH 75

static const char *check_arch(const char *sm)
{
	const char *digits = starts_with(sm, "sm_") ? sm + 3 : NULL;

	if (digits && digits[0] >= '0' && digits[0] <= '9' && atoi(digits) < OLDEST_ARCH)
		die("unsupported GPU architecture '%s': CUDA 13 builds for sm_%d and later "
		    "(nvcc 13 refuses it too)", sm, OLDEST_ARCH);
	return sm;
}

/* sm_XX from nvcc's arch/code spellings (sm_90, compute_90, 90, sm_90a);
 * NULL for the ones that name no single architecture. */
static char *gpu_arch(const char *v)
{
	if (strcmp(v, "native") == 0 || strcmp(v, "all") == 0 || strcmp(v, "all-major") == 0)
		return NULL;
	if (starts_with(v, "compute_"))
		return xasprintf("sm_%s", v + strlen("compute_"));
	if (starts_with(v, "sm_"))
		return xstrdup(v);
	if (starts_with(v, "lto_"))
		return xasprintf("sm_%s", v + strlen("lto_"));
	if (v[0] >= '0' && v[0] <= '9')
		return xasprintf("sm_%s", v);
	die("unknown GPU architecture '%s' (write sm_90, compute_90 or 90)", v);
}

static void push_arch(struct argv_buf *user, struct nvcc_state *st, const char *v)
{
	char *arch = gpu_arch(v);

	st->user_arch = true;
	st->narchs++;
	if (arch)
		argv_push(user, xasprintf("--cuda-gpu-arch=%s", check_arch(arch)));
	else
		argv_push(user, "--cuda-gpu-arch=" DEFAULT_ARCH);
	free(arch);
}

/* -gencode arch=compute_XX,code=[sm_XX,compute_XX]: one --cuda-gpu-arch per
 * real architecture in code= (clang embeds PTX for each anyway); the arch=
 * one where code= names only virtual ones. */
static void push_gencode(struct argv_buf *user, struct nvcc_state *st, const char *spec)
{
	char *copy = xstrdup(spec), *save = NULL;
	const char *arch = NULL;
	bool any = false;

	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *v = t;

		if (starts_with(t, "arch=")) {
			arch = t + 5;
			continue;
		}
		if (starts_with(t, "code="))
			v = t + 5;
		v += strspn(v, "[\"'");
		v[strcspn(v, "]\"'")] = '\0';
		if (starts_with(v, "sm_")) {
			push_arch(user, st, v);
			any = true;
		}
	}
	if (!any) {
		if (!arch)
			die("-gencode '%s': no arch= or code=sm_XX (e.g. -gencode arch=compute_90,code=sm_90)",
			    spec);
		push_arch(user, st, arch);
	}
	free(copy);
}

static bool is_true(const char *v)
{
	return strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

/* nvcc flags that paella-cc understands but has nothing to do for: they
 * take no value. */
static const char *const nvcc_ignored[] = {
	"--expt-relaxed-constexpr", "-expt-relaxed-constexpr",
	"--expt-extended-lambda", "-expt-extended-lambda", "--extended-lambda",
	"-extended-lambda", "-Wno-deprecated-gpu-targets", "--Wno-deprecated-gpu-targets",
	"-Wno-deprecated-declarations-gpu", "--keep", "-keep", "-link", "--link",
	"--no-host-device-initializer-list", "--no-host-device-move-forward",
	"-forward-unknown-to-host-compiler", "--forward-unknown-to-host-compiler",
	"--display-error-number", "-err-no", "--no-display-error-number",
	"-use-local-env", "--use-local-env", "-lineinfo-none", "--restrict", "-restrict",
	"-Wreorder", "-Wext-lambda-captures-this", "-Wdefault-stream-launch",
	"-Wmissing-launch-bounds", "-source-in-ptx", "--source-in-ptx", "-static-global-template-stub=true",
	NULL,
};

/* nvcc flags with a value that only nvcc's own front end or tools read. */
static const char *const nvcc_ignored_value[] = {
	"-ccbin", "--compiler-bindir", "-Xcudafe", "--cudafe-options", "-Xnvlink",
	"--nvlink-options", "-t", "--threads", "-diag-suppress", "--diag-suppress",
	"-diag-warn", "--diag-warn", "-diag-error", "--diag-error", "-keep-dir",
	"--keep-dir", "-split-compile", "--split-compile", "-Xfatbin", "--fatbin-options",
	"-time", "--time", "-Xarchive", "--archive-options", "-arbin", "-odir",
	"--output-directory", "-allow-unsupported-compiler", "-jump-table-density",
	"-static-global-template-stub", "--static-global-template-stub",
	NULL,
};

static bool in_list(const char *const *list, const char *a)
{
	for (const char *const *o = list; *o; o++)
		if (strcmp(a, *o) == 0)
			return true;
	return false;
}

/* The nvcc flag at argv[*i], translated onto @user: true where it was one. */
static bool translate_nvcc(char **argv, int *i, struct argv_buf *user, struct nvcc_state *st)
{
	const char *a = argv[*i];
	const char *v;

	if (in_list(nvcc_ignored, a))
		return true;
	for (const char *const *o = nvcc_ignored_value; *o; o++) {
		size_t n = strlen(*o);

		if (strcmp(a, *o) == 0) {
			if (argv[*i + 1])
				++*i;
			return true;
		}
		if (strncmp(a, *o, n) == 0 && a[n] == '=')
			return true;
	}
	if ((v = flag_value(argv, i, "-arch", false)) ||
	    (v = flag_value(argv, i, "--gpu-architecture", false))) {
		push_arch(user, st, v);
		return true;
	}
	if ((v = flag_value(argv, i, "-code", false)) ||
	    (v = flag_value(argv, i, "--gpu-code", false))) {
		push_gencode(user, st, v);
		return true;
	}
	if ((v = flag_value(argv, i, "-gencode", false)) ||
	    (v = flag_value(argv, i, "--generate-code", false))) {
		push_gencode(user, st, v);
		return true;
	}
	if (strcmp(a, "--use_fast_math") == 0 || strcmp(a, "-use_fast_math") == 0 ||
	    strcmp(a, "--use-fast-math") == 0) {
		/* nvcc: --ftz=true --prec-div=false --prec-sqrt=false --fmad=true,
		 * device code only; fmad is clang's CUDA default already. */
		argv_push(user, "-fgpu-flush-denormals-to-zero");
		argv_push(user, "-fgpu-approx-transcendentals");
		argv_push(user, "-Xarch_device");
		argv_push(user, "-mllvm=-nvptx-prec-divf32=0");
		argv_push(user, "-Xarch_device");
		argv_push(user, "-mllvm=-nvptx-prec-sqrtf32=0");
		return true;
	}
	if ((v = flag_value(argv, i, "--ftz", false)) || (v = flag_value(argv, i, "-ftz", false))) {
		argv_push(user, is_true(v) ? "-fgpu-flush-denormals-to-zero"
					   : "-fno-gpu-flush-denormals-to-zero");
		return true;
	}
	if ((v = flag_value(argv, i, "--prec-div", false)) ||
	    (v = flag_value(argv, i, "-prec-div", false))) {
		argv_push(user, "-Xarch_device");
		argv_push(user, is_true(v) ? "-mllvm=-nvptx-prec-divf32=2"
					   : "-mllvm=-nvptx-prec-divf32=0");
		return true;
	}
	if ((v = flag_value(argv, i, "--prec-sqrt", false)) ||
	    (v = flag_value(argv, i, "-prec-sqrt", false))) {
		argv_push(user, "-Xarch_device");
		argv_push(user, is_true(v) ? "-mllvm=-nvptx-prec-sqrtf32=1"
					   : "-mllvm=-nvptx-prec-sqrtf32=0");
		return true;
	}
	if ((v = flag_value(argv, i, "--fmad", false)) || (v = flag_value(argv, i, "-fmad", false))) {
		argv_push(user, is_true(v) ? "-ffp-contract=fast" : "-ffp-contract=off");
		return true;
	}
	if ((v = flag_value(argv, i, "-Xcompiler", false)) ||
	    (v = flag_value(argv, i, "--compiler-options", false))) {
		push_list(&st->host, v);
		return true;
	}
	if ((v = flag_value(argv, i, "--linker-options", false)) ||
	    (starts_with(a, "-Xlinker=") && (v = a + strlen("-Xlinker=")))) {
		push_list(&st->linker, v);
		return true;
	}
	if ((v = flag_value(argv, i, "-Xptxas", false)) ||
	    (v = flag_value(argv, i, "--ptxas-options", false))) {
		struct argv_buf items = {0};

		push_list(&items, v);
		for (size_t k = 0; k < items.n; k++) {
			argv_push(user, "-Xcuda-ptxas");
			argv_push(user, items.v[k]);
		}
		return true;
	}
	if ((v = flag_value(argv, i, "-maxrregcount", false)) ||
	    (v = flag_value(argv, i, "--maxrregcount", false))) {
		argv_push(user, "-Xcuda-ptxas");
		argv_push(user, xasprintf("--maxrregcount=%s", v));
		return true;
	}
	if (strcmp(a, "-res-usage") == 0 || strcmp(a, "--resource-usage") == 0) {
		argv_push(user, "-Xcuda-ptxas");
		argv_push(user, "-v");
		return true;
	}
	if ((v = flag_value(argv, i, "-rdc", false)) ||
	    (v = flag_value(argv, i, "--relocatable-device-code", false))) {
		st->rdc = is_true(v);
		argv_push(user, st->rdc ? "-fgpu-rdc" : "-fno-gpu-rdc");
		return true;
	}
	if (strcmp(a, "-dc") == 0 || strcmp(a, "--device-c") == 0) {
		st->rdc = true;
		argv_push(user, "-fgpu-rdc");
		argv_push(user, "-c");
		return true;
	}
	if (strcmp(a, "-fgpu-rdc") == 0) {
		st->rdc = true;
		return false; /* clang's own: passed as it is */
	}
	if (strcmp(a, "-dlink") == 0 || strcmp(a, "--device-link") == 0)
		die("%s: paella-cc links device code when it links the program: drop the separate "
		    "device-link step and link the objects with paella-cc (-rdc=true at compile "
		    "and link)", a);
	if (strcmp(a, "-lib") == 0 || strcmp(a, "--lib") == 0)
		die("%s: make the static library with ar (ar rcs libx.a *.o), as nvcc does", a);
	if (strcmp(a, "-lineinfo") == 0 || strcmp(a, "--generate-line-info") == 0) {
		argv_push(user, "-gline-tables-only");
		return true;
	}
	if (strcmp(a, "-G") == 0 || strcmp(a, "--device-debug") == 0) {
		st->device_debug = true;
		/* clang 22's -g makes debug device code (.target ..., debug)
		 * that ptxas does not optimise, as nvcc's -G. */
		argv_push(user, "-g");
		return true;
	}
	bool ptx = strcmp(a, "-ptx") == 0 || strcmp(a, "--ptx") == 0;
	bool fatbin = strcmp(a, "-fatbin") == 0 || strcmp(a, "--fatbin") == 0;
	if (ptx || fatbin || strcmp(a, "-cubin") == 0 || strcmp(a, "--cubin") == 0) {
		/* -fatbin: one architecture's cubin, which the driver loads as it
		 * loads a fat binary (cuModuleLoad reads the file's header). */
		st->image = true;
		st->fatbin |= fatbin;
		argv_push(user, "--cuda-device-only");
		argv_push(user, ptx ? "-S" : "-c");
		return true;
	}
	if ((v = flag_value(argv, i, "-cudart", false)) ||
	    (v = flag_value(argv, i, "--cudart", false))) {
		if (strcmp(v, "static") == 0)
			st->cudart = CUDART_STATIC;
		else if (strcmp(v, "shared") == 0)
			st->cudart = CUDART_SHARED;
		else if (strcmp(v, "none") == 0)
			st->cudart = CUDART_NONE;
		else
			die("-cudart %s: the choices are static, shared and none", v);
		return true;
	}
	if ((v = flag_value(argv, i, "--default-stream", false)) ||
	    (v = flag_value(argv, i, "-default-stream", false))) {
		argv_push(user, xasprintf("-fgpu-default-stream=%s",
					  strcmp(v, "per-thread") == 0 ? "per-thread" : "legacy"));
		return true;
	}
	if ((v = flag_value(argv, i, "--std", false))) {
		argv_push(user, xasprintf("-std=%s", v));
		return true;
	}
	if ((v = flag_value(argv, i, "--output-file", false))) {
		argv_push(user, "-o");
		argv_push(user, v);
		return true;
	}
	if (strcmp(a, "--compile") == 0) {
		argv_push(user, "-c");
		return true;
	}
	if ((v = flag_value(argv, i, "--optimize", false))) {
		argv_push(user, xasprintf("-O%s", v));
		return true;
	}
	if (strcmp(a, "--dryrun") == 0 || strcmp(a, "-dryrun") == 0) {
		argv_push(user, "-###");
		return true;
	}
	if (strcmp(a, "-Werror") == 0 && argv[*i + 1] && argv[*i + 1][0] != '-' &&
	    (strstr(argv[*i + 1], "all-warnings") || strstr(argv[*i + 1], "cross-execution") ||
	     strstr(argv[*i + 1], "deprecated-declarations") || strstr(argv[*i + 1], "reorder") ||
	     strstr(argv[*i + 1], "default-stream-launch") || strstr(argv[*i + 1], "ext-lambda"))) {
		/* nvcc's -Werror KIND,...: clang's -Werror is all or nothing. */
		++*i;
		argv_push(user, "-Werror");
		return true;
	}
	return false;
}

/* Whether object file @path holds relocatable device code (clang's
 * .llvm.offloading section, from -fgpu-rdc / nvcc's -dc): linking it needs a
 * device link, which nvcc does without being asked. */
static bool object_has_rdc(const char *path)
{
	static const char mark[] = ".llvm.offloading";
	FILE *f = fopen(path, "rb");
	char buf[65536 + sizeof(mark)];
	size_t keep = 0, n;
	bool found = false;

	if (!f)
		return false;
	while (!found && (n = fread(buf + keep, 1, sizeof(buf) - keep, f)) > 0) {
		n += keep;
		found = memmem(buf, n, mark, sizeof(mark) - 1) != NULL;
		keep = n < sizeof(mark) ? n : sizeof(mark) - 1;
		memmove(buf, buf + n - keep, keep);
	}
	fclose(f);
	return found;
}

static bool has_static_cudart(const struct argv_buf *user)
{
	for (size_t i = 0; i < user->n; i++)
		if (strcmp(user->v[i], "-lcudart_static") == 0 ||
		    ends_with(user->v[i], "/libcudart_static.a"))
			return true;
	return false;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: paella-cc [--paella-OPTION...] [clang options] file...\n"
"\n"
"Compiles CUDA (.cu) with clang and the paella-instrument pass: every kernel\n"
"gets a trailing launch-record parameter and a block-exit epilogue that\n"
"reports progress to the Paella runtime, and <<<>>> launches on the host go\n"
"through the runtime (paella_launch_kernel).  Everything that is not a\n"
"--paella-* option goes to clang unchanged.\n"
"\n"
"paella-cc options:\n"
"  --paella-no-instrument  same compiler and flags, no kernel instrumented (for\n"
"                          fair overhead comparisons); links without\n"
"                          libpaellart.  The plugin still makes its nvcc fix-ups\n"
"                          (--paella-no-compat: plain clang)\n"
"  --paella-skip=REGEX     leave kernels whose (mangled) name matches REGEX\n"
"                          uninstrumented (LLVM regex; repeat to add more);\n"
"                          reaches the pass as -mllvm -paella-skip=REGEX\n"
"  --paella-notify=MODE    how blocks report: sample (default; no barrier, no\n"
"                          atomic, every 2^k-th block stores its id; each kernel\n"
"                          also kept as written, <name>__paella_plain, for the\n"
"                          runtime to launch where no block would report) or count\n"
"                          (exit barrier + one sharded atomic per block: exact\n"
"                          block counts, slower on many short blocks)\n"
"  --paella-cubin          build a cubin for the runtime to load (adds\n"
"                          --cuda-device-only -c where missing)\n"
"  --paella-no-compat      do not include the nvcc-compatibility header\n"
"  --paella-print-plugin   print the pass plugin paella-cc would use, and exit\n"
"  --help                  print this help, and exit\n"
"  --version               print versions and paths, and exit\n"
"\n"
"\n"
"nvcc options it translates (make NVCC=paella-cc, CMAKE_CUDA_COMPILER=paella-cc):\n"
"  -arch=sm_XX|compute_XX, -arch sm_XX, --gpu-architecture, -code=sm_XX\n"
"                          --cuda-gpu-arch=sm_XX (native/all/all-major: sm_90)\n"
"  -gencode arch=compute_XX,code=[sm_XX,compute_XX]  one --cuda-gpu-arch per sm_XX\n"
"  --use_fast_math         -fgpu-flush-denormals-to-zero -fgpu-approx-transcendentals\n"
"                          and approximate device division and square root\n"
"  --ftz=B --prec-div=B --prec-sqrt=B --fmad=B   the same, one by one\n"
"  -Xcompiler A,B          host flags: -Xarch_host A -Xarch_host B (as they are\n"
"                          when no CUDA input is compiled)\n"
"  -Xlinker A,B, --linker-options   -Xlinker A -Xlinker B\n"
"  -Xptxas A,B, --ptxas-options     -Xcuda-ptxas A -Xcuda-ptxas B\n"
"  -maxrregcount=N         -Xcuda-ptxas --maxrregcount=N\n"
"  -res-usage              -Xcuda-ptxas -v\n"
"  -rdc=true|false, -dc    -fgpu-rdc | -fno-gpu-rdc, and -D__CUDACC_RDC__ as nvcc\n"
"                          defines it; -dc adds -c.  A link of\n"
"                          relocatable objects does the device link (and links\n"
"                          cudadevrt) by itself, as nvcc does\n"
"  -lineinfo               -gline-tables-only\n"
"  -G                      -g (clang's device code is then unoptimised, debug)\n"
"  -x cu                   -x cuda\n"
"  -ptx, -cubin, -fatbin   --cuda-device-only -S | -c | -c (one architecture's\n"
"                          cubin, which the driver loads as a fat binary);\n"
"                          uninstrumented: an image a program loads itself is\n"
"                          launched by hand, with the parameters as written\n"
"  -cudart static|shared|none, -lcudart_static   the CUDA runtime to link\n"
"                          (default shared; static: see below)\n"
"  --default-stream per-thread   -fgpu-default-stream=per-thread\n"
"  --std X, --output-file F, --compile, --optimize N, --dryrun\n"
"                          -std=X, -o F, -c, -ON, -###\n"
"  -Werror all-warnings,.. -Werror\n"
"  ignored (nothing to do with clang): --expt-relaxed-constexpr,\n"
"    --expt-extended-lambda, --extended-lambda, -Wno-deprecated-gpu-targets,\n"
"    -ccbin/--compiler-bindir X, -Xcudafe X, -Xnvlink X, -t/--threads N,\n"
"    --diag-suppress=N, -keep, -keep-dir X, -split-compile N, -Xfatbin X, -time X\n"
"  refused, with what to do instead: -dlink, -lib\n"
"\n"
"What it adds to clang's command line:\n"
"  -x cuda before .cu inputs (-x none before other inputs that follow them),\n"
"  --cuda-path=CUDA  -isystem CUDA/include/cccl  -Wno-unknown-cuda-version\n"
"  -include paella_nvcc_compat.h (CUDA inputs: what nvcc accepts and clang\n"
"  does not, e.g. host min/max on mixed types, __nv_atomic_*)\n"
"  -fpass-plugin=PLUGIN  --cuda-gpu-arch=" DEFAULT_ARCH " (unless an arch is given),\n"
"  -isystem CUDA/include for C/C++ inputs compiled without CUDA ones (as nvcc),\n"
"  and, when it links: -L RTDIR -lpaellart (--as-needed: objects built with\n"
"  --paella-no-instrument do not bring it in) -Wl,-rpath,RTDIR (where\n"
"  libpaellart exists), -L CUDA/lib64 -lcudart -Wl,-rpath,CUDA/lib64,\n"
"  -lstdc++ -lm.  With the static cudart (-lcudart_static or -cudart static,\n"
"  CMake's default): no -lcudart, and libpaella_cudart_static.a, which exports\n"
"  the static copy's kernel look-up for libpaellart.\n"
"  -v prints the clang command (shell-quoted) on stderr and passes -v to clang.\n"
"\n"
"Examples:\n"
"  paella-cc --cuda-device-only -S -O3 k.cu -o k.ptx     instrumented PTX\n"
"  paella-cc --cuda-device-only -c -O3 k.cu -o k.cubin   sm_90 cubin (ELF)\n"
"  paella-cc --paella-cubin -O3 k.cu -o k.cubin          the same\n"
"  paella-cc -c -O3 k.cu -o k.o                          host object with the\n"
"                                                        device code embedded\n"
"  paella-cc -O3 main.cu k.o -o app                      executable, linked\n"
"                                                        with libpaellart\n"
"  paella-cc --paella-no-instrument -O3 main.cu -o app   baseline, no pass\n"
"  paella-cc --paella-skip='^cublas' -c k.cu             keep some kernels as-is\n"
"\n"
"Environment:\n"
"  PAELLA_CLANG        clang to run (default: clang-22 from PATH)\n"
"  CUDA_PATH           CUDA toolkit root (default: " PAELLA_DEFAULT_CUDA ")\n"
"  PAELLA_PLUGIN       the pass plugin (default: beside paella-cc: ../pass/,\n"
"                      ./, ../lib/paella/, ../lib/x86_64-linux-gnu/paella/)\n"
"  PAELLA_RUNTIME_DIR  directory of libpaellart.so (default: beside paella-cc:\n"
"                      ../runtime/, ../lib/, ../lib/x86_64-linux-gnu/);\n"
"                      set and empty: link without it\n"
"\n"
"Errors of its own (unknown --paella-* option, no input, missing file, no\n"
"clang, no toolkit, no plugin) exit with status 2; otherwise paella-cc exits\n"
"with clang's status.\n");
}

int main(int argc, char **argv)
{
	bool verbose = false, no_instrument = false, want_cubin = false, print_plugin = false;
	bool user_arch = false, has_cuda_input = false, has_input = false;
	bool no_link = false, device_only = false, host_only = false, has_c = false;
	bool bad_for_cubin = false, no_compat = false, has_other_source = false, rdc_any;
	struct nvcc_state nv = { .cudart = CUDART_SHARED };
	char *compat = NULL;
	const char *user_cuda = NULL;
	const char *user_x = NULL; /* the language a user's -x set, NULL for none */
	bool cur_cuda = false;     /* whether our own -x cuda is in effect */
	char *skip = NULL;
	const char *notify = NULL;
	struct argv_buf user = {0}, cmd = {0};
	char *dir, *clang, *plugin = NULL;
	const char *cuda;
	char tried[2048];

	(void)argc;
	dir = self_dir();

	/* STEP 1: read the arguments; own flags out, nvcc's -arch translated,
	 * -x switched around the inputs. */
	for (int i = 1; argv[i]; i++) {
		const char *a = argv[i];
		size_t n0;

		if (starts_with(a, "--paella-")) {
			if (strcmp(a, "--paella-no-instrument") == 0) {
				no_instrument = true;
			} else if (starts_with(a, "--paella-skip=")) {
				const char *re = a + strlen("--paella-skip=");
				char *old = skip;

				if (!*re)
					die("--paella-skip= needs a regex, e.g. --paella-skip='^vector_add$'");
				check_skip_regex(re);
				skip = old ? xasprintf("%s|(%s)", old, re) : xasprintf("(%s)", re);
				free(old);
			} else if (starts_with(a, "--paella-notify=")) {
				notify = a + strlen("--paella-notify=");
				if (strcmp(notify, "sample") != 0 && strcmp(notify, "count") != 0)
					die("--paella-notify=%s: the modes are sample and count", notify);
			} else if (strcmp(a, "--paella-notify") == 0) {
				die("--paella-notify needs '=': write --paella-notify=sample or =count");
			} else if (strcmp(a, "--paella-skip") == 0) {
				die("--paella-skip needs '=': write --paella-skip=REGEX");
			} else if (strcmp(a, "--paella-cubin") == 0) {
				want_cubin = true;
			} else if (strcmp(a, "--paella-no-compat") == 0) {
				no_compat = true;
			} else if (strcmp(a, "--paella-print-plugin") == 0) {
				print_plugin = true;
			} else {
				die("unknown option '%s' (see paella-cc --help for the --paella-* options)", a);
			}
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(a, "--version") == 0) {
			char *p = find_plugin(dir, tried, sizeof(tried));
			char *rt = find_runtime_dir(dir);

			printf("paella-cc %s (instrumentation ABI %d)\n", PAELLA_VERSION, PAELLA_ABI_VERSION);
			printf("plugin: %s\n", p ? p : "(not found)");
			printf("runtime: %s\n", rt ? rt : "(not found)");
			printf("cuda: %s\n", cuda_root(NULL));
			fflush(stdout);
			clang = find_clang();
			printf("clang: %s\n", clang);
			fflush(stdout);
			execl(clang, clang, "--version", (char *)NULL);
			die("cannot run %s: %s", clang, strerror(errno));
		}
		if (strcmp(a, "-arch") == 0 && !argv[i + 1])
			die("-arch needs a GPU architecture, e.g. -arch sm_90");
		n0 = user.n;
		if (translate_nvcc(argv, &i, &user, &nv)) {
			for (size_t k = n0; k < user.n; k++) {
				const char *t = user.v[k];

				if (strcmp(t, "-c") == 0 || strcmp(t, "-S") == 0)
					no_link = true;
				if (strcmp(t, "-c") == 0)
					has_c = true;
				if (strcmp(t, "-S") == 0)
					bad_for_cubin = true;
				if (strcmp(t, "--cuda-device-only") == 0)
					device_only = true;
				if (strcmp(t, "-###") == 0)
					verbose = true;
			}
			continue;
		}
		if (strcmp(a, "-lcudart_static") == 0 || ends_with(a, "/libcudart_static.a")) {
			nv.cudart = CUDART_STATIC;
			nv.cudart_given = true;
		}
		if (strcmp(a, "-lcudart") == 0 || ends_with(a, "/libcudart.so")) {
			nv.cudart = CUDART_SHARED;
			nv.cudart_given = true;
		}
		if (strcmp(a, "--paella-no-compat") == 0)
			continue;
		if (starts_with(a, "--cuda-gpu-arch=") || starts_with(a, "--offload-arch=") ||
		    strcmp(a, "--cuda-gpu-arch") == 0 || strcmp(a, "--offload-arch") == 0) {
			const char *eq = strchr(a, '=');

			user_arch = true;
			if (eq)
				check_arch(eq + 1);
			else if (argv[i + 1])
				check_arch(argv[i + 1]);
		}
		if (starts_with(a, "--cuda-path="))
			user_cuda = a + strlen("--cuda-path=");
		if (strcmp(a, "-v") == 0)
			verbose = true;
		if (strcmp(a, "-c") == 0)
			has_c = true;
		if (strcmp(a, "-c") == 0 || strcmp(a, "-S") == 0 || strcmp(a, "-E") == 0 ||
		    strcmp(a, "-fsyntax-only") == 0 || strcmp(a, "-M") == 0 || strcmp(a, "-MM") == 0 ||
		    strcmp(a, "--precompile") == 0)
			no_link = true;
		if (strcmp(a, "-S") == 0 || strcmp(a, "-E") == 0 || strcmp(a, "-emit-llvm") == 0)
			bad_for_cubin = true;
		if (strcmp(a, "--cuda-device-only") == 0 || strcmp(a, "--offload-device-only") == 0)
			device_only = true;
		if (strcmp(a, "--cuda-host-only") == 0 || strcmp(a, "--offload-host-only") == 0)
			host_only = true;

		if (strcmp(a, "-x") == 0) {
			if (!argv[i + 1])
				die("-x needs a language, e.g. -x cuda");
			argv_push(&user, a);
			a = argv[++i];
			if (strcmp(a, "cu") == 0) /* nvcc's name for CUDA */
				a = "cuda";
			argv_push(&user, a);
			user_x = strcmp(a, "none") == 0 ? NULL : a;
			cur_cuda = false;
			continue;
		}
		if (starts_with(a, "-x") && a[2]) {
			if (strcmp(a, "-xcu") == 0)
				a = "-xcuda";
			argv_push(&user, a);
			user_x = strcmp(a + 2, "none") == 0 ? NULL : a + 2;
			cur_cuda = false;
			continue;
		}
		if (takes_separate_value(a)) {
			argv_push(&user, a);
			if (argv[i + 1])
				argv_push(&user, argv[++i]);
			continue;
		}
		if (a[0] == '-' && a[1]) {
			argv_push(&user, a);
			continue;
		}

		/* An input: a file, or "-" for stdin. */
		has_input = true;
		if (strcmp(a, "-") != 0 && !is_file(a)) {
			struct stat st;

			if (stat(a, &st) == 0)
				die("input '%s' is not a regular file", a);
			die("no such input file: '%s' (check the path)", a);
		}
		if (user_x) {
			if (strcmp(user_x, "cuda") == 0)
				has_cuda_input = true;
			else
				has_other_source = true;
		} else if (ends_with(a, ".cu")) {
			if (!cur_cuda) {
				argv_push(&user, "-x");
				argv_push(&user, "cuda");
				cur_cuda = true;
			}
			has_cuda_input = true;
		} else {
			if (cur_cuda) {
				argv_push(&user, "-x");
				argv_push(&user, "none");
				cur_cuda = false;
			}
			if (ends_with(a, ".cpp") || ends_with(a, ".cc") || ends_with(a, ".cxx") ||
			    ends_with(a, ".c") || ends_with(a, ".C"))
				has_other_source = true;
		}
		if (ends_with(a, ".o") && object_has_rdc(a))
			nv.rdc_objects = true;
		argv_push(&user, a);
	}
	user_arch |= nv.user_arch;

	if (print_plugin) {
		plugin = find_plugin(dir, tried, sizeof(tried));
		if (!plugin)
			die("pass plugin " PLUGIN_NAME " not found (looked in %s); "
			    "build it (ninja), or set PAELLA_PLUGIN=/path/to/" PLUGIN_NAME, tried);
		puts(plugin);
		return 0;
	}
	if (!has_input)
		die("no input files (e.g. paella-cc -c k.cu -o k.o; see paella-cc --help)");
	if (want_cubin) {
		if (bad_for_cubin || host_only)
			die("--paella-cubin makes a cubin: drop -S, -E, -emit-llvm and --cuda-host-only");
		if (!has_cuda_input)
			die("--paella-cubin needs a .cu input");
		no_link = true;
	}
	if (device_only)
		no_link = true;
	/* Relocatable device code, compiled here or linked. */
	rdc_any = nv.rdc || nv.rdc_objects;
	/* nvcc's image flags make what a program launches by hand: the layout
	 * as written (clang's --cuda-device-only, or --paella-cubin, make the
	 * instrumented images the runtime loads). */
	if (nv.image)
		no_instrument = true;
	if (nv.fatbin && nv.narchs > 1)
		die("-fatbin makes one architecture's image here (a cubin the driver loads as a fat "
		    "binary): give one -arch or -gencode, or one -fatbin per architecture");

	/* STEP 2: find what the command needs. */
	clang = find_clang();
	cuda = cuda_root(user_cuda);
	if (has_cuda_input || !no_link)
		check_cuda(cuda, user_cuda != NULL);
	if (has_cuda_input && !no_compat) {
		compat = find_compat_header(dir);
		if (!compat)
			die("the nvcc-compatibility header " COMPAT_NAME " is not beside paella-cc "
			    "(looked in %s/include and %s/../include/paella); rebuild or reinstall, "
			    "or pass --paella-no-compat", dir ? dir : "?", dir ? dir : "?");
	}
	if (has_cuda_input && !no_instrument) {
		plugin = find_plugin(dir, tried, sizeof(tried));
		if (!plugin)
			die("pass plugin " PLUGIN_NAME " not found (looked in %s); build it (ninja), "
			    "set PAELLA_PLUGIN=/path/to/" PLUGIN_NAME ", or pass --paella-no-instrument",
			    tried);
	}
	/* Uninstrumented, the plugin still makes the nvcc-compatibility
	 * fix-ups (a relocatable program that launches a kernel defined in
	 * another file links, as with nvcc), when it is there: without it the
	 * build is plain clang's. */
	if (has_cuda_input && no_instrument && !no_compat)
		plugin = find_plugin(dir, tried, sizeof(tried));

	/* STEP 3: clang's command line: our flags, then the user's, then the
	 * libraries, which must follow the objects that need them. */
	argv_push(&cmd, clang);
	if (has_cuda_input) {
		if (!user_cuda)
			argv_push(&cmd, xasprintf("--cuda-path=%s", cuda));
		argv_push(&cmd, "-isystem");
		argv_push(&cmd, xasprintf("%s/include/cccl", cuda));
		argv_push(&cmd, "-Wno-unknown-cuda-version");
		if (!user_arch)
			argv_push(&cmd, "--cuda-gpu-arch=" DEFAULT_ARCH);
		if (compat) {
			argv_push(&cmd, "-include");
			argv_push(&cmd, compat);
		}
		if (plugin && no_instrument) {
			argv_push(&cmd, xasprintf("-fpass-plugin=%s", plugin));
			argv_push(&cmd, "-mllvm");
			argv_push(&cmd, "-paella-fixups-only");
		} else if (plugin) {
			argv_push(&cmd, xasprintf("-fpass-plugin=%s", plugin));
			/* Clang 22 loads -fpass-plugin plugins before it parses
			 * -mllvm, and hands -mllvm to the host and the device
			 * compilations alike, so the plugin's cl::opt is seen on
			 * both sides. */
			if (skip) {
				argv_push(&cmd, "-mllvm");
				argv_push(&cmd, xasprintf("-paella-skip=%s", skip));
			}
			if (notify) {
				argv_push(&cmd, "-mllvm");
				argv_push(&cmd, xasprintf("-paella-notify=%s", notify));
			}
			if (rdc_any) {
				argv_push(&cmd, "-mllvm");
				argv_push(&cmd, "-paella-rdc");
			}
		}
	}
	if (want_cubin) {
		if (!device_only)
			argv_push(&cmd, "--cuda-device-only");
		if (!has_c)
			argv_push(&cmd, "-c");
	}
	/* nvcc puts the toolkit's headers on every input's path; clang does it
	 * for CUDA inputs only. */
	if (has_other_source && !has_cuda_input) {
		argv_push(&cmd, "-isystem");
		argv_push(&cmd, xasprintf("%s/include", cuda));
	}
	/* -Xcompiler: host flags.  On a CUDA compilation they must not reach
	 * the device side. */
	for (size_t i = 0; i < nv.host.n; i++) {
		if (has_cuda_input)
			argv_push(&cmd, "-Xarch_host");
		argv_push(&cmd, nv.host.v[i]);
	}
	/* nvcc defines __CUDACC_RDC__ for relocatable device code; clang only
	 * __CLANG_RDC__.  CUDA's cuda_device_runtime_api.h keys on the former:
	 * without it, device-side cudaMalloc, cudaGetDevice,
	 * cudaFuncGetAttributes, cudaDeviceGetAttribute and the occupancy calls
	 * are inline stubs that return cudaErrorUnknown and do nothing
	 * (cdpBezierTessellation's device-side cudaMalloc left its pointer
	 * NULL).  Defined, they call the device runtime, which the link adds. */
	if (nv.rdc && has_cuda_input)
		argv_push(&cmd, "-D__CUDACC_RDC__=1");
	/* A link of relocatable device code with no CUDA input: clang sees no
	 * offloading on the command line, calls ld directly and leaves the
	 * device code unlinked (an executable with no fat binary, whose every
	 * launch fails with cudaErrorInvalidResourceHandle).  --offload-link
	 * sends the link through clang-linker-wrapper, which does the device
	 * link that nvcc does unasked. */
	if (rdc_any && !has_cuda_input && !no_link && !device_only) {
		argv_push(&cmd, "-fgpu-rdc");
		argv_push(&cmd, "--offload-link");
	}
	/* The device runtime, which device-side launches need, as nvcc links
	 * it by default in every device link. */
	if (rdc_any && !no_link && !device_only) {
		argv_push(&cmd, "-Xoffload-linker");
		argv_push(&cmd, xasprintf("-L%s/lib64", cuda));
		argv_push(&cmd, "-Xoffload-linker");
		argv_push(&cmd, "-lcudadevrt");
	}
	/* Static cudart, instrumented: the shim goes before the user's
	 * objects and libraries, so that the static cudart named after it
	 * resolves its call. */
	if (!no_link && !no_instrument && nv.cudart == CUDART_STATIC) {
		char *shim = find_cudart_shim(dir);

		if (!shim)
			die(CUDART_SHIM_NAME " is not beside paella-cc (looked in %s/include and "
			    "%s/../lib/paella); rebuild or reinstall, or link the shared CUDA runtime "
			    "(-cudart shared)", dir ? dir : "?", dir ? dir : "?");
		argv_push(&cmd, "-Wl,-u," CUDART_SHIM_SYMBOL);
		argv_push(&cmd, shim);
		argv_push(&cmd, "-Wl,--export-dynamic-symbol=" CUDART_SHIM_SYMBOL);
	}
	/* A link step given the compile flags, as nvcc Makefiles do: nvcc
	 * ignores the device ones there, and so does clang, quietly. */
	if (!has_cuda_input && !no_link && !has_other_source)
		argv_push(&cmd, "-Qunused-arguments");
	for (size_t i = 0; i < user.n; i++)
		argv_push(&cmd, user.v[i]);
	for (size_t i = 0; i < nv.linker.n; i++) {
		argv_push(&cmd, "-Xlinker");
		argv_push(&cmd, nv.linker.v[i]);
	}
	if (!no_link) {
		if (!no_instrument) {
			char *rt = find_runtime_dir(dir);

			/* Without the runtime, the link fails on
			 * paella_launch_kernel, which says what is missing.
			 * --as-needed: objects built with --paella-no-instrument
			 * (a build system that passes compile flags only to the
			 * compiles) never name it, and get no libpaellart. */
			if (rt) {
				argv_push(&cmd, xasprintf("-L%s", rt));
				argv_push(&cmd, "-Wl,--push-state,--as-needed");
				argv_push(&cmd, "-lpaellart");
				argv_push(&cmd, "-Wl,--pop-state");
				argv_push(&cmd, xasprintf("-Wl,-rpath,%s", rt));
			}
		}
		argv_push(&cmd, xasprintf("-L%s/lib64", cuda));
		/* The CUDA runtime as asked: shared by default, static (nvcc's
		 * and CMake's default) when the command names it; then the
		 * shim above exports the static copy's kernel look-up. */
		if (nv.cudart == CUDART_SHARED && !nv.cudart_given)
			argv_push(&cmd, "-lcudart");
		if (nv.cudart == CUDART_STATIC) {
			if (!has_static_cudart(&user))
				argv_push(&cmd, "-lcudart_static");
			argv_push(&cmd, "-ldl");
			argv_push(&cmd, "-lrt");
			argv_push(&cmd, "-lpthread");
		}
		argv_push(&cmd, xasprintf("-Wl,-rpath,%s/lib64", cuda));
		/* CUDA sources are C++: link its libraries, as nvcc (and g++) do. */
		argv_push(&cmd, "-lstdc++");
		argv_push(&cmd, "-lm");
	}

	/* STEP 4: run it. */
	if (verbose) {
		for (size_t i = 0; i < cmd.n; i++) {
			if (i)
				fputc(' ', stderr);
			print_quoted(stderr, cmd.v[i]);
		}
		fputc('\n', stderr);
		fflush(stderr);
	}
	execv(clang, (char *const *)cmd.v);
	die("cannot run %s: %s (set PAELLA_CLANG to a working clang 22)", clang, strerror(errno));
}
