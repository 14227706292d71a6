/* Unit tests of followcdc-verify's comparison (verify/cdc_vdiff.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cdc_vdiff.h"

/* seq 42, epoch 0, row 1 as Redis stores it */
static const cdc_vsnap_t snap_gtid = { 0, 42, 1 };

static void test_newer(void **state) {
        cdc_vsnap_t nog = { 0, 42, 0 };
        (void)state;
        /* (0, 42, 1): part of a read at seq 42 (GTID) */
        assert_false(cdc_vdiff_newer("420000000001", 12, &snap_gtid));
        assert_false(cdc_vdiff_newer("410000000009", 12, &snap_gtid));
        assert_true(cdc_vdiff_newer("430000000000", 12, &snap_gtid));
        /* without GTIDs a transaction starting at the read's end is newer */
        assert_true(cdc_vdiff_newer("420000000000", 12, &nog));
        assert_false(cdc_vdiff_newer("410000000000", 12, &nog));
        /* a higher epoch always wins, a lower never */
        assert_true(cdc_vdiff_newer("1000000000000000000000000000000000000000",
                                    40, &snap_gtid));
        {
                cdc_vsnap_t e2 = { 2, 5, 1 };
                /* epoch 1, seq 9999: older than epoch 2 */
                assert_false(cdc_vdiff_newer("1000000000000000000000000009999",
                                             31, &e2));
        }
        /* several sources: the home register (no tag) counts */
        assert_true(
                cdc_vdiff_newer("430000000000=17;5@shard2=9", 26, &snap_gtid));
        assert_false(
                cdc_vdiff_newer("99@shard2=9;410000000000", 24, &snap_gtid));
        assert_false(cdc_vdiff_newer("990000000000@shard2", 19, &snap_gtid));
        /* malformed: never newer (the difference is reported) */
        assert_false(cdc_vdiff_newer("99x", 3, &snap_gtid));
        assert_false(cdc_vdiff_newer("", 0, &snap_gtid));
        assert_false(cdc_vdiff_newer(
                "99999999999999999999999999999999999999999", 41, &snap_gtid));
}

typedef struct {
        int n;
        cdc_vkind_t kind[16];
        cdc_vset_t set[16];
        char member[16][24];
} rec_t;

static int rec_cb(void *opaque, const cdc_vdiff_t *d) {
        rec_t *r = opaque;
        if (r->n < 16) {
                r->kind[r->n] = d->kind;
                r->set[r->n]  = d->set;
                snprintf(r->member[r->n], 24, "%.*s", (int)d->member_len,
                         d->member ? d->member : "");
                r->n++;
        }
        return 0;
}

#define M(id, sc)                                                              \
        { id, sizeof(id) - 1, sc, 1, NULL }
#define V(f, v)                                                                \
        { f, sizeof(f) - 1, v, sizeof(v) - 1 }

static void test_user_equal_and_friends(void **state) {
        cdc_vmember_t fo[] = { M("7", 100), M("12", 200) };
        cdc_vmember_t fe[] = { M("12", 300), M("9", 50) };
        cdc_vmember_t fr[2];
        cdc_vuser_t exp, red;
        cdc_vdiff_stats_t st;
        rec_t r;
        cdc_vmember_t rfr[] = { M("12", 300) };
        (void)state;

        memset(&exp, 0, sizeof(exp));
        cdc_vdiff_sort_members(fo, 2);
        cdc_vdiff_sort_members(fe, 2);
        /* numeric order: 7 before 12, 9 before 12 */
        assert_string_equal(fo[0].id, "7");
        assert_string_equal(fe[0].id, "9");
        exp.uid  = "1";
        exp.m[0] = fo, exp.n[0] = 2;
        exp.m[1] = fe, exp.n[1] = 2;
        exp.n[2] = cdc_vdiff_friends(&exp, fr);
        exp.m[2] = fr;
        assert_int_equal(exp.n[2], 1);
        assert_string_equal(fr[0].id, "12");
        assert_true(fr[0].score == 300); /* the later of the two */

        red      = exp;
        red.m[2] = rfr;
        memset(&st, 0, sizeof(st));
        memset(&r, 0, sizeof(r));
        assert_int_equal(
                cdc_vdiff_user(&exp, &red, &snap_gtid, rec_cb, &r, &st), 0);
        assert_int_equal(st.edges, 5);
}

static void test_user_kinds(void **state) {
        cdc_vmember_t efo[] = { M("2", 10), M("3", 20), M("4", 30) };
        cdc_vmember_t rfo[] = { M("3", 21), M("4", 30), M("5", 40) };
        cdc_vuser_t exp, red;
        cdc_vdiff_stats_t st;
        rec_t r;
        (void)state;

        memset(&exp, 0, sizeof(exp));
        memset(&red, 0, sizeof(red));
        exp.uid = red.uid = "1";
        exp.m[0] = efo, exp.n[0] = 3;
        red.m[0] = rfo, red.n[0] = 3;
        memset(&st, 0, sizeof(st));
        memset(&r, 0, sizeof(r));
        assert_int_equal(
                cdc_vdiff_user(&exp, &red, &snap_gtid, rec_cb, &r, &st), 3);
        assert_int_equal(r.kind[0], CDC_VK_MISSING);
        assert_string_equal(r.member[0], "2");
        assert_int_equal(r.kind[1], CDC_VK_WRONG_SCORE);
        assert_string_equal(r.member[1], "3");
        assert_int_equal(r.kind[2], CDC_VK_EXTRA);
        assert_string_equal(r.member[2], "5");
        /* sizes are equal: no wrong_count */
        assert_int_equal(st.diffs[CDC_VK_WRONG_COUNT], 0);
}

static void test_user_newer_skipped(void **state) {
        cdc_vmember_t efo[] = { M("2", 10) };
        cdc_vmember_t efe[] = { M("8", 10) };
        cdc_vver_t ver[]    = { V("i:8", "420000000000"),
                                V("o:2", "430000000000") };
        cdc_vuser_t exp, red;
        cdc_vdiff_stats_t st;
        rec_t r;
        (void)state;

        memset(&exp, 0, sizeof(exp));
        memset(&red, 0, sizeof(red));
        exp.uid = red.uid = "1";
        exp.m[0] = efo, exp.n[0] = 1;
        exp.m[1] = efe, exp.n[1] = 1;
        cdc_vdiff_sort_ver(ver, 2);
        red.ver = ver, red.nver = 2;
        memset(&st, 0, sizeof(st));
        memset(&r, 0, sizeof(r));
        /* following 2 missing but o:2 is newer than the read: skipped;
         * followers 8 missing with i:8 part of the read: reported, with a
         * wrong count */
        assert_int_equal(
                cdc_vdiff_user(&exp, &red, &snap_gtid, rec_cb, &r, &st), 2);
        assert_int_equal(st.newer, 1);
        assert_int_equal(r.kind[0], CDC_VK_MISSING);
        assert_int_equal(r.set[0], CDC_VSET_FOLLOWERS);
        assert_int_equal(r.kind[1], CDC_VK_WRONG_COUNT);
}

static void test_user_unfollowed_row_is_extra(void **state) {
        cdc_vmember_t efo[] = { { "6", 1, 5, 0, NULL } }; /* status 0 row */
        cdc_vmember_t rfo[] = { M("6", 5) };
        cdc_vuser_t exp, red;
        cdc_vdiff_stats_t st;
        rec_t r;
        (void)state;

        memset(&exp, 0, sizeof(exp));
        memset(&red, 0, sizeof(red));
        exp.uid = red.uid = "1";
        exp.m[0] = efo, exp.n[0] = 1;
        red.m[0] = rfo, red.n[0] = 1;
        memset(&st, 0, sizeof(st));
        memset(&r, 0, sizeof(r));
        assert_int_equal(
                cdc_vdiff_user(&exp, &red, &snap_gtid, rec_cb, &r, &st), 2);
        assert_int_equal(r.kind[0], CDC_VK_EXTRA);
        assert_int_equal(r.kind[1], CDC_VK_WRONG_COUNT);
        assert_int_equal(st.edges, 0);
}

static void test_idem(void **state) {
        cdc_videm_t e = { "r1", 2, 1, "2", "biz", 3, 100000, NULL, 0, NULL };
        cdc_videm_t h = e;
        cdc_vdiff_stats_t st;
        rec_t r;
        (void)state;

        memset(&st, 0, sizeof(st));
        memset(&r, 0, sizeof(r));
        h.ver  = "410000000000";
        h.vlen = 12;
        /* equal, expiry within the slack */
        h.expire_ms = 100500;
        assert_int_equal(
                cdc_vdiff_idem(&e, &h, &snap_gtid, 1000, 1000, rec_cb, &r, &st),
                0);
        /* expiry off by more */
        h.expire_ms = 200000;
        assert_int_equal(
                cdc_vdiff_idem(&e, &h, &snap_gtid, 1000, 1000, rec_cb, &r, &st),
                1);
        assert_int_equal(r.kind[0], CDC_VK_IDEM_WRONG);
        /* status */
        h.expire_ms = 100000;
        h.status    = "9";
        assert_int_equal(
                cdc_vdiff_idem(&e, &h, &snap_gtid, 1000, 1000, rec_cb, &r, &st),
                1);
        /* missing, unless Redis' (tombstone) version is newer */
        h.present = 0;
        assert_int_equal(
                cdc_vdiff_idem(&e, &h, &snap_gtid, 1000, 1000, rec_cb, &r, &st),
                1);
        assert_int_equal(r.kind[2], CDC_VK_IDEM_MISSING);
        h.ver = "430000000000";
        assert_int_equal(
                cdc_vdiff_idem(&e, &h, &snap_gtid, 1000, 1000, rec_cb, &r, &st),
                0);
        assert_int_equal(st.newer, 1);
        /* a row expiring within the slack of now is not judged */
        assert_int_equal(cdc_vdiff_idem(&e, NULL, &snap_gtid, 99500, 1000,
                                        rec_cb, &r, &st),
                         0);
        /* an expired row and no record: equal */
        e.present = 0;
        assert_int_equal(cdc_vdiff_idem(&e, NULL, &snap_gtid, 500000, 1000,
                                        rec_cb, &r, &st),
                         0);
        /* an expired row and a live record: extra */
        h.present   = 1;
        h.ver       = "1";
        h.vlen      = 1;
        h.expire_ms = 900000;
        assert_int_equal(cdc_vdiff_idem(&e, &h, &snap_gtid, 500000, 1000,
                                        rec_cb, &r, &st),
                         1);
        assert_int_equal(r.kind[r.n - 1], CDC_VK_IDEM_EXTRA);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_newer),
                cmocka_unit_test(test_user_equal_and_friends),
                cmocka_unit_test(test_user_kinds),
                cmocka_unit_test(test_user_newer_skipped),
                cmocka_unit_test(test_user_unfollowed_row_is_extra),
                cmocka_unit_test(test_idem),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
