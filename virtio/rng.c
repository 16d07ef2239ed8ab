// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-rng, the entropy device (virtio 1.2, 5.4): one request queue;
 * every device-writable buffer is filled from the host's getrandom(2).
 * No feature bits, no configuration space.
 */
#include <stdlib.h>
#include <sys/random.h>

#include "core/util.h"
#include "virtio/virtio.h"

/* Bytes given per buffer at most; 5.4.6.1 lets the device write fewer. */
#define RNG_MAX_PER_BUFFER	(64 * 1024)
#define RNG_QUEUE_SIZE		256

struct virtio_rng {
	struct virtio_dev vdev;
	struct virtq_elem elem;
};

/* Fill buf with random bytes; returns how many (short only on error). */
static size_t rng_fill(uint8_t *buf, size_t len)
{
	size_t done = 0;
	ssize_t r;

	while (done < len) {
		r = getrandom(buf + done, len - done, 0);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			pr_warn_ratelimited("virtio-rng: getrandom failed: %s",
					    strerror(errno));
			break;
		}
		done += (size_t)r;	/* short reads: go on */
	}
	return done;
}

/* 5.4.6.1: write random bytes to the device-writable part. */
static uint32_t rng_serve(const struct virtq_elem *e)
{
	size_t total = 0, n;
	unsigned int i;

	for (i = e->nr_out; i < e->nr_out + e->nr_in; i++) {
		n = MIN(e->iov[i].iov_len, RNG_MAX_PER_BUFFER - total);
		n = rng_fill(e->iov[i].iov_base, n);
		total += n;
		if (n < e->iov[i].iov_len || total == RNG_MAX_PER_BUFFER)
			break;
	}
	return (uint32_t)total;
}

static void rng_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_rng *rng = vdev->priv;
	struct virtq *vq = virtio_dev_queue(vdev, q);
	int r;

	do {
		virtq_disable_notify(vq);
		while ((r = virtq_pop(vq, &rng->elem)) > 0)
			virtq_push(vq, rng->elem.head, rng_serve(&rng->elem));
	} while (r == 0 && virtq_enable_notify(vq));
	virtio_dev_notify_used(vdev, q);
}

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.pci_class = 0xff0000,		/* unclassified device */
	.nr_queues = 1,			/* 5.4.2: requestq */
	.queue_size = RNG_QUEUE_SIZE,
	.queue_notify = rng_queue_notify,
};

int virtio_rng_create(struct device_ctx *ctx, struct virtio_rng **out)
{
	struct virtio_rng *rng = calloc(1, sizeof(*rng));
	int err;

	if (!rng)
		return -ENOMEM;
	err = virtio_dev_init(&rng->vdev, &rng_ops, ctx, rng);
	if (err) {
		free(rng);
		return err;
	}
	*out = rng;
	return 0;
}

void virtio_rng_destroy(struct virtio_rng *rng)
{
	if (!rng)
		return;
	virtio_dev_destroy(&rng->vdev);
	free(rng);
}

struct virtio_dev *virtio_rng_dev(struct virtio_rng *rng)
{
	return &rng->vdev;
}
