"""guest-kernel booted natively: QEMU loads guest.elf by its multiboot1 header (the same image
hv and Xen load by its ELF notes) and it runs in ring 0 on its own GDT, IDT, page tables, PIT
timer and COM1 console.

- without arguments it prints its banner, waits for three timer ticks and powers off through
  isa-debug-exit (QEMU status 1);
- with `shell`, pid 1 is an interactive shell on the serial console: the test types commands.
"""

import re

from hvtest import Machine, build_path


def guest():
    return build_path("guest-kernel/guest.elf")


def test_native_banner_ticks_poweroff():
    with Machine(kernel=guest(), cmdline="", cpus=1, mem="512M", timeout=60,
                 name="guest-native-banner") as m:
        banner = m.wait_for(r"^hvguest 0\.1 on native: (\d+) pages free", timeout=40)
        m.wait_for(r"^tick 3 at (\d+) ns", timeout=20)
        m.wait_for(r"^native: power off", timeout=10)
        status = m.wait_exit(timeout=10)
    assert int(banner.group(1)) > 100000  # most of 512 MiB
    assert status == 1


def test_native_interactive_shell():
    with Machine(kernel=guest(), cmdline="shell", cpus=1, mem="512M", timeout=90,
                 name="guest-native-shell") as m:
        m.wait_for(r"^hvguest: starting /bin/sh$", timeout=40)  # its "$ " prompt ends no line
        m.send("echo typed into the console\r")
        m.wait_for(r"^typed into the console$", timeout=20)
        m.send("uptime\r")
        up = m.wait_for(r"^uptime: (\d+)\.(\d{3}) s on native", timeout=20)
        m.send("nosuchprogram\r")
        m.wait_for(r"sh: nosuchprogram: not found", timeout=20)
        m.send("poweroff\r")
        m.wait_for(r"^native: power off", timeout=20)
        status = m.wait_exit(timeout=10)
    assert int(up.group(1)) < 60
    assert status == 1
