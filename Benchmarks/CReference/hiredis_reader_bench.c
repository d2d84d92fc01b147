/* hiredis reply-reader benchmark, the C reference for Benchmarks/RESPBench.
 * Build: gcc -O2 -std=c11 -o hiredis_reader_bench hiredis_reader_bench.c -lhiredis
 * (compare-parser in this folder builds it into .build-cref/ and runs it beside resp-bench.)
 * Same inputs as RESPBench, fed the same way: 16 KiB chunks through redisReaderFeed, then
 * redisReaderGetReply until no reply is complete; every reply is freed. Best of 5 runs. */
#define _POSIX_C_SOURCE 199309L
#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { CHUNK = 16 * 1024 };

typedef struct { char *data; size_t len, cap; } buf_t;

static void put(buf_t *b, const void *p, size_t n) {
    if (b->len + n > b->cap) {
        b->cap = (b->cap + n) * 2;
        b->data = realloc(b->data, b->cap);
        if (!b->data) { perror("realloc"); exit(1); }
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void putstr(buf_t *b, const char *s) { put(b, s, strlen(s)); }

/* The same deterministic payload bytes as RESPBench's payload(length:seed:). */
static void payload(buf_t *b, int length, long seed) {
    for (int i = 0; i < length; i++) {
        char c = (char)('a' + (seed + i) % 26);
        put(b, &c, 1);
    }
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long parse_once(const buf_t *in) {
    redisReader *r = redisReaderCreate();
    long count = 0, checksum = 0;
    for (size_t off = 0; off < in->len; off += CHUNK) {
        size_t n = in->len - off < CHUNK ? in->len - off : CHUNK;
        if (redisReaderFeed(r, in->data + off, n) != REDIS_OK) { fprintf(stderr, "feed failed\n"); exit(1); }
        for (;;) {
            void *reply = NULL;
            if (redisReaderGetReply(r, &reply) != REDIS_OK) { fprintf(stderr, "parse error: %s\n", r->errstr); exit(1); }
            if (!reply) break;
            count++;
            if (((redisReply *)reply)->type == REDIS_REPLY_INTEGER) checksum += ((redisReply *)reply)->integer;
            freeReplyObject(reply);
        }
    }
    redisReaderFree(r);
    if (checksum < 0) abort();
    return count;
}

static const char *only = NULL; /* --only NAME: one case, handy under callgrind */

static void bench(const char *name, const buf_t *in, long replies, int runs) {
    if (only && strcmp(only, name) != 0) return;
    double best = 1e30;
    for (int i = 0; i < runs; i++) {
        double start = now();
        long count = parse_once(in);
        double t = now() - start;
        if (count != replies) { fprintf(stderr, "%s: parsed %ld of %ld\n", name, count, replies); exit(1); }
        if (t < best) best = t;
    }
    printf("parse %s: %ld replies, %zu bytes, %.0f replies/s, %.2f MB/s\n", name, replies, in->len,
           replies / best, in->len / best / 1e6);
    printf("RESULT parse-%s %.0f %.2f\n", name, replies / best, in->len / best / 1e6);
}

int main(int argc, char **argv) {
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) quick = 1;
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
    }
    long n = quick ? 100000 : 1000000;
    long arrays = quick ? 1000 : 10000;
    int runs = quick ? 2 : 5;
    buf_t ints = {0}, bulks = {0}, nested = {0};
    for (long i = 0; i < n; i++) putstr(&ints, ":1\r\n");
    for (long i = 0; i < n; i++) { putstr(&bulks, "$64\r\n"); payload(&bulks, 64, i); putstr(&bulks, "\r\n"); }
    for (long i = 0; i < arrays; i++) {
        putstr(&nested, "*100\r\n");
        for (long j = 0; j < 100; j++) { putstr(&nested, "$16\r\n"); payload(&nested, 16, i + j); putstr(&nested, "\r\n"); }
    }
    printf("hiredis %d.%d.%d reader: fed %d-byte chunks, best of %d runs\n", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH, CHUNK, runs);
    bench("int", &ints, n, runs);
    bench("bulk64", &bulks, n, runs);
    bench("array100", &nested, arrays, runs);
    free(ints.data); free(bulks.data); free(nested.data);
    return 0;
}
