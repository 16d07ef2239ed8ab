// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net (virtio/net.c, virtio/tap.c) through the virtio-pci
 * transport, driven by the test driver of tests/lib/guest_virtq:
 *
 *  - the -n option parser (and mvm's exit status 2 for a bad MAC);
 *  - on a SOCK_SEQPACKET "TAP" (frames prefixed by a 12-byte
 *    struct virtio_net_hdr_v1): transmit, receive, headers cleaned for
 *    what was negotiated, frames waiting for receive buffers, too-large
 *    frames dropped and counted, VIRTIO_NET_F_MRG_RXBUF across several
 *    small buffers (and waiting for more), malformed chains setting
 *    DEVICE_NEEDS_RESET, recovery by reset;
 *  - with root and /dev/net/tun, a real TAP in a new network namespace:
 *    a guest frame comes out of the TAP, a host frame goes in.
 */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>

#include "tap.h"
#include "lib/guest_virtq.h"
#include "virtio/tap.h"
#include "core/util.h"
#include "virtio/virtio.h"
#include "virtio/virtio_net.h"

#define F(b)		(1ULL << (b))
#define F_BASE		(F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_EVENT_IDX) | \
			 F(VIRTIO_RING_F_INDIRECT_DESC) | \
			 F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS))
#define RXQ		VIRTIO_NET_RXQ
#define TXQ		VIRTIO_NET_TXQ
#define HDR		VIRTIO_NET_HDR_LEN
#define ETHERTYPE_TEST	0x88b5		/* IEEE local experimental */
#define NR_RXBUF	16

static struct fake_kvm kvm;
static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

struct t {
	struct test_machine m;
	struct vtest_dev d;
	struct virtio_net *net;
	struct gvq rx, tx;
	uint64_t rxbuf[NR_RXBUF];	/* receive buffers, posted in order */
	unsigned int rx_next;		/* next rxbuf to post */
	unsigned int rx_done;		/* next rxbuf to come back */
	uint64_t txbuf;
	int peer;			/* the host side of the backend */
};

/* ---- helpers ------------------------------------------------------- */

static bool parse(const char *arg, struct virtio_net_spec *s)
{
	return virtio_net_parse(arg, s) == 0;
}

/* Reset, negotiate `f`, lay out both queues, DRIVER_OK. */
static bool start(struct t *t, uint64_t f)
{
	unsigned int i;

	if (!vtest_negotiate(&t->d, f))
		return false;
	gvq_init(&t->rx, t->m.mem, 0x400000, 0x400000, 64, true);
	gvq_init(&t->tx, t->m.mem, 0x800000, 0x400000, 64, true);
	for (i = 0; i < NR_RXBUF; i++)
		t->rxbuf[i] = gvq_alloc(&t->rx, 2048);
	t->txbuf = gvq_alloc(&t->tx, 70000);
	t->rx_next = t->rx_done = 0;
	vtest_setup_queue(&t->d, RXQ, &t->rx, VIRTIO_MSI_NO_VECTOR);
	vtest_setup_queue(&t->d, TXQ, &t->tx, VIRTIO_MSI_NO_VECTOR);
	vtest_driver_ok(&t->d);
	return true;
}

/* Post n receive buffers of len bytes; returns whether a kick was due. */
static bool post_rx(struct t *t, unsigned int n, uint32_t len)
{
	bool kick;

	while (n--) {
		gvq_add(&t->rx, (struct gvq_buf[]){
			{ t->rxbuf[t->rx_next % NR_RXBUF], len, true } }, 1);
		t->rx_next++;
	}
	kick = gvq_publish(&t->rx);
	if (kick)
		vtest_notify(&t->d, RXQ);
	return kick;
}

/* The next used receive buffer: its guest pointer and length. */
static uint8_t *get_rx(struct t *t, uint32_t *len)
{
	uint32_t id;
	uint64_t gpa;

	if (!vtest_wait_used(&t->rx) || !gvq_get_used(&t->rx, &id, len))
		return NULL;
	gpa = t->rxbuf[t->rx_done++ % NR_RXBUF];
	return gvq_ptr(&t->rx, gpa, 2048);
}

static size_t make_frame(uint8_t *p, uint8_t flags, size_t payload,
			 uint8_t seed)
{
	size_t i;

	memset(p, 0, HDR);
	p[0] = flags;
	memcpy(p + HDR, guest_mac, 6);
	memcpy(p + HDR + 6, (uint8_t[]){ 0x02, 0, 0, 0, 0, 1 }, 6);
	p[HDR + 12] = ETHERTYPE_TEST >> 8;
	p[HDR + 13] = ETHERTYPE_TEST & 0xff;
	for (i = 0; i < payload; i++)
		p[HDR + 14 + i] = (uint8_t)(seed + i);
	return HDR + 14 + payload;
}

/* Transmit [hdr | frame] as bufs split at `cut`; wait until used. */
static bool transmit(struct t *t, const uint8_t *pkt, size_t len, size_t cut,
		     bool indirect)
{
	uint8_t *p = gvq_ptr(&t->tx, t->txbuf, len);
	struct gvq_buf b[2] = {
		{ t->txbuf, (uint32_t)cut, false },
		{ t->txbuf + cut, (uint32_t)(len - cut), false },
	};
	uint32_t id, l;

	memcpy(p, pkt, len);
	if (indirect)
		gvq_add_indirect(&t->tx, b, 2);
	else
		gvq_add(&t->tx, b, 2);
	if (gvq_publish(&t->tx))
		vtest_notify(&t->d, TXQ);
	return vtest_wait_used(&t->tx) && gvq_get_used(&t->tx, &id, &l);
}

static ssize_t peer_recv(int fd, uint8_t *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) <= 0)
		return -1;
	return recv(fd, buf, len, MSG_DONTWAIT);
}

static bool wait_needs_reset(struct t *t)
{
	int i;

	for (i = 0; i < 2000; i++) {
		if (vtest_status(&t->d) & VIRTIO_STATUS_NEEDS_RESET)
			return true;
		usleep(1000);
	}
	return false;
}

static struct virtio_net_stats stats(struct t *t)
{
	struct virtio_net_stats st;

	virtio_net_get_stats(t->net, &st);
	return st;
}

/* ---- the option parser --------------------------------------------- */

static void test_parse(void)
{
	struct virtio_net_spec s;
	struct tap tap;
	char cmd[512], errfile[] = "/tmp/mvm-net-XXXXXX";
	const char *mvm = getenv("MVM");
	int fd;

	ok(parse("tap=tap0", &s) && !strcmp(s.tap, "tap0") && !s.has_mac,
	   "-n tap=tap0: no MAC given");
	ok(parse("tap=tap1,mac=52:54:00:AB:cd:0f", &s) &&
	   !strcmp(s.tap, "tap1") && s.has_mac &&
	   !memcmp(s.mac, (uint8_t[]){ 0x52, 0x54, 0, 0xab, 0xcd, 0x0f }, 6),
	   "-n tap=tap1,mac=52:54:00:AB:cd:0f");
	ok(parse("mac=02:00:00:00:00:01,tap=t", &s) && s.has_mac,
	   "keys in any order");
	ok(!parse("tap=tap0,mac=52:54:00:12:34", &s), "short MAC refused");
	ok(!parse("tap=tap0,mac=52:54:00:12:34:56:78", &s), "long MAC refused");
	ok(!parse("tap=tap0,mac=52:54:00:12:34:zz", &s), "non-hex MAC refused");
	ok(!parse("tap=tap0,mac=52-54-00-12-34-56", &s), "MAC with '-' refused");
	ok(!parse("tap=tap0,mac=01:00:5e:00:00:01", &s),
	   "multicast MAC refused");
	ok(!parse("tap=tap0,mac=00:00:00:00:00:00", &s), "zero MAC refused");
	ok(!parse("tap=tap0,model=e1000", &s), "unknown key refused");
	ok(!parse("user", &s), "'-n user' refused: no user-mode networking");
	ok(!parse("mac=52:54:00:12:34:56", &s), "no tap= refused");
	ok(!parse("tap=", &s), "empty tap name refused");
	ok(!parse("tap=abcdefghijklmnop", &s), "16-character tap name refused");
	ok(parse("tap=abcdefghijklmno", &s), "15-character tap name taken");
	is_int(tap_open(&tap, "abcdefghijklmnop"), -EINVAL,
	       "tap_open refuses a 16-character name");
	is_int(tap.fd, -1, "... and holds no fd");

	if (!mvm || access(mvm, X_OK)) {
		tap_skip(3, "MVM (the mvm binary) not set");
		return;
	}
	fd = mkstemp(errfile);
	if (fd < 0) {
		tap_skip(3, "mkstemp failed");
		return;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "'%s' run -n tap=tap0,mac=52:54:00:zz:00:01 2>%s >/dev/null",
		 mvm, errfile);
	is_int(WEXITSTATUS(system(cmd)), 2, "mvm run with a bad MAC exits 2");
	snprintf(cmd, sizeof(cmd),
		 "test $(wc -l <%s) = 1 && grep -q \"^mvm: --network 'tap=tap0,mac=52:54:00:zz:00:01': bad MAC address\" %s",
		 errfile, errfile);
	is_int(WEXITSTATUS(system(cmd)), 0, "... with one line naming it");
	snprintf(cmd, sizeof(cmd), "'%s' run -n tap=x,speed=10 2>%s", mvm,
		 errfile);
	is_int(WEXITSTATUS(system(cmd)), 2, "mvm run with an unknown key exits 2");
	unlink(errfile);
}

/* ---- a socketpair backend ------------------------------------------ */

static void test_config(struct t *t)
{
	uint64_t f = vtest_device_features(&t->d);
	unsigned int i;
	bool mac_ok = true;

	is_int(vtest_cfg_read(&t->d, 2, 2), 0x1041, "PCI device 0x1041 (net)");
	is_int(vtest_cfg_read(&t->d, 9, 3), 0x020000, "class: Ethernet");
	is_int(vtest_common_read(&t->d, VIRTIO_PCI_COMMON_NUMQ, 2), 2,
	       "two queues: receiveq1, transmitq1 (5.1.2)");
	ok((f & F(VIRTIO_NET_F_MAC)) && (f & F(VIRTIO_NET_F_STATUS)) &&
	   (f & F(VIRTIO_NET_F_MRG_RXBUF)), "offers MAC, STATUS, MRG_RXBUF");
	ok((f & F(VIRTIO_NET_F_CSUM)) && (f & F(VIRTIO_NET_F_GUEST_CSUM)) &&
	   (f & F(VIRTIO_NET_F_HOST_TSO4)) && (f & F(VIRTIO_NET_F_GUEST_TSO6)),
	   "offers the offloads the backend takes");
	ok(!(f & F(VIRTIO_NET_F_CTRL_VQ)) && !(f & F(VIRTIO_NET_F_MQ)) &&
	   !(f & F(VIRTIO_NET_F_GUEST_UFO)),
	   "no control queue, multiqueue or UFO");
	for (i = 0; i < 6; i++)
		mac_ok &= vtest_devcfg_read(&t->d, i, 1) == guest_mac[i];
	ok(mac_ok, "config: mac (5.1.4)");
	is_int(vtest_devcfg_read(&t->d, 6, 2), VIRTIO_NET_S_LINK_UP,
	       "config: status link up");
	ok(!vtest_negotiate(&t->d, F_BASE | F(VIRTIO_NET_F_GUEST_TSO4)),
	   "GUEST_TSO4 without GUEST_CSUM refused (5.1.3.1)");
	ok(!vtest_negotiate(&t->d, F_BASE | F(VIRTIO_NET_F_HOST_TSO6)),
	   "HOST_TSO6 without CSUM refused");
}

static void test_tx(struct t *t)
{
	uint8_t pkt[2000], got[2000];
	size_t len = make_frame(pkt, 0, 100, 1);

	ok(transmit(t, pkt, len, HDR, false), "tx: [header][frame] used");
	ok(peer_recv(t->peer, got, sizeof(got), 1000) == (ssize_t)len &&
	   !memcmp(got, pkt, len), "tx: the backend got header + frame whole");
	len = make_frame(pkt, 0, 1400, 7);
	ok(transmit(t, pkt, len, 5, true), "tx: indirect, header split");
	ok(peer_recv(t->peer, got, sizeof(got), 1000) == (ssize_t)len &&
	   !memcmp(got, pkt, len), "tx: one frame out of an odd split");
	is_int(stats(t).tx_packets, 2, "tx_packets 2");
}

/* CPU time of the whole process (all threads), in ms. */
static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static void test_rx(struct t *t)
{
	double cpu;
	uint8_t pkt[2100];
	uint32_t len;
	uint8_t *p;
	size_t n;
	int i;

	post_rx(t, 1, 1526);
	n = make_frame(pkt, 0, 100, 3);
	send(t->peer, pkt, n, 0);
	p = get_rx(t, &len);
	ok(p && len == n, "rx: one frame in one buffer, %u bytes", len);
	ok(p && !memcmp(p + HDR, pkt + HDR, n - HDR), "rx: frame intact");
	ok(p && get_le16(p + 10) == 1, "rx: num_buffers 1 (5.1.6.4)");

	/* Header flags the guest did not negotiate. */
	post_rx(t, 1, 1526);
	n = make_frame(pkt, VIRTIO_NET_HDR_F_DATA_VALID, 60, 4);
	send(t->peer, pkt, n, 0);
	p = get_rx(t, &len);
	ok(p && len == n && p[0] == 0,
	   "rx: DATA_VALID cleared without GUEST_CSUM (5.1.6.4.1)");
	post_rx(t, 1, 1526);
	n = make_frame(pkt, VIRTIO_NET_HDR_F_NEEDS_CSUM, 60, 5);
	send(t->peer, pkt, n, 0);
	n = make_frame(pkt, 0, 61, 6);
	send(t->peer, pkt, n, 0);
	p = get_rx(t, &len);
	ok(p && len == n && p[HDR + 14] == 6,
	   "rx: NEEDS_CSUM without GUEST_CSUM dropped, next frame delivered");
	is_int(stats(t).rx_dropped, 1, "rx_dropped 1");

	/* Without MRG_RXBUF a frame must fit one buffer (5.1.6.3.1). */
	post_rx(t, 1, 128);
	n = make_frame(pkt, 0, 300, 8);
	send(t->peer, pkt, n, 0);
	n = make_frame(pkt, 0, 50, 9);
	send(t->peer, pkt, n, 0);
	p = get_rx(t, &len);
	ok(p && len == n && p[HDR + 14] == 9,
	   "rx: frame larger than the buffer dropped, buffer kept for the next");
	is_int(stats(t).rx_dropped, 2, "rx_dropped 2");

	/* No buffers: frames wait (in the backend), then all arrive. */
	for (i = 0; i < 5; i++) {
		n = make_frame(pkt, 0, 80 + i, (uint8_t)(20 + i));
		send(t->peer, pkt, n, 0);
	}
	cpu = cpu_ms();
	usleep(200000);
	ok(cpu_ms() - cpu < 50, "rx: frames waiting, no buffers: mvm idle (%.0f ms CPU in 200 ms)",
	   cpu_ms() - cpu);
	is_int(gvq_used_idx(&t->rx), t->rx_done, "rx: no buffers, nothing used");
	ok(post_rx(t, 5, 1526), "rx: device asked for a kick");
	for (i = 0; i < 5; i++) {
		p = get_rx(t, &len);
		if (!p || len != HDR + 14 + 80 + (uint32_t)i ||
		    p[HDR + 14] != 20 + i)
			break;
	}
	is_int(i, 5, "rx: five waiting frames delivered in order after the kick");
	is_int(stats(t).rx_dropped, 2, "none of them dropped");
	is_int(stats(t).rx_packets, 9, "rx_packets 9");
}

static void test_mrg(struct t *t)
{
	uint8_t pkt[2100], all[2100];
	uint32_t len, total = 0, lens[4];
	uint8_t *p, *first = NULL;
	size_t n;
	int i;

	ok(start(t, F_BASE | F(VIRTIO_NET_F_MRG_RXBUF) |
		    F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_CSUM)),
	   "reset, renegotiated with MRG_RXBUF and GUEST_CSUM");
	post_rx(t, 4, 64);
	n = make_frame(pkt, 0, 186, 30);	/* 212 bytes: 64+64+64+20 */
	send(t->peer, pkt, n, 0);
	for (i = 0; i < 4; i++) {
		p = get_rx(t, &lens[i]);
		if (!p)
			break;
		if (!i)
			first = p;
		memcpy(all + total, p, lens[i]);
		total += lens[i];
	}
	ok(i == 4 && lens[0] == 64 && lens[1] == 64 && lens[2] == 64 &&
	   lens[3] == 20, "mrg: 212 bytes over four 64-byte buffers");
	ok(first && get_le16(first + 10) == 4, "mrg: num_buffers 4");
	ok(total == n && !memcmp(all + HDR, pkt + HDR, n - HDR),
	   "mrg: the frame across them intact");

	/* Two buffers for a frame needing four: it waits, then goes. */
	post_rx(t, 2, 64);
	n = make_frame(pkt, 0, 186, 40);
	send(t->peer, pkt, n, 0);
	usleep(50000);
	is_int(gvq_used_idx(&t->rx), t->rx_done,
	       "mrg: not enough buffers, none used");
	ok(stats(t).rx_stalls >= 1, "mrg: stall counted");
	ok(post_rx(t, 2, 64), "mrg: the device wants a kick for more buffers");
	for (i = 0, total = 0; i < 4; i++) {
		p = get_rx(t, &len);
		if (!p)
			break;
		memcpy(all + total, p, len);
		total += len;
	}
	ok(i == 4 && total == n && !memcmp(all + HDR, pkt + HDR, n - HDR),
	   "mrg: delivered once there are enough");

	/* GUEST_CSUM: partial checksums pass through. */
	post_rx(t, 1, 2048);
	n = make_frame(pkt, VIRTIO_NET_HDR_F_NEEDS_CSUM, 100, 50);
	put_le16(pkt + 6, 34);		/* csum_start */
	put_le16(pkt + 8, 16);		/* csum_offset */
	send(t->peer, pkt, n, 0);
	p = get_rx(t, &len);
	ok(p && len == n && p[0] == VIRTIO_NET_HDR_F_NEEDS_CSUM &&
	   get_le16(p + 6) == 34 && get_le16(p + 8) == 16,
	   "GUEST_CSUM: NEEDS_CSUM, csum_start/offset delivered");
}

static void test_malformed(struct t *t)
{
	uint8_t pkt[200], got[200];
	size_t n;
	int head;

	/* 5.1.6.2: a transmit chain shorter than the header. */
	gvq_add(&t->tx, (struct gvq_buf[]){ { t->txbuf, 4, false } }, 1);
	if (gvq_publish(&t->tx))
		vtest_notify(&t->d, TXQ);
	ok(wait_needs_reset(t), "tx chain of 4 bytes: DEVICE_NEEDS_RESET");

	ok(start(t, F_BASE), "reset clears it");
	ok(!(vtest_status(&t->d) & VIRTIO_STATUS_NEEDS_RESET),
	   "status clean again");
	gvq_add(&t->tx, (struct gvq_buf[]){ { t->txbuf, 60, false },
					     { t->txbuf + 64, 64, true } }, 2);
	if (gvq_publish(&t->tx))
		vtest_notify(&t->d, TXQ);
	ok(wait_needs_reset(t), "tx chain with a writable part: NEEDS_RESET");

	ok(start(t, F_BASE), "reset");
	head = gvq_add(&t->rx, (struct gvq_buf[]){
			{ t->rxbuf[0], 64, false },
			{ t->rxbuf[1], 1500, true } }, 2);
	gvq_publish(&t->rx);
	vtest_notify(&t->d, RXQ);
	n = make_frame(pkt, 0, 40, 1);
	send(t->peer, pkt, n, 0);
	ok(head >= 0 && wait_needs_reset(t),
	   "rx chain with a readable part: NEEDS_RESET");

	/* 2.7.5: a descriptor outside RAM, through the virtqueue code. */
	ok(start(t, F_BASE), "reset");
	gvq_write_desc(&t->tx, 0, 1ULL << 40, 64, 0, 0);
	gvq_put_head(&t->tx, 0);
	gvq_publish(&t->tx);
	vtest_notify(&t->d, TXQ);
	ok(wait_needs_reset(t), "tx descriptor outside RAM: NEEDS_RESET");

	ok(start(t, F_BASE), "reset: works again");
	while (peer_recv(t->peer, got, sizeof(got), 0) >= 0)
		;			/* nothing should be left; be sure */
	n = make_frame(pkt, 0, 40, 2);
	ok(transmit(t, pkt, n, HDR, false) &&
	   peer_recv(t->peer, got, sizeof(got), 1000) == (ssize_t)n &&
	   !memcmp(got, pkt, n), "tx after the resets");
}

static void test_socketpair(void)
{
	struct t *t = calloc(1, sizeof(*t));
	int sv[2];

	if (!t || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		tap_skip_all("no memory or socketpair");
	if (test_machine_init(&t->m, &kvm, &(struct test_machine_opts){ .ioeventfd = true }) ||
	    virtio_net_create_fd(t->m.ctx, sv[0], guest_mac, &t->net))
		tap_skip_all("cannot build the test machine");
	t->peer = sv[1];
	is_int(vtest_find(&t->d, &t->m, VIRTIO_ID_NET), 0, "virtio-net found");
	test_config(t);
	ok(start(t, F_BASE), "negotiated without MRG_RXBUF");
	test_tx(t);
	test_rx(t);
	test_mrg(t);
	test_malformed(t);
	virtio_net_destroy(t->net);
	test_machine_destroy(&t->m);
	close(t->peer);
	free(t);
}

/* ---- a real TAP in a new network namespace ------------------------- */

#define TAP_TESTS	7

static int if_up(const char *name)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r = -1;
	char path[128];
	FILE *f;

	/* No IPv6 chatter on the link (best effort). */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 name);
	f = fopen(path, "w");
	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
	if (s < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (!ioctl(s, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		r = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
	return r;
}

/* An AF_PACKET socket on the TAP: the host's side of the link. */
static int packet_socket(const char *name)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETHERTYPE_TEST) };
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC,
		       htons(ETHERTYPE_TEST));

	if (s < 0)
		return -1;
	sll.sll_ifindex = (int)if_nametoindex(name);
	if (!sll.sll_ifindex ||
	    bind(s, (struct sockaddr *)&sll, sizeof(sll))) {
		close(s);
		return -1;
	}
	return s;
}

static void test_real_tap(void)
{
	struct t *t;
	struct tap tap;
	char name[IFNAMSIZ];
	uint8_t pkt[200], got[200];
	uint16_t rnd = 0;
	uint32_t len;
	uint64_t f;
	uint8_t *p;
	size_t n;
	int ps = -1, i;

	if (geteuid()) {
		tap_skip(TAP_TESTS, "real TAP: not root");
		return;
	}
	if (access("/dev/net/tun", R_OK | W_OK)) {
		tap_skip(TAP_TESTS, "real TAP: no /dev/net/tun");
		return;
	}
	if (unshare(CLONE_NEWNET)) {
		tap_skip(TAP_TESTS, "real TAP: cannot make a network namespace");
		return;
	}
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint16_t)getpid();
	snprintf(name, sizeof(name), "mvmt%04x", rnd);
	t = calloc(1, sizeof(*t));
	if (!t || tap_open(&tap, name)) {
		tap_skip(TAP_TESTS, "real TAP: TUNSETIFF failed");
		free(t);
		return;
	}
	ok(tap.is_tap && tap.fd >= 0, "TAP %s attached (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR)",
	   name);
	if (test_machine_init(&t->m, &kvm, &(struct test_machine_opts){ .ioeventfd = true }) ||
	    virtio_net_create_tap(t->m.ctx, &tap, guest_mac, &t->net) ||
	    vtest_find(&t->d, &t->m, VIRTIO_ID_NET)) {
		tap_skip(TAP_TESTS - 1, "real TAP: cannot build the machine");
		free(t);
		return;
	}
	f = vtest_device_features(&t->d);
	ok((f & F(VIRTIO_NET_F_CSUM)) && (f & F(VIRTIO_NET_F_GUEST_TSO4)),
	   "the TAP takes TUNSETOFFLOAD: offloads offered");
	ok(if_up(name) == 0 && (ps = packet_socket(name)) >= 0,
	   "TAP up, packet socket on it");
	ok(start(t, F_BASE | F(VIRTIO_NET_F_MRG_RXBUF) |
		    F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_CSUM) |
		    F(VIRTIO_NET_F_GUEST_TSO4)),
	   "negotiated MRG_RXBUF, GUEST_CSUM, GUEST_TSO4 (TUNSETOFFLOAD)");

	n = make_frame(pkt, 0, 64, 77);
	memset(pkt + HDR, 0xff, 6);		/* broadcast */
	memcpy(pkt + HDR + 6, guest_mac, 6);
	ok(transmit(t, pkt, n, HDR, false) &&
	   peer_recv(ps, got, sizeof(got), 2000) == (ssize_t)(n - HDR) &&
	   !memcmp(got, pkt + HDR, n - HDR),
	   "guest frame came out of the TAP");

	post_rx(t, NR_RXBUF - 1, 2048);
	n = make_frame(pkt, 0, 64, 99);
	ok(send(ps, pkt + HDR, n - HDR, 0) == (ssize_t)(n - HDR),
	   "host frame sent into the TAP");
	for (i = 0; i < NR_RXBUF - 1; i++) {	/* skip any other traffic */
		p = get_rx(t, &len);
		if (!p || (len == n && !memcmp(p + HDR, pkt + HDR, n - HDR)))
			break;
	}
	ok(p && len == n && get_le16(p + 10) == 1,
	   "host frame reached a guest buffer with its header");
	close(ps);
	virtio_net_destroy(t->net);
	test_machine_destroy(&t->m);
	free(t);
}

int main(void)
{
	fake_kvm_init(&kvm);
	log_quiet = true;
	test_parse();
	test_socketpair();
	test_real_tap();
	fake_kvm_destroy(&kvm);
	return tap_done();
}
