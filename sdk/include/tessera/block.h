/*
 * tessera SDK: block backends (-drive).
 *
 * A device gets a tes_drive through a TES_PROP_DRIVE property; the core
 * opened the image at start-up and refused a missing or read-only one.
 */
#ifndef TESSERA_BLOCK_H
#define TESSERA_BLOCK_H

#include <tessera/types.h>

#endif
