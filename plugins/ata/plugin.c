/*
 * ata: IDE and AHCI storage. The IDE bus and its drives (ide-hd, ide-cd),
 * the PIIX3 IDE function of the `pc` machine (piix3-ide) and the ICH9
 * AHCI controller of `q35` (ich9-ahci). Each file opens with its manual.
 */
#include <errno.h>

#include "ata.h"
#include "ata-trace.h"

const tes_host *H;
TES_TRACE_DEFINE(ATA_TRACE)
unsigned ata_dma_depth;

static int ata_init(const tes_host *host)
{
    if (host->size < offsetof(tes_host, drive_inflight) + sizeof(host->drive_inflight)) {
        return -ENOTSUP; /* needs SDK 1.1 asynchronous block requests */
    }
    H = host;
    return TES_TRACE_REGISTER(host);
}

static const tes_type_info *const ata_types[] = {
    &ide_hd_type, &ide_cd_type, &piix3_ide_type, &ich9_ahci_type, NULL,
};

TES_PLUGIN_DEFINE(.name = "ata", .version = "0.1.0", .license = "MIT",
                  .desc = "IDE bus, ide-hd, ide-cd, piix3-ide and ich9-ahci", .types = ata_types,
                  .init = ata_init);
