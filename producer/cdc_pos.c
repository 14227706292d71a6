/**
 * @file cdc_pos.c
 * @brief Text form of a binlog position: "gtid=<set>;file=<name>;pos=<n>".
 *
 * The text is what checkpoints store, so parsing treats it as untrusted:
 * every field is bounded, the GTID set may only hold digits, '-' and ',',
 * the file name only printable characters other than ';' and '=', and the
 * offset only decimal digits that fit in 64 bits.
 */
#include <stdio.h>
#include <string.h>
#include "cdc_pos.h"

int cdc_pos_format(const cdc_pos_t *p, char *buf, size_t size) {
        int n;

        if (!p || !buf || size == 0)
                return -1;
        n = snprintf(buf, size, "gtid=%s;file=%s;pos=%llu", p->gtid, p->file,
                     (unsigned long long)p->pos);
        if (n < 0 || (size_t)n >= size)
                return -1;
        return n;
}

static int pos_gtid_char_ok(char c) {
        return (c >= '0' && c <= '9') || c == '-' || c == ',';
}

static int pos_file_char_ok(char c) {
        return c > ' ' && c < 0x7f && c != ';' && c != '=';
}

/* Checks the GTID set syntax: "d-s-n[,d-s-n...]", every number present. */
static int pos_gtid_valid(const char *s, size_t len) {
        size_t i, digits = 0;
        int dashes = 0;

        if (len == 0)
                return 1;
        for (i = 0; i < len; i++) {
                char c = s[i];
                if (!pos_gtid_char_ok(c))
                        return 0;
                if (c >= '0' && c <= '9') {
                        if (++digits > 20)
                                return 0;
                        continue;
                }
                if (digits == 0)
                        return 0;
                digits = 0;
                if (c == '-') {
                        if (++dashes > 2)
                                return 0;
                } else { /* ',' */
                        if (dashes != 2)
                                return 0;
                        dashes = 0;
                }
        }
        return digits > 0 && dashes == 2;
}

int cdc_pos_parse(const char *s, size_t len, cdc_pos_t *p) {
        cdc_pos_t tmp;
        size_t i      = 0;
        int seen_gtid = 0, seen_file = 0, seen_pos = 0;

        if (!s || !p)
                return -1;
        memset(&tmp, 0, sizeof(tmp));
        while (i < len) {
                size_t ks = i, ke, vs, ve;

                while (i < len && s[i] != '=' && s[i] != ';')
                        i++;
                if (i >= len || s[i] != '=')
                        return -1;
                ke = i++;
                vs = i;
                while (i < len && s[i] != ';')
                        i++;
                ve = i;
                if (i < len) {
                        i++; /* ';' */
                        if (i == len)
                                return -1; /* trailing ';' */
                }
                if (ke - ks == 4 && !memcmp(s + ks, "gtid", 4)) {
                        if (seen_gtid++ || ve - vs >= sizeof(tmp.gtid) ||
                            !pos_gtid_valid(s + vs, ve - vs))
                                return -1;
                        memcpy(tmp.gtid, s + vs, ve - vs);
                        tmp.gtid[ve - vs] = '\0';
                } else if (ke - ks == 4 && !memcmp(s + ks, "file", 4)) {
                        size_t j;
                        if (seen_file++ || ve - vs >= sizeof(tmp.file))
                                return -1;
                        for (j = vs; j < ve; j++)
                                if (!pos_file_char_ok(s[j]))
                                        return -1;
                        memcpy(tmp.file, s + vs, ve - vs);
                        tmp.file[ve - vs] = '\0';
                } else if (ke - ks == 3 && !memcmp(s + ks, "pos", 3)) {
                        uint64_t v = 0;
                        size_t j;
                        if (seen_pos++ || ve == vs || ve - vs > 20)
                                return -1;
                        for (j = vs; j < ve; j++) {
                                unsigned d;
                                if (s[j] < '0' || s[j] > '9')
                                        return -1;
                                d = (unsigned)(s[j] - '0');
                                if (v > (UINT64_MAX - d) / 10)
                                        return -1;
                                v = v * 10 + d;
                        }
                        tmp.pos = v;
                } else {
                        return -1;
                }
        }
        if (!seen_gtid && !seen_file && !seen_pos)
                return -1;
        *p = tmp;
        return 0;
}

int cdc_pos_is_empty(const cdc_pos_t *p) {
        return !p || (p->gtid[0] == '\0' && p->file[0] == '\0');
}

/* ---- GTID sets ---- */

/* Decimal digits (at least one, no sign) that fit \p max. */
static int pos_num(const char **pp, uint64_t max, uint64_t *vp) {
        const char *p = *pp;
        uint64_t v    = 0;
        if (*p < '0' || *p > '9')
                return -1;
        while (*p >= '0' && *p <= '9') {
                unsigned d = (unsigned)(*p++ - '0');
                if (v > (max - d) / 10)
                        return -1;
                v = v * 10 + d;
        }
        *vp = v;
        *pp = p;
        return 0;
}

int cdc_pos_gtidset_parse(cdc_gtidset_t *gs, const char *s) {
        const char *p = s;

        gs->n = 0;
        while (p && *p) {
                uint64_t d, sv, n;
                cdc_gtid_t g;
                if (pos_num(&p, UINT32_MAX, &d) || *p++ != '-' ||
                    pos_num(&p, UINT32_MAX, &sv) || *p++ != '-' ||
                    pos_num(&p, UINT64_MAX, &n))
                        goto bad;
                g.domain = (uint32_t)d;
                g.server = (uint32_t)sv;
                g.seq    = n;
                if (cdc_pos_gtidset_find(gs, g.domain) ||
                    gs->n >= CDC_GTIDSET_MAX)
                        goto bad;
                gs->g[gs->n++] = g;
                if (*p == ',' && p[1])
                        p++;
                else if (*p)
                        goto bad;
        }
        return 0;
bad:
        gs->n = 0;
        return -1;
}

cdc_gtid_t *cdc_pos_gtidset_find(cdc_gtidset_t *gs, uint32_t domain) {
        size_t i;
        for (i = 0; i < gs->n; i++)
                if (gs->g[i].domain == domain)
                        return &gs->g[i];
        return NULL;
}

int cdc_pos_gtidset_update(cdc_gtidset_t *gs, const cdc_gtid_t *g,
                           int only_new) {
        cdc_gtid_t *e = cdc_pos_gtidset_find(gs, g->domain);
        if (e) {
                if (!only_new)
                        *e = *g;
                return 0;
        }
        if (gs->n >= CDC_GTIDSET_MAX)
                return -1;
        gs->g[gs->n++] = *g;
        return 0;
}

int cdc_pos_gtidset_format(const cdc_gtidset_t *gs, char *buf, size_t size) {
        size_t i, j, o = 0;
        uint32_t last = 0;

        if (size == 0)
                return -1;
        buf[0] = '\0';
        for (i = 0; i < gs->n; i++) { /* in domain order */
                const cdc_gtid_t *best = NULL;
                int n;
                for (j = 0; j < gs->n; j++) {
                        const cdc_gtid_t *g = &gs->g[j];
                        if ((i == 0 || g->domain > last) &&
                            (!best || g->domain < best->domain))
                                best = g;
                }
                if (!best)
                        break;
                last = best->domain;
                n    = snprintf(buf + o, size - o, "%s%u-%u-%llu", o ? "," : "",
                                best->domain, best->server,
                                (unsigned long long)best->seq);
                if (n < 0 || (size_t)n >= size - o)
                        return -1;
                o += (size_t)n;
        }
        return 0;
}
