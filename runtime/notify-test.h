/*
 * notify-test.h - what tests and benchmarks read of launch records and
 * their pool, beyond what the runtime needs.  Private; the runtime itself
 * does not include it.
 */
#ifndef PAELLA_NOTIFY_TEST_H
#define PAELLA_NOTIFY_TEST_H

#include <stdbool.h>
#include <stdint.h>

#include "notify.h"

/* How many records the pool has made. */
unsigned
paella__notify_pool_records(struct paella__notify_pool *pool);

/* The grid and class of the record's current launch. */
uint64_t
paella__notify_nblocks(const struct paella__notify_record *rec);
struct paella__notify_class
paella__notify_record_class(const struct paella__notify_record *rec);
bool
paella__notify_instrumented(const struct paella__notify_record *rec);
enum paella__notify_mode
paella__notify_record_mode(const struct paella__notify_record *rec);

/* Whether @rec's marker has been seen (marker mode). */
bool
paella__notify_marker_seen(struct paella__notify_record *rec);

/* Sample mode: the host word as it stands (0, or a sampled block's id + 1). */
uint32_t
paella__notify_sample_word(const struct paella__notify_record *rec);
/* Sample mode: the current launch's tag. */
uint32_t
paella__notify_record_tag(const struct paella__notify_record *rec);

/*
 * Copies the record's device counters back (synchronous cuMemcpyDtoH) and
 * stores in @total the blocks they counted in this launch, and in
 * @per_shard (may be NULL; shards entries) each shard's.  Call after the
 * kernel finished (synchronize its stream) and before release.
 */
enum paella_status
paella__notify_read_counters(struct paella__notify_record *rec,
			     uint64_t *total, uint32_t *per_shard);

#endif /* PAELLA_NOTIFY_TEST_H */
