"""Unmodified Linux's block front end (Debian's xen-blkfront module) against dom0's blkback.

A domU from /boot/vmlinuz-* with a small initramfs (busybox-static and the kernel's own
modules: xen-blkfront, and ext4 with what it needs) is created with three disks,
`hvctl create ... --disk A --disk B,ro --disk C`. Its /init loads xen-blkfront and, through it:
- xvda: reports the size dom0 advertised; reads the first MiB, which the host filled with random
  bytes (md5 compared here); copies it to 2 MiB with dd conv=fsync (READ, WRITE and
  FLUSH_DISKCACHE as Linux makes them: its own segment layout, read-only grants for writes);
  writes a marker at sector 100; reads the copy back with O_DIRECT; discards 64 KiB at 4 MiB
  (blkdiscard), which the host then reads as zeroes with its neighbours untouched;
- xvdb (read-only): Linux sees it read-only and a direct write fails; the file is unchanged;
- xvdc: mke2fs, mount, a file and 1 MiB of random data written, umount; on the host, e2fsck
  finds the file system clean and debugfs reads back the same bytes.
Skipped with the reason when /boot has no vmlinuz, its modules are not installed, or
busybox-static, cpio or e2fsprogs are missing. One Linux boot. Logs:
tests/out/block-linux.serial.log, block-linux.console.log.
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
from linux_images import linux_kernel

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
insmod /mod/xen-blkfront.ko
i=0
while [ ! -e /sys/block/xvdc ] && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done
echo "xvda-size: $(cat /sys/block/xvda/size)"
echo "xvda-ro: $(cat /sys/block/xvda/ro)"
echo "md5-first-mib: $(dd if=/dev/xvda bs=65536 count=16 2>/dev/null | md5sum)"
dd if=/dev/xvda of=/dev/xvda bs=65536 count=16 seek=32 conv=fsync 2>&1 | tail -1
echo LINUXWROTE | dd of=/dev/xvda bs=512 seek=100 conv=sync,fsync 2>&1 | tail -1
echo "md5-copy: $(dd if=/dev/xvda bs=65536 count=16 skip=32 iflag=direct 2>/dev/null | md5sum)"
blkdiscard -o 4194304 -l 65536 /dev/xvda && echo "discard: done"
echo "xvdb-ro: $(cat /sys/block/xvdb/ro)"
if dd if=/dev/zero of=/dev/xvdb bs=512 count=1 oflag=direct 2>/dev/null; then
    echo "xvdb-write: done"
else
    echo "xvdb-write: refused"
fi
for m in crc16 mbcache jbd2 crc32c_generic ext4; do insmod /mod/$m.ko; done
mke2fs -q /dev/xvdc && echo "mke2fs: done"
mount -t ext2 /dev/xvdc /mnt && echo "mount: done"
echo hello-from-linux > /mnt/hello.txt
dd if=/dev/urandom of=/mnt/rand bs=65536 count=16 2>/dev/null
echo "md5-rand: $(md5sum /mnt/rand)"
umount /mnt && echo "umount: done"
echo LINUX-BLK-DONE
poweroff -f
"""


MODULES = ("drivers/block/xen-blkfront", "lib/crc16", "fs/mbcache", "fs/jbd2/jbd2",
           "crypto/crc32c_generic", "fs/ext4/ext4")


def kernel_modules(kernel):
    """The .ko files of MODULES for kernel, or None if one is missing."""
    version = os.path.basename(kernel)[len("vmlinuz-"):]
    for base in ("/usr/lib/modules", "/lib/modules"):
        paths = [os.path.join(base, version, "kernel", m + ".ko") for m in MODULES]
        if all(os.path.exists(p) for p in paths):
            return paths
    return None


def make_initramfs(path, modules):
    root = tempfile.mkdtemp(prefix="hvblkinit-")
    try:
        for sub in ("bin", "proc", "sys", "dev", "tmp", "mnt", "mod"):
            os.makedirs(os.path.join(root, sub))
        shutil.copy(BUSYBOX, os.path.join(root, "bin", "busybox"))
        for applet in ("sh", "echo", "cat", "mount", "umount", "poweroff", "sleep", "dd",
                       "insmod", "md5sum", "tail", "blkdiscard", "mke2fs"):
            os.symlink("busybox", os.path.join(root, "bin", applet))
        for m in modules:
            shutil.copy(m, os.path.join(root, "mod"))
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
    modules = kernel_modules(kernel)
    if not modules:
        pytest.skip(f"the modules of {kernel} are not installed (xen-blkfront, ext4, ...)")
    if not (os.access(BUSYBOX, os.X_OK) and shutil.which("cpio")):
        pytest.skip("no busybox-static or cpio")
    e2fsck, debugfs = shutil.which("e2fsck") or "/sbin/e2fsck", shutil.which("debugfs") or \
        "/sbin/debugfs"
    if not (os.access(e2fsck, os.X_OK) and os.access(debugfs, os.X_OK)):
        pytest.skip("no e2fsprogs (e2fsck, debugfs)")
    out = build_path("tests/out")
    os.makedirs(out, exist_ok=True)
    initramfs = str(tmp_path / "init.cpio")
    make_initramfs(initramfs, modules)
    disk_a, disk_b, disk_c = (str(tmp_path / n) for n in ("a.img", "b.img", "c.img"))
    first = os.urandom(1 << 20)
    with open(disk_a, "wb") as f:
        f.write(first)
        f.write(b"\xff" * ((DISK_MIB - 1) << 20))
    with open(disk_b, "wb") as f:
        f.write(b"\x11" * (2 << 20))
    with open(disk_c, "wb") as f:
        f.truncate(16 << 20)

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
                      "--cmdline", "console=hvc0 earlyprintk=xen", "--disk", disk_a, "--disk",
                      disk_b + ",ro", "--disk", disk_c, "--name", "linux-blk").split()[0]
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
    text = console.replace("\r", "")
    tail = text[-3000:]

    # xvda: data both ways, flush, discard.
    md5 = hashlib.md5(first).hexdigest()
    assert re.search(r"blkfront: xvda: flush diskcache: enabled", text), tail
    assert f"xvda-size: {DISK_MIB * 2048}\n" in text, tail
    assert "xvda-ro: 0" in text, tail
    assert f"md5-first-mib: {md5}" in text, tail
    assert f"md5-copy: {md5}" in text, tail
    assert "discard: done" in text, tail
    with open(disk_a, "rb") as f:
        data = f.read()
    assert data[2 << 20:3 << 20] == first, "the copy is not in the file"
    assert data[100 * 512:100 * 512 + 11] == b"LINUXWROTE\n"
    assert data[4 << 20:(4 << 20) + 65536] == bytes(65536), "the discarded range is not zero"
    assert data[(4 << 20) - 1] == 0xff and data[(4 << 20) + 65536] == 0xff, "discard too wide"

    # xvdb: read-only on both sides.
    assert "xvdb-ro: 1" in text, tail
    assert "xvdb-write: refused" in text, tail
    with open(disk_b, "rb") as f:
        assert f.read() == b"\x11" * (2 << 20), "the read-only disk changed"

    # xvdc: a file system Linux made through blkback, checked by the host's e2fsprogs.
    for step in ("mke2fs: done", "mount: done", "umount: done"):
        assert step in text, tail
    m = re.search(r"md5-rand: ([0-9a-f]{32})", text)
    assert m, tail
    r = subprocess.run([e2fsck, "-fn", disk_c], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([debugfs, "-R", "cat /hello.txt", disk_c], capture_output=True)
    assert r.stdout == b"hello-from-linux\n", r
    dump = str(tmp_path / "rand.out")
    subprocess.run([debugfs, "-R", f"dump /rand {dump}", disk_c], capture_output=True,
                   check=True)
    with open(dump, "rb") as f:
        assert hashlib.md5(f.read()).hexdigest() == m.group(1)

    with open(serial, errors="replace") as f:
        log = f.read()
    assert "PANIC" not in log
    assert len(re.findall(r"blkback: d\d+ vbd 517\d\d connected", log)) == 3, log[-3000:]
