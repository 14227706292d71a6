/* Unit tests of consumer/cdc_rsink's reply limit: hiredis 0.14 allocates
 * an array's element table when it reads the header and aborts the
 * process when that fails, so a reply such as "*2000000000" from a hostile
 * or corrupt server must be refused before the allocation. The reader is
 * tested alone, then cdc_rsink against a scripted server on loopback
 * (one canned reply per request). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "cdc_rsink.h"

/* ---- the reader alone ---- */

static int feed_one(redisReader *rr, const char *bytes, void **reply) {
        *reply = NULL;
        if (redisReaderFeed(rr, bytes, strlen(bytes)) != REDIS_OK)
                return -1;
        return redisReaderGetReply(rr, reply) == REDIS_OK ? 0 : -1;
}

static void test_reader_accepts_small_arrays(void **state) {
        redisReader *rr = redisReaderCreate();
        long long over  = 0;
        redisReply *r;
        void *v;

        (void)state;
        assert_non_null(rr);
        cdc_rsink_reader_limit(rr, &over);
        assert_int_equal(feed_one(rr, "*2\r\n$1\r\na\r\n*1\r\n:7\r\n", &v), 0);
        r = v;
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        assert_int_equal(r->elements, 2);
        assert_string_equal(r->element[0]->str, "a");
        assert_int_equal(r->element[1]->element[0]->integer, 7);
        freeReplyObject(r);
        /* empty and nil arrays are not arrays to allocate */
        assert_int_equal(feed_one(rr, "*0\r\n", &v), 0);
        assert_int_equal(((redisReply *)v)->elements, 0);
        freeReplyObject(v);
        assert_int_equal(feed_one(rr, "*-1\r\n", &v), 0);
        assert_int_equal(((redisReply *)v)->type, REDIS_REPLY_NIL);
        freeReplyObject(v);
        assert_int_equal(over, 0);
        redisReaderFree(rr);
}

static void test_reader_refuses_huge_arrays(void **state) {
        char hdr[64];
        long long over = 0;
        redisReader *rr;
        void *v;

        (void)state;
        /* the header alone, as the first bytes of the reply would come */
        rr = redisReaderCreate();
        cdc_rsink_reader_limit(rr, &over);
        assert_int_equal(feed_one(rr, "*2000000000\r\n", &v), -1);
        assert_null(v);
        assert_int_equal(over, 2000000000LL);
        redisReaderFree(rr);

        /* one over the limit, nested inside a small array */
        over = 0;
        rr   = redisReaderCreate();
        cdc_rsink_reader_limit(rr, &over);
        snprintf(hdr, sizeof(hdr), "*2\r\n:1\r\n*%d\r\n",
                 CDC_RSINK_MAX_ELEMENTS + 1);
        assert_int_equal(feed_one(rr, hdr, &v), -1);
        assert_int_equal(over, CDC_RSINK_MAX_ELEMENTS + 1);
        redisReaderFree(rr);

        /* no place to report: still refused */
        rr = redisReaderCreate();
        cdc_rsink_reader_limit(rr, NULL);
        assert_int_equal(feed_one(rr, "*2147483647\r\n", &v), -1);
        redisReaderFree(rr);
}

/* ---- cdc_rsink against a scripted server ---- */

typedef struct {
        int lfd;
        const char *replies[4]; /* one per request, NULL: stop */
} script_t;

static void *serve(void *arg) {
        script_t *sc = arg;
        char buf[4096];
        int fd, i;

        fd = accept(sc->lfd, NULL, NULL);
        if (fd < 0)
                return NULL;
        for (i = 0; i < 4 && sc->replies[i]; i++) {
                /* every request of these tests fits one read */
                if (recv(fd, buf, sizeof(buf), 0) <= 0)
                        break;
                if (send(fd, sc->replies[i], strlen(sc->replies[i]),
                         MSG_NOSIGNAL) < 0)
                        break;
        }
        /* hold the connection until the client closes it: the client
         * must fail on the reply, not on a closed socket */
        while (recv(fd, buf, sizeof(buf), 0) > 0)
                ;
        close(fd);
        return NULL;
}

static cdc_rsink_t *start(script_t *sc, pthread_t *th) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof(sa);
        cdc_rsink_conf_t conf;
        char es[256];
        cdc_rsink_t *rs;

        sc->lfd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(sc->lfd >= 0);
        memset(&sa, 0, sizeof(sa));
        sa.sin_family      = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(sc->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(sc->lfd, 1), 0);
        assert_int_equal(getsockname(sc->lfd, (struct sockaddr *)&sa, &sl), 0);
        assert_int_equal(pthread_create(th, NULL, serve, sc), 0);
        memset(&conf, 0, sizeof(conf));
        conf.host       = "127.0.0.1";
        conf.port       = ntohs(sa.sin_port);
        conf.timeout_ms = 5000;
        rs              = cdc_rsink_new(&conf, es, sizeof(es));
        assert_non_null(rs);
        return rs;
}

static void stop(script_t *sc, pthread_t th, cdc_rsink_t *rs) {
        cdc_rsink_destroy(rs);
        pthread_join(th, NULL);
        close(sc->lfd);
}

static void test_sink_refuses_huge_reply(void **state) {
        script_t sc = { .replies = { "+PONG\r\n", "*3\r\n:1\r\n:2\r\n:3\r\n",
                                     "*2000000000\r\n:1\r\n", NULL } };
        const char *argv[] = { "ZRANGE", "k", "0", "-1" };
        size_t lens[]      = { 6, 1, 1, 2 };
        redisReply *r      = NULL;
        cdc_rsink_t *rs;
        pthread_t th;

        (void)state;
        rs = start(&sc, &th);
        assert_int_equal(cdc_rsink_connect(rs), CDC_ERR_NO_ERROR);
        assert_int_equal(cdc_rsink_command(rs, &r, 4, argv, lens),
                         CDC_ERR_NO_ERROR);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        assert_int_equal(r->elements, 3);
        freeReplyObject(r);
        r = NULL;
        assert_int_equal(cdc_rsink_command(rs, &r, 4, argv, lens),
                         CDC_ERR__TRANSPORT);
        assert_null(r);
        assert_false(cdc_rsink_connected(rs));
        assert_non_null(strstr(cdc_rsink_errstr(rs),
                               "array reply of 2000000000 elements"));
        stop(&sc, th, rs);
}

static void test_sink_refuses_huge_handshake_reply(void **state) {
        script_t sc = { .replies = { "*1500000000\r\n", NULL } };
        cdc_rsink_t *rs;
        pthread_t th;

        (void)state;
        rs = start(&sc, &th);
        assert_int_not_equal(cdc_rsink_connect(rs), CDC_ERR_NO_ERROR);
        assert_false(cdc_rsink_connected(rs));
        assert_non_null(strstr(cdc_rsink_errstr(rs),
                               "array reply of 1500000000 elements"));
        stop(&sc, th, rs);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reader_accepts_small_arrays),
                cmocka_unit_test(test_reader_refuses_huge_arrays),
                cmocka_unit_test(test_sink_refuses_huge_reply),
                cmocka_unit_test(test_sink_refuses_huge_handshake_reply),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
