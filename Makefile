# mvm - a minimal KVM hypervisor.  `make`, `make check`, `make SAN=1 check`,
# `make bench`, `make boot-test`, `make install PREFIX=...`.
CC	?= gcc
PREFIX	?= /usr/local
VERSION	:= 0.1.0

WARN	:= -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow \
	   -Wstrict-prototypes -Wmissing-prototypes
CFLAGS	:= -std=gnu11 -O2 -g $(WARN) -Iinclude -D_GNU_SOURCE -pthread \
	   -DMVM_VERSION=\"$(VERSION)\" $(EXTRA_CFLAGS)
LDFLAGS	:= -pthread $(EXTRA_LDFLAGS)
# zlib, liblzma, liblz4, libzstd, libbz2: host decompression of bzImages
# (x86/decompress.c); Debian's -dev packages also ship the .a files that
# STATIC=1 links.
LDLIBS	:= -lz -llzma -llz4 -lzstd -lbz2

ifeq ($(STATIC),1)
# Static binaries for the nested-KVM harness (its guest has no libc).
BUILD	:= build-static
LDFLAGS	+= -static
else ifeq ($(SAN),1)
BUILD	:= build-san
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
LDFLAGS	+= -fsanitize=address,undefined
else
BUILD	:= build
endif

# The VMM proper, as a library so tests can build VMs in-process.
LIB_SRCS := machine.c $(wildcard core/*.c debug/*.c x86/*.c hw/*.c pci/*.c virtio/*.c \
		      block/*.c vfio/*.c vfio/host/*.c hostroot/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/embedded_guest.o \
	    $(BUILD)/hostroot_init.o
LIB	 := $(BUILD)/libmvm.a
MVM	 := $(BUILD)/mvm

all: mvm

mvm: $(MVM)
	@ln -sf $(MVM) mvm

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# Guests are freestanding and built the same way for every build flavour.
include guest/guest.mk

$(BUILD)/embedded_guest.o: guest/embedded_guest.S $(GUEST_OUT)/embedded.bzImage
	@mkdir -p $(dir $@)
	$(CC) -c -DEMBEDDED_GUEST=\"$(GUEST_OUT)/embedded.bzImage\" -o $@ $<

# mvm's init for host-root mode (hostroot/init/mvm-init.c): a static
# executable for the guest, built once without sanitizers like the guests,
# and linked into the binary as the embedded guest is.
HOSTROOT_INIT := $(GUEST_OUT)/mvm-init

$(HOSTROOT_INIT): hostroot/init/mvm-init.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -Os -s $(WARN) -D_GNU_SOURCE -static -o $@ $<

$(BUILD)/hostroot_init.o: hostroot/init_blob.S $(HOSTROOT_INIT)
	@mkdir -p $(dir $@)
	$(CC) -c -DHOSTROOT_INIT=\"$(HOSTROOT_INIT)\" -o $@ $<

$(MVM): $(BUILD)/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit and guest tests: every tests/unit/test_*.c is one TAP program.
TEST_SRCS := $(wildcard tests/unit/test_*.c tests/guest/test_*.c)
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
TEST_LIB_SRCS := $(wildcard tests/lib/*.c)
TEST_LIB_OBJS := $(TEST_LIB_SRCS:%.c=$(BUILD)/%.o)

$(BUILD)/tests/%: tests/%.c $(TEST_LIB_OBJS) $(LIB) $(GUEST_IMAGES)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -DGUEST_DIR=\"$(GUEST_OUT)\" -MMD -MP \
		$(LDFLAGS) -o $@ $< $(TEST_LIB_OBJS) $(LIB) $(LDLIBS)

$(BUILD)/tests/lib/%.o: tests/lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -MMD -MP -c -o $@ $<

tests: $(TEST_BINS) $(MVM)

# Without /dev/kvm the guest tests also run inside a QEMU-TCG Linux with
# nested KVM; that needs static binaries (its userland has no libc).
static-tests:
	@if [ ! -w /dev/kvm ]; then $(MAKE) --no-print-directory STATIC=1 tests; fi

# prove runs C test programs and shell tests (tests/*.t) alike.
check: tests static-tests
	MVM=$(abspath $(MVM)) GUEST_DIR=$(abspath $(GUEST_OUT)) \
	BUILD=$(abspath $(BUILD)) STATIC_BUILD=$(abspath build-static) \
	prove --exec '' $(TEST_BINS) $(wildcard tests/cli/*.t tests/kvm/*.t) \
		tests/nested/harness-args.t tests/nested/guest-tests.t tests/nested/gdb-session.t \
		tests/boot/boot-test.t tests/boot/boot-virtio.t tests/boot/boot-pvm-compat.t \
		tests/boot/boot-share.t tests/boot/gdb-linux.t tests/boot/boot-panic.t \
		tests/boot/hostroot.t tests/boot/boot-console.t tests/boot/disk-crash.t

# Boots a Debian cloud kernel (docs/boot-test.md).  Without a usable
# /dev/kvm it runs the static mvm inside the nested-KVM harness.
boot-test: $(MVM)
	@$(MAKE) --no-print-directory STATIC=1 build-static/mvm
	MVM=$(abspath $(MVM)) STATIC_MVM=$(abspath build-static/mvm) \
	timeout -k 10 1300 prove -v --exec '' tests/boot/boot-test.t tests/boot/boot-virtio.t tests/boot/boot-pvm-compat.t tests/boot/boot-share.t tests/boot/gdb-linux.t tests/boot/boot-panic.t \
		tests/boot/hostroot.t tests/boot/boot-console.t

# Without /dev/kvm bench/run.sh measures inside the nested-KVM guest, which
# needs the static mvm (built here without touching the ./mvm link).
bench: $(MVM) $(MKBZIMAGE)
	@if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then \
		$(MAKE) --no-print-directory STATIC=1 build-static/mvm; fi
	MVM=$(abspath $(MVM)) BUILD=$(abspath $(BUILD)) \
	STATIC_MVM=$(abspath build-static/mvm) \
	MKBZIMAGE=$(abspath $(MKBZIMAGE)) bench/run.sh
	@$(MAKE) --no-print-directory STATIC=1 build-static/libmvm.a \
		build-static/tests/lib/ucall_host.o
	bench/msix.sh
	@if [ -x bench/blk.sh ]; then bench/blk.sh; fi
	bench/trace.sh
	MVM=$(abspath $(MVM)) STATIC_MVM=$(abspath build-static/mvm) \
	bench/hostroot.sh
	MVM=$(abspath $(MVM)) STATIC_MVM=$(abspath build-static/mvm) bench/fs.sh

# The README's first command: boot the embedded guest, here or, without
# /dev/kvm, inside the nested-KVM harness (tests/nested).
run: $(MVM)
	@if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then ./mvm run -c 2; else \
		echo "make run: no usable /dev/kvm on this host: booting it inside a QEMU-TCG Linux with nested KVM (tests/nested)"; \
		$(MAKE) --no-print-directory STATIC=1 build-static/mvm && \
		tests/nested/run-in-kvm.sh --timeout 300 build-static/mvm -- ./mvm run -c 2; fi

install: $(MVM)
	install -D -m 0755 $(MVM) $(DESTDIR)$(PREFIX)/bin/mvm
	install -D -m 0644 docs/mvm.1 $(DESTDIR)$(PREFIX)/share/man/man1/mvm.1

clean:
	rm -rf build build-san build-static mvm

.PHONY: all mvm run check tests static-tests bench boot-test install clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
