"""Shared pieces of the guest tests and the boot benchmark: fetch the Debian
arm64 guest (scripts/guest-arm64), build a per-test initramfs archive, boot
an emulator with it and capture the serial console."""
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

SRC_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
USERSPACE_MARKER = "tessera-guest: userspace"
CMDLINE = "console=ttyAMA0 panic=-1 cryptomgr.notests"
# Debian's amd64 kernel on q35/pc. no_timer_check: Linux's early check that
# the PIT reaches the IO-APIC waits a fixed number of TSC cycles for 4 timer
# ticks; when a loaded CI host starves tessera's main loop (which runs the
# PIT) for that long, the check panics ("IO-APIC + timer doesn't work!").
# Linux skips it the same way on hypervisors; the tests do not study it.
AMD64_CMDLINE = "console=ttyS0 panic=-1 cryptomgr.notests no_timer_check"


class GuestError(Exception):
    """The guest parts could not be prepared (not a guest failure)."""


def guest_parts(tools=False, arch="arm64"):
    """Run scripts/guest-ARCH (cached after the first time); returns its
    KEY=VALUE output as a dict (KERNEL, INITRD, KVER, MODULES, and TOOLS
    with tools=True on arm64: Debian's blkdiscard and mkfs.ext4 archive)."""
    script = os.path.join(SRC_ROOT, "scripts", "guest-" + arch)
    p = subprocess.run([script] + (["--tools"] if tools else []), capture_output=True,
                       text=True)
    if p.returncode != 0:
        raise GuestError("scripts/guest-%s failed (status %d):\n%s"
                         % (arch, p.returncode, p.stderr.strip()))
    parts = dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)
    for key in ("KERNEL", "INITRD"):
        if not os.path.exists(parts.get(key, "")):
            raise GuestError("scripts/guest-%s gave no usable %s" % (arch, key))
    return parts


def amd64_parts():
    """scripts/guest-amd64's parts (Debian's amd64 kernel; no tools archive)."""
    return guest_parts(arch="amd64")


def value(console, key):
    """VALUE of the first console line KEY=VALUE a test script printed. A
    kernel message the console printed before the script's newline
    ("RESET-WRITE=0[    3.846159] nvme nvme0: ...") is not part of it."""
    m = re.search(r"^%s=(.*)$" % re.escape(key), console, re.M)
    return re.sub(r"\[\s*\d+\.\d{6}\] .*$", "", m.group(1)).strip() if m else None


def pattern(n, seed):
    """n deterministic bytes from seed (bytes): what the host writes to an
    image and later compares with what the guest read."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%s-%d" % (seed, i)).digest()
        i += 1
    return bytes(out[:n])


def assemble(workdir, name, source):
    """A static arm64 ELF from assembly source, with binutils-aarch64."""
    s = os.path.join(workdir, name + ".s")
    o = os.path.join(workdir, name + ".o")
    exe = os.path.join(workdir, name)
    with open(s, "w") as f:
        f.write(source)
    for argv in (["aarch64-linux-gnu-as", "-o", o, s],
                 ["aarch64-linux-gnu-ld", "-static", "-o", exe, o]):
        p = subprocess.run(argv, capture_output=True, text=True)
        if p.returncode != 0:
            raise GuestError("%s failed: %s" % (argv[0], p.stderr.strip()))
    return exe


def make_initrd(workdir, base, test_script, files=(), modules=(), extra=()):
    """base, then the archives in extra (e.g. TOOLS), then a gzip'd newc
    archive holding /test.sh, files (host paths, placed at /<basename>,
    mode 755) and modules (host .ko paths, placed in /modules/). Returns
    the concatenated initrd."""
    root = os.path.join(workdir, "test-root")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    with open(os.path.join(root, "test.sh"), "w") as f:
        f.write(test_script)
    os.chmod(os.path.join(root, "test.sh"), 0o755)
    for path in files:
        dst = os.path.join(root, os.path.basename(path))
        shutil.copy(path, dst)
        os.chmod(dst, 0o755)
    if modules:
        os.makedirs(os.path.join(root, "modules"))
        for path in modules:
            shutil.copy(path, os.path.join(root, "modules", os.path.basename(path)))
    names = []
    for d, dirs, fs in os.walk(root):
        rel = os.path.relpath(d, root)
        names += ([] if rel == "." else [rel]) + [os.path.normpath(os.path.join(rel, n))
                                                  for n in fs]
    cpio = subprocess.run(["cpio", "-o", "-H", "newc", "-R", "0:0", "--quiet"], cwd=root,
                          input=("\n".join(sorted(names)) + "\n").encode(),
                          capture_output=True)
    if cpio.returncode != 0:
        raise GuestError("cpio failed: %s" % cpio.stderr.decode(errors="replace"))
    gz = subprocess.run(["gzip", "-9n"], input=cpio.stdout, capture_output=True).stdout
    out = os.path.join(workdir, "initrd.cpio.gz")
    with open(out, "wb") as f:
        for path in [base] + list(extra):
            with open(path, "rb") as b:
                f.write(b.read())
        f.write(gz)
    return out


def module_files(parts, names):
    """Host paths of the .ko files that loading names needs, dependencies
    first and each once (modprobe --show-depends on the unpacked tree)."""
    mods = parts["MODULES"]
    root = os.path.dirname(os.path.dirname(os.path.dirname(mods)))  # .../linux
    out = []
    for name in names:
        p = subprocess.run(["modprobe", "-d", root, "-S", parts["KVER"], "--show-depends", name],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise GuestError("modprobe --show-depends %s: %s" % (name, p.stderr.strip()))
        for line in p.stdout.splitlines():
            f = line.split()
            if len(f) >= 2 and f[0] == "insmod" and f[1] not in out:
                out.append(f[1])
    return out


def insmod_script(files):
    """Shell lines loading files (from module_files) in order in the guest."""
    return "".join("insmod /modules/%s || echo 'INSMOD-FAILED %s'\n"
                   % (os.path.basename(f), os.path.basename(f)) for f in files)


def emulator_argv(emulator, kernel, initrd, smp=1, mem="512M", append=CMDLINE,
                  no_reboot=True, extra=()):
    """The same command line for tessera and qemu-system-aarch64; extra
    (-drive, -device, ...) goes at the end."""
    return ([emulator, "-M", "virt", "-cpu", "cortex-a57", "-smp", str(smp), "-m", mem,
             "-nographic"] + (["-no-reboot"] if no_reboot else [])
            + ["-kernel", kernel, "-initrd", initrd, "-append", append] + list(extra))


def arch_argv(arch, emu, kernel, initrd, smp=1, extra=()):
    """The command line of a test that boots either guest: -M virt as
    emulator_argv (arm64) or -M q35 -cpu qemu64 with Debian's amd64 kernel
    (amd64), 512M, extra at the end."""
    if arch == "arm64":
        return emulator_argv(emu, kernel, initrd, smp=smp, extra=extra)
    return ([emu, "-M", "q35", "-cpu", "qemu64", "-smp", str(smp), "-m", "512M", "-nographic",
             "-no-reboot", "-kernel", kernel, "-initrd", initrd, "-append", AMD64_CMDLINE]
            + list(extra))


class Boot:
    """One emulator run: console text, exit status, whether it timed out,
    seconds to the userspace marker (None if never seen) and in total;
    marks[m] is the time the console first showed each of markers."""

    def __init__(self, argv, timeout, markers=(), until=None, actions=None):
        self.argv = argv
        self.until = until  # (text, n): stop the emulator once text shows n times
        # {text: fn(boot)}: run fn once (in the console reader) when text
        # first shows; fn may talk to a monitor and send() console input.
        self.actions = dict(actions or {})
        self.stopped = False
        self.console = ""
        self.status = None
        self.timed_out = False
        self.t_marker = None
        self.markers = list(markers)
        self.marks = {}
        self._run(timeout)

    def _see(self, buf, t0):
        now = time.monotonic() - t0
        if self.t_marker is None and USERSPACE_MARKER.encode() in buf:
            self.t_marker = now
        for m in self.markers:
            if m not in self.marks and m.encode() in buf:
                self.marks[m] = now
        for text in [t for t in self.actions if t.encode() in buf]:
            self.actions.pop(text)(self)
        if self.until and not self.stopped and self._until_seen(buf):
            self.stopped = True
            self.proc.kill()

    def _until_seen(self, buf):
        """The until text shows n times and the line of its last showing
        is complete ("test.sh exited 0": the status after the text must
        not be cut off by the kill)."""
        text = self.until[0].encode()
        if buf.count(text) < self.until[1]:
            return False
        return b"\n" in buf[buf.rindex(text) + len(text):]

    def _reader(self, stream, t0):
        buf = b""
        while True:
            chunk = stream.read1(4096)
            if not chunk:
                break
            buf += chunk
            self._see(buf, t0)
        self.console = buf.decode(errors="replace").replace("\r\n", "\n")

    def _run(self, timeout):
        t0 = time.monotonic()
        # stdin stays an open pipe: EOF on stdin must not look like input.
        p = self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        reader = threading.Thread(target=self._reader, args=(p.stdout, t0))
        reader.start()
        try:
            self.status = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.timed_out = True
            p.kill()
            p.wait()
        self.elapsed = time.monotonic() - t0
        reader.join()
        p.stdin.close()

    def send(self, text):
        """Type text on the emulator's console (its stdin)."""
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def tail(self, n=30):
        lines = self.console.splitlines()
        return "\n".join(["last %d console lines of: %s" % (min(n, len(lines)),
                                                            " ".join(self.argv))]
                         + lines[-n:])


def guest_test_module(file_name, name):
    """Another guest test of this directory (file name with dashes) as a
    module: benchmarks and tests reuse its guest and helpers."""
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(os.path.dirname(os.path.abspath(__file__)), file_name))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def workdir():
    return tempfile.mkdtemp(prefix="tessera-guest-")


def make_qcow2(path, size, head=b""):
    """A qcow2 image (qemu-img) of size bytes at path, head at offset 0."""
    raw = path + ".in.raw"
    with open(raw, "wb") as f:
        f.truncate(size)
        f.write(head)
    subprocess.run(["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", raw, path],
                   check=True)
    os.unlink(raw)
    return path


def qcow2_raw(qcow2):
    """A raw copy of the qcow2 image (path + ".raw"), for the host's checks."""
    raw = qcow2 + ".raw"
    subprocess.run(["qemu-img", "convert", "-q", "-f", "qcow2", "-O", "raw", qcow2, raw],
                   check=True)
    return raw


def make_image(path, size, head=b"", fill=None):
    """A raw image of size bytes at path: sparse with head at offset 0, or
    every byte fill."""
    with open(path, "wb") as f:
        if fill is None:
            f.truncate(size)
            f.write(head)
        else:
            chunk = bytes([fill]) * (1 << 20)
            for at in range(0, size, len(chunk)):
                f.write(chunk[:size - at])
    return path


def image_md5(img, off, n):
    """md5 (hex) of the n bytes at off of a disk image as the guest saw
    them (qemu-img converts qcow2 to raw first)."""
    raw = qcow2_raw(img) if img.endswith(".qcow2") else img
    with open(raw, "rb") as f:
        f.seek(off)
        return hashlib.md5(f.read(n)).hexdigest()


def qmp_action(qmp_path, cmd, args, out, qtree=False):
    """A Boot action: one QMP command (out[cmd] its reply; then, with
    qtree, `info qtree` in out["qtree"]) while the guest waits at `read`,
    then "done" on the console to let it go. No qmp_path: only the latter
    (a run on another emulator)."""
    from tesstest import Qmp

    def act(b):
        if qmp_path:
            try:
                q = Qmp(qmp_path)
                q.negotiate()
                out[cmd] = q.cmd(cmd, args)
                if qtree:
                    out["qtree"] = q.cmd("human-monitor-command",
                                         {"command-line": "info qtree"}).get("return", "")
            except Exception as e:  # the checks report what is missing
                out[cmd] = {"error": repr(e)}
        b.send("done\n")
    return act


def check_ran(b, clean=True):
    """The two checks every boot starts with: the test script exited 0 and
    the guest powered off; no oops, panic or failed insmod on the console
    (clean: what the script found in dmesg agrees)."""
    from tesstest import check

    c = b.console
    check("the guest ran its test script and powered off (status 0)",
          not b.timed_out and "tessera-guest: test.sh exited 0" in c and b.status == 0,
          "exit status %s\n%s" % (b.status, b.tail()))
    check("no kernel oops, panic or failed insmod",
          "Internal error: Oops" not in c and "Kernel panic" not in c
          and "INSMOD-FAILED" not in c and clean, b.tail())


def arch_main(doc, run, argv=None):
    """main() of a test run as `TEST TESSERA [ARCH [EMULATOR]]`: ARCH arm64
    (default; Debian's arm64 parts with the tools archive) or amd64;
    run(arch, emu, parts, wd, tessera) with tessera true when EMULATOR is
    TESSERA; the TAP report's status."""
    from tesstest import check, tap_report

    argv = sys.argv if argv is None else argv
    if len(argv) < 2:
        print(doc)
        return 2
    arch = argv[2] if len(argv) > 2 else "arm64"
    emu = argv[3] if len(argv) > 3 else argv[1]
    wd = workdir()
    try:
        if arch not in ("arm64", "amd64"):
            check("known ARCH '%s'" % arch, False, doc)
        else:
            parts = guest_parts(tools=True) if arch == "arm64" else amd64_parts()
            run(arch, emu, parts, wd, emu == argv[1])
    except GuestError as e:
        check("guest parts prepared", False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


def ost_is(slot_type, slot, source, status):
    """An ACPI_DEVICE_OST data predicate: slot_type slot N reported (source,
    status)."""
    def pred(d):
        i = d.get("info", {})
        return (i.get("slot") == str(slot) and i.get("slot-type") == slot_type
                and i.get("source") == source and i.get("status") == status)
    return pred


def osts(q):
    """The infos of every ACPI_DEVICE_OST event q has seen, in order."""
    return [e["data"]["info"] for e in q.events if e.get("event") == "ACPI_DEVICE_OST"]


def check_ost_eject(infos, slot_type, slot):
    """The guest answered an eject request for slot_type slot N with _OST
    (3, 0x84) ejection in progress, then (3, 0) done (ACPI 6.4, 6.3.5)."""
    from tesstest import check

    dl = [(i.get("source"), i.get("status")) for i in infos or []
          if i.get("slot") == str(slot) and i.get("slot-type") == slot_type]
    check("the guest's _OST on the eject request: source 3 status 0x84 (ejection in progress), "
          "then 0 (done)", (3, 0x84) in dl and (3, 0) in dl and
          dl.index((3, 0x84)) < dl.index((3, 0)), repr(infos))


def check_boot(b, timeout):
    """The checks of a boot whose script ends in poweroff: no time-out, no
    panic, oops or soft lockup, the script ran to its end, exit status 0."""
    from tesstest import check

    check("did not time out (%d s)" % timeout, not b.timed_out, b.tail())
    check("no kernel panic, oops or soft lockup",
          all(s not in b.console for s in ("Kernel panic", "Oops", "soft lockup")), b.tail())
    check("the test script ran to its end", "tessera-guest: test.sh exited 0" in b.console,
          b.tail())
    check("poweroff ends the emulator with 0", b.status == 0,
          "exit status %s\n%s" % (b.status, b.tail()))


def emu_main(doc, run, arch=False, argv=None):
    """main() of a test run as `TEST TESSERA [EMULATOR]`: run(emu, wd) in a
    scratch directory; with arch, `TEST TESSERA ARCH [EMULATOR]` (ARCH
    amd64 or arm64) and run(emu, arch, wd). The TAP report's status."""
    from tesstest import check, tap_report

    argv = sys.argv if argv is None else argv
    if len(argv) < 2 or (arch and (len(argv) < 3 or argv[2] not in ("amd64", "arm64"))):
        print(doc)
        return 2
    at = 3 if arch else 2
    emu = argv[at] if len(argv) > at else argv[1]
    wd = workdir()
    try:
        if arch:
            run(emu, argv[2], wd)
        else:
            run(emu, wd)
    except GuestError as e:
        check("guest parts prepared", False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


def case_main(doc, cases, tools=()):
    """main() of a test run as `TEST TESSERA CASE [EMULATOR]`:
    cases[CASE](emu, parts, wd, tessera) with Debian's arm64 parts (and
    the tools archive for a CASE in tools), tessera true when EMULATOR is
    TESSERA; the TAP report's status."""
    from tesstest import check, tap_report

    if len(sys.argv) < 3:
        print(doc)
        return 2
    tessera, case = sys.argv[1], sys.argv[2]
    emu = sys.argv[3] if len(sys.argv) > 3 else tessera
    wd = workdir()
    try:
        parts = guest_parts(tools=case in tools)
        if case in cases:
            cases[case](emu, parts, wd, emu == tessera)
        else:
            check("known case '%s'" % case, False, doc)
    except GuestError as e:
        check("%s: guest parts prepared" % case, False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()


def check_alive(b, timeout):
    """A boot's first checks: no time-out, no panic or oops, every module
    loaded."""
    from tesstest import check

    c = b.console
    check("did not time out (%d s)" % timeout, not b.timed_out, b.tail())
    check("no kernel panic or oops", "Kernel panic" not in c and "Oops" not in c, b.tail())
    check("every module loaded", "INSMOD-FAILED" not in c, b.tail())


def xrgb_rgb(raw):
    """XRGB8888 pixels (B, G, R, X in memory) as the R, G, B bytes of a
    screendump."""
    out = bytearray()
    for i in range(0, len(raw), 4):
        out += bytes((raw[i + 2], raw[i + 1], raw[i]))
    return bytes(out)


def read_ppm(path):
    """(width, height, RGB bytes) of a binary PPM (screendump); (None,
    None, b"") when the file is missing or not one."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None, None, b""
    parts = data.split(b"\n", 3)
    if len(parts) < 4 or parts[0] != b"P6" or parts[2] != b"255":
        return None, None, b""
    w, h = (int(v) for v in parts[1].split())
    return w, h, parts[3]
