// SPDX-License-Identifier: GPL-2.0
/*
 * The vCPU run loop: KVM_RUN, decode the exit, dispatch PIO/MMIO to the
 * iobus, and turn anything the VMM cannot continue from into a VM exit with
 * a message a kernel developer can act on.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "debug/timing.h"
#include "debug/trace.h"
#include "core/util.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "x86/x86.h"

static void kick_handler(int sig)
{
	(void)sig;	/* only here to make KVM_RUN return -EINTR */
}

int vcpu_signals_init(void)
{
	struct sigaction sa = { .sa_handler = kick_handler };

	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: KVM_RUN must return to us with EINTR. */
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	return 0;
}

static const char *const exit_names[VCPU_EXIT_REASONS] = {
	[KVM_EXIT_UNKNOWN] = "unknown", [KVM_EXIT_EXCEPTION] = "exception",
	[KVM_EXIT_IO] = "io", [KVM_EXIT_HYPERCALL] = "hypercall",
	[KVM_EXIT_DEBUG] = "debug", [KVM_EXIT_HLT] = "hlt",
	[KVM_EXIT_MMIO] = "mmio", [KVM_EXIT_IRQ_WINDOW_OPEN] = "irq_window",
	[KVM_EXIT_SHUTDOWN] = "shutdown", [KVM_EXIT_FAIL_ENTRY] = "fail_entry",
	[KVM_EXIT_INTR] = "intr", [KVM_EXIT_SET_TPR] = "set_tpr",
	[KVM_EXIT_TPR_ACCESS] = "tpr_access", [KVM_EXIT_NMI] = "nmi",
	[KVM_EXIT_INTERNAL_ERROR] = "internal_error",
	[KVM_EXIT_SYSTEM_EVENT] = "system_event",
	[KVM_EXIT_IOAPIC_EOI] = "ioapic_eoi", [KVM_EXIT_HYPERV] = "hyperv",
	[KVM_EXIT_X86_RDMSR] = "rdmsr", [KVM_EXIT_X86_WRMSR] = "wrmsr",
	[KVM_EXIT_DIRTY_RING_FULL] = "dirty_ring_full",
	[KVM_EXIT_X86_BUS_LOCK] = "bus_lock", [KVM_EXIT_XEN] = "xen",
	[VCPU_EXIT_REASONS - 1] = "other",
};

const char *vcpu_exit_name(unsigned int reason)
{
	if (reason >= VCPU_EXIT_REASONS - 1)
		return "other";
	return exit_names[reason] ? exit_names[reason] : "other";
}

void vcpu_print_stat(struct vcpu *vcpu, FILE *out)
{
	unsigned int r;

	fprintf(out, "vcpu%u exits %llu", vcpu->id,
		(unsigned long long)vcpu->nr_exits);
	for (r = 0; r < VCPU_EXIT_REASONS; r++)
		if (vcpu->exits_by[r])
			fprintf(out, " %s %llu", vcpu_exit_name(r),
				(unsigned long long)vcpu->exits_by[r]);
	fputc('\n', out);
	if (vcpu->nr_emul_handled)
		fprintf(out, "vcpu%u emulation failures handled %llu\n",
			vcpu->id, (unsigned long long)vcpu->nr_emul_handled);
	if (vcpu->stats.fd >= 0) {
		char prefix[32];

		snprintf(prefix, sizeof(prefix), "vcpu%u kvm", vcpu->id);
		kvm_stats_print(&vcpu->stats, prefix, out);
	}
}

/* KVM's counters of this vCPU, where the kernel has them (5.14+). */
static void open_stats(struct vcpu *vcpu)
{
	int fd = -1;

	if (ioctl(vcpu->vm->kvm_fd, KVM_CHECK_EXTENSION,
		  KVM_CAP_BINARY_STATS_FD) > 0)
		fd = ioctl(vcpu->fd, KVM_GET_STATS_FD, 0);
	if (fd >= 0 && kvm_stats_open(&vcpu->stats, fd))
		pr_warn("vCPU %u: KVM's statistics are unreadable: mvm stat shows mvm's counts only",
			vcpu->id);
	if (fd < 0)
		vcpu->stats.fd = -1;
}

/* --timing: the first exit from the upper half (debug/timing.c). */
static void timing_exit(struct vcpu *vcpu)
{
	struct kvm_regs r;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) == 0 && (r.rip >> 63))
		timing_mark(TIMING_KERNEL_HIGH);
}

int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned int id)
{
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->stats.fd = -1;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (vcpu->fd < 0) {
		pr_errno(errno, "vCPU %u: KVM_CREATE_VCPU failed", id);
		return -errno;
	}
	vcpu->run = mmap(NULL, (size_t)vm->vcpu_mmap_size,
			 PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		int err = errno;

		pr_errno(err, "vCPU %u: mmap of kvm_run failed", id);
		close(vcpu->fd);
		vcpu->fd = -1;
		vcpu->run = NULL;
		return -err;
	}
	open_stats(vcpu);
	return 0;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, (size_t)vcpu->vm->vcpu_mmap_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	kvm_stats_close(&vcpu->stats);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

static void handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t i;

	/* String I/O (rep outs/ins) arrives as `count` back-to-back items. */
	for (i = 0; i < run->io.count; i++) {
		bool hit = iobus_access(&vcpu->vm->pio, run->io.port, data,
					run->io.size, is_write);

		TRACE(PIO, "%s port %#x size %u value %#llx%s",
		      is_write ? "out" : "in", run->io.port, run->io.size,
		      (unsigned long long)get_leN(data, run->io.size),
		      hit ? "" : " unclaimed");
		if (!hit)
			pr_warn_ratelimited("vCPU %u: unclaimed %s port %#x size %u",
					    vcpu->id, is_write ? "write to" :
					    "read from", run->io.port,
					    run->io.size);
		data += run->io.size;
	}
}

static void handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	bool hit;

	if (run->mmio.len > sizeof(run->mmio.data))
		return;
	hit = iobus_access(&vcpu->vm->mmio, run->mmio.phys_addr,
			   run->mmio.data, run->mmio.len, run->mmio.is_write);
	TRACE(MMIO, "%s %#llx size %u value %#llx%s",
	      run->mmio.is_write ? "write" : "read",
	      (unsigned long long)run->mmio.phys_addr, run->mmio.len,
	      (unsigned long long)get_leN(run->mmio.data, run->mmio.len),
	      hit ? "" : " unclaimed");
	if (!hit)
		pr_warn_ratelimited("vCPU %u: unclaimed MMIO %s %#llx size %u",
				    vcpu->id, run->mmio.is_write ? "write" :
				    "read",
				    (unsigned long long)run->mmio.phys_addr,
				    run->mmio.len);
}

static const char *internal_suberror(uint32_t s)
{
	switch (s) {
	case KVM_INTERNAL_ERROR_EMULATION:
		return "emulation failure";
	case KVM_INTERNAL_ERROR_SIMUL_EX:
		return "exception while delivering an exception";
	case KVM_INTERNAL_ERROR_DELIVERY_EV:
		return "exit while delivering an event";
	default:
		return "unknown";
	}
}

static void dump_internal_error(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint32_t n = run->internal.ndata;

	pr_err("vCPU %u: KVM_EXIT_INTERNAL_ERROR suberror %u (%s)", vcpu->id,
	       run->internal.suberror,
	       internal_suberror(run->internal.suberror));
	if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
		vcpu_print_insn(vcpu);
	} else {
		uint32_t i;

		for (i = 0; i < n && i < ARRAY_SIZE(run->internal.data); i++)
			pr_err("vCPU %u: data[%u] = %#llx", vcpu->id, i,
			       (unsigned long long)run->internal.data[i]);
	}
}

void vcpu_dump(struct vcpu *vcpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		pr_errno(errno, "vCPU %u: cannot read registers", vcpu->id);
		return;
	}
	pr_err("vCPU %u: rip %016llx rsp %016llx rflags %08llx", vcpu->id,
	       r.rip, r.rsp, r.rflags);
	pr_err("vCPU %u: rax %016llx rbx %016llx rcx %016llx rdx %016llx",
	       vcpu->id, r.rax, r.rbx, r.rcx, r.rdx);
	pr_err("vCPU %u: rsi %016llx rdi %016llx rbp %016llx r8  %016llx",
	       vcpu->id, r.rsi, r.rdi, r.rbp, r.r8);
	pr_err("vCPU %u: cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx efer %llx",
	       vcpu->id, s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
	pr_err("vCPU %u: cs %04x (base %llx l %u db %u) ss %04x",
	       vcpu->id, s.cs.selector, s.cs.base, s.cs.l, s.cs.db,
	       s.ss.selector);
}

/* Returns true to keep running. */
static bool handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		handle_mmio(vcpu);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC; ours has one. */
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
			vm_request_exit(vm, VM_EXIT_REBOOT, 0);
		else
			vm_request_exit(vm, VM_EXIT_POWEROFF, 0);
		return false;
	case KVM_EXIT_SHUTDOWN:
		pr_err("vCPU %u: triple fault (KVM_EXIT_SHUTDOWN): the guest hit an exception it could not handle",
		       vcpu->id);
		vcpu_dump(vcpu);
		vm_request_exit(vm, VM_EXIT_ERROR, 1);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		if (vcpu_emulation_failure(vcpu))
			return true;
		dump_internal_error(vcpu);
		vcpu_dump(vcpu);
		vm_request_exit(vm, VM_EXIT_ERROR, 1);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		pr_err("vCPU %u: KVM_EXIT_FAIL_ENTRY, hardware reason %#llx: the vCPU state is invalid",
		       vcpu->id, (unsigned long long)
		       run->fail_entry.hardware_entry_failure_reason);
		vcpu_dump(vcpu);
		vm_request_exit(vm, VM_EXIT_ERROR, 1);
		return false;
	case KVM_EXIT_DEBUG:
		/* A breakpoint or single step the debugger asked for. */
		if (vm->debug)
			return vm->debug->debug_exit(vm->debug_opaque, vcpu);
		break;
	default:
		break;
	}
	pr_err("vCPU %u: unexpected KVM exit reason %u", vcpu->id,
	       run->exit_reason);
	vcpu_dump(vcpu);
	vm_request_exit(vm, VM_EXIT_ERROR, 1);
	return false;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	sigset_t set;

	/* Only the kick signal reaches vCPU threads. */
	sigfillset(&set);
	sigdelset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	trace_set_vcpu((int)vcpu->id);

	while (atomic_load(&vm->exit_reason) == VM_RUNNING) {
		/* Parks here while `mvm pause` or the debugger holds it. */
		vm_park_point(vm, vcpu->id);
		if (atomic_load(&vm->exit_reason) != VM_RUNNING)
			break;
		if (vcpu->id == 0 && timing_wants(TIMING_FIRST_ENTRY))
			timing_mark(TIMING_FIRST_ENTRY);
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				vcpu->run->immediate_exit = 0;
				continue;
			}
			pr_errno(errno, "vCPU %u: KVM_RUN failed", vcpu->id);
			vm_request_exit(vm, VM_EXIT_ERROR, 1);
			break;
		}
		vcpu->nr_exits++;
		vcpu->exits_by[MIN(vcpu->run->exit_reason,
				   VCPU_EXIT_REASONS - 1U)]++;
		TRACE(EXIT, "%s", vcpu_exit_name(vcpu->run->exit_reason));
		if (timing_wants(TIMING_KERNEL_HIGH))
			timing_exit(vcpu);
		if (!handle_exit(vcpu))
			break;
	}
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	char name[16];
	int err;

	err = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
	if (err) {
		pr_errno(err, "vCPU %u: cannot create thread", vcpu->id);
		return -err;
	}
	snprintf(name, sizeof(name), "mvm-vcpu%u", vcpu->id);
	pthread_setname_np(vcpu->thread, name);
	vcpu->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->started)
		return;
	/* immediate_exit closes the race with a signal sent just before
	 * KVM_RUN is entered (uapi kvm.h, KVM_CAP_IMMEDIATE_EXIT). */
	vcpu->run->immediate_exit = 1;
	pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *vcpu)
{
	if (!vcpu->started)
		return;
	pthread_join(vcpu->thread, NULL);
	vcpu->started = false;
}
