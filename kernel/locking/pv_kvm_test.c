/*
 * pv_kvm_test.c — ktest locking.kvm_nmi_kick: a kick sent to a CPU that has
 * looked at its lock and is about to halt with interrupts off must still
 * wake it. Under a working KVM the hypervisor remembers such a kick; in the
 * fallback (the kick hypercall faulted: IPI + NMI) nothing remembers an NMI,
 * so pv_kvm.c's latch does. Deterministic: in each round CPU a disables
 * interrupts, says it is armed, dawdles 2 ms (its "last look at the lock"
 * is over) and halts through the KVM backend's halt; this CPU kicks it in
 * the middle of the dawdle and waits 200 ms for it to wake. A CPU that does
 * not wake is rescued with further NMIs and counted as a lost kick.
 * Without a KVM backend (boot with pvspin.kvm_force=1 pvspin.kvm_noprobe=1
 * under TCG to get the fallback) there is nothing to check.
 * Scenario pvspin-kvm-nmi-kick; mutant 50 (the kicker skips the latch).
 *
 * ktest locking.kvm_nmi_fixup: the other half, which no timing can aim at
 * (an NMI between the latch check and the hlt): pv_kvm_nmi_fixup() sends
 * an NMI frame whose RIP is anywhere from the check to the hlt itself past
 * the hlt, and leaves every other RIP alone. Runs everywhere (ktest-all).
 */
#include <asm/ptrace.h>
#include <grace/cpumask.h>
#include <grace/delay.h>
#include <grace/irq.h>
#include <grace/ktest.h>
#include <grace/kthread.h>
#include <grace/nmi.h>
#include <grace/printk.h>
#include <grace/pv_kvm.h>
#include <grace/qspinlock_pv.h>
#include <grace/sched.h>
#include <grace/smp.h>
#include <grace/time.h>

#define KK_ROUNDS 20

static const struct pv_lock_ops *kk_ops;
static int kk_go, kk_armed, kk_woke;

static int kk_sleeper(void *arg)
{
	int seen = 0;

	(void)arg;
	while (!kthread_should_stop()) {
		int n = __atomic_load_n(&kk_go, __ATOMIC_ACQUIRE);
		unsigned long flags;

		if (n == seen) {
			msleep(1);
			continue;
		}
		seen = n;
		flags = local_irq_save();
		__atomic_store_n(&kk_armed, n, __ATOMIC_SEQ_CST);
		mdelay(2);                   /* the kick lands in here */
		kk_ops->halt(false);         /* interrupts off: only the kick ends it */
		__atomic_store_n(&kk_woke, n, __ATOMIC_SEQ_CST);
		local_irq_restore(flags);
	}
	return 0;
}

static bool kk_wait(const int *p, int n, unsigned int ms)
{
	u64 end = ktime_get_ns() + (u64)ms * 1000000ULL;

	while (__atomic_load_n(p, __ATOMIC_ACQUIRE) != n)
		if (ktime_get_ns() > end)
			return false;
	return true;
}

KTEST(kvm_nmi_kick, "locking.kvm_nmi_kick")
{
	unsigned int a;
	struct task_struct *k;
	struct cpumask saved;
	int lost = 0, rescued = 0;

	kk_ops = pv_backend_ops(PV_KVM);
	if (!kk_ops) {
		printk("locking.kvm_nmi_kick: no KVM backend here: nothing to check\n");
		return;
	}
	a = ktest_pin_pick_other(&saved);
	if (a >= nr_cpu_ids) {
		printk("locking.kvm_nmi_kick: one CPU: nothing to check\n");
		return;
	}
	kk_go = kk_armed = kk_woke = 0;
	k = kthread_create(kk_sleeper, NULL, "kvmkick");
	KTEST_EXPECT(k != NULL);
	if (!k) {
		ktest_unpin(&saved);
		return;
	}
	kthread_bind(k, a);
	wake_up_process(k);
	for (int n = 1; n <= KK_ROUNDS; n++) {
		__atomic_store_n(&kk_go, n, __ATOMIC_RELEASE);
		if (!kk_wait(&kk_armed, n, 1000)) {
			KTEST_EXPECT_MSG(false, "CPU %u never armed round %d", a, n);
			break;
		}
		udelay(500);                 /* CPU a is inside its 2 ms dawdle */
		kk_ops->kick((int)a);
		if (kk_wait(&kk_woke, n, 200))
			continue;
		lost++;
		for (int i = 0; i < 100 && !kk_wait(&kk_woke, n, 10); i++)
			smp_send_nmi(a);     /* the rescue: an NMI now that it is in hlt */
		rescued += __atomic_load_n(&kk_woke, __ATOMIC_ACQUIRE) == n;
	}
	kthread_stop(k);
	ktest_unpin(&saved);
	printk("locking.kvm_nmi_kick: %d rounds, backend %s: %d kicks lost before the halt "
	       "(%d of them rescued)\n", KK_ROUNDS, kk_ops->name, lost, rescued);
	KTEST_EXPECT_MSG(lost == 0, "a kick sent while CPU %u was about to halt with interrupts off "
			 "did not wake it (%d of %d rounds): the NMI came before the hlt and nothing "
			 "remembered it", a, lost, KK_ROUNDS);
}

KTEST(kvm_nmi_fixup, "locking.kvm_nmi_fixup")
{
	const u64 win = (u64)kvm_nmi_halt_window, hlt = (u64)kvm_nmi_halt_hlt;
	const u64 done = (u64)kvm_nmi_halt_done;
	struct pt_regs r;

	KTEST_EXPECT_MSG(win < hlt && hlt + 1 == done, "window %#llx, hlt %#llx, done %#llx",
			 (unsigned long long)win, (unsigned long long)hlt, (unsigned long long)done);
	KTEST_EXPECT_MSG(*(const u8 *)hlt == 0xf4, "kvm_nmi_halt_hlt holds %#x, not hlt",
			 *(const u8 *)hlt);
	for (u64 rip = win - 1; rip <= done; rip++) {
		bool inside = rip >= win && rip <= hlt;
		bool moved;

		r.rip = rip;
		moved = pv_kvm_nmi_fixup(&r);
		KTEST_EXPECT_MSG(moved == inside && r.rip == (inside ? done : rip),
				 "an NMI at %#llx (window %#llx..%#llx) returned to %#llx",
				 (unsigned long long)rip, (unsigned long long)win, (unsigned long long)hlt,
				 (unsigned long long)r.rip);
	}
}
