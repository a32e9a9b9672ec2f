// UNIT_SOURCES: kernel/rcu/tree_geometry.c
// UNIT_CFLAGS: -Ikernel/rcu
// UNIT_TIMEOUT: 300
/*
 * test_rcu_tree.c — the pure parts of tree RCU's books.
 *
 *  1. Geometry, for every (CPUs 1..256, fanout 2..64, leaf 2..64): every
 *     CPU is in exactly one leaf, leaves hold at most `leaf` consecutive
 *     CPUs, every node has 1..fanout children whose ranges tile its own and
 *     whose grpmasks are distinct bits, parents come before children in the
 *     array, and the root covers every CPU.
 *  2. GP-init propagation: random qsmaskinitnext changes (CPUs going
 *     offline and online between grace periods), then init; every interior
 *     bit must say exactly whether that child's subtree waits for anyone,
 *     qsmask must equal qsmaskinit, and reporting every waited-for CPU must
 *     empty the root — and reporting all but one must not.
 *  3. gp_seq arithmetic across the wrap: start/end/snap/done with the
 *     counter crossing ULONG_MAX, and the injected `>=` must get it wrong.
 */
#include "host_shim.h"
#include <stdlib.h>
#include <string.h>
#include "tree.h"
#include "rcu_seq.h"

bool rcu_bug_seq_cmp;
static struct rcu_node nodes[RCU_MAX_NODES];

static void check_shape(unsigned int ncpus, unsigned int fan, unsigned int leaf)
{
	struct rcu_tree_shape s;
	static unsigned char seen[NR_CPUS_MAX];

	if (rcu_tree_build(ncpus, fan, leaf, &s, nodes, RCU_MAX_NODES)) {
		CHECK_MSG(0, "cannot build %u CPUs fanout %u leaf %u", ncpus, fan, leaf);
		return;
	}
	memset(seen, 0, ncpus);
	unsigned int first = rcu_first_leaf(&s);

	if (nodes[0].grplo != 0 || nodes[0].grphi != ncpus - 1 || nodes[0].parent != -1) {
		CHECK_MSG(0, "root wrong for %u/%u/%u", ncpus, fan, leaf);
		return;
	}
	for (unsigned int i = 0; i < s.nr_nodes; i++) {
		struct rcu_node *n = &nodes[i];
		bool is_leaf = i >= first;

		if (n->parent >= (int)i || (i && n->parent < 0) || n->grplo > n->grphi) {
			CHECK_MSG(0, "node %u order/range wrong (%u/%u/%u)", i, ncpus, fan, leaf);
			return;
		}
		if (is_leaf) {
			if (n->grphi - n->grplo + 1 > leaf) {
				CHECK_MSG(0, "leaf %u too big", i);
				return;
			}
			for (unsigned int c = n->grplo; c <= n->grphi; c++) {
				seen[c]++;
				if (rcu_leaf_of_cpu(&s, c) != i) {
					CHECK_MSG(0, "CPU %u maps to leaf %u, not %u", c, rcu_leaf_of_cpu(&s, c), i);
					return;
				}
			}
			continue;
		}
		u64 bits = 0;

		if (!n->nr_children || n->nr_children > fan) {
			CHECK_MSG(0, "node %u has %u children (fanout %u)", i, n->nr_children, fan);
			return;
		}
		for (unsigned int k = 0; k < n->nr_children; k++) {
			struct rcu_node *c = &nodes[n->child_lo + k];

			if (c->parent != (int)i || (bits & c->grpmask) || c->level != n->level + 1 ||
			    c->grplo != (k ? nodes[n->child_lo + k - 1].grphi + 1 : n->grplo)) {
				CHECK_MSG(0, "child %u of node %u wrong (%u/%u/%u)", k, i, ncpus, fan, leaf);
				return;
			}
			bits |= c->grpmask;
		}
		if (nodes[n->child_lo + n->nr_children - 1].grphi != n->grphi) {
			CHECK_MSG(0, "children of %u do not reach its end", i);
			return;
		}
	}
	for (unsigned int c = 0; c < ncpus; c++)
		if (seen[c] != 1) {
			CHECK_MSG(0, "CPU %u in %u leaves (%u/%u/%u)", c, seen[c], ncpus, fan, leaf);
			return;
		}
}

/* The invariant GP init must leave, and qsmask == qsmaskinit. */
static bool books_consistent(const struct rcu_tree_shape *s)
{
	unsigned int first = rcu_first_leaf(s);

	for (unsigned int i = 0; i < s->nr_nodes; i++) {
		struct rcu_node *n = &nodes[i];

		if (n->qsmask != n->qsmaskinit)
			return false;
		if (i >= first) {
			if (n->qsmaskinit != n->qsmaskinitnext)
				return false;
			continue;
		}
		u64 want = 0;

		for (unsigned int k = 0; k < n->nr_children; k++)
			if (nodes[n->child_lo + k].qsmaskinit)
				want |= nodes[n->child_lo + k].grpmask;
		if (n->qsmaskinit != want)
			return false;
	}
	return true;
}

static void check_books(unsigned int ncpus, unsigned int fan, unsigned int leaf, unsigned int seed)
{
	struct rcu_tree_shape s;
	bool online[NR_CPUS_MAX] = { false };

	srand(seed);
	if (rcu_tree_build(ncpus, fan, leaf, &s, nodes, RCU_MAX_NODES))
		return;
	unsigned int first = rcu_first_leaf(&s);

	for (int round = 0; round < 60; round++) {
		/* Hotplug between grace periods: flip a few CPUs in the books. */
		for (int k = rand() % 4; k >= 0; k--) {
			unsigned int c = (unsigned int)rand() % ncpus;
			struct rcu_node *lf = &nodes[rcu_leaf_of_cpu(&s, c)];

			online[c] = !online[c];
			if (online[c])
				lf->qsmaskinitnext |= 1ULL << (c - lf->grplo);
			else
				lf->qsmaskinitnext &= ~(1ULL << (c - lf->grplo));
		}
		rcu_books_init_gp(&s, nodes, NULL, (unsigned long)round * 4 + 1);
		if (!books_consistent(&s)) {
			CHECK_MSG(0, "books inconsistent after init (%u/%u/%u round %d)", ncpus, fan, leaf, round);
			return;
		}
		/* Report every waited-for CPU in random order; the root empties
		 * with the last one and not before. */
		unsigned int order[NR_CPUS_MAX], n = 0;

		for (unsigned int c = 0; c < ncpus; c++)
			if (online[c])
				order[n++] = c;
		for (unsigned int i = n; i > 1; i--) {
			unsigned int j = (unsigned int)rand() % i, t = order[i - 1];

			order[i - 1] = order[j];
			order[j] = t;
		}
		for (unsigned int i = 0; i < n; i++) {
			unsigned int c = order[i];
			unsigned int lf = rcu_leaf_of_cpu(&s, c);
			bool done = rcu_books_report(nodes, lf, 1ULL << (c - nodes[lf].grplo));

			if (done != (i == n - 1)) {
				CHECK_MSG(0, "root emptied at report %u of %u (%u/%u/%u)", i, n, ncpus, fan, leaf);
				return;
			}
		}
		if (!n && nodes[0].qsmask) {
			CHECK_MSG(0, "nobody online, yet the GP waits");
			return;
		}
		(void)first;
	}
}

static void check_seq(void)
{
	unsigned long s = rcu_seq_from_ctr((unsigned long)-3);   /* 3 GPs before the wrap */

	for (int i = 0; i < 8; i++) {
		unsigned long idle_cookie = rcu_seq_snap(&s);

		CHECK(!rcu_seq_state(s));
		CHECK(idle_cookie == s + 4);
		CHECK(!rcu_seq_done(&s, idle_cookie));
		rcu_seq_start(&s);
		unsigned long run_cookie = rcu_seq_snap(&s);

		CHECK(rcu_seq_state(s) == 1);
		CHECK(run_cookie == s - 1 + 8);    /* the running GP is not enough */
		CHECK(rcu_seq_new_gp(s - 1, s));
		rcu_seq_end(&s);
		CHECK(rcu_seq_done(&s, idle_cookie));
		CHECK(!rcu_seq_done(&s, run_cookie));
		CHECK(ULONG_CMP_LT(idle_cookie, run_cookie));
		CHECK(ULONG_CMP_GE(run_cookie, idle_cookie));
	}
	CHECK(rcu_seq_ctr(s) == 5);   /* crossed zero */
	/* A cookie taken after the wrap vs a counter just before it. */
	unsigned long before = rcu_seq_from_ctr((unsigned long)-1), after = rcu_seq_from_ctr(1);

	CHECK(!rcu_seq_done_val(before, after));
	rcu_bug_seq_cmp = true;
	CHECK(rcu_seq_done_val(before, after));   /* the injected bug: wrong */
	rcu_bug_seq_cmp = false;
}

int main(void)
{
	check_seq();
	for (unsigned int ncpus = 1; ncpus <= NR_CPUS_MAX; ncpus++)
		for (unsigned int fan = RCU_FANOUT_MIN; fan <= RCU_FANOUT_MAX; fan++)
			for (unsigned int leaf = RCU_FANOUT_MIN; leaf <= RCU_FANOUT_MAX; leaf++)
				check_shape(ncpus, fan, leaf);
	/* Bad parameters are refused. */
	struct rcu_tree_shape s;

	CHECK(rcu_tree_build(8, 1, 2, &s, nodes, RCU_MAX_NODES) < 0);
	CHECK(rcu_tree_build(8, 2, 65, &s, nodes, RCU_MAX_NODES) < 0);
	CHECK(rcu_tree_build(0, 2, 2, &s, nodes, RCU_MAX_NODES) < 0);
	/* 8 CPUs, fanout 2, leaf 2: three levels above the leaves... 4+2+1. */
	CHECK(!rcu_tree_build(8, 2, 2, &s, nodes, RCU_MAX_NODES) && s.levels == 3 && s.nr_nodes == 7);
	unsigned int seed = 1;
	for (unsigned int ncpus = 1; ncpus <= NR_CPUS_MAX; ncpus += (ncpus < 20 ? 1 : 13))
		for (unsigned int fan = 2; fan <= 64; fan += (fan < 4 ? 1 : 15))
			for (unsigned int leaf = 2; leaf <= 64; leaf += (leaf < 4 ? 1 : 15))
				check_books(ncpus, fan, leaf, seed++);
	return host_test_result("test_rcu_tree");
}
