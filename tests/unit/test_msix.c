// SPDX-License-Identifier: GPL-2.0
/*
 * MSI-X emulation (pci/msix.c) and the per-device vector routing table
 * (pci/msix_vectors.c) on the interrupt router, against a fake KVM:
 * table/PBA access rules, the Linux enable pattern, masking with pending
 * bits delivered exactly once, function mask, disable, batched commits
 * and running out of GSIs.
 */
#include <sys/eventfd.h>
#include <unistd.h>

#include "tap.h"
#include "lib/fake_kvm.h"
#include "pci/msix.h"
#include "pci/msix_vectors.h"
#include "core/util.h"

#define NV	8
#define MSG_ADDR	0xfee00000ULL

static struct fake_kvm kvm;

struct dev {
	struct pci_device pci;
	struct msix msix;
	struct msix_vectors mv;
	int efd[2048];
};

static void vector_changed(struct msix *m, unsigned int v)
{
	struct dev *d = m->opaque;

	msix_vectors_sync(&d->mv, v);
}

static const struct msix_ops ops = { .vector_changed = vector_changed };

static void tw32(struct dev *d, unsigned int v, unsigned int field,
		 uint32_t val)
{
	uint8_t b[4];

	put_le32(b, val);
	msix_table_write(&d->msix, v * 16 + field, b, 4);
}

static uint32_t tr32(struct dev *d, uint64_t off)
{
	uint8_t b[4];

	msix_table_read(&d->msix, off, b, 4);
	return get_le32(b);
}

static uint64_t pba(struct dev *d)
{
	uint8_t b[8];

	msix_pba_read(&d->msix, 0, b, 8);
	return get_le64(b);
}

static void ctrl_write(struct dev *d, uint16_t ctrl)
{
	unsigned int off = d->msix.cap + PCI_MSIX_FLAGS;
	uint8_t b[2];

	put_le16(b, ctrl);
	pci_cfg_generic_write(&d->pci, off, b, 2);
	msix_cfg_written(&d->msix, off, 2);
}

static void fire(struct dev *d, unsigned int v)
{
	uint64_t one = 1;

	if (write(d->efd[v], &one, sizeof(one)) != sizeof(one))
		abort();
}

static int dev_init(struct dev *d, struct irq_router *r, struct evloop *l,
		    unsigned int nr)
{
	unsigned int v;
	int err;

	pci_device_init(&d->pci, "msix-test", 0x1234, 0x1, 0xff0000);
	err = msix_init(&d->msix, &d->pci, -1, nr, 0, 0, 0, 0x8000, &ops, d);
	if (err)
		return err;
	err = msix_vectors_init(&d->mv, &d->msix, r, l);
	if (err)
		return err;
	pthread_mutex_lock(&d->msix.lock);
	for (v = 0; v < nr; v++) {
		d->efd[v] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		msix_vectors_set_eventfd(&d->mv, v, d->efd[v]);
	}
	pthread_mutex_unlock(&d->msix.lock);
	return 0;
}

static void dev_destroy(struct dev *d)
{
	unsigned int v, nr = d->msix.nr;

	msix_vectors_destroy(&d->mv);
	msix_destroy(&d->msix);
	for (v = 0; v < nr; v++)
		close(d->efd[v]);
}

static void poll_now(struct dev *d)
{
	msix_vectors_poll_now(&d->mv);
}

static void test_access_rules(void)
{
	static struct dev d;
	struct irq_router r;
	uint8_t b[8];

	irq_router_init(&r, &fake_kvm_ops, &kvm, 4096);
	dev_init(&d, &r, NULL, NV);
	is_int(pci_cfg_get16(&d.pci, d.msix.cap + PCI_MSIX_FLAGS), NV - 1,
	       "Message Control: table size N-1, disabled");
	is_int(tr32(&d, 3 * 16 + 12), 1, "reset: vector control masked");
	is_int(tr32(&d, 3 * 16 + 8), 0, "reset: data 0");
	tw32(&d, 2, 0, 0xfee01003);
	is_int(tr32(&d, 2 * 16), 0xfee01000, "address bits 1:0 read as 0");
	tw32(&d, 2, 12, 0xfffffffe);
	is_int(tr32(&d, 2 * 16 + 12), 0, "reserved control bits read as 0");
	put_le64(b, 0x1122334455667788ULL);
	msix_table_write(&d.msix, 5 * 16, b, 8);
	ok(tr32(&d, 5 * 16) == 0x55667788 && tr32(&d, 5 * 16 + 4) == 0x11223344,
	   "QWORD write sets address low and high");
	msix_table_read(&d.msix, 5 * 16, b, 8);
	is_int(get_le64(b), 0x1122334455667788ULL, "QWORD read");
	log_quiet = true;
	b[0] = 0x42;
	msix_table_write(&d.msix, 6 * 16 + 8, b, 1);
	is_int(tr32(&d, 6 * 16 + 8), 0, "byte write ignored");
	msix_table_write(&d.msix, 6 * 16 + 2, b, 4);
	is_int(tr32(&d, 6 * 16), 0, "unaligned DWORD write ignored");
	msix_table_write(&d.msix, 6 * 16 + 4, b, 8);
	is_int(tr32(&d, 6 * 16 + 8), 0, "unaligned QWORD write ignored");
	msix_table_read(&d.msix, 6 * 16 + 1, b, 2);
	is_int(get_le16(b), 0, "bad-size read returns 0");
	msix_table_write(&d.msix, NV * 16, b, 4);
	is_int(d.msix.bad_accesses, 5, "access past the table refused");
	msix_pba_write(&d.msix, 0, b, 4);
	is_int(pba(&d), 0, "PBA writes ignored");
	is_int(d.msix.bad_accesses, 6, "...and counted");
	log_quiet = false;
	dev_destroy(&d);
	irq_router_destroy(&r);
}

static void program(struct dev *d, unsigned int v)
{
	tw32(d, v, 0, (uint32_t)MSG_ADDR | (v << 12));
	tw32(d, v, 4, 0);
	tw32(d, v, 8, 0x40 + v);
}

static void test_linux_pattern(void)
{
	static struct dev d;
	struct irq_router r;
	unsigned int v, n0;
	uint64_t addr;
	uint32_t data;

	irq_router_init(&r, &fake_kvm_ops, &kvm, 4096);
	irq_router_commit(&r);
	dev_init(&d, &r, NULL, NV);
	n0 = kvm.nr_msgs;
	/* pci_msix: Enable together with Function Mask, then the table. */
	ctrl_write(&d, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	ok(d.msix.enabled && d.msix.function_mask, "enabled, function masked");
	for (v = 0; v < NV; v++)
		program(&d, v);
	is_int(r.stats.gsis_in_use, 0, "no GSI while everything is masked");
	ctrl_write(&d, PCI_MSIX_FLAGS_ENABLE);
	is_int(r.stats.gsis_in_use, 0, "function unmasked: still no GSI");
	for (v = 0; v < 3; v++)
		tw32(&d, v, 12, 0);
	is_int(r.stats.gsis_in_use, 3, "a GSI for each unmasked vector only");
	is_int(d.mv.stats.live, 3, "three vectors live on irqfd");
	ok(fake_kvm_route(&kvm, d.mv.v[1].gsi, &addr, &data) &&
	   addr == (MSG_ADDR | 1 << 12) && data == 0x41,
	   "vector 1's route carries its message");
	ok(fake_kvm_irqfd_assigned(&kvm, d.efd[2]),
	   "vector 2's eventfd is an irqfd");
	ok(!fake_kvm_irqfd_assigned(&kvm, d.efd[5]),
	   "masked vector 5 has no irqfd");
	fire(&d, 1);
	fire(&d, 1);
	is_int(fake_kvm_poll(&kvm), 1, "two fires before KVM runs: one MSI");
	is_int(fake_kvm_count(&kvm, 0x41), 1, "delivered with vector 1's data");
	ok(kvm.msgs[kvm.nr_msgs - 1].via_irqfd, "...through the irqfd");

	/* Mask, fire, read PBA, unmask: exactly once, PBA cleared. */
	tw32(&d, 2, 12, 1);
	ok(!fake_kvm_irqfd_assigned(&kvm, d.efd[2]), "masked: irqfd detached");
	fire(&d, 2);
	fire(&d, 2);
	fake_kvm_poll(&kvm);
	poll_now(&d);
	is_int(fake_kvm_count(&kvm, 0x42), 0, "masked vector not delivered");
	is_int(pba(&d), 1 << 2, "PBA shows vector 2 pending");
	tw32(&d, 2, 12, 0);
	fake_kvm_poll(&kvm);
	is_int(fake_kvm_count(&kvm, 0x42), 1, "unmask delivers it exactly once");
	is_int(pba(&d), 0, "PBA cleared on delivery");
	fake_kvm_poll(&kvm);
	poll_now(&d);
	is_int(fake_kvm_count(&kvm, 0x42), 1, "and never again");
	is_int(r.stats.gsis_in_use, 3, "mask/unmask keeps the GSI");

	/* A storm: 100 rounds of mask, fire, unmask. */
	for (v = 0; v < 100; v++) {
		tw32(&d, 0, 12, 1);
		fire(&d, 0);
		poll_now(&d);
		tw32(&d, 0, 12, 0);
		fake_kvm_poll(&kvm);
	}
	is_int(fake_kvm_count(&kvm, 0x40), 100,
	       "mask/fire/unmask storm: 100 interrupts, 100 deliveries");

	/* Function mask holds everything back, then releases each once. */
	ctrl_write(&d, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	fire(&d, 0);
	fire(&d, 1);
	fake_kvm_poll(&kvm);
	poll_now(&d);
	is_int(pba(&d), 3, "function mask: both pending");
	ctrl_write(&d, PCI_MSIX_FLAGS_ENABLE);
	fake_kvm_poll(&kvm);
	ok(fake_kvm_count(&kvm, 0x40) == 101 && fake_kvm_count(&kvm, 0x41) == 2,
	   "function unmask: each pending vector delivered once");

	/* Message change while live: the route follows. */
	tw32(&d, 0, 12, 1);
	tw32(&d, 0, 8, 0x77);
	tw32(&d, 0, 12, 0);
	fire(&d, 0);
	fake_kvm_poll(&kvm);
	is_int(fake_kvm_count(&kvm, 0x77), 1, "new data used after reprogram");

	/* Disable: GSIs go back, irqfds detached. */
	ctrl_write(&d, 0);
	is_int(r.stats.gsis_in_use, 0, "disable returns every GSI");
	is_int(d.mv.stats.live, 0, "no vector live after disable");
	ok(kvm.nr_msgs - n0 == 105, "105 fires, 105 injections (%u)",
	   kvm.nr_msgs - n0);
	dev_destroy(&d);
	irq_router_destroy(&r);
}

static void test_batched_commits(void)
{
	static struct dev d;
	struct irq_router r;
	struct evloop loop;
	unsigned int v, commits, i;
	uint64_t t0, burst_ms, bound;

	evloop_init(&loop);
	evloop_start(&loop);
	irq_router_init(&r, &fake_kvm_ops, &kvm, 4096);
	irq_router_commit(&r);
	irq_router_attach_loop(&r, &loop);
	dev_init(&d, &r, &loop, 2048);
	commits = r.stats.commits;
	ctrl_write(&d, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	for (v = 0; v < 2048; v++)
		program(&d, v);
	ctrl_write(&d, PCI_MSIX_FLAGS_ENABLE);
	t0 = monotonic_ns();
	for (v = 0; v < 2048; v++)
		tw32(&d, v, 12, 0);
	burst_ms = (monotonic_ns() - t0) / 1000000;
	/* Before the commit lands, an interrupt still gets through. */
	fire(&d, 7);
	poll_now(&d);
	fake_kvm_poll(&kvm);
	ok(fake_kvm_count(&kvm, 0x47) == 1,
	   "interrupt before the batched commit: delivered once via mvm");
	for (i = 0; i < 5000 && d.mv.stats.live < 2048; i++)
		usleep(1000);
	is_int(d.mv.stats.live, 2048, "all 2048 vectors went live");
	/* One commit per IRQ_ROUTER_COMMIT_MAX_US of burst, plus the last. */
	bound = burst_ms * 1000 / IRQ_ROUTER_COMMIT_MAX_US + 2;
	ok(r.stats.commits - commits <= bound,
	   "2048 unmasks in %llu ms cost %llu routing commits (bound %llu)",
	   (unsigned long long)burst_ms,
	   (unsigned long long)(r.stats.commits - commits),
	   (unsigned long long)bound);
	fire(&d, 2047);
	fake_kvm_poll(&kvm);
	is_int(fake_kvm_count(&kvm, 0x40 + 2047), 1, "vector 2047 live");
	ctrl_write(&d, 0);
	dev_destroy(&d);
	evloop_stop(&loop);
	irq_router_destroy(&r);
	evloop_destroy(&loop);
}

static void test_gsi_exhaustion(void)
{
	static struct dev d;
	struct irq_router r;
	unsigned int v;

	/* A routing table with room for the irqchip and 4 MSI routes. */
	irq_router_init(&r, &fake_kvm_ops, &kvm,
			IRQ_ROUTER_IRQCHIP_ENTRIES + 4);
	irq_router_commit(&r);
	dev_init(&d, &r, NULL, NV);
	ctrl_write(&d, PCI_MSIX_FLAGS_ENABLE);
	log_quiet = true;
	for (v = 0; v < NV; v++) {
		program(&d, v);
		tw32(&d, v, 12, 0);
	}
	log_quiet = false;
	is_int(r.stats.gsis_in_use, 4, "four vectors got GSIs");
	is_int(r.stats.gsi_alloc_failures, 4, "four did not");
	for (v = 0; v < NV; v++)
		fire(&d, v);
	fake_kvm_poll(&kvm);
	poll_now(&d);
	for (v = 0; v < NV; v++)
		if (fake_kvm_count(&kvm, 0x40 + v) < 1)
			break;
	is_int(v, NV, "every vector still delivered (slow path for 4)");
	ctrl_write(&d, 0);
	dev_destroy(&d);
	irq_router_destroy(&r);
}

int main(void)
{
	fake_kvm_init(&kvm);
	test_access_rules();
	test_linux_pattern();
	test_batched_commits();
	test_gsi_exhaustion();
	fake_kvm_destroy(&kvm);
	return tap_done();
}
