/* torture.h — torture tests started at boot by their parameters. */
#ifndef GRACE_TORTURE_H
#define GRACE_TORTURE_H

void hotplug_torture_start(void);   /* torture.hotplug=1 (kernel/torture/hotplug_torture.c) */

#endif
