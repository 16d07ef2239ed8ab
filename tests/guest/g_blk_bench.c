// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk throughput, guest side (bench/blk.sh runs it through
 * bench/blk_bench.c under mvm, and as a plain `-kernel` under QEMU).
 *
 * Finds the first virtio-blk function (1af4:1042), negotiates VERSION_1 |
 * FLUSH | BLK_SIZE (+ EVENT_IDX unless "blk_bench.evidx=0"), sets up
 * queue 0 with the device's queue size (at most 256) and its own rings
 * (the test library's pool holds only 64 entries), MSI-X vector 0 ->
 * IDT 0x40, then runs four phases of N 4 KiB requests each with QD in
 * flight:
 *
 *   0 seqread	T_IN,  block i mod B
 *   1 seqwrite	T_OUT, block i mod B
 *   2 randread	T_IN,  block LCG() mod B
 *   3 randwrite	T_OUT, block LCG() mod B
 *
 * over the first B = MiB * 256 blocks of the disk (capped by its
 * capacity).  Each request is one chain of three descriptors (header,
 * 4 KiB data, status) fixed per slot.  The loop: post QD requests, kick;
 * wait for completions (interrupt mode: `sti; hlt` until the used index
 * moves; poll mode: spin on it with interrupts suppressed); reap them all,
 * post as many new ones, kick once (if the device wants it: NO_NOTIFY or
 * avail_event).  The data is not checked; a status other than OK counts
 * as an error.
 *
 * Kernel command line (all optional): blk_bench.qd=1..64 (1),
 * blk_bench.n=REQUESTS per phase (2000), blk_bench.mib=REGION (64),
 * blk_bench.evidx=0|1 (1), blk_bench.poll=0|1 (0), blk_bench.tick_us=
 * period of the LAPIC timer that bounds every hlt (10000; a lost
 * interrupt then costs a tick instead of hanging the guest).
 *
 * Reports, both as ucalls (mvm) and as serial lines (QEMU has no ucall
 * port; the OUTs to it are ignored there):
 *
 *   SYNC 1 qd | evidx << 16 | poll << 17	(as used)
 *   SYNC 2 N, 3 region bytes, 4 capacity (sectors), 5 negotiated features,
 *   SYNC 6 CPUID.15H EAX << 32 | EBX, 7 CPUID.15H ECX (crystal Hz),
 *   SYNC 8 CPUID.16H EAX (base MHz) (0 where the leaf is missing),
 *   SYNC 9 queue size
 *   per phase p (0..3): SYNC 0x10*(p+1) + field with field
 *	0 TSC cycles, 1 kicks (notify writes), 2 interrupts (MSI-X vector 0
 *	hits), 3 completions (used entries), 4 errors (status != OK),
 *	5 waits (hlt or spin rounds that ended with completions),
 *	6 rescued (waits a timer tick ended, not the MSI-X vector)
 *   SYNC 0x80 guest TSC cycles from guest_main() to the end of the phases,
 *   SYNC 0x81 LAPIC timer ticks taken
 *
 *   serial: "blk_bench: config qd=.. n=.. region=.. cap=.. evidx=.. poll=..
 *	      qsize=.. features=0x.. cpuid15=EAX,EBX,ECX cpuid16=MHZ"
 *	     "blk_bench: phase=NAME cycles=.. kicks=.. irqs=.. used=..
 *	      errors=.. waits=.. rescued=.."			(one per phase)
 *	     "blk_bench: total_cycles=.. ticks=.. done"
 *
 * Ends with GUEST_DONE (ACPI S5 under mvm; under QEMU q35 the S5 type
 * differs, so the debug-exit fallback at port 0xf4 ends it).
 */
#include "guest.h"
#include "idt.h"
#include "smp.h"
#include "virtio.h"

#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9
#define BLK_CFG_CAPACITY	0
#define T_IN			0
#define T_OUT			1
#define S_OK			0

#define IRQ_VECTOR		0x40
#define QD_MAX			64
#define QSIZE_MAX		256
#define BS			4096
#define SECTORS_PER_BLOCK	(BS / 512)
#define DESC_PER_REQ		3
#define WARMUP			64
#define NO_PROGRESS_CYCLES	20000000000ULL	/* give up a phase */
#define TIMER_VECTOR		0x50
#define LAPIC_LVT_TIMER		0x320
#define LAPIC_TIMER_INIT	0x380
#define LAPIC_TIMER_DIV		0x3e0
#define APIC_TIMER_PERIODIC	(1 << 17)
#define APIC_TIMER_DIV_1	0xb

#define VIRTQ_AVAIL_F_NO_INTERRUPT	1
#define VIRTQ_USED_F_NO_NOTIFY		1

/* SYNC stages (bench/blk_bench.c reads them). */
enum {
	ST_CONFIG = 1, ST_N, ST_REGION, ST_CAPACITY, ST_FEATURES,
	ST_CPUID15_AB, ST_CPUID15_C, ST_CPUID16, ST_QSIZE,
	ST_PHASE = 0x10,	/* + 0x10 * phase + field */
	ST_TOTAL = 0x80, ST_TICKS,
};
enum { F_CYCLES, F_KICKS, F_IRQS, F_USED, F_ERRORS, F_WAITS, F_RESCUES,
       F_NR };

static const char *const phase_name[4] = {
	"seqread", "seqwrite", "randread", "randwrite"
};

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* Rings: descriptors, avail (+ used_event), used (+ avail_event). */
static uint8_t rings[3][4096] __attribute__((aligned(4096)));
static uint8_t data[QD_MAX][BS] __attribute__((aligned(4096)));
static struct blk_hdr hdr[QD_MAX] __attribute__((aligned(64)));
static volatile uint8_t status[QD_MAX];

static struct virtio_pci vp;
static volatile struct virtq_desc *desc;
static volatile struct virtq_avail *avail;
static volatile struct virtq_used *used;
static volatile uint16_t *used_event, *avail_event;
static uint64_t notify_addr;
static uint16_t qsize, avail_idx, kicked_idx, last_used;
static bool evidx, poll;
static uint64_t kicks, rescues, lcg = 0x853c49e6748fea9bULL;

static unsigned int cmdline_uint(const char *cmdline, const char *key,
				 unsigned int def)
{
	size_t klen = strlen(key);
	const char *p = cmdline;
	unsigned int v = 0;

	for (; *p; p++) {
		if ((p != cmdline && p[-1] != ' ') || memcmp(p, key, klen))
			continue;
		p += klen;
		if (*p < '0' || *p > '9')
			return def;
		while (*p >= '0' && *p <= '9')
			v = v * 10 + (unsigned int)(*p++ - '0');
		return v;
	}
	return def;
}

static inline void mb(void)
{
	asm volatile("mfence" ::: "memory");
}

static inline void barrier(void)
{
	asm volatile("" ::: "memory");
}

/* Queue 0 with our own rings; between FEATURES_OK and DRIVER_OK. */
static int setup_queue(uint16_t msix)
{
	uint64_t c = vp.common, d, a, u;
	uint16_t max;

	virtio_w16(c + VIRTIO_COMMON_Q_SELECT, 0);
	max = virtio_r16(c + VIRTIO_COMMON_Q_SIZE);
	if (!max)
		return -1;
	qsize = max > QSIZE_MAX ? QSIZE_MAX : max;
	while (qsize & (qsize - 1))
		qsize &= qsize - 1;
	memset(rings, 0, sizeof(rings));
	d = (uint64_t)(uintptr_t)rings[0];
	a = (uint64_t)(uintptr_t)rings[1];
	u = (uint64_t)(uintptr_t)rings[2];
	desc = (volatile struct virtq_desc *)(uintptr_t)d;
	avail = (volatile struct virtq_avail *)(uintptr_t)a;
	used = (volatile struct virtq_used *)(uintptr_t)u;
	/* 2.7.6 / 2.7.8: the event fields follow the rings. */
	used_event = &avail->ring[qsize];
	avail_event = (volatile uint16_t *)&used->ring[qsize];

	virtio_w16(c + VIRTIO_COMMON_Q_SIZE, qsize);
	virtio_w16(c + VIRTIO_COMMON_Q_MSIX, msix);
	virtio_w32(c + VIRTIO_COMMON_Q_DESCLO, (uint32_t)d);
	virtio_w32(c + VIRTIO_COMMON_Q_DESCHI, (uint32_t)(d >> 32));
	virtio_w32(c + VIRTIO_COMMON_Q_AVAILLO, (uint32_t)a);
	virtio_w32(c + VIRTIO_COMMON_Q_AVAILHI, (uint32_t)(a >> 32));
	virtio_w32(c + VIRTIO_COMMON_Q_USEDLO, (uint32_t)u);
	virtio_w32(c + VIRTIO_COMMON_Q_USEDHI, (uint32_t)(u >> 32));
	notify_addr = vp.notify + (uint64_t)vp.notify_mult *
		      virtio_r16(c + VIRTIO_COMMON_Q_NOFF);
	virtio_w16(c + VIRTIO_COMMON_Q_ENABLE, 1);
	return virtio_r16(c + VIRTIO_COMMON_Q_ENABLE) == 1 ? 0 : -1;
}

/* Slot s always uses descriptors 3s, 3s+1, 3s+2. */
static void init_slots(unsigned int qd)
{
	unsigned int s, i;

	for (s = 0; s < qd; s++) {
		volatile struct virtq_desc *e = &desc[DESC_PER_REQ * s];

		e[0].addr = (uint64_t)(uintptr_t)&hdr[s];
		e[0].len = sizeof(hdr[s]);
		e[0].flags = VIRTQ_DESC_F_NEXT;
		e[0].next = (uint16_t)(DESC_PER_REQ * s + 1);
		e[1].addr = (uint64_t)(uintptr_t)data[s];
		e[1].len = BS;
		e[1].next = (uint16_t)(DESC_PER_REQ * s + 2);
		e[2].addr = (uint64_t)(uintptr_t)&status[s];
		e[2].len = 1;
		e[2].flags = VIRTQ_DESC_F_WRITE;
		for (i = 0; i < BS; i++)
			data[s][i] = (uint8_t)(s * 37 + i);
	}
}

static void post(unsigned int s, uint32_t type, uint64_t block)
{
	hdr[s].type = type;
	hdr[s].reserved = 0;
	hdr[s].sector = block * SECTORS_PER_BLOCK;
	status[s] = 0xff;
	desc[DESC_PER_REQ * s + 1].flags = VIRTQ_DESC_F_NEXT |
		(type == T_IN ? VIRTQ_DESC_F_WRITE : 0);
	avail->ring[avail_idx % qsize] = (uint16_t)(DESC_PER_REQ * s);
	barrier();	/* x86: stores stay in order (wmb) */
	avail->idx = ++avail_idx;
}

/* 2.7.10: vring_need_event(). */
static inline bool need_event(uint16_t event, uint16_t new, uint16_t old)
{
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

static void kick(void)
{
	uint16_t old = kicked_idx, new = avail_idx;
	bool k;

	mb();	/* avail->idx before reading the suppression fields */
	kicked_idx = new;
	if (evidx)
		k = need_event(*avail_event, new, old);
	else
		k = !(used->flags & VIRTQ_USED_F_NO_NOTIFY);
	if (k) {
		virtio_w16(notify_addr, 0);
		kicks++;
	}
}

/* Interrupts: wanted for the next completion (interrupt mode) or not. */
static void arm_interrupt(void)
{
	if (evidx)
		*used_event = poll ? (uint16_t)(last_used - 1) : last_used;
	else
		avail->flags = poll ? VIRTQ_AVAIL_F_NO_INTERRUPT : 0;
	mb();	/* before re-reading used->idx */
}

/*
 * Wait until the used index moves; false after NO_PROGRESS_CYCLES.  The
 * LAPIC timer's tick bounds every hlt: if a tick, not the MSI-X vector,
 * woke us and completions were there, the interrupt was late or lost
 * ("rescued").
 */
static bool wait_used(void)
{
	uint64_t start = rdtsc();
	bool by_timer = false;

	for (;;) {
		uint32_t m, t;

		irq_disable();
		if (used->idx != last_used) {
			irq_enable();
			rescues += by_timer;
			return true;
		}
		if (rdtsc() - start > NO_PROGRESS_CYCLES) {
			irq_enable();
			return false;
		}
		if (poll) {
			irq_enable();
			cpu_relax();
		} else {
			m = idt_hits_read(IRQ_VECTOR);
			t = idt_hits_read(TIMER_VECTOR);
			/* sti's shadow covers hlt: no lost wake-up. */
			asm volatile("sti; hlt" ::: "memory");
			by_timer = idt_hits_read(IRQ_VECTOR) == m &&
				   idt_hits_read(TIMER_VECTOR) != t;
		}
	}
}

static uint64_t next_block(unsigned int phase, uint64_t i, uint64_t blocks)
{
	if (phase < 2)
		return i % blocks;
	lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
	return (lcg >> 33) % blocks;
}

/* One phase; res[F_*]. */
static void run_phase(unsigned int phase, unsigned int qd, uint64_t n,
		      uint64_t blocks, uint64_t *res)
{
	uint32_t type = (phase & 1) ? T_OUT : T_IN;
	uint64_t issued = 0, done = 0, errors = 0, waits = 0, t0, t1;
	uint32_t irq0;
	uint64_t kick0, rescue0 = rescues;
	unsigned int s;

	kick0 = kicks;
	irq0 = idt_hits_read(IRQ_VECTOR);
	t0 = rdtsc();
	arm_interrupt();
	for (s = 0; s < qd && issued < n; s++)
		post(s, type, next_block(phase, issued++, blocks));
	kick();
	while (done < n) {
		unsigned int reaped = 0;

		if (!wait_used())
			break;
		waits++;
		while (used->idx != last_used) {
			volatile struct virtq_used_elem *e;

			barrier();	/* rmb: the entry after the index */
			e = &used->ring[last_used % qsize];
			s = e->id / DESC_PER_REQ;
			last_used++;
			done++;
			reaped++;
			if (s >= qd || status[s] != S_OK)
				errors++;
			if (s < qd && issued < n)
				post(s, type, next_block(phase, issued++,
							 blocks));
		}
		arm_interrupt();
		if (reaped && avail_idx != kicked_idx)
			kick();
	}
	t1 = rdtsc();
	res[F_CYCLES] = t1 - t0;
	res[F_KICKS] = kicks - kick0;
	res[F_IRQS] = idt_hits_read(IRQ_VECTOR) - irq0;
	res[F_USED] = done;
	res[F_ERRORS] = errors + (n - done);	/* a stall counts the rest */
	res[F_WAITS] = waits;
	res[F_RESCUES] = rescues - rescue0;
}

static void mask_pics(void)
{
	/* QEMU's BIOS leaves the 8259s on (IRQ0 at vector 8): mask them. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

void guest_main(void *bp)
{
	const char *cl = bp_cmdline(bp);
	unsigned int qd = cmdline_uint(cl, "blk_bench.qd=", 1);
	uint64_t n = cmdline_uint(cl, "blk_bench.n=", 2000);
	uint64_t mib = cmdline_uint(cl, "blk_bench.mib=", 64);
	unsigned int tick_us = cmdline_uint(cl, "blk_bench.tick_us=", 10000);
	uint64_t start = rdtsc(), cap, blocks, res[4][F_NR];
	uint32_t a15 = 0, b15 = 0, c15 = 0, a16 = 0, b, c, d, max;
	unsigned int p, f;
	int err;

	evidx = cmdline_uint(cl, "blk_bench.evidx=", 1) != 0;
	poll = cmdline_uint(cl, "blk_bench.poll=", 0) != 0;
	if (qd < 1)
		qd = 1;
	if (qd > QD_MAX)
		qd = QD_MAX;

	cpuid(0, &max, &b, &c, &d);
	if (max >= 0x15)
		cpuid(0x15, &a15, &b15, &c15, &d);
	if (max >= 0x16)
		cpuid(0x16, &a16, &b, &c, &d);

	mask_pics();
	err = virtio_pci_find(VIRTIO_ID_BLOCK, &vp);
	if (err)
		guest_printf("blk_bench: error no virtio-blk (%d)\n", err);
	GUEST_ASSERT_EQ(err, 0);
	idt_init();
	lapic_enable();
	/* A periodic tick so that no hlt waits forever. */
	lapic_write(LAPIC_TIMER_DIV, APIC_TIMER_DIV_1);
	lapic_write(LAPIC_LVT_TIMER, APIC_TIMER_PERIODIC | TIMER_VECTOR);
	lapic_write(LAPIC_TIMER_INIT, tick_us * 1000);
	irq_enable();
	err = virtio_msix_enable(&vp, IRQ_VECTOR);
	GUEST_ASSERT_EQ(err, 0);
	err = virtio_start(&vp, 1ULL << VIRTIO_BLK_F_FLUSH |
				1ULL << VIRTIO_BLK_F_BLK_SIZE |
				(evidx ? 1ULL << VIRTIO_RING_F_EVENT_IDX : 0));
	if (err)
		guest_printf("blk_bench: error features (%d)\n", err);
	GUEST_ASSERT_EQ(err, 0);
	evidx = vp.negotiated & (1ULL << VIRTIO_RING_F_EVENT_IDX);
	virtio_set_config_vector(&vp, VIRTIO_MSI_NO_VECTOR);
	err = setup_queue(0);
	if (err)
		guest_printf("blk_bench: error queue setup\n");
	GUEST_ASSERT_EQ(err, 0);
	if ((unsigned int)qd * DESC_PER_REQ > qsize)
		qd = qsize / DESC_PER_REQ;
	cap = virtio_cfg_r64(&vp, BLK_CFG_CAPACITY);
	blocks = mib * (1 << 20) / BS;
	if (blocks > cap / SECTORS_PER_BLOCK)
		blocks = cap / SECTORS_PER_BLOCK;
	GUEST_ASSERT(blocks > 0);
	init_slots(qd);
	virtio_driver_ok(&vp);

	GUEST_SYNC(ST_CONFIG, qd | (uint64_t)evidx << 16 |
			      (uint64_t)poll << 17);
	GUEST_SYNC(ST_N, n);
	GUEST_SYNC(ST_REGION, blocks * BS);
	GUEST_SYNC(ST_CAPACITY, cap);
	GUEST_SYNC(ST_FEATURES, vp.negotiated);
	GUEST_SYNC(ST_CPUID15_AB, (uint64_t)a15 << 32 | b15);
	GUEST_SYNC(ST_CPUID15_C, c15);
	GUEST_SYNC(ST_CPUID16, a16);
	GUEST_SYNC(ST_QSIZE, qsize);

	/* Warm-up, not measured: a few reads through the whole path. */
	run_phase(0, qd, WARMUP, blocks, res[0]);
	for (p = 0; p < 4; p++)
		run_phase(p, qd, n, blocks, res[p]);
	irq_disable();
	lapic_write(LAPIC_TIMER_INIT, 0);
	/* The vendor-neutral total: guest_main() to here. */
	start = rdtsc() - start;

	for (p = 0; p < 4; p++)
		for (f = 0; f < F_NR; f++)
			GUEST_SYNC(ST_PHASE + 0x10 * p + f, res[p][f]);
	GUEST_SYNC(ST_TOTAL, start);
	GUEST_SYNC(ST_TICKS, idt_hits_read(TIMER_VECTOR));

	guest_printf("blk_bench: config qd=%u n=%llu region=%llu cap=%llu "
		     "evidx=%u poll=%u qsize=%u features=0x%llx "
		     "cpuid15=%u,%u,%u cpuid16=%u\n",
		     qd, (unsigned long long)n,
		     (unsigned long long)(blocks * BS),
		     (unsigned long long)cap, evidx, poll, qsize,
		     (unsigned long long)vp.negotiated, a15, b15, c15, a16);
	for (p = 0; p < 4; p++)
		guest_printf("blk_bench: phase=%s cycles=%llu kicks=%llu "
			     "irqs=%llu used=%llu errors=%llu waits=%llu "
			     "rescued=%llu\n",
			     phase_name[p],
			     (unsigned long long)res[p][F_CYCLES],
			     (unsigned long long)res[p][F_KICKS],
			     (unsigned long long)res[p][F_IRQS],
			     (unsigned long long)res[p][F_USED],
			     (unsigned long long)res[p][F_ERRORS],
			     (unsigned long long)res[p][F_WAITS],
			     (unsigned long long)res[p][F_RESCUES]);
	guest_printf("blk_bench: total_cycles=%llu ticks=%u done\n",
		     (unsigned long long)start, idt_hits_read(TIMER_VECTOR));
	GUEST_DONE();
}
