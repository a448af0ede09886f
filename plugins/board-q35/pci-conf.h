/*
 * board-x86: PCI configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2)
 * on ports 0xcf8..0xcff with the reset control register sharing 0xcf9,
 * as the ICH9 (RST_CNT, 13.7.5) and the PIIX3 (RC, 2.2.4) both place it.
 * Shared by q35's and pc's host bridges (static library, aml.h's twin).
 */
#ifndef BOARD_X86_PCI_CONF_H
#define BOARD_X86_PCI_CONF_H

#include <tessera/tessera.h>

typedef struct x86_pci_conf {
    const tes_host *host;
    tes_bus *bus;           /* the root bus config cycles go to */
    const char *name;       /* for guest-error logs */
    uint32_t config_addr;   /* CONFIG_ADDRESS (migrated by the owner) */
    uint8_t rst_cnt;        /* reset control at 0xcf9 (likewise) */
} x86_pci_conf;

/* Migration fields of an x86_pci_conf member m of the owner's state st
 * (the names q35-pcihost's state version 1 has). */
#define X86_PCI_CONF_FIELDS(st, m)                                                              \
    {"config_addr", TES_FIELD_U32, offsetof(st, m.config_addr), 0, 0},                          \
    {"rst_cnt", TES_FIELD_U8, offsetof(st, m.rst_cnt), 0, 0}

/* The 8-port I/O region (owner's), to map at 0xcf8. NULL when out of
 * memory. host, bus and name must be set first. */
tes_region *x86_pci_conf_region(x86_pci_conf *c, tes_device *owner);
void x86_pci_conf_reset(x86_pci_conf *c);
/* The owner's post_load: 0 when CONFIG_ADDRESS and RST_CNT hold what a
 * guest's writes can leave (reserved bits clear), else -EINVAL after one
 * error line on owner. */
int x86_pci_conf_check(x86_pci_conf *c, tes_device *owner);

#endif
