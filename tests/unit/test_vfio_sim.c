// SPDX-License-Identifier: GPL-2.0
/*
 * The simulated VFIO host against the uAPI rules it claims to model
 * (Linux 6.1 <linux/vfio.h>, vfio-pci, type1): fd sequence and error
 * codes, argsz and capability chains, SET_IRQS for both host flavours,
 * interrupt delivery with real eventfds, the mbox-vf mailbox, reset,
 * fault injection, counters and fd leaks.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "core/util.h"
#include "vfio/vfio_sim.h"

#define BAR0	((off_t)VFIO_PCI_BAR0_REGION_INDEX << 40)
#define CFG	((off_t)VFIO_PCI_CONFIG_REGION_INDEX << 40)
#define NOFD	(-1)

struct t {
	struct vfio_host *h;
	const struct vfio_host_ops *o;
	int container, group, dev;
};

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static struct vfio_host *mk(const char *spec)
{
	char bdf[16];

	return vfio_sim_create(spec, bdf, sizeof(bdf));
}

/* The full open sequence; every step must succeed. */
static int open_all(struct t *t, const char *spec)
{
	int type = VFIO_TYPE1v2_IOMMU;

	memset(t, 0, sizeof(*t));
	t->h = mk(spec);
	if (!t->h)
		return -1;
	t->o = t->h->ops;
	t->container = t->o->open(t->h, "/dev/vfio/vfio", O_RDWR);
	t->group = t->o->open(t->h, "/dev/vfio/42", O_RDWR);
	if (t->container < 0 || t->group < 0 ||
	    t->o->ioctl(t->h, t->group, VFIO_GROUP_SET_CONTAINER,
			&t->container) ||
	    t->o->ioctl(t->h, t->container, VFIO_SET_IOMMU,
			(void *)(unsigned long)type))
		return -1;
	t->dev = t->o->ioctl(t->h, t->group, VFIO_GROUP_GET_DEVICE_FD,
			     "0000:00:10.0");
	return t->dev < 0 ? -1 : 0;
}

static void close_all(struct t *t)
{
	t->h->ops->destroy(t->h);
}

static int set_irqs_raw(struct t *t, uint32_t flags, uint32_t index,
			uint32_t start, uint32_t count, const void *data,
			size_t dlen)
{
	uint32_t buf[(sizeof(struct vfio_irq_set) + 256) / 4];
	struct vfio_irq_set *s = (void *)buf;

	s->argsz = (uint32_t)(sizeof(*s) + dlen);
	s->flags = flags;
	s->index = index;
	s->start = start;
	s->count = count;
	if (dlen)
		memcpy(s->data, data, dlen);
	return t->o->ioctl(t->h, t->dev, VFIO_DEVICE_SET_IRQS, s);
}

static int set_efds(struct t *t, uint32_t index, uint32_t start,
		    uint32_t count, const int32_t *fds)
{
	return set_irqs_raw(t, VFIO_IRQ_SET_DATA_EVENTFD |
			    VFIO_IRQ_SET_ACTION_TRIGGER, index, start, count,
			    fds, count * sizeof(int32_t));
}

static int set_efd(struct t *t, uint32_t index, uint32_t vec, int32_t fd)
{
	return set_efds(t, index, vec, 1, &fd);
}

static int disable_irqs(struct t *t, uint32_t index)
{
	return set_irqs_raw(t, VFIO_IRQ_SET_DATA_NONE |
			    VFIO_IRQ_SET_ACTION_TRIGGER, index, 0, 0, NULL, 0);
}

static uint32_t rd32(struct t *t, off_t off)
{
	uint8_t b[4] = { 0 };

	if (t->o->pread(t->h, t->dev, b, 4, off) != 4)
		return 0xdeadbeef;
	return get_le32(b);
}

static void wr32(struct t *t, off_t off, uint32_t v)
{
	uint8_t b[4];

	put_le32(b, v);
	t->o->pwrite(t->h, t->dev, b, 4, off);
}

/* Read and clear an eventfd: its count, 0 when not signalled. */
static uint64_t efd_take(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static int mk_efd(void)
{
	return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

static void test_spec(void)
{
	struct vfio_host *h;
	char bdf[16] = "";
	char msg[256] = "";
	int p[2], saved;
	ssize_t n;

	h = vfio_sim_create("mbox-vf", bdf, sizeof(bdf));
	ok(h, "default spec creates a host");
	ok(!strcmp(bdf, "0000:00:10.0"), "default BDF written (%s)", bdf);
	h->ops->destroy(h);
	h = vfio_sim_create("sim:mbox-vf,bdf=1:2.3,vectors=2048,host=noresize",
			    bdf, sizeof(bdf));
	ok(h && !strcmp(bdf, "0000:01:02.3"), "sim: prefix, short BDF");
	if (h)
		h->ops->destroy(h);

	/* The error line names the key and why. */
	if (pipe(p) == 0) {
		fflush(stderr);
		saved = dup(2);
		dup2(p[1], 2);
		h = vfio_sim_create("mbox-vf,vectors=0", bdf, sizeof(bdf));
		dup2(saved, 2);
		close(saved);
		close(p[1]);
		n = read(p[0], msg, sizeof(msg) - 1);
		msg[n > 0 ? n : 0] = '\0';
		close(p[0]);
		ok(!h, "vectors=0 refused");
		ok(!strcmp(msg, "mvm: sim:mbox-vf: vectors=0: must be "
			   "1..2048\n"), "one error line naming the key");
		if (n > 0 && msg[n - 1] == '\n')
			msg[n - 1] = '\0';
		tap_diag("%s", msg);
	}

	log_quiet = true;
	ok(!mk("mbox-vf,vectors=2049"), "vectors=2049 refused");
	ok(!mk("mbox-vf,vectors=x"), "vectors=x refused");
	ok(!mk("mbox-vf,host=new"), "host=new refused");
	ok(!mk("mbox-vf,viable=2"), "viable=2 refused");
	ok(!mk("mbox-vf,colour=red"), "unknown key refused");
	ok(!mk("mbox-vf,perm"), "key without value refused");
	ok(!mk("nic-pf"), "unknown model refused");
	ok(!mk("mbox-vf,bdf=00:20.0"), "slot 0x20 refused");
	ok(!mk("mbox-vf,driver=a/b"), "bad driver name refused");
	ok(!vfio_sim_create("mbox-vf", bdf, 8), "short BDF buffer refused");
	log_quiet = false;
}

static void test_paths(void)
{
	struct vfio_host *h = mk("mbox-vf");
	const struct vfio_host_ops *o = h->ops;
	const char *dir = "/sys/bus/pci/devices/0000:00:10.0";
	char path[128], buf[128];
	ssize_t n;
	int c, g;

	snprintf(path, sizeof(path), "%s/iommu_group", dir);
	n = o->readlink(h, path, buf, sizeof(buf));
	ok(n > 0 && !strncmp(buf, "../../../kernel/iommu_groups/42",
			     (size_t)n) && n == 31, "iommu_group link");
	n = o->readlink(h, path, buf, 5);
	is_int(n, 5, "readlink truncates like readlink(2)");
	snprintf(path, sizeof(path), "%s/driver", dir);
	n = o->readlink(h, path, buf, sizeof(buf));
	ok(n > 0 && !strncmp(buf, "../../../bus/pci/drivers/vfio-pci",
			     (size_t)n), "driver link");
	is_int(o->exists(h, dir), 0, "device directory exists");
	is_int(o->exists(h, "/sys/bus/pci/devices/0000:00:11.0"), -ENOENT,
	       "other device does not");
	is_int(o->readlink(h, "/sys/bus/pci/devices/0000:00:11.0/driver",
			   buf, sizeof(buf)), -ENOENT, "other link -ENOENT");
	snprintf(path, sizeof(path), "%s/vendor", dir);
	n = o->read_attr(h, path, buf, sizeof(buf));
	ok(n == 7 && !strncmp(buf, "0x1234\n", 7), "vendor attribute");
	is_int(o->open(h, "/dev/vfio/43", O_RDWR), -ENOENT, "group 43 absent");
	c = o->open(h, "/dev/vfio/vfio", O_RDWR);
	ok(c >= VFIO_SIM_FD_BASE, "container fd is a fake number");
	g = o->open(h, "/dev/vfio/42", O_RDWR);
	ok(g >= VFIO_SIM_FD_BASE && g != c, "group fd");
	is_int(o->open(h, "/dev/vfio/42", O_RDWR), -EBUSY,
	       "second group open -EBUSY");
	is_int(vfio_sim_open_fds(h), 2, "two fake fds open");
	is_int(o->close(h, g), 0, "close group");
	is_int(o->close(h, g), -EBADF, "double close -EBADF");
	is_int(o->close(h, c), 0, "close container");
	is_int(vfio_sim_open_fds(h), 0, "no fake fds open");
	h->ops->destroy(h);

	h = mk("mbox-vf,iommu=0");
	snprintf(path, sizeof(path), "%s/iommu_group", dir);
	is_int(h->ops->readlink(h, path, buf, sizeof(buf)), -ENOENT,
	       "iommu=0: no iommu_group link");
	is_int(h->ops->open(h, "/dev/vfio/42", O_RDWR), -ENOENT,
	       "iommu=0: no group node");
	h->ops->destroy(h);

	h = mk("mbox-vf,driver=ixgbevf,group=7");
	snprintf(path, sizeof(path), "%s/driver", dir);
	n = h->ops->readlink(h, path, buf, sizeof(buf));
	ok(n > 0 && !strncmp(buf, "../../../bus/pci/drivers/ixgbevf",
			     (size_t)n), "driver=ixgbevf link");
	is_int(h->ops->open(h, "/dev/vfio/7", O_RDWR), -ENOENT,
	       "not bound to vfio-pci: no group node");
	h->ops->destroy(h);

	h = mk("mbox-vf,perm=0");
	is_int(h->ops->open(h, "/dev/vfio/42", O_RDWR), -EACCES,
	       "perm=0: -EACCES");
	h->ops->destroy(h);
}

static void test_sequence(void)
{
	struct vfio_host *h = mk("mbox-vf");
	const struct vfio_host_ops *o = h->ops;
	struct vfio_group_status st = { .argsz = sizeof(st) };
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_iommu_type1_info ii = { .argsz = sizeof(ii) };
	int c, g, d, bogus = 0x7ffffff0;

	c = o->open(h, "/dev/vfio/vfio", O_RDWR);
	is_int(o->ioctl(h, c, VFIO_GET_API_VERSION, NULL), VFIO_API_VERSION,
	       "VFIO_GET_API_VERSION");
	is_int(o->ioctl(h, c, VFIO_CHECK_EXTENSION,
			(void *)VFIO_TYPE1v2_IOMMU), 1, "TYPE1v2 supported");
	is_int(o->ioctl(h, c, VFIO_CHECK_EXTENSION, (void *)99UL), 0,
	       "unknown extension 0");
	is_int(o->ioctl(h, c, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU),
	       -EINVAL, "SET_IOMMU without a group -EINVAL");
	is_int(o->ioctl(h, c, VFIO_IOMMU_GET_INFO, &ii), -EINVAL,
	       "IOMMU_GET_INFO without an IOMMU -EINVAL");
	g = o->open(h, "/dev/vfio/42", O_RDWR);
	st.argsz = 4;
	is_int(o->ioctl(h, g, VFIO_GROUP_GET_STATUS, &st), -EINVAL,
	       "GET_STATUS argsz 4 -EINVAL");
	st.argsz = sizeof(st);
	is_int(o->ioctl(h, g, VFIO_GROUP_GET_STATUS, &st), 0, "GET_STATUS");
	is_int(st.flags, VFIO_GROUP_FLAGS_VIABLE, "viable, no container");
	is_int(o->ioctl(h, g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:10.0"),
	       -EINVAL, "GET_DEVICE_FD without container -EINVAL");
	is_int(o->ioctl(h, g, VFIO_GROUP_UNSET_CONTAINER, NULL), -EINVAL,
	       "UNSET_CONTAINER without one -EINVAL");
	is_int(o->ioctl(h, g, VFIO_GROUP_SET_CONTAINER, &bogus), -EBADF,
	       "SET_CONTAINER bad fd -EBADF");
	is_int(o->ioctl(h, g, VFIO_GROUP_SET_CONTAINER, &g), -EINVAL,
	       "SET_CONTAINER with a group fd -EINVAL");
	is_int(o->ioctl(h, g, VFIO_GROUP_SET_CONTAINER, &c), 0,
	       "SET_CONTAINER");
	is_int(o->ioctl(h, g, VFIO_GROUP_SET_CONTAINER, &c), -EINVAL,
	       "SET_CONTAINER twice -EINVAL");
	o->ioctl(h, g, VFIO_GROUP_GET_STATUS, &st);
	is_int(st.flags, VFIO_GROUP_FLAGS_VIABLE |
	       VFIO_GROUP_FLAGS_CONTAINER_SET, "viable, container set");
	is_int(o->ioctl(h, g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:10.0"),
	       -EINVAL, "GET_DEVICE_FD before SET_IOMMU -EINVAL");
	is_int(o->ioctl(h, c, VFIO_SET_IOMMU, (void *)42UL), -ENODEV,
	       "SET_IOMMU unknown type -ENODEV");
	is_int(o->ioctl(h, c, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU), 0,
	       "SET_IOMMU TYPE1v2");
	is_int(o->ioctl(h, c, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU),
	       -EINVAL, "SET_IOMMU twice -EINVAL");
	is_int(o->ioctl(h, g, VFIO_GROUP_GET_DEVICE_FD, "00:10.0"), -ENODEV,
	       "GET_DEVICE_FD short name -ENODEV");
	d = o->ioctl(h, g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:10.0");
	ok(d >= VFIO_SIM_FD_BASE, "GET_DEVICE_FD");
	is_int(o->ioctl(h, g, VFIO_GROUP_UNSET_CONTAINER, NULL), -EBUSY,
	       "UNSET_CONTAINER with a device open -EBUSY");
	is_int(o->ioctl(h, g, 0x1234, &st), -ENOTTY, "group: unknown -ENOTTY");
	is_int(o->ioctl(h, c, VFIO_IOMMU_DISABLE, NULL), -ENOTTY,
	       "type1: unknown -ENOTTY");
	is_int(o->ioctl(h, d, VFIO_DEVICE_IOEVENTFD, &di), -ENOTTY,
	       "device: unknown -ENOTTY");
	di.argsz = 8;
	is_int(o->ioctl(h, d, VFIO_DEVICE_GET_INFO, &di), -EINVAL,
	       "DEVICE_GET_INFO argsz 8 -EINVAL");
	di.argsz = sizeof(di);
	is_int(o->ioctl(h, d, VFIO_DEVICE_GET_INFO, &di), 0, "DEVICE_GET_INFO");
	is_int(di.flags, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET,
	       "PCI | RESET");
	is_int(di.num_regions, VFIO_PCI_NUM_REGIONS, "num_regions");
	is_int(di.num_irqs, VFIO_PCI_NUM_IRQS, "num_irqs");
	is_int(o->ioctl(h, 12345, VFIO_DEVICE_GET_INFO, &di), -EBADF,
	       "ioctl on a closed fd -EBADF");

	/* Closing the group fd keeps the device (it holds the group). */
	is_int(o->close(h, g), 0, "close group with the device open");
	is_int(o->open(h, "/dev/vfio/42", O_RDWR), -EBUSY,
	       "group still held by the device");
	is_int(o->close(h, d), 0, "close device");
	g = o->open(h, "/dev/vfio/42", O_RDWR);
	ok(g >= 0, "group released with the last device fd");
	o->ioctl(h, g, VFIO_GROUP_GET_STATUS, &st);
	is_int(st.flags, VFIO_GROUP_FLAGS_VIABLE, "...and detached");
	is_int(o->ioctl(h, c, VFIO_IOMMU_GET_INFO, &ii), -EINVAL,
	       "container lost its IOMMU with its last group");
	o->close(h, g);
	o->close(h, c);
	h->ops->destroy(h);

	h = mk("mbox-vf,viable=0,reset=0");
	o = h->ops;
	c = o->open(h, "/dev/vfio/vfio", O_RDWR);
	g = o->open(h, "/dev/vfio/42", O_RDWR);
	o->ioctl(h, g, VFIO_GROUP_GET_STATUS, &st);
	is_int(st.flags, 0, "viable=0: status 0");
	is_int(o->ioctl(h, g, VFIO_GROUP_SET_CONTAINER, &c), -EPERM,
	       "viable=0: SET_CONTAINER -EPERM");
	h->ops->destroy(h);
}

static void test_iommu(void)
{
	struct t t;
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	struct vfio_iommu_type1_dma_unmap un = { .argsz = sizeof(un) };
	uint64_t buf8[64];
	struct vfio_iommu_type1_info *ii = (void *)buf8;
	struct vfio_info_cap_header *hdr;
	struct vfio_iommu_type1_info_cap_iova_range *r = NULL;
	uint64_t start, size, vaddr;
	uint8_t *mem;
	uint32_t need;
	unsigned int ncaps = 0;

	if (open_all(&t, "mbox-vf")) {
		ok(0, "open sequence");
		return;
	}
	memset(buf8, 0, sizeof(buf8));
	ii->argsz = 8;
	is_int(t.o->ioctl(t.h, t.container, VFIO_IOMMU_GET_INFO, ii), -EINVAL,
	       "IOMMU_GET_INFO argsz 8 -EINVAL");
	ii->argsz = sizeof(*ii);
	is_int(t.o->ioctl(t.h, t.container, VFIO_IOMMU_GET_INFO, ii), 0,
	       "IOMMU_GET_INFO, no room for caps");
	ok(ii->flags == (VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS),
	   "PGSIZES | CAPS");
	ok(ii->iova_pgsizes & 4096, "4 KiB pages");
	need = ii->argsz;
	ok(need > sizeof(*ii) && ii->cap_offset == 0,
	   "argsz grown to %u, cap_offset 0", need);
	memset(buf8, 0, sizeof(buf8));
	ii->argsz = need;
	is_int(t.o->ioctl(t.h, t.container, VFIO_IOMMU_GET_INFO, ii), 0,
	       "IOMMU_GET_INFO with room");
	is_int(ii->cap_offset, sizeof(*ii), "cap chain after the struct");
	for (hdr = (void *)((uint8_t *)ii + ii->cap_offset);;
	     hdr = (void *)((uint8_t *)ii + hdr->next)) {
		ncaps++;
		if (hdr->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE)
			r = (void *)hdr;
		if (!hdr->next || ncaps > 8)
			break;
	}
	is_int(ncaps, 3, "three caps (migration, dma_avail, iova)");
	ok(r && r->nr_iovas == 2 && r->iova_ranges[0].start == 0 &&
	   r->iova_ranges[0].end == 0xfedfffff &&
	   r->iova_ranges[1].start == 0xfef00000, "IOVA ranges skip MSI");

	mem = mmap(NULL, 4 * MiB, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uintptr_t)mem;
	map.iova = 0x100000;
	map.size = 2 * MiB;
	is_int(t.o->ioctl(t.h, t.container, VFIO_IOMMU_MAP_DMA, &map), 0,
	       "MAP_DMA");
	is_int(vfio_sim_stats(t.h)->dma_mappings, 1, "one mapping");
	is_int(t.o->ioctl(t.h, t.container, VFIO_IOMMU_MAP_DMA, &map), -EEXIST,
	       "same range again -EEXIST");
	map.iova = 0x200000;
	is_int(t.o->ioctl(t.h, t.container, VFIO_IOMMU_MAP_DMA, &map), -EEXIST,
	       "overlapping -EEXIST");
	map.iova = 0x400800;
	is_int(t.o->ioctl(t.h, t.container, VFIO_IOMMU_MAP_DMA, &map), -EINVAL,
	       "unaligned iova -EINVAL");
	map.iova = 0x400000;
	map.size = 0;
	is_int(t.o->ioctl(t.h, t.container, VFIO_IOMMU_MAP_DMA, &map), -EINVAL,
	       "size 0 -EINVAL");
	map.size = 2 * MiB;
	map.flags = 0;
	is_int(t.o->ioctl(t.h, t.container, VFIO_IOMMU_MAP_DMA, &map), -EINVAL,
	       "no READ/WRITE -EINVAL");
	map.flags = VFIO_DMA_MAP_FLAG_READ | 0x80;
	is_int(t.o->ioctl(t.h, t.container, VFIO_IOMMU_MAP_DMA, &map), -EINVAL,
	       "unknown flag -EINVAL");
	map.flags = VFIO_DMA_MAP_FLAG_READ;
	map.iova = 0xfee00000 - MiB;
	is_int(t.o->ioctl(t.h, t.container, VFIO_IOMMU_MAP_DMA, &map), -EINVAL,
	       "range over the MSI window -EINVAL");
	munmap(mem + 2 * MiB, 2 * MiB);
	map.iova = 0x40000000;
	map.vaddr = (uintptr_t)mem + 2 * MiB;
	is_int(t.o->ioctl(t.h, t.container, VFIO_IOMMU_MAP_DMA, &map), -EFAULT,
	       "unmapped vaddr -EFAULT");
	map.argsz = 16;
	is_int(t.o->ioctl(t.h, t.container, VFIO_IOMMU_MAP_DMA, &map), -EINVAL,
	       "MAP_DMA argsz 16 -EINVAL");
	ok(vfio_sim_dma_find(t.h, 0x180000, &start, &size, &vaddr) == 0 &&
	   start == 0x100000 && size == 2 * MiB && vaddr == (uintptr_t)mem,
	   "dma_find");

	un.iova = 0x40000000;
	un.size = 4096;
	is_int(t.o->ioctl(t.h, t.container, VFIO_IOMMU_UNMAP_DMA, &un), 0,
	       "UNMAP_DMA of nothing");
	is_int(un.size, 0, "...unmaps 0 bytes");
	un.iova = 0x101000;
	un.size = 4096;
	is_int(t.o->ioctl(t.h, t.container, VFIO_IOMMU_UNMAP_DMA, &un),
	       -EINVAL, "v2: bisecting a mapping -EINVAL");
	un.iova = 0x100000;
	un.size = 0x1000;
	is_int(t.o->ioctl(t.h, t.container, VFIO_IOMMU_UNMAP_DMA, &un),
	       -EINVAL, "v2: covering only the start -EINVAL");
	un.iova = 0;
	un.size = 0x80000000;
	is_int(t.o->ioctl(t.h, t.container, VFIO_IOMMU_UNMAP_DMA, &un), 0,
	       "UNMAP_DMA covering it");
	is_int(un.size, 2 * MiB, "...unmaps 2 MiB");
	is_int(vfio_sim_stats(t.h)->dma_mappings, 0, "no mappings");
	map.argsz = sizeof(map);
	map.vaddr = (uintptr_t)mem;
	map.iova = 0;
	t.o->ioctl(t.h, t.container, VFIO_IOMMU_MAP_DMA, &map);
	un.flags = VFIO_DMA_UNMAP_FLAG_ALL;
	un.iova = 0;
	un.size = 0;
	is_int(t.o->ioctl(t.h, t.container, VFIO_IOMMU_UNMAP_DMA, &un), 0,
	       "UNMAP_ALL");
	is_int(un.size, 2 * MiB, "...unmaps everything");
	munmap(mem, 2 * MiB);
	close_all(&t);
}

static bool mmap_ok_table(struct t *t)
{
	void *p = t->o->mmap(t->h, 4096, PROT_READ | PROT_WRITE, t->dev,
			     BAR0 + MBOX_VF_MSIX_TABLE);

	if (!p)
		return false;
	t->o->munmap(t->h, p, 4096);
	return true;
}

static void test_regions(void)
{
	uint64_t buf8[32];
	struct vfio_region_info *ri = (void *)buf8;
	struct vfio_region_info_cap_sparse_mmap *sp;
	struct vfio_info_cap_header *hdr;
	struct t t;

	if (open_all(&t, "mbox-vf")) {
		ok(0, "open sequence");
		return;
	}
	memset(buf8, 0, sizeof(buf8));
	ri->argsz = 16;
	is_int(t.o->ioctl(t.h, t.dev, VFIO_DEVICE_GET_REGION_INFO, ri), -EINVAL,
	       "REGION_INFO argsz 16 -EINVAL");
	ri->argsz = sizeof(*ri);
	ri->index = VFIO_PCI_CONFIG_REGION_INDEX;
	is_int(t.o->ioctl(t.h, t.dev, VFIO_DEVICE_GET_REGION_INFO, ri), 0,
	       "config region");
	ok(ri->size == 4096 && ri->offset == (7ULL << 40) &&
	   ri->flags == (VFIO_REGION_INFO_FLAG_READ |
			 VFIO_REGION_INFO_FLAG_WRITE),
	   "4 KiB, RW, index << 40");

	ri->index = VFIO_PCI_BAR0_REGION_INDEX;
	is_int(t.o->ioctl(t.h, t.dev, VFIO_DEVICE_GET_REGION_INFO, ri), 0,
	       "BAR0, argsz without room for caps");
	ok(ri->flags == (VFIO_REGION_INFO_FLAG_READ |
			 VFIO_REGION_INFO_FLAG_WRITE |
			 VFIO_REGION_INFO_FLAG_MMAP |
			 VFIO_REGION_INFO_FLAG_CAPS), "BAR0 RW MMAP CAPS");
	is_int(ri->argsz, sizeof(*ri) + sizeof(*sp) + sizeof(sp->areas[0]),
	       "argsz grown to fit the sparse cap");
	is_int(ri->cap_offset, 0, "cap_offset 0 when not copied");
	is_int(ri->size, MBOX_VF_BAR0_SIZE, "BAR0 is 128 KiB");
	is_int(ri->offset, 0, "BAR0 at offset 0");
	is_int(t.o->ioctl(t.h, t.dev, VFIO_DEVICE_GET_REGION_INFO, ri), 0,
	       "BAR0 with the argsz it asked for");
	is_int(ri->cap_offset, sizeof(*ri), "cap right after the struct");
	sp = (void *)((uint8_t *)ri + ri->cap_offset);
	ok(sp->header.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP &&
	   sp->header.version == 1 && sp->header.next == 0,
	   "one sparse-mmap cap, end of chain");
	ok(sp->nr_areas == 1 && sp->areas[0].offset == 0x1000 &&
	   sp->areas[0].size == 0x7000, "area: the scratch memory only");

	ri->index = VFIO_PCI_BAR2_REGION_INDEX;
	ri->argsz = sizeof(*ri);
	is_int(t.o->ioctl(t.h, t.dev, VFIO_DEVICE_GET_REGION_INFO, ri), 0,
	       "BAR2");
	ok(ri->size == 0 && ri->flags == 0 && ri->offset == (2ULL << 40),
	   "BAR2 is empty");
	ri->index = VFIO_PCI_VGA_REGION_INDEX;
	is_int(t.o->ioctl(t.h, t.dev, VFIO_DEVICE_GET_REGION_INFO, ri), -EINVAL,
	       "no VGA region -EINVAL");
	ri->index = 99;
	is_int(t.o->ioctl(t.h, t.dev, VFIO_DEVICE_GET_REGION_INFO, ri), -EINVAL,
	       "index 99 -EINVAL");
	close_all(&t);

	if (open_all(&t, "mbox-vf,msix_mappable=1")) {
		ok(0, "open sequence");
		return;
	}
	memset(buf8, 0, sizeof(buf8));
	ri->argsz = sizeof(buf8);
	ri->index = 0;
	t.o->ioctl(t.h, t.dev, VFIO_DEVICE_GET_REGION_INFO, ri);
	sp = (void *)((uint8_t *)ri + ri->cap_offset);
	ok(sp->header.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP &&
	   sp->nr_areas == 2 && sp->areas[1].offset == MBOX_VF_MSIX_TABLE,
	   "msix_mappable: MSI-X pages are an area");
	hdr = (void *)((uint8_t *)ri + sp->header.next);
	ok(sp->header.next && hdr->id == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE &&
	   hdr->next == 0, "chain: sparse -> MSIX_MAPPABLE");
	ok(mmap_ok_table(&t), "mmap of the MSI-X table page allowed");
	close_all(&t);
}

static void test_irq_info(void)
{
	struct vfio_irq_info ii = { .argsz = sizeof(ii) };
	struct t t;

	if (open_all(&t, "mbox-vf,vectors=64")) {
		ok(0, "open sequence");
		return;
	}
	ii.argsz = 8;
	is_int(t.o->ioctl(t.h, t.dev, VFIO_DEVICE_GET_IRQ_INFO, &ii), -EINVAL,
	       "IRQ_INFO argsz 8 -EINVAL");
	ii.argsz = sizeof(ii);
	ii.index = VFIO_PCI_INTX_IRQ_INDEX;
	t.o->ioctl(t.h, t.dev, VFIO_DEVICE_GET_IRQ_INFO, &ii);
	ok(ii.count == 1 && ii.flags == (VFIO_IRQ_INFO_EVENTFD |
					 VFIO_IRQ_INFO_MASKABLE |
					 VFIO_IRQ_INFO_AUTOMASKED),
	   "INTx: 1, EVENTFD MASKABLE AUTOMASKED");
	ii.index = VFIO_PCI_MSI_IRQ_INDEX;
	t.o->ioctl(t.h, t.dev, VFIO_DEVICE_GET_IRQ_INFO, &ii);
	ok(ii.count == 1 && ii.flags == (VFIO_IRQ_INFO_EVENTFD |
					 VFIO_IRQ_INFO_NORESIZE),
	   "MSI: 1, EVENTFD NORESIZE");
	ii.index = VFIO_PCI_MSIX_IRQ_INDEX;
	t.o->ioctl(t.h, t.dev, VFIO_DEVICE_GET_IRQ_INFO, &ii);
	ok(ii.count == 64 && ii.flags == VFIO_IRQ_INFO_EVENTFD,
	   "MSI-X on a dynamic host: 64, no NORESIZE");
	ii.index = VFIO_PCI_ERR_IRQ_INDEX;
	t.o->ioctl(t.h, t.dev, VFIO_DEVICE_GET_IRQ_INFO, &ii);
	ok(ii.count == 1, "ERR: 1 (PCIe)");
	ii.index = VFIO_PCI_REQ_IRQ_INDEX;
	t.o->ioctl(t.h, t.dev, VFIO_DEVICE_GET_IRQ_INFO, &ii);
	ok(ii.count == 1, "REQ: 1");
	ii.index = VFIO_PCI_NUM_IRQS;
	is_int(t.o->ioctl(t.h, t.dev, VFIO_DEVICE_GET_IRQ_INFO, &ii), -EINVAL,
	       "index 5 -EINVAL");
	close_all(&t);

	if (open_all(&t, "mbox-vf,host=noresize")) {
		ok(0, "open sequence");
		return;
	}
	ii.index = VFIO_PCI_MSIX_IRQ_INDEX;
	t.o->ioctl(t.h, t.dev, VFIO_DEVICE_GET_IRQ_INFO, &ii);
	ok(ii.count == 16 && ii.flags == (VFIO_IRQ_INFO_EVENTFD |
					  VFIO_IRQ_INFO_NORESIZE),
	   "MSI-X on an older host: 16, NORESIZE");
	close_all(&t);
}

static void test_set_irqs_validation(void)
{
	int32_t fds[2] = { -1, -1 };
	struct t t;

	if (open_all(&t, "mbox-vf")) {
		ok(0, "open sequence");
		return;
	}
	is_int(set_irqs_raw(&t, VFIO_IRQ_SET_DATA_EVENTFD |
			    VFIO_IRQ_SET_ACTION_TRIGGER,
			    VFIO_PCI_MSIX_IRQ_INDEX, 0, 2, fds, 4), -EINVAL,
	       "argsz short of count * 4 -EINVAL");
	is_int(set_irqs_raw(&t, VFIO_IRQ_SET_DATA_EVENTFD |
			    VFIO_IRQ_SET_DATA_BOOL |
			    VFIO_IRQ_SET_ACTION_TRIGGER,
			    VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, fds, 4), -EINVAL,
	       "two DATA flags -EINVAL");
	is_int(set_irqs_raw(&t, VFIO_IRQ_SET_DATA_NONE |
			    VFIO_IRQ_SET_ACTION_TRIGGER |
			    VFIO_IRQ_SET_ACTION_MASK,
			    VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, NULL, 0), -ENOTTY,
	       "two ACTION flags: no handler, -ENOTTY");
	is_int(set_irqs_raw(&t, VFIO_IRQ_SET_DATA_NONE | 0x100,
			    VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, NULL, 0), -EINVAL,
	       "unknown flag -EINVAL");
	is_int(set_efds(&t, VFIO_PCI_MSIX_IRQ_INDEX, 15, 2, fds), -EINVAL,
	       "start + count past the table -EINVAL");
	is_int(set_efd(&t, VFIO_PCI_MSIX_IRQ_INDEX, 16, -1), -EINVAL,
	       "start past the table -EINVAL");
	is_int(set_efd(&t, 9, 0, -1), -EINVAL, "index 9 -EINVAL");
	is_int(set_irqs_raw(&t, VFIO_IRQ_SET_DATA_NONE |
			    VFIO_IRQ_SET_ACTION_MASK,
			    VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, NULL, 0), -ENOTTY,
	       "MASK on MSI-X -ENOTTY");
	is_int(set_irqs_raw(&t, VFIO_IRQ_SET_DATA_NONE |
			    VFIO_IRQ_SET_ACTION_UNMASK,
			    VFIO_PCI_MSI_IRQ_INDEX, 0, 1, NULL, 0), -ENOTTY,
	       "UNMASK on MSI -ENOTTY");
	is_int(set_efds(&t, VFIO_PCI_MSIX_IRQ_INDEX, 0, 0, NULL), -ERANGE,
	       "enable with nvec 0: pci_alloc_irq_vectors -ERANGE");
	is_int(set_irqs_raw(&t, VFIO_IRQ_SET_DATA_NONE |
			    VFIO_IRQ_SET_ACTION_TRIGGER,
			    VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, NULL, 0), -EINVAL,
	       "loopback while disabled -EINVAL");
	is_int(set_efd(&t, VFIO_PCI_MSIX_IRQ_INDEX, 0, 0x7ffffff0), -EBADF,
	       "bad fd -EBADF");
	ok(!vfio_sim_msix_enabled(t.h), "...and the enable was undone");
	if (pipe(fds) == 0) {
		is_int(set_efd(&t, VFIO_PCI_MSIX_IRQ_INDEX, 0, fds[0]),
		       -EINVAL, "a pipe is no eventfd -EINVAL");
		close(fds[0]);
		close(fds[1]);
	}
	close_all(&t);
}

static void test_msix_dynamic(void)
{
	const struct vfio_sim_stats *st;
	int e1 = mk_efd(), e5 = mk_efd(), e0 = mk_efd(), e9 = mk_efd();
	uint8_t bools[2] = { 1, 0 };
	uint8_t pba[2];
	struct t t;

	if (open_all(&t, "mbox-vf")) {
		ok(0, "open sequence");
		return;
	}
	st = vfio_sim_stats(t.h);
	wr32(&t, BAR0 + MBOX_REG_CMD, 0x11);
	is_int(rd32(&t, BAR0 + MBOX_REG_STATUS), MBOX_STATUS_REFUSED,
	       "mailbox refuses before host MSI-X enable");
	is_int(st->mbox_refused, 1, "refusal counted");

	is_int(set_efd(&t, VFIO_PCI_MSIX_IRQ_INDEX, 0, -1), 0,
	       "enable with fd -1 on vector 0");
	ok(vfio_sim_msix_enabled(t.h), "host MSI-X enabled");
	is_int(vfio_sim_msix_allocated(t.h), 1, "one vector allocated");
	is_int(vfio_sim_msix_trigger(t.h, 0), -1, "vector 0 has no trigger");
	is_int(st->msix_enables, 1, "enable counted");
	is_int(rd32(&t, BAR0 + MBOX_REG_HOST_IRQ),
	       MBOX_HOST_IRQ_MSIX | 1 << MBOX_HOST_IRQ_NVEC_SHIFT,
	       "HOST_IRQ register: MSI-X, 1 vector");

	wr32(&t, BAR0 + MBOX_REG_CMD, 0x22);
	is_int(rd32(&t, BAR0 + MBOX_REG_STATUS), MBOX_STATUS_DONE,
	       "mailbox accepts with every vector masked");
	is_int(rd32(&t, BAR0 + MBOX_REG_RESULT), ~0x22u, "result ~cmd");
	ok(vfio_sim_msix_pending(t.h, 0), "completion latched in the PBA");

	is_int(set_efd(&t, VFIO_PCI_MSIX_IRQ_INDEX, 1, e1), 0,
	       "add vector 1 while enabled");
	is_int(vfio_sim_msix_allocated(t.h), 2, "allocated on demand");
	is_int(vfio_sim_msix_trigger(t.h, 1), e1, "vector 1 trigger");
	is_int(set_efd(&t, VFIO_PCI_MSIX_IRQ_INDEX, 5, e5), 0, "add vector 5");
	is_int(vfio_sim_msix_allocated(t.h), 3, "three allocated");
	is_int(st->msix_enables, 1, "no re-enable needed");

	is_int(vfio_sim_raise(t.h, 5), VFIO_SIM_DELIVERED, "raise 5 delivered");
	is_int(efd_take(e5), 1, "eventfd 5 signalled");
	is_int(vfio_sim_raise(t.h, 9), VFIO_SIM_PENDING,
	       "raise unallocated 9: pending");
	is_int(t.o->pread(t.h, t.dev, pba, 2, BAR0 + MBOX_VF_MSIX_PBA), 2,
	       "PBA read");
	ok(pba[0] == 0x01 && pba[1] == 0x02, "PBA bits 0 and 9 (%02x %02x)",
	   pba[0], pba[1]);
	is_int(set_efd(&t, VFIO_PCI_MSIX_IRQ_INDEX, 0, e0), 0,
	       "attach trigger to vector 0");
	is_int(efd_take(e0), 1, "pending vector 0 delivered at once");
	ok(!vfio_sim_msix_pending(t.h, 0), "PBA bit cleared");
	set_efd(&t, VFIO_PCI_MSIX_IRQ_INDEX, 9, e9);
	is_int(efd_take(e9), 1, "pending vector 9 delivered on allocation");
	is_int(st->pending_delivered, 2, "two late deliveries");

	is_int(set_efd(&t, VFIO_PCI_MSIX_IRQ_INDEX, 1, -1), 0,
	       "fd -1 releases vector 1");
	is_int(vfio_sim_msix_trigger(t.h, 1), -1, "no trigger on 1");
	is_int(vfio_sim_msix_allocated(t.h), 4, "...but it stays allocated");
	is_int(vfio_sim_raise(t.h, 1), VFIO_SIM_PENDING, "raise 1: pending");

	is_int(set_irqs_raw(&t, VFIO_IRQ_SET_DATA_NONE |
			    VFIO_IRQ_SET_ACTION_TRIGGER,
			    VFIO_PCI_MSIX_IRQ_INDEX, 5, 1, NULL, 0), 0,
	       "loopback DATA_NONE");
	is_int(efd_take(e5), 1, "vector 5 signalled");
	is_int(set_irqs_raw(&t, VFIO_IRQ_SET_DATA_BOOL |
			    VFIO_IRQ_SET_ACTION_TRIGGER,
			    VFIO_PCI_MSIX_IRQ_INDEX, 5, 2, bools, 2), 0,
	       "loopback DATA_BOOL");
	is_int(efd_take(e5), 1, "vector 5 signalled by bool");
	is_int(st->loopbacks, 2, "loopbacks counted");

	is_int(set_efd(&t, VFIO_PCI_MSI_IRQ_INDEX, 0, e1), -EINVAL,
	       "MSI while MSI-X is on -EINVAL");
	is_int(set_efd(&t, VFIO_PCI_INTX_IRQ_INDEX, 0, e1), -EINVAL,
	       "INTx while MSI-X is on -EINVAL");
	is_int(disable_irqs(&t, VFIO_PCI_MSI_IRQ_INDEX), -EINVAL,
	       "disabling MSI (not active) -EINVAL");

	is_int(disable_irqs(&t, VFIO_PCI_MSIX_IRQ_INDEX), 0, "disable MSI-X");
	ok(!vfio_sim_msix_enabled(t.h), "host MSI-X off");
	is_int(vfio_sim_msix_allocated(t.h), 0, "vectors freed");
	is_int(vfio_sim_msix_trigger(t.h, 5), -1, "triggers released");
	is_int(st->msix_disables, 1, "disable counted");
	is_int(vfio_sim_raise(t.h, 5), VFIO_SIM_DROPPED, "raise: dropped");
	is_int(st->dropped, 1, "drop counted");
	wr32(&t, BAR0 + MBOX_REG_CMD, 0x33);
	is_int(rd32(&t, BAR0 + MBOX_REG_STATUS), MBOX_STATUS_REFUSED,
	       "mailbox refuses again");
	close_all(&t);
	close(e0);
	close(e1);
	close(e5);
	close(e9);
}

static void test_msix_noresize(void)
{
	int e[4] = { mk_efd(), mk_efd(), mk_efd(), mk_efd() };
	int32_t fds[4] = { -1, -1, -1, e[3] };
	int32_t three[3] = { e[0], e[1], e[2] };
	struct t t;

	if (open_all(&t, "mbox-vf,host=noresize")) {
		ok(0, "open sequence");
		return;
	}
	is_int(set_efd(&t, VFIO_PCI_MSIX_IRQ_INDEX, 0, -1), 0,
	       "enable with fd -1 on vector 0");
	is_int(set_efd(&t, VFIO_PCI_MSIX_IRQ_INDEX, 1, e[1]), -EINVAL,
	       "noresize: growing to vector 1 -EINVAL");
	ok(vfio_sim_msix_enabled(t.h), "still enabled");
	is_int(vfio_sim_msix_allocated(t.h), 1, "still one vector");
	is_int(set_efd(&t, VFIO_PCI_MSIX_IRQ_INDEX, 1, -1), 0,
	       "fd -1 past the allocation is a no-op");
	is_int(disable_irqs(&t, VFIO_PCI_MSIX_IRQ_INDEX), 0, "disable");
	is_int(set_efds(&t, VFIO_PCI_MSIX_IRQ_INDEX, 0, 4, fds), 0,
	       "re-enable with 4 vectors");
	is_int(vfio_sim_msix_allocated(t.h), 4, "4 allocated");
	is_int(vfio_sim_msix_trigger(t.h, 3), e[3], "vector 3 trigger");
	is_int(set_efd(&t, VFIO_PCI_MSIX_IRQ_INDEX, 2, e[2]), 0,
	       "set vector 2 within the allocation");
	is_int(set_efds(&t, VFIO_PCI_MSIX_IRQ_INDEX, 1, 3, three), 0,
	       "set 1..3");
	is_int(set_efds(&t, VFIO_PCI_MSIX_IRQ_INDEX, 2, 3, three), -EINVAL,
	       "block 2..4 fails at 4");
	ok(vfio_sim_msix_trigger(t.h, 2) == -1 &&
	   vfio_sim_msix_trigger(t.h, 3) == -1,
	   "...and vectors 2, 3 were released (vfio_msi_set_block unwind)");
	is_int(vfio_sim_msix_trigger(t.h, 1), e[0], "vector 1 untouched");
	is_int(vfio_sim_stats(t.h)->msix_enables, 2, "two enables");
	close_all(&t);
	for (int i = 0; i < 4; i++)
		close(e[i]);
}

static bool wait_unmasked(struct vfio_host *h)
{
	for (int i = 0; i < 1000; i++) {
		if (!vfio_sim_intx_masked(h))
			return true;
		usleep(1000);
	}
	return false;
}

static void test_intx_msi(void)
{
	int e = mk_efd(), un = mk_efd(), un2 = mk_efd();
	const struct vfio_sim_stats *st;
	uint64_t one = 1;
	int32_t fd;
	struct t t;

	if (open_all(&t, "mbox-vf")) {
		ok(0, "open sequence");
		return;
	}
	st = vfio_sim_stats(t.h);
	is_int(vfio_sim_raise(t.h, 0), VFIO_SIM_DROPPED,
	       "no IRQ type enabled: dropped");
	is_int(set_irqs_raw(&t, VFIO_IRQ_SET_DATA_NONE |
			    VFIO_IRQ_SET_ACTION_UNMASK,
			    VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0), -EINVAL,
	       "UNMASK before INTx enable -EINVAL");
	is_int(set_efd(&t, VFIO_PCI_INTX_IRQ_INDEX, 0, e), 0, "enable INTx");
	ok(vfio_sim_intx_enabled(t.h), "INTx on");
	is_int(vfio_sim_raise(t.h, 0), VFIO_SIM_DELIVERED, "INTx delivered");
	is_int(efd_take(e), 1, "INTx eventfd");
	ok(vfio_sim_intx_masked(t.h), "automasked");
	is_int(vfio_sim_raise(t.h, 0), VFIO_SIM_PENDING, "masked: pending");
	is_int(set_irqs_raw(&t, VFIO_IRQ_SET_DATA_NONE |
			    VFIO_IRQ_SET_ACTION_UNMASK,
			    VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0), 0,
	       "UNMASK");
	is_int(efd_take(e), 1, "asserted line re-sent on unmask");
	ok(vfio_sim_intx_masked(t.h), "...and INTx stays masked");
	set_irqs_raw(&t, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
		     VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0);
	ok(!vfio_sim_intx_masked(t.h), "second UNMASK unmasks");
	set_irqs_raw(&t, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK,
		     VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0);
	ok(vfio_sim_intx_masked(t.h), "MASK masks");
	fd = e;
	is_int(set_irqs_raw(&t, VFIO_IRQ_SET_DATA_EVENTFD |
			    VFIO_IRQ_SET_ACTION_MASK,
			    VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &fd, 4), -ENOTTY,
	       "MASK by eventfd -ENOTTY");
	fd = un;
	is_int(set_irqs_raw(&t, VFIO_IRQ_SET_DATA_EVENTFD |
			    VFIO_IRQ_SET_ACTION_UNMASK,
			    VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &fd, 4), 0,
	       "UNMASK eventfd (resampler)");
	fd = un2;
	is_int(set_irqs_raw(&t, VFIO_IRQ_SET_DATA_EVENTFD |
			    VFIO_IRQ_SET_ACTION_UNMASK,
			    VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &fd, 4), -EBUSY,
	       "a second UNMASK eventfd -EBUSY");
	ok(write(un, &one, 8) == 8 && wait_unmasked(t.h),
	   "signalling the unmask eventfd unmasks");
	is_int(vfio_sim_raise(t.h, 0), VFIO_SIM_DELIVERED, "delivered again");
	efd_take(e);
	is_int(set_efd(&t, VFIO_PCI_MSI_IRQ_INDEX, 0, e), -EINVAL,
	       "MSI while INTx is on -EINVAL");
	is_int(disable_irqs(&t, VFIO_PCI_INTX_IRQ_INDEX), 0, "disable INTx");
	ok(!vfio_sim_intx_enabled(t.h), "INTx off");

	is_int(set_efd(&t, VFIO_PCI_MSI_IRQ_INDEX, 0, e), 0, "enable MSI");
	ok(vfio_sim_msi_enabled(t.h), "MSI on");
	wr32(&t, BAR0 + MBOX_REG_CMD, 0x44);
	is_int(rd32(&t, BAR0 + MBOX_REG_STATUS), MBOX_STATUS_REFUSED,
	       "mailbox wants MSI-X, not MSI");
	is_int(vfio_sim_raise(t.h, 3), VFIO_SIM_DELIVERED,
	       "MSI mode: the one message");
	is_int(efd_take(e), 1, "MSI eventfd");
	is_int(disable_irqs(&t, VFIO_PCI_MSI_IRQ_INDEX), 0, "disable MSI");
	ok(st->intx_enables == 1 && st->intx_disables == 1 &&
	   st->msi_enables == 1 && st->msi_disables == 1, "switch counters");

	/* REQ and ERR triggers */
	is_int(set_efd(&t, VFIO_PCI_REQ_IRQ_INDEX, 0, e), 0, "REQ trigger");
	is_int(vfio_sim_request(t.h), 0, "device request");
	is_int(efd_take(e), 1, "REQ eventfd signalled");
	is_int(set_efds(&t, VFIO_PCI_ERR_IRQ_INDEX, 0, 0, NULL), -EINVAL,
	       "ERR eventfd with count 0 -EINVAL");
	close_all(&t);
	close(e);
	close(un);
	close(un2);
}

static void test_mailbox(void)
{
	int e = mk_efd();
	uint8_t buf[16], *map;
	struct t t;
	int i;

	if (open_all(&t, "mbox-vf,vectors=8")) {
		ok(0, "open sequence");
		return;
	}
	is_int(rd32(&t, BAR0 + MBOX_REG_ID), MBOX_VF_ID, "ID register");
	is_int(rd32(&t, BAR0 + MBOX_REG_VECTORS), 8, "VECTORS register");
	set_efd(&t, VFIO_PCI_MSIX_IRQ_INDEX, 0, -1);
	set_efd(&t, VFIO_PCI_MSIX_IRQ_INDEX, 3, e);
	wr32(&t, BAR0 + MBOX_REG_VECTOR, 3);
	is_int(rd32(&t, BAR0 + MBOX_REG_VECTOR), 3, "VECTOR is RW");
	wr32(&t, BAR0 + MBOX_REG_CMD, 0xabc);
	is_int(rd32(&t, BAR0 + MBOX_REG_STATUS), MBOX_STATUS_DONE, "done");
	is_int(efd_take(e), 1, "completion on MBOX_VECTOR");
	is_int(rd32(&t, BAR0 + MBOX_REG_STAT_OK), 1, "STAT_CMDS_OK");
	wr32(&t, BAR0 + MBOX_REG_DOORBELL, 3);
	is_int(efd_take(e), 1, "doorbell raises the vector written");
	wr32(&t, BAR0 + MBOX_REG_ID, 0);
	is_int(rd32(&t, BAR0 + MBOX_REG_ID), MBOX_VF_ID, "ID is read-only");

	/* The MSI-X table reads as 0xff through read/write, like vfio-pci */
	wr32(&t, BAR0 + MBOX_VF_MSIX_TABLE, 0x12345678);
	is_int(rd32(&t, BAR0 + MBOX_VF_MSIX_TABLE), 0xffffffff,
	       "MSI-X table reads 0xff, writes dropped");
	is_int(t.o->pread(t.h, t.dev, buf, 16, BAR0 + MBOX_VF_MSIX_TABLE -
			  8), 16, "read across the table start");
	ok(buf[7] == 0 && buf[8] == 0xff, "split at the table");
	is_int(t.o->pread(t.h, t.dev, buf, 16, BAR0 + MBOX_VF_BAR0_SIZE - 8),
	       8, "read clipped at the end of the BAR");
	is_int(t.o->pread(t.h, t.dev, buf, 4, BAR0 + MBOX_VF_BAR0_SIZE),
	       -EINVAL, "read past the BAR -EINVAL");

	/* Scratch memory: pread/pwrite and mmap see the same bytes */
	wr32(&t, BAR0 + MBOX_VF_SCRATCH + 0x10, 0xfeedf00d);
	map = t.o->mmap(t.h, MBOX_VF_SCRATCH_SIZE, PROT_READ | PROT_WRITE,
			t.dev, BAR0 + MBOX_VF_SCRATCH);
	ok(map, "mmap of the scratch area");
	if (map) {
		is_int(get_le32(map + 0x10), 0xfeedf00d, "mmap sees pwrite");
		put_le32(map + 0x20, 0xc0ffee);
		is_int(rd32(&t, BAR0 + MBOX_VF_SCRATCH + 0x20), 0xc0ffee,
		       "pread sees the mapping");
		is_int(vfio_sim_stats(t.h)->mmaps, 1, "one live mmap");
		t.o->munmap(t.h, map, MBOX_VF_SCRATCH_SIZE);
		is_int(vfio_sim_stats(t.h)->mmaps, 0, "unmapped");
	}
	errno = 0;
	ok(!t.o->mmap(t.h, 4096, PROT_READ, t.dev, BAR0) && errno == EINVAL,
	   "registers cannot be mmapped (EINVAL)");
	ok(!mmap_ok_table(&t), "MSI-X table not mappable by default");
	ok(!t.o->mmap(t.h, 0x8000, PROT_READ, t.dev, BAR0 + 0x1000),
	   "mmap past the area refused");
	ok(!t.o->mmap(t.h, 4096, PROT_READ, t.dev, CFG),
	   "config cannot be mmapped");

	/* Several vCPU threads at the mailbox */
	for (i = 0; i < 100; i++)
		wr32(&t, BAR0 + MBOX_REG_CMD, (uint32_t)i + 1);
	is_int(rd32(&t, BAR0 + MBOX_REG_STAT_OK), 101, "100 more commands");
	close_all(&t);
	close(e);
}

struct thr {
	struct t *t;
	int n;
};

static void *hammer(void *arg)
{
	struct thr *a = arg;

	for (int i = 0; i < a->n; i++) {
		wr32(a->t, BAR0 + MBOX_REG_CMD, 0x1000 + (uint32_t)i);
		rd32(a->t, BAR0 + MBOX_REG_STATUS);
		vfio_sim_raise(a->t->h, 1);
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t th[4];
	struct thr a;
	int e = mk_efd();
	struct t t;
	uint64_t n;

	if (open_all(&t, "mbox-vf")) {
		ok(0, "open sequence");
		return;
	}
	set_efd(&t, VFIO_PCI_MSIX_IRQ_INDEX, 0, e);
	set_efd(&t, VFIO_PCI_MSIX_IRQ_INDEX, 1, e);
	a = (struct thr){ &t, 500 };
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, hammer, &a);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	is_int(rd32(&t, BAR0 + MBOX_REG_STAT_OK), 2000,
	       "4 threads x 500 commands");
	n = efd_take(e);
	is_int(n, 4000, "every completion and raise delivered");
	is_int(vfio_sim_stats(t.h)->deliveries, 4000, "deliveries counted");
	close_all(&t);
	close(e);
}

static unsigned int cfg_find_cap(struct t *t, uint8_t id)
{
	uint8_t p = (uint8_t)rd32(t, CFG + PCI_CAPABILITY_LIST);
	int guard = 0;

	while (p && guard++ < 48) {
		uint32_t v = rd32(t, CFG + p);

		if ((v & 0xff) == id)
			return p;
		p = (uint8_t)(v >> 8);
	}
	return 0;
}

static void test_config(void)
{
	unsigned int msix, exp;
	uint8_t b[4];
	struct t t;

	if (open_all(&t, "mbox-vf,vectors=32")) {
		ok(0, "open sequence");
		return;
	}
	is_int(rd32(&t, CFG), MBOX_VF_DEVICE << 16 | MBOX_VF_VENDOR,
	       "vendor/device");
	is_int(rd32(&t, CFG + PCI_CLASS_REVISION) >> 8, MBOX_VF_CLASS, "class");
	is_int(rd32(&t, CFG + PCI_BASE_ADDRESS_0), 0xfd000004,
	       "BAR0: physical address, 64-bit memory");
	wr32(&t, CFG + PCI_BASE_ADDRESS_0, 0xffffffff);
	is_int(rd32(&t, CFG + PCI_BASE_ADDRESS_0), 0xfd000004,
	       "BAR write ignored");
	wr32(&t, CFG, 0);
	is_int(rd32(&t, CFG) & 0xffff, MBOX_VF_VENDOR, "IDs read-only");
	wr32(&t, CFG + PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	is_int(rd32(&t, CFG + PCI_COMMAND) & 0xffff,
	       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, "command writable");
	ok(cfg_find_cap(&t, PCI_CAP_ID_PM), "PM capability");
	ok(cfg_find_cap(&t, PCI_CAP_ID_MSI), "MSI capability");
	ok(cfg_find_cap(&t, PCI_CAP_ID_VNDR), "vendor-specific capability");
	msix = cfg_find_cap(&t, PCI_CAP_ID_MSIX);
	ok(msix, "MSI-X capability");
	is_int(rd32(&t, CFG + msix) >> 16 & PCI_MSIX_FLAGS_QSIZE, 31,
	       "MSI-X table size 32");
	is_int(rd32(&t, CFG + msix + PCI_MSIX_TABLE), MBOX_VF_MSIX_TABLE,
	       "table in BAR0 at 0x8000");
	is_int(rd32(&t, CFG + msix + PCI_MSIX_PBA), MBOX_VF_MSIX_PBA,
	       "PBA in BAR0 at 0x10000");
	exp = cfg_find_cap(&t, PCI_CAP_ID_EXP);
	ok(exp && rd32(&t, CFG + exp + PCI_EXP_DEVCAP) & PCI_EXP_DEVCAP_FLR,
	   "PCIe with FLR");
	is_int(rd32(&t, CFG + 0x100) & 0xffff, PCI_EXT_CAP_ID_ARI,
	       "ARI at 0x100");

	/* Enabling MSI-X in config space is virtual: only SET_IRQS counts */
	wr32(&t, CFG + msix, (uint32_t)PCI_MSIX_FLAGS_ENABLE << 16);
	ok(rd32(&t, CFG + msix) >> 16 & PCI_MSIX_FLAGS_ENABLE,
	   "enable bit stored");
	ok(!vfio_sim_msix_enabled(t.h), "...but host MSI-X stays off");
	wr32(&t, BAR0 + MBOX_REG_CMD, 1);
	is_int(rd32(&t, BAR0 + MBOX_REG_STATUS), MBOX_STATUS_REFUSED,
	       "...and the mailbox still refuses");

	is_int(t.o->pread(t.h, t.dev, b, 4, CFG + 4096), -EFAULT,
	       "config read at 4096 -EFAULT");
	is_int(t.o->pread(t.h, t.dev, b, 4, CFG + 4094), -EFAULT,
	       "config read across the end -EFAULT");
	close_all(&t);
}

static void test_reset(void)
{
	const struct vfio_sim_stats *st;
	int e = mk_efd();
	unsigned int exp;
	struct t t;

	if (open_all(&t, "mbox-vf")) {
		ok(0, "open sequence");
		return;
	}
	st = vfio_sim_stats(t.h);
	set_efd(&t, VFIO_PCI_MSIX_IRQ_INDEX, 0, -1);
	set_efd(&t, VFIO_PCI_MSIX_IRQ_INDEX, 2, e);
	wr32(&t, BAR0 + MBOX_REG_VECTOR, 2);
	wr32(&t, BAR0 + MBOX_REG_CMD, 7);
	efd_take(e);
	is_int(t.o->ioctl(t.h, t.dev, VFIO_DEVICE_RESET, NULL), 0,
	       "VFIO_DEVICE_RESET");
	ok(rd32(&t, BAR0 + MBOX_REG_STATUS) == MBOX_STATUS_IDLE &&
	   rd32(&t, BAR0 + MBOX_REG_VECTOR) == 0 &&
	   rd32(&t, BAR0 + MBOX_REG_STAT_OK) == 0, "registers reset");
	ok(vfio_sim_msix_enabled(t.h) && vfio_sim_msix_allocated(t.h) == 2 &&
	   vfio_sim_msix_trigger(t.h, 2) == e, "host IRQ state kept");
	wr32(&t, BAR0 + MBOX_REG_VECTOR, 2);
	wr32(&t, BAR0 + MBOX_REG_CMD, 8);
	is_int(efd_take(e), 1, "mailbox works right after reset");

	exp = cfg_find_cap(&t, PCI_CAP_ID_EXP);
	wr32(&t, CFG + exp + PCI_EXP_DEVCTL, PCI_EXP_DEVCTL_BCR_FLR);
	is_int(rd32(&t, BAR0 + MBOX_REG_STAT_OK), 0, "FLR via DevCtl resets");
	is_int(st->resets, 3, "resets: open, ioctl, FLR");

	/* Closing the device disables host IRQs (vfio_pci_core_disable) */
	t.o->close(t.h, t.dev);
	ok(!vfio_sim_msix_enabled(t.h) && vfio_sim_msix_trigger(t.h, 2) == -1,
	   "device close: host MSI-X off, triggers released");
	close_all(&t);
	close(e);

	if (open_all(&t, "mbox-vf,reset=0")) {
		ok(0, "open sequence");
		return;
	}
	is_int(t.o->ioctl(t.h, t.dev, VFIO_DEVICE_RESET, NULL), -EINVAL,
	       "reset=0: VFIO_DEVICE_RESET -EINVAL");
	close_all(&t);
}

struct hook_ctx {
	struct vfio_host *h;
	int calls, last_ret, outcome;
};

static void hook(void *opaque, const struct vfio_irq_set *s, int ret)
{
	struct hook_ctx *c = opaque;

	c->calls++;
	c->last_ret = ret;
	/* an interrupt inside the disable/re-enable window */
	if (s->count == 0)
		c->outcome = vfio_sim_raise(c->h, 0);
}

static void test_faults_counters(void)
{
	const struct vfio_sim_stats *st;
	struct hook_ctx hc = { 0 };
	struct t t;
	int e;

	if (open_all(&t, "mbox-vf,host=noresize")) {
		ok(0, "open sequence");
		return;
	}
	st = vfio_sim_stats(t.h);
	is_int(st->ops[VFIO_SIM_OP_OPEN], 2, "two opens counted");
	is_int(st->ioctls[vfio_sim_ioc(VFIO_GROUP_GET_DEVICE_FD)], 1,
	       "GET_DEVICE_FD counted");
	is_int(st->open_fds, 3, "three fake fds open");

	vfio_sim_fail(t.h, VFIO_SIM_OP_OPEN, 0, 1, EIO);
	is_int(t.o->open(t.h, "/dev/vfio/vfio", O_RDWR), -EIO,
	       "injected open failure");
	e = t.o->open(t.h, "/dev/vfio/vfio", O_RDWR);
	ok(e >= 0, "next open works");
	t.o->close(t.h, e);

	vfio_sim_fail(t.h, VFIO_SIM_OP_IOCTL, VFIO_DEVICE_SET_IRQS, 2, EINTR);
	is_int(set_efd(&t, VFIO_PCI_MSIX_IRQ_INDEX, 0, -1), 0,
	       "first SET_IRQS passes");
	is_int(t.o->ioctl(t.h, t.dev, VFIO_DEVICE_RESET, NULL), 0,
	       "other ioctls do not match");
	is_int(disable_irqs(&t, VFIO_PCI_MSIX_IRQ_INDEX), -EINTR,
	       "second SET_IRQS fails");
	ok(vfio_sim_msix_enabled(t.h), "...without side effects");
	is_int(st->faults, 2, "faults counted");

	vfio_sim_fail(t.h, VFIO_SIM_OP_EVENTFD, 0, 1, EMFILE);
	is_int(t.o->eventfd(t.h), -EMFILE, "injected eventfd failure");
	e = t.o->eventfd(t.h);
	ok(e >= 0 && e < VFIO_SIM_FD_BASE, "real eventfd");
	vfio_sim_fail(t.h, VFIO_SIM_OP_MMAP, 0, 1, ENOMEM);
	errno = 0;
	ok(!t.o->mmap(t.h, 4096, PROT_READ, t.dev, BAR0 + 0x1000) &&
	   errno == ENOMEM, "injected mmap failure");
	vfio_sim_fail(t.h, VFIO_SIM_OP_READLINK, 0, 1, EACCES);
	is_int(t.o->readlink(t.h, "/sys/bus/pci/devices/0000:00:10.0/driver",
			     (char[8]){ 0 }, 8), -EACCES,
	       "injected readlink failure");

	/* The hook sees each SET_IRQS and can raise inside the window. */
	hc.h = t.h;
	vfio_sim_set_irqs_hook(t.h, hook, &hc);
	disable_irqs(&t, VFIO_PCI_MSIX_IRQ_INDEX);
	is_int(hc.calls, 1, "hook called");
	is_int(hc.last_ret, 0, "hook sees the result");
	is_int(hc.outcome, VFIO_SIM_DROPPED,
	       "interrupt in the re-enable window is lost");
	set_efd(&t, VFIO_PCI_MSIX_IRQ_INDEX, 0, e);
	is_int(hc.calls, 2, "hook called again");
	is_int(st->ioctls[vfio_sim_ioc(VFIO_DEVICE_SET_IRQS)], 4,
	       "SET_IRQS calls counted (incl. the failed one)");
	vfio_sim_set_irqs_hook(t.h, NULL, NULL);

	is_int(t.o->close(t.h, e), 0, "eventfd closes through the host");
	close_all(&t);
}

static void test_leaks(void)
{
	int before = count_fds(), e[3];
	int32_t fds[2];
	struct t t;

	if (open_all(&t, "mbox-vf")) {
		ok(0, "open sequence");
		return;
	}
	for (int i = 0; i < 3; i++)
		e[i] = t.o->eventfd(t.h);
	fds[0] = e[0];
	fds[1] = e[1];
	set_efds(&t, VFIO_PCI_MSIX_IRQ_INDEX, 0, 2, fds);
	set_irqs_raw(&t, VFIO_IRQ_SET_DATA_EVENTFD |
		     VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_REQ_IRQ_INDEX, 0, 1,
		     &e[2], 4);
	/* The host keeps its own references: closing ours is fine. */
	for (int i = 0; i < 3; i++)
		t.o->close(t.h, e[i]);
	is_int(vfio_sim_raise(t.h, 1), VFIO_SIM_DELIVERED,
	       "trigger outlives the user's fd (eventfd_ctx reference)");
	ok(count_fds() > before, "host holds real fds while alive");
	t.o->close(t.h, t.dev);
	t.o->close(t.h, t.group);
	t.o->close(t.h, t.container);
	is_int(vfio_sim_open_fds(t.h), 0, "every fake fd closed");
	close_all(&t);
	is_int(count_fds(), before, "no real fd leaked after destroy");

	/* destroy with everything still open closes it all */
	if (open_all(&t, "mbox-vf,host=noresize") == 0) {
		int u = mk_efd();

		fds[0] = u;
		fds[1] = -1;
		set_efds(&t, VFIO_PCI_MSIX_IRQ_INDEX, 0, 2, fds);
		set_irqs_raw(&t, VFIO_IRQ_SET_DATA_EVENTFD |
			     VFIO_IRQ_SET_ACTION_TRIGGER,
			     VFIO_PCI_MSIX_IRQ_INDEX, 1, 1, &u, 4);
		close(u);
		close_all(&t);
	}
	if (open_all(&t, "mbox-vf") == 0) {
		int u = mk_efd();

		set_efd(&t, VFIO_PCI_INTX_IRQ_INDEX, 0, u);
		set_irqs_raw(&t, VFIO_IRQ_SET_DATA_EVENTFD |
			     VFIO_IRQ_SET_ACTION_UNMASK,
			     VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &u, 4);
		close(u);
		close_all(&t);
	}
	is_int(count_fds(), before, "destroy with fds and threads open");
}

int main(void)
{
	test_spec();
	test_paths();
	test_sequence();
	test_iommu();
	test_regions();
	test_irq_info();
	test_set_irqs_validation();
	test_msix_dynamic();
	test_msix_noresize();
	test_intx_msi();
	test_mailbox();
	test_threads();
	test_config();
	test_reset();
	test_faults_counters();
	test_leaks();
	return tap_done();
}
