// SPDX-License-Identifier: GPL-2.0
/*
 * Host interrupt counts of a passthrough device's MSI-X vectors, for
 * `mvm stat`.
 *
 * A vector that is live reaches the guest through KVM's irqfd without
 * passing through mvm, so mvm cannot count its deliveries itself.  The
 * host kernel does: vfio-pci requests one host IRQ per vector named
 * "vfio-msix[N](DDDD:BB:DD.F)" (drivers/vfio/pci/vfio_pci_intrs.c), and
 * /proc/interrupts shows per-CPU counts for each, which we sum.  The
 * simulated host produces the same text, so this parser runs in the tests.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vfio/vfio_pci.h"

/* A host with 512 CPUs and 1000 IRQs writes ~6 MiB here. */
#define PROC_INTERRUPTS_MAX	(16u << 20)

/*
 * One line: "IRQ: count count ... chip hwirq-edge name".  Returns true and
 * the vector and total when the line names "vfio-msix[N](bdf)".
 */
static bool parse_line(const char *line, const char *bdf, unsigned int *vec,
		       uint64_t *total)
{
	char want[40];
	const char *p = strchr(line, ':'), *name;
	uint64_t sum = 0;
	char *end;

	if (!p)
		return false;
	snprintf(want, sizeof(want), "](%s)", bdf);
	name = strstr(line, "vfio-msix[");
	if (!name || !strstr(name, want))
		return false;
	*vec = (unsigned int)strtoul(name + strlen("vfio-msix["), &end, 10);
	if (strncmp(end, want, strlen(want)))
		return false;
	/* The per-CPU columns: numbers up to the chip name. */
	for (p++;;) {
		unsigned long long n;

		while (*p == ' ')
			p++;
		if (*p < '0' || *p > '9')
			break;
		n = strtoull(p, &end, 10);
		if (*end != ' ' && *end != '\0' && *end != '\n')
			break;		/* a chip name starting with a digit */
		sum += n;
		p = end;
	}
	*total = sum;
	return true;
}

int vfio_msix_host_irq_counts(struct vfio_pci *vd, uint64_t *counts,
			      unsigned int nr)
{
	char *buf = malloc(PROC_INTERRUPTS_MAX);
	char *line, *save = NULL;
	ssize_t n;
	bool any = false;

	if (!buf)
		return -ENOMEM;
	n = vd->host->ops->read_attr(vd->host, "/proc/interrupts", buf,
				     PROC_INTERRUPTS_MAX - 1);
	if (n < 0) {
		free(buf);
		return (int)n;
	}
	buf[n] = '\0';
	memset(counts, 0, nr * sizeof(*counts));
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned int v;
		uint64_t total;

		if (parse_line(line, vd->bdf, &v, &total) && v < nr) {
			counts[v] = total;
			any = true;
		}
	}
	free(buf);
	/* No line at all: MSI-X is off on the host, or counts are hidden. */
	return any ? 0 : -ENOENT;
}
