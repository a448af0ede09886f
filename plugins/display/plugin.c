/*
 * The display plugin: bochs-display (bochs-display.c) and the std VGA
 * (vga.c), which share the Bochs DISPI interface (dispi.c).
 */
#include <errno.h>
#include <tessera/tessera.h>

#include "display-types.h"
#include "dispi.h"
#include "display-trace.h"

TES_TRACE_DEFINE(DISPLAY_TRACE)

static int display_plugin_init(const tes_host *host)
{
    if (host->size < offsetof(tes_host, console_update) + sizeof(void *)) {
        return -ENOTSUP; /* a core without graphic consoles */
    }
    display_host = host;
    return TES_TRACE_REGISTER(host);
}

static const tes_type_info *const display_types[] = {&bochs_display_type, &vga_type, NULL};

TES_PLUGIN_DEFINE(.name = "display", .version = "0.2.0", .license = "MIT",
                  .desc = "display devices: bochs-display, VGA", .types = display_types,
                  .init = display_plugin_init);
