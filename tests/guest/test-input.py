#!/usr/bin/env python3
"""guest suite: keyboards, mice and tablets under Debian's kernel, whose
input drivers are the judges; one boot per architecture. TAP output.

    test-input.py TESSERA amd64|arm64 [EMULATOR]

arm64 (virt): virtio-keyboard-pci and virtio-tablet-pci (which, the only
pointer, also takes the wheel). amd64 (q35): the
PS/2 keyboard and mouse behind the i8042 (atkbd, psmouse), then
virtio-keyboard-pci, which becomes the keyboard once its driver is up.
The guest finds its devices in /proc/bus/input/devices by name, reads
their /dev/input/eventN in the background and asks the host to type; the
host sends QMP send-key and input-send-event (HMP sendkey too) and the
guest prints what it read. The checks compare the Linux event codes and
values with what was sent.

EMULATOR (qemu-system-x86_64 / qemu-system-aarch64) runs the same checks
on QEMU.
"""
import os
import shutil
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from guestlib import value  # noqa: E402
from tesstest import Qmp, check, tap_report  # noqa: E402

BOOT_TIMEOUT = 480  # the meson timeout is 600 s
KEY_A, KEY_C, KEY_LEFTCTRL, KEY_F1, KEY_LEFTALT = 30, 46, 29, 59, 56
BTN_LEFT = 0x110
REL_WHEEL = 8
EV_KEY, EV_REL, EV_ABS = 1, 2, 3

# find NAME: the eventN handler of the first device whose name has NAME.
FIND = """\
find() {
    awk -v n="$1" '/^N: Name=/ { name = $0 }
        /^H: Handlers=/ { if (index(name, n)) { for (i = 2; i <= NF; i++)
            if ($i ~ /^event/) { print $i; exit } } }' /proc/bus/input/devices
}
waitfor() {
    i=0
    while [ $i -lt 100 ] && [ -z "$(find "$1")" ]; do sleep 0.1; i=$((i + 1)); done
}
names() {
    grep '^N: Name=' /proc/bus/input/devices | sed 's/^/INPUT-DEV: /'
}
# round TAG NAME...: read each device while the host types.
round() {
    tag=$1; shift
    pids=""; k=0
    for n in "$@"; do
        e=$(find "$n"); echo "$tag-EV$k=$e"
        cat /dev/input/$e > /tmp/$tag$k & pids="$pids $!"; k=$((k + 1))
    done
    sleep 0.3
    echo "SEND-$tag-PLEASE"
    read answer
    sleep 0.5
    kill $pids
    k=0
    for n in "$@"; do
        echo "$tag-HEX$k=$(hexdump -v -e '1/1 "%02x"' /tmp/$tag$k)"; k=$((k + 1))
    done
}
"""

ARM64_SCRIPT = FIND + """\
waitfor "QEMU Virtio Tablet"
names
round A "QEMU Virtio Keyboard" "QEMU Virtio Tablet"
"""

# PS/2 first (the virtio keyboard is not up yet, so the PS/2 keyboard
# takes the keys), then virtio_input: its keyboard takes over.
AMD64_SCRIPT = FIND + """\
insmod /modules/psmouse.ko || echo 'INSMOD-FAILED psmouse.ko'
waitfor "PS/2"
names
round A "AT Translated Set 2 keyboard" "PS/2"
insmod /modules/virtio_input.ko || echo 'INSMOD-FAILED virtio_input.ko'
waitfor "QEMU Virtio Keyboard"
names
round B "QEMU Virtio Keyboard" "AT Translated Set 2 keyboard"
"""


def events(hexstr):
    """(type, code, value) of each struct input_event (64-bit: 24 bytes),
    SYN left out."""
    raw = bytes.fromhex(hexstr or "")
    out = []
    for i in range(0, len(raw) - 23, 24):
        t, c, v = struct.unpack_from("<HHi", raw, i + 16)
        if t != 0:
            out.append((t, c, v))
    return out


def keys(evs):
    """Key events, autorepeats (value 2) left out."""
    return [(c, v) for t, c, v in evs if t == EV_KEY and v != 2]


def act(qmp_path, out, tag, sends):
    def fn(b):
        try:
            q = Qmp(qmp_path)
            q.negotiate()
            for name, args in sends:
                out.setdefault(tag, []).append(q.cmd(name, args))
                time.sleep(0.3)
        except Exception as e:  # the checks report what is missing
            out["error"] = repr(e)
        b.send("go\n")
    return fn


def qcode(k):
    return {"type": "qcode", "data": k}


SEND_KEYS = [
    ("send-key", {"keys": [qcode("a")]}),
    ("send-key", {"keys": [qcode("ctrl"), {"type": "number", "data": 0x2e}], "hold-time": 50}),
    ("human-monitor-command", {"command-line": "sendkey alt-f1 20"}),
]
# What those keys are on an evdev device.
WANT_KEYS = [(KEY_A, 1), (KEY_A, 0), (KEY_LEFTCTRL, 1), (KEY_C, 1), (KEY_C, 0),
             (KEY_LEFTCTRL, 0), (KEY_LEFTALT, 1), (KEY_F1, 1), (KEY_F1, 0), (KEY_LEFTALT, 0)]


def btn(down):
    return {"type": "btn", "data": {"down": down, "button": "left"}}


def argv(emu, arch, parts, initrd, qmp_path):
    qmp = ["-qmp", "unix:%s,server=on,wait=off" % qmp_path]
    if arch == "amd64":
        # No i8042.nopnp: the keyboard and mouse are found through the
        # DSDT's KBD (PNP0303) and MOU (PNP0F13), as on QEMU.
        return ([emu, "-M", "q35", "-cpu", "qemu64", "-m", "512M", "-display", "none",
                 "-serial", "stdio", "-no-reboot", "-kernel", parts["KERNEL"], "-initrd", initrd,
                 "-append", guestlib.AMD64_CMDLINE,
                 "-device", "virtio-keyboard-pci"] + qmp)
    return guestlib.emulator_argv(emu, parts["KERNEL"], initrd,
                                  extra=["-device", "virtio-keyboard-pci",
                                         "-device", "virtio-tablet-pci"] + qmp)


def boot(emu, arch, wd):
    parts = guestlib.amd64_parts() if arch == "amd64" else guestlib.guest_parts()
    if arch == "amd64":
        first = guestlib.module_files(parts, ["evdev", "virtio_pci"])
        later = guestlib.module_files(parts, ["psmouse", "virtio_input"])
        script = guestlib.insmod_script(first) + AMD64_SCRIPT
    else:
        first = guestlib.module_files(parts, ["evdev", "virtio_pci", "virtio_input"])
        later = []
        script = guestlib.insmod_script(first) + ARM64_SCRIPT
    initrd = guestlib.make_initrd(wd, parts["INITRD"], script, modules=first + later)
    qmp_path = os.path.join(wd, "qmp.sock")
    out = {}
    if arch == "amd64":
        pointer = [("input-send-event", {"events": [
            {"type": "rel", "data": {"axis": "x", "value": 10}},
            {"type": "rel", "data": {"axis": "y", "value": -5}}, btn(True)]}),
            ("input-send-event", {"events": [btn(False)]})]
        actions = {"SEND-A-PLEASE": act(qmp_path, out, "A", SEND_KEYS + pointer),
                   "SEND-B-PLEASE": act(qmp_path, out, "B", SEND_KEYS)}
    else:
        pointer = [("input-send-event", {"events": [
            {"type": "abs", "data": {"axis": "x", "value": 16384}},
            {"type": "abs", "data": {"axis": "y", "value": 8192}}, btn(True)]}),
            ("input-send-event", {"events": [btn(False)]}),
            # No mouse here: the tablet takes the wheel (QEMU's does).
            ("input-send-event", {"events": [
                {"type": "btn", "data": {"down": True, "button": "wheel-up"}},
                {"type": "btn", "data": {"down": False, "button": "wheel-up"}}]})]
        actions = {"SEND-A-PLEASE": act(qmp_path, out, "A", SEND_KEYS + pointer)}
    b = guestlib.Boot(argv(emu, arch, parts, initrd, qmp_path), BOOT_TIMEOUT, actions=actions)
    return b, out


def check_common(b, out):
    c = b.console
    check("did not time out (%d s)" % BOOT_TIMEOUT, not b.timed_out, b.tail())
    check("no kernel panic or oops", "Kernel panic" not in c and "Oops" not in c, b.tail())
    check("every module loaded", "INSMOD-FAILED" not in c, b.tail())
    answers = [r for tag in ("A", "B") for r in out.get(tag, [])]
    check("every monitor command answered with a return",
          answers and all("return" in r for r in answers), repr((answers, out.get("error"))))


def run_arm64(emu, wd):
    b, out = boot(emu, "arm64", wd)
    c = b.console
    check_common(b, out)
    check("the guest lists QEMU Virtio Keyboard and QEMU Virtio Tablet",
          'INPUT-DEV: N: Name="QEMU Virtio Keyboard"' in c
          and 'INPUT-DEV: N: Name="QEMU Virtio Tablet"' in c, c[-3000:])
    kbd, tab = events(value(c, "A-HEX0")), events(value(c, "A-HEX1"))
    check("send-key and sendkey reached the virtio keyboard: a, ctrl+c, alt+f1",
          keys(kbd) == WANT_KEYS, repr(kbd))
    check("input-send-event reached the tablet: ABS_X 16384, ABS_Y 8192, BTN_LEFT down, up",
          tab[:4] == [(EV_ABS, 0, 16384), (EV_ABS, 1, 8192), (EV_KEY, BTN_LEFT, 1),
                      (EV_KEY, BTN_LEFT, 0)], repr(tab))
    check("a wheel notch (btn wheel-up) reaches the tablet, the only pointer, as REL_WHEEL 1",
          tab[4:] == [(EV_REL, REL_WHEEL, 1)], repr(tab))


def run_amd64(emu, wd):
    b, out = boot(emu, "amd64", wd)
    c = b.console
    check_common(b, out)
    check("the guest lists the AT keyboard, the IntelliMouse Explorer and QEMU Virtio Keyboard",
          'INPUT-DEV: N: Name="AT Translated Set 2 keyboard"' in c
          and 'INPUT-DEV: N: Name="ImExPS/2 Generic Explorer Mouse"' in c
          and 'INPUT-DEV: N: Name="QEMU Virtio Keyboard"' in c, c[-3000:])
    ps2k, mouse = events(value(c, "A-HEX0")), events(value(c, "A-HEX1"))
    check("send-key and sendkey reached the PS/2 keyboard: a, ctrl+c, alt+f1",
          keys(ps2k) == WANT_KEYS, repr(ps2k))
    check("input-send-event reached the PS/2 mouse: REL_X 10, REL_Y -5, BTN_LEFT down, up",
          [e for e in mouse if e[0] == EV_REL] == [(EV_REL, 0, 10), (EV_REL, 1, -5)]
          and keys(mouse) == [(BTN_LEFT, 1), (BTN_LEFT, 0)], repr(mouse))
    vk, old = events(value(c, "B-HEX0")), events(value(c, "B-HEX1"))
    check("once its driver is up, the virtio keyboard takes the keys",
          keys(vk) == WANT_KEYS, repr(vk))
    check("and the PS/2 keyboard gets none", keys(old) == [], repr(old))


def main():
    if len(sys.argv) < 3 or sys.argv[2] not in ("amd64", "arm64"):
        print(__doc__)
        return 2
    emu = sys.argv[3] if len(sys.argv) > 3 else sys.argv[1]
    wd = guestlib.workdir()
    t0 = time.monotonic()
    try:
        if sys.argv[2] == "arm64":
            run_arm64(emu, wd)
        else:
            run_amd64(emu, wd)
    except guestlib.GuestError as e:
        check("guest parts prepared", False, str(e))
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    sys.stderr.write("test-input %s: %.1f s\n" % (sys.argv[2], time.monotonic() - t0))
    return tap_report()


if __name__ == "__main__":
    sys.exit(main())
