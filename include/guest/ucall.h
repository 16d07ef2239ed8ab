/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The test-guest report port ("ucall"), shared by guest code and host tests.
 * A guest fills a struct ucall in its own memory and writes the structure's
 * guest-physical address (32 bits; guests keep it below 4 GiB) to
 * UCALL_PORT with one `outl`.  The host side records the call so a host TAP
 * test can assert on what the guest saw, with the guest's file and line.
 */
#ifndef MVM_TEST_UCALL_H
#define MVM_TEST_UCALL_H

#define UCALL_PORT		0xe0

enum ucall_cmd {
	UCALL_NONE = 0,
	UCALL_SYNC,	/* args[0] = stage, args[1..] = values */
	UCALL_ASSERT,	/* a guest assertion failed: file, line, msg, args */
	UCALL_PRINT,	/* msg only */
	UCALL_DONE,
};

#define UCALL_MAX_ARGS		4
#define UCALL_MSG_LEN		96
#define UCALL_FILE_LEN		32

struct ucall {
	unsigned int cmd;
	unsigned int line;
	unsigned int cpu;		/* guest's APIC ID */
	unsigned int pad;
	unsigned long long args[UCALL_MAX_ARGS];
	char file[UCALL_FILE_LEN];
	char msg[UCALL_MSG_LEN];
};

#endif
