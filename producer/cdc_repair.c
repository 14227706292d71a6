/**
 * @file cdc_repair.c
 * @brief Watermark-based repairs and re-snapshots (see cdc_repair.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mysql.h>

#include "cdc_repair.h"
#include "cdc_backoff.h"
#include "cdc_log.h"
#include "cdc_snapshot.h"
#include "cdc_textval.h"
#include "cdc_time.h"

/* Most users of one request (a longer list: file several requests). */
#define RP_USERS_MAX 100000

/* A request the stream announced but whose row the repair connection does
 * not see yet is looked for again every RP_UNSEEN_POLL_US, for up to
 * RP_UNSEEN_WAIT_US (see rp_unseen_add()); at most RP_UNSEEN_MAX at once. */
#define RP_UNSEEN_POLL_US 100000
#define RP_UNSEEN_WAIT_US 10000000
#define RP_UNSEEN_MAX     4096

typedef enum {
        RP_KIND_TABLE = 0,
        RP_KIND_USERS,
} rp_kind_t;

typedef enum {
        CH_IDLE = 0, /* no chunk: the next one is read by the tick */
        CH_WAIT_L,   /* read; the stream has not reached L yet */
        CH_WINDOW,   /* between L and H: changed keys drop out */
        CH_EMIT,     /* at H, emitting (QUEUE_FULL may interrupt) */
        CH_ACK,      /* emitted: waiting for Kafka before saving progress */
} rp_chunk_state_t;

typedef struct rp_row_s {
        char *key; /* canonical message key */
        size_t klen;
        json_t *row;
        int dropped; /* changed between L and H */
} rp_row_t;

/* One request: a row of the signal table. */
typedef struct rp_req_s {
        uint64_t id;
        rp_kind_t kind;
        int ti; /* table index in pc->tables */
        uint64_t *users;
        size_t nusers;
        /* progress: table: the last key done (JSON array text, "" at the
         * start); users: the users done, then the user in progress */
        char *cursor;
        size_t udone;
        int side;          /* users: 0 first key column, 1 second */
        char after[32];    /* users: last value of the other column read */
        int first_chunk;   /* users: this chunk is the user's first */
        cdc_source_t ulow; /* users: L of the user's first chunk */
        uint64_t rows;     /* emitted */
        struct rp_req_s *next;
} rp_req_t;

/* A request the stream brought whose row is not visible yet. */
typedef struct rp_unseen_s {
        uint64_t id;
        int64_t until; /* given up after */
} rp_unseen_t;

struct cdc_repair_s {
        const cdc_pconf_t *rp_pc;
        cdc_mysql_target_t rp_tgt;
        cdc_emit_t *rp_em;
        cdc_inflight_t *rp_fl;
        cdc_tz_t *rp_tz;
        MYSQL *rp_my;
        char *rp_signal; /* the signal table */
        int rp_users_ti; /* table of users requests, -1: none */
        int64_t rp_chunk_rows;

        rp_req_t *rp_head, *rp_tail; /* FIFO, head in progress */

        /* the chunk of the head request */
        rp_chunk_state_t rp_st;
        uint64_t rp_chunk_no;
        char rp_wm[64]; /* "<request>:<chunk>" of its watermarks */
        uint64_t rp_wm_low, rp_wm_high; /* their row ids */
        rp_row_t *rp_rows;
        size_t rp_nrows, rp_emitted;
        int rp_exhausted; /* the read returned less than a chunk */
        char *rp_next_cursor;
        cdc_source_t rp_low;
        uint64_t rp_mark;
        int rp_purge_due; /* users: the user ends with this chunk */
        int rp_purged;
        int64_t rp_log_us;
        int rp_need_load;       /* the pending requests are not loaded yet */
        rp_unseen_t *rp_unseen; /* requests announced, rows not visible yet */
        size_t rp_unseen_n, rp_unseen_cap;
        int64_t rp_unseen_next; /* when to look for them again */
        int64_t rp_retry_us;    /* after a failure: not before this time */
        int rp_fail_ms;         /* the backoff, doubled per failure */

        struct {
                cdc_metric_t *requests, *done, *chunks, *rows, *dropped,
                        *purges, *active, *errors;
        } rp_mt;
        char rp_errstr[512];
};

/* ---- helpers ---- */

static cdc_err_t rp_my_err(cdc_repair_t *rp, const char *what) {
        cdc_err_t err = cdc_mysql_err(rp->rp_my, what, rp->rp_errstr,
                                      sizeof(rp->rp_errstr));
        if (rp->rp_my) {
                mysql_close(rp->rp_my);
                rp->rp_my = NULL;
        }
        /* a repair never stops the producer: every failure is retried */
        (void)err;
        return CDC_ERR__TRANSPORT;
}

static cdc_err_t rp_connect(cdc_repair_t *rp) {
        cdc_mysql_opts_t o = { .connect_timeout_s = 10,
                               .rw_timeout_s      = 60,
                               .charset           = "utf8mb4" };
        if (rp->rp_my)
                return CDC_ERR_NO_ERROR;
        if (cdc_mysql_connect(&rp->rp_tgt, &o, "connect (repair)", &rp->rp_my,
                              NULL, rp->rp_errstr, sizeof(rp->rp_errstr)))
                return CDC_ERR__TRANSPORT; /* retried, never fatal */
        if (mysql_query(rp->rp_my, "SET SESSION time_zone = '+00:00'"))
                return rp_my_err(rp, "SET time_zone");
        return CDC_ERR_NO_ERROR;
}

static cdc_err_t rp_exec(cdc_repair_t *rp, const char *sql) {
        MYSQL_RES *res;
        cdc_err_t err = rp_connect(rp);
        if (err)
                return err;
        if (mysql_query(rp->rp_my, sql))
                return rp_my_err(rp, "repair statement");
        res = mysql_store_result(rp->rp_my);
        if (res)
                mysql_free_result(res);
        return CDC_ERR_NO_ERROR;
}

/* `name` quoted, into \p buf. */
static void rp_ident(char *buf, size_t size, const char *name) {
        size_t o = 0;
        buf[o++] = '`';
        for (; *name && o + 3 < size; name++) {
                if (*name == '`')
                        buf[o++] = '`';
                buf[o++] = *name;
        }
        buf[o++] = '`';
        buf[o]   = '\0';
}

static void rp_req_free(rp_req_t *r) {
        if (!r)
                return;
        free(r->users);
        free(r->cursor);
        free(r);
}

static void rp_chunk_clear(cdc_repair_t *rp) {
        size_t i;
        for (i = 0; i < rp->rp_nrows; i++) {
                free(rp->rp_rows[i].key);
                json_decref(rp->rp_rows[i].row);
        }
        rp->rp_nrows   = 0;
        rp->rp_emitted = 0;
        free(rp->rp_next_cursor);
        rp->rp_next_cursor = NULL;
        rp->rp_st          = CH_IDLE;
        rp->rp_wm_low = rp->rp_wm_high = 0;
        rp->rp_purge_due = rp->rp_purged = 0;
}

static int rp_table_idx(const cdc_repair_t *rp, const char *name) {
        size_t i;
        for (i = 0; i < rp->rp_pc->table_cnt; i++)
                if (!strcmp(rp->rp_pc->tables[i].name, name))
                        return (int)i;
        return -1;
}

/* ---- setup ---- */

cdc_repair_t *cdc_repair_new(const cdc_pconf_t *pc,
                             const cdc_mysql_target_t *tgt, cdc_emit_t *em,
                             cdc_inflight_t *fl, cdc_metrics_t *m, char *errstr,
                             size_t errstr_size) {
        cdc_repair_t *rp = calloc(1, sizeof(*rp));

        if (!rp || cdc_mysql_target_copy(&rp->rp_tgt, tgt)) {
                snprintf(errstr, errstr_size, "out of memory");
                free(rp);
                return NULL;
        }
        rp->rp_pc         = pc;
        rp->rp_em         = em;
        rp->rp_fl         = fl;
        rp->rp_chunk_rows = pc->repair_chunk_rows;
        rp->rp_signal     = strdup(pc->repair_signal_table);
        rp->rp_users_ti   = rp_table_idx(rp, pc->repair_users_table);
        if (rp->rp_users_ti >= 0 && pc->tables[rp->rp_users_ti].col_cnt != 2) {
                snprintf(errstr, errstr_size,
                         "repair.users.table %s: its key must be the two "
                         "user columns (follower, followee)",
                         pc->repair_users_table);
                cdc_repair_destroy(rp);
                return NULL;
        }
        rp->rp_tz   = cdc_tz_new(pc->source_tz ? pc->source_tz : "UTC", errstr,
                               errstr_size);
        rp->rp_rows = calloc((size_t)rp->rp_chunk_rows, sizeof(*rp->rp_rows));
        if (!rp->rp_signal || !rp->rp_tz || !rp->rp_rows) {
                if (!rp->rp_tz)
                        snprintf(errstr, errstr_size, "out of memory");
                cdc_repair_destroy(rp);
                return NULL;
        }
        rp->rp_mt.requests = cdc_metrics_counter(
                m, "followcdc_producer_repair_requests_total",
                "Repair requests taken from the signal table", NULL);
        rp->rp_mt.done = cdc_metrics_counter(
                m, "followcdc_producer_repair_requests_done_total",
                "Repair requests completed", NULL);
        rp->rp_mt.chunks = cdc_metrics_counter(
                m, "followcdc_producer_repair_chunks_total",
                "Repair chunks read between watermarks and emitted", NULL);
        rp->rp_mt.rows = cdc_metrics_counter(
                m, "followcdc_producer_repair_rows_total",
                "Rows re-read by repairs and emitted (op r)", NULL);
        rp->rp_mt.dropped = cdc_metrics_counter(
                m, "followcdc_producer_repair_rows_dropped_total",
                "Rows of a repair chunk dropped because the stream changed "
                "them between the watermarks",
                NULL);
        rp->rp_mt.purges = cdc_metrics_counter(
                m, "followcdc_producer_repair_purges_total",
                "Purge events (op p) of users repairs", NULL);
        rp->rp_mt.errors = cdc_metrics_counter(
                m, "followcdc_producer_repair_errors_total",
                "Repair steps that failed (retried with backoff; the "
                "stream goes on)",
                NULL);
        rp->rp_mt.active = cdc_metrics_gauge(
                m, "followcdc_producer_repair_pending",
                "Repair requests pending or in progress", NULL);
        return rp;
}

void cdc_repair_destroy(cdc_repair_t *rp) {
        if (!rp)
                return;
        rp_chunk_clear(rp);
        while (rp->rp_head) {
                rp_req_t *n = rp->rp_head->next;
                rp_req_free(rp->rp_head);
                rp->rp_head = n;
        }
        free(rp->rp_rows);
        free(rp->rp_unseen);
        free(rp->rp_signal);
        if (rp->rp_tz)
                cdc_tz_destroy(rp->rp_tz);
        if (rp->rp_my)
                mysql_close(rp->rp_my);
        cdc_mysql_target_clear(&rp->rp_tgt);
        free(rp);
}

int cdc_repair_busy(const cdc_repair_t *rp) {
        return rp->rp_head != NULL;
}

const char *cdc_repair_errstr(const cdc_repair_t *rp) {
        return rp->rp_errstr;
}

/* ---- requests ---- */

static void rp_gauge(cdc_repair_t *rp) {
        int64_t n = 0;
        rp_req_t *r;
        for (r = rp->rp_head; r; r = r->next)
                n++;
        cdc_metric_set(rp->rp_mt.active, n);
}

/* Mark request \p id done or failed (with why) in the signal table. */
static cdc_err_t rp_set_state(cdc_repair_t *rp, uint64_t id, const char *state,
                              const char *progress) {
        char sql[1024], tb[200], esc[520];
        /* progress: at most 255 bytes (the column) */
        cdc_err_t err = rp_connect(rp);

        if (err)
                return err;
        mysql_real_escape_string(rp->rp_my, esc, progress,
                                 (unsigned long)strnlen(progress, 255));
        rp_ident(tb, sizeof(tb), rp->rp_signal);
        snprintf(sql, sizeof(sql),
                 "UPDATE %s SET state = '%s', progress = '%s' WHERE id = "
                 "%" PRIu64,
                 tb, state, esc, id);
        return rp_exec(rp, sql);
}

/* A request from its row values; NULL if it is not one (logged). */
static rp_req_t *rp_req_parse(cdc_repair_t *rp, uint64_t id, const char *kind,
                              const char *payload, const char *state,
                              const char *progress) {
        rp_req_t *r     = calloc(1, sizeof(*r));
        const char *why = NULL;

        if (!r)
                return NULL;
        r->id = id;
        if (!strcmp(kind, "table")) {
                r->kind = RP_KIND_TABLE;
                r->ti   = rp_table_idx(rp, payload);
                if (r->ti < 0)
                        why = "not a captured table";
                r->cursor = strdup(!strcmp(state, "running") ? progress : "");
        } else if (!strcmp(kind, "users")) {
                const char *p = payload;
                size_t cap    = 16;
                r->kind       = RP_KIND_USERS;
                r->ti         = rp->rp_users_ti;
                r->cursor     = strdup("");
                if (r->ti < 0)
                        why = "repair.users.table is not a captured table";
                r->users = malloc(cap * sizeof(*r->users));
                while (!why && r->users && *p) {
                        char *e;
                        unsigned long long v;
                        while (*p == ' ' || *p == ',')
                                p++;
                        if (!*p)
                                break;
                        errno = 0;
                        v     = strtoull(p, &e, 10);
                        if (e == p || errno || (*e && *e != ',' && *e != ' '))
                                why = "users: expected comma separated ids";
                        else if (r->nusers == RP_USERS_MAX)
                                why = "users: too many ids in one request";
                        if (why)
                                break;
                        if (r->nusers == cap) {
                                uint64_t *n = realloc(
                                        r->users, cap * 2 * sizeof(*r->users));
                                if (!n)
                                        break;
                                r->users = n;
                                cap *= 2;
                        }
                        r->users[r->nusers++] = v;
                        p                     = e;
                }
                if (!why && !r->nusers)
                        why = "users: no ids";
                if (!strcmp(state, "running")) {
                        r->udone = strtoull(progress, NULL, 10);
                        if (r->udone > r->nusers)
                                r->udone = r->nusers;
                }
        } else {
                why = "unknown kind (expected table or users)";
        }
        if (!why && (!r->cursor || (r->kind == RP_KIND_USERS && !r->users)))
                why = "out of memory";
        if (why) {
                cdc_log(LOG_ERR, "REPAIR",
                        "request %" PRIu64 " (%s %.100s): %s", id, kind,
                        payload, why);
                (void)rp_set_state(rp, id, "failed", why);
                rp_req_free(r);
                return NULL;
        }
        return r;
}

static int rp_known(const cdc_repair_t *rp, uint64_t id) {
        const rp_req_t *r;
        for (r = rp->rp_head; r; r = r->next)
                if (r->id == id)
                        return 1;
        return 0;
}

static void rp_enqueue(cdc_repair_t *rp, rp_req_t *r) {
        if (rp->rp_tail)
                rp->rp_tail->next = r;
        else
                rp->rp_head = r;
        rp->rp_tail = r;
        cdc_metric_add(rp->rp_mt.requests, 1);
        cdc_log(LOG_NOTICE, "REPAIR",
                "request %" PRIu64 ": re-read %s %s%s (%zu users)", r->id,
                r->kind == RP_KIND_TABLE ? "table" : "users of",
                rp->rp_pc->tables[r->ti].name,
                r->udone || (r->cursor && *r->cursor) ? ", resumed" : "",
                r->nusers);
        rp_gauge(rp);
}

/* Load the requests in state new or running, in id order: every one (\p
 * only 0), or the one of id \p only; *\p foundp (if not NULL) tells
 * whether a row of that id exists at all, whatever its state. */
static cdc_err_t rp_load(cdc_repair_t *rp, uint64_t only, int *foundp) {
        char sql[512], tb[200];
        MYSQL_RES *res;
        MYSQL_ROW row;
        cdc_err_t err = rp_connect(rp);

        if (foundp)
                *foundp = 0;
        if (err)
                return err;
        rp_ident(tb, sizeof(tb), rp->rp_signal);
        if (only)
                snprintf(sql, sizeof(sql),
                         "SELECT id, kind, payload, state, progress FROM %s "
                         "WHERE id = %" PRIu64,
                         tb, only);
        else
                snprintf(sql, sizeof(sql),
                         "SELECT id, kind, payload, state, progress FROM %s "
                         "WHERE kind IN ('table', 'users') AND state IN "
                         "('new', 'running') ORDER BY id",
                         tb);
        if (mysql_query(rp->rp_my, sql))
                return rp_my_err(rp, "load repair requests");
        res = mysql_store_result(rp->rp_my);
        if (!res)
                return rp_my_err(rp, "load repair requests");
        while ((row = mysql_fetch_row(res))) {
                uint64_t id;
                rp_req_t *r;
                if (foundp)
                        *foundp = 1;
                if (!row[0] || !row[1] || !row[2] || !row[3] || !row[4] ||
                    (strcmp(row[3], "new") && strcmp(row[3], "running")))
                        continue;
                id = strtoull(row[0], NULL, 10);
                if (rp_known(rp, id))
                        continue;
                r = rp_req_parse(rp, id, row[1], row[2], row[3], row[4]);
                if (r)
                        rp_enqueue(rp, r);
        }
        mysql_free_result(res);
        return CDC_ERR_NO_ERROR;
}

/* The stream brought request \p id but its row could not be read: keep
 * looking for it. MariaDB writes a transaction to the binlog before its
 * InnoDB commit becomes visible (prepare, binlog write, then commit), and
 * the dump thread may send the event in between, so a SELECT made at once
 * can miss the row (an XA transaction's rows are even in the binlog from
 * XA PREPARE on, long before XA COMMIT). A row still not there after
 * RP_UNSEEN_WAIT_US was rolled back or deleted: it is given up, logged. */
static void rp_unseen_add(cdc_repair_t *rp, uint64_t id) {
        int64_t now = cdc_now_us();
        size_t i;

        for (i = 0; i < rp->rp_unseen_n; i++)
                if (rp->rp_unseen[i].id == id)
                        return;
        if (rp->rp_unseen_n == rp->rp_unseen_cap) {
                size_t cap = rp->rp_unseen_cap ? rp->rp_unseen_cap * 2 : 8;
                rp_unseen_t *n;
                if (cap > RP_UNSEEN_MAX ||
                    !(n = realloc(rp->rp_unseen, cap * sizeof(*n)))) {
                        /* a burst of requests: the next tick loads every
                         * visible one, a restart the rest */
                        cdc_log(LOG_WARNING, "REPAIR",
                                "request %" PRIu64 ": not visible yet, and "
                                "%zu others wait: loading all requests at "
                                "the next step instead",
                                id, rp->rp_unseen_n);
                        rp->rp_need_load = 1;
                        return;
                }
                rp->rp_unseen     = n;
                rp->rp_unseen_cap = cap;
        }
        rp->rp_unseen[rp->rp_unseen_n].id    = id;
        rp->rp_unseen[rp->rp_unseen_n].until = now + RP_UNSEEN_WAIT_US;
        if (!rp->rp_unseen_n++)
                rp->rp_unseen_next = now + RP_UNSEEN_POLL_US;
        cdc_dbg(SNAPSHOT, "REPAIR",
                "request %" PRIu64 ": its row is not visible yet", id);
}

/* Look for the requests of rp_unseen again. */
static cdc_err_t rp_unseen_check(cdc_repair_t *rp) {
        int64_t now = cdc_now_us();
        size_t i    = 0;

        rp->rp_unseen_next = now + RP_UNSEEN_POLL_US;
        while (i < rp->rp_unseen_n) {
                rp_unseen_t *u = &rp->rp_unseen[i];
                int found;
                cdc_err_t err = rp_load(rp, u->id, &found);
                if (err)
                        return err;
                if (!found && now < u->until) {
                        i++;
                        continue;
                }
                if (!found)
                        cdc_log(LOG_WARNING, "REPAIR",
                                "request %" PRIu64 ": the binlog has it but "
                                "its row is not in %s after %d s (rolled "
                                "back or deleted): not run",
                                u->id, rp->rp_signal,
                                RP_UNSEEN_WAIT_US / 1000000);
                *u = rp->rp_unseen[--rp->rp_unseen_n];
        }
        return CDC_ERR_NO_ERROR;
}

/* The head's user (if any) starts again: its first L is lost. */
static void rp_user_restart(cdc_repair_t *rp) {
        if (rp->rp_head && rp->rp_head->kind == RP_KIND_USERS) {
                rp->rp_head->side     = 0;
                rp->rp_head->after[0] = '\0';
        }
}

cdc_err_t cdc_repair_start(cdc_repair_t *rp) {
        rp_chunk_clear(rp);
        rp_user_restart(rp);
        rp->rp_need_load = 1; /* by the next tick: a failure there does
                               * not hold the stream */
        rp->rp_retry_us = 0;
        return CDC_ERR_NO_ERROR;
}

/* ---- chunks ---- */

/* SQL literal of a JSON key value: a number as is, a string quoted. */
static int rp_literal(cdc_repair_t *rp, const json_t *v, char *buf,
                      size_t size) {
        if (json_is_integer(v)) {
                snprintf(buf, size, "%" JSON_INTEGER_FORMAT,
                         json_integer_value(v));
                return 0;
        }
        if (json_is_string(v) && json_string_length(v) * 2 + 3 < size) {
                unsigned long n;
                buf[0] = '\'';
                n      = mysql_real_escape_string(
                             rp->rp_my, buf + 1, json_string_value(v),
                             (unsigned long)json_string_length(v));
                buf[n + 1] = '\'';
                buf[n + 2] = '\0';
                return 0;
        }
        return -1;
}

/* The SELECT of the head request's next chunk into \p sql. */
static int rp_chunk_sql(cdc_repair_t *rp, rp_req_t *r, char *sql, size_t size) {
        const cdc_ptable_t *t = &rp->rp_pc->tables[r->ti];
        char tb[200], db[200], c[CDC_PCONF_KEYCOLS_MAX][140], lit[1100];
        char where[4096] = "", order[1024] = "";
        size_t i, o                        = 0;

        rp_ident(db, sizeof(db), rp->rp_pc->mysql_db);
        rp_ident(tb, sizeof(tb), t->name);
        for (i = 0; i < t->col_cnt; i++)
                rp_ident(c[i], sizeof(c[i]), t->cols[i]);
        if (r->kind == RP_KIND_TABLE) {
                for (i = 0; i < t->col_cnt; i++)
                        o += (size_t)snprintf(order + o, sizeof(order) - o,
                                              "%s%s", i ? "," : "", c[i]);
                if (*r->cursor) {
                        json_t *k = NULL;
                        char es[128];
                        size_t w = 0;
                        if (cdc_key_parse(r->cursor, strlen(r->cursor), &k, es,
                                          sizeof(es)) ||
                            json_array_size(k) != t->col_cnt) {
                                json_decref(k);
                                return -1;
                        }
                        w += (size_t)snprintf(where, sizeof(where),
                                              " WHERE (%s) > (", order);
                        for (i = 0; i < t->col_cnt; i++) {
                                if (rp_literal(rp, json_array_get(k, i), lit,
                                               sizeof(lit))) {
                                        json_decref(k);
                                        return -1;
                                }
                                w += (size_t)snprintf(where + w,
                                                      sizeof(where) - w, "%s%s",
                                                      i ? "," : "", lit);
                        }
                        snprintf(where + w, sizeof(where) - w, ")");
                        json_decref(k);
                }
        } else {
                uint64_t u = r->users[r->udone];
                int me = r->side, other = 1 - r->side;
                o = (size_t)snprintf(where, sizeof(where),
                                     " WHERE %s = %" PRIu64, c[me], u);
                if (r->after[0])
                        snprintf(where + o, sizeof(where) - o, " AND %s > %s",
                                 c[other], r->after);
                snprintf(order, sizeof(order), "%s", c[other]);
        }
        return snprintf(sql, size,
                        "SELECT * FROM %s.%s%s ORDER BY %s LIMIT %" PRId64, db,
                        tb, where, order, rp->rp_chunk_rows) >= (int)size
                       ? -1
                       : 0;
}

static cdc_err_t rp_watermark(cdc_repair_t *rp, const char *kind,
                              uint64_t *idp) {
        char sql[600], tb[200];
        cdc_err_t err;

        rp_ident(tb, sizeof(tb), rp->rp_signal);
        snprintf(sql, sizeof(sql),
                 "INSERT INTO %s (kind, payload, state) VALUES ('%s', '%s', "
                 "'done')",
                 tb, kind, rp->rp_wm);
        err = rp_exec(rp, sql);
        if (!err)
                *idp = (uint64_t)mysql_insert_id(rp->rp_my);
        return err;
}

/* Write L, read the chunk, write H. */
static cdc_err_t rp_chunk_read(cdc_repair_t *rp) {
        rp_req_t *r           = rp->rp_head;
        const cdc_ptable_t *t = &rp->rp_pc->tables[r->ti];
        char sql[8192];
        MYSQL_RES *res;
        MYSQL_ROW row;
        MYSQL_FIELD *fields;
        unsigned nf, k;
        cdc_err_t err;

        if ((err = rp_connect(rp)))
                return err;
        if (rp_chunk_sql(rp, r, sql, sizeof(sql))) {
                snprintf(rp->rp_errstr, sizeof(rp->rp_errstr),
                         "request %" PRIu64 ": can't build the chunk query",
                         r->id);
                return CDC_ERR__TRANSPORT;
        }
        rp->rp_chunk_no++;
        snprintf(rp->rp_wm, sizeof(rp->rp_wm), "%" PRIu64 ":%" PRIu64, r->id,
                 rp->rp_chunk_no);
        if ((err = rp_watermark(rp, "low", &rp->rp_wm_low)))
                return err;
        if (mysql_query(rp->rp_my, sql))
                return rp_my_err(rp, "repair chunk");
        res = mysql_store_result(rp->rp_my);
        if (!res)
                return rp_my_err(rp, "repair chunk");
        nf     = mysql_num_fields(res);
        fields = mysql_fetch_fields(res);
        while ((row = mysql_fetch_row(res))) {
                unsigned long *lens = mysql_fetch_lengths(res);
                json_t *obj         = json_object();
                rp_row_t *rr        = &rp->rp_rows[rp->rp_nrows];
                char es[128];

                if (!obj)
                        goto nomem;
                for (k = 0; k < nf; k++) {
                        json_t *v = cdc_snapshot_value(&fields[k], row[k],
                                                       row[k] ? lens[k] : 0,
                                                       rp->rp_tz);
                        if (!v || json_object_set_new_nocheck(
                                          obj, fields[k].name, v)) {
                                json_decref(obj);
                                goto nomem;
                        }
                }
                rr->key = cdc_key_from_row(obj, t->cols, t->col_cnt, &rr->klen,
                                           es, sizeof(es));
                if (!rr->key) {
                        json_decref(obj);
                        mysql_free_result(res);
                        snprintf(rp->rp_errstr, sizeof(rp->rp_errstr),
                                 "table %s: key: %s", t->name, es);
                        return CDC_ERR__TRANSPORT;
                }
                rr->row     = obj;
                rr->dropped = 0;
                rp->rp_nrows++;
        }
        mysql_free_result(res);
        rp->rp_exhausted = rp->rp_nrows < (size_t)rp->rp_chunk_rows;
        if (rp->rp_nrows) {
                /* where the next chunk starts */
                const rp_row_t *last = &rp->rp_rows[rp->rp_nrows - 1];
                if (r->kind == RP_KIND_TABLE) {
                        rp->rp_next_cursor = strdup(last->key);
                } else {
                        const json_t *v = json_object_get(last->row,
                                                          t->cols[1 - r->side]);
                        char buf[32]    = "";
                        if (json_is_integer(v))
                                snprintf(buf, sizeof(buf),
                                         "%" JSON_INTEGER_FORMAT,
                                         json_integer_value(v));
                        else if (json_is_string(v))
                                snprintf(buf, sizeof(buf), "%s",
                                         json_string_value(v));
                        rp->rp_next_cursor = strdup(buf);
                }
                if (!rp->rp_next_cursor)
                        return CDC_ERR__NOMEM;
        }
        if ((err = rp_watermark(rp, "high", &rp->rp_wm_high)))
                return err;
        rp->rp_st = CH_WAIT_L;
        return CDC_ERR_NO_ERROR;
nomem:
        mysql_free_result(res);
        snprintf(rp->rp_errstr, sizeof(rp->rp_errstr), "out of memory");
        return CDC_ERR__NOMEM;
}

/* Emit what is left of the chunk at H (\p hs), then a user's purge. */
static cdc_err_t rp_chunk_emit(cdc_repair_t *rp, const cdc_source_t *hs) {
        rp_req_t *r           = rp->rp_head;
        const cdc_ptable_t *t = &rp->rp_pc->tables[r->ti];
        cdc_source_t src      = *hs;
        cdc_err_t err;

        snprintf(src.table, sizeof(src.table), "%s", t->name);
        src.snapshot = 1;
        src.row      = 0;
        while (rp->rp_emitted < rp->rp_nrows) {
                rp_row_t *rr = &rp->rp_rows[rp->rp_emitted];
                if (!rr->dropped) {
                        err = cdc_emit_snapshot_row(rp->rp_em, t->name, rr->row,
                                                    &src);
                        if (err)
                                return err;
                        r->rows++;
                        cdc_metric_add(rp->rp_mt.rows, 1);
                } else {
                        cdc_metric_add(rp->rp_mt.dropped, 1);
                }
                rp->rp_emitted++;
        }
        if (rp->rp_purge_due && !rp->rp_purged) {
                char user[24];
                snprintf(user, sizeof(user), "%" PRIu64, r->users[r->udone]);
                err = cdc_emit_purge(rp->rp_em, t->name, user, &r->ulow);
                if (err)
                        return err;
                rp->rp_purged = 1;
                cdc_metric_add(rp->rp_mt.purges, 1);
        }
        cdc_metric_add(rp->rp_mt.chunks, 1);
        rp->rp_mark = cdc_inflight_mark(rp->rp_fl);
        rp->rp_st   = CH_ACK;
        return CDC_ERR_NO_ERROR;
}

/* ---- the stream ---- */

static uint64_t rp_int(const json_t *row, const char *col) {
        const json_t *v = json_object_get(row, col);
        if (json_is_integer(v))
                return (uint64_t)json_integer_value(v);
        if (json_is_string(v))
                return strtoull(json_string_value(v), NULL, 10);
        return 0;
}

static const char *rp_str(const json_t *row, const char *col) {
        const json_t *v = json_object_get(row, col);
        return json_is_string(v) ? json_string_value(v) : "";
}

/* Drop the keys of a captured row change from the chunk. */
static void rp_window_drop(cdc_repair_t *rp, const cdc_binlog_item_t *it) {
        const cdc_ptable_t *t    = &rp->rp_pc->tables[rp->rp_head->ti];
        const json_t *img[2]     = { it->before, it->after };
        const cdc_row_t *flat[2] = { it->before_row, it->after_row };
        int k;

        if (strcmp(it->table, t->name))
                return;
        for (k = 0; k < 2; k++) {
                char es[64], *key;
                size_t klen, i;
                if (flat[k])
                        key = cdc_key_from_flat(flat[k], t->cols, t->col_cnt,
                                                &klen, es, sizeof(es));
                else if (img[k])
                        key = cdc_key_from_row(img[k], t->cols, t->col_cnt,
                                               &klen, es, sizeof(es));
                else
                        continue;
                if (!key)
                        continue;
                for (i = 0; i < rp->rp_nrows; i++)
                        if (rp->rp_rows[i].klen == klen &&
                            !memcmp(rp->rp_rows[i].key, key, klen))
                                rp->rp_rows[i].dropped = 1;
                free(key);
        }
}

/* A row inserted into the signal table: a watermark or a request. */
static cdc_err_t rp_signal_row(cdc_repair_t *rp, const cdc_binlog_item_t *it,
                               const json_t *row) {
        uint64_t id = rp_int(row, "id");

        if (!strcmp(rp_str(row, "kind"), "low")) {
                if (rp->rp_st == CH_WAIT_L && id == rp->rp_wm_low) {
                        rp->rp_low = it->source;
                        rp->rp_st  = CH_WINDOW;
                        if (rp->rp_head->kind == RP_KIND_USERS &&
                            rp->rp_head->side == 0 && !rp->rp_head->after[0])
                                rp->rp_head->ulow = it->source;
                }
                return CDC_ERR_NO_ERROR;
        }
        if (!strcmp(rp_str(row, "kind"), "high")) {
                if (rp->rp_st == CH_WINDOW && id == rp->rp_wm_high) {
                        rp_req_t *r = rp->rp_head;
                        /* the user's last chunk: side 1 and exhausted */
                        rp->rp_purge_due = r->kind == RP_KIND_USERS &&
                                           r->side == 1 && rp->rp_exhausted;
                        rp->rp_st = CH_EMIT;
                        return rp_chunk_emit(rp, &it->source);
                }
                return CDC_ERR_NO_ERROR;
        }
        /* a new request: filed now (or replayed: its row says) */
        if (id && !rp_known(rp, id)) {
                int found;
                cdc_err_t err = rp_load(rp, id, &found);
                if (err)
                        cdc_log(LOG_WARNING, "REPAIR",
                                "request %" PRIu64 " not loaded yet: %s", id,
                                rp->rp_errstr);
                if (err || !found)
                        rp_unseen_add(rp, id); /* looked for again */
        }
        return CDC_ERR_NO_ERROR;
}

cdc_err_t cdc_repair_row(cdc_repair_t *rp, const cdc_binlog_item_t *it) {
        json_t *own = NULL;
        cdc_err_t err;

        if (rp->rp_st == CH_EMIT)
                return rp_chunk_emit(rp, &it->source); /* the same H again */
        if (strcmp(it->table, rp->rp_signal)) {
                if (rp->rp_st == CH_WINDOW)
                        rp_window_drop(rp, it);
                return CDC_ERR_NO_ERROR;
        }
        if (it->op != CDC_OP_CREATE)
                return CDC_ERR_NO_ERROR; /* our own updates and deletes */
        if (it->after_row) {
                own = cdc_row_json(it->after_row);
                if (!own) {
                        snprintf(rp->rp_errstr, sizeof(rp->rp_errstr),
                                 "out of memory");
                        return CDC_ERR__NOMEM;
                }
        }
        if (!own && !it->after)
                return CDC_ERR_NO_ERROR;
        err = rp_signal_row(rp, it, own ? own : it->after);
        json_decref(own);
        return err;
}

/* The chunk is acknowledged: move the request on, save its progress. */
static cdc_err_t rp_chunk_done(cdc_repair_t *rp) {
        rp_req_t *r = rp->rp_head;
        char progress[256], sql[512], tb[200];
        int finished = 0;
        cdc_err_t err;

        if (r->kind == RP_KIND_TABLE) {
                if (rp->rp_next_cursor) {
                        free(r->cursor);
                        r->cursor          = rp->rp_next_cursor;
                        rp->rp_next_cursor = NULL;
                }
                finished = rp->rp_exhausted;
                snprintf(progress, sizeof(progress), "%s", r->cursor);
                if (strlen(r->cursor) >= sizeof(progress))
                        progress[0] = '\0'; /* too long to keep: restart */
        } else {
                if (!rp->rp_exhausted && rp->rp_next_cursor) {
                        snprintf(r->after, sizeof(r->after), "%s",
                                 rp->rp_next_cursor);
                } else if (r->side == 0) {
                        r->side     = 1;
                        r->after[0] = '\0';
                } else {
                        r->side     = 0;
                        r->after[0] = '\0';
                        r->udone++;
                }
                finished = r->udone >= r->nusers;
                snprintf(progress, sizeof(progress), "%zu", r->udone);
        }
        rp_ident(tb, sizeof(tb), rp->rp_signal);
        snprintf(sql, sizeof(sql),
                 "DELETE FROM %s WHERE id IN (%" PRIu64 ", %" PRIu64 ")", tb,
                 rp->rp_wm_low, rp->rp_wm_high);
        if ((err = rp_exec(rp, sql)) ||
            (err = rp_set_state(rp, r->id, finished ? "done" : "running",
                                progress)))
                return err;
        rp_chunk_clear(rp);
        if (finished) {
                cdc_log(LOG_NOTICE, "REPAIR",
                        "request %" PRIu64 " done: %" PRIu64
                        " rows re-read from %s",
                        r->id, r->rows, rp->rp_pc->tables[r->ti].name);
                cdc_metric_add(rp->rp_mt.done, 1);
                rp->rp_head = r->next;
                if (!rp->rp_head)
                        rp->rp_tail = NULL;
                rp_req_free(r);
                rp_gauge(rp);
        } else if (cdc_now_us() - rp->rp_log_us > 5000000) {
                rp->rp_log_us = cdc_now_us();
                if (r->kind == RP_KIND_TABLE)
                        cdc_log(LOG_NOTICE, "REPAIR",
                                "request %" PRIu64 ": %" PRIu64
                                " rows of %s so far",
                                r->id, r->rows, rp->rp_pc->tables[r->ti].name);
                else
                        cdc_log(LOG_NOTICE, "REPAIR",
                                "request %" PRIu64 ": %zu/%zu users, %" PRIu64
                                " rows so far",
                                r->id, r->udone, r->nusers, r->rows);
        }
        return CDC_ERR_NO_ERROR;
}

/* A failed step: logged, retried after a backoff. A chunk not emitted
 * yet is read again (its watermarks, if they come, are ignored); an
 * emitted one only needs its progress saved. */
static void rp_failed(cdc_repair_t *rp, cdc_err_t err) {
        int64_t now = cdc_now_us();

        rp->rp_fail_ms = rp->rp_fail_ms ? rp->rp_fail_ms * 2 : 500;
        if (rp->rp_fail_ms > 30000)
                rp->rp_fail_ms = 30000;
        rp->rp_retry_us = now + (int64_t)rp->rp_fail_ms * 1000;
        cdc_metric_add(rp->rp_mt.errors, 1);
        cdc_log(LOG_WARNING, "REPAIR", "%s (%s): retrying in %dms",
                rp->rp_errstr[0] ? rp->rp_errstr : "failed", cdc_err2str(err),
                rp->rp_fail_ms);
        if (rp->rp_st != CH_ACK && rp->rp_st != CH_EMIT) {
                rp_chunk_clear(rp);
                rp_user_restart(rp);
        }
}

cdc_err_t cdc_repair_tick(cdc_repair_t *rp) {
        cdc_err_t err = CDC_ERR_NO_ERROR;
        rp_req_t *r   = rp->rp_head;

        if (rp->rp_retry_us && cdc_now_us() < rp->rp_retry_us)
                return CDC_ERR_NO_ERROR;
        rp->rp_errstr[0] = '\0';
        if (rp->rp_need_load) {
                err = rp_load(rp, 0, NULL);
                if (!err)
                        rp->rp_need_load = 0;
        }
        if (!err && rp->rp_unseen_n && cdc_now_us() >= rp->rp_unseen_next)
                err = rp_unseen_check(rp);
        if (!err && rp->rp_st == CH_ACK &&
            cdc_inflight_passed(rp->rp_fl, rp->rp_mark))
                err = rp_chunk_done(rp);
        r = rp->rp_head;
        if (!err && rp->rp_st == CH_IDLE && r && r->kind == RP_KIND_USERS &&
            r->udone >= r->nusers) {
                /* resumed with every user done */
                rp->rp_exhausted = 1;
                err              = rp_chunk_done(rp);
        }
        if (!err && rp->rp_st == CH_IDLE && rp->rp_head)
                err = rp_chunk_read(rp);
        if (err) {
                rp_failed(rp, err);
                return err == CDC_ERR__NOMEM ? err : CDC_ERR_NO_ERROR;
        }
        rp->rp_fail_ms  = 0;
        rp->rp_retry_us = 0;
        return CDC_ERR_NO_ERROR;
}
