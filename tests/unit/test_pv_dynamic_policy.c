// UNIT_SOURCES: kernel/locking/pv_dynamic_policy.c
/*
 * test_pv_dynamic_policy.c — `pvspin=dynamic`'s decision
 * (kernel/locking/pv_dynamic_policy.c) driven with made-up sample series:
 *  - a step up switches to PV after the run and not before; a step down
 *    switches back only after the longer run and the dwell;
 *  - noise between the thresholds, and alternating samples on both sides,
 *    never switch; samples without evidence neither extend nor break a run;
 *  - a single spike does not switch (the average absorbs it);
 *  - the dwell holds a switch back; the back-off doubles the PV dwell for a
 *    flap and resets it after a long native period; a failed switch is asked
 *    for again;
 *  - a 10-minute series that alternates loaded and idle phases switches
 *    exactly twice per phase pair, and random samples in the dead band never;
 *  - bad parameter sets are refused with a reason.
 * main() returns 0 when everything holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grace/pv_dynamic_policy.h>

#include "check.h"

static const struct pv_dyn_params defaults = {
	.up_pm = 250, .down_pm = 80, .up_samples = 2, .down_samples = 6, .min_windows = 20,
	.smooth_shift = 2, .min_dwell_ms = 2000, .max_dwell_ms = 32000, .flap_ms = 10000,
};
enum { PERIOD = 500 };

struct sim {
	struct pv_dyn_params p;
	struct pv_dyn_state s;
	u64 t;
	unsigned int to_pv, to_native;
	bool fail_next;
	char why[160];
};

static void sim_init(struct sim *m, const struct pv_dyn_params *p, bool pv)
{
	memset(m, 0, sizeof(*m));
	m->p = *p;
	m->t = 1000;
	pv_dyn_init(&m->s, &m->p, pv, m->t);
}

/* One sample; does the switch the policy asks for (unless told to fail). */
static enum pv_dyn_action step(struct sim *m, unsigned int lost_pm, unsigned int windows)
{
	struct pv_dyn_sample x = { .now_ms = m->t += PERIOD, .lost_pm = lost_pm, .windows = windows };
	enum pv_dyn_action a = pv_dyn_decide(&m->s, &m->p, &x, m->why, sizeof(m->why));
	bool ok = !m->fail_next;

	if (a != PV_DYN_STAY) {
		CHECK(m->why[0] != '\0', "a switch without a reason");
		if (ok)
			(*(a == PV_DYN_TO_PV ? &m->to_pv : &m->to_native))++;
		m->fail_next = false;
	}
	pv_dyn_switched(&m->s, &m->p, a, ok, m->t);
	return a;
}

/* Samples until the policy acts (or n samples); returns how many it took. */
static int until_switch(struct sim *m, unsigned int lost_pm, int n)
{
	for (int i = 1; i <= n; i++)
		if (step(m, lost_pm, 50) != PV_DYN_STAY)
			return i;
	return -1;
}

static void test_step_up_and_down(void)
{
	struct sim m;
	int k;

	sim_init(&m, &defaults, false);
	for (int i = 0; i < 10; i++)
		CHECK(step(&m, 10, 50) == PV_DYN_STAY, "idle samples switched");
	/* From avg 1%: 50% samples reach 25% after 2 (avg 13.2, 22.4, 29.3...). */
	k = until_switch(&m, 500, 20);
	CHECK(k >= 2 && k <= 5, "took %d samples to go PV", k);
	CHECK(m.s.pv && m.to_pv == 1, "not PV after a step up");
	CHECK(strstr(m.why, "on average >=") != NULL, "reason: %s", m.why);
	/* Down: the average falls below 8% and then 6 more samples. */
	k = until_switch(&m, 0, 40);
	CHECK(k >= 6 + 1 && k <= 16, "took %d samples to go native", k);
	CHECK(!m.s.pv && m.to_native == 1, "not native after a step down");
	CHECK(strstr(m.why, "on average <=") != NULL, "reason: %s", m.why);
}

static void test_dead_band_and_alternation(void)
{
	struct sim m;

	sim_init(&m, &defaults, false);
	srand(1);
	for (int i = 0; i < 2000; i++)   /* between 8% and 25%: hold */
		step(&m, 90 + (unsigned int)(rand() % 150), 50);
	CHECK(m.to_pv == 0, "switched %u times in the dead band", m.to_pv);
	sim_init(&m, &defaults, true);
	for (int i = 0; i < 2000; i++)
		step(&m, 90 + (unsigned int)(rand() % 150), 50);
	CHECK(m.to_native == 0, "PV went native %u times in the dead band", m.to_native);
	/* 0% and 40% alternating: average ~20%, in the band, never switches. */
	sim_init(&m, &defaults, false);
	for (int i = 0; i < 2000; i++)
		step(&m, i & 1 ? 400 : 0, 50);
	CHECK(m.to_pv == 0 && m.to_native == 0, "alternating samples switched %u/%u", m.to_pv, m.to_native);
}

static void test_spike_and_no_evidence(void)
{
	struct sim m;

	sim_init(&m, &defaults, false);
	for (int i = 0; i < 10; i++)
		step(&m, 0, 50);
	CHECK(step(&m, 900, 50) == PV_DYN_STAY, "one spike switched");   /* avg 22.5% */
	for (int i = 0; i < 20; i++)
		CHECK(step(&m, 0, 50) == PV_DYN_STAY, "after the spike");
	/* Windows below min_windows: no evidence, the run neither grows nor breaks. */
	sim_init(&m, &defaults, false);
	step(&m, 600, 50);                       /* avg 60%, above 1 */
	for (int i = 0; i < 50; i++)
		CHECK(step(&m, 1000, 3) == PV_DYN_STAY, "a sample without evidence counted");
	CHECK(m.s.above == 1, "run %u after no-evidence samples", m.s.above);
	CHECK(step(&m, 600, 50) == PV_DYN_TO_PV, "the run did not resume");
}

static void test_dwell_and_backoff(void)
{
	struct sim m;
	struct pv_dyn_params p = defaults;
	int k;

	p.smooth_shift = 0;    /* the raw samples: easier to count */
	p.down_samples = 2;
	p.min_dwell_ms = 3000; /* 6 samples */
	sim_init(&m, &p, false);
	k = until_switch(&m, 500, 20);
	CHECK(k == 6, "first switch after %d samples: the dwell from start is 3 s", k);
	k = until_switch(&m, 0, 20);
	CHECK(k == 6, "went native after %d samples; dwell 3 s", k);
	CHECK(m.s.pv_dwell_ms == 3000, "dwell %llu", (unsigned long long)m.s.pv_dwell_ms);
	/* Back to PV at once (after the native dwell): a flap, the PV dwell doubles. */
	k = until_switch(&m, 500, 20);
	CHECK(k == 6 && m.s.flaps == 1 && m.s.pv_dwell_ms == 6000, "k %d flaps %u dwell %llu", k,
	      m.s.flaps, (unsigned long long)m.s.pv_dwell_ms);
	k = until_switch(&m, 0, 40);
	CHECK(k == 12, "PV held %d samples, wanted 12 (6 s)", k);
	for (int i = 0; i < 6; i++) {
		until_switch(&m, 500, 40);
		until_switch(&m, 0, 200);
	}
	CHECK(m.s.pv_dwell_ms == p.max_dwell_ms, "dwell capped at %llu", (unsigned long long)m.s.pv_dwell_ms);
	/* A long native period resets the back-off. */
	for (int i = 0; i < 40; i++)
		step(&m, 0, 50);
	until_switch(&m, 500, 20);
	CHECK(m.s.pv && m.s.pv_dwell_ms == p.min_dwell_ms, "dwell %llu after a long native period",
	      (unsigned long long)m.s.pv_dwell_ms);
}

static void test_failed_switch(void)
{
	struct sim m;

	sim_init(&m, &defaults, false);
	m.fail_next = true;
	CHECK(until_switch(&m, 800, 10) > 0, "no switch asked for");
	CHECK(!m.s.pv && m.to_pv == 0, "a failed switch changed the mode");
	CHECK(step(&m, 800, 50) == PV_DYN_TO_PV, "not asked again at the next sample");
	CHECK(m.s.pv, "second attempt");
}

static void test_phases(void)
{
	/* 10 minutes: 30 s loaded (35-75% noise), 30 s idle (0-6% noise). */
	struct sim m;

	sim_init(&m, &defaults, false);
	srand(7);
	for (int phase = 0; phase < 10; phase++)
		for (int i = 0; i < 60; i++)
			step(&m, phase & 1 ? (unsigned int)(rand() % 60)
					   : 350 + (unsigned int)(rand() % 400), 50);
	CHECK(m.to_pv == 5 && m.to_native == 5, "%u to PV, %u to native over 10 phases", m.to_pv,
	      m.to_native);
	CHECK(m.s.flaps == 0, "%u flaps", m.s.flaps);
}

static void test_params_check(void)
{
	struct pv_dyn_params p = defaults;

	CHECK(pv_dyn_params_check(&p) == NULL, "defaults refused");
	p.down_pm = p.up_pm;
	CHECK(pv_dyn_params_check(&p) != NULL, "down == up accepted");
	p = defaults;
	p.up_pm = 0;
	CHECK(pv_dyn_params_check(&p) != NULL, "up 0 accepted");
	p = defaults;
	p.down_samples = 0;
	CHECK(pv_dyn_params_check(&p) != NULL, "empty run accepted");
	p = defaults;
	p.max_dwell_ms = 10;
	CHECK(pv_dyn_params_check(&p) != NULL, "max dwell < min dwell accepted");
	p = defaults;
	p.smooth_shift = 9;
	CHECK(pv_dyn_params_check(&p) != NULL, "shift 9 accepted");
}

int main(void)
{
	test_step_up_and_down();
	test_dead_band_and_alternation();
	test_spike_and_no_evidence();
	test_dwell_and_backoff();
	test_failed_switch();
	test_phases();
	test_params_check();
	if (failures)
		printf("%d failures\n", failures);
	else
		printf("test_pv_dynamic_policy: all checks passed\n");
	return failures != 0;
}
