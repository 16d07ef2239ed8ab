/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MVM_ABSENT_PORTS_H
#define MVM_ABSENT_PORTS_H

#include "core/iobus.h"

/* Claim the legacy ports of devices a PC has and mvm does not. */
int absent_ports_init(struct iobus *pio);

#endif
