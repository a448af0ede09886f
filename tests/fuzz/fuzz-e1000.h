/*
 * e1000/e1000e actions shared by fuzz-e1000.c and fuzz-e1000e.c, on top of
 * fuzz-dev.h, fuzz-net.h and the plugin tests' register names
 * (plugins/net/tests/nic-drv.h).
 *
 * Each input starts from a NIC the driver set up: BAR0, the I/O BAR (and
 * on the e1000e the flash BAR and the MSI-X BAR, MSI-X on or off), 16-entry
 * rings, RCTL/TCTL enabled, interrupts unmasked. The target actions:
 *
 *   0,1  a register write: one of the ~60 registers a driver touches
 *        (rings, interrupts and their delays, filters, EEPROM, MDIO,
 *        MSI-X routing), with any value or a plausible one
 *   2    transmit descriptors at the tail: legacy (checksum insertion,
 *        VLAN), context (checksum and TSO set-up: any offsets, MSS,
 *        header length, payload length), data (TSE, POPTS) or raw; buffers
 *        holding fn_frame frames or anywhere (fz_addr); then TDT
 *   3    a well-formed TSO packet: a context descriptor from the frame's
 *        headers (MSS any or sane) and 1..4 data descriptors
 *   4    receive descriptors (legacy, or extended on the e1000e) with
 *        buffers in RAM or anywhere, then RDT (or RDH/RDT raw)
 *   5    the EEPROM and the PHY: a Microwire transaction bit by bit
 *        through EECD with any opcode and address, EERD/EEWR, MDIC reads
 *        and writes of any PHY and register (and page, on the e1000e)
 *   6    interrupts: ICS/IMS/IMC/ICR, MSI-X table entries aimed anywhere
 *        (our own ICS too), delay timers run by a clock step, MSIs taken
 *   7    the I/O BAR: IOADDR to a register, IODATA read or write
 *   8,9  fuzz-net.h's backend events
 *   10   the spec check: CTRL.RST and the driver's set-up again, frames
 *        kept by the core dropped (receiver off); then a frame from the
 *        network lands in the next RX descriptor (DD, EOP, its length and
 *        bytes), and a frame sent with a legacy descriptor is on the
 *        network as it was with TDH moved on
 */
#ifndef FUZZ_E1000_H
#define FUZZ_E1000_H

#include "fuzz-dev.h"


/* The two targets (fuzz-e1000.c and fuzz-e1000e.c each FZ_TARGET one). */
extern const fz_target fe_e1000_target, fe_e1000e_target;

#endif
