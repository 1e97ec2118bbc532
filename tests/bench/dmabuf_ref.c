/*
 * dmabuf_ref: the C reference for `dmabuf bench`. It performs the same operations as the Deno measurements
 * in commands/bench/deno_side.ts, in the same way (same syscalls, same order, same batching, same patterns),
 * and prints the raw samples as one JSON object on stdout, so the bench can compute both sides' statistics with one
 * function and report a Deno/C ratio per measurement.
 *
 * Built by `dmabuf bench` with `gcc -O2` into the user's cache directory, never into the checkout.
 * Self-contained: the UAPI structs and ioctl numbers are defined here (checked against the 6.1 headers:
 * include/uapi/linux/dma-heap.h, dma-buf.h, udmabuf.h), so it builds without kernel headers installed.
 *
 * Usage: dmabuf_ref --kind heap|udmabuf --path DEVICE --size BYTES --iterations N --bandwidth-iterations N
 *                   --batch N --warmup N --pattern zero|byte:V|counter|random:SEED [--idle-threads N]
 * --idle-threads starts N threads that only sleep, to measure under the conditions of a multithreaded process
 * such as Deno: the fd table is then shared, so every fd syscall takes and drops a reference on the file
 * (__fget_light's fast path is for single-threaded processes only).
 * Samples are nanoseconds per operation (a batch's time divided by the batch size for ioctl latencies).
 * A measurement whose operation fails is reported in "errors" with the errno name instead of samples.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* include/uapi/linux/dma-heap.h */
struct dma_heap_allocation_data {
	uint64_t len;
	uint32_t fd;
	uint32_t fd_flags;
	uint64_t heap_flags;
};
#define DMA_HEAP_IOCTL_ALLOC _IOWR('H', 0x0, struct dma_heap_allocation_data)

/* include/uapi/linux/dma-buf.h */
struct dma_buf_sync {
	uint64_t flags;
};
struct dma_buf_export_sync_file {
	uint32_t flags;
	int32_t fd;
};
#define DMA_BUF_SYNC_READ (1 << 0)
#define DMA_BUF_SYNC_WRITE (2 << 0)
#define DMA_BUF_SYNC_RW (DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE)
#define DMA_BUF_SYNC_START (0 << 2)
#define DMA_BUF_SYNC_END (1 << 2)
#define DMA_BUF_IOCTL_SYNC _IOW('b', 0, struct dma_buf_sync)
#define DMA_BUF_IOCTL_EXPORT_SYNC_FILE _IOWR('b', 2, struct dma_buf_export_sync_file)

/* include/uapi/linux/udmabuf.h */
struct udmabuf_create {
	uint32_t memfd;
	uint32_t flags;
	uint64_t offset;
	uint64_t size;
};
#define UDMABUF_FLAGS_CLOEXEC 0x01
#define UDMABUF_CREATE _IOW('u', 0x42, struct udmabuf_create)

#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 0x0002U
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_SEAL_SHRINK 0x0002
#endif

#define GOLDEN 0x9e3779b9U

enum pattern_kind { PATTERN_ZERO, PATTERN_BYTE, PATTERN_COUNTER, PATTERN_RANDOM };

struct options {
	const char *kind;
	const char *path;
	size_t size;
	long iterations;
	long bandwidth_iterations;
	long batch;
	long warmup;
	enum pattern_kind pattern;
	uint32_t pattern_value;
	long idle_threads;
};

static int heap_fd = -1;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static const char *errno_name(int err)
{
	switch (err) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case EMFILE: return "EMFILE";
	case ENOTTY: return "ENOTTY";
	case ENOSPC: return "ENOSPC";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EBADFD: return "EBADFD";
	default: return "EUNKNOWN";
	}
}

/* The same 32-bit hash as ffi/pattern.ts mix32. */
static inline uint32_t mix32(uint32_t x)
{
	x = (x ^ (x >> 16)) * 0x7feb352dU;
	x = (x ^ (x >> 15)) * 0x846ca68bU;
	return x ^ (x >> 16);
}

/* ffi/pattern.ts fillPattern for a whole, page-aligned buffer starting at offset 0. */
static void fill(uint8_t *p, size_t size, const struct options *o)
{
	uint32_t *w = (uint32_t *)p;
	size_t words = size / 4;
	uint32_t salt = o->pattern_value * GOLDEN;

	switch (o->pattern) {
	case PATTERN_ZERO:
		memset(p, 0, size);
		break;
	case PATTERN_BYTE:
		memset(p, (int)o->pattern_value, size);
		break;
	case PATTERN_COUNTER:
		for (size_t i = 0; i < words; i++)
			w[i] = (uint32_t)i;
		break;
	case PATTERN_RANDOM:
		for (size_t i = 0; i < words; i++)
			w[i] = mix32((uint32_t)i + salt);
		break;
	}
}

/* ffi/pattern.ts findMismatch: the first differing word's index, or -1. */
static long verify(const uint8_t *p, size_t size, const struct options *o)
{
	const uint32_t *w = (const uint32_t *)p;
	size_t words = size / 4;
	uint32_t salt = o->pattern_value * GOLDEN;
	uint32_t expected = o->pattern == PATTERN_BYTE ? o->pattern_value * 0x01010101U : 0;

	switch (o->pattern) {
	case PATTERN_ZERO:
	case PATTERN_BYTE:
		for (size_t i = 0; i < words; i++)
			if (w[i] != expected)
				return (long)i;
		break;
	case PATTERN_COUNTER:
		for (size_t i = 0; i < words; i++)
			if (w[i] != (uint32_t)i)
				return (long)i;
		break;
	case PATTERN_RANDOM:
		for (size_t i = 0; i < words; i++)
			if (w[i] != mix32((uint32_t)i + salt))
				return (long)i;
		break;
	}
	return -1;
}

/* One allocation, as commands/bench/deno_side.ts does it: a heap ioctl, or the udmabuf sequence of ffi/udmabuf.ts. */
static int alloc_buffer(const struct options *o)
{
	if (strcmp(o->kind, "udmabuf") == 0) {
		int memfd = memfd_create("dmabuf-bench", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (memfd < 0)
			return -1;
		if (ftruncate(memfd, (off_t)o->size) < 0 || fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK) < 0) {
			int err = errno;
			close(memfd);
			errno = err;
			return -1;
		}
		int dev = open(o->path, O_RDWR | O_CLOEXEC);
		if (dev < 0) {
			int err = errno;
			close(memfd);
			errno = err;
			return -1;
		}
		struct udmabuf_create create = {
			.memfd = (uint32_t)memfd, .flags = UDMABUF_FLAGS_CLOEXEC, .offset = 0, .size = o->size,
		};
		int fd = ioctl(dev, UDMABUF_CREATE, &create);
		int err = errno;
		close(dev);
		close(memfd);
		errno = err;
		return fd;
	}
	struct dma_heap_allocation_data data = {
		.len = o->size, .fd = 0, .fd_flags = O_RDWR | O_CLOEXEC, .heap_flags = 0,
	};
	if (ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, &data) < 0)
		return -1;
	return (int)data.fd;
}

static int sync_ioctl(int fd, uint64_t flags)
{
	struct dma_buf_sync sync = { .flags = flags };
	int ret;

	do
		ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
	while (ret < 0 && (errno == EINTR || errno == EAGAIN));
	return ret;
}

struct series {
	const char *name;
	uint64_t *samples;
	long count;
	const char *error;
};

static int bandwidth_pass(int fd, const struct options *o, int write)
{
	int prot = PROT_READ | (write ? PROT_WRITE : 0);
	uint64_t access = write ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ;
	void *map = mmap(NULL, o->size, prot, MAP_SHARED, fd, 0);

	if (map == MAP_FAILED)
		return -1;
	if (sync_ioctl(fd, DMA_BUF_SYNC_START | access) < 0)
		goto fail;
	if (write)
		fill(map, o->size, o);
	else if (verify(map, o->size, o) != -1) {
		fprintf(stderr, "dmabuf_ref: verify found a mismatch\n");
		errno = EFAULT;
		goto fail;
	}
	if (sync_ioctl(fd, DMA_BUF_SYNC_END | access) < 0)
		goto fail;
	munmap(map, o->size);
	return 0;
fail:
	munmap(map, o->size);
	return -1;
}

static void measure_alloc_close(struct series *s, const struct options *o)
{
	for (long i = -o->warmup; i < o->iterations; i++) {
		uint64_t start = now_ns();
		int fd = alloc_buffer(o);
		if (fd < 0) {
			s->error = errno_name(errno);
			return;
		}
		close(fd);
		uint64_t end = now_ns();
		if (i >= 0)
			s->samples[s->count++] = end - start;
	}
}

static void measure_bandwidth(struct series *s, const struct options *o, int fd, int write)
{
	long warmup = o->warmup > 0 ? 1 : 0;

	for (long i = -warmup; i < o->bandwidth_iterations; i++) {
		uint64_t start = now_ns();
		if (bandwidth_pass(fd, o, write) < 0) {
			s->error = errno_name(errno);
			return;
		}
		uint64_t end = now_ns();
		if (i >= 0)
			s->samples[s->count++] = end - start;
	}
}

static void measure_sync(struct series *s, const struct options *o, int fd)
{
	for (long i = -o->warmup; i < o->iterations; i++) {
		uint64_t start = now_ns();
		for (long j = 0; j < o->batch; j++) {
			uint64_t flags = DMA_BUF_SYNC_RW | ((j & 1) ? DMA_BUF_SYNC_END : DMA_BUF_SYNC_START);
			if (sync_ioctl(fd, flags) < 0) {
				s->error = errno_name(errno);
				return;
			}
		}
		uint64_t end = now_ns();
		if (i >= 0)
			s->samples[s->count++] = (end - start) / (uint64_t)o->batch;
	}
}

static void measure_export(struct series *s, const struct options *o, int fd)
{
	for (long i = -o->warmup; i < o->iterations; i++) {
		uint64_t start = now_ns();
		for (long j = 0; j < o->batch; j++) {
			struct dma_buf_export_sync_file arg = { .flags = DMA_BUF_SYNC_WRITE, .fd = -1 };
			if (ioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &arg) < 0) {
				s->error = errno_name(errno);
				return;
			}
			close(arg.fd);
		}
		uint64_t end = now_ns();
		if (i >= 0)
			s->samples[s->count++] = (end - start) / (uint64_t)o->batch;
	}
}

static void print_series(const struct series *s, int last)
{
	printf("    \"%s\": ", s->name);
	if (s->error) {
		printf("{\"error\": \"%s\"}", s->error);
	} else {
		printf("{\"samplesNs\": [");
		for (long i = 0; i < s->count; i++)
			printf("%s%llu", i ? ", " : "", (unsigned long long)s->samples[i]);
		printf("]}");
	}
	printf("%s\n", last ? "" : ",");
}

/* A thread that only sleeps; the process exits with it still blocked. */
static void *idle_thread(void *unused)
{
	(void)unused;
	for (;;)
		pause();
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: dmabuf_ref --kind heap|udmabuf --path DEVICE --size BYTES --iterations N "
			"--bandwidth-iterations N --batch N --warmup N --pattern PATTERN [--idle-threads N]\n");
	exit(2);
}

static void parse_pattern(const char *text, struct options *o)
{
	if (strcmp(text, "zero") == 0) {
		o->pattern = PATTERN_ZERO;
	} else if (strcmp(text, "counter") == 0) {
		o->pattern = PATTERN_COUNTER;
	} else if (strncmp(text, "byte:", 5) == 0) {
		o->pattern = PATTERN_BYTE;
		o->pattern_value = (uint32_t)strtoul(text + 5, NULL, 0) & 0xff;
	} else if (strncmp(text, "random:", 7) == 0) {
		o->pattern = PATTERN_RANDOM;
		o->pattern_value = (uint32_t)strtoul(text + 7, NULL, 0);
	} else {
		usage();
	}
}

int main(int argc, char **argv)
{
	struct options o = { .kind = NULL, .path = NULL, .iterations = 1, .bandwidth_iterations = 1, .batch = 1 };

	for (int i = 1; i + 1 < argc; i += 2) {
		const char *name = argv[i], *value = argv[i + 1];
		if (strcmp(name, "--kind") == 0)
			o.kind = value;
		else if (strcmp(name, "--path") == 0)
			o.path = value;
		else if (strcmp(name, "--size") == 0)
			o.size = strtoull(value, NULL, 0);
		else if (strcmp(name, "--iterations") == 0)
			o.iterations = strtol(value, NULL, 0);
		else if (strcmp(name, "--bandwidth-iterations") == 0)
			o.bandwidth_iterations = strtol(value, NULL, 0);
		else if (strcmp(name, "--batch") == 0)
			o.batch = strtol(value, NULL, 0);
		else if (strcmp(name, "--warmup") == 0)
			o.warmup = strtol(value, NULL, 0);
		else if (strcmp(name, "--pattern") == 0)
			parse_pattern(value, &o);
		else if (strcmp(name, "--idle-threads") == 0)
			o.idle_threads = strtol(value, NULL, 0);
		else
			usage();
	}
	if (!o.kind || !o.path || o.size == 0 || o.size % (size_t)sysconf(_SC_PAGESIZE) || o.iterations < 1 ||
	    o.bandwidth_iterations < 1 || o.batch < 1 || o.warmup < 0 || o.idle_threads < 0)
		usage();
	for (long i = 0; i < o.idle_threads; i++) {
		pthread_t thread;
		int err = pthread_create(&thread, NULL, idle_thread, NULL);
		if (err) {
			fprintf(stderr, "dmabuf_ref: pthread_create: %s\n", errno_name(err));
			return 1;
		}
	}

	uint64_t *pool = calloc((size_t)(4 * o.iterations + 2 * o.bandwidth_iterations), sizeof(uint64_t));
	if (!pool)
		return 1;
	struct series alloc_close = { "allocClose", pool, 0, NULL };
	struct series fill_s = { "fill", pool + o.iterations, 0, NULL };
	struct series verify_s = { "verify", pool + o.iterations + o.bandwidth_iterations, 0, NULL };
	struct series sync_s = { "sync", pool + o.iterations + 2 * o.bandwidth_iterations, 0, NULL };
	struct series export_s = { "exportSyncFile", pool + 2 * o.iterations + 2 * o.bandwidth_iterations, 0, NULL };

	if (strcmp(o.kind, "heap") == 0) {
		heap_fd = open(o.path, O_RDONLY | O_CLOEXEC);
		if (heap_fd < 0) {
			fprintf(stderr, "dmabuf_ref: open %s: %s\n", o.path, errno_name(errno));
			return 1;
		}
	}
	measure_alloc_close(&alloc_close, &o);
	int fd = alloc_buffer(&o);
	if (fd < 0) {
		/* Nothing to measure on: every buffer measurement reports the allocation's errno. */
		fill_s.error = verify_s.error = sync_s.error = export_s.error = errno_name(errno);
	} else {
		measure_bandwidth(&fill_s, &o, fd, 1);
		measure_bandwidth(&verify_s, &o, fd, 0);
		measure_sync(&sync_s, &o, fd);
		measure_export(&export_s, &o, fd);
		close(fd);
	}

	printf("{\n  \"size\": %zu,\n  \"measurements\": {\n", o.size);
	print_series(&alloc_close, 0);
	print_series(&fill_s, 0);
	print_series(&verify_s, 0);
	print_series(&sync_s, 0);
	print_series(&export_s, 1);
	printf("  }\n}\n");
	return 0;
}
