#include "test-ata.h"
void ahci_tests_register(void) {}
