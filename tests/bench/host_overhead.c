/*
 * host_overhead: the C side of tests/bench/host_overhead.ts, which measures on any Linux host (no dma-heap
 * needed) what Deno's FFI and JavaScript add to the operations `dmabuf bench` times: a syscall through FFI,
 * an ioctl, and mmap + one-byte fill or verify + munmap of a memfd (the same shmem pages udmabuf exports).
 * It does what the Deno side does, in the same order and batching, and prints the raw samples as JSON.
 *
 * Usage: host_overhead --iterations N --batch N --warmup N --idle-threads N --sizes BYTES[,BYTES...]
 * Samples are nanoseconds per operation (a batch's time divided by the batch size for syscalls).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PATTERN 0xa5

static long iterations = 1, batch = 1, warmup = 0, idle_threads = 0;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void *idle_thread(void *unused)
{
	(void)unused;
	for (;;)
		pause();
	return NULL;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* Prints one series: `"name": [samples...]`, each sample the time of one round divided by `per_round`. */
static void series(const char *name, long per_round, void (*round)(void *), void *arg, int last)
{
	for (long i = 0; i < warmup; i++)
		round(arg);
	printf("    \"%s\": [", name);
	for (long i = 0; i < iterations; i++) {
		uint64_t start = now_ns();
		round(arg);
		uint64_t end = now_ns();
		printf("%s%.1f", i ? ", " : "", (double)(end - start) / (double)per_round);
	}
	printf("]%s\n", last ? "" : ",");
}

static void geteuid_round(void *unused)
{
	(void)unused;
	for (long i = 0; i < batch; i++)
		if (geteuid() == (uid_t)-1)
			die("geteuid");
}

static int memfd = -1;

static void ioctl_round(void *unused)
{
	int available;

	(void)unused;
	for (long i = 0; i < batch; i++)
		if (ioctl(memfd, FIONREAD, &available) < 0)
			die("ioctl(FIONREAD)");
}

static void *map(size_t size, int write)
{
	void *p = mmap(NULL, size, PROT_READ | (write ? PROT_WRITE : 0), MAP_SHARED, memfd, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

static void unmap(void *p, size_t size)
{
	if (munmap(p, size) < 0)
		die("munmap");
}

static void map_round(void *arg)
{
	size_t size = *(size_t *)arg;

	unmap(map(size, 1), size);
}

static void fill_round(void *arg)
{
	size_t size = *(size_t *)arg;
	void *p = map(size, 1);

	memset(p, PATTERN, size);
	unmap(p, size);
}

/* The word loop of dmabuf_ref.c's verify for a one-byte pattern. */
static void verify_round(void *arg)
{
	size_t size = *(size_t *)arg;
	const uint32_t *w = map(size, 0);
	const uint32_t expected = PATTERN * 0x01010101U;

	for (size_t i = 0; i < size / 4; i++) {
		if (w[i] != expected) {
			fprintf(stderr, "host_overhead: verify found a mismatch at word %zu\n", i);
			exit(1);
		}
	}
	unmap((void *)w, size);
}

int main(int argc, char **argv)
{
	char *sizes = NULL;

	for (int i = 1; i + 1 < argc; i += 2) {
		const char *name = argv[i], *value = argv[i + 1];
		if (strcmp(name, "--iterations") == 0)
			iterations = strtol(value, NULL, 0);
		else if (strcmp(name, "--batch") == 0)
			batch = strtol(value, NULL, 0);
		else if (strcmp(name, "--warmup") == 0)
			warmup = strtol(value, NULL, 0);
		else if (strcmp(name, "--idle-threads") == 0)
			idle_threads = strtol(value, NULL, 0);
		else if (strcmp(name, "--sizes") == 0)
			sizes = strdup(value);
	}
	if (iterations < 1 || batch < 1 || warmup < 0 || idle_threads < 0 || !sizes) {
		fprintf(stderr, "usage: host_overhead --iterations N --batch N --warmup N --idle-threads N "
				"--sizes BYTES[,BYTES...]\n");
		return 2;
	}
	for (long i = 0; i < idle_threads; i++) {
		pthread_t thread;
		if (pthread_create(&thread, NULL, idle_thread, NULL) != 0)
			die("pthread_create");
	}
	size_t largest = 0;
	for (char *s = sizes; *s;) {
		size_t size = strtoull(s, &s, 0);
		largest = size > largest ? size : largest;
		s += *s == ',';
	}
	memfd = memfd_create("host-overhead", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, (off_t)largest) < 0)
		die("memfd");

	printf("{\n");
	series("geteuid", batch, geteuid_round, NULL, 0);
	series("ioctl", batch, ioctl_round, NULL, 0);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	series("mapUnmap", 1, map_round, &page, 0);
	for (char *s = sizes; *s;) {
		size_t size = strtoull(s, &s, 0);
		s += *s == ',';
		char name[64];
		snprintf(name, sizeof(name), "fill:%zu", size);
		series(name, 1, fill_round, &size, 0);
		snprintf(name, sizeof(name), "verify:%zu", size);
		series(name, 1, verify_round, &size, *s == '\0');
	}
	printf("}\n");
	return 0;
}
