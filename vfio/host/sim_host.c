// SPDX-License-Identifier: GPL-2.0
/*
 * The simulated host kernel: struct vfio_host implemented over one
 * simulated PCI function (see mvm/vfio_sim.h).
 *
 * It answers what a Linux 6.1 host with the function bound to vfio-pci
 * answers: the sysfs links of /sys/bus/pci/devices/BDF, the container
 * /dev/vfio/vfio with the type1 IOMMU (drivers/vfio/container.c,
 * vfio_iommu_type1.c), the group /dev/vfio/N (drivers/vfio/group.c) and
 * the device fd (drivers/vfio/pci/vfio_pci_core.c, vfio_pci_rdwr.c,
 * vfio_pci_config.c).  Container, group and device fds are fake numbers
 * (>= VFIO_SIM_FD_BASE) that only this host understands; eventfds are real
 * because mvm hands them to KVM.  Interrupts live in vfio/host/sim_irqs.c, the
 * device in vfio/host/sim_mbox_vf.c.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/util.h"
#include "vfio/vfio_sim.h"

#define PAGE		4096ULL
#define OFFSET_SHIFT	40		/* VFIO_PCI_OFFSET_SHIFT */
#define OFFSET_MASK	((1ULL << OFFSET_SHIFT) - 1)
#define MAX_FAULTS	8
#define DMA_ENTRY_LIMIT	65535		/* type1 dma_entry_limit */
/* Intel VT-d: every size from 4 KiB (INTEL_IOMMU_PGSIZES) */
#define IOMMU_PGSIZES	(~0xfffULL)
#define IOVA_WIDTH	48
#define MSI_IOVA_START	0xfee00000ULL	/* x86 IOMMU_RESV_MSI */
#define MSI_IOVA_END	0xfeefffffULL
#define DIRTY_BITMAP_MAX 0x10000000ULL

enum fd_kind { FD_FREE, FD_CONTAINER, FD_GROUP, FD_DEVICE };

struct sim_dma {
	uint64_t iova, size, vaddr;
};

/* A /dev/vfio/vfio instance with its type1 IOMMU. */
struct sim_container {
	int refs;			/* fds, and the group attached */
	bool has_group;
	bool iommu_set, v2;
	struct sim_dma *dma;		/* sorted by iova */
	unsigned int nr_dma, cap_dma;
};

struct sim_fd {
	enum fd_kind kind;
	struct sim_container *c;
};

struct sim_map {
	void *addr;
	size_t len;
};

struct sim_fault {
	bool armed;
	enum vfio_sim_op op;
	unsigned long req;
	unsigned int left;
	int err;
};

struct sim_cfg {
	char model[16];
	char bdf[16];
	unsigned int vectors;
	bool dynamic;
	unsigned int group;
	bool viable, perm, iommu, msix_mappable, reset, bridge;
	char driver[32];
};

struct sim_host {
	struct vfio_host base;
	pthread_mutex_t lock;
	struct sim_cfg cfg;
	char sysdir[64];
	struct vfio_sim_stats stats;
	struct sim_irqs irqs;
	struct sim_func *func;

	struct sim_fd *fds;
	unsigned int nr_fds;

	/* The one group: opened_file, its container, its users. */
	int group_refs;			/* group fd + device fds */
	struct sim_container *group_container;
	int dev_opens;

	struct sim_map *maps;
	unsigned int nr_maps, cap_maps;

	struct sim_fault faults[MAX_FAULTS];
	void (*hook)(void *opaque, const struct vfio_irq_set *s, int ret);
	void *hook_opaque;
};

static const struct vfio_host_ops sim_ops;

static struct sim_host *to_sim(struct vfio_host *h)
{
	if (!h || h->ops != &sim_ops)
		return NULL;
	return container_of(h, struct sim_host, base);
}

/* ---- spec ------------------------------------------------------------ */

static int parse_uint(const char *v, unsigned long min, unsigned long max,
		      unsigned long *out)
{
	char *end;

	if (!*v || *v == '-' || *v == '+')
		return -EINVAL;
	errno = 0;
	*out = strtoul(v, &end, 0);
	if (errno || *end || *out < min || *out > max)
		return -EINVAL;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "0") || !strcmp(v, "1")) {
		*out = *v == '1';
		return 0;
	}
	return -EINVAL;
}

/* "DDDD:BB:DD.F" or "BB:DD.F", written back in the long form */
static int parse_bdf(const char *v, char *out, size_t len)
{
	unsigned int d = 0, b, s, f;
	char tail;

	if (sscanf(v, "%x:%x:%x.%x%c", &d, &b, &s, &f, &tail) != 4 &&
	    (d = 0, sscanf(v, "%x:%x.%x%c", &b, &s, &f, &tail) != 3))
		return -EINVAL;
	if (d > 0xffff || b > 0xff || s > 0x1f || f > 7)
		return -EINVAL;
	snprintf(out, len, "%04x:%02x:%02x.%x", d, b, s, f);
	return 0;
}

static int parse_key(struct sim_cfg *c, const char *key, const char *val,
		     const char **why)
{
	unsigned long n;
	size_t i;

	if (!strcmp(key, "vectors")) {
		*why = "must be 1..2048";
		if (parse_uint(val, 1, VFIO_SIM_MAX_VECTORS, &n))
			return -EINVAL;
		c->vectors = (unsigned int)n;
	} else if (!strcmp(key, "host")) {
		*why = "must be dynamic or noresize";
		if (!strcmp(val, "dynamic"))
			c->dynamic = true;
		else if (!strcmp(val, "noresize"))
			c->dynamic = false;
		else
			return -EINVAL;
	} else if (!strcmp(key, "group")) {
		*why = "must be a group number 0..65535";
		if (parse_uint(val, 0, 65535, &n))
			return -EINVAL;
		c->group = (unsigned int)n;
	} else if (!strcmp(key, "driver")) {
		*why = "must be a driver name of 1..31 [A-Za-z0-9_-], "
		       "or none";
		if (!*val || strlen(val) >= sizeof(c->driver))
			return -EINVAL;
		for (i = 0; val[i]; i++)
			if (!strchr("abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
				    val[i]))
				return -EINVAL;
		strcpy(c->driver, val);
	} else if (!strcmp(key, "bdf")) {
		*why = "must be DDDD:BB:DD.F";
		return parse_bdf(val, c->bdf, sizeof(c->bdf));
	} else {
		static const struct { const char *k; size_t off; } bools[] = {
			{ "viable", offsetof(struct sim_cfg, viable) },
			{ "perm", offsetof(struct sim_cfg, perm) },
			{ "iommu", offsetof(struct sim_cfg, iommu) },
			{ "header", offsetof(struct sim_cfg, bridge) },
			{ "msix_mappable",
			  offsetof(struct sim_cfg, msix_mappable) },
			{ "reset", offsetof(struct sim_cfg, reset) },
		};

		for (i = 0; i < ARRAY_SIZE(bools); i++) {
			if (strcmp(key, bools[i].k))
				continue;
			*why = "must be 0 or 1";
			return parse_bool(val, (bool *)((char *)c +
							bools[i].off));
		}
		*why = "unknown key (known: vectors, host, group, viable, "
		       "driver, perm, iommu, header, msix_mappable, reset, "
		       "bdf)";
		return -ENOENT;
	}
	return 0;
}

static int parse_spec(const char *spec, struct sim_cfg *c)
{
	char buf[256], *save = NULL, *tok, *eq;
	const char *why;

	*c = (struct sim_cfg){
		.vectors = 16, .dynamic = true, .group = 42, .viable = true,
		.perm = true, .iommu = true, .reset = true,
		.driver = "vfio-pci", .bdf = VFIO_SIM_DEFAULT_BDF,
	};
	if (!strncmp(spec, "sim:", 4))
		spec += 4;
	if (strlen(spec) >= sizeof(buf)) {
		pr_err("sim: specification too long");
		return -EINVAL;
	}
	strcpy(buf, spec);
	tok = strtok_r(buf, ",", &save);
	if (!tok || strcmp(tok, "mbox-vf")) {
		pr_err("sim:%s: unknown model (known: mbox-vf)",
		       tok ? tok : "");
		return -EINVAL;
	}
	strcpy(c->model, tok);
	while ((tok = strtok_r(NULL, ",", &save))) {
		eq = strchr(tok, '=');
		if (!eq) {
			pr_err("sim:%s: %s: expected key=value", c->model, tok);
			return -EINVAL;
		}
		*eq = '\0';
		if (parse_key(c, tok, eq + 1, &why)) {
			pr_err("sim:%s: %s=%s: %s", c->model, tok, eq + 1, why);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- locking, counters, faults --------------------------------------- */

static int enter(struct sim_host *s, enum vfio_sim_op op, unsigned long req)
{
	struct sim_fault *f;
	unsigned int i;

	pthread_mutex_lock(&s->lock);
	s->stats.ops[op]++;
	if (op == VFIO_SIM_OP_IOCTL)
		s->stats.ioctls[vfio_sim_ioc(req)]++;
	for (i = 0; i < MAX_FAULTS; i++) {
		f = &s->faults[i];
		if (!f->armed || f->op != op ||
		    (op == VFIO_SIM_OP_IOCTL && f->req && f->req != req))
			continue;
		if (--f->left)
			continue;
		f->armed = false;
		s->stats.faults++;
		return -f->err;
	}
	return 0;
}

/* Unlock; join INTx unmask threads stopped meanwhile (they take the lock) */
static void leave(struct sim_host *s)
{
	bool reap = s->irqs.reap != NULL;

	pthread_mutex_unlock(&s->lock);
	if (reap)
		sim_irqs_reap(&s->irqs);
}

void vfio_sim_fail(struct vfio_host *h, enum vfio_sim_op op,
		   unsigned long ioctl_req, unsigned int nth, int err)
{
	struct sim_host *s = to_sim(h);
	unsigned int i;

	if (!s || op >= VFIO_SIM_NR_OPS || !nth || err <= 0)
		return;
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < MAX_FAULTS; i++) {
		if (s->faults[i].armed)
			continue;
		s->faults[i] = (struct sim_fault){
			.armed = true, .op = op, .req = ioctl_req,
			.left = nth, .err = err,
		};
		break;
	}
	pthread_mutex_unlock(&s->lock);
	if (i == MAX_FAULTS)
		pr_warn("sim: more than %d pending faults", MAX_FAULTS);
}

/* ---- fds ------------------------------------------------------------- */

static int fd_alloc(struct sim_host *s, enum fd_kind kind,
		    struct sim_container *c)
{
	struct sim_fd *n;
	unsigned int i;

	for (i = 0; i < s->nr_fds; i++)
		if (s->fds[i].kind == FD_FREE)
			break;
	if (i == s->nr_fds) {
		n = realloc(s->fds, (s->nr_fds + 8) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		memset(n + s->nr_fds, 0, 8 * sizeof(*n));
		s->fds = n;
		s->nr_fds += 8;
	}
	s->fds[i].kind = kind;
	s->fds[i].c = c;
	s->stats.open_fds++;
	return VFIO_SIM_FD_BASE + (int)i;
}

static struct sim_fd *fd_get(struct sim_host *s, int fd)
{
	unsigned int i;

	if (fd < VFIO_SIM_FD_BASE)
		return NULL;
	i = (unsigned int)(fd - VFIO_SIM_FD_BASE);
	if (i >= s->nr_fds || s->fds[i].kind == FD_FREE)
		return NULL;
	return &s->fds[i];
}

/* ---- containers and the type1 IOMMU ---------------------------------- */

static void container_put(struct sim_container *c)
{
	if (--c->refs)
		return;
	free(c->dma);
	free(c);
}

static void dma_clear(struct sim_host *s, struct sim_container *c)
{
	s->stats.dma_mappings -= c->nr_dma;
	c->nr_dma = 0;
}

/* vfio_group_detach_container(): the last group takes the IOMMU along */
static void group_detach(struct sim_host *s)
{
	struct sim_container *c = s->group_container;

	if (!c)
		return;
	c->has_group = false;
	c->iommu_set = false;	/* __vfio_container_unset_iommu() */
	dma_clear(s, c);		/* vfio_iommu_unmap_unpin_all() */
	s->group_container = NULL;
	container_put(c);
}

static void group_put(struct sim_host *s)
{
	if (--s->group_refs == 0)
		group_detach(s);
}

/* vfio_find_dma(): any mapping overlapping [start, start + size) */
static struct sim_dma *dma_find(struct sim_container *c, uint64_t start,
				uint64_t size)
{
	unsigned int i;

	for (i = 0; i < c->nr_dma; i++) {
		struct sim_dma *d = &c->dma[i];

		if (start + size <= d->iova)
			continue;
		if (start >= d->iova + d->size)
			continue;
		return d;
	}
	return NULL;
}

static bool iova_valid(uint64_t start, uint64_t last)
{
	if (last >= 1ULL << IOVA_WIDTH)
		return false;
	return last < MSI_IOVA_START || start > MSI_IOVA_END;
}

static int type1_map(struct sim_host *s, struct sim_container *c,
		     struct vfio_iommu_type1_dma_map *m)
{
	uint32_t mask = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	struct sim_dma *d;
	unsigned int i;

	if (m->argsz < offsetofend(struct vfio_iommu_type1_dma_map, size) ||
	    m->flags & ~(mask | VFIO_DMA_MAP_FLAG_VADDR))
		return -EINVAL;
	/* VFIO_UPDATE_VADDR is not modelled (CHECK_EXTENSION says 0) */
	if (m->flags & VFIO_DMA_MAP_FLAG_VADDR || !(m->flags & mask))
		return -EINVAL;
	if (!m->size || (m->size | m->iova | m->vaddr) & (PAGE - 1))
		return -EINVAL;
	if (m->iova + m->size - 1 < m->iova ||
	    m->vaddr + m->size - 1 < m->vaddr)
		return -EINVAL;
	if (dma_find(c, m->iova, m->size))
		return -EEXIST;
	if (c->nr_dma >= DMA_ENTRY_LIMIT)
		return -ENOSPC;
	if (!iova_valid(m->iova, m->iova + m->size - 1))
		return -EINVAL;
	/* vfio_pin_map_dma(): the pages must exist in our address space */
	if (msync((void *)(uintptr_t)m->vaddr, m->size, MS_ASYNC) < 0)
		return -EFAULT;
	if (c->nr_dma == c->cap_dma) {
		unsigned int cap = c->cap_dma ? c->cap_dma * 2 : 16;

		d = realloc(c->dma, cap * sizeof(*d));
		if (!d)
			return -ENOMEM;
		c->dma = d;
		c->cap_dma = cap;
	}
	for (i = c->nr_dma; i > 0 && c->dma[i - 1].iova > m->iova; i--)
		c->dma[i] = c->dma[i - 1];
	c->dma[i] = (struct sim_dma){ m->iova, m->size, m->vaddr };
	c->nr_dma++;
	s->stats.dma_mappings++;
	s->stats.dma_maps++;
	return 0;
}

/* vfio_dma_do_unmap(), v1 and v2 rules */
static int type1_unmap(struct sim_host *s, struct sim_container *c,
		       struct vfio_iommu_type1_dma_unmap *u)
{
	uint32_t mask = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP |
			VFIO_DMA_UNMAP_FLAG_VADDR | VFIO_DMA_UNMAP_FLAG_ALL;
	bool all = u->flags & VFIO_DMA_UNMAP_FLAG_ALL;
	uint64_t iova = u->iova, size = u->size, unmapped = 0;
	struct sim_dma *d;
	unsigned int i;

	if (u->argsz < offsetofend(struct vfio_iommu_type1_dma_unmap, size) ||
	    u->flags & ~mask)
		return -EINVAL;
	if ((u->flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) &&
	    (u->flags & (VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR)))
		return -EINVAL;
	/* dirty tracking and vaddr invalidation are not modelled */
	if (u->flags & (VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP |
			VFIO_DMA_UNMAP_FLAG_VADDR))
		return -EINVAL;
	if (iova & (PAGE - 1))
		return -EINVAL;
	if (all) {
		if (iova || size)
			return -EINVAL;
		size = UINT64_MAX;
	} else if (!size || size & (PAGE - 1) || iova + size - 1 < iova) {
		return -EINVAL;
	}
	if (c->v2 && !all) {
		/* v2: no mapping may be bisected by the range */
		d = dma_find(c, iova, 1);
		if (d && d->iova != iova)
			return -EINVAL;
		d = dma_find(c, iova + size - 1, 1);
		if (d && d->iova + d->size != iova + size)
			return -EINVAL;
	}
	for (i = 0; i < c->nr_dma;) {
		d = &c->dma[i];
		if (d->iova + d->size <= iova || d->iova > iova + size - 1) {
			i++;
			continue;
		}
		/* v1: a range starting inside a mapping stops the unmap */
		if (!c->v2 && iova > d->iova)
			break;
		unmapped += d->size;
		memmove(d, d + 1, (c->nr_dma - i - 1) * sizeof(*d));
		c->nr_dma--;
		s->stats.dma_mappings--;
	}
	u->size = unmapped;
	s->stats.dma_unmaps++;
	return 0;
}

static void *cap_add(uint8_t *buf, size_t *len, size_t size, uint16_t id,
		     uint16_t version)
{
	struct vfio_info_cap_header *hdr, *tmp;

	/* vfio_info_cap_add(), 8-byte aligned as since Linux 6.6 */
	size = ALIGN_UP(size, 8);
	hdr = (void *)(buf + *len);
	memset(hdr, 0, size);
	hdr->id = id;
	hdr->version = version;
	for (tmp = (void *)buf; tmp->next; tmp = (void *)(buf + tmp->next))
		;
	tmp->next = (uint32_t)*len;
	*len += size;
	return hdr;
}

/* vfio_info_cap_shift(): the chain's offsets become struct-relative */
static void cap_shift(uint8_t *buf, size_t off)
{
	struct vfio_info_cap_header *tmp;

	for (tmp = (void *)buf; tmp->next;
	     tmp = (void *)(buf + tmp->next - off))
		tmp->next += (uint32_t)off;
}

/* Copy a capability chain after the info struct, as the kernel does. */
static void caps_out(void *arg, size_t infosz, uint32_t *argsz,
		     uint32_t *flags, uint32_t caps_flag, uint32_t *cap_offset,
		     uint8_t *caps, size_t len)
{
	if (!len)
		return;
	*flags |= caps_flag;
	if (*argsz < infosz + len) {
		*argsz = (uint32_t)(infosz + len);
		*cap_offset = 0;
		return;
	}
	cap_shift(caps, infosz);
	memcpy((uint8_t *)arg + infosz, caps, len);
	*cap_offset = (uint32_t)infosz;
}

static int type1_get_info(struct sim_host *s, struct sim_container *c,
			  struct vfio_iommu_type1_info *arg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_info, iova_pgsizes);
	size_t capsz = offsetofend(struct vfio_iommu_type1_info, cap_offset);
	struct vfio_iommu_type1_info_cap_migration *mig;
	struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_iommu_type1_info_cap_iova_range *iova;
	struct vfio_iommu_type1_info info = { 0 };
	uint8_t caps[256] = { 0 };
	size_t len = 0;

	memcpy(&info, arg, minsz);
	if (info.argsz < minsz)
		return -EINVAL;
	if (info.argsz >= capsz) {
		minsz = capsz;
		info.cap_offset = 0;
	}
	info.flags = VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = IOMMU_PGSIZES;

	mig = cap_add(caps, &len, sizeof(*mig),
		      VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, 1);
	mig->flags = 0;
	mig->pgsize_bitmap = PAGE;
	mig->max_dirty_bitmap_size = DIRTY_BITMAP_MAX;
	avail = cap_add(caps, &len, sizeof(*avail),
			VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, 1);
	avail->avail = DMA_ENTRY_LIMIT - c->nr_dma;
	iova = cap_add(caps, &len,
		       sizeof(*iova) + 2 * sizeof(iova->iova_ranges[0]),
		       VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 1);
	iova->nr_iovas = 2;
	iova->iova_ranges[0].start = 0;
	iova->iova_ranges[0].end = MSI_IOVA_START - 1;
	iova->iova_ranges[1].start = MSI_IOVA_END + 1;
	iova->iova_ranges[1].end = (1ULL << IOVA_WIDTH) - 1;

	caps_out(arg, sizeof(info), &info.argsz, &info.flags,
		 VFIO_IOMMU_INFO_CAPS, &info.cap_offset, caps, len);
	memcpy(arg, &info, minsz);
	return 0;
}

static int container_ioctl(struct sim_host *s, struct sim_container *c,
			   unsigned long req, void *arg)
{
	unsigned long ext = (unsigned long)arg;

	switch (req) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		/* vfio_iommu_type1_check_extension() */
		switch (ext) {
		case VFIO_TYPE1_IOMMU:
		case VFIO_TYPE1v2_IOMMU:
		case VFIO_UNMAP_ALL:
			return 1;
		case VFIO_DMA_CC_IOMMU:
			return c->iommu_set;
		}
		return 0;
	case VFIO_SET_IOMMU:
		/* Only a container holding a group may pick its IOMMU. */
		if (!c->has_group || c->iommu_set)
			return -EINVAL;
		if (ext != VFIO_TYPE1_IOMMU && ext != VFIO_TYPE1v2_IOMMU)
			return -ENODEV;
		c->iommu_set = true;
		c->v2 = ext == VFIO_TYPE1v2_IOMMU;
		return 0;
	}
	/* vfio_fops_unl_ioctl(): the rest go to the IOMMU driver */
	if (!c->iommu_set)
		return -EINVAL;
	if (!arg && (req == VFIO_IOMMU_GET_INFO || req == VFIO_IOMMU_MAP_DMA ||
		     req == VFIO_IOMMU_UNMAP_DMA))
		return -EFAULT;
	switch (req) {
	case VFIO_IOMMU_GET_INFO:
		return type1_get_info(s, c, arg);
	case VFIO_IOMMU_MAP_DMA:
		return type1_map(s, c, arg);
	case VFIO_IOMMU_UNMAP_DMA:
		return type1_unmap(s, c, arg);
	}
	return -ENOTTY;
}

/* ---- the group ------------------------------------------------------- */

static int group_ioctl(struct sim_host *s, unsigned long req, void *arg)
{
	struct vfio_group_status *st = arg;
	struct sim_fd *cf;

	if (!arg && req != VFIO_GROUP_UNSET_CONTAINER)
		return -EFAULT;
	switch (req) {
	case VFIO_GROUP_GET_STATUS:
		if (st->argsz < offsetofend(struct vfio_group_status, flags))
			return -EINVAL;
		st->flags = 0;
		if (s->group_container)
			st->flags = VFIO_GROUP_FLAGS_CONTAINER_SET |
				    VFIO_GROUP_FLAGS_VIABLE;
		else if (s->cfg.viable)
			st->flags = VFIO_GROUP_FLAGS_VIABLE;
		return 0;
	case VFIO_GROUP_SET_CONTAINER:
		cf = fd_get(s, *(int *)arg);
		if (!cf && fcntl(*(int *)arg, F_GETFD) < 0)
			return -EBADF;
		if (s->group_container)
			return -EINVAL;
		if (!cf || cf->kind != FD_CONTAINER)
			return -EINVAL;
		/* iommu_group_claim_dma_owner(): a host driver owns a device
		 * of the group */
		if (!s->cfg.viable)
			return -EPERM;
		cf->c->has_group = true;
		cf->c->refs++;
		s->group_container = cf->c;
		return 0;
	case VFIO_GROUP_UNSET_CONTAINER:
		if (!s->group_container)
			return -EINVAL;
		if (s->dev_opens)	/* container_users != 1 */
			return -EBUSY;
		group_detach(s);
		return 0;
	case VFIO_GROUP_GET_DEVICE_FD: {
		int fd;

		if (strcmp(arg, s->cfg.bdf))
			return -ENODEV;
		/* vfio_device_assign_container() */
		if (!s->group_container || !s->group_container->iommu_set)
			return -EINVAL;
		fd = fd_alloc(s, FD_DEVICE, NULL);
		if (fd < 0)
			return fd;
		if (s->dev_opens++ == 0) {
			/* vfio_pci_core_enable(): reset, pci_save_state() */
			if (s->cfg.reset) {
				s->func->ops->reset(s->func);
				s->stats.resets++;
			}
			memcpy(s->func->cfg_saved, s->func->cfg,
			       sizeof(s->func->cfg));
		}
		s->group_refs++;
		return fd;
	}
	}
	return -ENOTTY;
}

/* ---- the device ------------------------------------------------------ */

static void device_close(struct sim_host *s)
{
	struct sim_func *f = s->func;

	if (--s->dev_opens == 0) {
		/* vfio_pci_core_disable(): IRQs off, reset, saved state back */
		sim_irqs_release(&s->irqs);
		if (s->cfg.reset) {
			f->ops->reset(f);
			s->stats.resets++;
		}
		memcpy(f->cfg, f->cfg_saved, sizeof(f->cfg));
	}
	group_put(s);
}

static int region_info(struct sim_host *s, struct vfio_region_info *arg)
{
	struct vfio_region_info info;
	struct vfio_region_info_cap_sparse_mmap *sp;
	struct sim_func *f = s->func;
	uint8_t caps[256] = { 0 };
	size_t len = 0;
	unsigned int i;

	memcpy(&info, arg, sizeof(info));
	if (info.argsz < offsetofend(struct vfio_region_info, offset) ||
	    info.index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	info.offset = (uint64_t)info.index << OFFSET_SHIFT;
	info.flags = 0;
	info.size = 0;
	switch (info.index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info.size = SIM_CFG_SIZE;
		info.flags = VFIO_REGION_INFO_FLAG_READ |
			     VFIO_REGION_INFO_FLAG_WRITE;
		break;
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		info.size = f->bar_size[info.index];
		if (!info.size)
			break;
		info.flags = VFIO_REGION_INFO_FLAG_READ |
			     VFIO_REGION_INFO_FLAG_WRITE;
		if (info.index != 0 || !f->nr_areas)
			break;
		info.flags |= VFIO_REGION_INFO_FLAG_MMAP;
		sp = cap_add(caps, &len, sizeof(*sp) +
			     f->nr_areas * sizeof(sp->areas[0]),
			     VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1);
		sp->nr_areas = f->nr_areas;
		for (i = 0; i < f->nr_areas; i++) {
			sp->areas[i].offset = f->areas[i].offset;
			sp->areas[i].size = f->areas[i].size;
		}
		if (f->msix_mappable)
			cap_add(caps, &len, sizeof(struct vfio_info_cap_header),
				VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1);
		break;
	case VFIO_PCI_ROM_REGION_INDEX:
		break;			/* no ROM BAR */
	default:
		return -EINVAL;		/* VGA: !vdev->has_vga */
	}
	caps_out(arg, sizeof(info), &info.argsz, &info.flags,
		 VFIO_REGION_INFO_FLAG_CAPS, &info.cap_offset, caps, len);
	memcpy(arg, &info, sizeof(info));
	return 0;
}

static int device_ioctl(struct sim_host *s, unsigned long req, void *arg)
{
	struct vfio_device_info *di = arg;

	if (!arg && req != VFIO_DEVICE_RESET)
		return -EFAULT;
	switch (req) {
	case VFIO_DEVICE_GET_INFO:
		if (di->argsz < offsetofend(struct vfio_device_info, num_irqs))
			return -EINVAL;
		di->flags = VFIO_DEVICE_FLAGS_PCI;
		if (s->cfg.reset)
			di->flags |= VFIO_DEVICE_FLAGS_RESET;
		di->num_regions = VFIO_PCI_NUM_REGIONS;
		di->num_irqs = VFIO_PCI_NUM_IRQS;
		return 0;
	case VFIO_DEVICE_GET_REGION_INFO:
		return region_info(s, arg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return sim_irqs_get_info(&s->irqs, arg);
	case VFIO_DEVICE_SET_IRQS:
		return sim_irqs_set(&s->irqs, arg);
	case VFIO_DEVICE_RESET:
		if (!s->cfg.reset)
			return -EINVAL;
		/* pci_try_reset_function(): the device resets; the saved and
		 * restored config keeps the host's MSI/MSI-X setup intact */
		s->func->ops->reset(s->func);
		s->stats.resets++;
		return 0;
	}
	return -ENOTTY;
}

/* vfio_pci_config_rw(): a flat 4 KiB space with write masks */
static ssize_t config_rw(struct sim_host *s, uint64_t pos, uint8_t *buf,
			 size_t len, bool write)
{
	struct sim_func *f = s->func;
	unsigned int devctl = f->pcie_cap + PCI_EXP_DEVCTL;
	bool flr = false;
	size_t i;

	if (pos >= SIM_CFG_SIZE || pos + len > SIM_CFG_SIZE)
		return -EFAULT;
	if (!write) {
		memcpy(buf, &f->cfg[pos], len);
		return (ssize_t)len;
	}
	for (i = 0; i < len; i++) {
		unsigned int o = (unsigned int)pos + (unsigned int)i;

		f->cfg[o] = (uint8_t)((f->cfg[o] & ~f->wmask[o]) |
				      (buf[i] & f->wmask[o]));
		/* vfio_exp_config_write(): Initiate FLR resets the device */
		if (f->pcie_cap && o == devctl + 1 &&
		    (buf[i] & (PCI_EXP_DEVCTL_BCR_FLR >> 8)))
			flr = true;
	}
	if (flr && f->flr) {
		f->ops->reset(f);
		s->stats.resets++;
	}
	return (ssize_t)len;
}

/* vfio_pci_bar_rw(): the MSI-X table reads as 0xff, writes are dropped */
static ssize_t bar_rw(struct sim_host *s, unsigned int bar, uint64_t pos,
		      uint8_t *buf, size_t len, bool write)
{
	struct sim_func *f = s->func;
	uint64_t end = f->bar_size[bar], x_start = 0, x_end = 0;
	uint64_t done = 0, n;

	if (!end || pos >= end)
		return -EINVAL;
	len = MIN(len, end - pos);
	if (bar == f->msix_bar) {
		x_start = f->msix_table_off;
		x_end = x_start + f->msix_vectors * 16ULL;
	}
	while (done < len) {
		uint64_t off = pos + done;

		if (off >= x_start && off < x_end) {
			n = MIN(len - done, x_end - off);
			if (!write)
				memset(buf + done, 0xff, n);
		} else {
			n = len - done;
			if (off < x_start)
				n = MIN(n, x_start - off);
			if (write)
				f->ops->bar_write(f, bar, off, buf + done, n);
			else
				f->ops->bar_read(f, bar, off, buf + done, n);
		}
		done += n;
	}
	return (ssize_t)len;
}

static ssize_t device_rw(struct sim_host *s, uint64_t off, uint8_t *buf,
			 size_t len, bool write)
{
	unsigned int index = (unsigned int)(off >> OFFSET_SHIFT);
	uint64_t pos = off & OFFSET_MASK;

	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		return config_rw(s, pos, buf, len, write);
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		return bar_rw(s, index, pos, buf, len, write);
	}
	return -EINVAL;			/* no ROM, no VGA */
}

/* ---- paths ----------------------------------------------------------- */

static bool bound(const struct sim_host *s)
{
	return strcmp(s->cfg.driver, "none") != 0;
}

/* /dev/vfio/N exists while the group's device is bound to vfio-pci. */
static bool group_node(const struct sim_host *s)
{
	return s->cfg.iommu && !strcmp(s->cfg.driver, "vfio-pci");
}

static bool path_is(const char *path, const char *dir, const char *leaf)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && path[n] == '/' &&
	       !strcmp(path + n + 1, leaf);
}

static bool path_is_group_node(const struct sim_host *s, const char *path)
{
	char node[32];

	snprintf(node, sizeof(node), "/dev/vfio/%u", s->cfg.group);
	return !strcmp(path, node);
}

static int sim_open(struct vfio_host *h, const char *path, int flags)
{
	struct sim_host *s = to_sim(h);
	struct sim_container *c;
	int ret;

	ret = enter(s, VFIO_SIM_OP_OPEN, 0);
	if (ret)
		goto out;
	if (!strcmp(path, "/dev/vfio/vfio")) {
		c = calloc(1, sizeof(*c));
		if (!c) {
			ret = -ENOMEM;
			goto out;
		}
		c->refs = 1;
		ret = fd_alloc(s, FD_CONTAINER, c);
		if (ret < 0)
			free(c);
	} else if (path_is_group_node(s, path) && group_node(s)) {
		if (!s->cfg.perm)
			ret = -EACCES;
		else if (s->group_refs)	/* group->opened_file */
			ret = -EBUSY;
		else if ((ret = fd_alloc(s, FD_GROUP, NULL)) >= 0)
			s->group_refs = 1;
	} else {
		ret = -ENOENT;
	}
out:
	leave(s);
	return ret;
}

static int sim_close(struct vfio_host *h, int fd)
{
	struct sim_host *s = to_sim(h);
	struct sim_fd *f;
	int ret;

	ret = enter(s, VFIO_SIM_OP_CLOSE, 0);
	f = fd_get(s, fd);
	if (!f) {
		/* real fds (the eventfds we made) close for real */
		if (fd < VFIO_SIM_FD_BASE && close(fd) < 0 && !ret)
			ret = -errno;
		else if (fd >= VFIO_SIM_FD_BASE)
			ret = -EBADF;
		leave(s);
		return ret;
	}
	switch (f->kind) {
	case FD_CONTAINER:
		container_put(f->c);
		break;
	case FD_GROUP:
		group_put(s);
		break;
	case FD_DEVICE:
		device_close(s);
		break;
	case FD_FREE:
		break;
	}
	f->kind = FD_FREE;
	f->c = NULL;
	s->stats.open_fds--;
	leave(s);
	return ret;
}

static int sim_ioctl(struct vfio_host *h, int fd, unsigned long req,
		     void *arg)
{
	struct sim_host *s = to_sim(h);
	void (*hook)(void *, const struct vfio_irq_set *, int);
	void *opaque;
	struct sim_fd *f;
	int ret;

	ret = enter(s, VFIO_SIM_OP_IOCTL, req);
	hook = s->hook;
	opaque = s->hook_opaque;
	if (ret)
		goto out;
	f = fd_get(s, fd);
	if (!f)
		ret = fd < VFIO_SIM_FD_BASE && fcntl(fd, F_GETFD) >= 0 ?
		      -ENOTTY : -EBADF;
	else if (f->kind == FD_CONTAINER)
		ret = container_ioctl(s, f->c, req, arg);
	else if (f->kind == FD_GROUP)
		ret = group_ioctl(s, req, arg);
	else
		ret = device_ioctl(s, req, arg);
out:
	leave(s);
	if (req == VFIO_DEVICE_SET_IRQS && hook)
		hook(opaque, arg, ret);
	return ret;
}

static ssize_t sim_rw(struct vfio_host *h, int fd, void *buf, size_t len,
		      off_t off, bool write)
{
	struct sim_host *s = to_sim(h);
	struct sim_fd *f;
	ssize_t ret;

	ret = enter(s, write ? VFIO_SIM_OP_PWRITE : VFIO_SIM_OP_PREAD, 0);
	if (ret)
		goto out;
	f = fd_get(s, fd);
	if (!f)
		ret = -EBADF;
	else if (f->kind != FD_DEVICE)
		ret = -EINVAL;
	else if (off < 0)
		ret = -EINVAL;
	else
		ret = device_rw(s, (uint64_t)off, buf, len, write);
out:
	leave(s);
	return ret;
}

static ssize_t sim_pread(struct vfio_host *h, int fd, void *buf, size_t len,
			 off_t off)
{
	return sim_rw(h, fd, buf, len, off, false);
}

static ssize_t sim_pwrite(struct vfio_host *h, int fd, const void *buf,
			  size_t len, off_t off)
{
	return sim_rw(h, fd, (void *)buf, len, off, true);
}

/* vfio_pci_core_mmap(), narrowed to the sparse-mmap areas */
static void *sim_mmap(struct vfio_host *h, size_t len, int prot, int fd,
		      off_t off)
{
	struct sim_host *s = to_sim(h);
	struct sim_func *func = s->func;
	uint64_t pos = (uint64_t)off & OFFSET_MASK, plen;
	struct sim_map *m;
	struct sim_fd *f;
	void *p = NULL;
	unsigned int i;
	int ret;

	ret = enter(s, VFIO_SIM_OP_MMAP, 0);
	if (ret)
		goto out;
	f = fd_get(s, fd);
	ret = -EBADF;
	if (!f)
		goto out;
	ret = -EINVAL;
	plen = ALIGN_UP((uint64_t)len, PAGE);
	if (f->kind != FD_DEVICE || off < 0 || !len || pos & (PAGE - 1) ||
	    ((uint64_t)off >> OFFSET_SHIFT) != VFIO_PCI_BAR0_REGION_INDEX)
		goto out;
	for (i = 0; i < func->nr_areas; i++)
		if (pos >= func->areas[i].offset &&
		    pos + plen <= func->areas[i].offset + func->areas[i].size)
			break;
	if (i == func->nr_areas)
		goto out;
	if (s->nr_maps == s->cap_maps) {
		unsigned int cap = s->cap_maps ? s->cap_maps * 2 : 8;

		m = realloc(s->maps, cap * sizeof(*m));
		ret = -ENOMEM;
		if (!m)
			goto out;
		s->maps = m;
		s->cap_maps = cap;
	}
	p = mmap(NULL, len, prot, MAP_SHARED, func->memfd, (off_t)pos);
	if (p == MAP_FAILED) {
		p = NULL;
		ret = -errno;
		goto out;
	}
	s->maps[s->nr_maps++] = (struct sim_map){ p, len };
	s->stats.mmaps++;
	ret = 0;
out:
	leave(s);
	if (!p)
		errno = -ret;
	return p;
}

static int sim_munmap(struct vfio_host *h, void *addr, size_t len)
{
	struct sim_host *s = to_sim(h);
	unsigned int i;
	int ret;

	ret = enter(s, VFIO_SIM_OP_MUNMAP, 0);
	if (ret)
		goto out;
	if (munmap(addr, len) < 0) {
		ret = -errno;
		goto out;
	}
	for (i = 0; i < s->nr_maps; i++) {
		if (s->maps[i].addr != addr)
			continue;
		s->maps[i] = s->maps[--s->nr_maps];
		s->stats.mmaps--;
		break;
	}
out:
	leave(s);
	return ret;
}

static int sim_eventfd(struct vfio_host *h)
{
	struct sim_host *s = to_sim(h);
	int ret;

	ret = enter(s, VFIO_SIM_OP_EVENTFD, 0);
	if (!ret) {
		ret = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (ret < 0)
			ret = -errno;
	}
	leave(s);
	return ret;
}

static ssize_t copy_out(char *buf, size_t len, const char *text)
{
	size_t n = MIN(len, strlen(text));

	memcpy(buf, text, n);
	return (ssize_t)n;
}

static ssize_t sim_readlink(struct vfio_host *h, const char *path,
			    char *buf, size_t len)
{
	struct sim_host *s = to_sim(h);
	char link[96];
	ssize_t ret;

	ret = enter(s, VFIO_SIM_OP_READLINK, 0);
	if (ret)
		goto out;
	ret = -ENOENT;
	if (path_is(path, s->sysdir, "iommu_group") && s->cfg.iommu) {
		snprintf(link, sizeof(link), "../../../kernel/iommu_groups/%u",
			 s->cfg.group);
		ret = copy_out(buf, len, link);
	} else if (path_is(path, s->sysdir, "driver") && bound(s)) {
		snprintf(link, sizeof(link), "../../../bus/pci/drivers/%s",
			 s->cfg.driver);
		ret = copy_out(buf, len, link);
	} else if (!strcmp(path, s->sysdir)) {
		ret = -EINVAL;		/* a directory, not a link */
	}
out:
	leave(s);
	return ret;
}

static int sim_exists(struct vfio_host *h, const char *path)
{
	struct sim_host *s = to_sim(h);
	char grp[48];
	int ret;

	ret = enter(s, VFIO_SIM_OP_EXISTS, 0);
	if (ret)
		goto out;
	snprintf(grp, sizeof(grp), "/sys/kernel/iommu_groups/%u",
		 s->cfg.group);
	ret = -ENOENT;
	if (!strcmp(path, s->sysdir) || !strcmp(path, "/dev/vfio/vfio") ||
	    path_is(path, s->sysdir, "config"))
		ret = 0;
	else if ((path_is(path, s->sysdir, "iommu_group") ||
		  !strcmp(path, grp)) && s->cfg.iommu)
		ret = 0;
	else if (path_is(path, s->sysdir, "driver") && bound(s))
		ret = 0;
	else if (path_is_group_node(s, path) && group_node(s))
		ret = 0;
out:
	leave(s);
	return ret;
}

/*
 * /proc/interrupts as Linux shows a vfio-pci function's MSI-X vectors:
 * one host IRQ per vector that has a trigger (request_irq() done), named
 * "vfio-msix[N](BDF)" (vfio_pci_intrs.c), with per-CPU counts; here one
 * CPU column, and made-up IRQ numbers.
 */
static ssize_t proc_interrupts(struct sim_host *s, char *buf, size_t len)
{
	const struct sim_irqs *q = &s->irqs;
	size_t off = 0;
	unsigned int i;
	int n;

	n = snprintf(buf, len, "%*sCPU0\n  0: %10u   IO-APIC   2-edge      timer\n",
		     11, "", 42u);
	off = n > 0 ? MIN((size_t)n, len) : 0;
	for (i = 0; q->type == VFIO_PCI_MSIX_IRQ_INDEX &&
		    i < q->msix_count && off < len; i++) {
		if (q->msix[i].trig.efd < 0)
			continue;
		n = snprintf(buf + off, len - off,
			     "%3u: %10llu   SIM-MSI %u-edge      vfio-msix[%u](%s)\n",
			     100 + i, (unsigned long long)q->msix[i].hw_irqs,
			     i, i, s->cfg.bdf);
		off += n > 0 ? MIN((size_t)n, len - off) : 0;
	}
	return (ssize_t)off;
}

static ssize_t sim_read_attr(struct vfio_host *h, const char *path,
			     char *buf, size_t len)
{
	struct sim_host *s = to_sim(h);
	const uint8_t *cfg = s->func->cfg;
	char text[32] = "";
	ssize_t ret;

	ret = enter(s, VFIO_SIM_OP_READ_ATTR, 0);
	if (ret)
		goto out;
	if (!strcmp(path, "/proc/interrupts")) {
		ret = proc_interrupts(s, buf, len);
		goto out;
	}
	if (path_is(path, s->sysdir, "vendor"))
		snprintf(text, sizeof(text), "0x%04x\n",
			 get_le16(&cfg[PCI_VENDOR_ID]));
	else if (path_is(path, s->sysdir, "device"))
		snprintf(text, sizeof(text), "0x%04x\n",
			 get_le16(&cfg[PCI_DEVICE_ID]));
	else if (path_is(path, s->sysdir, "subsystem_vendor"))
		snprintf(text, sizeof(text), "0x%04x\n",
			 get_le16(&cfg[PCI_SUBSYSTEM_VENDOR_ID]));
	else if (path_is(path, s->sysdir, "subsystem_device"))
		snprintf(text, sizeof(text), "0x%04x\n",
			 get_le16(&cfg[PCI_SUBSYSTEM_ID]));
	else if (path_is(path, s->sysdir, "class"))
		snprintf(text, sizeof(text), "0x%06x\n",
			 get_le32(&cfg[PCI_CLASS_REVISION]) >> 8);
	ret = *text ? copy_out(buf, len, text) : -ENOENT;
out:
	leave(s);
	return ret;
}

/* ---- lifetime -------------------------------------------------------- */

static void sim_destroy(struct vfio_host *h)
{
	struct sim_host *s = to_sim(h);
	unsigned int i;

	if (!s)
		return;
	/* Like process exit: every fd closes, mappings stay the caller's. */
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->nr_fds; i++) {
		struct sim_fd *f = &s->fds[i];

		if (f->kind == FD_CONTAINER)
			container_put(f->c);
		else if (f->kind == FD_GROUP)
			group_put(s);
		else if (f->kind == FD_DEVICE)
			device_close(s);
		f->kind = FD_FREE;
	}
	pthread_mutex_unlock(&s->lock);
	sim_irqs_destroy(&s->irqs);
	if (s->func)
		s->func->ops->destroy(s->func);
	free(s->fds);
	free(s->maps);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct vfio_host_ops sim_ops = {
	.open = sim_open,
	.close = sim_close,
	.ioctl = sim_ioctl,
	.pread = sim_pread,
	.pwrite = sim_pwrite,
	.mmap = sim_mmap,
	.munmap = sim_munmap,
	.eventfd = sim_eventfd,
	.readlink = sim_readlink,
	.exists = sim_exists,
	.read_attr = sim_read_attr,
	.destroy = sim_destroy,
};

struct vfio_host *vfio_sim_create(const char *spec, char *bdf,
				  size_t bdf_len)
{
	struct sim_model_cfg mc;
	struct sim_host *s;
	struct sim_cfg cfg;

	if (!spec || parse_spec(spec, &cfg))
		return NULL;
	if (bdf && bdf_len <= strlen(cfg.bdf)) {
		pr_err("sim:%s: BDF buffer too small", cfg.model);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		goto nomem;
	s->base.ops = &sim_ops;
	s->base.priv = s;
	s->cfg = cfg;
	snprintf(s->sysdir, sizeof(s->sysdir), "/sys/bus/pci/devices/%s",
		 cfg.bdf);
	pthread_mutex_init(&s->lock, NULL);
	mc = (struct sim_model_cfg){
		.vectors = cfg.vectors, .msix_mappable = cfg.msix_mappable,
		.reset = cfg.reset, .bridge = cfg.bridge,
	};
	s->func = sim_mbox_vf_create(&mc, &s->irqs, &s->stats);
	if (!s->func)
		goto err;
	if (sim_irqs_init(&s->irqs, &s->lock, &s->stats, s->func->msix_vectors,
			  s->func->msi_count, s->func->has_intx, cfg.dynamic))
		goto err;
	if (bdf)
		strcpy(bdf, cfg.bdf);
	return &s->base;
err:
	if (s->func)
		s->func->ops->destroy(s->func);
	pthread_mutex_destroy(&s->lock);
	free(s);
nomem:
	pr_err("sim:%s: out of memory", cfg.model);
	return NULL;
}

/* ---- test accessors -------------------------------------------------- */

const struct vfio_sim_stats *vfio_sim_stats(struct vfio_host *h)
{
	struct sim_host *s = to_sim(h);

	return s ? &s->stats : NULL;
}

void vfio_sim_set_irqs_hook(struct vfio_host *h,
			    void (*fn)(void *opaque,
				       const struct vfio_irq_set *set, int ret),
			    void *opaque)
{
	struct sim_host *s = to_sim(h);

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->hook = fn;
	s->hook_opaque = opaque;
	pthread_mutex_unlock(&s->lock);
}

int vfio_sim_raise(struct vfio_host *h, unsigned int vector)
{
	struct sim_host *s = to_sim(h);
	int ret;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	ret = sim_irqs_raise(&s->irqs, vector);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int vfio_sim_request(struct vfio_host *h)
{
	struct sim_host *s = to_sim(h);
	int ret;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	ret = sim_irqs_request(&s->irqs);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* Read one fact about the IRQ state under the lock. */
#define SIM_QUERY(h, fallback, expr) ({				\
	struct sim_host *__s = to_sim(h);				\
	__typeof__(fallback) __v = (fallback);				\
	if (__s) {							\
		struct sim_irqs *q = &__s->irqs;			\
		(void)q;						\
		pthread_mutex_lock(&__s->lock);				\
		__v = (expr);						\
		pthread_mutex_unlock(&__s->lock);			\
	}								\
	__v; })

bool vfio_sim_msix_enabled(struct vfio_host *h)
{
	return SIM_QUERY(h, false, q->type == VFIO_PCI_MSIX_IRQ_INDEX);
}

static unsigned int msix_allocated(const struct sim_irqs *q)
{
	unsigned int i, n = 0;

	for (i = 0; i < q->msix_count; i++)
		n += q->msix[i].allocated;
	return n;
}

unsigned int vfio_sim_msix_allocated(struct vfio_host *h)
{
	return SIM_QUERY(h, 0u, msix_allocated(q));
}

int vfio_sim_msix_trigger(struct vfio_host *h, unsigned int vector)
{
	return SIM_QUERY(h, -1, vector < q->msix_count ?
			 q->msix[vector].trig.user_fd : -1);
}

bool vfio_sim_msix_pending(struct vfio_host *h, unsigned int vector)
{
	return SIM_QUERY(h, false, vector < q->msix_count &&
			 q->msix[vector].pending);
}

bool vfio_sim_msi_enabled(struct vfio_host *h)
{
	return SIM_QUERY(h, false, q->type == VFIO_PCI_MSI_IRQ_INDEX);
}

bool vfio_sim_intx_enabled(struct vfio_host *h)
{
	return SIM_QUERY(h, false, q->type == VFIO_PCI_INTX_IRQ_INDEX);
}

bool vfio_sim_intx_masked(struct vfio_host *h)
{
	return SIM_QUERY(h, false, q->intx_masked);
}

int vfio_sim_open_fds(struct vfio_host *h)
{
	return SIM_QUERY(h, -1, __s->stats.open_fds);
}

int vfio_sim_dma_find(struct vfio_host *h, uint64_t iova, uint64_t *start,
		      uint64_t *size, uint64_t *vaddr)
{
	struct sim_host *s = to_sim(h);
	struct sim_dma *d = NULL;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	if (s->group_container)
		d = dma_find(s->group_container, iova, 1);
	if (d) {
		*start = d->iova;
		*size = d->size;
		*vaddr = d->vaddr;
	}
	pthread_mutex_unlock(&s->lock);
	return d ? 0 : -ENOENT;
}
