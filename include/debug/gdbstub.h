/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A GDB remote-protocol stub (docs/debugging.md, "GDB").
 *
 * Two layers:
 *  - debug/gdbstub.c: the protocol (packet framing, acks, escapes, command
 *    dispatch, target.xml, the listening thread).  It knows nothing of
 *    KVM: it drives a `struct gdb_target_ops`, so the unit test runs it
 *    against a fake target through a socketpair.
 *  - debug/gdb_kvm.c: the KVM target (vCPU registers, guest memory through
 *    the vCPU's page tables, KVM_SET_GUEST_DEBUG breakpoints and single
 *    step, pausing the vCPU threads) and the page-table walker.
 *
 * All-stop mode: a stop (breakpoint, step, Ctrl-C) pauses every vCPU.
 * GDB thread N+1 is vCPU N.
 */
#ifndef MVM_GDBSTUB_H
#define MVM_GDBSTUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The register file, in the order and sizes of the target description the
 * stub sends (amd64 core + sse + fs_base/gs_base + system registers, the
 * same set QEMU exposes).  'g' carries all of them, 'p'/'P' one by number.
 */
enum {
	GDB_REG_RAX = 0,	/* rax rbx rcx rdx rsi rdi rbp rsp r8..r15 */
	GDB_REG_RIP = 16,
	GDB_REG_EFLAGS = 17,
	GDB_REG_CS = 18,	/* cs ss ds es fs gs */
	GDB_REG_ST0 = 24,	/* st0..st7, 10 bytes each */
	GDB_REG_FCTRL = 32,	/* fctrl fstat ftag fiseg fioff foseg fooff fop */
	GDB_REG_XMM0 = 40,	/* xmm0..xmm15 */
	GDB_REG_MXCSR = 56,
	GDB_REG_FS_BASE = 57,
	GDB_REG_GS_BASE = 58,
	GDB_REG_K_GS_BASE = 59,
	GDB_REG_CR0 = 60,	/* cr0 cr2 cr3 cr4 cr8 efer */
	GDB_REG_EFER = 65,
	GDB_NR_REGS = 66,
};

struct gdb_regs {
	uint64_t gpr[16];	/* gdb order: rax rbx rcx rdx rsi rdi rbp rsp */
	uint64_t rip;
	uint32_t eflags;
	uint32_t seg[6];	/* selectors: cs ss ds es fs gs */
	uint8_t st[8][10];	/* st(0)..st(7), 80-bit */
	uint32_t fpu[8];	/* fctrl fstat ftag(full) fiseg fioff foseg fooff fop */
	uint8_t xmm[16][16];
	uint32_t mxcsr;
	uint64_t fs_base, gs_base, k_gs_base;
	uint64_t cr[5];		/* cr0 cr2 cr3 cr4 cr8 */
	uint64_t efer;
};

/* Z/z types, as numbered by the protocol. */
enum gdb_bp_type {
	GDB_BP_SW = 0,		/* int3 patched into guest memory */
	GDB_BP_HW = 1,		/* debug register, execute */
	GDB_WP_WRITE = 2,
	GDB_WP_READ = 3,	/* x86 has none: the KVM target refuses it */
	GDB_WP_ACCESS = 4,
};

enum gdb_stop_why {
	GDB_STOP_SIGINT,	/* Ctrl-C, or the stub's own stop on attach */
	GDB_STOP_STEP,
	GDB_STOP_SWBREAK,
	GDB_STOP_HWBREAK,
	GDB_STOP_WATCH,		/* addr: the watched address */
	GDB_STOP_RWATCH,
	GDB_STOP_AWATCH,
};

struct gdb_stop {
	unsigned int cpu;
	enum gdb_stop_why why;
	uint64_t addr;
};

/*
 * What the stub needs from a target.  `t` is the opaque pointer given to
 * gdbstub_create().  Calls come from the stub's thread only, and (except
 * stop_all) only while the target is stopped.  Errors are -errno.
 */
struct gdb_target_ops {
	unsigned int (*nr_threads)(void *t);
	int (*read_regs)(void *t, unsigned int cpu, struct gdb_regs *r);
	int (*write_regs)(void *t, unsigned int cpu, const struct gdb_regs *r);
	/* Bytes transferred (> 0; short at the first unmapped page), or
	 * -errno if not even the first byte is accessible.  `phys`: addr is
	 * guest-physical (monitor "phys on"), else virtual through `cpu`'s
	 * page tables. */
	ssize_t (*read_mem)(void *t, unsigned int cpu, uint64_t addr,
			    void *buf, size_t len, bool phys);
	ssize_t (*write_mem)(void *t, unsigned int cpu, uint64_t addr,
			     const void *buf, size_t len, bool phys);
	/* -EOPNOTSUPP makes the stub answer "" (gdb then tries another way);
	 * virtual addresses are translated through `cpu`. */
	int (*set_bp)(void *t, unsigned int cpu, enum gdb_bp_type type,
		      uint64_t addr, unsigned int len);
	int (*clear_bp)(void *t, unsigned int cpu, enum gdb_bp_type type,
			uint64_t addr, unsigned int len);
	/* Resume: every vCPU, or only `cpu` for one instruction. */
	int (*cont)(void *t);
	int (*step)(void *t, unsigned int cpu);
	/* Pause every vCPU; returns once none of them runs guest code. */
	int (*stop_all)(void *t);
	/* The client left (D, or the connection dropped): remove every
	 * breakpoint, leave debug mode, let the guest run. */
	void (*detach)(void *t);
	/* 'k': end the VM. */
	void (*kill)(void *t);
};

/* Largest packet payload we accept and announce (PacketSize). */
#define GDB_PACKET_SIZE		4096

struct gdbstub;

struct gdbstub *gdbstub_create(const struct gdb_target_ops *ops, void *target);
/*
 * Listen on "[ADDR:]PORT" (ADDR defaults to 127.0.0.1; "[::1]:PORT" for
 * IPv6; PORT 0 picks a free one, see gdbstub_port()) and serve one client
 * at a time from a thread of its own ("mvm-gdb").
 */
int gdbstub_start(struct gdbstub *g, const char *addr_port);
int gdbstub_port(const struct gdbstub *g);
/* Serve one session on a connected socket until the client detaches,
 * kills, disconnects or the stub is destroyed (unit tests, --gdb stdio). */
int gdbstub_serve(struct gdbstub *g, int fd);
/* From any thread: the target stopped on its own (breakpoint, step). */
void gdbstub_report_stop(struct gdbstub *g, const struct gdb_stop *stop);
/* From any thread: the VM is gone; a connected client gets "W<status>". */
void gdbstub_report_exit(struct gdbstub *g, int status);
/* Stop the thread, close the sockets, free. */
void gdbstub_destroy(struct gdbstub *g);

/* ---- KVM target: debug/gdb_kvm.c ---- */

struct vm;
struct vcpu;
struct guest_mem;
struct gdb_kvm;

/*
 * Create the KVM target and its stub listening on addr_port, and hook it
 * into the vCPU run loop (vm->debug).  With `wait` the vCPUs stay held
 * before their first instruction until a client attaches and continues.
 * Call before the vCPU threads start.
 */
int gdb_kvm_start(struct vm *vm, const char *addr_port, bool wait,
		  struct gdb_kvm **out);
/* The VM is ending: tell the client.  Call before joining the vCPUs. */
void gdb_kvm_vm_exiting(struct gdb_kvm *k, int status);
/* After the vCPU threads are joined. */
void gdb_kvm_destroy(struct gdb_kvm *k);

#endif
