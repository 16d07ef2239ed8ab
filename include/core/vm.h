/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The KVM virtual machine: /dev/kvm and the VM fd, guest RAM and its
 * memory slots, the in-kernel irqchip and the GSI router, the two I/O
 * buses, the event loop, the vCPUs, and the VM's end (exit reason,
 * status) and holds (pause, debugger).  It knows no concrete device: the
 * board (machine.c) builds the devices on top and wires them to the buses
 * and the irqchip.  vm_run() is the straight line of a running VM:
 * front-ends start, vCPUs run, something ends the VM, everything stops.
 */
#ifndef MVM_VM_H
#define MVM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/evloop.h"
#include "core/exit.h"
#include "core/guest_mem.h"
#include "core/iobus.h"
#include "core/irq.h"
#include "core/irq_router.h"
#include "core/memslot.h"

#define VM_MAX_CPUS		64

struct vcpu;

/* Why vCPUs are held outside KVM_RUN; any set bit holds them. */
enum vm_hold {
	VM_HOLD_PAUSE = 1u << 0,	/* `mvm pause` */
	VM_HOLD_DEBUGGER = 1u << 1,	/* gdb stopped the VM */
};

/*
 * A debugger's hooks into the vCPU run loop (debug/gdb_kvm.c sets them).
 * Each returns true when the event was the debugger's (the vCPU then runs
 * on, or parks if the debugger took the hold).
 */
struct vm_debug_hooks {
	/* KVM_EXIT_DEBUG: a breakpoint, watchpoint or single step. */
	bool (*debug_exit)(void *opaque, struct vcpu *vcpu);
	/* An int3 at gva that KVM could not emulate (PVM hosts). */
	bool (*sw_bp_hit)(void *opaque, struct vcpu *vcpu, uint64_t gva);
};

/*
 * What runs around the vCPUs in vm_run() (the board's console, control
 * socket and debugger).  start: before any vCPU runs; non-zero refuses
 * the run (status 1).  exiting: the VM is ending with `status`, before
 * the vCPUs are joined.  stop: after they are joined.
 */
struct vm_frontends {
	int (*start)(void *opaque);
	void (*exiting)(void *opaque, int status);
	void (*stop)(void *opaque);
	void *opaque;
};

struct vm {
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;
	struct guest_mem mem;
	struct iobus pio;
	struct iobus mmio;
	struct vcpu *vcpus;
	unsigned int nr_cpus;
	struct irq_line isa_irq[16];	/* IOAPIC pins 0-15 */
	struct irq_router router;	/* GSI routes, irqfd, MSI */
	bool router_ready;
	struct evloop loop;		/* masked vectors, commit timer */
	bool loop_ready;
	uint64_t memslots_used;		/* bitmap: 0, 1 are RAM */
	/* CPUID policy (x86/cpuid.c) and emulation (core/vcpu_emul.c). */
	bool pvm_compat;		/* --pvm-compat in effect */
	bool host_pvm;			/* the host's KVM is PVM */

	const struct vm_debug_hooks *debug;	/* NULL: no debugger */
	void *debug_opaque;

	/* Holds (enum vm_hold): vCPUs park before KVM_RUN while any is
	 * set, except `hold_only`, which may run while the debugger alone
	 * holds the VM (single step). */
	pthread_mutex_t hold_lock;
	pthread_cond_t hold_cond;	/* parked/released, both ways */
	_Atomic unsigned int holds;
	int hold_only;
	unsigned int parked;
	bool is_parked[VM_MAX_CPUS];

	int exit_efd;		/* eventfd: wakes vm_run() on exit */
	/* First exit reason wins; vCPU threads poll `exit_reason`. */
	_Atomic int exit_reason;
	int exit_status;
};

/* ---- building it, in the order the board calls these ---- */

/* Zero the VM, no fds open, buses empty.  Nothing to undo yet. */
void vm_init(struct vm *vm);
/* Guest RAM around the PCI hole (no KVM needed); flags GUEST_MEM_*. */
int vm_memory_alloc(struct vm *vm, uint64_t size, unsigned int flags);
/* /dev/kvm: API version, the capabilities mvm needs, nr_cpus allowed. */
int vm_kvm_open(struct vm *vm, unsigned int nr_cpus);
/* KVM_CREATE_VM, the VMX helpers' pages, RAM in its memory slots. */
int vm_create(struct vm *vm);
/* In-kernel PIC, IOAPIC, LAPICs and PIT; isa_irq[] lines to the pins. */
int vm_irqchip_init(struct vm *vm);
/* The GSI routing table and the event loop thread. */
int vm_router_init(struct vm *vm);
/* nr_cpus vCPU fds, no state set yet (the board sets CPUID and boot state). */
int vm_vcpus_create(struct vm *vm, unsigned int nr_cpus);

/* Stop the event loop: call before freeing devices that have callbacks. */
void vm_stop_loop(struct vm *vm);
/* Undo everything above; the board has freed its devices. */
void vm_destroy(struct vm *vm);

/* KVM memory slots and ioeventfds for devices (pci/devctx.h), opaque vm. */
extern const struct memslot_ops vm_memslot_ops;
extern const struct ioeventfd_ops vm_ioeventfd_ops;

/* ---- running it ---- */

/* Run until the guest or a signal ends the VM; returns the process status. */
int vm_run(struct vm *vm, const struct vm_frontends *fe);
/*
 * Ask the VM to stop.  Safe from any thread and from devices; the first
 * reason is kept.  Works on a zero-initialised struct vm (unit tests:
 * exit_efd 0 is never ours, so it is not written).
 */
void vm_request_exit(struct vm *vm, enum vm_exit_reason why, int status);
/* The same as a device's exit line. */
struct exit_line vm_exit_line(struct vm *vm);
/* Set an IOAPIC pin's level (KVM_IRQ_LINE); opaque is the struct vm. */
void vm_irq_line(void *vm, unsigned int pin, int level);

/*
 * Take hold `why`: no vCPU enters KVM_RUN until it is released.  Returns
 * once every vCPU is parked (or the VM is ending); -EALREADY (after the
 * same wait) if `why` was already held.
 */
int vm_hold(struct vm *vm, enum vm_hold why);
/* The same without waiting (before the vCPUs start: --gdb-wait). */
void vm_hold_nowait(struct vm *vm, enum vm_hold why);
/*
 * Release `why`; -EALREADY if it was not held.  With only >= 0 the
 * debugger's hold stays and vCPU `only` alone may run (single step).
 */
int vm_release(struct vm *vm, enum vm_hold why, int only);
/*
 * A vCPU thread asks for hold `why` without waiting (a breakpoint hit):
 * granted, and true, unless `why` is held already and `id` is not the
 * vCPU let run; the vCPU parks at the top of its loop.
 */
bool vm_hold_from_vcpu(struct vm *vm, enum vm_hold why, unsigned int id);
/* A vCPU thread parks here while a hold applies to it. */
void vm_park_point(struct vm *vm, unsigned int id);

/* `mvm stat`: exits per vCPU, GSI router counters. */
void vm_print_stat(struct vm *vm, FILE *out);
/* `mvm debug`: vCPU registers and code at RIP, IOAPIC, both buses. */
void vm_print_debug(struct vm *vm, FILE *out);

#endif
