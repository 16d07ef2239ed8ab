/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One virtual machine: KVM handles, guest RAM, the two I/O buses, the PCI
 * bus and the vCPUs.  vm_build() assembles the machine in one explicit,
 * ordered list (read it as the machine's datasheet); vm_run() starts the
 * vCPU threads and waits until something ends the VM.
 */
#ifndef MVM_VM_H
#define MVM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "debug/control.h"
#include "pci/devctx.h"
#include "core/evloop.h"
#include "core/guest_mem.h"
#include "core/iobus.h"
#include "core/irq.h"
#include "core/irq_router.h"
#include "virtio/virtio_net.h"	/* virtio-net: -n */

#define VM_MAX_CPUS		64
#define VM_MAX_PASSTHROUGH	8
#define VM_MAX_DISKS		8	/* -d: virtio-blk devices */
#define VM_MAX_NETS		4	/* -n: virtio-net devices */
#define VM_DEFAULT_MEM		(256ULL << 20)
#define VM_DEFAULT_CMDLINE	"console=ttyS0 reboot=k panic=-1"

struct vm_config {
	const char *kernel;		/* NULL: boot the embedded guest */
	const char *initrd;
	const char *params;		/* appended to the default cmdline */
	uint64_t mem_size;		/* bytes */
	unsigned int nr_cpus;
	const char *name;
	bool debug_exit;		/* port 0xf4 ends the VM with a status */
	/* Image in memory instead of a file (embedded guest, tests). */
	const uint8_t *kernel_image;
	size_t kernel_image_len;
	const char *kernel_label;	/* name used in messages */
	int console_in_fd;		/* -1: no console input */
	int console_out_fd;
	/* --passthrough: host BDFs, or "sim:MODEL[,k=v...]" */
	const char *gdb;		/* --gdb [ADDR:]PORT, NULL: none */
	bool gdb_wait;			/* --gdb-wait: stopped until attached */
	const char *passthrough[VM_MAX_PASSTHROUGH];
	unsigned int nr_passthrough;
	bool virtio_rng;		/* --rng: a virtio-rng device */
	bool virtio_console;		/* --console virtio (default: serial) */
	/* virtio-net: -n/--network tap=NAME[,mac=...], one device each */
	struct virtio_net_spec nets[VM_MAX_NETS];
	unsigned int nr_nets;
	/* -d/--disk: "FILE[,ro][,format=raw|qcow2]", one virtio-blk each */
	const char *disks[VM_MAX_DISKS];
	unsigned int nr_disks;
	bool control;			/* listen on the control socket */
	/* --pvm-compat in effect: CPUID features hidden, cmdline options
	 * appended, their instructions get #UD (include/x86/pvm.h). */
	bool pvm_compat;
	bool host_pvm;			/* the host's KVM is PVM */
};

enum vm_exit_reason {
	VM_RUNNING = 0,
	VM_EXIT_POWEROFF,	/* ACPI S5: status 0 */
	VM_EXIT_REBOOT,		/* i8042 reset / triple fault with reboot=k */
	VM_EXIT_DEBUG_EXIT,	/* guest wrote a status to the debug-exit port */
	VM_EXIT_SIGNAL,		/* SIGINT / SIGTERM */
	VM_EXIT_ERROR,		/* internal error, unexpected exit */
};

struct vcpu;
struct serial;
struct vfio_pci;
struct gdb_kvm;
struct vfio_host;
struct pci_bus;
struct vm_devices;
struct vm_virtio;

struct vm {
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;
	struct vm_config cfg;
	struct guest_mem mem;
	struct iobus pio;
	struct iobus mmio;
	struct pci_bus *pci;
	struct serial *serial;
	struct vcpu *vcpus;
	unsigned int nr_cpus;
	struct irq_line isa_irq[16];	/* IOAPIC pins 0-15 */
	struct irq_router router;	/* GSI routes, irqfd, MSI */
	bool router_ready;
	struct evloop loop;		/* masked vectors, commit timer */
	bool loop_ready;
	struct device_ctx devctx;	/* what PCI device models may use */
	struct gdb_kvm *gdb;		/* --gdb stub, NULL: none */
	uint64_t memslots_used;		/* bitmap: 0, 1 are RAM */
	struct vfio_pci *passthrough[VM_MAX_PASSTHROUGH];
	unsigned int nr_passthrough;
	struct vm_virtio *virtio;	/* virtio devices, core/vm.c */

	/* Entry state from the loader, for the boot vCPU. */
	uint64_t entry_rip;
	uint64_t entry_rsi;
	uint64_t rsdp_gpa;
	uint64_t mmio64_base;	/* 64-bit PCI window, above RAM */
	uint64_t mmio64_size;
	struct vm_devices *devices;	/* legacy devices, core/vm.c */
	int exit_efd;		/* eventfd: wakes vm_run() on exit */
	struct control control;	/* `mvm stop|stat|... NAME` */

	/* mvm pause/resume: vCPUs park before KVM_RUN while `paused`. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	_Atomic bool paused;
	unsigned int parked;

	/* First exit reason wins; vCPU threads poll `exit_reason`. */
	_Atomic int exit_reason;
	int exit_status;
	pthread_mutex_t exit_lock;
};

/* Fill cfg with defaults (256 MiB, 1 vCPU, stdin/stdout console). */
void vm_config_init(struct vm_config *cfg);
/* Build the whole machine; on failure everything built so far is undone. */
int vm_build(struct vm *vm, const struct vm_config *cfg);
/* Run until the guest or a signal ends the VM; returns the process status. */
int vm_run(struct vm *vm);
void vm_destroy(struct vm *vm);
/* What `mvm stat` prints: exits per vCPU, router and MSI-X counters. */
void vm_stat(struct vm *vm, FILE *out);
/*
 * Ask the VM to stop.  Safe from any thread and from devices; the first
 * reason is kept.  Works on a zero-initialised struct vm (unit tests:
 * exit_efd 0 is never ours, so it is not written).
 */
void vm_request_exit(struct vm *vm, enum vm_exit_reason why, int status);
/*
 * Stop every vCPU outside KVM_RUN (returns once all are parked) and let
 * them go again.  -EALREADY if already in that state.
 */
int vm_pause(struct vm *vm);
int vm_resume(struct vm *vm);
/* A vCPU thread parks here while the VM is paused. */
void vm_pause_point(struct vm *vm);
/* Set an IOAPIC pin's level (KVM_IRQ_LINE). */
void vm_irq_line(void *vm, unsigned int pin, int level);

#endif
