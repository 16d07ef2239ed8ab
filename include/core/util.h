/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by every layer: logging, rate-limited warnings,
 * alignment and array macros.  No layer may exit() from deep inside: errors
 * are returned up to main, which prints and exits.
 */
#ifndef MVM_UTIL_H
#define MVM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)		(((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a)	((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a)	(((x) & ((__typeof__(x))(a) - 1)) == 0)
#define MIN(a, b)		((a) < (b) ? (a) : (b))
#define MAX(a, b)		((a) > (b) ? (a) : (b))
#define KiB			(1024ULL)
#define MiB			(1024ULL * KiB)
#define GiB			(1024ULL * MiB)

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define __printf(a, b)		__attribute__((format(printf, a, b)))

/* Every message starts with "mvm: " so users can tell it from guest output. */
void pr_err(const char *fmt, ...) __printf(1, 2);
void pr_warn(const char *fmt, ...) __printf(1, 2);
void pr_info(const char *fmt, ...) __printf(1, 2);
/* pr_err() with ": strerror(err)" appended; err is a positive errno. */
void pr_errno(int err, const char *fmt, ...) __printf(2, 3);

/*
 * Guest-triggered oddities are reported through a rate limiter so a guest
 * cannot flood the host's log: at most `burst` messages per `interval_ms`.
 */
struct ratelimit {
	uint64_t window_start_ms;
	unsigned int printed;
	unsigned int suppressed;
};

#define RATELIMIT_INTERVAL_MS	5000
#define RATELIMIT_BURST		10

bool ratelimit_allow(struct ratelimit *rl);

#define pr_warn_ratelimited(fmt, ...)					\
	do {								\
		static struct ratelimit __rl;				\
		if (ratelimit_allow(&__rl))				\
			pr_warn(fmt, ##__VA_ARGS__);			\
	} while (0)

/* Quiet mode for unit tests that provoke errors on purpose. */
extern bool log_quiet;

uint64_t monotonic_ns(void);

/* Read a whole file; returns 0 or -errno.  *buf is malloc()ed. */
int read_file(const char *path, uint8_t **buf, size_t *len);

/* Little-endian accessors for guest-visible structures and registers. */
static inline uint16_t get_le16(const void *p)
{
	const uint8_t *b = p;

	return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t get_le32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static inline uint64_t get_le64(const void *p)
{
	return get_le32(p) | (uint64_t)get_le32((const uint8_t *)p + 4) << 32;
}

static inline void put_le16(void *p, uint16_t v)
{
	uint8_t *b = p;

	b[0] = v;
	b[1] = v >> 8;
}

static inline void put_le32(void *p, uint32_t v)
{
	put_le16(p, v);
	put_le16((uint8_t *)p + 2, v >> 16);
}

static inline void put_le64(void *p, uint64_t v)
{
	put_le32(p, v);
	put_le32((uint8_t *)p + 4, v >> 32);
}

/*
 * Value of an access of `len` (1..8) bytes, little-endian.  Byte loops:
 * they never touch more than `len` bytes, whatever the caller's buffer.
 */
static inline uint64_t get_leN(const void *p, unsigned int len)
{
	const uint8_t *b = p;
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < len && i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static inline void put_leN(void *p, unsigned int len, uint64_t v)
{
	uint8_t *b = p;
	unsigned int i;

	for (i = 0; i < len && i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

#endif
