// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net (virtio 1.2, 5.1) on a TAP device (virtio/tap.c): queue 0 is
 * receiveq1, queue 1 transmitq1 (5.1.2); no control queue, no multiqueue.
 *
 * Every frame, in both directions, is a struct virtio_net_hdr_v1 (12
 * bytes, 5.1.6) followed by the Ethernet frame, which is exactly what the
 * TAP reads and writes (linux/if_tun.h: IFF_VNET_HDR, TUNSETVNETHDRSZ 12).
 *
 * Transmit (5.1.6.2): each chain of the transmit queue is written to the
 * TAP with one writev() on the I/O thread, header included.
 *
 * Receive (5.1.6.3, 5.1.6.4): the TAP fd is watched by the I/O thread
 * only while the guest has receive buffers.  A frame is read into a
 * bounce buffer (so a frame never gets truncated by a short guest
 * buffer and can wait for buffers in mvm), then copied into one buffer,
 * or with VIRTIO_NET_F_MRG_RXBUF into as many as it needs, with
 * num_buffers set; those are returned with a single used->idx update.
 * When the guest has no (or not enough) buffers the TAP is no longer
 * watched: frames wait in the TAP's queue (the kernel drops them, and
 * counts them as the TAP's TX drops, only when the guest gives no
 * buffers for long) until the guest's next receive-queue notification.
 */
#include <endian.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "virtio/tap.h"
#include "core/util.h"
#include "virtio/virtio.h"
#include "virtio/virtio_net.h"

#define NET_QUEUE_SIZE		256
/* 5.1.4: mac[6], status, max_virtqueue_pairs. */
#define NET_CONFIG_SIZE		10
/* Largest frame from the TAP: a 64 KiB GSO packet plus link headers. */
#define NET_RX_BUF_SIZE		(VIRTIO_NET_HDR_LEN + 65536 + 4096)
/* Frames moved per wakeup before giving the transmit queue a turn. */
#define NET_RX_BUDGET		64
/* How long a transmit may wait for a full backend (not a TAP). */
#define NET_TX_WAIT_MS		100

/* struct virtio_net_hdr_v1 field offsets (5.1.6). */
#define HDR_FLAGS		0
#define HDR_GSO_TYPE		1
#define HDR_NUM_BUFFERS		10

#define F(bit)			(1ULL << (bit))
/* 5.1.3.1: offloads that need checksum offload in the same direction. */
#define F_GUEST_GSO		(F(VIRTIO_NET_F_GUEST_TSO4) | \
				 F(VIRTIO_NET_F_GUEST_TSO6))
#define F_HOST_GSO		(F(VIRTIO_NET_F_HOST_TSO4) | \
				 F(VIRTIO_NET_F_HOST_TSO6))

struct virtio_net {
	struct virtio_dev vdev;
	struct virtio_dev_ops ops;	/* features depend on the TAP */
	char label[32];			/* "virtio-net:tap0" */
	struct tap tap;
	uint8_t mac[6];
	uint64_t features;		/* negotiated, set at DRIVER_OK */

	/* Receive side; all on the I/O thread under vdev.io_lock. */
	bool rx_watching;		/* the TAP fd is in the I/O thread */
	bool rx_dead;			/* the backend failed or closed */
	uint8_t *rx_buf;		/* one frame read from the TAP */
	size_t rx_len;			/* bytes in rx_buf; 0: none */
	uint16_t rx_heads[VIRTQ_MAX_SIZE];
	uint32_t rx_lens[VIRTQ_MAX_SIZE];
	struct virtq_elem rx_elem;
	struct virtq_elem tx_elem;

	struct virtio_net_stats stats;
};

/* ---- receive ------------------------------------------------------- */

static void rx_watch_fn(struct virtio_dev *vdev, int fd, void *opaque);

static void rx_start(struct virtio_net *net)
{
	int err;

	if (net->rx_watching || net->rx_dead)
		return;
	err = virtio_dev_watch(&net->vdev, net->tap.fd, rx_watch_fn, net);
	if (err) {
		pr_warn_ratelimited("%s: cannot watch the tap: %s", net->label,
				    strerror(-err));
		return;
	}
	net->rx_watching = true;
	/* The TAP wakes us now; guest notifications are not needed. */
	virtq_disable_notify(virtio_dev_queue(&net->vdev, VIRTIO_NET_RXQ));
}

static void rx_stop(struct virtio_net *net)
{
	if (!net->rx_watching)
		return;
	virtio_dev_unwatch(&net->vdev, net->tap.fd);
	net->rx_watching = false;
}

/* Read one frame into rx_buf: 1, 0 if none is waiting, -1 on failure. */
static int rx_read(struct virtio_net *net)
{
	ssize_t n;

	do {
		n = read(net->tap.fd, net->rx_buf, NET_RX_BUF_SIZE);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0) {
		pr_warn("%s: receive stopped: %s", net->label,
			n ? strerror(errno) : "the backend was closed");
		net->rx_dead = true;
		rx_stop(net);
		return -1;
	}
	if ((size_t)n < VIRTIO_NET_HDR_LEN) {
		net->stats.rx_dropped++;
		return 1;
	}
	net->rx_len = (size_t)n;
	return 1;
}

/*
 * 5.1.6.4.1: the header must only use what the driver negotiated.  The
 * TAP only sends offloaded frames after TUNSETOFFLOAD, which follows the
 * guest's features, so this is a safety net.  Returns false to drop.
 */
static bool rx_fix_header(struct virtio_net *net)
{
	uint8_t *hdr = net->rx_buf;
	uint8_t gso = hdr[HDR_GSO_TYPE];

	if (!(net->features & F(VIRTIO_NET_F_GUEST_CSUM))) {
		if (hdr[HDR_FLAGS] & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			return false;
		hdr[HDR_FLAGS] = 0;
	} else {
		hdr[HDR_FLAGS] &= VIRTIO_NET_HDR_F_NEEDS_CSUM |
				  VIRTIO_NET_HDR_F_DATA_VALID;
	}
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return true;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return net->features & F(VIRTIO_NET_F_GUEST_TSO4);
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return net->features & F(VIRTIO_NET_F_GUEST_TSO6);
	default:			/* UFO, ECN: never offered */
		return false;
	}
}

/* Where num_buffers lives in the first receive chain (in_len >= 12). */
static void num_buffers_ptrs(const struct virtq_elem *e, uint8_t *p[2])
{
	size_t off = HDR_NUM_BUFFERS;
	unsigned int i, k = 0;

	for (i = e->nr_out; i < e->nr_out + e->nr_in && k < 2; i++) {
		while (off < e->iov[i].iov_len && k < 2)
			p[k++] = (uint8_t *)e->iov[i].iov_base + off++;
		off -= MIN(off, e->iov[i].iov_len);
	}
}

/*
 * Put the frame in rx_buf into receive buffers.  Returns 1 when it is
 * gone (delivered or dropped), 0 when the guest has not enough buffers
 * (nothing consumed), -EIO when the queue is unusable.
 */
static int rx_deliver(struct virtio_net *net)
{
	struct virtq *vq = virtio_dev_queue(&net->vdev, VIRTIO_NET_RXQ);
	struct virtq_elem *e = &net->rx_elem;
	bool mrg = net->features & F(VIRTIO_NET_F_MRG_RXBUF);
	size_t len = net->rx_len, off = 0, chunk;
	uint8_t *nb[2] = { NULL, NULL };
	unsigned int n = 0, i;
	int r;

	if (!rx_fix_header(net)) {
		net->stats.rx_dropped++;
		net->rx_len = 0;
		return 1;
	}
	while (off < len) {
		r = virtq_pop(vq, e);
		if (r < 0)
			return r;
		if (r == 0) {
			for (i = 0; i < n; i++)
				virtq_unpop(vq);
			return 0;
		}
		/*
		 * 5.1.6.3.1: receive buffers are device-writable and, with
		 * MRG_RXBUF, each at least a header long; without it the
		 * header and frame share one chain (5.1.6.3).
		 */
		if (e->nr_out || e->in_len < VIRTIO_NET_HDR_LEN) {
			pr_warn_ratelimited("%s: receive chain with %u readable, %llu writable bytes; device needs reset",
					    net->label, (unsigned int)e->out_len,
					    (unsigned long long)e->in_len);
			virtio_dev_set_needs_reset(&net->vdev);
			return -EIO;
		}
		if (!mrg && e->in_len < len) {
			/* Too small for this frame: drop it, keep the buffer. */
			virtq_unpop(vq);
			pr_warn_ratelimited("%s: %zu-byte frame dropped: receive buffer of %llu bytes (no VIRTIO_NET_F_MRG_RXBUF)",
					    net->label, len,
					    (unsigned long long)e->in_len);
			net->stats.rx_dropped++;
			net->rx_len = 0;
			return 1;
		}
		if (!n)
			num_buffers_ptrs(e, nb);
		chunk = MIN(len - off, e->in_len);
		virtq_elem_write(e, 0, net->rx_buf + off, chunk);
		net->rx_heads[n] = e->head;
		net->rx_lens[n] = (uint32_t)chunk;
		n++;
		off += chunk;
	}
	/* 5.1.6.4: num_buffers, 1 without MRG_RXBUF (little-endian). */
	*nb[0] = (uint8_t)n;
	*nb[1] = (uint8_t)(n >> 8);
	virtq_push_batch(vq, net->rx_heads, net->rx_lens, n);
	net->stats.rx_packets++;
	net->stats.rx_bytes += len - VIRTIO_NET_HDR_LEN;
	net->rx_len = 0;
	return 1;
}

/* Move frames from the TAP to the guest while both have some. */
static void rx_run(struct virtio_net *net)
{
	struct virtq *vq = virtio_dev_queue(&net->vdev, VIRTIO_NET_RXQ);
	unsigned int budget = NET_RX_BUDGET;
	bool pushed = false;
	int r;

	for (;;) {
		if (!net->rx_len) {
			if (!virtq_pending(vq)) {
				if (virtq_notify_on_new(vq))
					continue;
				/* No buffers: frames wait in the TAP. */
				rx_stop(net);
				break;
			}
			if (!budget--) {
				rx_start(net);	/* level-triggered: back soon */
				break;
			}
			r = rx_read(net);
			if (r <= 0) {
				if (!r)
					rx_start(net);
				break;
			}
			if (!net->rx_len)
				continue;
		}
		r = rx_deliver(net);
		if (r < 0) {
			rx_stop(net);
			break;
		}
		if (r == 0) {
			if (virtq_notify_on_new(vq))
				continue;
			net->stats.rx_stalls++;
			rx_stop(net);
			break;
		}
		pushed = true;
	}
	if (pushed)
		virtio_dev_notify_used(&net->vdev, VIRTIO_NET_RXQ);
}

static void rx_watch_fn(struct virtio_dev *vdev, int fd, void *opaque)
{
	struct virtio_net *net = opaque;

	/* Watches run whatever the status: only move frames when live. */
	if (!virtio_dev_driver_ok(vdev)) {
		rx_stop(net);
		return;
	}
	rx_run(net);
}

/* ---- transmit ------------------------------------------------------ */

/* Write one chain (header + frame) to the backend. */
static void tx_one(struct virtio_net *net, const struct virtq_elem *e)
{
	struct pollfd p = { .fd = net->tap.fd, .events = POLLOUT };
	ssize_t r;

	for (;;) {
		r = writev(net->tap.fd, e->iov, (int)e->nr_out);
		if (r < 0 && errno == EINTR)
			continue;
		/* A TAP never blocks; a test socket may be full. */
		if (r < 0 && errno == EAGAIN &&
		    poll(&p, 1, NET_TX_WAIT_MS) > 0)
			continue;
		break;
	}
	if (r < 0 || (uint64_t)r != e->out_len) {
		pr_warn_ratelimited("%s: %llu-byte frame not sent: %s",
				    net->label, (unsigned long long)e->out_len,
				    r < 0 ? strerror(errno) : "short write");
		net->stats.tx_errors++;
		return;
	}
	net->stats.tx_packets++;
	net->stats.tx_bytes += e->out_len - VIRTIO_NET_HDR_LEN;
}

static void tx_run(struct virtio_net *net)
{
	struct virtq *vq = virtio_dev_queue(&net->vdev, VIRTIO_NET_TXQ);
	struct virtq_elem *e = &net->tx_elem;
	int r;

	do {
		virtq_disable_notify(vq);
		while ((r = virtq_pop(vq, e)) > 0) {
			/*
			 * 5.1.6.2: a transmit chain is device-readable:
			 * the 12-byte header, then the frame.
			 */
			if (e->nr_in || e->out_len < VIRTIO_NET_HDR_LEN) {
				pr_warn_ratelimited("%s: transmit chain with %llu readable, %llu writable bytes; device needs reset",
						    net->label,
						    (unsigned long long)e->out_len,
						    (unsigned long long)e->in_len);
				virtio_dev_set_needs_reset(&net->vdev);
				goto out;
			}
			tx_one(net, e);
			virtq_push(vq, e->head, 0);
		}
	} while (r == 0 && virtq_enable_notify(vq));
out:
	virtio_dev_notify_used(&net->vdev, VIRTIO_NET_TXQ);
}

/* ---- device ops ---------------------------------------------------- */

static void net_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_net *net = vdev->priv;

	if (q == VIRTIO_NET_RXQ)
		rx_run(net);	/* new receive buffers */
	else
		tx_run(net);
}

/* 5.1.4: struct virtio_net_config; the link is always up. */
static void net_config_read(struct virtio_dev *vdev, unsigned int off,
			    uint8_t *data, unsigned int len)
{
	struct virtio_net *net = vdev->priv;
	uint8_t cfg[NET_CONFIG_SIZE];

	memcpy(cfg, net->mac, 6);
	put_le16(cfg + 6, VIRTIO_NET_S_LINK_UP);
	put_le16(cfg + 8, 1);		/* max_virtqueue_pairs */
	memcpy(data, cfg + off, len);
}

/* 5.1.3.1: refuse offloads without the checksum offload they need. */
static bool net_features_ok(struct virtio_dev *vdev, uint64_t f)
{
	if ((f & F_GUEST_GSO) && !(f & F(VIRTIO_NET_F_GUEST_CSUM)))
		return false;
	if ((f & F_HOST_GSO) && !(f & F(VIRTIO_NET_F_CSUM)))
		return false;
	return true;
}

/* The TAP may hand us what the guest accepted to receive (if_tun.h). */
static void net_driver_ok(struct virtio_dev *vdev)
{
	struct virtio_net *net = vdev->priv;
	unsigned int tun = 0;
	int err;

	net->features = virtio_dev_features(vdev);
	if (net->features & F(VIRTIO_NET_F_GUEST_CSUM))
		tun |= TUN_F_CSUM;
	if (net->features & F(VIRTIO_NET_F_GUEST_TSO4))
		tun |= TUN_F_TSO4;
	if (net->features & F(VIRTIO_NET_F_GUEST_TSO6))
		tun |= TUN_F_TSO6;
	err = tap_set_offload(&net->tap, tun);
	if (err)
		pr_warn("%s: TUNSETOFFLOAD %#x failed: %s", net->label, tun,
			strerror(-err));
}

static void net_reset(struct virtio_dev *vdev)
{
	struct virtio_net *net = vdev->priv;

	rx_stop(net);
	net->rx_len = 0;	/* read under the old features */
	net->features = 0;
	tap_set_offload(&net->tap, 0);
}

static const struct virtio_dev_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.pci_class = 0x020000,		/* Ethernet controller */
	.nr_queues = 2,			/* 5.1.2: receiveq1, transmitq1 */
	.queue_size = NET_QUEUE_SIZE,
	.config_size = NET_CONFIG_SIZE,
	.config_read = net_config_read,
	.features_ok = net_features_ok,
	.queue_notify = net_queue_notify,
	.driver_ok = net_driver_ok,
	.reset = net_reset,
};

/* What we offer (5.1.3): MAC, STATUS, MRG_RXBUF, and what the TAP does. */
static uint64_t net_offer(const struct tap *t)
{
	uint64_t f = F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS) |
		     F(VIRTIO_NET_F_MRG_RXBUF);

	if (!(t->offloads & TUN_F_CSUM))
		return f;
	f |= F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM);
	if (t->offloads & TUN_F_TSO4)
		f |= F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO4);
	if (t->offloads & TUN_F_TSO6)
		f |= F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_GUEST_TSO6);
	return f;
}

/* Takes net->tap; frees net on failure. */
static int net_start(struct virtio_net *net, struct device_ctx *ctx,
		     const uint8_t *mac, struct virtio_net **out)
{
	int err;

	snprintf(net->label, sizeof(net->label), "virtio-net:%s",
		 net->tap.name);
	if (mac) {
		memcpy(net->mac, mac, 6);
	} else {
		/* A random locally administered unicast address. */
		if (getrandom(net->mac, 6, 0) != 6)
			memcpy(net->mac, (uint8_t[]){ 0, 0x15, 0x15, 0x15, 0x15,
						      0x15 }, 6);
		net->mac[0] = (uint8_t)((net->mac[0] & 0xfe) | 0x02);
	}
	net->ops = net_ops;
	net->ops.name = net->label;
	net->ops.features = net_offer(&net->tap);
	net->rx_buf = malloc(NET_RX_BUF_SIZE);
	err = net->rx_buf ? virtio_dev_init(&net->vdev, &net->ops, ctx, net) :
			    -ENOMEM;
	if (err) {
		if (err == -ENOMEM)
			pr_err("%s: out of memory", net->label);
		tap_close(&net->tap);
		free(net->rx_buf);
		free(net);
		return err;
	}
	*out = net;
	return 0;
}

int virtio_net_create_tap(struct device_ctx *ctx, struct tap *tap,
			  const uint8_t *mac, struct virtio_net **out)
{
	struct virtio_net *net = calloc(1, sizeof(*net));

	if (!net) {
		tap_close(tap);
		return -ENOMEM;
	}
	net->tap = *tap;
	tap->fd = -1;		/* ours now */
	return net_start(net, ctx, mac, out);
}

int virtio_net_create(struct device_ctx *ctx,
		      const struct virtio_net_spec *spec,
		      struct virtio_net **out)
{
	struct tap tap;
	int err;

	err = tap_open(&tap, spec->tap);
	if (err)
		return err;
	return virtio_net_create_tap(ctx, &tap, spec->has_mac ? spec->mac :
				     NULL, out);
}

int virtio_net_create_fd(struct device_ctx *ctx, int fd, const uint8_t mac[6],
			 struct virtio_net **out)
{
	struct virtio_net *net = calloc(1, sizeof(*net));
	int err;

	if (!net) {
		close(fd);
		return -ENOMEM;
	}
	err = tap_open_fd(&net->tap, fd, "fd");
	if (err) {
		free(net);
		return err;
	}
	return net_start(net, ctx, mac, out);
}

void virtio_net_destroy(struct virtio_net *net)
{
	if (!net)
		return;
	virtio_dev_destroy(&net->vdev);	/* stops the I/O thread */
	tap_close(&net->tap);
	free(net->rx_buf);
	free(net);
}

struct virtio_dev *virtio_net_dev(struct virtio_net *net)
{
	return &net->vdev;
}

void virtio_net_get_stats(struct virtio_net *net, struct virtio_net_stats *st)
{
	pthread_mutex_lock(&net->vdev.io_lock);
	*st = net->stats;
	pthread_mutex_unlock(&net->vdev.io_lock);
}

/* ---- -n/--network tap=NAME[,mac=xx:xx:xx:xx:xx:xx] ----------------- */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int i;
	int hi, lo;

	for (i = 0; i < 6; i++) {
		hi = hex_digit(s[0]);
		lo = hi < 0 ? -1 : hex_digit(s[1]);
		if (lo < 0 || s[2] != (i == 5 ? '\0' : ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
		s += 3;
	}
	return 0;
}

int virtio_net_parse(const char *arg, struct virtio_net_spec *spec)
{
	static const uint8_t zero[6];
	const char *p = arg, *end, *val;
	size_t klen, vlen;
	char mac[32];

	memset(spec, 0, sizeof(*spec));
	while (*p) {
		end = strchrnul(p, ',');
		val = memchr(p, '=', (size_t)(end - p));
		if (!val) {
			pr_err("--network '%s': expected tap=NAME[,mac=xx:xx:xx:xx:xx:xx] (mvm has no user-mode networking; see docs/virtio.md)",
			       arg);
			return -EINVAL;
		}
		klen = (size_t)(val - p);
		val++;
		vlen = (size_t)(end - val);
		if (klen == 3 && !strncmp(p, "tap", 3)) {
			if (!vlen || vlen >= IFNAMSIZ || memchr(val, '/', vlen)) {
				pr_err("--network '%s': tap name must be 1 to %d characters, without '/'",
				       arg, IFNAMSIZ - 1);
				return -EINVAL;
			}
			memcpy(spec->tap, val, vlen);
			spec->tap[vlen] = '\0';
		} else if (klen == 3 && !strncmp(p, "mac", 3)) {
			snprintf(mac, sizeof(mac), "%.*s", (int)MIN(vlen, 31),
				 val);
			if (vlen > 17 || parse_mac(mac, spec->mac)) {
				pr_err("--network '%s': bad MAC address '%.*s' (want xx:xx:xx:xx:xx:xx)",
				       arg, (int)vlen, val);
				return -EINVAL;
			}
			if ((spec->mac[0] & 1) || !memcmp(spec->mac, zero, 6)) {
				pr_err("--network '%s': MAC address '%s' is not a unicast address",
				       arg, mac);
				return -EINVAL;
			}
			spec->has_mac = true;
		} else {
			pr_err("--network '%s': unknown key '%.*s' (keys: tap, mac)",
			       arg, (int)klen, p);
			return -EINVAL;
		}
		p = *end ? end + 1 : end;
	}
	if (!spec->tap[0]) {
		pr_err("--network '%s': needs tap=NAME (a TAP device; see docs/virtio.md)",
		       arg);
		return -EINVAL;
	}
	return 0;
}
