// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-user, front-end side (QEMU docs/interop/vhost-user.rst).  Every
 * message is a 12-byte header (request, flags, payload size) and a
 * little-endian payload; file descriptors travel as SCM_RIGHTS with the
 * header.  mvm waits for each reply (GET_*), and with REPLY_ACK for an
 * acknowledgement of every other message, so a back-end that refuses
 * something is caught at that message.
 */
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/unix_socket.h"
#include "core/util.h"
#include "debug/trace.h"
#include "virtio/vhost_user.h"
#include "virtio/virtio.h"

#define MAX_FDS		VHOST_USER_MAX_REGIONS

static const char *req_name(uint32_t req)
{
	static const char *const names[] = {
		[VHOST_USER_GET_FEATURES] = "GET_FEATURES",
		[VHOST_USER_SET_FEATURES] = "SET_FEATURES",
		[VHOST_USER_SET_OWNER] = "SET_OWNER",
		[VHOST_USER_RESET_OWNER] = "RESET_OWNER",
		[VHOST_USER_SET_MEM_TABLE] = "SET_MEM_TABLE",
		[VHOST_USER_SET_VRING_NUM] = "SET_VRING_NUM",
		[VHOST_USER_SET_VRING_ADDR] = "SET_VRING_ADDR",
		[VHOST_USER_SET_VRING_BASE] = "SET_VRING_BASE",
		[VHOST_USER_GET_VRING_BASE] = "GET_VRING_BASE",
		[VHOST_USER_SET_VRING_KICK] = "SET_VRING_KICK",
		[VHOST_USER_SET_VRING_CALL] = "SET_VRING_CALL",
		[VHOST_USER_SET_VRING_ERR] = "SET_VRING_ERR",
		[VHOST_USER_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
		[VHOST_USER_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
		[VHOST_USER_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	};

	return req < ARRAY_SIZE(names) && names[req] ? names[req] : "?";
}

void vhost_user_init(struct vhost_user *vu, int fd, const char *name)
{
	unsigned int i;

	memset(vu, 0, sizeof(*vu));
	vu->fd = fd;
	snprintf(vu->name, sizeof(vu->name), "%s", name);
	for (i = 0; i < VHOST_USER_MAX_QUEUES; i++)
		vu->err_fd[i] = -1;
}

int vhost_user_connect(struct vhost_user *vu, const char *path,
		       const char *name)
{
	int fd;

	vhost_user_init(vu, -1, name);
	fd = unix_connect(path);
	if (fd < 0)
		return fd;
	/* Requests are synchronous, some on a vCPU thread (DRIVER_OK): a
	 * back-end that stops answering fails them instead of hanging it. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO,
		   &(struct timeval){ .tv_sec = VHOST_USER_REPLY_TIMEOUT_S },
		   sizeof(struct timeval));
	vu->fd = fd;
	return 0;
}

void vhost_user_close(struct vhost_user *vu)
{
	unsigned int i;

	if (vu->fd >= 0)
		close(vu->fd);
	vu->fd = -1;
	for (i = 0; i < VHOST_USER_MAX_QUEUES; i++) {
		if (vu->err_fd[i] >= 0)
			close(vu->err_fd[i]);
		vu->err_fd[i] = -1;
	}
}

/* The connection is gone: say so once, never use it again. */
static int fail(struct vhost_user *vu, uint32_t req, int err,
		const char *what)
{
	if (!vu->dead && vu->quiet)
		snprintf(vu->why, sizeof(vu->why), "vhost-user %s: %s%s%s",
			 req_name(req), what, err ? ": " : "",
			 err ? strerror(-err) : "");
	else if (!vu->dead)
		pr_err("%s: vhost-user %s: %s%s%s", vu->name, req_name(req),
		       what, err ? ": " : "", err ? strerror(-err) : "");
	vu->dead = true;
	return err ? err : -EPROTO;
}

static int send_msg(struct vhost_user *vu, uint32_t req, uint32_t flags,
		    const void *payload, uint32_t size, const int *fds,
		    unsigned int nfds)
{
	uint8_t buf[VHOST_USER_HDR_SIZE + VHOST_USER_MAX_PAYLOAD];
	union {
		char b[CMSG_SPACE(MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { buf, VHOST_USER_HDR_SIZE + size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;

	if (vu->dead || vu->fd < 0)
		return -EPIPE;
	put_le32(buf, req);
	put_le32(buf + 4, VHOST_USER_VERSION | flags);
	put_le32(buf + 8, size);
	if (size)
		memcpy(buf + VHOST_USER_HDR_SIZE, payload, size);
	if (nfds) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	TRACE(VIRTIO, "%s: vhost-user -> %s (%u bytes, %u fds)", vu->name,
	      req_name(req), size, nfds);
	do {
		n = sendmsg(vu->fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return fail(vu, req, -errno, "cannot send");
	if ((size_t)n != iov.iov_len)
		return fail(vu, req, 0, "short send");
	return 0;
}

static int read_full(int fd, uint8_t *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -ETIMEDOUT;	/* SO_RCVTIMEO */
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;	/* the back-end hung up */
		done += (size_t)n;
	}
	return 0;
}

/* Wait for the reply to `req`: its payload must be exactly `size` bytes. */
static int recv_reply(struct vhost_user *vu, uint32_t req, void *payload,
		      uint32_t size)
{
	uint8_t hdr[VHOST_USER_HDR_SIZE], body[VHOST_USER_MAX_PAYLOAD];
	uint32_t r, flags, len;
	int err;

	err = read_full(vu->fd, hdr, sizeof(hdr));
	if (err)
		return fail(vu, req, err, "no reply");
	r = get_le32(hdr);
	flags = get_le32(hdr + 4);
	len = get_le32(hdr + 8);
	if (len > sizeof(body))
		return fail(vu, req, 0, "reply too long");
	err = read_full(vu->fd, body, len);
	if (err)
		return fail(vu, req, err, "truncated reply");
	if (r != req || !(flags & VHOST_USER_FLAG_REPLY) ||
	    (flags & 3) != VHOST_USER_VERSION || len != size) {
		char what[96];

		snprintf(what, sizeof(what),
			 "bad reply (request %u, flags %#x, %u bytes)", r,
			 flags, len);
		return fail(vu, req, 0, what);
	}
	memcpy(payload, body, size);
	TRACE(VIRTIO, "%s: vhost-user <- %s reply", vu->name, req_name(req));
	return 0;
}

/* A message that has no reply of its own: acknowledged with REPLY_ACK. */
static int request(struct vhost_user *vu, uint32_t req, const void *payload,
		   uint32_t size, const int *fds, unsigned int nfds)
{
	uint8_t ack[8];
	int err;

	err = send_msg(vu, req, vu->reply_ack ? VHOST_USER_FLAG_NEED_REPLY : 0,
		       payload, size, fds, nfds);
	if (err || !vu->reply_ack)
		return err;
	err = recv_reply(vu, req, ack, sizeof(ack));
	if (err)
		return err;
	if (get_le64(ack)) {
		pr_err("%s: vhost-user %s refused by the back-end (status %llu)",
		       vu->name, req_name(req),
		       (unsigned long long)get_le64(ack));
		return -EPROTO;
	}
	return 0;
}

static int get_u64(struct vhost_user *vu, uint32_t req, uint64_t *v)
{
	uint8_t b[8];
	int err = send_msg(vu, req, 0, NULL, 0, NULL, 0);

	if (!err)
		err = recv_reply(vu, req, b, sizeof(b));
	if (!err)
		*v = get_le64(b);
	return err;
}

static int set_u64(struct vhost_user *vu, uint32_t req, uint64_t v)
{
	uint8_t b[8];

	put_le64(b, v);
	return request(vu, req, b, sizeof(b), NULL, 0);
}

int vhost_user_handshake(struct vhost_user *vu)
{
	uint64_t pf;
	int err;

	err = get_u64(vu, VHOST_USER_GET_FEATURES, &vu->features);
	if (!err && (vu->features & 1ULL << VHOST_USER_F_PROTOCOL_FEATURES)) {
		err = get_u64(vu, VHOST_USER_GET_PROTOCOL_FEATURES, &pf);
		vu->protocol_features = pf &
					1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK;
		if (!err)
			err = set_u64(vu, VHOST_USER_SET_PROTOCOL_FEATURES,
				      vu->protocol_features);
		/* From here on every request is acknowledged. */
		vu->reply_ack = vu->protocol_features &
				1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK;
	}
	if (!err)
		err = request(vu, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0);
	return err;
}

int vhost_user_set_features(struct vhost_user *vu, uint64_t features)
{
	if (vu->features & 1ULL << VHOST_USER_F_PROTOCOL_FEATURES)
		features |= 1ULL << VHOST_USER_F_PROTOCOL_FEATURES;
	return set_u64(vu, VHOST_USER_SET_FEATURES, features);
}

int vhost_user_set_mem_table(struct vhost_user *vu,
			     const struct guest_mem *mem)
{
	uint8_t b[8 + 32 * 2] = { 0 };
	int fds[2] = { mem->fd, mem->fd };
	uint32_t n = 0;

	if (mem->fd < 0) {
		pr_err("%s: guest RAM is not shareable (not in a file)", vu->name);
		return -EINVAL;
	}
	/* struct VhostUserMemoryRegion: guest address, size, front-end
	 * address, offset in the fd. */
	put_le64(b + 8, 0);
	put_le64(b + 16, mem->low_size);
	put_le64(b + 24, (uint64_t)(uintptr_t)mem->host);
	put_le64(b + 32, 0);
	n++;
	if (mem->high_size) {
		put_le64(b + 40, guest_mem_top(mem) - mem->high_size);
		put_le64(b + 48, mem->high_size);
		put_le64(b + 56, (uint64_t)(uintptr_t)mem->high_host);
		put_le64(b + 64, mem->low_size);
		n++;
	}
	put_le32(b, n);
	return request(vu, VHOST_USER_SET_MEM_TABLE, b, 8 + 32 * n, fds, n);
}

static int vring_state(struct vhost_user *vu, uint32_t req,
		       unsigned int index, uint32_t num)
{
	uint8_t b[8];

	put_le32(b, index);
	put_le32(b + 4, num);
	return request(vu, req, b, sizeof(b), NULL, 0);
}

static int vring_fd(struct vhost_user *vu, uint32_t req, unsigned int index,
		    int fd)
{
	uint8_t b[8];

	put_le64(b, index | (fd < 0 ? VHOST_USER_VRING_NOFD : 0));
	return request(vu, req, b, sizeof(b), &fd, fd < 0 ? 0 : 1);
}

int vhost_user_vring_start(struct vhost_user *vu,
			   const struct vhost_user_vring *r)
{
	uint8_t a[40] = { 0 };
	int err;

	/* struct vhost_vring_addr: index, flags, desc, used, avail, log. */
	put_le32(a, r->index);
	put_le64(a + 8, r->desc);
	put_le64(a + 16, r->used);
	put_le64(a + 24, r->avail);
	err = vring_state(vu, VHOST_USER_SET_VRING_NUM, r->index, r->num);
	if (!err)
		err = vring_state(vu, VHOST_USER_SET_VRING_BASE, r->index,
				  r->base);
	if (!err)
		err = request(vu, VHOST_USER_SET_VRING_ADDR, a, sizeof(a), NULL,
			      0);
	if (!err)
		err = vring_fd(vu, VHOST_USER_SET_VRING_CALL, r->index,
			       r->call_fd);
	if (!err)
		err = vring_fd(vu, VHOST_USER_SET_VRING_ERR, r->index,
			       r->err_fd);
	/* The kick starts the ring; with protocol features it also needs
	 * enabling. */
	if (!err)
		err = vring_fd(vu, VHOST_USER_SET_VRING_KICK, r->index,
			       r->kick_fd);
	if (!err && (vu->features & 1ULL << VHOST_USER_F_PROTOCOL_FEATURES))
		err = vring_state(vu, VHOST_USER_SET_VRING_ENABLE, r->index, 1);
	if (!err && r->index < VHOST_USER_MAX_QUEUES)
		vu->started[r->index] = true;
	return err;
}

int vhost_user_vring_stop(struct vhost_user *vu, unsigned int index,
			  uint16_t *base)
{
	uint8_t b[8];
	int err;

	if (index < VHOST_USER_MAX_QUEUES)
		vu->started[index] = false;
	put_le32(b, index);
	put_le32(b + 4, 0);
	err = send_msg(vu, VHOST_USER_GET_VRING_BASE, 0, b, sizeof(b), NULL,
		       0);
	if (!err)
		err = recv_reply(vu, VHOST_USER_GET_VRING_BASE, b, sizeof(b));
	if (!err && get_le32(b) != index)
		err = fail(vu, VHOST_USER_GET_VRING_BASE, 0,
			   "reply for another ring");
	if (!err)
		*base = (uint16_t)get_le32(b + 4);
	return err;
}

/* ---- a virtio_dev whose queues the back-end runs ------------------- */

/* Guest-physical ring areas to mvm's addresses (checked at queue enable). */
static int ring_hva(struct virtio_dev *vdev, uint64_t gpa, uint64_t len,
		    uint64_t *hva)
{
	void *p = gpa_to_hva(vdev->ctx->mem, gpa, len);

	if (!p)
		return -EFAULT;
	*hva = (uint64_t)(uintptr_t)p;
	return 0;
}

int vhost_user_dev_start(struct vhost_user *vu, struct virtio_dev *vdev)
{
	unsigned int q;
	int err;

	if (vu->dead)
		return -EPIPE;
	err = vhost_user_set_features(vu, virtio_dev_features(vdev));
	if (!err)
		err = vhost_user_set_mem_table(vu, vdev->ctx->mem);
	for (q = 0; !err && q < vdev->nr_queues && q < VHOST_USER_MAX_QUEUES;
	     q++) {
		struct virtio_queue *vq = &vdev->queues[q];
		struct vhost_user_vring r = { .index = q, .err_fd = -1 };
		bool enabled;

		pthread_mutex_lock(&vdev->lock);
		enabled = vq->enabled;
		r.num = vq->size;
		err = ring_hva(vdev, vq->desc, virtq_desc_bytes(vq->size),
			       &r.desc);
		if (!err)
			err = ring_hva(vdev, vq->driver,
				       virtq_avail_bytes(vq->size), &r.avail);
		if (!err)
			err = ring_hva(vdev, vq->device,
				       virtq_used_bytes(vq->size), &r.used);
		pthread_mutex_unlock(&vdev->lock);
		if (!enabled) {
			err = 0;
			continue;
		}
		if (err)
			break;
		r.kick_fd = vq->kick_fd;
		r.call_fd = virtio_dev_queue_call_fd(vdev, q);
		r.err_fd = vu->err_fd[q];
		err = vhost_user_vring_start(vu, &r);
	}
	if (err)
		pr_err("%s: cannot hand the queues to the back-end; %s stays silent",
		       vu->name, vdev->name);
	return err;
}

void vhost_user_dev_stop(struct vhost_user *vu, struct virtio_dev *vdev)
{
	unsigned int q;
	uint16_t base;

	for (q = 0; q < vdev->nr_queues && q < VHOST_USER_MAX_QUEUES; q++)
		if (vu->started[q] && !vu->dead)
			vhost_user_vring_stop(vu, q, &base);
	memset(vu->started, 0, sizeof(vu->started));
}
