// SPDX-License-Identifier: GPL-2.0
/*
 * The GDB remote protocol layer against a fake target, through a
 * socketpair: framing, acks and resends, every command, stops, Ctrl-C,
 * threads, errors.  Then the TCP listener, and, where gdb is installed,
 * a real `gdb -batch` session against the fake target.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "tap.h"
#include "debug/gdbstub.h"
#include "core/util.h"

#define NR_CPUS		2
#define MEM_BASE	0x1000ULL	/* virtual */
#define PHYS_BASE	0x200000ULL	/* the same bytes, guest-physical */
#define MEM_SIZE	0x3000ULL
#define MAX_BPS		16

struct bp {
	enum gdb_bp_type type;
	uint64_t addr;
	unsigned int len;
};

struct fake {
	struct gdb_regs regs[NR_CPUS];
	uint8_t mem[MEM_SIZE];
	struct bp bps[MAX_BPS];
	unsigned int nr_bps;
	int conts, steps, step_cpu, stop_alls, detaches, kills;
	bool last_phys;
	unsigned int last_mem_cpu;
	/* For the real-gdb test: run to the first breakpoint / step. */
	bool auto_stop;
	struct gdbstub *stub;
};

static struct fake F;

static unsigned int f_nr_threads(void *t)
{
	return NR_CPUS;
}

static int f_read_regs(void *t, unsigned int cpu, struct gdb_regs *r)
{
	struct fake *f = t;

	if (cpu >= NR_CPUS)
		return -EINVAL;
	*r = f->regs[cpu];
	return 0;
}

static int f_write_regs(void *t, unsigned int cpu, const struct gdb_regs *r)
{
	struct fake *f = t;

	if (cpu >= NR_CPUS)
		return -EINVAL;
	f->regs[cpu] = *r;
	return 0;
}

static ssize_t f_access(struct fake *f, unsigned int cpu, uint64_t addr,
			void *buf, size_t len, bool phys, bool write)
{
	uint64_t base = phys ? PHYS_BASE : MEM_BASE;
	size_t n;

	f->last_phys = phys;
	f->last_mem_cpu = cpu;
	if (addr < base || addr - base >= MEM_SIZE)
		return -EFAULT;
	n = MIN(len, (size_t)(MEM_SIZE - (addr - base)));
	if (write)
		memcpy(f->mem + (addr - base), buf, n);
	else
		memcpy(buf, f->mem + (addr - base), n);
	return (ssize_t)n;
}

static ssize_t f_read_mem(void *t, unsigned int cpu, uint64_t addr, void *buf,
			  size_t len, bool phys)
{
	return f_access(t, cpu, addr, buf, len, phys, false);
}

static ssize_t f_write_mem(void *t, unsigned int cpu, uint64_t addr,
			   const void *buf, size_t len, bool phys)
{
	return f_access(t, cpu, addr, (void *)buf, len, phys, true);
}

static int f_set_bp(void *t, unsigned int cpu, enum gdb_bp_type type,
		    uint64_t addr, unsigned int len)
{
	struct fake *f = t;

	if (type == GDB_WP_READ)
		return -EOPNOTSUPP;
	if (f->nr_bps == MAX_BPS)
		return -ENOSPC;
	f->bps[f->nr_bps++] = (struct bp){ type, addr, len };
	return 0;
}

static int f_clear_bp(void *t, unsigned int cpu, enum gdb_bp_type type,
		      uint64_t addr, unsigned int len)
{
	struct fake *f = t;
	unsigned int i;

	for (i = 0; i < f->nr_bps; i++) {
		if (f->bps[i].type == type && f->bps[i].addr == addr) {
			f->bps[i] = f->bps[--f->nr_bps];
			return 0;
		}
	}
	return -ENOENT;
}

static int f_cont(void *t)
{
	struct fake *f = t;
	unsigned int i;

	f->conts++;
	if (!f->auto_stop)
		return 0;
	/* "Run" vCPU 0 to the first software breakpoint. */
	for (i = 0; i < f->nr_bps; i++) {
		if (f->bps[i].type == GDB_BP_SW) {
			struct gdb_stop s = { .cpu = 0,
					      .why = GDB_STOP_SWBREAK };

			f->regs[0].rip = f->bps[i].addr;
			gdbstub_report_stop(f->stub, &s);
			return 0;
		}
	}
	return 0;
}

static int f_step(void *t, unsigned int cpu)
{
	struct fake *f = t;

	f->steps++;
	f->step_cpu = (int)cpu;
	if (f->auto_stop) {
		struct gdb_stop s = { .cpu = cpu, .why = GDB_STOP_STEP };

		f->regs[cpu].rip += 2;
		gdbstub_report_stop(f->stub, &s);
	}
	return 0;
}

static int f_stop_all(void *t)
{
	((struct fake *)t)->stop_alls++;
	return 0;
}

static void f_detach(void *t)
{
	struct fake *f = t;

	f->detaches++;
	f->nr_bps = 0;
}

static void f_kill(void *t)
{
	((struct fake *)t)->kills++;
}

static const struct gdb_target_ops fake_ops = {
	.nr_threads = f_nr_threads,
	.read_regs = f_read_regs,
	.write_regs = f_write_regs,
	.read_mem = f_read_mem,
	.write_mem = f_write_mem,
	.set_bp = f_set_bp,
	.clear_bp = f_clear_bp,
	.cont = f_cont,
	.step = f_step,
	.stop_all = f_stop_all,
	.detach = f_detach,
	.kill = f_kill,
};

static void fake_reset(void)
{
	unsigned int i, c;

	memset(&F, 0, sizeof(F));
	F.step_cpu = -1;
	for (c = 0; c < NR_CPUS; c++) {
		for (i = 0; i < 16; i++)
			F.regs[c].gpr[i] = 0x1111111111111111ULL * (i + 1) +
					   c;
		F.regs[c].rip = 0x1000 + c;
		F.regs[c].eflags = 0x202;
		F.regs[c].seg[0] = 0x10;
		F.regs[c].cr[2] = 0x9000;	/* cr3 */
	}
	for (i = 0; i < MEM_SIZE; i++)
		F.mem[i] = (uint8_t)i;
}

/* ---- the client side ---- */

static int cfd = -1;		/* our end of the socketpair */
static struct gdbstub *stub;
static pthread_t serve_thread;
static int serve_sv;
static bool no_ack;

static void *serve_main(void *arg)
{
	gdbstub_serve(stub, serve_sv);
	close(serve_sv);
	return NULL;
}

static void session_open(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	fake_reset();
	stub = gdbstub_create(&fake_ops, &F);
	F.stub = stub;
	cfd = sv[0];
	serve_sv = sv[1];
	no_ack = false;
	pthread_create(&serve_thread, NULL, serve_main, NULL);
}

static void session_close(void)
{
	close(cfd);
	pthread_join(serve_thread, NULL);
	gdbstub_destroy(stub);
	stub = NULL;
}

/* One byte from the stub, -1 after 5 s or at EOF. */
static int get_byte(void)
{
	struct pollfd p = { .fd = cfd, .events = POLLIN };
	uint8_t c;

	if (poll(&p, 1, 5000) <= 0 || read(cfd, &c, 1) != 1)
		return -1;
	return c;
}

/* Errors show up as missing replies; the stub may have hung up. */
static void put_raw(const char *s, size_t len)
{
	if (write(cfd, s, len) != (ssize_t)len)
		tap_diag("short write to the stub");
}

static void put_str(const char *s)
{
	put_raw(s, strlen(s));
}

/* Frame and send a packet; returns the stub's ack byte ('+', '-'). */
static int put_packet_len(const char *data, size_t len)
{
	char *frame = malloc(len + 5);
	uint8_t sum = 0;
	size_t i;

	for (i = 0; i < len; i++)
		sum += (uint8_t)data[i];
	frame[0] = '$';
	memcpy(frame + 1, data, len);
	snprintf(frame + len + 1, 4, "#%02x", sum);
	put_raw(frame, len + 4);
	free(frame);
	return no_ack ? '+' : get_byte();
}

static int put_packet(const char *data)
{
	return put_packet_len(data, strlen(data));
}

/* Read one reply ("$...#cs"), check its checksum, ack it with `ack`. */
static char *get_reply_ack(char ack)
{
	static char buf[16384];
	size_t len = 0;
	uint8_t sum = 0;
	int c, hi, lo;

	do {
		c = get_byte();
		if (c < 0)
			return NULL;
	} while (c != '$');
	while ((c = get_byte()) >= 0 && c != '#' && len < sizeof(buf) - 1) {
		buf[len++] = (char)c;
		sum += (uint8_t)c;
	}
	buf[len] = '\0';
	hi = get_byte();
	lo = get_byte();
	if (c != '#' || hi < 0 || lo < 0)
		return NULL;
	{
		char cs[3] = { (char)hi, (char)lo, 0 };

		if (strtoul(cs, NULL, 16) != sum)
			return NULL;
	}
	if (!no_ack)
		put_raw(&ack, 1);
	return buf;
}

static char *get_reply(void)
{
	return get_reply_ack('+');
}

/* Send a command, return the reply. */
static char *cmd(const char *c)
{
	if (put_packet(c) != '+')
		return NULL;
	return get_reply();
}

static bool reply_is(const char *c, const char *want)
{
	char *r = cmd(c);

	if (!r || strcmp(r, want)) {
		tap_diag("%s: got \"%s\", want \"%s\"", c, r ? r : "(none)",
			 want);
		return false;
	}
	return true;
}

static void hex_le64(char *out, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		sprintf(out + 2 * i, "%02x", (unsigned int)(v >> (8 * i)) & 0xff);
}

static void tohex(char *out, const char *s)
{
	while (*s)
		out += sprintf(out, "%02x", (uint8_t)*s++);
	*out = '\0';
}

/* Wait (up to 5 s) until the stub thread has called into the target. */
static void wait_count(const int *counter, int want)
{
	int i;

	for (i = 0; i < 5000 && __atomic_load_n(counter, __ATOMIC_SEQ_CST) <
	     want; i++)
		usleep(1000);
}

/* ---- tests ---- */

static void test_framing(void)
{
	char *r;
	char first[64];

	session_open();
	ok(reply_is("?", "T05thread:1;"), "? after attach: stopped, thread 1");
	ok(F.stop_alls == 1, "attaching stops every vCPU");

	/* Bad checksum: nack, then the stub waits for the resend. */
	put_str("$?#00");
	is_int(get_byte(), '-', "bad checksum is nacked");
	put_str("$?#zz");
	is_int(get_byte(), '-', "non-hex checksum is nacked");
	ok(reply_is("?", "T05thread:1;"), "the resent packet is answered");

	/* We nack the reply: the stub sends the same packet again. */
	is_int(put_packet("qC"), '+', "qC acked");
	r = get_reply_ack('-');
	snprintf(first, sizeof(first), "%s", r ? r : "");
	r = get_reply();
	ok(r && !strcmp(first, "QC1") && !strcmp(r, "QC1"),
	   "nacked reply is retransmitted (%s, %s)", first, r ? r : "");

	/* Leading garbage and stray acks before '$' are skipped; a '$'
	 * inside a packet restarts it. */
	put_str("++xx");
	ok(reply_is("qC", "QC1"), "garbage before a packet is ignored");
	put_str("$qAtt");
	ok(reply_is("qAttached", "1"), "a restarted packet is parsed afresh");

	ok(reply_is("Jxyz", ""), "unknown command: empty reply");
	ok(reply_is("", ""), "empty packet: empty reply");
	{
		static char big[GDB_PACKET_SIZE + 100];

		memset(big, 'M', sizeof(big) - 1);
		is_int(put_packet(big), '+', "overlong packet is acked");
		r = get_reply();
		ok(r && !strcmp(r, "E22"), "overlong packet: error reply");
	}
	r = cmd("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386");
	ok(r && strstr(r, "PacketSize=1000") && strstr(r, "swbreak+") &&
	   strstr(r, "hwbreak+") && strstr(r, "qXfer:features:read+"),
	   "qSupported: %s", r ? r : "(none)");
	ok(reply_is("QStartNoAckMode", "OK"), "QStartNoAckMode");
	no_ack = true;
	put_str("$?#3f");
	r = get_reply();
	ok(r && !strcmp(r, "T05thread:1;"), "no-ack mode: packets without acks");
	session_close();
	ok(F.detaches == 1, "EOF detaches from the target");
}

static void test_registers(void)
{
	char *r, want[64], *g;
	size_t glen;

	session_open();
	r = cmd("g");
	ok(r && strlen(r) == 2 * 608, "g: 608 bytes of registers (%zu hex)",
	   r ? strlen(r) : 0);
	hex_le64(want, F.regs[0].gpr[0]);
	ok(r && !strncmp(r, want, 16), "g: rax first, little-endian");
	hex_le64(want, F.regs[0].rip);
	ok(r && !strncmp(r + 16 * 16, want, 16), "g: rip after r15");
	ok(r && !strncmp(r + 17 * 16, "02020000", 8), "g: eflags 32-bit");
	ok(r && !strncmp(r + 17 * 16 + 8, "10000000", 8), "g: cs");

	/* G: rewrite rbx, keep the rest. */
	glen = r ? strlen(r) : 0;
	g = malloc(glen + 2);
	g[0] = 'G';
	memcpy(g + 1, r ? r : "", glen + 1);
	hex_le64(want, 0xdeadbeefcafef00dULL);
	memcpy(g + 1 + 16, want, 16);
	ok(reply_is(g, "OK"), "G accepted");
	is_int(F.regs[0].gpr[1], 0xdeadbeefcafef00dULL, "G wrote rbx");
	is_int(F.regs[0].gpr[0], 0x1111111111111111ULL, "G kept rax");
	g[10] = '\0';
	ok(reply_is(g, "E22"), "G with a short register file: error");
	free(g);

	hex_le64(want, F.regs[0].rip);
	ok(reply_is("p10", want), "p 0x10 is rip");
	hex_le64(want, 0x9000);
	ok(reply_is("p3e", want), "p 0x3e is cr3");
	ok(reply_is("P10=7856341200000000", "OK"), "P rip");
	is_int(F.regs[0].rip, 0x12345678, "P wrote rip");
	ok(reply_is("P11=00030000", "OK"), "P eflags (4 bytes)");
	is_int(F.regs[0].eflags, 0x300, "P wrote eflags");
	ok(reply_is("P11=0003", "E22"), "P with the wrong size: error");
	ok(reply_is("p42", "E22"), "p past the last register: error");
	ok(reply_is("pzz", "E22"), "p without a number: error");

	/* Threads select whose registers g/p see. */
	ok(reply_is("Hg2", "OK"), "Hg2");
	hex_le64(want, F.regs[1].rip);
	ok(reply_is("p10", want), "after Hg2, p reads vCPU 1");
	ok(reply_is("qC", "QC2"), "qC follows Hg");
	ok(reply_is("Hg3", "E22"), "Hg of a missing thread: error");
	ok(reply_is("Hg0", "OK") && reply_is("qC", "QC2"),
	   "Hg0 (any) keeps the current thread");
	ok(reply_is("Hc-1", "OK"), "Hc-1");
	session_close();
}

static void test_memory(void)
{
	char *r, buf[64], pkt[128];

	session_open();
	ok(reply_is("m1000,4", "00010203"), "m reads hex bytes");
	r = cmd("m3ffe,4");
	ok(r && !strcmp(r, "feff"), "m across the end: short read (%s)",
	   r ? r : "");
	ok(reply_is("m9000,4", "E0e"), "m of unmapped memory: E0e (EFAULT)");
	ok(reply_is("m1000", "E22"), "m without a length: error");
	ok(reply_is("m1000,0", ""), "m of zero bytes: empty");
	ok(reply_is("M1010,3:aabbcc", "OK"), "M writes hex");
	ok(F.mem[0x10] == 0xaa && F.mem[0x11] == 0xbb && F.mem[0x12] == 0xcc,
	   "M bytes landed");
	ok(reply_is("M1010,3:aabb", "E22"), "M with too little data: error");
	ok(reply_is("M1010,1:zz", "E22"), "M with bad hex: error");
	ok(reply_is("M9000,1:00", "E0e"), "M to unmapped memory: E0e");

	/* X: binary; '#' (0x23), '$' (0x24) and '}' (0x7d) escaped. */
	{
		const char x[] = "X1020,4:\x01}\x03}\x04}]";

		is_int(put_packet_len(x, sizeof(x) - 1), '+', "X acked");
		r = get_reply();
		ok(r && !strcmp(r, "OK"), "X accepted");
		ok(F.mem[0x20] == 0x01 && F.mem[0x21] == 0x23 &&
		   F.mem[0x22] == 0x24 && F.mem[0x23] == 0x7d,
		   "X unescaped binary data");
	}
	ok(reply_is("X1020,0:", "OK"), "X probe of zero bytes");
	ok(reply_is("X1020,2:a", "E22"), "X with a short payload: error");
	ok(F.last_phys == false, "virtual addresses by default");

	/* monitor phys on: the same commands on guest-physical addresses. */
	tohex(buf, "phys on");
	snprintf(pkt, sizeof(pkt), "qRcmd,%s", buf);
	r = cmd(pkt);
	ok(r && r[0] == 'O', "monitor phys on prints a line");
	r = get_reply();
	ok(r && !strcmp(r, "OK"), "monitor phys on: OK");
	ok(reply_is("m200010,3", "aabbcc"), "m reads guest-physical");
	ok(F.last_phys == true, "the target was asked for physical memory");
	tohex(buf, "phys off");
	snprintf(pkt, sizeof(pkt), "qRcmd,%s", buf);
	r = cmd(pkt);
	r = r ? get_reply() : NULL;
	ok(r && !strcmp(r, "OK"), "monitor phys off");
	ok(reply_is("m1010,1", "aa") && !F.last_phys, "back to virtual");
	tohex(buf, "frobnicate");
	snprintf(pkt, sizeof(pkt), "qRcmd,%s", buf);
	r = cmd(pkt);
	r = r && r[0] == 'O' ? get_reply() : NULL;
	ok(r && !strcmp(r, "E01"), "unknown monitor command: message, E01");

	ok(reply_is("Hg2", "OK") && reply_is("m1000,1", "00") &&
	   F.last_mem_cpu == 1, "memory is read through the Hg thread");
	session_close();
}

static void test_breakpoints(void)
{
	session_open();
	ok(reply_is("Z0,1010,1", "OK"), "Z0");
	ok(F.nr_bps == 1 && F.bps[0].type == GDB_BP_SW &&
	   F.bps[0].addr == 0x1010 && F.bps[0].len == 1, "Z0 recorded");
	ok(reply_is("Z1,ffffffff81000000,1", "OK"), "Z1");
	ok(F.nr_bps == 2 && F.bps[1].type == GDB_BP_HW &&
	   F.bps[1].addr == 0xffffffff81000000ULL, "Z1 recorded");
	ok(reply_is("Z2,2000,4", "OK") && F.bps[2].type == GDB_WP_WRITE &&
	   F.bps[2].len == 4, "Z2 write watchpoint");
	ok(reply_is("Z4,2008,8", "OK") && F.bps[3].type == GDB_WP_ACCESS,
	   "Z4 access watchpoint");
	ok(reply_is("Z3,2000,4", ""), "Z3 unsupported by the target: empty");
	ok(reply_is("Z5,2000,4", ""), "Z5: empty");
	ok(reply_is("Z0,1010,1;X2,0a", "OK"), "Z0 with a condition list");
	ok(reply_is("Z0,1010", "E22"), "Z0 without a kind: error");
	ok(reply_is("z0,1010,1", "OK"), "z0");
	ok(reply_is("z0,1010,1", "OK") && reply_is("z0,1010,1", "E02"),
	   "z0 of a missing breakpoint: the target's error");
	ok(reply_is("z1,ffffffff81000000,1", "OK") && F.nr_bps == 2,
	   "z1 removed the hardware breakpoint");
	ok(reply_is("D", "OK"), "D");
	session_close();
	is_int(F.detaches, 1, "D detaches once");
	is_int(F.nr_bps, 0, "detach cleared the breakpoints");
}

static void test_run_control(void)
{
	struct gdb_stop s;
	char *r;
	int n;

	session_open();
	ok(reply_is("?", "T05thread:1;"), "attached");
	n = F.stop_alls;
	is_int(put_packet("c"), '+', "c acked");
	wait_count(&F.conts, 1);
	is_int(F.conts, 1, "c continued the target");
	s = (struct gdb_stop){ .cpu = 1, .why = GDB_STOP_SWBREAK };
	gdbstub_report_stop(stub, &s);
	r = get_reply();
	ok(r && !strcmp(r, "T05thread:2;swbreak:;"),
	   "software breakpoint stop: %s", r ? r : "");
	is_int(F.stop_alls, n + 1, "a reported stop stops every vCPU");
	ok(reply_is("qC", "QC2"), "the stopping thread becomes current");

	/* Ctrl-C while running. */
	is_int(put_packet("c"), '+', "c acked");
	put_str("\x03");
	r = get_reply();
	ok(r && !strcmp(r, "T02thread:2;"), "Ctrl-C: SIGINT stop (%s)",
	   r ? r : "");
	is_int(F.stop_alls, n + 2, "Ctrl-C stops every vCPU");
	put_str("\x03");	/* while stopped: ignored */
	ok(reply_is("?", "T02thread:2;"), "? repeats the last stop");

	/* Single step of the current thread. */
	is_int(put_packet("s"), '+', "s acked");
	wait_count(&F.steps, 1);
	ok(F.steps == 1 && F.step_cpu == 1, "s steps the current vCPU (%d)",
	   F.step_cpu);
	s = (struct gdb_stop){ .cpu = 1, .why = GDB_STOP_STEP };
	gdbstub_report_stop(stub, &s);
	r = get_reply();
	ok(r && !strcmp(r, "T05thread:2;"), "step stop: %s", r ? r : "");

	/* c with an address moves rip first. */
	is_int(put_packet("c1234"), '+', "c ADDR acked");
	wait_count(&F.conts, 3);
	s = (struct gdb_stop){ .cpu = 1, .why = GDB_STOP_HWBREAK };
	gdbstub_report_stop(stub, &s);
	r = get_reply();
	ok(r && !strcmp(r, "T05thread:2;hwbreak:;"), "hwbreak stop: %s",
	   r ? r : "");
	is_int(F.regs[1].rip, 0x1234, "c ADDR set rip of the Hc thread");

	/* vCont */
	ok(reply_is("vCont?", "vCont;c;C;s;S"), "vCont?");
	is_int(put_packet("vCont;s:1;c"), '+', "vCont;s:1;c acked");
	wait_count(&F.steps, 2);
	ok(F.steps == 2 && F.step_cpu == 0, "vCont steps thread 1 (vCPU 0)");
	s = (struct gdb_stop){ .cpu = 0, .why = GDB_STOP_WATCH,
			       .addr = 0x2000 };
	gdbstub_report_stop(stub, &s);
	r = get_reply();
	ok(r && !strcmp(r, "T05thread:1;watch:2000;"), "watchpoint stop: %s",
	   r ? r : "");
	is_int(put_packet("vCont;c"), '+', "vCont;c acked");
	wait_count(&F.conts, 4);
	s = (struct gdb_stop){ .cpu = 1, .why = GDB_STOP_AWATCH,
			       .addr = 0x2008 };
	gdbstub_report_stop(stub, &s);
	r = get_reply();
	ok(r && !strcmp(r, "T05thread:2;awatch:2008;"), "awatch stop: %s",
	   r ? r : "");
	is_int(F.conts, 4, "vCont;c continued");
	ok(reply_is("vCont;x", "E22"), "vCont with an unknown action: error");
	ok(reply_is("vCont;s:9", "E22"), "vCont on a missing thread: error");

	/* A stop reported while stopped is stale: dropped at resume. */
	s = (struct gdb_stop){ .cpu = 0, .why = GDB_STOP_SWBREAK };
	gdbstub_report_stop(stub, &s);
	is_int(put_packet("c"), '+', "c acked");
	put_str("\x03");
	r = get_reply();
	ok(r && !strcmp(r, "T02thread:2;"),
	   "a stale stop is not reported after resuming (%s)", r ? r : "");

	/* The VM ends while running: W and the session is over. */
	is_int(put_packet("c"), '+', "c acked");
	gdbstub_report_exit(stub, 3);
	no_ack = true;		/* the stub hangs up without waiting */
	r = get_reply();
	ok(r && !strcmp(r, "W03"), "VM exit while running: W03 (%s)",
	   r ? r : "");
	is_int(get_byte(), -1, "the stub hangs up after W");
	session_close();
	is_int(F.kills, 0, "no kill");
}

static void test_threads_and_kill(void)
{
	char *r, want[64];

	session_open();
	ok(reply_is("qfThreadInfo", "m1,2"), "qfThreadInfo lists the vCPUs");
	ok(reply_is("qsThreadInfo", "l"), "qsThreadInfo ends the list");
	ok(reply_is("T2", "OK"), "T2: thread alive");
	ok(reply_is("T3", "E01") && reply_is("T0", "E01"),
	   "T of a missing thread: error");
	tohex(want, "vCPU 1");
	ok(reply_is("qThreadExtraInfo,2", want), "qThreadExtraInfo names it");
	ok(reply_is("qAttached", "1"), "qAttached");
	ok(reply_is("qSymbol::", "OK"), "qSymbol");

	/* target.xml, read in small chunks. */
	{
		static char xml[16384];
		size_t off = 0;

		for (;;) {
			char q[96];

			snprintf(q, sizeof(q),
				 "qXfer:features:read:target.xml:%zx,100",
				 off);
			r = cmd(q);
			if (!r || (r[0] != 'm' && r[0] != 'l'))
				break;
			memcpy(xml + off, r + 1, strlen(r + 1));
			off += strlen(r + 1);
			if (r[0] == 'l')
				break;
		}
		xml[off] = '\0';
		ok(r && r[0] == 'l' && !strncmp(xml, "<?xml", 5) &&
		   strstr(xml, "i386:x86-64") && strstr(xml, "</target>"),
		   "qXfer target.xml in chunks (%zu bytes)", off);
		ok(strstr(xml, "\"cr3\"") && strstr(xml, "\"fs_base\""),
		   "target.xml has cr3 and fs_base");
	}
	ok(reply_is("qXfer:features:read:other.xml:0,100", "E00"),
	   "qXfer of another annex: error");
	ok(reply_is("qXfer:features:read:target.xml:ffff,100", "l"),
	   "qXfer past the end: l");

	/* k: no reply, the VM is killed. */
	is_int(put_packet("k"), '+', "k acked");
	is_int(get_byte(), -1, "k: no reply, the stub hangs up");
	session_close();
	is_int(F.kills, 1, "k killed the target");
}

/* ---- listening ---- */

static int tcp_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void test_listen(void)
{
	struct gdbstub *g;
	int port, i;

	fake_reset();
	g = gdbstub_create(&fake_ops, &F);
	is_int(gdbstub_start(g, "notaport"), -EINVAL, "--gdb notaport");
	is_int(gdbstub_start(g, "127.0.0.1:70000"), -EINVAL,
	       "--gdb with a port out of range");
	is_int(gdbstub_start(g, "[::1:1234"), -EINVAL, "--gdb [::1:1234");
	is_int(gdbstub_start(g, "example.com:1234"), -EINVAL,
	       "--gdb with a host name: numeric addresses only");
	{
		struct gdbstub *l = gdbstub_create(&fake_ops, &F);

		is_int(gdbstub_start(l, "localhost:0"), 0, "--gdb localhost:0");
		gdbstub_destroy(l);
		l = gdbstub_create(&fake_ops, &F);
		is_int(gdbstub_start(l, ":0"), 0, "--gdb :0 (loopback)");
		gdbstub_destroy(l);
	}
	is_int(gdbstub_start(g, "127.0.0.1:0"), 0, "listens on 127.0.0.1:0");
	port = gdbstub_port(g);
	ok(port > 0, "bound port %d", port);
	/* Two clients in a row: one at a time. */
	for (i = 0; i < 2; i++) {
		char *r;

		cfd = tcp_connect(port);
		no_ack = false;
		ok(cfd >= 0, "client %d connects", i + 1);
		r = cmd("?");
		ok(r && !strcmp(r, "T05thread:1;"), "client %d: ? answered",
		   i + 1);
		ok(reply_is("D", "OK"), "client %d detaches", i + 1);
		close(cfd);
	}
	/* A connected client when the stub is destroyed. */
	cfd = tcp_connect(port);
	ok(cmd("?") != NULL, "third client served");
	gdbstub_destroy(g);
	is_int(get_byte(), -1, "destroy hangs up on the client");
	close(cfd);
}

/* ---- a real gdb, where installed ---- */

static void test_real_gdb(void)
{
	char port_s[16], target[64], out[8192];
	struct gdbstub *g;
	int pipefd[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (system("gdb --version >/dev/null 2>&1") != 0) {
		tap_skip(6, "gdb is not installed");
		return;
	}
	fake_reset();
	F.auto_stop = true;
	F.regs[0].rip = 0x1000;
	F.regs[0].gpr[0] = 0x1234;
	g = gdbstub_create(&fake_ops, &F);
	F.stub = g;
	if (gdbstub_start(g, "127.0.0.1:0")) {
		tap_skip(6, "cannot listen");
		gdbstub_destroy(g);
		return;
	}
	snprintf(port_s, sizeof(port_s), "%d", gdbstub_port(g));
	snprintf(target, sizeof(target), "target remote 127.0.0.1:%s", port_s);
	if (pipe(pipefd) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		execlp("gdb", "gdb", "-batch", "-nx",
		       "-ex", "set confirm off",
		       "-ex", target,
		       "-ex", "info threads",
		       "-ex", "p/x $rax",
		       "-ex", "p/x $cr3",
		       "-ex", "x/4xb 0x1000",
		       "-ex", "set {char}0x1004 = 0x5a",
		       "-ex", "break *0x1010",
		       "-ex", "continue",
		       "-ex", "p/x $pc",
		       "-ex", "stepi",
		       "-ex", "p/x $pc",
		       "-ex", "detach",
		       (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	while (len < sizeof(out) - 1 &&
	       (n = read(pipefd[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	gdbstub_destroy(g);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "gdb -batch ran");
	ok(strstr(out, "Thread 1") && strstr(out, "Thread 2"),
	   "gdb sees one thread per vCPU");
	ok(strstr(out, "= 0x1234") && strstr(out, "= 0x9000"),
	   "gdb reads rax and cr3");
	ok(strstr(out, "0x00\t0x01\t0x02\t0x03"), "gdb reads memory");
	ok(F.mem[4] == 0x5a, "gdb wrote memory");
	ok(strstr(out, "= 0x1010") && strstr(out, "= 0x1012"),
	   "gdb ran to the breakpoint and stepped");
	if (tap_failed || getenv("GDB_VERBOSE"))
		tap_diag("gdb output:\n%s", out);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	log_quiet = true;	/* connect/listen chatter, provoked errors */
	test_framing();
	test_registers();
	test_memory();
	test_breakpoints();
	test_run_control();
	test_threads_and_kill();
	test_listen();
	test_real_gdb();
	return tap_done();
}
