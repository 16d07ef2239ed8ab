// SPDX-License-Identifier: GPL-2.0
/*
 * pvpanic-pci (include/pci/pvpanic.h).  The register semantics are those
 * Linux's driver relies on (drivers/misc/pvpanic/pvpanic-pci.c maps BAR0
 * with pcim_iomap(); drivers/misc/pvpanic/pvpanic.c):
 *
 * - probe: capability = (PANICKED | CRASH_LOADED [| SHUTDOWN, 6.9+]) &
 *   ioread8(base); events = capability.  So the read of byte 0 decides
 *   what the driver will ever send: we return PANICKED | CRASH_LOADED and
 *   never see SHUTDOWN (a guest poweroff already ends the VM through ACPI).
 * - panic notifier: event = PANICKED, or CRASH_LOADED when
 *   kexec_crash_loaded(); iowrite8(event, base) if the event is enabled in
 *   `events` (sysfs can mask it).
 *
 * QEMU's model (hw/misc/pvpanic*.c) is the reference for the rest: the
 * register is one byte, PANICKED takes precedence over CRASH_LOADED in a
 * write holding both.  Everything else a guest may do (other offsets,
 * wider accesses, unknown bits) is warned about, rate-limited, and
 * otherwise ignored; a wider access at offset 0 acts on its low byte, as
 * QEMU splits it into bytes.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "pci/pvpanic.h"
#include "core/util.h"

struct pvpanic {
	struct pci_device pci;
	struct device_ctx *ctx;
	struct exit_line exit;
	atomic_uint seen;		/* PVPANIC_* bits reported */
	atomic_uint writes;
};

static void pvpanic_bar_read(void *opaque, uint64_t off, uint8_t *data,
			     unsigned int len)
{
	memset(data, 0, len);
	if (len != 1 || off != 0)
		pr_warn_ratelimited("pvpanic: %u-byte read at BAR0+%llu: "
				    "the register is byte 0", len,
				    (unsigned long long)off);
	if (off == 0)
		data[0] = PVPANIC_EVENTS;
}

static void pvpanic_event(struct pvpanic *p, uint8_t val)
{
	atomic_fetch_add(&p->writes, 1);
	if (val & ~PVPANIC_EVENTS)
		pr_warn_ratelimited("pvpanic: unknown event bits %#x ignored",
				    val & ~PVPANIC_EVENTS);
	if (val & PVPANIC_PANICKED) {
		atomic_fetch_or(&p->seen, PVPANIC_PANICKED);
		exit_line_request(&p->exit, VM_EXIT_PANIC, MVM_EXIT_PANIC);
	} else if (val & PVPANIC_CRASH_LOADED) {
		if (!(atomic_fetch_or(&p->seen, PVPANIC_CRASH_LOADED) &
		      PVPANIC_CRASH_LOADED))
			pr_info("the guest kernel panicked with a crash kernel "
				"loaded (pvpanic): the VM runs on into it");
	} else if (!(val & ~PVPANIC_EVENTS)) {
		pr_warn_ratelimited("pvpanic: write of 0 (no event) ignored");
	}
}

static void pvpanic_bar_write(void *opaque, uint64_t off, const uint8_t *data,
			      unsigned int len)
{
	struct pvpanic *p = opaque;

	if (len != 1 || off != 0)
		pr_warn_ratelimited("pvpanic: %u-byte write at BAR0+%llu: "
				    "the register is byte 0", len,
				    (unsigned long long)off);
	if (off == 0)
		pvpanic_event(p, data[0]);
}

static const struct io_ops pvpanic_bar_ops = {
	.read = pvpanic_bar_read,
	.write = pvpanic_bar_write,
};

int pvpanic_create(struct device_ctx *ctx, struct exit_line exit,
		   struct pvpanic **out)
{
	struct pvpanic *p = calloc(1, sizeof(*p));
	int err;

	*out = NULL;
	if (!p) {
		pr_err("pvpanic: out of memory");
		return -ENOMEM;
	}
	p->ctx = ctx;
	p->exit = exit;
	pci_device_init(&p->pci, "pvpanic", PVPANIC_VENDOR, PVPANIC_DEVICE,
			PVPANIC_CLASS);
	p->pci.cfg[PCI_REVISION_ID] = 1;	/* as QEMU's */
	p->pci.priv = p;
	err = pci_device_add_bar(&p->pci, 0, PCI_BAR_MEM32, PVPANIC_BAR_SIZE,
				 false, &pvpanic_bar_ops, p);
	if (!err)
		err = pci_bus_register(ctx->pci, &p->pci, -1);
	if (err) {
		if (err == -EINVAL)
			pr_err("pvpanic: cannot declare BAR0");
		free(p);
		return err;
	}
	*out = p;
	return 0;
}

void pvpanic_destroy(struct pvpanic *p)
{
	if (!p)
		return;
	pci_bus_unregister(p->ctx->pci, &p->pci);
	free(p);
}

unsigned int pvpanic_events_seen(const struct pvpanic *p)
{
	return p ? atomic_load(&p->seen) : 0;
}

void pvpanic_print_stat(const struct pvpanic *p, FILE *out)
{
	fprintf(out, "pvpanic events %#x writes %u\n", atomic_load(&p->seen),
		atomic_load(&p->writes));
}
