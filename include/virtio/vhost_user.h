/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-user, the front-end side (QEMU docs/interop/vhost-user.rst): a
 * virtio device whose queues a separate process (the back-end) runs,
 * talked to over a UNIX socket.  mvm sends the features, the guest's RAM
 * (memfd descriptors), and each ring's size, addresses, start index and
 * eventfds; the back-end reads and writes the rings in guest RAM itself,
 * is kicked by the guest through KVM ioeventfds and interrupts the guest
 * through the device's MSI-X vector eventfds (KVM irqfds).
 *
 * Two layers:
 *   vhost_user_*      the protocol on one connected socket (any thread,
 *                     one caller at a time);
 *   vhost_user_dev_*  a virtio_dev whose queues are external
 *                     (virtio_dev_ops.external_queues): started at
 *                     DRIVER_OK, stopped at reset.  Any vhost-user device
 *                     model (virtio/fs.c is one) uses these two calls.
 */
#ifndef MVM_VHOST_USER_H
#define MVM_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/guest_mem.h"

/* Requests (front-end to back-end). */
enum {
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_SET_VRING_ENABLE = 18,
};

/* Header flags. */
#define VHOST_USER_VERSION		0x1
#define VHOST_USER_FLAG_REPLY		(1u << 2)
#define VHOST_USER_FLAG_NEED_REPLY	(1u << 3)
#define VHOST_USER_HDR_SIZE		12
/* Vring descriptor messages: index in bits 0-7, bit 8 "no fd". */
#define VHOST_USER_VRING_NOFD		(1u << 8)
#define VHOST_USER_MAX_REGIONS		8
#define VHOST_USER_MAX_PAYLOAD		(8 + 32 * VHOST_USER_MAX_REGIONS)

/* Feature bit 30: protocol features can be negotiated. */
#define VHOST_USER_F_PROTOCOL_FEATURES	30
/* Protocol feature bits mvm uses. */
#define VHOST_USER_PROTOCOL_F_REPLY_ACK	3

#define VHOST_USER_MAX_QUEUES		16
/* vhost_user_connect(): a reply not here within this fails the request. */
#define VHOST_USER_REPLY_TIMEOUT_S	30

struct vhost_user {
	int fd;				/* the connected socket, -1: none */
	char name[48];			/* "virtiofsd[TAG]", for messages */
	uint64_t features;		/* GET_FEATURES */
	uint64_t protocol_features;	/* what both sides use */
	bool reply_ack;			/* REPLY_ACK negotiated */
	bool dead;			/* the socket failed: never used again */
	bool quiet;			/* ...said by the caller, not here */
	char why[160];			/* how it failed, when quiet */
	/* Per ring: started (kick sent) and the eventfds handed over. */
	bool started[VHOST_USER_MAX_QUEUES];
	int err_fd[VHOST_USER_MAX_QUEUES];
};

/* One ring, as the back-end needs it. */
struct vhost_user_vring {
	unsigned int index;
	uint16_t num;
	uint16_t base;			/* next available index to use */
	uint64_t desc, avail, used;	/* front-end (mvm) virtual addresses */
	int kick_fd, call_fd, err_fd;	/* -1: none */
};

/* Take a connected socket (or one end of a socketpair, in tests). */
void vhost_user_init(struct vhost_user *vu, int fd, const char *name);
/* Connect to the back-end's socket at path; returns 0 or -errno. */
int vhost_user_connect(struct vhost_user *vu, const char *path,
		       const char *name);
void vhost_user_close(struct vhost_user *vu);

/*
 * The handshake: GET_FEATURES, then (if the back-end has protocol
 * features) GET_PROTOCOL_FEATURES and SET_PROTOCOL_FEATURES with the
 * ones mvm uses (REPLY_ACK), then SET_OWNER.  Returns 0 or -errno after
 * printing one line.
 */
int vhost_user_handshake(struct vhost_user *vu);
/* SET_FEATURES: the driver's features plus the protocol bit if used. */
int vhost_user_set_features(struct vhost_user *vu, uint64_t features);
/* SET_MEM_TABLE: guest RAM's regions, each with mem->fd. */
int vhost_user_set_mem_table(struct vhost_user *vu,
			     const struct guest_mem *mem);
/* SET_VRING_NUM/BASE/ADDR/KICK/CALL/ERR (+ SET_VRING_ENABLE). */
int vhost_user_vring_start(struct vhost_user *vu,
			   const struct vhost_user_vring *r);
/* GET_VRING_BASE (stops the ring): *base is where the back-end stopped. */
int vhost_user_vring_stop(struct vhost_user *vu, unsigned int index,
			  uint16_t *base);

struct virtio_dev;
/*
 * For a virtio_dev with external_queues: at DRIVER_OK hand every enabled
 * queue to the back-end (features, memory, rings, eventfds); at reset
 * stop them.  Errors are printed once; the device then stays silent
 * (the guest's requests on it are not answered).
 */
int vhost_user_dev_start(struct vhost_user *vu, struct virtio_dev *vdev);
void vhost_user_dev_stop(struct vhost_user *vu, struct virtio_dev *vdev);

#endif
