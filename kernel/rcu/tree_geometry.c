/*
 * tree_geometry.c — the shape of the rcu_node tree and the pure halves of
 * the books: how grace-period init turns who-is-online into who-to-wait-for,
 * and how a quiescent-state report climbs the tree.
 *
 * Shape. With L = rcu.fanout_leaf and F = rcu.fanout, CPUs are cut into
 * leaves of L consecutive CPUs (ceil(nr_cpus / L) leaves); each level above
 * groups F consecutive nodes of the level below, until one node is left.
 * Nodes are stored breadth-first, root first, so "for each node in index
 * order" visits every parent before its children (GP init needs exactly
 * that) and a level is a contiguous slice of the array.
 *
 * Propagation (GP init, phase 1). A leaf's qsmaskinit becomes its
 * qsmaskinitnext. If that changed the leaf from empty to non-empty (or
 * back), its bit in the parent's qsmaskinit is set (cleared), and if that
 * in turn changed the parent's emptiness, the grandparent's — and so on.
 * Afterwards, for every interior node, bit c of qsmaskinit is set exactly
 * when child c has a non-empty qsmaskinit: the invariant the unit test
 * checks after every random change.
 *
 * Phase 2 (rcu_books_arm) copies qsmaskinit into qsmask, parents first, so
 * that a report climbing from a leaf always finds its parent already armed.
 * Test: tests/unit/test_rcu_tree.c (every (CPUs, fanout, leaf) up to 256).
 */
#include "tree.h"

int rcu_tree_build(unsigned int nr_cpus, unsigned int fanout, unsigned int fanout_leaf,
		   struct rcu_tree_shape *s, struct rcu_node *nodes, unsigned int max_nodes)
{
	unsigned int cnt[RCU_MAX_LEVELS], levels = 0, n, total = 0;

	if (!nr_cpus || nr_cpus > NR_CPUS_MAX || fanout < RCU_FANOUT_MIN || fanout > RCU_FANOUT_MAX ||
	    fanout_leaf < RCU_FANOUT_MIN || fanout_leaf > RCU_FANOUT_MAX)
		return -1;
	/* Level sizes from the leaves up. */
	n = (nr_cpus + fanout_leaf - 1) / fanout_leaf;
	for (;;) {
		if (levels == RCU_MAX_LEVELS)
			return -1;
		cnt[levels++] = n;
		total += n;
		if (n == 1)
			break;
		n = (n + fanout - 1) / fanout;
	}
	if (total > max_nodes)
		return -1;
	s->nr_cpus = nr_cpus;
	s->fanout = fanout;
	s->fanout_leaf = fanout_leaf;
	s->levels = levels;
	s->nr_nodes = total;
	/* Reverse: level 0 is the root. */
	for (unsigned int l = 0, first = 0; l < levels; l++) {
		s->level_cnt[l] = cnt[levels - 1 - l];
		s->level_first[l] = first;
		first += s->level_cnt[l];
	}
	for (unsigned int l = 0; l < levels; l++) {
		for (unsigned int i = 0; i < s->level_cnt[l]; i++) {
			struct rcu_node *rn = &nodes[s->level_first[l] + i];

			rn->level = l;
			rn->gp_seq = rn->gp_seq_needed = 0;
			rn->qsmask = rn->qsmaskinit = rn->qsmaskinitnext = 0;
			if (l == 0) {
				rn->parent = -1;
				rn->grpnum = 0;
				rn->grpmask = 0;
			} else {
				rn->parent = (int)(s->level_first[l - 1] + i / fanout);
				rn->grpnum = i % fanout;
				rn->grpmask = 1ULL << rn->grpnum;
			}
			if (l == levels - 1) {
				rn->grplo = i * fanout_leaf;
				rn->grphi = MIN(nr_cpus, (i + 1) * fanout_leaf) - 1;
				rn->child_lo = 0;
				rn->nr_children = 0;
			} else {
				unsigned int below = s->level_cnt[l + 1];

				rn->child_lo = s->level_first[l + 1] + i * fanout;
				rn->nr_children = MIN(below, (i + 1) * fanout) - i * fanout;
			}
		}
	}
	/* CPU ranges of interior nodes, from the leaves up. */
	for (int l = (int)levels - 2; l >= 0; l--)
		for (unsigned int i = 0; i < s->level_cnt[l]; i++) {
			struct rcu_node *rn = &nodes[s->level_first[l] + i];

			rn->grplo = nodes[rn->child_lo].grplo;
			rn->grphi = nodes[rn->child_lo + rn->nr_children - 1].grphi;
		}
	return 0;
}

unsigned int rcu_leaf_of_cpu(const struct rcu_tree_shape *s, unsigned int cpu)
{
	return rcu_first_leaf(s) + cpu / s->fanout_leaf;
}

void rcu_books_propagate(const struct rcu_tree_shape *s, struct rcu_node *nodes, const u64 *src)
{
	unsigned int first = rcu_first_leaf(s);

	for (unsigned int i = 0; i < s->level_cnt[s->levels - 1]; i++) {
		struct rcu_node *rn = &nodes[first + i];
		u64 next = src ? src[i] : rn->qsmaskinitnext;
		bool was_empty = !rn->qsmaskinit;

		rn->qsmaskinit = next;
		if (was_empty == !next)
			continue;
		/* Emptiness changed: tell the ancestors, as far as it matters. */
		for (struct rcu_node *c = rn; c->parent >= 0;) {
			struct rcu_node *p = &nodes[c->parent];
			bool p_was_empty = !p->qsmaskinit;

			if (c->qsmaskinit)
				p->qsmaskinit |= c->grpmask;
			else
				p->qsmaskinit &= ~c->grpmask;
			if (p_was_empty == !p->qsmaskinit)
				break;
			c = p;
		}
	}
}

void rcu_books_init_gp(const struct rcu_tree_shape *s, struct rcu_node *nodes,
		       const u64 *src, unsigned long gp_seq)
{
	rcu_books_propagate(s, nodes, src);
	for (unsigned int i = 0; i < s->nr_nodes; i++)
		rcu_books_arm(&nodes[i], gp_seq);
}

bool rcu_books_report(struct rcu_node *nodes, unsigned int n, u64 mask)
{
	for (;;) {
		struct rcu_node *rn = &nodes[n];

		if (!(rn->qsmask & mask))
			return false;        /* already reported */
		rn->qsmask &= ~mask;
		if (rn->qsmask)
			return false;
		if (rn->parent < 0)
			return true;
		mask = rn->grpmask;
		n = (unsigned int)rn->parent;
	}
}
