"""Shared pieces of the machine tests that run tessera without a guest
(test-pc-machine, test-q35-machine, test-cpu-hotplug-machine,
test-virt-machine): a command line run to its exit, one quit through the
monitor, and ACPI tables dumped with -M MACHINE,dumpacpi=DIR and
disassembled with iasl."""
import os
import shutil
import subprocess
import sys
import tempfile

from tesstest import check, tap_report


def run(tessera, *args, timeout=30):
    """Runs tessera -nographic ARGS to its exit: (status, stdout + stderr)."""
    p = subprocess.run([tessera, "-nographic"] + list(args), capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def run_quit(tessera, *args):
    """Starts with the monitor on stdin and quits through it."""
    p = subprocess.run([tessera, "-display", "none", "-monitor", "stdio"] + list(args),
                       capture_output=True, text=True, input="quit\n", timeout=30)
    return p.returncode, p.stdout + p.stderr


def dump_acpi(tessera, wd, machine, *args):
    """-M MACHINE,dumpacpi=D for a new directory D under wd: (status, log, D)."""
    d = tempfile.mkdtemp(dir=wd)
    rc, log = run(tessera, "-M", machine + ",dumpacpi=" + d, *args)
    return rc, log, d


def iasl(d, sig):
    """The .dsl text of SIG.dat, or '' when iasl reports an error."""
    p = subprocess.run(["iasl", "-d", sig + ".dat"], cwd=d, capture_output=True, text=True)
    if p.returncode != 0 or "Error" in p.stdout + p.stderr:
        return ""
    with open(os.path.join(d, sig + ".dsl")) as f:
        return f.read()


def dump_tables(tessera, wd, machine, sigs, *args):
    """dump_acpi with args, checked: every table of sigs written and exit 0,
    iasl installed, every table but the RSDP disassembled: (the dump's
    directory, their .dsl texts by signature or None without iasl)."""
    rc, log, d = dump_acpi(tessera, wd, machine, *args)
    check("dumpacpi writes every table and exits 0",
          rc == 0 and all(os.path.exists(os.path.join(d, s + ".dat")) for s in sigs), log)
    if shutil.which("iasl") is None:
        check("iasl is installed (acpica-tools; scripts/install-deps)", False)
        return d, None
    texts = {s: iasl(d, s) for s in sigs if s != "RSDP"}
    check("iasl disassembles every table without errors",
          all(texts.values()), " ".join(s for s, t in texts.items() if not t))
    return d, texts


def main(doc, prefix, checks):
    """A test's main: TESSERA from argv[1] (else doc and status 2), each
    check(tessera, wd) in one scratch directory, then the TAP report."""
    if len(sys.argv) < 2:
        print(doc)
        return 2
    wd = tempfile.mkdtemp(prefix=prefix)
    try:
        for fn in checks:
            fn(sys.argv[1], wd)
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return tap_report()
