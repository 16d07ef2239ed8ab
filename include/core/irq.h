/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Level-triggered interrupt lines as devices see them.  A device gets a
 * struct irq_line and calls irq_line_set(); what is behind it (KVM_IRQ_LINE
 * on the in-kernel IOAPIC, or a recorder in a unit test) is not its concern.
 */
#ifndef MVM_IRQ_H
#define MVM_IRQ_H

struct irq_line {
	void (*set)(void *opaque, unsigned int pin, int level);
	void *opaque;
	unsigned int pin;
};

static inline void irq_line_set(const struct irq_line *line, int level)
{
	if (line->set)
		line->set(line->opaque, line->pin, level);
}

#endif
