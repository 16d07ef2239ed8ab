// SPDX-License-Identifier: GPL-2.0
/*
 * g_mbox (a tiny mbox-vf driver) with `--passthrough sim:mbox-vf`, on both
 * host kernels mvm supports: dynamic MSI-X allocation (Linux >= 6.5) and
 * NORESIZE.  The guest enables MSI-X the Linux way (Enable | Function
 * Mask, every vector masked) and sends a mailbox command at once: the PF
 * answers only if MSI-X is on in the host (docs/mbox-vf.md, the QEMU
 * pci-assign fix "Enable MSIX on device to match guest").  Then it checks
 * the completion arrives once vector 0 is unmasked, doorbells every
 * vector, and the mask/PBA/unmask cycle.  Here we assert on what the
 * guest saw (ucalls) and on the simulated host's counters.
 */
#include "guest/harness.h"
#include "vfio/vfio_pci.h"
#include "vfio/vfio_sim.h"

#define NR_VECTORS	16
#define MASK_VECTOR	3
#define MBOX_CMD	0x1234

/* g_mbox.c's SYNC stages, in the order the guest reports them. */
enum {
	ST_FOUND = 1, ST_BAR0, ST_CMD, ST_MSIX_CAP, ST_CAPS_SEEN, ST_TABLE,
	ST_PBA, ST_QSIZE, ST_ID, ST_IF0_INT, ST_STATUS, ST_RESULT, ST_HOST_IRQ,
	ST_COMPLETION, ST_VEC0_AFTER_UNMASK, ST_DOORBELLS, ST_MASKED_HITS,
	ST_MASKED_PBA, ST_UNMASKED_HITS, ST_UNMASKED_PBA, ST_HOST_IRQ_END,
	ST_NR
};

/* What the host looked like when the guest had powered off. */
struct host_view {
	bool have;
	struct vfio_sim_stats sim;
	bool msix_enabled;
	unsigned int msix_allocated;
	struct vfio_msix_host_stats vd;
	struct irq_router_stats router;
	uint64_t mmio64_base;
};

/* After machine_run(), before machine_destroy(): the passthrough host's state. */
static void inspect_host(struct machine *m, void *arg)
{
	struct host_view *hv = arg;

	memset(hv, 0, sizeof(*hv));
	hv->mmio64_base = m->mmio64_base;
	hv->router = m->vm.router.stats;
	if (m->nr_passthrough == 1 && m->passthrough[0]->owned_host) {
		struct vfio_host *h = m->passthrough[0]->owned_host;

		hv->have = true;
		hv->sim = *vfio_sim_stats(h);
		hv->msix_enabled = vfio_sim_msix_enabled(h);
		hv->msix_allocated = vfio_sim_msix_allocated(h);
		hv->vd = m->passthrough[0]->msix_stats;
	}
}

static void run_flavour(const uint8_t *img, size_t len, const char *host)
{
	unsigned long long val[ST_NR] = { 0 };
	unsigned int seen[ST_NR] = { 0 }, i, n;
	struct machine_config cfg;
	struct host_view hv;
	struct guest_run r;
	char spec[96], what[32];
	bool order_ok;
	bool dynamic = !strcmp(host, "dynamic");
	unsigned long set_irqs;
	const char *replays;

	snprintf(spec, sizeof(spec), "sim:mbox-vf,vectors=%d,host=%s",
		 NR_VECTORS, host);
	tap_diag("--passthrough %s", spec);
	guest_config(&cfg, img, len, "g_mbox");
	cfg.passthrough[0] = spec;
	cfg.nr_passthrough = 1;
	memset(&hv, 0, sizeof(hv));
	guest_run_inspect(&cfg, &r, inspect_host, &hv);

	snprintf(what, sizeof(what), "%s: ", host);
	guest_check_done(&r, what);
	order_ok = guest_stages(val, seen, ST_NR, &n);
	ok(order_ok, "%s: %u reports, each stage once, in order",
	   host, n);
	for (i = 1; i < ST_NR; i++)
		if (seen[i] != 1)
			tap_diag("stage %u reported %u times", i, seen[i]);

	/* Enumeration and config space. */
	ok(seen[ST_FOUND], "%s: guest found 1234:5f10 on bus 0 (slot %llu)",
	   host, val[ST_FOUND] >> 3);
	is_int(val[ST_BAR0], hv.mmio64_base,
	       "%s: BAR0 is the first address of the 64-bit window", host);
	ok(val[ST_CMD] & 0x2, "%s: memory decoding was on", host);
	is_int(val[ST_MSIX_CAP], 0x60, "%s: MSI-X capability at 0x60", host);
	ok(val[ST_CAPS_SEEN] & (1ULL << 0x11), "%s: walk met MSI-X", host);
	ok(!(val[ST_CAPS_SEEN] & (1ULL << 0x09)),
	   "%s: vendor-specific capability hidden (IDs seen %#llx)", host,
	   val[ST_CAPS_SEEN]);
	is_int(val[ST_TABLE], MBOX_VF_MSIX_TABLE, "%s: table BAR0+0x8000", host);
	is_int(val[ST_PBA], MBOX_VF_MSIX_PBA, "%s: PBA BAR0+0x10000", host);
	is_int(val[ST_QSIZE], NR_VECTORS, "%s: table size", host);
	is_int(val[ST_ID], MBOX_VF_ID, "%s: BAR0 registers readable", host);
	/* The guest library's filter for QEMU TCG's nested-SVM replays. */
	is_int(val[ST_IF0_INT], 1 << 16,
	       "%s: a vector entered with IF=0 is a replay, not a hit", host);

	/* The seed's scenario: a command right after the masked enable. */
	is_int(val[ST_STATUS], MBOX_STATUS_DONE,
	       "%s: mailbox command with every vector masked completes", host);
	is_int(val[ST_RESULT], (uint32_t)~MBOX_CMD, "%s: mailbox result ~cmd",
	       host);
	ok(val[ST_HOST_IRQ] & MBOX_HOST_IRQ_MSIX,
	   "%s: host MSI-X on right after the guest's enable (HOST_IRQ %#llx)",
	   host, val[ST_HOST_IRQ]);
	ok(!(val[ST_HOST_IRQ] & (MBOX_HOST_IRQ_MSI | MBOX_HOST_IRQ_INTX)),
	   "%s: ... and INTx/MSI off", host);
	is_int(val[ST_HOST_IRQ] >> MBOX_HOST_IRQ_NVEC_SHIFT, 1,
	       "%s: one host vector at enable (table data all 0)", host);

	/* Interrupts. */
	is_int(val[ST_COMPLETION], 1,
	       "%s: completion raised on masked vector 0 arrives once on unmask",
	       host);
	/*
	 * NORESIZE: unmasking vector 1 re-enables MSI-X with 16 vectors and
	 * mvm fires every vector that was live once, since an interrupt in
	 * the disable window would be lost (vfio/vfio_msix.c host_grow()).
	 */
	is_int(val[ST_VEC0_AFTER_UNMASK], dynamic ? 1 : 2,
	       "%s: vector 0 hits after all unmasks (%s)", host,
	       dynamic ? "no spurious" : "one deliberate re-fire on grow");
	is_int(val[ST_DOORBELLS], (1u << NR_VECTORS) - 1,
	       "%s: every vector's doorbell arrived exactly once", host);
	is_int(val[ST_MASKED_HITS], 0, "%s: masked vector %d: no interrupt",
	       host, MASK_VECTOR);
	ok(val[ST_MASKED_PBA] & (1u << MASK_VECTOR),
	   "%s: masked vector %d: PBA bit set (PBA %#llx)", host, MASK_VECTOR,
	   val[ST_MASKED_PBA]);
	is_int(val[ST_UNMASKED_HITS], 1,
	       "%s: unmask delivers the pending interrupt once", host);
	ok(!(val[ST_UNMASKED_PBA] & (1u << MASK_VECTOR)),
	   "%s: PBA bit clear after delivery (PBA %#llx)", host,
	   val[ST_UNMASKED_PBA]);
	is_int(val[ST_HOST_IRQ_END],
	       MBOX_HOST_IRQ_MSIX | NR_VECTORS << MBOX_HOST_IRQ_NVEC_SHIFT,
	       "%s: at the end the host has MSI-X with all vectors", host);
	ok(strstr(r.console, "g_mbox: 16 vectors, mailbox and MSI-X OK") != NULL,
	   "%s: guest printed its summary", host);
	/* Seen only under QEMU TCG's nested SVM: say so, it is not mvm's. */
	replays = strstr(r.console, "replayed deliveries ignored");
	while (replays && replays > r.console && replays[-1] != '\n')
		replays--;
	if (replays)
		tap_diag("%s: %.*s (the platform's, see guest/lib/idt.c)", host,
			 (int)strcspn(replays, "\n"), replays);

	/* The simulated host's side. */
	ok(hv.have, "%s: passthrough host present after the run", host);
	ok(hv.sim.mbox_ok >= 1, "%s: mbox_ok %lu", host, hv.sim.mbox_ok);
	is_int(hv.sim.mbox_refused, 0, "%s: no mailbox command refused", host);
	ok(hv.msix_enabled, "%s: host MSI-X enabled at the end", host);
	is_int(hv.msix_allocated, NR_VECTORS, "%s: host vectors allocated",
	       host);
	set_irqs = hv.sim.ioctls[vfio_sim_ioc(VFIO_DEVICE_SET_IRQS)];
	tap_diag("%s: SET_IRQS %lu (MSI-X %llu), sim MSI-X enables %lu disables %lu, mvm grows %llu errors %llu, deliveries %lu (late %lu) dropped %lu, router commits %llu irqfd %llu GSIs %llu",
		 host, set_irqs, (unsigned long long)hv.vd.set_irqs,
		 hv.sim.msix_enables, hv.sim.msix_disables,
		 (unsigned long long)hv.vd.grows,
		 (unsigned long long)hv.vd.errors, hv.sim.deliveries,
		 hv.sim.pending_delivered, hv.sim.dropped,
		 (unsigned long long)hv.router.commits,
		 (unsigned long long)hv.router.irqfd_calls,
		 (unsigned long long)hv.router.gsis_in_use);
	is_int(hv.vd.errors, 0, "%s: no VFIO MSI-X errors in mvm", host);
	is_int(hv.sim.dropped, 0, "%s: no interrupt dropped by the host", host);
	/* The completion, 16 doorbells and the masked one. */
	is_int(hv.sim.deliveries, NR_VECTORS + 2,
	       "%s: the device's interrupts all reached their eventfds", host);
	/*
	 * SET_IRQS on the MSI-X index, as mvm counts them (the sim's total
	 * adds the INTx setup at realize and its disable at MSI-X enable).
	 */
	if (dynamic) {
		is_int(hv.sim.msix_disables, 0,
		       "dynamic: MSI-X never disabled on the host");
		is_int(hv.sim.msix_enables, 1, "dynamic: enabled once");
		is_int(hv.vd.set_irqs, NR_VECTORS + 1,
		       "dynamic: MSI-X SET_IRQS = enable + one per vector");
	} else {
		ok(hv.sim.msix_enables >= 1, "noresize: MSI-X enabled (%lu)",
		   hv.sim.msix_enables);
		is_int(hv.vd.grows, 1,
		       "noresize: one re-enable, sized by the data hint");
		is_int(hv.vd.set_irqs, 3,
		       "noresize: MSI-X SET_IRQS = enable, disable, enable");
	}
	free(r.console);
}

int main(void)
{
	uint8_t *img;
	size_t len;

	guest_require_kvm();
	img = guest_load("g_mbox", &len);
	run_flavour(img, len, "dynamic");
	run_flavour(img, len, "noresize");
	free(img);
	return tap_done();
}
