/**
 * @file cdc_lock.c
 * @brief Active/standby lock on the source server (see cdc_lock.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mysql.h>

#include "cdc_lock.h"

struct cdc_lock_s {
        cdc_mysql_target_t lk_tgt; /* where the lock connection goes */
        char *lk_name;
        int lk_timeout_ms;
        MYSQL *lk_my;
        int lk_held;
        char lk_errstr[512];
};

cdc_lock_t *cdc_lock_new(const cdc_lock_opts_t *opts) {
        cdc_lock_t *lk = calloc(1, sizeof(*lk));
        if (!lk)
                return NULL;
        lk->lk_timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 3000;
        lk->lk_name       = opts->name ? strdup(opts->name) : NULL;
        if (cdc_mysql_target_copy(&lk->lk_tgt, opts->target) || !lk->lk_name) {
                cdc_lock_destroy(lk);
                return NULL;
        }
        return lk;
}

static void lock_disconnect(cdc_lock_t *lk) {
        if (lk->lk_my) {
                mysql_close(lk->lk_my);
                lk->lk_my = NULL;
        }
        lk->lk_held = 0;
}

void cdc_lock_destroy(cdc_lock_t *lk) {
        if (!lk)
                return;
        cdc_lock_release(lk);
        cdc_mysql_target_clear(&lk->lk_tgt);
        free(lk->lk_name);
        free(lk);
}

static cdc_err_t lock_my_err(cdc_lock_t *lk, const char *what) {
        cdc_err_t err = cdc_mysql_err(lk->lk_my, what, lk->lk_errstr,
                                      sizeof(lk->lk_errstr));
        lock_disconnect(lk);
        return err;
}

static cdc_err_t lock_connect(cdc_lock_t *lk) {
        unsigned int t     = (unsigned int)((lk->lk_timeout_ms + 999) / 1000);
        cdc_mysql_opts_t o = { .connect_timeout_s = t,
                               .rw_timeout_s      = t,
                               .no_db             = 1 };
        if (lk->lk_my)
                return CDC_ERR_NO_ERROR;
        return cdc_mysql_connect(&lk->lk_tgt, &o, "connect (lock)", &lk->lk_my,
                                 NULL, lk->lk_errstr, sizeof(lk->lk_errstr));
}

/* Run a query returning one integer cell (NULL -> -1). */
static cdc_err_t lock_query_int(cdc_lock_t *lk, const char *sql,
                                long long *vp) {
        MYSQL_RES *res;
        MYSQL_ROW row;
        if (mysql_query(lk->lk_my, sql))
                return lock_my_err(lk, "lock query");
        res = mysql_store_result(lk->lk_my);
        if (!res)
                return lock_my_err(lk, "lock result");
        row = mysql_fetch_row(res);
        *vp = -1;
        if (row && row[0]) {
                char *end;
                *vp = strtoll(row[0], &end, 10);
        }
        mysql_free_result(res);
        return CDC_ERR_NO_ERROR;
}

/* Build "SELECT FN('<name>'...)" with the name escaped. */
static int lock_sql(cdc_lock_t *lk, char *buf, size_t size, const char *fmt) {
        char esc[512];
        if (strlen(lk->lk_name) * 2 + 1 > sizeof(esc))
                return -1;
        mysql_real_escape_string(lk->lk_my, esc, lk->lk_name,
                                 (unsigned long)strlen(lk->lk_name));
        if ((size_t)snprintf(buf, size, fmt, esc) >= size)
                return -1;
        return 0;
}

cdc_err_t cdc_lock_acquire(cdc_lock_t *lk, uint64_t *holderp) {
        char sql[1024];
        long long v = -1, holder = -1;
        cdc_err_t err;

        if (holderp)
                *holderp = 0;
        err = lock_connect(lk);
        if (err)
                return err;
        if (lk->lk_held)
                return CDC_ERR_NO_ERROR;
        if (lock_sql(lk, sql, sizeof(sql), "SELECT GET_LOCK('%s', 0)")) {
                snprintf(lk->lk_errstr, sizeof(lk->lk_errstr),
                         "lock name too long");
                return CDC_ERR__SERVER;
        }
        err = lock_query_int(lk, sql, &v);
        if (err)
                return err;
        if (v == 1) {
                lk->lk_held = 1;
                return CDC_ERR_NO_ERROR;
        }
        if (!lock_sql(lk, sql, sizeof(sql), "SELECT IS_USED_LOCK('%s')") &&
            !lock_query_int(lk, sql, &holder) && holderp && holder > 0)
                *holderp = (uint64_t)holder;
        snprintf(lk->lk_errstr, sizeof(lk->lk_errstr),
                 "lock %s is held by connection %lld", lk->lk_name, holder);
        return lk->lk_my ? CDC_ERR__STATE : CDC_ERR__TRANSPORT;
}

cdc_err_t cdc_lock_check(cdc_lock_t *lk) {
        char sql[1024];
        long long v = -1;
        cdc_err_t err;

        if (!lk->lk_my || !lk->lk_held) {
                snprintf(lk->lk_errstr, sizeof(lk->lk_errstr), "lock not held");
                return CDC_ERR__STATE;
        }
        if (lock_sql(lk, sql, sizeof(sql),
                     "SELECT IS_USED_LOCK('%s') = CONNECTION_ID()"))
                return CDC_ERR__SERVER;
        err = lock_query_int(lk, sql, &v);
        if (err)
                return err;
        if (v != 1) {
                snprintf(lk->lk_errstr, sizeof(lk->lk_errstr),
                         "lock %s is no longer ours", lk->lk_name);
                lock_disconnect(lk);
                return CDC_ERR__STATE;
        }
        return CDC_ERR_NO_ERROR;
}

void cdc_lock_release(cdc_lock_t *lk) {
        char sql[1024];
        long long v;
        if (lk->lk_my && lk->lk_held &&
            !lock_sql(lk, sql, sizeof(sql), "SELECT RELEASE_LOCK('%s')"))
                (void)lock_query_int(lk, sql, &v);
        lock_disconnect(lk);
}

int cdc_lock_held(const cdc_lock_t *lk) {
        return lk->lk_held;
}

const char *cdc_lock_errstr(const cdc_lock_t *lk) {
        return lk->lk_errstr;
}
