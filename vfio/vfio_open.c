// SPDX-License-Identifier: GPL-2.0
/*
 * Opening a host PCI function through VFIO's container/group interface
 * (Documentation/driver-api/vfio.rst): find the IOMMU group in sysfs,
 * check it is viable, attach it to a container with the type1v2 IOMMU,
 * map guest RAM for DMA, get the device fd and read its regions and IRQs.
 * Each failure a user can hit is one line that says what to do.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include "x86/layout.h"
#include "core/util.h"
#include "vfio/vfio_pci.h"

#define H(vd)	((vd)->host)

static int host_ioctl(struct vfio_pci *vd, int fd, unsigned long req,
		      void *arg)
{
	return H(vd)->ops->ioctl(H(vd), fd, req, arg);
}

/* Accept "DDDD:BB:DD.F" and "BB:DD.F"; write the long form. */
static int parse_bdf(const char *in, char *out, size_t len)
{
	unsigned int dom = 0, bus, dev, fn;
	char tail;

	if (sscanf(in, "%4x:%2x:%2x.%1x%c", &dom, &bus, &dev, &fn,
		   &tail) != 4 &&
	    (dom = 0, sscanf(in, "%2x:%2x.%1x%c", &bus, &dev, &fn,
			     &tail) != 3))
		return -EINVAL;
	if (bus > 0xff || dev > 0x1f || fn > 7)
		return -EINVAL;
	snprintf(out, len, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

static const char *basename_of(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static int check_sysfs(struct vfio_pci *vd)
{
	char path[256], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", vd->bdf);
	if (H(vd)->ops->exists(H(vd), path) < 0) {
		pr_err("--passthrough %s: no such PCI device (see 'lspci -D')",
		       vd->bdf);
		return -ENODEV;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver",
		 vd->bdf);
	n = H(vd)->ops->readlink(H(vd), path, link, sizeof(link) - 1);
	if (n < 0) {
		pr_err("--passthrough %s: not bound to any driver: bind it to vfio-pci (echo vfio-pci > /sys/bus/pci/devices/%s/driver_override; echo %s > /sys/bus/pci/drivers_probe)",
		       vd->bdf, vd->bdf, vd->bdf);
		return -ENODEV;
	}
	link[n] = '\0';
	if (strcmp(basename_of(link), "vfio-pci")) {
		pr_err("--passthrough %s: bound to '%s', not vfio-pci: unbind it (echo %s > /sys/bus/pci/devices/%s/driver/unbind) and bind it to vfio-pci",
		       vd->bdf, basename_of(link), vd->bdf, vd->bdf);
		return -EBUSY;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 vd->bdf);
	n = H(vd)->ops->readlink(H(vd), path, link, sizeof(link) - 1);
	if (n < 0) {
		pr_err("--passthrough %s: no IOMMU group: enable the IOMMU on the host (intel_iommu=on or amd_iommu=on on its kernel command line)",
		       vd->bdf);
		return -ENODEV;
	}
	link[n] = '\0';
	if (sscanf(basename_of(link), "%d", &vd->group_id) != 1) {
		pr_err("--passthrough %s: cannot parse IOMMU group link '%s'",
		       vd->bdf, link);
		return -EINVAL;
	}
	return 0;
}

static int open_group(struct vfio_pci *vd)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[64];
	int fd, err;

	snprintf(path, sizeof(path), "/dev/vfio/%d", vd->group_id);
	fd = H(vd)->ops->open(H(vd), path, O_RDWR);
	if (fd == -EACCES || fd == -EPERM) {
		pr_err("--passthrough %s: %s: permission denied: run as root or give your user access to it (chown, or a udev rule)",
		       vd->bdf, path);
		return fd;
	}
	if (fd == -EBUSY) {
		pr_err("--passthrough %s: %s is in use by another process (another VM?)",
		       vd->bdf, path);
		return fd;
	}
	if (fd < 0) {
		pr_errno(-fd, "--passthrough %s: cannot open %s (is vfio-pci loaded?)",
			 vd->bdf, path);
		return fd;
	}
	vd->group_fd = fd;
	err = host_ioctl(vd, fd, VFIO_GROUP_GET_STATUS, &st);
	if (err) {
		pr_errno(-err, "--passthrough %s: VFIO_GROUP_GET_STATUS failed",
			 vd->bdf);
		return err;
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		pr_err("--passthrough %s: IOMMU group %d is not viable: bind every device in /sys/kernel/iommu_groups/%d/devices to vfio-pci (or unbind it)",
		       vd->bdf, vd->group_id, vd->group_id);
		return -EBUSY;
	}
	return 0;
}

static int open_container(struct vfio_pci *vd)
{
	int fd, ver, err;

	fd = H(vd)->ops->open(H(vd), "/dev/vfio/vfio", O_RDWR);
	if (fd < 0) {
		pr_errno(-fd, "--passthrough %s: cannot open /dev/vfio/vfio (is the vfio module loaded?)",
			 vd->bdf);
		return fd;
	}
	vd->container_fd = fd;
	ver = host_ioctl(vd, fd, VFIO_GET_API_VERSION, NULL);
	if (ver != VFIO_API_VERSION) {
		pr_err("--passthrough %s: VFIO API version %d, mvm needs %d",
		       vd->bdf, ver, VFIO_API_VERSION);
		return -EINVAL;
	}
	if (host_ioctl(vd, fd, VFIO_CHECK_EXTENSION,
		       (void *)(uintptr_t)VFIO_TYPE1v2_IOMMU) <= 0) {
		pr_err("--passthrough %s: the host's VFIO has no type1v2 IOMMU support",
		       vd->bdf);
		return -EOPNOTSUPP;
	}
	err = host_ioctl(vd, vd->group_fd, VFIO_GROUP_SET_CONTAINER,
			 &vd->container_fd);
	if (err) {
		pr_errno(-err, "--passthrough %s: VFIO_GROUP_SET_CONTAINER failed",
			 vd->bdf);
		return err;
	}
	err = host_ioctl(vd, fd, VFIO_SET_IOMMU,
			 (void *)(uintptr_t)VFIO_TYPE1v2_IOMMU);
	if (err) {
		pr_errno(-err, "--passthrough %s: VFIO_SET_IOMMU(type1v2) failed",
			 vd->bdf);
		return err;
	}
	return 0;
}

static int dma_map(struct vfio_pci *vd, uint64_t iova, uint64_t size,
		   void *hva)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uint64_t)(uintptr_t)hva, .iova = iova, .size = size,
	};
	int err = host_ioctl(vd, vd->container_fd, VFIO_IOMMU_MAP_DMA, &m);

	if (err)
		pr_errno(-err, "--passthrough %s: VFIO_IOMMU_MAP_DMA of guest RAM %#llx+%#llx failed (locked-memory limit? see ulimit -l)",
			 vd->bdf, (unsigned long long)iova,
			 (unsigned long long)size);
	return err;
}

static void dma_unmap(struct vfio_pci *vd, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .iova = iova, .size = size,
	};
	int err = host_ioctl(vd, vd->container_fd, VFIO_IOMMU_UNMAP_DMA, &u);

	if (err)
		pr_errno(-err, "%s: VFIO_IOMMU_UNMAP_DMA %#llx+%#llx failed",
			 vd->bdf, (unsigned long long)iova,
			 (unsigned long long)size);
}

static int map_guest_ram(struct vfio_pci *vd)
{
	struct guest_mem *mem = vd->ctx->mem;
	int err;

	err = dma_map(vd, 0, mem->low_size, mem->host);
	if (err)
		return err;
	vd->dma_mapped_low = true;
	if (mem->high_size) {
		err = dma_map(vd, HIGH_RAM_START, mem->high_size,
			      mem->high_host);
		if (err)
			return err;
		vd->dma_mapped_high = true;
	}
	return 0;
}

/* Region info with its capability chain (uapi vfio.h: argsz protocol). */
static int read_region(struct vfio_pci *vd, unsigned int index)
{
	struct vfio_region *r = &vd->regions[index];
	struct vfio_region_info *info;
	size_t sz = sizeof(*info);
	int err;

	for (;;) {
		info = calloc(1, sz);
		if (!info)
			return -ENOMEM;
		info->argsz = (uint32_t)sz;
		info->index = index;
		err = host_ioctl(vd, vd->dev_fd, VFIO_DEVICE_GET_REGION_INFO,
				 info);
		if (err) {
			free(info);
			return err;
		}
		if (info->argsz <= sz)
			break;
		/* The kernel tells us how much room the caps need. */
		sz = info->argsz;
		free(info);
	}
	r->flags = info->flags;
	r->size = info->size;
	r->offset = info->offset;
	r->nr_areas = 0;
	if ((info->flags & VFIO_REGION_INFO_FLAG_CAPS) && info->cap_offset) {
		uint32_t off = info->cap_offset;
		unsigned int hops = 0;

		while (off && off + sizeof(struct vfio_info_cap_header) <= sz &&
		       hops++ < 16) {
			struct vfio_info_cap_header *h =
				(void *)((uint8_t *)info + off);

			if (h->id == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) {
				r->msix_mappable = true;
			} else if (h->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
				struct vfio_region_info_cap_sparse_mmap *sp =
					(void *)h;
				uint32_t i;

				if (off + sizeof(*sp) +
				    sp->nr_areas * sizeof(sp->areas[0]) > sz)
					break;
				for (i = 0; i < sp->nr_areas &&
				     r->nr_areas < VFIO_MAX_SPARSE; i++) {
					r->areas[r->nr_areas++] =
						(struct vfio_mmap_area){
						.offset = sp->areas[i].offset,
						.size = sp->areas[i].size,
						.slot = -1,
					};
				}
				r->flags |= 1U << 31;	/* sparse seen */
			}
			off = h->next;
		}
	}
	/* MMAP without a sparse cap: the whole region is one area. */
	if ((r->flags & VFIO_REGION_INFO_FLAG_MMAP) && !(r->flags & 1U << 31) &&
	    r->size)
		r->areas[r->nr_areas++] = (struct vfio_mmap_area){
			.offset = 0, .size = r->size, .slot = -1,
		};
	r->flags &= ~(1U << 31);
	free(info);
	return 0;
}

int vfio_open_device(struct vfio_pci *vd, const char *bdf)
{
	unsigned int i;
	uint8_t hdr;
	int fd, err;

	vd->container_fd = vd->group_fd = vd->dev_fd = -1;
	if (parse_bdf(bdf, vd->bdf, sizeof(vd->bdf))) {
		pr_err("--passthrough '%s': not a PCI address (expected DDDD:BB:DD.F, e.g. 0000:03:10.0)",
		       bdf);
		return -EINVAL;
	}
	snprintf(vd->name, sizeof(vd->name), "vfio %s", vd->bdf);
	err = check_sysfs(vd);
	if (!err)
		err = open_group(vd);
	if (!err)
		err = open_container(vd);
	if (err)
		return err;
	fd = host_ioctl(vd, vd->group_fd, VFIO_GROUP_GET_DEVICE_FD, vd->bdf);
	if (fd < 0) {
		pr_errno(-fd, "--passthrough %s: VFIO_GROUP_GET_DEVICE_FD failed",
			 vd->bdf);
		return fd;
	}
	vd->dev_fd = fd;
	vd->info.argsz = sizeof(vd->info);
	err = host_ioctl(vd, fd, VFIO_DEVICE_GET_INFO, &vd->info);
	if (err) {
		pr_errno(-err, "--passthrough %s: VFIO_DEVICE_GET_INFO failed",
			 vd->bdf);
		return err;
	}
	if (!(vd->info.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    vd->info.num_regions < VFIO_PCI_CONFIG_REGION_INDEX + 1) {
		pr_err("--passthrough %s: not a VFIO PCI device", vd->bdf);
		return -EINVAL;
	}
	for (i = 0; i < VFIO_PCI_NUM_REGIONS && i < vd->info.num_regions;
	     i++) {
		err = read_region(vd, i);
		if (err && i <= VFIO_PCI_CONFIG_REGION_INDEX) {
			pr_errno(-err, "--passthrough %s: VFIO_DEVICE_GET_REGION_INFO(%u) failed",
				 vd->bdf, i);
			return err;
		}
	}
	for (i = 0; i < VFIO_PCI_NUM_IRQS && i < vd->info.num_irqs; i++) {
		vd->irqs[i].argsz = sizeof(vd->irqs[i]);
		vd->irqs[i].index = i;
		err = host_ioctl(vd, fd, VFIO_DEVICE_GET_IRQ_INFO,
				 &vd->irqs[i]);
		if (err) {
			pr_errno(-err, "--passthrough %s: VFIO_DEVICE_GET_IRQ_INFO(%u) failed",
				 vd->bdf, i);
			return err;
		}
	}
	if (vfio_region_read(vd, VFIO_PCI_CONFIG_REGION_INDEX,
			     PCI_HEADER_TYPE, &hdr, 1) != 1) {
		pr_err("--passthrough %s: cannot read its config space",
		       vd->bdf);
		return -EIO;
	}
	if ((hdr & 0x7f) != PCI_HEADER_TYPE_NORMAL) {
		pr_err("--passthrough %s: header type %u (%s) cannot be passed through: only endpoints (type 0) can",
		       vd->bdf, hdr & 0x7f, (hdr & 0x7f) == 1 ? "PCI bridge" :
		       "CardBus bridge");
		return -EINVAL;
	}
	return map_guest_ram(vd);
}

void vfio_close_device(struct vfio_pci *vd)
{
	struct guest_mem *mem = vd->ctx ? vd->ctx->mem : NULL;

	if (mem && vd->dma_mapped_high)
		dma_unmap(vd, HIGH_RAM_START, mem->high_size);
	if (mem && vd->dma_mapped_low)
		dma_unmap(vd, 0, mem->low_size);
	vd->dma_mapped_low = vd->dma_mapped_high = false;
	if (vd->dev_fd >= 0)
		H(vd)->ops->close(H(vd), vd->dev_fd);
	if (vd->group_fd >= 0) {
		if (vd->container_fd >= 0)
			host_ioctl(vd, vd->group_fd,
				   VFIO_GROUP_UNSET_CONTAINER, NULL);
		H(vd)->ops->close(H(vd), vd->group_fd);
	}
	if (vd->container_fd >= 0)
		H(vd)->ops->close(H(vd), vd->container_fd);
	vd->dev_fd = vd->group_fd = vd->container_fd = -1;
}

ssize_t vfio_region_read(struct vfio_pci *vd, unsigned int index,
			 uint64_t off, void *buf, size_t len)
{
	struct vfio_region *r = &vd->regions[index];

	if (off + len > r->size)
		return -EINVAL;
	return H(vd)->ops->pread(H(vd), vd->dev_fd, buf, len,
				 (off_t)(r->offset + off));
}

ssize_t vfio_region_write(struct vfio_pci *vd, unsigned int index,
			  uint64_t off, const void *buf, size_t len)
{
	struct vfio_region *r = &vd->regions[index];

	if (off + len > r->size)
		return -EINVAL;
	return H(vd)->ops->pwrite(H(vd), vd->dev_fd, buf, len,
				  (off_t)(r->offset + off));
}

int vfio_set_irqs_eventfd(struct vfio_pci *vd, unsigned int index,
			  unsigned int start, unsigned int count,
			  const int32_t *fds)
{
	return vfio_set_irqs_action(vd, index, VFIO_IRQ_SET_ACTION_TRIGGER,
				    start, count, fds);
}

int vfio_set_irqs_action(struct vfio_pci *vd, unsigned int index,
			 uint32_t action, unsigned int start,
			 unsigned int count, const int32_t *fds)
{
	size_t sz = sizeof(struct vfio_irq_set) + count * sizeof(int32_t);
	struct vfio_irq_set *s = calloc(1, sz);
	int err;

	if (!s)
		return -ENOMEM;
	s->argsz = (uint32_t)sz;
	s->flags = VFIO_IRQ_SET_DATA_EVENTFD | action;
	s->index = index;
	s->start = start;
	s->count = count;
	memcpy(s->data, fds, count * sizeof(int32_t));
	err = host_ioctl(vd, vd->dev_fd, VFIO_DEVICE_SET_IRQS, s);
	free(s);
	return err;
}

int vfio_disable_irqs(struct vfio_pci *vd, unsigned int index)
{
	struct vfio_irq_set s = {
		.argsz = sizeof(s),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = index, .start = 0, .count = 0,
	};

	return host_ioctl(vd, vd->dev_fd, VFIO_DEVICE_SET_IRQS, &s);
}

void vfio_irqs_off(struct vfio_pci *vd, unsigned int index, const char *what)
{
	int err = vfio_disable_irqs(vd, index);

	if (err)
		pr_errno(-err, "%s: VFIO_DEVICE_SET_IRQS(%s disable) failed",
			 vd->name, what);
}
