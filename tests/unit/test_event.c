/* Unit tests of common/cdc_event: the change event contract. The valid and
 * invalid suites are schemas/events/examples/{valid,invalid}/. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cdc_event.h"
#include "cdc_event_int.h"

static char *read_file(const char *path, size_t *lenp) {
        FILE *fp = fopen(path, "rb");
        char *buf;
        long n;
        assert_non_null(fp);
        fseek(fp, 0, SEEK_END);
        n = ftell(fp);
        fseek(fp, 0, SEEK_SET);
        buf = malloc((size_t)n + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
        buf[n] = '\0';
        fclose(fp);
        *lenp = (size_t)n;
        return buf;
}

/* Calls fn for every .json file in the examples directory \p suite. */
static int for_each_example(const char *suite,
                            void (*fn)(const char *path, const char *buf,
                                       size_t len)) {
        char dir[1024], path[2048];
        struct dirent *de;
        DIR *d;
        int n = 0;

        snprintf(dir, sizeof(dir), "%s/schemas/events/examples/%s",
                 CDC_SOURCE_DIR, suite);
        d = opendir(dir);
        assert_non_null(d);
        while ((de = readdir(d))) {
                size_t len;
                char *buf;
                if (!strstr(de->d_name, ".json"))
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                buf = read_file(path, &len);
                fn(path, buf, len);
                free(buf);
                n++;
        }
        closedir(d);
        return n;
}

static void check_valid(const char *path, const char *buf, size_t len) {
        char errstr[256] = "";
        cdc_event_t *ev = NULL, *ev2 = NULL;
        char *enc, *enc2;
        size_t elen, elen2;
        cdc_err_t err = cdc_event_parse(buf, len, &ev, errstr, sizeof(errstr));

        if (err)
                fail_msg("%s: %s", path, errstr);
        assert_non_null(ev);
        /* control events (t, p) carry no row image */
        if (ev->op == CDC_OP_TRUNCATE || ev->op == CDC_OP_PURGE)
                assert_null(cdc_event_row(ev));
        else
                assert_non_null(cdc_event_row(ev));
        if (ev->op == CDC_OP_PURGE)
                assert_true(ev->purge_user[0] != '\0');
        /* Round trip: encode -> parse -> encode is stable. */
        enc = cdc_event_encode(ev, &elen);
        assert_non_null(enc);
        assert_int_equal(
                cdc_event_parse(enc, elen, &ev2, errstr, sizeof(errstr)),
                CDC_ERR_NO_ERROR);
        enc2       = cdc_event_encode(ev2, &elen2);
        ev2->ts_ms = ev->ts_ms;
        assert_string_equal(enc, enc2);
        assert_int_equal(ev->op, ev2->op);
        assert_int_equal(ev->source.seq, ev2->source.seq);
        assert_string_equal(ev->purge_user, ev2->purge_user);
        if (cdc_event_row(ev))
                assert_true(json_equal(cdc_event_row(ev), cdc_event_row(ev2)));
        free(enc);
        free(enc2);
        cdc_event_destroy(ev);
        cdc_event_destroy(ev2);
}

static void check_invalid(const char *path, const char *buf, size_t len) {
        char errstr[256] = "";
        cdc_event_t *ev  = (cdc_event_t *)1;
        cdc_err_t err = cdc_event_parse(buf, len, &ev, errstr, sizeof(errstr));
        if (err != CDC_ERR__BAD_EVENT)
                fail_msg("%s: expected BAD_EVENT, got %d", path, err);
        assert_null(ev);
        assert_true(strlen(errstr) > 0);
}

/* The parser's fast path on \p buf: it accepts only what the full path
 * accepts, with the same event. @returns 1 if the fast path accepted. */
static int fast_agrees(const char *buf, size_t len) {
        cdc_event_t *fast = NULL, *full = NULL;
        char errstr[256] = "", *a, *b;
        size_t alen, blen;

        if (!cdc_event_parse_fast(buf, len, &fast)) {
                assert_null(fast);
                return 0;
        }
        if (cdc_event_parse_full(buf, len, &full, errstr, sizeof(errstr)))
                fail_msg("fast path accepted what the full path refuses "
                         "(%s): %.*s",
                         errstr, (int)len, buf);
        a = cdc_event_encode(fast, &alen);
        b = cdc_event_encode(full, &blen);
        assert_non_null(a);
        assert_non_null(b);
        assert_string_equal(a, b);
        assert_int_equal(fast->source.server_id, full->source.server_id);
        free(a);
        free(b);
        cdc_event_destroy(fast);
        cdc_event_destroy(full);
        return 1;
}

/* Every example as it is and compacted (the producer's shape): valid ones
 * compacted take the fast path, invalid ones never do. */
static void check_fast(const char *path, const char *buf, size_t len) {
        json_t *root = json_loadb(buf, len, 0, NULL);
        char *compact;
        int valid = strstr(path, "/valid/") != NULL, fast;

        fast_agrees(buf, len);
        if (!root)
                return; /* not JSON: nothing to compact */
        compact = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        assert_non_null(compact);
        fast = fast_agrees(compact, strlen(compact));
        if (!valid && fast)
                fail_msg("%s: fast path accepted an invalid event", path);
        /* left to the full path: escapes, oversized markers and the
         * control events (op t and p, no row images) */
        if (valid && !fast && !strstr(compact, "\\") &&
            !json_object_get(root, "oversized") &&
            !json_object_get(root, "purge") &&
            strcmp(json_string_value(json_object_get(root, "op")), "t"))
                fail_msg("%s: fast path declined %s", path, compact);
        free(compact);
        json_decref(root);
}

static void test_fast_path(void **state) {
        /* a producer event, then variations the fast path leaves to the
         * full path (which accepts or refuses them as jansson does) */
        static const char *const declined[] = {
                /* blank */
                "{\"schema_version\":1, "
                "\"op\":\"c\",\"before\":null,\"after\":{\"id\":1},"
                "\"source\":%s,\"ts_ms\":1}",
                /* escape */
                "{\"schema_version\":1,\"op\":\"c\",\"before\":null,\"after\":{"
                "\"id\":\"a\\n\"},"
                "\"source\":%s,\"ts_ms\":1}",
                /* real */
                "{\"schema_version\":1,\"op\":\"c\",\"before\":null,\"after\":{"
                "\"id\":1.5},"
                "\"source\":%s,\"ts_ms\":1}",
                /* duplicate column */
                "{\"schema_version\":1,\"op\":\"c\",\"before\":null,\"after\":{"
                "\"id\":1,\"id\":2},"
                "\"source\":%s,\"ts_ms\":1}",
                /* duplicate envelope field */
                "{\"schema_version\":1,\"op\":\"c\",\"op\":\"c\",\"before\":"
                "null,"
                "\"after\":{\"id\":1},\"source\":%s,\"ts_ms\":1}",
                /* unknown field */
                "{\"schema_version\":1,\"op\":\"c\",\"before\":null,\"after\":{"
                "\"id\":1},"
                "\"source\":%s,\"ts_ms\":1,\"x\":0}",
                /* nested value */
                "{\"schema_version\":1,\"op\":\"c\",\"before\":null,\"after\":{"
                "\"id\":[1]},"
                "\"source\":%s,\"ts_ms\":1}",
                /* before of a create */
                "{\"schema_version\":1,\"op\":\"c\",\"before\":{\"id\":1},"
                "\"after\":{\"id\":1},"
                "\"source\":%s,\"ts_ms\":1}",
                /* schema version */
                "{\"schema_version\":2,\"op\":\"c\",\"before\":null,\"after\":{"
                "\"id\":1},"
                "\"source\":%s,\"ts_ms\":1}",
                /* 19 digits, beyond int64 */
                "{\"schema_version\":1,\"op\":\"c\",\"before\":null,"
                "\"after\":{\"id\":-9999999999999999999},\"source\":%s,\"ts_"
                "ms\":1}",
                /* trailing byte */
                "{\"schema_version\":1,\"op\":\"c\",\"before\":null,\"after\":{"
                "\"id\":1},"
                "\"source\":%s,\"ts_ms\":1} ",
        };
        static const char *const src =
                "{\"connector\":\"followcdc\",\"version\":\"0.1.0\",\"name\":"
                "\"n\","
                "\"server_id\":1,\"db\":\"d\",\"table\":\"follow\",\"gtid\":"
                "null,"
                "\"epoch\":0,\"seq\":7,\"file\":\"\",\"pos\":4,\"row\":0,"
                "\"ts_ms\":5,\"snapshot\":false}";
        cdc_event_t *ev = cdc_event_new(CDC_OP_UPDATE);
        char buf[2048], *enc;
        size_t len, i;

        (void)state;
        assert_non_null(ev);
        snprintf(ev->source.name, sizeof(ev->source.name), "followcdc");
        snprintf(ev->source.db, sizeof(ev->source.db), "followcdc");
        snprintf(ev->source.table, sizeof(ev->source.table), "follow");
        snprintf(ev->source.gtid, sizeof(ev->source.gtid), "0-1-42");
        ev->source.seq = 42;
        ev->before = json_pack("{s:I,s:s,s:i,s:n}", "id", (json_int_t)INT64_MAX,
                               "follower_id", "18446744073709551615", "status",
                               1, "x");
        ev->after  = json_pack("{s:I,s:s,s:i,s:b}", "id", (json_int_t)-5,
                               "follower_id", "7", "status", 0, "y", 1);
        enc        = cdc_event_encode(ev, &len);
        assert_non_null(enc);
        /* 19 digits: declined (jansson decides), 18 are taken */
        assert_int_equal(fast_agrees(enc, len), 0);
        json_object_set_new(ev->before, "id", json_integer(999999999999999999));
        free(enc);
        enc = cdc_event_encode(ev, &len);
        assert_int_equal(fast_agrees(enc, len), 1);
        free(enc);
        cdc_event_destroy(ev);

        snprintf(buf, sizeof(buf),
                 "{\"schema_version\":1,\"op\":\"c\",\"before\":null,"
                 "\"after\":{\"id\":1},\"source\":%s,\"ts_ms\":1}",
                 src);
        assert_int_equal(fast_agrees(buf, strlen(buf)), 1);
        for (i = 0; i < sizeof(declined) / sizeof(*declined); i++) {
                snprintf(buf, sizeof(buf), declined[i], src);
                if (fast_agrees(buf, strlen(buf)))
                        fail_msg("fast path accepted %s", buf);
        }
        assert_true(for_each_example("valid", check_fast) >= 5);
        assert_true(for_each_example("invalid", check_fast) >= 10);
}

static void test_valid_examples_parse(void **state) {
        (void)state;
        assert_true(for_each_example("valid", check_valid) >= 5);
}

static void test_invalid_examples_rejected(void **state) {
        (void)state;
        assert_true(for_each_example("invalid", check_invalid) >= 10);
}

static void test_parse_fields(void **state) {
        char path[1024], errstr[256];
        cdc_event_t *ev;
        size_t len;
        char *buf;
        (void)state;

        snprintf(path, sizeof(path),
                 "%s/schemas/events/examples/valid/follow-hard-delete.json",
                 CDC_SOURCE_DIR);
        buf = read_file(path, &len);
        assert_int_equal(cdc_event_parse(buf, len, &ev, errstr, sizeof(errstr)),
                         CDC_ERR_NO_ERROR);
        assert_int_equal(ev->op, CDC_OP_DELETE);
        assert_null(ev->after);
        assert_string_equal(ev->source.table, "follow");
        assert_string_equal(ev->source.gtid, "0-1-42");
        assert_int_equal(ev->source.seq, 42);
        assert_int_equal(ev->source.row, 1);
        assert_int_equal(ev->source.snapshot, 0);
        assert_int_equal(
                json_integer_value(json_object_get(ev->before, "follower_id")),
                42);
        cdc_event_destroy(ev);
        free(buf);
}

static void test_garbage_never_crashes(void **state) {
        static const char *inputs[] = { "",
                                        "null",
                                        "{}",
                                        "\"x\"",
                                        "{\"op\":null}",
                                        "\xff\xfe",
                                        "{\"schema_version\":1,\"op\":\"c\","
                                        "\"before\":null,\"after\":1}",
                                        "{\"schema_version\":1e99}",
                                        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[" };
        char errstr[256];
        size_t i;
        (void)state;
        for (i = 0; i < sizeof(inputs) / sizeof(*inputs); i++) {
                cdc_event_t *ev;
                assert_int_equal(cdc_event_parse(inputs[i], strlen(inputs[i]),
                                                 &ev, errstr, sizeof(errstr)),
                                 CDC_ERR__BAD_EVENT);
                assert_null(ev);
        }
}

static void test_version_orders_as_text(void **state) {
        cdc_source_t a = { 0 }, b = { 0 };
        char va[CDC_VERSION_LEN + 1], vb[CDC_VERSION_LEN + 1];
        (void)state;

        a.seq = 9;
        b.seq = 10;
        cdc_event_version(&a, va);
        cdc_event_version(&b, vb);
        assert_int_equal(strlen(va), CDC_VERSION_LEN);
        assert_true(strcmp(va, vb) < 0);
        /* row breaks ties within a transaction */
        a.seq = 10;
        a.row = 3;
        cdc_event_version(&a, va);
        assert_true(strcmp(vb, va) < 0);
        /* epoch beats any seq */
        b.epoch = 1;
        b.seq   = 0;
        a.seq   = UINT64_MAX / 2;
        cdc_event_version(&a, va);
        cdc_event_version(&b, vb);
        assert_true(strcmp(va, vb) < 0);
        assert_string_equal(vb, "0000000001"
                                "00000000000000000000"
                                "0000000000");
}

static void test_key_canonical(void **state) {
        const char *cols[] = { "follower_id", "followee_id" };
        const char *ucol[] = { "request_id" };
        json_t *row        = json_pack("{s:I,s:I,s:s,s:i}", "followee_id",
                                       (json_int_t)77, "follower_id", (json_int_t)42,
                                       "request_id", "r\"q\xc3\xa9", "status", 1);
        char errstr[128];
        size_t len;
        char *k;
        json_t *arr;
        (void)state;

        k = cdc_key_from_row(row, cols, 2, &len, errstr, sizeof(errstr));
        assert_non_null(k);
        assert_string_equal(k, "[42,77]");
        assert_int_equal(len, 7);
        assert_int_equal(cdc_key_parse(k, len, &arr, errstr, sizeof(errstr)),
                         CDC_ERR_NO_ERROR);
        assert_int_equal(json_array_size(arr), 2);
        json_decref(arr);
        free(k);

        k = cdc_key_from_row(row, ucol, 1, &len, errstr, sizeof(errstr));
        assert_string_equal(k, "[\"r\\\"q\xc3\xa9\"]");
        free(k);

        /* a missing key column is reported, not encoded */
        json_object_del(row, "follower_id");
        assert_null(
                cdc_key_from_row(row, cols, 2, &len, errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "follower_id"));
        json_decref(row);

        assert_int_equal(cdc_key_parse("{}", 2, &arr, errstr, sizeof(errstr)),
                         CDC_ERR__BAD_EVENT);
        assert_int_equal(
                cdc_key_parse("[1.5]", 5, &arr, errstr, sizeof(errstr)),
                CDC_ERR__BAD_EVENT);
        assert_int_equal(cdc_key_parse("[", 1, &arr, errstr, sizeof(errstr)),
                         CDC_ERR__BAD_EVENT);
}

static void test_topic_name(void **state) {
        char buf[300];
        char longname[300];
        (void)state;
        assert_int_equal(
                cdc_topic_name(buf, sizeof(buf), "followcdc", "app", "follow"),
                0);
        assert_string_equal(buf, "followcdc.app.follow");
        assert_int_equal(cdc_topic_name(buf, sizeof(buf), "x", "a b", "t"), -1);
        memset(longname, 'a', 260);
        longname[260] = '\0';
        assert_int_equal(cdc_topic_name(buf, sizeof(buf), "x", longname, "t"),
                         -1);
}

static void test_time_roundtrip(void **state) {
        char buf[40];
        int64_t ms;
        (void)state;

        assert_int_equal(
                cdc_time_format_us(buf, sizeof(buf), INT64_C(1795000000123456)),
                27);
        assert_string_equal(buf, "2026-11-18T11:06:40.123456Z");
        assert_int_equal(cdc_time_parse_ms(buf, &ms), 0);
        assert_int_equal(ms, INT64_C(1795000000123));
        assert_int_equal(cdc_time_parse_ms("1970-01-01T00:00:00Z", &ms), 0);
        assert_int_equal(ms, 0);
        assert_int_equal(cdc_time_parse_ms("2024-02-29T23:59:59.5Z", &ms), 0);
        assert_int_equal(ms, INT64_C(1709251199500));
        cdc_time_format_us(buf, sizeof(buf), -1);
        assert_string_equal(buf, "1969-12-31T23:59:59.999999Z");
        /* malformed */
        assert_int_equal(cdc_time_parse_ms("2023-02-29T00:00:00Z", &ms), -1);
        assert_int_equal(cdc_time_parse_ms("2026-11-18 08:26:40Z", &ms), -1);
        assert_int_equal(cdc_time_parse_ms("2026-11-18T08:26:40", &ms), -1);
        assert_int_equal(cdc_time_parse_ms("2026-11-18T08:26:40.Z", &ms), -1);
        assert_int_equal(cdc_time_parse_ms("2026-11-18T08:26:40.1234567Z", &ms),
                         -1);
        assert_int_equal(cdc_time_parse_ms("2026-13-18T08:26:40Z", &ms), -1);
        assert_int_equal(cdc_time_parse_ms("", &ms), -1);
        assert_int_equal(cdc_time_parse_ms(NULL, &ms), -1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid_examples_parse),
                cmocka_unit_test(test_invalid_examples_rejected),
                cmocka_unit_test(test_parse_fields),
                cmocka_unit_test(test_fast_path),
                cmocka_unit_test(test_garbage_never_crashes),
                cmocka_unit_test(test_version_orders_as_text),
                cmocka_unit_test(test_key_canonical),
                cmocka_unit_test(test_topic_name),
                cmocka_unit_test(test_time_roundtrip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
