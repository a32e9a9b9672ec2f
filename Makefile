# Grace — top-level Makefile.
#
#   make              build build/grace.elf and build/grace.iso
#   make run          boot in QEMU (-smp 4), serial console on this terminal; ARGS="..." adds kernel args
#                     (SMP=, MEM=, MACHINE=pc|q35, FIRMWARE=bios|uefi, QEMU_EXTRA="..." override)
#   make test         host unit tests + the quick QEMU scenario set (TESTS="glob ..." selects)
#   make test-all     every scenario, including the long ones, then make mutants
#   make soak         the hour-long runs (set: soak, e.g. rcutorture-soak: -smp 4, hotplug every 100 ms);
#                     in neither make test nor make test-all
#   make mutants      apply each tests/mutants/*.patch to a scratch copy and check a test catches it
#                     (MUTANTS='NN-*' selects; MUTANTS_ARGS=--catchers-only runs only the expected catchers)
#   make unit         only the host unit tests;  make scenarios: only the quick QEMU scenarios
#   make debug / gdb  QEMU paused with its gdbstub (GDB_PORT=1234) / attach GDB to it; both use
#                     the stepping image build/step (STEP=1: -Og, same code; STEP=0 for -O2)
#   ACCEL=auto|kvm|tcg  QEMU's accelerator for run, debug and the tests (default auto:
#                     decided once per machine by trying KVM against TCG, tools/accel.py)
#   make help         this text
#   make lab LAB=name    put the tree into a lab's starting state (LAB=none: the reference back)
#   make grade LAB=name  grade it: points per check, GOOD/BAD/MISSING evidence (docs/labs/)
#   make trace SCENARIO=name   run a scenario with the event trace on; writes build/trace/name.json
#                     (Perfetto / chrome://tracing) and name.png (TRACE_ARGS="..." adds kernel args)
#   make fuzz         run each libFuzzer target (tests/unit/fuzz_*.c) for FUZZ_SECONDS (60);
#                     FUZZ_TARGETS="shell params" selects (docs/testing.md, "Fuzzing")
#   make DEBUG=1      -Og, debug checks, UBSan
#   make STEP=1       -Og only: locals and line steps survive for GDB (what make debug boots)
#   make CC=clang     build with clang;  CROSS_COMPILE=x86_64-elf-  for a cross toolchain
#
# Every source file under the kernel directories is built; adding a file needs
# no Makefile change.

CROSS_COMPILE ?=
ifeq ($(origin CC),default)
CC := $(CROSS_COMPILE)gcc
endif
LD      := $(CROSS_COMPILE)ld
NM      := $(CROSS_COMPILE)nm
OBJCOPY := $(CROSS_COMPILE)objcopy
NASM    ?= nasm
PYTHON  ?= python3
DEBUG   ?= 0
STEP    ?= 0
BUILD   ?= build

KERNEL_DIRS := arch kernel mm drivers lib
C_SRCS   := $(sort $(shell find $(wildcard $(KERNEL_DIRS)) -name '*.c'))
ASM_SRCS := $(sort $(shell find boot arch -name '*.asm'))
OBJS := $(patsubst %.c,$(BUILD)/%.o,$(C_SRCS)) $(patsubst %.asm,$(BUILD)/%.o,$(ASM_SRCS))

CC_IS_CLANG := $(shell $(CC) --version 2>/dev/null | grep -q clang && echo 1)

CFLAGS := -std=c11 -ffreestanding -fno-builtin-printf -nostdinc \
	-isystem $(shell $(CC) -print-file-name=include) \
	-Iinclude -Iarch/x86_64/include \
	-m64 -mcmodel=kernel -mno-red-zone -mno-mmx -mno-sse -mno-sse2 -mno-avx -mno-80387 \
	-fno-pic -fno-pie -fno-stack-protector -fno-omit-frame-pointer \
	-fno-strict-aliasing -fno-common -fno-asynchronous-unwind-tables \
	-g -Wall -Wextra -Werror -Wno-unused-parameter -Wstrict-prototypes -Wmissing-prototypes \
	-MMD -MP
ifeq ($(CC_IS_CLANG),1)
CFLAGS += --target=x86_64-unknown-none-elf
else
CFLAGS += -mno-omit-leaf-frame-pointer
endif
ifeq ($(DEBUG),1)
CFLAGS += -Og -DCONFIG_DEBUG=1 -fsanitize=undefined
else ifeq ($(STEP),1)
# For GDB: the same code with -Og, so `next` follows source lines and
# `info locals` shows the slow path's idx and tail instead of <optimized out>.
CFLAGS += -Og
else
CFLAGS += -O2
endif
# No DWARF from NASM: its line table for boot/entry.asm covers only the first
# section, so GDB printed "pc ... in address map, but not in symtab" warnings
# on every backtrace through long_mode_high. Labels still come from the ELF
# symbol table, which is what `bt`, `x/i` and `si` in assembly need.
NASMFLAGS := -f elf64
LDFLAGS := -nostdlib -n -z max-page-size=0x1000 -T linker.ld --no-warn-rwx-segments -z noexecstack

.PHONY: all iso run test test-all soak unit scenarios debug gdb mutants fuzz trace lab grade clean deps help
all: $(BUILD)/grace.iso

# Tools: installed by tools/setup-deps.sh when one is missing.
$(BUILD)/.deps-ok: tools/setup-deps.sh
	@mkdir -p $(BUILD)
	@bash tools/setup-deps.sh --quiet
	@touch $@
deps:
	@bash tools/setup-deps.sh

$(BUILD)/%.o: %.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/%.o: %.asm | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	@$(NASM) $(NASMFLAGS) -MD $(@:.o=.d) -MP $< -o $@

# The UBSan runtime must not be instrumented itself (it would recurse).
$(BUILD)/kernel/ubsan.o: CFLAGS += -fno-sanitize=all

# Two-pass link for the embedded symbol table (kernel/ksyms.c):
#   pass 1: link with an empty table;  nm -> tools/gen_ksyms.py -> ksyms_table.c
#   pass 2: link with the real table;  regenerate from the result and require
#           the same table, i.e. embedding it moved no text symbol (and no
#           data object relative to __data_start: tools/gen_ksyms.py).
# .ksyms is the last thing in .rodata (linker.ld), after all text, so the check
# only fails if that layout is broken.
$(BUILD)/ksyms_empty.c: tools/gen_ksyms.py | $(BUILD)/.deps-ok
	@$(PYTHON) tools/gen_ksyms.py --empty > $@

$(BUILD)/ksyms_empty.o $(BUILD)/ksyms_table.o: $(BUILD)/%.o: $(BUILD)/%.c
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/grace.pass1.elf: $(OBJS) $(BUILD)/ksyms_empty.o linker.ld
	@echo "  LD      $@"
	@$(LD) $(LDFLAGS) -o $@ $(OBJS) $(BUILD)/ksyms_empty.o

$(BUILD)/ksyms_table.c: $(BUILD)/grace.pass1.elf tools/gen_ksyms.py
	@echo "  KSYMS   $@"
	@$(NM) -n -S $< | $(PYTHON) tools/gen_ksyms.py > $@.tmp && mv $@.tmp $@

$(BUILD)/grace.elf: $(OBJS) $(BUILD)/ksyms_table.o linker.ld $(BUILD)/tools/patchcheck
	@echo "  LD      $@"
	@$(LD) $(LDFLAGS) -o $@ $(OBJS) $(BUILD)/ksyms_table.o
	@$(NM) -n -S $@ | $(PYTHON) tools/gen_ksyms.py > $(BUILD)/ksyms_check.c
	@cmp -s $(BUILD)/ksyms_table.c $(BUILD)/ksyms_check.c || { \
		echo "ksyms: symbols moved between the two link passes:"; \
		diff $(BUILD)/ksyms_table.c $(BUILD)/ksyms_check.c | head -20; \
		rm -f $@; exit 1; }
	@$(BUILD)/tools/patchcheck $@ || { rm -f $@; exit 1; }

# Every text patch site must be one 5-byte instruction (asm/patch_site.h):
# checked on the linked ELF by a host tool sharing the kernel's check.
HOSTCC ?= cc
PATCHCHECK_SRCS := tools/patchcheck.c arch/x86_64/patch_site_check.c arch/x86_64/insn.c
$(BUILD)/tools/patchcheck: $(PATCHCHECK_SRCS) arch/x86_64/include/asm/patch_site.h arch/x86_64/include/asm/insn.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(HOSTCC) -std=c11 -O1 -Wall -Wextra -Werror -Iinclude -Iarch/x86_64/include \
		$(PATCHCHECK_SRCS) -o $@

$(BUILD)/grace.iso: $(BUILD)/grace.elf iso/grub.cfg
	@echo "  ISO     $@"
	@rm -rf $(BUILD)/isodir && mkdir -p $(BUILD)/isodir/boot/grub
	@$(OBJCOPY) --strip-debug $(BUILD)/grace.elf $(BUILD)/isodir/boot/grace.elf
	@cp iso/grub.cfg $(BUILD)/isodir/boot/grub/grub.cfg
	@grub-mkrescue -o $@ $(BUILD)/isodir >$(BUILD)/grub-mkrescue.log 2>&1 || \
		{ cat $(BUILD)/grub-mkrescue.log; exit 1; }

iso: $(BUILD)/grace.iso

# Fuzzing (docs/testing.md, "Fuzzing"): each tests/unit/fuzz_X.c names the
# sources it needs on its first line "// FUZZ_SOURCES: ...", is built with
# clang's libFuzzer and sanitizers, and runs FUZZ_SECONDS from its committed
# inputs -- tests/unit/fixtures/X/, tests/unit/fuzz/X/seeds/ and the kept
# crash inputs in tests/unit/fuzz/X/crashes/ -- plus what earlier runs kept
# in $(BUILD)/fuzz/X.corpus (new inputs go there, not into the tree), with
# tests/unit/fuzz/X/dict as a libFuzzer dictionary when there is one.
# The targets run one after another, all of them even when one fails; each
# prints its executions, coverage and the crash inputs this run left (also in
# $(BUILD)/fuzz/summary.txt); a crash leaves its input as
# $(BUILD)/fuzz/X-crash-* and ends that target's run. FUZZ_TARGETS="shell params" runs only those;
# FUZZ_NICE=15 runs them under nice -n 15. `make test` replays the committed
# inputs without libFuzzer (tests/unit/fuzz_replay.c).
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_NICE    ?=
FUZZ_ALL     := $(filter-out replay,$(patsubst tests/unit/fuzz_%.c,%,$(wildcard tests/unit/fuzz_*.c)))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_CFLAGS  := -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-Wno-macro-redefined -Iinclude -Iarch/x86_64/include -Itests/unit

$(BUILD)/.fuzz-deps-ok:
	@mkdir -p $(BUILD)
	@if ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long s) { return 0; }' | \
	    $(FUZZ_CC) -x c -fsanitize=fuzzer,address,undefined -o /dev/null - 2>/dev/null; then \
		echo "  APT     clang + libFuzzer runtime"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq clang && \
		v=$$($(FUZZ_CC) -dumpversion | cut -d. -f1) && \
		$$SUDO apt-get install -y -qq libclang-rt-$$v-dev; \
	fi
	@touch $@

$(BUILD)/fuzz/%: tests/unit/fuzz_%.c tests/unit/*.h $(C_SRCS) tests/unit/host_string.c | $(BUILD)/.fuzz-deps-ok
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $< $$(sed -n '1s|^// FUZZ_SOURCES:||p' $<) -o $@

fuzz: $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))
	@: > $(BUILD)/fuzz/summary.txt; failed=""; \
	for t in $(FUZZ_TARGETS); do \
		mkdir -p $(BUILD)/fuzz/$$t.corpus; \
		seeds=""; for d in tests/unit/fixtures/$$t tests/unit/fuzz/$$t/seeds \
			tests/unit/fuzz/$$t/crashes; do [ -d $$d ] && seeds="$$seeds $$d"; done; \
		dict=""; [ -f tests/unit/fuzz/$$t/dict ] && dict="-dict=tests/unit/fuzz/$$t/dict"; \
		echo "  FUZZ    $$t for $(FUZZ_SECONDS) s (log: $(BUILD)/fuzz/$$t.log)"; \
		touch $(BUILD)/fuzz/$$t.start; \
		$(if $(FUZZ_NICE),nice -n $(FUZZ_NICE)) $(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) \
			-print_final_stats=1 $$dict -artifact_prefix=$(BUILD)/fuzz/$$t- \
			$(BUILD)/fuzz/$$t.corpus $$seeds >$(BUILD)/fuzz/$$t.log 2>&1; rc=$$?; \
		runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(BUILD)/fuzz/$$t.log); \
		cov=$$(grep -E '^#[0-9]+' $(BUILD)/fuzz/$$t.log | grep -o 'cov: [0-9]* ft: [0-9]*' | tail -1); \
		crashes=$$(find $(BUILD)/fuzz -maxdepth 1 -type f -name "$$t-*" \
			-newer $(BUILD)/fuzz/$$t.start | wc -l); \
		line=$$(printf '%-12s %6s s  %12s execs  %-20s  %s crash input(s)  exit %s' \
			$$t $(FUZZ_SECONDS) "$${runs:-?}" "$${cov:-cov: ?}" $$crashes $$rc); \
		echo "  $$line"; echo "$$line" >> $(BUILD)/fuzz/summary.txt; \
		if [ $$rc != 0 ]; then tail -30 $(BUILD)/fuzz/$$t.log; failed="$$failed $$t"; fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: FAILED:$$failed (inputs: $(BUILD)/fuzz/<target>-crash-*)"; exit 1; fi
# ---- Running, debugging, testing ------------------------------------------
# tools/qemu.py builds every QEMU command line (also for the tests), so the
# options below mean the same thing everywhere. ARGS and SMP travel through the
# environment so that quotes in them survive (ARGS='autorun="echo hi; poweroff"').
SMP        ?= 4
MEM        ?= 256M
MACHINE    ?= q35
FIRMWARE   ?= bios
ARGS       ?=
QEMU_EXTRA ?=
GDB_PORT   ?= 1234
TESTS      ?=
JOBS       ?=
ACCEL      ?= auto
export ARGS SMP ACCEL

# make debug and make gdb use the stepping image (STEP=1) in its own directory,
# so switching between them and `make run` rebuilds nothing.
ifeq ($(origin STEP),file)
DEBUG_IMAGE := $(BUILD)/step
else ifeq ($(STEP),1)
DEBUG_IMAGE := $(BUILD)/step
else
DEBUG_IMAGE := $(BUILD)
endif
QEMU_RUN = $(PYTHON) tools/qemu.py --iso $(BUILD)/grace.iso --machine $(MACHINE) \
	--firmware $(FIRMWARE) --smp "$$SMP" --memory $(MEM) --args "$$ARGS"
RUNNER = $(PYTHON) tests/run_scenarios.py --build-dir $(BUILD) $(if $(JOBS),-j $(JOBS))

run: $(BUILD)/.deps-ok $(BUILD)/grace.iso
	@$(QEMU_RUN) -- $(QEMU_EXTRA)

debug: $(BUILD)/.deps-ok
	@$(MAKE) -s BUILD=$(DEBUG_IMAGE) STEP=$(if $(filter $(BUILD),$(DEBUG_IMAGE)),$(STEP),1) all
	@echo "debug: QEMU paused at reset, gdbstub on localhost:$(GDB_PORT), image $(DEBUG_IMAGE); in another terminal: make gdb GDB_PORT=$(GDB_PORT)"
	@$(PYTHON) tools/qemu.py --iso $(DEBUG_IMAGE)/grace.iso --machine $(MACHINE) \
		--firmware $(FIRMWARE) --smp "$$SMP" --memory $(MEM) --args "$$ARGS" \
		--gdb $(GDB_PORT) -- $(QEMU_EXTRA)

# The gdbinit is regenerated every time so that GDB_PORT always matches.
gdb: $(BUILD)/.deps-ok
	@$(MAKE) -s BUILD=$(DEBUG_IMAGE) STEP=$(if $(filter $(BUILD),$(DEBUG_IMAGE)),$(STEP),1) $(DEBUG_IMAGE)/grace.elf
	@printf '%s\n' \
	  '# Generated by make gdb: attach to `make debug`.' \
	  'file $(DEBUG_IMAGE)/grace.elf' \
	  '# QEMU x86_64 sends 64-bit registers even while the CPU runs 32-bit code' \
	  '# (GRUB, boot/entry.asm); an i386 GDB answers "Remote g packet reply is too long".' \
	  'set architecture i386:x86-64' \
	  '# grace-cpus, grace-hotplug, grace-lock EXPR, grace-tasks, grace-dmesg: help grace-cpus etc.' \
	  'source tools/gdb/grace.py' \
	  '# Each vCPU is a thread: `info threads`, `thread N` to follow CPU N-1,' \
	  '# `thread apply all bt` for every CPU at once. While you step, only the' \
	  '# current thread runs (scheduler-locking step), so `next` is not cut short' \
	  '# by another vCPU hitting the same breakpoint; `continue` runs them all.' \
	  'set scheduler-locking step' \
	  'target remote :$(GDB_PORT)' \
	  '# A hardware breakpoint: a software one (int3 written into memory) set' \
	  '# before GRUB has loaded the kernel would be overwritten by the load.' \
	  'hbreak kmain' \
	  'continue' > $(BUILD)/gdbinit
	@echo "gdb: using $(BUILD)/gdbinit (port $(GDB_PORT), $(DEBUG_IMAGE)/grace.elf)"
	gdb -q -x $(BUILD)/gdbinit

# make trace SCENARIO=name: the scenario with trace=1 trace.dump=1, its dump
# turned into a Chrome trace (Perfetto opens it) and a PNG timeline. The PNG
# uses Debian's python3-matplotlib, hence Debian's python3.
SCENARIO   ?=
TRACE_ARGS ?=
TRACE_LAST_MS ?=
TRACE_FROM_MS ?=
TRACE_TO_MS ?=
TRACE_FOCUS ?=
PLOT_PYTHON := $(if $(wildcard /usr/bin/python3),/usr/bin/python3,$(PYTHON))
trace: $(BUILD)/.deps-ok all
	@test -n "$(SCENARIO)" || { echo "make trace: say which, e.g. make trace SCENARIO=trace-hotplug"; exit 2; }
	@bash tools/setup-deps.sh --plots
	@$(RUNNER) --no-build --no-unit --set all --append-args "trace=1 trace.dump=1 $(TRACE_ARGS)" $(SCENARIO) || true
	@mkdir -p $(BUILD)/trace
	@$(PLOT_PYTHON) tools/trace2json.py $(BUILD)/test-logs/$(SCENARIO).log --title "$(SCENARIO)" \
		-o $(BUILD)/trace/$(SCENARIO).json --png $(BUILD)/trace/$(SCENARIO).png \
		$(if $(TRACE_LAST_MS),--last-ms $(TRACE_LAST_MS)) \
		$(if $(TRACE_FROM_MS),--from-ms $(TRACE_FROM_MS)) $(if $(TRACE_TO_MS),--to-ms $(TRACE_TO_MS)) \
		$(if $(TRACE_FOCUS),--focus $(TRACE_FOCUS))

# Labs (tools/lab.py, docs/labs/): the reference implementation is the
# kernel itself; a lab's starting state replaces one marked region of it.
LAB ?=
lab:
	@test -n "$(LAB)" || { $(PYTHON) tools/lab.py list; echo "make lab LAB=name (LAB=none restores)"; exit 2; }
	@$(PYTHON) tools/lab.py start $(LAB)
grade: $(BUILD)/.deps-ok
	@test -n "$(LAB)" || { $(PYTHON) tools/lab.py list; echo "make grade LAB=name"; exit 2; }
	@$(PYTHON) tools/lab.py grade $(LAB)

test: $(BUILD)/.deps-ok all
	@$(RUNNER) --no-build --set quick $(TESTS)

test-all: $(BUILD)/.deps-ok all
	@$(RUNNER) --no-build --set all $(TESTS)
	@$(MAKE) -s mutants

# The hour-long runs (tests/scenarios with set: soak), one at a time.
soak: $(BUILD)/.deps-ok all
	@$(RUNNER) --no-build --no-unit --set soak $(TESTS)

# The mutation suite (tools/mutants.py, tests/mutants/): long, so not in `make test`.
MUTANTS      ?=
MUTANTS_ARGS ?=
mutants: $(BUILD)/.deps-ok
	@$(PYTHON) tools/mutants.py --build-dir $(BUILD) $(MUTANTS_ARGS) $(MUTANTS)

unit: $(BUILD)/.deps-ok
	@$(RUNNER) --unit-only $(TESTS)

scenarios: $(BUILD)/.deps-ok all
	@$(RUNNER) --no-build --no-unit --set quick $(TESTS)

help:
	@sed -n '2,/^$$/s/^# \{0,1\}//p' Makefile

clean:
	rm -rf $(BUILD)

-include $(OBJS:.o=.d)
