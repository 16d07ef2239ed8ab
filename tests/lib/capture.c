// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/capture.h"

static int cap_fd = -1, cap_saved = -1;
static char *cap_text;

void capture_start(void)
{
	fflush(stderr);
	cap_fd = memfd_create("mvm-test-stderr", MFD_CLOEXEC);
	if (cap_fd < 0)
		return;
	cap_saved = dup(STDERR_FILENO);
	dup2(cap_fd, STDERR_FILENO);
}

const char *capture_end(void)
{
	off_t n = 0;

	free(cap_text);
	cap_text = NULL;
	if (cap_fd >= 0) {
		fflush(stderr);
		dup2(cap_saved, STDERR_FILENO);
		close(cap_saved);
		n = lseek(cap_fd, 0, SEEK_END);
		cap_text = calloc(1, n > 0 ? (size_t)n + 1 : 1);
		if (cap_text && n > 0 && pread(cap_fd, cap_text, (size_t)n, 0) != n)
			cap_text[0] = 0;
		close(cap_fd);
		cap_fd = -1;
	}
	return cap_text ? cap_text : "";
}

unsigned int count_lines(const char *s)
{
	unsigned int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

bool one_error_line(const char *s, const char *what)
{
	size_t len = strlen(s);

	return !strncmp(s, "mvm: ", 5) && strstr(s, what) &&
	       count_lines(s) == 1 && s[len - 1] == '\n';
}
