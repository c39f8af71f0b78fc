"""guest-kernel booted natively: QEMU loads guest.elf by its multiboot1 header (the same image
hv and Xen load by its ELF notes) and it runs in ring 0 on its own GDT, IDT, page tables, local
APIC timer (one-shot, calibrated against the TSC; the PIT and the 8259 only serve calibration)
and COM1 console (input by IRQ 4 routed through the IOAPIC).

- without arguments it prints its banner, waits for three timer ticks and powers off through
  isa-debug-exit (QEMU status 1);
- with `shell`, pid 1 is an interactive shell on the serial console: the test types commands;
- without QEMU's isa-debug-exit device, power off goes through ACPI S5 (QEMU status 0).
"""

import re

from hvtest import Machine, build_path


def guest():
    return build_path("guest-kernel/guest.elf")


def test_native_banner_ticks_poweroff():
    with Machine(kernel=guest(), cmdline="", cpus=1, mem="512M", timeout=60,
                 name="guest-native-banner") as m:
        timer = m.wait_for(r"^native: timer: local APIC one-shot, (\d+) kHz", timeout=40)
        banner = m.wait_for(r"^hvguest 0\.1 on native: (\d+) pages free", timeout=40)
        m.wait_for(r"^tick 3 at (\d+) ns", timeout=20)
        m.wait_for(r"^native: power off", timeout=10)
        status = m.wait_exit(timeout=10)
    assert int(banner.group(1)) > 100000  # most of 512 MiB
    assert int(timer.group(1)) > 1000  # a calibrated APIC timer runs at MHz rates
    assert status == 1


def test_native_interactive_shell():
    with Machine(kernel=guest(), cmdline="shell", cpus=1, mem="512M", timeout=90,
                 name="guest-native-shell") as m:
        m.wait_for(r"^native: COM1 input by interrupt: IRQ 4 -> IOAPIC pin \d+", timeout=40)
        m.wait_for(r"^hvguest: starting /bin/sh$", timeout=40)  # its "$ " prompt ends no line
        m.send("echo typed into the console\r")
        m.wait_for(r"^(?:\$ )?typed into the console$", timeout=20)
        m.send("uptime\r")
        # Typed-ahead input is echoed when it arrives, so the shell's "$ " prompt may land at the
        # start of the command's output line instead of before the echo.
        up = m.wait_for(r"^(?:\$ )?uptime: (\d+)\.(\d{3}) s on native", timeout=60)
        m.send("nosuchprogram\r")
        m.wait_for(r"sh: nosuchprogram: not found", timeout=20)
        m.send("poweroff\r")
        m.wait_for(r"^native: power off", timeout=20)
        status = m.wait_exit(timeout=10)
    assert int(up.group(1)) < 60
    assert status == 1


class MachineWithoutDebugExit(Machine):
    """A machine without QEMU's isa-debug-exit device: only ACPI can power it off."""

    def qemu_args(self):
        args = super().qemu_args()
        i = args.index("-device")
        assert args[i + 1].startswith("isa-debug-exit")
        return args[:i] + args[i + 2:]


def test_native_acpi_poweroff():
    with MachineWithoutDebugExit(kernel=guest(), cmdline="-- echo acpi; poweroff", cpus=1,
                                 mem="512M", timeout=60, name="guest-native-acpi") as m:
        m.wait_for(r"^acpi$", timeout=40)
        m.wait_for(r"^native: power off", timeout=20)
        m.wait_for(r"^native: ACPI S5 \(PM1a_CNT 0x[0-9a-f]+, SLP_TYP \d+ from \\_S5\)", timeout=10)
        status = m.wait_exit(timeout=10)
    assert status == 0  # QEMU's own clean exit, not isa-debug-exit's (v << 1) | 1
