// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console (virtio/console.c) through the virtio-pci transport:
 * transmitq bytes reach the output fd, host input fills receiveq
 * buffers (also through the console thread of core/term.c), input is
 * buffered until the guest posts buffers, and a full buffer makes the
 * feeder wait for the rx-notify eventfd instead of spinning.
 */
#include <sys/eventfd.h>
#include <unistd.h>

#include "tap.h"
#include "lib/guest_virtq.h"
#include "core/term.h"
#include "core/util.h"
#include "virtio/virtio.h"
#include "core/vm.h"

#define F_WANT		(1ULL << VIRTIO_F_VERSION_1 | \
			 1ULL << VIRTIO_RING_F_EVENT_IDX)
#define RXQ	0
#define TXQ	1

static struct fake_kvm kvm;

static void post_rx(struct vtest_dev *d, struct gvq *rx, uint64_t buf,
		    uint32_t len)
{
	gvq_add(rx, (struct gvq_buf[]){ { buf, len, true } }, 1);
	if (gvq_publish(rx))
		vtest_notify(d, RXQ);
}

static size_t read_n(int fd, char *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, buf + got, n - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

int main(void)
{
	struct test_machine m;
	struct virtio_console *con;
	struct vtest_dev d;
	struct gvq rx, tx;
	uint64_t rb, tb, cnt;
	uint32_t id, len;
	char out[64];
	uint8_t big[5000];
	int pfd[2], efd;

	fake_kvm_init(&kvm);
	log_quiet = true;
	if (pipe(pfd) || test_machine_init(&m, &kvm, &(struct test_machine_opts){ .ioeventfd = true }) ||
	    virtio_console_create(m.ctx, pfd[1], &con))
		tap_skip_all("cannot build the test machine");
	is_int(vtest_find(&d, &m, VIRTIO_ID_CONSOLE), 0,
	       "virtio-console found: 0x1043");
	is_int(vtest_common_read(&d, VIRTIO_PCI_COMMON_NUMQ, 2), 2,
	       "receiveq0 and transmitq0 (5.3.2)");
	is_int(vtest_device_features(&d) & 7, 0,
	       "no SIZE, MULTIPORT or EMERG_WRITE (5.3.3)");
	ok(vtest_negotiate(&d, F_WANT), "features negotiated");
	gvq_init(&rx, m.mem, 0x400000, 0x100000, 16, true);
	gvq_init(&tx, m.mem, 0x500000, 0x100000, 16, true);
	vtest_setup_queue(&d, RXQ, &rx, VIRTIO_MSI_NO_VECTOR);
	vtest_setup_queue(&d, TXQ, &tx, VIRTIO_MSI_NO_VECTOR);

	/* Input before DRIVER_OK waits in the device. */
	is_int(virtio_console_receive(con, (const uint8_t *)"early", 5), 5,
	       "input taken before the driver is ready");
	vtest_driver_ok(&d);
	rb = gvq_alloc(&rx, 64);
	post_rx(&d, &rx, rb, 64);
	ok(vtest_wait_used(&rx) && gvq_get_used(&rx, &id, &len) && len == 5 &&
	   !memcmp(gvq_ptr(&rx, rb, 5), "early", 5),
	   "buffered input delivered to the first receive buffer");

	/* Transmit. */
	tb = gvq_alloc(&tx, 64);
	memcpy(gvq_ptr(&tx, tb, 12), "hello, host\n", 12);
	gvq_add(&tx, (struct gvq_buf[]){ { tb, 6, false },
					 { tb + 6, 6, false } }, 2);
	if (gvq_publish(&tx))
		vtest_notify(&d, TXQ);
	ok(vtest_wait_used(&tx) && gvq_get_used(&tx, &id, &len) && len == 0,
	   "transmit buffer returned");
	ok(read_n(pfd[0], out, 12) == 12 && !memcmp(out, "hello, host\n", 12),
	   "both descriptors written to the output fd in order");

	/* Input larger than the receive buffer: split over buffers. */
	post_rx(&d, &rx, rb, 4);
	is_int(virtio_console_receive(con, (const uint8_t *)"abcdefgh", 8), 8,
	       "8 bytes taken");
	ok(vtest_wait_used(&rx) && gvq_get_used(&rx, &id, &len) && len == 4 &&
	   !memcmp(gvq_ptr(&rx, rb, 4), "abcd", 4), "first 4 in the 4-byte buffer");
	post_rx(&d, &rx, rb + 16, 16);
	ok(vtest_wait_used(&rx) && gvq_get_used(&rx, &id, &len) && len == 4 &&
	   !memcmp(gvq_ptr(&rx, rb + 16, 4), "efgh", 4),
	   "the rest when the next buffer arrives");

	/* Backpressure: a full input buffer signals rx-notify once drained. */
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	virtio_console_set_rx_notify(con, efd);
	memset(big, 'z', sizeof(big));
	is_int(virtio_console_receive(con, big, sizeof(big)), 4096,
	       "no receive buffers: 4096 bytes buffered, the rest refused");
	ok(read(efd, &cnt, sizeof(cnt)) < 0, "rx-notify not signalled yet");
	post_rx(&d, &rx, gvq_alloc(&rx, 4096), 4096);
	ok(vtest_wait_used(&rx) && gvq_get_used(&rx, &id, &len) && len == 4096,
	   "guest takes 4096 bytes");
	ok(read(efd, &cnt, sizeof(cnt)) == sizeof(cnt),
	   "rx-notify signalled: room again");
	virtio_console_set_rx_notify(con, -1);
	close(efd);

	/* The console thread (core/term.c) as the feeder. */
	{
		struct term_port port = {
			.receive = virtio_console_receive,
			.set_rx_notify = virtio_console_set_rx_notify,
			.opaque = con,
		};
		struct vm vm = { 0 };
		struct term c;
		int in[2];

		if (pipe(in))
			abort();
		post_rx(&d, &rx, rb, 64);
		is_int(term_start(&c, &port, vm_exit_line(&vm), in[0]), 0,
		       "console thread started on a virtio-console port");
		if (write(in[1], "typed", 5) != 5)
			abort();
		ok(vtest_wait_used(&rx) && gvq_get_used(&rx, &id, &len) &&
		   len == 5 && !memcmp(gvq_ptr(&rx, rb, 5), "typed", 5),
		   "stdin bytes reach the guest's receive buffer");
		term_stop(&c);
		close(in[0]);
		close(in[1]);
	}

	/* Reset keeps nothing of the queues; the device comes back. */
	vtest_common_write(&d, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	is_int(vtest_status(&d), 0, "reset");
	virtio_console_destroy(con);
	test_machine_destroy(&m);
	close(pfd[0]);
	close(pfd[1]);
	fake_kvm_destroy(&kvm);
	return tap_done();
}
