; trampoline.asm — how an application processor gets from reset to C.
;
; A Startup IPI (SIPI) with vector VV starts the AP in 16-bit real mode at
; CS:IP = VV00:0000, i.e. at physical address VV000 (Intel SDM Vol. 3A §8.4.4,
; "MP Initialization Example"). So the first part of this file is a blob that
; arch/x86_64/smpboot.c copies to `trampoline_phys` (a page below 1 MiB the
; memory code reserved) and whose few absolute addresses it patches after the
; copy. The blob is position independent for any page: 16-bit code addresses
; its data relative to CS (= the page), 32-bit code relative to EBX (= the
; page's physical address), so no assemble-time address is baked in.
;
;   real mode  ──lgdt, CR0.PE──▶  32-bit protected mode
;              ──CR4.PAE, CR3 = trampoline page table (low, < 4 GiB),
;                EFER.LME|NXE, CR0.PG──▶  64-bit mode, still at the low page
;              ──jmp tr_entry──▶  secondary_startup_64 in the kernel image
;
; CR3 can only be loaded with 32 bits from 32-bit code, so the page table used
; here is trampoline_pml4() (asm/pgtable.h): below 4 GiB, the kernel's
; higher-half entries (smpboot.c copies them again before every kick) and an
; identity map of the first 2 MiB so the next instruction after CR0.PG still
; has a mapping. secondary_startup_64 then switches to the kernel's real CR3.
;
; Many APs may run this at once (parallel bring-up): the blob is never written
; by an AP, and each AP finds its CPU number, stack and per-CPU area by its own
; APIC ID in secondary_startup_64, using no stack until it has its own.
; Test: every smp-*.scn scenario (and smp-serial.scn for one at a time).

KERNEL_CS   equ 0x08          ; 64-bit code (same selector as the kernel's GDT)
KERNEL_DS   equ 0x10
TRAMP_CS32  equ 0x18          ; 32-bit code, only for the protected-mode hop

CR0_PE      equ 1 << 0
CR0_ET      equ 1 << 4
CR0_NE      equ 1 << 5
CR0_WP      equ 1 << 16
CR0_PG      equ 1 << 31
CR4_PAE     equ 1 << 5
CR4_PGE     equ 1 << 7
MSR_EFER    equ 0xC0000080
EFER_LME    equ 1 << 8
EFER_NXE    equ 1 << 11

section .rodata
align 16
global trampoline_start, trampoline_end
global tr_gdtr_base, tr_pm32_off, tr_lm64_off, tr_cr3, tr_entry

bits 16
trampoline_start:
	cli
	cld
	mov ax, cs
	mov ds, ax
	xor ebx, ebx
	mov bx, ax
	shl ebx, 4                          ; EBX = physical address of this page
	o32 lgdt [tr_gdtr - trampoline_start] ; DS-relative; base patched by smpboot.c
	mov eax, cr0
	or eax, CR0_PE
	mov cr0, eax
	; Far jump through a 16:32 pointer in the page: the offset is patched to
	; trampoline_phys + (pm32 - trampoline_start).
	o32 jmp far [tr_pm32_ptr - trampoline_start]

bits 32
pm32:
	mov ax, KERNEL_DS
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, cr4
	or eax, CR4_PAE | CR4_PGE
	mov cr4, eax
	mov eax, [ebx + tr_cr3 - trampoline_start]
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME | EFER_NXE
	wrmsr
	; Set CR0 outright: after INIT it has CD and NW set (caches off).
	mov eax, CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_PE
	mov cr0, eax
	jmp far [ebx + tr_lm64_ptr - trampoline_start]

bits 64
lm64:
	; Entering 64-bit mode leaves the upper halves of registers undefined.
	mov ebx, ebx
	mov rax, [rbx + tr_entry - trampoline_start]
	jmp rax

align 16
tr_gdt:
	dq 0
	dq 0x00af9a000000ffff               ; 0x08: 64-bit code, DPL0
	dq 0x00cf92000000ffff               ; 0x10: data, DPL0
	dq 0x00cf9a000000ffff               ; 0x18: 32-bit code, DPL0
tr_gdt_end:
tr_gdtr:
	dw tr_gdt_end - tr_gdt - 1
tr_gdtr_base:
	dd tr_gdt - trampoline_start        ; patched: + trampoline_phys
align 4
tr_pm32_ptr:
tr_pm32_off:
	dd pm32 - trampoline_start          ; patched: + trampoline_phys
	dw TRAMP_CS32
align 4
tr_lm64_ptr:
tr_lm64_off:
	dd lm64 - trampoline_start          ; patched: + trampoline_phys
	dw KERNEL_CS
align 4
tr_cr3:
	dd 0                                ; patched: the low trampoline page table
align 8
tr_entry:
	dq 0                                ; patched: secondary_startup_64
trampoline_end:

; ---------------------------------------------------------------------------
; In the kernel image from here on: 64-bit, higher half, still on the
; trampoline page table, no stack, interrupts off.
section .text
extern smp_boot_cr3, smp_boot_cr4, smp_boot_cr0
extern cpu_apicid, smp_ap_stack_top, start_secondary, smp_ap_lost
global secondary_startup_64

NR_CPUS equ 256

secondary_startup_64:
	; A GDT in the kernel image (the trampoline's is in low memory, which the
	; kernel page table does not map). Same selectors, so CS stays valid.
	lgdt [rel ap_gdt_ptr]
	mov ax, KERNEL_DS
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	; The kernel's own page table and control registers, as the boot CPU has them.
	mov rax, [rel smp_boot_cr3]
	mov cr3, rax
	mov rax, [rel smp_boot_cr4]
	mov cr4, rax
	mov rax, [rel smp_boot_cr0]
	mov cr0, rax

	; Who am I? The x2APIC ID from CPUID leaf 0xB (EDX) when the CPU has the
	; leaf, else the 8-bit initial APIC ID in CPUID.1:EBX[31:24] (SDM Vol. 2A,
	; CPUID). Both equal the ID the MADT lists.
	xor eax, eax
	cpuid
	cmp eax, 0xB
	jb .leaf1
	mov eax, 0xB
	xor ecx, ecx
	cpuid
	test ebx, ebx                       ; EBX = 0: leaf 0xB not implemented
	jz .leaf1
	mov r8d, edx
	jmp .lookup
.leaf1:
	mov eax, 1
	cpuid
	shr ebx, 24
	mov r8d, ebx
.lookup:
	; cpu = the index of our APIC ID in cpu_apicid[] (smpboot.c fills it
	; before any kick; unused slots hold 0xffffffff).
	lea rsi, [rel cpu_apicid]
	xor ecx, ecx
.next:
	cmp [rsi + rcx * 4], r8d
	je .found
	inc ecx
	cmp ecx, NR_CPUS
	jb .next
	; Not ours: count it and stop here for good.
	lock inc dword [rel smp_ap_lost]
.lost:
	cli
	hlt
	jmp .lost
.found:
	lea rsi, [rel smp_ap_stack_top]
	mov rsp, [rsi + rcx * 8]
	test rsp, rsp
	jz .lost
	xor ebp, ebp                        ; backtraces stop here
	mov edi, ecx
	call start_secondary                ; never returns
	jmp .lost

; Writable and with the Accessed bits preset: loading a selector sets its
; descriptor's Accessed bit, a write that would fault on read-only data.
section .data
align 16
ap_gdt:
	dq 0
	dq 0x00af9b000000ffff               ; 0x08: 64-bit code, DPL0, accessed
	dq 0x00cf93000000ffff               ; 0x10: data, DPL0, accessed
ap_gdt_end:
ap_gdt_ptr:
	dw ap_gdt_end - ap_gdt - 1
	dq ap_gdt
