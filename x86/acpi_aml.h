/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny AML encoder (ACPI 6.3 chapter 20) for the static DSDT: names,
 * scopes, devices, packages, integers and resource templates.  Output goes
 * into a caller-owned buffer; running out of room is latched and reported
 * once by aml_finish(), so building code need not check every call.
 */
#ifndef MVM_X86_ACPI_AML_H
#define MVM_X86_ACPI_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH	8

struct aml {
	uint8_t *buf;
	size_t cap;
	size_t len;
	struct {
		size_t start;		/* where the PkgLength goes */
		bool is_buffer;		/* BufferSize follows PkgLength */
	} open[AML_MAX_DEPTH];
	unsigned int depth;
	bool overflow;
	bool invalid;
};

void aml_init(struct aml *a, void *buf, size_t cap);
/* Total length, -ENOSPC, or -EINVAL (unbalanced begin/end, bad name). */
long aml_finish(struct aml *a);

/* "PCI0", "_SB_", "\\_SB_": one 4-character segment, optionally rooted. */
void aml_name_string(struct aml *a, const char *name);
void aml_integer(struct aml *a, uint64_t v);
/* A compressed EISA ID such as "PNP0A08", as a DWord integer. */
void aml_eisaid(struct aml *a, const char *id);

/* Name(name, ...): follow with exactly one data object. */
void aml_name(struct aml *a, const char *name);
void aml_scope_begin(struct aml *a, const char *name);
void aml_device_begin(struct aml *a, const char *name);
void aml_package_begin(struct aml *a, unsigned int nr_elements);
void aml_buffer_begin(struct aml *a);
/* Closes the innermost scope, device, package or buffer. */
void aml_end(struct aml *a);

/* Resource descriptors (ACPI 6.3 section 6.4), inside aml_buffer_begin(). */
void aml_res_io(struct aml *a, uint16_t base, uint8_t len);
void aml_res_irq(struct aml *a, uint16_t mask);
void aml_res_mem32_fixed(struct aml *a, uint32_t base, uint32_t len);
void aml_res_bus_range(struct aml *a, uint16_t min, uint16_t max);
void aml_res_io_window(struct aml *a, uint16_t min, uint16_t max);
void aml_res_mem32_window(struct aml *a, uint32_t min, uint32_t max);
void aml_res_mem64_window(struct aml *a, uint64_t min, uint64_t max);
void aml_res_end(struct aml *a);

#endif
