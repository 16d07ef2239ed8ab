// SPDX-License-Identifier: GPL-2.0
/*
 * The heart of mvm: a passed-through function's MSI-X, against the
 * simulated host kernel, for both host flavours (dynamic MSI-X allocation,
 * Linux >= 6.5; NORESIZE, older kernels).  Guest actions go through config
 * mechanism #1 and BAR MMIO exactly as vCPU exits would.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdio.h>

#include "tap.h"
#include "lib/pt_harness.h"
#include "core/util.h"

static struct fake_kvm kvm;
static const char *const flavours[] = { "dynamic", "noresize" };

static const struct vfio_sim_stats *st(struct pt_dev *d)
{
	return vfio_sim_stats(d->host);
}

static unsigned long set_irqs_calls(struct pt_dev *d)
{
	return st(d)->ioctls[vfio_sim_ioc(VFIO_DEVICE_SET_IRQS)];
}

static uint32_t mbox_command(struct pt_dev *d, uint32_t cmd, uint32_t vec)
{
	pt_mmio_write(d, 0, MBOX_REG_VECTOR, 4, vec);
	pt_mmio_write(d, 0, MBOX_REG_CMD, 4, cmd);
	return pt_mmio_read(d, 0, MBOX_REG_STATUS, 4);
}

static void doorbell(struct pt_dev *d, unsigned int v)
{
	pt_mmio_write(d, 0, MBOX_REG_DOORBELL, 4, v);
}

static int nr_open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while (dir && (e = readdir(dir)))
		n += e->d_name[0] != '.';
	if (dir)
		closedir(dir);
	return n;
}

/* The seed's scenario: a mailbox command right after Enable, before any
 * vector is unmasked, must find MSI-X enabled on the host. */
static void test_seed_scenario(const char *fl)
{
	struct test_machine m;
	struct pt_dev d;
	char spec[64];

	snprintf(spec, sizeof(spec), "mbox-vf,vectors=16,host=%s", fl);
	test_machine_init(&m, &kvm, &(struct test_machine_opts){ .nr_gsis = 4096, .loop = false });
	is_int(pt_dev_attach(&d, &m, spec), 0, "%s: attach sim:mbox-vf", fl);
	ok(vfio_sim_intx_enabled(d.host) && !vfio_sim_msix_enabled(d.host),
	   "%s: at start the host runs INTx, MSI-X off", fl);
	is_int(mbox_command(&d, 0x1234, 0), MBOX_STATUS_REFUSED,
	       "%s: the PF refuses a mailbox command while host MSI-X is off", fl);
	/* Linux: Enable + Function Mask in one write, all vectors masked. */
	pt_msix_ctrl(&d, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	ok(vfio_sim_msix_enabled(d.host),
	   "%s: guest Enable with every vector masked -> host MSI-X enabled", fl);
	ok(!vfio_sim_intx_enabled(d.host), "%s: host INTx switched off", fl);
	is_int(vfio_sim_msix_allocated(d.host), 1,
	       "%s: one host vector allocated (table data all zero)", fl);
	is_int(m.router->stats.gsis_in_use, 0, "%s: no GSI spent yet", fl);
	is_int(mbox_command(&d, 0x1234, 0), MBOX_STATUS_DONE,
	       "%s: mailbox command right after Enable succeeds", fl);
	is_int(pt_mmio_read(&d, 0, MBOX_REG_RESULT, 4), ~0x1234u,
	       "%s: ...with the PF's answer", fl);
	/* Its completion interrupt fired on masked vector 0: pending. */
	pt_settle(&d);
	is_int(pt_msix_pba(&d, 0) & 1, 1,
	       "%s: completion on masked vector 0 shows in the PBA", fl);
	pt_msix_program(&d, 0, 0x30);
	pt_msix_ctrl(&d, PCI_MSIX_FLAGS_ENABLE);
	pt_msix_mask(&d, 0, false);
	pt_settle(&d);
	is_int(fake_kvm_count(&kvm, 0x30), 1,
	       "%s: unmask delivers that completion exactly once", fl);
	is_int(pt_msix_pba(&d, 0) & 1, 0, "%s: PBA bit cleared", fl);
	pt_dev_detach(&d);
	test_machine_destroy(&m);
}

static void test_linux_pattern(const char *fl, unsigned int nv)
{
	struct test_machine m;
	struct pt_dev d;
	char spec[64];
	unsigned int v, bad = 0;
	unsigned long calls0;
	bool dyn = !strcmp(fl, "dynamic");

	snprintf(spec, sizeof(spec), "mbox-vf,vectors=%u,host=%s", nv, fl);
	test_machine_init(&m, &kvm, &(struct test_machine_opts){ .nr_gsis = 4096, .loop = false });
	pt_dev_attach(&d, &m, spec);
	calls0 = set_irqs_calls(&d);
	pt_msix_ctrl(&d, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	for (v = 0; v < nv; v++)
		pt_msix_program(&d, v, 0x100 + v);
	pt_msix_ctrl(&d, PCI_MSIX_FLAGS_ENABLE);
	for (v = 0; v < nv; v++)
		pt_msix_mask(&d, v, false);
	is_int(m.router->stats.gsis_in_use, nv,
	       "%s/%u: one GSI per unmasked vector", fl, nv);
	is_int(vfio_sim_msix_allocated(d.host), nv,
	       "%s/%u: host allocated every used vector", fl, nv);
	if (dyn) {
		/* Enable (vector 0, fd -1), then one call per vector, and
		 * INTx off before it: nothing is ever torn down. */
		is_int(set_irqs_calls(&d) - calls0, 2 + nv,
		       "%s/%u: SET_IRQS = INTx off + enable + 1 per vector", fl, nv);
		is_int(st(&d)->msix_disables, 0, "%s/%u: never a teardown", fl, nv);
	} else {
		/* Enable with 1, one re-enable sized by the data hint. */
		is_int(st(&d)->msix_enables, nv > 1 ? 2 : 1,
		       "%s/%u: enable, then one growth to the hint", fl, nv);
		is_int(d.vd.msix_stats.grows, nv > 1 ? 1 : 0,
		       "%s/%u: grows counted", fl, nv);
	}
	for (v = 0; v < nv; v++) {
		int trig = vfio_sim_msix_trigger(d.host, v);

		if (trig < 0 || trig != d.vd.vectors.v[v].owner_efd)
			bad++;
	}
	is_int(bad, 0, "%s/%u: every vector's host trigger is mvm's eventfd",
	       fl, nv);
	/* On NORESIZE, growing re-fires vector 0 once (it was live while
	 * the host was briefly disabled): count from here. */
	kvm.nr_msgs = 0;
	for (v = 0; v < nv; v++)
		doorbell(&d, v);
	pt_settle(&d);
	for (v = 0, bad = 0; v < nv; v++)
		bad += fake_kvm_count(&kvm, 0x100 + v) != 1;
	is_int(bad, 0, "%s/%u: each doorbell reached the guest once", fl, nv);
	is_int(d.vd.vectors.stats.live, nv, "%s/%u: all vectors on irqfd",
	       fl, nv);
	pt_dev_detach(&d);
	is_int(m.router->stats.gsis_in_use, 0, "%s/%u: GSIs returned", fl, nv);
	test_machine_destroy(&m);
}

static void test_freebsd_pattern(const char *fl)
{
	struct test_machine m;
	struct pt_dev d;
	char spec[64];

	snprintf(spec, sizeof(spec), "mbox-vf,vectors=8,host=%s", fl);
	test_machine_init(&m, &kvm, &(struct test_machine_opts){ .nr_gsis = 4096, .loop = false });
	pt_dev_attach(&d, &m, spec);
	/* Enable with an all-zero table, no function mask. */
	pt_msix_ctrl(&d, PCI_MSIX_FLAGS_ENABLE);
	ok(vfio_sim_msix_enabled(d.host), "%s: FreeBSD-style enable matched", fl);
	is_int(mbox_command(&d, 7, 5), MBOX_STATUS_DONE,
	       "%s: mailbox works before any vector is set up", fl);
	pt_msix_program(&d, 5, 0x55);
	pt_msix_mask(&d, 5, false);
	pt_settle(&d);
	is_int(fake_kvm_count(&kvm, 0x55), 1,
	       "%s: the completion raised on vector 5 before it was set up arrives once",
	       fl);
	doorbell(&d, 5);
	pt_settle(&d);
	is_int(fake_kvm_count(&kvm, 0x55), 2, "%s: vector 5 live", fl);
	is_int(m.router->stats.gsis_in_use, 1, "%s: one GSI", fl);
	pt_dev_detach(&d);
	test_machine_destroy(&m);
}

static void test_masking_and_disable(const char *fl)
{
	struct test_machine m;
	struct pt_dev d;
	char spec[64];
	unsigned int i;

	snprintf(spec, sizeof(spec), "mbox-vf,vectors=4,host=%s", fl);
	test_machine_init(&m, &kvm, &(struct test_machine_opts){ .nr_gsis = 4096, .loop = false });
	pt_dev_attach(&d, &m, spec);
	pt_msix_ctrl(&d, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	for (i = 0; i < 4; i++)
		pt_msix_program(&d, i, 0x200 + i);
	pt_msix_ctrl(&d, PCI_MSIX_FLAGS_ENABLE);
	for (i = 0; i < 4; i++)
		pt_msix_mask(&d, i, false);
	/* Storm: mask, two interrupts, PBA, unmask, once. */
	kvm.nr_msgs = 0;
	for (i = 0; i < 50; i++) {
		pt_msix_mask(&d, 2, true);
		doorbell(&d, 2);
		doorbell(&d, 2);
		pt_settle(&d);
		if (!(pt_msix_pba(&d, 0) & 4))
			break;
		pt_msix_mask(&d, 2, false);
		pt_settle(&d);
	}
	is_int(i, 50, "%s: every masked round shows the PBA bit", fl);
	is_int(fake_kvm_count(&kvm, 0x202), 50,
	       "%s: 50 rounds of 2 masked interrupts -> 50 deliveries", fl);
	/* Function mask. */
	kvm.nr_msgs = 0;
	pt_msix_ctrl(&d, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	doorbell(&d, 0);
	doorbell(&d, 3);
	pt_settle(&d);
	is_int(pt_msix_pba(&d, 0), 9, "%s: function mask: PBA 0b1001", fl);
	pt_msix_ctrl(&d, PCI_MSIX_FLAGS_ENABLE);
	pt_settle(&d);
	ok(fake_kvm_count(&kvm, 0x200) == 1 && fake_kvm_count(&kvm, 0x203) == 1,
	   "%s: function unmask delivers each once", fl);
	/* Guest disables MSI-X: host follows, back to INTx. */
	pt_msix_ctrl(&d, 0);
	ok(!vfio_sim_msix_enabled(d.host) && vfio_sim_intx_enabled(d.host),
	   "%s: guest disable -> host MSI-X off, INTx back", fl);
	is_int(m.router->stats.gsis_in_use, 0, "%s: disable frees GSIs", fl);
	is_int(mbox_command(&d, 9, 0), MBOX_STATUS_REFUSED,
	       "%s: and the PF refuses again, as on real hardware", fl);
	/* Re-enable works and matches again. */
	pt_msix_ctrl(&d, PCI_MSIX_FLAGS_ENABLE);
	ok(vfio_sim_msix_enabled(d.host), "%s: re-enable matched", fl);
	pt_msix_mask(&d, 1, false);
	doorbell(&d, 1);
	pt_settle(&d);
	is_int(fake_kvm_count(&kvm, 0x201), 1, "%s: vector 1 after re-enable",
	       fl);
	pt_dev_detach(&d);
	test_machine_destroy(&m);
}

static void test_flr(const char *fl)
{
	struct test_machine m;
	struct pt_dev d;
	char spec[64];
	unsigned int exp, ctl;
	unsigned long resets;

	snprintf(spec, sizeof(spec), "mbox-vf,vectors=4,host=%s,reset=1", fl);
	test_machine_init(&m, &kvm, &(struct test_machine_opts){ .nr_gsis = 4096, .loop = false });
	pt_dev_attach(&d, &m, spec);
	pt_msix_ctrl(&d, PCI_MSIX_FLAGS_ENABLE);
	pt_msix_program(&d, 0, 0x300);
	pt_msix_mask(&d, 0, false);
	resets = st(&d)->resets;
	exp = pt_cfg_read(&d, PCI_CAPABILITY_LIST, 1);
	while (exp && pt_cfg_read(&d, exp, 1) != PCI_CAP_ID_EXP)
		exp = pt_cfg_read(&d, exp + 1, 1);
	ok(exp && (pt_cfg_read(&d, exp + PCI_EXP_DEVCAP, 4) &
		   PCI_EXP_DEVCAP_FLR), "%s: PCIe capability offers FLR", fl);
	ctl = pt_cfg_read(&d, exp + PCI_EXP_DEVCTL, 2);
	pt_cfg_write(&d, exp + PCI_EXP_DEVCTL, 2, ctl | PCI_EXP_DEVCTL_BCR_FLR);
	is_int(st(&d)->resets, resets + 1,
	       "%s: FLR -> exactly one device reset (VFIO_DEVICE_RESET)", fl);
	ok(!vfio_sim_msix_enabled(d.host), "%s: FLR: host MSI-X off", fl);
	is_int(pt_cfg_read(&d, pt_msix_cap(&d) + PCI_MSIX_FLAGS, 2) &
	       PCI_MSIX_FLAGS_ENABLE, 0, "%s: FLR: guest MSI-X off", fl);
	is_int(pt_cfg_read(&d, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY, 0,
	       "%s: FLR: memory decoding off", fl);
	/* Linux restores the command register after FLR; so do we. */
	pt_cfg_write(&d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	is_int(pt_mmio_read(&d, 0, d.vd.msix.table_off + 12, 4), 1,
	       "%s: FLR: vector 0 masked again", fl);
	is_int(m.router->stats.gsis_in_use, 0, "%s: FLR: GSIs freed", fl);
	pt_dev_detach(&d);
	test_machine_destroy(&m);
}

/* NORESIZE growth: an interrupt raised while the host is disabled inside
 * the re-enable window is not lost. */
static struct pt_dev *hook_dev;
static int hook_raised;

static void raise_in_window(void *opaque, const struct vfio_irq_set *s,
			    int ret)
{
	if (s->index == VFIO_PCI_MSIX_IRQ_INDEX && s->count == 0 &&
	    !hook_raised) {
		hook_raised = 1;
		vfio_sim_raise(hook_dev->host, 0);
	}
}

static void test_grow_keeps_interrupts(void)
{
	struct test_machine m;
	struct pt_dev d;
	unsigned int before;

	test_machine_init(&m, &kvm, &(struct test_machine_opts){ .nr_gsis = 4096, .loop = false });
	pt_dev_attach(&d, &m, "mbox-vf,vectors=8,host=noresize");
	pt_msix_ctrl(&d, PCI_MSIX_FLAGS_ENABLE);
	pt_msix_program(&d, 0, 0x400);
	pt_msix_mask(&d, 0, false);
	is_int(vfio_sim_msix_allocated(d.host), 1, "noresize: 1 vector at first");
	hook_dev = &d;
	hook_raised = 0;
	vfio_sim_set_irqs_hook(d.host, raise_in_window, NULL);
	before = fake_kvm_count(&kvm, 0x400);
	/* Unmask vector 6 (no data: the hint says 1): grow to 7. */
	pt_msix_mask(&d, 6, false);
	vfio_sim_set_irqs_hook(d.host, NULL, NULL);
	ok(hook_raised && st(&d)->dropped >= 1,
	   "noresize: the device raised vector 0 while disabled (dropped by the host)");
	is_int(vfio_sim_msix_allocated(d.host), 7, "noresize: grew to 7");
	pt_settle(&d);
	ok(fake_kvm_count(&kvm, 0x400) >= before + 1,
	   "noresize: vector 0 still reached the guest after the re-enable");
	pt_dev_detach(&d);
	test_machine_destroy(&m);
}

/* Two 2048-vector devices in one VM with KVM's 4096 routes. */
static void test_two_big_devices(void)
{
	struct test_machine m;
	static struct pt_dev a, b;
	unsigned int v, bad = 0;
	struct pt_dev *devs[2] = { &a, &b };
	unsigned int i;

	test_machine_init(&m, &kvm, &(struct test_machine_opts){ .nr_gsis = 4096, .loop = false });
	ok(pt_dev_attach(&a, &m, "mbox-vf,vectors=2048,bdf=0000:00:10.0") == 0 &&
	   pt_dev_attach(&b, &m, "mbox-vf,vectors=2048,bdf=0000:00:11.0") == 0,
	   "two 2048-vector functions attached");
	for (i = 0; i < 2; i++) {
		pt_msix_ctrl(devs[i], PCI_MSIX_FLAGS_ENABLE |
			     PCI_MSIX_FLAGS_MASKALL);
		for (v = 0; v < 2048; v++)
			pt_msix_program(devs[i], v, (i << 16) | v);
		pt_msix_ctrl(devs[i], PCI_MSIX_FLAGS_ENABLE);
	}
	is_int(m.router->stats.gsis_in_use, 0,
	       "4096 vectors enabled, none unmasked: no GSI spent");
	for (i = 0; i < 2; i++)
		for (v = 0; v < 2048; v++)
			pt_msix_mask(devs[i], v, false);
	/* KVM's 4096 entries hold the 38 irqchip routes too. */
	is_int(m.router->stats.gsis_in_use, 4096 - IRQ_ROUTER_IRQCHIP_ENTRIES,
	       "routes for 4058 vectors: KVM's table is full, not over");
	is_int(kvm.nr_routes, 4096, "the committed table has 4096 entries");
	for (i = 0; i < 2; i++)
		for (v = 0; v < 2048; v += 97)
			doorbell(devs[i], v);
	doorbell(&b, 2047);
	pt_settle(&a);
	pt_settle(&b);
	for (i = 0; i < 2; i++)
		for (v = 0; v < 2048; v += 97)
			bad += fake_kvm_count(&kvm, (i << 16) | v) != 1;
	bad += fake_kvm_count(&kvm, (1 << 16) | 2047) != 1;
	is_int(bad, 0, "vectors of both devices all deliver (the last ones through mvm)");
	pt_dev_detach(&a);
	pt_dev_detach(&b);
	is_int(m.router->stats.gsis_in_use, 0, "all GSIs returned");
	test_machine_destroy(&m);
}

/*
 * Every simulated host call failing in turn: for each op and each call
 * number, run a whole scenario.  mvm must report, never crash, keep its
 * bookkeeping equal to the host's, and leak no fd or GSI.
 */
static bool scenario(struct test_machine *m, enum vfio_sim_op op,
		     unsigned int nth, bool *hit, int *inconsistent)
{
	struct pt_dev d;
	unsigned int v;
	int before = *inconsistent;

	memset(&d, 0, sizeof(d));
	d.m = m;
	d.host = vfio_sim_create(op == VFIO_SIM_NR_OPS ? "mbox-vf,vectors=4" :
				 "mbox-vf,vectors=4,host=noresize",
				 d.bdf, sizeof(d.bdf));
	if (op < VFIO_SIM_NR_OPS)
		vfio_sim_fail(d.host, op, 0, nth, EIO);
	d.attached = vfio_pci_attach(&d.vd, m->ctx, d.host, d.bdf);
	if (!d.attached) {
		pt_msix_ctrl(&d, PCI_MSIX_FLAGS_ENABLE |
			     PCI_MSIX_FLAGS_MASKALL);
		*inconsistent += d.vd.host_msix_enabled !=
				 vfio_sim_msix_enabled(d.host);
		for (v = 0; v < 4; v++)
			pt_msix_program(&d, v, 0x500 + v);
		pt_msix_ctrl(&d, PCI_MSIX_FLAGS_ENABLE);
		for (v = 0; v < 4; v++) {
			pt_msix_mask(&d, v, false);
			*inconsistent += d.vd.host_msix_enabled !=
					 vfio_sim_msix_enabled(d.host);
		}
		doorbell(&d, 3);
		pt_settle(&d);
		pt_msix_ctrl(&d, 0);
		*inconsistent += d.vd.host_msix_enabled !=
				 vfio_sim_msix_enabled(d.host);
		vfio_pci_detach(&d.vd);
	}
	*hit = st(&d)->faults > 0;
	if (vfio_sim_open_fds(d.host) != 0)
		(*inconsistent)++;
	if (*inconsistent != before)
		tap_diag("inconsistent after op %d call %u failed", op, nth);
	d.host->ops->destroy(d.host);
	return true;
}

static void test_fault_injection(void)
{
	struct test_machine m;
	unsigned int op, nth, runs = 0, hits = 0, gsi_leaks = 0;
	int inconsistent = 0, fds0, fd_leaks = 0;
	bool hit;

	test_machine_init(&m, &kvm, &(struct test_machine_opts){ .nr_gsis = 4096, .loop = false });
	scenario(&m, VFIO_SIM_NR_OPS, 0, &hit, &inconsistent);
	fds0 = nr_open_fds();
	for (op = 0; op < VFIO_SIM_NR_OPS; op++) {
		for (nth = 1; nth < 200; nth++) {
			scenario(&m, op, nth, &hit, &inconsistent);
			runs++;
			gsi_leaks += m.router->stats.gsis_in_use != 0;
			fd_leaks += nr_open_fds() != fds0;
			if (!hit)
				break;	/* past the last call of this op */
			hits++;
		}
	}
	ok(hits > 50, "%u scenarios with one failing host call (%u runs)",
	   hits, runs);
	is_int(inconsistent, 0,
	       "host MSI-X state always equals mvm's view; no fake fd left");
	is_int(gsi_leaks, 0, "no GSI leaked by any failure");
	is_int(fd_leaks, 0, "no real fd leaked by any failure");
	test_machine_destroy(&m);
}

/* A host disable that fails, then a guest re-enable: vector 0 lives on. */
static void test_failed_disable(void)
{
	struct test_machine m;
	struct pt_dev d;

	test_machine_init(&m, &kvm, &(struct test_machine_opts){ .nr_gsis = 4096, .loop = false });
	pt_dev_attach(&d, &m, "mbox-vf,vectors=4,host=dynamic");
	pt_msix_ctrl(&d, PCI_MSIX_FLAGS_ENABLE);
	pt_msix_program(&d, 0, 0x600);
	pt_msix_mask(&d, 0, false);
	vfio_sim_fail(d.host, VFIO_SIM_OP_IOCTL, VFIO_DEVICE_SET_IRQS, 1, EIO);
	pt_msix_ctrl(&d, 0);
	ok(vfio_sim_msix_enabled(d.host) && d.vd.host_msix_enabled,
	   "failed host disable: host still on, and mvm knows it");
	pt_msix_ctrl(&d, PCI_MSIX_FLAGS_ENABLE);
	is_int(vfio_sim_msix_trigger(d.host, 0), d.vd.vectors.v[0].owner_efd,
	       "guest re-enable keeps vector 0's trigger on the host");
	doorbell(&d, 0);
	pt_settle(&d);
	is_int(fake_kvm_count(&kvm, 0x600), 1, "vector 0 still delivers");
	pt_dev_detach(&d);
	test_machine_destroy(&m);
}

/* Tear down while a batched commit is pending (ASan checks for UAF). */
static void test_teardown_pending_commit(void)
{
	struct test_machine m;
	struct pt_dev d;
	unsigned int v;

	test_machine_init(&m, &kvm, &(struct test_machine_opts){ .nr_gsis = 4096, .loop = true });
	pt_dev_attach(&d, &m, "mbox-vf,vectors=64");
	pt_msix_ctrl(&d, PCI_MSIX_FLAGS_ENABLE);
	for (v = 0; v < 64; v++)
		pt_msix_program(&d, v, 0x700 + v);
	/* Hold the loop so the commit cannot happen before the detach. */
	pthread_mutex_lock(&m.loop->dispatch);
	for (v = 0; v < 64; v++)
		pt_msix_mask(&d, v, false);
	ok(m.router->waiters == &d.vd.vectors.waiter,
	   "the device waits for a routing commit");
	usleep(5 * 1000);	/* the timer expires while the loop is held */
	pthread_mutex_unlock(&m.loop->dispatch);
	pt_dev_detach(&d);
	usleep(30 * 1000);	/* let the commit timer fire after the detach */
	is_int(m.router->stats.gsis_in_use, 0, "GSIs returned at detach");
	test_machine_destroy(&m);
}

static char *stat_text(struct pt_dev *d, const uint64_t *src, bool have)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	msix_vectors_stat(&d->vd.vectors, "pt", src, have, f);
	fclose(f);
	return text;
}

/* `mvm stat`: per-vector counts, the host's from its /proc/interrupts. */
static void test_vector_stats(const char *fl)
{
	struct test_machine m;
	struct pt_dev d;
	uint64_t counts[16];
	char spec[64], *text;

	snprintf(spec, sizeof(spec), "mbox-vf,vectors=16,host=%s", fl);
	test_machine_init(&m, &kvm, &(struct test_machine_opts){ .nr_gsis = 4096, .loop = false });
	pt_dev_attach(&d, &m, spec);
	is_int(vfio_msix_host_irq_counts(&d.vd, counts, 16), -ENOENT,
	       "%s: host MSI-X off: no vfio-msix line in /proc/interrupts", fl);
	pt_msix_ctrl(&d, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	mbox_command(&d, 0x1234, 0);	/* completion on masked vector 0 */
	pt_settle(&d);
	pt_msix_program(&d, 0, 0x30);
	pt_msix_program(&d, 2, 0x32);
	pt_msix_ctrl(&d, PCI_MSIX_FLAGS_ENABLE);
	pt_msix_mask(&d, 0, false);
	pt_msix_mask(&d, 2, false);
	pt_settle(&d);
	doorbell(&d, 2);
	doorbell(&d, 2);
	doorbell(&d, 2);
	pt_settle(&d);
	ok(fake_kvm_count(&kvm, 0x32) >= 1, "%s: doorbells on vector 2 reach the guest",
	   fl);
	is_int(vfio_msix_host_irq_counts(&d.vd, counts, 16), 0,
	       "%s: host counts read from /proc/interrupts", fl);
	/*
	 * Dynamic: vector 0's completion latched in the host PBA (no
	 * trigger yet) and fired on its SET_IRQS; mvm replayed it into the
	 * irqfd as it went live.  NORESIZE: mvm saw it masked and replayed
	 * it on unmask; growing to vector 2 re-enabled host MSI-X, which
	 * zeroes the host's counts and makes mvm fire both live vectors
	 * once (spurious rather than lost, docs/passthrough.md).
	 */
	if (!strcmp(fl, "dynamic")) {
		ok(counts[0] == 1 && counts[1] == 0 && counts[2] == 3,
		   "%s: host IRQs per vector: 0 -> %llu, 1 -> %llu, 2 -> %llu",
		   fl, (unsigned long long)counts[0],
		   (unsigned long long)counts[1],
		   (unsigned long long)counts[2]);
		text = stat_text(&d, counts, true);
		is_str(text, "pt msix 0 raised 1 via-mvm 1 masked 0\n"
			     "pt msix 2 raised 3 via-mvm 0 masked 0\n",
		       "%s: stat: vector 0 replayed by mvm once, vector 2 "
		       "delivered by KVM's irqfd alone", fl);
	} else {
		ok(counts[0] == 0 && counts[1] == 0 && counts[2] == 3,
		   "%s: host IRQs since the grow's re-enable: 0 -> %llu, 1 -> %llu, 2 -> %llu",
		   fl, (unsigned long long)counts[0],
		   (unsigned long long)counts[1],
		   (unsigned long long)counts[2]);
		text = stat_text(&d, counts, true);
		is_str(text, "pt msix 0 raised 0 via-mvm 2 masked 1\n"
			     "pt msix 2 raised 3 via-mvm 1 masked 0\n",
		       "%s: stat: vector 0 pended then replayed, both fired "
		       "once by the grow, vector 2's doorbells by irqfd", fl);
	}
	free(text);
	text = stat_text(&d, NULL, false);
	ok(text && !strncmp(text, "pt msix 0 raised - via-mvm ", 27),
	   "%s: without host counts raised shows '-'", fl);
	free(text);
	pt_dev_detach(&d);
	test_machine_destroy(&m);
}

/* A real host's format: several CPUs, other devices, other functions. */
static const char proc_interrupts[] =
	"            CPU0       CPU1       CPU2       CPU3\n"
	"   0:         44          0          0          0   IO-APIC   2-edge      timer\n"
	" 128:          0          7          0          0  IR-PCI-MSIX-0000:03:10.0    0-edge      vfio-msix[0](0000:03:10.0)\n"
	" 129:          5          0         12          1  IR-PCI-MSIX-0000:03:10.0    1-edge      vfio-msix[1](0000:03:10.0)\n"
	" 130:          9          9          9          9  IR-PCI-MSIX-0000:03:10.1    0-edge      vfio-msix[0](0000:03:10.1)\n"
	" 131:          1          0          0          0  IR-PCI-MSIX-0000:03:10.0   10-edge      vfio-msix[10](0000:03:10.0)\n"
	" 132:          3          0          0          0  IR-PCI-MSIX-0000:03:10.0   11-edge      vfio-msix[11](0000:03:10.0)\n"
	" NMI:          0          0          0          0   Non-maskable interrupts\n"
	" ERR:          0\n";

static ssize_t canned_read_attr(struct vfio_host *h, const char *path,
				char *buf, size_t len)
{
	size_t n = MIN(len, sizeof(proc_interrupts) - 1);

	if (strcmp(path, "/proc/interrupts"))
		return -ENOENT;
	memcpy(buf, proc_interrupts, n);
	return (ssize_t)n;
}

static void test_proc_interrupts_format(void)
{
	static const struct vfio_host_ops ops = {
		.read_attr = canned_read_attr,
	};
	struct vfio_host host = { .ops = &ops };
	struct vfio_pci vd = { .host = &host, .bdf = "0000:03:10.0" };
	uint64_t c[11];

	is_int(vfio_msix_host_irq_counts(&vd, c, 11), 0,
	       "/proc/interrupts with four CPUs parsed");
	ok(c[0] == 7 && c[1] == 18 && c[2] == 0 && c[10] == 1,
	   "per-CPU columns summed, the other function's line ignored, vector 10 found (0:%llu 1:%llu 10:%llu)",
	   (unsigned long long)c[0], (unsigned long long)c[1],
	   (unsigned long long)c[10]);
	/* vector 11 is past the table given: ignored, no overflow */
}

int main(void)
{
	unsigned int i;

	fake_kvm_init(&kvm);
	log_quiet = true;	/* attach says which capabilities it hides */
	for (i = 0; i < ARRAY_SIZE(flavours); i++) {
		test_seed_scenario(flavours[i]);
		test_linux_pattern(flavours[i], 1);
		test_linux_pattern(flavours[i], 16);
		test_linux_pattern(flavours[i], 2048);
		test_freebsd_pattern(flavours[i]);
		test_masking_and_disable(flavours[i]);
		test_flr(flavours[i]);
		test_vector_stats(flavours[i]);
	}
	test_proc_interrupts_format();
	test_grow_keeps_interrupts();
	test_failed_disable();
	test_teardown_pending_commit();
	test_two_big_devices();
	test_fault_injection();
	fake_kvm_destroy(&kvm);
	return tap_done();
}
