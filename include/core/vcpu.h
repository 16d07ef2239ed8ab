/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One vCPU = one KVM vCPU fd + one host thread running KVM_RUN.  The run
 * loop is the straight line: KVM_RUN -> exit reason -> iobus dispatch ->
 * device -> (irq layer) -> back into the guest.
 */
#ifndef MVM_VCPU_H
#define MVM_VCPU_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/kvm.h>

#include "core/kvm_stats.h"

struct vm;

/* KVM_EXIT_* up to KVM_EXIT_NOTIFY (37, Linux 6.0); the last slot: others. */
#define VCPU_EXIT_REASONS	39

struct vcpu {
	struct vm *vm;
	unsigned int id;	/* also its APIC ID */
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	uint64_t nr_exits;
	/* The exits that reached mvm, by KVM_EXIT_* (the last: any other). */
	uint64_t exits_by[VCPU_EXIT_REASONS];
	/* Emulation failures finished as the CPU would (core/vcpu_emul.c). */
	uint64_t nr_emul_handled;
	/* KVM's own counters (KVM_GET_STATS_FD); fd -1 before 5.14. */
	struct kvm_stats stats;
};

/* "io", "mmio"... for exits_by[i]. */
const char *vcpu_exit_name(unsigned int reason);
/* "vcpuN exits N (io A mmio B ...)" and KVM's counters, a line each. */
void vcpu_print_stat(struct vcpu *vcpu, FILE *out);

int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned int id);
void vcpu_destroy(struct vcpu *vcpu);
int vcpu_start(struct vcpu *vcpu);
/* Make KVM_RUN return soon (immediate_exit + signal); safe from any thread. */
void vcpu_kick(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);
/* Print registers and, for emulation failures, the instruction bytes. */
void vcpu_dump(struct vcpu *vcpu);
/*
 * KVM_EXIT_INTERNAL_ERROR: finish what KVM's emulator could not where the
 * architecture allows (#BP for int3, #UD for a hidden feature; see
 * include/x86/pvm.h).  True when handled and the vCPU may run on.
 */
bool vcpu_emulation_failure(struct vcpu *vcpu);
/* Print the bytes at RIP after an emulation failure (core/vcpu_emul.c). */
void vcpu_print_insn(struct vcpu *vcpu);
/*
 * Copy guest-virtual memory at gva as the vCPU sees it now (KVM_TRANSLATE
 * page by page; guest RAM only).  Returns the bytes copied: short at the
 * first unmapped page.  Not while the vCPU is in KVM_RUN.
 */
size_t vcpu_read_virt(struct vcpu *vcpu, uint64_t gva, uint8_t *buf,
		      size_t len);
/* Signal used to kick vCPU threads out of KVM_RUN. */
#define VCPU_KICK_SIGNAL	SIGUSR1
int vcpu_signals_init(void);

#endif
