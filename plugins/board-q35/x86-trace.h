/*
 * board-x86: trace points of the x86 boards' own register blocks (sdk
 * trace.h), shared by q35 and pc. QEMU's names and formats
 * (hw/acpi/trace-events): the ACPI CPU hotplug block (cpuhp_acpi_*) and
 * the ACPI memory hotplug block (mhp_acpi_*); the host bridges' PAM and
 * PCIEXBAR/SMRAM updates (mch_*, i440fx_*) are ours.
 */
#ifndef X86_TRACE_H
#define X86_TRACE_H

#include <tessera/host.h>
#include <tessera/trace.h>

extern const tes_host *x86_trace_host;

#define TES_TRACE_TABLE x86_trace_events
#define TES_TRACE_HOST x86_trace_host
#define X86_TRACE(E)                                                                           \
    E(cpuhp_acpi_invalid_idx_selected, (uint32_t idx), (idx), "0x%" PRIx32)                    \
    E(cpuhp_acpi_read_flags, (uint32_t idx, uint8_t flags), (idx, flags),                      \
      "idx[0x%" PRIx32 "] flags: 0x%" PRIx8)                                                   \
    E(cpuhp_acpi_write_idx, (uint32_t idx), (idx), "set active cpu idx: 0x%" PRIx32)           \
    E(cpuhp_acpi_write_cmd, (uint32_t idx, uint8_t cmd), (idx, cmd),                           \
      "idx[0x%" PRIx32 "] cmd: 0x%" PRIx8)                                                     \
    E(cpuhp_acpi_read_cmd_data, (uint32_t idx, uint32_t data), (idx, data),                    \
      "idx[0x%" PRIx32 "] data: 0x%" PRIx32)                                                   \
    E(cpuhp_acpi_clear_inserting_evt, (uint32_t idx), (idx), "idx[0x%" PRIx32 "]")             \
    E(cpuhp_acpi_clear_remove_evt, (uint32_t idx), (idx), "idx[0x%" PRIx32 "]")                \
    E(cpuhp_acpi_ejecting_invalid_cpu, (uint32_t idx), (idx), "0x%" PRIx32)                    \
    E(cpuhp_acpi_ejecting_cpu, (uint32_t idx), (idx), "0x%" PRIx32)                            \
    E(cpuhp_acpi_write_ost_ev, (uint32_t slot, uint32_t ev), (slot, ev),                       \
      "idx[0x%" PRIx32 "] OST EVENT: 0x%" PRIx32)                                              \
    E(cpuhp_acpi_write_ost_status, (uint32_t slot, uint32_t st), (slot, st),                   \
      "idx[0x%" PRIx32 "] OST STATUS: 0x%" PRIx32)                                             \
    E(mhp_acpi_invalid_slot_selected, (uint32_t slot), (slot), "0x%" PRIx32)                   \
    E(mhp_acpi_ejecting_invalid_slot, (uint32_t slot), (slot), "0x%" PRIx32)                   \
    E(mhp_acpi_read_flags, (uint32_t slot, uint32_t flags), (slot, flags),                     \
      "slot[0x%" PRIx32 "] flags: 0x%" PRIx32)                                                 \
    E(mhp_acpi_read_reg, (uint32_t slot, uint32_t off, uint32_t val), (slot, off, val),       \
      "slot[0x%" PRIx32 "] reg 0x%" PRIx32 ": 0x%" PRIx32)                                     \
    E(mhp_acpi_write_slot, (uint32_t slot), (slot), "set active slot: 0x%" PRIx32)             \
    E(mhp_acpi_write_ost_ev, (uint32_t slot, uint32_t ev), (slot, ev),                         \
      "slot[0x%" PRIx32 "] OST EVENT: 0x%" PRIx32)                                             \
    E(mhp_acpi_write_ost_status, (uint32_t slot, uint32_t st), (slot, st),                     \
      "slot[0x%" PRIx32 "] OST STATUS: 0x%" PRIx32)                                            \
    E(mhp_acpi_clear_insert_evt, (uint32_t slot), (slot), "slot[0x%" PRIx32 "] clear insert event") \
    E(mhp_acpi_clear_remove_evt, (uint32_t slot), (slot), "slot[0x%" PRIx32 "] clear remove event") \
    E(mhp_acpi_pc_dimm_deleted, (uint32_t slot), (slot), "slot[0x%" PRIx32 "] pc-dimm deleted") \
    E(mhp_acpi_plug, (uint32_t slot, uint64_t addr, uint64_t size), (slot, addr, size),       \
      "slot[0x%" PRIx32 "] addr 0x%" PRIx64 " size 0x%" PRIx64)                                \
    E(i440fx_pam_update, (unsigned seg, unsigned mode), (seg, mode),                           \
      "PAM segment %u mode %u (1 RE, 2 WE)")                                                   \
    E(mch_pam_update, (unsigned seg, unsigned mode), (seg, mode),                              \
      "PAM segment %u mode %u (1 RE, 2 WE)")                                                   \
    E(mch_smram_update, (uint8_t smram, uint8_t esmramc), (smram, esmramc),                    \
      "SMRAM 0x%02" PRIx8 " ESMRAMC 0x%02" PRIx8)
TES_TRACE_DECLARE(X86_TRACE)

/* In the board plugin's init: sets the host and registers the list. */
int x86_trace_register(const tes_host *host);

#endif
