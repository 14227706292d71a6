/* Unit tests of consumer/cdc_apply without a Redis server: the mapping of
 * change events to script calls (KEYS and ARGV), checked against the data
 * cases tests/data/apply/<case>/{input,expected|error}, and the embedded
 * scripts. Script semantics against Redis: tests/integration/0030-*.sh. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cdc_apply_int.h"
#include "cdc_event.h"
#include "cdc_scripts.h"

static char *read_file(const char *path, size_t *lenp) {
        FILE *fp = fopen(path, "rb");
        char *buf;
        long n;

        if (!fp)
                return NULL;
        fseek(fp, 0, SEEK_END);
        n = ftell(fp);
        fseek(fp, 0, SEEK_SET);
        buf = malloc((size_t)n + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
        buf[n] = '\0';
        fclose(fp);
        if (lenp)
                *lenp = (size_t)n;
        return buf;
}

static cdc_apply_t *new_applier(int max_batch) {
        cdc_apply_conf_t conf;
        char errstr[256];
        cdc_apply_t *ap;

        memset(&conf, 0, sizeof(conf));
        conf.redis_port = 1; /* never connected here */
        conf.max_batch  = max_batch ? max_batch : 256; /* redis.pipeline */
        ap              = cdc_apply_new(&conf, errstr, sizeof(errstr));
        assert_non_null(ap);
        return ap;
}

/* One queued script as a text line: name, then each KEY and ARGV with
 * bytes outside printable ASCII (and backslash, space) as \xNN. */
static void format_queued(const cdc_apply_t *ap, size_t i, char *out,
                          size_t size) {
        const char *const *argv;
        const size_t *lens;
        cdc_script_id_t id;
        int n    = cdc_apply_queued(ap, i, &id, &argv, &lens), a;
        size_t o = 0, k;

        assert_true(n > 0);
        o += (size_t)snprintf(out + o, size - o, "%s", cdc_scripts_name(id));
        for (a = 0; a < n; a++) {
                o += (size_t)snprintf(out + o, size - o, " ");
                for (k = 0; k < lens[a]; k++) {
                        unsigned char c = (unsigned char)argv[a][k];

                        if (c >= 0x21 && c <= 0x7e && c != '\\')
                                o += (size_t)snprintf(out + o, size - o, "%c",
                                                      c);
                        else
                                o += (size_t)snprintf(out + o, size - o,
                                                      "\\x%02x", c);
                        assert_true(o < size);
                }
        }
        o += (size_t)snprintf(out + o, size - o, "\n");
        assert_true(o < size);
}

/* An applier for a data case: defaults, or the settings of its optional
 * "conf" file (key=value lines, keys as in the consumer's configuration:
 * follow.model, follow.table, follow.col.*, source.name). */
static cdc_apply_t *case_applier(const char *dir, const char *name,
                                 char *conftext) {
        cdc_apply_conf_t conf;
        char errstr[256];
        char *line, *next;
        cdc_apply_t *ap;

        memset(&conf, 0, sizeof(conf));
        conf.redis_port = 1;   /* never connected here */
        conf.max_batch  = 256; /* redis.pipeline */
        for (line = conftext; line && *line; line = next) {
                char *eq, *nl = strchr(line, '\n');

                next = nl ? nl + 1 : NULL;
                if (nl)
                        *nl = '\0';
                eq = strchr(line, '=');
                if (!eq)
                        fail_msg("%s/%s/conf: no '=' in '%s'", dir, name, line);
                *eq = '\0';
                if (!strcmp(line, "follow.model"))
                        conf.follow_model = !strcmp(eq + 1, "pair")
                                                    ? CDC_APPLY_MODEL_PAIR
                                                    : CDC_APPLY_MODEL_EDGE;
                else if (!strcmp(line, "follow.table"))
                        conf.follow_table = eq + 1;
                else if (!strcmp(line, "follow.col.time"))
                        conf.follow_col_time = eq + 1;
                else if (!strcmp(line, "follow.col.a"))
                        conf.pair_col_a = eq + 1;
                else if (!strcmp(line, "follow.col.b"))
                        conf.pair_col_b = eq + 1;
                else if (!strcmp(line, "follow.col.relation"))
                        conf.pair_col_relation = eq + 1;
                else if (!strcmp(line, "follow.col.time.ab"))
                        conf.pair_col_time_ab = eq + 1;
                else if (!strcmp(line, "follow.col.time.ba"))
                        conf.pair_col_time_ba = eq + 1;
                else if (!strcmp(line, "source.name"))
                        conf.home_source = eq + 1;
                else
                        fail_msg("%s/%s/conf: unknown key %s", dir, name, line);
        }
        ap = cdc_apply_new(&conf, errstr, sizeof(errstr));
        if (!ap)
                fail_msg("%s/%s: cdc_apply_new: %s", dir, name, errstr);
        return ap;
}

static void run_case(const char *dir, const char *name) {
        char path[1024], errstr[256], got[16384];
        char *input, *expected, *error, *conftext;
        size_t len, i, o = 0;
        cdc_event_t *ev = NULL;
        cdc_apply_t *ap;
        cdc_err_t err;

        snprintf(path, sizeof(path), "%s/%s/conf", dir, name);
        conftext = read_file(path, NULL);
        ap       = case_applier(dir, name, conftext);

        snprintf(path, sizeof(path), "%s/%s/input", dir, name);
        input = read_file(path, &len);
        assert_non_null(input);
        err = cdc_event_parse(input, len, &ev, errstr, sizeof(errstr));
        if (err != CDC_ERR_NO_ERROR)
                fail_msg("%s: input does not parse: %s", name, errstr);
        err = cdc_apply_add(ap, ev, errstr, sizeof(errstr));

        snprintf(path, sizeof(path), "%s/%s/error", dir, name);
        error = read_file(path, NULL);
        if (error) {
                char *sp = strchr(error, ' ');
                char *nl = strchr(error, '\n');

                assert_non_null(sp);
                if (nl)
                        *nl = '\0';
                *sp = '\0';
                /* the only refusal cdc_apply_add() has for an event */
                assert_string_equal(error, "CDC_ERR__BAD_EVENT");
                if (err != CDC_ERR__BAD_EVENT)
                        fail_msg("%s: got %s (%s)", name, cdc_err2str(err),
                                 errstr);
                if (!strstr(errstr, sp + 1))
                        fail_msg("%s: reason '%s' lacks '%s'", name, errstr,
                                 sp + 1);
                assert_int_equal(cdc_apply_pending(ap), 0);
                free(error);
        } else {
                if (err != CDC_ERR_NO_ERROR)
                        fail_msg("%s: %s: %s", name, cdc_err2str(err), errstr);
                snprintf(path, sizeof(path), "%s/%s/expected", dir, name);
                expected = read_file(path, NULL);
                assert_non_null(expected);
                got[0] = '\0';
                for (i = 0; i < cdc_apply_pending(ap); i++) {
                        format_queued(ap, i, got + o, sizeof(got) - o);
                        o += strlen(got + o);
                }
                if (strcmp(got, expected) != 0)
                        fail_msg("%s:\nexpected:\n%sgot:\n%s", name, expected,
                                 got);
                free(expected);
        }
        free(input);
        free(conftext);
        cdc_event_destroy(ev);
        cdc_apply_destroy(ap);
}

static void test_data_cases(void **state) {
        char dir[1024];
        struct dirent *de;
        DIR *d;
        int n = 0;

        (void)state;
        snprintf(dir, sizeof(dir), "%s/tests/data/apply", CDC_SOURCE_DIR);
        d = opendir(dir);
        assert_non_null(d);
        while ((de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.')
                        continue;
                run_case(dir, de->d_name);
                n++;
        }
        closedir(d);
        assert_true(n >= 20);
}

static void test_scripts_embedded(void **state) {
        char path[1024];
        int id;

        (void)state;
        for (id = 0; id < CDC_SCRIPT__CNT; id++) {
                size_t len, flen;
                const char *src = cdc_scripts_source(id, &len);
                char *file;

                assert_non_null(src);
                snprintf(path, sizeof(path), "%s/consumer/lua/cdc_%s.lua",
                         CDC_SOURCE_DIR, cdc_scripts_name(id));
                file = read_file(path, &flen);
                assert_non_null(file);
                assert_int_equal(len, flen);
                assert_memory_equal(src, file, len);
                free(file);
        }
        assert_null(cdc_scripts_source(CDC_SCRIPT__CNT, NULL));
}

static void test_queue_full_and_discard(void **state) {
        cdc_apply_t *ap = new_applier(5);
        cdc_event_t *ev = cdc_event_new(CDC_OP_CREATE);
        cdc_apply_stats_t st;
        char errstr[128];

        (void)state;
        snprintf(ev->source.name, sizeof(ev->source.name), "followcdc");
        snprintf(ev->source.table, sizeof(ev->source.table), "follow");
        ev->source.seq = 1;
        ev->after      = json_pack("{s:i, s:i, s:i, s:s}", "follower_id", 1,
                                   "followee_id", 2, "status", 1, "updated_at",
                                   "2026-11-20T10:00:00.000000Z");
        assert_int_equal(cdc_apply_add(ap, ev, errstr, sizeof(errstr)), 0);
        /* 2 queued; an event may need 4, so 2 + 4 > 5 is full */
        assert_int_equal(cdc_apply_add(ap, ev, errstr, sizeof(errstr)),
                         CDC_ERR__QUEUE_FULL);
        assert_int_equal(cdc_apply_pending(ap), 2);
        cdc_apply_discard(ap);
        assert_int_equal(cdc_apply_pending(ap), 0);
        assert_int_equal(cdc_apply_add(ap, ev, errstr, sizeof(errstr)), 0);
        cdc_apply_stats(ap, &st);
        assert_int_equal(st.events, 2);
        assert_int_equal(st.scripts, 0);
        cdc_event_destroy(ev);
        cdc_apply_destroy(ap);
}

static void test_bad_config(void **state) {
        cdc_apply_conf_t conf;
        char errstr[256];

        (void)state;
        memset(&conf, 0, sizeof(conf));
        conf.key_prefix = "x}";
        assert_null(cdc_apply_new(&conf, errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "prefix"));
        cdc_apply_destroy(NULL);
}

static void test_flush_without_redis(void **state) {
        cdc_apply_t *ap = new_applier(0);

        (void)state;
        /* nothing queued: nothing to send, no connection needed */
        assert_int_equal(cdc_apply_flush(ap), CDC_ERR_NO_ERROR);
        cdc_apply_destroy(ap);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_data_cases),
                cmocka_unit_test(test_scripts_embedded),
                cmocka_unit_test(test_queue_full_and_discard),
                cmocka_unit_test(test_bad_config),
                cmocka_unit_test(test_flush_without_redis),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
