// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-pci modern transport (virtio/virtio_pci.c), driven through
 * config space and BAR MMIO as Linux's virtio_pci_modern does, on a
 * KVM-less machine with a fake KVM (irqfd, MSI) and a recording fake
 * KVM_IOEVENTFD.  The device behind it is a small echo device: queue 0
 * copies each chain's readable bytes into its writable part.
 */
#include <unistd.h>

#include "tap.h"
#include "lib/guest_virtq.h"
#include "x86/layout.h"
#include "core/util.h"
#include "virtio/virtio.h"

#define ECHO_ID		0x2a
#define ECHO_F_TEST	5
#define MSI_BASE	0x60
#define RING_BASE	0x200000ULL
#define RING_LEN	0x100000ULL
#define F_WANT		(1ULL << VIRTIO_F_VERSION_1 | \
			 1ULL << VIRTIO_RING_F_EVENT_IDX | \
			 1ULL << VIRTIO_RING_F_INDIRECT_DESC)

static struct fake_kvm kvm;

struct echo {
	struct virtio_dev vdev;
	struct virtq_elem elem;
	uint8_t config[8];
	unsigned int resets, driver_oks, notifies;
};

static void echo_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct echo *e = vdev->priv;
	struct virtq *vq = virtio_dev_queue(vdev, q);
	uint8_t buf[256];
	size_t n;
	int r;

	e->notifies++;
	do {
		virtq_disable_notify(vq);
		while ((r = virtq_pop(vq, &e->elem)) > 0) {
			n = virtq_elem_read(&e->elem, 0, buf, sizeof(buf));
			n = virtq_elem_write(&e->elem, 0, buf, n);
			virtq_push(vq, e->elem.head, (uint32_t)n);
		}
	} while (r == 0 && virtq_enable_notify(vq));
	virtio_dev_notify_used(vdev, q);
}

static void echo_config_read(struct virtio_dev *vdev, unsigned int off,
			     uint8_t *data, unsigned int len)
{
	struct echo *e = vdev->priv;

	memcpy(data, e->config + off, len);
}

static void echo_config_write(struct virtio_dev *vdev, unsigned int off,
			      const uint8_t *data, unsigned int len)
{
	struct echo *e = vdev->priv;

	memcpy(e->config + off, data, len);
}

static void echo_reset(struct virtio_dev *vdev)
{
	((struct echo *)vdev->priv)->resets++;
}

static void echo_driver_ok(struct virtio_dev *vdev)
{
	((struct echo *)vdev->priv)->driver_oks++;
}

static const struct virtio_dev_ops echo_ops = {
	.name = "virtio-echo",
	.device_id = ECHO_ID,
	.pci_class = 0xff0000,
	.nr_queues = 2,
	.queue_size = 64,
	.features = 1ULL << ECHO_F_TEST,
	.config_size = 8,
	.config_read = echo_config_read,
	.config_write = echo_config_write,
	.queue_notify = echo_notify,
	.driver_ok = echo_driver_ok,
	.reset = echo_reset,
};

static struct echo echo;

static int setup(struct test_machine *m, struct vtest_dev *d, bool ioev)
{
	int err = test_machine_init(m, &kvm, &(struct test_machine_opts){ .ioeventfd = ioev });

	if (!err)
		err = virtio_dev_init(&echo.vdev, &echo_ops, m->ctx, &echo);
	if (!err)
		err = vtest_find(d, m, ECHO_ID);
	return err;
}

static void teardown(struct test_machine *m)
{
	virtio_dev_destroy(&echo.vdev);
	test_machine_destroy(m);
}

/* One request through queue 0: returns the used length, or -1. */
static int roundtrip(struct vtest_dev *d, struct gvq *g, const char *msg)
{
	uint64_t in = gvq_alloc(g, 64), out = gvq_alloc(g, 64);
	uint32_t id, len;

	memcpy(gvq_ptr(g, in, 64), msg, strlen(msg));
	gvq_add(g, (struct gvq_buf[]){ { in, (uint32_t)strlen(msg), false },
				       { out, 64, true } }, 2);
	if (gvq_publish(g))
		vtest_notify(d, 0);
	if (!vtest_wait_used(g) || !gvq_get_used(g, &id, &len))
		return -1;
	if (memcmp(gvq_ptr(g, out, len), msg, len))
		return -2;
	return (int)len;
}

static void test_identity(void)
{
	struct test_machine m;
	struct vtest_dev d;
	unsigned int bar;

	is_int(setup(&m, &d, true), 0, "device on the bus, virtio caps found");
	is_int(vtest_cfg_read(&d, PCI_DEVICE_ID, 2), 0x1040 + ECHO_ID,
	       "device ID 0x1040 + virtio ID (4.1.2)");
	is_int(vtest_cfg_read(&d, PCI_REVISION_ID, 1), 1, "revision 1");
	is_int(vtest_cfg_read(&d, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4,
	       "subsystem vendor");
	ok(vtest_cfg_read(&d, PCI_SUBSYSTEM_ID, 2) >= 0x40, "subsystem ID >= 0x40");
	is_int(vtest_cfg_read(&d, PCI_INTERRUPT_PIN, 1), 1, "INTA#");
	bar = d.common_bar;
	ok(bar == 4 && d.notify_bar == 4 && d.isr_bar == 4 && d.device_bar == 4,
	   "all structures in BAR4");
	is_int(vtest_cfg_read(&d, PCI_BASE_ADDRESS_4, 4) &
	       PCI_BASE_ADDRESS_MEM_TYPE_MASK, PCI_BASE_ADDRESS_MEM_TYPE_64,
	       "BAR4 is 64-bit memory");
	ok(d.bar[4] >= m.board.mmio64_base &&
	   d.bar[4] < m.board.mmio64_base + m.board.mmio64_size,
	   "BAR4 assigned in the board's 64-bit window");
	is_int(d.notify_mult, 4, "notify_off_multiplier 4");
	is_int(d.device_len, 8, "device config length");
	ok(d.cap_pcicfg && d.cap_msix, "PCI_CFG and MSI-X capabilities");
	is_int(vtest_cfg_read(&d, d.cap_msix + PCI_MSIX_FLAGS, 2) &
	       PCI_MSIX_FLAGS_QSIZE, 2, "3 MSI-X vectors: config + 2 queues");
	is_int(vtest_common_read(&d, VIRTIO_PCI_COMMON_NUMQ, 2), 2, "num_queues");
	ok(vtest_device_features(&d) == (F_WANT | 1ULL << ECHO_F_TEST),
	   "features: VERSION_1, EVENT_IDX, INDIRECT_DESC + device bits");
	vtest_common_write(&d, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	is_int(vtest_common_read(&d, VIRTIO_PCI_COMMON_Q_SIZE, 2), 64,
	       "queue_size: the maximum");
	is_int(vtest_common_read(&d, VIRTIO_PCI_COMMON_Q_NOFF, 2), 1,
	       "queue_notify_off = queue index");
	is_int(vtest_common_read(&d, VIRTIO_PCI_COMMON_Q_MSIX, 2),
	       VIRTIO_MSI_NO_VECTOR, "queue vector: NO_VECTOR after reset");
	vtest_common_write(&d, VIRTIO_PCI_COMMON_Q_SELECT, 2, 7);
	is_int(vtest_common_read(&d, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0,
	       "a queue that does not exist has size 0");
	echo.config[0] = 0x5a;
	echo.config[7] = 0xa5;
	is_int(vtest_devcfg_read(&d, 0, 1), 0x5a, "device config byte 0");
	is_int(vtest_devcfg_read(&d, 4, 4), 0xa5000000, "device config dword 1");
	teardown(&m);
}

static void test_negotiation(void)
{
	struct test_machine m;
	struct vtest_dev d;

	setup(&m, &d, true);
	ok(!vtest_negotiate(&d, 1ULL << VIRTIO_RING_F_EVENT_IDX),
	   "FEATURES_OK refused without VIRTIO_F_VERSION_1");
	ok(!vtest_negotiate(&d, F_WANT | 1ULL << 40),
	   "FEATURES_OK refused with a feature never offered");
	ok(vtest_negotiate(&d, F_WANT | 1ULL << ECHO_F_TEST),
	   "FEATURES_OK with VERSION_1");
	is_int(echo.vdev.guest_features, F_WANT | 1ULL << ECHO_F_TEST,
	       "negotiated features recorded");
	vtest_common_write(&d, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	vtest_common_write(&d, VIRTIO_PCI_COMMON_GF, 4, 0);
	is_int(virtio_dev_features(&echo.vdev), F_WANT | 1ULL << ECHO_F_TEST,
	       "driver features frozen after FEATURES_OK");
	vtest_common_write(&d, VIRTIO_PCI_COMMON_STATUS, 1,
			   VIRTIO_STATUS_ACKNOWLEDGE);
	ok(vtest_status(&d) & VIRTIO_STATUS_FEATURES_OK,
	   "status bits are not cleared without a reset");
	vtest_common_write(&d, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	is_int(vtest_status(&d), 0, "writing 0 resets");
	vtest_common_write(&d, VIRTIO_PCI_COMMON_STATUS, 1,
			   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			   VIRTIO_STATUS_DRIVER_OK);
	ok(!(vtest_status(&d) & VIRTIO_STATUS_DRIVER_OK),
	   "DRIVER_OK without FEATURES_OK ignored");
	/* Common-config access rules. */
	vtest_common_write(&d, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	vtest_common_write(&d, VIRTIO_PCI_COMMON_Q_SIZE, 2, 24);
	is_int(vtest_common_read(&d, VIRTIO_PCI_COMMON_Q_SIZE, 2), 64,
	       "queue size not a power of two: refused");
	vtest_common_write(&d, VIRTIO_PCI_COMMON_Q_SIZE, 2, 128);
	is_int(vtest_common_read(&d, VIRTIO_PCI_COMMON_Q_SIZE, 2), 64,
	       "queue size above the maximum: refused");
	vtest_common_write(&d, VIRTIO_PCI_COMMON_Q_SIZE, 2, 16);
	is_int(vtest_common_read(&d, VIRTIO_PCI_COMMON_Q_SIZE, 2), 16,
	       "smaller power of two accepted");
	vtest_common_write(&d, VIRTIO_PCI_COMMON_Q_MSIX, 2, 3);
	is_int(vtest_common_read(&d, VIRTIO_PCI_COMMON_Q_MSIX, 2),
	       VIRTIO_MSI_NO_VECTOR, "vector beyond the table reads NO_VECTOR");
	vtest_common_write(&d, VIRTIO_PCI_COMMON_MSIX, 2, 0);
	is_int(vtest_common_read(&d, VIRTIO_PCI_COMMON_MSIX, 2), 0,
	       "config vector 0 accepted");
	vtest_common_write(&d, VIRTIO_PCI_COMMON_Q_DESCLO, 8, 0x123456789000ULL);
	is_int(vtest_common_read(&d, VIRTIO_PCI_COMMON_Q_DESCLO, 4) |
	       vtest_common_read(&d, VIRTIO_PCI_COMMON_Q_DESCHI, 4) << 32,
	       0x123456789000ULL, "queue_desc as one 64-bit write, read as halves");
	vtest_common_write(&d, VIRTIO_PCI_COMMON_Q_SELECT, 1, 1);
	is_int(vtest_common_read(&d, VIRTIO_PCI_COMMON_Q_SELECT, 2), 0,
	       "wrong-width write ignored");
	/* 4.1.4.8: the PCI configuration access window. */
	vtest_cfg_write(&d, d.cap_pcicfg + VIRTIO_PCI_CAP_BAR, 1, 4);
	vtest_cfg_write(&d, d.cap_pcicfg + VIRTIO_PCI_CAP_OFFSET, 4,
			VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_NUMQ);
	vtest_cfg_write(&d, d.cap_pcicfg + VIRTIO_PCI_CAP_LENGTH, 4, 2);
	is_int(vtest_cfg_read(&d, d.cap_pcicfg + VIRTIO_PCI_CFG_DATA, 4), 2,
	       "PCI_CFG window reads num_queues from BAR4");
	vtest_common_write(&d, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	vtest_cfg_write(&d, d.cap_pcicfg + VIRTIO_PCI_CAP_OFFSET, 4,
			VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_STATUS);
	vtest_cfg_write(&d, d.cap_pcicfg + VIRTIO_PCI_CAP_LENGTH, 4, 1);
	vtest_cfg_write(&d, d.cap_pcicfg + VIRTIO_PCI_CFG_DATA, 1,
			VIRTIO_STATUS_ACKNOWLEDGE);
	is_int(vtest_status(&d), VIRTIO_STATUS_ACKNOWLEDGE,
	       "PCI_CFG window writes device_status");
	vtest_cfg_write(&d, d.cap_pcicfg + VIRTIO_PCI_CAP_LENGTH, 4, 3);
	vtest_cfg_write(&d, d.cap_pcicfg + VIRTIO_PCI_CFG_DATA, 4,
			VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	is_int(vtest_status(&d), VIRTIO_STATUS_ACKNOWLEDGE,
	       "PCI_CFG window with length 3 is ignored");
	/* An offset whose end wraps in 32 bits is outside the BAR too: the
	 * window is ignored and cfg_data keeps what the driver wrote (an
	 * active window would read back BAR bytes, zero out there). */
	vtest_cfg_write(&d, d.cap_pcicfg + VIRTIO_PCI_CAP_LENGTH, 4, 4);
	vtest_cfg_write(&d, d.cap_pcicfg + VIRTIO_PCI_CAP_OFFSET, 4,
			0xfffffffc);
	vtest_cfg_write(&d, d.cap_pcicfg + VIRTIO_PCI_CFG_DATA, 4, 0xdeadbeef);
	is_int(vtest_cfg_read(&d, d.cap_pcicfg + VIRTIO_PCI_CFG_DATA, 4),
	       0xdeadbeef,
	       "PCI_CFG window at offset 0xfffffffc (end wraps) is ignored");
	teardown(&m);
}

static void test_msix_ioeventfd(void)
{
	struct test_machine m;
	struct vtest_dev d;
	struct gvq g;
	uint64_t notify;
	unsigned int i;

	setup(&m, &d, true);
	echo.notifies = echo.resets = echo.driver_oks = 0;
	vtest_msix_enable(&d, 3, MSI_BASE);
	vtest_negotiate(&d, F_WANT);
	vtest_common_write(&d, VIRTIO_PCI_COMMON_MSIX, 2, 0);
	gvq_init(&g, m.mem, RING_BASE, RING_LEN, 16, true);
	vtest_setup_queue(&d, 0, &g, 1);
	notify = d.bar[4] + d.notify_off;
	ok(m.nr_ioev == 1 && m.ioev[0].addr == notify && m.ioev[0].len == 2,
	   "queue enable assigns an ioeventfd at its notify address");
	is_int(vtest_common_read(&d, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1,
	       "queue_enable reads 1");
	/* Buffers before DRIVER_OK wait for it (3.1.1). */
	{
		uint64_t b = gvq_alloc(&g, 16);

		gvq_add(&g, (struct gvq_buf[]){ { b, 16, true } }, 1);
		gvq_publish(&g);
		vtest_notify(&d, 0);
		usleep(20000);
		is_int(gvq_used_idx(&g), 0, "nothing used before DRIVER_OK");
		vtest_driver_ok(&d);
		ok(vtest_wait_used(&g), "DRIVER_OK: pending buffers processed");
		ok(vtest_wait_msi(&d, &echo.vdev, MSI_BASE + 1, 1),
		   "used buffer interrupt on the queue's vector 1");
		is_int(echo.driver_oks, 1, "driver_ok hook ran once");
		gvq_get_used(&g, &(uint32_t){ 0 }, &(uint32_t){ 0 });
	}
	is_int(roundtrip(&d, &g, "hello"), 5, "echo through the ioeventfd");
	is_int(echo.vdev.stats.kicks_trapped, 0, "no notification trapped");
	ok(vtest_wait_msi(&d, &echo.vdev, MSI_BASE + 1, 2), "...interrupted");
	for (i = 0; i < 20; i++)
		if (roundtrip(&d, &g, "0123456789") != 10 ||
		    !vtest_wait_msi(&d, &echo.vdev, MSI_BASE + 1, 3 + i))
			break;
	is_int(i, 20, "20 more round trips, one interrupt each");
	is_int(fake_kvm_count(&kvm, MSI_BASE), 0, "no config interrupt");

	/* Config change: generation and the config vector. */
	i = (unsigned int)vtest_common_read(&d, VIRTIO_PCI_COMMON_CFGGENERATION, 1);
	virtio_dev_config_changed(&echo.vdev);
	is_int(vtest_common_read(&d, VIRTIO_PCI_COMMON_CFGGENERATION, 1), i + 1,
	       "config_generation bumped");
	ok(vtest_wait_msi(&d, &echo.vdev, MSI_BASE, 1),
	   "configuration change interrupt on vector 0");
	{
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		msix_vectors_stat(&echo.vdev.vectors, "echo", NULL, true, f);
		fclose(f);
		/* 1 + 1 + 20 used-buffer interrupts, 1 config change */
		ok(text && !strncmp(text, "echo msix 0 raised 1 via-mvm ", 29) &&
		   strstr(text, "\necho msix 1 raised 22 via-mvm "),
		   "mvm stat counts what the device raised per vector");
		if (text && !strstr(text, "raised 22"))
			printf("# %s", text);
		free(text);
	}

	/* Move BAR4: the ioeventfd follows. */
	vtest_cfg_write(&d, PCI_BASE_ADDRESS_4, 4,
			(uint32_t)(d.bar[4] + 0x100000) | PCI_BASE_ADDRESS_MEM_TYPE_64);
	d.bar[4] += 0x100000;
	ok(m.nr_ioev == 1 && m.ioev[0].addr == notify + 0x100000,
	   "BAR4 moved: ioeventfd re-assigned at the new address");
	is_int(roundtrip(&d, &g, "moved"), 5, "echo after the move");

	/* Reset: waits for the device, deassigns, back to defaults. */
	echo.resets = 0;
	vtest_common_write(&d, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	is_int(vtest_status(&d), 0, "reset: status 0");
	is_int(m.nr_ioev, 0, "reset: ioeventfds deassigned");
	is_int(echo.resets, 1, "reset hook ran");
	vtest_common_write(&d, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	ok(vtest_common_read(&d, VIRTIO_PCI_COMMON_Q_ENABLE, 2) == 0 &&
	   vtest_common_read(&d, VIRTIO_PCI_COMMON_Q_MSIX, 2) ==
	   VIRTIO_MSI_NO_VECTOR &&
	   vtest_common_read(&d, VIRTIO_PCI_COMMON_Q_DESCLO, 4) == 0,
	   "reset: queue registers back to defaults");
	is_int(vtest_common_read(&d, VIRTIO_PCI_COMMON_MSIX, 2),
	       VIRTIO_MSI_NO_VECTOR, "reset: config vector NO_VECTOR");

	/* The driver starts over. */
	ok(vtest_negotiate(&d, F_WANT), "renegotiate after reset");
	gvq_init(&g, m.mem, RING_BASE, RING_LEN, 32, false);
	vtest_setup_queue(&d, 0, &g, VIRTIO_MSI_NO_VECTOR);
	vtest_driver_ok(&d);
	is_int(roundtrip(&d, &g, "again"), 5, "echo after reset (no EVENT_IDX)");
	teardown(&m);
}

static void test_trap_and_intx(void)
{
	struct test_machine m;
	struct vtest_dev d;
	struct gvq g;
	unsigned int pin, i;

	setup(&m, &d, false);
	pin = vtest_cfg_read(&d, PCI_INTERRUPT_LINE, 1);
	vtest_negotiate(&d, F_WANT);
	gvq_init(&g, m.mem, RING_BASE, RING_LEN, 16, true);
	vtest_setup_queue(&d, 0, &g, VIRTIO_MSI_NO_VECTOR);
	vtest_driver_ok(&d);
	is_int(roundtrip(&d, &g, "trap"), 4, "echo with a trapped notification");
	ok(echo.vdev.stats.kicks_trapped >= 1, "the MMIO write was trapped");
	for (i = 0; i < 10000 && !m.intx_level[pin]; i++)
		usleep(1000);
	is_int(m.intx_level[pin], 1, "no MSI-X: INTx asserted");
	ok(pci_cfg_get16(&echo.vdev.pci, PCI_STATUS) & PCI_STATUS_INTERRUPT,
	   "PCI status: interrupt pending");
	is_int(vtest_isr_read(&d), VIRTIO_ISR_QUEUE, "ISR: queue interrupt");
	is_int(m.intx_level[pin], 0, "reading the ISR deasserts INTx");
	is_int(vtest_isr_read(&d), 0, "ISR read clears it");
	virtio_dev_config_changed(&echo.vdev);
	is_int(vtest_isr_read(&d), VIRTIO_ISR_CONFIG, "ISR: config change");

	/* NEEDS_RESET: a malformed ring. */
	gvq_set_avail_idx(&g, (uint16_t)(g.avail_idx + 100));
	vtest_notify(&d, 0);
	for (i = 0; i < 10000 && !(vtest_status(&d) & VIRTIO_STATUS_NEEDS_RESET); i++)
		usleep(1000);
	ok(vtest_status(&d) & VIRTIO_STATUS_NEEDS_RESET,
	   "avail index jump: DEVICE_NEEDS_RESET");
	is_int(vtest_isr_read(&d), VIRTIO_ISR_CONFIG,
	       "...and a configuration change interrupt");
	vtest_common_write(&d, VIRTIO_PCI_COMMON_STATUS, 1,
			   vtest_status(&d) & ~VIRTIO_STATUS_NEEDS_RESET);
	ok(vtest_status(&d) & VIRTIO_STATUS_NEEDS_RESET,
	   "the driver cannot clear NEEDS_RESET");
	vtest_common_write(&d, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	is_int(vtest_status(&d), 0, "reset clears it");

	/* Rings outside RAM at queue enable. */
	vtest_negotiate(&d, F_WANT);
	vtest_common_write(&d, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	vtest_common_write(&d, VIRTIO_PCI_COMMON_Q_DESCLO, 4, 0);
	vtest_common_write(&d, VIRTIO_PCI_COMMON_Q_DESCHI, 4, 0x10);
	vtest_common_write(&d, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	ok(vtest_status(&d) & VIRTIO_STATUS_NEEDS_RESET,
	   "descriptor table outside RAM: NEEDS_RESET");
	is_int(vtest_common_read(&d, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0,
	       "...and the queue is not enabled");
	vtest_common_write(&d, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	teardown(&m);
}

static void test_ioeventfd_failure(void)
{
	struct test_machine m;
	struct vtest_dev d;
	struct gvq g;

	setup(&m, &d, true);
	m.ioev_fail = true;
	vtest_negotiate(&d, F_WANT);
	gvq_init(&g, m.mem, RING_BASE, RING_LEN, 16, true);
	vtest_setup_queue(&d, 0, &g, VIRTIO_MSI_NO_VECTOR);
	vtest_driver_ok(&d);
	is_int(m.nr_ioev, 0, "KVM_IOEVENTFD refused");
	is_int(roundtrip(&d, &g, "fallback"), 8,
	       "notifications fall back to the trapped write");
	teardown(&m);
}

int main(void)
{
	fake_kvm_init(&kvm);
	log_quiet = true;
	test_identity();
	test_negotiation();
	test_msix_ioeventfd();
	test_trap_and_intx();
	test_ioeventfd_failure();
	fake_kvm_destroy(&kvm);
	return tap_done();
}
