// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-fs (virtio 1.2, 5.11): device ID 26, queue 0 the high-priority
 * queue, queue 1 the one request queue; configuration: the tag (36
 * bytes, NUL-padded) and num_request_queues.  The queues are external:
 * virtiofsd runs them over vhost-user (virtio/vhost_user.c); this file
 * only presents the device, starts and stops the back-end's rings with
 * the driver, copies virtiofsd's stderr and notices when it dies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/util.h"
#include "virtio/virtio.h"
#include "virtio/virtio_fs.h"

#define FS_QUEUES		2	/* hiprio + 1 request queue */
#define FS_QUEUE_SIZE		1024
#define FS_CONFIG_SIZE		(VIRTIO_FS_TAG_MAX + 4)

/* struct fuse_in_header / fuse_out_header (linux/fuse.h): 40 / 16 bytes. */
#define FUSE_IN_UNIQUE		8
#define FUSE_OUT_HDR_SIZE	16

struct virtio_fs {
	struct virtio_dev vdev;
	struct virtiofsd d;
	struct vhost_user vu;
	uint8_t config[FS_CONFIG_SIZE];
	char tag[VIRTIO_FS_TAG_MAX + 1];
	bool dead;
	bool taken_over;		/* mvm answers the queues with EIO */
	struct virtq_elem elem;
};

static void fs_config_read(struct virtio_dev *vdev, unsigned int off,
			   uint8_t *data, unsigned int len)
{
	struct virtio_fs *fs = vdev->priv;

	memcpy(data, fs->config + off, len);
}

/*
 * virtiofsd is dead: every request the driver makes available from now
 * on is answered here with a FUSE error reply (-EIO, the request's
 * unique id), so the guest's new accesses fail instead of hanging.  The
 * requests virtiofsd had already taken are lost with it: which ones
 * those are cannot be told from the rings (it completes out of order),
 * so they stay unanswered.  I/O thread, io_lock held.
 */
static void fs_answer_eio(struct virtio_dev *vdev, int fd, void *opaque)
{
	struct virtio_fs *fs = vdev->priv;
	unsigned int q = (unsigned int)(uintptr_t)opaque;
	struct virtq *vq = virtio_dev_queue(vdev, q);
	uint8_t in[FUSE_IN_UNIQUE + 8], out[FUSE_OUT_HDR_SIZE] = { 0 };
	uint64_t n;
	uint32_t len;
	int r;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	if (!virtio_dev_driver_ok(vdev))
		return;
	do {
		virtq_disable_notify(vq);
		while ((r = virtq_pop(vq, &fs->elem)) > 0) {
			len = 0;
			/* FORGET and the like have no reply part. */
			if (fs->elem.in_len >= sizeof(out) &&
			    virtq_elem_read(&fs->elem, 0, in, sizeof(in)) ==
			    sizeof(in)) {
				put_le32(out, sizeof(out));
				put_le32(out + 4, (uint32_t)-EIO);
				memcpy(out + 8, in + FUSE_IN_UNIQUE, 8);
				len = (uint32_t)virtq_elem_write(&fs->elem, 0,
								 out,
								 sizeof(out));
			}
			virtq_push(vq, fs->elem.head, len);
		}
	} while (r == 0 && virtq_enable_notify(vq));
	virtio_dev_notify_used(vdev, q);
}

/* Take the queues back from a dead virtiofsd (io_lock held). */
static void fs_take_over(struct virtio_fs *fs)
{
	struct virtio_dev *vdev = &fs->vdev;
	unsigned int q;

	if (fs->taken_over || !virtio_dev_driver_ok(vdev))
		return;
	for (q = 0; q < FS_QUEUES; q++) {
		struct virtq *vq = virtio_dev_queue(vdev, q);

		if (!vq->size)
			continue;
		/* From where the driver is now; the rings say nothing of
		 * what virtiofsd had taken before. */
		vq->last_avail = get_le16(vq->avail + 2);
		vq->used_idx = vq->signalled_used = get_le16(vq->used + 2);
		if (virtio_dev_watch(vdev, vdev->queues[q].kick_fd,
				     fs_answer_eio, (void *)(uintptr_t)q))
			continue;
		fs->taken_over = true;
		/* virtiofsd's last word on notifications (flags, avail_event)
		 * may tell the driver not to kick: ask for kicks again, and
		 * look at once in case it added buffers meanwhile. */
		virtq_enable_notify(vq);
		virtio_dev_kick(vdev, q);
	}
}

static void fs_driver_ok(struct virtio_dev *vdev)
{
	struct virtio_fs *fs = vdev->priv;

	if (fs->dead)
		fs_take_over(fs);	/* re-initialised after the death */
	else
		vhost_user_dev_start(&fs->vu, vdev);
}

static void fs_reset(struct virtio_dev *vdev)
{
	struct virtio_fs *fs = vdev->priv;
	unsigned int q;

	vhost_user_dev_stop(&fs->vu, vdev);
	if (fs->taken_over)
		for (q = 0; q < FS_QUEUES; q++)
			virtio_dev_unwatch(vdev, vdev->queues[q].kick_fd);
	fs->taken_over = false;
}

static const struct virtio_dev_ops fs_ops = {
	.name = "virtio-fs",
	.device_id = VIRTIO_ID_FS,
	.pci_class = 0x018000,		/* mass storage, other */
	.nr_queues = FS_QUEUES,
	.queue_size = FS_QUEUE_SIZE,
	.config_size = FS_CONFIG_SIZE,
	.config_read = fs_config_read,
	.driver_ok = fs_driver_ok,
	.reset = fs_reset,
	.external_queues = true,
};

/* I/O thread: virtiofsd wrote to its stderr. */
static void fs_stderr(struct virtio_dev *vdev, int fd, void *opaque)
{
	struct virtio_fs *fs = opaque;

	virtiofsd_relay(&fs->d);
	if (fs->d.err_fd < 0)		/* EOF: it closed stderr */
		virtio_dev_unwatch(vdev, fd);
}

/*
 * I/O thread: virtiofsd is gone.  Say so once; the device stays (the
 * guest's requests on this share are not answered any more), the VM and
 * every other device go on.
 */
static void fs_died(struct virtio_dev *vdev, int fd, void *opaque)
{
	struct virtio_fs *fs = opaque;
	char how[64];

	virtio_dev_unwatch(vdev, fd);
	virtiofsd_relay(&fs->d);
	if (!virtiofsd_exited(&fs->d, true, how, sizeof(how)))
		snprintf(how, sizeof(how), "an unknown status");
	fs->dead = true;
	fs->vu.dead = true;
	fs_take_over(fs);
	pr_err("%s (pid %d) died: %s; the guest's new requests on share '%s' fail with EIO, those it had taken get no answer (the VM keeps running)",
	       fs->d.name, (int)fs->d.pid, how, fs->tag);
}

/* I/O thread: the back-end signalled a ring's error eventfd. */
static void fs_ring_err(struct virtio_dev *vdev, int fd, void *opaque)
{
	struct virtio_fs *fs = vdev->priv;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) == sizeof(n))
		pr_warn_ratelimited("%s: reported an error on queue %u",
				    fs->d.name, (unsigned int)(uintptr_t)opaque);
}

int virtio_fs_create(struct device_ctx *ctx, const struct virtio_fs_spec *spec,
		     struct virtiofsd *d, struct vhost_user *vu,
		     struct virtio_fs **out)
{
	struct virtio_fs *fs = calloc(1, sizeof(*fs));
	uint64_t offer = 1ULL << VIRTIO_F_VERSION_1 |
			 1ULL << VIRTIO_RING_F_INDIRECT_DESC |
			 1ULL << VIRTIO_RING_F_EVENT_IDX;
	unsigned int q;
	int err;

	if (!fs)
		return -ENOMEM;
	/* The device owns the process and the connection from here on. */
	fs->d = *d;
	fs->vu = *vu;
	d->pid = 0;
	d->pidfd = d->err_fd = -1;
	d->rundir[0] = '\0';
	vu->fd = -1;
	snprintf(fs->tag, sizeof(fs->tag), "%s", spec->tag);
	memcpy(fs->config, spec->tag, strlen(spec->tag));
	put_le32(fs->config + VIRTIO_FS_TAG_MAX, FS_QUEUES - 1);
	err = virtio_dev_init(&fs->vdev, &fs_ops, ctx, fs);
	if (err)
		goto fail;
	snprintf(fs->vdev.name, sizeof(fs->vdev.name), "virtio-fs[%s]",
		 spec->tag);
	/* Offer what virtiofsd can do of what the transport can. */
	fs->vdev.host_features = (fs->vu.features & offer) |
				 1ULL << VIRTIO_F_VERSION_1;
	for (q = 0; q < FS_QUEUES; q++) {
		fs->vu.err_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fs->vu.err_fd[q] < 0 ||
		    virtio_dev_watch(&fs->vdev, fs->vu.err_fd[q], fs_ring_err,
				     (void *)(uintptr_t)q)) {
			err = -EMFILE;
			goto fail;
		}
	}
	if ((fs->d.err_fd >= 0 &&
	     virtio_dev_watch(&fs->vdev, fs->d.err_fd, fs_stderr, fs)) ||
	    (fs->d.pidfd >= 0 &&
	     virtio_dev_watch(&fs->vdev, fs->d.pidfd, fs_died, fs))) {
		err = -EMFILE;
		goto fail;
	}
	*out = fs;
	return 0;
fail:
	pr_errno(-err, "%s: cannot create the virtio-fs device", fs->d.name);
	virtio_fs_destroy(fs);
	return err;
}

void virtio_fs_destroy(struct virtio_fs *fs)
{
	if (!fs)
		return;
	/* The I/O thread first (it reads the fds closed below). */
	if (fs->vdev.ops)
		virtio_dev_destroy(&fs->vdev);
	/* Closing the socket makes virtiofsd exit on its own. */
	virtiofsd_stop(&fs->d, &fs->vu);
	free(fs);
}

struct virtio_dev *virtio_fs_dev(struct virtio_fs *fs)
{
	return &fs->vdev;
}
