/*
 * Unit tests of producer/cdc_emit against librdkafka's mock cluster, read
 * back with a plain consumer: the message key, the tombstone after a
 * delete, the delete + create split of a key-changing update, an event
 * over message.max.bytes (published with its largest values outside the
 * key replaced by the marker, never fatal), an event that can't fit at
 * all (skipped, counted, its in-flight slot released), back-pressure and
 * a key that can't be built.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "cdc_emit.h"
#include "cdc_event.h"

#define TOPIC "followcdc.followcdc.docs"

typedef struct {
        rd_kafka_t *mrk; /* owns the mock cluster */
        rd_kafka_mock_cluster_t *mc;
        cdc_pconf_t pc;
        cdc_conf_t *conf;
        cdc_metrics_t *m;
        cdc_inflight_t *fl;
        cdc_kprod_t *kp;
        cdc_emit_t *em;
        volatile sig_atomic_t run;
        int64_t offset; /* next message to read back */
} fx_t;

typedef struct {
        char key[4096];
        char *value; /* NULL: tombstone */
        size_t len;
        char *del; /* a tombstone's followcdc.delete header, or NULL */
        size_t dlen;
        int ndel; /* how many such headers */
} msg_t;

static void dr(void *opaque, uint64_t seq, cdc_err_t err, const char *why) {
        fx_t *fx = opaque;
        (void)why;
        if (!err)
                cdc_inflight_ack(fx->fl, seq);
}

static void set(fx_t *fx, const char *k, const char *v) {
        char why[256];
        if (cdc_conf_set(fx->conf, k, v, why, sizeof(why)))
                fail_msg("%s=%s: %s", k, v, why);
}

/* A producer of table docs (key: id) with message.max.bytes \p max. */
static void fx_start(fx_t *fx, const char *max) {
        char why[512];
        set(fx, "mysql.server.id", "7");
        set(fx, "source.tables", "docs");
        set(fx, "source.keys", "docs:id");
        set(fx, "kafka.message.max.bytes", max);
        assert_null(cdc_pconf_finalize(&fx->pc));
        fx->kp = cdc_kprod_new(fx->conf, dr, fx, &fx->run, why, sizeof(why));
        assert_non_null(fx->kp);
        fx->em = cdc_emit_new(&fx->pc, fx->kp, fx->fl, fx->m, why, sizeof(why));
        assert_non_null(fx->em);
}

/* Every test runs twice: with the JSON row images of the item, and with
 * the same images flat, as the binlog stream gives them (cdc_row.h). */
static int flat_mode;
static cdc_row_t flat_rows[2];

static int fx_setup(void **state) {
        fx_t *fx           = calloc(1, sizeof(*fx));
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        char why[512];

        rd_kafka_conf_set(c, "log_level", "0", NULL, 0);
        fx->mrk = rd_kafka_new(RD_KAFKA_PRODUCER, c, why, sizeof(why));
        if (!fx->mrk)
                return -1;
        fx->mc = rd_kafka_mock_cluster_new(fx->mrk, 1);
        if (!fx->mc)
                return -1;
        rd_kafka_mock_topic_create(fx->mc, TOPIC, 1, 1);
        fx->run  = 1;
        fx->m    = cdc_metrics_new();
        fx->fl   = cdc_inflight_new(16, 10000, 20000);
        fx->conf = cdc_conf_new("test", cdc_pconf_props(), &fx->pc, why,
                                sizeof(why));
        if (!fx->m || !fx->fl || !fx->conf)
                return -1;
        set(fx, "kafka.bootstrap.servers",
            rd_kafka_mock_cluster_bootstraps(fx->mc));
        set(fx, "kafka.linger.ms", "1");
        *state = fx;
        return 0;
}

static int fx_setup_flat(void **state) {
        flat_mode = 1;
        return fx_setup(state);
}

static int fx_teardown(void **state) {
        fx_t *fx  = *state;
        flat_mode = 0;
        cdc_row_free(&flat_rows[0]);
        cdc_row_free(&flat_rows[1]);
        cdc_emit_destroy(fx->em);
        cdc_kprod_destroy(fx->kp);
        cdc_inflight_destroy(fx->fl);
        cdc_metrics_destroy(fx->m);
        cdc_pconf_clear(&fx->pc);
        cdc_conf_destroy(fx->conf);
        rd_kafka_mock_cluster_destroy(fx->mc);
        rd_kafka_destroy(fx->mrk);
        free(fx);
        return 0;
}

/* Flush, then read the next \p n messages of the topic back. */
static void read_back(fx_t *fx, msg_t *out, int n) {
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        rd_kafka_topic_t *rkt;
        rd_kafka_t *rk;
        char why[512];
        int got = 0, tries;

        assert_int_equal(cdc_kprod_flush(fx->kp, 10000), 0);
        cdc_kprod_poll(fx->kp, 0);
        rd_kafka_conf_set(c, "bootstrap.servers",
                          rd_kafka_mock_cluster_bootstraps(fx->mc), NULL, 0);
        rd_kafka_conf_set(c, "log_level", "0", NULL, 0);
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, why, sizeof(why));
        assert_non_null(rk);
        rkt = rd_kafka_topic_new(rk, TOPIC, NULL);
        assert_int_equal(rd_kafka_consume_start(rkt, 0, fx->offset), 0);
        for (tries = 0; got < n && tries < 100; tries++) {
                rd_kafka_message_t *rkm = rd_kafka_consume(rkt, 0, 200);
                if (!rkm)
                        continue;
                if (!rkm->err) {
                        snprintf(out[got].key, sizeof(out[got].key), "%.*s",
                                 (int)rkm->key_len, (const char *)rkm->key);
                        out[got].len = rkm->len;
                        out[got].value =
                                rkm->payload ? strndup(rkm->payload, rkm->len)
                                             : NULL;
                        out[got].del  = NULL;
                        out[got].ndel = 0;
                        {
                                rd_kafka_headers_t *h = NULL;
                                const void *v;
                                size_t vs, i;
                                if (!rd_kafka_message_headers(rkm, &h))
                                        for (i = 0; !rd_kafka_header_get(
                                                     h, i,
                                                     CDC_EVENT_TOMBSTONE_HEADER,
                                                     &v, &vs);
                                             i++) {
                                                out[got].ndel++;
                                                free(out[got].del);
                                                out[got].del  = strndup(v, vs);
                                                out[got].dlen = vs;
                                        }
                        }
                        got++;
                        fx->offset = rkm->offset + 1;
                }
                rd_kafka_message_destroy(rkm);
        }
        rd_kafka_consume_stop(rkt, 0);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        assert_int_equal(got, n);
}


/* \p o as a flat image: integers and nulls as such, the rest as JSON
 * (names borrowed from \p o). */
static const cdc_row_t *to_flat(cdc_row_t *r, json_t *o) {
        const char *k;
        json_t *v;
        if (!o)
                return NULL;
        cdc_row_clear(r);
        assert_int_equal(cdc_row_reserve(r, (uint32_t)json_object_size(o)), 0);
        json_object_foreach(o, k, v) {
                cdc_rv_t *rv = &r->v[r->n++];
                memset(rv, 0, sizeof(*rv));
                rv->name     = k;
                rv->name_len = strlen(k);
                if (json_is_integer(v)) {
                        rv->kind = CDC_RV_INT;
                        rv->i    = json_integer_value(v);
                } else if (json_is_null(v)) {
                        rv->kind = CDC_RV_NULL;
                } else {
                        rv->kind = CDC_RV_JSON;
                        rv->j    = json_incref(v);
                }
        }
        return r;
}

static void item(cdc_binlog_item_t *it, cdc_op_t op, json_t *before,
                 json_t *after) {
        memset(it, 0, sizeof(*it));
        it->type  = CDC_BINLOG_ROW;
        it->op    = op;
        it->table = "docs";
        if (flat_mode) {
                it->before_row = to_flat(&flat_rows[0], before);
                it->after_row  = to_flat(&flat_rows[1], after);
        } else {
                it->before = before;
                it->after  = after;
        }
        snprintf(it->source.db, sizeof(it->source.db), "followcdc");
        snprintf(it->source.table, sizeof(it->source.table), "docs");
        snprintf(it->source.file, sizeof(it->source.file), "b.000001");
        it->source.server_id = 1;
        it->source.seq       = 42;
        it->source.pos       = 400;
        it->source.ts_ms     = 1795000000000LL;
}

static cdc_event_t *parse(const msg_t *mm) {
        cdc_event_t *ev = NULL;
        char why[256];
        assert_non_null(mm->value);
        if (cdc_event_parse(mm->value, mm->len, &ev, why, sizeof(why)))
                fail_msg("not a valid event: %s", why);
        return ev;
}

static int64_t metric(fx_t *fx, const char *name) {
        size_t len = 0;
        char *txt  = cdc_metrics_render(fx->m, &len), *p;
        int64_t v  = -1;
        char want[256];
        snprintf(want, sizeof(want), "\n%s ", name);
        p = strstr(txt, want);
        if (p)
                v = strtoll(p + strlen(want), NULL, 10);
        free(txt);
        return v;
}

static void free_msgs(msg_t *m, int n) {
        int i;
        for (i = 0; i < n; i++) {
                free(m[i].value);
                free(m[i].del);
        }
}

/* Insert, delete (+ tombstone), and an update that changes the key. */
static void test_keys_tombstone_and_split(void **state) {
        fx_t *fx = *state;
        cdc_binlog_item_t it;
        json_t *a = json_pack("{s:I,s:s}", "id", (json_int_t)7, "body", "x");
        json_t *b = json_pack("{s:I,s:s}", "id", (json_int_t)8, "body", "y");
        msg_t m[6];
        cdc_event_t *ev;

        fx_start(fx, "1000000");
        item(&it, CDC_OP_CREATE, NULL, a);
        assert_int_equal(cdc_emit_row(fx->em, &it), CDC_ERR_NO_ERROR);
        item(&it, CDC_OP_UPDATE, a, b); /* id 7 -> 8 */
        assert_int_equal(cdc_emit_row(fx->em, &it), CDC_ERR_NO_ERROR);
        item(&it, CDC_OP_DELETE, b, NULL);
        assert_int_equal(cdc_emit_row(fx->em, &it), CDC_ERR_NO_ERROR);
        read_back(fx, m, 6);

        assert_string_equal(m[0].key, "[7]");
        ev = parse(&m[0]);
        assert_int_equal(ev->op, CDC_OP_CREATE);
        assert_string_equal(ev->source.name, "followcdc");
        cdc_event_destroy(ev);
        /* the key change: delete + tombstone of [7], create of [8] */
        assert_string_equal(m[1].key, "[7]");
        ev = parse(&m[1]);
        assert_int_equal(ev->op, CDC_OP_DELETE);
        cdc_event_destroy(ev);
        assert_string_equal(m[2].key, "[7]");
        assert_null(m[2].value);
        /* the tombstone carries the delete, byte for byte */
        assert_int_equal(m[1].ndel, 0);
        assert_int_equal(m[2].ndel, 1);
        assert_int_equal(m[2].dlen, m[1].len);
        assert_memory_equal(m[2].del, m[1].value, m[1].len);
        assert_string_equal(m[3].key, "[8]");
        ev = parse(&m[3]);
        assert_int_equal(ev->op, CDC_OP_CREATE);
        assert_null(ev->before);
        cdc_event_destroy(ev);
        /* the delete of [8] and its tombstone */
        assert_string_equal(m[4].key, "[8]");
        assert_string_equal(m[5].key, "[8]");
        assert_null(m[5].value);
        assert_int_equal(m[5].ndel, 1);
        assert_int_equal(m[5].dlen, m[4].len);
        assert_memory_equal(m[5].del, m[4].value, m[4].len);
        assert_int_equal(m[3].ndel, 0);
        assert_int_equal(metric(fx, "followcdc_producer_tombstones_total"), 2);
        assert_int_equal(metric(fx, "followcdc_producer_events_produced_total"),
                         6);
        free_msgs(m, 6);
        json_decref(a);
        json_decref(b);
}

/* A TEXT/BLOB value too large for one message: the event is published
 * with the value replaced by the marker and its size in "oversized"; the
 * key and the small columns stay; the next row flows as usual. */
static void test_oversized_value(void **state) {
        fx_t *fx = *state;
        cdc_binlog_item_t it;
        size_t big = 100000;
        char *body = malloc(big + 1);
        json_t *row, *small;
        msg_t m[2];
        cdc_event_t *ev;
        const char *val;

        assert_non_null(body);
        memset(body, 'b', big);
        body[big] = '\0';
        row = json_pack("{s:I,s:s,s:i,s:s}", "id", (json_int_t)9, "body", body,
                        "status", 2, "note", "kept");
        small = json_pack("{s:I,s:s}", "id", (json_int_t)10, "body", "tiny");
        fx_start(fx, "20000");
        item(&it, CDC_OP_CREATE, NULL, row);
        assert_int_equal(cdc_emit_row(fx->em, &it), CDC_ERR_NO_ERROR);
        item(&it, CDC_OP_CREATE, NULL, small);
        assert_int_equal(cdc_emit_row(fx->em, &it), CDC_ERR_NO_ERROR);
        read_back(fx, m, 2);

        assert_string_equal(m[0].key, "[9]");
        assert_true(m[0].len <= 20000);
        ev  = parse(&m[0]);
        val = json_string_value(json_object_get(ev->after, "body"));
        assert_string_equal(val, CDC_EVENT_OVERSIZED_MARKER);
        assert_int_equal(json_integer_value(json_object_get(ev->after, "id")),
                         9);
        assert_string_equal(
                json_string_value(json_object_get(ev->after, "note")), "kept");
        assert_non_null(strstr(m[0].value, "\"oversized\":{\"after\":{"
                                           "\"body\":100000}}"));
        cdc_event_destroy(ev);
        ev = parse(&m[1]);
        assert_string_equal(
                json_string_value(json_object_get(ev->after, "body")), "tiny");
        cdc_event_destroy(ev);
        assert_int_equal(
                metric(fx, "followcdc_producer_events_oversized_total"), 1);
        assert_int_equal(metric(fx, "followcdc_producer_events_skipped_total"),
                         0);
        free_msgs(m, 2);
        json_decref(row);
        json_decref(small);
        free(body);
}

/* An event that can't fit even with every value outside the key
 * replaced (a key longer than message.max.bytes allows): skipped,
 * counted, not fatal, and its in-flight slot released so the checkpoint
 * can move past it. */
static void test_unfit_event_skipped(void **state) {
        fx_t *fx = *state;
        cdc_binlog_item_t it;
        char key[1500];
        json_t *row;
        cdc_pos_t pos;

        memset(key, 'k', sizeof(key) - 1);
        key[sizeof(key) - 1] = '\0';
        row                  = json_pack("{s:s,s:s}", "id", key, "body", "x");
        fx_start(fx, "2000");
        item(&it, CDC_OP_CREATE, NULL, row);
        assert_int_equal(cdc_emit_row(fx->em, &it), CDC_ERR_NO_ERROR);
        assert_int_equal(metric(fx, "followcdc_producer_events_skipped_total"),
                         1);
        assert_int_equal(cdc_inflight_pending(fx->fl), 0);
        memset(&pos, 0, sizeof(pos));
        snprintf(pos.file, sizeof(pos.file), "b.000001");
        pos.pos = 500;
        cdc_inflight_commit(fx->fl, &pos);
        assert_true(cdc_inflight_acked(fx->fl, &pos) > 0);
        assert_int_equal(pos.pos, 500);
        assert_false(cdc_kprod_fatal(fx->kp));
        json_decref(row);
}

/* A full in-flight ring: nothing of the row is produced, the caller
 * serves acks and calls again. A key that can't be built: CONFIG. */
static void test_queue_full_and_bad_key(void **state) {
        fx_t *fx = *state;
        cdc_binlog_item_t it;
        json_t *row   = json_pack("{s:I}", "id", (json_int_t)1);
        json_t *nokey = json_pack("{s:s}", "body", "x");
        cdc_pos_t pos;
        uint64_t seq;
        int i;

        fx_start(fx, "1000000");
        memset(&pos, 0, sizeof(pos));
        snprintf(pos.file, sizeof(pos.file), "b.000001");
        /* fill every slot with a committed, unacknowledged group */
        for (i = 0; i < 16; i++) {
                assert_int_equal(cdc_inflight_add(fx->fl, i * 100000, &seq), 0);
                pos.pos = 4 + (uint64_t)i;
                cdc_inflight_commit(fx->fl, &pos);
        }
        item(&it, CDC_OP_CREATE, NULL, row);
        assert_int_equal(cdc_emit_row(fx->em, &it), CDC_ERR__QUEUE_FULL);
        assert_int_equal(metric(fx, "followcdc_producer_events_produced_total"),
                         0);
        cdc_inflight_reset(fx->fl);
        assert_int_equal(cdc_emit_row(fx->em, &it), CDC_ERR_NO_ERROR);
        assert_int_equal(metric(fx, "followcdc_producer_events_produced_total"),
                         1);

        item(&it, CDC_OP_CREATE, NULL, nokey);
        assert_int_equal(cdc_emit_row(fx->em, &it), CDC_ERR__CONFIG);
        assert_non_null(strstr(cdc_emit_errstr(fx->em), "source.keys"));
        json_decref(row);
        json_decref(nokey);
}

/* Without Kafka (bench.decode.only) events are encoded and dropped. */
static void test_decode_only(void **state) {
        fx_t *fx = *state;
        cdc_binlog_item_t it;
        json_t *row = json_pack("{s:I}", "id", (json_int_t)1);
        char why[256];
        cdc_emit_t *em;

        fx_start(fx, "1000000");
        em = cdc_emit_new(&fx->pc, NULL, fx->fl, fx->m, why, sizeof(why));
        assert_non_null(em);
        item(&it, CDC_OP_CREATE, NULL, row);
        assert_int_equal(cdc_emit_row(em, &it), CDC_ERR_NO_ERROR);
        assert_int_equal(cdc_inflight_pending(fx->fl), 0);
        cdc_emit_destroy(em);
        json_decref(row);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_keys_tombstone_and_split,
                                                fx_setup, fx_teardown),
                cmocka_unit_test_setup_teardown(test_oversized_value, fx_setup,
                                                fx_teardown),
                cmocka_unit_test_setup_teardown(test_unfit_event_skipped,
                                                fx_setup, fx_teardown),
                cmocka_unit_test_setup_teardown(test_queue_full_and_bad_key,
                                                fx_setup, fx_teardown),
                cmocka_unit_test_setup_teardown(test_decode_only, fx_setup,
                                                fx_teardown),
                cmocka_unit_test_setup_teardown(test_keys_tombstone_and_split,
                                                fx_setup_flat, fx_teardown),
                cmocka_unit_test_setup_teardown(test_oversized_value,
                                                fx_setup_flat, fx_teardown),
                cmocka_unit_test_setup_teardown(test_unfit_event_skipped,
                                                fx_setup_flat, fx_teardown),
                cmocka_unit_test_setup_teardown(test_queue_full_and_bad_key,
                                                fx_setup_flat, fx_teardown),
                cmocka_unit_test_setup_teardown(test_decode_only, fx_setup_flat,
                                                fx_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
