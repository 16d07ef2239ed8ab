// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side decompression of a bzImage's payload, the compressed
 * vmlinux.bin (plus vmlinux.relocs on KASLR kernels) that the kernel's
 * own decompressor (arch/x86/boot/compressed/misc.c) would unpack in the
 * guest.
 *
 * The formats and their magic bytes are the kernel's: lib/decompress.c's
 * compressed_formats table (two bytes each, as boot.rst "payload_offset"
 * lists them) and the suffixes of arch/x86/boot/compressed/Makefile.  The
 * payloads are made by scripts/Makefile.lib:
 *
 *   gzip   gzip -n -9                       (1f 8b; zlib)
 *   bzip2  bzip2 -9, size appended          (42 5a "BZh"; libbz2)
 *   lzma   lzma -9, size appended           (5d 00, .lzma "alone"; liblzma)
 *   xz     xz --check=crc32 --x86 --lzma2=,dict=32MiB, size appended
 *          (scripts/xz_wrap.sh; fd 37 "7zXZ"; liblzma)
 *   lzo    lzop -9, size appended           (89 4c "\x89LZO"; no library:
 *          the guest decompresses it)
 *   lz4    lz4 -l -9, size appended         (02 21 4c 18: the LEGACY lz4
 *          format, magic 0x184C2102, 8 MiB blocks each preceded by its
 *          compressed length; liblz4's block decoder, as the frame API
 *          does not read it)
 *   zstd   zstd -22 --ultra, size appended  (28 b5 2f fd; libzstd)
 *
 * "Size appended" is size_append: the uncompressed length as 4 bytes,
 * little endian, after the compressed stream; gzip's own trailer already
 * ends with it (ISIZE).  mkpiggy.c reads those last 4 bytes of every
 * format as z_output_len, so mvm does too (bzimage_host.c), and each
 * decoder here must end its stream before them and produce exactly that
 * many bytes.  lz4's legacy format has no end marker: like the kernel's
 * unlz4 (lib/decompress_unlz4.c, which is handed in_len - 4), its blocks
 * must fill the payload up to the size field exactly.  0x1f 0x9e (old
 * gzip) is in the kernel's table but zlib does not read it and no
 * kernel build makes it: it falls back to the guest too.
 *
 * boot.rst also says the uncompressed payload is always ELF (7f 45 4c
 * 46), so an ELF payload (a kernel stored uncompressed) is taken as is.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "x86/decompress.h"
#include "core/util.h"

#define LZ4_LEGACY_MAGIC	0x184c2102U
#define LZ4_LEGACY_BLOCK	(8 * MiB)	/* lz4io.c LEGACY_BLOCKSIZE */
#define SIZE_FIELD		4

static const struct payload_format formats[] = {
	{ PAYLOAD_GZIP, "gzip", { 0x1f, 0x8b }, 2, true, true },
	{ PAYLOAD_GZIP_OLD, "gzip (old magic 1f 9e)", { 0x1f, 0x9e }, 2,
	  false, true },
	{ PAYLOAD_BZIP2, "bzip2", { 0x42, 0x5a }, 2, true, true },
	{ PAYLOAD_LZMA, "lzma", { 0x5d, 0x00 }, 2, true, true },
	{ PAYLOAD_XZ, "xz", { 0xfd, 0x37 }, 2, true, true },
	{ PAYLOAD_LZO, "lzo", { 0x89, 0x4c }, 2, false, true },
	{ PAYLOAD_LZ4, "lz4", { 0x02, 0x21 }, 2, true, true },
	{ PAYLOAD_ZSTD, "zstd", { 0x28, 0xb5 }, 2, true, true },
	{ PAYLOAD_ELF, "uncompressed ELF", { 0x7f, 'E', 'L', 'F' }, 4, true,
	  false },
};

const struct payload_format *payload_format(const uint8_t *p, size_t len)
{
	const struct payload_format *f;

	for (f = formats; f < formats + ARRAY_SIZE(formats); f++)
		if (len >= f->magic_len && !memcmp(p, f->magic, f->magic_len))
			return f;
	return NULL;
}

struct dec {
	const uint8_t *in;
	size_t in_len;
	uint8_t *out;
	size_t out_len;
	char *why;
	size_t why_len;
};

static int __printf(3, 4) dec_fail(struct dec *d, int err, const char *fmt,
				   ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->why, d->why_len, fmt, ap);
	va_end(ap);
	return err;
}

/* The stream ended cleanly after `got` bytes: they must be out_len. */
static int dec_end(struct dec *d, size_t got)
{
	if (got != d->out_len)
		return dec_fail(d, -EBADMSG,
				"it decompresses to %zu bytes, its size field says %zu",
				got, d->out_len);
	return 0;
}

static int dec_overflow(struct dec *d)
{
	return dec_fail(d, -EBADMSG,
			"it decompresses to more than the %zu bytes its size field says",
			d->out_len);
}

static int dec_short(struct dec *d)
{
	return dec_fail(d, -ENODATA,
			"the compressed stream ends early (truncated)");
}

static int dec_gzip(struct dec *d)
{
	z_stream s;
	int ret;

	memset(&s, 0, sizeof(s));
	/* 16 + MAX_WBITS: a gzip wrapper only, its CRC32 and ISIZE checked. */
	if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK)
		return dec_fail(d, -ENOMEM, "zlib: cannot initialize");
	s.next_in = (Bytef *)d->in;
	s.avail_in = (uInt)d->in_len;
	s.next_out = d->out;
	s.avail_out = (uInt)d->out_len;
	ret = inflate(&s, Z_FINISH);
	inflateEnd(&s);
	switch (ret) {
	case Z_STREAM_END:
		return dec_end(d, d->out_len - s.avail_out);
	case Z_BUF_ERROR:
		return s.avail_out ? dec_short(d) : dec_overflow(d);
	case Z_MEM_ERROR:
		return dec_fail(d, -ENOMEM, "zlib: out of memory");
	default:
		return dec_fail(d, -EBADMSG, "zlib: %s",
				s.msg ? s.msg : "corrupt data");
	}
}

static int dec_bzip2(struct dec *d)
{
	bz_stream s;
	int ret;

	memset(&s, 0, sizeof(s));
	if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK)
		return dec_fail(d, -ENOMEM, "libbz2: cannot initialize");
	s.next_in = (char *)d->in;
	s.avail_in = (unsigned int)d->in_len;
	s.next_out = (char *)d->out;
	s.avail_out = (unsigned int)d->out_len;
	do
		ret = BZ2_bzDecompress(&s);
	while (ret == BZ_OK && s.avail_in && s.avail_out);
	BZ2_bzDecompressEnd(&s);
	switch (ret) {
	case BZ_STREAM_END:
		return dec_end(d, d->out_len - s.avail_out);
	case BZ_OK:
		return s.avail_out ? dec_short(d) : dec_overflow(d);
	case BZ_MEM_ERROR:
		return dec_fail(d, -ENOMEM, "libbz2: out of memory");
	default:
		return dec_fail(d, -EBADMSG, "libbz2: corrupt data (error %d)",
				ret);
	}
}

static const char *lzma_reason(lzma_ret ret)
{
	switch (ret) {
	case LZMA_FORMAT_ERROR:
		return "not in the format its magic says";
	case LZMA_OPTIONS_ERROR:
		return "unsupported options in its header";
	case LZMA_DATA_ERROR:
		return "corrupt data";
	case LZMA_UNSUPPORTED_CHECK:
		return "unsupported integrity check";
	default:
		return "decoder error";
	}
}

/* xz streams and legacy .lzma ("alone") files, both liblzma's. */
static int dec_liblzma(struct dec *d, bool xz)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret ret;

	/*
	 * No LZMA_CONCATENATED: the stream ends where its footer says, and
	 * the size field after it is not read as stream padding.
	 */
	ret = xz ? lzma_stream_decoder(&s, UINT64_MAX, 0)
		 : lzma_alone_decoder(&s, UINT64_MAX);
	if (ret != LZMA_OK)
		return dec_fail(d, -ENOMEM, "liblzma: cannot initialize");
	s.next_in = d->in;
	s.avail_in = d->in_len;
	s.next_out = d->out;
	s.avail_out = d->out_len;
	do
		ret = lzma_code(&s, LZMA_FINISH);
	while (ret == LZMA_OK);
	lzma_end(&s);
	switch (ret) {
	case LZMA_STREAM_END:
		return dec_end(d, d->out_len - s.avail_out);
	case LZMA_BUF_ERROR:
		return s.avail_out ? dec_short(d) : dec_overflow(d);
	case LZMA_MEM_ERROR:
	case LZMA_MEMLIMIT_ERROR:
		return dec_fail(d, -ENOMEM, "liblzma: out of memory");
	default:
		return dec_fail(d, -EBADMSG, "liblzma: %s", lzma_reason(ret));
	}
}

static int dec_zstd(struct dec *d)
{
	size_t frame, n;
	ZSTD_DCtx *dctx;

	/* One frame, then the size field (which is no frame). */
	frame = ZSTD_findFrameCompressedSize(d->in, d->in_len);
	if (ZSTD_isError(frame)) {
		if (ZSTD_getErrorCode(frame) == ZSTD_error_srcSize_wrong)
			return dec_short(d);
		return dec_fail(d, -EBADMSG, "libzstd: %s",
				ZSTD_getErrorName(frame));
	}
	dctx = ZSTD_createDCtx();
	if (!dctx)
		return dec_fail(d, -ENOMEM, "libzstd: out of memory");
	n = ZSTD_decompressDCtx(dctx, d->out, d->out_len, d->in, frame);
	ZSTD_freeDCtx(dctx);
	if (!ZSTD_isError(n))
		return dec_end(d, n);
	switch (ZSTD_getErrorCode(n)) {
	case ZSTD_error_dstSize_tooSmall:
		return dec_overflow(d);
	case ZSTD_error_srcSize_wrong:
		return dec_short(d);
	case ZSTD_error_memory_allocation:
		return dec_fail(d, -ENOMEM, "libzstd: out of memory");
	default:
		return dec_fail(d, -EBADMSG, "libzstd: %s",
				ZSTD_getErrorName(n));
	}
}

/*
 * Legacy lz4: magic, then blocks of (le32 compressed length, data), each
 * at most 8 MiB decompressed; a repeated magic starts a concatenated
 * stream.  The last block ends where the size field begins.
 */
static int dec_lz4(struct dec *d)
{
	const uint8_t *p = d->in + 4, *end = d->in + d->in_len - SIZE_FIELD;
	uint8_t *tmp = NULL;
	size_t done = 0, room;
	uint32_t clen;
	int n, err = 0;

	while (p < end) {
		if (end - p < 4) {
			err = dec_short(d);
			break;
		}
		clen = get_le32(p);
		p += 4;
		if (clen == LZ4_LEGACY_MAGIC)
			continue;
		if (clen > (size_t)(end - p)) {
			err = dec_short(d);
			break;
		}
		if (clen > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK)) {
			err = dec_fail(d, -EBADMSG,
				       "liblz4: block of %u bytes, more than an 8 MiB block can take",
				       clen);
			break;
		}
		room = d->out_len - done;
		if (room >= LZ4_LEGACY_BLOCK) {
			n = LZ4_decompress_safe((const char *)p,
						(char *)d->out + done,
						(int)clen, LZ4_LEGACY_BLOCK);
		} else {
			/* Near the end: a block may not overrun out. */
			if (!tmp)
				tmp = malloc(LZ4_LEGACY_BLOCK);
			if (!tmp) {
				err = dec_fail(d, -ENOMEM,
					       "liblz4: out of memory");
				break;
			}
			n = LZ4_decompress_safe((const char *)p, (char *)tmp,
						(int)clen, LZ4_LEGACY_BLOCK);
			if (n > 0 && (size_t)n > room) {
				err = dec_overflow(d);
				break;
			}
			if (n > 0)
				memcpy(d->out + done, tmp, (size_t)n);
		}
		if (n < 0) {
			err = dec_fail(d, -EBADMSG,
				       "liblz4: corrupt block at payload offset %zu",
				       (size_t)(p - d->in));
			break;
		}
		done += (size_t)n;
		p += clen;
	}
	free(tmp);
	return err ? err : dec_end(d, done);
}

int payload_decompress(const struct payload_format *f, const uint8_t *in,
		       size_t in_len, uint8_t *out, size_t out_len, char *why,
		       size_t why_len)
{
	struct dec d = { in, in_len, out, out_len, why, why_len };

	if (in_len < f->magic_len + (f->sized ? SIZE_FIELD : 0))
		return dec_short(&d);
	switch (f->kind) {
	case PAYLOAD_GZIP:
		return dec_gzip(&d);
	case PAYLOAD_BZIP2:
		return dec_bzip2(&d);
	case PAYLOAD_LZMA:
		return dec_liblzma(&d, false);
	case PAYLOAD_XZ:
		return dec_liblzma(&d, true);
	case PAYLOAD_LZ4:
		return dec_lz4(&d);
	case PAYLOAD_ZSTD:
		return dec_zstd(&d);
	case PAYLOAD_ELF:		/* stored uncompressed: as is */
		if (in_len != out_len)
			return dec_end(&d, in_len);
		memcpy(out, in, in_len);
		return 0;
	default:
		break;
	}
	return dec_fail(&d, -EINVAL, "no host decompressor for %s", f->name);
}
