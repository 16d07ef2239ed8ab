// SPDX-License-Identifier: GPL-2.0
/*
 * One passed-through function as the board sees it: made from a
 * --passthrough argument (a host BDF, or "sim:MODEL[,k=v...]" for the
 * simulated host of vfio/host/), freed with everything it owns, and
 * printing its own state for `mvm stat` and `mvm debug`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "vfio/vfio_pci.h"
#include "vfio/vfio_sim.h"

struct vfio_pci *vfio_pci_create(struct device_ctx *ctx, const char *spec)
{
	struct vfio_host *host = vfio_host_real(), *sim = NULL;
	struct vfio_pci *vd;
	char bdf[32];

	snprintf(bdf, sizeof(bdf), "%s", spec);
	if (!strncmp(spec, "sim:", 4)) {
		sim = vfio_sim_create(spec + 4, bdf, sizeof(bdf));
		if (!sim)
			return NULL;
		host = sim;
	}
	vd = malloc(sizeof(*vd));
	if (!vd) {
		pr_err("--passthrough %s: out of memory", spec);
		goto fail;
	}
	if (vfio_pci_open(vd, ctx, host, bdf)) {
		free(vd);
		goto fail;
	}
	vd->owned_host = sim;
	return vd;
fail:
	if (sim)
		sim->ops->destroy(sim);
	return NULL;
}

void vfio_pci_free(struct vfio_pci *vd)
{
	struct vfio_host *sim;

	if (!vd)
		return;
	sim = vd->owned_host;
	vfio_pci_detach(vd);
	free(vd);
	if (sim)
		sim->ops->destroy(sim);
}

void vfio_pci_print_stat(struct vfio_pci *vd, FILE *out)
{
	uint64_t *counts;
	bool have;

	fprintf(out, "%s msix set_irqs %llu enables %llu disables %llu grows %llu errors %llu\n",
		vd->name,
		(unsigned long long)vd->msix_stats.set_irqs,
		(unsigned long long)vd->msix_stats.enables,
		(unsigned long long)vd->msix_stats.disables,
		(unsigned long long)vd->msix_stats.grows,
		(unsigned long long)vd->msix_stats.errors);
	if (!vd->has_msix || !vd->vectors.v)
		return;
	/* Interrupts per vector as the host kernel took them. */
	counts = calloc(vd->msix.nr, sizeof(*counts));
	have = counts && !vfio_msix_host_irq_counts(vd, counts, vd->msix.nr);
	msix_vectors_stat(&vd->vectors, vd->name, have ? counts : NULL, false,
			  out);
	free(counts);
}

/* Guest view and host view of each vector, side by side. */
void vfio_pci_print_debug(struct vfio_pci *vd, FILE *out)
{
	unsigned int v;

	if (!vd->has_msix)
		return;
	pthread_mutex_lock(&vd->msix.lock);
	fprintf(out, "%s msix guest %s%s, host %s (%s, %u vectors allocated)\n",
		vd->name, vd->msix.enabled ? "enabled" : "disabled",
		vd->msix.function_mask ? " function-masked" : "",
		vd->host_msix_enabled ? "enabled" : "disabled",
		vd->msix_dynamic ? "dynamic" : "noresize", vd->host_nvec);
	for (v = 0; v < vd->msix.nr; v++) {
		struct msix_vector *x = &vd->vectors.v[v];

		if (!x->host_live && x->gsi < 0 &&
		    !msix_vector_data(&vd->msix, v) &&
		    msix_vector_masked(&vd->msix, v))
			continue;	/* untouched vector */
		fprintf(out, "  vector %u guest addr %#llx data %#x %s%s | host %s gsi %d %s\n",
			v, (unsigned long long)msix_vector_addr(&vd->msix, v),
			msix_vector_data(&vd->msix, v),
			msix_vector_masked(&vd->msix, v) ? "masked" : "unmasked",
			msix_pending(&vd->msix, v) ? " pending" : "",
			x->host_live ? "trigger" : "no-trigger", x->gsi,
			x->irqfd ? "irqfd" : x->polled ? "polled" : "idle");
	}
	pthread_mutex_unlock(&vd->msix.lock);
}
