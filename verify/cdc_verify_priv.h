/**
 * @file cdc_verify_priv.h
 * @brief What the verifier's own files share: cdc_verify.c (lifecycle,
 *        the wait and the modes), cdc_verify_report.c (text and JSON
 *        reports), cdc_verify_redis.c (reading Redis),
 *        cdc_verify_expect.c (MySQL rows -> the expected state). Not for
 *        other modules.
 */
#ifndef CDC_VERIFY_PRIV_H
#define CDC_VERIFY_PRIV_H

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdc_apply.h"
#include "cdc_apply_int.h"
#include "cdc_backoff.h"
#include "cdc_log.h"
#include "cdc_rcluster.h"
#include "cdc_verify.h"
#include "cdc_vsettle.h"
#include "cdc_vsource.h"

#define VERIFY_IDLEN   24
/* an error of the engine itself inside a row callback (reason in
 * v_errstr); the MySQL module never returns this code on its own */
#define VERIFY_ECB     CDC_ERR__BAD_EVENT
/* commit time stand-in: the consumer scores a row without its time column
 * with the commit time, which only the binlog knows; such scores are not
 * compared */
#define VERIFY_NO_TIME INT64_MIN

/* One expected member, from one MySQL row. */
typedef struct ventry_s {
        char uid[VERIFY_IDLEN];
        char other[VERIFY_IDLEN];
        int set; /* CDC_VSET_FOLLOWING or CDC_VSET_FOLLOWERS */
        int present;
        double score;
        json_t *row;
} ventry_t;

/* Redis keys of a user, in command order. */
enum {
        VK_FOLLOWING,
        VK_FOLLOWERS,
        VK_FRIENDS,
        VK_VER,
        VK__CNT
};

typedef struct vuser_s {
        char uid[VERIFY_IDLEN];
        cdc_vsnap_t snap;
        ventry_t *ents; /* owned */
        size_t nents;
        cdc_vmember_t *e[CDC_VSET__CNT]; /* expected */
        size_t en[CDC_VSET__CNT];
        char *key[VK__CNT];
        size_t klen[VK__CNT];
        /* Redis */
        char *rblk[VK__CNT]; /* one block per reply */
        cdc_vmember_t *r[CDC_VSET__CNT];
        size_t rn[CDC_VSET__CNT];
        cdc_vver_t *ver;
        size_t nver;
        int reported; /* differences reported in the final pass */
} vuser_t;

/* One idempotency record. */
typedef struct videm_s {
        cdc_vsnap_t snap;
        char *rec, *tomb; /* keys */
        size_t rec_len, tomb_len;
        const char *rid; /* inside rec */
        size_t rid_len;
        char *status, *biz;
        size_t biz_len;
        int64_t expire_ms;
        json_t *row;
        /* Redis */
        char *rblk;
        char *tomb_ver;
        cdc_videm_t red;
} videm_t;

struct cdc_verify_s {
        const cdc_vconf_t *v_vc;
        FILE *v_out;
        cdc_vsource_t *v_src;
        cdc_apply_t *v_ap;
        cdc_rcluster_t *v_rc;
        cdc_vsettle_t *v_settle;
        char *v_prefix;
        size_t v_prefix_len;

        /* the chunk being read */
        ventry_t *v_ents;
        size_t v_nents, v_cap;
        videm_t **v_idem;
        size_t v_nidem, v_idem_cap;
        cdc_vsnap_t v_snap;
        char v_last_rid[1024];
        size_t v_last_rid_len;
        int v_has_last_rid;

        /* suspects: kept until the wait */
        vuser_t **v_sus;
        size_t v_nsus, v_sus_cap;
        videm_t **v_isus;
        size_t v_nisus, v_isus_cap;

        /* a Redis read in progress */
        vuser_t **v_rd_users;
        videm_t **v_rd_idem;
        size_t v_rd_n;
        int v_rd_fail;

        volatile sig_atomic_t *v_run;
        cdc_verify_sum_t *v_sum;
        int v_final; /* the pass that reports */
        int v_result;
        int64_t v_progress_at;

        cdc_metric_t *m_users, *m_edges, *m_div, *m_missing, *m_extra,
                *m_wrong_score, *m_wrong_count, *m_idem, *m_newer, *m_last_ts,
                *m_runs[3], *m_duration;
        /* --repair: users to re-read (ids, duplicates allowed), and
         * whether idempotency records differ */
        char (*v_rep)[VERIFY_IDLEN];
        size_t v_nrep, v_rep_cap;
        int v_rep_idem;
        char v_errstr[512];
};


/* The opaque of verify_report_cb(): what a difference is about. */
typedef struct vcb_s {
        cdc_verify_t *v;
        vuser_t *u;
        videm_t *r;
        int found;
} vcb_t;

/** Check these users (one consistent read per slice), suspects kept. */
int verify_list(cdc_verify_t *v, const uint64_t *ids, size_t n);

void videm_destroy(videm_t *r);
int verify_idem_list(cdc_verify_t *v, videm_t **recs, size_t n);

/** --full's last pass over Redis (cdc_verify_orphans.c). @returns 0, -1
 *  (could not finish; v_errstr) or -2 (configuration). */
int verify_orphans(cdc_verify_t *v);

/** --repair: note what a difference asks to re-read (cdc_verify_report.c). */
void verify_repair_note(cdc_verify_t *v, const cdc_vdiff_t *d);

/* shared between the verifier's files (internal linkage in spirit) */
int64_t verify_wall_ms(void);
int64_t verify_mono_ms(void);
char *verify_memdup(const char *s, size_t n);
char *verify_user_key(const cdc_verify_t *v, const char *uid,
                      const char *suffix, size_t *lenp);
void vuser_free_redis(vuser_t *u);
void vuser_destroy(vuser_t *u);
int verify_report_cb(void *opaque, const cdc_vdiff_t *d);
int verify_read_users(cdc_verify_t *v, vuser_t **users, size_t n);
int verify_read_idem(cdc_verify_t *v, videm_t **recs, size_t n);
int verify_map_row(cdc_verify_t *v, const char *table, json_t *row, int *np);
cdc_err_t verify_follow_row_cb(void *opaque, int side, json_t *row);
int verify_ent_cmp(const void *x, const void *y);
vuser_t *verify_user_new(cdc_verify_t *v, const char *uid, const ventry_t *ents,
                         size_t n);
void verify_user_view(vuser_t *u, cdc_vuser_t *exp, cdc_vuser_t *red);
int verify_push(void ***arr, size_t *n, size_t *cap, void *p);
#endif
