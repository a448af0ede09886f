/*
 * pcie plugin: trace points (sdk trace.h). The ports', bridges' and
 * expanders' registers are all config space, which the core traces for
 * every PCI function with QEMU's pci_cfg_read/pci_cfg_write (and the
 * hot-plug slot commands with pcie_cap_slot_write_config); these are what
 * the plugin itself does: the port and expander set-up and gpex's INTx
 * lines (QEMU has no events of its own for them: the names are ours).
 */
#ifndef PCIE_TRACE_H
#define PCIE_TRACE_H

#include "pcie-int.h"

#define TES_TRACE_TABLE pcie_trace_events
#define TES_TRACE_HOST H
#define PCIE_TRACE(E)                                                                          \
    E(pcie_port_init, (const char *id, const char *type, unsigned chassis, unsigned slot),     \
      (id, type, chassis, slot), "%s (%s) chassis %u slot %u")                                 \
    E(pci_bridge_init, (const char *id, unsigned chassis_nr, int msi), (id, chassis_nr, msi),  \
      "%s chassis_nr %u msi %d")                                                               \
    E(pxb_init, (const char *id, unsigned bus_nr, int pcie), (id, bus_nr, pcie),               \
      "%s bus_nr %u pcie %d")                                                                  \
    E(gpex_set_irq, (int irq_num, int level), (irq_num, level), "set_irq num %d level %d")
TES_TRACE_DECLARE(PCIE_TRACE)

#endif
