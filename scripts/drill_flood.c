/* UDP flood helper for scripts/drill.py: sends prebuilt DNS queries from one source
 * address as fast as it can (or at --rate) for a fixed time, and counts what comes
 * back to that address (the "victim" of a reflection attack is the bound source).
 *
 * usage: drill_flood SRC_IP DST_IP DST_PORT SECONDS PACKETFILE [RATE] [RANDOMIZE]
 *   PACKETFILE  concatenated queries, each preceded by a two-octet length
 *   RATE        queries per second, 0 = unlimited (default 0)
 *   RANDOMIZE   1: rewrite the first label of each query with random [a-z0-9]
 *               before sending it (water torture: every name is new)
 * Prints one line of JSON: sent, sent_bytes, received, received_bytes.
 * Loopback only by intent: the drill binds 127/8 source addresses.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32
#define MAXPKT 4096

static atomic_int stop_rx;
static atomic_ullong rx_pkts, rx_bytes;
static int fd;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *receiver(void *arg) {
    (void)arg;
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    static unsigned char bufs[BATCH][MAXPKT];
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = MAXPKT;
        memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    while (!atomic_load(&stop_rx)) {
        /* SO_RCVTIMEO bounds the wait (recvmmsg's own timeout is only checked
         * after a datagram arrives), so the thread sees stop_rx. */
        int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
        if (n <= 0) continue;
        unsigned long long b = 0;
        for (int i = 0; i < n; i++) b += msgs[i].msg_len;
        atomic_fetch_add(&rx_pkts, n);
        atomic_fetch_add(&rx_bytes, b);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s SRC DST PORT SECONDS PACKETFILE [RATE] [RANDOMIZE]\n", argv[0]);
        return 2;
    }
    const char *src = argv[1], *dst = argv[2];
    int port = atoi(argv[3]);
    double seconds = atof(argv[4]);
    double rate = argc > 6 ? atof(argv[6]) : 0;
    int randomize = argc > 7 ? atoi(argv[7]) : 0;

    FILE *f = fopen(argv[5], "rb");
    if (!f) { perror("packet file"); return 2; }
    static unsigned char data[1 << 24];
    size_t len = fread(data, 1, sizeof data, f);
    fclose(f);
    size_t npk = 0, cap = 1024;
    unsigned char **pk = malloc(cap * sizeof *pk);
    size_t *pl = malloc(cap * sizeof *pl);
    for (size_t off = 0; off + 2 <= len;) {
        size_t l = (size_t)data[off] << 8 | data[off + 1];
        if (off + 2 + l > len || l < 12) break;
        if (npk == cap) { cap *= 2; pk = realloc(pk, cap * sizeof *pk); pl = realloc(pl, cap * sizeof *pl); }
        pk[npk] = data + off + 2;
        pl[npk++] = l;
        off += 2 + l;
    }
    if (npk == 0) { fprintf(stderr, "no packets\n"); return 2; }

    fd = socket(AF_INET, SOCK_DGRAM, 0);
    int big = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    struct timeval tv = {0, 100 * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, src, &sa.sin_addr);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) { perror("bind"); return 2; }
    struct sockaddr_in da = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, dst, &da.sin_addr);
    if (connect(fd, (struct sockaddr *)&da, sizeof da) < 0) { perror("connect"); return 2; }

    pthread_t rx;
    pthread_create(&rx, NULL, receiver, NULL);

    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t rnd = 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid();
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    static unsigned char scratch[BATCH][MAXPKT];
    unsigned long long sent = 0, sent_bytes = 0;
    size_t next = 0;
    uint16_t id = 1;
    double start = now(), end = start + seconds;
    while (1) {
        double t = now();
        if (t >= end) break;
        int batch = BATCH;
        if (rate > 0) {
            double due = (t - start) * rate - (double)sent;
            if (due < 1) { usleep(200); continue; }
            if (due < batch) batch = (int)due;
        }
        for (int i = 0; i < batch; i++) {
            size_t l = pl[next];
            memcpy(scratch[i], pk[next], l);
            next = (next + 1) % npk;
            scratch[i][0] = id >> 8;
            scratch[i][1] = id & 255;
            id++;
            if (randomize) {
                int ll = scratch[i][12];
                for (int k = 0; k < ll && 13 + k < (int)l; k++) {
                    rnd ^= rnd << 13; rnd ^= rnd >> 7; rnd ^= rnd << 17;
                    scratch[i][13 + k] = alnum[rnd % 36];
                }
            }
            iov[i].iov_base = scratch[i];
            iov[i].iov_len = l;
            memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = sendmmsg(fd, msgs, batch, 0);
        if (n < 0) {
            if (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED) { usleep(50); continue; }
            perror("sendmmsg");
            break;
        }
        for (int i = 0; i < n; i++) sent_bytes += msgs[i].msg_len;
        sent += n;
    }
    double elapsed = now() - start;
    usleep(500 * 1000);  /* answers still in flight reach the victim too */
    atomic_store(&stop_rx, 1);
    pthread_join(rx, NULL);
    printf("{\"sent\": %llu, \"sent_bytes\": %llu, \"received\": %llu, \"received_bytes\": %llu, \"seconds\": %.3f}\n",
           sent, sent_bytes, (unsigned long long)atomic_load(&rx_pkts),
           (unsigned long long)atomic_load(&rx_bytes), elapsed);
    return 0;
}
