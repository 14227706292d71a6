/**
 * @file cdc_verify_report.c
 * @brief The verifier's reports: one line per difference (text or --json) and
 * the metrics of what it found.
 */
#include "cdc_verify_priv.h"

/* ---- report ---- */

static void verify_json_num(json_t *o, const char *k, double d) {
        if (isnan(d))
                json_object_set_new(o, k, json_null());
        else
                json_object_set_new(o, k, json_integer((json_int_t)d));
}

static void verify_print_json(cdc_verify_t *v, const cdc_vdiff_t *d,
                              const char *key) {
        json_t *o = json_object(), *my = json_object(), *rd = json_object();
        char *txt;

        if (!o || !my || !rd)
                goto out;
        json_object_set_new(o, "type", json_string("diff"));
        json_object_set_new(o, "kind", json_string(cdc_vkind_name(d->kind)));
        if (d->uid) {
                json_object_set_new(o, "table",
                                    json_string(v->v_vc->vc_cc.follow_table));
                json_object_set_new(o, "user", json_string(d->uid));
                json_object_set_new(o, "set",
                                    json_string(cdc_vset_name(d->set)));
                if (d->member)
                        json_object_set_new(
                                o, "member",
                                json_stringn(d->member, d->member_len));
                if (d->kind == CDC_VK_WRONG_COUNT) {
                        json_object_set_new(
                                my, "count",
                                json_integer((json_int_t)d->mysql_count));
                        json_object_set_new(
                                rd, "count",
                                json_integer((json_int_t)d->redis_count));
                }
                if (d->has_mysql)
                        verify_json_num(my, "score", d->mysql_score);
                if (d->has_redis)
                        verify_json_num(rd, "score", d->redis_score);
        } else {
                json_object_set_new(o, "table",
                                    json_string(v->v_vc->vc_cc.idem_table));
                json_object_set_new(o, "request_id",
                                    json_stringn(d->member, d->member_len));
                if (d->has_mysql) {
                        json_object_set_new(my, "status",
                                            json_string(d->mysql_status));
                        json_object_set_new(
                                my, "biz_key",
                                json_stringn(d->mysql_biz, d->mysql_biz_len));
                        json_object_set_new(my, "expire_ms",
                                            json_integer(d->mysql_expire_ms));
                }
                if (d->has_redis) {
                        json_object_set_new(
                                rd, "status",
                                json_string(d->redis_status ? d->redis_status
                                                            : ""));
                        json_object_set_new(
                                rd, "biz_key",
                                json_stringn(d->redis_biz ? d->redis_biz : "",
                                             d->redis_biz_len));
                        json_object_set_new(rd, "expire_ms",
                                            json_integer(d->redis_expire_ms));
                }
        }
        json_object_set_new(o, "key", json_string(key));
        json_object_set_new(my, "present", json_boolean(d->has_mysql));
        if (d->mysql_row)
                json_object_set(my, "row", (json_t *)d->mysql_row);
        json_object_set_new(rd, "present", json_boolean(d->has_redis));
        json_object_set_new(rd, "version",
                            json_string(d->redis_ver ? d->redis_ver : ""));
        json_object_set_new(o, "mysql", my);
        json_object_set_new(o, "redis", rd);
        my = rd = NULL;
        txt     = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
        if (txt) {
                fprintf(v->v_out, "%s\n", txt);
                free(txt);
        }
out:
        json_decref(o);
        json_decref(my);
        json_decref(rd);
}

static void verify_print_human(cdc_verify_t *v, const cdc_vdiff_t *d,
                               const char *key) {
        char *row = d->mysql_row ? json_dumps(d->mysql_row,
                                              JSON_COMPACT | JSON_ENSURE_ASCII)
                                 : NULL;
        if (d->uid && d->kind == CDC_VK_WRONG_COUNT) {
                fprintf(v->v_out,
                        "DIFF user=%s set=%s kind=%s mysql_count=%zu "
                        "redis_count=%zu key=%s\n",
                        d->uid, cdc_vset_name(d->set), cdc_vkind_name(d->kind),
                        d->mysql_count, d->redis_count, key);
        } else if (d->uid) {
                fprintf(v->v_out,
                        "DIFF user=%s set=%s kind=%s member=%.*s "
                        "mysql_score=%.0f redis_score=%.0f "
                        "redis_version=%s key=%s mysql_row=%s\n",
                        d->uid, cdc_vset_name(d->set), cdc_vkind_name(d->kind),
                        (int)d->member_len, d->member,
                        d->has_mysql ? d->mysql_score : -1.0,
                        d->has_redis ? d->redis_score : -1.0,
                        d->redis_ver && *d->redis_ver ? d->redis_ver : "-", key,
                        row ? row : "-");
        } else {
                fprintf(v->v_out,
                        "DIFF request_id=%.*s kind=%s mysql_status=%s "
                        "redis_status=%s mysql_expire_ms=%" PRId64
                        " redis_expire_ms=%" PRId64
                        " redis_version=%s key=%s mysql_row=%s\n",
                        (int)d->member_len, d->member, cdc_vkind_name(d->kind),
                        d->mysql_status ? d->mysql_status : "-",
                        d->redis_status ? d->redis_status : "-",
                        d->mysql_expire_ms, d->redis_expire_ms,
                        d->redis_ver && *d->redis_ver ? d->redis_ver : "-", key,
                        row ? row : "-");
        }
        free(row);
}

/* --repair: note the user of a difference and, for a member of a
 * following/followers set, the other user (their side of the edge is
 * wrong too); idempotency differences ask for a table re-read. */
static void verify_repair_add(cdc_verify_t *v, const char *id, size_t len) {
        size_t k;
        if (!len || len >= VERIFY_IDLEN)
                return;
        for (k = 0; k < len; k++)
                if (id[k] < '0' || id[k] > '9')
                        return; /* only canonical ids are requested */
        if (v->v_nrep == v->v_rep_cap) {
                size_t cap = v->v_rep_cap ? v->v_rep_cap * 2 : 64;
                void *p    = realloc(v->v_rep, cap * sizeof(*v->v_rep));
                if (!p)
                        return; /* reported, just not repaired */
                v->v_rep     = p;
                v->v_rep_cap = cap;
        }
        memcpy(v->v_rep[v->v_nrep], id, len);
        v->v_rep[v->v_nrep++][len] = '\0';
}

void verify_repair_note(cdc_verify_t *v, const cdc_vdiff_t *d) {
        if (!d->uid) {
                v->v_rep_idem = 1;
                return;
        }
        verify_repair_add(v, d->uid, strlen(d->uid));
        if (d->member &&
            (d->set == CDC_VSET_FOLLOWING || d->set == CDC_VSET_FOLLOWERS))
                verify_repair_add(v, d->member, d->member_len);
}

/* Count a difference of the final pass, print it. */
int verify_report_cb(void *opaque, const cdc_vdiff_t *d) {
        vcb_t *c            = opaque;
        cdc_verify_t *v     = c->v;
        cdc_verify_sum_t *s = v->v_sum;
        const char *key;

        c->found++;
        if (!v->v_final)
                return 0;
        switch (d->kind) {
        case CDC_VK_MISSING:
                s->missing++;
                break;
        case CDC_VK_EXTRA:
                s->extra++;
                break;
        case CDC_VK_WRONG_SCORE:
                s->wrong_score++;
                break;
        case CDC_VK_WRONG_COUNT:
                s->wrong_count++;
                break;
        default:
                s->idem_divergent++;
                break;
        }
        if (v->v_vc->repair)
                verify_repair_note(v, d);
        if (c->u) {
                if (!c->u->reported++)
                        s->divergent_users++;
                key = c->u->key[d->set];
        } else {
                key = c->r->rec;
        }
        if (v->v_vc->json)
                verify_print_json(v, d, key);
        else
                verify_print_human(v, d, key);
        return 0;
}
