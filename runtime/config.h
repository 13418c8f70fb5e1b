/*
 * config.h - paella_config's defaults, environment and checks (config.c).
 * Private.
 */
#ifndef PAELLA_CONFIG_H
#define PAELLA_CONFIG_H

#include "paella/paella.h"

/* PAELLA_STATUS_INVALID_ARGUMENT, naming the field, for a config out of
 * range. */
enum paella_status
paella__config_check(const struct paella_config *config);

#endif /* PAELLA_CONFIG_H */
