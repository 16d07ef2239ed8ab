// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-user, front-end side (virtio/vhost_user.c), against a fake
 * back-end on a socketpair: the handshake with and without protocol
 * features, REPLY_ACK (acks awaited, a refusal caught), SET_MEM_TABLE's
 * regions and RAM file, a ring's messages in order with their eventfds,
 * GET_VRING_BASE, bad replies, a back-end that dies; then a virtio-pci
 * device with external queues on the test machine: DRIVER_OK hands the
 * queues over, the guest's notify reaches the back-end's kick fd, the
 * back-end's call fd raises the queue's MSI-X vector, reset stops the
 * rings.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "tap.h"
#include "lib/capture.h"
#include "lib/guest_virtq.h"
#include "core/util.h"
#include "virtio/vhost_user.h"
#include "virtio/virtio.h"
#include "virtio/virtio_fs.h"

#define MAX_LOG		64

#define tap_bail(...) do {						\
		tap_diag(__VA_ARGS__);					\
		tap_skip_all("setup failed");				\
	} while (0)
#define F_PROTO		(1ULL << VHOST_USER_F_PROTOCOL_FEATURES)
#define F_RING		(1ULL << VIRTIO_F_VERSION_1 | \
			 1ULL << VIRTIO_RING_F_EVENT_IDX | \
			 1ULL << VIRTIO_RING_F_INDIRECT_DESC)

struct rec {
	uint32_t req, flags, size;
	uint8_t payload[VHOST_USER_MAX_PAYLOAD];
	int fds[8];
	unsigned int nfds;
};

/* The fake back-end: one thread answering on its end of the pair. */
struct fake_be {
	int fd;
	pthread_t thread;
	uint64_t features, protocol_features;
	uint32_t refuse;		/* ack this request with status 1 */
	uint32_t die_at;		/* close the socket on this request */
	uint32_t mute;			/* never answer this request */
	uint32_t bad_reply_to;		/* answer it with another request code */
	uint16_t vring_base;		/* GET_VRING_BASE answers this */
	pthread_mutex_t lock;
	struct rec log[MAX_LOG];
	unsigned int n;
};

static int be_recv(struct fake_be *b, struct rec *r)
{
	union {
		char buf[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	uint8_t hdr[VHOST_USER_HDR_SIZE];
	struct iovec iov = { hdr, sizeof(hdr) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	n = recvmsg(b->fd, &mh, MSG_CMSG_CLOEXEC);
	if (n != (ssize_t)sizeof(hdr))
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_type != SCM_RIGHTS)
			continue;
		r->nfds = (unsigned int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		memcpy(r->fds, CMSG_DATA(c), r->nfds * sizeof(int));
	}
	r->req = get_le32(hdr);
	r->flags = get_le32(hdr + 4);
	r->size = get_le32(hdr + 8);
	if (r->size > sizeof(r->payload) ||
	    (r->size && read(b->fd, r->payload, r->size) != (ssize_t)r->size))
		return -1;
	return 0;
}

static void be_reply(struct fake_be *b, uint32_t req, const void *p,
		     uint32_t size)
{
	uint8_t buf[VHOST_USER_HDR_SIZE + 16];

	put_le32(buf, req);
	put_le32(buf + 4, VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY);
	put_le32(buf + 8, size);
	memcpy(buf + VHOST_USER_HDR_SIZE, p, size);
	if (write(b->fd, buf, VHOST_USER_HDR_SIZE + size) < 0)
		return;
}

static void *be_thread(void *arg)
{
	struct fake_be *b = arg;
	struct rec r;
	uint8_t p[8];

	while (!be_recv(b, &r)) {
		pthread_mutex_lock(&b->lock);
		if (b->n < MAX_LOG)
			b->log[b->n++] = r;
		pthread_mutex_unlock(&b->lock);
		if (r.req == b->die_at)
			break;
		if (r.req == b->mute)
			continue;
		switch (r.req) {
		case VHOST_USER_GET_FEATURES:
			put_le64(p, b->features);
			be_reply(b, b->bad_reply_to == r.req ? 99 : r.req, p, 8);
			continue;
		case VHOST_USER_GET_PROTOCOL_FEATURES:
			put_le64(p, b->protocol_features);
			be_reply(b, r.req, p, 8);
			continue;
		case VHOST_USER_GET_VRING_BASE:
			put_le32(p, get_le32(r.payload));
			put_le32(p + 4, b->vring_base);
			be_reply(b, r.req, p, 8);
			continue;
		}
		if (r.flags & VHOST_USER_FLAG_NEED_REPLY) {
			put_le64(p, r.req == b->refuse);
			be_reply(b, r.req, p, 8);
		}
	}
	close(b->fd);
	b->fd = -1;
	return NULL;
}

static void be_start(struct fake_be *b, struct vhost_user *vu, uint64_t f,
		     uint64_t pf)
{
	int sv[2];

	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
	b->features = f;
	b->protocol_features = pf;
	b->vring_base = 42;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		tap_bail("socketpair: %s", strerror(errno));
	b->fd = sv[1];
	vhost_user_init(vu, sv[0], "fake-be");
	pthread_create(&b->thread, NULL, be_thread, b);
}

/* Close the front-end's end, wait for the back-end, close received fds. */
static void be_stop(struct fake_be *b, struct vhost_user *vu)
{
	unsigned int i, j;

	vhost_user_close(vu);
	pthread_join(b->thread, NULL);
	for (i = 0; i < b->n; i++)
		for (j = 0; j < b->log[i].nfds; j++)
			close(b->log[i].fds[j]);
	pthread_mutex_destroy(&b->lock);
}

/* Wait (bounded) until the back-end has received n messages. */
static void be_sync(struct fake_be *b, unsigned int n)
{
	unsigned int i, got;

	for (i = 0; i < 1000; i++) {
		pthread_mutex_lock(&b->lock);
		got = b->n;
		pthread_mutex_unlock(&b->lock);
		if (got >= n)
			return;
		usleep(1000);
	}
}

/* The requests received from index `from` on, as "3,15,16". */
static const char *seq(struct fake_be *b, unsigned int from)
{
	static char s[512];
	size_t o = 0;
	unsigned int i;

	s[0] = '\0';
	pthread_mutex_lock(&b->lock);
	for (i = from; i < b->n && o < sizeof(s) - 8; i++)
		o += (size_t)snprintf(s + o, sizeof(s) - o, "%s%u",
				      i > from ? "," : "", b->log[i].req);
	pthread_mutex_unlock(&b->lock);
	return s;
}

static struct rec *find(struct fake_be *b, uint32_t req, unsigned int nth)
{
	unsigned int i;

	for (i = 0; i < b->n; i++)
		if (b->log[i].req == req && !nth--)
			return &b->log[i];
	return NULL;
}

/* Do fds a (ours) and b (received) name the same eventfd? */
static bool same_eventfd(int ours, int theirs)
{
	uint64_t v = 7, got = 0;

	if (ours < 0 || theirs < 0)
		return false;
	/* Drain what is pending (the kicks at DRIVER_OK, say). */
	while (read(ours, &got, 8) == 8)
		;
	got = 0;
	if (write(theirs, &v, 8) != 8)
		return false;
	return read(ours, &got, 8) == 8 && got == 7;
}

static void test_handshake(void)
{
	struct vhost_user vu;
	struct fake_be b;
	struct rec *r;

	be_start(&b, &vu, F_RING | F_PROTO,
		 1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK | 1ULL << 0 | 1ULL << 5);
	is_int(vhost_user_handshake(&vu), 0, "handshake with protocol features");
	is_str(seq(&b, 0), "1,15,16,3",
	       "GET_FEATURES, GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, SET_OWNER");
	r = find(&b, VHOST_USER_SET_PROTOCOL_FEATURES, 0);
	ok(r && r->size == 8 &&
	   get_le64(r->payload) == 1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK,
	   "only REPLY_ACK is taken of what the back-end offers");
	ok(r && !(r->flags & VHOST_USER_FLAG_NEED_REPLY),
	   "SET_PROTOCOL_FEATURES itself asks no ack (not yet negotiated)");
	r = find(&b, VHOST_USER_SET_OWNER, 0);
	ok(r && (r->flags & VHOST_USER_FLAG_NEED_REPLY) &&
	   (r->flags & 3) == VHOST_USER_VERSION,
	   "SET_OWNER: version 1, NEED_REPLY set (REPLY_ACK in use)");
	ok(vu.reply_ack && vu.features == (F_RING | F_PROTO),
	   "features and REPLY_ACK recorded");
	is_int(vhost_user_set_features(&vu, F_RING), 0, "SET_FEATURES acked");
	r = find(&b, VHOST_USER_SET_FEATURES, 0);
	ok(r && get_le64(r->payload) == (F_RING | F_PROTO),
	   "SET_FEATURES: the driver's features plus bit 30");
	be_stop(&b, &vu);

	be_start(&b, &vu, F_RING, 0);
	is_int(vhost_user_handshake(&vu), 0,
	       "handshake without protocol features");
	be_sync(&b, 2);	/* no acks: SET_OWNER may still be on its way */
	is_str(seq(&b, 0), "1,3", "GET_FEATURES, SET_OWNER only");
	r = find(&b, VHOST_USER_SET_OWNER, 0);
	ok(r && !(r->flags & VHOST_USER_FLAG_NEED_REPLY) && !vu.reply_ack,
	   "no NEED_REPLY without REPLY_ACK");
	is_int(vhost_user_set_features(&vu, F_RING), 0, "SET_FEATURES");
	be_sync(&b, 3);
	r = find(&b, VHOST_USER_SET_FEATURES, 0);
	ok(r && get_le64(r->payload) == F_RING, "no bit 30 when not offered");
	be_stop(&b, &vu);
}

static void test_mem_table(void)
{
	struct guest_mem mem = { .fd = -1 }, big = { .fd = -1 };
	struct vhost_user vu;
	struct fake_be b;
	struct stat s1, s2;
	struct rec *r;
	const char *msg;

	be_start(&b, &vu, F_RING | F_PROTO,
		 1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK);
	vhost_user_handshake(&vu);
	if (guest_mem_init(&mem, 8 * MiB))
		tap_bail("guest_mem_init");
	msg = CAPTURED(is_int(vhost_user_set_mem_table(&vu, &mem), -EINVAL,
			      "private RAM (no file) refused"));
	ok(one_error_line(msg, "not shareable"), "one line says why");
	guest_mem_destroy(&mem);
	ok(!guest_mem_init_shared(&mem, 8 * MiB) && mem.fd >= 0,
	   "shared RAM: a file");
	is_int(vhost_user_set_mem_table(&vu, &mem), 0, "SET_MEM_TABLE acked");
	r = find(&b, VHOST_USER_SET_MEM_TABLE, 0);
	ok(r && r->nfds == 1 && r->size == 8 + 32 &&
	   get_le32(r->payload) == 1, "one region, one fd");
	ok(r && get_le64(r->payload + 8) == 0 &&
	   get_le64(r->payload + 16) == 8 * MiB &&
	   get_le64(r->payload + 24) == (uint64_t)(uintptr_t)mem.host &&
	   get_le64(r->payload + 32) == 0,
	   "region: gpa 0, 8 MiB, mvm's address, offset 0");
	ok(r && r->nfds && !fstat(r->fds[0], &s1) && !fstat(mem.fd, &s2) &&
	   s1.st_ino == s2.st_ino && s1.st_dev == s2.st_dev,
	   "the fd passed is guest RAM's file");
	/* Above the 32-bit hole: two regions of the same file. */
	if (!guest_mem_init_shared(&big, 4 * GiB)) {
		is_int(vhost_user_set_mem_table(&vu, &big), 0,
		       "4 GiB of RAM: SET_MEM_TABLE");
		r = find(&b, VHOST_USER_SET_MEM_TABLE, 1);
		ok(r && r->nfds == 2 && get_le32(r->payload) == 2 &&
		   get_le64(r->payload + 16) == big.low_size &&
		   get_le64(r->payload + 40) == guest_mem_top(&big) - big.high_size &&
		   get_le64(r->payload + 48) == big.high_size &&
		   get_le64(r->payload + 56) == (uint64_t)(uintptr_t)big.high_host &&
		   get_le64(r->payload + 64) == big.low_size,
		   "two regions: low RAM at 0, high RAM above the hole at file offset low_size");
		guest_mem_destroy(&big);
	} else {
		tap_skip(2, "cannot map 4 GiB of shared RAM");
	}
	guest_mem_destroy(&mem);
	be_stop(&b, &vu);
}

static void test_vring(void)
{
	struct vhost_user_vring v = {
		.index = 1, .num = 256, .base = 5,
		.desc = 0x1000, .avail = 0x2000, .used = 0x3000,
	};
	struct vhost_user vu;
	struct fake_be b;
	struct rec *r;
	const char *msg;
	uint16_t base = 0;
	int kick = eventfd(0, EFD_NONBLOCK), call = eventfd(0, EFD_NONBLOCK);

	be_start(&b, &vu, F_RING | F_PROTO,
		 1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK);
	vhost_user_handshake(&vu);
	v.kick_fd = kick;
	v.call_fd = call;
	v.err_fd = -1;
	is_int(vhost_user_vring_start(&vu, &v), 0, "ring 1 started");
	is_str(seq(&b, 4), "8,10,9,13,14,12,18",
	       "NUM, BASE, ADDR, CALL, ERR, KICK, ENABLE in that order");
	r = find(&b, VHOST_USER_SET_VRING_NUM, 0);
	ok(r && get_le32(r->payload) == 1 && get_le32(r->payload + 4) == 256,
	   "SET_VRING_NUM 1, 256");
	r = find(&b, VHOST_USER_SET_VRING_BASE, 0);
	ok(r && get_le32(r->payload + 4) == 5, "SET_VRING_BASE 5");
	r = find(&b, VHOST_USER_SET_VRING_ADDR, 0);
	ok(r && r->size == 40 && get_le32(r->payload) == 1 &&
	   get_le64(r->payload + 8) == 0x1000 &&
	   get_le64(r->payload + 16) == 0x3000 &&
	   get_le64(r->payload + 24) == 0x2000,
	   "SET_VRING_ADDR: index, desc, used, avail (the spec's order)");
	r = find(&b, VHOST_USER_SET_VRING_KICK, 0);
	ok(r && r->nfds == 1 && get_le64(r->payload) == 1 &&
	   same_eventfd(kick, r->fds[0]), "SET_VRING_KICK passes the kick eventfd");
	r = find(&b, VHOST_USER_SET_VRING_CALL, 0);
	ok(r && r->nfds == 1 && same_eventfd(call, r->fds[0]),
	   "SET_VRING_CALL passes the call eventfd");
	r = find(&b, VHOST_USER_SET_VRING_ERR, 0);
	ok(r && r->nfds == 0 &&
	   get_le64(r->payload) == (1 | VHOST_USER_VRING_NOFD),
	   "SET_VRING_ERR without an fd: the no-fd flag, nothing passed");
	r = find(&b, VHOST_USER_SET_VRING_ENABLE, 0);
	ok(r && get_le32(r->payload + 4) == 1, "SET_VRING_ENABLE 1 (protocol features)");
	ok(vu.started[1], "ring 1 marked started");
	is_int(vhost_user_vring_stop(&vu, 1, &base), 0, "GET_VRING_BASE");
	is_int(base, 42, "the back-end's index comes back");
	r = find(&b, VHOST_USER_GET_VRING_BASE, 0);
	ok(r && !(r->flags & VHOST_USER_FLAG_NEED_REPLY) && !vu.started[1],
	   "GET_VRING_BASE has its own reply (no NEED_REPLY); ring stopped");

	/* A refused message. */
	b.refuse = VHOST_USER_SET_VRING_ADDR;
	msg = CAPTURED(is_int(vhost_user_vring_start(&vu, &v), -EPROTO,
			      "a non-zero ack fails the call"));
	ok(one_error_line(msg, "SET_VRING_ADDR refused by the back-end"),
	   "one line names the refused message");
	ok(!find(&b, VHOST_USER_SET_VRING_KICK, 1),
	   "nothing sent after the refusal");
	be_stop(&b, &vu);
	close(kick);
	close(call);
}

static void test_failures(void)
{
	struct vhost_user vu;
	struct fake_be b;
	const char *msg;
	unsigned int n;

	be_start(&b, &vu, F_RING, 0);
	b.bad_reply_to = VHOST_USER_GET_FEATURES;
	msg = CAPTURED(ok(vhost_user_handshake(&vu) < 0,
			  "a reply to another request: handshake fails"));
	ok(one_error_line(msg, "GET_FEATURES: bad reply"), "one line: bad reply");
	ok(vu.dead, "connection marked dead");
	be_stop(&b, &vu);

	/* A back-end that stops answering (SO_RCVTIMEO, as
	 * vhost_user_connect() sets it, here 0.2 s). */
	be_start(&b, &vu, F_RING, 0);
	b.mute = VHOST_USER_GET_FEATURES;
	setsockopt(vu.fd, SOL_SOCKET, SO_RCVTIMEO,
		   &(struct timeval){ .tv_usec = 200000 }, sizeof(struct timeval));
	msg = CAPTURED(is_int(vhost_user_handshake(&vu), -ETIMEDOUT,
			      "a back-end that does not answer: the request times out"));
	ok(one_error_line(msg, "GET_FEATURES: no reply: Connection timed out"),
	   "one line: which message got no reply, and why");
	be_stop(&b, &vu);

	be_start(&b, &vu, F_RING | F_PROTO,
		 1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK);
	b.die_at = VHOST_USER_SET_MEM_TABLE;
	vhost_user_handshake(&vu);
	{
		struct guest_mem mem = { .fd = -1 };

		if (guest_mem_init_shared(&mem, 4 * MiB))
			tap_bail("guest_mem_init_shared");
		msg = CAPTURED(is_int(vhost_user_set_mem_table(&vu, &mem),
				      -ECONNRESET,
				      "back-end dies on SET_MEM_TABLE: the wait for its ack ends"));
		ok(one_error_line(msg, "SET_MEM_TABLE: no reply"),
		   "one line: which message got no reply");
		guest_mem_destroy(&mem);
	}
	n = b.n;
	msg = CAPTURED(is_int(vhost_user_set_features(&vu, F_RING), -EPIPE,
			      "later calls fail at once"));
	is_str(msg, "", "silently: the death was reported once");
	pthread_join(b.thread, NULL);
	is_int(b.n, n, "nothing more was sent");
	vhost_user_close(&vu);
	pthread_mutex_destroy(&b.lock);
	{
		unsigned int i, j;

		for (i = 0; i < b.n; i++)
			for (j = 0; j < b.log[i].nfds; j++)
				close(b.log[i].fds[j]);
	}
}

/* ---- a virtio-pci device with external queues ---- */

static struct vhost_user dev_vu;

static void ext_driver_ok(struct virtio_dev *vdev)
{
	vhost_user_dev_start(&dev_vu, vdev);
}

static void ext_reset(struct virtio_dev *vdev)
{
	vhost_user_dev_stop(&dev_vu, vdev);
}

static const struct virtio_dev_ops ext_ops = {
	.name = "vhost-test",
	.device_id = VIRTIO_ID_FS,
	.pci_class = 0x018000,
	.nr_queues = 2,
	.queue_size = 256,
	.driver_ok = ext_driver_ok,
	.reset = ext_reset,
	.external_queues = true,
};

static void test_device(void)
{
	static struct fake_kvm kvm;
	struct test_machine m;
	struct virtio_dev vdev;
	struct vtest_dev d;
	struct fake_be b;
	struct gvq g0, g1;
	struct rec *r0, *r1, *c1;
	uint64_t v;

	fake_kvm_init(&kvm);
	if (test_machine_init(&m, &kvm, &(struct test_machine_opts){
				.ioeventfd = true, .loop = true })) {
		tap_skip(1, "cannot build the test machine");
		return;
	}
	/* Guest RAM as the board makes it with a vhost-user device. */
	guest_mem_destroy(m.mem);
	if (guest_mem_init_shared(m.mem, 64 * MiB))
		tap_bail("guest_mem_init_shared");
	be_start(&b, &dev_vu, F_RING | F_PROTO,
		 1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK);
	vhost_user_handshake(&dev_vu);
	if (virtio_dev_init(&vdev, &ext_ops, m.ctx, NULL))
		tap_bail("virtio_dev_init");
	vdev.host_features = F_RING;
	is_int(vtest_find(&d, &m, VIRTIO_ID_FS), 0, "device found: 1af4:105a");
	ok(vtest_negotiate(&d, F_RING), "features negotiated");
	vtest_msix_enable(&d, 3, 0x40);
	gvq_init(&g0, m.mem, 0x400000, 0x100000, 64, true);
	gvq_init(&g1, m.mem, 0x500000, 0x100000, 64, true);
	vtest_setup_queue(&d, 0, &g0, 1);
	vtest_setup_queue(&d, 1, &g1, 2);
	is_int(b.n, 4, "nothing sent to the back-end before DRIVER_OK");
	vtest_driver_ok(&d);
	is_str(seq(&b, 4), "2,5,8,10,9,13,14,12,18,8,10,9,13,14,12,18",
	       "DRIVER_OK: SET_FEATURES, SET_MEM_TABLE, then both rings");
	r0 = find(&b, VHOST_USER_SET_VRING_KICK, 0);
	r1 = find(&b, VHOST_USER_SET_VRING_KICK, 1);
	c1 = find(&b, VHOST_USER_SET_VRING_CALL, 1);
	ok(r0 && r1 && same_eventfd(vdev.queues[0].kick_fd, r0->fds[0]) &&
	   same_eventfd(vdev.queues[1].kick_fd, r1->fds[0]),
	   "the kick fds are the queues' notify eventfds");
	ok(m.nr_ioev == 2, "both assigned as KVM ioeventfds (%u)", m.nr_ioev);
	/* The guest notifies queue 1: the back-end's kick fd fires, and mvm's
	 * I/O thread does not eat it. */
	vtest_notify(&d, 1);
	usleep(50000);
	v = 0;
	ok(r1 && read(r1->fds[0], &v, 8) == 8 && v >= 1,
	   "guest notify on queue 1 reaches the back-end's kick fd");
	ok(c1 && same_eventfd(vdev.vec_efd[2], c1->fds[0]),
	   "queue 1's call fd is its MSI-X vector's eventfd (2)");
	/* The back-end signals a used buffer: vector 2 is injected. */
	v = 1;
	ok(c1 && write(c1->fds[0], &v, 8) == 8 &&
	   vtest_wait_msi(&d, &vdev, 0x42, 1),
	   "back-end's call raises MSI-X vector 2 (data 0x42)");
	r0 = find(&b, VHOST_USER_SET_VRING_ADDR, 0);
	ok(r0 && get_le64(r0->payload + 8) ==
	   (uint64_t)(uintptr_t)gpa_to_hva(m.mem, 0x400000, 1),
	   "ring addresses are mvm's mapping of the guest-physical ones");
	/* Reset stops both rings. */
	vtest_common_write(&d, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	is_str(seq(&b, 20), "11,11", "reset: GET_VRING_BASE for both rings");
	virtio_dev_destroy(&vdev);
	be_stop(&b, &dev_vu);
	test_machine_destroy(&m);
	fake_kvm_destroy(&kvm);
}

/*
 * virtio-fs (virtio/fs.c) with a child process standing in for
 * virtiofsd and the fake back-end for its socket: the tag in the config,
 * its stderr prefixed, and when it dies: one line with the signal, new
 * requests answered with a FUSE error reply (-EIO, their unique id).
 */
static void test_fs_death(void)
{
	static struct fake_kvm kvm;
	struct virtio_fs_spec spec = { .dir = "/srv/x", .tag = "xtag" };
	struct test_machine m;
	struct virtiofsd d;
	struct virtio_fs *fs;
	struct vtest_dev vt;
	struct vhost_user vu;
	struct fake_be b;
	struct gvq g0, g1;
	uint64_t in, out;
	uint8_t *p, *o;
	uint32_t id = ~0U, len = ~0U;
	const char *msg;
	char tag[8] = { 0 };
	int errp[2], i;
	pid_t child;

	fake_kvm_init(&kvm);
	if (test_machine_init(&m, &kvm, &(struct test_machine_opts){
				.ioeventfd = true, .loop = true })) {
		tap_skip(7, "cannot build the test machine");
		return;
	}
	guest_mem_destroy(m.mem);
	if (guest_mem_init_shared(m.mem, 64 * MiB) || pipe2(errp, O_CLOEXEC))
		tap_bail("setup");
	child = fork();
	if (child == 0) {
		if (write(errp[1], "hello from the back-end\n", 24) < 0)
			_exit(1);
		pause();
		_exit(0);
	}
	close(errp[1]);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "virtiofsd[xtag]");
	d.pid = child;
	d.err_fd = errp[0];
	d.pidfd = (int)syscall(SYS_pidfd_open, child, 0);
	be_start(&b, &vu, F_RING | F_PROTO,
		 1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK);
	vhost_user_handshake(&vu);
	capture_start();
	if (virtio_fs_create(m.ctx, &spec, &d, &vu, &fs))
		tap_bail("virtio_fs_create");
	usleep(100000);		/* the I/O thread relays the line */
	msg = capture_end();
	ok(strstr(msg, "virtiofsd[xtag]: hello from the back-end\n") != NULL,
	   "its stderr is copied, prefixed with virtiofsd[TAG]");
	vtest_find(&vt, &m, VIRTIO_ID_FS);
	for (i = 0; i < 4; i++)
		tag[i] = (char)vtest_devcfg_read(&vt, (unsigned int)i, 1);
	ok(!strcmp(tag, "xtag") && vtest_devcfg_read(&vt, 36, 4) == 1,
	   "config: tag 'xtag', one request queue");
	ok(vtest_negotiate(&vt, F_RING), "features negotiated");
	vtest_msix_enable(&vt, 3, 0x40);
	gvq_init(&g0, m.mem, 0x400000, 0x100000, 64, true);
	gvq_init(&g1, m.mem, 0x500000, 0x100000, 64, true);
	vtest_setup_queue(&vt, 0, &g0, 1);
	vtest_setup_queue(&vt, 1, &g1, 2);
	vtest_driver_ok(&vt);
	ok(find(&b, VHOST_USER_SET_VRING_KICK, 1) != NULL,
	   "DRIVER_OK: both rings handed to the back-end");

	/* virtiofsd's last word on notifications: "do not kick me" (an
	 * avail_event far ahead, as when it dies with notifications off). */
	put_le16(gvq_ptr(&g1, g1.used + 4 + 8ULL * g1.size, 2), 0x4000);
	put_le16(gvq_ptr(&g0, g0.used + 4 + 8ULL * g0.size, 2), 0x4000);

	/* It dies. */
	capture_start();
	kill(child, SIGKILL);
	/* Reaped by the device's I/O thread: then it says so. */
	for (i = 0; i < 500; i++) {
		siginfo_t si;

		if (waitid(P_PID, (id_t)child, &si, WEXITED | WNOHANG | WNOWAIT) < 0 &&
		    errno == ECHILD)
			break;
		usleep(10000);
	}
	usleep(100000);
	msg = capture_end();
	if (!ok(one_error_line(msg, "virtiofsd[xtag] (pid") &&
		strstr(msg, "died: killed by signal 9 (Killed); the guest's new requests on share 'xtag' fail with EIO"),
		"one line: what died, how, what the guest gets"))
		tap_diag("%s", msg);
	/* A FUSE request after the death: FUSE_GETATTR, unique 0x1234. */
	in = gvq_alloc(&g1, 40);
	out = gvq_alloc(&g1, 120);
	p = gvq_ptr(&g1, in, 40);
	o = gvq_ptr(&g1, out, 120);
	memset(p, 0, 40);
	put_le32(p, 40);
	put_le32(p + 4, 3);
	put_le64(p + 8, 0x1234);
	memset(o, 0xaa, 120);
	gvq_add(&g1, (struct gvq_buf[]){ { in, 40, false }, { out, 120, true } }, 2);
	ok(gvq_publish(&g1),
	   "after the takeover the driver is asked to kick again (avail_event)");
	vtest_notify(&vt, 1);
	if (!ok(vtest_wait_used(&g1) && gvq_get_used(&g1, &id, &len) &&
		len == 16 && get_le32(o) == 16 &&
		(int32_t)get_le32(o + 4) == -EIO && get_le64(o + 8) == 0x1234 &&
		o[16] == 0xaa,
		"a new request is answered: fuse_out_header len 16, error -EIO, its unique"))
		tap_diag("used len %u, out %u %d %#llx", len, get_le32(o),
			 (int32_t)get_le32(o + 4), (unsigned long long)get_le64(o + 8));
	ok(vtest_wait_msi(&vt, virtio_fs_dev(fs), 0x42, 1),
	   "...with queue 1's MSI-X vector");
	virtio_fs_destroy(fs);
	be_stop(&b, &vu);
	test_machine_destroy(&m);
	fake_kvm_destroy(&kvm);
}

int main(void)
{
	test_handshake();
	test_mem_table();
	test_vring();
	test_failures();
	test_device();
	test_fs_death();
	return tap_done();
}
