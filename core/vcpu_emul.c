// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_EXIT_INTERNAL_ERROR / KVM_INTERNAL_ERROR_EMULATION: KVM's emulator
 * met an instruction it cannot run.  Under PVM that is any such
 * instruction in guest kernel mode; elsewhere mostly an MMIO access by an
 * instruction the emulator does not decode.  Where the architecture says
 * what the CPU would do, do it (include/x86/pvm.h): int3 raises #BP (or
 * stops the guest for gdb when it is one of gdb's breakpoints), an
 * instruction of a feature hidden from the guest raises #UD.  The caller
 * reports anything else and stops the VM.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include "core/guest_mem.h"
#include "x86/pvm.h"
#include "core/util.h"
#include "core/vcpu.h"
#include "core/vm.h"

#define BP_VECTOR	3
#define UD_VECTOR	6
#define PAGE_SIZE_4K	4096ULL

size_t vcpu_read_virt(struct vcpu *vcpu, uint64_t gva, uint8_t *buf,
		      size_t len)
{
	size_t done = 0;

	while (done < len) {
		struct kvm_translation t = { .linear_address = gva + done };
		size_t chunk = MIN(len - done,
				   PAGE_SIZE_4K - ((gva + done) & 0xfff));
		void *hva;

		if (ioctl(vcpu->fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
			break;
		hva = gpa_to_hva(&vcpu->vm->mem, t.physical_address, chunk);
		if (!hva)
			break;
		memcpy(buf + done, hva, chunk);
		done += chunk;
	}
	return done;
}

/* Did KVM hand over the instruction's bytes (Linux 5.14+, uapi kvm.h)? */
static bool kvm_gave_insn(const struct kvm_run *run)
{
	return run->internal.ndata >= 2 &&
	       (run->emulation_failure.flags &
		KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) &&
	       run->emulation_failure.insn_size;
}

/* The instruction's bytes: KVM's copy when it gave one, else read at RIP. */
static size_t insn_bytes(struct vcpu *vcpu, uint64_t rip, uint8_t *buf,
			 size_t len)
{
	struct kvm_run *run = vcpu->run;

	if (kvm_gave_insn(run)) {
		size_t n = MIN((size_t)run->emulation_failure.insn_size, len);

		memcpy(buf, run->emulation_failure.insn_bytes, n);
		return n;
	}
	return vcpu_read_virt(vcpu, rip, buf, len);
}

/*
 * Raise exception nr on the vCPU's next entry, as if the instruction had
 * raised it (KVM_SET_VCPU_EVENTS, uapi kvm.h / api.rst 4.31).  Without
 * KVM_CAP_EXCEPTION_PAYLOAD "injected" is the field KVM honours.
 */
static int inject_exception(struct vcpu *vcpu, unsigned int nr)
{
	struct kvm_vcpu_events ev;

	if (ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	/*
	 * Hardware KVM queues #UD itself when its emulator fails (x86.c,
	 * handle_emulation_failure()); anything else in flight would be
	 * lost by overwriting it.
	 */
	if (ev.interrupt.injected || ev.nmi.injected ||
	    (ev.exception.injected && ev.exception.nr != UD_VECTOR))
		return -EBUSY;
	ev.exception.injected = 1;
	ev.exception.nr = (uint8_t)nr;
	ev.exception.has_error_code = 0;
	ev.exception.error_code = 0;
	if (ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	return 0;
}

/*
 * The instruction at RIP, whoever supplied its bytes: PVM reports
 * exceptions raised inside its emulator as emulation failures with no data
 * (ndata 0), so without KVM's copy they are read through the page tables.
 */
void vcpu_print_insn(struct vcpu *vcpu)
{
	char hex[3 * 15 + 1] = "";
	struct kvm_regs regs;
	uint8_t b[15];
	size_t i, n, off = 0;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0) {
		pr_errno(errno, "vCPU %u: KVM_GET_REGS for the instruction",
			 vcpu->id);
		return;
	}
	n = insn_bytes(vcpu, regs.rip, b, sizeof(b));
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(hex + off, sizeof(hex) - off, "%02x ",
					b[i]);
	if (n)
		pr_err("vCPU %u: instruction bytes at rip %#llx (%s): %s",
		       vcpu->id, (unsigned long long)regs.rip,
		       kvm_gave_insn(vcpu->run) ? "from KVM" :
						   "read from guest memory", hex);
	else
		pr_err("vCPU %u: cannot read the instruction at rip %#llx",
		       vcpu->id, (unsigned long long)regs.rip);
}

bool vcpu_emulation_failure(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct emul_insn insn;
	enum emul_action act;
	const char *exc;
	uint8_t bytes[15];
	uint64_t at;
	size_t n;
	int err;

	if (vcpu->run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION)
		return false;
	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0) {
		pr_errno(errno, "vCPU %u: reading registers after an emulation failure",
			 vcpu->id);
		return false;
	}
	/* The decoder knows 64-bit mode only (RIP linear, REX prefixes). */
	if (!sregs.cs.l) {
		pr_err("vCPU %u: emulation failure outside 64-bit mode (CS.L = 0)",
		       vcpu->id);
		return false;
	}
	n = insn_bytes(vcpu, regs.rip, bytes, sizeof(bytes));
	act = emul_decide(bytes, n, vm->pvm_compat, &insn);
	if (act == EMUL_STOP) {
		/* The caller dumps the instruction and the registers. */
		if (insn.name)
			pr_err("vCPU %u: KVM cannot emulate %s at %#llx and the guest was told its CPU has it (--pvm-compat hides it)",
			       vcpu->id, insn.name, regs.rip);
		return false;
	}
	if (act == EMUL_INJECT_BP && vm->debug &&
	    vm->debug->sw_bp_hit(vm->debug_opaque, vcpu, regs.rip)) {
		/* gdb's own int3: a breakpoint hit, as KVM_EXIT_DEBUG says;
		 * the vCPU parks in vm_park_point(). */
		vcpu->nr_emul_handled++;
		return true;
	}
	if (act == EMUL_INJECT_BP && !vm->host_pvm) {
		/*
		 * Hardware KVM runs int3 natively and never emulates it, and
		 * its #BP injection treats #BP as a soft exception that moves
		 * RIP by a stored instruction length (VMX) or next_rip (SVM):
		 * a frame RIP we could not vouch for.  PVM delivers at RIP.
		 */
		pr_err("vCPU %u: KVM could not emulate an int3 at %#llx, and this host is not PVM",
		       vcpu->id, (unsigned long long)regs.rip);
		return false;
	}
	at = regs.rip;
	exc = act == EMUL_INJECT_BP ? "#BP" : "#UD";
	if (act == EMUL_INJECT_BP) {
		/*
		 * #BP is a trap: the handler's frame points after int3.  RIP
		 * first: KVM_SET_REGS drops a pending exception (x86.c,
		 * __set_regs()), so it must not come after the injection.
		 */
		regs.rip = at + insn.len;
		if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0) {
			pr_errno(errno, "vCPU %u: KVM_SET_REGS to step over int3",
				 vcpu->id);
			return false;
		}
	}
	err = inject_exception(vcpu, act == EMUL_INJECT_BP ? BP_VECTOR :
							     UD_VECTOR);
	if (err && act == EMUL_INJECT_BP) {
		/* Put RIP back on the int3 for the register dump. */
		regs.rip = at;
		if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
			pr_errno(errno, "vCPU %u: KVM_SET_REGS back to the int3",
				 vcpu->id);
	}
	if (err == -EBUSY) {
		pr_err("vCPU %u: an event is already being delivered: not raising %s over it",
		       vcpu->id, exc);
		return false;
	}
	if (err) {
		pr_errno(-err, "vCPU %u: KVM_SET_VCPU_EVENTS to inject %s",
			 vcpu->id, exc);
		return false;
	}
	vcpu->nr_emul_handled++;
	pr_warn_ratelimited("vCPU %u: KVM could not emulate %s at %#llx: raised %s in the guest, as the CPU would",
			    vcpu->id, insn.name, (unsigned long long)at, exc);
	return true;
}
