/* rawwrite.c: the disk's own limit for flowmon's write sequence: write a
 * temp file, fsync it, rename it over the target, fsync the directory.
 * Usage: rawwrite DIR [SECONDS] [THREADS]; prints operations per second.
 * With THREADS > 1 each thread writes its own files in the same directory,
 * as concurrent requests for distinct services do. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *dir;
static double seconds = 5;
static int dfd;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
worker(void *arg)
{
	long id = (long)arg, n = 0;
	char buf[400], tmp[64], file[64];
	double end = now() + seconds;
	int fd;

	memset(buf, 'x', sizeof(buf));
	while (now() < end) {
		snprintf(tmp, sizeof(tmp), ".svc-%ld-%ld.json.tmp", id, n % 1000);
		snprintf(file, sizeof(file), "svc-%ld-%ld.json", id, n % 1000);
		if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1 ||
		    write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) ||
		    fsync(fd) == -1 || close(fd) == -1 ||
		    renameat(dfd, tmp, dfd, file) == -1 || fsync(dfd) == -1) {
			perror("rawwrite");
			exit(1);
		}
		n++;
	}
	return (void *)n;
}

int
main(int argc, char **argv)
{
	pthread_t t[64];
	long i, nthreads = 1, total = 0;
	void *r;
	double start;

	if (argc < 2) {
		fprintf(stderr, "usage: rawwrite DIR [SECONDS] [THREADS]\n");
		return 2;
	}
	dir = argv[1];
	if (argc > 2)
		seconds = atof(argv[2]);
	if (argc > 3)
		nthreads = atol(argv[3]);
	if (nthreads < 1 || nthreads > 64)
		nthreads = 1;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) == -1) {
		perror(dir);
		return 1;
	}
	start = now();
	for (i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (i = 0; i < nthreads; i++) {
		pthread_join(t[i], &r);
		total += (long)r;
	}
	printf("%.0f\n", total / (now() - start));
	return 0;
}
