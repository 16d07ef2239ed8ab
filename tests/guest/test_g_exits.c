// SPDX-License-Identifier: GPL-2.0
/*
 * How a VM ends when the guest cannot go on or the user stops it:
 * a triple fault ends mvm with status 1 and a message naming it and the
 * registers; SIGTERM stops a running VM cleanly with status 128 + 15.
 */
#include <pthread.h>
#include <signal.h>

#include "guest/harness.h"
#include "lib/capture.h"
#include "core/util.h"

static void *send_sigterm(void *arg)
{
	unsigned int i;

	(void)arg;
	/* Wait until the guest runs (its first ucall), then stop it. */
	for (i = 0; i < 10000 && ucall_count() == 0; i++)
		usleep(1000);
	kill(getpid(), SIGTERM);
	return NULL;
}

int main(void)
{
	struct machine_config cfg;
	struct guest_run r;
	const char *err_text;
	uint8_t *img;
	pthread_t t;
	sigset_t term;

	guest_require_kvm();

	/* Triple fault, with stderr captured to check the message. */
	img = guest_setup(&cfg, "g_triple");
	err_text = CAPTURED(guest_run(&cfg, &r));
	is_int(r.status, 1, "triple fault: exit status 1");
	is_int(r.exit_reason, VM_EXIT_ERROR, "triple fault: error exit");
	is_int(ucall_count_cmd(UCALL_SYNC), 1, "guest ran up to the fault");
	ok(strstr(err_text, "triple fault (KVM_EXIT_SHUTDOWN)") != NULL,
	   "message names the triple fault");
	ok(strstr(err_text, "rip ") && strstr(err_text, "cr0 "),
	   "message carries the registers");
	free(r.console);
	free(img);

	/* SIGTERM: the VM is stopped, machine_run returns 143. */
	img = guest_setup(&cfg, "g_spin");
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, NULL);
	ucall_reset();
	pthread_create(&t, NULL, send_sigterm, NULL);
	log_quiet = true;
	guest_run(&cfg, &r);
	log_quiet = false;
	pthread_join(t, NULL);
	is_int(r.status, 128 + SIGTERM, "SIGTERM: status 143");
	is_int(r.exit_reason, VM_EXIT_SIGNAL, "SIGTERM: signal exit");
	is_int(ucall_count_cmd(UCALL_SYNC), 1, "the guest was running");
	free(r.console);
	free(img);
	return tap_done();
}
