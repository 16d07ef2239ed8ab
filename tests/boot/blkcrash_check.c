// SPDX-License-Identifier: GPL-2.0
/*
 * blkcrash_check RAW F: check a disk written by tests/guest/g_blk_crash.c
 * until mvm was killed, given its last console line "F <F>" (every write
 * up to seq F was flushed).  Each of the 256 4-KiB blocks must be
 *   - whole: magic, its own slot, the same seq at both ends, the seq's
 *     pattern in between (no torn or misplaced write), and
 *   - at least as new as the last write to it up to F (a flushed write
 *     is never lost; later, unflushed ones may or may not be there),
 *   - or all zeros if no write up to F went there.
 * Prints one line per bad block (at most 10) and exits 1 if any.
 * Built static: it also runs inside the nested-KVM guest.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK		4096
#define BLOCK_SLOTS	256
#define CRASH_MAGIC	0x736172632d6d766dULL

/* g_blk_crash.c has the same function. */
static uint8_t crash_pattern(uint64_t seq, unsigned int i)
{
	return (uint8_t)(seq * 167 + i * 13 + (i >> 8) + 0x3c);
}

static int check(const uint8_t *b, uint64_t slot, uint64_t f, char *why,
		 size_t len)
{
	uint64_t magic, seq, s, tail, want;
	unsigned int i;

	/* The last write up to f that went to this slot (0: none). */
	want = f >= slot ? f - (f - slot) % BLOCK_SLOTS : 0;
	for (i = 0; i < BLOCK && !b[i]; i++)
		;
	if (i == BLOCK) {
		if (!want)
			return 0;
		snprintf(why, len, "zeros, but seq %llu was flushed there",
			 (unsigned long long)want);
		return 1;
	}
	memcpy(&magic, b, 8);
	memcpy(&seq, b + 8, 8);
	memcpy(&s, b + 16, 8);
	memcpy(&tail, b + BLOCK - 8, 8);
	if (magic != CRASH_MAGIC || s != slot || seq != tail ||
	    seq % BLOCK_SLOTS != slot) {
		snprintf(why, len, "not a whole block of this slot (magic %#llx slot %llu seq %llu tail %llu)",
			 (unsigned long long)magic, (unsigned long long)s,
			 (unsigned long long)seq, (unsigned long long)tail);
		return 1;
	}
	for (i = 24; i < BLOCK - 8; i++)
		if (b[i] != crash_pattern(seq, i)) {
			snprintf(why, len, "seq %llu torn at byte %u",
				 (unsigned long long)seq, i);
			return 1;
		}
	if (seq < want) {
		snprintf(why, len, "seq %llu, older than flushed seq %llu",
			 (unsigned long long)seq, (unsigned long long)want);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t b[BLOCK];
	unsigned int slot, bad = 0;
	uint64_t f;
	char why[160];
	FILE *img;

	if (argc != 3) {
		fprintf(stderr, "usage: blkcrash_check RAW F\n");
		return 2;
	}
	f = strtoull(argv[2], NULL, 10);
	img = fopen(argv[1], "rb");
	if (!img) {
		perror(argv[1]);
		return 2;
	}
	for (slot = 0; slot < BLOCK_SLOTS; slot++) {
		if (fread(b, 1, BLOCK, img) != BLOCK)
			memset(b, 0, BLOCK);	/* a short raw file reads zeros */
		if (check(b, slot, f, why, sizeof(why)) && bad++ < 10)
			printf("block %u: %s\n", slot, why);
	}
	fclose(img);
	if (bad)
		printf("%u of %u blocks bad after F %llu\n", bad, BLOCK_SLOTS,
		       (unsigned long long)f);
	return bad ? 1 : 0;
}
