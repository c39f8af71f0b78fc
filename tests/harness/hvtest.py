"""The system-test harness: boots a machine (hv, or any multiboot kernel) in QEMU and reads its
serial console.

    with Machine(kernel=build_path("hv/hv.elf"), cmdline="on_idle=exit", cpus=4) as m:
        m.wait_for(r"^hv: idle at (\\d+) us", timeout=30)
        assert m.wait_exit(timeout=30) == 1          # hv's exit 0 through isa-debug-exit

What it guarantees:
- Every QEMU it starts runs in its own process group and is killed with that whole group when the
  `with` block ends, pass or fail (KeyboardInterrupt included), and when `timeout` seconds have
  passed since the start. QEMU is also started with a parent-death signal, so it dies with the
  Python process even if that is killed outright. (The parent-death signal follows the thread that
  started QEMU: start machines from a thread that outlives them, as pytest's main thread does.)
- The serial output is copied, as it arrives, to tests/out/<name>.log in the build tree and to an
  in-memory buffer that wait_for() searches. Both hold the text with carriage returns and
  terminal escape sequences removed (the firmware and GRUB emit them).
- Failures raise AssertionError with the machine's name, the log path, the QEMU command line and
  the last 40 lines of the serial log, so that a failed test says what the machine was doing.
- Several machines may run at once: each has its own name, log file and threads.

Accelerator: TCG unless HV_ACCEL says otherwise ("kvm" forces KVM, "auto" uses KVM only if a short
probe boot of hv under KVM reaches idle and exits cleanly). The decision is taken once per run and
passed to pytest-xdist workers and child processes through HV_ACCEL_DECIDED.
"""

import atexit
import codecs
import hashlib
import os
import re
import shlex
import signal
import subprocess
import threading
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
QEMU = os.environ.get("HV_QEMU", "qemu-system-x86_64")
TAIL_LINES = 40

# isa-debug-exit: writing v to port 0xf4 ends QEMU with status (v << 1) | 1.
EXIT_STATUS_HV_OK = 1  # hv wrote 0 ("hv: exit 0")
EXIT_STATUS_HV_PANIC = 3  # hv wrote 1 ("hv: exit 1")


def build_dir():
    return Path(os.environ.get("HV_BUILDDIR") or TOP).resolve()


def source_dir():
    return Path(os.environ.get("HV_SRCDIR") or TOP).resolve()


def build_path(rel):
    """A file of the build tree (env HV_BUILDDIR, default the top of this tree)."""
    return str(build_dir() / rel)


def source_path(rel):
    """A file of the source tree (env HV_SRCDIR, default the top of this tree)."""
    return str(source_dir() / rel)


def out_dir():
    """tests/out in the build tree: serial logs, the ISO cache, test by-products."""
    path = build_dir() / "tests" / "out"
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------------------------------------
# GRUB ISOs

ISO_CACHE_KEEP = 24


def make_iso(kernel, cmdline="", modules=()):
    """Builds (or finds in the cache) a GRUB ISO booting `kernel` with `cmdline` and `modules`,
    a list of (path, args). Returns its path. The cache key is a hash of the kernel, the modules,
    their arguments and scripts/mkiso itself, so a rebuilt kernel gets a new ISO."""
    mkiso = source_path("scripts/mkiso")
    digest = hashlib.sha256()
    for part in [Path(mkiso).read_bytes(), Path(kernel).read_bytes(), cmdline.encode()]:
        digest.update(len(part).to_bytes(8, "little") + part)
    for path, args in modules:
        for part in [os.path.basename(path).encode(), Path(path).read_bytes(), args.encode()]:
            digest.update(len(part).to_bytes(8, "little") + part)
    cache = out_dir() / "iso-cache"
    cache.mkdir(exist_ok=True)
    iso = cache / (digest.hexdigest()[:24] + ".iso")
    if iso.exists():
        os.utime(iso)
        return str(iso)
    argv = [mkiso, str(iso), str(kernel), cmdline]
    for path, args in modules:
        argv += [str(path), args]
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise AssertionError(f"mkiso failed ({result.returncode}): {shlex.join(argv)}\n{result.stdout}")
    _prune_iso_cache(cache)
    return str(iso)


def _prune_iso_cache(cache):
    isos = sorted(cache.glob("*.iso"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in isos[ISO_CACHE_KEEP:]:
        try:
            old.unlink()
        except FileNotFoundError:
            pass


# ---------------------------------------------------------------------------------------------
# Accelerator

_accel = None
_accel_note = ""
IDLE_LINE = r"^hv: idle at (\d+) us"


def accel():
    """The accelerator of this run, "tcg" or "kvm", decided once (see the module comment)."""
    global _accel, _accel_note
    if _accel:
        return _accel
    decided = os.environ.get("HV_ACCEL_DECIDED")
    want = os.environ.get("HV_ACCEL", "tcg") or "tcg"
    if decided in ("tcg", "kvm"):
        _accel = decided
    elif want == "tcg":
        _accel = "tcg"
    elif want == "kvm":
        _accel, _accel_note = "kvm", "forced by HV_ACCEL=kvm"
    elif want == "auto":
        ok, why = _probe_kvm()
        _accel = "kvm" if ok else "tcg"
        _accel_note = ("HV_ACCEL=auto: " + why)
    else:
        raise ValueError(f"HV_ACCEL={want!r}: use tcg, kvm or auto")
    os.environ["HV_ACCEL_DECIDED"] = _accel
    return _accel


def accel_description():
    """One line for the start of the run: "accelerator: tcg" plus why, when it was probed."""
    name = accel()
    return f"accelerator: {name}" + (f" ({_accel_note})" if _accel_note else "")


def _probe_kvm():
    if not os.path.exists("/dev/kvm"):
        return False, "no /dev/kvm"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, "/dev/kvm not accessible"
    kernel = build_path("hv/hv.elf")
    if not os.path.exists(kernel):
        return False, f"no {kernel} to probe with"
    try:
        with Machine(kernel=kernel, cmdline="on_idle=exit", cpus=2, timeout=30, name="kvm-probe",
                     accelerator="kvm") as m:
            # QEMU stops (without exiting) on a KVM internal error: do not wait it out.
            seen = m.wait_for(IDLE_LINE + r"|^KVM internal error.*|^PANIC.*", timeout=20)
            if not seen.group(0).startswith("hv: idle"):
                return False, f"KVM probe boot failed: {seen.group(0)} (see {m.log_path})"
            status = m.wait_exit(timeout=10)
            if status != EXIT_STATUS_HV_OK or "PANIC" in m.output():
                return False, f"KVM probe boot ended with QEMU status {status}"
    except AssertionError as e:
        return False, "KVM probe boot failed: " + str(e).splitlines()[0]
    return True, "KVM probe boot reached idle"


# ---------------------------------------------------------------------------------------------
# Machines

_live = set()  # machines whose QEMU may still run: killed at interpreter exit at the latest
_live_lock = threading.Lock()
_names_in_use = set()
# Every machine started since the last call of take_started_machines() (conftest uses it to
# attach the serial logs of a failed test to its report).
_started = []

# CSI sequences, two-character escapes and character-set selections, as firmware and GRUB send.
_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[@-Z\\-_])")


def started_machines():
    return list(_started)


def take_started_machines():
    started = list(_started)
    _started.clear()
    return started


def _default_name():
    current = os.environ.get("PYTEST_CURRENT_TEST", "machine").split(" ")[0]
    current = current.split("::", 1)[-1]
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", current).strip("-") or "machine"


class Machine:
    """One QEMU machine; see the module comment. Arguments:
    kernel: a multiboot kernel (hv/hv.elf); iso: a bootable ISO; boot: "kernel" (QEMU -kernel,
    multiboot1) or "iso" (GRUB, multiboot2; built from kernel, cmdline and modules when no iso is
    given); cmdline: the kernel's command line; modules: [(path, args)]; cpus, mem: -smp and -m;
    timeout: seconds after which QEMU is killed whatever happens; name: names the log file
    (default: from the current test); extra_args: more QEMU arguments; accelerator: "tcg"/"kvm"
    (default accel())."""

    def __init__(self, kernel=None, iso=None, cmdline="", modules=(), cpus=1, mem="512M",
                 timeout=60, name=None, extra_args=(), boot=None, accelerator=None):
        if boot is None:
            boot = "iso" if iso else "kernel"
        if boot not in ("kernel", "iso"):
            raise ValueError(f"boot={boot!r}: use 'kernel' or 'iso'")
        if boot == "kernel" and not kernel:
            raise ValueError("boot='kernel' needs a kernel")
        if boot == "iso" and not (iso or kernel):
            raise ValueError("boot='iso' needs an iso or a kernel to build one from")
        self.kernel = str(kernel) if kernel else None
        self.iso = str(iso) if iso else None
        self.boot = boot
        self.cmdline = cmdline
        self.modules = [(str(p), a) for p, a in modules]
        self.cpus = cpus
        self.mem = mem
        self.timeout = timeout
        self.extra_args = list(extra_args)
        self.accelerator = accelerator or accel()
        self.name = self._claim_name(name or _default_name())
        self.log_path = str(out_dir() / f"{self.name}.log")
        self.argv = None
        self.timed_out = False
        self.started_at = None
        self._proc = None
        self._log = None
        self._chunks = []
        self._text = ""
        self._eof = False
        self._cond = threading.Condition()
        self._reap_lock = threading.Lock()  # reaping and killing never race (pid reuse)
        self._reader = None
        self._watchdog = None

    @staticmethod
    def _claim_name(name):
        with _live_lock:
            unique, n = name, 2
            while unique in _names_in_use:
                unique, n = f"{name}.{n}", n + 1
            _names_in_use.add(unique)
            return unique

    # -- starting and stopping -----------------------------------------------------------------

    def qemu_args(self):
        """The QEMU command line (without the parent-death wrapper)."""
        # No -nographic: with it SeaBIOS (and GRUB through it) also write to COM1, and SeaBIOS
        # leaves "Booting from ROM.." without a newline, so the kernel's first line would not
        # start a line. Without it COM1 carries the kernel's output alone.
        # Under KVM here (PVM, DESIGN.md decision 11) "-cpu max" means the host's CPU, whose
        # IA32_ARCH_CAPABILITIES MSR (0x10a) QEMU then fails to set and aborts: leave it out.
        cpu = "max,-arch-capabilities" if self.accelerator == "kvm" else "max"
        args = [QEMU, "-machine", "q35", "-accel", self.accelerator, "-cpu", cpu,
                "-m", self.mem, "-smp", str(self.cpus), "-no-reboot",
                "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                "-display", "none", "-monitor", "none"]
        if self.boot == "kernel":
            args += ["-kernel", self.kernel]
            if self.cmdline:
                args += ["-append", self.cmdline]
            if self.modules:
                # QEMU's multiboot -initrd: "path args" per module, separated by commas; a comma
                # inside is written twice.
                args += ["-initrd", ",".join(f"{p} {a}".strip().replace(",", ",,")
                                             for p, a in self.modules)]
        else:
            args += ["-cdrom", self.iso]
        return args + self.extra_args

    def start(self):
        if self._proc:
            raise RuntimeError(f"{self.name}: already started")
        if self.boot == "iso" and not self.iso:
            self.iso = make_iso(self.kernel, self.cmdline, self.modules)
        self.argv = self.qemu_args()
        self._log = open(self.log_path, "w", encoding="utf-8")
        self._log.write(f"# {shlex.join(self.argv)}\n")
        self._log.flush()
        _started.append(self)
        with _live_lock:
            _live.add(self)
        self.started_at = time.monotonic()
        self._proc = subprocess.Popen(["setpriv", "--pdeathsig", "KILL", "--"] + self.argv,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        self._reader = threading.Thread(target=self._read_serial, name=f"serial-{self.name}",
                                        daemon=True)
        self._reader.start()
        self._watchdog = threading.Timer(self.timeout, self._expire)
        self._watchdog.daemon = True
        self._watchdog.start()
        return self

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()
        return False

    def kill(self):
        """Kills QEMU's whole process group now (if it still runs)."""
        with self._reap_lock:
            if self._proc and self._proc.returncode is None:
                try:
                    os.killpg(self._proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def close(self):
        """Kills and reaps QEMU, waits for the rest of its output, closes the log. Idempotent."""
        try:
            if self._watchdog:
                self._watchdog.cancel()
            if self._proc:
                self.kill()
                with self._reap_lock:
                    self._proc.wait()
                for f in (self._proc.stdin, self._proc.stdout):
                    try:
                        f.close()
                    except (OSError, ValueError):
                        pass
        finally:
            if self._reader:
                self._reader.join(timeout=5)
            if self._log and not self._log.closed:
                self._log.close()
            with _live_lock:
                _live.discard(self)
                _names_in_use.discard(self.name)

    def _expire(self):
        self.timed_out = True
        self.kill()

    def _read_serial(self):
        fd = self._proc.stdout.fileno()
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        pending = ""
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            text = pending + decoder.decode(data, final=not data)
            pending = ""
            text = _ESCAPE.sub("", text).replace("\r", "")
            if data:
                # An escape sequence cut at the end of the chunk waits for its rest.
                cut = text.rfind("\x1b")
                if cut >= 0 and len(text) - cut < 32:
                    text, pending = text[:cut], text[cut:]
            if text:
                self._log.write(text)
                self._log.flush()
                with self._cond:
                    self._chunks.append(text)
                    self._cond.notify_all()
            if not data:
                break
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    # -- reading and writing the console ---------------------------------------------------------

    def _joined(self):
        # Called with self._cond held.
        if self._chunks:
            self._text += "".join(self._chunks)
            self._chunks.clear()
        return self._text

    def output(self):
        """All serial output so far."""
        with self._cond:
            return self._joined()

    def mark(self):
        """The current end of the output, to pass to wait_for(since=...) so that only output from
        now on is searched."""
        return len(self.output())

    def wait_for(self, regex, timeout=30, since=0):
        """Waits until a complete line of output (from offset `since` on) matches `regex`
        (re.MULTILINE) and returns the match. Raises AssertionError when `timeout` seconds pass,
        when QEMU exits first, or when the machine's own timeout kills it."""
        __tracebackhide__ = True  # pytest: the failure message says it all
        pattern = re.compile(regex, re.MULTILINE) if isinstance(regex, str) else regex
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                text = self._joined()
                # Only whole lines: a line still arriving could match on a prefix of its number.
                end = len(text) if self._eof else text.rfind("\n") + 1
                found = pattern.search(text, since, max(end, since))
                if found:
                    return found
                if self._eof:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(left, 1.0))
        if self.timed_out:
            self._fail(f"killed after its timeout of {self.timeout} s while waiting for "
                       f"{pattern.pattern!r}")
        if self._eof:
            status = self._wait_reaped(5)
            self._fail(f"QEMU exited (status {status}) before a line matched {pattern.pattern!r}")
        self._fail(f"no line matched {pattern.pattern!r} within {timeout} s")

    def send(self, text):
        """Types `text` into the serial console (QEMU's stdin)."""
        __tracebackhide__ = True  # pytest: the failure message says it all
        data = text.encode() if isinstance(text, str) else text
        try:
            self._proc.stdin.write(data)
            self._proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError) as e:
            self._fail(f"cannot send {text!r} to the console: {e}")

    def wait_exit(self, timeout=30):
        """Waits for QEMU to exit and returns its status (isa-debug-exit: (v << 1) | 1; 0 for a
        shutdown or, with -no-reboot, a reset). Raises AssertionError on timeout, and when the
        machine's own timeout killed it."""
        __tracebackhide__ = True  # pytest: the failure message says it all
        status = self._wait_reaped(timeout)
        if status is None:
            self._fail(f"QEMU did not exit within {timeout} s")
        self._reader.join(timeout=5)
        if self.timed_out:
            self._fail(f"killed after its timeout of {self.timeout} s")
        return status

    @property
    def status(self):
        """QEMU's exit status, or None while it runs."""
        with self._reap_lock:
            return self._proc.poll() if self._proc else None

    def _wait_reaped(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            with self._reap_lock:
                status = self._proc.poll()
            if status is not None or time.monotonic() >= deadline:
                return status
            time.sleep(0.02)

    def tail(self, lines=TAIL_LINES):
        return "\n".join(self.output().splitlines()[-lines:])

    def _fail(self, what):
        __tracebackhide__ = True  # pytest: the failure message says it all
        raise AssertionError(
            f"machine {self.name}: {what}\n"
            f"  serial log: {self.log_path}\n"
            f"  qemu: {shlex.join(self.argv or [])}\n"
            f"--- last {TAIL_LINES} lines of the serial log ---\n{self.tail()}\n---")


def _kill_all_at_exit():
    with _live_lock:
        machines = list(_live)
    for m in machines:
        m.kill()


atexit.register(_kill_all_at_exit)
