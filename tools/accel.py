#!/usr/bin/env python3
"""accel.py — choose QEMU's accelerator by trying it, never from /dev/kvm's mode bits.

A readable and writable /dev/kvm says nothing about whether KVM works. Seen on
machines like the ones CI runs on: a nested, emulated KVM ("AMD EPYC" without
the svm flag) where `-cpu host` aborts QEMU at once (`failed to set MSR 0x10a`),
and `-cpu host,-arch-capabilities` boots Grace about 80 times slower than TCG.
So the choice is an experiment, made once per machine and cached:

  1. /dev/kvm must open for reading and writing (else: TCG, and why).
  2. Each CPU model that can work (KVM_CPU_MODELS, in order) is started paused
     (-S) for a moment: a model QEMU rejects aborts within milliseconds. The
     first that stays up is KVM's model; none: TCG, with QEMU's own message.
  3. Grace's ISO boots with autorun="poweroff" under TCG (time T), then under
     KVM with a limit of max(KVM_LIMIT_MIN_S, KVM_LIMIT_FACTOR * T). KVM is used
     only if it powers off correctly (status 33) and is not slower than TCG.
  4. The decision, its reason and the figures go to build/accel.json, keyed
     by what makes it valid (QEMU's version, /dev/kvm's device number, the
     host's boot id): a rebooted host or another QEMU probes again.

measure_kvm() is the slow half, for scenarios that need KVM (`requires: kvm`)
when the quick probe stopped waiting: it lets KVM boot to the end (up to
KVM_FULL_LIMIT_S), so those scenarios know whether KVM works at all and how
much longer a boot takes there, and scale their timeouts by it.

ACCEL=auto|kvm|tcg (the environment; `make ... ACCEL=` sets it) overrides:
tcg never probes; kvm skips the speed test but still needs a model that
starts, else it fails with QEMU's message.

decide() is pure: tests/unit/test_accel.py feeds it faked outcomes (QEMU
aborts, boots slowly, boots fast, no /dev/kvm, permission denied).
Standard library only.
"""

import errno
import json
import os
import subprocess
import tempfile
import time

KVM_CPU_MODELS = ("host", "host,-arch-capabilities")
START_CHECK_S = 3.0       # a model QEMU rejects dies within milliseconds; 3 s even on a loaded host
KVM_LIMIT_MIN_S = 10.0
KVM_LIMIT_FACTOR = 4.0
KVM_FULL_LIMIT_S = 240.0
TCG_LIMIT_S = 60.0
SUCCESS_STATUS = 33       # isa-debug-exit, see tools/qemu.py
CACHE_VERSION = 2


class Boot:
    """What one QEMU run did: exit status (None if killed at the limit),
    seconds, and the last line QEMU printed to stderr."""

    def __init__(self, status, seconds, message=""):
        self.status = status
        self.seconds = seconds
        self.message = message

    @property
    def timed_out(self):
        return self.status is None

    @property
    def ok(self):
        return self.status == SUCCESS_STATUS

    def to_json(self):
        return {"status": self.status, "seconds": self.seconds, "message": self.message}

    @classmethod
    def from_json(cls, d):
        return cls(d.get("status"), d.get("seconds", 0.0), d.get("message", "")) if d else None


class Choice:
    """The decision: accel "kvm" or "tcg", the KVM CPU model (when one
    starts), one line saying why, and what is known of KVM's speed."""

    def __init__(self, accel, reason, kvm_cpu=None, kvm_works=None, kvm_boot_s=None,
                 tcg_boot_s=None):
        self.accel = accel              # "kvm", "tcg", or "fail" (ACCEL=kvm cannot be had)
        self.reason = reason
        self.kvm_cpu = kvm_cpu          # model that starts under KVM, or None
        self.kvm_works = kvm_works      # True/False once a KVM boot ended; None unknown
        self.kvm_boot_s = kvm_boot_s    # seconds for a KVM boot that ended
        self.tcg_boot_s = tcg_boot_s
        self.kvm_fail = None            # why a whole KVM boot failed (measure_kvm)

    @property
    def use_kvm(self):
        return self.accel == "kvm"

    @property
    def kvm_factor(self):
        """How many times longer a KVM boot takes than a TCG one (None unknown)."""
        if self.kvm_boot_s and self.tcg_boot_s:
            return self.kvm_boot_s / self.tcg_boot_s
        return None

    def line(self):
        return "qemu: %s (%s)" % ("KVM" if self.use_kvm else "TCG", self.reason)

    def to_json(self):
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, d):
        c = cls(d["accel"], d["reason"])
        c.__dict__.update(d)
        return c


def _first_line(msg):
    msg = (msg or "").strip()
    for line in msg.splitlines():
        if "error" in line.lower() or "failed" in line.lower():
            return line.strip()
    return msg.splitlines()[0].strip() if msg else ""


def decide(mode, device_error, starts, tcg=None, kvm=None, kvm_limit_s=None):
    """The whole decision, from outcomes only.

    mode          "auto", "kvm" or "tcg"
    device_error  None if /dev/kvm opened read-write, else why not ("no /dev/kvm",
                  "/dev/kvm: Permission denied")
    starts        [(model, Boot)] of the start checks, in the order tried; a Boot
                  that timed out means the model stays up
    tcg, kvm      Boot of the ISO under TCG and under KVM (auto mode only)
    kvm_limit_s   the limit the KVM boot had
    """
    if mode == "tcg":
        return Choice("tcg", "ACCEL=tcg")
    if device_error:
        c = Choice("tcg", device_error)
        if mode == "kvm":
            c.reason = "ACCEL=kvm, but " + device_error
            c.accel = "fail"
        return c
    model = next((m for m, b in starts if b.timed_out), None)
    if model is None:
        fails = "; ".join("-cpu %s: %s" % (m, _first_line(b.message) or "exit status %s" % b.status)
                          for m, b in starts)
        c = Choice("tcg", "KVM fails here: " + fails)
        if mode == "kvm":
            c.accel = "fail"
            c.reason = "ACCEL=kvm, but QEMU fails under KVM: " + fails
        return c
    if mode == "kvm":
        return Choice("kvm", "ACCEL=kvm, -cpu %s" % model, kvm_cpu=model)
    # auto: the speed test
    if tcg is None or not tcg.ok:
        # TCG itself does not boot: nothing to compare with. Stay on TCG so
        # the failure shows in the tests, where it can be read.
        return Choice("tcg", "TCG boot did not succeed (%s); KVM not measured"
                      % ("killed at the limit" if tcg is None or tcg.timed_out
                         else "exit status %s" % tcg.status), kvm_cpu=model)
    if kvm is None:
        return Choice("tcg", "KVM not measured", kvm_cpu=model, tcg_boot_s=tcg.seconds)
    if kvm.timed_out:
        at_least = (kvm_limit_s or kvm.seconds) / tcg.seconds
        return Choice("tcg", "KVM (-cpu %s) did not power off within %.0f s where TCG takes %.1f s: "
                      "at least %.0fx slower" % (model, kvm_limit_s or kvm.seconds, tcg.seconds,
                                                 at_least),
                      kvm_cpu=model, tcg_boot_s=tcg.seconds)
    if not kvm.ok:
        return Choice("tcg", "KVM (-cpu %s) boots Grace but it fails there (exit status %s%s)"
                      % (model, kvm.status, ": " + _first_line(kvm.message) if kvm.message else ""),
                      kvm_cpu=model, kvm_works=False, tcg_boot_s=tcg.seconds)
    c = Choice("kvm", "", kvm_cpu=model, kvm_works=True, kvm_boot_s=kvm.seconds,
               tcg_boot_s=tcg.seconds)
    if kvm.seconds <= tcg.seconds:
        c.reason = "-cpu %s; boots in %.1f s, TCG in %.1f s" % (model, kvm.seconds, tcg.seconds)
    else:
        c.accel = "tcg"
        c.reason = "KVM boots but is %.0fx slower than TCG here (%.1f s against %.1f s)" % (
            kvm.seconds / tcg.seconds, kvm.seconds, tcg.seconds)
    return c


def with_full_kvm_boot(choice, kvm):
    """The choice after measure_kvm()'s boot: the accelerator stays, what is
    known of KVM is completed."""
    c = Choice.from_json(choice.to_json())
    c.kvm_works = kvm.ok
    c.kvm_boot_s = kvm.seconds if kvm.ok else None
    if kvm.ok and c.tcg_boot_s and c.accel == "tcg":
        c.reason = "KVM boots but is %.0fx slower than TCG here (%.1f s against %.1f s)" % (
            kvm.seconds / c.tcg_boot_s, kvm.seconds, c.tcg_boot_s)
    return c


# ---------------------------------------------------------------------------
# The experiments.
# ---------------------------------------------------------------------------

def device_error(path="/dev/kvm"):
    """None when `path` opens read-write, else a short reason."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        if e.errno == errno.ENOENT:
            return "no %s" % path
        return "%s: %s" % (path, e.strerror)
    os.close(fd)
    return None


def _run(argv, limit):
    """Run QEMU up to `limit` seconds: Boot(status or None, seconds, stderr)."""
    t0 = time.monotonic()
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=err)
        except OSError as e:
            return Boot(127, 0.0, str(e))
        try:
            status = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            status = None
        seconds = time.monotonic() - t0
        err.seek(0)
        msg = err.read().decode("utf-8", "replace")
    return Boot(status, seconds, msg)


def _base(qemu, accel):
    return [qemu, "-M", "q35", "-m", "256M", "-smp", "2", "-display", "none",
            "-monitor", "none", "-serial", "none", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"] + accel


def _kvm(model):
    return ["-accel", "kvm", "-cpu", model]


TCG_ACCEL = ["-accel", "tcg,thread=multi"]


def start_check(qemu, model):
    return _run(_base(qemu, _kvm(model)) + ["-S"], START_CHECK_S)


def boot_iso(qemu, iso, accel, limit):
    return _run(_base(qemu, accel) + ["-cdrom", iso, "-fw_cfg",
                                      'name=opt/grace/cmdline,string=autorun="poweroff"'], limit)


def cache_key(qemu):
    try:
        ver = subprocess.run([qemu, "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=10).stdout.decode().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        ver = "unknown"
    try:
        st = os.stat("/dev/kvm")
        dev = "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
    except OSError:
        dev = "none"
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
    except OSError:
        boot = "unknown"
    return {"version": CACHE_VERSION, "qemu": ver, "kvm_dev": dev, "boot_id": boot,
            "uid": os.getuid()}


def _load(path, key):
    try:
        with open(path) as f:
            d = json.load(f)
    except (OSError, ValueError):
        return None
    if d.get("key") != key:
        return None
    try:
        return Choice.from_json(d["choice"])
    except (KeyError, TypeError):
        return None


def _store(path, key, choice):
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        tmp = path + ".%d.tmp" % os.getpid()
        with open(tmp, "w") as f:
            json.dump({"key": key, "choice": choice.to_json()}, f, indent=1)
        os.replace(tmp, path)
    except OSError:
        pass   # no cache: the next run probes again


def choose(iso, cache, qemu="qemu-system-x86_64", mode=None, log=None):
    """The accelerator for this machine (cached in `cache`)."""
    mode = (mode or os.environ.get("ACCEL") or "auto").lower()
    if mode not in ("auto", "kvm", "tcg"):
        raise ValueError("ACCEL must be auto, kvm or tcg, not %r" % mode)
    if mode == "tcg":
        return decide("tcg", None, [])
    key = cache_key(qemu)
    cached = _load(cache, key)
    if cached is not None and mode == "auto":
        return cached
    if cached is not None and cached.kvm_cpu:   # ACCEL=kvm: the model that starts
        c = Choice.from_json(cached.to_json())
        c.accel, c.reason = "kvm", "ACCEL=kvm, -cpu %s" % c.kvm_cpu
        return c
    dev = device_error()
    if log:
        log("qemu: choosing the accelerator (once per machine; cached in %s)" % cache)
    starts = []
    if not dev:
        for model in KVM_CPU_MODELS:
            b = start_check(qemu, model)
            starts.append((model, b))
            if b.timed_out:
                break
    if mode == "kvm":
        return decide("kvm", dev, starts)
    tcg = kvm = limit = None
    if not dev and any(b.timed_out for _, b in starts) and iso and os.path.exists(iso):
        tcg = boot_iso(qemu, iso, TCG_ACCEL, TCG_LIMIT_S)
        if tcg.ok:
            limit = max(KVM_LIMIT_MIN_S, KVM_LIMIT_FACTOR * tcg.seconds)
            model = next(m for m, b in starts if b.timed_out)
            kvm = boot_iso(qemu, iso, _kvm(model), limit)
    elif not dev and any(b.timed_out for _, b in starts):
        return Choice("tcg", "not probed yet: %s does not exist" % iso)   # not cached
    choice = decide("auto", dev, starts, tcg, kvm, limit)
    _store(cache, key, choice)
    return choice


def measure_kvm(choice, iso, cache, qemu="qemu-system-x86_64", log=None):
    """Complete `choice` with a KVM boot that runs to its end (for scenarios
    that need KVM). Returns the new choice; cached."""
    if choice.kvm_works is not None or not choice.kvm_cpu:
        return choice
    if log:
        log("qemu: measuring a whole KVM boot (-cpu %s, up to %.0f s) for the KVM scenarios"
            % (choice.kvm_cpu, KVM_FULL_LIMIT_S))
    kvm = boot_iso(qemu, iso, _kvm(choice.kvm_cpu), KVM_FULL_LIMIT_S)
    new = with_full_kvm_boot(choice, kvm)
    if not kvm.ok:
        new.kvm_works = False
        new.kvm_fail = ("no power-off within %.0f s" % KVM_FULL_LIMIT_S if kvm.timed_out
                        else "exit status %s" % kvm.status)
    _store(cache, cache_key(qemu), new)
    return new
