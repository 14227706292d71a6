/**
 * @file cdc_apply_map.c
 * @brief Change events -> the applier's queued scripts (cdc_apply_add):
 *        follow and pair rows as edge scripts per user, idempotency rows,
 *        control events. Values are checked here: row data is untrusted.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdc_apply_priv.h"
#include "cdc_log.h"

/* ---- column values ---- */

/* Decimal text of \p v into \p buf (at least 21 bytes); @returns its
 * length. As "%" PRId64, without printf (several per event). */
static size_t apply_i64(char *buf, int64_t v) {
        char tmp[24], *p = tmp + sizeof(tmp);
        uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        size_t n;

        do {
                *--p = (char)('0' + u % 10);
                u /= 10;
        } while (u);
        if (v < 0)
                *--p = '-';
        n = (size_t)(tmp + sizeof(tmp) - p);
        memcpy(buf, p, n);
        buf[n] = '\0';
        return n;
}

/* Canonical decimal text of a user id: a non-negative JSON integer, or a
 * string of 1..20 digits (BIGINT UNSIGNED may exceed json_int_t), leading
 * zeros dropped. Ids become part of key names, so nothing else is
 * accepted. */
static int apply_id_text(const json_t *row, const char *col, char *buf,
                         size_t size, char *errstr, size_t errstr_size) {
        const json_t *v = json_object_get(row, col);

        if (!v) {
                snprintf(errstr, errstr_size, "column %s missing", col);
                return -1;
        }
        if (json_is_integer(v)) {
                json_int_t i = json_integer_value(v);

                if (i < 0) {
                        snprintf(errstr, errstr_size, "column %s negative",
                                 col);
                        return -1;
                }
                if (size < 21)
                        goto bad;
                apply_i64(buf, i);
                return 0;
        }
        if (json_is_string(v)) {
                const char *s = json_string_value(v);
                size_t n      = json_string_length(v), i;

                if (n == 0 || n > 20)
                        goto bad;
                for (i = 0; i < n; i++)
                        if (s[i] < '0' || s[i] > '9')
                                goto bad;
                while (n > 1 && *s == '0') {
                        s++;
                        n--;
                }
                if (n + 1 > size)
                        goto bad;
                /* 20 digits may exceed 2^64-1: compare as text */
                if (n == 20 && memcmp(s, "18446744073709551615", 20) > 0)
                        goto bad;
                memcpy(buf, s, n);
                buf[n] = '\0';
                return 0;
        }
bad:
        snprintf(errstr, errstr_size, "column %s is not an unsigned integer",
                 col);
        return -1;
}

/* Integer column as int64 (JSON integer or decimal string). */
static int apply_int_col(const json_t *row, const char *col, int64_t *vp,
                         char *errstr, size_t errstr_size) {
        const json_t *v = json_object_get(row, col);

        if (json_is_integer(v)) {
                *vp = json_integer_value(v);
                return 0;
        }
        if (json_is_string(v)) {
                const char *s = json_string_value(v);
                size_t n = json_string_length(v), i = 0;
                int neg   = 0;
                int64_t x = 0;

                if (n > 0 && s[0] == '-') {
                        neg = 1;
                        i   = 1;
                }
                if (i == n || n - i > 18)
                        goto bad;
                for (; i < n; i++) {
                        if (s[i] < '0' || s[i] > '9')
                                goto bad;
                        x = x * 10 + (s[i] - '0');
                }
                *vp = neg ? -x : x;
                return 0;
        }
bad:
        snprintf(errstr, errstr_size, "column %s %s", col,
                 v ? "is not an integer" : "missing");
        return -1;
}

/* Time column as ms since the epoch: "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" or a
 * JSON integer of ms. Returns 1 if absent or null, 0 if set, -1 bad. */
static int apply_time_col(const json_t *row, const char *col, int64_t *msp,
                          char *errstr, size_t errstr_size) {
        const json_t *v = json_object_get(row, col);

        if (!v || json_is_null(v))
                return 1;
        if (json_is_integer(v)) {
                *msp = json_integer_value(v);
                return 0;
        }
        if (json_is_string(v) &&
            strlen(json_string_value(v)) == json_string_length(v) &&
            cdc_time_parse_ms(json_string_value(v), msp) == 0)
                return 0;
        snprintf(errstr, errstr_size,
                 "column %s is not a UTC time (YYYY-MM-DDTHH:MM:SS.ffffffZ)",
                 col);
        return -1;
}

/* The version as Redis stores it: the fixed-width decimal text of
 * cdc_event_version() without its leading zeros ("0" if all zero). The
 * scripts order two such numbers by length, then as strings, which is the
 * order of the fixed-width texts; it saves ~20 bytes per stored version
 * and lets listpack encodings keep most versions as integers. */
static int apply_version_compact(const char *vtext, char *out) {
        size_t i = 0, n = strlen(vtext), k;

        if (n != CDC_VERSION_LEN)
                return -1;
        for (k = 0; k < n; k++)
                if (vtext[k] < '0' || vtext[k] > '9')
                        return -1;
        while (i + 1 < n && vtext[i] == '0')
                i++;
        memcpy(out, vtext + i, n - i + 1);
        return 0;
}

/* ---- event -> scripts ---- */

/* One edge direction as one user sees it: "o" (me -> other) or "i"
 * (other -> me), whether it exists and since when. */
typedef struct apply_side_s {
        const char *dir;
        int exists;
        int64_t score_ms;
} apply_side_t;

/* One edge script on the keys of \p me about \p other: one or two sides,
 * all at version \p ver of source \p tag ("" = home). */
static apply_cmd_t *apply_user(cdc_apply_t *ap, const char *me,
                               const char *other, const char *ver,
                               const char *tag, const apply_side_t *sides,
                               int nsides) {
        static const char *const suffix[4] = { "following", "followers",
                                               "friends", "ver" };
        apply_key_t keys[4];
        char score[2][24];
        const char *v[CDC_SCRIPT_EDGE_NKEYS + CDC_SCRIPT_EDGE_NARGS];
        size_t len[CDC_SCRIPT_EDGE_NKEYS + CDC_SCRIPT_EDGE_NARGS];
        apply_cmd_t *ac = NULL;
        int i, n = 0;

        memset(keys, 0, sizeof(keys));
        for (i = 0; i < 4; i++) {
                if (apply_user_key(ap, &keys[i], me, suffix[i]) != 0)
                        goto out;
                v[n] = keys[i].k, len[n] = keys[i].len, n++;
        }
        v[n] = other, len[n] = strlen(other), n++;
        v[n] = ver, len[n] = strlen(ver), n++;
        v[n] = tag, len[n] = strlen(tag), n++;
        for (i = 0; i < nsides && i < 2; i++) {
                apply_i64(score[i], sides[i].exists ? sides[i].score_ms : 0);
                v[n] = sides[i].dir, len[n] = 1, n++;
                v[n] = sides[i].exists ? "1" : "0", len[n] = 1, n++;
                v[n] = score[i], len[n] = strlen(score[i]), n++;
        }
        ac = apply_cmd_new(CDC_SCRIPT_EDGE, n, v, len);
out:
        for (i = 0; i < 4; i++)
                apply_key_free(&keys[i]);
        return ac;
}

/* Queue the two sides of one edge change follower -> followee. */
static int apply_edge(cdc_apply_t *ap, apply_cmd_t **out, const char *fr,
                      const char *fe, const char *ver, const char *tag,
                      int exists, int64_t score_ms) {
        apply_side_t s = { "o", exists, score_ms };

        /* follower side: my following */
        out[0] = apply_user(ap, fr, fe, ver, tag, &s, 1);
        /* followee side: my followers */
        s.dir  = "i";
        out[1] = apply_user(ap, fe, fr, ver, tag, &s, 1);
        return out[0] && out[1] ? 0 : -1;
}

/* Queue the two scripts of a pair row (a, b): a's keys and b's keys, each
 * updating both directions. */
static int apply_pair_edges(cdc_apply_t *ap, apply_cmd_t **out, const char *a,
                            const char *b, const char *ver, const char *tag,
                            int ab, int64_t t_ab, int ba, int64_t t_ba) {
        apply_side_t sa[2] = { { "o", ab, t_ab }, { "i", ba, t_ba } };
        apply_side_t sb[2] = { { "o", ba, t_ba }, { "i", ab, t_ab } };

        out[0] = apply_user(ap, a, b, ver, tag, sa, 2);
        out[1] = apply_user(ap, b, a, ver, tag, sb, 2);
        return out[0] && out[1] ? 0 : -1;
}

/* The tag stored with versions of \p ev's source: "" for the home source,
 * else its name. Names become part of stored values, so only what a
 * producer can use as a topic prefix is accepted. */
static int apply_source_tag(const cdc_apply_t *ap, const cdc_event_t *ev,
                            const char **tagp, char *errstr,
                            size_t errstr_size) {
        const char *name = ev->source.name;
        size_t i, n = strnlen(name, sizeof(ev->source.name));

        if (n < sizeof(ev->source.name) && strcmp(name, ap->ap_home) == 0) {
                *tagp = "";
                return 0;
        }
        if (n == 0 || n >= sizeof(ev->source.name))
                goto bad;
        for (i = 0; i < n; i++) {
                char c = name[i];

                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                      c == '-'))
                        goto bad;
        }
        *tagp = name;
        return 0;
bad:
        snprintf(errstr, errstr_size,
                 "source.name is not a source name ([A-Za-z0-9._-]{1,127})");
        return -1;
}

/* The follow time of a row: the time column, or (absent or NULL) the
 * commit time. */
static int apply_score(const cdc_event_t *ev, const json_t *row,
                       const char *col, int64_t *msp, char *errstr,
                       size_t errstr_size) {
        int r = apply_time_col(row, col, msp, errstr, errstr_size);

        if (r < 0)
                return -1;
        if (r > 0)
                *msp = ev->source.ts_ms;
        return 0;
}

static cdc_err_t apply_follow(cdc_apply_t *ap, const cdc_event_t *ev,
                              const char *ver, const char *tag,
                              apply_cmd_t **out, int *np, char *errstr,
                              size_t errstr_size) {
        const json_t *row = cdc_event_row(ev);
        char fr[24], fe[24], ofr[24], ofe[24];
        int64_t status = 0, score = 0;
        int exists = 0, n = 0;

        if (!json_is_object(row)) {
                snprintf(errstr, errstr_size, "op %c without a row image",
                         (char)ev->op);
                return CDC_ERR__BAD_EVENT;
        }
        if (apply_id_text(row, ap->ap_col_follower, fr, sizeof(fr), errstr,
                          errstr_size) != 0 ||
            apply_id_text(row, ap->ap_col_followee, fe, sizeof(fe), errstr,
                          errstr_size) != 0)
                return CDC_ERR__BAD_EVENT;
        if (ev->op != CDC_OP_DELETE) {
                if (apply_int_col(row, ap->ap_col_status, &status, errstr,
                                  errstr_size) != 0)
                        return CDC_ERR__BAD_EVENT;
                exists = status == 1;
        }
        if (exists && apply_score(ev, row, ap->ap_col_time, &score, errstr,
                                  errstr_size) != 0)
                return CDC_ERR__BAD_EVENT;
        /* An update that moved the edge (changed follower or followee):
         * the old edge is gone as of this version. A before image without
         * usable ids (not a FULL row image) cannot tell: skip the check. */
        if (ev->op == CDC_OP_UPDATE && json_is_object(ev->before) &&
            apply_id_text(ev->before, ap->ap_col_follower, ofr, sizeof(ofr),
                          errstr, errstr_size) == 0 &&
            apply_id_text(ev->before, ap->ap_col_followee, ofe, sizeof(ofe),
                          errstr, errstr_size) == 0) {
                if (strcmp(ofr, fr) != 0 || strcmp(ofe, fe) != 0) {
                        if (apply_edge(ap, out, ofr, ofe, ver, tag, 0, 0) != 0)
                                goto nomem;
                        n = 2;
                }
        }
        errstr[0] = '\0';
        if (apply_edge(ap, out + n, fr, fe, ver, tag, exists, score) != 0)
                goto nomem;
        n += 2;
        *np = n;
        return CDC_ERR_NO_ERROR;
nomem:
        /* the caller frees whatever was built */
        snprintf(errstr, errstr_size, "out of memory");
        return CDC_ERR__NOMEM;
}

/* The two users of a pair row. A row of one user with himself has no
 * meaning in a pair table (both bits would be one edge). */
static int apply_pair_ids(const cdc_apply_t *ap, const json_t *row, char *a,
                          char *b, char *errstr, size_t errstr_size) {
        if (apply_id_text(row, ap->ap_col_a, a, 24, errstr, errstr_size) != 0 ||
            apply_id_text(row, ap->ap_col_b, b, 24, errstr, errstr_size) != 0)
                return -1;
        if (strcmp(a, b) == 0) {
                snprintf(errstr, errstr_size, "columns %s and %s are equal",
                         ap->ap_col_a, ap->ap_col_b);
                return -1;
        }
        return 0;
}

/* A pair row (user a, user b, relation bits): bit 1 = a follows b, bit 2 =
 * b follows a (3 = friends); other bits are not ours. A delete ends both
 * directions. */
static cdc_err_t apply_pair(cdc_apply_t *ap, const cdc_event_t *ev,
                            const char *ver, const char *tag, apply_cmd_t **out,
                            int *np, char *errstr, size_t errstr_size) {
        const json_t *row = cdc_event_row(ev);
        char a[24], b[24], oa[24], ob[24];
        int64_t rel = 0, t_ab = 0, t_ba = 0;
        int ab = 0, ba = 0, n = 0;

        if (!json_is_object(row)) {
                snprintf(errstr, errstr_size, "op %c without a row image",
                         (char)ev->op);
                return CDC_ERR__BAD_EVENT;
        }
        if (apply_pair_ids(ap, row, a, b, errstr, errstr_size) != 0)
                return CDC_ERR__BAD_EVENT;
        if (ev->op != CDC_OP_DELETE) {
                if (apply_int_col(row, ap->ap_col_rel, &rel, errstr,
                                  errstr_size) != 0)
                        return CDC_ERR__BAD_EVENT;
                if (rel < 0) {
                        snprintf(errstr, errstr_size, "column %s negative",
                                 ap->ap_col_rel);
                        return CDC_ERR__BAD_EVENT;
                }
                ab = (rel & 1) != 0;
                ba = (rel & 2) != 0;
        }
        if ((ab && apply_score(ev, row, ap->ap_col_tab, &t_ab, errstr,
                               errstr_size) != 0) ||
            (ba && apply_score(ev, row, ap->ap_col_tba, &t_ba, errstr,
                               errstr_size) != 0))
                return CDC_ERR__BAD_EVENT;
        /* An update that changed the pair's users: the old pair is gone as
         * of this version (as a moved follow edge). */
        if (ev->op == CDC_OP_UPDATE && json_is_object(ev->before) &&
            apply_pair_ids(ap, ev->before, oa, ob, errstr, errstr_size) == 0 &&
            (strcmp(oa, a) != 0 || strcmp(ob, b) != 0)) {
                if (apply_pair_edges(ap, out, oa, ob, ver, tag, 0, 0, 0, 0) !=
                    0)
                        goto nomem;
                n = 2;
        }
        errstr[0] = '\0';
        if (apply_pair_edges(ap, out + n, a, b, ver, tag, ab, t_ab, ba, t_ba) !=
            0)
                goto nomem;
        n += 2;
        *np = n;
        return CDC_ERR_NO_ERROR;
nomem:
        snprintf(errstr, errstr_size, "out of memory");
        return CDC_ERR__NOMEM;
}

/* One idem script for \p row: the row exists (\p present) or was deleted
 * as of \p ver. */
static cdc_err_t apply_idem_row(cdc_apply_t *ap, const json_t *row, int present,
                                const char *ver, const char *tag,
                                apply_cmd_t **out, char *errstr,
                                size_t errstr_size) {
        const json_t *jrid, *jbiz;
        const char *rid, *biz = "";
        size_t ridlen, bizlen = 0;
        char ridnum[24], biznum[24], status[24], expire[24];
        int64_t st = 0, created = 0;
        apply_key_t rec = { NULL, 0, { 0 } }, tomb = { NULL, 0, { 0 } };
        const char *v[CDC_SCRIPT_IDEM_NKEYS + CDC_SCRIPT_IDEM_NARGS];
        size_t len[CDC_SCRIPT_IDEM_NKEYS + CDC_SCRIPT_IDEM_NARGS];
        cdc_err_t err = CDC_ERR__BAD_EVENT;
        int r;

        jrid = json_object_get(row, ap->ap_col_request);
        if (json_is_string(jrid)) {
                rid    = json_string_value(jrid);
                ridlen = json_string_length(jrid);
        } else if (json_is_integer(jrid)) {
                snprintf(ridnum, sizeof(ridnum), "%" JSON_INTEGER_FORMAT,
                         json_integer_value(jrid));
                rid    = ridnum;
                ridlen = strlen(ridnum);
        } else {
                snprintf(errstr, errstr_size, "column %s %s",
                         ap->ap_col_request,
                         jrid ? "is not a string" : "missing");
                goto out;
        }
        if (ridlen > APPLY_MAX_FIELD) {
                snprintf(errstr, errstr_size, "column %s too long (%zu)",
                         ap->ap_col_request, ridlen);
                goto out;
        }
        jbiz = json_object_get(row, ap->ap_col_bizkey);
        if (json_is_string(jbiz)) {
                biz    = json_string_value(jbiz);
                bizlen = json_string_length(jbiz);
        } else if (json_is_integer(jbiz)) {
                snprintf(biznum, sizeof(biznum), "%" JSON_INTEGER_FORMAT,
                         json_integer_value(jbiz));
                biz    = biznum;
                bizlen = strlen(biznum);
        } else if (jbiz && !json_is_null(jbiz)) {
                snprintf(errstr, errstr_size, "column %s is not a string",
                         ap->ap_col_bizkey);
                goto out;
        }
        if (bizlen > APPLY_MAX_FIELD) {
                snprintf(errstr, errstr_size, "column %s too long (%zu)",
                         ap->ap_col_bizkey, bizlen);
                goto out;
        }
        status[0] = '\0';
        if (present) {
                if (apply_int_col(row, ap->ap_col_istatus, &st, errstr,
                                  errstr_size) != 0)
                        goto out;
                snprintf(status, sizeof(status), "%" PRId64, st);
        }
        r = apply_time_col(row, ap->ap_col_created, &created, errstr,
                           errstr_size);
        if (r > 0)
                snprintf(errstr, errstr_size, "column %s missing",
                         ap->ap_col_created);
        if (r != 0)
                goto out;
        /* keep PEXPIREAT in range (and the sum from overflowing) */
        if (created < 0 || created > APPLY_MAX_TIME_MS ||
            ap->ap_idem_ttl_ms > APPLY_MAX_TIME_MS) {
                snprintf(errstr, errstr_size, "column %s out of range",
                         ap->ap_col_created);
                goto out;
        }
        snprintf(expire, sizeof(expire), "%" PRId64,
                 created + ap->ap_idem_ttl_ms);

        {
                const char *parts[4] = { ap->ap_prefix, ":idem:{r:", rid, "}" };
                size_t lens[4]       = { ap->ap_prefix_len, 9, ridlen, 1 };
                const char *tparts[5] = { ap->ap_prefix, ":idem:{r:", rid, "}",
                                          ":del" };
                size_t tlens[5]       = { ap->ap_prefix_len, 9, ridlen, 1, 4 };

                if (!apply_key_cat(&rec, 4, parts, lens) ||
                    !apply_key_cat(&tomb, 5, tparts, tlens)) {
                        err = CDC_ERR__NOMEM;
                        goto out;
                }
        }
        v[0] = rec.k, len[0] = rec.len;
        v[1] = tomb.k, len[1] = tomb.len;
        v[2] = ver, len[2] = strlen(ver);
        v[3] = present ? "1" : "0", len[3] = 1;
        v[4] = expire, len[4] = strlen(expire);
        v[5] = status, len[5] = strlen(status);
        v[6] = biz, len[6] = bizlen;
        v[7] = tag, len[7] = strlen(tag);
        out[0] = apply_cmd_new(CDC_SCRIPT_IDEM, 8, v, len);
        if (!out[0]) {
                err = CDC_ERR__NOMEM;
                goto out;
        }
        err = CDC_ERR_NO_ERROR;
out:
        if (err == CDC_ERR__NOMEM)
                snprintf(errstr, errstr_size, "out of memory");
        apply_key_free(&rec);
        apply_key_free(&tomb);
        return err;
}

static cdc_err_t apply_idem(cdc_apply_t *ap, const cdc_event_t *ev,
                            const char *ver, const char *tag, apply_cmd_t **out,
                            int *np, char *errstr, size_t errstr_size) {
        const json_t *row = cdc_event_row(ev);
        cdc_err_t err;
        int n = 0;

        *np = 0;
        if (!json_is_object(row)) {
                snprintf(errstr, errstr_size, "op %c without a row image",
                         (char)ev->op);
                return CDC_ERR__BAD_EVENT;
        }
        /* An update that changed the request id: the old record is gone
         * as of this version. */
        if (ev->op == CDC_OP_UPDATE && json_is_object(ev->before)) {
                const json_t *was =
                        json_object_get(ev->before, ap->ap_col_request);
                const json_t *is = json_object_get(row, ap->ap_col_request);

                if (was && is && !json_equal(was, is)) {
                        err = apply_idem_row(ap, ev->before, 0, ver, tag, out,
                                             errstr, errstr_size);
                        if (err != CDC_ERR_NO_ERROR)
                                return err;
                        n = 1;
                }
        }
        err = apply_idem_row(ap, row, ev->op != CDC_OP_DELETE, ver, tag,
                             out + n, errstr, errstr_size);
        if (err != CDC_ERR_NO_ERROR)
                return err;
        *np = n + 1;
        return CDC_ERR_NO_ERROR;
}

/* Control events: a TRUNCATE becomes a sweep marker (run by the flush
 * once every script queued before it is acknowledged), a purge the purge
 * script on the user's keys. */
static cdc_err_t apply_control(cdc_apply_t *ap, const cdc_event_t *ev,
                               const char *ver, const char *tag,
                               apply_cmd_t **out, int *np, char *errstr,
                               size_t errstr_size) {
        static const char *const suffix[4] = { "following", "followers",
                                               "friends", "ver" };
        int follow = strcmp(ev->source.table, ap->ap_follow_table) == 0;
        int idem   = strcmp(ev->source.table, ap->ap_idem_table) == 0;
        apply_key_t k[4];
        const char *v[CDC_SCRIPT_PURGE_NKEYS + CDC_SCRIPT_PURGE_NARGS];
        size_t len[CDC_SCRIPT_PURGE_NKEYS + CDC_SCRIPT_PURGE_NARGS];
        int i;

        *np = 0;
        /* the marker: "f"/"i", the version, the source tag */
        if (ev->op == CDC_OP_TRUNCATE) {
                if (!follow && !idem) {
                        ap->ap_stats.ignored++;
                        return CDC_ERR_NO_ERROR;
                }
                v[0] = follow ? "f" : "i", len[0] = 1;
                v[1] = ver, len[1] = strlen(ver);
                v[2] = tag, len[2] = strlen(tag);
                out[0] = apply_cmd_new(APPLY_SWEEP, 3, v, len);
                if (!out[0])
                        goto nomem;
                *np = 1;
                return CDC_ERR_NO_ERROR;
        }
        /* a purge: of one user, in the follow table only */
        if (!follow) {
                snprintf(errstr, errstr_size,
                         "op p (purge) of table \"%s\": only the follow "
                         "table has users",
                         ev->source.table);
                return CDC_ERR__BAD_EVENT;
        }
        if (!ev->purge_user[0]) {
                snprintf(errstr, errstr_size, "op p without a user");
                return CDC_ERR__BAD_EVENT;
        }
        memset(k, 0, sizeof(k));
        for (i = 0; i < 4; i++)
                if (apply_user_key(ap, &k[i], ev->purge_user, suffix[i]) != 0)
                        goto nomem_keys;
        for (i = 0; i < 4; i++)
                v[i] = k[i].k, len[i] = k[i].len;
        v[4] = ver, len[4] = strlen(ver);
        v[5] = tag, len[5] = strlen(tag);
        out[0] = apply_cmd_new(CDC_SCRIPT_PURGE, 6, v, len);
        for (i = 0; i < 4; i++)
                apply_key_free(&k[i]);
        if (!out[0])
                goto nomem;
        cdc_metric_add(ap->ap_m_purged, 1);
        *np = 1;
        return CDC_ERR_NO_ERROR;
nomem_keys:
        for (i = 0; i < 4; i++)
                apply_key_free(&k[i]);
nomem:
        snprintf(errstr, errstr_size, "out of memory");
        return CDC_ERR__NOMEM;
}

cdc_err_t cdc_apply_add(cdc_apply_t *ap, const cdc_event_t *ev, char *errstr,
                        size_t errstr_size) {
        apply_cmd_t *out[4] = { NULL, NULL, NULL, NULL };
        char vtext[CDC_VERSION_LEN + 1], ver[CDC_VERSION_LEN + 1];
        const char *tag = "";
        cdc_err_t err   = CDC_ERR_NO_ERROR;
        int n           = 0, i;

        errstr[0] = '\0';
        if (ap->ap_qlen + 4 > ap->ap_qcap) {
                snprintf(errstr, errstr_size, "%zu scripts queued: flush first",
                         ap->ap_qlen);
                return CDC_ERR__QUEUE_FULL;
        }
        switch (ev->op) {
        case CDC_OP_CREATE:
        case CDC_OP_UPDATE:
        case CDC_OP_DELETE:
        case CDC_OP_READ:
        case CDC_OP_TRUNCATE:
        case CDC_OP_PURGE:
                break;
        default:
                snprintf(errstr, errstr_size, "unknown op 0x%02x",
                         (unsigned)ev->op & 0xff);
                return CDC_ERR__BAD_EVENT;
        }
        cdc_event_version(&ev->source, vtext);
        if (apply_version_compact(vtext, ver) != 0) {
                snprintf(errstr, errstr_size, "bad version text");
                return CDC_ERR__BAD_EVENT;
        }
        if (ev->op == CDC_OP_TRUNCATE || ev->op == CDC_OP_PURGE) {
                if (apply_source_tag(ap, ev, &tag, errstr, errstr_size) != 0)
                        return CDC_ERR__BAD_EVENT;
                err = apply_control(ap, ev, ver, tag, out, &n, errstr,
                                    errstr_size);
                if (err != CDC_ERR_NO_ERROR)
                        goto out;
                if (n == 0) {
                        ap->ap_stats.events++;
                        return CDC_ERR_NO_ERROR; /* ignored (counted) */
                }
                goto queue;
        }
        if (strcmp(ev->source.table, ap->ap_follow_table) != 0 &&
            strcmp(ev->source.table, ap->ap_idem_table) != 0) {
                ap->ap_stats.events++;
                ap->ap_stats.ignored++;
                return CDC_ERR_NO_ERROR;
        }
        if (apply_source_tag(ap, ev, &tag, errstr, errstr_size) != 0)
                return CDC_ERR__BAD_EVENT;
        if (strcmp(ev->source.table, ap->ap_follow_table) != 0)
                err = apply_idem(ap, ev, ver, tag, out, &n, errstr,
                                 errstr_size);
        else if (ap->ap_model == CDC_APPLY_MODEL_PAIR)
                err = apply_pair(ap, ev, ver, tag, out, &n, errstr,
                                 errstr_size);
        else
                err = apply_follow(ap, ev, ver, tag, out, &n, errstr,
                                   errstr_size);
        if (err != CDC_ERR_NO_ERROR)
                goto out;
queue:
        for (i = 0; i < n; i++) {
                if (out[i]->ac_id == APPLY_SWEEP)
                        ap->ap_nopush = 1;
                ap->ap_q[ap->ap_qlen++] = out[i];
                out[i]                  = NULL;
        }
        ap->ap_stats.events++;
        apply_push(ap);
out:
        for (i = 0; i < 4; i++)
                free(out[i]);
        return err;
}
