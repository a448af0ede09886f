/*
 * pcie plugin internals shared by pcie.c (ports, bridges, descriptor) and
 * gpex.c (the generic ECAM host bridge).
 */
#ifndef PCIE_INT_H
#define PCIE_INT_H

#include <tessera/tessera.h>

extern const tes_host *H;
extern const tes_type_info gpex_type, gpex_root_type;
extern const tes_type_info pxb_type, pxb_pcie_type;

/* Offer the gpex interface (again after a harness cleared it). */
void gpex_iface_register(void);
void pxb_iface_register(void); /* pxb.c: the "pxb" interface */

static inline uint32_t ld32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

#endif
