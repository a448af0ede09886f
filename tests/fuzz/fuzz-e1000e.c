/*
 * Fuzz target: e1000e (82574L, plugins/net) through the harness, with a
 * harness netdev as the network; the actions are fuzz-dev.h's generic
 * ones and fuzz-e1000.h's.
 */
#include "fuzz-e1000.h"
#include "fuzz-net.h"

static void setup(fz *f)
{
    fe_setup(f, true);
}

static const fz_target e1000e_target = {
    .plugins = {"net/e1000", NULL},
    .ram_size = FE_RAM,
    .setup = setup,
    .n_ops = FE_OPS,
    .op = fe_op,
    .teardown = fn_drain,
};

FZ_TARGET(e1000e_target)
