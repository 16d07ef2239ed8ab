// SPDX-License-Identifier: GPL-2.0
/*
 * The KVM side of the gdb stub (include/debug/gdbstub.h): a struct
 * gdb_target_ops over the VM's vCPUs, and the guest page-table walker.
 *
 * Pausing: the stub thread takes the VM's debugger hold (vm_hold(), the
 * same parking `mvm pause` uses): every vCPU parks at the top of its run
 * loop, outside KVM_RUN.  Only while every vCPU is parked does the stub
 * thread issue vCPU ioctls (registers, KVM_SET_GUEST_DEBUG), so no vCPU
 * fd is used by two threads at once.  Single step lets one vCPU run with
 * KVM_GUESTDBG_SINGLESTEP while the others stay parked.
 *
 * Breakpoints: Z0 patches int3 (0xcc) into guest RAM with
 * KVM_GUESTDBG_USE_SW_BP so #BP exits to us (an int3 that is not ours is
 * re-injected with KVM_GUESTDBG_INJECT_BP); reads show the original bytes.
 * Z1/Z2/Z4 use the four debug registers (KVM_GUESTDBG_USE_HW_BP), shared.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <linux/kvm.h>

#include "debug/gdbstub.h"
#include "core/guest_mem.h"
#include "core/util.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "x86/page_walk.h"

#define MAX_SW_BPS		256
#define NR_HW_BPS		4
#define BP_VECTOR		3
#define DB_VECTOR		1
#define DR6_BS			(1ULL << 14)
#define MSR_KERNEL_GS_BASE	0xc0000102
#define PAGE_SIZE_4K		4096ULL

struct sw_bp {
	bool used;
	uint64_t gva, gpa;
	uint8_t orig;
};

struct hw_bp {
	bool used;
	enum gdb_bp_type type;
	uint64_t addr;
	unsigned int len;
};

struct gdb_kvm {
	struct vm *vm;
	struct gdbstub *stub;
	bool have_guest_debug;
	uint32_t debug_caps;		/* KVM_CAP_SET_GUEST_DEBUG2 */

	pthread_mutex_t lock;		/* breakpoints, stepping[] */
	bool stepping[VM_MAX_CPUS];
	/* Last KVM_SET_GUEST_DEBUG state per vCPU (re-sent with INJECT_*). */
	struct kvm_guest_debug dbg[VM_MAX_CPUS];

	struct sw_bp sw[MAX_SW_BPS];
	struct hw_bp hw[NR_HW_BPS];
};

static struct vcpu *vcpu_of(struct gdb_kvm *k, unsigned int cpu)
{
	return cpu < k->vm->nr_cpus ? &k->vm->vcpus[cpu] : NULL;
}

/* Stop every vCPU: the VM's debugger hold (core/vm.c parks them). */
static int kvm_stop_all(void *t)
{
	struct gdb_kvm *k = t;

	vm_hold(k->vm, VM_HOLD_DEBUGGER);
	return 0;
}

/* ---- KVM_SET_GUEST_DEBUG ---- */

static void debug_state(struct gdb_kvm *k, bool step, struct kvm_guest_debug *d)
{
	bool sw = false, hw = false;
	unsigned int i;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < MAX_SW_BPS; i++)
		sw |= k->sw[i].used;
	/* DR7: GE and bit 10 (reserved, 1), then per slot G, R/W, LEN. */
	d->arch.debugreg[7] = 0x600;
	for (i = 0; i < NR_HW_BPS; i++) {
		static const uint8_t rw[] = {
			[GDB_BP_HW] = 0, [GDB_WP_WRITE] = 1,
			[GDB_WP_ACCESS] = 3,
		};
		struct hw_bp *b = &k->hw[i];
		unsigned int len;

		if (!b->used)
			continue;
		hw = true;
		len = b->type == GDB_BP_HW ? 0 : b->len == 1 ? 0 :
		      b->len == 2 ? 1 : b->len == 8 ? 2 : 3;
		d->arch.debugreg[i] = b->addr;
		d->arch.debugreg[7] |= (2ULL << (2 * i)) |
				       ((uint64_t)rw[b->type] << (16 + 4 * i)) |
				       ((uint64_t)len << (18 + 4 * i));
	}
	if (sw)
		d->control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP;
	if (hw)
		d->control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
	if (step) {
		d->control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
		/* Step the instruction, not into an interrupt handler. */
		if (k->debug_caps & KVM_GUESTDBG_BLOCKIRQ)
			d->control |= KVM_GUESTDBG_BLOCKIRQ;
	}
}

static int set_guest_debug(struct gdb_kvm *k, unsigned int cpu,
			   const struct kvm_guest_debug *d)
{
	if (!k->have_guest_debug)
		return d->control ? -EOPNOTSUPP : 0;
	if (ioctl(vcpu_of(k, cpu)->fd, KVM_SET_GUEST_DEBUG, d) < 0) {
		int err = errno;

		pr_warn_ratelimited("gdb: vCPU %u: KVM_SET_GUEST_DEBUG failed: %s",
				    cpu, strerror(err));
		return -err;
	}
	return 0;
}

/* All vCPUs parked: the stub thread only. */
static int apply_debug_all(struct gdb_kvm *k, int step_cpu)
{
	unsigned int i;
	int err, ret = 0;

	for (i = 0; i < k->vm->nr_cpus; i++) {
		debug_state(k, (int)i == step_cpu, &k->dbg[i]);
		err = set_guest_debug(k, i, &k->dbg[i]);
		if (err && !ret)
			ret = err;
	}
	return ret;
}

static void release(struct gdb_kvm *k, int step_cpu)
{
	pthread_mutex_lock(&k->lock);
	if (step_cpu >= 0)
		k->stepping[step_cpu] = true;
	pthread_mutex_unlock(&k->lock);
	vm_release(k->vm, VM_HOLD_DEBUGGER, step_cpu);
}

static int kvm_cont(void *t)
{
	struct gdb_kvm *k = t;
	int err = apply_debug_all(k, -1);

	if (err)
		return err;
	release(k, -1);
	return 0;
}

static int kvm_step(void *t, unsigned int cpu)
{
	struct gdb_kvm *k = t;
	int err;

	if (cpu >= k->vm->nr_cpus)
		return -EINVAL;
	if (!k->have_guest_debug)
		return -EOPNOTSUPP;
	err = apply_debug_all(k, (int)cpu);
	if (err)
		return err;
	release(k, (int)cpu);
	return 0;
}

/* Re-deliver an exception the guest raised for itself (its own int3,
 * kprobes, jump-label patching, or a #DB we did not cause). */
static void inject(struct gdb_kvm *k, unsigned int cpu, uint32_t flag)
{
	struct kvm_guest_debug d = k->dbg[cpu];

	d.control |= flag;
	set_guest_debug(k, cpu, &d);
}

/* A stop of ours on vCPU id: report it.  Called locked; unlocks. */
static void report_stop_unlock(struct gdb_kvm *k, unsigned int id,
			       const struct gdb_stop *s)
{
	bool report;

	k->stepping[id] = false;
	/* The first stop wins; one that raced with another (or Ctrl-C) is
	 * dropped: the vCPU re-executes the breakpoint after resuming. */
	report = vm_hold_from_vcpu(k->vm, VM_HOLD_DEBUGGER, id);
	pthread_mutex_unlock(&k->lock);
	if (report)
		gdbstub_report_stop(k->stub, s);
}

/* The vm_debug_hooks: an int3 KVM could not emulate (PVM hosts). */
static bool kvm_sw_bp_hit(void *opaque, struct vcpu *vcpu, uint64_t gva)
{
	struct gdb_kvm *k = opaque;
	struct gdb_stop s = { .cpu = vcpu->id, .why = GDB_STOP_SWBREAK };
	bool ours = false;
	unsigned int i;

	pthread_mutex_lock(&k->lock);
	for (i = 0; i < MAX_SW_BPS && !ours; i++)
		ours = k->sw[i].used && k->sw[i].gva == gva;
	if (!ours) {
		pthread_mutex_unlock(&k->lock);
		return false;
	}
	report_stop_unlock(k, vcpu->id, &s);
	return true;
}

/* KVM_EXIT_DEBUG; true: always (a stop of ours parks the vCPU). */
static bool kvm_debug_exit(void *opaque, struct vcpu *vcpu)
{
	struct gdb_kvm *k = opaque;
	struct kvm_debug_exit_arch *a = &vcpu->run->debug.arch;
	unsigned int i, id = vcpu->id;
	struct gdb_stop s = { .cpu = id };
	bool ours = false;

	pthread_mutex_lock(&k->lock);
	if (a->exception == BP_VECTOR) {
		for (i = 0; i < MAX_SW_BPS && !ours; i++)
			ours = k->sw[i].used && k->sw[i].gva == a->pc;
		s.why = GDB_STOP_SWBREAK;
	} else if (a->exception == DB_VECTOR) {
		for (i = 0; i < NR_HW_BPS && !ours; i++) {
			struct hw_bp *b = &k->hw[i];

			if (!b->used || !(a->dr6 & (1ULL << i)))
				continue;
			ours = true;
			s.addr = b->addr;
			s.why = b->type == GDB_BP_HW ? GDB_STOP_HWBREAK :
				b->type == GDB_WP_WRITE ? GDB_STOP_WATCH :
				GDB_STOP_AWATCH;
		}
		if (!ours && (a->dr6 & DR6_BS) && k->stepping[id]) {
			ours = true;
			s.why = GDB_STOP_STEP;
		}
	}
	if (!ours) {
		pthread_mutex_unlock(&k->lock);
		if (a->exception == BP_VECTOR || a->exception == DB_VECTOR)
			inject(k, id, a->exception == BP_VECTOR ?
			       KVM_GUESTDBG_INJECT_BP : KVM_GUESTDBG_INJECT_DB);
		return true;
	}
	report_stop_unlock(k, id, &s);
	return true;	/* parks in vm_park_point() */
}

/* ---- registers ---- */

static void put80(uint8_t *dst, const uint8_t *fpr)
{
	memcpy(dst, fpr, 10);
}

/* Full x87 tag word from FXSAVE's abridged one (valid/zero/special/empty). */
static uint32_t full_ftag(const struct kvm_fpu *f)
{
	unsigned int top = (f->fsw >> 11) & 7, i;
	uint32_t tag = 0;

	for (i = 0; i < 8; i++) {
		const uint8_t *r = f->fpr[(i - top) & 7];
		uint16_t exp = get_le16(r + 8) & 0x7fff;
		uint64_t mant = get_le64(r);
		unsigned int t;

		if (!(f->ftwx & (1u << i)))
			t = 3;
		else if (exp == 0x7fff)
			t = 2;
		else if (exp == 0)
			t = mant ? 2 : 1;
		else
			t = (mant >> 63) ? 0 : 2;
		tag |= t << (2 * i);
	}
	return tag;
}

static int get_msr(int fd, uint32_t index, uint64_t *v)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = { .h.nmsrs = 1, .e.index = index };

	if (ioctl(fd, KVM_GET_MSRS, &m) != 1)
		return -EIO;
	*v = m.e.data;
	return 0;
}

static int set_msr(int fd, uint32_t index, uint64_t v)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = { .h.nmsrs = 1, .e.index = index, .e.data = v };

	return ioctl(fd, KVM_SET_MSRS, &m) == 1 ? 0 : -EIO;
}

struct kvm_state {
	struct kvm_regs r;
	struct kvm_sregs s;
	struct kvm_fpu f;
	uint64_t kgs;
};

static int get_state(struct gdb_kvm *k, unsigned int cpu, struct kvm_state *st)
{
	struct vcpu *v = vcpu_of(k, cpu);

	if (!v)
		return -EINVAL;
	if (ioctl(v->fd, KVM_GET_REGS, &st->r) < 0 ||
	    ioctl(v->fd, KVM_GET_SREGS, &st->s) < 0 ||
	    ioctl(v->fd, KVM_GET_FPU, &st->f) < 0)
		return -errno;
	if (get_msr(v->fd, MSR_KERNEL_GS_BASE, &st->kgs))
		st->kgs = 0;
	return 0;
}

static void state_to_gdb(const struct kvm_state *st, struct gdb_regs *g)
{
	const struct kvm_regs *r = &st->r;
	const struct kvm_sregs *s = &st->s;
	const struct kvm_fpu *f = &st->f;
	unsigned int i;

	memset(g, 0, sizeof(*g));
	g->gpr[0] = r->rax;
	g->gpr[1] = r->rbx;
	g->gpr[2] = r->rcx;
	g->gpr[3] = r->rdx;
	g->gpr[4] = r->rsi;
	g->gpr[5] = r->rdi;
	g->gpr[6] = r->rbp;
	g->gpr[7] = r->rsp;
	g->gpr[8] = r->r8;
	g->gpr[9] = r->r9;
	g->gpr[10] = r->r10;
	g->gpr[11] = r->r11;
	g->gpr[12] = r->r12;
	g->gpr[13] = r->r13;
	g->gpr[14] = r->r14;
	g->gpr[15] = r->r15;
	g->rip = r->rip;
	g->eflags = (uint32_t)r->rflags;
	g->seg[0] = s->cs.selector;
	g->seg[1] = s->ss.selector;
	g->seg[2] = s->ds.selector;
	g->seg[3] = s->es.selector;
	g->seg[4] = s->fs.selector;
	g->seg[5] = s->gs.selector;
	for (i = 0; i < 8; i++)
		put80(g->st[i], f->fpr[i]);
	g->fpu[0] = f->fcw;
	g->fpu[1] = f->fsw;
	g->fpu[2] = full_ftag(f);
	g->fpu[3] = (uint32_t)(f->last_ip >> 32);	/* fiseg */
	g->fpu[4] = (uint32_t)f->last_ip;		/* fioff */
	g->fpu[5] = (uint32_t)(f->last_dp >> 32);	/* foseg */
	g->fpu[6] = (uint32_t)f->last_dp;		/* fooff */
	g->fpu[7] = f->last_opcode;
	memcpy(g->xmm, f->xmm, sizeof(g->xmm));
	g->mxcsr = f->mxcsr;
	g->fs_base = s->fs.base;
	g->gs_base = s->gs.base;
	g->k_gs_base = st->kgs;
	g->cr[0] = s->cr0;
	g->cr[1] = s->cr2;
	g->cr[2] = s->cr3;
	g->cr[3] = s->cr4;
	g->cr[4] = s->cr8;
	g->efer = s->efer;
}

static int kvm_read_regs(void *t, unsigned int cpu, struct gdb_regs *g)
{
	struct kvm_state st;
	int err = get_state(t, cpu, &st);

	if (!err)
		state_to_gdb(&st, g);
	return err;
}

/* Write back what gdb changed; segment selectors cannot be changed (that
 * would need the descriptor from the guest's GDT). */
static int kvm_write_regs(void *t, unsigned int cpu, const struct gdb_regs *g)
{
	struct gdb_kvm *k = t;
	struct vcpu *v = vcpu_of(k, cpu);
	struct kvm_state st;
	struct gdb_regs old;
	struct kvm_regs *r = &st.r;
	struct kvm_sregs *s = &st.s;
	struct kvm_fpu *f = &st.f;
	unsigned int i;
	int err = get_state(k, cpu, &st);

	if (err)
		return err;
	state_to_gdb(&st, &old);
	if (memcmp(old.seg, g->seg, sizeof(g->seg)))
		return -EINVAL;
	if (memcmp(old.gpr, g->gpr, sizeof(g->gpr)) || old.rip != g->rip ||
	    old.eflags != g->eflags) {
		r->rax = g->gpr[0];
		r->rbx = g->gpr[1];
		r->rcx = g->gpr[2];
		r->rdx = g->gpr[3];
		r->rsi = g->gpr[4];
		r->rdi = g->gpr[5];
		r->rbp = g->gpr[6];
		r->rsp = g->gpr[7];
		r->r8 = g->gpr[8];
		r->r9 = g->gpr[9];
		r->r10 = g->gpr[10];
		r->r11 = g->gpr[11];
		r->r12 = g->gpr[12];
		r->r13 = g->gpr[13];
		r->r14 = g->gpr[14];
		r->r15 = g->gpr[15];
		r->rip = g->rip;
		r->rflags = (r->rflags & ~0xffffffffULL) | g->eflags;
		if (ioctl(v->fd, KVM_SET_REGS, r) < 0)
			return -errno;
	}
	if (old.fs_base != g->fs_base || old.gs_base != g->gs_base ||
	    memcmp(old.cr, g->cr, sizeof(g->cr)) || old.efer != g->efer) {
		s->fs.base = g->fs_base;
		s->gs.base = g->gs_base;
		s->cr0 = g->cr[0];
		s->cr2 = g->cr[1];
		s->cr3 = g->cr[2];
		s->cr4 = g->cr[3];
		s->cr8 = g->cr[4];
		s->efer = g->efer;
		if (ioctl(v->fd, KVM_SET_SREGS, s) < 0)
			return -errno;
	}
	if (memcmp(old.st, g->st, sizeof(g->st)) ||
	    memcmp(old.fpu, g->fpu, sizeof(g->fpu)) ||
	    memcmp(old.xmm, g->xmm, sizeof(g->xmm)) || old.mxcsr != g->mxcsr) {
		for (i = 0; i < 8; i++)
			memcpy(f->fpr[i], g->st[i], 10);
		f->fcw = (uint16_t)g->fpu[0];
		f->fsw = (uint16_t)g->fpu[1];
		f->ftwx = 0;
		for (i = 0; i < 8; i++)
			if (((g->fpu[2] >> (2 * i)) & 3) != 3)
				f->ftwx |= (uint8_t)(1u << i);
		f->last_ip = (uint64_t)g->fpu[3] << 32 | g->fpu[4];
		f->last_dp = (uint64_t)g->fpu[5] << 32 | g->fpu[6];
		f->last_opcode = (uint16_t)g->fpu[7];
		memcpy(f->xmm, g->xmm, sizeof(f->xmm));
		f->mxcsr = g->mxcsr;
		if (ioctl(v->fd, KVM_SET_FPU, f) < 0)
			return -errno;
	}
	if (old.k_gs_base != g->k_gs_base)
		return set_msr(v->fd, MSR_KERNEL_GS_BASE, g->k_gs_base);
	return 0;
}

/* ---- memory ---- */

static int translate(struct gdb_kvm *k, unsigned int cpu, uint64_t gva,
		     uint64_t *gpa)
{
	struct vcpu *v = vcpu_of(k, cpu);
	struct kvm_translation tr = { .linear_address = gva };
	struct kvm_sregs s;
	struct x86_mmu mmu;

	if (!v)
		return -EINVAL;
	if (ioctl(v->fd, KVM_TRANSLATE, &tr) == 0) {
		if (!tr.valid)
			return -EFAULT;
		*gpa = tr.physical_address;
		return 0;
	}
	/* No KVM_TRANSLATE: walk the tables ourselves. */
	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	mmu = (struct x86_mmu){ s.cr0, s.cr3, s.cr4, s.efer };
	return x86_gva_to_gpa(&k->vm->mem, &mmu, gva, gpa, NULL);
}

/* Hide our int3s from reads; writes over one update the saved byte. */
static void sw_bp_overlay(struct gdb_kvm *k, uint64_t gpa, uint8_t *buf,
			  size_t len, bool write)
{
	unsigned int i;

	for (i = 0; i < MAX_SW_BPS; i++) {
		struct sw_bp *b = &k->sw[i];

		if (!b->used || b->gpa < gpa || b->gpa - gpa >= len)
			continue;
		if (write) {
			b->orig = buf[b->gpa - gpa];
			*(uint8_t *)gpa_to_hva(&k->vm->mem, b->gpa, 1) = 0xcc;
		} else {
			buf[b->gpa - gpa] = b->orig;
		}
	}
}

static ssize_t kvm_access(struct gdb_kvm *k, unsigned int cpu, uint64_t addr,
			  uint8_t *buf, size_t len, bool phys, bool write)
{
	size_t done = 0;

	while (done < len) {
		uint64_t a = addr + done, gpa;
		size_t n = MIN(len - done,
			       (size_t)(PAGE_SIZE_4K - (a & (PAGE_SIZE_4K - 1))));
		uint8_t *hva;
		int err = 0;

		if (phys)
			gpa = a;
		else
			err = translate(k, cpu, a, &gpa);
		hva = err ? NULL : gpa_to_hva(&k->vm->mem, gpa, n);
		if (!hva)
			break;
		if (write)
			memcpy(hva, buf + done, n);
		else
			memcpy(buf + done, hva, n);
		sw_bp_overlay(k, gpa, buf + done, n, write);
		done += n;
	}
	return done ? (ssize_t)done : -EFAULT;
}

static ssize_t kvm_read_mem(void *t, unsigned int cpu, uint64_t addr,
			    void *buf, size_t len, bool phys)
{
	return kvm_access(t, cpu, addr, buf, len, phys, false);
}

static ssize_t kvm_write_mem(void *t, unsigned int cpu, uint64_t addr,
			     const void *buf, size_t len, bool phys)
{
	return kvm_access(t, cpu, addr, (uint8_t *)buf, len, phys, true);
}

/* ---- breakpoints ---- */

static int set_sw_bp(struct gdb_kvm *k, unsigned int cpu, uint64_t gva)
{
	struct sw_bp *free_slot = NULL;
	uint64_t gpa;
	uint8_t *hva;
	unsigned int i;
	int err;

	for (i = 0; i < MAX_SW_BPS; i++) {
		if (k->sw[i].used && k->sw[i].gva == gva)
			return 0;	/* Z packets are idempotent */
		if (!k->sw[i].used && !free_slot)
			free_slot = &k->sw[i];
	}
	if (!free_slot)
		return -ENOSPC;
	err = translate(k, cpu, gva, &gpa);
	if (err)
		return err;
	hva = gpa_to_hva(&k->vm->mem, gpa, 1);
	if (!hva)
		return -EFAULT;
	*free_slot = (struct sw_bp){ .used = true, .gva = gva, .gpa = gpa,
				     .orig = *hva };
	*hva = 0xcc;
	return 0;
}

static int clear_sw_bp(struct gdb_kvm *k, uint64_t gva)
{
	unsigned int i;

	for (i = 0; i < MAX_SW_BPS; i++) {
		struct sw_bp *b = &k->sw[i];
		uint8_t *hva;

		if (!b->used || b->gva != gva)
			continue;
		hva = gpa_to_hva(&k->vm->mem, b->gpa, 1);
		/* Unless the guest has rewritten the byte meanwhile. */
		if (hva && *hva == 0xcc)
			*hva = b->orig;
		b->used = false;
		return 0;
	}
	return -ENOENT;
}

static int kvm_set_bp(void *t, unsigned int cpu, enum gdb_bp_type type,
		      uint64_t addr, unsigned int len)
{
	struct gdb_kvm *k = t;
	struct hw_bp *free_slot = NULL;
	unsigned int i;

	if (!k->have_guest_debug || type == GDB_WP_READ)
		return -EOPNOTSUPP;
	if (type == GDB_BP_SW)
		return set_sw_bp(k, cpu, addr);
	if (type != GDB_BP_HW) {
		if ((len != 1 && len != 2 && len != 4 && len != 8) ||
		    (addr & (len - 1)))
			return -EINVAL;
	}
	for (i = 0; i < NR_HW_BPS; i++) {
		struct hw_bp *b = &k->hw[i];

		if (b->used && b->type == type && b->addr == addr &&
		    (type == GDB_BP_HW || b->len == len))
			return 0;
		if (!b->used && !free_slot)
			free_slot = b;
	}
	if (!free_slot)
		return -ENOSPC;
	*free_slot = (struct hw_bp){ true, type, addr, len };
	return 0;
}

static int kvm_clear_bp(void *t, unsigned int cpu, enum gdb_bp_type type,
			uint64_t addr, unsigned int len)
{
	struct gdb_kvm *k = t;
	unsigned int i;

	if (type == GDB_BP_SW)
		return clear_sw_bp(k, addr);
	for (i = 0; i < NR_HW_BPS; i++) {
		struct hw_bp *b = &k->hw[i];

		if (b->used && b->type == type && b->addr == addr &&
		    (type == GDB_BP_HW || b->len == len)) {
			b->used = false;
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- the rest of the ops ---- */

static unsigned int kvm_nr_threads(void *t)
{
	return ((struct gdb_kvm *)t)->vm->nr_cpus;
}

static void kvm_detach(void *t)
{
	struct gdb_kvm *k = t;
	unsigned int i;

	for (i = 0; i < MAX_SW_BPS; i++)
		if (k->sw[i].used)
			clear_sw_bp(k, k->sw[i].gva);
	memset(k->hw, 0, sizeof(k->hw));
	memset(k->stepping, 0, sizeof(k->stepping));
	apply_debug_all(k, -1);
	release(k, -1);
}

static void kvm_kill(void *t)
{
	struct gdb_kvm *k = t;

	pr_info("gdb: kill request, stopping the VM");
	vm_request_exit(k->vm, VM_EXIT_SIGNAL, 128 + 9);
}

static const struct gdb_target_ops gdb_kvm_ops = {
	.nr_threads = kvm_nr_threads,
	.read_regs = kvm_read_regs,
	.write_regs = kvm_write_regs,
	.read_mem = kvm_read_mem,
	.write_mem = kvm_write_mem,
	.set_bp = kvm_set_bp,
	.clear_bp = kvm_clear_bp,
	.cont = kvm_cont,
	.step = kvm_step,
	.stop_all = kvm_stop_all,
	.detach = kvm_detach,
	.kill = kvm_kill,
};

static const struct vm_debug_hooks gdb_kvm_hooks = {
	.debug_exit = kvm_debug_exit,
	.sw_bp_hit = kvm_sw_bp_hit,
};

int gdb_kvm_start(struct vm *vm, const char *addr_port, bool wait,
		  struct gdb_kvm **out)
{
	struct gdb_kvm *k = calloc(1, sizeof(*k));
	int caps, err;

	*out = NULL;
	if (!k)
		return -ENOMEM;
	k->vm = vm;
	pthread_mutex_init(&k->lock, NULL);
	k->have_guest_debug = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
				    KVM_CAP_SET_GUEST_DEBUG) > 0;
	caps = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG2);
	k->debug_caps = caps > 0 ? (uint32_t)caps : 0;
	if (!k->have_guest_debug)
		pr_warn("gdb: this KVM lacks KVM_CAP_SET_GUEST_DEBUG: no breakpoints or single step");
	k->stub = gdbstub_create(&gdb_kvm_ops, k);
	if (!k->stub) {
		gdb_kvm_destroy(k);
		return -ENOMEM;
	}
	err = gdbstub_start(k->stub, addr_port);
	if (err) {
		gdb_kvm_destroy(k);
		return err;
	}
	vm->debug_opaque = k;
	vm->debug = &gdb_kvm_hooks;
	if (wait) {
		vm_hold_nowait(vm, VM_HOLD_DEBUGGER);
		pr_info("gdb: the vCPUs wait for a debugger to attach and continue");
	}
	*out = k;
	return 0;
}

/* vm_run() releases parked vCPUs once the VM is ending. */
void gdb_kvm_vm_exiting(struct gdb_kvm *k, int status)
{
	if (k)
		gdbstub_report_exit(k->stub, status);
}

void gdb_kvm_destroy(struct gdb_kvm *k)
{
	if (!k)
		return;
	gdbstub_destroy(k->stub);
	if (k->vm->debug_opaque == k) {
		k->vm->debug = NULL;
		k->vm->debug_opaque = NULL;
	}
	pthread_mutex_destroy(&k->lock);
	free(k);
}
