/*
 * test-policy.c - the indexed heap and the four policies on their own,
 * fed sched entities by hand as the dispatcher would.
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "../check-main.h"

/* ---- the heap ---------------------------------------------------------------- */

struct item {
	unsigned key;
	struct paella__heap_node node;
};

static bool
item_less(const struct paella__heap_node *a, const struct paella__heap_node *b)
{
	const struct item *x = (const struct item *)((const char *)a - offsetof(struct item, node));
	const struct item *y = (const struct item *)((const char *)b - offsetof(struct item, node));

	return x->key < y->key;
}

static struct item *
item_of(struct paella__heap_node *n)
{
	return (struct item *)((char *)n - offsetof(struct item, node));
}

PAELLA_TEST(policy_heap_orders_and_updates)
{
	enum { N = 500 };
	struct item *items = calloc(N, sizeof(*items));
	struct paella__heap h;
	uint64_t rng = 88172645463325252ull;
	unsigned last = 0;

	paella__heap_init(&h, item_less);
	for (unsigned i = 0; i < N; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		items[i].key = (unsigned)(rng % 1000);
		paella__heap_node_init(&items[i].node);
		ck_assert_int_eq(paella__heap_insert(&h, &items[i].node), PAELLA_STATUS_OK);
	}
	/* Remove every third, change every fifth, in both directions. */
	for (unsigned i = 0; i < N; i += 3) {
		paella__heap_remove(&h, &items[i].node);
		ck_assert(!paella__heap_contains(&items[i].node));
	}
	for (unsigned i = 1; i < N; i += 5) {
		if (!paella__heap_contains(&items[i].node))
			continue;
		items[i].key = items[i].key % 2 ? items[i].key / 3 : items[i].key * 2;
		paella__heap_update(&h, &items[i].node);
	}
	while (paella__heap_top(&h) != NULL) {
		struct item *it = item_of(paella__heap_top(&h));

		ck_assert_uint_ge(it->key, last);
		last = it->key;
		paella__heap_remove(&h, &it->node);
	}
	ck_assert_uint_eq(h.size, 0);
	paella__heap_fini(&h);
	free(items);
}
END_TEST

/* ---- policies ------------------------------------------------------------------ */

static struct paella__sched_group groups[2];

static void
entity(struct paella__sched_entity *e, uint64_t seq, uint64_t remaining, uint64_t deadline,
       unsigned group)
{
	memset(e, 0, sizeof(*e));
	e->seq = seq;
	e->remaining_ns = remaining;
	e->deadline_ns = deadline;
	e->estimated = true;
	e->group = &groups[group];
	paella__heap_node_init(&e->node);
	paella__heap_node_init(&e->aux_node);
}

static struct paella__policy *
policy(enum paella_policy kind, uint64_t threshold)
{
	struct paella__policy_params pp = { threshold };
	struct paella__policy *p = NULL;

	memset(groups, 0, sizeof(groups));
	paella__heap_node_init(&groups[0].node);
	paella__heap_node_init(&groups[1].node);
	ck_assert_int_eq(paella__policy_create(kind, &pp, &p), PAELLA_STATUS_OK);
	return p;
}

static void
drop_groups(void)
{
	paella__heap_fini(&groups[0].members);
	paella__heap_fini(&groups[1].members);
}

/* Peeks and removes until empty; returns the order of seqs. */
static void
drain(struct paella__policy *p, uint64_t *order, unsigned n)
{
	struct paella__sched_clock clock = { 0, 0 };

	for (unsigned i = 0; i < n; i++) {
		struct paella__sched_entity *e = p->ops->peek(p, &clock);

		ck_assert_ptr_nonnull(e);
		order[i] = e->seq;
		p->ops->remove(p, e);
	}
	ck_assert_ptr_null(p->ops->peek(p, &clock));
}

PAELLA_TEST(policy_fifo_srpt_edf_orders)
{
	struct paella__sched_entity e[5];
	/* seq, remaining, deadline */
	static const uint64_t spec[5][3] = {
		{ 0, 500, UINT64_MAX }, { 1, 100, 900 }, { 2, 300, 200 },
		{ 3, 100, UINT64_MAX }, { 4, 50, 200 },
	};
	static const uint64_t fifo[5] = { 0, 1, 2, 3, 4 };
	static const uint64_t srpt[5] = { 4, 1, 3, 2, 0 };
	static const uint64_t edf[5] = { 2, 4, 1, 0, 3 };
	static const struct {
		enum paella_policy kind;
		const uint64_t *want;
	} cases[] = {
		{ PAELLA_POLICY_FIFO, fifo },
		{ PAELLA_POLICY_SRPT, srpt },
		{ PAELLA_POLICY_EDF, edf },
		/* Nobody has waited: FAIR is SRPT. */
		{ PAELLA_POLICY_FAIR, srpt },
	};

	for (unsigned c = 0; c < 4; c++) {
		struct paella__policy *p = policy(cases[c].kind, 1000);
		uint64_t order[5];

		for (unsigned i = 0; i < 5; i++) {
			entity(&e[i], spec[i][0], spec[i][1], spec[i][2], i % 2);
			ck_assert_int_eq(p->ops->insert(p, &e[i]), PAELLA_STATUS_OK);
		}
		drain(p, order, 5);
		for (unsigned i = 0; i < 5; i++)
			ck_assert_msg(order[i] == cases[c].want[i], "%s: position %u is %llu",
				      p->ops->name, i, (unsigned long long)order[i]);
		p->ops->destroy(p);
		drop_groups();
	}
}
END_TEST

PAELLA_TEST(policy_srpt_served_and_rekey)
{
	struct paella__policy *p = policy(PAELLA_POLICY_SRPT, 0);
	struct paella__sched_clock clock = { 0, 0 };
	struct paella__sched_entity a, b;

	entity(&a, 0, 100, UINT64_MAX, 0);
	entity(&b, 1, 200, UINT64_MAX, 0);
	p->ops->insert(p, &a);
	p->ops->insert(p, &b);
	ck_assert_ptr_eq(p->ops->peek(p, &clock), &a);
	/* b launched kernels: now shorter. */
	b.remaining_ns = 50;
	p->ops->served(p, &b, &clock);
	ck_assert_ptr_eq(p->ops->peek(p, &clock), &b);
	/* Estimates moved under both. */
	a.remaining_ns = 10;
	p->ops->rekey(p);
	ck_assert_ptr_eq(p->ops->peek(p, &clock), &a);
	p->ops->remove(p, &a);
	p->ops->remove(p, &b);
	p->ops->destroy(p);
	drop_groups();
}
END_TEST

PAELLA_SIGNAL_TEST(policy_srpt_refuses_unknown_estimate, SIGABRT)
{
	struct paella__policy *p = policy(PAELLA_POLICY_SRPT, 0);
	struct paella__sched_entity a, b;

	entity(&a, 0, 100, UINT64_MAX, 0);
	entity(&b, 1, 200, UINT64_MAX, 0);
	b.estimated = false;
	p->ops->insert(p, &a);
	/* Ordering b at all is a bug: it aborts. */
	p->ops->insert(p, &b);
}
END_TEST

PAELLA_TEST(policy_fair_serves_a_waiting_model)
{
	struct paella__policy *p = policy(PAELLA_POLICY_FAIR, 1000);
	struct paella__sched_clock clock = { 0, 0 };
	struct paella__sched_entity lng, shrt[3];

	/* Group 1 is one long job; group 0 short jobs that keep coming. */
	entity(&lng, 0, 100000, UINT64_MAX, 1);
	p->ops->insert(p, &lng);
	for (unsigned i = 0; i < 3; i++) {
		entity(&shrt[i], 1 + i, 100, UINT64_MAX, 0);
		p->ops->insert(p, &shrt[i]);
	}
	/* Short jobs are served while the long model waited < 1000 ns. */
	for (clock.gpu_ns = 0; clock.gpu_ns <= 1000; clock.gpu_ns += 100) {
		struct paella__sched_entity *e = p->ops->peek(p, &clock);

		ck_assert_ptr_ne(e, &lng);
		p->ops->served(p, e, &clock);
	}
	/* Past the threshold the long job goes, once. */
	ck_assert_ptr_eq(p->ops->peek(p, &clock), &lng);
	p->ops->served(p, &lng, &clock);
	ck_assert_ptr_ne(p->ops->peek(p, &clock), &lng);
	/* A group that leaves and comes back is not owed its absence. */
	p->ops->remove(p, &lng);
	clock.gpu_ns += 5000;
	lng.served_mark_ns = clock.gpu_ns;
	p->ops->insert(p, &lng);
	ck_assert_ptr_ne(p->ops->peek(p, &clock), &lng);
	for (unsigned i = 0; i < 3; i++)
		p->ops->remove(p, &shrt[i]);
	p->ops->remove(p, &lng);
	p->ops->destroy(p);
	drop_groups();
}
END_TEST

/* The original's knob: kernels owed per model, in share of dispatches. */
static unsigned
long_served_in(double threshold, unsigned dispatches)
{
	struct paella__policy_params pp = { 0, threshold };
	struct paella__policy *p = NULL;
	struct paella__sched_clock clock = { 0, 0 };
	struct paella__sched_entity lng, shrt;
	unsigned served = 0;

	memset(groups, 0, sizeof(groups));
	paella__heap_node_init(&groups[0].node);
	paella__heap_node_init(&groups[1].node);
	ck_assert_int_eq(paella__policy_create(PAELLA_POLICY_FAIR, &pp, &p), PAELLA_STATUS_OK);
	entity(&lng, 0, 100000, UINT64_MAX, 1);
	entity(&shrt, 1, 100, UINT64_MAX, 0);
	p->ops->insert(p, &lng);
	p->ops->insert(p, &shrt);
	for (unsigned i = 0; i < dispatches; i++) {
		struct paella__sched_entity *e = p->ops->peek(p, &clock);

		served += e == &lng;
		clock.gpu_ns += 100;
		p->ops->served(p, e, &clock);
	}
	p->ops->remove(p, &lng);
	p->ops->remove(p, &shrt);
	p->ops->destroy(p);
	drop_groups();
	return served;
}

PAELLA_TEST(policy_fair_deficit_knob)
{
	/* Two models: each dispatch of the short one owes the long one 1/2,
	 * each of its own takes 1/2 back.  Threshold 1: from the third
	 * dispatch on, every other; 10: after 20 dispatches of the short
	 * model, every other; huge: never. */
	ck_assert_uint_eq(long_served_in(1.0, 100), 49);
	ck_assert_uint_eq(long_served_in(10.0, 110), 45);
	ck_assert_uint_eq(long_served_in(1e9, 1000), 0);
	/* Monotonic in between. */
	ck_assert_uint_ge(long_served_in(3.0, 200), long_served_in(30.0, 200));
}
END_TEST

PAELLA_TEST(policy_unknown_kind)
{
	struct paella__policy_params pp = { 0 };
	struct paella__policy *p = (struct paella__policy *)1;

	ck_assert_int_eq(paella__policy_create((enum paella_policy)9, &pp, &p),
			 PAELLA_STATUS_INVALID_ARGUMENT);
	ck_assert_ptr_null(p);
}
END_TEST

PAELLA_CHECK_MAIN("policy", 0, NULL, NULL)
