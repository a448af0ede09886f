/*
 * tessera SDK: the plugin descriptor.
 *
 * A plugin exports exactly one symbol, TES_PLUGIN_SYMBOL, a tes_plugin_desc
 * made with TES_PLUGIN_DEFINE. The core refuses a plugin whose ABI major
 * differs from its own or whose minor is newer. Build plugins with
 * -fvisibility=hidden and -Wl,--no-undefined; `pkg-config --cflags --libs
 * tessera-sdk-1` gives both.
 *
 *   static const tes_host *H;
 *   static int init(const tes_host *host) { H = host; return 0; }
 *   static const tes_type_info *const types[] = {&mydev_type, NULL};
 *   TES_PLUGIN_DEFINE(.name = "mydev", .version = "1.0.0",
 *                     .license = "MIT", .types = types, .init = init);
 */
#ifndef TESSERA_PLUGIN_H
#define TESSERA_PLUGIN_H

#include <tessera/host.h>

#define TES_PLUGIN_SYMBOL "tessera_plugin_v1"

typedef struct tes_plugin_desc {
    uint32_t size; /* sizeof(tes_plugin_desc) as the plugin was built */
    uint16_t abi_major, abi_minor;
    const char *name;    /* plugin name, e.g. "nvme" */
    const char *version; /* semver of the plugin itself, "1.2.0" */
    const char *license; /* SPDX identifier */
    const char *desc;    /* one line */
    const tes_type_info *const *types; /* NULL-terminated */
    /* Called once after load; return 0 or -errno (the core then refuses the
     * plugin). host lives as long as the process. */
    int (*init)(const tes_host *host);
    void (*fini)(void);
} tes_plugin_desc;

#define TES_PLUGIN_DEFINE(...)                                                     \
    TES_EXPORT const tes_plugin_desc tessera_plugin_v1 = {                      \
        .size = sizeof(tes_plugin_desc),                                           \
        .abi_major = TES_ABI_MAJOR,                                                \
        .abi_minor = TES_ABI_MINOR,                                                \
        __VA_ARGS__}

#endif
