/*
 * e1000: the Intel 82540EM Gigabit Ethernet Controller (8086:100e), as
 * Linux's e1000 driver drives it.
 *
 * Manual: "PCI/PCI-X Family of Gigabit Ethernet Controllers Software
 * Developer's Manual" (Intel 8254x SDM, 317453), chapters 3 (receive and
 * transmit descriptors), 5 (EEPROM), 13 (registers).
 *
 * User manual
 *
 *   -netdev user,id=n0 -device e1000,netdev=n0[,mac=52:54:00:12:34:56]
 *                                 [,addr=SLOT][,bus=BUS][,id=ID]
 *
 *   netdev   the -netdev backend (none: the NIC is unplugged)
 *   mac      station address; default 52:54:00:12:34:56, then :57, ...
 *   addr, bus, id   as for every PCI device
 *
 * PCI 8086:100e revision 3, class 0x0200, subsystem 8086:001e, INTA#.
 * BAR0: 128 KiB of registers; BAR1: 64 bytes of I/O (IOADDR/IODATA),
 * which Linux e1000 insists on for the 82540. Modelled: the register file
 * of e1000x-regs.c with the Microwire EEPROM (64 words, MAC address,
 * checksum 0xbaba) behind EECD, the M88E1011 PHY (id 0x01410c20) behind
 * MDIC with the link up at 1000 Mb/s full duplex, legacy receive
 * descriptors, legacy/context/data transmit descriptors with checksum and
 * TCP segmentation offload, receive filters, VLAN tag insertion and
 * stripping, MAC and PHY loopback, statistics, and LSC on link changes.
 * Not modelled: interrupt moderation timers (registers kept, interrupts
 * immediate), wake-up, manageability, flow control frames.
 *
 * Guest mistakes (rings outside RAM, heads/tails beyond the ring,
 * oversized or unfinished packets, bad TSO contexts) are logged under
 * -d guest_errors and handled as e1000x-tx.c and e1000x-rx.c describe.
 * Migration carries everything (e1000x-dev.c).
 */
#include "e1000x.h"

/* EEPROM words the drivers read (8254x SDM table 5-2); the MAC address,
 * device id and checksum are filled in at realize. */
static const uint16_t eeprom_82540[EEPROM_WORDS] = {
    [0x03] = 0x0000, /* compatibility */
    [0x04] = 0xffff, /* LED configuration: defaults */
    [0x08] = 0x3000, [0x09] = 0x1000, /* PBA number */
    [0x0a] = 0x6403, /* initialization control 1 */
    [0x0b] = 0x001e, /* subsystem id */
    [0x0c] = 0x8086, /* subsystem vendor */
    [0x0e] = 0x8086, /* vendor */
    [0x0f] = 0x3040, /* initialization control 2: symmetric + asymmetric pause */
    [0x10] = 0x0008, [0x11] = 0x2000, [0x12] = 0x7e14, [0x13] = 0x0048,
    [0x14] = 0x1000, [0x15] = 0x00d8,
    [0x20 ... 0x2f] = 0xffff,
    [0x30] = 0x0100, [0x31] = 0x4000, [0x32] = 0x121c,
    [0x33 ... 0x3e] = 0xffff,
};

static int e1000_realize(tes_device *dev, void *opaque)
{
    e1000x *s = opaque;

    s->kind = E1000X_82540;
    s->device_id = 0x100e;
    s->phy_id2 = 0x0c20; /* M88E1011 */
    return e1000x_realize(dev, s, eeprom_82540);
}

static const tes_pci_info e1000_pci = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x8086,
    .device_id = 0x100e,
    .subsystem_vendor_id = 0x8086,
    .subsystem_id = 0x001e,
    .revision = 0x03,
    .class_id = 0x0200,
    .irq_pin = 1,
    .config_write = e1000x_config_write,
};

const tes_type_info e1000_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "e1000",
    .desc = "Intel 82540EM Gigabit Ethernet (Linux e1000)",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(e1000x),
    .props = e1000x_props,
    .realize = e1000_realize,
    .unrealize = e1000x_unrealize,
    .reset = e1000x_type_reset,
    .state = &e1000x_state,
    .class_info = &e1000_pci,
};
