/**
 * @file cdc_cconf.c
 * @brief followcdc-consumer configuration table and cross-field checks.
 */
#include "cdc_cconf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdc_event.h"
#include "cdc_rcluster.h"

#define _C(f) offsetof(struct cdc_cconf_s, f)

/* clang-format off */
static const cdc_prop_t cconf_props[] = {
 {"source.name", CDC_C_STR, _C(source_name), 0, 0, "followcdc",
  "Logical source name: the producer's topic prefix"},
 {"sources", CDC_C_STR, _C(sources), 0, 0, NULL,
  "Comma separated source names (shards) feeding this Redis; default topics are subscribed for each (default: source.name)"},
 {"source.db", CDC_C_STR, _C(source_db), 0, 0, "followcdc",
  "Source database (schema) name"},
 {"source.tz", CDC_C_STR, _C(source_tz), 0, 0, "UTC",
  "Time zone of the source's DATETIME columns (UTC, +08:00 or a zone name)"},
 {"topics", CDC_C_STR, _C(topics), 0, 0, NULL,
  "Comma separated topics (default `<name>.<source.db>.<follow.table>` and `.<idem.table>` for each name of sources)"},
 {"dlq.topic", CDC_C_STR, _C(dlq_topic), 0, 0, NULL,
  "Dead-letter topic for malformed events (default `<source.name>.dlq`)"},
 {"batch.size", CDC_C_INT, _C(batch_size), 1, 100000, "1000",
  "Messages gathered per batch before Redis is flushed"},
 {"batch.ms", CDC_C_MS, _C(batch_ms), 1, 60000, "50",
  "Max time spent gathering one batch while messages keep coming (a batch is applied as soon as the fetched messages are drained)"},
 {"batch.bytes", CDC_C_INT, _C(batch_bytes), 1024, 1073741824, "8388608",
  "Max bytes of message values gathered per batch (bounds memory with large events)"},
 {"event.max.bytes", CDC_C_INT, _C(event_max_bytes), 1024, 1073741824,
  "1048576", "Larger message values are dead-lettered without being parsed"},
 {"event.max.columns", CDC_C_INT, _C(event_max_columns), 16, 1000000, "4096",
  "Row images with more columns are dead-lettered without being parsed"},
 {"replay", CDC_C_ENUM, _C(replay_mode), 0, 0, "none",
  "earliest: start every assigned partition from its first message (--replay=earliest)",
  .values = "none|earliest"},
 {"reprocess.dlq", CDC_C_BOOL, _C(reprocess_dlq), 0, 0, "false",
  "Re-apply the dead-letter topic once (after the cause is fixed), report what still fails, exit (--reprocess-dlq; docs/repair.md)",
  .alias = "reprocess-dlq"},
 {"replay.from", CDC_C_STR, _C(replay_from), 0, 0, "",
  "Start every assigned partition at this time (ISO-8601 UTC or ms since the epoch)",
  .alias = "replay-from"},
 {"redis.host", CDC_C_STR, _C(redis_host), 0, 0, "127.0.0.1", "Redis host"},
 {"redis.port", CDC_C_INT, _C(redis_port), 1, 65535, "6379", "Redis port"},
 {"redis.user", CDC_C_STR, _C(redis_user), 0, 0, NULL, "Redis ACL user"},
 {"redis.password", CDC_C_SECRET, _C(redis_password), 0, 0, NULL,
  "Redis password"},
 {"redis.db", CDC_C_INT, _C(redis_db), 0, 1000, "0", "Redis database number"},
 {"redis.timeout.ms", CDC_C_MS, _C(redis_timeout_ms), 10, 600000, "5000",
  "Redis connect and command timeout"},
 {"redis.key.prefix", CDC_C_STR, _C(redis_key_prefix), 0, 0, "fc",
  "Prefix of every Redis key (schemas/redis.md)"},
 {"redis.pipeline", CDC_C_INT, _C(redis_pipeline), 4, 1000000, "2048",
  "Max scripts sent per pipelined round trip (one event needs up to 4)"},
 {"redis.pipeline.ahead", CDC_C_INT, _C(redis_pipeline_ahead), 0, 1000000,
  "256",
  "Write a batch's scripts to Redis in parts of this many while the rest "
  "is still mapped; replies are read at the batch's end (0: the whole "
  "pipeline at once at the end)"},
 {"redis.cluster.nodes", CDC_C_STR, _C(redis_cluster_nodes), 0, 0, NULL,
  "Redis Cluster seed nodes host:port,... (empty: one Redis at redis.host)"},
 {"redis.tls", CDC_C_BOOL, _C(redis_tls), 0, 0, "false",
  "TLS to Redis (every node), server certificate verified"},
 {"redis.tls.ca", CDC_C_STR, _C(redis_tls_ca), 0, 0, NULL,
  "CA certificates (PEM file) that sign the Redis servers' certificates (default: system trust store)"},
 {"redis.tls.cert", CDC_C_STR, _C(redis_tls_cert), 0, 0, NULL,
  "Client certificate (PEM) when Redis requires one (tls-auth-clients)"},
 {"redis.tls.key", CDC_C_STR, _C(redis_tls_key), 0, 0, NULL,
  "Private key of redis.tls.cert (PEM; default: in the cert file)"},
 {"redis.tls.server.name", CDC_C_STR, _C(redis_tls_server_name), 0, 0, NULL,
  "Name (or IP) the server certificate must carry; SNI (default: the host)"},
 {"redis.tls.verify", CDC_C_BOOL, _C(redis_tls_verify), 0, 0, "true",
  "Verify the server certificate and name (false: tests only)"},
 {"redis.wait.replicas", CDC_C_INT, _C(redis_wait_replicas), 0, 64, "0",
  "Offsets are stored only once this many replicas (of each master) have the writes (WAIT)"},
 {"redis.wait.timeout.ms", CDC_C_MS, _C(redis_wait_timeout_ms), 1, 600000,
  "1000", "WAIT timeout; below redis.timeout.ms"},
 {"redis.loss.check.ms", CDC_C_MS, _C(redis_loss_check_ms), 0, 3600000,
  "1000", "How often each master's marker is checked between batches (also at every connect and rebalance); a master that lost its data makes every partition replay from its beginning. 0: off"},
 {"follow.table", CDC_C_STR, _C(follow_table), 0, 0, "follow",
  "Follow table name"},
 {"follow.model", CDC_C_ENUM, _C(follow_model), 0, 0, "edge",
  "edge: one row per direction (follow.col.follower/followee/status); pair: one row per pair (follow.col.a/b/relation)",
  .values = "edge|pair"},
 {"follow.col.follower", CDC_C_STR, _C(follow_col_follower), 0, 0,
  "follower_id", "Follower column"},
 {"follow.col.followee", CDC_C_STR, _C(follow_col_followee), 0, 0,
  "followee_id", "Followee column"},
 {"follow.col.status", CDC_C_STR, _C(follow_col_status), 0, 0, "status",
  "Status column (1 = following)"},
 {"follow.col.time", CDC_C_STR, _C(follow_col_time), 0, 0, "updated_at",
  "Column giving the sorted-set score (follow time)"},
 {"follow.col.a", CDC_C_STR, _C(follow_col_a), 0, 0, "user_a",
  "follow.model=pair: first user of the pair"},
 {"follow.col.b", CDC_C_STR, _C(follow_col_b), 0, 0, "user_b",
  "follow.model=pair: second user of the pair"},
 {"follow.col.relation", CDC_C_STR, _C(follow_col_relation), 0, 0, "relation",
  "follow.model=pair: relation bits (1 = a follows b, 2 = b follows a, 3 = both)"},
 {"follow.col.time.ab", CDC_C_STR, _C(follow_col_time_ab), 0, 0, NULL,
  "follow.model=pair: score of a -> b (default follow.col.time)"},
 {"follow.col.time.ba", CDC_C_STR, _C(follow_col_time_ba), 0, 0, NULL,
  "follow.model=pair: score of b -> a (default follow.col.time)"},
 {"idem.table", CDC_C_STR, _C(idem_table), 0, 0, "idempotent_log",
  "Idempotency log table name"},
 {"idem.col.request", CDC_C_STR, _C(idem_col_request), 0, 0, "request_id",
  "Request id column"},
 {"idem.col.bizkey", CDC_C_STR, _C(idem_col_bizkey), 0, 0, "biz_key",
  "Business key column"},
 {"idem.col.status", CDC_C_STR, _C(idem_col_status), 0, 0, "status",
  "Status column (1 processing, 2 succeeded, 3 failed)"},
 {"idem.col.created", CDC_C_STR, _C(idem_col_created), 0, 0, "created_at",
  "Creation time column (TTL start)"},
 {"idem.ttl", CDC_C_MS, _C(idem_ttl_ms), 1000, CDC_CCONF_IDEM_TTL_MAX, "7d",
  "Idempotency record lifetime (Redis expiry at created_at + idem.ttl, and the reaper's cutoff)"},
 {"reaper.enable", CDC_C_BOOL, _C(reaper_enable), 0, 0, "false",
  "Delete expired idempotency rows from MySQL (one instance at a time)"},
 {"reaper.mysql.host", CDC_C_STR, _C(reaper_host), 0, 0, "127.0.0.1",
  "Reaper MySQL host"},
 {"reaper.mysql.port", CDC_C_INT, _C(reaper_port), 1, 65535, "3306",
  "Reaper MySQL port"},
 {"reaper.mysql.socket", CDC_C_STR, _C(reaper_socket), 0, 0, NULL,
  "Reaper MySQL unix socket (instead of host/port)"},
 {"reaper.mysql.shards", CDC_C_STR, _C(reaper_shards), 0, 0, NULL,
  "Sharded sources: host:port (or /unix/socket) of each shard, comma separated; one reaper per shard (instead of host/port/socket)"},
 {"reaper.mysql.user", CDC_C_STR, _C(reaper_user), 0, 0,
  "followcdc_consumer", "Reaper MySQL user (SELECT, DELETE on the table)"},
 {"reaper.mysql.password", CDC_C_SECRET, _C(reaper_password), 0, 0, NULL,
  "Reaper MySQL password"},
 {"reaper.mysql.db", CDC_C_STR, _C(reaper_db), 0, 0, NULL,
  "Reaper database (default source.db)"},
 {"reaper.mysql.ssl.mode", CDC_C_ENUM, _C(reaper_ssl_mode), 0, 0, "preferred",
  "TLS to the reaper's MySQL: disabled, preferred (TLS if offered, "
  "unverified), required, verify-ca (signed by reaper.mysql.ssl.ca), "
  "verify-identity (and naming reaper.mysql.host)",
  .values = CDC_MYSQL_SSL_MODES},
 {"reaper.mysql.ssl.ca", CDC_C_STR, _C(reaper_ssl_ca), 0, 0, NULL,
  "CA certificate file (PEM) the server's certificate must chain to"},
 {"reaper.mysql.ssl.cert", CDC_C_STR, _C(reaper_ssl_cert), 0, 0, NULL,
  "Client certificate file (PEM), for accounts that REQUIRE X509"},
 {"reaper.mysql.ssl.key", CDC_C_STR, _C(reaper_ssl_key), 0, 0, NULL,
  "Private key file (PEM) of reaper.mysql.ssl.cert"},
 {"reaper.statuses", CDC_C_STR, _C(reaper_statuses), 0, 0, "2",
  "Comma separated statuses that may be reaped (1 processing is refused)"},
 {"reaper.batch.size", CDC_C_INT, _C(reaper_batch), 1, 100000, "500",
  "Rows per DELETE"},
 {"reaper.pause.ms", CDC_C_MS, _C(reaper_pause_ms), 0, 600000, "200",
  "Pause between two DELETE batches"},
 {"reaper.interval", CDC_C_MS, _C(reaper_interval_ms), 100, 86400000, "60s",
  "Time between two reaping rounds (also the lock retry period)"},
 {"http.listen", CDC_C_STR, _C(http_listen), 0, 0, "",
  "`host:port` of /metrics /healthz /readyz (empty: off)"},
 {"shutdown.timeout.ms", CDC_C_MS, _C(shutdown_timeout_ms), 0, 600000,
  "10000", "Max time spent flushing to Redis on SIGTERM"},
 {NULL}};
/* clang-format on */

const cdc_prop_t *cdc_cconf_props(void) {
        return cconf_props;
}

/* Finalize errors outlive the call: the engine prints them afterwards. */
static char cconf_errbuf[512];

cdc_err_t cdc_cconf_init(cdc_cconf_t *cc, char *errstr, size_t errstr_size) {
        memset(cc, 0, sizeof(*cc));
        cc->cc_conf = cdc_conf_new("followcdc-consumer", cconf_props, cc,
                                   errstr, errstr_size);
        return cc->cc_conf ? CDC_ERR_NO_ERROR : CDC_ERR__CONFIG;
}

static void cconf_clear_derived(cdc_cconf_t *cc) {
        int i;
        for (i = 0; i < cc->cc_topic_cnt; i++) {
                free(cc->cc_topics[i]);
                cc->cc_topics[i] = NULL;
        }
        cc->cc_topic_cnt = 0;
        free(cc->cc_dlq);
        cc->cc_dlq = NULL;
        for (i = 0; i < cc->cc_source_cnt; i++) {
                free(cc->cc_sources[i]);
                cc->cc_sources[i] = NULL;
        }
        cc->cc_source_cnt = 0;
        for (i = 0; i < cc->cc_reaper_shard_cnt; i++) {
                free(cc->cc_reaper_shards[i]);
                cc->cc_reaper_shards[i] = NULL;
        }
        cc->cc_reaper_shard_cnt = 0;
}

void cdc_cconf_destroy(cdc_cconf_t *cc) {
        if (!cc)
                return;
        cconf_clear_derived(cc);
        cdc_conf_destroy(cc->cc_conf);
        cc->cc_conf = NULL;
}

int cdc_cconf_parse_time_ms(const char *s, int64_t *msp) {
        const char *p = s;
        int64_t v     = 0;

        if (!s || !*s)
                return -1;
        while (isdigit((unsigned char)*p)) {
                if (v > (INT64_MAX - 9) / 10)
                        return -1;
                v = v * 10 + (*p - '0');
                p++;
        }
        if (!*p && p - s >= 1 && p - s != 4) {
                /* plain ms since the epoch (a bare year is not one) */
                *msp = v;
                return 0;
        }
        return cdc_time_parse_ms(s, msp);
}

/* Split "a, b,c" into trimmed owned strings. On failure (more than
 * \p max, out of memory) nothing is left allocated and *cntp is 0. */
static int cconf_split(const char *list, char **out, int max, int *cntp) {
        const char *p = list;
        int n         = 0;

        *cntp = 0;
        while (p && *p) {
                const char *end = strchr(p, ',');
                size_t len      = end ? (size_t)(end - p) : strlen(p);
                while (len && isspace((unsigned char)*p)) {
                        p++;
                        len--;
                }
                while (len && isspace((unsigned char)p[len - 1]))
                        len--;
                if (len) {
                        if (n == max)
                                goto fail;
                        out[n] = strndup(p, len);
                        if (!out[n])
                                goto fail;
                        n++;
                }
                p = end ? end + 1 : NULL;
        }
        *cntp = n;
        return 0;
fail:
        while (n > 0) {
                free(out[--n]);
                out[n] = NULL;
        }
        return -1;
}

static int cconf_ident_ok(const char *s) {
        const unsigned char *p = (const unsigned char *)s;
        if (!s || !*s || strlen(s) > 64)
                return 0;
        for (; *p; p++)
                if (!isalnum(*p) && *p != '_' && *p != '$')
                        return 0;
        return 1;
}

static const char *cconf_fail(const char *fmt, const char *a) {
        snprintf(cconf_errbuf, sizeof(cconf_errbuf), fmt, a ? a : "");
        return cconf_errbuf;
}

const char *cdc_cconf_finalize(void *base) {
        cdc_cconf_t *cc                  = base;
        const char *gid                  = NULL;
        char *st[CDC_CCONF_MAX_STATUSES] = { 0 };
        char t[256];
        int i, n = 0;
        const char *idents[][2] = {
                { "follow.table", cc->follow_table },
                { "follow.col.follower", cc->follow_col_follower },
                { "follow.col.followee", cc->follow_col_followee },
                { "follow.col.status", cc->follow_col_status },
                { "follow.col.time", cc->follow_col_time },
                { "follow.col.a", cc->follow_col_a },
                { "follow.col.b", cc->follow_col_b },
                { "follow.col.relation", cc->follow_col_relation },
                { "idem.table", cc->idem_table },
                { "idem.col.request", cc->idem_col_request },
                { "idem.col.bizkey", cc->idem_col_bizkey },
                { "idem.col.status", cc->idem_col_status },
                { "idem.col.created", cc->idem_col_created },
        };

        cconf_clear_derived(cc);

        for (i = 0; i < (int)(sizeof(idents) / sizeof(*idents)); i++)
                if (!cconf_ident_ok(idents[i][1]))
                        return cconf_fail("%s: not a plain SQL identifier",
                                          idents[i][0]);
        if (!cc->source_name || !*cc->source_name || !cc->source_db ||
            !*cc->source_db)
                return "source.name and source.db must not be empty";

        /* model */
        cc->cc_follow_model = cc->follow_model == 1 ? CDC_APPLY_MODEL_PAIR
                                                    : CDC_APPLY_MODEL_EDGE;
        if (cc->follow_col_time_ab && *cc->follow_col_time_ab &&
            !cconf_ident_ok(cc->follow_col_time_ab))
                return "follow.col.time.ab: not a plain SQL identifier";
        if (cc->follow_col_time_ba && *cc->follow_col_time_ba &&
            !cconf_ident_ok(cc->follow_col_time_ba))
                return "follow.col.time.ba: not a plain SQL identifier";
        if (!strcmp(cc->follow_table, cc->idem_table))
                return "follow.table and idem.table must differ";

        /* sources: source.name (the home source) first, then the others */
        if (cdc_topic_name(t, sizeof(t), cc->source_name, "x", "x"))
                return "source.name: not a legal topic prefix "
                       "([A-Za-z0-9._-])";
        cc->cc_sources[0] = strdup(cc->source_name);
        if (!cc->cc_sources[0])
                return "out of memory";
        cc->cc_source_cnt = 1;
        if (cc->sources && *cc->sources) {
                char *sv[CDC_CCONF_MAX_SOURCES] = { 0 };
                int home                        = 0, j;

                if (cconf_split(cc->sources, sv, CDC_CCONF_MAX_SOURCES, &n)) {
                        for (i = 0; i < CDC_CCONF_MAX_SOURCES; i++)
                                free(sv[i]);
                        return "sources: too many sources (max 32)";
                }
                for (i = 0; i < n; i++) {
                        const char *why = NULL;

                        if (cdc_topic_name(t, sizeof(t), sv[i], "x", "x"))
                                why = "sources: \"%s\" is not a legal "
                                      "topic prefix ([A-Za-z0-9._-])";
                        for (j = 0; !why && j < cc->cc_source_cnt; j++)
                                if (j > 0 && !strcmp(cc->cc_sources[j], sv[i]))
                                        why = "sources: \"%s\" twice";
                        if (why) {
                                cconf_fail(why, sv[i]);
                                for (j = i; j < n; j++)
                                        free(sv[j]);
                                return cconf_errbuf;
                        }
                        if (!strcmp(sv[i], cc->source_name)) {
                                home = 1;
                                free(sv[i]);
                                continue;
                        }
                        cc->cc_sources[cc->cc_source_cnt++] = sv[i];
                }
                n = 0;
                if (!home)
                        return "sources: must include source.name (the "
                               "home source)";
        }

        /* topics */
        if (cc->topics && *cc->topics) {
                if (cconf_split(cc->topics, cc->cc_topics, CDC_CCONF_MAX_TOPICS,
                                &cc->cc_topic_cnt))
                        return "topics: too many topics (max 64)";
        } else {
                const char *tabs[2] = { cc->follow_table, cc->idem_table };
                int s;

                if (cc->cc_source_cnt * 2 > CDC_CCONF_MAX_TOPICS)
                        return "sources: too many topics (max 64)";
                for (s = 0; s < cc->cc_source_cnt; s++)
                        for (i = 0; i < 2; i++) {
                                char **slot = &cc->cc_topics[cc->cc_topic_cnt];

                                if (cdc_topic_name(t, sizeof(t),
                                                   cc->cc_sources[s],
                                                   cc->source_db, tabs[i]))
                                        return "source.name/source.db: not "
                                               "a legal topic name";
                                *slot = strdup(t);
                                if (!*slot)
                                        return "out of memory";
                                cc->cc_topic_cnt++;
                        }
        }
        if (!cc->cc_topic_cnt)
                return "topics: empty";

        /* dead-letter topic */
        if (cc->dlq_topic && *cc->dlq_topic) {
                cc->cc_dlq = strdup(cc->dlq_topic);
        } else {
                size_t len = strlen(cc->source_name) + 5;
                cc->cc_dlq = malloc(len);
                if (cc->cc_dlq)
                        snprintf(cc->cc_dlq, len, "%s.dlq", cc->source_name);
        }
        if (!cc->cc_dlq)
                return "out of memory";
        for (i = 0; i < cc->cc_topic_cnt; i++)
                if (!strcmp(cc->cc_topics[i], cc->cc_dlq))
                        return "dlq.topic: must differ from every "
                               "consumed topic";

        /* statuses: never "processing" (1): a live request must keep its
         * idempotency row however old it is. */
        if (cconf_split(cc->reaper_statuses, st, CDC_CCONF_MAX_STATUSES, &n))
                return "reaper.statuses: too many statuses";
        cc->cc_status_cnt = 0;
        for (i = 0; i < n; i++) {
                char *end = NULL;
                long v;
                errno = 0;
                v     = strtol(st[i], &end, 10);
                if (errno || !end || *end || v < 0 || v > 255) {
                        cconf_fail("reaper.statuses: \"%s\" is not a status "
                                   "number",
                                   st[i]);
                        goto bad;
                }
                if (v == 1) {
                        cconf_fail("reaper.statuses: %s (processing) may "
                                   "never be reaped",
                                   st[i]);
                        goto bad;
                }
                cc->cc_statuses[cc->cc_status_cnt++] = (int)v;
        }
        for (i = 0; i < n; i++)
                free(st[i]);
        if (cc->reaper_enable && !cc->cc_status_cnt)
                return "reaper.statuses: empty";
        if (cc->reaper_shards && *cc->reaper_shards) {
                if (cconf_split(cc->reaper_shards, cc->cc_reaper_shards,
                                CDC_CCONF_MAX_SOURCES,
                                &cc->cc_reaper_shard_cnt))
                        return "reaper.mysql.shards: too many shards (max "
                               "32)";
                for (i = 0; i < cc->cc_reaper_shard_cnt; i++) {
                        const char *sh = cc->cc_reaper_shards[i];
                        char host[256];
                        int port;

                        if (cdc_cconf_parse_shard(sh, host, sizeof(host),
                                                  &port) != 0)
                                return cconf_fail(
                                        "reaper.mysql.shards: \"%s\" is "
                                        "neither host:port nor /socket",
                                        sh);
                }
        }
        if (cc->reaper_enable &&
            cdc_mysql_ssl_check("reaper.mysql.ssl", cc->reaper_ssl_mode,
                                cc->reaper_ssl_ca, cc->reaper_ssl_cert,
                                cc->reaper_ssl_key, cconf_errbuf,
                                sizeof(cconf_errbuf)))
                return cconf_errbuf;

        /* redis */
        if (cc->redis_cluster_nodes && *cc->redis_cluster_nodes) {
                char why[160];

                if (cdc_rcluster_parse_nodes(cc->redis_cluster_nodes, why,
                                             sizeof(why)) < 0)
                        return cconf_fail("redis.cluster.nodes: %s", why);
                if (cc->redis_db != 0)
                        return "redis.db: a Redis Cluster has only database "
                               "0 (unset redis.db or redis.cluster.nodes)";
        }
        if (cc->redis_wait_replicas > 0 &&
            cc->redis_wait_timeout_ms >= cc->redis_timeout_ms)
                return "redis.wait.timeout.ms must be below "
                       "redis.timeout.ms (WAIT blocks the connection that "
                       "long)";

        /* replay */
        cc->cc_replay = cc->replay_mode ? CDC_REPLAY_EARLIEST : CDC_REPLAY_NONE;
        if (cc->replay_from && *cc->replay_from) {
                if (cc->cc_replay != CDC_REPLAY_NONE)
                        return "replay and replay.from are exclusive";
                if (cdc_cconf_parse_time_ms(cc->replay_from,
                                            &cc->cc_replay_ts_ms))
                        return cconf_fail("replay.from: \"%s\" is neither "
                                          "YYYY-MM-DDTHH:MM:SS[.fff]Z nor "
                                          "ms since the epoch",
                                          cc->replay_from);
                cc->cc_replay = CDC_REPLAY_TIME;
        }

        gid = cdc_conf_kafka_get(cc->cc_conf, "group.id");
        snprintf(cc->cc_group_id, sizeof(cc->cc_group_id), "%s",
                 gid ? gid : "followcdc-redis");
        return NULL;
bad:
        for (i = 0; i < n; i++)
                free(st[i]);
        return cconf_errbuf;
}

void cdc_cconf_apply_conf(const cdc_cconf_t *cc, cdc_apply_conf_t *ac) {
        memset(ac, 0, sizeof(*ac));
        ac->redis_host          = cc->redis_host;
        ac->redis_port          = (int)cc->redis_port;
        ac->redis_password      = cc->redis_password;
        ac->redis_user          = cc->redis_user;
        ac->redis_db            = (int)cc->redis_db;
        ac->redis_timeout_ms    = (int)cc->redis_timeout_ms;
        ac->key_prefix          = cc->redis_key_prefix;
        ac->follow_table        = cc->follow_table;
        ac->follow_col_follower = cc->follow_col_follower;
        ac->follow_col_followee = cc->follow_col_followee;
        ac->follow_col_status   = cc->follow_col_status;
        ac->follow_col_time     = cc->follow_col_time;
        ac->follow_model        = cc->cc_follow_model;
        ac->pair_col_a          = cc->follow_col_a;
        ac->pair_col_b          = cc->follow_col_b;
        ac->pair_col_relation   = cc->follow_col_relation;
        ac->pair_col_time_ab = cc->follow_col_time_ab && *cc->follow_col_time_ab
                                       ? cc->follow_col_time_ab
                                       : NULL;
        ac->pair_col_time_ba = cc->follow_col_time_ba && *cc->follow_col_time_ba
                                       ? cc->follow_col_time_ba
                                       : NULL;
        ac->home_source      = cc->source_name;
        ac->idem_table       = cc->idem_table;
        ac->idem_col_request = cc->idem_col_request;
        ac->idem_col_bizkey  = cc->idem_col_bizkey;
        ac->idem_col_status  = cc->idem_col_status;
        ac->idem_col_created = cc->idem_col_created;
        ac->idem_ttl_ms      = cc->idem_ttl_ms;
        ac->max_batch        = (int)cc->redis_pipeline;
        ac->push_every       = (int)cc->redis_pipeline_ahead;
        ac->redis_cluster_nodes   = cc->redis_cluster_nodes;
        ac->redis_wait_replicas   = (int)cc->redis_wait_replicas;
        ac->redis_wait_timeout_ms = (int)cc->redis_wait_timeout_ms;
        ac->redis_tls             = cc->redis_tls;
        ac->redis_tls_ca          = cc->redis_tls_ca;
        ac->redis_tls_cert        = cc->redis_tls_cert;
        ac->redis_tls_key         = cc->redis_tls_key;
        ac->redis_tls_server_name = cc->redis_tls_server_name;
        ac->redis_tls_no_verify   = !cc->redis_tls_verify;
}

int cdc_cconf_parse_shard(const char *spec, char *host, size_t host_size,
                          int *portp) {
        const char *colon;
        char *end = NULL;
        long port;
        size_t n;

        if (!spec || !*spec)
                return -1;
        /* the spec also names the shard in logs and metric labels */
        for (colon = spec; *colon; colon++)
                if ((unsigned char)*colon <= ' ' || *colon == '"' ||
                    *colon == '\\' || (unsigned char)*colon >= 0x7f)
                        return -1;
        if (spec[0] == '/') { /* a unix socket */
                if (strlen(spec) >= host_size)
                        return -1;
                snprintf(host, host_size, "%s", spec);
                *portp = 0;
                return 0;
        }
        colon = strrchr(spec, ':');
        if (!colon || colon == spec)
                return -1;
        n = (size_t)(colon - spec);
        if (n >= host_size)
                return -1;
        errno = 0;
        port  = strtol(colon + 1, &end, 10);
        if (errno || !end || *end || end == colon + 1 || port < 1 ||
            port > 65535)
                return -1;
        memcpy(host, spec, n);
        host[n] = '\0';
        *portp  = (int)port;
        return 0;
}

char **cdc_cconf_argv_dup(int argc, char **argv) {
        static const char alias[] = "--replay-from";
        char **v                  = calloc((size_t)argc + 1, sizeof(*v));
        int i;

        if (!v)
                return NULL;
        for (i = 0; i < argc; i++) {
                const char *a = argv[i];
                size_t al     = sizeof(alias) - 1;
                if (!strncmp(a, alias, al) && (a[al] == '=' || !a[al])) {
                        size_t len = strlen(a) + 1;
                        v[i]       = malloc(len);
                        if (v[i])
                                snprintf(v[i], len, "--replay.from%s", a + al);
                } else {
                        v[i] = strdup(a);
                }
                if (!v[i]) {
                        cdc_cconf_argv_free(v);
                        return NULL;
                }
        }
        return v;
}

void cdc_cconf_argv_free(char **argv) {
        char **p;
        if (!argv)
                return;
        for (p = argv; *p; p++)
                free(*p);
        free(argv);
}
