/*
 * Unit tests of the checkpoint tracker (cdc_inflight) and the checkpoint
 * stores (cdc_ckpt): the position only moves past changes Kafka has
 * acknowledged, with every earlier one included.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cdc_ckpt.h"
#include "cdc_inflight.h"

static cdc_pos_t mkpos(const char *gtid, const char *file, uint64_t p) {
        cdc_pos_t pos;
        memset(&pos, 0, sizeof(pos));
        snprintf(pos.gtid, sizeof(pos.gtid), "%s", gtid);
        snprintf(pos.file, sizeof(pos.file), "%s", file);
        pos.pos = p;
        return pos;
}

/* ---- cdc_inflight ---- */

static void test_inflight_single_txn(void **state) {
        cdc_inflight_t *fl = cdc_inflight_new(8, 0, 100);
        cdc_pos_t p1       = mkpos("0-1-1", "b.000001", 100), out;
        uint64_t s1, s2;
        (void)state;

        assert_int_equal(cdc_inflight_acked(fl, &out), 0);
        assert_int_equal(cdc_inflight_add(fl, 0, &s1), 0);
        assert_int_equal(cdc_inflight_add(fl, 0, &s2), 0);
        assert_true(s1 == s2); /* one transaction, one group */
        cdc_inflight_commit(fl, &p1);
        assert_int_equal(cdc_inflight_acked(fl, NULL), 0);
        assert_int_equal(cdc_inflight_ack(fl, s1), 0);
        assert_int_equal(cdc_inflight_acked(fl, NULL), 0); /* one left */
        assert_int_equal(cdc_inflight_ack(fl, s2), 0);
        assert_int_not_equal(cdc_inflight_acked(fl, &out), 0);
        assert_string_equal(out.gtid, "0-1-1");
        assert_int_equal(out.pos, 100);
        assert_int_equal(cdc_inflight_pending(fl), 0);
        assert_int_equal(cdc_inflight_groups(fl), 0);
        cdc_inflight_destroy(fl);
}

/* One transaction of a million messages, acknowledged while it is still
 * being read: it takes one slot of a two-slot ring (the tracker holds a
 * count per transaction group, nothing per message: its memory does not
 * grow with the transaction), never reports QUEUE_FULL, and the
 * checkpoint moves only once it is committed and all acknowledged. */
static void test_inflight_huge_txn(void **state) {
        cdc_inflight_t *fl = cdc_inflight_new(2, 0, 100);
        cdc_pos_t p1       = mkpos("0-1-7", "b.000001", 700), out;
        uint64_t seq = 0, first = 0, i;
        (void)state;

        for (i = 0; i < 1000000; i++) {
                assert_int_equal(cdc_inflight_add(fl, (int64_t)i, &seq), 0);
                if (!i)
                        first = seq;
                assert_true(seq == first);
                if (i % 2) /* Kafka acknowledges as the rows stream */
                        assert_int_equal(cdc_inflight_ack(fl, seq), 0);
                assert_int_equal(cdc_inflight_groups(fl), 1);
        }
        assert_int_equal(cdc_inflight_pending(fl), 500000);
        for (i = 0; i < 500000; i++)
                assert_int_equal(cdc_inflight_ack(fl, seq), 0);
        /* all acknowledged, but not committed: no checkpoint yet */
        assert_int_equal(cdc_inflight_acked(fl, NULL), 0);
        cdc_inflight_commit(fl, &p1);
        assert_int_not_equal(cdc_inflight_acked(fl, &out), 0);
        assert_string_equal(out.gtid, "0-1-7");
        assert_int_equal(cdc_inflight_groups(fl), 0);
        cdc_inflight_destroy(fl);
}

/* A later transaction acknowledged first must not move the checkpoint
 * past an earlier one still in flight (bottledwater maybe_checkpoint). */
static void test_inflight_out_of_order_acks(void **state) {
        cdc_inflight_t *fl = cdc_inflight_new(8, 0, 100);
        cdc_pos_t p1       = mkpos("0-1-1", "b.1", 10),
                  p2       = mkpos("0-1-2", "b.1", 20),
                  p3       = mkpos("0-1-3", "b.1", 30), out;
        uint64_t s1, s2, s3, g;
        (void)state;

        assert_int_equal(cdc_inflight_add(fl, 0, &s1), 0);
        cdc_inflight_commit(fl, &p1);
        assert_int_equal(cdc_inflight_add(fl, 1000, &s2), 0);
        cdc_inflight_commit(fl, &p2);
        assert_int_equal(cdc_inflight_add(fl, 2000, &s3), 0);
        cdc_inflight_commit(fl, &p3);
        assert_true(s1 != s2 && s2 != s3); /* group_us 0: no sharing */

        assert_int_equal(cdc_inflight_ack(fl, s3), 0);
        assert_int_equal(cdc_inflight_ack(fl, s2), 0);
        assert_int_equal(cdc_inflight_acked(fl, NULL), 0);
        assert_int_equal(cdc_inflight_ack(fl, s1), 0);
        g = cdc_inflight_acked(fl, &out);
        assert_int_not_equal(g, 0);
        assert_string_equal(out.gtid, "0-1-3"); /* all three at once */
        /* an unknown or repeated ack is refused, nothing moves */
        assert_int_equal(cdc_inflight_ack(fl, s1), -1);
        assert_int_equal(cdc_inflight_ack(fl, 999), -1);
        assert_int_equal(cdc_inflight_acked(fl, NULL), g);
        cdc_inflight_destroy(fl);
}

static void test_inflight_partial_progress(void **state) {
        cdc_inflight_t *fl = cdc_inflight_new(8, 0, 100);
        cdc_pos_t p1       = mkpos("0-1-1", "b.1", 10),
                  p2       = mkpos("0-1-2", "b.1", 20), out;
        uint64_t s1, s2;
        (void)state;

        cdc_inflight_add(fl, 0, &s1);
        cdc_inflight_commit(fl, &p1);
        cdc_inflight_add(fl, 10, &s2);
        cdc_inflight_commit(fl, &p2);
        cdc_inflight_ack(fl, s1);
        assert_int_not_equal(cdc_inflight_acked(fl, &out), 0);
        assert_string_equal(out.gtid, "0-1-1");
        assert_int_equal(cdc_inflight_groups(fl), 1);
        cdc_inflight_destroy(fl);
}

/* COMMITs of other tables and heartbeats move the position while the
 * captured tables are idle, but never past a group still in flight. */
static void test_inflight_empty_commits(void **state) {
        cdc_inflight_t *fl = cdc_inflight_new(8, 0, 100);
        cdc_pos_t p1       = mkpos("0-1-1", "b.1", 10),
                  p2       = mkpos("0-1-2", "b.1", 20),
                  p3       = mkpos("0-1-3", "b.1", 30), out;
        uint64_t s1;
        (void)state;

        cdc_inflight_commit(fl, &p1); /* nothing in flight: at once */
        assert_int_not_equal(cdc_inflight_acked(fl, &out), 0);
        assert_string_equal(out.gtid, "0-1-1");

        cdc_inflight_add(fl, 0, &s1);
        cdc_inflight_commit(fl, &p2);
        cdc_inflight_commit(fl, &p3); /* empty, behind the open group */
        assert_string_equal((cdc_inflight_acked(fl, &out), out.gtid), "0-1-1");
        cdc_inflight_ack(fl, s1);
        cdc_inflight_acked(fl, &out);
        assert_string_equal(out.gtid, "0-1-3");
        assert_int_equal(cdc_inflight_groups(fl), 0);
        cdc_inflight_destroy(fl);
}

/* Small consecutive transactions share a group; the ring bounds what is
 * in flight and reports QUEUE_FULL rather than dropping anything. */
static void test_inflight_grouping_and_full(void **state) {
        cdc_inflight_t *fl = cdc_inflight_new(2, 1000, 3);
        cdc_pos_t p, out;
        uint64_t s[6];
        int i;
        (void)state;

        for (i = 0; i < 3; i++) { /* 3 txns within 1 ms: one group */
                char g[32];
                snprintf(g, sizeof(g), "0-1-%d", i + 1);
                p = mkpos(g, "b.1", (uint64_t)i);
                assert_int_equal(cdc_inflight_add(fl, 100 + i, &s[i]), 0);
                cdc_inflight_commit(fl, &p);
        }
        assert_true(s[0] == s[1] && s[1] == s[2]);
        /* group_max 3 reached: a new group */
        assert_int_equal(cdc_inflight_add(fl, 200, &s[3]), 0);
        assert_true(s[3] != s[2]);
        p = mkpos("0-1-4", "b.1", 4);
        cdc_inflight_commit(fl, &p);
        /* too old to share, ring of 2 is full */
        assert_int_equal(cdc_inflight_add(fl, 5000, &s[4]),
                         CDC_ERR__QUEUE_FULL);
        assert_true(cdc_inflight_full(fl));
        cdc_inflight_ack(fl, s[0]);
        cdc_inflight_ack(fl, s[1]);
        assert_int_equal(cdc_inflight_acked(fl, NULL), 0);
        cdc_inflight_ack(fl, s[2]);
        cdc_inflight_acked(fl, &out);
        assert_string_equal(out.gtid, "0-1-3"); /* the group's last */
        assert_int_equal(cdc_inflight_add(fl, 5000, &s[4]), 0);
        cdc_inflight_destroy(fl);
}

/* Snapshot rows carry no position until the snapshot is complete. */
static void test_inflight_snapshot_no_pos(void **state) {
        cdc_inflight_t *fl = cdc_inflight_new(4, 0, 100);
        cdc_pos_t old      = mkpos("0-1-5", "b.1", 50),
                  snap     = mkpos("0-1-9", "b.1", 90), out;
        uint64_t s1, s2;
        (void)state;

        cdc_inflight_commit(fl, &old);
        cdc_inflight_reset(fl); /* a snapshot starts */
        assert_int_equal(cdc_inflight_acked(fl, NULL), 0);
        cdc_inflight_add(fl, 0, &s1);
        cdc_inflight_add(fl, 0, &s2);
        cdc_inflight_ack(fl, s1);
        cdc_inflight_ack(fl, s2);
        assert_int_equal(cdc_inflight_acked(fl, NULL), 0); /* still open */
        cdc_inflight_commit(fl, &snap);
        cdc_inflight_acked(fl, &out);
        assert_string_equal(out.gtid, "0-1-9");
        cdc_inflight_destroy(fl);
}

/* Randomized: acks in random order; the checkpoint is always the newest
 * position whose transaction and all earlier ones are acknowledged. */
static void test_inflight_random(void **state) {
        enum {
                N = 2000
        };
        cdc_inflight_t *fl = cdc_inflight_new(N, 50, 5);
        static uint64_t seqs[N * 4];
        static int txn_of[N * 4];
        static int acked_msgs[N];
        static int msgs[N];
        int order[N * 4], nmsg = 0, i, t;
        (void)state;

        srand(7);
        for (t = 0; t < N; t++) {
                char g[32];
                cdc_pos_t p;
                int k   = rand() % 4; /* 0..3 messages */
                msgs[t] = k;
                for (i = 0; i < k; i++) {
                        assert_int_equal(
                                cdc_inflight_add(fl, t * 10, &seqs[nmsg]), 0);
                        txn_of[nmsg++] = t;
                }
                snprintf(g, sizeof(g), "0-1-%d", t + 1);
                p = mkpos(g, "b.1", (uint64_t)t);
                cdc_inflight_commit(fl, &p);
        }
        for (i = 0; i < nmsg; i++)
                order[i] = i;
        for (i = nmsg - 1; i > 0; i--) {
                int j = rand() % (i + 1), x = order[i];
                order[i] = order[j];
                order[j] = x;
        }
        for (i = 0; i < nmsg; i++) {
                cdc_pos_t out;
                int m = order[i], want = -1;
                char g[32];
                assert_int_equal(cdc_inflight_ack(fl, seqs[m]), 0);
                acked_msgs[txn_of[m]]++;
                /* expected: longest prefix of complete transactions */
                for (t = 0; t < N; t++) {
                        if (acked_msgs[t] != msgs[t])
                                break;
                        want = t;
                }
                if (cdc_inflight_acked(fl, &out) == 0) {
                        /* only possible while the prefix is still empty
                         * of completed groups */
                        continue;
                }
                /* grouping may hold a complete transaction back until
                 * its group completes: never ahead of want */
                snprintf(g, sizeof(g), "0-1-%d", want + 1);
                assert_true(out.pos <= (uint64_t)(want < 0 ? 0 : want));
                (void)g;
        }
        {
                cdc_pos_t out;
                cdc_inflight_acked(fl, &out);
                assert_string_equal(out.gtid, "0-1-2000");
        }
        cdc_inflight_destroy(fl);
}

/* ---- records and the file store ---- */

static void test_record_roundtrip(void **state) {
        cdc_pos_t p = mkpos("0-1-42,1-2-7", "mysql-bin.000003", 1234), q;
        char src[64], why[256];
        size_t len = 0;
        char *rec;
        const char *bad;
        (void)state;

        rec = cdc_ckpt_encode("followcdc", &p, 1000, 0, &len);
        assert_non_null(rec);
        assert_int_equal(cdc_ckpt_decode(rec, len, src, sizeof(src), &q, NULL,
                                         why, sizeof(why)),
                         0);
        assert_string_equal(src, "followcdc");
        assert_string_equal(q.gtid, p.gtid);
        assert_string_equal(q.file, p.file);
        assert_int_equal(q.pos, 1234);
        free(rec);

        assert_int_equal(
                cdc_ckpt_decode("{", 1, NULL, 0, &q, NULL, why, sizeof(why)),
                CDC_ERR__BAD_EVENT);
        assert_int_equal(cdc_ckpt_decode("{\"source\":\"x\"}", 14, NULL, 0, &q,
                                         NULL, why, sizeof(why)),
                         CDC_ERR__BAD_EVENT);
        bad = "{\"source\":\"x\",\"position\":\"gtid=;file=;pos=0\"}";
        assert_int_equal(cdc_ckpt_decode(bad, strlen(bad), NULL, 0, &q, NULL,
                                         why, sizeof(why)),
                         CDC_ERR__BAD_EVENT); /* empty position */
}

/* A snapshot's start mark survives the round trip; an unknown state is
 * refused rather than read as an ordinary position. */
static void test_record_pending(void **state) {
        cdc_pos_t p = mkpos("0-1-42", "mysql-bin.000003", 1234), q;
        char why[256];
        unsigned flags = 7;
        size_t len     = 0;
        const char *bad;
        char *rec;
        (void)state;

        rec = cdc_ckpt_encode("followcdc", &p, 1000, CDC_CKPT_SNAPSHOT_PENDING,
                              &len);
        assert_non_null(rec);
        assert_non_null(strstr(rec, "\"snapshot\":\"pending\""));
        assert_int_equal(cdc_ckpt_decode(rec, len, NULL, 0, &q, &flags, why,
                                         sizeof(why)),
                         0);
        assert_int_equal(flags, CDC_CKPT_SNAPSHOT_PENDING);
        free(rec);
        rec = cdc_ckpt_encode("followcdc", &p, 1000, 0, &len);
        assert_null(strstr(rec, "snapshot"));
        assert_int_equal(cdc_ckpt_decode(rec, len, NULL, 0, &q, &flags, why,
                                         sizeof(why)),
                         0);
        assert_int_equal(flags, 0);
        free(rec);
        bad = "{\"source\":\"x\",\"position\":\"gtid=0-1-1;file=b.1;pos=4\","
              "\"snapshot\":\"done?\"}";
        assert_int_equal(cdc_ckpt_decode(bad, strlen(bad), NULL, 0, &q, &flags,
                                         why, sizeof(why)),
                         CDC_ERR__BAD_EVENT);
}

/* File store: a pending mark is loaded with its flag, and the same
 * position saved by cdc_ckpt_update() afterwards is written again as an
 * ordinary record (the mark does not stick). */
static void test_file_pending(void **state) {
        char dir[]  = "/tmp/test_ckpt.XXXXXX", path[256], why[256];
        cdc_pos_t p = mkpos("0-1-5", "b.000001", 400), out;
        cdc_ckpt_t *ck;
        int wrote = 0;
        (void)state;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/ckpt.json", dir);
        ck = cdc_ckpt_new_file(path, "src", why, sizeof(why));
        assert_non_null(ck);
        assert_int_equal(cdc_ckpt_save_pending(ck, &p, 1000, why, sizeof(why)),
                         0);
        cdc_ckpt_destroy(ck);

        ck = cdc_ckpt_new_file(path, "src", why, sizeof(why));
        assert_int_equal(cdc_ckpt_load(ck, &out, 1000, why, sizeof(why)), 0);
        assert_int_equal(cdc_ckpt_loaded_flags(ck), CDC_CKPT_SNAPSHOT_PENDING);
        assert_string_equal(out.gtid, p.gtid);
        assert_int_equal(
                cdc_ckpt_update(ck, &p, 1, 1000, 0, &wrote, why, sizeof(why)),
                0);
        assert_int_equal(wrote, 1); /* same position, but now ordinary */
        cdc_ckpt_destroy(ck);

        ck = cdc_ckpt_new_file(path, "src", why, sizeof(why));
        assert_int_equal(cdc_ckpt_load(ck, &out, 1000, why, sizeof(why)), 0);
        assert_int_equal(cdc_ckpt_loaded_flags(ck), 0);
        assert_int_equal(
                cdc_ckpt_update(ck, &p, 1, 1000, 0, &wrote, why, sizeof(why)),
                0);
        assert_int_equal(wrote, 0); /* the store holds it */
        cdc_ckpt_destroy(ck);
        unlink(path);
        rmdir(dir);
}

static void test_file_store(void **state) {
        char dir[]   = "/tmp/test_ckpt.XXXXXX", path[256], why[256];
        cdc_pos_t p1 = mkpos("0-1-1", "b.000001", 4),
                  p2 = mkpos("0-1-99", "b.000002", 77), out;
        cdc_ckpt_t *ck;
        FILE *fp;
        (void)state;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/ckpt.json", dir);
        ck = cdc_ckpt_new_file(path, "src", why, sizeof(why));
        assert_non_null(ck);
        assert_int_equal(cdc_ckpt_load(ck, &out, 1000, why, sizeof(why)),
                         CDC_ERR__NOENT);
        assert_int_equal(cdc_ckpt_save(ck, &p1, why, sizeof(why)), 0);
        assert_int_equal(cdc_ckpt_save(ck, &p2, why, sizeof(why)), 0);
        assert_int_equal(cdc_ckpt_load(ck, &out, 1000, why, sizeof(why)), 0);
        assert_string_equal(out.gtid, "0-1-99");
        assert_string_equal(out.file, "b.000002");
        assert_int_equal(out.pos, 77);
        cdc_ckpt_destroy(ck);

        /* a damaged file is an error, never "no checkpoint" */
        fp = fopen(path, "w");
        assert_non_null(fp);
        fputs("{garbage", fp);
        fclose(fp);
        ck = cdc_ckpt_new_file(path, "src", why, sizeof(why));
        assert_int_equal(cdc_ckpt_load(ck, &out, 1000, why, sizeof(why)),
                         CDC_ERR__BAD_EVENT);
        cdc_ckpt_destroy(ck);
        unlink(path);
        rmdir(dir);
}

/* Only regular files named after the checkpoint may appear next to it. */
static int count_entries(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;
        assert_non_null(d);
        while ((de = readdir(d)) != NULL)
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

/* A symlink planted at the temp name an earlier version used (and any
 * name an attacker can guess) is never followed: the file it points at
 * keeps its content and the checkpoint stays a regular file. */
static void test_file_store_no_follow(void **state) {
        char dir[] = "/tmp/test_ckpt.XXXXXX", path[256], link[300], victim[300],
             why[256], buf[64];
        cdc_pos_t p1 = mkpos("0-1-5", "b.000001", 4), out;
        cdc_ckpt_t *ck;
        struct stat st;
        FILE *fp;
        size_t n;
        int i;
        (void)state;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/ckpt.json", dir);
        snprintf(link, sizeof(link), "%s.tmp", path);
        snprintf(victim, sizeof(victim), "%s/victim", dir);
        fp = fopen(victim, "w");
        assert_non_null(fp);
        fputs("precious\n", fp);
        fclose(fp);
        assert_int_equal(symlink(victim, link), 0);

        ck = cdc_ckpt_new_file(path, "src", why, sizeof(why));
        assert_non_null(ck);
        for (i = 0; i < 3; i++) {
                p1.pos = 4 + (uint64_t)i;
                assert_int_equal(cdc_ckpt_save(ck, &p1, why, sizeof(why)),
                                 CDC_ERR_NO_ERROR);
        }
        fp = fopen(victim, "r");
        assert_non_null(fp);
        n      = fread(buf, 1, sizeof(buf) - 1, fp);
        buf[n] = '\0';
        fclose(fp);
        assert_string_equal(buf, "precious\n");
        assert_int_equal(lstat(path, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(cdc_ckpt_load(ck, &out, 1000, why, sizeof(why)),
                         CDC_ERR_NO_ERROR);
        assert_int_equal(out.pos, 6);
        /* checkpoint, victim, the planted link: no temp files left */
        assert_int_equal(count_entries(dir), 3);
        cdc_ckpt_destroy(ck);
        unlink(link);
        unlink(victim);
        unlink(path);
        rmdir(dir);
}

/* A save that failed is tried again once the interval passed, although
 * the position did not move (it was marked saved before the save
 * succeeded, so it waited for the next acknowledgement). */
static void test_update_retries_failed_save(void **state) {
        char dir[]   = "/tmp/test_ckpt.XXXXXX", sub[256], path[300], why[256];
        cdc_pos_t p1 = mkpos("0-1-7", "b.000001", 40), out;
        const int64_t iv = 1000000;
        int64_t t        = 5000000;
        int wrote        = -1;
        cdc_ckpt_t *ck;
        (void)state;

        assert_non_null(mkdtemp(dir));
        snprintf(sub, sizeof(sub), "%s/gone", dir);
        snprintf(path, sizeof(path), "%s/ckpt.json", sub);
        ck = cdc_ckpt_new_file(path, "src", why, sizeof(why));
        assert_non_null(ck);
        assert_string_equal(cdc_ckpt_saved(ck), "");

        /* the directory is missing: the save fails */
        assert_int_equal(
                cdc_ckpt_update(ck, &p1, t, iv, 0, &wrote, why, sizeof(why)),
                CDC_ERR__IO);
        assert_non_null(strstr(why, "gone"));
        assert_int_equal(wrote, 0);
        assert_string_equal(cdc_ckpt_saved(ck), "");
        assert_int_equal(mkdir(sub, 0755), 0);
        /* within the interval: not tried yet */
        assert_int_equal(cdc_ckpt_update(ck, &p1, t + iv / 2, iv, 0, &wrote,
                                         why, sizeof(why)),
                         CDC_ERR__QUEUE_FULL);
        assert_int_equal(access(path, F_OK), -1);
        /* after it: the same position is saved */
        assert_int_equal(cdc_ckpt_update(ck, &p1, t + iv, iv, 0, &wrote, why,
                                         sizeof(why)),
                         CDC_ERR_NO_ERROR);
        assert_int_equal(cdc_ckpt_load(ck, &out, 1000, why, sizeof(why)),
                         CDC_ERR_NO_ERROR);
        assert_int_equal(out.pos, 40);
        assert_string_equal(cdc_ckpt_saved(ck),
                            "gtid=0-1-7;file=b.000001;pos=40");
        assert_int_equal(wrote, 1);
        /* saved: the same position again is nothing to do */
        t += iv + iv / 2;
        assert_int_equal(
                cdc_ckpt_update(ck, &p1, t, iv, 0, &wrote, why, sizeof(why)),
                CDC_ERR_NO_ERROR);
        assert_int_equal(wrote, 0);
        /* a new one waits for the interval unless forced */
        p1.pos = 41;
        assert_int_equal(
                cdc_ckpt_update(ck, &p1, t, iv, 0, &wrote, why, sizeof(why)),
                CDC_ERR__QUEUE_FULL);
        assert_int_equal(
                cdc_ckpt_update(ck, &p1, t, iv, 1, &wrote, why, sizeof(why)),
                CDC_ERR_NO_ERROR);
        cdc_ckpt_destroy(ck);
        unlink(path);
        rmdir(sub);
        rmdir(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_inflight_single_txn),
                cmocka_unit_test(test_inflight_huge_txn),
                cmocka_unit_test(test_inflight_out_of_order_acks),
                cmocka_unit_test(test_inflight_partial_progress),
                cmocka_unit_test(test_inflight_empty_commits),
                cmocka_unit_test(test_inflight_grouping_and_full),
                cmocka_unit_test(test_inflight_snapshot_no_pos),
                cmocka_unit_test(test_inflight_random),
                cmocka_unit_test(test_record_roundtrip),
                cmocka_unit_test(test_record_pending),
                cmocka_unit_test(test_file_pending),
                cmocka_unit_test(test_file_store),
                cmocka_unit_test(test_file_store_no_follow),
                cmocka_unit_test(test_update_retries_failed_save),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
