"""Debian's Linux kernel and the test initramfs, as the Linux system tests use them.

The kernel is the newest /boot/vmlinuz-* (package linux-image-amd64) or $HV_LINUX_KERNEL; the
initramfs is built at test time from Debian's busybox-static by tests/linux/make-initramfs.sh.
Both skip the test, with the reason, when the machine does not have what they need.
"""

import glob
import os
import subprocess

import pytest

from hvtest import build_path, source_path


def linux_kernel():
    """The kernel's path, or None."""
    env = os.environ.get("HV_LINUX_KERNEL")
    if env:
        return env
    found = sorted(glob.glob("/boot/vmlinuz-*"))
    return found[-1] if found else None


def require_linux_kernel():
    k = linux_kernel()
    if not k or not os.access(k, os.R_OK):
        pytest.skip("no /boot/vmlinuz-* (apt-get install linux-image-amd64)")
    return k


def build_test_initramfs(filename, loops):
    """Builds tests/out/<filename> (a file per test module: modules may build at the same time)
    whose /init runs the checks with a fork/exec loop of `loops`; returns its path."""
    out_dir = build_path("tests/out")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, filename)
    r = subprocess.run(["sh", source_path("tests/linux/make-initramfs.sh"), path, str(loops)],
                       capture_output=True, text=True)
    if r.returncode == 2:
        pytest.skip(r.stderr.strip())
    assert r.returncode == 0, r.stderr
    return path
