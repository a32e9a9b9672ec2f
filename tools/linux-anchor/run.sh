#!/usr/bin/env bash
# run.sh - boot Debian's Linux 6.1 in QEMU TCG with tools/linux-anchor/flip.c
# as /init and print its BENCH lines (static key flip timing).
#
# Usage: tools/linux-anchor/run.sh [SMP] [BOOTS]     (defaults: 8 1)
# Env:   TIMEOUT (seconds per boot, default 300), QEMU (binary),
#        WAIT_QUIET=1 to wait before each boot until the host is quiet
#        (no other qemu-system-x86_64, >= 90% idle over 2 s), at most
#        WAIT_MAX seconds (default 600); the boot runs anyway after that.
# Caches the kernel package and the initramfs under build/linux-anchor/.
# The kernel is only unpacked (dpkg-deb -x), never installed on the host.
set -euo pipefail

SMP=${1:-8}
BOOTS=${2:-1}
TIMEOUT=${TIMEOUT:-300}
QEMU=${QEMU:-qemu-system-x86_64}

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/build/linux-anchor"
mkdir -p "$out"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# 1. Debian's Linux 6.1 kernel: whatever linux-image-amd64 currently depends on.
vmlinuz=$(ls "$out"/pkg/boot/vmlinuz-6.1.* 2>/dev/null | head -n1 || true)
if [ -z "$vmlinuz" ]; then
	pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-6\.1/ {print $2; exit}')
	if [ -z "$pkg" ]; then
		echo "run.sh: linux-image-amd64 does not depend on a 6.1 image (apt-get update?)" >&2
		exit 1
	fi
	if ! ls "$out"/"$pkg"_*.deb >/dev/null 2>&1; then
		echo "run.sh: downloading $pkg" >&2
		(cd "$out" && $SUDO apt-get download "$pkg")
	fi
	deb=$(ls "$out"/"$pkg"_*.deb | head -n1)
	rm -rf "$out/pkg"
	dpkg-deb -x "$deb" "$out/pkg"
	vmlinuz=$(ls "$out"/pkg/boot/vmlinuz-6.1.* | head -n1)
fi
echo "run.sh: kernel $(basename "$vmlinuz")" >&2

# 2. Static /init.
gcc -static -O2 -Wall -o "$out/init" "$here/flip.c"

# 3. initramfs (newc cpio, written here so the cpio tool is not needed).
python3 - "$out/init" "$out/initrd.cpio" <<'PY'
import sys
init, dst = sys.argv[1], sys.argv[2]
data = open(init, "rb").read()
ino = [100]
def entry(name, mode, body=b""):
    ino[0] += 1
    nm = name.encode() + b"\0"
    hdr = "070701" + "".join("%08X" % v for v in (
        ino[0], mode, 0, 0, 1, 0, len(body), 0, 0, 0, 0, len(nm), 0))
    b = hdr.encode() + nm
    b += b"\0" * (-len(b) % 4)
    b += body
    b += b"\0" * (-len(b) % 4)
    return b
out = entry("dev", 0o040755) + entry("proc", 0o040555) + \
      entry("init", 0o100755, data) + entry("TRAILER!!!", 0)
out += b"\0" * (-len(out) % 512)
open(dst, "wb").write(out)
PY

# Host idle percentage over 2 s, from /proc/stat (idle + iowait).
host_idle() {
	local a b
	a=($(head -n1 /proc/stat)); sleep 2; b=($(head -n1 /proc/stat))
	local tot=0 k
	for k in 1 2 3 4 5 6 7 8; do tot=$((tot + b[k] - a[k])); done
	echo $(( tot > 0 ? 100 * (b[4] - a[4] + b[5] - a[5]) / tot : 0 ))
}

wait_quiet() {
	local t0=$SECONDS
	while [ $((SECONDS - t0)) -lt "${WAIT_MAX:-600}" ]; do
		if ! pgrep -x qemu-system-x86 >/dev/null \
		   && [ "$(host_idle)" -ge 90 ]; then
			return 0
		fi
		sleep 3
	done
	echo "run.sh: host not quiet after ${WAIT_MAX:-600}s, booting anyway" >&2
}

# 4. Boot, one at a time.
for i in $(seq 1 "$BOOTS"); do
	[ "${WAIT_QUIET:-0}" = 1 ] && wait_quiet
	others=$( (pgrep -x qemu-system-x86 || true) | wc -l)  # comm is cut to 15 chars
	echo "run.sh: host idle $(host_idle)% over 2 s, $others other QEMU running" >&2
	echo "run.sh: boot $i/$BOOTS at -smp $SMP ($(date -u +%H:%M:%S) UTC, host loadavg $(cut -d" " -f1-3 /proc/loadavg))" >&2
	log="$out/boot-smp$SMP-$i.log"
	set +e
	timeout "$TIMEOUT" "$QEMU" -M q35 -m 512M -smp "$SMP" \
		-accel tcg,thread=multi \
		-kernel "$vmlinuz" -initrd "$out/initrd.cpio" \
		-append "console=ttyS0 quiet panic=-1" \
		-display none -serial stdio -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		</dev/null >"$log" 2>&1
	rc=$?
	set -e
	[ $rc -eq 124 ] && echo "run.sh: boot $i timed out after ${TIMEOUT}s" >&2
	others=$( (pgrep -x qemu-system-x86 || true) | wc -l)
	echo "run.sh: after boot $i: $others other QEMU running, host loadavg $(cut -d" " -f1-3 /proc/loadavg)" >&2
	tr -d '\r' <"$log" | grep -E '^(BENCH|RAW|flip:)' || { echo "run.sh: no output, see $log" >&2; }
done
