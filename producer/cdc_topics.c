/**
 * @file cdc_topics.c
 * @brief Start-up check of the producer's topics (cdc_topics.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "cdc_log.h"
#include "cdc_topics.h"

#define TOPICS_MAX 64 /* change topics + the checkpoint topic */

int cdc_topics_policy_compacts(const char *policy) {
        const char *p = policy;
        size_t n;
        /* a comma-separated list: "compact", "delete,compact" */
        while (p && *p) {
                while (*p == ' ' || *p == ',')
                        p++;
                n = strcspn(p, ", ");
                if (n == 7 && !strncmp(p, "compact", 7))
                        return 1;
                p += n;
        }
        return 0;
}

/* Wait for the result event of an Admin request on \p q. */
static rd_kafka_event_t *topics_wait(rd_kafka_queue_t *q, int timeout_ms) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
        if (!ev)
                cdc_log(LOG_NOTICE, "KPROD",
                        "topic check: no answer within %d ms: topics not "
                        "checked",
                        timeout_ms);
        return ev;
}

static rd_kafka_AdminOptions_t *topics_opts(rd_kafka_t *rk,
                                            rd_kafka_admin_op_t op,
                                            int timeout_ms) {
        char es[256];
        rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, op);
        if (!ao)
                return NULL;
        rd_kafka_AdminOptions_set_request_timeout(ao, timeout_ms, es,
                                                  sizeof(es));
        if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS)
                rd_kafka_AdminOptions_set_operation_timeout(ao, timeout_ms, es,
                                                            sizeof(es));
        return ao;
}

/* Send one DescribeConfigs request for every topic; its result comes on
 * \p q. */
static void topics_describe_send(rd_kafka_t *rk, rd_kafka_queue_t *q,
                                 const char *const *names, size_t cnt,
                                 int timeout_ms) {
        rd_kafka_ConfigResource_t *crs[TOPICS_MAX];
        rd_kafka_AdminOptions_t *ao;
        size_t i;

        for (i = 0; i < cnt; i++)
                crs[i] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC,
                                                     names[i]);
        ao = topics_opts(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout_ms);
        rd_kafka_DescribeConfigs(rk, crs, cnt, ao, q); /* copies them */
        rd_kafka_AdminOptions_destroy(ao);
        for (i = 0; i < cnt; i++)
                rd_kafka_ConfigResource_destroy(crs[i]);
}

/* The DescribeConfigs result \p ev (NULL: none): state[i] = 0 compacted,
 * 1 not compacted, 2 missing, -1 unknown. @returns 1 if the brokers
 * answered. */
static int topics_describe_handle(rd_kafka_event_t *ev,
                                  const char *const *names, size_t cnt,
                                  int *state) {
        const rd_kafka_ConfigResource_t **rs;
        const rd_kafka_DescribeConfigs_result_t *res;
        size_t i, j, k, rcnt, ecnt;

        for (i = 0; i < cnt; i++)
                state[i] = -1;
        if (!ev)
                return 0;
        if (rd_kafka_event_error(ev)) {
                cdc_log(LOG_NOTICE, "KPROD",
                        "topic check: the brokers did not answer (%s): "
                        "topics not checked",
                        rd_kafka_event_error_string(ev));
                return 0;
        }
        res = rd_kafka_event_DescribeConfigs_result(ev);
        if (!res)
                return 0;
        rs = rd_kafka_DescribeConfigs_result_resources(res, &rcnt);
        for (j = 0; j < rcnt; j++) {
                const char *name        = rd_kafka_ConfigResource_name(rs[j]);
                rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(rs[j]);
                const rd_kafka_ConfigEntry_t **ents;
                const char *policy = NULL;

                for (i = 0; i < cnt && strcmp(names[i], name); i++)
                        ;
                if (i == cnt)
                        continue;
                if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
                        state[i] = 2;
                        continue;
                }
                if (err) {
                        cdc_log(LOG_NOTICE, "KPROD", "topic check: %s: %s",
                                name,
                                rd_kafka_ConfigResource_error_string(rs[j]));
                        continue;
                }
                ents = rd_kafka_ConfigResource_configs(rs[j], &ecnt);
                for (k = 0; k < ecnt; k++)
                        if (!strcmp(rd_kafka_ConfigEntry_name(ents[k]),
                                    "cleanup.policy"))
                                policy = rd_kafka_ConfigEntry_value(ents[k]);
                state[i] = cdc_topics_policy_compacts(policy) ? 0 : 1;
                if (state[i])
                        cdc_log(LOG_WARNING, "KPROD",
                                "topic %s has cleanup.policy=%s, not compact: "
                                "a replay of it will not rebuild Redis once "
                                "old segments are deleted (set "
                                "cleanup.policy=compact)",
                                name, policy ? policy : "(unknown)");
        }
        return 1;
}

/* Create the topics whose state is 2. @returns 0, or -1 with a reason in
 * errstr for a refusal that is a configuration matter. */
static int topics_create(rd_kafka_t *rk, rd_kafka_queue_t *q,
                         const cdc_topics_opts_t *o, const char **names,
                         size_t cnt, int *state, cdc_topics_result_t *res,
                         char *errstr, size_t errstr_size) {
        rd_kafka_NewTopic_t *nts[TOPICS_MAX];
        const rd_kafka_CreateTopics_result_t *cr;
        const rd_kafka_topic_result_t **tr;
        rd_kafka_AdminOptions_t *ao;
        rd_kafka_event_t *ev;
        size_t i, n = 0, tcnt;
        char es[256];
        int ret = 0;

        for (i = 0; i < cnt; i++) {
                int parts;
                if (state[i] != 2)
                        continue;
                parts  = o->ckpt_topic && !strcmp(names[i], o->ckpt_topic)
                                 ? 1
                                 : o->partitions;
                nts[n] = rd_kafka_NewTopic_new(
                        names[i], parts, o->replication_factor, es, sizeof(es));
                if (!nts[n]) {
                        snprintf(errstr, errstr_size, "topics.create: %s: %s",
                                 names[i], es);
                        ret = -1;
                        goto out;
                }
                rd_kafka_NewTopic_set_config(nts[n], "cleanup.policy",
                                             "compact");
                n++;
        }
        if (!n)
                return 0;
        ao = topics_opts(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, o->timeout_ms);
        rd_kafka_CreateTopics(rk, nts, n, ao, q);
        rd_kafka_AdminOptions_destroy(ao);
        ev = topics_wait(q, o->timeout_ms);
        if (ev && rd_kafka_event_error(ev))
                cdc_log(LOG_NOTICE, "KPROD", "topics.create: %s",
                        rd_kafka_event_error_string(ev));
        else if (ev && (cr = rd_kafka_event_CreateTopics_result(ev))) {
                tr = rd_kafka_CreateTopics_result_topics(cr, &tcnt);
                for (i = 0; i < tcnt; i++) {
                        const char *name = rd_kafka_topic_result_name(tr[i]);
                        rd_kafka_resp_err_t err =
                                rd_kafka_topic_result_error(tr[i]);
                        size_t t;
                        for (t = 0; t < cnt && strcmp(names[t], name); t++)
                                ;
                        if (!err ||
                            err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                                /* created (here or by a racing start) */
                                if (t < cnt)
                                        state[t] = 0;
                                if (!err) {
                                        res->created++;
                                        cdc_log(LOG_NOTICE, "KPROD",
                                                "created topic %s "
                                                "(cleanup.policy=compact)",
                                                name);
                                }
                                continue;
                        }
                        if (err == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT ||
                            err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
                                cdc_log(LOG_NOTICE, "KPROD",
                                        "topic %s: creation not confirmed "
                                        "in time (%s)",
                                        name,
                                        rd_kafka_topic_result_error_string(
                                                tr[i]));
                                continue;
                        }
                        /* authorization, invalid partitions or replication
                         * factor, policy: the settings are wrong */
                        snprintf(errstr, errstr_size,
                                 "topics.create: %s: %s (%s)", name,
                                 rd_kafka_topic_result_error_string(tr[i]),
                                 rd_kafka_err2name(err));
                        ret = -1;
                }
        }
        if (ev)
                rd_kafka_event_destroy(ev);
out:
        for (i = 0; i < n; i++)
                rd_kafka_NewTopic_destroy(nts[i]);
        return ret;
}

/* What the describe (and create) found: log the missing ones, count,
 * apply require_compact. */
static cdc_err_t topics_conclude(const cdc_topics_opts_t *o,
                                 const char *const *names, size_t cnt,
                                 const int *state, cdc_topics_result_t *res,
                                 char *errstr, size_t errstr_size) {
        size_t i;

        for (i = 0; i < cnt; i++) {
                if (state[i] == 1)
                        res->not_compacted++;
                if (state[i] != 2)
                        continue;
                res->missing++;
                cdc_log(LOG_NOTICE, "KPROD",
                        "topic %s does not exist: a broker that creates "
                        "topics on first write gives it its default "
                        "cleanup.policy (usually delete); create it "
                        "compacted (topics.create=true, or the tools in "
                        "deploy/)",
                        names[i]);
        }
        if (res->not_compacted && o->require_compact) {
                for (i = 0; i < cnt && state[i] != 1; i++)
                        ;
                snprintf(errstr, errstr_size,
                         "topic %s is not compacted (topics.require.compact"
                         "=true): set cleanup.policy=compact on it",
                         names[i]);
                return CDC_ERR__CONFIG;
        }
        return CDC_ERR_NO_ERROR;
}

static size_t topics_names(const cdc_topics_opts_t *o, const char **names) {
        size_t i, cnt = 0;
        for (i = 0; i < o->topic_cnt && cnt < TOPICS_MAX - 1; i++)
                names[cnt++] = o->topics[i];
        if (o->ckpt_topic && *o->ckpt_topic)
                names[cnt++] = o->ckpt_topic;
        return cnt;
}

cdc_err_t cdc_topics_check(rd_kafka_t *rk, const cdc_topics_opts_t *o,
                           cdc_topics_result_t *res, char *errstr,
                           size_t errstr_size) {
        const char *names[TOPICS_MAX];
        int state[TOPICS_MAX];
        rd_kafka_queue_t *q;
        rd_kafka_event_t *ev;
        cdc_err_t err = CDC_ERR_NO_ERROR;
        size_t cnt;

        memset(res, 0, sizeof(*res));
        errstr[0] = '\0';
        cnt       = topics_names(o, names);
        if (!cnt)
                return CDC_ERR_NO_ERROR;
        q = rd_kafka_queue_new(rk);
        if (!q)
                return CDC_ERR__NOMEM;
        topics_describe_send(rk, q, names, cnt, o->timeout_ms);
        ev           = topics_wait(q, o->timeout_ms);
        res->checked = topics_describe_handle(ev, names, cnt, state);
        if (ev)
                rd_kafka_event_destroy(ev);
        if (res->checked && o->create &&
            topics_create(rk, q, o, names, cnt, state, res, errstr,
                          errstr_size))
                err = CDC_ERR__CONFIG;
        else
                err = topics_conclude(o, names, cnt, state, res, errstr,
                                      errstr_size);
        rd_kafka_queue_destroy(q);
        return err;
}

struct cdc_topics_s {
        rd_kafka_queue_t *t_q;
        cdc_topics_opts_t t_o; /* require_compact, create unused */
        char t_names[TOPICS_MAX][256];
        const char *t_ptr[TOPICS_MAX];
        size_t t_cnt;
        int64_t t_deadline_ms; /* give up waiting then */
        int t_done;
};

cdc_topics_t *cdc_topics_start(rd_kafka_t *rk, const cdc_topics_opts_t *o,
                               int64_t now_ms) {
        const char *names[TOPICS_MAX];
        cdc_topics_t *t = calloc(1, sizeof(*t));
        size_t i;

        if (!t)
                return NULL;
        t->t_cnt = topics_names(o, names);
        for (i = 0; i < t->t_cnt; i++) {
                snprintf(t->t_names[i], sizeof(t->t_names[i]), "%s", names[i]);
                t->t_ptr[i] = t->t_names[i];
        }
        t->t_o                 = *o;
        t->t_o.require_compact = 0;
        t->t_o.create          = 0;
        t->t_deadline_ms       = now_ms + o->timeout_ms + 1000;
        t->t_q                 = rd_kafka_queue_new(rk);
        if (!t->t_q) {
                free(t);
                return NULL;
        }
        if (t->t_cnt)
                topics_describe_send(rk, t->t_q, t->t_ptr, t->t_cnt,
                                     o->timeout_ms);
        else
                t->t_done = 1;
        return t;
}

int cdc_topics_poll(cdc_topics_t *t, int64_t now_ms, cdc_topics_result_t *res) {
        int state[TOPICS_MAX];
        rd_kafka_event_t *ev;
        char es[512];

        if (t->t_done)
                return 0;
        memset(res, 0, sizeof(*res));
        ev = rd_kafka_queue_poll(t->t_q, 0);
        if (!ev && now_ms < t->t_deadline_ms)
                return 0;
        if (!ev)
                cdc_log(LOG_NOTICE, "KPROD",
                        "topic check: no answer: topics not checked");
        res->checked = topics_describe_handle(ev, t->t_ptr, t->t_cnt, state);
        if (ev)
                rd_kafka_event_destroy(ev);
        topics_conclude(&t->t_o, t->t_ptr, t->t_cnt, state, res, es,
                        sizeof(es));
        t->t_done = 1;
        return 1;
}

void cdc_topics_destroy(cdc_topics_t *t) {
        if (!t)
                return;
        rd_kafka_queue_destroy(t->t_q);
        free(t);
}
