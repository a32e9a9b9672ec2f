; entry.asm — multiboot2 header and the road from 32-bit protected mode to kmain.
;
; GRUB (BIOS or UEFI) loads grace.elf by its program headers and jumps to _start
; in 32-bit protected mode, paging off, EAX = multiboot2 magic, EBX = physical
; address of the multiboot2 information. We then:
;   1. check the CPU has long mode (else print a message on COM1 and VGA, halt)
;   2. build boot page tables: identity map of the low 4 GiB (to survive the
;      switch), the same 4 GiB at PHYS_OFFSET (direct map) and 1 GiB at
;      KERNEL_VMA for the higher-half image; all 2 MiB pages
;   3. enable PAE, EFER.LME and NXE, paging, write-protect
;   4. far-jump to 64-bit code, then jump to the higher half and call kmain.
; The identity map is dropped by paging_init() when the real tables load.
;
; This file lives in the low, identity-addressed .boot sections (see linker.ld),
; so the 32-bit code needs no relocation tricks.

MB2_MAGIC      equ 0xE85250D6
MB2_ARCH_I386  equ 0
KERNEL_VMA     equ 0xffffffff80000000
PHYS_OFFSET    equ 0xffff800000000000

section .multiboot2 progbits alloc noexec nowrite align=8
mb2_header:
	dd MB2_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header
	dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	; information request: cmdline(1), loader name(2), meminfo(4), mmap(6),
	; framebuffer(8), EFI64 system table(12), ACPI old(14), ACPI new(15).
	; Flagged optional so a loader that lacks one still boots us.
	align 8
.info_req:
	dw 1, 1                 ; type 1, flags: optional
	dd .info_req_end - .info_req
	dd 1, 2, 4, 6, 8, 12, 14, 15
.info_req_end:
	; framebuffer: any mode (0 = no preference); optional. Under BIOS, grub.cfg
	; sets gfxpayload=text so we keep the VGA text console.
	align 8
	dw 5, 1
	dd 20
	dd 0, 0, 32
	align 8
	dw 0, 0                 ; end tag
	dd 8
mb2_header_end:

section .boot.text progbits alloc exec nowrite align=16
bits 32
global _start
_start:
	cli
	cld
	mov esp, boot_stack32_top
	mov [mb_magic], eax
	mov [mb_info], ebx

	; Long mode available? CPUID 0x80000001 EDX bit 29 (Intel SDM Vol. 2A, CPUID).
	mov eax, 0x80000000
	cpuid
	cmp eax, 0x80000001
	jb .no_long_mode
	mov eax, 0x80000001
	cpuid
	test edx, 1 << 29
	jz .no_long_mode

	; Zero the boot page tables (7 pages), then fill them.
	mov edi, boot_pml4
	mov ecx, (7 * 4096) / 4
	xor eax, eax
	rep stosd

	; PML4[0] and PML4[256] -> boot_pdpt_low (identity and direct map share it)
	mov eax, boot_pdpt_low
	or eax, 0x3                       ; present | writable
	mov [boot_pml4 + 0 * 8], eax
	mov [boot_pml4 + 256 * 8], eax
	; PML4[511] -> boot_pdpt_high
	mov eax, boot_pdpt_high
	or eax, 0x3
	mov [boot_pml4 + 511 * 8], eax

	; boot_pdpt_low[0..3] -> boot_pd[0..3]: 4 GiB
	mov edi, boot_pdpt_low
	mov eax, boot_pd
	or eax, 0x3
	mov ecx, 4
.pdpt_fill:
	mov [edi], eax
	add eax, 4096
	add edi, 8
	loop .pdpt_fill
	; boot_pdpt_high[510] -> boot_pd[0]: KERNEL_VMA .. +1 GiB maps physical 0 .. 1 GiB
	mov eax, boot_pd
	or eax, 0x3
	mov [boot_pdpt_high + 510 * 8], eax

	; boot_pd[0..2047]: 2 MiB pages covering 0 .. 4 GiB
	mov edi, boot_pd
	mov eax, 0x83                     ; present | writable | page size
	xor edx, edx                      ; high dword of the physical address
	mov ecx, 2048
.pd_fill:
	mov [edi], eax
	mov [edi + 4], edx
	add eax, 0x200000
	adc edx, 0
	add edi, 8
	loop .pd_fill

	; CR4.PAE
	mov eax, cr4
	or eax, 1 << 5
	mov cr4, eax
	mov eax, boot_pml4
	mov cr3, eax
	; EFER.LME (bit 8) and EFER.NXE (bit 11)
	mov ecx, 0xC0000080
	rdmsr
	or eax, (1 << 8) | (1 << 11)
	wrmsr
	; CR0.PG | CR0.WP | CR0.PE
	mov eax, cr0
	or eax, (1 << 31) | (1 << 16) | 1
	mov cr0, eax

	lgdt [boot_gdt_ptr]
	jmp 0x08:long_mode_low

.no_long_mode:
	mov esi, msg_no_lm
.print:
	lodsb
	test al, al
	jz .halt
	mov dx, 0x3F8
	out dx, al
	jmp .print
.halt:
	mov al, 0x11                      ; isa-debug-exit: failure (QEMU exits 35)
	out 0xf4, al
.hang32:
	hlt
	jmp .hang32

bits 64
long_mode_low:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor ax, ax
	mov fs, ax
	mov gs, ax
	mov edi, [abs mb_magic]           ; kmain(magic, mbi_phys): SysV args
	mov esi, [abs mb_info]
	mov rax, long_mode_high
	jmp rax

section .bss nobits alloc noexec write align=4096
; The boot CPU's kernel stack. paging_init() leaves boot_stack_guard unmapped,
; so running off the bottom of the stack faults instead of corrupting memory.
global boot_stack_guard, boot_stack_bottom, boot_stack_top
boot_stack_guard:  resb 4096
boot_stack_bottom: resb 16384
boot_stack_top:

section .text
extern kmain
long_mode_high:
	mov rsp, boot_stack_top
	xor rbp, rbp                      ; backtraces stop here
	; Reload the GDT pointer with its higher-half alias so nothing
	; depends on the identity map any more.
	mov rax, boot_gdt_ptr_high
	lgdt [rax]
	call kmain
.hang:
	cli
	hlt
	jmp .hang

section .rodata
boot_gdt_ptr_high:
	dw boot_gdt_end - boot_gdt - 1
	dq boot_gdt + KERNEL_VMA

section .boot.rodata progbits alloc noexec nowrite align=16
boot_gdt:
	dq 0
	dq 0x00af9a000000ffff             ; 0x08: 64-bit code, DPL0
	dq 0x00cf92000000ffff             ; 0x10: data, DPL0
boot_gdt_end:
boot_gdt_ptr:
	dw boot_gdt_end - boot_gdt - 1
	dd boot_gdt
msg_no_lm:
	db "Grace: this CPU has no 64-bit long mode; cannot boot.", 13, 10, 0

section .boot.data progbits alloc noexec write align=8
global mb_magic, mb_info
mb_magic: dd 0
mb_info:  dd 0

section .boot.bss nobits alloc noexec write align=4096
boot_pml4:      resb 4096
boot_pdpt_low:  resb 4096
boot_pdpt_high: resb 4096
boot_pd:        resb 4 * 4096
boot_stack32:   resb 1024
boot_stack32_top:
