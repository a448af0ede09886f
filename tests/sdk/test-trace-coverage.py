#!/usr/bin/env python3
"""Issue 17's rule, checked: every device type and machine a plugin
registers has trace points. -device help and -M help list the types (with
their plugin), -trace help the events; COVERAGE names, for each type, the
events that trace its registers, commands and interrupts (globs). A type
missing from COVERAGE fails (a new device without trace points, or one
whose events nobody listed here), and so does a glob that matches no
registered event (a renamed or dropped event).

usage: test-trace-coverage.py PATH-TO-TESSERA     (TAP on stdout)
"""
import fnmatch
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from tesstest import check, tap_report  # noqa: E402

TESSERA = sys.argv[1] if len(sys.argv) > 1 else "tessera"

# The core traces every PCI function's config cycles (QEMU's pci_cfg_*):
# for bridges, ports and host bridge functions that is all their registers.
CFG = ["pci_cfg_read", "pci_cfg_write"]
PORT = ["pcie_port_init", "pcie_cap_slot_write_config"] + CFG
# virtio devices: the transports' events (register accesses, notifies,
# interrupts), plus each device model's own commands (below).
VIRTIO_DEV = ["virtio_queue_notify", "virtio_mmio_*", "virtio_pci_*"]
VIRTIO_PCI = ["virtio_pci_*", "virtio_queue_notify"]
NET = ["virtio_net_handle_ctrl", "virtio_net_handle_mq", "virtio_net_tx", "virtio_net_rx",
       "virtio_net_rx_drop"]
INPUT = ["virtio_input_event", "virtio_input_queue_full", "virtio_input_status",
         "virtio_input_config"]
IOMMU = ["virtio_iommu_attach", "virtio_iommu_detach", "virtio_iommu_map", "virtio_iommu_unmap",
         "virtio_iommu_translate", "virtio_iommu_report_fault", "virtio_iommu_probe",
         "virtio_iommu_get_config"]
SCSI = ["virtio_scsi_cmd_*", "virtio_scsi_tmf_*", "virtio_scsi_an_*", "virtio_scsi_event",
        "scsi_req_parsed"]

COVERAGE = {
    # virtio bus
    "virtio-blk-device": VIRTIO_DEV + ["virtio_blk_*"],
    "virtio-gpu-device": VIRTIO_DEV + ["virtio_gpu_cmd_*", "virtio_gpu_ctrl_error"],
    "virtio-iommu-device": VIRTIO_DEV + IOMMU,
    "virtio-keyboard-device": VIRTIO_DEV + INPUT,
    "virtio-mouse-device": VIRTIO_DEV + INPUT,
    "virtio-tablet-device": VIRTIO_DEV + INPUT,
    "virtio-net-device": VIRTIO_DEV + NET,
    "virtio-rng-device": VIRTIO_DEV + ["virtio_rng_*"],
    "virtio-scsi-device": VIRTIO_DEV + SCSI,
    # SCSI, IDE, NVMe namespaces: their controller's command events
    "scsi-cd": ["scsi_req_parsed"],
    "scsi-hd": ["scsi_req_parsed"],
    "ide-cd": ["ide_cmd_*", "ide_ioport_*"],
    "ide-hd": ["ide_cmd_*", "ide_ioport_*"],
    "nvme-ns": ["pci_nvme_io_cmd"],
    # PCI
    "ICH9-LPC": ["ich9_lpc_*", "ich9_pm_*", "ich9_gpe_*", "tco_timer_reload",
                 "tco_timer_expired", "tco_io_*"] + CFG,
    "PIIX3": CFG,
    "PIIX4_PM": ["piix4_pm_*", "piix4_gpe_*"],
    "bochs-display": ["vga_vbe_read", "vga_vbe_write", "display_surface"],
    "VGA": ["vga_vbe_read", "vga_vbe_write", "vga_std_read_io", "vga_std_write_io",
            "display_surface"],
    "e1000": ["e1000x_*"],
    "e1000e": ["e1000x_*"],
    "edu": ["edu_*"],
    "gpex-root": CFG,
    "i440FX": ["i440fx_pam_update"] + CFG,
    "ich9-ahci": ["ahci_*"],
    "ioh3420": PORT,
    "pcie-root-port": PORT,
    "xio3130-downstream": PORT,
    "x3130-upstream": ["pcie_port_init"] + CFG,
    "pci-bridge": ["pci_bridge_init"] + CFG,
    "pxb": ["pxb_init"] + CFG,
    "pxb-pcie": ["pxb_init"] + CFG,
    "lsi53c895a": ["lsi_*"],
    "mch": ["mch_pam_update", "mch_smram_update"] + CFG,
    "megasas": ["megasas_*"],
    "nvme": ["pci_nvme_*"],
    "piix3-ide": ["bmdma_*", "ide_*"],
    "virtio-blk-pci": VIRTIO_PCI + ["virtio_blk_*"],
    "virtio-gpu-pci": VIRTIO_PCI + ["virtio_gpu_cmd_*"],
    "virtio-iommu-pci": VIRTIO_PCI + IOMMU,
    "virtio-keyboard-pci": VIRTIO_PCI + INPUT,
    "virtio-mouse-pci": VIRTIO_PCI + INPUT,
    "virtio-net-pci": VIRTIO_PCI + NET,
    "virtio-rng-pci": VIRTIO_PCI + ["virtio_rng_*"],
    "virtio-scsi-pci": VIRTIO_PCI + SCSI,
    "virtio-tablet-pci": VIRTIO_PCI + INPUT,
    # system bus
    "arm-gic": ["gic_dist_*", "gic_cpu_*", "gicv2m_*"],
    "arm-gicv3": ["gicv3_dist_*", "gicv3_redist_*", "gicv3_its_*"],
    "arm-smmuv3": ["smmuv3_*"],
    "gpex-pcihost": ["gpex_set_irq"] + CFG,
    "i440FX-pcihost": CFG,
    "i8042": ["pckbd_*"],
    "i8254": ["pit_ioport_*"],
    "i8259": ["pic_*"],
    "intel-iommu": ["vtd_*"],
    "intel_iommu": ["vtd_*"],
    "ioapic": ["ioapic_*"],
    "isa-serial": ["serial_*"],
    "mc146818rtc": ["mc146818_rtc_*"],
    "nvdimm": ["mhp_pc_dimm_*"],
    "pc-dimm": ["mhp_pc_dimm_*", "mhp_acpi_*"],
    "pl011": ["pl011_*"],
    "pl031": ["pl031_*"],
    "q35-pcihost": CFG,
    "virtio-mmio": ["virtio_mmio_*"],
}

# Machines: the boards' own register blocks. A board with none says why.
MACHINES = {
    "q35": ["cpuhp_acpi_*", "mhp_acpi_*"],
    "pc": ["cpuhp_acpi_*", "mhp_acpi_*", "i440fx_pam_update"],
    "virt": None,  # no registers of its own: GIC, PL011, PL031, gpex are devices
    "none": None,  # empty
}


def run(*args):
    p = subprocess.run([TESSERA] + list(args), capture_output=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    return p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")


# The QEMU tutorial our users follow ("Tracing while
# studying a driver"), with no kernel: both patterns match events, -accel
# tcg is taken, and the ICH9's set-up is traced at once.
TUTORIAL = ["-M", "q35", "-trace", "ich9*", "-trace", "tco*", "-display", "none",
            "-serial", "stdio", "-accel", "tcg"]


def check_tutorial(events):
    for glob in ("ich9*", "tco*"):
        check("-trace '%s' of the tutorial matches events" % glob, fnmatch.filter(events, glob),
              "no registered event matches %s" % glob)
    try:
        p = subprocess.run([TESSERA] + TUTORIAL, capture_output=True, timeout=3,
                           stdin=subprocess.DEVNULL)
        out, status = (p.stdout + p.stderr).decode(errors="replace"), p.returncode
    except subprocess.TimeoutExpired as e:  # it runs until killed: no error
        out, status = ((e.stdout or b"") + (e.stderr or b"")).decode(errors="replace"), None
    check("the tutorial's line runs (-accel tcg taken) and traces the ICH9",
          status is None and "ich9_lpc_pm_init PMBASE 0x600" in out, out[-2000:])


def main():
    events = run("-trace", "help").split()
    check_tutorial(events)
    types = re.findall(r'^name "([^"]+)", bus [^,]+, desc "[^"]*", plugin "([^"]+)"',
                       run("-device", "help"), re.M)
    machines = [m.group(1) for m in re.finditer(r"^(\S+)\s+(.*)$", run("-M", "help"), re.M)
                if m.group(1) != "Supported" and "(as " not in m.group(2)]
    check("the lists are there (-device help, -M help, -trace help)",
          len(types) > 40 and len(machines) >= 3 and len(events) > 100,
          "%d types, %d machines, %d events" % (len(types), len(machines), len(events)))
    for name, plugin in types:
        globs = COVERAGE.get(name)
        if globs is None:
            check("device %s (plugin %s) has trace points" % (name, plugin), False,
                  "no entry in tests/sdk/test-trace-coverage.py: give the device trace "
                  "points (docs/sdk.md, Trace points) and list them there")
            continue
        missing = [g for g in globs if not fnmatch.filter(events, g)]
        check("device %s (plugin %s) has trace points: %s" % (name, plugin, " ".join(globs)),
              not missing, "no registered event matches %s" % missing)
    for name in machines:
        if name not in MACHINES:
            check("machine %s has trace points" % name, False,
                  "no entry in tests/sdk/test-trace-coverage.py MACHINES")
        elif MACHINES[name]:
            missing = [g for g in MACHINES[name] if not fnmatch.filter(events, g)]
            check("machine %s's own registers have trace points" % name, not missing,
                  "no registered event matches %s" % missing)
    stale = sorted(set(COVERAGE) - {n for n, _ in types})
    check("every COVERAGE entry is a registered type (no stale entries)", not stale, stale)
    sys.exit(tap_report())


main()
