"""hv's boot, as its console reports it (/work/coord/hv-console.md is the contract; the regexes
here are its lines): boot from GRUB (ISO, multiboot2) and from QEMU -kernel (multiboot1), on 1 and
4 CPUs, to idle and out through isa-debug-exit; a fault on purpose and its panic report; the mem=
limit; the command line echo."""

import pytest

from hvtest import Machine, build_path

BANNER = r"^hv: hv (\S+) x86-64 starting"
CMDLINE = r"^hv: command line: (.*)$"
MEM = r"^mem: (\d+) MiB usable, (\d+) frames free"
TSC = r"^tsc: (\d+)\.(\d{3}) MHz"
ACPI = r"^acpi: (\d+) CPUs in MADT"
CPU_ONLINE = r"^smp: cpu {n} online \(apic id (\d+)\)"
ALL_ONLINE = r"^smp: (\d+) of (\d+) CPUs online"
IDLE = r"^hv: idle at (\d+) us"
EXIT_OK = r"^hv: exit 0$"

QEMU_STATUS_HV_EXIT_0 = 1  # isa-debug-exit: (0 << 1) | 1
QEMU_STATUS_HV_EXIT_1 = 3  # isa-debug-exit: (1 << 1) | 1


def hv():
    return build_path("hv/hv.elf")


@pytest.mark.parametrize("cpus", [1, 4])
@pytest.mark.parametrize("boot", ["iso", "kernel"])
def test_boot_to_idle(boot, cpus):
    with Machine(kernel=hv(), boot=boot, cmdline="on_idle=exit", cpus=cpus, mem="512M",
                 timeout=120, name=f"boot-{boot}-{cpus}cpu") as m:
        banner = m.wait_for(BANNER, timeout=60)
        cmdline = m.wait_for(CMDLINE)
        mem = m.wait_for(MEM)
        tsc = m.wait_for(TSC)
        acpi = m.wait_for(ACPI)
        online = [m.wait_for(CPU_ONLINE.format(n=n)) for n in range(cpus)]
        all_online = m.wait_for(ALL_ONLINE)
        idle = m.wait_for(IDLE)
        m.wait_for(EXIT_OK)
        status = m.wait_exit(timeout=30)
        output = m.output()

    # The banner is hv's first line (nothing else writes to COM1 before it).
    first_line = next(line for line in output.splitlines() if line.strip())
    assert first_line == banner.group(0).rstrip("\n")
    assert cmdline.group(1).strip() == "on_idle=exit"

    mib, frames = int(mem.group(1)), int(mem.group(2))
    assert 400 <= mib <= 512, f"{mib} MiB usable of -m 512M"
    assert 0 < frames <= mib * 256, f"{frames} free 4 KiB frames of {mib} MiB"

    mhz = int(tsc.group(1)) + int(tsc.group(2)) / 1000
    assert 100 <= mhz <= 20000, f"TSC at {mhz} MHz"

    assert int(acpi.group(1)) == cpus
    apic_ids = [int(match.group(1)) for match in online]
    assert len(set(apic_ids)) == cpus, f"APIC ids {apic_ids} are not distinct"
    assert (int(all_online.group(1)), int(all_online.group(2))) == (cpus, cpus)

    # Every CPU came online before hv said they all had, and hv reached idle after that.
    assert max(match.start() for match in online) < all_online.start() < idle.start()
    idle_us = int(idle.group(1))
    assert 0 < idle_us < 1_000_000, f"boot to idle took {idle_us} us"

    assert "PANIC" not in output
    assert status == QEMU_STATUS_HV_EXIT_0


def test_fault_on_purpose_reports_vector_and_address():
    with Machine(kernel=hv(), cmdline="selftest=fault on_panic=exit", cpus=1, timeout=90,
                 name="boot-fault") as m:
        panic = m.wait_for(r"^PANIC on cpu (\d+): (.*)$", timeout=60)
        vector = m.wait_for(r"^  vector (\d+) \((#\w+)\) error (0x[0-9a-f]+)", since=panic.start())
        rip = m.wait_for(r"^  rip (0x[0-9a-f]+)", since=panic.start())
        cr2 = m.wait_for(r"^  cr2 (0x[0-9a-f]+)", since=panic.start())
        backtrace = m.wait_for(r"^  backtrace:\n    (0x[0-9a-f]+)", since=panic.start())
        m.wait_for(r"^hv: exit 1$", since=panic.start())
        status = m.wait_exit(timeout=30)
        output = m.output()

    assert panic.group(1) == "0"
    assert (vector.group(1), vector.group(2)) == ("14", "#PF")
    # A read (W=0) by hv (U=0) of an unmapped page (P=0).
    assert int(vector.group(3), 16) & 0x7 == 0, f"page-fault error code {vector.group(3)}"
    assert int(cr2.group(1), 16) == 0xDEAD0000
    assert int(rip.group(1), 16) >= 0xFFFF800000000000, f"rip {rip.group(1)} is not in hv"
    assert int(backtrace.group(1), 16) != 0
    assert "hv: exit 0" not in output
    assert status == QEMU_STATUS_HV_EXIT_1


def test_mem_option_limits_usable_memory():
    with Machine(kernel=hv(), cmdline="mem=128M on_idle=exit", cpus=1, mem="512M", timeout=90,
                 name="boot-mem128") as m:
        mem = m.wait_for(MEM, timeout=60)
        m.wait_for(IDLE)
        status = m.wait_exit(timeout=30)
    mib = int(mem.group(1))
    assert 64 <= mib <= 128, f"{mib} MiB usable with mem=128M"
    assert status == QEMU_STATUS_HV_EXIT_0


@pytest.mark.parametrize("boot", ["iso", "kernel"])
def test_command_line_is_echoed(boot):
    line = "on_idle=exit loglvl=info console=com1 hello=world"
    with Machine(kernel=hv(), boot=boot, cmdline=line, cpus=1, timeout=90,
                 name=f"boot-cmdline-{boot}") as m:
        echoed = m.wait_for(CMDLINE, timeout=60)
        m.wait_for(IDLE)
        status = m.wait_exit(timeout=30)
    assert echoed.group(1).strip() == line
    assert status == QEMU_STATUS_HV_EXIT_0
