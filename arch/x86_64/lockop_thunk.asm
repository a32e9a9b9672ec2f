; lockop_thunk.asm — the PV unlock as the unlock patch site calls it.
;
; The unlock site (include/grace/qspinlock.h) is inline asm that tells the
; compiler it clobbers no register, so that its native form is exactly one
; store. When the site is `call __pv_queued_spin_unlock_thunk` instead, this
; thunk keeps that promise.
;
; Fast path, in the thunk itself: the locked byte goes 1 -> 0 by one
; `lock cmpxchg` (a release; on x86 a full barrier), touching only RAX and
; RDX, which it saves and restores. That is the whole PV unlock when no
; waiter has gone to sleep, and what __pv_queued_spin_unlock() does first.
; Only when the byte was not 1 (the head set it to 3: asleep, kick it) does
; the thunk save the rest of the System V caller-saved set, align the stack
; for C and call __pv_queued_spin_unlock_slowpath(lock, old).
;
; Why not simply call the C function with every register saved: the nine
; pushes and pops on every unlock cost more than the unlock (bench=pvswitch,
; lock_after_switch_pv_*: 238 cycles through the site against 148 for a
; direct call, before this fast path). Linux's x86 PV unlock is written in
; assembly for the same reason.
; (Flags are declared clobbered by the site.) Test: every PV locktorture and
; pvswitch scenario unlocks through here; a wrong fast path loses wake-ups
; (locktorture-pv-*) or releases nothing (every lock hangs at boot).

bits 64
default rel

extern __pv_queued_spin_unlock_slowpath

; With queued_spin_lock/unlock (kernel/locking/spinlock_ops.c) on one page:
; linker.ld gathers .text.lockops.
section .text.lockops progbits alloc exec nowrite align=16
global __pv_queued_spin_unlock_thunk
__pv_queued_spin_unlock_thunk:
	push rax
	push rdx
	mov eax, 1                   ; expected: locked, nobody asleep
	xor edx, edx
	lock cmpxchg [rdi], dl       ; lock->locked is byte 0 of the lock word
	jne .slow                    ; AL = what the byte held
	pop rdx
	pop rax
	ret
.slow:
	push rbp
	mov rbp, rsp
	push rcx
	push rsi
	push rdi
	push r8
	push r9
	push r10
	push r11
	movzx esi, al                ; old value of the locked byte
	and rsp, -16
	call __pv_queued_spin_unlock_slowpath
	lea rsp, [rbp - 7*8]
	pop r11
	pop r10
	pop r9
	pop r8
	pop rdi
	pop rsi
	pop rcx
	pop rbp
	pop rdx
	pop rax
	ret
