/*
 * tessera core: trace points of the core itself (sdk trace.h), registered
 * by trace.c before any plugin's. QEMU's names and formats: the PCI
 * config cycles the guest makes through a host bridge (hw/pci/pci_host.c's
 * pci_cfg_read/pci_cfg_write: every PCI function, including the bridges,
 * ports, expanders and host bridge functions whose registers are all
 * config space), PCIe hot-plug slot commands (hw/pci/pcie.c's
 * pcie_cap_slot_write_config) and the INTx line of a function.
 */
#ifndef CORE_TRACE_H
#define CORE_TRACE_H

#include <tessera/host.h>
#include <tessera/trace.h>

extern const tes_host *core_trace_host;

#define TES_TRACE_TABLE core_trace_events
#define TES_TRACE_HOST core_trace_host
#define CORE_TRACE(E)                                                                          \
    E(pci_cfg_read,                                                                            \
      (const char *dev, unsigned bus, unsigned slot, unsigned func, unsigned offs,             \
       unsigned val),                                                                          \
      (dev, bus, slot, func, offs, val), "%s %02x:%02x.%x @0x%x -> 0x%x")                      \
    E(pci_cfg_write,                                                                           \
      (const char *dev, unsigned bus, unsigned slot, unsigned func, unsigned offs,             \
       unsigned val),                                                                          \
      (dev, bus, slot, func, offs, val), "%s %02x:%02x.%x @0x%x <- 0x%x")                      \
    E(pcie_cap_slot_write_config,                                                              \
      (const char *parent, const char *child, const char *pds, const char *old_pic,            \
       const char *new_pic, const char *old_aic, const char *new_aic, const char *old_power,   \
       const char *new_power),                                                                 \
      (parent, child, pds, old_pic, new_pic, old_aic, new_aic, old_power, new_power),          \
      "%s > %s: pds: %s, pic: %s->%s, aic: %s->%s, power: %s->%s")                             \
    E(pci_irq_level, (const char *dev, int level), (dev, level), "%s INTx level %d")
TES_TRACE_DECLARE(CORE_TRACE)

/* trace.c: registers the table above (once). */
void trace_core_register(void);

#endif
