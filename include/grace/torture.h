/*
 * torture.h — torture tests started at boot by their parameters; one file
 * each in kernel/torture/.
 */
#ifndef GRACE_TORTURE_H
#define GRACE_TORTURE_H

void hotplug_torture_start(void);   /* torture.hotplug=1 (kernel/torture/hotplug_torture.c) */
void locktorture_start(void);       /* torture.lock=1 (kernel/torture/locktorture.c) */
/* Run the lock torture in this thread (also the `locktorture` command); 0 = success. */
int locktorture_run(const char *type, int seconds);
void wqtorture_start(void);         /* torture.wq=1 (kernel/torture/wq_torture.c) */
/* Run the workqueue torture in this thread (also `wqtorture`); 0 = success. */
int wqtorture_run(int seconds);

#endif
