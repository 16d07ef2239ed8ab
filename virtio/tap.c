// SPDX-License-Identifier: GPL-2.0
/*
 * TAP backend for virtio-net (linux/if_tun.h).  The TAP carries frames
 * prefixed by a virtio-net header; mvm sets its size to 12 bytes, struct
 * virtio_net_hdr_v1 (virtio 1.2, 5.1.6), so guest buffers can go to the
 * TAP as they are.  The header is in host byte order, little-endian on
 * x86, which is what VIRTIO_F_VERSION_1 requires.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "virtio/tap.h"
#include "core/util.h"
#include "virtio/virtio_net.h"

#define TUN_DEV		"/dev/net/tun"

/* One line saying what went wrong with TAP `name` and what to do. */
static void tap_error(const char *name, const char *step, int err)
{
	switch (err) {
	case ENOENT:
	case ENODEV:
		pr_err("tap '%s': %s: %s: load the tun module (modprobe tun) or create the node (mknod /dev/net/tun c 10 200)",
		       name, step, strerror(err));
		break;
	case EPERM:
	case EACCES:
		pr_err("tap '%s': %s: %s: create it for your user first (ip tuntap add dev %s mode tap user $USER) or run as root",
		       name, step, strerror(err), name);
		break;
	case EBUSY:
		pr_err("tap '%s': %s: %s: another process (another mvm?) has it open; use another TAP",
		       name, step, strerror(err));
		break;
	case EINVAL:
		pr_err("tap '%s': %s: %s: it exists but is not a single-queue tap (recreate it: ip tuntap add dev %s mode tap)",
		       name, step, strerror(err), name);
		break;
	default:
		pr_err("tap '%s': %s: %s", name, step, strerror(err));
	}
}

int tap_open(struct tap *t, const char *name)
{
	/* What we ask of the TAP, probed once: csum + TSO, else csum only. */
	static const unsigned int probe[] = {
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6, TUN_F_CSUM,
	};
	struct ifreq ifr = { 0 };
	int hdr = VIRTIO_NET_HDR_LEN;
	unsigned int i;
	int fd, err;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (!*name || strlen(name) >= IFNAMSIZ) {
		pr_err("tap '%s': interface names are 1 to %d characters",
		       name, IFNAMSIZ - 1);
		return -EINVAL;
	}
	fd = open(TUN_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		if (err == EACCES || err == EPERM)
			pr_err("tap '%s': cannot open " TUN_DEV ": %s: it must be readable and writable by your user (normally mode 0666)",
			       name, strerror(err));
		else
			tap_error(name, "cannot open " TUN_DEV, err);
		return -err;
	}
	/* if_tun.h: frames without packet info, with a virtio-net header. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = errno;
		tap_error(name, "TUNSETIFF", err);
		goto fail;
	}
	/* 5.1.6: with VERSION_1 the header always has num_buffers. */
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		err = errno;
		tap_error(name, "TUNSETVNETHDRSZ 12", err);
		goto fail;
	}
	t->fd = fd;
	t->is_tap = true;
	snprintf(t->name, sizeof(t->name), "%s", ifr.ifr_name);
	for (i = 0; i < ARRAY_SIZE(probe); i++) {
		if (!ioctl(fd, TUNSETOFFLOAD, probe[i])) {
			t->offloads = probe[i];
			break;
		}
	}
	/* Nothing offloaded until the guest negotiates it. */
	tap_set_offload(t, 0);
	return 0;
fail:
	close(fd);
	return -err;
}

int tap_open_fd(struct tap *t, int fd, const char *label)
{
	int fl, err;

	memset(t, 0, sizeof(*t));
	t->fd = fd;
	snprintf(t->name, sizeof(t->name), "%s", label);
	/* A test peer hands over whatever the guest may negotiate. */
	t->offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		err = errno;
		pr_errno(err, "%s: cannot make the backend fd non-blocking",
			 label);
		tap_close(t);
		return -err;
	}
	return 0;
}

int tap_set_offload(struct tap *t, unsigned int tun_flags)
{
	if (!t->is_tap)
		return 0;
	if (ioctl(t->fd, TUNSETOFFLOAD, tun_flags & t->offloads) < 0)
		return -errno;
	return 0;
}

void tap_close(struct tap *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
