/**
 * @file cdc_pconf.c
 * @brief Producer property table and cross-field validation.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#include "cdc_pconf.h"

#define _P(f) offsetof(struct cdc_pconf_s, f)

/* CDC_C_ENUM rows store an int: the enum fields must be one. */
_Static_assert(sizeof(cdc_snapshot_mode_t) == sizeof(int), "enum size");
_Static_assert(sizeof(cdc_ckpt_store_t) == sizeof(int), "enum size");
_Static_assert(sizeof(cdc_mysql_ssl_mode_t) == sizeof(int), "enum size");

static const cdc_prop_t pconf_props[] = {
        { "mysql.host", CDC_C_STR, _P(mysql_host), 0, 0, "127.0.0.1",
          "MySQL/MariaDB primary host" },
        { "mysql.port", CDC_C_INT, _P(mysql_port), 1, 65535, "3306",
          "MySQL/MariaDB TCP port" },
        { "mysql.socket", CDC_C_STR, _P(mysql_socket), 0, 0, NULL,
          "Unix socket path (instead of host:port)" },
        { "mysql.user", CDC_C_STR, _P(mysql_user), 0, 0, "followcdc_producer",
          "User with REPLICATION SLAVE, REPLICATION CLIENT and SELECT" },
        { "mysql.password", CDC_C_SECRET, _P(mysql_password), 0, 0, NULL,
          "Password" },
        { "mysql.db", CDC_C_STR, _P(mysql_db), 0, 0, "followcdc",
          "Database of the captured tables" },
        { "mysql.server.id", CDC_C_INT, _P(mysql_server_id), 1, UINT32_MAX,
          NULL,
          "Replica server id, unique among the primary's replicas (required)" },
        { "mysql.heartbeat.ms", CDC_C_MS, _P(mysql_heartbeat_ms), 0, 3600000,
          "1000", "Binlog heartbeat period asked from the server (0: off)" },
        { "mysql.connect.timeout.ms", CDC_C_MS, _P(mysql_connect_timeout_ms),
          100, 3600000, "5000", "Connect timeout" },
        { "mysql.read.timeout.ms", CDC_C_MS, _P(mysql_read_timeout_ms), 100,
          3600000, "30000", "Read timeout (must exceed the heartbeat period)" },
        { "mysql.ssl.mode", CDC_C_ENUM, _P(mysql_ssl_mode), 0, 0, "preferred",
          "TLS to the source (binlog, snapshot, lock): disabled, preferred "
          "(TLS if offered, unverified), required (TLS or no connection), "
          "verify-ca (and a certificate signed by mysql.ssl.ca), "
          "verify-identity (and naming mysql.host)",
          .values = CDC_MYSQL_SSL_MODES },
        { "mysql.ssl.ca", CDC_C_STR, _P(mysql_ssl_ca), 0, 0, NULL,
          "CA certificate file (PEM) the server's certificate must chain to" },
        { "mysql.ssl.cert", CDC_C_STR, _P(mysql_ssl_cert), 0, 0, NULL,
          "Client certificate file (PEM), for accounts that REQUIRE X509" },
        { "mysql.ssl.key", CDC_C_STR, _P(mysql_ssl_key), 0, 0, NULL,
          "Private key file (PEM) of mysql.ssl.cert" },

        { "source.name", CDC_C_STR, _P(source_name), 0, 0, "followcdc",
          "Logical source name: topic prefix, checkpoint key, lock name" },
        { "source.epoch", CDC_C_INT, _P(source_epoch), 0, UINT32_MAX, "0",
          "Ordering epoch; bump after moving to a server whose positions do "
          "not continue the old ones" },
        { "source.tables", CDC_C_STR, _P(source_tables), 0, 0,
          "follow,idempotent_log", "Captured tables of mysql.db" },
        { "source.tz", CDC_C_STR, _P(source_tz), 0, 0, "UTC",
          "Time zone DATETIME values are written in (UTC, +08:00, a tz name)" },
        { "source.keys", CDC_C_STR, _P(source_keys), 0, 0, NULL,
          "Key columns of other tables: `tbl:c1,c2;tbl2:c`" },
        { "table.follow.key", CDC_C_STR, _P(key_follow), 0, 0,
          "follower_id,followee_id", "Message key columns of table follow" },
        { "table.idempotent_log.key", CDC_C_STR, _P(key_idem), 0, 0,
          "request_id", "Message key columns of table idempotent_log",
          .alias = "table.idempotent-log.key" },

        { "checkpoint.store", CDC_C_ENUM, _P(store), 0, 0, "kafka",
          "Where the position is saved", .values = "kafka|file" },
        { "checkpoint.topic", CDC_C_STR, _P(ckpt_topic), 0, 0, NULL,
          "Checkpoint topic (default `<source.name>.checkpoints`); partition "
          "0" },
        { "checkpoint.file", CDC_C_STR, _P(ckpt_file), 0, 0, NULL,
          "Checkpoint file (checkpoint.store=file)" },
        { "checkpoint.interval.ms", CDC_C_MS, _P(ckpt_interval_ms), 10, 3600000,
          "1000", "Write the checkpoint at most this often (only on change)" },

        { "snapshot.mode", CDC_C_ENUM, _P(snap_mode), 0, 0, "initial",
          "When to snapshot: initial (no checkpoint yet), always, never, "
          "when_needed (also when the binlog was purged past the checkpoint)",
          .values = "initial|always|never|when_needed" },
        { "snapshot.chunk.rows", CDC_C_INT, _P(snapshot_chunk_rows), 1,
          10000000, "5000", "Rows per snapshot query (keyset pagination)" },
        { "snapshot", CDC_C_BOOL, _P(snapshot_now), 0, 0, "false",
          "Take a new snapshot now, then stream (--snapshot)" },

        { "repair.signal.table", CDC_C_STR, _P(repair_signal_table), 0, 0, "",
          "Signal table of mysql.db for repair and re-snapshot requests "
          "(docs/repair.md; empty: off)" },
        { "repair.users.table", CDC_C_STR, _P(repair_users_table), 0, 0,
          "follow",
          "Captured table of `users` requests: its two key columns "
          "are the user columns" },
        { "repair.chunk.rows", CDC_C_INT, _P(repair_chunk_rows), 1, 100000,
          "1000", "Rows per repair chunk (read between two watermarks)" },

        { "http.listen", CDC_C_STR, _P(http_listen), 0, 0, "",
          "`host:port` of /metrics /healthz /readyz (empty: off)" },

        { "lock.enabled", CDC_C_BOOL, _P(lock_enabled), 0, 0, "true",
          "One active producer per source (GET_LOCK); others wait as standby" },
        { "lock.retry.ms", CDC_C_MS, _P(lock_retry_ms), 50, 600000, "1000",
          "Standby: try to take the lock this often" },
        { "lock.check.ms", CDC_C_MS, _P(lock_check_ms), 50, 600000, "1000",
          "Active: check the lock connection this often" },

        { "producer.max.inflight.txns", CDC_C_INT, _P(max_inflight_txns), 16,
          1000000, "4096",
          "Transaction groups awaiting Kafka acknowledgement before reading "
          "pauses" },
        { "producer.transactions", CDC_C_BOOL, _P(transactions), 0, 0, "false",
          "Exactly-once to the topics: events and the checkpoint in one "
          "Kafka transaction (needs checkpoint.store=kafka; transactional.id "
          "= kafka.transactional.id, default source.name)" },
        { "producer.transaction.ms", CDC_C_MS, _P(txn_commit_ms), 1, 60000,
          "100",
          "producer.transactions: commit the open transaction this often "
          "(at a source transaction boundary)" },
        { "topics.create", CDC_C_BOOL, _P(topics_create), 0, 0, "false",
          "Create missing topics at start, compacted (Admin API; needs the "
          "CREATE ACL)" },
        { "topics.partitions", CDC_C_INT, _P(topics_partitions), -1, 100000,
          "-1",
          "Partitions of change topics created by topics.create (-1: the "
          "broker's num.partitions); the checkpoint topic gets 1" },
        { "topics.replication.factor", CDC_C_INT, _P(topics_rf), -1, 100, "-1",
          "Replication factor of topics created by topics.create (-1: the "
          "broker's default.replication.factor)" },
        { "topics.require.compact", CDC_C_BOOL, _P(topics_require_compact), 0,
          0, "false",
          "A topic without cleanup.policy=compact stops the start (exit 2) "
          "instead of a warning" },
        { "producer.publish.thread", CDC_C_BOOL, _P(publish_thread), 0, 0,
          "true",
          "Hand messages to librdkafka on a thread of their own, beside "
          "the binlog decoding (false: both on the main thread)" },
        { "producer.threads.nice", CDC_C_INT, _P(threads_nice), 0, 19, "10",
          "Added to the nice value of the threads that publish to Kafka "
          "(librdkafka's and the publisher): when cores are short, the "
          "binlog decoding runs first and they catch up in its pauses "
          "(0: same priority as the main thread)" },
        { "producer.flush.timeout.ms", CDC_C_MS, _P(flush_timeout_ms), 0,
          3600000, "10000",
          "How long shutdown waits for Kafka to acknowledge" },

        { "bench.decode.only", CDC_C_BOOL, _P(bench_decode_only), 0, 0, "false",
          "Benchmark: read and encode events, publish nothing, save nothing" },
        { "bench.stop.at.end", CDC_C_BOOL, _P(bench_stop_at_end), 0, 0, "false",
          "Stop once the binlog end seen at start is reached (or right "
          "after a snapshot), print figures" },
        { NULL }
};

const cdc_prop_t *cdc_pconf_props(void) {
        return pconf_props;
}

const char *cdc_pconf_snapshot_mode_str(cdc_snapshot_mode_t m) {
        switch (m) {
        case CDC_SNAPSHOT_INITIAL:
                return "initial";
        case CDC_SNAPSHOT_ALWAYS:
                return "always";
        case CDC_SNAPSHOT_NEVER:
                return "never";
        case CDC_SNAPSHOT_WHEN_NEEDED:
                return "when_needed";
        }
        return "?";
}

static void pconf_table_free(cdc_ptable_t *t) {
        free(t->name);
        free(t->colbuf);
        memset(t, 0, sizeof(*t));
}

void cdc_pconf_clear(cdc_pconf_t *pc) {
        size_t i;
        if (!pc)
                return;
        for (i = 0; i < pc->table_cnt; i++)
                pconf_table_free(&pc->tables[i]);
        pc->table_cnt = 0;
}

const cdc_ptable_t *cdc_pconf_table(const cdc_pconf_t *pc, const char *name) {
        size_t i;
        for (i = 0; i < pc->table_cnt; i++)
                if (!strcmp(pc->tables[i].name, name))
                        return &pc->tables[i];
        return NULL;
}

/* An identifier we accept for tables and columns: [A-Za-z0-9_$]{1,64}. */
static int pconf_ident_ok(const char *s, size_t len) {
        size_t i;
        if (len == 0 || len > 64)
                return 0;
        for (i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (!isalnum(c) && c != '_' && c != '$')
                        return 0;
        }
        return 1;
}

/* Copy [s, s+len) trimmed of blanks into a new string. */
static char *pconf_strndup_trim(const char *s, size_t len) {
        char *r;
        while (len > 0 && isspace((unsigned char)*s)) {
                s++;
                len--;
        }
        while (len > 0 && isspace((unsigned char)s[len - 1]))
                len--;
        r = malloc(len + 1);
        if (!r)
                return NULL;
        memcpy(r, s, len);
        r[len] = '\0';
        return r;
}

/* Split "c1,c2" into t->cols. @returns NULL or a reason (static). */
static const char *pconf_set_cols(cdc_ptable_t *t, const char *list,
                                  size_t len) {
        char *p, *q;
        t->colbuf = pconf_strndup_trim(list, len);
        if (!t->colbuf)
                return "out of memory";
        t->col_cnt = 0;
        p          = t->colbuf;
        while (1) {
                char *e;
                q = strchr(p, ',');
                if (q)
                        *q = '\0';
                while (isspace((unsigned char)*p))
                        p++;
                e = p + strlen(p);
                while (e > p && isspace((unsigned char)e[-1]))
                        *--e = '\0';
                if (!pconf_ident_ok(p, strlen(p)))
                        return "bad key column name";
                if (t->col_cnt == CDC_PCONF_KEYCOLS_MAX)
                        return "too many key columns";
                t->cols[t->col_cnt++] = p;
                if (!q)
                        break;
                p = q + 1;
        }
        return NULL;
}

/* Find "tbl:cols" for \p name in source.keys. */
static const char *pconf_keys_lookup(const char *keys, const char *name,
                                     size_t *lenp) {
        const char *p = keys;
        size_t nlen   = strlen(name);
        while (p && *p) {
                const char *end = strchr(p, ';'), *colon;
                size_t seglen;
                while (isspace((unsigned char)*p))
                        p++;
                seglen = end ? (size_t)(end - p) : strlen(p);
                colon  = memchr(p, ':', seglen);
                if (colon) {
                        const char *ne = colon;
                        while (ne > p && isspace((unsigned char)ne[-1]))
                                ne--;
                        if ((size_t)(ne - p) == nlen &&
                            !memcmp(p, name, nlen)) {
                                *lenp = seglen - (size_t)(colon + 1 - p);
                                return colon + 1;
                        }
                }
                p = end ? end + 1 : NULL;
        }
        return NULL;
}

const char *cdc_pconf_finalize(void *base) {
        cdc_pconf_t *pc = base;
        const char *p, *why;
        size_t i;

        cdc_pconf_clear(pc);
        pc->errbuf[0] = '\0';

        if (pc->mysql_server_id <= 0)
                return "mysql.server.id is required (a replica id unique "
                       "among the primary's replicas)";
        why = cdc_mysql_ssl_check("mysql.ssl", pc->mysql_ssl_mode,
                                  pc->mysql_ssl_ca, pc->mysql_ssl_cert,
                                  pc->mysql_ssl_key, pc->errbuf,
                                  sizeof(pc->errbuf));
        if (why)
                return why;
        if (!pc->source_name ||
            !pconf_ident_ok(pc->source_name, strlen(pc->source_name))) {
                /* dots and dashes are legal in topic names too */
                const char *s = pc->source_name ? pc->source_name : "";
                size_t n      = strlen(s);
                if (n == 0 || n > 100 ||
                    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
                              "TUVWXYZ0123456789._-") != n)
                        return "source.name: use 1-100 of [A-Za-z0-9._-]";
        }
        if (!pc->mysql_db ||
            !pconf_ident_ok(pc->mysql_db, strlen(pc->mysql_db)))
                return "mysql.db: not a database name";

        /* tables */
        p = pc->source_tables ? pc->source_tables : "";
        while (*p) {
                const char *e = strchr(p, ',');
                size_t len    = e ? (size_t)(e - p) : strlen(p);
                cdc_ptable_t *t;
                const char *keys = NULL;
                size_t klen      = 0;

                if (pc->table_cnt == CDC_PCONF_TABLES_MAX)
                        return "source.tables: too many tables";
                t       = &pc->tables[pc->table_cnt];
                t->name = pconf_strndup_trim(p, len);
                if (!t->name)
                        return "out of memory";
                pc->table_cnt++;
                if (!pconf_ident_ok(t->name, strlen(t->name))) {
                        snprintf(pc->errbuf, sizeof(pc->errbuf),
                                 "source.tables: \"%s\" is not a table name",
                                 t->name);
                        return pc->errbuf;
                }
                for (i = 0; i + 1 < pc->table_cnt; i++)
                        if (!strcmp(pc->tables[i].name, t->name)) {
                                snprintf(pc->errbuf, sizeof(pc->errbuf),
                                         "source.tables: \"%s\" twice",
                                         t->name);
                                return pc->errbuf;
                        }
                if (pc->source_keys)
                        keys = pconf_keys_lookup(pc->source_keys, t->name,
                                                 &klen);
                if (!keys && !strcmp(t->name, "follow") && pc->key_follow) {
                        keys = pc->key_follow;
                        klen = strlen(keys);
                } else if (!keys && !strcmp(t->name, "idempotent_log") &&
                           pc->key_idem) {
                        keys = pc->key_idem;
                        klen = strlen(keys);
                }
                if (!keys) {
                        snprintf(pc->errbuf, sizeof(pc->errbuf),
                                 "table %s: no key columns; set "
                                 "source.keys=%s:col1,col2",
                                 t->name, t->name);
                        return pc->errbuf;
                }
                why = pconf_set_cols(t, keys, klen);
                if (why) {
                        snprintf(pc->errbuf, sizeof(pc->errbuf),
                                 "table %s: key \"%.*s\": %s", t->name,
                                 (int)klen, keys, why);
                        return pc->errbuf;
                }
                pc->table_names[pc->table_cnt - 1] = t->name;
                if (!e)
                        break;
                p = e + 1;
        }
        if (pc->table_cnt == 0)
                return "source.tables: no table";

        /* checkpoint */
        if (pc->store == CDC_CKPT_STORE_FILE &&
            (!pc->ckpt_file || !*pc->ckpt_file))
                return "checkpoint.store=file needs checkpoint.file";
        if (pc->ckpt_topic && *pc->ckpt_topic) {
                if (strlen(pc->ckpt_topic) >= sizeof(pc->ckpt_topic_buf))
                        return "checkpoint.topic: too long";
                snprintf(pc->ckpt_topic_buf, sizeof(pc->ckpt_topic_buf), "%s",
                         pc->ckpt_topic);
        } else {
                snprintf(pc->ckpt_topic_buf, sizeof(pc->ckpt_topic_buf),
                         "%s.checkpoints", pc->source_name);
        }

        if (pc->transactions && pc->store != CDC_CKPT_STORE_KAFKA)
                return "producer.transactions=true needs "
                       "checkpoint.store=kafka: the checkpoint must be "
                       "written in the same Kafka transaction as the events "
                       "(a file can't take part in it)";

        if (pc->mysql_heartbeat_ms > 0 &&
            pc->mysql_read_timeout_ms <= pc->mysql_heartbeat_ms)
                return "mysql.read.timeout.ms must exceed "
                       "mysql.heartbeat.ms";
        if (pc->repair_signal_table && *pc->repair_signal_table) {
                const char *sg = pc->repair_signal_table;
                if (!pconf_ident_ok(sg, strlen(sg)))
                        return "repair.signal.table: not a table name";
                if (cdc_pconf_table(pc, sg))
                        return "repair.signal.table: a captured table "
                               "cannot be the signal table";
                if (pc->table_cnt == CDC_PCONF_TABLES_MAX)
                        return "source.tables: too many tables for "
                               "repair.signal.table";
        }
        return NULL;
}
