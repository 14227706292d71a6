/**
 * @file cdc_engine.c
 * @brief followcdc-consumer's engine and its run loop (see cdc_engine.h):
 *        the steps, the state switch. Metrics, readiness and setup:
 *        cdc_engine_setup.c.
 */
#include "cdc_engine.h"
#include "cdc_engine_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdc_apply.h"
#include "cdc_backoff.h"
#include "cdc_batch.h"
#include "cdc_dlq.h"
#include "cdc_kcons.h"
#include "cdc_log.h"
#include "cdc_metrics.h"
#include "cdc_reaper.h"
#include "cdc_retry.h"
#include "cdc_rloss.h"

/* Longest single poll: how soon SIGTERM and the backoff end are seen. */
#define ENGINE_POLL_MS    100
/* One wait for dead-letter acknowledgements. */
#define ENGINE_LETTERS_MS 500

static const char *const engine_state_names[] = {
        "gather", "add",     "flush", "letters", "resend",
        "store",  "backoff", "drop",  "check",   "stop",
};

/* ---- steps ---- */

static void engine_set_state(cdc_engine_t *eng, engine_state_t st) {
        if (eng->e_state != st)
                cdc_dbg(KCONS, "CONSUMER", "state %s -> %s",
                        engine_state_names[eng->e_state],
                        engine_state_names[st]);
        eng->e_state = st;
}

/* Shutting down and the time to finish is over? */
static int engine_deadline_passed(cdc_engine_t *eng) {
        if (eng->e_redis_fatal)
                return 1; /* nothing to wait for: it will not work */
        if (*eng->e_run && !cdc_kcons_fatal(eng->e_kc))
                return 0;
        if (!eng->e_deadline_us)
                eng->e_deadline_us =
                        cdc_now_us() + eng->e_cc->shutdown_timeout_ms * 1000;
        return cdc_now_us() >= eng->e_deadline_us;
}

/* A step failed: back off, then retry \p retry. */
static void engine_fail(cdc_engine_t *eng, engine_state_t retry) {
        eng->e_retry      = retry;
        eng->e_backoff_ms = cdc_backoff_next_ms(eng->e_bo, cdc_now_us());
        /* every assigned partition is paused while the batch waits */
        cdc_metric_set(eng->m_stalled, cdc_kcons_assigned(eng->e_kc));
        engine_set_state(eng, ENGINE_S_BACKOFF);
}

/* Resume fetching after a pause (settled, dropped or revoked). */
static void engine_unpause(cdc_engine_t *eng) {
        if (!eng->e_paused)
                return;
        cdc_kcons_pause(eng->e_kc, 0);
        eng->e_paused = 0;
}

/* Poll for up to \p ms with the partitions paused, so the group
 * membership stays alive while a batch waits; whatever is returned (a
 * partition assigned meanwhile) is carried to the next batch. Returns
 * early when a rebalance changed the state or the deadline passed. */
static void engine_idle(cdc_engine_t *eng, int ms) {
        int64_t end          = cdc_now_us() + (int64_t)ms * 1000;
        uint64_t rebal       = cdc_kcons_rebalances(eng->e_kc);
        engine_state_t state = eng->e_state;

        if (!eng->e_paused) {
                cdc_kcons_pause(eng->e_kc, 1);
                eng->e_paused = 1;
        }
        while (eng->e_state == state && !engine_deadline_passed(eng)) {
                int64_t left = (end - cdc_now_us()) / 1000;
                rd_kafka_message_t *rkm;
                if (left < 0)
                        break;
                cdc_http_alive(eng->e_http); /* liveness: waiting is progress */
                rkm = cdc_kcons_poll(eng->e_kc, left > ENGINE_POLL_MS
                                                        ? ENGINE_POLL_MS
                                                        : (int)left);
                if (cdc_kcons_rebalances(eng->e_kc) != rebal) {
                        /* assigned partitions start unpaused */
                        rebal = cdc_kcons_rebalances(eng->e_kc);
                        if (eng->e_paused)
                                cdc_kcons_pause(eng->e_kc, 1);
                        engine_metrics_group(eng);
                        eng->e_loss_due = 1;
                }
                if (rkm)
                        cdc_batch_carry(eng->e_b, rkm);
                engine_metrics_lag(eng); /* still moving while stalled */
                if (left == 0)
                        break;
        }
}

/* A Redis setting that contradicts the server (a Redis Cluster node as
 * redis.host, or the reverse) is not retried: stop with exit 2. */
static int engine_redis_fatal(cdc_engine_t *eng, cdc_err_t err) {
        if (err != CDC_ERR__CONFIG)
                return 0;
        cdc_log(LOG_CRIT, "CONSUMER", "%s", cdc_apply_errstr(eng->e_ap));
        eng->e_redis_fatal = 1;
        return 1;
}

/* Redis: connect if needed and flush. @returns 0 when acknowledged, else
 * -1 with the reason in \p why (the caller reports it: cdc_retry). */
int engine_redis_once(cdc_engine_t *eng, char *why, size_t why_size) {
        size_t n;
        int64_t t0;
        cdc_err_t err;

        why[0] = '\0';
        if (eng->e_redis_fatal)
                return -1;
        if (!eng->e_redis_up) {
                err = cdc_apply_connect(eng->e_ap);
                if (engine_redis_fatal(eng, err))
                        return -1;
                if (err) {
                        cdc_metric_add(eng->m_redis_err, 1);
                        snprintf(why, why_size, "connect to %s:%" PRId64 ": %s",
                                 eng->e_cc->redis_host, eng->e_cc->redis_port,
                                 cdc_apply_errstr(eng->e_ap));
                        return -1;
                }
                if (!cdc_retry_failing(&eng->e_rl_redis))
                        cdc_log(LOG_NOTICE, "CONSUMER",
                                "connected to redis %s:%" PRId64,
                                eng->e_cc->redis_host, eng->e_cc->redis_port);
                eng->e_redis_up = 1;
                cdc_metric_set(eng->m_redis_up, 1);
                /* a new connection may reach a Redis that restarted
                 * empty: check its markers before the next batch */
                eng->e_loss_due = 1;
        }
        n = cdc_apply_pending(eng->e_ap);
        if (n) {
                t0  = cdc_now_us();
                err = cdc_apply_flush(eng->e_ap);
                if (engine_redis_fatal(eng, err))
                        return -1;
                if (err) {
                        cdc_metric_add(eng->m_redis_err, 1);
                        snprintf(why, why_size,
                                 "flush of %zu script(s): %s (offsets held)",
                                 cdc_apply_pending(eng->e_ap),
                                 cdc_apply_errstr(eng->e_ap));
                        eng->e_redis_up = 0;
                        cdc_metric_set(eng->m_redis_up, 0);
                        return -1;
                }
                cdc_dbg(APPLY, "APPLY",
                        "flushed %zu script(s) in %" PRId64 "us", n,
                        cdc_now_us() - t0);
        }
        cdc_retry_ok(&eng->e_rl_redis, cdc_now_us());
        return 0;
}

/* Drop the batch without storing: its messages will be read again. */
static void engine_drop_batch(cdc_engine_t *eng) {
        size_t n = cdc_batch_drop(eng->e_b);
        if (n) {
                cdc_log(LOG_NOTICE, "CONSUMER",
                        "dropping %zu unacknowledged message(s); they will be "
                        "delivered again",
                        n);
                cdc_metric_add(eng->m_dropped, 1);
        }
        eng->e_dlq_failing = 0;
        cdc_metric_set(eng->m_stalled, 0);
}

static void engine_store_batch(cdc_engine_t *eng) {
        cdc_batch_store(eng->e_b);
        cdc_metric_add(eng->m_batches, 1);
        cdc_metric_set(eng->m_stalled, 0);
        engine_metrics_sync(eng);
}

/* GATHER: adaptive batching. Block only while the batch is empty; once
 * a message is in, take what librdkafka has already fetched and apply as
 * soon as that is drained: a lone change is applied at once, and under
 * load the fetch queue keeps batches full (a batch ends at batch.size,
 * batch.bytes or batch.ms, whichever comes first). */
static void engine_gather(cdc_engine_t *eng) {
        rd_kafka_message_t *rkm;
        size_t n = cdc_batch_count(eng->e_b);

        cdc_http_alive(eng->e_http); /* liveness (/healthz): gathering */
        if (!*eng->e_run || cdc_kcons_fatal(eng->e_kc) || eng->e_redis_fatal) {
                /* SIGTERM: finish what is gathered, then stop */
                engine_set_state(eng, n ? ENGINE_S_ADD : ENGINE_S_STOP);
                return;
        }
        if (!n && eng->e_rl &&
            (eng->e_loss_due || cdc_now_us() >= eng->e_loss_next_us)) {
                /* between batches: nothing is queued for Redis */
                engine_set_state(eng, ENGINE_S_CHECK);
                return;
        }
        if (n &&
            (cdc_batch_full(eng->e_b) ||
             cdc_now_us() - eng->e_gather_us >= eng->e_cc->batch_ms * 1000)) {
                engine_set_state(eng, ENGINE_S_ADD);
                return;
        }
        rkm = cdc_kcons_poll(eng->e_kc, 0);
        if (!rkm && !n) {
                /* The queue ran dry at a batch's start: wake a fetcher
                 * stalled on a full queue before waiting, not after the
                 * wait timed out (the loop then sat up to ENGINE_POLL_MS
                 * without messages, Redis idle: 40 % of a backlog's time). */
                cdc_kcons_refill(eng->e_kc, (int)eng->e_cc->batch_size);
                rkm = cdc_kcons_poll(eng->e_kc, ENGINE_POLL_MS);
        }
        if (cdc_kcons_rebalances(eng->e_kc) != eng->e_rebalances) {
                eng->e_rebalances = cdc_kcons_rebalances(eng->e_kc);
                engine_metrics_group(eng);
                eng->e_loss_due = 1; /* new partitions: their fields */
        }
        if (!rkm) {
                /* drained (or idle): a fetcher stalled on a full queue
                 * fetches again now, not up to 1 s later */
                cdc_kcons_refill(eng->e_kc, (int)eng->e_cc->batch_size);
                /* apply what there is */
                if (cdc_batch_count(eng->e_b))
                        engine_set_state(eng, ENGINE_S_ADD);
                else
                        engine_metrics_sync(eng);
                return;
        }
        /* a rebalance inside the poll may have stored or dropped the
         * batch: count again */
        if (!cdc_batch_count(eng->e_b))
                eng->e_gather_us = cdc_now_us();
        if (cdc_batch_push(eng->e_b, rkm))
                engine_set_state(eng, ENGINE_S_ADD);
}

/* ADD: parse and queue; a full pipeline is flushed mid-batch. */
static void engine_add(cdc_engine_t *eng) {
        switch (cdc_batch_add(eng->e_b)) {
        case CDC_ERR_NO_ERROR:
                eng->e_after_flush = ENGINE_S_LETTERS;
                engine_set_state(eng, ENGINE_S_FLUSH);
                break;
        case CDC_ERR__QUEUE_FULL:
                eng->e_after_flush = ENGINE_S_ADD;
                engine_set_state(eng, ENGINE_S_FLUSH);
                break;
        default:
                /* out of memory: not the messages' fault, read them again */
                engine_set_state(eng, ENGINE_S_DROP);
                break;
        }
}

static void engine_flush(cdc_engine_t *eng) {
        char why[512];

        if (engine_redis_once(eng, why, sizeof(why))) {
                if (eng->e_redis_fatal) {
                        engine_set_state(eng, ENGINE_S_DROP);
                        return;
                }
                engine_fail(eng, ENGINE_S_FLUSH);
                cdc_retry_fail(&eng->e_rl_redis, cdc_now_us(),
                               eng->e_backoff_ms, "%s", why);
                return;
        }
        cdc_backoff_reset(eng->e_bo);
        engine_set_state(eng, eng->e_after_flush);
}

static void engine_letters(cdc_engine_t *eng) {
        char es[256];
        cdc_err_t err;

        es[0] = '\0';
        err   = cdc_batch_letters(eng->e_b, ENGINE_LETTERS_MS, es, sizeof(es));
        switch (err) {
        case CDC_ERR_NO_ERROR:
                if (cdc_retry_ok(&eng->e_rl_dlq, cdc_now_us()))
                        cdc_backoff_reset(eng->e_bo);
                eng->e_dlq_failing = 0;
                engine_set_state(eng, ENGINE_S_STORE);
                break;
        case CDC_ERR__TIMED_OUT:
                /* in flight: keep the group served meanwhile */
                engine_idle(eng, 0);
                break;
        default:
                cdc_metric_add(eng->m_dlq_err, 1);
                eng->e_dlq_failing = 1;
                engine_fail(eng, ENGINE_S_RESEND);
                cdc_retry_fail(&eng->e_rl_dlq, cdc_now_us(), eng->e_backoff_ms,
                               "%s%s", es,
                               cdc_batch_letters_refused(eng->e_b)
                                       ? " (refused for good until the "
                                         "topic or its ACLs are fixed; "
                                         "partition stalled, offsets held)"
                                       : " (offsets held)");
                break;
        }
}

static void engine_backoff(cdc_engine_t *eng) {
        if (engine_deadline_passed(eng)) {
                engine_set_state(eng, ENGINE_S_DROP);
                return;
        }
        engine_idle(eng, eng->e_backoff_ms);
        if (eng->e_state != ENGINE_S_BACKOFF)
                return; /* revoked meanwhile: the batch is gone */
        engine_set_state(eng, engine_deadline_passed(eng) ? ENGINE_S_DROP
                                                          : eng->e_retry);
}

/* A marker check failed (a reply error such as OOM, WRONGTYPE or NOPERM,
 * or Redis away): it is retried after a growing backoff, not at once. The
 * check runs before the next poll, so retrying it at once would keep the
 * consumer from fetching and from serving the group for as long as Redis
 * refuses it, silently. Batches go on meanwhile: they are version-checked,
 * and a loss found by a later check still replays from the beginning. */
static void engine_loss_failed(cdc_engine_t *eng, cdc_err_t err) {
        int64_t now = cdc_now_us();
        int ms      = cdc_backoff_next_ms(eng->e_loss_bo, now);

        eng->e_loss_due     = 0;
        eng->e_loss_next_us = now + (int64_t)ms * 1000;
        cdc_metric_add(eng->m_loss_errors, 1);
        cdc_retry_fail(&eng->e_rl_loss, now, ms, "%s",
                       cdc_rloss_errstr(eng->e_rl));
        if (err == CDC_ERR__TRANSPORT) {
                eng->e_redis_up = 0;
                cdc_metric_set(eng->m_redis_up, 0);
        }
}

/* Check the markers for the partitions of \p asg and replay those that
 * need it: committed first, recorded on the markers after, so an
 * instance that stops half way leaves the replay to the next owner.
 * \p assigning: \p asg is being assigned (inside the rebalance callback,
 * nothing fetched yet): a replay sets its start offsets in \p asg.
 * Otherwise the partitions are assigned and fetching: a replay seeks. */
static void engine_loss_run(cdc_engine_t *eng,
                            rd_kafka_topic_partition_list_t *asg,
                            int assigning) {
        rd_kafka_topic_partition_list_t *again = NULL;
        cdc_rloss_part_t *parts                = NULL;
        cdc_rloss_result_t res;
        char list[768];
        size_t off = 0;
        cdc_err_t err;
        int i;

        parts = calloc((size_t)asg->cnt + 1, sizeof(*parts));
        if (!parts)
                return;
        for (i = 0; i < asg->cnt; i++) {
                parts[i].topic     = asg->elems[i].topic;
                parts[i].partition = asg->elems[i].partition;
        }
        err = cdc_rloss_check(eng->e_rl, cdc_apply_router(eng->e_ap), parts,
                              asg->cnt, &res);
        if (err) {
                engine_loss_failed(eng, err);
                goto out;
        }
        cdc_backoff_reset(eng->e_loss_bo);
        cdc_retry_ok(&eng->e_rl_loss, cdc_now_us());
        cdc_metric_add(eng->m_loss_checks, 1);
        if (res.lost) {
                cdc_metric_add(eng->m_loss, res.lost);
                cdc_log(LOG_WARNING, "RLOSS",
                        "redis %s: marker missing: the node lost its data "
                        "(or is new and empty); every partition is replayed "
                        "from its beginning to rebuild it",
                        res.nodes);
        }
        if (!res.replay)
                goto out;
        again = rd_kafka_topic_partition_list_new(res.replay);
        if (!again)
                goto out;
        list[0] = '\0';
        for (i = 0; i < asg->cnt; i++) {
                if (!parts[i].replay)
                        continue;
                rd_kafka_topic_partition_list_add(again, parts[i].topic,
                                                  parts[i].partition);
                if (off < sizeof(list) - 1)
                        off += (size_t)snprintf(list + off, sizeof(list) - off,
                                                "%s%s[%" PRId32 "]",
                                                off ? " " : "", parts[i].topic,
                                                parts[i].partition);
                if (off >= sizeof(list))
                        off = sizeof(list) - 1;
        }
        if (assigning) {
                if (cdc_kcons_commit_beginning(eng->e_kc, again)) {
                        /* not recorded: the check between batches asks
                         * again (and seeks) */
                        eng->e_loss_due = 1;
                        goto out;
                }
                for (i = 0; i < again->cnt; i++)
                        rd_kafka_topic_partition_list_find(
                                asg, again->elems[i].topic,
                                again->elems[i].partition)
                                ->offset = again->elems[i].offset;
        } else {
                /* nothing is gathered (checked between batches); carried
                 * messages would be read again anyway */
                cdc_batch_drop_carried(eng->e_b, 1);
                if (cdc_kcons_restart(eng->e_kc, again)) {
                        /* Kafka refused (a rebalance, a broker away): not
                         * recorded, so the next check asks again; soon */
                        eng->e_loss_next_us = cdc_now_us() +
                                              ENGINE_BACKOFF_BASE_MS * 1000 * 5;
                        goto out;
                }
        }
        cdc_metric_add(eng->m_loss_replays, res.replay);
        cdc_log(LOG_NOTICE, "RLOSS",
                "replaying %d partition(s) from their beginning to rebuild "
                "Redis: %s",
                res.replay, list);
        if (cdc_rloss_mark(eng->e_rl, cdc_apply_router(eng->e_ap), parts,
                           asg->cnt))
                cdc_log(LOG_WARNING, "RLOSS",
                        "replay not recorded on the markers (%s): the next "
                        "check replays once more",
                        cdc_rloss_errstr(eng->e_rl));
out:
        if (again)
                rd_kafka_topic_partition_list_destroy(again);
        free(parts);
}

/* CHECK: between batches, each master's marker (cdc_rloss). A master
 * that lost its data, or assigned partitions whose replay since the
 * marker's creation is not recorded, make those partitions start again
 * at their beginning. */
static void engine_loss_check(cdc_engine_t *eng) {
        rd_kafka_topic_partition_list_t *asg;
        char es[512];

        engine_set_state(eng, ENGINE_S_GATHER);
        eng->e_loss_due = 0;
        eng->e_loss_next_us =
                cdc_now_us() + eng->e_cc->redis_loss_check_ms * 1000;
        if (engine_redis_once(eng, es, sizeof(es))) {
                /* down: the next batch's flush retries and reports */
                cdc_dbg(RSINK, "RLOSS", "marker check skipped: %s", es);
                eng->e_loss_due = 0;
                return;
        }
        eng->e_loss_due = 0; /* the connect above asked for this check */
        asg             = cdc_kcons_assignment(eng->e_kc);
        if (!asg)
                return;
        engine_loss_run(eng, asg, 0);
        rd_kafka_topic_partition_list_destroy(asg);
}

/* @locality main thread, inside cdc_kcons_poll(): partitions about to be
 * assigned, before their first fetch. Their markers are checked here, so
 * a replay starts with the assignment instead of a seek after fetching
 * began (which would read the start of the partition twice). Only with
 * Redis connected and nothing queued for it; otherwise the check between
 * batches does it (a rebalance always sets e_loss_due). */
void engine_assign_cb(void *opaque, rd_kafka_topic_partition_list_t *asg) {
        cdc_engine_t *eng = opaque;

        if (!eng->e_rl || !eng->e_b || !eng->e_redis_up || eng->e_redis_fatal ||
            cdc_apply_pending(eng->e_ap))
                return;
        engine_loss_run(eng, asg, 1);
}

/* Inside a revoke: one attempt to finish the gathered batch, without
 * polling or backing off; whatever fails drops it. */
static void engine_settle_once(cdc_engine_t *eng) {
        char es[512];
        cdc_err_t err;

        if (!cdc_batch_count(eng->e_b))
                return;
        for (;;) {
                err = cdc_batch_add(eng->e_b);
                if (err != CDC_ERR__QUEUE_FULL)
                        break;
                if (engine_redis_once(eng, es, sizeof(es)))
                        goto redis_down;
        }
        if (err)
                goto drop;
        if (engine_redis_once(eng, es, sizeof(es)))
                goto redis_down;
        if (cdc_batch_letters(eng->e_b, ENGINE_LETTERS_MS, es, sizeof(es)))
                goto drop;
        engine_store_batch(eng);
        return;
redis_down:
        if (es[0])
                cdc_retry_fail(&eng->e_rl_redis, cdc_now_us(), -1, "%s", es);
drop:
        engine_drop_batch(eng);
}

/* @locality main thread, inside cdc_kcons_poll() or cdc_kcons_close() */
void engine_revoke_cb(void *opaque,
                      const rd_kafka_topic_partition_list_t *parts) {
        cdc_engine_t *eng = opaque;
        (void)parts;

        cdc_metric_add(eng->m_rebal, 1);
        if (!eng->e_b)
                return; /* tearing down */
        switch (eng->e_state) {
        case ENGINE_S_GATHER:
                /* gathered but not added yet: finish it before the
                 * synchronous commit that follows */
                engine_settle_once(eng);
                break;
        case ENGINE_S_STOP:
                break; /* leaving: the batch is settled or dropped */
        default:
                /* Revoked while the batch waits for Redis or the
                 * dead-letter topic: it is void, its offsets are not
                 * stored and the next owner re-reads it. */
                engine_drop_batch(eng);
                engine_set_state(eng, ENGINE_S_GATHER);
                break;
        }
        /* carried messages were read after the batch: re-read them too */
        cdc_batch_drop_carried(eng->e_b, 1);
        engine_unpause(eng);
}

/* @locality main thread, inside the DLQ producer's flush/poll */
void engine_dlq_dr_cb(void *opaque, uint64_t id, cdc_dlq_status_t st,
                      const char *errstr) {
        cdc_engine_t *eng = opaque;
        if (eng->e_b)
                cdc_batch_dr(eng->e_b, id, st, errstr);
}

/* ---- loop ---- */

int cdc_engine_run(cdc_engine_t *eng) {
        int ret;

        cdc_log(LOG_NOTICE, "CONSUMER",
                "followcdc-consumer %s started: group %s, dlq %s, batch "
                "%" PRId64 "/%" PRId64 "ms",
                CDC_VERSION, eng->e_cc->cc_group_id, eng->e_cc->cc_dlq,
                eng->e_cc->batch_size, eng->e_cc->batch_ms);
        for (;;) {
                switch (eng->e_state) {
                case ENGINE_S_GATHER:
                        engine_gather(eng);
                        break;
                case ENGINE_S_ADD:
                        engine_add(eng);
                        break;
                case ENGINE_S_FLUSH:
                        engine_flush(eng);
                        break;
                case ENGINE_S_LETTERS:
                        engine_letters(eng);
                        break;
                case ENGINE_S_RESEND:
                        cdc_batch_letters_resend(eng->e_b);
                        engine_set_state(eng, ENGINE_S_LETTERS);
                        break;
                case ENGINE_S_STORE:
                        engine_store_batch(eng);
                        engine_unpause(eng);
                        /* the next batch may not be fetched in full */
                        cdc_kcons_refill(eng->e_kc, (int)eng->e_cc->batch_size);
                        eng->e_gather_us = cdc_now_us(); /* carried ones */
                        engine_set_state(eng, ENGINE_S_GATHER);
                        break;
                case ENGINE_S_BACKOFF:
                        engine_backoff(eng);
                        break;
                case ENGINE_S_CHECK:
                        engine_loss_check(eng);
                        break;
                case ENGINE_S_DROP:
                        engine_drop_batch(eng);
                        engine_unpause(eng);
                        eng->e_gather_us = cdc_now_us();
                        engine_set_state(eng, ENGINE_S_GATHER);
                        break;
                case ENGINE_S_STOP:
                        /* SIGTERM or fatal: the batch is stored or dropped;
                         * commit what is stored and leave the group */
                        cdc_log(LOG_NOTICE, "CONSUMER", "shutting down");
                        cdc_batch_drop_carried(eng->e_b, 0);
                        cdc_kcons_close(eng->e_kc);
                        ret = eng->e_redis_fatal           ? 2
                              : cdc_kcons_fatal(eng->e_kc) ? 1
                                                           : 0;
                        cdc_log(LOG_NOTICE, "CONSUMER", "stopped (exit %d)",
                                ret);
                        return ret;
                }
        }
}
