/* tessera SDK umbrella header: everything a plugin needs. */
#ifndef TESSERA_TESSERA_H
#define TESSERA_TESSERA_H
#include <tessera/acpi.h>
#include <tessera/block.h>
#include <tessera/fdt.h>
#include <tessera/isa.h>
#include <tessera/memory-device.h>
#include <tessera/plugin.h>
#endif
