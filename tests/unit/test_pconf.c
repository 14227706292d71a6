/*
 * Unit tests of the producer configuration table and its validation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cdc_pconf.h"

typedef struct {
        cdc_pconf_t pc;
        cdc_conf_t *conf;
} fx_t;

static int fx_setup(void **state) {
        fx_t *fx = calloc(1, sizeof(*fx));
        char why[256];
        fx->conf = cdc_conf_new("test", cdc_pconf_props(), &fx->pc, why,
                                sizeof(why));
        if (!fx->conf) {
                fprintf(stderr, "%s\n", why);
                return -1;
        }
        *state = fx;
        return 0;
}

static int fx_teardown(void **state) {
        fx_t *fx = *state;
        cdc_pconf_clear(&fx->pc);
        cdc_conf_destroy(fx->conf);
        free(fx);
        return 0;
}

static void set(fx_t *fx, const char *k, const char *v) {
        char why[256];
        if (cdc_conf_set(fx->conf, k, v, why, sizeof(why)))
                fail_msg("%s=%s: %s", k, v, why);
}

static void test_defaults(void **state) {
        fx_t *fx = *state;
        const cdc_ptable_t *t;

        /* server id is required */
        assert_non_null(cdc_pconf_finalize(&fx->pc));
        set(fx, "mysql.server.id", "7");
        assert_null(cdc_pconf_finalize(&fx->pc));
        assert_int_equal(fx->pc.table_cnt, 2);
        t = cdc_pconf_table(&fx->pc, "follow");
        assert_non_null(t);
        assert_int_equal(t->col_cnt, 2);
        assert_string_equal(t->cols[0], "follower_id");
        assert_string_equal(t->cols[1], "followee_id");
        t = cdc_pconf_table(&fx->pc, "idempotent_log");
        assert_non_null(t);
        assert_int_equal(t->col_cnt, 1);
        assert_string_equal(t->cols[0], "request_id");
        assert_string_equal(fx->pc.ckpt_topic_buf, "followcdc.checkpoints");
        assert_int_equal(fx->pc.store, CDC_CKPT_STORE_KAFKA);
        assert_int_equal(fx->pc.snap_mode, CDC_SNAPSHOT_INITIAL);
        assert_int_equal(fx->pc.ckpt_interval_ms, 1000);
        assert_true(fx->pc.lock_enabled);
        assert_string_equal(fx->pc.table_names[1], "idempotent_log");
}

static void test_custom_tables_and_keys(void **state) {
        fx_t *fx = *state;
        const cdc_ptable_t *t;

        set(fx, "mysql.server.id", "7");
        set(fx, "source.name", "prod-eu.1");
        set(fx, "source.tables", " edges , reqs ");
        /* a table without key columns is refused, naming the fix */
        assert_non_null(strstr(cdc_pconf_finalize(&fx->pc), "source.keys"));
        set(fx, "source.keys", "edges: src , dst ;reqs:rid");
        assert_null(cdc_pconf_finalize(&fx->pc));
        t = cdc_pconf_table(&fx->pc, "edges");
        assert_non_null(t);
        assert_int_equal(t->col_cnt, 2);
        assert_string_equal(t->cols[0], "src");
        assert_string_equal(t->cols[1], "dst");
        t = cdc_pconf_table(&fx->pc, "reqs");
        assert_string_equal(t->cols[0], "rid");
        assert_string_equal(fx->pc.ckpt_topic_buf, "prod-eu.1.checkpoints");
        /* source.keys overrides the per-table default */
        set(fx, "source.tables", "follow");
        set(fx, "source.keys", "follow:id");
        assert_null(cdc_pconf_finalize(&fx->pc));
        assert_int_equal(cdc_pconf_table(&fx->pc, "follow")->col_cnt, 1);
        set(fx, "source.keys", "");
        set(fx, "table.follow.key", "a,b,c");
        assert_null(cdc_pconf_finalize(&fx->pc));
        assert_int_equal(cdc_pconf_table(&fx->pc, "follow")->col_cnt, 3);
}

static int set_fails(fx_t *fx, const char *k, const char *v, const char *want) {
        char why[256];
        if (!cdc_conf_set(fx->conf, k, v, why, sizeof(why)))
                return 0;
        return strstr(why, want) != NULL;
}

static void test_bad_values(void **state) {
        fx_t *fx = *state;
        set(fx, "mysql.server.id", "7");
        /* enums: refused when set, naming every value */
        assert_true(set_fails(fx, "snapshot.mode", "sometimes",
                              "initial, always, never, when_needed"));
        assert_true(set_fails(fx, "checkpoint.store", "redis", "kafka, file"));
        set(fx, "snapshot.mode", "when_needed");
        assert_null(cdc_pconf_finalize(&fx->pc));
        assert_int_equal(fx->pc.snap_mode, CDC_SNAPSHOT_WHEN_NEEDED);
        set(fx, "checkpoint.store", "file");
        assert_non_null(strstr(cdc_pconf_finalize(&fx->pc), "checkpoint.file"));
        set(fx, "checkpoint.file", "/tmp/x.json");
        assert_null(cdc_pconf_finalize(&fx->pc));
        assert_int_equal(fx->pc.store, CDC_CKPT_STORE_FILE);
        /* a file can't take part in a Kafka transaction */
        set(fx, "producer.transactions", "true");
        assert_non_null(strstr(cdc_pconf_finalize(&fx->pc),
                               "needs checkpoint.store=kafka"));
        set(fx, "checkpoint.store", "kafka");
        assert_null(cdc_pconf_finalize(&fx->pc));
        assert_int_equal(fx->pc.transactions, 1);
        assert_int_equal(fx->pc.txn_commit_ms, 100);
        set(fx, "producer.transactions", "false");
        set(fx, "checkpoint.store", "file");
        set(fx, "source.tables", "follow,follow");
        assert_non_null(cdc_pconf_finalize(&fx->pc));
        set(fx, "source.tables", "bad name");
        assert_non_null(cdc_pconf_finalize(&fx->pc));
        set(fx, "source.tables", "follow");
        set(fx, "table.follow.key", "a;b");
        assert_non_null(cdc_pconf_finalize(&fx->pc));
        set(fx, "table.follow.key", "a");
        set(fx, "source.name", "has space");
        assert_non_null(cdc_pconf_finalize(&fx->pc));
        set(fx, "source.name", "ok");
        set(fx, "mysql.heartbeat.ms", "5000");
        set(fx, "mysql.read.timeout.ms", "4000");
        assert_non_null(cdc_pconf_finalize(&fx->pc));
}

/* The idempotent_log key has its real name; the old hyphen spelling
 * (from when names could not hold '_') stays an alias. */
static void test_key_names(void **state) {
        fx_t *fx = *state;
        set(fx, "mysql.server.id", "7");
        set(fx, "table.idempotent_log.key", "rid");
        assert_null(cdc_pconf_finalize(&fx->pc));
        assert_string_equal(cdc_pconf_table(&fx->pc, "idempotent_log")->cols[0],
                            "rid");
        set(fx, "table.idempotent-log.key", "rid2");
        assert_null(cdc_pconf_finalize(&fx->pc));
        assert_string_equal(cdc_pconf_table(&fx->pc, "idempotent_log")->cols[0],
                            "rid2");
        /* durations take units */
        set(fx, "mysql.heartbeat.ms", "2s");
        set(fx, "lock.retry.ms", "1500");
        assert_int_equal(fx->pc.mysql_heartbeat_ms, 2000);
        assert_int_equal(fx->pc.lock_retry_ms, 1500);
}

/* --dump-config of a configuration without the required server id
 * reads back: no value, not a 0 that the range refuses. */
static void test_dump_without_server_id(void **state) {
        fx_t *fx        = *state;
        char dump[8192] = "", why[256];
        cdc_pconf_t pc2;
        cdc_conf_t *conf2;
        FILE *fp = fmemopen(dump, sizeof(dump) - 1, "w");
        cdc_conf_dump(fx->conf, fp);
        fclose(fp);
        assert_non_null(strstr(dump, "\n#mysql.server.id=\n"));
        memset(&pc2, 0, sizeof(pc2));
        conf2 = cdc_conf_new("t", cdc_pconf_props(), &pc2, why, sizeof(why));
        assert_non_null(conf2);
        assert_int_equal(cdc_conf_load_buf(conf2, "dump", dump, strlen(dump),
                                           why, sizeof(why)),
                         CDC_ERR_NO_ERROR);
        assert_false(cdc_conf_is_set(conf2, "mysql.server.id"));
        cdc_pconf_clear(&pc2);
        cdc_conf_destroy(conf2);
}

/* Issue 7: `mysql.socket=` (or a dump of an unset socket read back) is
 * no socket, so mysql.host is used. */
static void test_empty_socket(void **state) {
        fx_t *fx    = *state;
        char path[] = "/tmp/test_pconf.XXXXXX", why[512];
        FILE *fp;
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        fp = fdopen(fd, "w");
        fputs("mysql.server.id=3\nmysql.host=db1\nmysql.socket=\n", fp);
        fclose(fp);
        assert_int_equal(cdc_conf_load_file(fx->conf, path, why, sizeof(why)),
                         CDC_ERR_NO_ERROR);
        assert_null(fx->pc.mysql_socket);
        assert_string_equal(fx->pc.mysql_host, "db1");
        unlink(path);
}

/* The config file path:line error and the secret masking come from the
 * engine: check them through our table. */
static void test_file_errors(void **state) {
        fx_t *fx    = *state;
        char path[] = "/tmp/test_pconf.XXXXXX", why[512];
        FILE *fp;
        int fd = mkstemp(path);
        (void)state;
        assert_true(fd >= 0);
        fp = fdopen(fd, "w");
        fputs("# producer\nmysql.server.id=3\nmysql.port=notanumber\n", fp);
        fclose(fp);
        assert_int_equal(cdc_conf_load_file(fx->conf, path, why, sizeof(why)),
                         CDC_ERR__CONFIG);
        assert_non_null(strstr(why, ":3:"));
        fp = fopen(path, "w");
        fputs("kafka.linger.ms=5\nkafka.no.such.property=1\n", fp);
        fclose(fp);
        assert_int_equal(cdc_conf_load_file(fx->conf, path, why, sizeof(why)),
                         CDC_ERR__CONFIG);
        assert_non_null(strstr(why, ":2:"));
        unlink(path);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_defaults, fx_setup,
                                                fx_teardown),
                cmocka_unit_test_setup_teardown(test_custom_tables_and_keys,
                                                fx_setup, fx_teardown),
                cmocka_unit_test_setup_teardown(test_bad_values, fx_setup,
                                                fx_teardown),
                cmocka_unit_test_setup_teardown(test_file_errors, fx_setup,
                                                fx_teardown),
                cmocka_unit_test_setup_teardown(test_key_names, fx_setup,
                                                fx_teardown),
                cmocka_unit_test_setup_teardown(test_empty_socket, fx_setup,
                                                fx_teardown),
                cmocka_unit_test_setup_teardown(test_dump_without_server_id,
                                                fx_setup, fx_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
