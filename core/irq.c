/*
 * tessera core: interrupt lines.
 *
 * A line is an input of an interrupt controller (handler + pin number); a
 * device's numbered outputs are wired to lines by the machine. Driving an
 * unwired output is not an error: boards leave pins unconnected.
 */
#include "core.h"

/* Every line ever made. Lines are the core's: plugins get them from
 * host->irq_new and hand them to each other (a board wires a device's
 * output to a controller's input) with no way to free them, and any holder
 * may outlive the device that made it. So they live as long as the machine
 * and go all at once when it does (irqs_free_all, the harness's teardown). */
static GPtrArray *all_irqs;

tes_irq *irq_new(tes_irq_handler handler, void *opaque, int n)
{
    tes_irq *irq = g_new0(tes_irq, 1);

    irq->handler = handler;
    irq->opaque = opaque;
    irq->n = n;
    if (!all_irqs) {
        all_irqs = g_ptr_array_new_with_free_func(g_free);
    }
    g_ptr_array_add(all_irqs, irq);
    return irq;
}

void irqs_free_all(void)
{
    if (all_irqs) {
        g_ptr_array_free(all_irqs, true);
        all_irqs = NULL;
    }
}

void irq_set(tes_irq *irq, int level)
{
    if (!irq) {
        return;
    }
    if (level && !irq->level) {
        irq->raised++;
    }
    irq->level = level;
    if (irq->handler) {
        irq->handler(irq->opaque, irq->n, level);
    }
}

void dev_init_irqs(tes_device *dev, unsigned count)
{
    tes_irq **old = dev->irq_out;
    unsigned n_old = dev->n_irq_out;

    /* Growing keeps earlier connections: a device may call this twice. */
    dev->irq_out = g_new0(tes_irq *, count);
    for (unsigned i = 0; i < n_old && i < count; i++) {
        dev->irq_out[i] = old[i];
    }
    dev->n_irq_out = count;
    g_free(old);
}

void dev_connect_irq(tes_device *dev, unsigned idx, tes_irq *irq)
{
    if (idx >= dev->n_irq_out) {
        core_log(TES_LOG_GUEST_ERROR, "%s: no interrupt output %u to connect (has %u)",
                 dev->name ? dev->name : "device", idx, dev->n_irq_out);
        return;
    }
    dev->irq_out[idx] = irq;
}

void dev_set_irq(tes_device *dev, unsigned idx, int level)
{
    if (!dev || idx >= dev->n_irq_out) {
        return;
    }
    irq_set(dev->irq_out[idx], level);
}
