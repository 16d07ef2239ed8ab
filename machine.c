// SPDX-License-Identifier: GPL-2.0
/*
 * The PC board: which devices the machine has, where they sit, and what
 * runs around the vCPUs.  machine_build() is the datasheet, in order.
 *
 * Why a top-level file and not x86/pc.c: this is the one file that knows
 * every concrete device (hw/, pci/, virtio/, vfio/, block/) and every
 * front-end (the console, the control socket, gdb).  x86/ holds what the
 * architecture forces (boot protocol, CPUID, tables) and core/ the KVM VM;
 * neither should depend on the devices.  Like main.c, it sits on top.
 *
 * A new device: its own file, an entry in the build list below (one line
 * calling a machine_add_* step), and its option in main.c.  PCI devices
 * register a struct machine_dev_ops, through which they are freed and
 * print their own state for `mvm stat` and `mvm debug`.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/blockdev.h"
#include "core/term.h"
#include "core/util.h"
#include "core/vcpu.h"
#include "debug/gdbstub.h"
#include "debug/timing.h"
#include "guest/embedded_guest.h"
#include "hostroot/hostroot.h"
#include "hw/absent_ports.h"
#include "hw/acpi_pm.h"
#include "hw/debug_exit.h"
#include "hw/i8042.h"
#include "hw/panic_watch.h"
#include "hw/rtc.h"
#include "hw/serial.h"
#include "machine.h"
#include "pci/pci.h"
#include "pci/pvpanic.h"
#include "vfio/vfio_pci.h"
#include "virtio/tap.h"
#include "virtio/virtio.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_net.h"
#include "x86/acpi.h"
#include "x86/boot.h"
#include "x86/layout.h"
#include "x86/mptable.h"
#include "x86/pvm.h"
#include "x86/x86.h"

/* The fixed furniture of a PC, and the console's input thread. */
struct machine_legacy {
	struct i8042 i8042;
	struct rtc rtc;
	struct acpi_pm acpi_pm;
	bool acpi_pm_ready;
	struct debug_exit debug_exit;
	struct term term;
	bool term_started;
	struct panic_watch panic_watch;	/* the UART's output observer */
	struct pvpanic *pvpanic;	/* in devs[] too */
};

/* Opened before /dev/kvm so bad input is refused first; each is handed
 * to its device later (-d images, -n TAPs). */
struct machine_pending {
	struct blockdev *disk_bd[VM_MAX_DISKS];
	struct tap net_tap[VM_MAX_NETS];
	unsigned int nr_net_taps;
	/* --share: which virtiofsd and which daemon it is (its --help, run
	 * while the kernel is read), each started (nr_fsd), then connected
	 * (nr_fsd_connected), until its device takes it. */
	char fsd_bin[PATH_MAX];
	struct virtiofsd_probe fsd_probe;
	struct virtiofsd fsd[VM_MAX_SHARES];
	struct vhost_user fsd_vu[VM_MAX_SHARES];
	unsigned int nr_fsd;
	unsigned int nr_fsd_connected;
	/* Host-root mode: the kernel file, read once to learn its release. */
	uint8_t *kernel;
	size_t kernel_len;
};

void machine_config_init(struct machine_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_size = VM_DEFAULT_MEM;
	cfg->nr_cpus = 1;
	cfg->name = "mvm";
	cfg->console_in_fd = STDIN_FILENO;
	cfg->console_out_fd = STDOUT_FILENO;
	cfg->console_err_fd = STDERR_FILENO;
}

static int machine_add_dev(struct machine *m,
			   const struct machine_dev_ops *ops, void *dev)
{
	if (m->nr_devs == MACHINE_MAX_DEVS) {
		ops->destroy(dev);
		return -ENOSPC;
	}
	m->devs[m->nr_devs++] = (struct machine_dev){ .ops = ops, .dev = dev };
	return 0;
}

/* ---- the devices' board-side operations ---- */

static void pt_free(void *dev)
{
	vfio_pci_free(dev);
}

static void pt_stat(void *dev, FILE *out)
{
	vfio_pci_print_stat(dev, out);
}

static void pt_debug(void *dev, FILE *out)
{
	vfio_pci_print_debug(dev, out);
}

static const struct machine_dev_ops vfio_pci_ops = {
	.destroy = pt_free,
	.print_stat = pt_stat,
	.print_debug = pt_debug,
};

/* A virtio device type: freed by its own destroy, its vectors printed by
 * the transport (raised counts are the device model's own). */
#define MACHINE_VIRTIO_OPS(type)					\
static void type##_free(void *dev)					\
{									\
	type##_destroy(dev);						\
}									\
static void type##_stat(void *dev, FILE *out)				\
{									\
	virtio_dev_print_stat(type##_dev(dev), out);			\
}									\
static const struct machine_dev_ops type##_ops = {			\
	.destroy = type##_free,						\
	.print_stat = type##_stat,					\
}

static void pvpanic_free(void *dev)
{
	pvpanic_destroy(dev);
}

static void pvpanic_stat(void *dev, FILE *out)
{
	pvpanic_print_stat(dev, out);
}

static const struct machine_dev_ops pvpanic_ops = {
	.destroy = pvpanic_free,
	.print_stat = pvpanic_stat,
};

MACHINE_VIRTIO_OPS(virtio_rng);
MACHINE_VIRTIO_OPS(virtio_console);
MACHINE_VIRTIO_OPS(virtio_blk);
MACHINE_VIRTIO_OPS(virtio_net);
MACHINE_VIRTIO_OPS(virtio_fs);

/* ---- the steps of machine_build(), in the order they run ---- */

static int build_cmdline(const struct machine_config *cfg, char **out)
{
	const char *p = cfg->params ? cfg->params : "";
	const char *compat = cfg->pvm_compat ? PVM_COMPAT_CMDLINE : "";
	const char *hr = cfg->hostroot ? hostroot_cmdline(&cfg->hostroot_cfg)
				       : "";
	size_t len = strlen(VM_DEFAULT_CMDLINE) + 1 + strlen(hr) + 1 +
		     strlen(compat) + 1 + strlen(p) + 1;

	*out = malloc(len);
	if (!*out)
		return -ENOMEM;
	/* The user's -p last: Linux lets a later option win. */
	snprintf(*out, len, "%s%s%s%s%s%s%s", VM_DEFAULT_CMDLINE,
		 *hr ? " " : "", hr, *compat ? " " : "", compat,
		 *p ? " " : "", p);
	if (*compat && cfg->kernel)
		pr_info("--pvm-compat: appending '%s' to the kernel command line",
			compat);
	return 0;
}

/*
 * Host-root mode: mvm's own initramfs (hostroot/).  A kernel without a
 * Linux version (mkbzimage's test guests) boots as before unless the mode
 * was asked for by name (a command, --modules, --modprobe).
 */
static int machine_hostroot_initramfs(struct machine *m,
				      const struct boot_image *k,
				      struct boot_image *initrd)
{
	struct hostroot_config *hc = &m->cfg.hostroot_cfg;
	uint8_t *buf;
	size_t len;
	int err;

	/* The host's / is the share machine_plan_hostroot() added (the test
	 * seam MVM_HOSTROOT_TEST_ROOT: a folder copied into the initramfs,
	 * which then stays the root). */
	hc->root_tag = HOSTROOT_ROOT_TAG;
	err = hostroot_initramfs_build(hc, k->data, k->len, k->label, &buf,
				       &len);
	if (err)
		return err;
	*initrd = (struct boot_image){ buf, len, "generated initramfs" };
	return 0;
}

/*
 * Host-root mode is decided before guest RAM is allocated: the host's /
 * is a virtio-fs share (shared RAM, a virtiofsd), read-only, with the
 * guest's writes going to a tmpfs overlay; every --share is mounted at
 * its host path over it.  A kernel without a Linux release (mkbzimage's
 * test guests) boots as before unless the mode was asked for by name (a
 * command, --modules, --modprobe).
 */
static int machine_plan_hostroot(struct machine *m)
{
	struct machine_config *cfg = &m->cfg;
	struct hostroot_config *hc = &cfg->hostroot_cfg;
	struct machine_pending *p = m->pending;
	struct virtio_fs_spec *root;
	char kver[HOSTROOT_KVER_MAX];
	unsigned int i;
	int err;

	if (!cfg->hostroot || cfg->initrd || !cfg->kernel)
		return 0;
	err = read_file(cfg->kernel, &p->kernel, &p->kernel_len);
	if (err) {
		pr_errno(-err, "%s: cannot read kernel", cfg->kernel);
		return err;
	}
	if (hostroot_kernel_version(p->kernel, p->kernel_len, kver)) {
		if (!hc->argv && !hc->modules_dir && !hc->nr_modprobe) {
			cfg->hostroot = false;
			return 0;
		}
		pr_err("%s: not a Linux kernel (no release in its header): mvm's init needs one; pass -i INITRD to boot it with your own",
		       cfg->kernel);
		return -EINVAL;
	}
	if (getenv("MVM_HOSTROOT_TEST_ROOT"))
		return 0;
	if (cfg->nr_shares >= VM_MAX_SHARES ||
	    cfg->nr_shares >= HOSTROOT_MAX_MOUNTS) {
		pr_err("--share: at most %d shares in host-root mode (the host's / takes one)",
		       VM_MAX_SHARES - 1);
		return -EINVAL;
	}
	for (i = 0; i < cfg->nr_shares; i++) {
		const struct virtio_fs_spec *s = &cfg->shares[i];

		if (!strcmp(s->tag, HOSTROOT_ROOT_TAG)) {
			pr_err("--share %s: tag '%s' is the host's / in host-root mode (give the share another tag=NAME)",
			       s->dir, s->tag);
			return -EINVAL;
		}
		hc->mounts[hc->nr_mounts++] = (struct hostroot_mount){
			.tag = s->tag, .path = s->dir, .ro = s->ro,
		};
	}
	root = &cfg->shares[cfg->nr_shares++];
	memset(root, 0, sizeof(*root));
	strcpy(root->dir, "/");
	strcpy(root->tag, HOSTROOT_ROOT_TAG);
	root->ro = true;
	return 0;
}

static int machine_load_kernel(struct machine *m)
{
	const struct machine_config *cfg = &m->cfg;
	/* The RSDP's place is fixed, so the kernel can be loaded (and a bad
	 * image refused) before KVM is even opened. */
	struct boot_config bc = { .rsdp_gpa = ACPI_TABLES_ADDR };
	struct boot_entry entry;
	uint8_t *kbuf = NULL, *ibuf = NULL;
	size_t klen = 0, ilen = 0;
	char *cmdline = NULL;
	int err;

	if (m->pending->kernel) {		/* read by machine_plan_hostroot() */
		bc.kernel = (struct boot_image){
			m->pending->kernel, m->pending->kernel_len, cfg->kernel,
		};
	} else if (cfg->kernel) {
		err = read_file(cfg->kernel, &kbuf, &klen);
		if (err) {
			pr_errno(-err, "%s: cannot read kernel", cfg->kernel);
			return err;
		}
		bc.kernel = (struct boot_image){ kbuf, klen, cfg->kernel };
	} else if (cfg->kernel_image) {
		bc.kernel = (struct boot_image){
			cfg->kernel_image, cfg->kernel_image_len,
			cfg->kernel_label ? cfg->kernel_label : "kernel image",
		};
	} else {
		bc.kernel = (struct boot_image){
			embedded_guest_start,
			(size_t)(embedded_guest_end - embedded_guest_start),
			"embedded guest",
		};
	}
	if (cfg->hostroot && !cfg->initrd) {
		err = machine_hostroot_initramfs(m, &bc.kernel, &bc.initrd);
		ibuf = (uint8_t *)bc.initrd.data;
		if (err)
			goto out;
	} else if (cfg->initrd) {
		err = read_file(cfg->initrd, &ibuf, &ilen);
		if (err) {
			pr_errno(-err, "%s: cannot read initrd", cfg->initrd);
			goto out;
		}
		bc.initrd = (struct boot_image){ ibuf, ilen, cfg->initrd };
	}
	err = build_cmdline(cfg, &cmdline);
	if (err)
		goto out;
	bc.cmdline = cmdline;
	bc.guest_decompress = cfg->guest_decompress;
	err = x86_boot_load(&m->vm.mem, &bc, &entry);
	if (err)
		goto out;
	m->entry_rip = entry.rip;
	m->entry_rsi = entry.rsi;
	err = x86_boot_tables_write(&m->vm.mem);
out:
	free(kbuf);
	free(ibuf);
	free(cmdline);
	free(m->pending->kernel);	/* machine_plan_hostroot()'s copy */
	m->pending->kernel = NULL;
	return err;
}

/*
 * Open every -d image (needs no KVM): a missing, locked or corrupt image
 * is refused with blockdev_open()'s one line before /dev/kvm is opened.
 */
static int machine_open_disks(struct machine *m)
{
	unsigned int i;
	int err;

	for (i = 0; i < m->cfg.nr_disks && i < VM_MAX_DISKS; i++) {
		err = blockdev_open(m->cfg.disks[i], &m->pending->disk_bd[i]);
		if (err)
			return err;
	}
	return 0;
}

/*
 * virtio-net: attach every -n TAP (needs no KVM), so a TAP that cannot
 * be opened is refused with tap_open()'s one line before /dev/kvm is.
 */
static int machine_open_taps(struct machine *m)
{
	struct machine_pending *p = m->pending;
	int err;

	while (p->nr_net_taps < m->cfg.nr_nets &&
	       p->nr_net_taps < VM_MAX_NETS) {
		err = tap_open(&p->net_tap[p->nr_net_taps],
			       m->cfg.nets[p->nr_net_taps].tap);
		if (err)
			return err;
		p->nr_net_taps++;
	}
	return 0;
}

/* Guest RAM; a memfd mapped shared when a vhost-user back-end maps it. */
static int machine_alloc_ram(struct machine *m)
{
	unsigned int flags = 0;

	if (m->cfg.nr_shares)
		flags |= GUEST_MEM_SHARED;
	if (m->cfg.hugepages)
		flags |= GUEST_MEM_HUGETLB;
	if (m->cfg.mem_prealloc)
		flags |= GUEST_MEM_PREALLOC;
	if (m->cfg.mem_overcommit)
		flags |= GUEST_MEM_OVERCOMMIT;
	return vm_memory_alloc(&m->vm, m->cfg.mem_size, flags);
}

/* Will host-root mode need the host's / shared?  From the kernel's
 * header, before the whole file is read (a bzImage says its release in
 * its first KiBs; for an ELF vmlinux this says no, which only costs the
 * head start below). */
static bool hostroot_needs_share(const struct machine_config *cfg)
{
	char kver[HOSTROOT_KVER_MAX];
	uint8_t head[64 * 1024];
	ssize_t n = -1;
	int fd;

	if (!cfg->hostroot || cfg->initrd || !cfg->kernel ||
	    getenv("MVM_HOSTROOT_TEST_ROOT"))
		return false;
	fd = open(cfg->kernel, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = pread(fd, head, sizeof(head), 0);
		close(fd);
	}
	return n > 0 && !hostroot_kernel_version(head, (size_t)n, kver);
}

/*
 * --share, or host-root mode's /: find virtiofsd and ask it which
 * daemon it is (`virtiofsd --help`) in the background while the kernel
 * is read.  Nothing is said when there is none: that is refused later,
 * in the order bad input has always been refused.
 */
static void machine_probe_virtiofsd(struct machine *m)
{
	struct machine_pending *p = m->pending;

	if ((!m->cfg.nr_shares && !hostroot_needs_share(&m->cfg)) ||
	    virtiofsd_find(m->cfg.virtiofsd, NULL, p->fsd_bin,
			   sizeof(p->fsd_bin))) {
		p->fsd_bin[0] = '\0';
		return;
	}
	virtiofsd_probe_start(&p->fsd_probe, p->fsd_bin);
}

/*
 * Start every virtiofsd now, so that they start up while mvm loads the
 * kernel and builds the initramfs; machine_connect_virtiofsds() does
 * the handshakes.
 */
static int machine_spawn_virtiofsds(struct machine *m)
{
	struct machine_pending *p = m->pending;
	bool rust;
	int err;

	if (!m->cfg.nr_shares) {
		virtiofsd_probe_cancel(&p->fsd_probe);	/* not needed */
		return 0;
	}
	if (!p->fsd_bin[0] &&
	    virtiofsd_find(m->cfg.virtiofsd, NULL, p->fsd_bin,
			   sizeof(p->fsd_bin))) {
		p->fsd_bin[0] = '\0';
		return 0;
	}
	if (p->fsd_probe.fd < 0)	/* not asked yet */
		virtiofsd_probe_start(&p->fsd_probe, p->fsd_bin);
	rust = virtiofsd_probe_rust(&p->fsd_probe);
	while (p->nr_fsd < m->cfg.nr_shares && p->nr_fsd < VM_MAX_SHARES) {
		err = virtiofsd_spawn(&p->fsd[p->nr_fsd], p->fsd_bin, rust,
				      &m->cfg.shares[p->nr_fsd],
				      &p->fsd_vu[p->nr_fsd]);
		if (err)
			return err;
		p->nr_fsd++;
	}
	return 0;
}

/*
 * --share: connect to every virtiofsd and do the vhost-user handshake
 * (needs no KVM), so a missing or failing virtiofsd is refused before
 * /dev/kvm is opened.
 */
static int machine_connect_virtiofsds(struct machine *m)
{
	struct machine_pending *p = m->pending;
	int err;

	if (m->cfg.nr_shares && !p->fsd_bin[0]) {
		char what[PATH_MAX + 16];

		/* The first share names the need: the user's, or the host's /. */
		if (m->cfg.hostroot && m->cfg.nr_shares == 1)
			snprintf(what, sizeof(what),
				 "host-root mode (the host's / over virtio-fs; or pass -i INITRD)");
		else
			snprintf(what, sizeof(what), "--share '%s'",
				 m->cfg.shares[0].dir);
		if (virtiofsd_find(m->cfg.virtiofsd, what, p->fsd_bin,
				   sizeof(p->fsd_bin)))
			return -ENOENT;
		err = machine_spawn_virtiofsds(m);	/* there now */
		if (err)
			return err;
	}
	while (p->nr_fsd_connected < p->nr_fsd) {
		unsigned int i = p->nr_fsd_connected;

		err = virtiofsd_connect(&p->fsd[i], p->fsd_bin,
					&m->cfg.shares[i], &p->fsd_vu[i]);
		if (err)
			return err;
		p->nr_fsd_connected++;
	}
	return 0;
}

/* Open every --passthrough device; needs only guest RAM (for DMA). */
static int machine_open_passthrough(struct machine *m)
{
	unsigned int i;
	int err;

	m->devctx.mem = &m->vm.mem;
	for (i = 0; i < m->cfg.nr_passthrough; i++) {
		struct vfio_pci *vd = vfio_pci_create(&m->devctx,
						      m->cfg.passthrough[i]);

		if (!vd)
			return -EINVAL;
		err = machine_add_dev(m, &vfio_pci_ops, vd);
		if (err)
			return err;
		m->passthrough[m->nr_passthrough++] = vd;
	}
	return 0;
}

/* UART, i8042, RTC, ACPI PM, debug-exit, and the ports nobody decodes. */
static int machine_add_legacy(struct machine *m)
{
	struct machine_legacy *d = m->legacy;
	struct vm *vm = &m->vm;
	int err;

	/* Host-root mode: the kernel's log goes with the command's stderr. */
	m->serial = serial_create(&vm->pio, SERIAL0_PORT,
				  vm->isa_irq[SERIAL0_IRQ],
				  m->cfg.hostroot ? m->cfg.console_err_fd
						  : m->cfg.console_out_fd);
	if (!m->serial)
		return -ENOMEM;
	err = i8042_init(&d->i8042, &vm->pio, vm_exit_line(vm));
	if (!err)
		err = rtc_init(&d->rtc, &vm->pio);
	if (!err)
		err = acpi_pm_init(&d->acpi_pm, &vm->pio,
				   vm->isa_irq[ACPI_SCI_IRQ], vm_exit_line(vm));
	d->acpi_pm_ready = !err;
	if (!err && (m->cfg.debug_exit || m->cfg.hostroot)) /* the status */
		err = debug_exit_init(&d->debug_exit, &vm->pio,
				      vm_exit_line(vm));
	if (!err)
		err = absent_ports_init(&vm->pio);
	if (err)
		return err;
	rtc_set_mem_size(&d->rtc, vm->mem.low_size, vm->mem.high_size);
	return 0;
}

int machine_add_pci(struct machine *m)
{
	struct vm *vm = &m->vm;
	/* Above RAM and never below 4 GiB (the hole holds the 32-bit window,
	 * ECAM and the APICs). */
	uint64_t base = ALIGN_UP(MAX(guest_mem_top(&vm->mem), HIGH_RAM_START),
				 PCI_MMIO64_ALIGN);

	m->pci = calloc(1, sizeof(*m->pci));
	if (!m->pci)
		return -ENOMEM;
	m->mmio64_base = base;
	m->mmio64_size = PCI_MMIO64_SIZE;
	pci_bus_init(m->pci, &vm->pio, &vm->mmio, base, PCI_MMIO64_SIZE);
	pci_bus_reserve(m->pci, 0, vm->mem.low_size, "guest RAM");
	pci_bus_reserve(m->pci, HIGH_RAM_START, vm->mem.high_size,
			"guest RAM above 4 GiB");
	pci_bus_reserve(m->pci, IOAPIC_ADDR, IOAPIC_SIZE, "the IOAPIC");
	pci_bus_reserve(m->pci, LAPIC_ADDR, LAPIC_SIZE, "the local APIC");
	m->pci->irq_set = vm_irq_line;
	m->pci->irq_opaque = vm;
	m->devctx = (struct device_ctx){
		.pio = &vm->pio, .mmio = &vm->mmio, .pci = m->pci,
		.router = &vm->router, .loop = &vm->loop, .mem = &vm->mem,
		.slots = &vm_memslot_ops, .slots_opaque = vm,
		.ioeventfd = &vm_ioeventfd_ops, .ioeventfd_opaque = vm,
	};
	return 0;
}

/* Put the opened --passthrough functions on the PCI bus. */
static int machine_add_passthrough(struct machine *m)
{
	unsigned int i;
	int err;

	for (i = 0; i < m->nr_passthrough; i++) {
		err = vfio_pci_realize(m->passthrough[i]);
		if (err)
			return err;
	}
	return 0;
}

static int machine_add_virtio_rng(struct machine *m)
{
	struct virtio_rng *rng;
	int err;

	if (!m->cfg.virtio_rng)
		return 0;
	err = virtio_rng_create(&m->devctx, &rng);
	return err ? err : machine_add_dev(m, &virtio_rng_ops, rng);
}

static int machine_add_virtio_console(struct machine *m)
{
	int err;

	if (!m->cfg.virtio_console)
		return 0;
	if (m->cfg.hostroot) {
		pr_warn("--console virtio: host-root mode has its own (hvc0, hvc1); ignored");
		return 0;
	}
	err = virtio_console_create(&m->devctx, m->cfg.console_out_fd,
				    &m->virtio_console);
	return err ? err : machine_add_dev(m, &virtio_console_ops,
					   m->virtio_console);
}

/* Host-root mode: the command's stdout on hvc0 (which also takes the
 * input), its stderr on hvc1; PCI order makes them hvc0 and hvc1. */
static int machine_add_hostroot_consoles(struct machine *m)
{
	struct virtio_console *err_con;
	int err;

	if (!m->cfg.hostroot)
		return 0;
	err = virtio_console_create(&m->devctx, m->cfg.console_out_fd,
				    &m->virtio_console);
	if (!err)
		err = machine_add_dev(m, &virtio_console_ops,
				      m->virtio_console);
	if (!err)
		err = virtio_console_create(&m->devctx, m->cfg.console_err_fd,
					    &err_con);
	return err ? err : machine_add_dev(m, &virtio_console_ops, err_con);
}

/* virtio-blk: /dev/vda, vdb... in -d order; each takes its image. */
static int machine_add_virtio_blks(struct machine *m)
{
	unsigned int i;
	int err;

	for (i = 0; i < VM_MAX_DISKS && m->pending->disk_bd[i]; i++) {
		struct blockdev *bd = m->pending->disk_bd[i];
		struct virtio_blk *blk;

		m->pending->disk_bd[i] = NULL;
		err = virtio_blk_create(&m->devctx, bd, i, &blk);
		if (!err)
			err = machine_add_dev(m, &virtio_blk_ops, blk);
		if (err)
			return err;
	}
	return 0;
}

/* virtio-net: one per -n, in order; each takes its TAP. */
static int machine_add_virtio_nets(struct machine *m)
{
	unsigned int i;
	int err;

	for (i = 0; i < m->pending->nr_net_taps; i++) {
		const struct virtio_net_spec *ns = &m->cfg.nets[i];
		struct virtio_net *net;

		err = virtio_net_create_tap(&m->devctx,
					    &m->pending->net_tap[i],
					    ns->has_mac ? ns->mac : NULL, &net);
		if (!err)
			err = machine_add_dev(m, &virtio_net_ops, net);
		if (err)
			return err;
	}
	return 0;
}

/* The UART's output: panic lines, and --timing's console points. */
static void watch_console(void *opaque, const uint8_t *buf, size_t len)
{
	panic_watch_feed(opaque, buf, len);
	timing_console(buf, len);
}

/*
 * Guest panics, both ways (docs/behaviour.md): pvpanic-pci, always there
 * (last on the bus, so the other functions keep their slots), since a
 * panic must never pass for success and a guest without the driver never
 * touches it; and the panic line on the serial console, for kernels
 * without the driver.
 */
static int machine_add_panic_report(struct machine *m)
{
	struct machine_legacy *d = m->legacy;
	int err;

	panic_watch_init(&d->panic_watch);
	serial_set_output_observer(m->serial, watch_console, &d->panic_watch);
	err = pvpanic_create(&m->devctx, vm_exit_line(&m->vm), &d->pvpanic);
	return err ? err : machine_add_dev(m, &pvpanic_ops, d->pvpanic);
}

/* virtio-fs: one per --share, in order; each takes its virtiofsd. */
static int machine_add_virtio_fss(struct machine *m)
{
	struct machine_pending *p = m->pending;
	unsigned int i;
	int err;

	for (i = 0; i < p->nr_fsd; i++) {
		struct virtio_fs *fs;

		if (!p->fsd[i].pid)
			continue;	/* taken */
		err = virtio_fs_create(&m->devctx, &m->cfg.shares[i],
				       &p->fsd[i], &p->fsd_vu[i], &fs);
		if (!err)
			err = machine_add_dev(m, &virtio_fs_ops, fs);
		if (err)
			return err;
	}
	return 0;
}

static int machine_firmware_tables(struct machine *m)
{
	struct acpi_machine am = {
		.nr_cpus = m->cfg.nr_cpus,
		.mmio64_base = m->mmio64_base,
		.mmio64_size = m->mmio64_size,
	};
	int err;

	err = mptable_build(&m->vm.mem, m->cfg.nr_cpus);
	if (err) {
		pr_errno(-err, "cannot build the MP table");
		return err;
	}
	err = acpi_tables_build(&m->vm.mem, &am, &m->rsdp_gpa);
	if (err)
		pr_errno(-err, "cannot build the ACPI tables");
	else if (m->rsdp_gpa != ACPI_TABLES_ADDR)
		err = -EINVAL;	/* the zero page already points there */
	return err;
}

/* vCPUs with CPUID and LAPIC set; the BSP with the loader's entry state. */
static int machine_add_cpus(struct machine *m)
{
	struct vm *vm = &m->vm;
	struct kvm_cpuid2 *cpuid;
	unsigned int i;
	int err;

	err = vm_vcpus_create(vm, m->cfg.nr_cpus);
	if (err)
		return err;
	cpuid = cpuid_get_supported(vm->kvm_fd);
	if (!cpuid)
		return -ENOMEM;
	for (i = 0; i < vm->nr_cpus && !err; i++) {
		err = cpuid_set(vm->vcpus[i].fd, cpuid, i, vm->nr_cpus,
				m->cfg.pvm_compat);
		if (!err)
			err = x86_lapic_setup(vm->vcpus[i].fd);
	}
	free(cpuid);
	if (err)
		return err;
	/* Only the BSP gets boot state; APs wait for INIT/SIPI in KVM. */
	return x86_boot_vcpu_setup(vm->vcpus[0].fd, m->entry_rip,
				   m->entry_rsi);
}

int machine_build(struct machine *m, const struct machine_config *cfg)
{
	struct vm *vm = &m->vm;
	int err;

	memset(m, 0, sizeof(*m));
	vm_init(vm);
	m->cfg = *cfg;
	vm->pvm_compat = cfg->pvm_compat;
	vm->host_pvm = cfg->host_pvm;
	m->legacy = calloc(1, sizeof(*m->legacy));
	m->pending = calloc(1, sizeof(*m->pending));
	if (!m->legacy || !m->pending) {
		err = -ENOMEM;
		goto fail;
	}
	m->pending->fsd_probe.fd = -1;
	if (cfg->nr_cpus < 1 || cfg->nr_cpus > VM_MAX_CPUS) {
		pr_err("--cpus %u: must be between 1 and %d", cfg->nr_cpus,
		       VM_MAX_CPUS);
		err = -EINVAL;
		goto fail;
	}
	/* First what needs no KVM, so bad input is refused before anything
	 * touches /dev/kvm. */
	machine_probe_virtiofsd(m);	/* --share: which virtiofsd */
	err = machine_plan_hostroot(m);	/* -k alone: the host's / */
	if (!err)
		err = machine_spawn_virtiofsds(m); /* --share: start them */
	if (!err)
		err = machine_alloc_ram(m);	/* RAM, PCI hole */
	if (!err)
		err = machine_load_kernel(m);	/* bzImage/ELF, initrd, cmdline */
	if (!err)
		err = machine_open_disks(m);	/* -d images: checks, locks */
	if (!err)
		err = machine_open_taps(m);	/* -n TAPs: virtio-net */
	if (!err)
		err = machine_connect_virtiofsds(m); /* --share: handshake */
	if (!err)
		err = machine_open_passthrough(m); /* VFIO: checks, DMA map */
	if (!err)
		err = vm_kvm_open(vm, cfg->nr_cpus); /* API, capabilities */
	if (!err)
		err = vm_create(vm);		/* the VM, RAM in its slots */
	if (!err)
		err = vm_irqchip_init(vm);	/* PIC, IOAPIC, LAPICs, PIT */
	if (!err)
		err = vm_router_init(vm);	/* GSI routes, event loop */
	if (!err)
		err = machine_add_legacy(m);	/* UART, i8042, RTC, ACPI PM */
	if (!err)
		err = machine_add_pci(m);	/* host bridge, cf8/cfc, ECAM */
	if (!err)
		err = machine_add_hostroot_consoles(m); /* hvc0, hvc1 */
	if (!err)
		err = machine_add_passthrough(m); /* VFIO functions */
	if (!err)
		err = machine_add_virtio_rng(m);	/* --rng */
	if (!err)
		err = machine_add_virtio_console(m);	/* --console virtio */
	if (!err)
		err = machine_add_virtio_blks(m);	/* -d */
	if (!err)
		err = machine_add_virtio_nets(m);	/* -n */
	if (!err)
		err = machine_add_virtio_fss(m);	/* --share */
	if (!err)
		err = machine_add_panic_report(m); /* pvpanic, panic line */
	if (!err)
		err = machine_firmware_tables(m); /* MP table, ACPI */
	if (!err)
		err = machine_add_cpus(m);	/* vCPUs, CPUID, boot state */
	if (!err)
		return 0;
fail:
	machine_destroy(m);
	return err;
}

/* ---- the control socket: `mvm stop|pause|resume|debug|stat NAME` ---- */

static int ctl_pause(void *opaque)
{
	struct machine *m = opaque;
	int err = vm_hold(&m->vm, VM_HOLD_PAUSE);

	if (!err)
		pr_info("paused by 'mvm pause'");
	return err;
}

static int ctl_resume(void *opaque)
{
	struct machine *m = opaque;
	int err = vm_release(&m->vm, VM_HOLD_PAUSE, -1);

	if (!err)
		pr_info("resumed by 'mvm resume'");
	return err;
}

static int ctl_stop(void *opaque)
{
	struct machine *m = opaque;

	pr_info("stopped by 'mvm stop'");
	vm_request_exit(&m->vm, VM_EXIT_POWEROFF, 0);
	return 0;
}

static void ctl_stat(void *opaque, FILE *out)
{
	machine_stat(opaque, out);
}

static void ctl_debug(void *opaque, FILE *out)
{
	machine_debug(opaque, out);
}

static const struct control_ops machine_control_ops = {
	.stop = ctl_stop,
	.pause = ctl_pause,
	.resume = ctl_resume,
	.debug = ctl_debug,
	.stat = ctl_stat,
};

void machine_stat(struct machine *m, FILE *out)
{
	unsigned int i;

	vm_print_stat(&m->vm, out);
	for (i = 0; i < m->nr_devs; i++)
		if (m->devs[i].ops->print_stat)
			m->devs[i].ops->print_stat(m->devs[i].dev, out);
}

void machine_debug(struct machine *m, FILE *out)
{
	unsigned int i;

	fprintf(out, "name %s\nvcpus %u\nmemory %llu MiB\n", m->cfg.name,
		m->vm.nr_cpus, (unsigned long long)(m->cfg.mem_size >> 20));
	vm_print_debug(&m->vm, out);
	for (i = 0; i < m->nr_devs; i++)
		if (m->devs[i].ops->print_debug)
			m->devs[i].ops->print_debug(m->devs[i].dev, out);
}

/*
 * A guest kernel panic ends mvm with MVM_EXIT_PANIC: reported through
 * pvpanic, or seen on the console (or a kdump start reported) before the
 * guest reset the machine (panic=-1 reboot=k).
 */
static bool machine_panicked(struct machine *m)
{
	struct machine_legacy *d = m->legacy;
	int why = atomic_load(&m->vm.exit_reason);

	return why == VM_EXIT_PANIC ||
	       (why == VM_EXIT_REBOOT &&
		(panic_watch_line(&d->panic_watch) ||
		 pvpanic_events_seen(d->pvpanic) & PVPANIC_CRASH_LOADED));
}

/* ---- the front-ends around the vCPUs ---- */

static int frontends_start(void *opaque)
{
	struct machine *m = opaque;
	struct machine_legacy *d = m->legacy;
	struct term_port port;
	int err;

	/* A name in use refuses the VM before any vCPU runs. */
	if (m->cfg.control &&
	    control_start(&m->control, m->cfg.name, &machine_control_ops, m))
		return -1;
	/* The debugger's stub, before any vCPU runs (--gdb-wait holds them). */
	if (m->cfg.gdb &&
	    gdb_kvm_start(&m->vm, m->cfg.gdb, m->cfg.gdb_wait, &m->gdb))
		vm_request_exit(&m->vm, VM_EXIT_ERROR, 1);
	if (m->cfg.console_in_fd < 0 || (m->cfg.hostroot &&
	    !hostroot_forwards_stdin(&m->cfg.hostroot_cfg)))
		return 0;
	if (m->virtio_console)
		port = (struct term_port){
			.receive = virtio_console_receive,
			.set_rx_notify = virtio_console_set_rx_notify,
			.opaque = m->virtio_console,
		};
	else
		port = serial_term_port(m->serial);
	err = term_start(&d->term, &port, vm_exit_line(&m->vm),
			 m->cfg.console_in_fd);
	d->term_started = err == 0;
	return 0;
}

static void frontends_exiting(void *opaque, int status)
{
	struct machine *m = opaque;

	gdb_kvm_vm_exiting(m->gdb, machine_panicked(m) ? MVM_EXIT_PANIC :
			   status);
}

static void frontends_stop(void *opaque)
{
	struct machine *m = opaque;
	struct machine_legacy *d = m->legacy;

	gdb_kvm_destroy(m->gdb);
	m->gdb = NULL;
	if (d->term_started)
		term_stop(&d->term);
	d->term_started = false;
	/* Callbacks look at vCPUs and devices: stop before they go. */
	control_stop(&m->control);
}

/* Say how the VM ended where the status alone would not tell. */
static int machine_exit_status(struct machine *m, int status)
{
	const char *line = panic_watch_line(&m->legacy->panic_watch);

	if (!machine_panicked(m)) {
		/* Status 0 either way: say it was a reset, not a poweroff. */
		if (atomic_load(&m->vm.exit_reason) == VM_EXIT_REBOOT)
			pr_info("the guest reset the machine (reboot); mvm exits");
		return status;
	}
	if (line)
		pr_err("the guest kernel panicked: %s", line);
	else
		pr_err("the guest kernel panicked (reported by pvpanic; no panic line on the serial console)");
	if (atomic_load(&m->vm.exit_reason) == VM_EXIT_REBOOT)
		pr_info("the guest reset the machine after the panic; mvm exits with %d",
			MVM_EXIT_PANIC);
	return MVM_EXIT_PANIC;
}

int machine_run(struct machine *m)
{
	const struct vm_frontends fe = {
		.start = frontends_start,
		.exiting = frontends_exiting,
		.stop = frontends_stop,
		.opaque = m,
	};

	return machine_exit_status(m, vm_run(&m->vm, &fe));
}

void machine_destroy(struct machine *m)
{
	struct machine_pending *p = m->pending;
	struct machine_legacy *d = m->legacy;
	unsigned int i;

	control_stop(&m->control);	/* harmless if never started */
	/* The event loop first (no callback may run into a device being
	 * freed), then the devices (they use the router and PCI bus). */
	vm_stop_loop(&m->vm);
	while (m->nr_devs) {
		struct machine_dev *dev = &m->devs[--m->nr_devs];

		dev->ops->destroy(dev->dev);
	}
	m->nr_passthrough = 0;
	if (p) {
		for (i = 0; i < p->nr_net_taps; i++)
			tap_close(&p->net_tap[i]);
		virtiofsd_probe_cancel(&p->fsd_probe);
		for (i = 0; i < p->nr_fsd; i++) {
			/* Not talked to yet: another step failed first. */
			p->fsd[i].quiet = i >= p->nr_fsd_connected;
			virtiofsd_stop(&p->fsd[i], &p->fsd_vu[i]);
		}
		for (i = 0; i < VM_MAX_DISKS; i++)
			blockdev_close(p->disk_bd[i]);
		free(p->kernel);
		free(p);
		m->pending = NULL;
	}
	if (m->serial)
		serial_destroy(m->serial, &m->vm.pio);
	m->serial = NULL;
	if (m->pci) {
		pci_bus_destroy(m->pci);
		free(m->pci);
		m->pci = NULL;
	}
	if (d && d->acpi_pm_ready)
		acpi_pm_destroy(&d->acpi_pm);
	free(d);
	m->legacy = NULL;
	vm_destroy(&m->vm);
}
