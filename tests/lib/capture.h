/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Catching what the code under test prints on stderr (pr_err() writes
 * straight to fd 2), to assert on its error line.  capture_start() points
 * fd 2 at an anonymous file; capture_end() points it back and returns what
 * was written, NUL-terminated, in a buffer that stays valid until the next
 * capture_end().  One capture at a time.
 */
#ifndef MVM_TEST_CAPTURE_H
#define MVM_TEST_CAPTURE_H

#include <stdbool.h>

void capture_start(void);
const char *capture_end(void);
/* What running the statement `call` printed on stderr. */
#define CAPTURED(call) ({ capture_start(); call; capture_end(); })

/* How many lines s holds (its '\n's). */
unsigned int count_lines(const char *s);
/*
 * s is mvm's one-line error: "mvm: ...\n", exactly one line, naming
 * what (a file, a key).
 */
bool one_error_line(const char *s, const char *what);

#endif
