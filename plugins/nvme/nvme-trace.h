/*
 * nvme: trace points (sdk trace.h), named and formatted as QEMU's
 * hw/nvme/trace-events so -trace 'pci_nvme*' lines and greps carry over.
 */
#ifndef NVME_TRACE_H
#define NVME_TRACE_H

#include <tessera/host.h>

extern const tes_host *H;

#define TES_TRACE_TABLE nvme_trace_events
#define TES_TRACE_HOST H
#define NVME_TRACE(E)                                                                          \
    E(pci_nvme_mmio_read, (uint64_t addr, unsigned size), (addr, size),                        \
      "addr 0x%" PRIx64 " size %d")                                                            \
    E(pci_nvme_mmio_write, (uint64_t addr, uint64_t data, unsigned size), (addr, data, size), \
      "addr 0x%" PRIx64 " data 0x%" PRIx64 " size %d")                                         \
    E(pci_nvme_mmio_doorbell_cq, (uint16_t cqid, uint16_t new_head), (cqid, new_head),        \
      "cqid %" PRIu16 " new_head %" PRIu16)                                                    \
    E(pci_nvme_mmio_doorbell_sq, (uint16_t sqid, uint16_t new_tail), (sqid, new_tail),        \
      "sqid %" PRIu16 " new_tail %" PRIu16)                                                    \
    E(pci_nvme_mmio_intm_set, (uint64_t data, uint64_t new_mask), (data, new_mask),           \
      "wrote MMIO, interrupt mask set, data=0x%" PRIx64 ", new_mask=0x%" PRIx64)             \
    E(pci_nvme_mmio_intm_clr, (uint64_t data, uint64_t new_mask), (data, new_mask),           \
      "wrote MMIO, interrupt mask clr, data=0x%" PRIx64 ", new_mask=0x%" PRIx64)             \
    E(pci_nvme_mmio_cfg, (uint64_t data), (data), "wrote MMIO, config controller config=0x%" PRIx64) \
    E(pci_nvme_mmio_start_success, (void), (), "setting controller enable bit succeeded")    \
    E(pci_nvme_mmio_stopped, (void), (), "cleared controller enable bit")                     \
    E(pci_nvme_mmio_shutdown_set, (void), (), "shutdown bit set")                             \
    E(pci_nvme_mmio_shutdown_cleared, (void), (), "shutdown bit cleared")                     \
    E(pci_nvme_admin_cmd, (uint16_t cid, uint16_t sqid, uint8_t opcode), (cid, sqid, opcode), \
      "cid %" PRIu16 " sqid %" PRIu16 " opc 0x%" PRIx8)                                        \
    E(pci_nvme_io_cmd, (uint16_t cid, uint32_t nsid, uint16_t sqid, uint8_t opcode),          \
      (cid, nsid, sqid, opcode), "cid %" PRIu16 " nsid 0x%" PRIx32 " sqid %" PRIu16 " opc 0x%" PRIx8) \
    E(pci_nvme_enqueue_req_completion, (uint16_t cid, uint16_t cqid, uint32_t dw0, uint16_t status), \
      (cid, cqid, dw0, status),                                                                \
      "cid %" PRIu16 " cqid %" PRIu16 " dw0 0x%" PRIx32 " status 0x%" PRIx16)                 \
    E(pci_nvme_create_sq, (uint64_t addr, uint16_t sqid, uint16_t cqid, uint32_t qsize),      \
      (addr, sqid, cqid, qsize),                                                               \
      "create submission queue, addr=0x%" PRIx64 ", sqid=%" PRIu16 ", cqid=%" PRIu16 ", qsize=%" PRIu32) \
    E(pci_nvme_create_cq, (uint64_t addr, uint16_t cqid, uint16_t vector, uint32_t size, int ien), \
      (addr, cqid, vector, size, ien),                                                         \
      "create completion queue, addr=0x%" PRIx64 ", cqid=%" PRIu16 ", vector=%" PRIu16         \
      ", qsize=%" PRIu32 ", ien=%d")                                                           \
    E(pci_nvme_del_sq, (uint16_t qid), (qid), "deleting submission queue sqid=%" PRIu16)      \
    E(pci_nvme_irq_msix, (uint32_t vector), (vector), "raising MSI-X IRQ vector %u")          \
    E(pci_nvme_irq_pin, (int level), (level), "IRQ pin level %d")                             \
    E(pci_nvme_err_startfail, (void), (), "setting controller enable bit failed")
TES_TRACE_DECLARE(NVME_TRACE)

#endif
