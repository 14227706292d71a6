/**
 * @file cdc_rcluster_parse.c
 * @brief Redis Cluster routing, the pure part (see cdc_rcluster.h): key
 *        slots (CRC16, hash tags) and the parsers of untrusted input
 *        (node addresses, redis.cluster.nodes, MOVED/ASK/TRYAGAIN error
 *        replies, CLUSTER SLOTS replies). No connection, no state.
 */
#include "cdc_rcluster.h"
#include "cdc_rcluster_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- pure functions ---- */

uint16_t cdc_rcluster_crc16(const void *buf, size_t len) {
        const unsigned char *p = buf;
        uint16_t crc           = 0;
        size_t i;
        int b;

        for (i = 0; i < len; i++) {
                crc ^= (uint16_t)(p[i] << 8);
                for (b = 0; b < 8; b++)
                        crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021)
                                             : (uint16_t)(crc << 1);
        }
        return crc;
}

int cdc_rcluster_slot(const void *key, size_t len) {
        const char *k = key;
        const char *open, *close;

        open = memchr(k, '{', len);
        if (open) {
                size_t rest = len - (size_t)(open - k) - 1;

                close = memchr(open + 1, '}', rest);
                /* "{}" (empty tag) or no closing brace: the whole key */
                if (close && close > open + 1)
                        return cdc_rcluster_crc16(open + 1,
                                                  (size_t)(close - open - 1)) &
                               (CDC_RCLUSTER_SLOTS - 1);
        }
        return cdc_rcluster_crc16(k, len) & (CDC_RCLUSTER_SLOTS - 1);
}

/* Decimal in [lo, hi] spanning exactly s[0..len). */
static int rcluster_parse_int(const char *s, size_t len, long lo, long hi,
                              long *vp) {
        long v = 0;
        size_t i;

        if (len == 0 || len > 9)
                return -1;
        for (i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        if (v < lo || v > hi)
                return -1;
        *vp = v;
        return 0;
}

int cdc_rcluster_parse_addr(const char *s, size_t len, char *host, int *portp) {
        const char *colon = NULL, *h = s;
        size_t hlen, i;
        long port;

        for (i = len; i > 0; i--)
                if (s[i - 1] == ':') {
                        colon = s + i - 1;
                        break;
                }
        if (!colon ||
            rcluster_parse_int(colon + 1, len - (size_t)(colon + 1 - s), 1,
                               65535, &port) != 0)
                return -1;
        hlen = (size_t)(colon - s);
        if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
                h = s + 1;
                hlen -= 2;
        }
        if (hlen > CDC_RCLUSTER_HOST_MAX)
                return -1;
        for (i = 0; i < hlen; i++)
                if ((unsigned char)h[i] <= ' ' || h[i] == ',' ||
                    (unsigned char)h[i] >= 0x7f)
                        return -1;
        memcpy(host, h, hlen);
        host[hlen] = '\0';
        *portp     = (int)port;
        return 0;
}

int cdc_rcluster_parse_nodes(const char *list, char *errstr,
                             size_t errstr_size) {
        char host[CDC_RCLUSTER_HOST_MAX + 1];
        const char *p = list;
        int n         = 0, port;

        while (p && *p) {
                const char *end = strchr(p, ',');
                size_t len      = end ? (size_t)(end - p) : strlen(p);

                while (len && (*p == ' ' || *p == '\t')) {
                        p++;
                        len--;
                }
                while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
                        len--;
                if (len) {
                        if (cdc_rcluster_parse_addr(p, len, host, &port) != 0 ||
                            !host[0]) {
                                snprintf(errstr, errstr_size,
                                         "\"%.*s\" is not host:port",
                                         (int)(len > 64 ? 64 : len), p);
                                return -1;
                        }
                        if (++n > CDC_RCLUSTER_MAX_NODES / 2) {
                                snprintf(errstr, errstr_size,
                                         "more than %d seed nodes",
                                         CDC_RCLUSTER_MAX_NODES / 2);
                                return -1;
                        }
                }
                p = end ? end + 1 : NULL;
        }
        if (n == 0) {
                snprintf(errstr, errstr_size, "no host:port given");
                return -1;
        }
        return n;
}

static int rcluster_prefix(const char *s, size_t len, const char *word) {
        size_t wl = strlen(word);

        return len >= wl && memcmp(s, word, wl) == 0 &&
               (len == wl || s[wl] == ' ');
}

int cdc_rcluster_parse_error(const char *str, size_t len,
                             cdc_rcluster_redir_t *rd) {
        int ask;
        const char *p, *sp;
        long slot;

        memset(rd, 0, sizeof(*rd));
        rd->slot = -1;
        ask      = rcluster_prefix(str, len, "ASK");
        if (ask || rcluster_prefix(str, len, "MOVED")) {
                /* "MOVED <slot> <host>:<port>" */
                p  = str + (ask ? 4 : 6);
                sp = len > (size_t)(p - str)
                             ? memchr(p, ' ', len - (size_t)(p - str))
                             : NULL;
                if (!sp ||
                    rcluster_parse_int(p, (size_t)(sp - p), 0,
                                       CDC_RCLUSTER_SLOTS - 1, &slot) != 0 ||
                    cdc_rcluster_parse_addr(sp + 1,
                                            len - (size_t)(sp + 1 - str),
                                            rd->host, &rd->port) != 0)
                        return -1;
                rd->slot = (int)slot;
                rd->code = ask ? CDC_RCLUSTER_E_ASK : CDC_RCLUSTER_E_MOVED;
        } else if (rcluster_prefix(str, len, "TRYAGAIN"))
                rd->code = CDC_RCLUSTER_E_TRYAGAIN;
        else if (rcluster_prefix(str, len, "CLUSTERDOWN"))
                rd->code = CDC_RCLUSTER_E_CLUSTERDOWN;
        else if (rcluster_prefix(str, len, "LOADING"))
                rd->code = CDC_RCLUSTER_E_LOADING;
        else if (rcluster_prefix(str, len, "MASTERDOWN"))
                rd->code = CDC_RCLUSTER_E_MASTERDOWN;
        else if (rcluster_prefix(str, len, "READONLY"))
                rd->code = CDC_RCLUSTER_E_READONLY;
        else if (rcluster_prefix(str, len, "NOSCRIPT"))
                rd->code = CDC_RCLUSTER_E_NOSCRIPT;
        return 0;
}

/* ---- CLUSTER SLOTS ---- */

static int rcluster_map_node(cdc_rcluster_map_t *map, const char *host,
                             int port) {
        int i;

        for (i = 0; i < map->rm_nmasters; i++)
                if (map->rm_port[i] == port && !strcmp(map->rm_host[i], host))
                        return i;
        if (map->rm_nmasters == CDC_RCLUSTER_MAX_NODES)
                return -1;
        snprintf(map->rm_host[i], sizeof(map->rm_host[i]), "%s", host);
        map->rm_port[i] = port;
        map->rm_nmasters++;
        return i;
}

int cdc_rcluster_map_parse(const redisReply *r, const char *self_host,
                           cdc_rcluster_map_t *map, char *errstr,
                           size_t errstr_size) {
        size_t i;
        long s;

        map->rm_nmasters = 0;
        for (s = 0; s < CDC_RCLUSTER_SLOTS; s++)
                map->rm_owner[s] = RCLUSTER_NONE;
        if (!r || r->type != REDIS_REPLY_ARRAY) {
                snprintf(errstr, errstr_size, "CLUSTER SLOTS: not an array");
                return -1;
        }
        for (i = 0; i < r->elements; i++) {
                const redisReply *e = r->element[i], *m;
                const char *host;
                int idx;

                /* [start, end, [host, port, id, ...], replicas...] */
                if (!e || e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
                    e->element[0]->type != REDIS_REPLY_INTEGER ||
                    e->element[1]->type != REDIS_REPLY_INTEGER ||
                    e->element[0]->integer < 0 ||
                    e->element[1]->integer >= CDC_RCLUSTER_SLOTS ||
                    e->element[0]->integer > e->element[1]->integer)
                        goto bad;
                m = e->element[2];
                if (m->type != REDIS_REPLY_ARRAY || m->elements < 2 ||
                    m->element[0]->type != REDIS_REPLY_STRING ||
                    m->element[1]->type != REDIS_REPLY_INTEGER ||
                    m->element[1]->integer < 1 ||
                    m->element[1]->integer > 65535 ||
                    m->element[0]->len > CDC_RCLUSTER_HOST_MAX ||
                    strlen(m->element[0]->str) != m->element[0]->len)
                        goto bad;
                host = m->element[0]->str;
                if (!strcmp(host, "?"))
                        continue; /* no endpoint known: not routable */
                if (!*host)
                        host = self_host;
                idx = rcluster_map_node(map, host, (int)m->element[1]->integer);
                if (idx < 0) {
                        snprintf(errstr, errstr_size,
                                 "CLUSTER SLOTS: more than %d masters",
                                 CDC_RCLUSTER_MAX_NODES);
                        return -1;
                }
                for (s = (long)e->element[0]->integer;
                     s <= (long)e->element[1]->integer; s++)
                        map->rm_owner[s] = (uint16_t)idx;
        }
        return 0;
bad:
        snprintf(errstr, errstr_size,
                 "CLUSTER SLOTS: malformed entry %zu of the reply", i);
        return -1;
}
