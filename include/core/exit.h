/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How a device ends the VM: it gets a struct exit_line and calls
 * exit_line_request(), as it raises an interrupt through a struct
 * irq_line.  What is behind it (vm_request_exit() on the running VM, or a
 * recorder in a unit test) is not the device's concern.
 */
#ifndef MVM_EXIT_H
#define MVM_EXIT_H

enum vm_exit_reason {
	VM_RUNNING = 0,
	VM_EXIT_POWEROFF,	/* ACPI S5: status 0 */
	VM_EXIT_REBOOT,		/* i8042 reset / triple fault with reboot=k */
	VM_EXIT_DEBUG_EXIT,	/* guest wrote a status to the debug-exit port */
	VM_EXIT_SIGNAL,		/* SIGINT / SIGTERM */
	VM_EXIT_ERROR,		/* internal error, unexpected exit */
	VM_EXIT_PANIC,		/* the guest kernel panicked (pvpanic) */
};

/*
 * mvm's exit status when the guest kernel panicked (docs/behaviour.md):
 * 255, as virtme-ng, so scripts and CI can tell it from a command's own
 * status and from mvm's errors (1) and bad arguments (2).
 */
#define MVM_EXIT_PANIC		255

struct exit_line {
	void (*request)(void *opaque, enum vm_exit_reason why, int status);
	void *opaque;
};

static inline void exit_line_request(const struct exit_line *line,
				     enum vm_exit_reason why, int status)
{
	if (line->request)
		line->request(line->opaque, why, status);
}

#endif
