// SPDX-License-Identifier: GPL-2.0
/*
 * The panic line watcher (include/hw/panic_watch.h).  Linux prints
 * pr_emerg("Kernel panic - not syncing: %s\n", buf) in panic() before the
 * panic notifiers run (pvpanic's among them) and before it reboots; on a
 * console line the text follows the printk timestamp ("[    1.234567] ")
 * and, with CONFIG_PRINTK_CALLER, the caller ("[    T1] ").  The end of
 * the panic repeats the reason: "---[ end Kernel panic - not syncing: X
 * ]---", which stands in when the panic line itself was garbled.
 */
#include <string.h>

#include "hw/panic_watch.h"

void panic_watch_init(struct panic_watch *w)
{
	memset(w, 0, sizeof(*w));
}

/*
 * Where the panic marker starts after the line's "[...]" prefixes, or
 * NULL; *elsewhere is set when it is not there but later in the line.
 */
static const char *panic_start(const char *s, const char **elsewhere)
{
	const char *line = s;

	*elsewhere = NULL;
	for (;;) {
		while (*s == ' ')
			s++;
		if (*s != '[')
			break;
		s = strchr(s, ']');
		if (!s)
			break;
		s++;
	}
	if (s && !strncmp(s, PANIC_MARKER, strlen(PANIC_MARKER)))
		return s;
	*elsewhere = strstr(line, PANIC_MARKER);
	return NULL;
}

/* Keep p (n bytes) as the panic line, printable, "..." when cut. */
static void keep_line(struct panic_watch *w, const char *p, size_t n,
		      bool cut)
{
	size_t i;

	if (cut && n > sizeof(w->line) - 4)
		n = sizeof(w->line) - 4;
	for (i = 0; i < n; i++)
		w->line[i] = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?';
	while (i && w->line[i - 1] == ' ')
		i--;
	if (cut) {
		memcpy(w->line + i, "...", 3);
		i += 3;
	}
	w->line[i] = '\0';
	w->seen = true;
}

/*
 * Remember the line being received if it is a panic line.  A line with the
 * marker further in ("---[ end Kernel panic - not syncing: X ]---", or the
 * panic line with user-space output of another CPU mixed into its start)
 * is kept only while no proper panic line has been seen, without the
 * closing " ]---".
 */
static void check_line(struct panic_watch *w)
{
	const char *p, *other;
	size_t n;

	w->cur[w->cur_len] = '\0';
	p = panic_start(w->cur, &other);
	if (p) {
		keep_line(w, p, strlen(p), w->cur_long);
		w->proper = true;
	} else if (other && !w->proper) {
		n = strlen(other);
		if (!w->cur_long && n >= 5 && !strcmp(other + n - 5, " ]---"))
			n -= 5;
		keep_line(w, other, n, w->cur_long);
	}
}

void panic_watch_feed(struct panic_watch *w, const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		uint8_t c = buf[i];

		if (c == '\n') {
			check_line(w);
			w->cur_len = 0;
			w->cur_long = false;
		} else if (c == '\r') {
			continue;
		} else if (w->cur_len < sizeof(w->cur) - 1) {
			/* A NUL would end the string early: show it as '?'. */
			w->cur[w->cur_len++] = c ? (char)c : '?';
		} else {
			w->cur_long = true;
		}
	}
}

const char *panic_watch_line(struct panic_watch *w)
{
	if (w->cur_len)
		check_line(w);
	return w->seen ? w->line : NULL;
}
