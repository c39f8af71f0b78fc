"""pytest fixtures of the virthvd system tests: a virthvd with the SIMULATED backend (backend=sim)
in a temporary directory, reached by the stock clients through
hv+unix:///system?socket=<dir>/virthvd-sock, and helpers to run virsh against it."""

import os
import signal
import socket
import subprocess
import threading
import time

import pytest

BUILDDIR = os.environ.get("HV_BUILDDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
VIRTHVD = os.path.join(BUILDDIR, "daemon", "virthvd")

GUEST_XML = """<domain type='hv'>
  <name>{name}</name>
  <uuid>{uuid}</uuid>
  <memory unit='KiB'>1048576</memory>
  <currentMemory unit='KiB'>524288</currentMemory>
  <vcpu placement='static'>{vcpus}</vcpu>
  <os>
    <type arch='x86_64'>linux</type>
    <kernel>/var/lib/hv/images/guest-kernel.elf</kernel>
  </os>
  <devices>{disk}
    <interface type='bridge'>
      <mac address='00:16:3e:00:00:{mac:02x}'/>
      <source bridge='br0'/>
      <target dev='vif{mac}.0'/>
    </interface>
    <console type='pty'>
      <target type='xen' port='0'/>
    </console>
  </devices>
</domain>
"""


DISK_XML = """
    <disk type='file' device='disk'>
      <source file='/var/lib/hv/images/{name}.img'/>
      <target dev='xvda' bus='xen'/>
    </disk>"""


def guest_xml(name, n, vcpus=2, disk=False):
    """Domain XML of a small PV guest; n (1..255) makes its UUID and MAC unique."""
    return GUEST_XML.format(name=name, uuid="5c3f2c2a-8e1b-4f6e-9d1a-0b0c0d0e0f%02x" % n,
                            vcpus=vcpus, mac=n, disk=DISK_XML.format(name=name) if disk else "")


class Daemon:
    """A running virthvd (simulated machine: 2 CPUs, 4 GiB) in its own directory."""

    def __init__(self, tmp):
        self.dir = str(tmp)
        self.sock = os.path.join(self.dir, "virthvd-sock")
        self.sock_ro = os.path.join(self.dir, "virthvd-sock-ro")
        self.uri = "hv+unix:///system?socket=" + self.sock
        self.uri_ro = "hv+unix:///system?socket=" + self.sock_ro
        self.log = os.path.join(self.dir, "virthvd.log")
        self.conf = os.path.join(self.dir, "virthvd.conf")
        with open(self.conf, "w") as f:
            f.write("[virthvd]\nbackend=sim\nsim_cpus=2\nsim_memory_kib=4194304\n"
                    "log_level=debug\nmax_clients=2000\n")
        self.proc = None

    def start(self):
        logf = open(self.log, "a")
        self.proc = subprocess.Popen(
            [VIRTHVD, "--config", self.conf, "--socket-dir", self.dir,
             "--state-dir", os.path.join(self.dir, "state")],
            stdout=logf, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("virthvd exited with %d:\n%s" % (self.proc.returncode,
                                                                     self.log_text()))
            if os.path.exists(self.sock_ro):
                return
            time.sleep(0.05)
        raise RuntimeError("virthvd did not create its sockets:\n" + self.log_text())

    def stop(self):
        """SIGTERM; returns the exit status (0 expected for a clean shutdown)."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def alive(self):
        return self.proc.poll() is None

    def wait_log(self, text, count=1, timeout=15):
        """Waits until text occurs count times in the daemon's log (debug level logs every
        call), so that tests wait for what happened rather than for a guessed time."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.log_text().count(text) >= count:
                return
            time.sleep(0.05)
        raise AssertionError("%r not logged %d times:\n%s" % (text, count, self.log_text()))

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def virsh(self, *args, ro=False, check=True, timeout=30):
        """Runs virsh -c <uri> args...; returns the CompletedProcess (text)."""
        r = subprocess.run(["virsh", "-c", self.uri_ro if ro else self.uri] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("virsh %s failed (%d):\nstdout:%s\nstderr:%s" %
                                 (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def define(self, name, n, vcpus=2, disk=False):
        path = os.path.join(self.dir, name + ".xml")
        with open(path, "w") as f:
            f.write(guest_xml(name, n, vcpus, disk))
        return self.virsh("define", path)

    def connect(self, path=None):
        """A raw UNIX socket connection to the read-write socket (or path)."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path or self.sock)
        return s


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(tmp_path)
    d.start()
    yield d
    status = d.stop()
    assert status == 0, "virthvd did not shut down cleanly:\n" + d.log_text()
    assert not os.path.exists(d.sock), "the socket was not removed at shutdown"


_loop_started = False  # the default libvirt event loop of this process (one, for good)


def start_event_loop():
    import libvirt

    global _loop_started
    if _loop_started:
        return
    libvirt.virEventRegisterDefaultImpl()

    def run():
        while True:
            libvirt.virEventRunDefaultImpl()

    threading.Thread(target=run, daemon=True).start()
    _loop_started = True


class ConsoleReader:
    """Collects what a console stream receives, read on the event loop's thread when the stream
    says it is readable. A blocking st.recv() in the test's own thread can wait for good once
    the default event loop runs (python3-libvirt 9.0): recv finds nothing queued and drops the
    stream's lock; before it queues its wait for data, the event loop's thread reads the last
    packet of the console's output and queues it; recv then waits for a packet that never comes
    (the daemon, with nothing left to send, sits idle)."""

    def __init__(self, st):
        import libvirt

        self.st = st
        self.data = b""
        self.eof = False
        self.error = None
        self.cond = threading.Condition()
        st.eventAddCallback(libvirt.VIR_STREAM_EVENT_READABLE | libvirt.VIR_STREAM_EVENT_ERROR |
                            libvirt.VIR_STREAM_EVENT_HANGUP, self._ready, None)

    def _ready(self, st, events, opaque):
        try:
            chunk = st.recv(1 << 20)  # data is queued: this does not wait
        except Exception as e:  # libvirt.libvirtError
            chunk, self.error = b"", e
        with self.cond:
            if chunk == b"" or not isinstance(chunk, bytes):
                self.eof = True
                st.eventUpdateCallback(0)
            else:
                self.data += chunk
            self.cond.notify_all()

    def wait(self, done, timeout=30):
        """Waits until done(data) holds or the stream ends; returns the data received so far."""
        with self.cond:
            self.cond.wait_for(lambda: done(self.data) or self.eof, timeout)
            assert self.error is None, self.error
            return self.data

    def close(self):
        self.st.eventRemoveCallback()
