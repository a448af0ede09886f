"""Shared pieces of the guest tests and the boot benchmark: fetch the Debian
arm64 guest (scripts/guest-arm64), build a per-test initramfs archive, boot
an emulator with it and capture the serial console."""
import hashlib
import os
import re
import shutil
import subprocess
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
    """VALUE of the first console line KEY=VALUE a test script printed."""
    m = re.search(r"^%s=(.*)$" % re.escape(key), console, re.M)
    return m.group(1).strip() if m else None


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


class Boot:
    """One emulator run: console text, exit status, whether it timed out,
    seconds to the userspace marker (None if never seen) and in total;
    marks[m] is the time the console first showed each of markers."""

    def __init__(self, argv, timeout, markers=(), until=None, actions=None):
        self.argv = argv
        self.until = until  # (text, n): stop the emulator once text shows n times (its line ended)
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
        mark = self.until[0].encode() if self.until else b""
        # Once the marker's line is complete: the UART sends it byte by
        # byte, and "test.sh exited" without its " 0" fails the check.
        if self.until and not self.stopped and buf.count(mark) >= self.until[1] and \
                b"\n" in buf[buf.rfind(mark):]:
            self.stopped = True
            self.proc.kill()

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


def workdir():
    return tempfile.mkdtemp(prefix="tessera-guest-")
