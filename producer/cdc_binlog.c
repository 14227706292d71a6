/**
 * @file cdc_binlog.c
 * @brief The replica connection: connects through libmariadb's
 *        mariadb_rpl_* API, asks for the binlog from a position, fetches
 *        raw events and hands them to the stream decoder (cdc_stream.c),
 *        whose items it returns.
 *
 * Where the rest lives: server checks cdc_srccheck.c, the metadata
 * connection (current position, information_schema) cdc_srcmeta.c,
 * events to items cdc_stream.c, row decoding cdc_rowdec.c.
 *
 * libmariadb is used for the connection and the packet framing only
 * (mariadb_rpl_open / mariadb_rpl_fetch); every event is decoded from its
 * raw bytes. Reasons, Connector/C 3.3.20:
 * - mariadb_rpl_extract_rows() fails on all-integer tables and loses the
 *   sign of TINYINT..INT;
 * - there is no GTID start option: we set the replica session variables
 *   (@slave_connect_state, ...) before COM_BINLOG_DUMP ourselves;
 * - mariadb_rpl_fetch(rpl, ev) frees the previous event held in ev, so
 *   anything kept across events (TABLE_MAPs) is copied;
 * - every event's bytes go into a block of the event's MA_MEM_ROOT that
 *   mariadb_rpl_fetch() mallocs and frees again for the next event: we
 *   give the memroot one block to keep (binlog_ev_keep()).
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <mysql.h>
#include <mariadb_rpl.h>
#include <ma_pvio.h>
#include "cdc_backoff.h"
#include "cdc_binlog.h"
#include "cdc_log.h"
#include "cdc_mysql.h"
#include "cdc_srcmeta.h"
#include "cdc_stream.h"

struct cdc_binlog_s {
        /* options (copied) */
        cdc_mysql_target_t bl_tgt;
        unsigned bl_connect_timeout_s, bl_rw_timeout_s;
        uint32_t bl_server_id;
        int bl_heartbeat_ms;

        /* servers */
        cdc_srcmeta_t *bl_meta; /* plain SQL connection */
        MYSQL *bl_mysql;        /* replication connection */
        MARIADB_RPL *bl_rpl;
        MARIADB_RPL_EVENT *bl_ev; /* reused by mariadb_rpl_fetch */
        uint64_t bl_events;       /* fetched */
        uint64_t bl_events_kept;  /* of those, held in the kept block */
        int bl_is_mysql;          /* MySQL (not MariaDB) server */
        int64_t bl_last_rx_ms;    /* last packet from the server */

        cdc_stream_t *bl_stream; /* events -> items */
        char bl_errstr[512];
};

/* ---- helpers ---- */

static void binlog_seterr(cdc_binlog_t *bl, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void binlog_seterr(cdc_binlog_t *bl, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(bl->bl_errstr, sizeof(bl->bl_errstr), fmt, ap);
        va_end(ap);
}

/*
 * libmariadb puts each event's bytes (the packet, and what it unpacks)
 * into the event's MA_MEM_ROOT, in a block of 8 KiB that
 * mariadb_rpl_fetch() mallocs, and frees before the next event
 * (ma_free_root(MY_KEEP_PREALLOC)). Above glibc's per-thread cache
 * (1,032 bytes), that malloc() and free() go to the arena under its lock:
 * 876 instructions per row of bench/producer.sh's binlog decoding, 1,247
 * publishing (the arena is shared with librdkafka's threads), 7-10 % of
 * the main thread. The memroot keeps the block it holds as pre_alloc
 * across fetches, so we give it one, once per event handle: an event that
 * fits is then fetched without an allocation. Both structs are public
 * (mysql.h, libmariadb's ABI); the block is laid out as libmariadb's
 * ma_init_alloc_root() lays out its own and goes on the memroot's free
 * list at once, so whatever frees the memroot (the next fetch keeps it,
 * mariadb_free_rpl_event() frees it) finds it there. A libmariadb that
 * ignored pre_alloc would free it as one of its blocks: one malloc per
 * event, as before. bl_events_kept counts the events held entirely in it
 * (integ.0010 checks that most are).
 */
#define BINLOG_EV_BLOCK (16u << 10)
#define BINLOG_USED_HDR ((sizeof(MA_USED_MEM) + 7) & ~(size_t)7)

static void binlog_ev_keep(cdc_binlog_t *bl) {
        MA_MEM_ROOT *mr = &bl->bl_ev->memroot;
        const MA_USED_MEM *b;
        MA_USED_MEM *nb;
        size_t blocks = 0;

        bl->bl_events++;
        if (mr->pre_alloc) {
                for (b = mr->used; b && blocks < 2; b = b->next)
                        blocks++;
                for (b = mr->free; b && blocks < 2; b = b->next)
                        blocks++;
                if (blocks == 1 &&
                    (mr->used == mr->pre_alloc || mr->free == mr->pre_alloc))
                        bl->bl_events_kept++;
                return;
        }
        if (!(nb = malloc(BINLOG_EV_BLOCK)))
                return; /* libmariadb's blocks, as before */
        nb->size      = BINLOG_EV_BLOCK;
        nb->left      = BINLOG_EV_BLOCK - BINLOG_USED_HDR;
        nb->next      = mr->free;
        mr->free      = nb;
        mr->pre_alloc = nb;
}

uint64_t cdc_binlog_events(const cdc_binlog_t *bl, uint64_t *keptp) {
        if (keptp)
                *keptp = bl->bl_events_kept;
        return bl->bl_events;
}

/* The coarse clock (a few ms resolution) is enough for a read deadline
 * and the heartbeat watch, and it is read several times per event: the
 * precise one cost 4 % of the decoding thread. */
static int64_t binlog_now_ms(void) {
        return cdc_now_coarse_us() / 1000;
}

static cdc_err_t binlog_mysql_err(cdc_binlog_t *bl, MYSQL *m,
                                  const char *what) {
        return cdc_srcmeta_err(m, what, bl->bl_errstr, sizeof(bl->bl_errstr));
}

/* An error of the metadata connection or the stream becomes ours. */
static cdc_err_t binlog_take_err(cdc_binlog_t *bl, cdc_err_t err,
                                 const char *errstr) {
        if (err)
                binlog_seterr(bl, "%s", errstr);
        return err;
}

/* Runs a statement on the replication connection (no result). */
static cdc_err_t binlog_exec(cdc_binlog_t *bl, const char *q) {
        if (mysql_real_query(bl->bl_mysql, q, (unsigned long)strlen(q)))
                return binlog_mysql_err(bl, bl->bl_mysql, q);
        return CDC_ERR_NO_ERROR;
}

/* ---- lifecycle ---- */

cdc_binlog_t *cdc_binlog_new(const cdc_binlog_opts_t *opts, char *errstr,
                             size_t errstr_size) {
        cdc_binlog_t *bl = NULL, *ret = NULL;
        cdc_mysql_opts_t mo;
        cdc_stream_opts_t so;
        unsigned ct, rt;
        size_t i;

        if (!opts || !opts->target || !opts->target->user || !opts->db ||
            !opts->tables || opts->table_cnt == 0 || opts->server_id == 0) {
                snprintf(errstr, errstr_size,
                         "binlog: user, db, tables and a non-zero server id "
                         "are required");
                goto out;
        }
        if (strlen(opts->db) > 64) {
                snprintf(errstr, errstr_size, "binlog: db name too long");
                goto out;
        }
        for (i = 0; i < opts->table_cnt; i++) {
                if (!opts->tables[i] || strlen(opts->tables[i]) > 64) {
                        snprintf(errstr, errstr_size, "binlog: bad table name");
                        goto out;
                }
        }
        bl = calloc(1, sizeof(*bl));
        if (!bl)
                goto nomem;
        ct = (unsigned)((opts->connect_timeout_ms + 999) / 1000);
        rt = (unsigned)((opts->read_timeout_ms + 999) / 1000);
        memset(&mo, 0, sizeof(mo));
        mo.no_db                 = 1;
        mo.connect_timeout_s     = ct ? ct : 10;
        mo.rw_timeout_s          = rt ? rt : 30;
        bl->bl_connect_timeout_s = mo.connect_timeout_s;
        bl->bl_rw_timeout_s      = mo.rw_timeout_s;
        bl->bl_server_id         = opts->server_id;
        bl->bl_heartbeat_ms      = opts->heartbeat_ms;
        if (cdc_mysql_target_copy(&bl->bl_tgt, opts->target))
                goto nomem;
        bl->bl_meta = cdc_srcmeta_new(opts->target, &mo, opts->db, opts->tables,
                                      opts->table_cnt);
        if (!bl->bl_meta)
                goto nomem;
        memset(&so, 0, sizeof(so));
        so.db         = opts->db;
        so.tables     = opts->tables;
        so.table_cnt  = opts->table_cnt;
        so.source_tz  = opts->source_tz;
        so.meta       = bl->bl_meta;
        bl->bl_stream = cdc_stream_new(&so, errstr, errstr_size);
        if (!bl->bl_stream)
                goto out;
        ret = bl;
        bl  = NULL;
        goto out;
nomem:
        snprintf(errstr, errstr_size, "binlog: out of memory");
out:
        cdc_binlog_destroy(bl);
        return ret;
}

void cdc_binlog_close(cdc_binlog_t *bl) {
        if (!bl)
                return;
        if (bl->bl_stream)
                cdc_stream_close(bl->bl_stream);
        if (bl->bl_ev) {
                mariadb_free_rpl_event(bl->bl_ev);
                bl->bl_ev = NULL;
        }
        if (bl->bl_rpl) {
                mariadb_rpl_close(bl->bl_rpl);
                bl->bl_rpl = NULL;
        }
        if (bl->bl_mysql) {
                mysql_close(bl->bl_mysql);
                bl->bl_mysql = NULL;
        }
}

void cdc_binlog_destroy(cdc_binlog_t *bl) {
        if (!bl)
                return;
        cdc_binlog_close(bl);
        cdc_stream_destroy(bl->bl_stream);
        cdc_srcmeta_destroy(bl->bl_meta);
        cdc_mysql_target_clear(&bl->bl_tgt);
        free(bl);
}

const char *cdc_binlog_errstr(const cdc_binlog_t *bl) {
        return bl ? bl->bl_errstr : "";
}

/* ---- metadata connection ---- */

cdc_err_t cdc_binlog_check(cdc_binlog_t *bl) {
        return binlog_take_err(bl, cdc_srcmeta_check(bl->bl_meta),
                               cdc_srcmeta_errstr(bl->bl_meta));
}

cdc_err_t cdc_binlog_current_pos(cdc_binlog_t *bl, cdc_pos_t *pos) {
        return binlog_take_err(bl, cdc_srcmeta_current_pos(bl->bl_meta, pos),
                               cdc_srcmeta_errstr(bl->bl_meta));
}

/* ---- open ---- */

/* Hands the event libmariadb fetched into bl_ev to the stream. */
static cdc_err_t binlog_feed(cdc_binlog_t *bl, const cdc_binlog_item_t **hbp) {
        MARIADB_RPL_EVENT *rev = bl->bl_ev;
        size_t ofs             = rev->raw_data_ofs ? rev->raw_data_ofs : 1;

        *hbp = NULL;
        if (!rev->raw_data || rev->raw_data_size <= ofs) {
                binlog_seterr(bl, "empty event from libmariadb");
                return CDC_ERR__BAD_EVENT;
        }
        return binlog_take_err(bl,
                               cdc_stream_event(bl->bl_stream,
                                                rev->raw_data + ofs,
                                                rev->raw_data_size - ofs, hbp),
                               cdc_stream_errstr(bl->bl_stream));
}

cdc_err_t cdc_binlog_open(cdc_binlog_t *bl, const cdc_pos_t *start) {
        char q[CDC_POS_GTID_MAX + 128];
        const cdc_binlog_item_t *hb;
        cdc_mysql_opts_t mo;
        cdc_pos_t sp;
        cdc_err_t err;
        int from_end = 0, gtid_mode;

        cdc_binlog_close(bl);
        bl->bl_errstr[0] = '\0';
        if (!start || cdc_pos_is_empty(start)) {
                from_end = 1;
                err      = cdc_binlog_current_pos(bl, &sp);
                if (err)
                        return err;
        } else {
                sp = *start;
        }
        memset(&mo, 0, sizeof(mo));
        mo.no_db             = 1;
        mo.connect_timeout_s = bl->bl_connect_timeout_s;
        mo.rw_timeout_s      = bl->bl_rw_timeout_s;
        mo.charset           = "utf8mb4";
        bl->bl_mysql = cdc_srcmeta_dial(&bl->bl_tgt, &mo, &err, bl->bl_errstr,
                                        sizeof(bl->bl_errstr));
        if (!bl->bl_mysql)
                return err;
        bl->bl_is_mysql =
                strstr(mysql_get_server_info(bl->bl_mysql), "MariaDB") == NULL;
        err = binlog_take_err(
                bl,
                cdc_stream_reset(bl->bl_stream, &sp, bl->bl_is_mysql, from_end),
                cdc_stream_errstr(bl->bl_stream));
        if (err)
                goto fail;
        gtid_mode = cdc_stream_gtid_mode(bl->bl_stream);

        /* The replica handshake libmariadb has no options for. */
        if ((err = binlog_exec(bl, "SET @master_binlog_checksum = "
                                   "@@global.binlog_checksum")))
                goto fail;
        if (!bl->bl_is_mysql &&
            (err = binlog_exec(bl, "SET @mariadb_slave_capability = 4")))
                goto fail;
        if (bl->bl_heartbeat_ms > 0) {
                snprintf(q, sizeof(q), "SET @master_heartbeat_period = %lld",
                         (long long)bl->bl_heartbeat_ms * 1000000LL);
                if ((err = binlog_exec(bl, q)))
                        goto fail;
        }
        if (gtid_mode) {
                snprintf(q, sizeof(q), "SET @slave_connect_state = '%s'",
                         sp.gtid); /* digits, '-' and ',' only */
                if ((err = binlog_exec(bl, q)) ||
                    (err = binlog_exec(bl,
                                       "SET @slave_gtid_strict_mode = 1")) ||
                    (err = binlog_exec(bl, "SET @slave_gtid_ignore_duplicates "
                                           "= 0")))
                        goto fail;
        }
        bl->bl_rpl = mariadb_rpl_init(bl->bl_mysql);
        if (!bl->bl_rpl) {
                err = binlog_mysql_err(bl, bl->bl_mysql, "mariadb_rpl_init");
                goto fail;
        }
        mariadb_rpl_optionsv(bl->bl_rpl, MARIADB_RPL_SERVER_ID,
                             (unsigned)bl->bl_server_id);
        mariadb_rpl_optionsv(bl->bl_rpl, MARIADB_RPL_FLAGS, 0u);
        if (gtid_mode) {
                mariadb_rpl_optionsv(bl->bl_rpl, MARIADB_RPL_FILENAME, "",
                                     (size_t)0);
                mariadb_rpl_optionsv(bl->bl_rpl, MARIADB_RPL_START, 4UL);
        } else {
                mariadb_rpl_optionsv(bl->bl_rpl, MARIADB_RPL_FILENAME, sp.file,
                                     strlen(sp.file));
                mariadb_rpl_optionsv(bl->bl_rpl, MARIADB_RPL_START,
                                     (unsigned long)(sp.pos ? sp.pos : 4));
        }
        if (mariadb_rpl_open(bl->bl_rpl)) {
                err = binlog_mysql_err(bl, bl->bl_mysql, "binlog dump");
                goto fail;
        }
        /* The server answers the dump at once with a ROTATE or an error
         * (1236: position purged): read it here so _open reports it. */
        bl->bl_ev = mariadb_rpl_fetch(bl->bl_rpl, NULL);
        if (!bl->bl_ev) {
                err = binlog_mysql_err(bl, bl->bl_mysql, "binlog dump");
                goto fail;
        }
        binlog_ev_keep(bl);
        bl->bl_last_rx_ms = binlog_now_ms();
        err               = binlog_feed(bl, &hb);
        if (err)
                goto fail;
        if (gtid_mode)
                cdc_log(LOG_NOTICE, "BINLOG",
                        "streaming from GTID %s as "
                        "server id %u",
                        sp.gtid, bl->bl_server_id);
        else
                cdc_log(LOG_NOTICE, "BINLOG",
                        "streaming from %s:%llu as "
                        "server id %u",
                        sp.file, (unsigned long long)sp.pos, bl->bl_server_id);
        return CDC_ERR_NO_ERROR;
fail : {
        char keep[sizeof(bl->bl_errstr)];
        memcpy(keep, bl->bl_errstr, sizeof(keep));
        cdc_binlog_close(bl);
        memcpy(bl->bl_errstr, keep, sizeof(keep));
}
        return err;
}

/* ---- next ---- */

/*
 * Whether libmariadb has already read bytes of the next packet into its
 * read-ahead cache, where poll() on the socket cannot see them.
 *
 * Why we look inside libmariadb: mariadb_rpl_fetch() blocks until a whole
 * packet is in, so cdc_binlog_next() polls the socket first to honour its
 * timeout (the caller's loop must serve Kafka and signals every 100 ms).
 * But one recv() fills libmariadb's read-ahead cache (16 KiB) with
 * several small binlog events; after the first is fetched the others sit
 * in the cache, the socket is not readable, and poll() would wait for the
 * next packet (up to a heartbeat period, or forever on an idle server)
 * before they are decoded: a committed transaction would stay unpublished.
 * Connector/C has no public call for "data buffered": ma_pvio_has_data()
 * is declared in ma_pvio.h but not exported by libmariadb.so.3. So we
 * read the read-ahead cache pointers (cache, cache_pos, cache_size) of
 * struct st_ma_pvio from ma_pvio.h, which libmariadb-dev installs; the
 * header and the library come from the same Debian package source
 * (scripts/deps.sh), so the layout we compile against is the one we run
 * with. Should a libmariadb drop the cache (pvio->cache NULL) this returns
 * 0 and we are back to plain poll(). integ.0010 fails without this check:
 * the rows of back-to-back transactions stay in the cache.
 */
static int binlog_buffered(const cdc_binlog_t *bl) {
        const MARIADB_PVIO *pvio = bl->bl_mysql->net.pvio;
        if (!pvio || !pvio->cache)
                return 0;
        return pvio->cache_pos < pvio->cache + pvio->cache_size;
}

/* The next item the stream has pending, if any. */
static cdc_err_t binlog_pending(cdc_binlog_t *bl,
                                const cdc_binlog_item_t **itemp) {
        return binlog_take_err(bl, cdc_stream_next(bl->bl_stream, itemp),
                               cdc_stream_errstr(bl->bl_stream));
}

cdc_err_t cdc_binlog_next(cdc_binlog_t *bl, int timeout_ms,
                          const cdc_binlog_item_t **itemp) {
        int64_t deadline = binlog_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
        const cdc_binlog_item_t *it;
        cdc_err_t err;

        *itemp = NULL;
        if (!bl->bl_rpl) {
                binlog_seterr(bl, "binlog stream not open");
                return CDC_ERR__STATE;
        }
        if ((err = binlog_pending(bl, &it)))
                return err;
        for (;;) {
                if (it) {
                        *itemp = it;
                        return CDC_ERR_NO_ERROR;
                }
                if (!binlog_buffered(bl)) {
                        struct pollfd pfd;
                        int r, wait;
                        wait = (int)(deadline - binlog_now_ms());
                        if (wait < 0)
                                wait = 0;
                        pfd.fd = (int)mysql_get_socket(bl->bl_mysql);
                        if (pfd.fd < 0) {
                                binlog_seterr(bl, "binlog stream: no socket");
                                return CDC_ERR__TRANSPORT;
                        }
                        pfd.events  = POLLIN;
                        pfd.revents = 0;
                        r           = poll(&pfd, 1, wait);
                        if (r == 0 && bl->bl_heartbeat_ms > 0 &&
                            binlog_now_ms() - bl->bl_last_rx_ms >
                                    3 * (int64_t)bl->bl_heartbeat_ms + 1000) {
                                /* heartbeats stopped: the server or the
                                 * network is gone without a FIN */
                                binlog_seterr(bl,
                                              "binlog stream: nothing "
                                              "from the server for %lld ms "
                                              "(heartbeat %d ms)",
                                              (long long)(binlog_now_ms() -
                                                          bl->bl_last_rx_ms),
                                              bl->bl_heartbeat_ms);
                                return CDC_ERR__TRANSPORT;
                        }
                        if (r == 0)
                                return CDC_ERR__TIMED_OUT;
                        if (r < 0 && errno == EINTR)
                                return CDC_ERR__TIMED_OUT;
                }
                bl->bl_ev = mariadb_rpl_fetch(bl->bl_rpl, bl->bl_ev);
                if (!bl->bl_ev) {
                        /* libmariadb freed the event on failure */
                        if (mysql_errno(bl->bl_mysql) == 0 &&
                            mariadb_rpl_errno(bl->bl_rpl)) {
                                /* libmariadb refused the packet itself:
                                 * reconnecting would meet it again */
                                binlog_seterr(
                                        bl, "binlog stream at %s:%llu: %s (%u)",
                                        cdc_stream_file(bl->bl_stream),
                                        (unsigned long long)
                                                cdc_stream_committed(
                                                        bl->bl_stream)
                                                        ->pos,
                                        mariadb_rpl_error(bl->bl_rpl),
                                        mariadb_rpl_errno(bl->bl_rpl));
                                return CDC_ERR__BAD_EVENT;
                        }
                        return binlog_mysql_err(bl, bl->bl_mysql,
                                                "binlog stream");
                }
                binlog_ev_keep(bl);
                bl->bl_last_rx_ms = binlog_now_ms();
                if ((err = binlog_feed(bl, &it)))
                        return err;
                if (it) /* a heartbeat */
                        continue;
                if ((err = binlog_pending(bl, &it)))
                        return err;
                if (!it && binlog_now_ms() >= deadline)
                        return CDC_ERR__TIMED_OUT;
        }
}
