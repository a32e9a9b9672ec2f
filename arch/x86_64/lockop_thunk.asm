; lockop_thunk.asm — the PV unlock as the unlock patch site calls it.
;
; The unlock site (include/grace/qspinlock.h) is inline asm that tells the
; compiler it clobbers no register, so that its native form is exactly one
; store. When the site is `call __pv_queued_spin_unlock_thunk` instead, this
; thunk keeps that promise: it saves every register the C function may
; change (the System V caller-saved set), aligns the stack for C, calls
; __pv_queued_spin_unlock(lock) with the lock still in RDI, and restores.
; (Flags are declared clobbered by the site.)

bits 64
default rel

extern __pv_queued_spin_unlock

section .text
global __pv_queued_spin_unlock_thunk
__pv_queued_spin_unlock_thunk:
	push rbp
	mov rbp, rsp
	push rax
	push rcx
	push rdx
	push rsi
	push rdi
	push r8
	push r9
	push r10
	push r11
	and rsp, -16
	call __pv_queued_spin_unlock
	lea rsp, [rbp - 9*8]
	pop r11
	pop r10
	pop r9
	pop r8
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rax
	pop rbp
	ret
