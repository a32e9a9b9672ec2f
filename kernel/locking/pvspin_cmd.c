/*
 * pvspin_cmd.c — the shell's `pvspin`: show the paravirt spinlock backend and
 * why it was chosen; `pvspin off|ipi|kvm` switches it live (`native` is `off`)
 * (pv_spinlock_switch(), pv_switch.c).
 * Tests: scenarios locking-pv-switch, locktorture-pv-switch.
 */
#include <grace/printk.h>
#include <grace/qspinlock_pv.h>
#include <grace/shell.h>

static int cmd_pvspin(int argc, char **argv)
{
	enum pv_backend b;

	if (argc == 1) {
		printk("pvspin: backend %s (%s)\n", pv_lock_ops.name, pv_spinlock_reason);
		return 0;
	}
	if (argc != 2)
		goto usage;
	if (pv_backend_parse(argv[1], &b))
		goto usage;
	if (pv_spinlock_switch(b))
		return SHELL_CMD_FAILED;
	printk("pvspin: backend %s (%s)\n", pv_lock_ops.name, pv_spinlock_reason);
	return 0;
usage:
	return 1;   /* the shell prints the usage line */
}
SHELL_COMMAND(pvspin, "pvspin", "pvspin [off|ipi|kvm]",
	      "show the paravirt spinlock backend, or switch it live", cmd_pvspin);
