/*
 * tessera SDK: opaque handles and common definitions.
 *
 * Every handle is opaque: plugins hold pointers and pass them back to the
 * host table; no core struct layout crosses the ABI.
 */
#ifndef TESSERA_TYPES_H
#define TESSERA_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI version this header set describes (see docs/sdk.md, "ABI rules"). */
#define TES_ABI_MAJOR 1
#ifndef TES_ABI_MINOR
#define TES_ABI_MINOR 11
#endif

/* Marks the one symbol a plugin exports; everything else stays hidden. */
#define TES_EXPORT __attribute__((visibility("default")))

typedef struct tes_device tes_device;   /* an instance of a device type */
typedef struct tes_bus tes_bus;         /* a bus a device plugs into */
typedef struct tes_region tes_region;   /* memory / I/O region */
typedef struct tes_irq tes_irq;         /* an interrupt input line */
typedef struct tes_timer tes_timer;     /* virtual-clock timer */
typedef struct tes_stream tes_stream;   /* migration stream */
typedef struct tes_cpu tes_cpu;         /* a vCPU */
typedef struct tes_chr tes_chr;         /* character backend (serial) */
typedef struct tes_drive tes_drive;     /* block backend from -drive */
typedef struct tes_host tes_host;       /* host function table */
typedef struct tes_netdev tes_netdev;   /* network backend from -netdev (1.3) */

typedef enum tes_endian {
    TES_ENDIAN_LITTLE = 0,
    TES_ENDIAN_BIG = 1,
} tes_endian;

#ifdef __cplusplus
}
#endif
#endif
