#!/usr/bin/env python3
"""guest suite: virtio-gpu-pci under Debian's kernel, whose virtio_gpu DRM
driver (and its fbdev emulation) is the judge; one short boot. TAP output.

    test-virtio-gpu.py TESSERA amd64|arm64 [EMULATOR]

The machine (q35 or virt) gets `-device virtio-gpu-pci,id=gpu0,xres=640,
yres=480` and a QMP socket. The guest loads virtio-gpu (and the DRM
modules it needs), waits for /dev/fb0, takes the framebuffer console off
it, reports the mode the driver chose (the display info's and EDID's
640x480, 32 bpp), writes a known picture to /dev/fb0 and asks the host to
look: QMP `screendump` (console 0 and device=gpu0) must show the picture
pixel for pixel. Then the guest rewrites a band of lines only (the
driver transfers and flushes the damaged rectangle) and the host looks
again.

EMULATOR (qemu-system-x86_64 / qemu-system-aarch64) runs the same checks
on QEMU (device=gpu0 is tessera's: skipped there).
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import guestlib  # noqa: E402
from guestlib import value  # noqa: E402
from tesstest import Qmp, check  # noqa: E402

BOOT_TIMEOUT = 480  # the meson timeout is 600 s
W, H = 640, 480
BAND = (160, 64)  # first line and lines of the second picture's band

TEST_SCRIPT = """\
i=0
while [ $i -lt 100 ] && [ ! -c /dev/fb0 ]; do sleep 0.1; i=$((i + 1)); done
echo "FB=$(ls /dev/fb0 2>&1)"
echo "FB-NAME=$(cat /sys/class/graphics/fb0/name 2>&1)"
echo "FB-SIZE=$(cat /sys/class/graphics/fb0/virtual_size 2>&1)"
echo "FB-BPP=$(cat /sys/class/graphics/fb0/bits_per_pixel 2>&1)"
echo "DRM-INIT=$(dmesg | grep -c 'Initialized virtio_gpu')"
echo "DRM-EDID=$(dmesg | grep -c 'features:.*+edid')"
for v in /sys/class/vtconsole/vtcon*; do
    grep -q 'frame buffer' $v/name 2>/dev/null && echo 0 > $v/bind
done
dd if=/picture.raw of=/dev/fb0 bs=4096 2>/dev/null && echo "DD=ok"
# The fbdev emulation's deferred I/O sends the damage from a worker.
sleep 1
echo LOOK-PLEASE
read answer
# Two lines a write: Linux 6.1's fbdev damage of a write of exactly one
# whole line is empty (drm_fb_helper_memory_range_to_clip), nothing sent.
dd if=/band.raw of=/dev/fb0 bs=%d seek=%d 2>/dev/null && echo "DD2=ok"
sleep 1
echo LOOK-AGAIN
read answer
""" % (2 * W * 4, BAND[0] // 2)


def pixels(seed, lines):
    """XRGB8888 lines as the guest writes them (B, G, R, 0)."""
    return b"".join(struct.pack("<I", ((x * 5 + y + seed) & 0xff) << 16 | ((y * 3) & 0xff) << 8
                                | ((x ^ y ^ seed) & 0xff))
                    for y in lines for x in range(W))




def look(qmp_path, wd, out, key, tessera):
    def act(b):
        try:
            q = Qmp(qmp_path)
            q.negotiate()
            ppm = os.path.join(wd, key + ".ppm")
            out[key + "-qmp"] = q.cmd("screendump", {"filename": ppm})
            out[key] = guestlib.read_ppm(ppm)
            if tessera:
                dev = os.path.join(wd, key + "-dev.ppm")
                q.cmd("screendump", {"filename": dev, "device": "gpu0", "head": 0})
                out[key + "-dev"] = guestlib.read_ppm(dev)
        except Exception as e:  # the checks report what is missing
            out["error"] = repr(e)
        b.send("go\n")
    return act


def argv(emu, arch, parts, initrd, qmp_path):
    # -vga none: QEMU's q35 would add its std VGA as console 0.
    dev = ["-vga", "none", "-device", "virtio-gpu-pci,id=gpu0,xres=%d,yres=%d" % (W, H),
           "-qmp", "unix:%s,server=on,wait=off" % qmp_path,
           "-display", "none", "-serial", "stdio", "-no-reboot"]
    if arch == "amd64":
        return ([emu, "-M", "q35", "-cpu", "qemu64", "-m", "256M", "-kernel", parts["KERNEL"],
                 "-initrd", initrd, "-append", guestlib.AMD64_CMDLINE + " quiet"] + dev)
    return ([emu, "-M", "virt", "-cpu", "cortex-a57", "-m", "256M", "-kernel", parts["KERNEL"],
             "-initrd", initrd, "-append", guestlib.CMDLINE + " quiet"] + dev)


def check_picture(out, key, want, what):
    w, h, px = out.get(key, (None, None, b""))
    bad = next((i // 3 for i in range(0, len(want), 3) if px[i:i + 3] != want[i:i + 3]),
               None) if len(px) == len(want) else -1
    check("%s: a %dx%d screendump showing the guest's picture pixel for pixel" % (what, W, H),
          (w, h) == (W, H) and bad is None,
          repr((w, h, out.get(key + "-qmp"), out.get("error"),
                bad if bad in (None, -1) else
                (bad % W, bad // W, px[bad * 3:bad * 3 + 3].hex(),
                 want[bad * 3:bad * 3 + 3].hex()))))


def run(emu, arch, wd):
    parts = guestlib.amd64_parts() if arch == "amd64" else guestlib.guest_parts()
    mods = guestlib.module_files(parts, ["virtio_pci", "virtio_gpu"])
    first = pixels(0, range(H))
    band = pixels(77, range(BAND[0], BAND[0] + BAND[1]))
    files = []
    for name, data in (("picture.raw", first), ("band.raw", band)):
        files.append(os.path.join(wd, name))
        with open(files[-1], "wb") as f:
            f.write(data)
    initrd = guestlib.make_initrd(wd, parts["INITRD"], guestlib.insmod_script(mods) + TEST_SCRIPT,
                                  files=files, modules=mods)
    qmp_path = os.path.join(wd, "qmp.sock")
    tessera = "qemu" not in os.path.basename(emu)
    out = {}
    b = guestlib.Boot(argv(emu, arch, parts, initrd, qmp_path), BOOT_TIMEOUT,
                      actions={"LOOK-PLEASE": look(qmp_path, wd, out, "first", tessera),
                               "LOOK-AGAIN": look(qmp_path, wd, out, "band", tessera)})
    print("# boot: %.1f s" % b.elapsed, file=sys.stderr)
    c = b.console
    guestlib.check_alive(b, BOOT_TIMEOUT)
    check("the virtio_gpu driver initialized (with EDID) and made /dev/fb0",
          value(c, "DRM-INIT") == "1" and value(c, "DRM-EDID") == "1"
          and value(c, "FB") == "/dev/fb0", c[-3000:])
    check("the driver chose the reported mode, 640x480 at 32 bpp",
          value(c, "FB-SIZE") == "640,480" and value(c, "FB-BPP") == "32",
          "%s %s %s" % (value(c, "FB-NAME"), value(c, "FB-SIZE"), value(c, "FB-BPP")))
    check("the guest wrote its pictures to /dev/fb0",
          value(c, "DD") == "ok" and value(c, "DD2") == "ok", c[-2000:])
    want = guestlib.xrgb_rgb(first)
    check_picture(out, "first", want, "QMP screendump")
    if tessera:
        check_picture(out, "first-dev", want, "screendump device=gpu0")
    o = BAND[0] * W * 3
    check_picture(out, "band",
                  want[:o] + guestlib.xrgb_rgb(band) + want[o + len(band) // 4 * 3:],
                  "after a band of lines was rewritten")


def main():
    return guestlib.emu_main(__doc__, run, arch=True)


if __name__ == "__main__":
    sys.exit(main())
