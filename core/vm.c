// SPDX-License-Identifier: GPL-2.0
/*
 * The KVM VM (include/core/vm.h): /dev/kvm, RAM and memory slots, the
 * irqchip and GSI router, vCPUs, holds, and the run: front-ends up, vCPUs
 * running, wait for the end, everything down.  The board (machine.c)
 * calls the build steps in order and owns every device.
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
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "debug/timing.h"
#include "debug/trace.h"
#include "core/util.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "x86/layout.h"

#define KVM_API_VERSION_EXPECTED	12
/* Addresses for VMX's real-mode helpers, just below the 4 GiB line, in
 * the MMIO hole where no RAM or device lives (uapi: KVM_SET_TSS_ADDR). */
#define KVM_TSS_ADDR			0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR		0xfffbc000ULL

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

void vm_init(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	raise_nofile_limit();
	vm->kvm_fd = vm->vm_fd = -1;
	vm->exit_efd = -1;
	vm->hold_only = -1;
	pthread_mutex_init(&vm->hold_lock, NULL);
	pthread_cond_init(&vm->hold_cond, NULL);
	iobus_init(&vm->pio, "pio");
	iobus_init(&vm->mmio, "mmio");
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

static void exit_line_vm(void *opaque, enum vm_exit_reason why, int status)
{
	vm_request_exit(opaque, why, status);
}

struct exit_line vm_exit_line(struct vm *vm)
{
	return (struct exit_line){ .request = exit_line_vm, .opaque = vm };
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

int vm_kvm_open(struct vm *vm, unsigned int nr_cpus)
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
	if (max_cpus > 0 && nr_cpus > (unsigned int)max_cpus) {
		pr_err("--cpus %u: this host's KVM allows at most %d vCPUs",
		       nr_cpus, max_cpus);
		return -EINVAL;
	}
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size <= 0) {
		pr_errno(errno, "KVM_GET_VCPU_MMAP_SIZE failed");
		return -EINVAL;
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

/* --hugepages: one line saying what the host lacks, before trying. */
static int hugepages_check(uint64_t size)
{
	uint64_t page = guest_mem_hugepage_size(), need;
	long long total, avail;

	if (!page) {
		pr_err("--hugepages: this host has no huge pages (no Hugepagesize in /proc/meminfo); drop --hugepages");
		return -ENOTSUP;
	}
	if (size % page) {
		pr_err("--hugepages: --mem %llu MiB is not a multiple of the host's huge page size (%llu MiB)",
		       (unsigned long long)(size >> 20),
		       (unsigned long long)(page >> 20));
		return -EINVAL;
	}
	need = size / page;
	avail = guest_mem_meminfo("/proc/meminfo", "HugePages_Free");
	total = guest_mem_meminfo("/proc/meminfo", "HugePages_Total");
	if (avail >= 0 && total >= 0 && (uint64_t)avail < need) {
		pr_err("--hugepages: the guest's %llu MiB need %llu huge pages of %llu KiB, the host has %lld free (reserve them: sysctl vm.nr_hugepages=%lld)",
		       (unsigned long long)(size >> 20),
		       (unsigned long long)need,
		       (unsigned long long)(page >> 10), avail,
		       total + (long long)need - avail);
		return -ENOMEM;
	}
	return 0;
}

/*
 * Guest RAM the host cannot give would end mvm in the OOM killer in the
 * middle of a boot: refuse it up front, with the numbers, unless the
 * user asked for overcommit (then say what may happen).
 */
static int available_check(uint64_t size, bool overcommit)
{
	long long avail = guest_mem_meminfo("/proc/meminfo", "MemAvailable");
	long long swap = guest_mem_meminfo("/proc/meminfo", "SwapFree");
	uint64_t have;

	if (avail < 0)
		return 0;	/* no MemAvailable (before 3.14): cannot tell */
	have = ((uint64_t)avail + (uint64_t)MAX(swap, 0LL)) * KiB;
	if (size <= have)
		return 0;
	if (overcommit) {
		pr_warn("--mem %llu MiB: more than the host has available (%llu MiB), as --mem-overcommit allows: the host's OOM killer may end mvm if the guest uses it all",
			(unsigned long long)(size >> 20),
			(unsigned long long)(have >> 20));
		return 0;
	}
	pr_err("--mem %llu MiB: more than the host has available (%llu MiB: MemAvailable + SwapFree in /proc/meminfo); give less, or --mem-overcommit",
	       (unsigned long long)(size >> 20),
	       (unsigned long long)(have >> 20));
	return -ENOMEM;
}

int vm_memory_alloc(struct vm *vm, uint64_t size, unsigned int flags)
{
	int err;

	if (flags & GUEST_MEM_HUGETLB)
		err = hugepages_check(size);
	else
		err = available_check(size, flags & GUEST_MEM_OVERCOMMIT);
	if (err)
		return err;
	err = guest_mem_alloc(&vm->mem, size, flags);
	if (err && flags & GUEST_MEM_PREALLOC && err == -ENOMEM)
		pr_errno(-err, "--mem-prealloc: cannot allocate all %llu MiB of guest RAM now",
			 (unsigned long long)(size >> 20));
	else if (err)
		pr_errno(-err, "--mem %llu MiB: cannot allocate guest RAM%s%s",
			 (unsigned long long)(size >> 20),
			 flags & GUEST_MEM_HUGETLB ? " in huge pages" : "",
			 flags & GUEST_MEM_SHARED ?
			 " (a memfd, shared with vhost-user back-ends)" : "");
	return err;
}

static int vm_memslots_init(struct vm *vm)
{
	int err = set_memslot(vm, 0, 0, vm->mem.low_size, vm->mem.host);

	if (!err && vm->mem.high_size)
		err = set_memslot(vm, 1, HIGH_RAM_START, vm->mem.high_size,
				  vm->mem.high_host);
	return err;
}

int vm_create(struct vm *vm)
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
	return vm_memslots_init(vm);
}

int vm_irqchip_init(struct vm *vm)
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
int vm_router_init(struct vm *vm)
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

const struct ioeventfd_ops vm_ioeventfd_ops = {
	.assign = vm_ioeventfd,
};

const struct memslot_ops vm_memslot_ops = {
	.map = memslot_map,
	.unmap = memslot_unmap,
};

int vm_vcpus_create(struct vm *vm, unsigned int nr_cpus)
{
	unsigned int i;
	int err = 0;

	vm->vcpus = calloc(nr_cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	vm->nr_cpus = nr_cpus;
	for (i = 0; i < nr_cpus; i++)
		vm->vcpus[i].fd = -1;
	for (i = 0; i < nr_cpus && !err; i++)
		err = vcpu_create(vm, &vm->vcpus[i], i);
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
	case VM_EXIT_PANIC:
		return MVM_EXIT_PANIC;
	default:
		return 1;
	}
}

/* ---- holds: `mvm pause` and the debugger park vCPUs the same way ---- */

static bool vm_running(struct vm *vm)
{
	return atomic_load(&vm->exit_reason) == VM_RUNNING;
}

/* A CLOCK_REALTIME deadline `ms` from now, for pthread_cond_timedwait. */
static struct timespec deadline_ms(long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += ms * 1000 * 1000;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static bool must_park(struct vm *vm, unsigned int id)
{
	unsigned int h = atomic_load(&vm->holds);

	return h && !(h == VM_HOLD_DEBUGGER && vm->hold_only == (int)id) &&
	       vm_running(vm);
}

void vm_park_point(struct vm *vm, unsigned int id)
{
	if (!atomic_load(&vm->holds))
		return;
	pthread_mutex_lock(&vm->hold_lock);
	while (must_park(vm, id)) {
		struct timespec ts = deadline_ms(100);

		if (!vm->is_parked[id]) {
			vm->is_parked[id] = true;
			vm->parked++;
			pthread_cond_broadcast(&vm->hold_cond);
		}
		/* Timed: a VM exit requested elsewhere is noticed anyway. */
		pthread_cond_timedwait(&vm->hold_cond, &vm->hold_lock, &ts);
	}
	if (vm->is_parked[id]) {
		vm->is_parked[id] = false;
		vm->parked--;
	}
	pthread_mutex_unlock(&vm->hold_lock);
}

/* Take `why`; the debugger's hold lets no vCPU run (single step ends). */
static void hold_set_locked(struct vm *vm, enum vm_hold why)
{
	atomic_fetch_or(&vm->holds, (unsigned int)why);
	if (why == VM_HOLD_DEBUGGER)
		vm->hold_only = -1;
}

int vm_hold(struct vm *vm, enum vm_hold why)
{
	unsigned int i, rounds = 0;
	bool already;

	pthread_mutex_lock(&vm->hold_lock);
	already = atomic_load(&vm->holds) & why;
	hold_set_locked(vm, why);
	while (vm->parked < vm->nr_cpus && vm_running(vm)) {
		struct timespec ts = deadline_ms(50);

		/* Kick (again, every 50 ms) whoever is still in KVM_RUN. */
		for (i = 0; i < vm->nr_cpus; i++)
			if (!vm->is_parked[i])
				vcpu_kick(&vm->vcpus[i]);
		pthread_cond_timedwait(&vm->hold_cond, &vm->hold_lock, &ts);
		if (++rounds == 100)
			pr_warn("waiting for %u vCPU(s) to stop",
				vm->nr_cpus - vm->parked);
	}
	pthread_mutex_unlock(&vm->hold_lock);
	return already ? -EALREADY : 0;
}

void vm_hold_nowait(struct vm *vm, enum vm_hold why)
{
	pthread_mutex_lock(&vm->hold_lock);
	hold_set_locked(vm, why);
	pthread_mutex_unlock(&vm->hold_lock);
}

int vm_release(struct vm *vm, enum vm_hold why, int only)
{
	int err = 0;

	pthread_mutex_lock(&vm->hold_lock);
	if (!(atomic_load(&vm->holds) & why))
		err = -EALREADY;
	if (why == VM_HOLD_DEBUGGER && only >= 0) {
		vm->hold_only = only;
	} else {
		atomic_fetch_and(&vm->holds, ~(unsigned int)why);
		if (why == VM_HOLD_DEBUGGER)
			vm->hold_only = -1;
	}
	pthread_cond_broadcast(&vm->hold_cond);
	pthread_mutex_unlock(&vm->hold_lock);
	return err;
}

bool vm_hold_from_vcpu(struct vm *vm, enum vm_hold why, unsigned int id)
{
	bool grant;

	pthread_mutex_lock(&vm->hold_lock);
	grant = !(atomic_load(&vm->holds) & why) || vm->hold_only == (int)id;
	if (grant)
		hold_set_locked(vm, why);
	pthread_mutex_unlock(&vm->hold_lock);
	return grant;
}

void vm_print_stat(struct vm *vm, FILE *out)
{
	struct irq_router_stats rs = { 0 };
	struct guest_mem_usage u;
	unsigned int i;

	if (!guest_mem_usage(&vm->mem, &u))
		fprintf(out, "guest RAM MiB %llu resident MiB %llu huge-page backed MiB %llu (%s)\n",
			(unsigned long long)(vm->mem.size >> 20),
			(unsigned long long)(u.resident_kb >> 10),
			(unsigned long long)(u.huge_kb >> 10),
			vm->mem.flags & GUEST_MEM_HUGETLB ? "hugetlbfs" :
			"transparent huge pages");

	for (i = 0; i < vm->nr_cpus; i++)
		vcpu_print_stat(&vm->vcpus[i], out);
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
	bool paused_here = vm_hold(vm, VM_HOLD_PAUSE) == 0;
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
		vm_release(vm, VM_HOLD_PAUSE, -1);
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

/* --trace exit: each vCPU's exits by reason at the end, a line each. */
static void trace_exit_counts(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_cpus; i++) {
		char *buf = NULL, *line, *save = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		if (!f)
			return;
		vcpu_print_stat(&vm->vcpus[i], f);
		fclose(f);
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			TRACE(EXIT, "%s", line);
		free(buf);
	}
}

int vm_run(struct vm *vm, const struct vm_frontends *fe)
{
	sigset_t stop, old;
	unsigned int i;
	int sfd, err, status;

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
	 * the mask is inherited by the vCPU and front-end threads. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	sfd = signalfd(-1, &stop, SFD_CLOEXEC);
	if (fe->start && fe->start(fe->opaque)) {
		if (sfd >= 0)
			close(sfd);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return 1;
	}
	for (i = 0; i < vm->nr_cpus; i++)
		if (vcpu_start(&vm->vcpus[i]))
			vm_request_exit(vm, VM_EXIT_ERROR, 1);

	wait_for_exit(vm, sfd);
	/* A held VM that is told to stop: let its vCPUs leave. */
	pthread_mutex_lock(&vm->hold_lock);
	pthread_cond_broadcast(&vm->hold_cond);
	pthread_mutex_unlock(&vm->hold_lock);

	status = exit_status(vm);
	if (fe->exiting)
		fe->exiting(fe->opaque, status);
	for (i = 0; i < vm->nr_cpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (i = 0; i < vm->nr_cpus; i++)
		vcpu_join(&vm->vcpus[i]);
	timing_mark(TIMING_END);
	if (trace_on(EXIT))
		trace_exit_counts(vm);
	if (fe->stop)
		fe->stop(fe->opaque);
	if (sfd >= 0)
		close(sfd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return status;
}

void vm_print_debug(struct vm *vm, FILE *out)
{
	debug_vcpus(vm, out);
	debug_ioapic(vm, out);
	dump_bus(&vm->pio, out);
	dump_bus(&vm->mmio, out);
}

void vm_stop_loop(struct vm *vm)
{
	if (vm->loop_ready)
		evloop_stop(&vm->loop);
}

void vm_destroy(struct vm *vm)
{
	unsigned int i;

	vm_stop_loop(vm);
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
	pthread_cond_destroy(&vm->hold_cond);
	pthread_mutex_destroy(&vm->hold_lock);
}
