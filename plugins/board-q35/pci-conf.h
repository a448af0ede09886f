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
    tes_region *mem;        /* the root bus's memory space (x86_pci_conf_root) */
    tes_region *io;         /* the 0xcf8..0xcff ports */
    const char *name;       /* for guest-error logs */
    uint32_t config_addr;   /* CONFIG_ADDRESS (migrated by the owner) */
    uint8_t rst_cnt;        /* reset control at 0xcf9 (likewise) */
} x86_pci_conf;

/* The 8-port I/O region (owner's), to map at 0xcf8. NULL when out of
 * memory. host, bus and name must be set first. */
tes_region *x86_pci_conf_region(x86_pci_conf *c, tes_device *owner);
void x86_pci_conf_reset(x86_pci_conf *c);
/* The owner's post_load: 0 when CONFIG_ADDRESS and RST_CNT hold what a
 * guest's writes can leave (reserved bits clear), else -EINVAL after one
 * error line on owner. */
int x86_pci_conf_check(x86_pci_conf *c, tes_device *owner);
/* A host bridge's realize: c->mem (a container named mem_name), c->io
 * mapped at 0xcf8 and c->bus, the root bus bus_name over them. host and
 * name must be set first. 0, or -errno after the error. */
int x86_pci_conf_root(x86_pci_conf *c, tes_device *owner, const char *mem_name,
                      const char *bus_name);

/* ---- host bridges whose state starts with their x86_pci_conf ---- */
/* (q35-pcihost, i440FX-pcihost): their tes_type_info reset and state
 * (version 1: config_addr, rst_cnt, as q35-pcihost's always was; its
 * post_load x86_pci_conf_check), and the root bus and memory of such a
 * device. */
void x86_pci_host_reset(tes_device *dev, void *s);
extern const tes_state_info x86_pci_host_state;
tes_bus *x86_pci_host_bus(tes_device *host);
tes_region *x86_pci_host_mem(tes_device *host); /* BARs at bus addresses */

#endif
