#!/usr/bin/env bash
# setup-deps.sh — install what building, running and testing Grace needs.
#
# Called by make when a tool is missing (and by .ci/run). On Debian/Ubuntu it
# installs the packages with apt-get (through sudo when not root); elsewhere it
# names the packages and stops. --plots also installs matplotlib (for the PNG
# timelines of `make trace`, run with Debian's /usr/bin/python3).
set -eu

PKGS="qemu-system-x86 ovmf grub-pc-bin grub-efi-amd64-bin grub-common xorriso mtools nasm gdb python3"
# tool -> package that provides it (checked before deciding to install)
need() {
	missing=""
	command -v qemu-system-x86_64 >/dev/null || missing="$missing qemu-system-x86"
	command -v grub-mkrescue      >/dev/null || missing="$missing grub-common"
	[ -d /usr/lib/grub/i386-pc ]             || missing="$missing grub-pc-bin"
	[ -d /usr/lib/grub/x86_64-efi ]          || missing="$missing grub-efi-amd64-bin"
	command -v xorriso            >/dev/null || missing="$missing xorriso"
	command -v mformat            >/dev/null || missing="$missing mtools"
	command -v nasm               >/dev/null || missing="$missing nasm"
	command -v gdb                >/dev/null || missing="$missing gdb"
	command -v python3            >/dev/null || missing="$missing python3"
	ls /usr/share/OVMF/OVMF_CODE*.fd >/dev/null 2>&1 || missing="$missing ovmf"
	echo "$missing"
}

missing=$(need)
if [ -n "$missing" ]; then
	if command -v apt-get >/dev/null 2>&1; then
		SUDO=""
		[ "$(id -u)" -eq 0 ] || SUDO="sudo"
		echo "setup-deps: installing:$missing"
		export DEBIAN_FRONTEND=noninteractive
		$SUDO apt-get update -qq
		# shellcheck disable=SC2086
		$SUDO apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
		missing=$(need)
		if [ -n "$missing" ]; then
			echo "setup-deps: still missing after apt-get:$missing" >&2
			exit 1
		fi
	else
		echo "setup-deps: this is not a Debian/Ubuntu system; please install the equivalents of:" >&2
		echo "  $PKGS" >&2
		echo "  (missing here:$missing)" >&2
		exit 1
	fi
fi

# --plots: also matplotlib, for the PNG timelines of `make trace`.
PLOT_PY=/usr/bin/python3
[ -x "$PLOT_PY" ] || PLOT_PY=python3
if [ "${1:-}" = "--plots" ] && ! "$PLOT_PY" -c 'import matplotlib' 2>/dev/null; then
	if command -v apt-get >/dev/null 2>&1; then
		SUDO=""
		[ "$(id -u)" -eq 0 ] || SUDO="sudo"
		echo "setup-deps: installing: python3-matplotlib"
		export DEBIAN_FRONTEND=noninteractive
		$SUDO apt-get update -qq
		$SUDO apt-get install -y -qq --no-install-recommends python3-matplotlib >/dev/null
	fi
	"$PLOT_PY" -c 'import matplotlib' 2>/dev/null ||
		echo "setup-deps: matplotlib is not installed (python3-matplotlib): no PNG timelines" >&2
fi

if [ "${1:-}" != "--quiet" ] && [ "${1:-}" != "--plots" ]; then
	# Whether QEMU uses KVM is decided by trying it, not from /dev/kvm's
	# mode bits: tools/accel.py, on the first QEMU start.
	echo "setup-deps: tools installed; QEMU's accelerator is chosen on first use (tools/accel.py)"
fi
