// SPDX-License-Identifier: GPL-2.0
/*
 * The GDB remote serial protocol, target-independent (include/debug/gdbstub.h).
 *
 * One session at a time, all-stop.  The stub thread alternates between two
 * states: stopped (read a packet, answer it against the target) and running
 * (after c/s/vCont: wait for Ctrl-C from the client or a stop reported by
 * the target, stop everything, send a stop reply).  Packets are "$data#cs";
 * each side acks with '+' or asks for a resend with '-' until
 * QStartNoAckMode.  Binary data (X, qXfer) escapes '#', '$', '}' and '*'
 * as '}' followed by the byte xor 0x20.  gdb never sends run-length
 * encoded data to a stub and we send none, so '*' is only escaped.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "debug/gdbstub.h"
#include "core/util.h"

/* next_byte() results besides a byte. */
#define RD_EOF		(-1)	/* the client closed the connection */
#define RD_QUIT		(-2)	/* gdbstub_destroy() */
#define RD_EVENT	(-3)	/* a stop or exit was reported */
#define PKT_TOO_LONG	(-4)

#define GDB_SIGINT	2
#define GDB_SIGTRAP	5

struct gdbstub {
	const struct gdb_target_ops *ops;
	void *t;
	int listen_fd;
	int wake_fd;		/* eventfd: reports and quit wake the thread */
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t lock;	/* protects the reports below */
	bool quit;
	bool exit_told;		/* the client got its W reply */
	bool stop_pending;
	struct gdb_stop pending;
	bool exited;
	int exit_status;

	/* The session: stub thread only. */
	int fd;
	uint8_t rbuf[1024];
	size_t rlen, rpos;
	bool no_ack;
	bool phys;
	unsigned int cpu_g, cpu_c;	/* Hg / Hc, as vCPU indexes */
	struct gdb_stop last;
	char pkt[GDB_PACKET_SIZE + 1];	/* decoded payload, NUL-terminated */
	size_t pkt_len;
	char out[2 * GDB_PACKET_SIZE + 64];
	size_t out_len;
	bool out_overflow;
};

static const char hexdig[] = "0123456789abcdef";

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex number at *p (at most 16 digits); advances *p. */
static bool parse_hex(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	int n = 0, d;

	while ((d = hexval(*s)) >= 0) {
		if (++n > 16)
			return false;
		x = x << 4 | (uint64_t)d;
		s++;
	}
	if (!n)
		return false;
	*p = s;
	*v = x;
	return true;
}

/* "ADDR,LEN" followed by `end` (':' or '\0'). */
static bool parse_addr_len(const char **p, uint64_t *addr, uint64_t *len,
			   char end)
{
	if (!parse_hex(p, addr) || **p != ',')
		return false;
	(*p)++;
	if (!parse_hex(p, len) || **p != end)
		return false;
	if (end)
		(*p)++;
	return true;
}

static bool unhex(const char *s, size_t n, uint8_t *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* ---- the register file ---- */

static void *reg_ptr(struct gdb_regs *r, unsigned int n, unsigned int *size)
{
	if (n < 16) {
		*size = 8;
		return &r->gpr[n];
	}
	switch (n) {
	case GDB_REG_RIP:
		*size = 8;
		return &r->rip;
	case GDB_REG_EFLAGS:
		*size = 4;
		return &r->eflags;
	case GDB_REG_MXCSR:
		*size = 4;
		return &r->mxcsr;
	case GDB_REG_FS_BASE:
		*size = 8;
		return &r->fs_base;
	case GDB_REG_GS_BASE:
		*size = 8;
		return &r->gs_base;
	case GDB_REG_K_GS_BASE:
		*size = 8;
		return &r->k_gs_base;
	case GDB_REG_EFER:
		*size = 8;
		return &r->efer;
	}
	if (n >= GDB_REG_CS && n < GDB_REG_ST0) {
		*size = 4;
		return &r->seg[n - GDB_REG_CS];
	}
	if (n >= GDB_REG_ST0 && n < GDB_REG_FCTRL) {
		*size = 10;
		return r->st[n - GDB_REG_ST0];
	}
	if (n >= GDB_REG_FCTRL && n < GDB_REG_XMM0) {
		*size = 4;
		return &r->fpu[n - GDB_REG_FCTRL];
	}
	if (n >= GDB_REG_XMM0 && n < GDB_REG_MXCSR) {
		*size = 16;
		return r->xmm[n - GDB_REG_XMM0];
	}
	if (n >= GDB_REG_CR0 && n < GDB_REG_EFER) {
		*size = 8;
		return &r->cr[n - GDB_REG_CR0];
	}
	return NULL;
}

static unsigned int regs_total_size(void)
{
	struct gdb_regs r;
	unsigned int n, size, total = 0;

	for (n = 0; n < GDB_NR_REGS; n++) {
		reg_ptr(&r, n, &size);
		total += size;
	}
	return total;
}

/*
 * The target description: gdb's amd64 core and sse features (so gdb knows
 * the frame, pc and sp registers), fs_base/gs_base, and the system
 * registers a kernel developer wants ($cr3, $efer...).  Register numbers
 * follow document order and match reg_ptr().
 */
#define R64(n)		"<reg name=\"" n "\" bitsize=\"64\" type=\"int64\"/>"
#define R32(n)		"<reg name=\"" n "\" bitsize=\"32\" type=\"int32\"/>"
#define RST(n)		"<reg name=\"" n "\" bitsize=\"80\" type=\"i387_ext\"/>"
#define RF(n)		"<reg name=\"" n "\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
#define RX(n)		"<reg name=\"" n "\" bitsize=\"128\" type=\"vec128\"/>"
#define FLD(n, b)	"<field name=\"" n "\" start=\"" #b "\" end=\"" #b "\"/>"

static const char target_xml[] =
	"<?xml version=\"1.0\"?>"
	"<!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
	"<target version=\"1.0\">"
	"<architecture>i386:x86-64</architecture>"
	"<feature name=\"org.gnu.gdb.i386.core\">"
	"<flags id=\"i386_eflags\" size=\"4\">"
	FLD("CF", 0) FLD("", 1) FLD("PF", 2) FLD("AF", 4) FLD("ZF", 6)
	FLD("SF", 7) FLD("TF", 8) FLD("IF", 9) FLD("DF", 10) FLD("OF", 11)
	FLD("NT", 14) FLD("RF", 16) FLD("VM", 17) FLD("AC", 18) FLD("VIF", 19)
	FLD("VIP", 20) FLD("ID", 21)
	"</flags>"
	R64("rax") R64("rbx") R64("rcx") R64("rdx") R64("rsi") R64("rdi")
	"<reg name=\"rbp\" bitsize=\"64\" type=\"data_ptr\"/>"
	"<reg name=\"rsp\" bitsize=\"64\" type=\"data_ptr\"/>"
	R64("r8") R64("r9") R64("r10") R64("r11") R64("r12") R64("r13")
	R64("r14") R64("r15")
	"<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\"/>"
	"<reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\"/>"
	R32("cs") R32("ss") R32("ds") R32("es") R32("fs") R32("gs")
	RST("st0") RST("st1") RST("st2") RST("st3") RST("st4") RST("st5")
	RST("st6") RST("st7")
	RF("fctrl") RF("fstat") RF("ftag") RF("fiseg") RF("fioff") RF("foseg")
	RF("fooff") RF("fop")
	"</feature>"
	"<feature name=\"org.gnu.gdb.i386.sse\">"
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
	"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
	"<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
	"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
	"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
	"<union id=\"vec128\">"
	"<field name=\"v4_float\" type=\"v4f\"/>"
	"<field name=\"v2_double\" type=\"v2d\"/>"
	"<field name=\"v16_int8\" type=\"v16i8\"/>"
	"<field name=\"v8_int16\" type=\"v8i16\"/>"
	"<field name=\"v4_int32\" type=\"v4i32\"/>"
	"<field name=\"v2_int64\" type=\"v2i64\"/>"
	"<field name=\"uint128\" type=\"uint128\"/>"
	"</union>"
	RX("xmm0") RX("xmm1") RX("xmm2") RX("xmm3") RX("xmm4") RX("xmm5")
	RX("xmm6") RX("xmm7") RX("xmm8") RX("xmm9") RX("xmm10") RX("xmm11")
	RX("xmm12") RX("xmm13") RX("xmm14") RX("xmm15")
	"<reg name=\"mxcsr\" bitsize=\"32\" type=\"int\" group=\"vector\"/>"
	"</feature>"
	"<feature name=\"org.gnu.gdb.i386.segments\">"
	R64("fs_base") R64("gs_base")
	"</feature>"
	"<feature name=\"org.mvm.x86.system\">"
	R64("k_gs_base") R64("cr0") R64("cr2") R64("cr3") R64("cr4")
	R64("cr8") R64("efer")
	"</feature>"
	"</target>";

/* ---- bytes from the client ---- */

static int wake_check(struct gdbstub *g, bool want_stops)
{
	int r = 0;

	pthread_mutex_lock(&g->lock);
	/*
	 * A client waiting on a continue gets its exit reply before quit is
	 * honoured: mvm reports the exit and destroys the stub back to back.
	 */
	if (g->exited && want_stops && !g->exit_told)
		r = RD_EVENT;
	else if (g->quit)
		r = RD_QUIT;
	else if (g->exited || (want_stops && g->stop_pending))
		r = RD_EVENT;
	pthread_mutex_unlock(&g->lock);
	return r;
}

/*
 * The next byte from the client.  While waiting, a report (stop with
 * want_stops, VM exit always) or quit ends the wait.
 */
static int next_byte(struct gdbstub *g, bool want_stops)
{
	while (g->rpos == g->rlen) {
		struct pollfd p[2] = {
			{ .fd = g->fd, .events = POLLIN },
			{ .fd = g->wake_fd, .events = POLLIN },
		};
		ssize_t n;
		int r;

		r = wake_check(g, want_stops);
		if (r)
			return r;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return RD_EOF;
		}
		if (p[1].revents & POLLIN) {
			uint64_t v;

			if (read(g->wake_fd, &v, sizeof(v)) < 0)
				v = 0;
			continue;
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(g->fd, g->rbuf, sizeof(g->rbuf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return RD_EOF;
		g->rlen = (size_t)n;
		g->rpos = 0;
	}
	return g->rbuf[g->rpos++];
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return RD_EOF;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Receive one packet into g->pkt.  Returns its length, PKT_TOO_LONG (the
 * packet was acked but did not fit) or an RD_* code.  A bad checksum is
 * nacked and the packet waited for again.
 */
static int recv_packet(struct gdbstub *g)
{
	for (;;) {
		size_t len = 0;
		uint8_t sum = 0;
		bool esc = false, overflow = false;
		int c, hi, lo;

		do {
			c = next_byte(g, false);
			if (c < 0)
				return c;
			/* '+'/'-' late acks, 0x03 while already stopped. */
		} while (c != '$');
		for (;;) {
			c = next_byte(g, false);
			if (c < 0)
				return c;
			if (c == '#')
				break;
			if (c == '$') {		/* restarted: drop what we had */
				len = 0;
				sum = 0;
				esc = false;
				overflow = false;
				continue;
			}
			sum += (uint8_t)c;
			if (esc) {
				c ^= 0x20;
				esc = false;
			} else if (c == '}') {
				esc = true;
				continue;
			}
			if (len < GDB_PACKET_SIZE)
				g->pkt[len++] = (char)c;
			else
				overflow = true;
		}
		hi = next_byte(g, false);
		if (hi < 0)
			return hi;
		lo = next_byte(g, false);
		if (lo < 0)
			return lo;
		hi = hexval(hi);
		lo = hexval(lo);
		if (hi < 0 || lo < 0 || (uint8_t)(hi << 4 | lo) != sum) {
			if (!g->no_ack && write_all(g->fd, "-", 1))
				return RD_EOF;
			continue;
		}
		if (!g->no_ack && write_all(g->fd, "+", 1))
			return RD_EOF;
		g->pkt[len] = '\0';
		g->pkt_len = len;
		return overflow ? PKT_TOO_LONG : (int)len;
	}
}

/* ---- replies ---- */

static void out_reset(struct gdbstub *g)
{
	g->out_len = 0;
	g->out_overflow = false;
}

static void out_raw(struct gdbstub *g, const void *data, size_t n)
{
	if (n > sizeof(g->out) - g->out_len) {
		g->out_overflow = true;
		return;
	}
	memcpy(g->out + g->out_len, data, n);
	g->out_len += n;
}

static void out_str(struct gdbstub *g, const char *s)
{
	out_raw(g, s, strlen(s));
}

static __printf(2, 3) void out_fmt(struct gdbstub *g, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		out_raw(g, buf, MIN((size_t)n, sizeof(buf) - 1));
}

static void out_hex(struct gdbstub *g, const void *data, size_t n)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i < n; i++) {
		char h[2] = { hexdig[p[i] >> 4], hexdig[p[i] & 15] };

		out_raw(g, h, 2);
	}
}

/* Binary data with '#', '$', '}' and '*' escaped. */
static void out_bin(struct gdbstub *g, const void *data, size_t n)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i < n; i++) {
		char c = (char)p[i];

		if (c == '#' || c == '$' || c == '}' || c == '*') {
			char e[2] = { '}', (char)(c ^ 0x20) };

			out_raw(g, e, 2);
		} else {
			out_raw(g, &c, 1);
		}
	}
}

/* Frame data as "$data#cs" and send it until the client acks it. */
static int send_frame(struct gdbstub *g, const char *data, size_t len)
{
	char *frame = malloc(len + 4);
	uint8_t sum = 0;
	unsigned int tries;
	size_t i;
	int ret = 0;

	if (!frame)
		return RD_EOF;
	frame[0] = '$';
	memcpy(frame + 1, data, len);
	for (i = 0; i < len; i++)
		sum += (uint8_t)data[i];
	frame[len + 1] = '#';
	frame[len + 2] = hexdig[sum >> 4];
	frame[len + 3] = hexdig[sum & 15];
	for (tries = 0;; tries++) {
		int c;

		ret = write_all(g->fd, frame, len + 4);
		if (ret || g->no_ack)
			break;
		do {
			c = next_byte(g, false);
			if (c == RD_EVENT)	/* an exit: seen at the next read */
				c = RD_EOF;
			if (c == '$')		/* a packet without our ack */
				g->rpos--;
		} while (c >= 0 && c != '+' && c != '-' && c != '$');
		if (c < 0)
			ret = c;
		if (c != '-')
			break;
		if (tries == 16) {
			pr_warn("gdb: client keeps rejecting our packets");
			ret = RD_EOF;
			break;
		}
	}
	free(frame);
	return ret;
}

static int reply(struct gdbstub *g)
{
	if (g->out_overflow) {
		out_reset(g);
		out_str(g, "E22");
	}
	return send_frame(g, g->out, g->out_len);
}

static int reply_str(struct gdbstub *g, const char *s)
{
	out_reset(g);
	out_str(g, s);
	return reply(g);
}

static int reply_err(struct gdbstub *g, int err)
{
	char buf[8];

	snprintf(buf, sizeof(buf), "E%02x", (unsigned int)MIN(-err, 255) &
		 0xff);
	return reply_str(g, buf);
}

/* ---- stops ---- */

static int send_stop(struct gdbstub *g, const struct gdb_stop *s)
{
	static const char *const reason[] = {
		[GDB_STOP_SWBREAK] = "swbreak",
		[GDB_STOP_HWBREAK] = "hwbreak",
		[GDB_STOP_WATCH] = "watch",
		[GDB_STOP_RWATCH] = "rwatch",
		[GDB_STOP_AWATCH] = "awatch",
	};

	out_reset(g);
	out_fmt(g, "T%02xthread:%x;",
		s->why == GDB_STOP_SIGINT ? GDB_SIGINT : GDB_SIGTRAP,
		s->cpu + 1);
	switch (s->why) {
	case GDB_STOP_SWBREAK:
	case GDB_STOP_HWBREAK:
		out_fmt(g, "%s:;", reason[s->why]);
		break;
	case GDB_STOP_WATCH:
	case GDB_STOP_RWATCH:
	case GDB_STOP_AWATCH:
		out_fmt(g, "%s:%llx;", reason[s->why],
			(unsigned long long)s->addr);
		break;
	default:
		break;
	}
	return reply(g);
}

static bool take_pending(struct gdbstub *g, struct gdb_stop *s)
{
	bool have;

	pthread_mutex_lock(&g->lock);
	have = g->stop_pending;
	if (have)
		*s = g->pending;
	g->stop_pending = false;
	pthread_mutex_unlock(&g->lock);
	return have;
}

static void stopped_at(struct gdbstub *g, const struct gdb_stop *s)
{
	g->last = *s;
	if (s->cpu < g->ops->nr_threads(g->t))
		g->cpu_g = g->cpu_c = s->cpu;
}

/* Session ends: */
#define SESSION_DETACH	1	/* D, or the client went away */
#define SESSION_KILL	2	/* k */
#define SESSION_EXIT	3	/* the VM ended */

/*
 * After the exit reply: let the client read it and hang up first (up to
 * 1 s), so closing with its ack unread does not reset the connection
 * under a reply still in flight (a relay, such as the nested-KVM test's
 * serial port, may not have passed it on yet).
 */
static void linger_for_client(struct gdbstub *g)
{
	char sink[64];
	int i;

	shutdown(g->fd, SHUT_WR);
	for (i = 0; i < 10; i++) {
		struct pollfd p = { .fd = g->fd, .events = POLLIN };

		if (poll(&p, 1, 100) < 0 && errno != EINTR)
			return;
		if ((p.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    read(g->fd, sink, sizeof(sink)) <= 0)
			return;
	}
}

/*
 * The target runs: wait for it to stop (a report) or for Ctrl-C, then
 * stop every vCPU and send the stop reply.
 */
static int wait_for_stop(struct gdbstub *g)
{
	struct gdb_stop s;
	int c, err;

	for (;;) {
		c = next_byte(g, true);
		if (c == RD_EVENT) {
			int status;
			bool exited;

			pthread_mutex_lock(&g->lock);
			exited = g->exited;
			status = g->exit_status;
			pthread_mutex_unlock(&g->lock);
			if (exited) {
				g->no_ack = true;	/* last words */
				out_reset(g);
				out_fmt(g, "W%02x", status & 0xff);
				reply(g);
				pthread_mutex_lock(&g->lock);
				g->exit_told = true;
				pthread_mutex_unlock(&g->lock);
				linger_for_client(g);
				return SESSION_EXIT;
			}
			if (!take_pending(g, &s))
				continue;
			g->ops->stop_all(g->t);
			break;
		}
		if (c < 0)
			return c == RD_QUIT ? SESSION_EXIT : SESSION_DETACH;
		if (c != 0x03)
			continue;	/* stray acks; gdb sends nothing else */
		g->ops->stop_all(g->t);
		/* A stop that raced with Ctrl-C says more than SIGINT. */
		if (!take_pending(g, &s))
			s = (struct gdb_stop){ .cpu = g->last.cpu,
					       .why = GDB_STOP_SIGINT };
		break;
	}
	stopped_at(g, &s);
	err = send_stop(g, &s);
	return err ? SESSION_DETACH : 0;
}

/* ---- commands ---- */

static bool valid_cpu(struct gdbstub *g, uint64_t tid)
{
	return tid >= 1 && tid <= g->ops->nr_threads(g->t);
}

/* A thread id: "-1" (all), "0" (any) or hex.  -1 if invalid. */
static int64_t parse_tid(const char **p)
{
	uint64_t v;

	if ((*p)[0] == '-' && (*p)[1] == '1') {
		*p += 2;
		return -1;
	}
	if (!parse_hex(p, &v) || v > INT32_MAX)
		return -2;
	return (int64_t)v;
}

static int cmd_set_thread(struct gdbstub *g, const char *a)
{
	char op = *a++;
	int64_t tid = parse_tid(&a);
	unsigned int cpu;

	if (tid == -2 || *a || (op != 'g' && op != 'c'))
		return reply_str(g, "E22");
	if (tid <= 0) {
		cpu = op == 'g' ? g->cpu_g : g->cpu_c;
	} else if (valid_cpu(g, (uint64_t)tid)) {
		cpu = (unsigned int)tid - 1;
	} else {
		return reply_str(g, "E22");
	}
	if (op == 'g')
		g->cpu_g = cpu;
	else
		g->cpu_c = cpu;
	return reply_str(g, "OK");
}

static int cmd_read_regs(struct gdbstub *g)
{
	struct gdb_regs r;
	unsigned int n, size;
	int err;

	err = g->ops->read_regs(g->t, g->cpu_g, &r);
	if (err)
		return reply_err(g, err);
	out_reset(g);
	for (n = 0; n < GDB_NR_REGS; n++) {
		void *p = reg_ptr(&r, n, &size);

		out_hex(g, p, size);
	}
	return reply(g);
}

static int cmd_write_regs(struct gdbstub *g, const char *a)
{
	struct gdb_regs r;
	unsigned int n, size;
	int err;

	if (strlen(a) != 2 * (size_t)regs_total_size())
		return reply_str(g, "E22");
	err = g->ops->read_regs(g->t, g->cpu_g, &r);
	if (err)
		return reply_err(g, err);
	for (n = 0; n < GDB_NR_REGS; n++) {
		void *p = reg_ptr(&r, n, &size);

		if (!unhex(a, size, p))
			return reply_str(g, "E22");
		a += 2 * size;
	}
	err = g->ops->write_regs(g->t, g->cpu_g, &r);
	return err ? reply_err(g, err) : reply_str(g, "OK");
}

/* p n / P n=value */
static int cmd_reg(struct gdbstub *g, const char *a, bool write)
{
	struct gdb_regs r;
	unsigned int size;
	uint64_t n;
	void *p;
	int err;

	if (!parse_hex(&a, &n) || n >= GDB_NR_REGS ||
	    (write ? *a++ != '=' : *a != '\0'))
		return reply_str(g, "E22");
	err = g->ops->read_regs(g->t, g->cpu_g, &r);
	if (err)
		return reply_err(g, err);
	p = reg_ptr(&r, (unsigned int)n, &size);
	if (!write) {
		out_reset(g);
		out_hex(g, p, size);
		return reply(g);
	}
	if (strlen(a) != 2 * size || !unhex(a, size, p))
		return reply_str(g, "E22");
	err = g->ops->write_regs(g->t, g->cpu_g, &r);
	return err ? reply_err(g, err) : reply_str(g, "OK");
}

static int cmd_read_mem(struct gdbstub *g, const char *a)
{
	uint8_t buf[GDB_PACKET_SIZE / 2];
	uint64_t addr, len;
	ssize_t n;

	if (!parse_addr_len(&a, &addr, &len, '\0'))
		return reply_str(g, "E22");
	len = MIN(len, sizeof(buf));
	if (!len)
		return reply_str(g, "");
	n = g->ops->read_mem(g->t, g->cpu_g, addr, buf, len, g->phys);
	if (n <= 0)
		return reply_err(g, n < 0 ? (int)n : -EFAULT);
	out_reset(g);
	out_hex(g, buf, (size_t)n);
	return reply(g);
}

/* M addr,len:hex and X addr,len:binary (already unescaped). */
static int cmd_write_mem(struct gdbstub *g, const char *a, bool binary)
{
	uint8_t buf[GDB_PACKET_SIZE];
	const char *data;
	uint64_t addr, len;
	size_t have;
	ssize_t n;

	if (!parse_addr_len(&a, &addr, &len, ':') || len > sizeof(buf))
		return reply_str(g, "E22");
	data = a;
	have = g->pkt_len - (size_t)(data - g->pkt);
	if (binary) {
		if (have != len)
			return reply_str(g, "E22");
		memcpy(buf, data, len);
	} else if (have != 2 * len || !unhex(data, len, buf)) {
		return reply_str(g, "E22");
	}
	if (!len)
		return reply_str(g, "OK");
	n = g->ops->write_mem(g->t, g->cpu_g, addr, buf, len, g->phys);
	if (n < 0)
		return reply_err(g, (int)n);
	return reply_str(g, (uint64_t)n == len ? "OK" : "E0e");
}

/* Z type,addr,kind[;cond...] and z type,addr,kind */
static int cmd_breakpoint(struct gdbstub *g, const char *a, bool insert)
{
	uint64_t type, addr, kind;
	int err;

	if (!parse_hex(&a, &type) || *a++ != ',' || !parse_hex(&a, &addr) ||
	    *a++ != ',' || !parse_hex(&a, &kind) || (*a && *a != ';'))
		return reply_str(g, "E22");
	if (type > GDB_WP_ACCESS || kind > 8)
		return reply_str(g, "");
	if (insert)
		err = g->ops->set_bp(g->t, g->cpu_g, (enum gdb_bp_type)type,
				     addr, (unsigned int)kind);
	else
		err = g->ops->clear_bp(g->t, g->cpu_g, (enum gdb_bp_type)type,
				       addr, (unsigned int)kind);
	if (err == -EOPNOTSUPP)
		return reply_str(g, "");
	return err ? reply_err(g, err) : reply_str(g, "OK");
}

/* The optional address of c/s: resume there. */
static int resume_at(struct gdbstub *g, unsigned int cpu, const char *a)
{
	struct gdb_regs r;
	uint64_t addr;
	int err;

	if (*a == ';' || !*a)
		return 0;
	if (!parse_hex(&a, &addr) || *a)
		return -EINVAL;
	err = g->ops->read_regs(g->t, cpu, &r);
	if (!err) {
		r.rip = addr;
		err = g->ops->write_regs(g->t, cpu, &r);
	}
	return err;
}

/* Resume (step_cpu < 0: everything) and wait for the next stop. */
static int resume(struct gdbstub *g, int step_cpu)
{
	struct gdb_stop stale;
	int err;

	take_pending(g, &stale);	/* reported before we stopped: moot */
	if (step_cpu >= 0)
		err = g->ops->step(g->t, (unsigned int)step_cpu);
	else
		err = g->ops->cont(g->t);
	if (err)
		return reply_err(g, err) ? SESSION_DETACH : 0;
	return wait_for_stop(g);
}

/* vCont;action[:tid]... : one stepping thread (the others stay stopped)
 * or continue everything. */
static int cmd_vcont(struct gdbstub *g, const char *a)
{
	int step = -1;
	bool any = false;

	while (*a == ';') {
		char act = *++a;
		int64_t tid = -1;

		if (act != 'c' && act != 's' && act != 'C' && act != 'S')
			return reply_str(g, "E22") ? SESSION_DETACH : 0;
		a++;
		if (act == 'C' || act == 'S') {
			uint64_t sig;

			if (!parse_hex(&a, &sig))
				return reply_str(g, "E22") ? SESSION_DETACH : 0;
		}
		if (*a == ':') {
			a++;
			tid = parse_tid(&a);
			if (tid == -2 || (tid > 0 && !valid_cpu(g,
							(uint64_t)tid)))
				return reply_str(g, "E22") ? SESSION_DETACH : 0;
		}
		if ((act == 's' || act == 'S') && step < 0)
			step = tid > 0 ? (int)tid - 1 : (int)g->cpu_c;
		any = true;
	}
	if (!any || *a)
		return reply_str(g, "E22") ? SESSION_DETACH : 0;
	return resume(g, step);
}

static int monitor_out(struct gdbstub *g, const char *msg)
{
	out_reset(g);
	out_str(g, "O");
	out_hex(g, msg, strlen(msg));
	return reply(g);
}

static const char monitor_help[] =
	"phys [on|off]: m/M/X addresses are guest-physical (on) or guest-virtual\n"
	"               through the current vCPU's page tables (off, default)\n";

/* qRcmd: gdb's "monitor" command, hex-encoded. */
static int cmd_monitor(struct gdbstub *g, const char *hex)
{
	size_t n = strlen(hex) / 2;
	char cmd[128];
	int err;

	if (strlen(hex) % 2 || n >= sizeof(cmd) ||
	    !unhex(hex, n, (uint8_t *)cmd))
		return reply_str(g, "E22");
	cmd[n] = '\0';
	if (!strcmp(cmd, "phys on") || !strcmp(cmd, "phys off") ||
	    !strcmp(cmd, "phys")) {
		if (cmd[4])
			g->phys = cmd[6] == 'n';
		err = monitor_out(g, g->phys ?
				  "memory access: guest-physical\n" :
				  "memory access: guest-virtual\n");
		return err ? err : reply_str(g, "OK");
	}
	if (!strcmp(cmd, "help")) {
		err = monitor_out(g, monitor_help);
		return err ? err : reply_str(g, "OK");
	}
	err = monitor_out(g, "unknown monitor command; try: monitor help\n");
	return err ? err : reply_str(g, "E01");
}

static int cmd_xfer_features(struct gdbstub *g, const char *a)
{
	const char *annex = "target.xml:";
	uint64_t off, len, size = sizeof(target_xml) - 1;

	if (strncmp(a, annex, strlen(annex)))
		return reply_str(g, "E00");
	a += strlen(annex);
	if (!parse_addr_len(&a, &off, &len, '\0'))
		return reply_str(g, "E22");
	if (off >= size)
		return reply_str(g, "l");
	len = MIN(len, MIN(size - off, (uint64_t)GDB_PACKET_SIZE));
	out_reset(g);
	out_str(g, off + len >= size ? "l" : "m");
	out_bin(g, target_xml + off, len);
	return reply(g);
}

static int cmd_query(struct gdbstub *g, const char *q)
{
	unsigned int i, nr = g->ops->nr_threads(g->t);
	uint64_t tid;

	if (!strncmp(q, "Supported", 9)) {
		out_reset(g);
		out_fmt(g, "PacketSize=%x;qXfer:features:read+;swbreak+;hwbreak+;QStartNoAckMode+;vContSupported+",
			GDB_PACKET_SIZE);
		return reply(g);
	}
	if (!strcmp(q, "Attached"))
		return reply_str(g, "1");
	if (!strcmp(q, "C")) {
		out_reset(g);
		out_fmt(g, "QC%x", g->cpu_g + 1);
		return reply(g);
	}
	if (!strcmp(q, "fThreadInfo")) {
		out_reset(g);
		for (i = 0; i < nr; i++)
			out_fmt(g, "%c%x", i ? ',' : 'm', i + 1);
		return reply(g);
	}
	if (!strcmp(q, "sThreadInfo"))
		return reply_str(g, "l");
	if (!strncmp(q, "ThreadExtraInfo,", 16)) {
		const char *a = q + 16;
		char name[32];

		if (!parse_hex(&a, &tid) || *a || !valid_cpu(g, tid))
			return reply_str(g, "E22");
		snprintf(name, sizeof(name), "vCPU %u", (unsigned int)tid - 1);
		out_reset(g);
		out_hex(g, name, strlen(name));
		return reply(g);
	}
	if (!strncmp(q, "Rcmd,", 5))
		return cmd_monitor(g, q + 5);
	if (!strncmp(q, "Xfer:features:read:", 19))
		return cmd_xfer_features(g, q + 19);
	if (!strncmp(q, "Symbol:", 7))
		return reply_str(g, "OK");
	return reply_str(g, "");
}

/*
 * One packet, target stopped.  Returns 0 to go on, SESSION_* to end the
 * session, or a negative RD_* code.
 */
static int dispatch(struct gdbstub *g)
{
	const char *a = g->pkt + 1;
	int64_t tid;
	int err;

	switch (g->pkt[0]) {
	case '?':
		return send_stop(g, &g->last);
	case 'g':
		return cmd_read_regs(g);
	case 'G':
		return cmd_write_regs(g, a);
	case 'p':
		return cmd_reg(g, a, false);
	case 'P':
		return cmd_reg(g, a, true);
	case 'm':
		return cmd_read_mem(g, a);
	case 'M':
		return cmd_write_mem(g, a, false);
	case 'X':
		return cmd_write_mem(g, a, true);
	case 'Z':
		return cmd_breakpoint(g, a, true);
	case 'z':
		return cmd_breakpoint(g, a, false);
	case 'H':
		return cmd_set_thread(g, a);
	case 'T':
		tid = parse_tid(&a);
		return reply_str(g, tid > 0 && !*a && valid_cpu(g,
				 (uint64_t)tid) ? "OK" : "E01");
	case 'c':
	case 's':
		err = resume_at(g, g->cpu_c, a);
		if (err)
			return reply_err(g, err);
		return resume(g, g->pkt[0] == 's' ? (int)g->cpu_c : -1);
	case 'C':
	case 'S':
		/* Signals mean nothing to a VM: resume like c/s. */
		a = strchr(a, ';');
		err = a ? resume_at(g, g->cpu_c, a + 1) : 0;
		if (err)
			return reply_err(g, err);
		return resume(g, g->pkt[0] == 'S' ? (int)g->cpu_c : -1);
	case 'q':
		return cmd_query(g, a);
	case 'Q':
		if (!strcmp(a, "StartNoAckMode")) {
			err = reply_str(g, "OK");
			g->no_ack = true;
			return err;
		}
		return reply_str(g, "");
	case 'v':
		if (!strcmp(a, "Cont?"))
			return reply_str(g, "vCont;c;C;s;S");
		if (!strncmp(a, "Cont;", 5))
			return cmd_vcont(g, a + 4);
		if (!strncmp(a, "Kill", 4)) {
			reply_str(g, "OK");
			return SESSION_KILL;
		}
		return reply_str(g, "");
	case 'D':
		reply_str(g, "OK");
		return SESSION_DETACH;
	case 'k':
		return SESSION_KILL;
	default:
		return reply_str(g, "");
	}
}

int gdbstub_serve(struct gdbstub *g, int fd)
{
	int r;

	g->fd = fd;
	g->rlen = g->rpos = 0;
	g->no_ack = false;
	g->phys = false;
	g->ops->stop_all(g->t);
	if (!take_pending(g, &g->last))
		g->last = (struct gdb_stop){ .cpu = 0, .why = GDB_STOP_STEP };
	g->cpu_g = g->cpu_c = 0;
	stopped_at(g, &g->last);
	for (;;) {
		r = recv_packet(g);
		if (r == PKT_TOO_LONG)
			r = reply_str(g, "E22");
		else if (r >= 0)
			r = dispatch(g);
		if (r == RD_EVENT || r == RD_QUIT)
			r = SESSION_EXIT;	/* exit reported while stopped */
		else if (r < 0)
			r = SESSION_DETACH;
		if (r)
			break;
	}
	if (r == SESSION_KILL)
		g->ops->kill(g->t);
	g->ops->detach(g->t);
	g->fd = -1;
	return 0;
}

/* ---- the listening side ---- */

struct gdbstub *gdbstub_create(const struct gdb_target_ops *ops, void *target)
{
	struct gdbstub *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->ops = ops;
	g->t = target;
	g->listen_fd = -1;
	g->fd = -1;
	g->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (g->wake_fd < 0) {
		free(g);
		return NULL;
	}
	pthread_mutex_init(&g->lock, NULL);
	return g;
}

static void wake(struct gdbstub *g)
{
	uint64_t one = 1;

	if (write(g->wake_fd, &one, sizeof(one)) < 0)
		return;	/* the counter is saturated: already awake */
}

void gdbstub_report_stop(struct gdbstub *g, const struct gdb_stop *stop)
{
	pthread_mutex_lock(&g->lock);
	if (!g->stop_pending) {
		g->pending = *stop;
		g->stop_pending = true;
	}
	pthread_mutex_unlock(&g->lock);
	wake(g);
}

void gdbstub_report_exit(struct gdbstub *g, int status)
{
	pthread_mutex_lock(&g->lock);
	g->exited = true;
	g->exit_status = status;
	pthread_mutex_unlock(&g->lock);
	wake(g);
}

/* "PORT", "ADDR:PORT", "[V6ADDR]:PORT"; the default address is loopback:
 * a gdb stub gives whoever connects the whole guest. */
static int parse_addr_port(const char *spec, char *host, size_t hlen,
			   char *port, size_t plen)
{
	const char *colon = strrchr(spec, ':');
	const char *p = colon ? colon + 1 : spec;
	size_t n;

	if (!*p || strlen(p) >= plen || strspn(p, "0123456789") != strlen(p) ||
	    strtoul(p, NULL, 10) > 65535)
		return -EINVAL;
	snprintf(port, plen, "%s", p);
	if (!colon || colon == spec) {
		snprintf(host, hlen, "127.0.0.1");
		return 0;
	}
	n = (size_t)(colon - spec);
	if (spec[0] == '[' && spec[n - 1] == ']') {
		spec++;
		n -= 2;
	}
	if (!n || n >= hlen)
		return -EINVAL;
	memcpy(host, spec, n);
	host[n] = '\0';
	return 0;
}

static void *gdbstub_thread(void *arg)
{
	struct gdbstub *g = arg;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = g->listen_fd, .events = POLLIN },
			{ .fd = g->wake_fd, .events = POLLIN },
		};
		struct timeval send_timeout = { .tv_sec = 10 };
		int fd, one = 1;

		if (wake_check(g, false) == RD_QUIT)
			break;
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents & POLLIN) {
			uint64_t v;

			if (read(g->wake_fd, &v, sizeof(v)) < 0)
				v = 0;
		}
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(g->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* A client that stops reading must not hold this thread (and
		 * gdbstub_destroy()'s join) forever: its sends time out. */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout,
			   sizeof(send_timeout));
		pr_info("gdb: client connected, the VM is stopped");
		gdbstub_serve(g, fd);
		close(fd);
		pr_info("gdb: client gone");
	}
	return NULL;
}

/* Numeric addresses only (and "localhost"): no resolver in a static mvm. */
static int make_sockaddr(const char *host, const char *port,
			 struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	uint16_t p = htons((uint16_t)strtoul(port, NULL, 10));

	memset(ss, 0, sizeof(*ss));
	if (!strcmp(host, "localhost"))
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = p;
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = p;
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

int gdbstub_start(struct gdbstub *g, const char *addr_port)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char host[64], port[8];
	sigset_t all, old;
	int fd, err, one = 1;

	if (parse_addr_port(addr_port, host, sizeof(host), port,
			    sizeof(port)) ||
	    make_sockaddr(host, port, &ss, &sslen)) {
		pr_err("--gdb %s: expected PORT or ADDR:PORT with a numeric address",
		       addr_port);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = errno;
		pr_errno(err, "--gdb %s: socket", addr_port);
		return -err;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, 1) < 0) {
		err = errno;
		pr_errno(err, "--gdb %s: cannot listen", addr_port);
		close(fd);
		return -err;
	}
	g->listen_fd = fd;
	/* The stub thread takes no signals (they belong to vm_run()'s
	 * signalfd and the vCPU kick): block them all around its creation. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&g->thread, NULL, gdbstub_thread, g);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pr_errno(err, "--gdb: cannot create the stub thread");
		close(g->listen_fd);
		g->listen_fd = -1;
		return -err;
	}
	pthread_setname_np(g->thread, "mvm-gdb");
	g->thread_started = true;
	pr_info("gdb: listening on %s port %d (gdb: target remote %s%s%s:%d)",
		host, gdbstub_port(g), ss.ss_family == AF_INET6 ? "[" : "", host,
		ss.ss_family == AF_INET6 ? "]" : "", gdbstub_port(g));
	return 0;
}

int gdbstub_port(const struct gdbstub *g)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (g->listen_fd < 0 ||
	    getsockname(g->listen_fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

void gdbstub_destroy(struct gdbstub *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->quit = true;
	pthread_mutex_unlock(&g->lock);
	wake(g);
	if (g->thread_started)
		pthread_join(g->thread, NULL);
	if (g->listen_fd >= 0)
		close(g->listen_fd);
	close(g->wake_fd);
	pthread_mutex_destroy(&g->lock);
	free(g);
}
