// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console (virtio 1.2, 5.3) with a single port and no multiport
 * support: queue 0 is receiveq0 (host -> guest), queue 1 transmitq0
 * (guest -> host).  Linux names the port hvc0.
 *
 * Host input arrives on the console thread (core/term.c) through
 * virtio_console_receive(): the bytes are buffered here and the I/O
 * thread moves them into the guest's receive buffers, so guest memory is
 * only touched on the device's I/O thread.  When the buffer is full the
 * console thread sleeps on its rx_notify eventfd until the guest has
 * taken some, as it does for the UART.
 */
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/util.h"
#include "virtio/virtio.h"

#define CON_RXQ			0
#define CON_TXQ			1
#define CON_QUEUE_SIZE		128
#define CON_INBUF_SIZE		4096
#define CON_CONFIG_SIZE		12	/* 5.3.4: cols, rows, max_nr_ports, emerg_wr */

struct virtio_console {
	struct virtio_dev vdev;
	int out_fd;
	/* Host input not yet in a guest buffer: a ring of bytes. */
	pthread_mutex_t in_lock;
	uint8_t in_buf[CON_INBUF_SIZE];
	size_t in_head, in_len;
	int rx_notify_fd;
	bool rx_waiting;	/* receive() came up short */
	struct virtq_elem elem;
};

size_t virtio_console_receive(void *opaque, const uint8_t *buf, size_t len)
{
	struct virtio_console *con = opaque;
	size_t n, i, tail;

	pthread_mutex_lock(&con->in_lock);
	n = MIN(len, CON_INBUF_SIZE - con->in_len);
	tail = (con->in_head + con->in_len) % CON_INBUF_SIZE;
	for (i = 0; i < n; i++)
		con->in_buf[(tail + i) % CON_INBUF_SIZE] = buf[i];
	con->in_len += n;
	if (n < len)
		con->rx_waiting = true;
	pthread_mutex_unlock(&con->in_lock);
	if (n)
		virtio_dev_kick(&con->vdev, CON_RXQ);
	return n;
}

void virtio_console_set_rx_notify(void *opaque, int fd)
{
	struct virtio_console *con = opaque;

	pthread_mutex_lock(&con->in_lock);
	con->rx_notify_fd = fd;
	pthread_mutex_unlock(&con->in_lock);
}

static bool has_input(struct virtio_console *con)
{
	bool r;

	pthread_mutex_lock(&con->in_lock);
	r = con->in_len != 0;
	pthread_mutex_unlock(&con->in_lock);
	return r;
}

/* Move buffered input into one receive chain; returns bytes written. */
static uint32_t take_input(struct virtio_console *con,
			   const struct virtq_elem *e)
{
	uint64_t one = 1;
	size_t done = 0, n;

	pthread_mutex_lock(&con->in_lock);
	while (con->in_len && done < e->in_len) {
		n = MIN(con->in_len, CON_INBUF_SIZE - con->in_head);
		n = virtq_elem_write(e, done, con->in_buf + con->in_head, n);
		if (!n)
			break;
		done += n;
		con->in_head = (con->in_head + n) % CON_INBUF_SIZE;
		con->in_len -= n;
	}
	if (done && con->rx_waiting && con->rx_notify_fd >= 0) {
		con->rx_waiting = false;
		if (write(con->rx_notify_fd, &one, sizeof(one)) < 0)
			pr_warn_ratelimited("virtio-console: rx notify failed: %s",
					    strerror(errno));
	}
	pthread_mutex_unlock(&con->in_lock);
	return (uint32_t)done;
}

/* 5.3.6.1: fill receive buffers while there is input and room. */
static void rx_flush(struct virtio_console *con)
{
	struct virtq *vq = virtio_dev_queue(&con->vdev, CON_RXQ);
	int r;

	for (;;) {
		virtq_disable_notify(vq);
		r = 0;
		while (has_input(con) && (r = virtq_pop(vq, &con->elem)) > 0)
			virtq_push(vq, con->elem.head,
				   take_input(con, &con->elem));
		if (r < 0)
			break;
		/* Out of buffers with input left: ask for a kick. */
		if (!virtq_enable_notify(vq) || !has_input(con))
			break;
	}
	virtio_dev_notify_used(&con->vdev, CON_RXQ);
}

/* Write all of buf to fd; output that cannot be written is dropped. */
static void write_all(int fd, const uint8_t *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	ssize_t r;

	while (len && fd >= 0) {
		r = write(fd, buf, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN) {
			poll(&p, 1, -1);
			continue;
		}
		if (r <= 0) {
			pr_warn_ratelimited("virtio-console: output dropped: %s",
					    r < 0 ? strerror(errno) : "short write");
			return;
		}
		buf += r;
		len -= (size_t)r;
	}
}

/* 5.3.6.1: transmitted buffers go to the console output. */
static void tx_flush(struct virtio_console *con)
{
	struct virtq *vq = virtio_dev_queue(&con->vdev, CON_TXQ);
	struct virtq_elem *e = &con->elem;
	unsigned int i;
	int r;

	do {
		virtq_disable_notify(vq);
		while ((r = virtq_pop(vq, e)) > 0) {
			for (i = 0; i < e->nr_out; i++)
				write_all(con->out_fd, e->iov[i].iov_base,
					  e->iov[i].iov_len);
			virtq_push(vq, e->head, 0);
		}
	} while (r == 0 && virtq_enable_notify(vq));
	virtio_dev_notify_used(&con->vdev, CON_TXQ);
}

static void con_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_console *con = vdev->priv;

	if (q == CON_RXQ)
		rx_flush(con);
	else
		tx_flush(con);
}

/* Without VIRTIO_CONSOLE_F_SIZE / _MULTIPORT the fields read as 0. */
static void con_config_read(struct virtio_dev *vdev, unsigned int off,
			    uint8_t *data, unsigned int len)
{
	memset(data, 0, len);
}

static const struct virtio_dev_ops console_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.pci_class = 0x078000,		/* simple communication controller */
	.nr_queues = 2,			/* 5.3.2: receiveq0, transmitq0 */
	.queue_size = CON_QUEUE_SIZE,
	.config_size = CON_CONFIG_SIZE,
	.config_read = con_config_read,
	.queue_notify = con_queue_notify,
};

int virtio_console_create(struct device_ctx *ctx, int out_fd,
			  struct virtio_console **out)
{
	struct virtio_console *con = calloc(1, sizeof(*con));
	int err;

	if (!con)
		return -ENOMEM;
	con->out_fd = out_fd;
	con->rx_notify_fd = -1;
	pthread_mutex_init(&con->in_lock, NULL);
	err = virtio_dev_init(&con->vdev, &console_ops, ctx, con);
	if (err) {
		pthread_mutex_destroy(&con->in_lock);
		free(con);
		return err;
	}
	*out = con;
	return 0;
}

void virtio_console_destroy(struct virtio_console *con)
{
	if (!con)
		return;
	virtio_dev_destroy(&con->vdev);
	pthread_mutex_destroy(&con->in_lock);
	free(con);
}

struct virtio_dev *virtio_console_dev(struct virtio_console *con)
{
	return &con->vdev;
}
