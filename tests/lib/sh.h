/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running a shell command from a C test (fixtures made with the shell,
 * outputs checked with host tools such as GNU cpio).
 */
#ifndef MVM_TEST_SH_H
#define MVM_TEST_SH_H

/* system() of the formatted command (at most 1023 bytes): its status. */
int test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
