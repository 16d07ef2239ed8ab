/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvpanic-pci: QEMU's paravirtual panic device (PCI 1b36:0011), which
 * Linux drives with drivers/misc/pvpanic/pvpanic-pci.c (CONFIG_PVPANIC_PCI).
 * BAR0 is a small memory BAR whose byte 0 is the only register: a read
 * returns the events the device supports, a write reports an event.
 *
 *   PVPANIC_PANICKED      the guest kernel panicked: the VM ends with
 *                         VM_EXIT_PANIC and status MVM_EXIT_PANIC (255)
 *   PVPANIC_CRASH_LOADED  it panicked with a kdump kernel loaded (Linux
 *                         sends this instead of PANICKED then): noted,
 *                         and the VM runs on into the crash kernel
 *
 * The board always has one (machine.c): nothing on the command line turns
 * a panic report off, and a guest without the driver never touches it.
 */
#ifndef MVM_PVPANIC_H
#define MVM_PVPANIC_H

#include <stdbool.h>
#include <stdio.h>

#include "core/exit.h"
#include "pci/devctx.h"

/* Red Hat's vendor ID for QEMU's virtual devices; class: system
 * peripheral, other; BAR0: the smallest memory BAR (PCI 3.0, 6.2.5.1). */
#define PVPANIC_VENDOR		0x1b36
#define PVPANIC_DEVICE		0x0011
#define PVPANIC_CLASS		0x088000
#define PVPANIC_BAR_SIZE	16

/* The register's bits (Linux: include/uapi/misc/pvpanic.h). */
#define PVPANIC_PANICKED	(1u << 0)
#define PVPANIC_CRASH_LOADED	(1u << 1)
#define PVPANIC_EVENTS		(PVPANIC_PANICKED | PVPANIC_CRASH_LOADED)

struct pvpanic;

/*
 * Create the function and register it on ctx->pci (first free slot); a
 * PANICKED write requests VM_EXIT_PANIC through `exit`.  Returns 0 or
 * -errno (after printing why).
 */
int pvpanic_create(struct device_ctx *ctx, struct exit_line exit,
		   struct pvpanic **out);
/* Unregister and free.  NULL is accepted. */
void pvpanic_destroy(struct pvpanic *p);
/* The events the guest has reported so far (PVPANIC_* bits). */
unsigned int pvpanic_events_seen(const struct pvpanic *p);
/* `mvm stat`: "pvpanic events 0x.. writes N". */
void pvpanic_print_stat(const struct pvpanic *p, FILE *out);

#endif
