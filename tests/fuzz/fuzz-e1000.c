/*
 * Fuzz target: e1000 (82540EM, plugins/net) through the harness, with a
 * harness netdev as the network; the actions are fuzz-dev.h's generic
 * ones and fuzz-e1000.h's.
 */
#include "fuzz-e1000.h"
#include "fuzz-net.h"

static void setup(fz *f)
{
    fe_setup(f, false);
}

static const fz_target e1000_target = {
    .plugins = {"net/e1000", NULL},
    .ram_size = FE_RAM,
    .setup = setup,
    .n_ops = FE_OPS,
    .op = fe_op,
    .teardown = fn_drain,
};

FZ_TARGET(e1000_target)
