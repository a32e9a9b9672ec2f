/*
 * nmi.h — the NMI handler list (kernel/nmi_handlers.c).
 *
 * Every NMI walks the list of registered nmiactions under RCU; a handler
 * returns how many events it handled (0: not its NMI). Registration and
 * removal take a spinlock; removal then sleeps: unregister_nmi_handler() returns only
 * after a grace period, when no CPU can still be running the handler or
 * reading the nmiaction — the caller may then free it. The usage pattern
 * is "RCU instead of a lock for a list read in NMI context" (McKenney et
 * al., "RCU in the Linux Kernel: One Decade Later": NMI handler lists).
 */
#ifndef GRACE_NMI_H
#define GRACE_NMI_H

#include <grace/list.h>
#include <grace/types.h>

struct pt_regs;

struct nmiaction {
	struct list_head list;
	int (*handler)(struct pt_regs *regs, struct nmiaction *a);
	const char *name;
};

void register_nmi_handler(struct nmiaction *a);
void unregister_nmi_handler(struct nmiaction *a);   /* sleeps: a GP */
int nmi_handle_list(struct pt_regs *regs);          /* from the NMI: events handled */

#endif
