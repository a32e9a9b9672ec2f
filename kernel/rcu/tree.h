/*
 * tree.h — tree RCU's data: one rcu_state, a breadth-first array of
 * rcu_nodes, one rcu_data per CPU (kernel/rcu/tree.c is the algorithm).
 *
 *   rcu.fanout=2 rcu.fanout_leaf=2, 8 CPUs:           node[0] CPUs 0-7    level 0
 *                                                   /        \
 *                                        node[1] 0-3          node[2] 4-7   level 1
 *                                         /     \              /     \
 *                                  node[3] 0-1 node[4] 2-3 node[5] 4-5 node[6] 6-7  leaves
 *                                  bit0=CPU0 bit1=CPU1 ...
 *
 * Each node has three masks over its children (CPUs for a leaf):
 *   qsmaskinitnext  leaves only: CPUs RCU counts as online. CPU hotplug
 *                   edits it, under rcu_state.ofl_lock and the leaf's lock.
 *   qsmaskinit      who the NEXT grace period waits for; copied from
 *                   qsmaskinitnext (leaves) and propagated up (a parent's
 *                   bit is set iff that child's qsmaskinit is non-zero) by
 *                   grace-period init only.
 *   qsmask          who the CURRENT grace period still waits for: set to
 *                   qsmaskinit breadth-first at init, cleared bit by bit by
 *                   quiescent-state reports; a node whose qsmask empties
 *                   clears its bit in its parent. Root empty = GP over.
 * The pure parts (the shape, the mask propagation) are rcu_tree_build()
 * and rcu_books_*() in tree_geometry.c, host-tested in test_rcu_tree.c.
 */
#ifndef GRACE_RCU_TREE_H
#define GRACE_RCU_TREE_H

#include <grace/cpumask_limits.h>
#include <grace/rcupdate.h>
#include <grace/spinlock.h>
#include <grace/types.h>

#include "rcu_segcblist.h"

#define RCU_FANOUT_MIN 2
#define RCU_FANOUT_MAX 64
#define RCU_MAX_LEVELS 9                 /* 256 CPUs, leaf 2, fanout 2: 8 */
#define RCU_MAX_NODES  NR_CPUS_MAX       /* a tree with >= 2 children per node */

struct rcu_node {
	spinlock_t lock;             /* qsmask, gp_seq, qsmaskinitnext (with ofl_lock) */
	unsigned long gp_seq;        /* the GP this node has been initialized for */
	unsigned long gp_seq_needed; /* root: the furthest GP anyone asked for */
	u64 qsmask;
	u64 qsmaskinit;
	u64 qsmaskinitnext;
	u64 expmask;                 /* leaves: CPUs the running expedited GP waits for */
	u64 expmaskinit;             /* leaves: the books as that expedited GP found them */
	u64 grpmask;                 /* this node's bit in its parent */
	int parent;                  /* index, -1 for the root */
	unsigned int level;
	unsigned int grpnum;         /* bit number in the parent */
	unsigned int grplo, grphi;   /* CPUs covered, inclusive */
	unsigned int child_lo, nr_children;   /* first child's index / count (interior) */
};

struct rcu_tree_shape {
	unsigned int nr_cpus, fanout, fanout_leaf;
	unsigned int levels;
	unsigned int nr_nodes;
	unsigned int level_first[RCU_MAX_LEVELS];
	unsigned int level_cnt[RCU_MAX_LEVELS];
};

/* tree_geometry.c: pure functions. */
int rcu_tree_build(unsigned int nr_cpus, unsigned int fanout, unsigned int fanout_leaf,
		   struct rcu_tree_shape *shape, struct rcu_node *nodes, unsigned int max_nodes);
static inline unsigned int rcu_first_leaf(const struct rcu_tree_shape *s)
{
	return s->level_first[s->levels - 1];
}
unsigned int rcu_leaf_of_cpu(const struct rcu_tree_shape *s, unsigned int cpu);
/* GP init, phase 1: each leaf's qsmaskinit from `src[leaf - first_leaf]`
 * (its qsmaskinitnext when src is NULL), emptiness propagated upward. */
void rcu_books_propagate(const struct rcu_tree_shape *s, struct rcu_node *nodes, const u64 *src);
/* GP init, phase 2 for one node: arm it for grace period `gp_seq`. */
static inline void rcu_books_arm(struct rcu_node *n, unsigned long gp_seq)
{
	n->qsmask = n->qsmaskinit;
	n->gp_seq = gp_seq;
}
/* Both phases for the whole tree (the host test; tree.c does phase 2 under
 * each node's lock). */
void rcu_books_init_gp(const struct rcu_tree_shape *s, struct rcu_node *nodes,
		       const u64 *src, unsigned long gp_seq);
/* Clear `mask` in node n and up the tree as nodes empty; true if the root
 * emptied (the grace period is complete). Pure: tree.c does the same walk
 * taking each node's lock. */
bool rcu_books_report(struct rcu_node *nodes, unsigned int n, u64 mask);

struct rcu_data {
	unsigned int cpu;
	struct rcu_node *mynode;     /* leaf */
	u64 grpmask;                 /* bit in the leaf */
	unsigned long gp_seq;        /* last GP this CPU has noticed (leaf's gp_seq) */
	bool cpu_no_qs;              /* no QS yet in the GP noticed */
	bool core_needs_qs;          /* that GP waits for this CPU */
	bool beenonline;             /* has ever been online (rcu_barrier) */
	bool rcu_online;             /* in RCU's books: bit set in qsmaskinitnext */
	bool exp_need_qs;            /* the expedited GP waits for this CPU */

	/* Idle as an extended quiescent state: odd = RCU watches this CPU. */
	int dynticks;                /* atomic */
	long dynticks_nmi_nesting;   /* irq/NMI levels; 1 = the outermost made RCU watch */
	int dynticks_snap;           /* FQS's first look in this GP */
	unsigned long dynticks_snap_gp;

	struct rcu_segcblist cblist; /* this CPU only, interrupts off */
	long blimit;                 /* callbacks per batch now */
	unsigned long n_cbs_invoked;
	unsigned long n_cbs_adopted, n_cbs_orphaned;
	unsigned long n_qs_reported, n_fqs_reported;
	long qlen_hiwater;           /* longest list seen */

	struct rcu_head barrier_head;
	unsigned long barrier_seq_snap;
};

struct rcu_state {
	struct rcu_tree_shape shape;
	struct rcu_node node[RCU_MAX_NODES];
	unsigned long gp_seq;        /* the authority; written by the GP kthread */
	unsigned int gp_flags;       /* RCU_GP_FLAG_* under the root's lock */
	spinlock_t ofl_lock;         /* hotplug's qsmaskinitnext edits vs GP init */
	struct task_struct *gp_kthread;
	unsigned int gp_state;       /* RCU_GP_* for `rcu` and GDB */
	u64 gp_start_ns;
	u64 gp_asked_ns;             /* when the next GP was asked for (stall check) */
	u64 gp_last_ns, gp_max_ns;   /* duration of the last / longest GP */
	unsigned long n_fqs;
	unsigned int fqs_sleep_cpu;  /* where the kthread armed its FQS timer */
	u64 fqs_wake_jiffies;        /* when that timer is due */
	unsigned long n_gps_started;

	/* rcu_barrier */
	spinlock_t barrier_lock;
	unsigned long barrier_sequence;
	int barrier_cpu_count;       /* atomic */
	unsigned long n_barrier_cbs;
};

#define RCU_GP_FLAG_INIT 0x1         /* a new grace period is wanted */
#define RCU_GP_FLAG_FQS  0x2         /* force quiescent states now */

enum { RCU_GP_IDLE, RCU_GP_INIT, RCU_GP_WAIT_FQS, RCU_GP_FQS, RCU_GP_CLEANUP };

extern struct rcu_state rcu_state;

#endif

/* ---- inside kernel/rcu (tree.c, tree_hotplug.c, rcu_bugs.c, rcu_shell.c) ---- */
#include <grace/percpu.h>
DECLARE_PER_CPU(struct rcu_data, rcu_data);
extern int rcu_blimit;
void rcu_report_qs_rnp(u64 mask, struct rcu_node *rnp, unsigned long gp_seq, unsigned long flags);
bool rcu_accelerate_cbs(struct rcu_node *rnp, struct rcu_data *rdp, unsigned long *need);
void rcu_start_this_gp(unsigned long s);
void rcu_barrier_entrain(struct rcu_data *rdp);
void rcutree_register_hotplug(void);   /* tree_hotplug.c */
void rcutree_migrate_callbacks(unsigned int cpu);
void rcutree_report_cpu_dead(void);

/* tree_exp.c */
void rcu_exp_cpu_qs(struct rcu_data *rdp);         /* a QS, if an expedited GP wants one */
void rcu_exp_cpu_offline(struct rcu_data *rdp);    /* from rcutree_report_cpu_dead */

/* tree_stall.c */
void rcu_check_gp_stall(void);
void rcu_check_self_stall(struct rcu_data *rdp);

/* rcu_bugs.c */
extern bool rcu_bug_gp_init_online_mask, rcu_bug_late_cb_migration, rcu_bug_cbs_left_on_dead;
extern bool rcu_bug_barrier_never_online, rcu_bug_barrier_hotplug_lock, rcu_bug_nmi_idle;
extern bool rcu_bug_exp_online_mask, rcu_bug_no_hiwater;
u64 rcu_bug_online_leaf_mask(const struct rcu_node *lf);
void rcu_bug_online_leaf_masks(const struct rcu_tree_shape *s, const struct rcu_node *nodes, u64 *src);
void rcu_bugs_announce(void);

/* Hotplug "last gasps": run on the outgoing CPU inside a reader, after it
 * left the online mask and before RCU's report (rcutorture installs one). */
extern void (*rcu_last_gasp_reader)(unsigned int delay_ms);

/* rcu_shell.c: every other online CPU runs a kernel thread that never sleeps
 * (on) or no more (off); `rcu gp N busy` and bench=rcu use it. */
void rcu_busy_start(bool on);
