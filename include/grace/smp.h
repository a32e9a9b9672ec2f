/* smp.h — multiprocessor services (grown by the SMP work). */
#ifndef GRACE_SMP_H
#define GRACE_SMP_H

#include <grace/percpu.h>

/* Stop every other CPU (NMI) so a panic's report is the last word. */
void smp_stop_other_cpus(void);

#endif
