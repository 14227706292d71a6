/* Unit tests of common/cdc_conf: the configuration engine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cdc_conf.h"

/* a writable copy of a literal, for argv/envp style arrays */
#define S(x) ((char[]){ x })

struct tconf {
        char *host;
        char *password;
        int64_t port;
        int64_t ttl_ms;
        int verbose;
};

#define _C(f) offsetof(struct tconf, f)
static const cdc_prop_t props[] = {
        { "mysql.host", CDC_C_STR, _C(host), 0, 0, "127.0.0.1", "MySQL host" },
        { "mysql.password", CDC_C_SECRET, _C(password), 0, 0, NULL,
          "password" },
        { "mysql.port", CDC_C_INT, _C(port), 1, 65535, "3306", "MySQL port" },
        { "idem.ttl", CDC_C_MS, _C(ttl_ms), 1000, INT64_MAX, "7d", "TTL" },
        { "verbose", CDC_C_BOOL, _C(verbose), 0, 0, "false", "chatty" },
        { NULL }
};

static char *write_tmp(const char *text) {
        static char path[64];
        int fd;
        snprintf(path, sizeof(path), "/tmp/cdc_conf_test_XXXXXX");
        fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        return path;
}

static void test_defaults(void **state) {
        struct tconf c = { 0 };
        char errstr[256];
        cdc_conf_t *conf = cdc_conf_new("t", props, &c, errstr, sizeof(errstr));
        (void)state;
        assert_non_null(conf);
        assert_string_equal(c.host, "127.0.0.1");
        assert_null(c.password);
        assert_int_equal(c.port, 3306);
        assert_int_equal(c.ttl_ms, INT64_C(7) * 86400 * 1000);
        assert_int_equal(c.verbose, 0);
        assert_false(cdc_conf_is_set(conf, "mysql.port"));
        cdc_conf_destroy(conf);
}

static void test_set_and_ranges(void **state) {
        struct tconf c = { 0 };
        char errstr[256];
        cdc_conf_t *conf = cdc_conf_new("t", props, &c, errstr, sizeof(errstr));
        (void)state;
        assert_int_equal(cdc_conf_set(conf, "mysql.port", "3307", errstr,
                                      sizeof(errstr)),
                         CDC_ERR_NO_ERROR);
        assert_int_equal(c.port, 3307);
        assert_true(cdc_conf_is_set(conf, "mysql.port"));
        assert_int_equal(cdc_conf_set(conf, "mysql.port", "70000", errstr,
                                      sizeof(errstr)),
                         CDC_ERR__CONFIG);
        assert_non_null(strstr(errstr, "out of range"));
        assert_int_equal(c.port, 3307);
        assert_int_equal(
                cdc_conf_set(conf, "mysql.port", "12x", errstr, sizeof(errstr)),
                CDC_ERR__CONFIG);
        assert_int_equal(
                cdc_conf_set(conf, "idem.ttl", "90s", errstr, sizeof(errstr)),
                CDC_ERR_NO_ERROR);
        assert_int_equal(c.ttl_ms, 90000);
        assert_int_equal(
                cdc_conf_set(conf, "idem.ttl", "5", errstr, sizeof(errstr)),
                CDC_ERR__CONFIG); /* below min 1000 */
        assert_int_equal(
                cdc_conf_set(conf, "idem.ttl", "3w", errstr, sizeof(errstr)),
                CDC_ERR__CONFIG);
        assert_int_equal(
                cdc_conf_set(conf, "verbose", "yes", errstr, sizeof(errstr)),
                CDC_ERR_NO_ERROR);
        assert_int_equal(c.verbose, 1);
        assert_int_equal(
                cdc_conf_set(conf, "verbose", "maybe", errstr, sizeof(errstr)),
                CDC_ERR__CONFIG);
        assert_int_equal(
                cdc_conf_set(conf, "no.such", "1", errstr, sizeof(errstr)),
                CDC_ERR__CONFIG);
        assert_non_null(strstr(errstr, "unknown property"));
        cdc_conf_destroy(conf);
}

static void test_kafka_passthrough(void **state) {
        struct tconf c = { 0 };
        char errstr[256], val[64];
        size_t vlen      = sizeof(val);
        cdc_conf_t *conf = cdc_conf_new("t", props, &c, errstr, sizeof(errstr));
        rd_kafka_conf_t *kc;
        (void)state;
        assert_int_equal(cdc_conf_set(conf, "kafka.bootstrap.servers",
                                      "127.0.0.1:9092", errstr, sizeof(errstr)),
                         CDC_ERR_NO_ERROR);
        assert_int_equal(cdc_conf_set(conf, "kafka.no.such.property", "1",
                                      errstr, sizeof(errstr)),
                         CDC_ERR__CONFIG);
        assert_non_null(strstr(errstr, "kafka.no.such.property"));
        assert_int_equal(cdc_conf_set(conf, "kafka.linger.ms", "abc", errstr,
                                      sizeof(errstr)),
                         CDC_ERR__CONFIG);
        assert_string_equal(cdc_conf_kafka_get(conf, "bootstrap.servers"),
                            "127.0.0.1:9092");
        kc = cdc_conf_kafka_dup(conf);
        assert_int_equal(rd_kafka_conf_get(kc, "bootstrap.servers", val, &vlen),
                         RD_KAFKA_CONF_OK);
        assert_string_equal(val, "127.0.0.1:9092");
        rd_kafka_conf_destroy(kc);
        cdc_conf_destroy(conf);
}

static void test_kafka_secret_from_file(void **state) {
        struct tconf c = { 0 };
        char errstr[256], val[64], dump[4096] = "", setting[128];
        size_t vlen      = sizeof(val);
        cdc_conf_t *conf = cdc_conf_new("t", props, &c, errstr, sizeof(errstr));
        char *path       = write_tmp("sasl-s3cret\n");
        rd_kafka_conf_t *kc;
        FILE *fp;
        (void)state;

        snprintf(setting, sizeof(setting), "file:%s", path);
        assert_int_equal(cdc_conf_set(conf, "kafka.sasl.password", setting,
                                      errstr, sizeof(errstr)),
                         CDC_ERR_NO_ERROR);
        kc = cdc_conf_kafka_dup(conf);
        assert_int_equal(rd_kafka_conf_get(kc, "sasl.password", val, &vlen),
                         RD_KAFKA_CONF_OK);
        assert_string_equal(val, "sasl-s3cret");
        rd_kafka_conf_destroy(kc);
        fp = fmemopen(dump, sizeof(dump), "w");
        cdc_conf_dump(conf, fp);
        fclose(fp);
        assert_non_null(strstr(dump, "kafka.sasl.password=***"));
        assert_null(strstr(dump, "sasl-s3cret"));
        unlink(path);
        /* a missing secret file is a config error naming the file */
        assert_int_equal(cdc_conf_set(conf, "kafka.sasl.password", setting,
                                      errstr, sizeof(errstr)),
                         CDC_ERR__CONFIG);
        assert_non_null(strstr(errstr, path));
        /* not a secret: file: is passed through as text */
        assert_int_equal(cdc_conf_set(conf, "kafka.client.id", "file:x", errstr,
                                      sizeof(errstr)),
                         CDC_ERR_NO_ERROR);
        assert_string_equal(cdc_conf_kafka_get(conf, "client.id"), "file:x");
        cdc_conf_destroy(conf);
}

static void test_file_errors_name_line(void **state) {
        struct tconf c = { 0 };
        char errstr[512], expect[128];
        cdc_conf_t *conf = cdc_conf_new("t", props, &c, errstr, sizeof(errstr));
        char *path;
        (void)state;

        path = write_tmp("# comment\n\n mysql.host = db1 \nmysql.port=3308\n");
        assert_int_equal(cdc_conf_load_file(conf, path, errstr, sizeof(errstr)),
                         CDC_ERR_NO_ERROR);
        assert_string_equal(c.host, "db1");
        assert_int_equal(c.port, 3308);
        unlink(path);

        path = write_tmp("mysql.host=db2\n# x\nmysql.port=0\n");
        assert_int_equal(cdc_conf_load_file(conf, path, errstr, sizeof(errstr)),
                         CDC_ERR__CONFIG);
        snprintf(expect, sizeof(expect), "%s:3: ", path);
        assert_memory_equal(errstr, expect, strlen(expect));
        unlink(path);

        path = write_tmp("just words\n");
        assert_int_equal(cdc_conf_load_file(conf, path, errstr, sizeof(errstr)),
                         CDC_ERR__CONFIG);
        assert_non_null(strstr(errstr, ":1: expected key=value"));
        unlink(path);

        assert_int_equal(cdc_conf_load_file(conf, "/nonexistent/x.conf", errstr,
                                            sizeof(errstr)),
                         CDC_ERR__CONFIG);
        cdc_conf_destroy(conf);
}

static void test_env_and_secret_file(void **state) {
        struct tconf c = { 0 };
        char errstr[512], secret_env[128];
        cdc_conf_t *conf = cdc_conf_new("t", props, &c, errstr, sizeof(errstr));
        char *path       = write_tmp("s3cret\n");
        char *envp[]     = { S("PATH=/bin"),
                             S("FOLLOWCDC_MYSQL_HOST=envhost"),
                             S("FOLLOWCDC_KAFKA_CLIENT_ID=abc"),
                             S("FOLLOWCDC_LOCAL_DIR=/ignored"),
                             S("FOLLOWCDC_CONFIG=/ignored.conf"),
                             secret_env,
                             NULL };
        char *bad[]      = { S("FOLLOWCDC_MYSQL_HOSTT=x"), NULL };
        (void)state;

        snprintf(secret_env, sizeof(secret_env),
                 "FOLLOWCDC_MYSQL_PASSWORD=file:%s", path);
        assert_int_equal(cdc_conf_load_env(conf, envp, errstr, sizeof(errstr)),
                         CDC_ERR_NO_ERROR);
        assert_string_equal(c.host, "envhost");
        assert_string_equal(c.password, "s3cret");
        assert_string_equal(cdc_conf_kafka_get(conf, "client.id"), "abc");
        assert_int_equal(cdc_conf_load_env(conf, bad, errstr, sizeof(errstr)),
                         CDC_ERR__CONFIG);
        assert_non_null(strstr(errstr, "FOLLOWCDC_MYSQL_HOSTT"));
        unlink(path);
        cdc_conf_destroy(conf);
}

static const char *finalize_port(void *base) {
        struct tconf *c = base;
        return c->port == 1234 ? "port 1234 is reserved" : NULL;
}

static void test_cli_precedence_and_dump(void **state) {
        struct tconf c = { 0 };
        char errstr[256];
        cdc_conf_t *conf = cdc_conf_new("t", props, &c, errstr, sizeof(errstr));
        char *path       = write_tmp("mysql.host=filehost\nmysql.port=1111\n"
                                           "mysql.password=hidden\n");
        char *envp[]     = { S("FOLLOWCDC_MYSQL_PORT=2222"), NULL };
        char *argv[] = { S("t"),         S("-c"), path, S("--mysql.port=3333"),
                         S("--verbose"), NULL };
        char *argv_bad[]     = { S("t"), S("-X"), S("mysql.port=1234"), NULL };
        char *argv_unknown[] = { S("t"), S("--nope"), NULL };
        char *argv_pos[]     = { S("t"), S("stray"), NULL };
        char dump[2048]      = "";
        FILE *fp;
        (void)state;

        assert_int_equal(cdc_conf_cli(conf, 5, argv, envp, NULL, finalize_port),
                         CDC_CONF_CLI_RUN);
        assert_string_equal(c.host, "filehost"); /* file */
        assert_int_equal(c.port, 3333);          /* flag beats env */
        assert_int_equal(c.verbose, 1);

        fp = fmemopen(dump, sizeof(dump), "w");
        cdc_conf_dump(conf, fp);
        fclose(fp);
        assert_non_null(strstr(dump, "mysql.password=***"));
        assert_null(strstr(dump, "hidden"));
        assert_non_null(strstr(dump, "mysql.port=3333"));
        cdc_conf_destroy(conf);

        conf = cdc_conf_new("t", props, &c, errstr, sizeof(errstr));
        assert_int_equal(
                cdc_conf_cli(conf, 3, argv_bad, NULL, NULL, finalize_port),
                CDC_CONF_CLI_EXIT_BAD);
        assert_int_equal(cdc_conf_cli(conf, 2, argv_unknown, NULL, NULL, NULL),
                         CDC_CONF_CLI_EXIT_BAD);
        assert_int_equal(cdc_conf_cli(conf, 2, argv_pos, NULL, NULL, NULL),
                         CDC_CONF_CLI_EXIT_BAD);
        cdc_conf_destroy(conf);
        unlink(path);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_set_and_ranges),
                cmocka_unit_test(test_kafka_passthrough),
                cmocka_unit_test(test_kafka_secret_from_file),
                cmocka_unit_test(test_file_errors_name_line),
                cmocka_unit_test(test_env_and_secret_file),
                cmocka_unit_test(test_cli_precedence_and_dump),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
