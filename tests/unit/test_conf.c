/* Unit tests of common/cdc_conf: the configuration engine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cdc_conf.h"
#include "cdc_log.h"

/* a writable copy of a literal, for argv/envp style arrays */
#define S(x) ((char[]){ x })

struct tconf {
        char *host;
        char *socket;
        char *listen;
        char *password;
        int64_t port;
        int64_t ttl_ms;
        int64_t read_ms;
        int64_t wait_ms;
        int verbose;
        int mode;
        char *idem_key;
};

#define _C(f) offsetof(struct tconf, f)
static const cdc_prop_t props[] = {
        { "mysql.host", CDC_C_STR, _C(host), 0, 0, "127.0.0.1", "MySQL host" },
        { "mysql.socket", CDC_C_STR, _C(socket), 0, 0, NULL, "socket" },
        { "http.listen", CDC_C_STR, _C(listen), 0, 0, "", "listen" },
        { "mysql.password", CDC_C_SECRET, _C(password), 0, 0, NULL,
          "password" },
        { "mysql.port", CDC_C_INT, _C(port), 1, 65535, "3306", "MySQL port" },
        { "idem.ttl", CDC_C_MS, _C(ttl_ms), 1000, INT64_MAX, "7d", "TTL" },
        { "mysql.read.timeout.ms", CDC_C_MS, _C(read_ms), 0, 3600000, "30000",
          "read timeout" },
        { "wait", CDC_C_MS, _C(wait_ms), 0, INT64_MAX, "0", "any duration" },
        { "verbose", CDC_C_BOOL, _C(verbose), 0, 0, "false", "chatty" },
        { "snapshot.mode", CDC_C_ENUM, _C(mode), 0, 0, "initial", "mode",
          .values = "initial|always|never|when_needed" },
        { "table.idempotent_log.key", CDC_C_STR, _C(idem_key), 0, 0,
          "request_id", "key columns", .alias = "table.idempotent-log.key" },
        { NULL }
};

static cdc_conf_t *new_conf(struct tconf *c) {
        char errstr[256];
        cdc_conf_t *conf;
        memset(c, 0, sizeof(*c));
        conf = cdc_conf_new("t", props, c, errstr, sizeof(errstr));
        if (!conf)
                fail_msg("cdc_conf_new: %s", errstr);
        return conf;
}

static void set_ok(cdc_conf_t *conf, const char *k, const char *v) {
        char errstr[512];
        if (cdc_conf_set(conf, k, v, errstr, sizeof(errstr)))
                fail_msg("%s=%s: %s", k, v ? v : "(null)", errstr);
}

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

/* --dump-config text of \p conf (static buffer). */
static char *dump_of(const cdc_conf_t *conf) {
        static char dump[16384];
        FILE *fp;
        memset(dump, 0, sizeof(dump));
        fp = fmemopen(dump, sizeof(dump) - 1, "w");
        assert_non_null(fp);
        cdc_conf_dump(conf, fp);
        fclose(fp);
        return dump;
}

static cdc_err_t load_text(cdc_conf_t *conf, const char *text, char *errstr,
                           size_t errstr_size) {
        return cdc_conf_load_buf(conf, "t.conf", text, strlen(text), errstr,
                                 errstr_size);
}

/* What cdc_log writes while \p fn runs (log.* go to a temp file). */
static char logged[8192];
static void capture_log(void (*fn)(void *), void *arg) {
        char path[] = "/tmp/cdc_conf_log_XXXXXX";
        int fd      = mkstemp(path);
        ssize_t n;
        assert_true(fd >= 0);
        cdc_log_set_fd(fd);
        fn(arg);
        cdc_log_set_fd(-1);
        lseek(fd, 0, SEEK_SET);
        n                     = read(fd, logged, sizeof(logged) - 1);
        logged[n > 0 ? n : 0] = '\0';
        close(fd);
        unlink(path);
}

static void test_defaults(void **state) {
        struct tconf c;
        cdc_conf_t *conf = new_conf(&c);
        const cdc_conf_common_t *cc;
        (void)state;
        assert_string_equal(c.host, "127.0.0.1");
        assert_null(c.password);
        assert_null(c.socket);
        assert_string_equal(c.listen, "");
        assert_int_equal(c.port, 3306);
        assert_int_equal(c.ttl_ms, INT64_C(7) * 86400 * 1000);
        assert_int_equal(c.verbose, 0);
        assert_int_equal(c.mode, 0);
        assert_false(cdc_conf_is_set(conf, "mysql.port"));
        /* the engine's own rows */
        cc = cdc_conf_common(conf);
        assert_int_equal(cc->log_level, LOG_NOTICE);
        assert_int_equal(cc->log_format, CDC_LOG_FORMAT_TEXT);
        assert_int_equal(cc->http_liveness_ms, 60000);
        assert_true(cc->http_max_per_ip > 0);
        cdc_conf_destroy(conf);
}

static void test_set_and_ranges(void **state) {
        struct tconf c;
        char errstr[256];
        cdc_conf_t *conf = new_conf(&c);
        (void)state;
        set_ok(conf, "mysql.port", "3307");
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
                cdc_conf_set(conf, "idem.ttl", "5", errstr, sizeof(errstr)),
                CDC_ERR__CONFIG); /* below min 1000 */
        assert_non_null(strstr(errstr, "[1s, "));
        set_ok(conf, "verbose", "yes");
        assert_int_equal(c.verbose, 1);
        set_ok(conf, "verbose", "OFF");
        assert_int_equal(c.verbose, 0);
        assert_int_equal(
                cdc_conf_set(conf, "verbose", "maybe", errstr, sizeof(errstr)),
                CDC_ERR__CONFIG);
        assert_int_equal(
                cdc_conf_set(conf, "no.such", "1", errstr, sizeof(errstr)),
                CDC_ERR__CONFIG);
        assert_non_null(strstr(errstr, "unknown property"));
        /* a near miss names the property */
        assert_int_equal(
                cdc_conf_set(conf, "mysql.hots", "x", errstr, sizeof(errstr)),
                CDC_ERR__CONFIG);
        assert_non_null(strstr(errstr, "did you mean mysql.host?"));
        cdc_conf_destroy(conf);
}

static void test_durations(void **state) {
        static const struct {
                const char *text;
                int64_t ms;
        } ok[] = {
                { "1500", 1500 },
                { "250ms", 250 },
                { "30s", 30000 },
                { "5m", 300000 },
                { "2h", 7200000 },
                { "7d", 604800000 },
                { "1h30m", 5400000 },
                { " 90s ", 90000 },
                { "1d1h1m1s1ms", 90061001 },
        };
        static const char *bad[] = { "",
                                     "s",
                                     "5x",
                                     "3w",
                                     "-5s",
                                     "5 s",
                                     "1.5s",
                                     "5sm",
                                     "ms5",
                                     "0x10",
                                     "99999999999999999999d" };
        struct tconf c;
        char errstr[256], *dump;
        cdc_conf_t *conf = new_conf(&c);
        size_t i;
        (void)state;

        for (i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
                set_ok(conf, "wait", ok[i].text);
                assert_int_equal(c.wait_ms, ok[i].ms);
        }
        for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                assert_int_equal(cdc_conf_set(conf, "wait", bad[i], errstr,
                                              sizeof(errstr)),
                                 CDC_ERR__CONFIG);
                assert_non_null(strstr(errstr, "duration"));
        }
        /* *.ms keys take units too; a plain number keeps meaning ms */
        set_ok(conf, "mysql.read.timeout.ms", "45s");
        assert_int_equal(c.read_ms, 45000);
        set_ok(conf, "mysql.read.timeout.ms", "1200");
        assert_int_equal(c.read_ms, 1200);
        /* dump: the shortest exact text; *.ms names keep plain ms */
        set_ok(conf, "idem.ttl", "5400000");
        dump = dump_of(conf);
        assert_non_null(strstr(dump, "\nidem.ttl=1h30m\n"));
        assert_non_null(strstr(dump, "\nmysql.read.timeout.ms=1200\n"));
        cdc_conf_destroy(conf);
}

static void test_enums(void **state) {
        struct tconf c;
        char errstr[256];
        cdc_conf_t *conf = new_conf(&c);
        (void)state;

        set_ok(conf, "snapshot.mode", "when_needed");
        assert_int_equal(c.mode, 3);
        set_ok(conf, "snapshot.mode", "Always");
        assert_int_equal(c.mode, 1);
        assert_non_null(strstr(dump_of(conf), "\nsnapshot.mode=always\n"));
        assert_int_equal(cdc_conf_set(conf, "snapshot.mode", "sometimes",
                                      errstr, sizeof(errstr)),
                         CDC_ERR__CONFIG);
        /* the error lists every value */
        assert_non_null(strstr(errstr, "initial, always, never, when_needed"));
        assert_int_equal(c.mode, 1);
        /* spellings: log.level takes error/warn too; the dump the name */
        set_ok(conf, "log.level", "error");
        assert_int_equal(cdc_conf_common(conf)->log_level, LOG_ERR);
        assert_non_null(strstr(dump_of(conf), "\nlog.level=err\n"));
        set_ok(conf, "log.level", "notice");
        cdc_conf_destroy(conf);
}

/* Unset is not empty: a property without a default has no value until
 * given one, and the empty value takes it away; one with a default keeps
 * the empty value. The dump tells them apart. */
static void test_unset_vs_empty(void **state) {
        struct tconf c;
        char *dump;
        cdc_conf_t *conf = new_conf(&c);
        (void)state;

        dump = dump_of(conf);
        assert_non_null(strstr(dump, "\n#mysql.socket=\n"));
        assert_non_null(strstr(dump, "\nhttp.listen=\n"));
        set_ok(conf, "mysql.socket", "/run/mysqld.sock");
        assert_string_equal(c.socket, "/run/mysqld.sock");
        assert_non_null(strstr(dump_of(conf), "\nmysql.socket=/run/"));
        set_ok(conf, "mysql.socket", "");
        assert_null(c.socket); /* `mysql.socket=`: no socket */
        assert_non_null(strstr(dump_of(conf), "\n#mysql.socket=\n"));
        set_ok(conf, "http.listen", "127.0.0.1:9");
        set_ok(conf, "http.listen", "");
        assert_non_null(c.listen);
        assert_string_equal(c.listen, "");
        set_ok(conf, "mysql.host", NULL);
        assert_null(c.host);
        assert_non_null(strstr(dump_of(conf), "\n#mysql.host=\n"));
        cdc_conf_destroy(conf);
}

/* The regression of issue 7: `--dump-config` read back turned an unset
 * mysql.socket into an empty one that dropped mysql.host. */
static void test_dump_reads_back(void **state) {
        struct tconf c, c2;
        char errstr[512], setting[128], *dump, *again;
        cdc_conf_t *conf = new_conf(&c), *conf2;
        char *secret     = write_tmp("s3cret\n");
        (void)state;

        set_ok(conf, "mysql.host", "  db1 # not a comment ");
        set_ok(conf, "http.listen", "\"quoted\" value\twith\ttabs\n\x01");
        set_ok(conf, "table.idempotent-log.key", "a\\b#c");
        set_ok(conf, "snapshot.mode", "never");
        set_ok(conf, "idem.ttl", "36h");
        set_ok(conf, "kafka.client.id", " id # 1");
        snprintf(setting, sizeof(setting), "file:%s", secret);
        set_ok(conf, "mysql.password", setting);
        set_ok(conf, "log.format", "json");
        dump = strdup(dump_of(conf));
        assert_non_null(dump);

        conf2 = new_conf(&c2);
        if (load_text(conf2, dump, errstr, sizeof(errstr)))
                fail_msg("%s\n%s", errstr, dump);
        again = dump_of(conf2);
        assert_string_equal(dump, again);
        assert_null(c2.socket);
        assert_string_equal(c2.host, c.host);
        assert_string_equal(c2.listen, c.listen);
        assert_string_equal(c2.idem_key, "a\\b#c");
        assert_string_equal(c2.password, "s3cret");
        assert_int_equal(c2.ttl_ms, 36 * 3600000LL);
        assert_int_equal(c2.mode, 2);
        assert_string_equal(cdc_conf_kafka_get(conf2, "client.id"), " id # 1");
        cdc_log_set_format(CDC_LOG_FORMAT_TEXT);
        cdc_conf_destroy(conf2);
        cdc_conf_destroy(conf);
        free(dump);
        unlink(secret);
}

static void test_secrets_masked(void **state) {
        struct tconf c, c2;
        char errstr[256], *dump;
        cdc_conf_t *conf = new_conf(&c), *conf2;
        (void)state;

        set_ok(conf, "mysql.password", "hidden # pw");
        set_ok(conf, "kafka.sasl.password", "hidden2");
        dump = dump_of(conf);
        assert_null(strstr(dump, "hidden"));
        /* masked and commented out: reading the dump back never sets a
         * password to "***" */
        assert_non_null(strstr(dump, "\n#mysql.password=***\n"));
        assert_non_null(strstr(dump, "\n#kafka.sasl.password=***\n"));
        conf2 = new_conf(&c2);
        assert_int_equal(load_text(conf2, dump, errstr, sizeof(errstr)),
                         CDC_ERR_NO_ERROR);
        assert_null(c2.password);
        assert_null(cdc_conf_kafka_get(conf2, "sasl.password"));
        cdc_conf_destroy(conf2);
        cdc_conf_destroy(conf);
}

static void test_kafka_passthrough(void **state) {
        struct tconf c;
        char errstr[256], val[64];
        size_t vlen      = sizeof(val);
        cdc_conf_t *conf = new_conf(&c);
        rd_kafka_conf_t *kc;
        (void)state;
        set_ok(conf, "kafka.bootstrap.servers", "127.0.0.1:9092");
        assert_int_equal(cdc_conf_set(conf, "kafka.no.such.property", "1",
                                      errstr, sizeof(errstr)),
                         CDC_ERR__CONFIG);
        assert_non_null(strstr(errstr, "kafka.no.such.property"));
        assert_int_equal(cdc_conf_set(conf, "kafka.linger.ms", "abc", errstr,
                                      sizeof(errstr)),
                         CDC_ERR__CONFIG);
        assert_string_equal(cdc_conf_kafka_get(conf, "bootstrap.servers"),
                            "127.0.0.1:9092");
        assert_true(cdc_conf_is_set(conf, "kafka.bootstrap.servers"));
        /* set again: dumped last, in the order the settings took effect */
        set_ok(conf, "kafka.linger.ms", "5");
        set_ok(conf, "kafka.client.id", "c");
        set_ok(conf, "kafka.linger.ms", "6");
        assert_non_null(strstr(dump_of(conf), "\nkafka.client.id=c\n"
                                              "kafka.linger.ms=6\n"));
        kc = cdc_conf_kafka_dup(conf);
        assert_int_equal(rd_kafka_conf_get(kc, "bootstrap.servers", val, &vlen),
                         RD_KAFKA_CONF_OK);
        assert_string_equal(val, "127.0.0.1:9092");
        rd_kafka_conf_destroy(kc);
        cdc_conf_destroy(conf);
}

static void test_kafka_secret_from_file(void **state) {
        struct tconf c;
        char errstr[256], val[64], setting[128], *dump;
        size_t vlen      = sizeof(val);
        cdc_conf_t *conf = new_conf(&c);
        char *path       = write_tmp("sasl-s3cret\n");
        rd_kafka_conf_t *kc;
        (void)state;

        snprintf(setting, sizeof(setting), "file:%s", path);
        set_ok(conf, "kafka.sasl.password", setting);
        kc = cdc_conf_kafka_dup(conf);
        assert_int_equal(rd_kafka_conf_get(kc, "sasl.password", val, &vlen),
                         RD_KAFKA_CONF_OK);
        assert_string_equal(val, "sasl-s3cret");
        rd_kafka_conf_destroy(kc);
        /* the path is no secret: the dump shows it, so it reads back */
        dump = dump_of(conf);
        assert_non_null(strstr(dump, "kafka.sasl.password=file:/tmp/"));
        assert_null(strstr(dump, "sasl-s3cret"));
        unlink(path);
        /* a missing secret file is a config error naming the file */
        assert_int_equal(cdc_conf_set(conf, "kafka.sasl.password", setting,
                                      errstr, sizeof(errstr)),
                         CDC_ERR__CONFIG);
        assert_non_null(strstr(errstr, path));
        /* not a secret: file: is passed through as text */
        set_ok(conf, "kafka.client.id", "file:x");
        assert_string_equal(cdc_conf_kafka_get(conf, "client.id"), "file:x");
        cdc_conf_destroy(conf);
}

/* A secret file must be a regular file: a FIFO or a device would block
 * or flood start-up. */
static void test_secret_not_regular(void **state) {
        struct tconf c;
        char errstr[256], fifo[64], setting[96];
        cdc_conf_t *conf = new_conf(&c);
        (void)state;

        assert_int_equal(cdc_conf_set(conf, "mysql.password", "file:/dev/zero",
                                      errstr, sizeof(errstr)),
                         CDC_ERR__CONFIG);
        assert_non_null(strstr(errstr, "not a regular file"));
        snprintf(fifo, sizeof(fifo), "/tmp/cdc_conf_fifo_%d", (int)getpid());
        unlink(fifo);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        snprintf(setting, sizeof(setting), "file:%s", fifo);
        /* returns at once (no writer would ever come) */
        assert_int_equal(cdc_conf_set(conf, "mysql.password", setting, errstr,
                                      sizeof(errstr)),
                         CDC_ERR__CONFIG);
        assert_non_null(strstr(errstr, "not a regular file"));
        unlink(fifo);
        assert_null(c.password);
        cdc_conf_destroy(conf);
}

static void test_file_errors_name_line(void **state) {
        struct tconf c;
        char errstr[512], expect[128];
        cdc_conf_t *conf = new_conf(&c);
        char *path;
        (void)state;

        path = write_tmp("# comment\n\n mysql.host = db1 \nmysql.port=3308\n");
        assert_int_equal(cdc_conf_load_file(conf, path, errstr, sizeof(errstr)),
                         CDC_ERR_NO_ERROR);
        assert_string_equal(c.host, "db1");
        assert_int_equal(c.port, 3308);
        assert_true(cdc_conf_is_set(conf, "mysql.host"));
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
        /* unknown keys in a file stay fatal */
        assert_int_equal(
                load_text(conf, "\nmysql.nope=1\n", errstr, sizeof(errstr)),
                CDC_ERR__CONFIG);
        assert_non_null(strstr(errstr, "t.conf:2: unknown property"));
        cdc_conf_destroy(conf);
}

/* `key=value   # comment` (the README's examples), quotes, escapes. */
static void test_inline_comments(void **state) {
        static const struct {
                const char *line;
                const char *host; /* NULL: the line is an error */
        } cases[] = {
                { "mysql.host=db-primary   # the primary", "db-primary" },
                { "mysql.host=db\t# tab before", "db" },
                { "mysql.host=a#b", "a#b" },
                { "mysql.host=#x", "#x" },
                { "mysql.host= #only a comment", "" },
                { "mysql.host=\"p #1\"  # quoted", "p #1" },
                { "mysql.host=\"  padded  \"", "  padded  " },
                { "mysql.host=\"q\\\"uote\\\\\"", "q\"uote\\" },
                { "mysql.host=\"a\\tb\\x41\"", "a\tbA" },
                { "mysql.host=\"\"", "" },
                { "mysql.host=a \"b\" c", "a \"b\" c" },
                { "mysql.host=x\r", "x" },
                { "mysql.host=\"open", NULL },
                { "mysql.host=\"a\" b", NULL },
                { "mysql.host=\"a\\qb\"", NULL },
                { "mysql.host=\"\\x0\"", NULL },
                { "mysql.host=\"\\x00\"", NULL },
                { " = value", NULL },
        };
        struct tconf c;
        char errstr[512];
        cdc_conf_t *conf = new_conf(&c);
        size_t i;
        (void)state;

        for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                cdc_err_t err =
                        load_text(conf, cases[i].line, errstr, sizeof(errstr));
                if (!cases[i].host) {
                        if (!err)
                                fail_msg("accepted: %s", cases[i].line);
                        assert_non_null(strstr(errstr, "t.conf:1: "));
                        continue;
                }
                if (err)
                        fail_msg("%s: %s", cases[i].line, errstr);
                assert_string_equal(c.host, cases[i].host);
        }
        /* numbers and enums with comments after them */
        assert_int_equal(load_text(conf,
                                   "mysql.port=3307              # port\n"
                                   "snapshot.mode=never # no snapshot\n"
                                   "idem.ttl=7d\t# a week\n",
                                   errstr, sizeof(errstr)),
                         CDC_ERR_NO_ERROR);
        assert_int_equal(c.port, 3307);
        assert_int_equal(c.mode, 2);
        cdc_conf_destroy(conf);
}

static void load_env_warn(void *arg) {
        struct tconf c;
        char errstr[512];
        cdc_conf_t *conf = new_conf(&c);
        char **envp      = arg;
        assert_int_equal(cdc_conf_load_env(conf, envp, errstr, sizeof(errstr)),
                         CDC_ERR_NO_ERROR);
        assert_string_equal(c.host, "envhost");
        assert_int_equal(c.port, 3306); /* the service link was skipped */
        assert_string_equal(cdc_conf_kafka_get(conf, "client.id"), "abc");
        cdc_conf_destroy(conf);
}

/* Issue 11: an unknown FOLLOWCDC_* variable is a warning, not fatal. */
static void test_env_unknown_warns(void **state) {
        char *envp[] = {
                S("PATH=/bin"),
                S("FOLLOWCDC_MYSQL_HOST=envhost"),
                S("FOLLOWCDC_KAFKA_CLIENT_ID=abc"),
                S("FOLLOWCDC_PRODUCER_SERVICE_HOST=10.0.0.7"),
                S("FOLLOWCDC_MYSQL_DATABASE=followcdc"),
                S("FOLLOWCDC_KAFKA_BOOTSTRAP=127.0.0.1:9092"),
                S("FOLLOWCDC_MYSQL_PORT=tcp://10.0.0.8:3306"),
                S("FOLLOWCDC_LOCAL_DIR=/ignored"),
                S("FOLLOWCDC_CONFIG=/ignored.conf"),
                NULL,
        };
        (void)state;
        capture_log(load_env_warn, envp);
        assert_non_null(strstr(logged, "FOLLOWCDC_PRODUCER_SERVICE_HOST"));
        assert_non_null(strstr(logged, "FOLLOWCDC_MYSQL_DATABASE"));
        assert_non_null(strstr(logged, "FOLLOWCDC_KAFKA_BOOTSTRAP"));
        assert_non_null(strstr(logged, "FOLLOWCDC_MYSQL_PORT"));
        assert_non_null(strstr(logged, "WARNING CONF"));
        assert_null(strstr(logged, "LOCAL_DIR"));
        assert_null(strstr(logged, "MYSQL_HOST"));
}

static void test_env_values_and_errors(void **state) {
        struct tconf c;
        char errstr[512], secret_env[128];
        cdc_conf_t *conf  = new_conf(&c);
        char *path        = write_tmp("s3cret\n");
        char *envp[]      = { S("FOLLOWCDC_TABLE_IDEMPOTENT_LOG_KEY=rid"),
                              S("FOLLOWCDC_IDEM_TTL=36h"),
                              S("FOLLOWCDC_MYSQL_SOCKET="), secret_env, NULL };
        char *bad_int[]   = { S("FOLLOWCDC_MYSQL_PORT=port"), NULL };
        char *bad_kafka[] = { S("FOLLOWCDC_KAFKA_LINGER_MS=abc"), NULL };
        (void)state;

        snprintf(secret_env, sizeof(secret_env),
                 "FOLLOWCDC_MYSQL_PASSWORD=file:%s", path);
        assert_int_equal(cdc_conf_load_env(conf, envp, errstr, sizeof(errstr)),
                         CDC_ERR_NO_ERROR);
        assert_string_equal(c.idem_key, "rid");
        assert_int_equal(c.ttl_ms, 36 * 3600000LL);
        assert_null(c.socket);
        assert_string_equal(c.password, "s3cret");
        /* a known property with a bad value stays an error */
        assert_int_equal(
                cdc_conf_load_env(conf, bad_int, errstr, sizeof(errstr)),
                CDC_ERR__CONFIG);
        assert_non_null(strstr(errstr, "env FOLLOWCDC_MYSQL_PORT"));
        assert_int_equal(
                cdc_conf_load_env(conf, bad_kafka, errstr, sizeof(errstr)),
                CDC_ERR__CONFIG);
        assert_non_null(strstr(errstr, "kafka.linger.ms"));
        unlink(path);
        cdc_conf_destroy(conf);
}

/* Two names of one librdkafka property are one setting: a default
 * applied under one name (checked with cdc_conf_kafka_get) must see what
 * the user set under the other, newest first, as librdkafka does. */
static void test_kafka_aliases(void **state) {
        struct tconf c;
        char val[64];
        size_t vlen      = sizeof(val);
        cdc_conf_t *conf = new_conf(&c);
        rd_kafka_conf_t *kc;
        (void)state;

        assert_null(cdc_conf_kafka_get(
                conf, "max.in.flight.requests.per.connection"));
        set_ok(conf, "kafka.max.in.flight", "1");
        assert_string_equal(
                cdc_conf_kafka_get(conf,
                                   "max.in.flight.requests.per.connection"),
                "1");
        assert_string_equal(cdc_conf_kafka_get(conf, "max.in.flight"), "1");
        assert_true(cdc_conf_is_set(conf, "kafka.max.in.flight.requests.per."
                                          "connection"));
        set_ok(conf, "kafka.linger.ms", "5");
        set_ok(conf, "kafka.queue.buffering.max.ms", "7");
        assert_string_equal(cdc_conf_kafka_get(conf, "linger.ms"), "7");
        set_ok(conf, "kafka.compression.type", "zstd");
        assert_string_equal(cdc_conf_kafka_get(conf, "compression.codec"),
                            "zstd");
        set_ok(conf, "kafka.metadata.broker.list", "h:1");
        assert_string_equal(cdc_conf_kafka_get(conf, "bootstrap.servers"),
                            "h:1");
        assert_null(cdc_conf_kafka_get(conf, "client.id"));
        /* what librdkafka holds agrees */
        kc = cdc_conf_kafka_dup(conf);
        assert_int_equal(rd_kafka_conf_get(kc, "linger.ms", val, &vlen),
                         RD_KAFKA_CONF_OK);
        assert_string_equal(val, "7");
        rd_kafka_conf_destroy(kc);
        cdc_conf_destroy(conf);
}

/* The alias list is librdkafka's own: every property the linked
 * librdkafka documents as "Alias for `x`" maps to x. */
static void test_kafka_aliases_complete(void **state) {
        char *buf = NULL, *line, *save = NULL;
        size_t len = 0;
        int seen   = 0;
        FILE *fp   = open_memstream(&buf, &len);
        (void)state;

        assert_non_null(fp);
        rd_kafka_conf_properties_show(fp);
        assert_int_equal(fclose(fp), 0);
        for (line = strtok_r(buf, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                char name[128], target[128];
                const char *a = strstr(line, "| Alias for `");
                const char *e;
                size_t n = strcspn(line, " |");
                if (!a)
                        continue;
                a += strlen("| Alias for `");
                e = strchr(a, '`');
                assert_non_null(e);
                assert_true(n < sizeof(name) &&
                            (size_t)(e - a) < sizeof(target));
                memcpy(name, line, n);
                name[n] = '\0';
                memcpy(target, a, (size_t)(e - a));
                target[e - a] = '\0';
                assert_string_equal(cdc_conf_kafka_canon(name), target);
                seen++;
        }
        free(buf);
        /* librdkafka 2.0.2 lists 11 (compression.type twice: global and
         * topic); a listing without any would make this test vacuous */
        assert_true(seen >= 10);
        /* not an alias: unchanged */
        assert_string_equal(cdc_conf_kafka_canon("client.id"), "client.id");
}

/* `_` in names; the old hyphen spelling stays an alias everywhere. */
static void test_names_and_alias(void **state) {
        struct tconf c;
        char errstr[256];
        cdc_conf_t *conf = new_conf(&c);
        char *argv[]     = { S("t"), S("--table.idempotent-log.key=x"), NULL };
        (void)state;

        set_ok(conf, "table.idempotent_log.key", "a");
        assert_string_equal(c.idem_key, "a");
        assert_int_equal(load_text(conf, "table.idempotent-log.key=b", errstr,
                                   sizeof(errstr)),
                         CDC_ERR_NO_ERROR);
        assert_string_equal(c.idem_key, "b");
        assert_int_equal(
                cdc_conf_load_args(conf, 2, argv, errstr, sizeof(errstr)),
                CDC_ERR_NO_ERROR);
        assert_string_equal(c.idem_key, "x");
        assert_true(cdc_conf_is_set(conf, "table.idempotent-log.key"));
        /* the dump uses the name */
        assert_non_null(
                strstr(dump_of(conf), "\ntable.idempotent_log.key=x\n"));
        cdc_conf_destroy(conf);
}

/* Rows the engine refuses: they are bugs of a binary's table. */
static void test_bad_tables(void **state) {
        struct tconf c;
        char errstr[256];
        static const cdc_prop_t upper[] = {
                { "Mysql.host", CDC_C_STR, _C(host), 0, 0, NULL, "x" }, { NULL }
        };
        static const cdc_prop_t same_env[] = {
                { "a.b_c", CDC_C_STR, _C(host), 0, 0, NULL, "x" },
                { "a_b.c", CDC_C_STR, _C(socket), 0, 0, NULL, "x" },
                { NULL }
        };
        static const cdc_prop_t no_values[] = {
                { "mode", CDC_C_ENUM, _C(mode), 0, 0, "a", "x" }, { NULL }
        };
        static const cdc_prop_t bad_default[] = { { "mode", CDC_C_ENUM,
                                                    _C(mode), 0, 0, "c", "x",
                                                    .values = "a|b" },
                                                  { NULL } };
        static const cdc_prop_t clash[]       = {
                      { "log.level", CDC_C_STR, _C(host), 0, 0, NULL, "x" }, { NULL }
        };
        static const cdc_prop_t kafka[] = {
                { "kafka.x", CDC_C_STR, _C(host), 0, 0, NULL, "x" }, { NULL }
        };
        const cdc_prop_t *tables[] = { upper,       same_env, no_values,
                                       bad_default, clash,    kafka };
        size_t i;
        (void)state;

        for (i = 0; i < sizeof(tables) / sizeof(*tables); i++) {
                memset(&c, 0, sizeof(c));
                errstr[0] = '\0';
                assert_null(cdc_conf_new("t", tables[i], &c, errstr,
                                         sizeof(errstr)));
                assert_true(strlen(errstr) > 0);
        }
}

static void test_log_rows(void **state) {
        struct tconf c;
        char errstr[256];
        cdc_conf_t *conf = new_conf(&c);
        char *argv[]     = { S("t"), S("-d"), S("conf,http"), NULL };
        (void)state;

        set_ok(conf, "log.level", "info");
        assert_int_equal(cdc_log_level(), LOG_INFO);
        assert_int_equal(
                cdc_conf_load_args(conf, 3, argv, errstr, sizeof(errstr)),
                CDC_ERR_NO_ERROR);
        assert_string_equal(cdc_conf_common(conf)->log_debug, "conf,http");
        assert_true(cdc_dbg_on(CDC_DBG_CONF));
        assert_false(cdc_dbg_on(CDC_DBG_BINLOG));
        assert_int_equal(cdc_log_level(), LOG_DEBUG);
        assert_true(cdc_conf_is_set(conf, "log.debug"));
        assert_int_equal(cdc_conf_set(conf, "log.debug", "bogus", errstr,
                                      sizeof(errstr)),
                         CDC_ERR__CONFIG);
        assert_non_null(strstr(errstr, "bogus"));
        set_ok(conf, "log.debug", "");
        assert_false(cdc_dbg_on(CDC_DBG_CONF));
        assert_int_equal(cdc_log_level(), LOG_INFO);
        set_ok(conf, "log.format", "json");
        assert_int_equal(cdc_log_format(), CDC_LOG_FORMAT_JSON);
        set_ok(conf, "log.format", "text");
        set_ok(conf, "log.level", "notice");
        assert_int_equal(cdc_log_level(), LOG_NOTICE);
        cdc_conf_destroy(conf);
}

static void test_list(void **state) {
        struct tconf c;
        static char out[16384];
        cdc_conf_t *conf = new_conf(&c);
        FILE *fp;
        (void)state;

        memset(out, 0, sizeof(out));
        fp = fmemopen(out, sizeof(out) - 1, "w");
        cdc_conf_list(conf, fp);
        fclose(fp);
        assert_non_null(strstr(out, "| `mysql.port` | integer | `3306` | "
                                    "1 .. 65535 | MySQL port |\n"));
        assert_non_null(strstr(out, "| `snapshot.mode` | enum | `initial` | "
                                    "`initial`, `always`, `never`, "
                                    "`when_needed` |"));
        assert_non_null(strstr(out, "| `idem.ttl` | duration | `7d` |"));
        assert_non_null(strstr(out, "(old name: `table.idempotent-log.key`)"));
        assert_non_null(strstr(out, "| `mysql.socket` | string | - |"));
        assert_non_null(strstr(out, "| `log.format` | enum | `text` |"));
        assert_non_null(strstr(out, "| `http.liveness.timeout` | duration |"));
        cdc_conf_destroy(conf);
}

static const char *finalize_port(void *base) {
        struct tconf *c = base;
        return c->port == 1234 ? "port 1234 is reserved" : NULL;
}

static void test_cli_precedence_and_dump(void **state) {
        struct tconf c;
        cdc_conf_t *conf = new_conf(&c);
        char *path       = write_tmp("mysql.host=filehost\nmysql.port=1111\n"
                                           "mysql.password=hidden\n");
        char *envp[]     = { S("FOLLOWCDC_MYSQL_PORT=2222"), NULL };
        char *argv[] = { S("t"),         S("-c"), path, S("--mysql.port=3333"),
                         S("--verbose"), NULL };
        char *argv_bad[]     = { S("t"), S("-X"), S("mysql.port=1234"), NULL };
        char *argv_unknown[] = { S("t"), S("--nope"), NULL };
        char *argv_pos[]     = { S("t"), S("stray"), NULL };
        char *argv_x[]       = { S("t"), S("-X"), NULL };
        char *dump;
        (void)state;

        assert_int_equal(cdc_conf_cli(conf, 5, argv, envp, NULL, finalize_port),
                         CDC_CONF_CLI_RUN);
        assert_string_equal(c.host, "filehost"); /* file */
        assert_int_equal(c.port, 3333);          /* flag beats env */
        assert_int_equal(c.verbose, 1);

        dump = dump_of(conf);
        assert_non_null(strstr(dump, "#mysql.password=***"));
        assert_null(strstr(dump, "hidden"));
        assert_non_null(strstr(dump, "mysql.port=3333"));
        cdc_conf_destroy(conf);

        conf = new_conf(&c);
        assert_int_equal(
                cdc_conf_cli(conf, 3, argv_bad, NULL, NULL, finalize_port),
                CDC_CONF_CLI_EXIT_BAD);
        assert_int_equal(cdc_conf_cli(conf, 2, argv_unknown, NULL, NULL, NULL),
                         CDC_CONF_CLI_EXIT_BAD);
        assert_int_equal(cdc_conf_cli(conf, 2, argv_pos, NULL, NULL, NULL),
                         CDC_CONF_CLI_EXIT_BAD);
        assert_int_equal(cdc_conf_cli(conf, 2, argv_x, NULL, NULL, NULL),
                         CDC_CONF_CLI_EXIT_BAD);
        cdc_conf_destroy(conf);
        unlink(path);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_set_and_ranges),
                cmocka_unit_test(test_durations),
                cmocka_unit_test(test_enums),
                cmocka_unit_test(test_unset_vs_empty),
                cmocka_unit_test(test_dump_reads_back),
                cmocka_unit_test(test_secrets_masked),
                cmocka_unit_test(test_kafka_passthrough),
                cmocka_unit_test(test_kafka_secret_from_file),
                cmocka_unit_test(test_secret_not_regular),
                cmocka_unit_test(test_file_errors_name_line),
                cmocka_unit_test(test_inline_comments),
                cmocka_unit_test(test_env_unknown_warns),
                cmocka_unit_test(test_env_values_and_errors),
                cmocka_unit_test(test_names_and_alias),
                cmocka_unit_test(test_bad_tables),
                cmocka_unit_test(test_kafka_aliases),
                cmocka_unit_test(test_kafka_aliases_complete),
                cmocka_unit_test(test_log_rows),
                cmocka_unit_test(test_list),
                cmocka_unit_test(test_cli_precedence_and_dump),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
