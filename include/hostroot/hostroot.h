/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host-root mode: `mvm run -k bzImage [-- CMD ARGS]` with neither -i nor
 * -d.  mvm generates the initramfs in memory: its own static init
 * (hostroot/init/mvm-init.c, embedded in the binary), the kernel modules
 * that init needs (from --modules DIR or /lib/modules/<the bzImage's
 * version>, dependencies from modules.dep), and /mvm/config, which tells
 * the init what to mount, which command to run, where and with which
 * environment.  The init reports the command's exit status on the
 * debug-exit port; the command's stdout and stderr are two virtio-console
 * devices (hvc0, hvc1), the kernel keeps ttyS0.
 *
 * The host's / reaches the guest as the virtio-fs share tagged
 * HOSTROOT_ROOT_TAG (read-only, under a tmpfs overlay).  The share itself
 * is made by the --share machinery; this side only names the tag in
 * /mvm/config (struct hostroot_config.root_tag) and lists any further
 * shares to mount at their host paths (struct hostroot_config.mounts).
 */
#ifndef MVM_HOSTROOT_H
#define MVM_HOSTROOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostroot/cpio.h"

#define HOSTROOT_ROOT_TAG	"mvm-root"
#define HOSTROOT_MAX_MODPROBE	16
#define HOSTROOT_MAX_MOUNTS	8
#define HOSTROOT_KVER_MAX	64	/* utsname release is 65 with its NUL */
#define HOSTROOT_STDIN_MAX	(64ULL << 20)	/* a shell script piped in */

/* What /mvm/config carries beside the modules (see mvm-init.c). */
struct hostroot_mount {
	const char *tag;		/* virtio-fs tag */
	const char *path;		/* where the host has it */
	bool ro;
};

struct hostroot_config {
	const char *modules_dir;	/* --modules, NULL: /lib/modules/VER */
	const char *modprobe[HOSTROOT_MAX_MODPROBE];	/* --modprobe */
	unsigned int nr_modprobe;
	char *const *argv;		/* after --; NULL: the shell */
	int argc;
	/* The host's / as a virtio-fs tag; NULL: the initramfs is the root
	 * (test seam: MVM_HOSTROOT_TEST_ROOT adds a host folder to it). */
	const char *root_tag;
	struct hostroot_mount mounts[HOSTROOT_MAX_MOUNTS];
	unsigned int nr_mounts;
	bool interactive;		/* stdin is a terminal */
	int stdin_fd;			/* the script for a shell without a
					 * terminal, read to its end (0) */
	bool verbose;			/* --verbose: kernel log, init's steps */
};

/*
 * The kernel release in a bzImage's header (boot protocol kernel_version,
 * offset 0x20e: a pointer to a string, minus 0x200), or in an ELF
 * vmlinux's "Linux version " banner, up to its first space, into
 * ver[HOSTROOT_KVER_MAX].  Returns 0, or -ENOENT when the image has none
 * or it does not start with a digit (mkbzimage's test guests: "mvm test
 * guest"), i.e. when it is not a Linux kernel.
 */
int hostroot_kernel_version(const uint8_t *img, size_t len, char *ver);

/*
 * mvm's stdin goes to hvc0 only when it is a terminal.  Without one, the
 * shell (no command) reads mvm's stdin, read to its end before the boot
 * and carried in the initramfs (/mvm/stdin): its end of file arrives, and
 * no byte can be lost to a console the guest has not opened yet.  A
 * command (-- CMD) without a terminal reads /dev/null (mvm does not wait
 * for the end of an input nobody may close).
 */
static inline bool hostroot_forwards_stdin(const struct hostroot_config *c)
{
	return c->interactive;
}

/* ---- modules (hostroot/modules.c) ---- */

/* Where a kernel's modules are and how their dependencies are known. */
struct hostroot_modtree {
	char *base;		/* folder of modules.dep (or modules.order) */
	bool build_tree;	/* a kernel build tree: modules.order + .modinfo */
	char *dep;		/* modules.dep or modules.order, NUL-terminated */
	char *builtin;		/* modules.builtin, "" when absent */
};

/* One module to load, dependencies before the modules that need them. */
struct hostroot_module {
	char *name;		/* normalized: '-' -> '_' */
	char *path;		/* host file: .ko, .ko.xz, .ko.zst or .ko.gz */
};

struct hostroot_modlist {
	struct hostroot_module *mods;
	unsigned int nr, cap;
};

/*
 * Find the modules of kernel `kver`: in `dir` (--modules: DIR/lib/modules/
 * KVER, a /lib/modules/KVER folder itself, or a kernel build tree), or,
 * with dir NULL, /lib/modules/KVER (or root/lib/modules/KVER when root is
 * not NULL: tests).  Returns 0, -ENOENT when dir is NULL and there is no
 * such folder (nothing printed), or -errno after one line naming `dir`
 * and the fix.
 */
int hostroot_modtree_open(struct hostroot_modtree *t, const char *dir,
			  const char *root, const char *kver);
void hostroot_modtree_close(struct hostroot_modtree *t);
/* Whether NAME is built into the kernel (modules.builtin). */
bool hostroot_mod_builtin(const struct hostroot_modtree *t,
			  const char *name);
/*
 * Add NAME and what it depends on to `list` (each once, dependencies
 * first).  Returns 0 (also when NAME is built in), -ENOENT when the tree
 * has no such module (nothing printed: the caller says whether that
 * matters), or -errno.
 */
int hostroot_mod_resolve(const struct hostroot_modtree *t, const char *name,
			 struct hostroot_modlist *list);
void hostroot_modlist_free(struct hostroot_modlist *list);

/*
 * The whole initramfs for kernel image `kernel` (its label names it in
 * messages): returns 0 and a malloc()ed newc archive, or -errno after one
 * line saying what is wrong.
 */
int hostroot_initramfs_build(const struct hostroot_config *cfg,
			     const uint8_t *kernel, size_t kernel_len,
			     const char *label, uint8_t **out, size_t *out_len);
/* The kernel parameters host-root mode needs (quiet unless verbose). */
const char *hostroot_cmdline(const struct hostroot_config *cfg);

/* The embedded init (hostroot/init_blob.S). */
extern const uint8_t hostroot_init_start[];
extern const uint8_t hostroot_init_end[];

#endif
