"""Console input on hv: what is typed on COM1 reaches dom0's shell.

hv polls the UART on CPU 0's timer interrupt, queues the bytes, raises VIRQ_CONSOLE to dom0,
and dom0 (guest-kernel with `shell`) reads them with console_io(CONSOLEIO_read). The test types
commands through the serial console and reads their output on hv's console ("(d0) " lines).
"""

from hvtest import Machine, build_path


def test_dom0_shell_typed_on_hv():
    with Machine(kernel=build_path("hv/hv.elf"), cmdline="on_dom0_exit=exit",
                 modules=[(build_path("guest-kernel/guest.elf"), "shell")],
                 cpus=1, mem="512M", timeout=120, name="console-input-hv") as m:
        m.wait_for(r"^\(d0\) hvguest: starting /bin/sh$", timeout=60)
        m.send("echo typed-on-hv\r")
        m.wait_for(r"^\(d0\) (?:\$ )?typed-on-hv\s*$", timeout=20)
        m.send("uptime\r")
        m.wait_for(r"^\(d0\) (?:\$ )?uptime: \d+\.\d{3} s on xen-pv", timeout=20)
        m.send("poweroff\r")
        m.wait_for(r"^domain 0 shutdown: poweroff", timeout=30)
        m.wait_exit(timeout=30)
        out = m.output()
    assert "VIRQ_CONSOLE not bound" not in out
    assert "panic" not in out and "PANIC" not in out
