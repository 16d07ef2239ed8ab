/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The compressed kernel inside a bzImage (boot.rst "payload_offset",
 * protocol 2.08+): which format it is, and decompressing it on the host
 * with the format's own library (x86/decompress.c).
 */
#ifndef MVM_X86_DECOMPRESS_H
#define MVM_X86_DECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum payload_kind {
	PAYLOAD_GZIP, PAYLOAD_GZIP_OLD, PAYLOAD_BZIP2, PAYLOAD_LZMA, PAYLOAD_XZ,
	PAYLOAD_LZO, PAYLOAD_LZ4, PAYLOAD_ZSTD, PAYLOAD_ELF,
};

struct payload_format {
	enum payload_kind kind;
	const char *name;	/* "gzip", "xz", ... as lib/decompress.c says */
	uint8_t magic[4];
	size_t magic_len;
	bool host;		/* mvm decompresses it on the host */
	/*
	 * The payload ends with the decompressed size as a 32-bit little-
	 * endian number (gzip's own ISIZE, or the kernel's size_append).
	 */
	bool sized;
};

/* The format of a payload by its magic bytes; NULL if none matches. */
const struct payload_format *payload_format(const uint8_t *p, size_t len);

/*
 * Decompress the whole payload `in` (in_len bytes, the trailing size
 * included) into `out`, which it must fill exactly (out_len bytes).
 * Returns 0, or puts the reason in why (one line, no format name) and
 * returns -EBADMSG (corrupt data, or a size other than out_len), -ENODATA
 * (the compressed stream ends before its end) or -ENOMEM.
 */
int payload_decompress(const struct payload_format *f, const uint8_t *in,
		       size_t in_len, uint8_t *out, size_t out_len, char *why,
		       size_t why_len);

#endif
