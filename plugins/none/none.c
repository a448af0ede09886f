#include <tessera/tessera.h>
