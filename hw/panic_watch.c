// SPDX-License-Identifier: GPL-2.0
/*
 * The panic line watcher (include/hw/panic_watch.h).  Linux prints
 * pr_emerg("Kernel panic - not syncing: %s\n", buf) in panic() before the
 * panic notifiers run (pvpanic's among them) and before it reboots; on a
 * console line the text follows the printk timestamp ("[    1.234567] ")
 * and, with CONFIG_PRINTK_CALLER, the caller ("[    T1] ").  Lines with
 * the marker elsewhere, such as "---[ end Kernel panic - not syncing: ...
 * ]---" or a program echoing it mid-line, are not panic lines.
 */
#include <string.h>

#include "hw/panic_watch.h"

void panic_watch_init(struct panic_watch *w)
{
	memset(w, 0, sizeof(*w));
}

/* Where the panic marker starts after the line's "[...]" prefixes, or NULL. */
static const char *panic_start(const char *s)
{
	for (;;) {
		while (*s == ' ')
			s++;
		if (*s != '[')
			break;
		s = strchr(s, ']');
		if (!s)
			return NULL;
		s++;
	}
	return strncmp(s, PANIC_MARKER, strlen(PANIC_MARKER)) ? NULL : s;
}

/* Remember the line being received if it is a panic line. */
static void check_line(struct panic_watch *w)
{
	const char *p;
	size_t n, i;

	w->cur[w->cur_len] = '\0';
	p = panic_start(w->cur);
	if (!p)
		return;
	n = strlen(p);
	if (w->cur_long && n > sizeof(w->line) - 4)
		n = sizeof(w->line) - 4;
	for (i = 0; i < n; i++)
		w->line[i] = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?';
	while (i && w->line[i - 1] == ' ')
		i--;
	if (w->cur_long) {
		memcpy(w->line + i, "...", 3);
		i += 3;
	}
	w->line[i] = '\0';
	w->seen = true;
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
