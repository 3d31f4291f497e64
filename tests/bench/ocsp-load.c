/*
 * ocsp-load.c - a loopback OCSP load for bench-ocsp.sh: THREADS threads,
 * each POSTing the DER request over one kept-alive connection (a new one
 * when the server closes it, as HTTP/1.0 responders do), for SECONDS.
 * Prints "rps=N p99_ms=X errors=E".  Built by the benchmark script.
 *   ocsp-load PORT REQUEST.der SECONDS THREADS
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXLAT 4000000

static char req[70000];
static size_t reqlen;
static int port;
static double seconds;

typedef struct worker {
	pthread_t t;
	float *lat;
	size_t n;
	unsigned long errors;
} worker;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
dial(void)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct timeval tv = { 5, 0 };

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One exchange; returns 0 ok, -1 error; *keep: connection reusable. */
static int
exchange(int fd, int *keep)
{
	char buf[16384], *hend, *p;
	size_t have = 0, want = 0, hl;
	ssize_t r;
	int status;

	if (write(fd, req, reqlen) != (ssize_t)reqlen)
		return -1;
	for (;;) {
		r = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (r <= 0)
			return -1;
		have += (size_t)r;
		buf[have] = '\0';
		if ((hend = strstr(buf, "\r\n\r\n")) != NULL)
			break;
		if (have == sizeof(buf) - 1)
			return -1;
	}
	hl = (size_t)(hend - buf) + 4;
	status = atoi(buf + 9);
	*keep = strncmp(buf, "HTTP/1.1", 8) == 0;
	for (p = buf; p < hend; p++) {
		if (strncasecmp(p, "\ncontent-length:", 16) == 0)
			want = strtoul(p + 16, NULL, 10);
		if (strncasecmp(p, "\nconnection: close", 18) == 0)
			*keep = 0;
	}
	while (have - hl < want) {
		if (have == sizeof(buf) - 1) {
			hl -= have;
			have = 0;
		}
		r = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (r <= 0)
			return -1;
		have += (size_t)r;
	}
	return status == 200 ? 0 : -1;
}

static void *
run(void *arg)
{
	worker *w = arg;
	double end = now() + seconds, t0;
	int fd = -1, keep = 0;

	while ((t0 = now()) < end) {
		if (fd < 0 && (fd = dial()) < 0) {
			w->errors++;
			continue;
		}
		if (exchange(fd, &keep) != 0) {
			w->errors++;
			close(fd);
			fd = -1;
			continue;
		}
		if (w->n < MAXLAT)
			w->lat[w->n++] = (float)(now() - t0);
		if (!keep) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	worker *w;
	float *all;
	size_t total = 0, k = 0, body;
	unsigned long errors = 0;
	int i, nt;
	FILE *f;
	char hdr[256];

	/* PORT REQFILE SECONDS THREADS [PATH] */
	if (argc != 5 && argc != 6)
		return 2;
	port = atoi(argv[1]);
	seconds = atof(argv[3]);
	nt = atoi(argv[4]);
	if ((f = fopen(argv[2], "rb")) == NULL)
		return 2;
	body = fread(req + 256, 1, sizeof(req) - 256, f);
	fclose(f);
	snprintf(hdr, sizeof(hdr), "POST %.64s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Content-Type: application/ocsp-request\r\nContent-Length: %zu"
	    "\r\n\r\n", argc == 6 ? argv[5] : "/", body);
	memmove(req + strlen(hdr), req + 256, body);
	memcpy(req, hdr, strlen(hdr));
	reqlen = strlen(hdr) + body;
	w = calloc((size_t)nt, sizeof(*w));
	for (i = 0; i < nt; i++) {
		w[i].lat = malloc(MAXLAT * sizeof(float));
		pthread_create(&w[i].t, NULL, run, &w[i]);
	}
	for (i = 0; i < nt; i++) {
		pthread_join(w[i].t, NULL);
		total += w[i].n;
		errors += w[i].errors;
	}
	all = malloc((total + 1) * sizeof(float));
	for (i = 0; i < nt; i++) {
		memcpy(all + k, w[i].lat, w[i].n * sizeof(float));
		k += w[i].n;
		free(w[i].lat);
	}
	qsort(all, total, sizeof(float), cmp);
	printf("rps=%.0f p99_ms=%.2f errors=%lu\n", (double)total / seconds,
	    total ? all[(size_t)((double)total * 0.99)] * 1000.0 : 0.0, errors);
	free(all);
	free(w);
	return 0;
}
