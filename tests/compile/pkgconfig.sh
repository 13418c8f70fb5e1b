#!/bin/sh
# pkgconfig.sh BUILD_ROOT CC CUBIN WORKDIR [CFLAG...] - builds a tiny program
# against the uninstalled paellart.pc with pkg-config alone, and runs it on
# the simulated GPU without LD_LIBRARY_PATH (the .pc's rpath finds the
# library).  The .pc must name the public headers and nothing private.
set -eu
root=$1 cc=$2 cubin=$3 work=$4
shift 4
mkdir -p "$work"
export PKG_CONFIG_PATH="$root/meson-uninstalled"
pkg-config --exists paellart-uninstalled || { echo "FAIL: no paellart-uninstalled.pc in $PKG_CONFIG_PATH"; exit 1; }
cflags=$(pkg-config --cflags paellart-uninstalled)
libs=$(pkg-config --libs paellart-uninstalled)
echo "cflags: $cflags"
echo "libs: $libs"
for f in $cflags; do
	case $f in
	-I*/runtime/include) ;;
	-I*) echo "FAIL: Cflags name a private folder: $f"; exit 1 ;;
	esac
done
case " $libs " in
*-Wl,-rpath,*) ;;
*) echo "FAIL: Libs carry no rpath"; exit 1 ;;
esac
cat > "$work/hello.c" <<'C'
#include <stdio.h>
#include <paella/paella.h>

int
main(int argc, char **argv)
{
	struct paella_config c;
	struct paella_runtime *rt = NULL;
	struct paella_module *mod = NULL;
	enum paella_status st;

	paella_config_init(&c);
	c.backend = PAELLA_BACKEND_SIM;
	st = paella_runtime_create(&c, &rt);
	if (st == PAELLA_STATUS_OK)
		st = paella_module_load_file(rt, argv[1], &mod);
	if (st != PAELLA_STATUS_OK) {
		fprintf(stderr, "hello: %s: %s\n", paella_status_name(st), paella_last_error());
		return 1;
	}
	printf("libpaellart %s, ABI %u, on sim: %s loaded\n", paella_version_string(),
	       (unsigned)PAELLA_ABI_VERSION, argv[1]);
	paella_module_unload(mod);
	paella_runtime_destroy(rt);
	return argc == 2 ? 0 : 1;
}
C
# shellcheck disable=SC2086
"$cc" "$@" $cflags -o "$work/hello" "$work/hello.c" $libs
env -u LD_LIBRARY_PATH "$work/hello" "$cubin"
echo OK
