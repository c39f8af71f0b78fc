"""Unmodified Linux's block front end (Debian's xen-blkfront module) against dom0's blkback.

A domU from /boot/vmlinuz-* with a small initramfs (busybox-static and the kernel's own
xen-blkfront.ko) is created with `hvctl create ... --disk FILE`. Its /init loads the module,
waits for xvda, and through it:
- reports the size (sectors) and read-only flag dom0 advertised;
- reads the first MiB, which the host filled with random bytes (md5 compared here);
- copies that MiB to 2 MiB with dd conv=fsync (READ, WRITE and FLUSH_DISKCACHE requests as
  Linux makes them: its own segment layout and grants, read-only grants for writes);
- writes a marker at sector 100 and reads the copy back with O_DIRECT.
The host file then holds the copy and the marker. Skipped with the reason when /boot has no
vmlinuz, its xen-blkfront.ko is not installed, or busybox-static is missing. One Linux boot:
a few minutes under TCG. Logs: tests/out/block-linux.serial.log, block-linux.console.log.
"""

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from hvtest import accel, build_path

HV = build_path("hv/hv.elf")
GUEST = build_path("guest-kernel/guest.elf")
HV_MACHINE = build_path("tools/hv-machine/hv-machine")
HVCTL = build_path("tools/hvctl/hvctl")
BUSYBOX = os.environ.get("BUSYBOX", "/bin/busybox")
DISK_MIB = 8

pytestmark = pytest.mark.skipif(
    not all(os.path.exists(p) for p in (HV, GUEST, HV_MACHINE, HVCTL)),
    reason="hv, guest.elf or the tools are not built")

INIT = """#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
echo LINUX-BLK-START
insmod /xen-blkfront.ko
i=0
while [ ! -e /sys/block/xvda ] && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done
echo "xvda-size: $(cat /sys/block/xvda/size)"
echo "xvda-ro: $(cat /sys/block/xvda/ro)"
echo "md5-first-mib: $(dd if=/dev/xvda bs=65536 count=16 2>/dev/null | md5sum)"
dd if=/dev/xvda of=/dev/xvda bs=65536 count=16 seek=32 conv=fsync 2>&1 | tail -1
echo LINUXWROTE | dd of=/dev/xvda bs=512 seek=100 conv=sync,fsync 2>&1 | tail -1
echo "md5-copy: $(dd if=/dev/xvda bs=65536 count=16 skip=32 iflag=direct 2>/dev/null | md5sum)"
echo LINUX-BLK-DONE
poweroff -f
"""


def linux_kernel():
    env = os.environ.get("HV_LINUX_KERNEL")
    if env:
        return env
    found = sorted(p for p in os.listdir("/boot") if p.startswith("vmlinuz-")) \
        if os.path.isdir("/boot") else []
    return os.path.join("/boot", found[-1]) if found else None


def blkfront_module(kernel):
    version = os.path.basename(kernel)[len("vmlinuz-"):]
    for base in ("/usr/lib/modules", "/lib/modules"):
        path = os.path.join(base, version, "kernel/drivers/block/xen-blkfront.ko")
        if os.path.exists(path):
            return path
    return None


def make_initramfs(path, module):
    root = tempfile.mkdtemp(prefix="hvblkinit-")
    try:
        for sub in ("bin", "proc", "sys", "dev", "tmp"):
            os.makedirs(os.path.join(root, sub))
        shutil.copy(BUSYBOX, os.path.join(root, "bin", "busybox"))
        for applet in ("sh", "echo", "cat", "mount", "poweroff", "sleep", "dd", "insmod",
                       "md5sum", "tail"):
            os.symlink("busybox", os.path.join(root, "bin", applet))
        shutil.copy(module, os.path.join(root, "xen-blkfront.ko"))
        with open(os.path.join(root, "init"), "w") as f:
            f.write(INIT)
        os.chmod(os.path.join(root, "init"), 0o755)
        files = subprocess.run("find . | LC_ALL=C sort", shell=True, cwd=root,
                               capture_output=True, text=True, check=True).stdout
        with open(path, "wb") as out:
            subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root, input=files.encode(),
                           stdout=out, check=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def hvctl(d, *args, timeout=60):
    r = subprocess.run([HVCTL, "--machine", d, "--timeout", str(timeout), *args],
                       capture_output=True, text=True, timeout=timeout + 30)
    assert r.returncode == 0, f"hvctl {' '.join(args)}: {r.returncode} {r.stdout}{r.stderr}"
    return r.stdout


def test_linux_blkfront(tmp_path):
    kernel = linux_kernel()
    if not kernel or not os.access(kernel, os.R_OK):
        pytest.skip("no /boot/vmlinuz-* (apt-get install linux-image-amd64)")
    module = blkfront_module(kernel)
    if not module:
        pytest.skip(f"no xen-blkfront.ko for {kernel} (the matching linux-image package)")
    if not (os.access(BUSYBOX, os.X_OK) and shutil.which("cpio")):
        pytest.skip("no busybox-static or cpio")
    out = build_path("tests/out")
    os.makedirs(out, exist_ok=True)
    initramfs = str(tmp_path / "init.cpio")
    make_initramfs(initramfs, module)
    disk = str(tmp_path / "disk.img")
    first = os.urandom(1 << 20)
    with open(disk, "wb") as f:
        f.write(first)
        f.truncate(DISK_MIB << 20)

    d = tempfile.mkdtemp(prefix="hvblx-")
    serial = os.path.join(out, "block-linux.serial.log")
    console = ""
    try:
        r = subprocess.run([HV_MACHINE, "start", "--detach", "--dir", d, "--hv", HV, "--dom0",
                            GUEST, "--dom0-cmdline", "agent", "--cpus", "2", "--memory", "768",
                            "--accel", accel(), "--serial-log", serial, "--wait-agent", "120"],
                           capture_output=True, text=True, timeout=200)
        assert r.returncode == 0, r.stdout + r.stderr
        domid = hvctl(d, "create", kernel, "--ramdisk", initramfs, "--memory", "256",
                      "--cmdline", "console=hvc0 earlyprintk=xen", "--disk", disk, "--name",
                      "linux-blk").split()[0]
        end = time.monotonic() + 900
        while "LINUX-BLK-DONE" not in console:
            assert time.monotonic() < end, f"Linux did not finish: {console[-3000:]}"
            console += hvctl(d, "console", domid, "--once")
            time.sleep(1)
        hvctl(d, "destroy", domid)
    finally:
        with open(os.path.join(out, "block-linux.console.log"), "w") as f:
            f.write(console)
        subprocess.run([HV_MACHINE, "stop", "--dir", d], capture_output=True, timeout=90)
        shutil.rmtree(d, ignore_errors=True)

    md5 = hashlib.md5(first).hexdigest()
    assert re.search(r"blkfront: xvda: flush diskcache: enabled", console), console[-3000:]
    assert f"xvda-size: {DISK_MIB * 2048}\n" in console.replace("\r", ""), console[-3000:]
    assert "xvda-ro: 0" in console, console[-3000:]
    assert f"md5-first-mib: {md5}" in console, console[-3000:]
    assert f"md5-copy: {md5}" in console, console[-3000:]
    with open(disk, "rb") as f:
        data = f.read()
    assert data[2 << 20:3 << 20] == first, "the copy is not in the file"
    assert data[100 * 512:100 * 512 + 11] == b"LINUXWROTE\n"
    with open(serial, errors="replace") as f:
        log = f.read()
    assert "PANIC" not in log
    assert re.search(r"blkback: d\d+ vbd 51712 connected", log), log[-3000:]
