#!/usr/bin/env bash
# run_gdb_test.sh — run one scripted GDB session against Grace in QEMU.
#
#   tests/gdb/run_gdb_test.sh [tests/gdb/kmain.gdb]
#
# Starts QEMU paused (-S) with its gdbstub on a free localhost port, runs
# `gdb -batch -nx -x SCRIPT` with GDB_PORT set, then stops QEMU by the PID this
# script started. The GDB script prints "GDB-TEST: PASS" or "GDB-TEST: FAIL
# <why>"; this script ends with "TEST gdb.<script>: PASS|FAIL ..." and exits
# 0 or 1.
#
# The scenario runner calls this for `type: gdb` scenarios and passes the
# scenario as GRACE_* variables (ISO, ELF, MACHINE, FIRMWARE, SMP, MEMORY,
# ARGS, SERIAL_LOG, TIMEOUT); run by hand, it builds first and uses q35, BIOS,
# -smp 2.
set -u
cd "$(dirname "$0")/../.."

SCRIPT=${1:-tests/gdb/kmain.gdb}
NAME=gdb.$(basename "$SCRIPT" .gdb)
if [ -z "${GRACE_ISO:-}" ]; then
	make -s all || { echo "TEST $NAME: FAIL build failed"; exit 1; }
fi
ISO=${GRACE_ISO:-build/grace.iso}
export GRACE_ELF=${GRACE_ELF:-build/grace.elf}
export GRACE_SMP=${GRACE_SMP:-2}
SERIAL=${GRACE_SERIAL_LOG:-build/test-logs/$NAME.serial.log}
LIMIT=${GRACE_TIMEOUT:-120}
mkdir -p "$(dirname "$SERIAL")"
rm -f "$SERIAL"

for tool in gdb qemu-system-x86_64 python3; do
	command -v $tool >/dev/null || { echo "TEST $NAME: FAIL $tool is not installed (make deps)"; exit 1; }
done

# A free port: bind to port 0 and see what the kernel picked. Another process
# could take it before QEMU does; then QEMU fails to start and we say so.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export GDB_PORT=$PORT

python3 tools/qemu.py --iso "$ISO" --machine "${GRACE_MACHINE:-q35}" \
	--firmware "${GRACE_FIRMWARE:-bios}" --smp "$GRACE_SMP" --memory "${GRACE_MEMORY:-256M}" \
	--args "${GRACE_ARGS:-}" --serial "$SERIAL" --gdb "$PORT" --timeout "$LIMIT" \
	</dev/null &
QEMU_PID=$!
# qemu.py ends QEMU (its child) when it gets SIGTERM; we end qemu.py by PID.
stop_qemu() {
	if kill -0 "$QEMU_PID" 2>/dev/null; then
		kill -TERM "$QEMU_PID" 2>/dev/null
		wait "$QEMU_PID" 2>/dev/null
	fi
}
trap stop_qemu EXIT
trap 'exit 1' TERM INT HUP

# Wait until the gdbstub listens (or QEMU died).
for _ in $(seq 1 100); do
	if ! kill -0 "$QEMU_PID" 2>/dev/null; then
		echo "TEST $NAME: FAIL QEMU exited before its gdbstub listened on port $PORT"
		exit 1
	fi
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
	sleep 0.1
done

echo "run_gdb_test: QEMU pid $QEMU_PID, gdbstub on :$PORT, -smp $GRACE_SMP; gdb -batch -nx -x $SCRIPT"
OUT=$(mktemp)
timeout "$LIMIT" gdb -batch -nx -x "$SCRIPT" </dev/null >"$OUT" 2>&1
GDB_STATUS=$?
cat "$OUT"

if grep -q '^GDB-TEST: PASS' "$OUT" && [ $GDB_STATUS -eq 0 ]; then
	rm -f "$OUT"
	echo "TEST $NAME: PASS"
	exit 0
fi
WHY=$(grep -m1 '^GDB-TEST: FAIL' "$OUT" | sed 's/^GDB-TEST: FAIL //')
[ -n "$WHY" ] || WHY="gdb exited with status $GDB_STATUS and no verdict (see the log)"
[ $GDB_STATUS -eq 124 ] && WHY="gdb timed out after $LIMIT s; $WHY"
rm -f "$OUT"
echo "TEST $NAME: FAIL $WHY"
exit 1
