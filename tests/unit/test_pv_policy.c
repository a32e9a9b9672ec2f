// UNIT_SOURCES: kernel/locking/pv_policy.c
/*
 * test_pv_policy.c — the pure parts of the queued spinlock and its
 * paravirt choice, checked exhaustively on the host:
 *  - the lock word: tail encode/decode for every CPU and nesting index,
 *    the (tail, pending, locked) layout and the byte/half-word views;
 *  - the hypervisor signature parser (CPUID register order);
 *  - the `pvspin=auto` policy for every combination of signature (none,
 *    KVM, another hypervisor), PV_UNHALT, REALTIME hint and CPU count,
 *    with fake CPUID facts;
 *  - the KVM_HC_KICK_CPU register set-up (vmcall vs vmmcall);
 *  - the locktorture.bug= name parser.
 * main() returns 0 when everything holds.
 */
#include <stdio.h>
#include <string.h>

#include <grace/qspinlock.h>
#include <grace/pv_policy.h>
#include <grace/qspinlock_lab.h>
#include <grace/qspinlock_pv.h>

#include "check.h"

static void test_lock_word(void)
{
	struct qspinlock q;

	for (unsigned int cpu = 0; cpu < NR_CPUS_MAX; cpu++) {
		for (unsigned int idx = 0; idx < _Q_MAX_NODES; idx++) {
			u32 t = qspinlock_encode_tail(cpu, idx);

			CHECK(t != 0, "tail of (%u,%u) is 0", cpu, idx);
			CHECK((t & ~_Q_TAIL_MASK) == 0, "tail %#x spills out of the tail bits", t);
			CHECK(qspinlock_tail_cpu(t) == cpu && qspinlock_tail_idx(t) == idx,
			      "tail %#x decodes to (%u,%u), not (%u,%u)", t,
			      qspinlock_tail_cpu(t), qspinlock_tail_idx(t), cpu, idx);
		}
	}
	/* The largest CPU the 14-bit field can name. */
	u32 top = qspinlock_encode_tail(_Q_MAX_CPUS - 1, 3);
	CHECK(top == 0xffff0000U, "top tail %#x", top);
	CHECK(qspinlock_tail_cpu(top) == _Q_MAX_CPUS - 1, "top cpu");

	/* Field layout as documented in qspinlock.h. */
	CHECK(_Q_LOCKED_MASK == 0xff && _Q_PENDING_MASK == 0x100, "low fields");
	CHECK((_Q_TAIL_MASK & _Q_LOCKED_PENDING_MASK) == 0, "masks overlap");
	CHECK(_Q_TAIL_MASK == 0xffff0000U, "tail mask %#x", _Q_TAIL_MASK);
	CHECK(qspinlock_encode_tail(0, 0) == 0x00040000U, "(0,0) %#x", qspinlock_encode_tail(0, 0));
	CHECK(qspinlock_encode_tail(0, 1) == 0x00050000U, "(0,1) %#x", qspinlock_encode_tail(0, 1));
	CHECK(qspinlock_encode_tail(1, 0) == 0x00080000U, "(1,0) %#x", qspinlock_encode_tail(1, 0));
	CHECK(qspinlock_word(0, false, _Q_LOCKED_VAL) == 1, "0,0,1");
	CHECK(qspinlock_word(0, true, 0) == _Q_PENDING_VAL, "0,1,0");
	CHECK(qspinlock_word(qspinlock_encode_tail(2, 3), true, _Q_SLOW_VAL) == 0x000f0103U,
	      "n,1,3 = %#x", qspinlock_word(qspinlock_encode_tail(2, 3), true, _Q_SLOW_VAL));

	/* The byte and half-word views see the same word. */
	q.val = qspinlock_word(qspinlock_encode_tail(7, 2), true, _Q_LOCKED_VAL);
	CHECK(q.locked == 1 && q.pending == 1, "byte views %u %u", q.locked, q.pending);
	CHECK(q.locked_pending == 0x0101, "locked_pending %#x", q.locked_pending);
	CHECK(q.tail == (qspinlock_encode_tail(7, 2) >> 16), "tail half %#x", q.tail);
	q.locked_pending = _Q_LOCKED_VAL;   /* *,1,0 -> *,0,1 in one store */
	CHECK(q.val == (qspinlock_encode_tail(7, 2) | 1), "after clear_pending_set_locked %#x", q.val);
	CHECK(sizeof(struct qspinlock) == 4, "qspinlock is %zu bytes", sizeof(struct qspinlock));
}

static void test_signature(void)
{
	char sig[13];

	/* Linux Documentation/virt/kvm/x86/cpuid.rst: ebx, ecx, edx. */
	pv_signature_from_regs(sig, 0x4b4d564b, 0x564b4d56, 0x4d);
	CHECK(!strcmp(sig, "KVMKVMKVM"), "sig \"%s\"", sig);
	CHECK(pv_signature_is_kvm(sig), "KVM not recognised");
	pv_signature_from_regs(sig, 0x54474354, 0x43544743, 0x47435447);
	CHECK(!strcmp(sig, "TCGTCGTCGTCG"), "sig \"%s\"", sig);
	CHECK(!pv_signature_is_kvm(sig), "TCG taken for KVM");
	memcpy(sig, "KVMKVMKVMKVM", 13);
	CHECK(!pv_signature_is_kvm(sig), "KVM prefix with junk tail accepted");
	pv_signature_from_regs(sig, 0, 0, 0);
	CHECK(sig[0] == 0 && !pv_signature_is_kvm(sig), "empty signature");
}

enum hv { HV_NONE, HV_KVM, HV_OTHER };

/* The policy restated independently, to compare against pv_choose(). */
static enum pv_backend expected(enum hv hv, bool unhalt, bool rt, unsigned int cpus)
{
	if (cpus <= 1)
		return PV_NATIVE;
	if (hv == HV_KVM)
		return rt ? PV_NATIVE : unhalt ? PV_KVM : PV_IPI;
	return hv == HV_OTHER ? PV_IPI : PV_NATIVE;
}

static void test_policy(void)
{
	static const unsigned int cpu_counts[] = { 0, 1, 2, 8, 255 };
	static const char *const hv_names[] = { "bare metal", "KVM", "other hypervisor" };
	int combos = 0;

	for (int hv = HV_NONE; hv <= HV_OTHER; hv++)
	for (int unhalt = 0; unhalt <= 1; unhalt++)
	for (int rt = 0; rt <= 1; rt++)
	for (size_t c = 0; c < sizeof(cpu_counts) / sizeof(cpu_counts[0]); c++) {
		struct pv_cpuid_facts f;
		char why[96] = "";
		unsigned int cpus = cpu_counts[c];

		memset(&f, 0, sizeof(f));
		f.hypervisor = hv != HV_NONE;
		if (hv == HV_KVM) {
			pv_signature_from_regs(f.signature, 0x4b4d564b, 0x564b4d56, 0x4d);
			f.kvm = true;
		} else if (hv == HV_OTHER) {
			memcpy(f.signature, "TCGTCGTCGTCG", 13);
		}
		/* The bits are set even where they mean nothing (not KVM): the
		 * policy must only believe them from KVM. */
		f.kvm_features = unhalt ? 1U << KVM_FEATURE_PV_UNHALT : 0;
		f.kvm_hints = rt ? 1U << KVM_HINTS_REALTIME : 0;

		enum pv_backend got = pv_choose(&f, cpus, why, sizeof(why));
		enum pv_backend want = expected((enum hv)hv, unhalt, rt, cpus);

		CHECK(got == want, "%s unhalt=%d realtime=%d cpus=%u: got %s, want %s (%s)",
		      hv_names[hv], unhalt, rt, cpus, pv_backend_name(got),
		      pv_backend_name(want), why);
		CHECK(why[0] != 0, "no reason given");
		combos++;
	}
	CHECK(combos == 3 * 2 * 2 * 5, "%d combinations", combos);

	/* Explicit rows, as documented in docs/locking.md. */
	struct pv_cpuid_facts kvm = { .hypervisor = true, .kvm = true,
				      .kvm_features = 1U << KVM_FEATURE_PV_UNHALT };
	char why[96];
	CHECK(pv_choose(&kvm, 4, why, sizeof(why)) == PV_KVM && strstr(why, "PV_UNHALT"), "%s", why);
	kvm.kvm_hints = 1U << KVM_HINTS_REALTIME;
	CHECK(pv_choose(&kvm, 4, why, sizeof(why)) == PV_NATIVE && strstr(why, "REALTIME"), "%s", why);
	/* A short reason buffer is truncated, never overrun. */
	char tiny[8];
	memset(tiny, 'x', sizeof(tiny));
	pv_choose(&kvm, 4, tiny, 5);
	CHECK(tiny[4] == 0 && tiny[5] == 'x', "reason overran its buffer");
	CHECK(!strcmp(pv_backend_name(PV_IPI), "ipi") && !strcmp(pv_backend_name(PV_NR_BACKENDS), "?"),
	      "backend names");
}

static void test_hypercall_regs(void)
{
	struct kvm_hypercall_regs r;

	memset(&r, 0xaa, sizeof(r));
	kvm_kick_cpu_regs(&r, 3, false);
	CHECK(r.rax == KVM_HC_KICK_CPU && r.rax == 5, "rax %llu", (unsigned long long)r.rax);
	CHECK(r.rbx == 0, "rbx (flags) %#llx", (unsigned long long)r.rbx);
	CHECK(r.rcx == 3, "rcx (APIC ID) %llu", (unsigned long long)r.rcx);
	CHECK(r.rdx == 0 && r.rsi == 0, "unused argument registers not zero");
	CHECK(!r.vmmcall, "Intel must use vmcall");
	kvm_kick_cpu_regs(&r, 0xfe, true);
	CHECK(r.rcx == 0xfe && r.vmmcall, "AMD: rcx %#llx vmmcall %d",
	      (unsigned long long)r.rcx, r.vmmcall);
}

static void test_bug_names(void)
{
	unsigned int b = 99;

	CHECK(qspinlock_parse_bugs("", &b) == 0 && b == 0, "empty -> %u", b);
	CHECK(qspinlock_parse_bugs("pv_lost_wakeup", &b) == 0 && b == QSPIN_BUG_PV_LOST_WAKEUP, "%u", b);
	CHECK(qspinlock_parse_bugs("mcs_handover,pv_drop_kick", &b) == 0 &&
	      b == (QSPIN_BUG_MCS_HANDOVER | QSPIN_BUG_PV_DROP_KICK), "%u", b);
	b = 7;
	CHECK(qspinlock_parse_bugs("bogus", &b) == -1 && b == 7, "unknown name accepted");
	CHECK(qspinlock_parse_bugs("pv_lost_wakeup,bogus", &b) == -1, "unknown tail accepted");
	CHECK(qspinlock_parse_bugs("pv_lost", &b) == -1, "prefix accepted");
}

/* One spelling of each backend for pvspin= and the pvspin command alike. */
static void test_backend_names(void)
{
	enum pv_backend b = PV_NR_BACKENDS;

	CHECK(pv_backend_parse("native", &b) == 0 && b == PV_NATIVE, "native -> %d", b);
	CHECK(pv_backend_parse("off", &b) == 0 && b == PV_NATIVE, "off -> %d", b);
	CHECK(pv_backend_parse("kvm", &b) == 0 && b == PV_KVM, "kvm -> %d", b);
	CHECK(pv_backend_parse("ipi", &b) == 0 && b == PV_IPI, "ipi -> %d", b);
	b = PV_IPI;
	CHECK(pv_backend_parse("auto", &b) == -1 && b == PV_IPI, "auto is the caller's, not a backend");
	CHECK(pv_backend_parse("ip", &b) == -1 && b == PV_IPI, "prefix accepted");
	for (int i = 0; i < PV_NR_BACKENDS; i++)
		CHECK(pv_backend_parse(pv_backend_name((enum pv_backend)i), &b) == 0 && b == i,
		      "name of %d does not parse back", i);
}

int main(void)
{
	test_lock_word();
	test_signature();
	test_policy();
	test_hypercall_regs();
	test_bug_names();
	test_backend_names();
	if (failures) {
		printf("test_pv_policy: %d FAILED\n", failures);
		return 1;
	}
	printf("test_pv_policy: all passed\n");
	return 0;
}
