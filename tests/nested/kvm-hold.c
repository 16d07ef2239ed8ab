// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-hold: keep one idle VM alive for the whole nested run (started by
 * run-in-kvm.sh's init before the payload).
 *
 * Why: the L1 kernel patches its own code whenever a KVM static key flips,
 * and QEMU's multi-threaded TCG can then keep running a translated block
 * that still holds text_poke_bp()'s transient int3, which stalls the
 * nested Linux for good (tests/nested/README.md, "nested stall").  Keys
 * that flip with the VMs' lifetimes:
 *   - preempt_notifier_key (kernel/sched/core.c): on with the first VM
 *     (kvm_create_vm -> preempt_notifier_inc), off with the last;
 *   - apic_sw_disabled (arch/x86/kvm/lapic.c): raised for every new
 *     in-kernel LAPIC until its guest software-enables it.
 * This VM has an in-kernel irqchip and one vCPU that never runs, so both
 * stay on for the whole run, and test VMs with an in-kernel irqchip (all
 * of mvm's) flip neither.  Not covered: kvm_has_noapic_vcpu (a vCPU
 * without an in-kernel LAPIC, as in kvm_smoke.c's real-mode VM) and
 * apic_hw_disabled (a guest clearing APICBASE.EN).
 * (It also keeps kvm_usage_count above 0: SVM is not switched on and off
 * on every CPU for each test VM.)
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

static int fail(const char *what)
{
	perror(what);
	return 1;
}

int main(void)
{
	int kvm, vm;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("kvm-hold: open /dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0UL);
	if (vm < 0)
		return fail("kvm-hold: KVM_CREATE_VM");
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0UL) < 0)
		return fail("kvm-hold: KVM_CREATE_IRQCHIP");
	if (ioctl(vm, KVM_CREATE_VCPU, 0UL) < 0)
		return fail("kvm-hold: KVM_CREATE_VCPU");
	printf("kvm-hold: holding\n");
	fflush(stdout);
	for (;;)
		pause();
}
