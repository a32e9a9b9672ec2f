; entry.asm — the way into the kernel for every exception and interrupt.
;
; One small stub per vector makes the stack uniform: vectors whose exception
; pushes no error code get a 0 pushed in its place (Intel SDM Vol. 3A,
; Table 6-1, "Error Code" column: 8, 10-14, 17, 21, 29, 30 push one), then
; every stub pushes its vector number and jumps to a common path, which saves
; the general registers. The stack then reads, from RSP upward, exactly as
; struct pt_regs (arch/x86_64/include/asm/ptrace.h):
;
;     r15 r14 r13 r12 r11 r10 r9 r8 rbp rdi rsi rdx rcx rbx rax   (pushed here)
;     vector  error_code                                         (stub)
;     rip cs rflags rsp ss                                       (CPU)
;
; The common path then builds a fake stack frame { saved rbp = interrupted rbp,
; return address = interrupted rip } and points RBP at it, so a backtrace taken
; inside a handler walks on into the interrupted code. A return address inside
; [__entry_text_start, __entry_text_end) tells the walker that the frame above
; is such an exception frame.
;
; Grace runs only in ring 0: no swapgs (GS always holds the kernel's per-CPU
; base) and no stack switch except the IST ones. The CPU aligns RSP to 16 before
; pushing its frame (SDM Vol. 3A, "Stack Usage on Transfers to Interrupt and
; Exception-Handling Routines"); we realign anyway before calling C.
; No FPU/SSE state is saved: the kernel is built with -mno-sse -mno-80387.

bits 64
default rel

extern do_exception
extern do_int3
extern do_irq

PT_REGS_SIZE equ 22 * 8
PT_RIP       equ 17 * 8      ; offsetof(struct pt_regs, rip); checked in traps.c
PT_RFLAGS    equ 19 * 8
PT_RSP       equ 20 * 8

section .text
align 16
global __entry_text_start, __entry_text_end
__entry_text_start:

; Save the registers in pt_regs order, call %1(struct pt_regs *), restore, iretq.
%macro ENTRY_COMMON 1
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	cld                          ; the C ABI expects DF=0
	mov rdi, rsp                 ; argument: struct pt_regs *
	push qword [rsp + PT_RIP]    ; fake frame: "return address" = interrupted rip
	push rbp                     ;             saved rbp = interrupted rbp
	mov rbp, rsp
	and rsp, -16
	call %1
	mov rsp, rbp
	add rsp, 16                  ; drop the fake frame
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, 16                  ; vector and error code
	iretq
%endmacro

align 16
exception_common:
	ENTRY_COMMON do_exception

; #BP (vector 3) has its own entry, for text patching (text_patching.c).
;
; The CPU pushed its 5-word frame (rip cs rflags rsp ss) on the interrupted
; stack itself, right below the interrupted RSP (no IST for #BP). An
; emulated CALL must push a return address at that RSP - 8, which is inside
; this frame. So first copy the frame 5 words lower; the original 40 bytes
; (plus the CPU's 0/8-byte alignment pad) become a gap that the emulation may
; write into:
;
;     interrupted RSP ->  | ...            |
;                         | gap (>= 40 B)  |  <- emulated push goes here
;                         | rip cs rflags rsp ss  (the copy; what pt_regs sees)
;                         | error 0, vector 3, registers ...
;
; do_int3() returns 0: restore and iretq as usual (an int3 nobody claimed
; was reported, or a hook resumed it). 1: the int3 was a patch site and
; pt_regs holds the state after the emulated instruction: return *without*
; iretq — iretq would end the NMI-blocked state when the int3 hit inside an
; NMI handler and let a second NMI overwrite the first one's IST frame. The
; return writes rip and rflags just below the target RSP (inside the gap, or
; at the slot a RET emulation just popped), switches to that stack, popfq,
; ret. Ring 0 only: CS and SS do not change.
align 16
int3_entry:
	push qword [rsp + 4*8]       ; ss      (each push moves the next word
	push qword [rsp + 4*8]       ; rsp      of the CPU frame 5 words down)
	push qword [rsp + 4*8]       ; rflags
	push qword [rsp + 4*8]       ; cs
	push qword [rsp + 4*8]       ; rip
	push qword 0                 ; error code
	push qword 3                 ; vector
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	cld
	mov rdi, rsp
	push qword [rsp + PT_RIP]
	push rbp
	mov rbp, rsp
	and rsp, -16
	call do_int3
	mov rsp, rbp
	add rsp, 16
	test eax, eax
	jnz .emulated
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, 16
	iretq
.emulated:
	mov rax, [rsp + PT_RSP]      ; the stack to return to
	mov rcx, [rsp + PT_RIP]
	mov [rax - 8], rcx           ; ... its return address
	mov rcx, [rsp + PT_RFLAGS]
	mov [rax - 16], rcx          ; ... and flags, for popfq
	sub rax, 16
	mov [rsp + PT_RSP], rax
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	mov rsp, [rsp + 5*8]         ; vector err rip cs rflags [rsp]
	popfq                        ; IF as interrupted; an interrupt here
	ret                          ; nests below the return address

align 16
irq_common:
	ENTRY_COMMON do_irq

; The stubs. Names (isr_stub_<vector>) show up in backtraces.
%assign v 0
%rep 256
align 16
isr_stub_ %+ v:
  %if v == 3
	jmp int3_entry               ; builds its own frame (the emulation gap)
  %elif v == 8 || v == 10 || v == 11 || v == 12 || v == 13 || v == 14 || v == 17 || v == 21 || v == 29 || v == 30
	push qword v                 ; the CPU pushed the error code
	jmp exception_common
  %else
	push qword 0                 ; no error code: keep the frame uniform
	push qword v
    %if v < 32
	jmp exception_common
    %else
	jmp irq_common
    %endif
  %endif
%assign v v + 1
%endrep

__entry_text_end:

section .rodata
align 8
global isr_stub_table
isr_stub_table:
%assign v 0
%rep 256
	dq isr_stub_ %+ v
%assign v v + 1
%endrep
