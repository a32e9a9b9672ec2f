; switch_to.asm — the context switch: leave one task's stack, resume another's.
;
;   struct task_struct *__switch_to_asm(struct task_struct *prev,
;                                       struct task_struct *next);
;
; Called from __schedule() (kernel/sched/core.c) with interrupts off and the
; runqueue lock held. The System V ABI lets a callee clobber every register
; except rbx, rbp, r12-r15 and rsp, so those are all a task's context: they
; are pushed on prev's stack, rsp is saved in prev->rsp (offset 0 of
; task_struct), rsp is loaded from next->rsp, and next's registers are popped.
; The `ret` then returns into whatever call of __switch_to_asm next made when
; it left — or, for a new task, into ret_from_fork (see below).
;
; Returns (in next's context) the task it switched away from, which the
; scheduler must finish with (finish_task_switch): rdi still holds prev.
;
; Stack of a task that is switched out, from task->rsp upward:
;     r15 r14 r13 r12 rbx rbp  ret-address
; and rbp points at the saved-rbp slot, so sched_show_task() can walk a
; sleeping task's frames exactly like a running one's: frame pointers stay
; sane because __switch_to_asm builds a normal frame (push rbp; mov rbp,rsp).
;
; FPU/SSE state is not switched: the kernel is built without them.

bits 64
default rel

extern schedule_tail

section .text

global __switch_to_asm
__switch_to_asm:
	push rbp
	mov rbp, rsp
	push rbx
	push r12
	push r13
	push r14
	push r15
	mov [rdi], rsp               ; prev->rsp
	mov rsp, [rsi]               ; next->rsp
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	mov rax, rdi                 ; return prev
	ret

; The first "return" of a new task. task_init_stack() (core.c) builds:
;     r15=0 r14=0 r13=0 r12=arg rbx=fn rbp=0 | ret_from_fork | 0 0
; so __switch_to_asm pops into here with rbx = fn, r12 = arg, rbp = 0 (the
; zero rbp ends backtraces here), rax = prev.
global ret_from_fork
ret_from_fork:
	mov rdi, rax
	call schedule_tail           ; unlock the runqueue, interrupts on, preempt count 0
	mov rdi, r12
	call rbx                     ; fn(arg); never returns (kthread_exit)
	ud2
