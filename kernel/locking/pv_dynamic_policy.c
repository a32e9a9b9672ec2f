/*
 * pv_dynamic_policy.c — `pvspin=dynamic`'s decision: when to switch native
 * <-> PV, from a series of overcommit samples (pure; the rules and why are in
 * <grace/pv_dynamic_policy.h>).
 *
 * Invariants: one mode at a time, and a switch only after a run of agreeing
 * samples and the dwell since the previous switch; between the thresholds
 * nothing accumulates; a sample without evidence (every CPU idle) neither
 * extends nor breaks a run. The mechanism (pv_dynamic.c) feeds it one sample
 * per period and does the switch.
 * Test: tests/unit/test_pv_dynamic_policy.c (steps, noise, flapping, dwell,
 * back-off, failed switches, parameter checks).
 */
#include <grace/pv_dynamic_policy.h>
#include <grace/printk.h>

const char *pv_dyn_params_check(const struct pv_dyn_params *p)
{
	if (p->up_pm == 0 || p->up_pm > 1000)
		return "the up threshold must be 1..1000 per mille";
	if (p->down_pm >= p->up_pm)
		return "the down threshold must be below the up threshold";
	if (!p->up_samples || !p->down_samples)
		return "the runs must be at least one sample";
	if (p->smooth_shift > 8)
		return "the smoothing shift must be 0..8";
	if (p->max_dwell_ms < p->min_dwell_ms)
		return "the longest dwell must not be below the shortest";
	return NULL;
}

void pv_dyn_init(struct pv_dyn_state *s, const struct pv_dyn_params *p, bool pv, u64 now_ms)
{
	*s = (struct pv_dyn_state){
		.pv = pv, .since_ms = now_ms, .pv_dwell_ms = p->min_dwell_ms,
	};
}

enum pv_dyn_action pv_dyn_decide(struct pv_dyn_state *s, const struct pv_dyn_params *p,
				 const struct pv_dyn_sample *x, char *why, size_t n)
{
	u64 in_mode = x->now_ms - s->since_ms;

	unsigned int lost = x->lost_pm > 1000 ? 1000 : x->lost_pm, avg;

	if (x->windows < p->min_windows)
		return PV_DYN_STAY;   /* nothing ran: no evidence either way */
	if (!s->have_avg) {
		s->avg_pm = lost;
		s->have_avg = true;
	} else {
		/* Signed step, kept in int: |lost - avg| <= 1000. */
		int step = ((int)lost - (int)s->avg_pm) / (1 << p->smooth_shift);

		if (step == 0 && lost != s->avg_pm)
			step = lost > s->avg_pm ? 1 : -1;   /* reach the target, do not stall short of it */
		s->avg_pm = (unsigned int)((int)s->avg_pm + step);
	}
	avg = s->avg_pm;
	if (avg >= p->up_pm) {
		s->above++;
		s->below = 0;
	} else if (avg <= p->down_pm) {
		s->below++;
		s->above = 0;
	} else {
		s->above = s->below = 0;
	}
	if (!s->pv && s->above >= p->up_samples && in_mode >= p->min_dwell_ms) {
		snprintf(why, n, "lost %u.%u%% on average >= %u.%u%% for %u samples, native for %llu ms",
			 avg / 10, avg % 10, p->up_pm / 10, p->up_pm % 10, s->above,
			 (unsigned long long)in_mode);
		return PV_DYN_TO_PV;
	}
	if (s->pv && s->below >= p->down_samples && in_mode >= s->pv_dwell_ms) {
		snprintf(why, n, "lost %u.%u%% on average <= %u.%u%% for %u samples, PV for %llu ms (dwell %llu ms)",
			 avg / 10, avg % 10, p->down_pm / 10, p->down_pm % 10, s->below,
			 (unsigned long long)in_mode, (unsigned long long)s->pv_dwell_ms);
		return PV_DYN_TO_NATIVE;
	}
	return PV_DYN_STAY;
}

void pv_dyn_switched(struct pv_dyn_state *s, const struct pv_dyn_params *p,
		     enum pv_dyn_action a, bool ok, u64 now_ms)
{
	if (!ok || a == PV_DYN_STAY)
		return;   /* the runs stay: the next sample that agrees asks again */
	if (a == PV_DYN_TO_PV) {
		if (s->was_native_before && now_ms - s->native_since_ms < p->flap_ms) {
			s->flaps++;
			s->pv_dwell_ms = s->pv_dwell_ms * 2 > p->max_dwell_ms ? p->max_dwell_ms
									   : s->pv_dwell_ms * 2;
		} else {
			s->pv_dwell_ms = p->min_dwell_ms;
		}
		s->pv = true;
	} else {
		s->pv = false;
		s->native_since_ms = now_ms;
		s->was_native_before = true;
	}
	s->since_ms = now_ms;
	s->above = s->below = 0;
	s->switches++;
}
