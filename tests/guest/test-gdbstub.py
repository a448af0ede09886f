#!/usr/bin/env python3
"""guest suite: Debian's gdb-multiarch debugging a Linux guest through
tessera's gdb stub (-S -gdb tcp::PORT), one boot per arch. TAP output.

    test-gdbstub.py TESSERA arm64|amd64

The guest starts paused with -smp 2. gdb -batch attaches (two threads, one
per vCPU) and continues; the guest's test script prints the addresses of
a syscall entry (the newuname syscall, which busybox's `uname` calls) and
of linux_banner from /proc/kallsyms (on arm64, without data symbols
there, _text plus the banner's offset in the Image), then runs `uname` in a loop. On that
line the test interrupts gdb (SIGINT: gdb sends the 0x03 byte), and gdb
goes on with a second command file written with those addresses: a
breakpoint there, continue to it, the pc equals the symbol, info
registers, stepi moves the pc, x/4xw of linux_banner reads "Linux
version", a read watchpoint on the pt_regs slot the syscall wrapper reads
stops there, info threads, delete, detach; the guest then runs to its end.

Why not System.map: Debian's linux-image package ships a stub System.map
("The real System.map is in the linux-image-<version>-dbg package"); the
kernel's own /proc/kallsyms gives the same addresses (the run's, KASLR or
not) without the -dbg download.

gdb-multiarch missing: the whole file is skipped (TAP plan 1..0 # SKIP).
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from guestlib import value  # noqa: E402
from tesstest import check, tap_report  # noqa: E402

BOOT_TIMEOUT = 300  # the meson timeout is 600 s
GDB_TIMEOUT = 240

ARCH = {
    # watch: the syscall argument the wrapper reads from its pt_regs (arm64
    # regs[0]; x86-64 di, 14th of pt_regs), its first argument register.
    "arm64": {"func": "__arm64_sys_newuname", "pc": "pc", "watch": "$x0",
              "argv": lambda emu, parts, initrd: guestlib.emulator_argv(
                  emu, parts["KERNEL"], initrd, smp=2, mem="512M")},
    "amd64": {"func": "__x64_sys_newuname", "pc": "rip", "watch": "$rdi + 112",
              "argv": lambda emu, parts, initrd: [
                  emu, "-M", "q35", "-cpu", "qemu64", "-smp", "2", "-m", "512M",
                  "-nographic", "-no-reboot", "-kernel", parts["KERNEL"], "-initrd", initrd,
                  "-append", guestlib.AMD64_CMDLINE]},
}

SCRIPT = """\
sym() {{ grep -w "$1" /proc/kallsyms | head -n 1 | cut -d' ' -f1; }}
echo "GDB-FUNC=$(sym {func})"
echo "GDB-BANNER=$(sym linux_banner)"
echo "GDB-STEXT=$(sym _stext)"
echo "GDB-READY"
i=0
while [ $i -lt 150 ]; do uname >/dev/null; sleep 0.1; i=$((i + 1)); done
echo "GDB-LOOP-DONE"
"""

PHASE1 = """\
set pagination off
set confirm off
target remote 127.0.0.1:{port}
echo PHASE1-THREADS\\n
info threads
continue
echo AFTER-INTERRUPT\\n
source {phase2}
"""

PHASE2 = """\
printf "PC-AT-INTERRUPT=%lx\\n", ${pc}
break *0x{func}
continue
printf "PC-AT-BREAK=%lx\\n", ${pc}
info registers
stepi
printf "PC-AFTER-STEPI=%lx\\n", ${pc}
x/4xw 0x{banner}
delete
set $wa = (long)({watch})
rwatch *(long *)$wa
continue
printf "PC-AT-WATCH=%lx\\n", ${pc}
echo PHASE2-THREADS\\n
info threads
delete
detach
echo GDB-DONE\\n
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def listening(port):
    """The port is in LISTEN state (without connecting: a connection is a
    debugger attaching)."""
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                for line in f.readlines()[1:]:
                    parts = line.split()
                    if parts[1].endswith(":%04X" % port) and parts[3] == "0A":
                        return True
        except OSError:
            pass
    return False


class Gdb:
    """gdb-multiarch -batch in a thread, once tessera listens."""

    def __init__(self, port, phase1):
        self.port = port
        self.phase1 = phase1
        self.proc = None
        self.out = ""
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self):
        deadline = time.time() + 30
        while not listening(self.port) and time.time() < deadline:
            time.sleep(0.1)
        self.proc = subprocess.Popen(["gdb-multiarch", "-nx", "-batch", "-x", self.phase1],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        try:
            out, _ = self.proc.communicate(timeout=GDB_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        self.out = out.decode(errors="replace")

    def interrupt(self, boot):
        for _ in range(100):
            if self.proc:
                break
            time.sleep(0.1)
        time.sleep(0.5)
        if self.proc:
            self.proc.send_signal(signal.SIGINT)  # gdb sends 0x03 to the stub


def banner_address(parts, console):
    """linux_banner's address: from /proc/kallsyms where it has data symbols
    (amd64: CONFIG_KALLSYMS_ALL), else (arm64) _text plus the banner's offset
    in the uncompressed Image, which is laid out as mapped from _text.
    kallsyms without data symbols lists nothing below _stext, which arm64's
    vmlinux.lds.S puts at the first SEGMENT_ALIGN (64 KiB) after _text (the
    Image header and .head.text)."""
    banner = hexval(console, "GDB-BANNER")
    stext = hexval(console, "GDB-STEXT")
    text = stext - 0x10000 if stext is not None else None
    if banner is None and text is not None:
        with open(parts["KERNEL"], "rb") as f:
            off = f.read().find(b"Linux version 6.")
        banner = text + off if off >= 0 else None
    return banner


def hexval(text, key):
    v = value(text, key)
    try:
        return int(v, 16)
    except (TypeError, ValueError):
        return None


def run(emu, arch, wd):
    a = ARCH[arch]
    parts = guestlib.guest_parts(arch=arch)
    initrd = guestlib.make_initrd(wd, parts["INITRD"], SCRIPT.format(func=a["func"]))
    port = free_port()
    phase1 = os.path.join(wd, "phase1.gdb")
    phase2 = os.path.join(wd, "phase2.gdb")
    with open(phase1, "w") as f:
        # GDBSTUB_DEBUG=1: gdb logs the remote protocol (into the report).
        f.write(("set debug remote 1\n" if os.environ.get("GDBSTUB_DEBUG") else "") +
                PHASE1.format(port=port, phase2=phase2))
    with open(phase2, "w") as f:
        f.write("echo NO-ADDRESSES\\n\n")  # replaced when the guest prints them
    gdb = Gdb(port, phase1)
    seen = {}

    def ready(boot):
        gdb.interrupt(boot)

    def write_phase2(text):
        func = value(text, "GDB-FUNC")
        banner = banner_address(parts, text)
        with open(phase2, "w") as f:
            f.write(PHASE2.format(pc=a["pc"], func=func, banner="%x" % (banner or 0),
                                  watch=a["watch"]))
        seen["banner"] = banner

    class Console(guestlib.Boot):
        buf = b""

        def _see(self, buf, t0):
            if b"GDB-READY" in buf and "phase2" not in seen:
                seen["phase2"] = True
                write_phase2(buf.decode(errors="replace"))
            super()._see(buf, t0)

    argv = a["argv"](emu, parts, initrd) + ["-S", "-gdb", "tcp::%d" % port]
    b = Console(argv, BOOT_TIMEOUT, actions={"GDB-READY": ready})
    gdb.thread.join(timeout=GDB_TIMEOUT)
    print("# %s %s: %.1f s in all" % (os.path.basename(emu), arch, b.elapsed), file=sys.stderr)
    c, g = b.console, gdb.out
    func, banner = hexval(c, "GDB-FUNC"), seen.get("banner")
    detail = "%s\n--- gdb ---\n%s" % (b.tail(), g[-3000:])
    if os.environ.get("GDBSTUB_DEBUG"):
        with open(os.environ["GDBSTUB_DEBUG"], "w") as f:
            f.write(g)
    check("%s: -S: gdb attaches and sees one thread per vCPU (2)" % arch,
          "PHASE1-THREADS" in g and " 2    Thread 2" in g and " 1    Thread 1" in g, detail)
    check("%s: the guest printed the symbols from /proc/kallsyms" % arch,
          func and banner and "GDB-READY" in c, detail)
    check("%s: Ctrl-C (0x03) stops the running guest" % arch,
          "received signal SIGINT" in g and value(g, "PC-AT-INTERRUPT") is not None, detail)
    check("%s: continue stops at the breakpoint: pc == %s" % (arch, a["func"]),
          func is not None and hexval(g, "PC-AT-BREAK") == func, detail)
    regs = ["x0", "x30", "sp", "pc", "cpsr", "fpsr", "sctlr_el1"] if arch == "arm64" else \
        ["rax", "r15", "rip", "eflags", "cs", "fs_base", "cr3"]
    check("%s: info registers lists %s" % (arch, " ".join(regs)),
          all(("\n%s " % r) in g for r in regs), detail)
    after = hexval(g, "PC-AFTER-STEPI")
    check("%s: stepi moves the pc by one instruction" % arch,
          func is not None and after is not None and after != func and 0 < after - func <= 16,
          detail)
    want = "0x756e694c\t0x65762078\t0x6f697372\t0x2e36206e"  # "Linux version 6."
    check("%s: x/4xw linux_banner reads 'Linux version 6.' through the MMU" % arch,
          banner is not None and ("%x" % banner) in g and want in g, detail)
    at_watch = hexval(g, "PC-AT-WATCH")
    check("%s: a read watchpoint on the pt_regs argument stops in the syscall" % arch,
          "read watchpoint" in g and "Value = " in g and func is not None and
          at_watch is not None and 0 < at_watch - func < 256, detail)
    check("%s: info threads after the stop still shows both vCPUs" % arch,
          g.count("Thread 2") >= 2, detail)
    check("%s: detach lets the guest run to its end, tessera exits 0" % arch,
          "GDB-DONE" in g and "GDB-LOOP-DONE" in c and
          "tessera-guest: test.sh exited 0" in c and b.status == 0, detail)


def main():
    if len(sys.argv) < 3 or sys.argv[2] not in ARCH:
        print(__doc__)
        return 2
    if not shutil.which("gdb-multiarch"):
        print("TAP version 13\n1..0 # SKIP gdb-multiarch is not installed "
              "(apt-get install gdb-multiarch; scripts/install-deps)")
        return 0
    wd = guestlib.workdir()
    try:
        run(sys.argv[1], sys.argv[2], wd)
    except guestlib.GuestError as e:
        check("guest parts prepared", False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
