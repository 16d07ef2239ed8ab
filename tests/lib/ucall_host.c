// SPDX-License-Identifier: GPL-2.0
/*
 * The ucall port handler.  A guest `outl`s the guest-physical address of a
 * struct ucall; the handler copies it out of guest RAM during the exit
 * (the guest's struct lives on its stack) into a mutex-protected array,
 * since several vCPU threads may call at once.  An access that is not a
 * 4-byte write, or an address outside RAM, is recorded as a failed assert
 * so the test sees it instead of the guest silently losing a report.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/guest_mem.h"
#include "core/iobus.h"
#include "core/vm.h"
#include "lib/ucall_host.h"

static struct {
	pthread_mutex_t lock;
	struct ucall rec[UCALL_HOST_MAX];
	unsigned int nr;
	unsigned int dropped;
} uc_log = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void ucall_record(const struct ucall *uc)
{
	pthread_mutex_lock(&uc_log.lock);
	if (uc_log.nr < UCALL_HOST_MAX)
		uc_log.rec[uc_log.nr++] = *uc;
	else
		uc_log.dropped++;
	pthread_mutex_unlock(&uc_log.lock);
}

static void ucall_bad(const char *fmt, unsigned long long v)
{
	struct ucall uc = { .cmd = UCALL_ASSERT, .cpu = ~0u };

	snprintf(uc.file, sizeof(uc.file), "ucall_host.c");
	snprintf(uc.msg, sizeof(uc.msg), fmt, v);
	uc.args[0] = v;
	ucall_record(&uc);
}

static void ucall_pio_read(void *opaque, uint64_t off, uint8_t *data,
			   unsigned int len)
{
	memset(data, 0xff, len);
}

static void ucall_pio_write(void *opaque, uint64_t off, const uint8_t *data,
			    unsigned int len)
{
	struct vm *vm = opaque;
	const struct ucall *src;
	struct ucall uc;
	uint32_t gpa;

	if (off != 0 || len != 4) {
		ucall_bad("ucall: %llu-byte write, want a 4-byte outl", len);
		return;
	}
	memcpy(&gpa, data, 4);			/* x86: little-endian */
	src = gpa_to_hva(&vm->mem, gpa, sizeof(uc));
	if (!src) {
		ucall_bad("ucall: struct at bad guest address %#llx", gpa);
		return;
	}
	memcpy(&uc, src, sizeof(uc));
	uc.file[sizeof(uc.file) - 1] = 0;
	uc.msg[sizeof(uc.msg) - 1] = 0;
	ucall_record(&uc);
}

static const struct io_ops ucall_ops = {
	.read = ucall_pio_read,
	.write = ucall_pio_write,
};

void ucall_reset(void)
{
	pthread_mutex_lock(&uc_log.lock);
	uc_log.nr = 0;
	uc_log.dropped = 0;
	pthread_mutex_unlock(&uc_log.lock);
}

int ucall_attach(struct vm *vm)
{
	ucall_reset();
	return iobus_register(&vm->pio, UCALL_PORT, 4, &ucall_ops, vm,
			      "ucall");
}

unsigned int ucall_count(void)
{
	unsigned int n;

	pthread_mutex_lock(&uc_log.lock);
	n = uc_log.nr;
	pthread_mutex_unlock(&uc_log.lock);
	return n;
}

unsigned int ucall_dropped(void)
{
	unsigned int n;

	pthread_mutex_lock(&uc_log.lock);
	n = uc_log.dropped;
	pthread_mutex_unlock(&uc_log.lock);
	return n;
}

bool ucall_get(unsigned int i, struct ucall *uc)
{
	bool found;

	pthread_mutex_lock(&uc_log.lock);
	found = i < uc_log.nr;
	if (found)
		*uc = uc_log.rec[i];
	pthread_mutex_unlock(&uc_log.lock);
	return found;
}

unsigned int ucall_count_cmd(unsigned int cmd)
{
	unsigned int i, n = 0;

	pthread_mutex_lock(&uc_log.lock);
	for (i = 0; i < uc_log.nr; i++)
		n += uc_log.rec[i].cmd == cmd;
	pthread_mutex_unlock(&uc_log.lock);
	return n;
}

unsigned int ucall_report_asserts(void)
{
	struct ucall uc;
	unsigned int i, n = 0;

	for (i = 0; ucall_get(i, &uc); i++) {
		if (uc.cmd != UCALL_ASSERT)
			continue;
		n++;
		printf("# guest assert on CPU %u at %s:%u: %s "
		       "(args %#llx, %#llx)\n", uc.cpu, uc.file, uc.line,
		       uc.msg, uc.args[0], uc.args[1]);
	}
	fflush(stdout);
	return n;
}
