/*
 * status.c - status names and strings, the version.
 */
#include "paella/paella.h"
#include "util.h"

#ifndef PAELLA_VERSION_STRING
#error "meson defines PAELLA_VERSION_STRING from the project version"
#endif

static const char *const status_strs[] = {
#define STATUS_STR(name, str) [PAELLA_STATUS_##name] = str,
	PAELLA_STATUS_LIST(STATUS_STR)
#undef STATUS_STR
};

static const char *const status_names[] = {
#define STATUS_NAME(name, str) [PAELLA_STATUS_##name] = "PAELLA_STATUS_" #name,
	PAELLA_STATUS_LIST(STATUS_NAME)
#undef STATUS_NAME
};

PAELLA_EXPORT const char *
paella_status_str(enum paella_status status)
{
	if ((unsigned)status >= PAELLA__ARRAY_SIZE(status_strs))
		return "unknown status";
	return status_strs[status];
}

PAELLA_EXPORT const char *
paella_status_name(enum paella_status status)
{
	if ((unsigned)status >= PAELLA__ARRAY_SIZE(status_names))
		return "PAELLA_STATUS_UNKNOWN";
	return status_names[status];
}

PAELLA_EXPORT const char *
paella_version_string(void)
{
	return PAELLA_VERSION_STRING;
}
