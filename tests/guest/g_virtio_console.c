// SPDX-License-Identifier: GPL-2.0
/*
 * A virtio-console driver (virtio 1.2, 5.3) run by test_g_virtio_console
 * with `--console virtio` and the console input fed from a pipe:
 *
 *  - find 1af4:1043 on bus 0, walk its virtio capabilities, reset,
 *    negotiate VERSION_1 only, read the (all-zero) device config;
 *  - set up receiveq0 and transmitq0 (no MSI-X: the used notification
 *    goes through the ISR), post a receive buffer, DRIVER_OK;
 *  - collect host input up to a newline, reposting the buffer;
 *  - check the ISR reported the used buffer (bit 0), and that reading
 *    it cleared it;
 *  - send "echo: <line>" through the transmit queue in two descriptors
 *    (prefix, line), wait until it is used.
 */
#include "guest.h"
#include "virtio.h"

#define RXQ		0
#define TXQ		1
#define QSIZE		8
#define LINE_MAX	64
#define PREFIX		"echo: "
/* TSC cycles to wait for the host: >= 10 s at up to 4 GHz. */
#define TIMEOUT		40000000000ULL
#define ISR_POLLS	2000

/* SYNC stages; test_g_virtio_console.c asserts on them. */
enum {
	ST_FOUND = 1,	/* dev << 3 | fn */
	ST_CAPS,	/* bit per virtio cfg_type found */
	ST_FEATURES,	/* offered */
	ST_NEGOTIATED,
	ST_NUMQ,	/* num_queues */
	ST_QSIZE,	/* rx max size << 16 | tx max size */
	ST_CONFIG,	/* cols | rows << 16 | max_nr_ports << 32 */
	ST_STATUS,	/* device status after DRIVER_OK */
	ST_RX_LEN,	/* bytes received up to the newline */
	ST_RX_BYTES,	/* the first 8 received bytes, little-endian */
	ST_ISR,		/* ISR after the receive (bit 0 expected) */
	ST_ISR_AGAIN,	/* ISR read again: cleared */
	ST_TX_LEN,	/* bytes transmitted */
};

static struct virtio_pci vp;
static struct vq rxq, txq;
static char rx_buf[LINE_MAX];
static char line[LINE_MAX];
static char prefix[] = PREFIX;

void guest_main(void *bp)
{
	struct vq_buf b;
	unsigned int n = 0, i, polls;
	uint64_t val = 0;
	uint32_t len;
	uint8_t isr = 0;
	int err, head;
	bool nl = false;

	err = virtio_pci_find(VIRTIO_ID_CONSOLE, &vp);
	GUEST_ASSERT_EQ(err, 0);
	GUEST_SYNC(ST_FOUND, vp.dev << 3 | vp.fn);
	GUEST_SYNC(ST_CAPS, vp.cap_seen);

	err = virtio_start(&vp, 0);
	GUEST_SYNC(ST_FEATURES, vp.features);
	GUEST_ASSERT_EQ(err, 0);
	GUEST_SYNC(ST_NEGOTIATED, vp.negotiated);
	GUEST_SYNC(ST_NUMQ, vp.num_queues);

	GUEST_ASSERT_EQ(virtio_setup_queue(&vp, &rxq, RXQ, QSIZE,
					   VIRTIO_MSI_NO_VECTOR), 0);
	GUEST_ASSERT_EQ(virtio_setup_queue(&vp, &txq, TXQ, QSIZE,
					   VIRTIO_MSI_NO_VECTOR), 0);
	GUEST_SYNC(ST_QSIZE, (uint32_t)rxq.max_size << 16 | txq.max_size);
	GUEST_ASSERT_EQ(rxq.size, QSIZE);
	GUEST_ASSERT_EQ(rxq.msix_vector, VIRTIO_MSI_NO_VECTOR);

	GUEST_ASSERT(vp.device_len >= 8);
	GUEST_SYNC(ST_CONFIG, (uint64_t)virtio_cfg_r32(&vp, 0) |
			      (uint64_t)virtio_cfg_r32(&vp, 4) << 32);

	/* Posted before DRIVER_OK: mvm kicks every queue when it is set. */
	b.addr = rx_buf;
	b.len = sizeof(rx_buf);
	GUEST_ASSERT(vq_add(&rxq, NULL, 0, &b, 1) >= 0);
	virtio_driver_ok(&vp);
	GUEST_SYNC(ST_STATUS, virtio_status(&vp));

	while (!nl) {
		head = vq_wait(&rxq, &len, TIMEOUT);
		GUEST_ASSERT(head >= 0);
		GUEST_ASSERT(len <= sizeof(rx_buf));
		for (i = 0; i < len && n < sizeof(line); i++) {
			line[n++] = rx_buf[i];
			if (rx_buf[i] == '\n')
				nl = true;
		}
		GUEST_ASSERT(n < sizeof(line) || nl);
		if (!nl) {
			GUEST_ASSERT(vq_add(&rxq, NULL, 0, &b, 1) >= 0);
			vq_kick(&vp, &rxq);
		}
	}
	GUEST_SYNC(ST_RX_LEN, n);
	for (i = 0; i < 8 && i < n; i++)
		val |= (uint64_t)(uint8_t)line[i] << (8 * i);
	GUEST_SYNC(ST_RX_BYTES, val);

	/*
	 * INTx path: the device sets ISR bit 0 after pushing, maybe just
	 * after we saw the used index move; each read is an exit.
	 */
	for (polls = 0; polls < ISR_POLLS && !(isr & VIRTIO_ISR_QUEUE);
	     polls++)
		isr |= virtio_isr(&vp);
	GUEST_SYNC(ST_ISR, isr);
	GUEST_SYNC(ST_ISR_AGAIN, virtio_isr(&vp));

	{
		struct vq_buf out[2] = {
			{ prefix, sizeof(prefix) - 1 },
			{ line, n },
		};

		head = vq_add(&txq, out, 2, NULL, 0);
		GUEST_ASSERT(head >= 0);
		vq_kick(&vp, &txq);
		GUEST_ASSERT_EQ(vq_wait(&txq, &len, TIMEOUT), head);
		GUEST_ASSERT_EQ(txq.num_free, txq.size);
	}
	GUEST_SYNC(ST_TX_LEN, sizeof(prefix) - 1 + n);
	GUEST_ASSERT(!(virtio_status(&vp) & VIRTIO_STATUS_NEEDS_RESET));
	GUEST_DONE();
}
