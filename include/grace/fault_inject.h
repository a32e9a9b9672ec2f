/*
 * fault_inject.h — deliberate kernel faults, to see the exception reports.
 *
 * Kinds: pf (read an unmapped address), de (divide by zero), ud (ud2),
 * stack (recurse into the guard page below the stack), textwrite (write a
 * kernel text byte), ubsan (a signed overflow; reported only in DEBUG=1
 * builds). Reachable as the boot parameter `fault=<kind>` (acted on at the very
 * end of boot) and the shell command `fault <kind>`.
 */
#ifndef GRACE_FAULT_INJECT_H
#define GRACE_FAULT_INJECT_H

/* Trigger fault `kind`. Returns -1 (after a message listing the kinds) for an
 * unknown kind, 0 if the fault did not stop the kernel (ubsan, or a protection
 * that is not active yet, in which case it says so). */
int fault_inject(const char *kind);
/* kmain calls this last: acts on `fault=<kind>` if it was given. */
void fault_inject_from_param(void);

#endif
