/*
 * tessera SDK: log masks, selected on the command line with -d and sent to
 * stderr or the -D file.
 */
#ifndef TESSERA_LOG_H
#define TESSERA_LOG_H

#include <tessera/types.h>

/* -d names in brackets. */
#define TES_LOG_GUEST_ERROR (1u << 0) /* [guest_errors] guest misprogrammed a device */
#define TES_LOG_UNIMP       (1u << 1) /* [unimp] guest used an unimplemented feature */
#define TES_LOG_IN_ASM      (1u << 2) /* [in_asm] guest code as it is translated */
#define TES_LOG_INT         (1u << 3) /* [int] interrupts and exceptions */
#define TES_LOG_TRACE       (1u << 4) /* [trace] device trace events */
#define TES_LOG_PLUGIN      (1u << 5) /* [plugin] plugin loading */
#define TES_LOG_MMIO        (1u << 6) /* [mmio] every MMIO/PIO access */
/* ABI 1.2: the translator's output. */
#define TES_LOG_OUT_ASM     (1u << 7) /* [out_asm] host code of each translated block */
#define TES_LOG_OP          (1u << 8) /* [op] intermediate code of each translated block */

#endif
