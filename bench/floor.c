// SPDX-License-Identifier: GPL-2.0
/*
 * floor: the least a KVM VMM process can do, as a reference for `mvm run`.
 * Open /dev/kvm, create the VM mvm creates (TSS, 256 MiB of RAM mapped the
 * same way in one slot, in-kernel irqchip and PIT, one vCPU), run one
 * guest instruction (real mode `out %al, $0xf4`), report the exit with one
 * byte on stdout ("!", which bench/benchrun times as the first guest
 * instruction) and exit.
 *
 *   floor [MiB]      (default 256)
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

int main(int argc, char **argv)
{
	uint64_t size = (argc > 1 ? strtoull(argv[1], NULL, 0) : 256) << 20;
	struct kvm_pit_config pit = { .flags = 0 };
	struct kvm_userspace_memory_region slot = { 0 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rflags = 2, .rax = 0 };
	struct kvm_run *run;
	int kvm, vm, cpu, run_size;
	uint8_t *mem;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	if (ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0)
		die("KVM_SET_TSS_ADDR");
	/* Guest RAM exactly as core/guest_mem.c maps it: 2 MiB-aligned
	 * (reserve 2 MiB more, map over the aligned part). */
	mem = mmap(NULL, size + (2UL << 20), PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	mem = (void *)(((uintptr_t)mem + (2UL << 20) - 1) & ~((2UL << 20) - 1));
	if (mmap(mem, size, PROT_READ | PROT_WRITE, MAP_PRIVATE |
		 MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED)
		die("mmap");
	madvise(mem, size, MADV_HUGEPAGE);
	slot.memory_size = size;
	slot.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		die("KVM_CREATE_IRQCHIP");
	if (ioctl(vm, KVM_CREATE_PIT2, &pit) < 0)
		die("KVM_CREATE_PIT2");
	cpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (cpu < 0)
		die("KVM_CREATE_VCPU");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");

	/* Real mode at 0:0: out %al, $0xf4 (e6 f4). */
	mem[0] = 0xe6;
	mem[1] = 0xf4;
	if (ioctl(cpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(cpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
	if (ioctl(cpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");
	if (ioctl(cpu, KVM_RUN, 0) < 0)
		die("KVM_RUN");
	if (run->exit_reason != KVM_EXIT_IO || run->io.port != 0xf4) {
		fprintf(stderr, "floor: unexpected exit reason %u\n",
			run->exit_reason);
		return 1;
	}
	if (write(STDOUT_FILENO, "!", 1) != 1)
		return 1;
	return 0;
}
