/*
 * cpu-x86: the translator's entry points when the build has no code
 * generator (sdk/jit): every vCPU interprets.
 */
#include "x86.h"

bool x86_jit_ready(x86_cpu *c)
{
    return false;
}

tes_exec_status x86_run_jit(x86_cpu *c, uint64_t budget, uint64_t *n)
{
    *n = 0;
    return TES_EXEC_BUDGET;
}

void x86_jit_release(x86_cpu *c)
{
}

void x86_jit_state_written(x86_cpu *c)
{
}

bool x86_jit_page_has_code(const void *host_page)
{
    return false;
}

void x86_jit_code_written(x86_cpu *c, const void *host, size_t len)
{
}
