/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-fs (virtio 1.2, 5.11): a host directory in the guest, served by
 * a virtiofsd process that mvm starts, over vhost-user
 * (include/virtio/vhost_user.h).  mvm itself only presents the device
 * (its tag and one request queue) and hands the queues to virtiofsd;
 * every FUSE request is virtiofsd's.  See docs/virtio.md.
 */
#ifndef MVM_VIRTIO_FS_H
#define MVM_VIRTIO_FS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pci/devctx.h"
#include "virtio/vhost_user.h"

#define VIRTIO_FS_TAG_MAX	36	/* struct virtio_fs_config.tag */

/* --share HOSTDIR[,tag=NAME][,ro] */
struct virtio_fs_spec {
	char dir[PATH_MAX];		/* realpath of HOSTDIR */
	char tag[VIRTIO_FS_TAG_MAX + 1];
	bool ro;
};

/*
 * Parse and check one --share argument: HOSTDIR must be an existing
 * directory; the tag defaults to its basename ("root" for /).  Prints
 * one line and returns -1 on bad input.
 */
int virtio_fs_parse(const char *arg, struct virtio_fs_spec *spec);

/* The running virtiofsd of one share. */
struct virtiofsd {
	char name[48];			/* "virtiofsd[TAG]" */
	pid_t pid;			/* 0: none */
	int pidfd;			/* readable once it exits; -1: none */
	int err_fd;			/* read end of its stderr; -1: closed */
	char rundir[256];		/* private 0700 dir with the socket */
	char sock[256 + 32];
	char ro_view[256 + 8];		/* "ro" in rundir: a read-only share */
	char line[512];			/* its stderr, up to the next '\n' */
	size_t line_len;
	bool reaped;
	/* Stopped before mvm talked to it (another step failed): what it
	 * says is not shown. */
	bool quiet;
	/* While stopping: its last lines, printed only if it then fails. */
	bool holding;
	char held[2048];
	size_t held_len;
};

/*
 * Which virtiofsd to run: `override` (--virtiofsd) when given, else the
 * first executable of /usr/libexec/virtiofsd, /usr/lib/qemu/virtiofsd,
 * then `virtiofsd` on $PATH.  Returns 0 with the path in buf, or -1
 * after printing one line that starts with `what` (what needs it;
 * NULL: print nothing).
 */
int virtiofsd_find(const char *override, const char *what, char *buf,
		   size_t len);
/* `bin --help`, run in the background: which daemon it is. */
struct virtiofsd_probe {
	pid_t pid;			/* 0: none */
	int fd;				/* what it printed; -1: none */
};

void virtiofsd_probe_start(struct virtiofsd_probe *pr, const char *bin);
/* Wait (5 s at most) for what it printed: true if the Rust virtiofsd
 * (it has --shared-dir); then stop and reap it. */
bool virtiofsd_probe_rust(struct virtiofsd_probe *pr);
void virtiofsd_probe_cancel(struct virtiofsd_probe *pr);
/*
 * Start `bin` (the Rust virtiofsd if `rust`, else QEMU's) for `spec`
 * with its socket in a new private runtime directory, already connected
 * (vu), and return without waiting for it: the rest of mvm's start-up
 * runs while virtiofsd starts (a dynamically linked program that sets up
 * its sandbox).  On failure one line says why and nothing is left.
 */
int virtiofsd_spawn(struct virtiofsd *d, const char *bin, bool rust,
		    const struct virtio_fs_spec *spec, struct vhost_user *vu);
/*
 * The vhost-user handshake with the virtiofsd virtiofsd_spawn() started:
 * its first answer comes once it is ready.  On failure it is stopped and
 * one line says why (after virtiofsd's own lines, prefixed).
 */
int virtiofsd_connect(struct virtiofsd *d, const char *bin,
		      const struct virtio_fs_spec *spec, struct vhost_user *vu);
/* Copy what it wrote to stderr so far to mvm's, "virtiofsd[TAG]: ...". */
void virtiofsd_relay(struct virtiofsd *d);
/*
 * If it has exited, reap it and describe how ("exit status 1", "killed
 * by signal 9") in buf; returns true then.
 */
bool virtiofsd_exited(struct virtiofsd *d, bool wait, char *buf,
		      size_t len);
/* Close its connection vu and stop it (it exits when its socket closes;
 * else SIGTERM, SIGKILL), reap it, remove its runtime directory. */
void virtiofsd_stop(struct virtiofsd *d, struct vhost_user *vu);

/* The device: takes the running virtiofsd and its connection. */
struct virtio_fs;
int virtio_fs_create(struct device_ctx *ctx, const struct virtio_fs_spec *spec,
		     struct virtiofsd *d, struct vhost_user *vu,
		     struct virtio_fs **out);
void virtio_fs_destroy(struct virtio_fs *fs);
struct virtio_dev *virtio_fs_dev(struct virtio_fs *fs);

#endif
