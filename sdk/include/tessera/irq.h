/*
 * tessera SDK: interrupt lines and MSI.
 *
 * An interrupt controller creates input lines with irq_new(); a machine wires
 * a device's numbered outputs to them with dev_connect_irq(); the device
 * drives its outputs with dev_set_irq(). MSI is a DMA write of the message
 * data to the message address in the device's address space
 * (msi_send()), so it reaches whatever doorbell the platform maps there.
 */
#ifndef TESSERA_IRQ_H
#define TESSERA_IRQ_H

#include <tessera/types.h>

/* Called with the machine lock held whenever the line's level is set. */
typedef void (*tes_irq_handler)(void *opaque, int n, int level);

#endif
