// SPDX-License-Identifier: GPL-2.0
/*
 * Building and running one VM.  vm_build() is the machine's datasheet: the
 * ordered list of everything the machine has, each step undone by
 * vm_destroy() if a later one fails.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "hw/absent_ports.h"
#include "x86/acpi.h"
#include "hw/acpi_pm.h"
#include "block/blockdev.h"
#include "x86/boot.h"
#include "core/term.h"
#include "guest/embedded_guest.h"
#include "debug/gdbstub.h"
#include "hw/i8042.h"
#include "hw/debug_exit.h"
#include "x86/layout.h"
#include "x86/mptable.h"
#include "pci/pci.h"
#include "x86/pvm.h"
#include "hw/rtc.h"
#include "hw/serial.h"
#include "virtio/tap.h"
#include "core/util.h"
#include "core/vcpu.h"
#include "vfio/vfio_pci.h"
#include "virtio/virtio.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_net.h"
#include "core/vm.h"
#include "x86/x86.h"

#define KVM_API_VERSION_EXPECTED	12
/* Addresses for VMX's real-mode helpers, just below the 4 GiB line, in
 * the MMIO hole where no RAM or device lives (uapi: KVM_SET_TSS_ADDR). */
#define KVM_TSS_ADDR			0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR		0xfffbc000ULL

struct vm_devices {
	struct acpi_pm acpi_pm;
	struct i8042 i8042;
	struct rtc rtc;
	struct console console;
	bool console_started;
};

void vm_config_init(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_size = VM_DEFAULT_MEM;
	cfg->nr_cpus = 1;
	cfg->name = "mvm";
	cfg->console_in_fd = STDIN_FILENO;
	cfg->console_out_fd = STDOUT_FILENO;
}

void vm_request_exit(struct vm *vm, enum vm_exit_reason why, int status)
{
	int expected = VM_RUNNING;

	if (!atomic_compare_exchange_strong(&vm->exit_reason, &expected,
					    (int)why))
		return;
	vm->exit_status = status;
	if (vm->exit_efd > 0) {
		uint64_t one = 1;

		if (write(vm->exit_efd, &one, sizeof(one)) < 0)
			return;
	}
}

void vm_irq_line(void *opaque, unsigned int pin, int level)
{
	struct vm *vm = opaque;
	struct kvm_irq_level irq = { .irq = pin, .level = level ? 1 : 0 };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		pr_warn_ratelimited("KVM_IRQ_LINE pin %u level %d failed: %s",
				    pin, level, strerror(errno));
}

static const struct {
	long cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP (in-kernel IOAPIC/LAPIC)" },
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2 (in-kernel PIT)" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI" },
};

static int kvm_open(struct vm *vm)
{
	int version, max_cpus;
	unsigned int i;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		int err = errno;

		pr_errno(err, "/dev/kvm: cannot open (%s)",
			 err == ENOENT ? "KVM is not available on this host: load kvm_intel or kvm_amd" :
			 err == EACCES ? "add yourself to the kvm group" :
			 "KVM is not usable");
		return -err;
	}
	version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION_EXPECTED) {
		pr_err("/dev/kvm: KVM API version %d, mvm needs %d", version,
		       KVM_API_VERSION_EXPECTED);
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(required_caps); i++) {
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
			  required_caps[i].cap) <= 0) {
			pr_err("/dev/kvm: missing capability %s",
			       required_caps[i].name);
			return -EOPNOTSUPP;
		}
	}
	max_cpus = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max_cpus <= 0)
		max_cpus = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
				 KVM_CAP_NR_VCPUS);
	if (max_cpus > 0 && vm->cfg.nr_cpus > (unsigned int)max_cpus) {
		pr_err("--cpus %u: this host's KVM allows at most %d vCPUs",
		       vm->cfg.nr_cpus, max_cpus);
		return -EINVAL;
	}
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size <= 0) {
		pr_errno(errno, "KVM_GET_VCPU_MMAP_SIZE failed");
		return -EINVAL;
	}
	return 0;
}

static int vm_create(struct vm *vm)
{
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		pr_errno(errno, "KVM_CREATE_VM failed");
		return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0) {
		pr_errno(errno, "KVM_SET_TSS_ADDR failed");
		return -errno;
	}
	/* Optional: not every KVM flavour implements it (VMX-only). */
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
		  KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
		uint64_t addr = KVM_IDENTITY_MAP_ADDR;

		if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &addr) < 0) {
			pr_errno(errno, "KVM_SET_IDENTITY_MAP_ADDR failed");
			return -errno;
		}
	}
	return 0;
}

static int set_memslot(struct vm *vm, uint32_t slot, uint64_t gpa,
		       uint64_t size, void *host)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		pr_errno(errno, "KVM_SET_USER_MEMORY_REGION slot %u (%#llx+%#llx) failed",
			 slot, (unsigned long long)gpa,
			 (unsigned long long)size);
		return -errno;
	}
	return 0;
}

static int vm_memory_alloc(struct vm *vm)
{
	int err = guest_mem_init(&vm->mem, vm->cfg.mem_size);

	if (err)
		pr_errno(-err, "--mem %llu MiB: cannot allocate guest RAM",
			 (unsigned long long)(vm->cfg.mem_size >> 20));
	return err;
}

static int vm_memslots_init(struct vm *vm)
{
	int err = set_memslot(vm, 0, 0, vm->mem.low_size, vm->mem.host);

	if (!err && vm->mem.high_size)
		err = set_memslot(vm, 1, HIGH_RAM_START, vm->mem.high_size,
				  vm->mem.host + vm->mem.low_size);
	return err;
}

static int vm_irqchip_init(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = 0 };
	unsigned int i;

	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		pr_errno(errno, "KVM_CREATE_IRQCHIP failed");
		return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		pr_errno(errno, "KVM_CREATE_PIT2 failed");
		return -errno;
	}
	for (i = 0; i < ARRAY_SIZE(vm->isa_irq); i++)
		vm->isa_irq[i] = (struct irq_line){
			.set = vm_irq_line, .opaque = vm, .pin = i,
		};
	return 0;
}

/*
 * The GSI routing table: KVM's default one routes the PIT's GSI 0 to
 * IOAPIC pin 0, but our MADT says ISA IRQ 0 is GSI 2; the router installs
 * a table that agrees with the MADT and will carry every MSI route.
 */
static int vm_router_init(struct vm *vm)
{
	int nr = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING);
	int err;

	err = irq_router_init(&vm->router, &kvm_irq_ops_real,
			      (void *)(intptr_t)vm->vm_fd,
			      nr > 0 ? (unsigned int)nr : 1024);
	if (err)
		return err;
	vm->router_ready = true;
	err = irq_router_commit(&vm->router);
	if (err)
		return err;
	err = evloop_init(&vm->loop);
	if (!err)
		err = evloop_start(&vm->loop);
	if (err) {
		pr_errno(-err, "cannot start the event loop thread");
		return err;
	}
	vm->loop_ready = true;
	return irq_router_attach_loop(&vm->router, &vm->loop);
}

static int memslot_map(void *opaque, uint64_t gpa, uint64_t size, void *hva)
{
	struct vm *vm = opaque;
	int slot, err;

	for (slot = 2; slot < 64; slot++)
		if (!(vm->memslots_used & (1ULL << slot)))
			break;
	if (slot == 64)
		return -ENOSPC;
	err = set_memslot(vm, (uint32_t)slot, gpa, size, hva);
	if (err)
		return err;
	vm->memslots_used |= 1ULL << slot;
	return slot;
}

static int memslot_unmap(void *opaque, int slot)
{
	struct vm *vm = opaque;
	int err;

	if (slot < 2 || slot >= 64 || !(vm->memslots_used & (1ULL << slot)))
		return -EINVAL;
	err = set_memslot(vm, (uint32_t)slot, 0, 0, NULL);
	vm->memslots_used &= ~(1ULL << slot);
	return err;
}

static int vm_ioeventfd(void *opaque, uint64_t addr, unsigned int len,
			int fd, bool assign)
{
	struct vm *vm = opaque;
	struct kvm_ioeventfd io = {
		.addr = addr, .len = len, .fd = fd,
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0) {
		pr_errno(errno, "KVM_IOEVENTFD %s %#llx+%u failed",
			 assign ? "assign" : "deassign",
			 (unsigned long long)addr, len);
		return -errno;
	}
	return 0;
}

static const struct ioeventfd_ops vm_ioeventfd_ops = {
	.assign = vm_ioeventfd,
};

static const struct memslot_ops vm_memslot_ops = {
	.map = memslot_map,
	.unmap = memslot_unmap,
};

/* Open every --passthrough device; needs only guest RAM (for DMA). */
static int vm_passthrough_open(struct vm *vm)
{
	unsigned int i;

	vm->devctx.mem = &vm->mem;
	for (i = 0; i < vm->cfg.nr_passthrough; i++) {
		vm->passthrough[i] = vfio_pci_create(&vm->devctx,
						     vm->cfg.passthrough[i]);
		if (!vm->passthrough[i])
			return -EINVAL;
		vm->nr_passthrough = i + 1;
	}
	return 0;
}

/* Put the opened functions on the PCI bus. */
static int vm_passthrough_init(struct vm *vm)
{
	unsigned int i;
	int err;

	vm->devctx = (struct device_ctx){
		.pio = &vm->pio, .mmio = &vm->mmio, .pci = vm->pci,
		.router = &vm->router, .loop = &vm->loop, .mem = &vm->mem,
		.slots = &vm_memslot_ops, .slots_opaque = vm,
		.ioeventfd = &vm_ioeventfd_ops, .ioeventfd_opaque = vm,
	};
	for (i = 0; i < vm->nr_passthrough; i++) {
		err = vfio_pci_realize(vm->passthrough[i]);
		if (err)
			return err;
	}
	return 0;
}

/* ---- virtio devices (docs/virtio.md) ---- */

struct vm_virtio {
	struct virtio_rng *rng;
	struct virtio_console *console;
	/* virtio-net: -n TAPs opened early (vm_nets_open), then each handed
	 * to its virtio-net (fd -1 once handed over). */
	struct tap net_tap[VM_MAX_NETS];
	unsigned int nr_net_taps;
	struct virtio_net *net[VM_MAX_NETS];
	/* -d: images opened early (vm_disks_open), then each handed to
	 * its virtio-blk, which owns it from then on. */
	struct blockdev *disk_bd[VM_MAX_DISKS];
	struct virtio_blk *blk[VM_MAX_DISKS];
};

/*
 * Open every -d image (needs no KVM): a missing, locked or corrupt image
 * is refused with blockdev_open()'s one line before /dev/kvm is opened.
 */
static int vm_disks_open(struct vm *vm)
{
	unsigned int i;
	int err;

	if (!vm->cfg.nr_disks)
		return 0;
	if (!vm->virtio)
		vm->virtio = calloc(1, sizeof(*vm->virtio));
	if (!vm->virtio)
		return -ENOMEM;
	for (i = 0; i < vm->cfg.nr_disks && i < VM_MAX_DISKS; i++) {
		err = blockdev_open(vm->cfg.disks[i], &vm->virtio->disk_bd[i]);
		if (err)
			return err;
	}
	return 0;
}

/*
 * virtio-net: attach every -n TAP (needs no KVM), so a TAP that cannot
 * be opened is refused with tap_open()'s one line before /dev/kvm is.
 */
static int vm_nets_open(struct vm *vm)
{
	struct vm_virtio *v;
	int err;

	if (!vm->cfg.nr_nets)
		return 0;
	if (!vm->virtio)
		vm->virtio = calloc(1, sizeof(*vm->virtio));
	v = vm->virtio;
	if (!v)
		return -ENOMEM;
	while (v->nr_net_taps < vm->cfg.nr_nets &&
	       v->nr_net_taps < VM_MAX_NETS) {
		err = tap_open(&v->net_tap[v->nr_net_taps],
			       vm->cfg.nets[v->nr_net_taps].tap);
		if (err)
			return err;
		v->nr_net_taps++;
	}
	return 0;
}

/* Put the virtio-pci devices on the bus: --rng, --console virtio, -d, -n. */
static int vm_virtio_init(struct vm *vm)
{
	unsigned int i;
	int err = 0;

	if (!vm->virtio)
		vm->virtio = calloc(1, sizeof(*vm->virtio));
	if (!vm->virtio)
		return -ENOMEM;
	if (vm->cfg.virtio_rng)
		err = virtio_rng_create(&vm->devctx, &vm->virtio->rng);
	if (!err && vm->cfg.virtio_console)
		err = virtio_console_create(&vm->devctx, vm->cfg.console_out_fd,
					    &vm->virtio->console);
	/* virtio-blk: /dev/vda, vdb... in -d order; each takes its image. */
	for (i = 0; !err && i < VM_MAX_DISKS && vm->virtio->disk_bd[i]; i++) {
		struct blockdev *bd = vm->virtio->disk_bd[i];

		vm->virtio->disk_bd[i] = NULL;
		err = virtio_blk_create(&vm->devctx, bd, i, &vm->virtio->blk[i]);
	}
	/* virtio-net: one per -n, in order; each takes its TAP. */
	for (i = 0; !err && i < vm->virtio->nr_net_taps; i++) {
		const struct virtio_net_spec *ns = &vm->cfg.nets[i];

		err = virtio_net_create_tap(&vm->devctx, &vm->virtio->net_tap[i],
					    ns->has_mac ? ns->mac : NULL,
					    &vm->virtio->net[i]);
	}
	return err;
}

static void vm_virtio_destroy(struct vm *vm)
{
	unsigned int i;

	if (!vm->virtio)
		return;
	virtio_rng_destroy(vm->virtio->rng);
	virtio_console_destroy(vm->virtio->console);
	for (i = 0; i < vm->virtio->nr_net_taps; i++) {	/* virtio-net */
		virtio_net_destroy(vm->virtio->net[i]);
		tap_close(&vm->virtio->net_tap[i]);
	}
	for (i = 0; i < VM_MAX_DISKS; i++) {
		virtio_blk_destroy(vm->virtio->blk[i]);
		blockdev_close(vm->virtio->disk_bd[i]);
	}
	free(vm->virtio);
	vm->virtio = NULL;
}

static int vm_devices_init(struct vm *vm)
{
	struct vm_devices *d = vm->devices;
	int err;

	vm->serial = serial_create(&vm->pio, SERIAL0_PORT,
				   vm->isa_irq[SERIAL0_IRQ],
				   vm->cfg.console_out_fd);
	if (!vm->serial)
		return -ENOMEM;
	err = i8042_init(&d->i8042, &vm->pio, vm);
	if (!err)
		err = rtc_init(&d->rtc, &vm->pio);
	if (!err)
		err = acpi_pm_init(&d->acpi_pm, &vm->pio, vm);
	if (!err && vm->cfg.debug_exit)
		err = debug_exit_init(&vm->pio, vm);
	if (!err)
		err = absent_ports_init(&vm->pio);
	if (err)
		return err;
	rtc_set_mem_size(&d->rtc, vm->mem.low_size, vm->mem.high_size);
	return 0;
}

static int vm_pci_init(struct vm *vm)
{
	/* Above RAM and never below 4 GiB (the hole holds the 32-bit window,
	 * ECAM and the APICs). */
	uint64_t base = ALIGN_UP(MAX(guest_mem_top(&vm->mem), HIGH_RAM_START),
				 PCI_MMIO64_ALIGN);

	vm->pci = calloc(1, sizeof(*vm->pci));
	if (!vm->pci)
		return -ENOMEM;
	vm->mmio64_base = base;
	vm->mmio64_size = PCI_MMIO64_SIZE;
	pci_bus_init(vm->pci, &vm->pio, &vm->mmio, base, PCI_MMIO64_SIZE);
	vm->pci->irq_set = vm_irq_line;
	vm->pci->irq_opaque = vm;
	return 0;
}

static int vm_firmware_tables(struct vm *vm)
{
	struct acpi_machine m = {
		.nr_cpus = vm->nr_cpus,
		.mmio64_base = vm->mmio64_base,
		.mmio64_size = vm->mmio64_size,
	};
	int err;

	err = mptable_build(&vm->mem, vm->nr_cpus);
	if (err) {
		pr_errno(-err, "cannot build the MP table");
		return err;
	}
	err = acpi_tables_build(&vm->mem, &m, &vm->rsdp_gpa);
	if (err)
		pr_errno(-err, "cannot build the ACPI tables");
	else if (vm->rsdp_gpa != ACPI_TABLES_ADDR)
		err = -EINVAL;	/* the zero page already points there */
	return err;
}

static int build_cmdline(const struct vm_config *cfg, char **out)
{
	const char *p = cfg->params ? cfg->params : "";
	const char *compat = cfg->pvm_compat ? PVM_COMPAT_CMDLINE : "";
	size_t len = strlen(VM_DEFAULT_CMDLINE) + 1 + strlen(compat) + 1 +
		     strlen(p) + 1;

	*out = malloc(len);
	if (!*out)
		return -ENOMEM;
	/* The user's -p last: Linux lets a later option win. */
	snprintf(*out, len, "%s%s%s%s%s", VM_DEFAULT_CMDLINE,
		 *compat ? " " : "", compat, *p ? " " : "", p);
	if (*compat && cfg->kernel)
		pr_info("--pvm-compat: appending '%s' to the kernel command line",
			compat);
	return 0;
}

static int vm_load_kernel(struct vm *vm)
{
	const struct vm_config *cfg = &vm->cfg;
	/* The RSDP's place is fixed, so the kernel can be loaded (and a bad
	 * image refused) before KVM is even opened. */
	struct boot_config bc = { .rsdp_gpa = ACPI_TABLES_ADDR };
	struct boot_entry entry;
	uint8_t *kbuf = NULL, *ibuf = NULL;
	size_t klen = 0, ilen = 0;
	char *cmdline = NULL;
	int err;

	if (cfg->kernel) {
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
	if (cfg->initrd) {
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
	err = x86_boot_load(&vm->mem, &bc, &entry);
	if (err)
		goto out;
	vm->entry_rip = entry.rip;
	vm->entry_rsi = entry.rsi;
	err = x86_boot_tables_write(&vm->mem);
out:
	free(kbuf);
	free(ibuf);
	free(cmdline);
	return err;
}

static int vm_vcpus_init(struct vm *vm)
{
	struct kvm_cpuid2 *cpuid;
	unsigned int i;
	int err = 0;

	vm->vcpus = calloc(vm->nr_cpus, sizeof(*vm->vcpus));
	cpuid = cpuid_get_supported(vm->kvm_fd);
	if (!vm->vcpus || !cpuid) {
		free(cpuid);
		return -ENOMEM;
	}
	for (i = 0; i < vm->nr_cpus; i++)
		vm->vcpus[i].fd = -1;
	for (i = 0; i < vm->nr_cpus && !err; i++) {
		err = vcpu_create(vm, &vm->vcpus[i], i);
		if (!err)
			err = cpuid_set(vm->vcpus[i].fd, cpuid, i,
					vm->nr_cpus, vm->cfg.pvm_compat);
		if (!err)
			err = x86_lapic_setup(vm->vcpus[i].fd);
	}
	free(cpuid);
	if (err)
		return err;
	/* Only the BSP gets boot state; APs wait for INIT/SIPI in KVM. */
	return x86_boot_vcpu_setup(vm->vcpus[0].fd, vm->entry_rip,
				   vm->entry_rsi);
}

/*
 * Every MSI-X vector in use holds an eventfd; two 2048-vector devices need
 * thousands of fds.  Take the hard limit (QEMU does the same at start).
 */
static void raise_nofile_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int vm_build(struct vm *vm, const struct vm_config *cfg)
{
	int err;

	memset(vm, 0, sizeof(*vm));
	raise_nofile_limit();
	vm->cfg = *cfg;
	vm->kvm_fd = vm->vm_fd = -1;
	vm->exit_efd = -1;
	vm->nr_cpus = cfg->nr_cpus;
	pthread_mutex_init(&vm->exit_lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	iobus_init(&vm->pio, "pio");
	iobus_init(&vm->mmio, "mmio");
	vm->devices = calloc(1, sizeof(struct vm_devices));
	if (!vm->devices)
		return -ENOMEM;

	if (cfg->nr_cpus < 1 || cfg->nr_cpus > VM_MAX_CPUS) {
		pr_err("--cpus %u: must be between 1 and %d", cfg->nr_cpus,
		       VM_MAX_CPUS);
		err = -EINVAL;
		goto fail;
	}
	/* First what needs no KVM, so bad input is refused before anything
	 * touches /dev/kvm. */
	err = vm_memory_alloc(vm);		/* RAM around the MMIO hole */
	if (!err)
		err = vm_load_kernel(vm);	/* bzImage/ELF, initrd, cmdline */
	if (!err)
		err = vm_disks_open(vm);	/* -d images: checks, locks */
	if (!err)
		err = vm_nets_open(vm);		/* -n TAPs: virtio-net */
	if (!err)
		err = vm_passthrough_open(vm);	/* VFIO: checks, DMA map */
	if (!err)
		err = kvm_open(vm);		/* /dev/kvm, API, capabilities */
	if (!err)
		err = vm_create(vm);		/* the VM and its VMX helpers */
	if (!err)
		err = vm_memslots_init(vm);	/* RAM into the VM */
	if (!err)
		err = vm_irqchip_init(vm);	/* PIC, IOAPIC, LAPICs, PIT */
	if (!err)
		err = vm_router_init(vm);	/* GSI routes, event loop */
	if (!err)
		err = vm_devices_init(vm);	/* UART, i8042, RTC, ACPI PM */
	if (!err)
		err = vm_pci_init(vm);		/* host bridge, cf8/cfc, ECAM */
	if (!err)
		err = vm_passthrough_init(vm);	/* VFIO functions on the bus */
	if (!err)
		err = vm_virtio_init(vm);	/* virtio-pci devices */
	if (!err)
		err = vm_firmware_tables(vm);	/* MP table, ACPI */
	if (!err)
		err = vm_vcpus_init(vm);	/* vCPUs, CPUID, boot state */
	if (!err)
		return 0;
fail:
	vm_destroy(vm);
	return err;
}

static int exit_status(struct vm *vm)
{
	switch (atomic_load(&vm->exit_reason)) {
	case VM_EXIT_POWEROFF:
	case VM_EXIT_REBOOT:
		return 0;
	case VM_EXIT_DEBUG_EXIT:
	case VM_EXIT_SIGNAL:
	case VM_EXIT_ERROR:
		return vm->exit_status;
	default:
		return 1;
	}
}

/* ---- the control socket: `mvm stop|debug|stat NAME` ---------------- */

void vm_pause_point(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	vm->parked++;
	pthread_cond_broadcast(&vm->pause_cond);
	while (atomic_load(&vm->paused) &&
	       atomic_load(&vm->exit_reason) == VM_RUNNING)
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	vm->parked--;
	pthread_mutex_unlock(&vm->pause_lock);
}

int vm_pause(struct vm *vm)
{
	unsigned int i, running = 0;

	pthread_mutex_lock(&vm->pause_lock);
	if (atomic_load(&vm->paused)) {
		pthread_mutex_unlock(&vm->pause_lock);
		return -EALREADY;
	}
	atomic_store(&vm->paused, true);
	pthread_mutex_unlock(&vm->pause_lock);
	for (i = 0; i < vm->nr_cpus; i++) {
		running += vm->vcpus[i].started;
		vcpu_kick(&vm->vcpus[i]);
	}
	pthread_mutex_lock(&vm->pause_lock);
	while (vm->parked < running &&
	       atomic_load(&vm->exit_reason) == VM_RUNNING)
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	pthread_mutex_unlock(&vm->pause_lock);
	return 0;
}

int vm_resume(struct vm *vm)
{
	int err = 0;

	pthread_mutex_lock(&vm->pause_lock);
	if (!atomic_load(&vm->paused))
		err = -EALREADY;
	atomic_store(&vm->paused, false);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	return err;
}

static int ctl_pause(void *opaque)
{
	int err = vm_pause(opaque);

	if (!err)
		pr_info("paused by 'mvm pause'");
	return err;
}

static int ctl_resume(void *opaque)
{
	int err = vm_resume(opaque);

	if (!err)
		pr_info("resumed by 'mvm resume'");
	return err;
}

static int ctl_stop(void *opaque)
{
	pr_info("stopped by 'mvm stop'");
	vm_request_exit(opaque, VM_EXIT_POWEROFF, 0);
	return 0;
}

/*
 * Interrupts per MSI-X vector, for every device with a vector table:
 * passthrough vectors count what the host kernel took (its
 * /proc/interrupts), virtio vectors what the device model raised.
 */
static void stat_vectors(struct vm *vm, FILE *out)
{
	struct virtio_dev *vdevs[2 + VM_MAX_DISKS + VM_MAX_NETS];
	unsigned int i, n = 0;

	for (i = 0; i < vm->nr_passthrough; i++)
		vfio_pci_print_stat(vm->passthrough[i], out);
	if (!vm->virtio)
		return;
	if (vm->virtio->rng)
		vdevs[n++] = virtio_rng_dev(vm->virtio->rng);
	if (vm->virtio->console)
		vdevs[n++] = virtio_console_dev(vm->virtio->console);
	for (i = 0; i < VM_MAX_DISKS; i++)
		if (vm->virtio->blk[i])
			vdevs[n++] = virtio_blk_dev(vm->virtio->blk[i]);
	for (i = 0; i < VM_MAX_NETS; i++)
		if (vm->virtio->net[i])
			vdevs[n++] = virtio_net_dev(vm->virtio->net[i]);
	for (i = 0; i < n; i++)
		if (vdevs[i] && vdevs[i]->vectors.v)
			msix_vectors_stat(&vdevs[i]->vectors,
					  vdevs[i]->pci.name, NULL, true, out);
}

static void ctl_stat(void *opaque, FILE *out)
{
	vm_stat(opaque, out);
}

void vm_stat(struct vm *vm, FILE *out)
{
	struct irq_router_stats rs = { 0 };
	unsigned int i;

	for (i = 0; i < vm->nr_cpus; i++) {
		fprintf(out, "vcpu%u exits %llu\n", i,
			(unsigned long long)vm->vcpus[i].nr_exits);
		if (vm->vcpus[i].nr_emul_handled)
			fprintf(out, "vcpu%u emulation failures handled %llu\n",
				i, (unsigned long long)
				vm->vcpus[i].nr_emul_handled);
	}
	if (vm->router_ready) {
		pthread_mutex_lock(&vm->router.lock);
		rs = vm->router.stats;
		pthread_mutex_unlock(&vm->router.lock);
	}
	fprintf(out, "routing commits %llu\nirqfd calls %llu\nsignal_msi calls %llu\ngsis in use %llu\ngsi alloc failures %llu\n",
		(unsigned long long)rs.commits,
		(unsigned long long)rs.irqfd_calls,
		(unsigned long long)rs.signal_msi_calls,
		(unsigned long long)rs.gsis_in_use,
		(unsigned long long)rs.gsi_alloc_failures);
	stat_vectors(vm, out);
}

static void dump_bus(struct iobus *bus, FILE *out)
{
	unsigned int i;

	pthread_rwlock_rdlock(&bus->lock);
	for (i = 0; i < bus->nr; i++)
		fprintf(out, "%s %#llx-%#llx %s\n", bus->name,
			(unsigned long long)bus->ranges[i].base,
			(unsigned long long)(bus->ranges[i].base +
					     bus->ranges[i].len - 1),
			bus->ranges[i].name ? bus->ranges[i].name : "?");
	pthread_rwlock_unlock(&bus->lock);
}

/* The bytes at RIP through the guest's own page tables (docs/pvm.md). */
static void debug_code(struct vcpu *vcpu, uint64_t rip, FILE *out)
{
	uint8_t code[16];
	size_t n = vcpu_read_virt(vcpu, rip, code, sizeof(code)), j;

	fprintf(out, "vcpu%u code", vcpu->id);
	for (j = 0; j < n; j++)
		fprintf(out, " %02x", code[j]);
	fprintf(out, "%s\n", n ? "" : " unreadable (rip not mapped to RAM)");
}

/* Registers need the vCPU out of KVM_RUN: pause around the reads. */
static void debug_vcpus(struct vm *vm, FILE *out)
{
	bool paused_here = vm_pause(vm) == 0;
	unsigned int i;

	for (i = 0; i < vm->nr_cpus; i++) {
		struct kvm_regs r;
		struct kvm_sregs sr;

		if (ioctl(vm->vcpus[i].fd, KVM_GET_REGS, &r) < 0 ||
		    ioctl(vm->vcpus[i].fd, KVM_GET_SREGS, &sr) < 0) {
			fprintf(out, "vcpu%u registers unavailable: %s\n", i,
				strerror(errno));
			continue;
		}
		fprintf(out, "vcpu%u rip %016llx rsp %016llx rflags %08llx cr0 %llx cr3 %llx cr4 %llx efer %llx\n",
			i, r.rip, r.rsp, r.rflags, sr.cr0, sr.cr3, sr.cr4,
			sr.efer);
		fprintf(out, "vcpu%u rax %016llx rbx %016llx rcx %016llx rdx %016llx rsi %016llx rdi %016llx\n",
			i, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi);
		debug_code(&vm->vcpus[i], r.rip, out);
	}
	if (paused_here)
		vm_resume(vm);
}

/* The in-kernel IOAPIC's redirection table (KVM_GET_IRQCHIP). */
static void debug_ioapic(struct vm *vm, FILE *out)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };
	unsigned int i;

	if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &chip) < 0) {
		fprintf(out, "ioapic unavailable: %s\n", strerror(errno));
		return;
	}
	for (i = 0; i < KVM_IOAPIC_NUM_PINS; i++) {
		uint64_t e = chip.chip.ioapic.redirtbl[i].bits;

		fprintf(out, "ioapic pin %2u vector %#04llx %s %s %s dest %llu%s\n",
			i, (unsigned long long)(e & 0xff),
			e & (1ULL << 16) ? "masked" : "enabled",
			e & (1ULL << 15) ? "level" : "edge",
			e & (1ULL << 13) ? "active-low" : "active-high",
			(unsigned long long)(e >> 56),
			e & (1ULL << 14) ? " remote-irr" : "");
	}
}

static void ctl_debug(void *opaque, FILE *out)
{
	struct vm *vm = opaque;
	unsigned int i;

	fprintf(out, "name %s\nvcpus %u\nmemory %llu MiB\n", vm->cfg.name,
		vm->nr_cpus, (unsigned long long)(vm->cfg.mem_size >> 20));
	debug_vcpus(vm, out);
	debug_ioapic(vm, out);
	dump_bus(&vm->pio, out);
	dump_bus(&vm->mmio, out);
	for (i = 0; i < vm->nr_passthrough; i++)
		vfio_pci_print_debug(vm->passthrough[i], out);
}

static const struct control_ops vm_control_ops = {
	.stop = ctl_stop,
	.pause = ctl_pause,
	.resume = ctl_resume,
	.debug = ctl_debug,
	.stat = ctl_stat,
	/* .pause, .resume: once vCPUs can be parked */
};

/* Wait for a device, a vCPU or a signal to end the VM. */
static void wait_for_exit(struct vm *vm, int sfd)
{
	while (atomic_load(&vm->exit_reason) == VM_RUNNING) {
		struct pollfd p[2] = {
			{ .fd = vm->exit_efd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		struct signalfd_siginfo si;

		if (poll(p, sfd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			break;
		if (sfd >= 0 && (p[1].revents & POLLIN) &&
		    read(sfd, &si, sizeof(si)) == sizeof(si)) {
			pr_info("received signal %u, stopping the VM",
				si.ssi_signo);
			vm_request_exit(vm, VM_EXIT_SIGNAL,
					128 + (int)si.ssi_signo);
		}
	}
}

int vm_run(struct vm *vm)
{
	struct vm_devices *d = vm->devices;
	sigset_t stop, old;
	unsigned int i;
	int sfd, err;

	err = vcpu_signals_init();
	if (err) {
		pr_errno(-err, "cannot install the vCPU kick handler");
		return 1;
	}
	vm->exit_efd = eventfd(0, EFD_CLOEXEC);
	if (vm->exit_efd < 0) {
		pr_errno(errno, "eventfd for VM exit failed");
		return 1;
	}
	/* SIGINT/SIGTERM/SIGHUP arrive through a signalfd on this thread;
	 * the mask is inherited by the vCPU and console threads. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	sfd = signalfd(-1, &stop, SFD_CLOEXEC);
	/* A name in use refuses the VM before any vCPU runs. */
	if (vm->cfg.control &&
	    control_start(&vm->control, vm->cfg.name, &vm_control_ops, vm)) {
		if (sfd >= 0)
			close(sfd);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return 1;
	}
	/* The debugger's stub, before any vCPU runs (--gdb-wait parks them). */
	if (vm->cfg.gdb &&
	    gdb_kvm_start(vm, vm->cfg.gdb, vm->cfg.gdb_wait, &vm->gdb))
		vm_request_exit(vm, VM_EXIT_ERROR, 1);

	if (vm->cfg.console_in_fd >= 0 && vm->virtio && vm->virtio->console) {
		struct console_port port = {
			.receive = virtio_console_receive,
			.set_rx_notify = virtio_console_set_rx_notify,
			.opaque = vm->virtio->console,
		};

		err = console_start_port(&d->console, &port, vm,
					 vm->cfg.console_in_fd);
		d->console_started = err == 0;
	} else if (vm->cfg.console_in_fd >= 0) {
		err = console_start(&d->console, vm->serial, vm,
				    vm->cfg.console_in_fd);
		d->console_started = err == 0;
	}
	for (i = 0; i < vm->nr_cpus; i++)
		if (vcpu_start(&vm->vcpus[i]))
			vm_request_exit(vm, VM_EXIT_ERROR, 1);

	wait_for_exit(vm, sfd);
	/* A paused VM that is told to stop: let its vCPUs leave. */
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);

	if (vm->gdb)
		gdb_kvm_vm_exiting(vm->gdb, exit_status(vm));
	for (i = 0; i < vm->nr_cpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (i = 0; i < vm->nr_cpus; i++)
		vcpu_join(&vm->vcpus[i]);
	if (vm->gdb)
		gdb_kvm_destroy(vm->gdb);
	vm->gdb = NULL;
	if (d->console_started)
		console_stop(&d->console);
	d->console_started = false;
	/* Callbacks look at vCPUs and devices: stop before they go. */
	control_stop(&vm->control);
	if (sfd >= 0)
		close(sfd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* Status 0 either way, but a reset can hide a guest panic (panic=-1,
	 * reboot=k): say which it was. */
	if (atomic_load(&vm->exit_reason) == VM_EXIT_REBOOT)
		pr_info("the guest reset the machine (reboot); mvm exits");
	return exit_status(vm);
}

void vm_destroy(struct vm *vm)
{
	unsigned int i;

	control_stop(&vm->control);	/* harmless if never started */
	/* The event loop first (no callback may run into a device being
	 * freed), then the devices (they use the router and PCI bus). */
	if (vm->loop_ready)
		evloop_stop(&vm->loop);
	vm_virtio_destroy(vm);
	for (i = 0; i < vm->nr_passthrough; i++) {
		vfio_pci_free(vm->passthrough[i]);
		vm->passthrough[i] = NULL;
	}
	vm->nr_passthrough = 0;
	if (vm->router_ready)
		irq_router_destroy(&vm->router);
	if (vm->loop_ready)
		evloop_destroy(&vm->loop);
	vm->router_ready = vm->loop_ready = false;

	if (vm->vcpus) {
		for (i = 0; i < vm->nr_cpus; i++)
			vcpu_destroy(&vm->vcpus[i]);
		free(vm->vcpus);
		vm->vcpus = NULL;
	}
	if (vm->serial)
		serial_destroy(vm->serial, &vm->pio);
	vm->serial = NULL;
	if (vm->pci) {
		pci_bus_destroy(vm->pci);
		free(vm->pci);
		vm->pci = NULL;
	}
	if (vm->devices)
		acpi_pm_destroy(&vm->devices->acpi_pm);
	free(vm->devices);
	vm->devices = NULL;
	guest_mem_destroy(&vm->mem);
	iobus_destroy(&vm->pio);
	iobus_destroy(&vm->mmio);
	if (vm->exit_efd >= 0)
		close(vm->exit_efd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->exit_efd = vm->vm_fd = vm->kvm_fd = -1;
	pthread_mutex_destroy(&vm->exit_lock);
	pthread_mutex_destroy(&vm->pause_lock);
	pthread_cond_destroy(&vm->pause_cond);
}
