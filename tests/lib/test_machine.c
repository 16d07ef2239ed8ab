// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include "core/util.h"
#include "lib/test_machine.h"

static int fake_ioeventfd(void *opaque, uint64_t addr, unsigned int len,
			  int fd, bool assign)
{
	struct test_machine *t = opaque;
	unsigned int i;

	for (i = 0; i < t->nr_ioev; i++)
		if (t->ioev[i].addr == addr && t->ioev[i].fd == fd)
			break;
	if (!assign) {
		if (i == t->nr_ioev)
			return -ENOENT;
		t->ioev[i] = t->ioev[--t->nr_ioev];
		t->ioev_deassigns++;
		return 0;
	}
	if (t->ioev_fail)
		return -ENOSPC;
	if (i < t->nr_ioev)
		return -EEXIST;
	if (t->nr_ioev == TEST_MAX_IOEVENTFDS)
		return -ENOSPC;
	t->ioev[t->nr_ioev++] = (struct test_ioeventfd){ addr, len, fd };
	t->ioev_assigns++;
	return 0;
}

static const struct ioeventfd_ops fake_ioeventfd_ops = {
	.assign = fake_ioeventfd,
};

static int slot_map(void *opaque, uint64_t gpa, uint64_t size, void *hva)
{
	struct test_machine *t = opaque;

	t->slot_maps++;
	return (int)(2 + t->slots_mapped++);
}

static int slot_unmap(void *opaque, int slot)
{
	struct test_machine *t = opaque;

	t->slot_unmaps++;
	t->slots_mapped--;
	return 0;
}

static const struct memslot_ops fake_slots = {
	.map = slot_map,
	.unmap = slot_unmap,
};

static void intx_set(void *opaque, unsigned int pin, int level)
{
	struct test_machine *t = opaque;

	if (pin >= ARRAY_SIZE(t->intx_level))
		return;
	if (level && !t->intx_level[pin])
		t->intx_raises[pin]++;
	t->intx_level[pin] = level;
}

int test_machine_init(struct test_machine *t, struct fake_kvm *kvm,
		      const struct test_machine_opts *opts)
{
	struct machine *m = &t->board;
	struct vm *vm = &m->vm;
	int err;

	memset(t, 0, sizeof(*t));
	t->kvm = kvm;
	fake_kvm_reset(kvm);
	machine_config_init(&m->cfg);
	vm_init(vm);
	err = vm_memory_alloc(vm, 64 << 20, 0);
	if (!err)
		err = irq_router_init(&vm->router, &fake_kvm_ops, kvm,
				      opts->nr_gsis ? opts->nr_gsis : 1024);
	if (err)
		return err;
	vm->router_ready = true;
	err = irq_router_commit(&vm->router);
	if (!err && opts->loop) {
		err = evloop_init(&vm->loop);
		if (!err)
			err = evloop_start(&vm->loop);
		vm->loop_ready = !err;
		if (!err)
			err = irq_router_attach_loop(&vm->router, &vm->loop);
	}
	if (!err)
		err = machine_add_pci(m);	/* the board's own PCI step */
	if (err)
		return err;
	/* What KVM would do, faked. */
	m->pci->irq_set = intx_set;
	m->pci->irq_opaque = t;
	m->devctx.slots = &fake_slots;
	m->devctx.slots_opaque = t;
	m->devctx.ioeventfd = opts->ioeventfd ? &fake_ioeventfd_ops : NULL;
	m->devctx.ioeventfd_opaque = t;
	m->devctx.loop = opts->loop ? &vm->loop : NULL;
	t->pio = &vm->pio;
	t->mmio = &vm->mmio;
	t->pci = m->pci;
	t->mem = &vm->mem;
	t->router = &vm->router;
	t->loop = m->devctx.loop;
	t->ctx = &m->devctx;
	return 0;
}

void test_machine_destroy(struct test_machine *t)
{
	machine_destroy(&t->board);
}
