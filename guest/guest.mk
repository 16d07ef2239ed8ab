# Freestanding guests, each wrapped into a bzImage by mkbzimage: the
# embedded guest that `mvm run` boots without -k, and the test guests.
#
# Included by the top Makefile.  The guests do not depend on the build
# flavour (SAN or not), so they live in one place, $(GUEST_OUT), shared by
# build/ and build-san/.  For the same reason mkbzimage is built without
# sanitizers.
#
#   guest/embedded.c		the guest `mvm run` boots without -k
#   guest/lib/			entry code, linker script, guest library
#   guest/mkbzimage.c		host tool: flat binary -> bzImage
#   tests/guest/g_*.c		one small guest per host test

GUEST_OUT	:= build/guest
GUEST_DIR_SRC	:= guest
GUEST_TEST_SRC	:= tests/guest
GUEST_LIB_DIR	:= guest/lib
GUEST_LDS	:= $(GUEST_LIB_DIR)/guest.lds
MKBZIMAGE	:= $(GUEST_OUT)/mkbzimage
NM		?= nm
OBJCOPY		?= objcopy

GUEST_CFLAGS	:= -std=gnu11 -O2 -g -Wall -Wextra -Werror \
		   -Wno-unused-parameter -Wstrict-prototypes \
		   -Wmissing-prototypes -m64 -ffreestanding -fno-pic -fno-pie \
		   -mno-red-zone -mgeneral-regs-only -fno-stack-protector \
		   -fcf-protection=none -fno-asynchronous-unwind-tables \
		   -fno-builtin -mcmodel=kernel \
		   -Iinclude -I$(GUEST_LIB_DIR)
GUEST_LDFLAGS	:= -m64 -nostdlib -static -no-pie -Wl,--build-id=none \
		   -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments \
		   -Wl,-T,$(GUEST_LDS)

# setup16.S is the bzImage's real-mode setup code, not part of the payload.
GUEST_LIB_SRCS	:= $(filter-out $(GUEST_LIB_DIR)/setup16.S, \
		     $(wildcard $(GUEST_LIB_DIR)/*.c $(GUEST_LIB_DIR)/*.S))
GUEST_LIB_OBJS	:= $(patsubst $(GUEST_LIB_DIR)/%,$(GUEST_OUT)/lib/%.o, \
		     $(GUEST_LIB_SRCS))
GUEST_PROGS	:= embedded $(patsubst $(GUEST_TEST_SRC)/%.c,%, \
		     $(wildcard $(GUEST_TEST_SRC)/g_*.c))
GUEST_IMAGES	:= $(GUEST_PROGS:%=$(GUEST_OUT)/%.bzImage)

guests: $(GUEST_IMAGES)

$(GUEST_OUT)/lib/%.c.o: $(GUEST_LIB_DIR)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c -o $@ $<

$(GUEST_OUT)/lib/%.S.o: $(GUEST_LIB_DIR)/%.S
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c -o $@ $<

$(GUEST_OUT)/obj/%.o: $(GUEST_DIR_SRC)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c -o $@ $<

$(GUEST_OUT)/obj/%.o: $(GUEST_TEST_SRC)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c -o $@ $<

$(GUEST_OUT)/%.elf: $(GUEST_OUT)/obj/%.o $(GUEST_LIB_OBJS) $(GUEST_LDS)
	$(CC) $(GUEST_LDFLAGS) -o $@ $< $(GUEST_LIB_OBJS)

$(GUEST_OUT)/%.bin: $(GUEST_OUT)/%.elf
	$(OBJCOPY) -O binary $< $@

# Real-mode setup code: runs at CS:0x80 (file offset 0x280), see mkbzimage.c.
$(GUEST_OUT)/setup16.bin: $(GUEST_LIB_DIR)/setup16.S
	@mkdir -p $(dir $@)
	$(CC) -m32 -nostdlib -static -no-pie -Wl,--build-id=none \
		-Wl,-z,noexecstack -Wl,-Ttext=0x80 -Wl,-e,0x80 \
		-o $(GUEST_OUT)/setup16.elf $<
	$(OBJCOPY) -O binary -j .text $(GUEST_OUT)/setup16.elf $@

$(MKBZIMAGE): $(GUEST_DIR_SRC)/mkbzimage.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE -o $@ $<

# init_size must cover .bss, the stacks and the page tables: take the
# payload's end from the ELF symbol _end.
$(GUEST_OUT)/%.bzImage: $(GUEST_OUT)/%.bin $(GUEST_OUT)/%.elf \
			$(GUEST_OUT)/setup16.bin $(MKBZIMAGE)
	$(MKBZIMAGE) -s $(GUEST_OUT)/setup16.bin \
		-e 0x$$($(NM) $(GUEST_OUT)/$*.elf | sed -n 's/ [A-Za-z] _end$$//p') \
		$< $@

.PRECIOUS: $(GUEST_OUT)/%.elf $(GUEST_OUT)/%.bin $(GUEST_OUT)/obj/%.o
.PHONY: guests

-include $(wildcard $(GUEST_OUT)/lib/*.d $(GUEST_OUT)/obj/*.d)
