/*
 * board-x86: the trace list of x86-trace.h, in a file of its own so that
 * the tests and fuzz targets compiling the hotplug blocks alone link it.
 */
#include "x86-trace.h"

const tes_host *x86_trace_host;
TES_TRACE_DEFINE(X86_TRACE)

int x86_trace_register(const tes_host *host)
{
    x86_trace_host = host;
    return TES_TRACE_REGISTER(host);
}
