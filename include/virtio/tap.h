/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host side of virtio-net: a Linux TAP device (linux/if_tun.h) opened
 * with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, so every read and write is one
 * Ethernet frame prefixed by a struct virtio_net_hdr_v1 (12 bytes, set
 * with TUNSETVNETHDRSZ).  mvm does no networking of its own: the TAP is
 * created, addressed, bridged or NATed by the administrator
 * (docs/virtio.md, "virtio-net").
 *
 * For tests the backend can also be any packet fd (a SOCK_SEQPACKET
 * socket) carrying the same vnet-header-prefixed frames.
 */
#ifndef MVM_NET_TAP_H
#define MVM_NET_TAP_H

#include <stdbool.h>
#include <net/if.h>

struct tap {
	int fd;				/* non-blocking, close-on-exec */
	char name[IFNAMSIZ];		/* interface (or label) */
	bool is_tap;			/* a real TAP: TUNSETOFFLOAD works */
	/* The TUN_F_* offloads the backend accepts (TUNSETOFFLOAD). */
	unsigned int offloads;
};

/*
 * Attach to the TAP interface `name` (creating it needs CAP_NET_ADMIN; an
 * existing one made with `ip tuntap add ... user $USER` does not).  On
 * failure prints one line naming the TAP and what to do, returns -errno.
 */
int tap_open(struct tap *t, const char *name);
/* Use `fd`, a packet fd of vnet-header-prefixed frames (tests); takes it
 * (closed on failure too). */
int tap_open_fd(struct tap *t, int fd, const char *label);
/*
 * TUNSETOFFLOAD: which offloaded packets (TUN_F_CSUM, TUN_F_TSO4, ...)
 * the TAP may hand to mvm, i.e. what the guest negotiated to receive.
 * A no-op on a test fd.  Returns 0 or -errno.
 */
int tap_set_offload(struct tap *t, unsigned int tun_flags);
void tap_close(struct tap *t);

#endif
