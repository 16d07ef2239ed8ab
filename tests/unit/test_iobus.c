// SPDX-License-Identifier: GPL-2.0
/* The PIO/MMIO dispatcher: ordering, lookup, overlap refusal, dispatch. */
#include "tap.h"
#include "core/iobus.h"
#include "core/util.h"

struct rec {
	uint64_t off;
	unsigned int len;
	uint64_t val;
	int writes, reads;
};

static void rec_read(void *opaque, uint64_t off, uint8_t *data,
		     unsigned int len)
{
	struct rec *r = opaque;

	r->reads++;
	r->off = off;
	put_leN(data, len, 0x1122334455667788ULL);
}

static void rec_write(void *opaque, uint64_t off, const uint8_t *data,
		      unsigned int len)
{
	struct rec *r = opaque;

	r->writes++;
	r->off = off;
	r->len = len;
	r->val = get_leN(data, len);
}

static const struct io_ops ops = { .read = rec_read, .write = rec_write };

int main(void)
{
	struct iobus bus;
	struct rec a = { 0 }, b = { 0 }, c = { 0 }, many[100];
	uint8_t buf[8];
	unsigned int i;

	log_quiet = true;
	iobus_init(&bus, "test");
	is_int(iobus_register(&bus, 0x100, 0x10, &ops, &a, "a"), 0,
	       "register a at 0x100+0x10");
	is_int(iobus_register(&bus, 0x300, 0x8, &ops, &c, "c"), 0,
	       "register c at 0x300 (out of order)");
	is_int(iobus_register(&bus, 0x200, 0x100, &ops, &b, "b"), 0,
	       "register b at 0x200+0x100 (touching c, not overlapping)");
	is_int(iobus_register(&bus, 0x10f, 1, &ops, &b, "x"), -EEXIST,
	       "overlap with the tail of a refused");
	is_int(iobus_register(&bus, 0xf0, 0x11, &ops, &b, "x"), -EEXIST,
	       "overlap with the head of a refused");
	is_int(iobus_register(&bus, 0x0, 0x1000, &ops, &b, "x"), -EEXIST,
	       "range covering everything refused");
	is_int(iobus_register(&bus, 0x400, 0, &ops, &b, "x"), -EINVAL,
	       "empty range refused");
	is_int(iobus_register(&bus, UINT64_MAX - 1, 4, &ops, &b, "x"), -EINVAL,
	       "wrapping range refused");
	is_int(bus.nr, 3, "three ranges registered");
	ok(bus.ranges[0].base == 0x100 && bus.ranges[1].base == 0x200 &&
	   bus.ranges[2].base == 0x300, "ranges kept sorted");

	ok(iobus_find(&bus, 0x100) && iobus_find(&bus, 0x100)->opaque == &a,
	   "lookup at the first byte");
	ok(iobus_find(&bus, 0x10f) && iobus_find(&bus, 0x10f)->opaque == &a,
	   "lookup at the last byte");
	ok(!iobus_find(&bus, 0x110), "lookup one past the end misses");
	ok(!iobus_find(&bus, 0xff), "lookup before the first range misses");
	ok(iobus_find(&bus, 0x2ff)->opaque == &b, "lookup at end of b");
	ok(iobus_find(&bus, 0x300)->opaque == &c, "lookup at start of c");

	put_le32(buf, 0xdeadbeef);
	ok(iobus_access(&bus, 0x104, buf, 4, true), "write dispatched");
	ok(a.writes == 1 && a.off == 4 && a.len == 4 && a.val == 0xdeadbeef,
	   "handler got offset, size and value");
	ok(iobus_access(&bus, 0x302, buf, 2, false), "read dispatched");
	is_int(get_le16(buf), 0x7788, "read value returned little-endian");
	ok(!iobus_access(&bus, 0x10e, buf, 4, true),
	   "access straddling the end of a range refused");
	is_int(a.writes, 1, "...and the handler was not called");
	memset(buf, 0, sizeof(buf));
	ok(!iobus_access(&bus, 0x500, buf, 4, false), "unclaimed read");
	is_int(get_le32(buf), 0xffffffff, "unclaimed read returns all ones");

	is_int(iobus_unregister(&bus, 0x200, &a), -ENOENT,
	       "unregister with the wrong owner refused");
	is_int(iobus_unregister(&bus, 0x200, &b), 0, "unregister b");
	ok(!iobus_find(&bus, 0x250), "b no longer claims its range");
	is_int(iobus_register(&bus, 0x250, 0x10, &ops, &b, "b2"), 0,
	       "freed space can be reused");

	for (i = 0; i < ARRAY_SIZE(many); i++)
		if (iobus_register(&bus, 0x10000 + i * 0x100, 0x80, &ops,
				   &many[i], "many"))
			break;
	is_int(i, ARRAY_SIZE(many), "100 more ranges registered (growth)");
	for (i = 0; i < ARRAY_SIZE(many); i++)
		if (iobus_find(&bus, 0x10000 + i * 0x100 + 0x7f)->opaque !=
		    &many[i])
			break;
	is_int(i, ARRAY_SIZE(many), "binary search finds each of them");
	iobus_destroy(&bus);
	return tap_done();
}
