#!/usr/bin/env python3
"""acpi_capture.py — turn Grace's `acpi dump all` serial output into a fixture.

Boot Grace with the dump on the console (see docs/acpi.md, "Capturing
fixtures"), keep the serial log, then:

    tools/acpi_capture.py serial.log tests/unit/fixtures/acpi/q35-smp4.bin
    tools/acpi_capture.py serial.log out.bin --split DIR   # also one DIR/SIG@ADDR.bin per table
    tools/acpi_capture.py serial.log out.bin --raw MBI2    # just the bytes of one dump

(--raw is how the multiboot2 fuzzing seeds in tests/unit/fixtures/multiboot2/
were made, from a temporary hexdump of the multiboot2 information.)

The dump lines look like (anything before "acpi-dump: " is ignored):

    acpi-dump: begin APIC 0xffe2425 176
    acpi-dump: 000000: 41 50 49 43 b0 00 ... |APIC....|
    acpi-dump: end APIC

The output is a "physical memory image" that tests/unit/test_acpi.c and
tests/unit/fuzz_acpi.c read (all integers little-endian):

    8 bytes  magic "GACPIMG1"
    records, each: 4-byte signature, u32 length, u64 physical address,
                   `length` bytes, zero padding to a multiple of 8

The RSDP record (signature "RSDP") is the loader's copy of the RSDP; its
address is 0 because the copy has none. Each table's length field and
checksum are checked here, so a garbled log is caught at capture time.
"""
import argparse
import os
import re
import struct
import sys

MAGIC = b"GACPIMG1"
BEGIN = re.compile(r"acpi-dump: begin (\S{4}) (0x[0-9a-fA-F]+|0) (\d+)\s*$")
DATA = re.compile(r"acpi-dump: ([0-9a-fA-F]{6}):((?: [0-9a-fA-F]{2})+)")
END = re.compile(r"acpi-dump: end (\S{4})\s*$")


def parse_log(text):
    """Yield (sig, addr, bytes) for every complete dump in the log."""
    cur = None
    for lineno, line in enumerate(text.splitlines(), 1):
        m = BEGIN.search(line)
        if m:
            cur = (m.group(1), int(m.group(2), 16), int(m.group(3)), bytearray())
            continue
        if cur is None:
            continue
        m = DATA.search(line)
        if m:
            off = int(m.group(1), 16)
            if off != len(cur[3]):
                sys.exit(f"line {lineno}: offset {off:#x} but {len(cur[3]):#x} bytes so far")
            cur[3].extend(bytes.fromhex(m.group(2)))
            continue
        m = END.search(line)
        if m:
            sig, addr, length, data = cur
            if m.group(1) != sig or len(data) != length:
                sys.exit(f"line {lineno}: {sig} has {len(data)} bytes, expected {length}")
            yield sig, addr, bytes(data)
            cur = None


def check(sig, data):
    """The same checks the kernel makes, so a bad capture is not committed."""
    if sig == "RSDP":
        ok = data[:8] == b"RSD PTR " and sum(data[:20]) % 256 == 0
        if ok and data[15] >= 2 and len(data) >= 36:
            ok = sum(data[:struct.unpack_from("<I", data, 20)[0]]) % 256 == 0
    else:
        ok = (len(data) >= 36 and data[:4].decode("latin-1") == sig and
              struct.unpack_from("<I", data, 4)[0] == len(data) and sum(data) % 256 == 0)
    if not ok:
        sys.exit(f"{sig}: captured bytes fail their length/checksum check")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log")
    ap.add_argument("out")
    ap.add_argument("--split", metavar="DIR", help="also write each table as DIR/SIG@ADDR.bin")
    ap.add_argument("--raw", metavar="SIG", help="write only the raw bytes of the first SIG dump")
    args = ap.parse_args()

    with open(args.log, encoding="utf-8", errors="replace") as f:
        tables = list(parse_log(f.read()))
    if args.raw:
        data = next((d for s, _, d in tables if s == args.raw), None)
        if data is None:
            sys.exit(f"no {args.raw} dump in the log")
        with open(args.out, "wb") as f:
            f.write(data)
        print(f"{args.out}: {args.raw}, {len(data)} bytes")
        return
    if not tables or tables[0][0] != "RSDP":
        sys.exit("no `acpi dump all` output starting with the RSDP in the log")
    img = bytearray(MAGIC)
    seen = set()
    for sig, addr, data in tables:
        if (sig, addr) in seen:
            continue
        seen.add((sig, addr))
        check(sig, data)
        img += sig.encode("latin-1") + struct.pack("<IQ", len(data), addr) + data
        img += bytes(-len(img) % 8)
        if args.split:
            os.makedirs(args.split, exist_ok=True)
            with open(os.path.join(args.split, f"{sig}@{addr:#x}.bin"), "wb") as f:
                f.write(data)
    with open(args.out, "wb") as f:
        f.write(img)
    print(f"{args.out}: {len(seen)} tables, {len(img)} bytes: " +
          " ".join(f"{s}@{a:#x}" for s, a, _ in tables))


if __name__ == "__main__":
    main()
