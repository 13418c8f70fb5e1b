/*
 * cards.c - SM counts and per-SM limits of the cards the simulator models,
 * from NVIDIA's CUDA C Programming Guide (compute capability tables) and the
 * cards' data sheets.
 */
#include <stddef.h>
#include <strings.h>

#include "cards.h"
#include "util.h"

#define KIB 1024u
#define GIB (UINT64_C(1) << 30)

/* Hopper (sm_90): 2048 threads, 64K registers, 228 KiB shared memory and
 * 32 blocks per SM; at most 227 KiB for one block. */
#define HOPPER_SM { 2048, 65536, 228 * KIB, 32, 1 * KIB, 256, 255, 1024, 227 * KIB }

static const struct paella__card cards[] = {
	{ "H100", 132, HOPPER_SM, 80 * GIB },
	{ "H200", 132, HOPPER_SM, 141 * GIB },
	/* Ampere sm_80: 164 KiB per SM, 163 KiB per block. */
	{ "A100", 108, { 2048, 65536, 164 * KIB, 32, 1 * KIB, 256, 255, 1024, 163 * KIB },
	  80 * GIB },
	/* Ada sm_89: 1536 threads, 24 blocks, 100 KiB per SM, 99 KiB per block. */
	{ "L4", 58, { 1536, 65536, 100 * KIB, 24, 1 * KIB, 256, 255, 1024, 99 * KIB },
	  24 * GIB },
};

const struct paella__card *
paella__card_find(const char *name)
{
	for (size_t i = 0; i < PAELLA__ARRAY_SIZE(cards); i++)
		if (strcasecmp(cards[i].name, name) == 0)
			return &cards[i];
	return NULL;
}

const char *
paella__card_names(void)
{
	return "H100, H200, A100, L4";
}
