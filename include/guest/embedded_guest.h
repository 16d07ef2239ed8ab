/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The bzImage `mvm run` boots when no kernel is given (guest/embedded_guest.S,
 * source in guest/embedded.c).
 */
#ifndef MVM_EMBEDDED_GUEST_H
#define MVM_EMBEDDED_GUEST_H

#include <stdint.h>

extern const uint8_t embedded_guest_start[];
extern const uint8_t embedded_guest_end[];

#endif
