/*
 * pv_dynamic_policy.h — the decision behind `pvspin=dynamic`: overcommit
 * samples in, "stay / switch to PV / switch to native" out, with hysteresis.
 * Pure (kernel/locking/pv_dynamic_policy.c): no clock, no hardware, so
 * tests/unit/test_pv_dynamic_policy.c drives it with made-up sample series.
 * The sampling and the switch are in kernel/locking/pv_dynamic.c.
 *
 * One sample = one sample period. `lost_pm` is how much of the guest's busy
 * time the host took away, in per mille (KVM steal time, or the TSC-gap
 * estimate under TCG); `windows` how many measurements it rests on (0: every
 * CPU idle, no evidence either way).
 *
 * Hysteresis, so that noise and the switch's own effect cannot make it flap:
 *  - smoothing: the thresholds apply to an exponential moving average,
 *    avg += (sample - avg) / 2^smooth_shift (the first sample starts it);
 *    one sample under TCG rests on a few dozen 200 us windows and swings
 *    between 0 and 90 % on a host whose load does not change;
 *  - two thresholds: switch to PV only at lost_pm >= up_pm, back only at
 *    lost_pm <= down_pm (up_pm > down_pm; values between hold the mode and
 *    reset both runs);
 *  - runs: up_samples consecutive samples above to go PV, down_samples below
 *    to go native (down is the slow one: a wrong native costs a collapse, a
 *    wrong PV a few per cent);
 *  - dwell: no switch sooner than min_dwell_ms after the previous one;
 *  - back-off: PV that went native and had to come back within flap_ms
 *    doubles the PV dwell (up to max_dwell_ms) — the signal itself moves when
 *    PV waiters halt and give their host CPUs back, so an oscillation is
 *    possible; each doubling halves its rate. A native period that lasted
 *    flap_ms resets the dwell to min_dwell_ms.
 */
#ifndef GRACE_PV_DYNAMIC_POLICY_H
#define GRACE_PV_DYNAMIC_POLICY_H

#include <grace/types.h>

struct pv_dyn_params {
	unsigned int up_pm;         /* lost per mille that counts as overcommitted */
	unsigned int down_pm;       /* ... as not overcommitted (< up_pm) */
	unsigned int up_samples;    /* consecutive samples >= up_pm to go PV */
	unsigned int down_samples;  /* consecutive samples <= down_pm to go native */
	unsigned int min_windows;   /* fewer measurements than this: no evidence */
	unsigned int smooth_shift;  /* EWMA weight 1/2^smooth_shift (0: no smoothing) */
	u64 min_dwell_ms;           /* no switch sooner after the last one */
	u64 max_dwell_ms;           /* cap of the backed-off PV dwell */
	u64 flap_ms;                /* native shorter than this before PV again: flap */
};

struct pv_dyn_state {
	bool pv;                    /* PV backend in now */
	unsigned int above, below;  /* current runs */
	unsigned int avg_pm;        /* the smoothed lost per mille */
	bool have_avg;
	u64 since_ms;               /* time of the last switch (or start) */
	u64 native_since_ms;        /* when the last PV -> native happened */
	bool was_native_before;     /* a PV -> native switch has happened */
	u64 pv_dwell_ms;            /* the PV dwell now (min_dwell_ms .. max_dwell_ms) */
	unsigned int switches, flaps;
};

struct pv_dyn_sample {
	u64 now_ms;
	unsigned int lost_pm;       /* 0..1000 */
	unsigned int windows;       /* measurements behind lost_pm */
};

enum pv_dyn_action { PV_DYN_STAY, PV_DYN_TO_PV, PV_DYN_TO_NATIVE };

/* Start in `pv` mode at now_ms (the boot backend). */
void pv_dyn_init(struct pv_dyn_state *s, const struct pv_dyn_params *p, bool pv, u64 now_ms);
/*
 * Feed one sample (updates the average and the runs); returns what to do and, for a switch, writes the reason
 * (the figures that decided it) to why[n]. The state does not change mode:
 * the caller switches and then reports the outcome with pv_dyn_switched().
 */
enum pv_dyn_action pv_dyn_decide(struct pv_dyn_state *s, const struct pv_dyn_params *p,
				 const struct pv_dyn_sample *x, char *why, size_t n);
/* The switch asked for by `a` happened (ok) or failed (then it is asked for
 * again at the next sample that still calls for it). */
void pv_dyn_switched(struct pv_dyn_state *s, const struct pv_dyn_params *p,
		     enum pv_dyn_action a, bool ok, u64 now_ms);
/* Check a parameter set; NULL if usable, else what is wrong. */
const char *pv_dyn_params_check(const struct pv_dyn_params *p);

#endif
