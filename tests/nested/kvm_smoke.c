/*
 * kvm_smoke.c - minimal /dev/kvm self-test for the nested-KVM harness.
 *
 * Build (host):  gcc -O2 -static -o kvm_smoke tests/nested/kvm_smoke.c
 * Run (nested):  tests/nested/run-in-kvm.sh kvm_smoke -- ./kvm_smoke
 *
 * Checks, in order:
 *   1. KVM_GET_API_VERSION == 12, and prints a list of KVM_CHECK_EXTENSION values.
 *   2. Real-mode guest: "mov al,0x42; out 0xf4,al; hlt" -> KVM_EXIT_IO port 0xf4 value 0x42,
 *      then KVM_EXIT_HLT.
 *   3. KVM_CREATE_IRQCHIP + KVM_CREATE_PIT2 on a fresh VM (+ a vCPU runs after them).
 *   4. Long-mode guest (GDT, 4-level paging with 2 MiB pages, EFER.LME/LMA, CR0.PG) that
 *      prints a string through port 0xe9 (rep outsb), runs a busy loop of N iterations
 *      (timed, to estimate the nested guest's instruction rate), then does M "out" exits
 *      (timed, to estimate the cost of one VM exit round trip), and reports 0x42 on 0xf4.
 *
 * Exit status 0 iff every check passed. Output is line-oriented "ok ..." / "FAIL ...".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* ---- guest code blobs (assembled by gcc as part of this file) ---- */
extern const unsigned char rm_code[], rm_code_end[];
extern const unsigned char lm_code[], lm_code_end[];
extern const unsigned char irq_code[], irq_code_end[];

__asm__(
    ".pushsection .rodata\n"
    /* real mode: mov al,0x42; out 0xf4,al; hlt */
    ".code16\n"
    ".globl rm_code\n"
    "rm_code:\n"
    "  mov $0x42, %al\n"
    "  out %al, $0xf4\n"
    "  hlt\n"
    ".globl rm_code_end\n"
    "rm_code_end:\n"
    /* real mode, loaded at 0x1000: program the 8259 (vector base 0x20, only IRQ4 unmasked),
     * point IVT[0x24] at the handler, tell the host (out 0xf7), then sti; hlt until the
     * interrupt handler reports 0x99 on port 0xf4. */
    ".globl irq_code\n"
    "irq_code:\n"
    "  cli\n"
    "  movw $(irq_handler - irq_code + 0x1000), 0x90\n"
    "  movw $0, 0x92\n"
    "  mov $0x11, %al\n out %al, $0x20\n"   /* ICW1: edge, cascade, ICW4 */
    "  mov $0x20, %al\n out %al, $0x21\n"   /* ICW2: vector base 0x20 */
    "  mov $0x04, %al\n out %al, $0x21\n"   /* ICW3 */
    "  mov $0x01, %al\n out %al, $0x21\n"   /* ICW4: 8086 mode */
    "  mov $0xef, %al\n out %al, $0x21\n"   /* OCW1: unmask IRQ4 only */
    "  out %al, $0xf7\n"
    "  sti\n"
    "1: hlt\n"
    "  jmp 1b\n"
    "irq_handler:\n"
    "  mov $0x99, %al\n"
    "  out %al, $0xf4\n"
    "  mov $0x20, %al\n"
    "  out %al, $0x20\n"                      /* EOI */
    "  iret\n"
    ".globl irq_code_end\n"
    "irq_code_end:\n"
    /* long mode: entered with RDI = loop count, RSI = number of out-exits */
    ".code64\n"
    ".globl lm_code\n"
    "lm_code:\n"
    "  mov %rsi, %r8\n"
    "  lea lm_msg(%rip), %rsi\n"
    "  mov $(lm_msg_end - lm_msg), %ecx\n"
    "  mov $0xe9, %dx\n"
    "  rep outsb\n"
    "  mov $1, %al\n"          /* marker: loop starts */
    "  out %al, $0xf5\n"
    "  mov %rdi, %rcx\n"
    "1: dec %rcx\n"
    "  jnz 1b\n"
    "  mov $2, %al\n"          /* marker: loop done */
    "  out %al, $0xf5\n"
    "  mov %r8, %rcx\n"
    "  mov $0, %al\n"
    "2: out %al, $0xf6\n"      /* one exit per iteration */
    "  dec %rcx\n"
    "  jnz 2b\n"
    "  mov $3, %al\n"          /* marker: exits done */
    "  out %al, $0xf5\n"
    "  mov $0x42, %al\n"
    "  out %al, $0xf4\n"
    "  hlt\n"
    "lm_msg: .ascii \"hello from long mode\\n\"\n"
    "lm_msg_end:\n"
    ".globl lm_code_end\n"
    "lm_code_end:\n"
    ".popsection\n");

static int failures;

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        printf("FAIL " __VA_ARGS__);                                                               \
        printf("\n");                                                                              \
        failures++;                                                                                \
    } while (0)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct vm {
    int vmfd, vcpufd;
    uint8_t *mem;
    size_t memsz;
    struct kvm_run *run;
};

static int kvm_fd;

static int vm_create(struct vm *v, size_t memsz)
{
    memset(v, 0, sizeof(*v));
    v->vmfd = ioctl(kvm_fd, KVM_CREATE_VM, 0UL);
    if (v->vmfd < 0) {
        FAIL("KVM_CREATE_VM: %s", strerror(errno));
        return -1;
    }
    v->memsz = memsz;
    v->mem = mmap(NULL, memsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (v->mem == MAP_FAILED) {
        FAIL("mmap guest memory: %s", strerror(errno));
        return -1;
    }
    struct kvm_userspace_memory_region region = {
        .slot = 0,
        .guest_phys_addr = 0,
        .memory_size = memsz,
        .userspace_addr = (uint64_t)(uintptr_t)v->mem,
    };
    if (ioctl(v->vmfd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
        FAIL("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int vcpu_create(struct vm *v)
{
    v->vcpufd = ioctl(v->vmfd, KVM_CREATE_VCPU, 0UL);
    if (v->vcpufd < 0) {
        FAIL("KVM_CREATE_VCPU: %s", strerror(errno));
        return -1;
    }
    int sz = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0UL);
    if (sz <= 0) {
        FAIL("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
        return -1;
    }
    v->run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpufd, 0);
    if (v->run == MAP_FAILED) {
        FAIL("mmap kvm_run: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static void vm_destroy(struct vm *v)
{
    if (v->run && v->run != MAP_FAILED)
        munmap(v->run, ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0UL));
    if (v->mem && v->mem != MAP_FAILED)
        munmap(v->mem, v->memsz);
    if (v->vcpufd > 0)
        close(v->vcpufd);
    if (v->vmfd > 0)
        close(v->vmfd);
}

static const char *exit_name(uint32_t r)
{
    switch (r) {
    case KVM_EXIT_IO: return "IO";
    case KVM_EXIT_HLT: return "HLT";
    case KVM_EXIT_MMIO: return "MMIO";
    case KVM_EXIT_SHUTDOWN: return "SHUTDOWN";
    case KVM_EXIT_FAIL_ENTRY: return "FAIL_ENTRY";
    case KVM_EXIT_INTERNAL_ERROR: return "INTERNAL_ERROR";
    default: return "?";
    }
}

/* Real-mode guest at 0x1000: expects IO(0xf4,0x42) then HLT. With an in-kernel irqchip, HLT
 * is handled in the kernel (the vCPU would block forever with IF=0), so stop after the IO. */
static int run_real_mode(struct vm *v, const char *what, int expect_hlt)
{
    memcpy(v->mem + 0x1000, rm_code, rm_code_end - rm_code);
    struct kvm_sregs sregs;
    if (ioctl(v->vcpufd, KVM_GET_SREGS, &sregs) < 0) {
        FAIL("%s: KVM_GET_SREGS: %s", what, strerror(errno));
        return -1;
    }
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(v->vcpufd, KVM_SET_SREGS, &sregs) < 0) {
        FAIL("%s: KVM_SET_SREGS: %s", what, strerror(errno));
        return -1;
    }
    struct kvm_regs regs = {.rip = 0x1000, .rflags = 0x2};
    if (ioctl(v->vcpufd, KVM_SET_REGS, &regs) < 0) {
        FAIL("%s: KVM_SET_REGS: %s", what, strerror(errno));
        return -1;
    }
    int got_io = 0;
    for (int i = 0; i < 10; i++) {
        if (ioctl(v->vcpufd, KVM_RUN, 0UL) < 0) {
            FAIL("%s: KVM_RUN: %s", what, strerror(errno));
            return -1;
        }
        struct kvm_run *r = v->run;
        if (r->exit_reason == KVM_EXIT_IO) {
            uint8_t val = *((uint8_t *)r + r->io.data_offset);
            if (r->io.direction == KVM_EXIT_IO_OUT && r->io.port == 0xf4 && r->io.size == 1 &&
                val == 0x42) {
                got_io = 1;
                if (!expect_hlt) {
                    printf("ok %s: KVM_EXIT_IO port 0xf4 value 0x42\n", what);
                    return 0;
                }
                continue;
            }
            FAIL("%s: unexpected IO port=0x%x dir=%d size=%d val=0x%x", what, r->io.port,
                 r->io.direction, r->io.size, val);
            return -1;
        }
        if (r->exit_reason == KVM_EXIT_HLT) {
            if (!got_io) {
                FAIL("%s: HLT before IO", what);
                return -1;
            }
            printf("ok %s: KVM_EXIT_IO port 0xf4 value 0x42, then KVM_EXIT_HLT\n", what);
            return 0;
        }
        FAIL("%s: unexpected exit %u (%s)", what, r->exit_reason, exit_name(r->exit_reason));
        return -1;
    }
    FAIL("%s: too many exits", what);
    return -1;
}

static void check_caps(void)
{
    static const struct {
        int cap;
        const char *name;
    } caps[] = {
#define C(x) {KVM_CAP_##x, #x}
        C(IRQCHIP),
        C(HLT),
        C(USER_MEMORY),
        C(SET_TSS_ADDR),
        C(EXT_CPUID),
        C(NR_VCPUS),
        C(MAX_VCPUS),
        C(NR_MEMSLOTS),
        C(PIT2),
        C(PIT_STATE2),
        C(IRQ_ROUTING),
        C(IRQ_INJECT_STATUS),
        C(IRQFD),
        C(IRQFD_RESAMPLE),
        C(IOEVENTFD),
        C(IOEVENTFD_ANY_LENGTH),
        C(SIGNAL_MSI),
        C(MSI_DEVID),
        C(SPLIT_IRQCHIP),
        C(X2APIC_API),
        C(IMMEDIATE_EXIT),
        C(TSC_DEADLINE_TIMER),
        C(XSAVE),
        C(XCRS),
        C(DEBUGREGS),
        C(VCPU_EVENTS),
        C(ADJUST_CLOCK),
        C(KVMCLOCK_CTRL),
        C(GET_TSC_KHZ),
        C(TSC_CONTROL),
        C(READONLY_MEM),
        C(SET_GUEST_DEBUG),
        C(X86_ROBUST_SINGLESTEP),
        C(COALESCED_MMIO),
        C(SYNC_MMU),
        C(NESTED_STATE),
        C(HYPERV),
#undef C
    };
    printf("caps:");
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        int r = ioctl(kvm_fd, KVM_CHECK_EXTENSION, (unsigned long)caps[i].cap);
        printf(" %s=%d", caps[i].name, r);
    }
    printf("\n");
    static const int required[] = {KVM_CAP_IRQCHIP, KVM_CAP_USER_MEMORY, KVM_CAP_IRQ_ROUTING,
                                   KVM_CAP_IRQFD, KVM_CAP_IOEVENTFD, KVM_CAP_SIGNAL_MSI,
                                   KVM_CAP_PIT2};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, (unsigned long)required[i]) <= 0)
            FAIL("required capability %d missing", required[i]);
}

static void test_real_mode(void)
{
    struct vm v;
    double t0 = now();
    if (vm_create(&v, 0x10000) == 0 && vcpu_create(&v) == 0)
        run_real_mode(&v, "real-mode", 1);
    vm_destroy(&v);
    printf("info real-mode test took %.3f ms\n", (now() - t0) * 1e3);
}

static void test_irqchip(void)
{
    struct vm v;
    if (vm_create(&v, 0x10000) != 0)
        goto out;
    if (ioctl(v.vmfd, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0)
        FAIL("KVM_SET_TSS_ADDR: %s", strerror(errno));
    if (ioctl(v.vmfd, KVM_CREATE_IRQCHIP, 0UL) < 0) {
        FAIL("KVM_CREATE_IRQCHIP: %s", strerror(errno));
        goto out;
    }
    printf("ok KVM_CREATE_IRQCHIP\n");
    struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
    if (ioctl(v.vmfd, KVM_CREATE_PIT2, &pit) < 0) {
        FAIL("KVM_CREATE_PIT2: %s", strerror(errno));
        goto out;
    }
    printf("ok KVM_CREATE_PIT2\n");
    struct kvm_irq_level irq = {.irq = 4, .level = 1};
    if (ioctl(v.vmfd, KVM_IRQ_LINE, &irq) < 0)
        FAIL("KVM_IRQ_LINE: %s", strerror(errno));
    else
        printf("ok KVM_IRQ_LINE\n");
    irq.level = 0;
    ioctl(v.vmfd, KVM_IRQ_LINE, &irq);
    if (vcpu_create(&v) == 0)
        run_real_mode(&v, "real-mode with in-kernel irqchip+PIT", 0);
out:
    vm_destroy(&v);
}

/* In-kernel PIC + KVM_IRQFD: the guest programs the PIC, the host signals an eventfd bound to
 * GSI 4, and the guest's interrupt handler must run. */
static void test_irqfd(void)
{
    struct vm v;
    int efd = -1;
    const char *what = "irqfd -> in-kernel PIC -> real-mode interrupt handler";
    if (vm_create(&v, 0x10000) != 0)
        goto out;
    ioctl(v.vmfd, KVM_SET_TSS_ADDR, 0xfffbd000UL);
    if (ioctl(v.vmfd, KVM_CREATE_IRQCHIP, 0UL) < 0) {
        FAIL("irqfd: KVM_CREATE_IRQCHIP: %s", strerror(errno));
        goto out;
    }
    efd = eventfd(0, EFD_CLOEXEC);
    struct kvm_irqfd irqfd = {.fd = (uint32_t)efd, .gsi = 4};
    if (efd < 0 || ioctl(v.vmfd, KVM_IRQFD, &irqfd) < 0) {
        FAIL("irqfd: KVM_IRQFD: %s", strerror(errno));
        goto out;
    }
    if (vcpu_create(&v) != 0)
        goto out;
    memcpy(v.mem + 0x1000, irq_code, irq_code_end - irq_code);
    struct kvm_sregs sregs;
    ioctl(v.vcpufd, KVM_GET_SREGS, &sregs);
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(v.vcpufd, KVM_SET_SREGS, &sregs) < 0) {
        FAIL("irqfd: KVM_SET_SREGS: %s", strerror(errno));
        goto out;
    }
    struct kvm_regs regs = {.rip = 0x1000, .rsp = 0x8000, .rflags = 0x2};
    ioctl(v.vcpufd, KVM_SET_REGS, &regs);
    double t0 = 0;
    for (int i = 0; i < 100; i++) {
        if (ioctl(v.vcpufd, KVM_RUN, 0UL) < 0) {
            FAIL("irqfd: KVM_RUN: %s", strerror(errno));
            goto out;
        }
        struct kvm_run *r = v.run;
        if (r->exit_reason != KVM_EXIT_IO) {
            FAIL("%s: unexpected exit %u (%s)", what, r->exit_reason, exit_name(r->exit_reason));
            goto out;
        }
        uint8_t val = *((uint8_t *)r + r->io.data_offset);
        if (r->io.port == 0xf7) {
            uint64_t one = 1;
            t0 = now();
            if (write(efd, &one, sizeof(one)) != sizeof(one))
                FAIL("irqfd: eventfd write: %s", strerror(errno));
            continue;
        }
        if (r->io.port == 0xf4 && val == 0x99) {
            printf("ok %s (%.1f us from eventfd write to handler exit)\n", what,
                   (now() - t0) * 1e6);
            goto out;
        }
        FAIL("%s: unexpected IO port=0x%x val=0x%x", what, r->io.port, val);
        goto out;
    }
    FAIL("%s: too many exits", what);
out:
    if (efd >= 0)
        close(efd);
    vm_destroy(&v);
}

/* Two vCPUs of one VM (no in-kernel irqchip, so both start runnable) run the real-mode test
 * concurrently from two threads. */
struct smp_arg {
    struct vm *v;
    int vcpufd;
    struct kvm_run *run;
    int ok;
};

static void *smp_thread(void *p)
{
    struct smp_arg *a = p;
    struct vm local = *a->v;
    local.vcpufd = a->vcpufd;
    local.run = a->run;
    a->ok = 0;
    struct kvm_sregs sregs;
    if (ioctl(local.vcpufd, KVM_GET_SREGS, &sregs) < 0)
        return NULL;
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    ioctl(local.vcpufd, KVM_SET_SREGS, &sregs);
    struct kvm_regs regs = {.rip = 0x1000, .rflags = 0x2};
    ioctl(local.vcpufd, KVM_SET_REGS, &regs);
    int got_io = 0;
    for (int i = 0; i < 10; i++) {
        if (ioctl(local.vcpufd, KVM_RUN, 0UL) < 0)
            return NULL;
        if (local.run->exit_reason == KVM_EXIT_IO && local.run->io.port == 0xf4)
            got_io = 1;
        else if (local.run->exit_reason == KVM_EXIT_HLT) {
            a->ok = got_io;
            return NULL;
        } else
            return NULL;
    }
    return NULL;
}

static void test_smp(void)
{
    struct vm v;
    struct smp_arg args[2];
    pthread_t th[2];
    int n = 0;
    if (vm_create(&v, 0x10000) != 0)
        goto out;
    memcpy(v.mem + 0x1000, rm_code, rm_code_end - rm_code);
    int sz = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0UL);
    for (n = 0; n < 2; n++) {
        int fd = ioctl(v.vmfd, KVM_CREATE_VCPU, (unsigned long)n);
        if (fd < 0) {
            FAIL("smp: KVM_CREATE_VCPU %d: %s", n, strerror(errno));
            break;
        }
        args[n].v = &v;
        args[n].vcpufd = fd;
        args[n].run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        pthread_create(&th[n], NULL, smp_thread, &args[n]);
    }
    int ok = n == 2;
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        ok &= args[i].ok;
        munmap(args[i].run, sz);
        close(args[i].vcpufd);
    }
    if (ok)
        printf("ok smp: 2 vCPUs in one VM each got IO 0xf4 + HLT from concurrent threads\n");
    else if (n == 2)
        FAIL("smp: vCPU results %d %d", args[0].ok, args[1].ok);
out:
    vm_destroy(&v);
}

/* Long mode. Layout: GDT 0x500, PML4 0x1000, PDPT 0x2000, PD 0x3000 (2 MiB pages, 1 GiB),
 * code 0x10000, stack top 0x80000. */
static void test_long_mode(unsigned long loops, unsigned long exits)
{
    struct vm v;
    const size_t memsz = 2 << 20;
    if (vm_create(&v, memsz) != 0 || vcpu_create(&v) != 0)
        goto out;

    uint64_t *gdt = (uint64_t *)(v.mem + 0x500);
    gdt[0] = 0;
    gdt[1] = 0x00af9b000000ffffULL; /* 0x08: 64-bit code, P, DPL0, L=1 */
    gdt[2] = 0x00cf93000000ffffULL; /* 0x10: data, P, DPL0, writable, 4 GiB */

    uint64_t *pml4 = (uint64_t *)(v.mem + 0x1000);
    uint64_t *pdpt = (uint64_t *)(v.mem + 0x2000);
    uint64_t *pd = (uint64_t *)(v.mem + 0x3000);
    pml4[0] = 0x2000 | 0x3;                                     /* P | RW */
    pdpt[0] = 0x3000 | 0x3;
    for (int i = 0; i < 512; i++)
        pd[i] = ((uint64_t)i << 21) | 0x83; /* P | RW | PS */

    memcpy(v.mem + 0x10000, lm_code, lm_code_end - lm_code);

    struct kvm_sregs sregs;
    if (ioctl(v.vcpufd, KVM_GET_SREGS, &sregs) < 0) {
        FAIL("long-mode: KVM_GET_SREGS: %s", strerror(errno));
        goto out;
    }
    struct kvm_segment cs = {.base = 0, .limit = 0xffffffff, .selector = 0x08, .type = 11,
                             .present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1};
    struct kvm_segment ds = {.base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 3,
                             .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1};
    sregs.cs = cs;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = ds;
    sregs.gdt.base = 0x500;
    sregs.gdt.limit = 3 * 8 - 1;
    sregs.cr3 = 0x1000;
    sregs.cr4 = 1u << 5;                                  /* PAE */
    sregs.cr0 = (1u << 0) | (1u << 1) | (1u << 4) | (1u << 5) | (1u << 31); /* PE MP ET NE PG */
    sregs.efer = (1u << 8) | (1u << 10);                  /* LME | LMA */
    if (ioctl(v.vcpufd, KVM_SET_SREGS, &sregs) < 0) {
        FAIL("long-mode: KVM_SET_SREGS: %s", strerror(errno));
        goto out;
    }
    struct kvm_regs regs = {.rip = 0x10000, .rsp = 0x80000, .rflags = 0x2, .rdi = loops,
                            .rsi = exits};
    if (ioctl(v.vcpufd, KVM_SET_REGS, &regs) < 0) {
        FAIL("long-mode: KVM_SET_REGS: %s", strerror(errno));
        goto out;
    }

    char msg[128];
    size_t msglen = 0;
    double t_loop0 = 0, t_loop1 = 0, t_exit1 = 0;
    unsigned long nexits = 0;
    int got42 = 0;
    double t0 = now();
    for (;;) {
        if (ioctl(v.vcpufd, KVM_RUN, 0UL) < 0) {
            FAIL("long-mode: KVM_RUN: %s", strerror(errno));
            goto out;
        }
        struct kvm_run *r = v.run;
        if (r->exit_reason == KVM_EXIT_IO && r->io.direction == KVM_EXIT_IO_OUT) {
            uint8_t *d = (uint8_t *)r + r->io.data_offset;
            switch (r->io.port) {
            case 0xe9:
                for (uint32_t i = 0; i < r->io.count && msglen < sizeof(msg) - 1; i++)
                    msg[msglen++] = d[i * r->io.size];
                continue;
            case 0xf5:
                if (d[0] == 1)
                    t_loop0 = now();
                else if (d[0] == 2)
                    t_loop1 = now();
                else if (d[0] == 3)
                    t_exit1 = now();
                continue;
            case 0xf6:
                nexits++;
                continue;
            case 0xf4:
                got42 = d[0] == 0x42;
                continue;
            }
        }
        if (r->exit_reason == KVM_EXIT_HLT)
            break;
        FAIL("long-mode: unexpected exit %u (%s) port=0x%x", r->exit_reason,
             exit_name(r->exit_reason), r->exit_reason == KVM_EXIT_IO ? r->io.port : 0);
        if (r->exit_reason == KVM_EXIT_FAIL_ENTRY)
            printf("  hardware_entry_failure_reason=0x%llx\n",
                   (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
        goto out;
    }
    msg[msglen] = 0;
    double t_end = now();
    if (strcmp(msg, "hello from long mode\n") != 0)
        FAIL("long-mode: port 0xe9 output was \"%s\"", msg);
    else
        printf("ok long-mode: port 0xe9 said: %s", msg);
    if (!got42 || nexits != exits)
        FAIL("long-mode: got42=%d exits=%lu/%lu", got42, nexits, exits);
    else
        printf("ok long-mode: 0x42 on port 0xf4, %lu out-exits counted\n", nexits);
    if (t_loop1 > t_loop0 && t_exit1 > t_loop1) {
        double lt = t_loop1 - t_loop0, et = t_exit1 - t_loop1;
        printf("info long-mode: %lu-iteration dec/jnz loop took %.3f s (%.1f M iterations/s, "
               "~%.1f M guest instructions/s)\n",
               loops, lt, loops / lt / 1e6, 2 * loops / lt / 1e6);
        printf("info long-mode: %lu IO exits took %.3f s (%.1f us per exit round trip)\n", exits,
               et, et / exits * 1e6);
    }
    printf("info long-mode test took %.3f s total\n", t_end - t0);
out:
    vm_destroy(&v);
}

int main(int argc, char **argv)
{
    unsigned long loops = argc > 1 ? strtoul(argv[1], NULL, 0) : 10000000UL;
    unsigned long exits = argc > 2 ? strtoul(argv[2], NULL, 0) : 10000UL;
    if (loops == 0)
        loops = 1;
    if (exits == 0)
        exits = 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    double t0 = now();

    kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm_fd < 0) {
        printf("FAIL open /dev/kvm: %s\n", strerror(errno));
        return 1;
    }
    int api = ioctl(kvm_fd, KVM_GET_API_VERSION, 0UL);
    if (api != KVM_API_VERSION) {
        FAIL("KVM_GET_API_VERSION = %d, want %d", api, KVM_API_VERSION);
        return 1;
    }
    printf("ok KVM_GET_API_VERSION = %d\n", api);
    check_caps();
    test_real_mode();
    test_irqchip();
    test_irqfd();
    test_smp();
    test_long_mode(loops, exits);

    printf("info kvm_smoke total wall time %.3f s\n", now() - t0);
    if (failures) {
        printf("kvm_smoke: %d failure(s)\n", failures);
        return 1;
    }
    printf("kvm_smoke: all checks passed\n");
    return 0;
}
