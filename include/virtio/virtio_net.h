/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-net (virtio 1.2, 5.1) on a TAP device (include/virtio/tap.h):
 * receiveq 0, transmitq 1, no control queue, no multiqueue.  See
 * docs/virtio.md, "virtio-net".
 */
#ifndef MVM_VIRTIO_NET_H
#define MVM_VIRTIO_NET_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "pci/devctx.h"

#define VIRTIO_NET_RXQ		0
#define VIRTIO_NET_TXQ		1
/* 5.1.6: struct virtio_net_hdr_v1 (VIRTIO_F_VERSION_1): 12 bytes. */
#define VIRTIO_NET_HDR_LEN	12

/* One -n/--network option. */
struct virtio_net_spec {
	char tap[IFNAMSIZ];		/* TAP interface name */
	uint8_t mac[6];
	bool has_mac;			/* else a random local MAC */
};

/*
 * Parse "tap=NAME[,mac=xx:xx:xx:xx:xx:xx]".  On error prints one line
 * ("-n 'ARG': ...") and returns -EINVAL.
 */
int virtio_net_parse(const char *arg, struct virtio_net_spec *spec);

struct virtio_net_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	uint64_t rx_dropped;		/* no room in the guest's buffers */
	uint64_t tx_errors;		/* the TAP refused a frame */
	uint64_t rx_stalls;		/* times the guest had no rx buffers */
};

struct virtio_net;
struct virtio_dev;
struct tap;

/* Open spec->tap and put a virtio-net on ctx->pci.  Prints why on error. */
int virtio_net_create(struct device_ctx *ctx,
		      const struct virtio_net_spec *spec,
		      struct virtio_net **out);
/*
 * The same on a TAP opened with tap_open() (vm_build opens them before
 * touching KVM); takes it, also on failure (tap->fd becomes -1).  mac
 * NULL: a random locally administered address.
 */
int virtio_net_create_tap(struct device_ctx *ctx, struct tap *tap,
			  const uint8_t *mac, struct virtio_net **out);
/*
 * The same on an already-open packet fd carrying vnet-header-prefixed
 * frames (a SOCK_SEQPACKET socket: unit tests).  Takes fd.
 */
int virtio_net_create_fd(struct device_ctx *ctx, int fd, const uint8_t mac[6],
			 struct virtio_net **out);
void virtio_net_destroy(struct virtio_net *net);
struct virtio_dev *virtio_net_dev(struct virtio_net *net);
/* A snapshot of the counters (takes the device's I/O lock). */
void virtio_net_get_stats(struct virtio_net *net,
			  struct virtio_net_stats *st);

#endif
