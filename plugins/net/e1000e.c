/*
 * e1000e: the Intel 82574L Gigabit Network Connection (8086:10d3), as
 * Linux's e1000e driver drives it.
 *
 * Manual: "Intel 82574 GbE Controller Family Datasheet" (317694),
 * chapters 7 (receive and transmit, extended descriptors), 6 (NVM), 10
 * (registers: interrupts 10.2.4, IVAR 10.2.4.9, EIAC 10.2.4.8).
 *
 * User manual
 *
 *   -netdev user,id=n0 -device e1000e,netdev=n0[,mac=52:54:00:12:34:56]
 *                                  [,addr=SLOT][,bus=BUS][,id=ID]
 *
 *   netdev   the -netdev backend (none: the NIC is unplugged)
 *   mac      station address; default 52:54:00:12:34:56, then :57, ...
 *   addr, bus, id   as for every PCI device
 *
 * PCI Express endpoint 8086:10d3, class 0x0200, INTA#, MSI (1 vector) and
 * MSI-X (5 vectors: RX queue 0/1, TX queue 0/1, other causes, as IVAR
 * routes them; Linux uses 3). BAR0: 128 KiB registers; BAR1: 128 KiB
 * flash window (reads zero); BAR2: 32 bytes I/O (IOADDR/IODATA); BAR3:
 * MSI-X table at 0 and PBA at 0x2000. Modelled: the register file of
 * e1000x-regs.c with the NVM read through EERD (64 words, checksum 0xbaba)
 * and written through EEWR, the BME1000 PHY (id 0x01410cb1, pages through
 * register 22) behind MDIC with the link up at 1000 Mb/s full duplex,
 * interrupt causes with the 82574's ICR read-clear rules, IAM auto-mask,
 * EIAC auto-clear and IVAR vector routing in MSI-X mode, legacy and
 * extended receive descriptors (RFCTL.EXTEN), legacy/context/data transmit
 * descriptors with checksum and TCP segmentation offload, receive filters,
 * VLAN, loopback, statistics, LSC on link changes. One queue pair is
 * active (queue 1 registers exist; RSS and packet split are not modelled:
 * Linux uses neither at the standard MTU). Interrupt moderation timers
 * (ITR, EITR, RDTR, RADV, TIDV, TADV) are kept but interrupts are
 * immediate.
 *
 * Guest mistakes are logged under -d guest_errors and handled as
 * e1000x-tx.c and e1000x-rx.c describe. Migration carries everything.
 */
#include "e1000x.h"

/* NVM words the driver reads (82574 datasheet table 6-1); the MAC
 * address, device id and checksum are filled in at realize. */
static const uint16_t eeprom_82574[EEPROM_WORDS] = {
    [0x03] = 0x0420, /* compatibility */
    [0x04] = 0xf746, /* LED configuration: reserved value, defaults */
    [0x05] = 0x2010, /* image version */
    [0x06] = 0xffff, [0x07] = 0xffff,
    [0x0a] = 0x026b, /* initialization control 1 */
    [0x0c] = 0x8086, /* subsystem vendor */
    [0x0f] = 0x8058, /* initialization control 2: no manageability */
    [0x11] = 0x2001, [0x12] = 0x7e7c, [0x13] = 0xffff, [0x14] = 0x1000,
    [0x15] = 0x00c8, [0x17] = 0x2704,
    [0x38 ... 0x3b] = 0xffff,
    [0x30] = 0x0100, [0x31] = 0xc000, [0x32] = 0x121c, [0x33] = 0xc007,
    [0x34 ... 0x37] = 0xffff, /* 0x37: no alternate MAC address */
    [0x3d] = 0x0120, [0x3e] = 0xffff,
};

static int e1000e_realize(tes_device *dev, void *opaque)
{
    e1000x *s = opaque;

    s->kind = E1000X_82574;
    s->device_id = 0x10d3;
    s->phy_id2 = 0x0cb1; /* BME1000 revision 2 */
    return e1000x_realize(dev, s, eeprom_82574);
}

static const tes_pci_info e1000e_pci = {
    .size = sizeof(tes_pci_info),
    .vendor_id = 0x8086,
    .device_id = 0x10d3,
    .subsystem_vendor_id = 0x8086,
    .subsystem_id = 0x0000,
    .revision = 0x00,
    .class_id = 0x0200,
    .irq_pin = 1,
    .config_write = e1000x_config_write,
};

const tes_type_info e1000e_type = {
    .size = sizeof(tes_type_info),
    .kind = TES_KIND_DEVICE,
    .name = "e1000e",
    .desc = "Intel 82574L Gigabit Ethernet, PCIe with MSI-X (Linux e1000e)",
    .bus = TES_BUS_PCI,
    .instance_size = sizeof(e1000x),
    .props = e1000x_props,
    .realize = e1000e_realize,
    .unrealize = e1000x_unrealize,
    .reset = e1000x_type_reset,
    .state = &e1000x_state,
    .class_info = &e1000e_pci,
};
