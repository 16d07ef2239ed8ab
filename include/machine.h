/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PC board mvm builds: a KVM VM (core/) with the legacy devices, the
 * PCI bus, the passed-through functions and the virtio devices on it, the
 * firmware tables, and the front-ends around a run (console, control
 * socket, gdb).  machine_build() is the board's datasheet: one ordered
 * list of steps, each undone by machine_destroy() if a later one fails.
 */
#ifndef MVM_MACHINE_H
#define MVM_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/vm.h"
#include "debug/control.h"
#include "hostroot/hostroot.h"
#include "pci/devctx.h"
#include "virtio/virtio_fs.h"	/* struct virtio_fs_spec: --share */
#include "virtio/virtio_net.h"	/* struct virtio_net_spec: -n */

#define VM_MAX_PASSTHROUGH	8
#define VM_MAX_DISKS		8	/* -d: virtio-blk devices */
#define VM_MAX_NETS		4	/* -n: virtio-net devices */
#define VM_MAX_SHARES		8	/* --share: virtio-fs devices */
#define VM_DEFAULT_MEM		(256ULL << 20)
#define VM_DEFAULT_CMDLINE	"console=ttyS0 reboot=k panic=-1"
/* Devices the board tracks for teardown, `mvm stat` and `mvm debug`. */
#define MACHINE_MAX_DEVS	(8 + VM_MAX_PASSTHROUGH + VM_MAX_DISKS + \
				 VM_MAX_NETS + VM_MAX_SHARES)

struct machine_config {
	const char *kernel;		/* NULL: boot the embedded guest */
	bool guest_decompress;		/* --no-host-decompress */
	const char *initrd;
	const char *params;		/* appended to the default cmdline */
	uint64_t mem_size;		/* bytes */
	bool hugepages;			/* --hugepages: hugetlbfs RAM */
	bool mem_prealloc;		/* --mem-prealloc: all RAM at start */
	bool mem_overcommit;		/* --mem-overcommit: more than free */
	unsigned int nr_cpus;
	const char *name;
	bool debug_exit;		/* port 0xf4 ends the VM with a status */
	/* Image in memory instead of a file (embedded guest, tests). */
	const uint8_t *kernel_image;
	size_t kernel_image_len;
	const char *kernel_label;	/* name used in messages */
	int console_in_fd;		/* -1: no console input */
	int console_out_fd;
	const char *gdb;		/* --gdb [ADDR:]PORT, NULL: none */
	bool gdb_wait;			/* --gdb-wait: stopped until attached */
	/* --passthrough: host BDFs, or "sim:MODEL[,k=v...]" */
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
	/* --share HOSTDIR[,tag=NAME][,ro]: one virtio-fs + virtiofsd each;
	 * guest RAM is then a shared memfd (vhost-user). */
	struct virtio_fs_spec shares[VM_MAX_SHARES];
	unsigned int nr_shares;
	const char *virtiofsd;		/* --virtiofsd PATH, NULL: search */
	bool control;			/* listen on the control socket */
	/* --pvm-compat in effect: CPUID features hidden, cmdline options
	 * appended, their instructions get #UD (include/x86/pvm.h). */
	bool pvm_compat;
	bool host_pvm;			/* the host's KVM is PVM */
	/*
	 * Host-root mode (-k without -i/-d): mvm's init and initramfs, the
	 * command's stdout/stderr on two virtio-consoles (to console_out_fd
	 * and console_err_fd), the kernel's ttyS0 to console_err_fd, the
	 * status through the debug-exit port.  Only for a Linux kernel (a
	 * version in its header): test guests boot as before unless the
	 * mode is asked for (a command, --modules, --modprobe).
	 */
	bool hostroot;
	struct hostroot_config hostroot_cfg;
	int console_err_fd;
};

/*
 * What the board keeps of each device it built: how to free it and how
 * it prints its own state.  Any of the three may be NULL.
 */
struct machine_dev_ops {
	void (*destroy)(void *dev);
	void (*print_stat)(void *dev, FILE *out);	/* `mvm stat` */
	void (*print_debug)(void *dev, FILE *out);	/* `mvm debug` */
};

struct machine_dev {
	const struct machine_dev_ops *ops;
	void *dev;
};

struct serial;
struct vfio_pci;
struct virtio_console;
struct gdb_kvm;
struct machine_legacy;
struct machine_pending;

struct machine {
	struct vm vm;
	struct machine_config cfg;
	struct device_ctx devctx;	/* what PCI device models may use */
	struct pci_bus *pci;
	uint64_t mmio64_base;		/* 64-bit PCI window, above RAM */
	uint64_t mmio64_size;
	/* Entry state from the loader, for the boot vCPU. */
	uint64_t entry_rip;
	uint64_t entry_rsi;
	uint64_t rsdp_gpa;

	/* Every device built, in build order (freed in reverse). */
	struct machine_dev devs[MACHINE_MAX_DEVS];
	unsigned int nr_devs;
	/* The few the board itself talks to after building them. */
	struct serial *serial;			/* console output/input */
	struct machine_legacy *legacy;		/* i8042, RTC, ACPI PM ... */
	struct virtio_console *virtio_console;	/* --console virtio, hvc0 */
	struct vfio_pci *passthrough[VM_MAX_PASSTHROUGH]; /* in devs[] too */
	unsigned int nr_passthrough;
	/* Opened before KVM (bad input first), handed to devices later. */
	struct machine_pending *pending;

	/* Front-ends around vm_run(). */
	struct control control;		/* `mvm stop|stat|... NAME` */
	struct gdb_kvm *gdb;		/* --gdb stub, NULL: none */
};

/* Fill cfg with defaults (256 MiB, 1 vCPU, stdin/stdout console). */
void machine_config_init(struct machine_config *cfg);
/* Build the whole machine; on failure everything built so far is undone. */
int machine_build(struct machine *m, const struct machine_config *cfg);
/* Run until the guest or a signal ends the VM; returns the process status. */
int machine_run(struct machine *m);
void machine_destroy(struct machine *m);
/*
 * One build step on its own: the host bridge, config mechanism #1 and
 * ECAM, the 64-bit window above RAM, and m->devctx for PCI device models.
 * Needs guest RAM and the VM's router (tests/lib/test_machine.c uses it
 * on a fake KVM).
 */
int machine_add_pci(struct machine *m);
/* What `mvm stat` prints: exits per vCPU, router, per-device counters. */
void machine_stat(struct machine *m, FILE *out);
/* What `mvm debug` prints: vCPUs, IOAPIC, buses, per-device state. */
void machine_debug(struct machine *m, FILE *out);

#endif
