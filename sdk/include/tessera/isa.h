/*
 * tessera SDK: the ISA interrupt lines of a PC board, for devices that
 * are not the board's own (ABI 1.4).
 *
 * A PCI function in legacy mode drives ISA interrupts rather than INTx:
 * piix3-ide's compatibility channels raise IRQ 14 and 15 whichever board
 * it sits on (-M pc creates it, -M q35 takes it with -device). A PC board
 * (q35, pc) registers this interface with host->iface_register(
 * TES_ISA_IFACE, TES_ISA_IFACE_VERSION, &table) when it has made its
 * interrupt controllers; such a device looks it up in realize and connects
 * its outputs to the lines it returns. A board that wires the device's
 * outputs itself (host->dev_connect_irq after dev_create) overrides that.
 *
 * It is an interface between plugins (host->iface_lookup, SDK 1.0): no
 * entry of the host table changes, so it needs no newer core.
 */
#ifndef TESSERA_ISA_H
#define TESSERA_ISA_H

#include <tessera/types.h>

#define TES_ISA_IFACE "isa-irq"
#define TES_ISA_IFACE_VERSION 1

typedef struct tes_isa_iface {
    uint32_t size; /* sizeof(tes_isa_iface) */
    /* ISA interrupt line n (0..15) of the board: what the 8259 input n
     * and the I/O APIC pin the board's MADT/_PRT gives for it see. NULL
     * for n > 15. The same line every call. */
    tes_irq *(*irq)(unsigned n);
} tes_isa_iface;

#endif
