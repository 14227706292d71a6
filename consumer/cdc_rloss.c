/**
 * @file cdc_rloss.c
 * @brief Redis data-loss detection by per-master markers (see
 *        cdc_rloss.h).
 */
#include "cdc_rloss.h"
#include "cdc_rloss_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdc_backoff.h" /* cdc_now_us */
#include "cdc_log.h"

/** Fields per HMGET / HSET: HSET key + 12 pairs stays within the
 *  router's 32 arguments. */
#define RLOSS_FIELDS 12
#define RLOSS_ARGS   (2 + 2 * RLOSS_FIELDS)
#define RLOSS_KEY    (CDC_RCLUSTER_HOST_MAX + 64)
#define RLOSS_NAME   (CDC_RCLUSTER_HOST_MAX + 8)

typedef enum {
        RLOSS_READ,   /* HMGET key [epoch] fields... */
        RLOSS_EXISTS, /* EXISTS key (search) */
        RLOSS_CREATE, /* HSETNX key epoch <id> */
        RLOSS_MARK,   /* HSET key field 1 ... */
} rloss_kind_t;

typedef struct rloss_master_s {
        char rm_name[RLOSS_NAME]; /* host:port */
        int rm_owner;             /* owner id of this check */
        int rm_slot;              /* slot of its marker */
        int rm_known;             /* a check found or created it there */
        int rm_missing;           /* marker missing (this check) */
        int rm_found;             /* search: lowest slot with a marker */
        int rm_top;               /* highest slot it owns */
        char rm_key[RLOSS_KEY];
} rloss_master_t;

typedef struct rloss_cmd_s {
        rloss_kind_t rc_kind;
        int rc_master;
        int rc_slot;
        int rc_first, rc_cnt; /* READ, MARK: range of rl_sel */
        int rc_epoch;         /* READ: "epoch" is the first field */
        char rc_key[48];      /* EXISTS: a marker key */
} rloss_cmd_t;

struct cdc_rloss_s {
        char *rl_prefix;
        char *rl_group;
        uint32_t *rl_tags; /* slot -> n of "marker:<n>" */

        rloss_master_t *rl_m;
        int rl_nm;
        rloss_master_t *rl_old; /* previous list (sticky slots) */
        int rl_nold;

        /* one check */
        cdc_rloss_part_t *rl_parts;
        char **rl_fields; /* field of each part */
        int rl_nparts;
        int *rl_sel; /* parts a READ/MARK command covers */
        rloss_cmd_t *rl_cmds;
        size_t rl_ncmds, rl_capcmds;
        unsigned char *rl_done;
        char rl_epoch[64];
        int rl_refused; /* a reply was an error or not what was asked */
        char rl_errstr[512];
};

/* ---- tags and keys ---- */

static int rloss_tag_slot(uint32_t n) {
        char tag[32];
        int len = snprintf(tag, sizeof(tag), "marker:%" PRIu32, n);
        return cdc_rcluster_crc16(tag, (size_t)len) & (CDC_RCLUSTER_SLOTS - 1);
}

uint32_t cdc_rloss_tag(const cdc_rloss_t *rl, int slot) {
        return rl->rl_tags[slot];
}

size_t cdc_rloss_key(const cdc_rloss_t *rl, int slot, char *buf, size_t size) {
        int len = snprintf(buf, size, "%s:{marker:%" PRIu32 "}", rl->rl_prefix,
                           rl->rl_tags[slot]);
        return len < 0 || (size_t)len >= size ? 0 : (size_t)len;
}

cdc_rloss_t *cdc_rloss_new(const char *prefix, const char *group, char *errstr,
                           size_t errstr_size) {
        cdc_rloss_t *rl = calloc(1, sizeof(*rl));
        uint32_t n;
        int left = CDC_RCLUSTER_SLOTS, s;

        if (!rl)
                goto nomem;
        rl->rl_prefix = strdup(prefix ? prefix : "fc");
        rl->rl_group  = strdup(group ? group : "");
        rl->rl_tags   = malloc(sizeof(*rl->rl_tags) * CDC_RCLUSTER_SLOTS);
        if (!rl->rl_prefix || !rl->rl_group || !rl->rl_tags)
                goto nomem;
        if (strlen(rl->rl_prefix) > 128) {
                snprintf(errstr, errstr_size,
                         "redis.key.prefix: longer than 128 bytes");
                goto fail;
        }
        /* The smallest n per slot: about 170,000 CRCs, once. */
        for (s = 0; s < CDC_RCLUSTER_SLOTS; s++)
                rl->rl_tags[s] = UINT32_MAX;
        for (n = 0; left > 0; n++) {
                s = rloss_tag_slot(n);
                if (rl->rl_tags[s] == UINT32_MAX) {
                        rl->rl_tags[s] = n;
                        left--;
                }
        }
        return rl;
nomem:
        snprintf(errstr, errstr_size, "out of memory");
fail:
        cdc_rloss_destroy(rl);
        return NULL;
}

static void rloss_fields_free(cdc_rloss_t *rl) {
        int i;

        for (i = 0; rl->rl_fields && i < rl->rl_nparts; i++)
                free(rl->rl_fields[i]);
        free(rl->rl_fields);
        free(rl->rl_sel);
        rl->rl_fields = NULL;
        rl->rl_sel    = NULL;
        rl->rl_nparts = 0;
        rl->rl_parts  = NULL;
}

void cdc_rloss_destroy(cdc_rloss_t *rl) {
        if (!rl)
                return;
        rloss_fields_free(rl);
        free(rl->rl_prefix);
        free(rl->rl_group);
        free(rl->rl_tags);
        free(rl->rl_m);
        free(rl->rl_old);
        free(rl->rl_cmds);
        free(rl->rl_done);
        free(rl);
}

const char *cdc_rloss_errstr(const cdc_rloss_t *rl) {
        return rl->rl_errstr;
}

/* ---- masters ---- */

static rloss_master_t *rloss_find(rloss_master_t *m, int n, const char *name) {
        int i;

        for (i = 0; i < n; i++)
                if (!strcmp(m[i].rm_name, name))
                        return &m[i];
        return NULL;
}

static void rloss_set_slot(cdc_rloss_t *rl, rloss_master_t *rm, int slot) {
        rm->rm_slot = slot;
        cdc_rloss_key(rl, slot, rm->rm_key, sizeof(rm->rm_key));
}

int cdc_rloss_topology(cdc_rloss_t *rl, const cdc_rloss_topo_t *t) {
        rloss_master_t *m = NULL, *old;
        int s, id, prev = -2, i, nm = 0, cap = 0;
        rloss_master_t *cur = NULL;

        for (s = 0; s < CDC_RCLUSTER_SLOTS; s++) {
                id = t->rt_owner(t->rt_opaque, s);
                if (id < 0)
                        continue;
                if (id != prev) {
                        for (i = 0, cur = NULL; i < nm; i++)
                                if (m[i].rm_owner == id)
                                        cur = &m[i];
                        if (!cur) {
                                if (nm == cap) {
                                        void *p;
                                        cap = cap ? cap * 2 : 8;
                                        p   = realloc(m,
                                                      sizeof(*m) * (size_t)cap);
                                        if (!p) {
                                                free(m);
                                                return -1;
                                        }
                                        m = p;
                                }
                                cur = &m[nm++];
                                memset(cur, 0, sizeof(*cur));
                                cur->rm_owner = id;
                                t->rt_name(t->rt_opaque, id, cur->rm_name,
                                           sizeof(cur->rm_name));
                        }
                        prev = id;
                }
                cur->rm_top = s;
        }
        for (i = 0; i < nm; i++) {
                /* keep the marker where it was found while the master
                 * still owns that slot */
                old = rloss_find(rl->rl_old, rl->rl_nold, m[i].rm_name);
                if (old && old->rm_known &&
                    t->rt_owner(t->rt_opaque, old->rm_slot) == m[i].rm_owner) {
                        rloss_set_slot(rl, &m[i], old->rm_slot);
                        m[i].rm_known = 1;
                } else {
                        rloss_set_slot(rl, &m[i], m[i].rm_top);
                }
        }
        free(rl->rl_m);
        rl->rl_m  = m;
        rl->rl_nm = nm;
        return nm;
}

/* Keep this check's masters for the next one's sticky slots. */
static int rloss_remember(cdc_rloss_t *rl) {
        rloss_master_t *p;

        if (!rl->rl_nm)
                return 0;
        p = realloc(rl->rl_old, sizeof(*p) * (size_t)rl->rl_nm);
        if (!p)
                return -1;
        memcpy(p, rl->rl_m, sizeof(*p) * (size_t)rl->rl_nm);
        rl->rl_old  = p;
        rl->rl_nold = rl->rl_nm;
        return 0;
}

int cdc_rloss_master_slot(const cdc_rloss_t *rl, const char *name,
                          int *knownp) {
        rloss_master_t *rm =
                rloss_find(((cdc_rloss_t *)rl)->rl_m, rl->rl_nm, name);

        if (!rm)
                return -1;
        *knownp = rm->rm_known;
        return rm->rm_slot;
}

int cdc_rloss_master_found(cdc_rloss_t *rl, const char *name, int slot) {
        rloss_master_t *rm = rloss_find(rl->rl_m, rl->rl_nm, name);

        if (!rm)
                return -1;
        rloss_set_slot(rl, rm, slot);
        rm->rm_known = 1;
        return rloss_remember(rl);
}

/* The router's topology. */
static int rloss_rc_owner(void *opaque, int slot) {
        return cdc_rcluster_slot_owner(opaque, slot);
}

static void rloss_rc_name(void *opaque, int id, char *buf, size_t size) {
        int port         = 0;
        const char *host = cdc_rcluster_node_addr(opaque, id, &port);

        snprintf(buf, size, "%s:%d", host ? host : "?", port);
}

/* ---- commands ---- */

static void rloss_err(cdc_rloss_t *rl, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void rloss_err(cdc_rloss_t *rl, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(rl->rl_errstr, sizeof(rl->rl_errstr), fmt, ap);
        va_end(ap);
}

static rloss_cmd_t *rloss_cmd(cdc_rloss_t *rl, rloss_kind_t kind, int master,
                              int slot) {
        rloss_cmd_t *c;

        if (rl->rl_ncmds == rl->rl_capcmds) {
                size_t cap = rl->rl_capcmds ? rl->rl_capcmds * 2 : 64;
                void *p    = realloc(rl->rl_cmds, sizeof(*rl->rl_cmds) * cap);
                void *d;

                if (!p)
                        return NULL;
                rl->rl_cmds = p;
                d           = realloc(rl->rl_done, cap);
                if (!d)
                        return NULL;
                rl->rl_done    = d;
                rl->rl_capcmds = cap;
        }
        c = &rl->rl_cmds[rl->rl_ncmds++];
        memset(c, 0, sizeof(*c));
        c->rc_kind   = kind;
        c->rc_master = master;
        c->rc_slot   = slot;
        return c;
}

static int rloss_build(void *opaque, size_t i, int *slotp, const char **argv,
                       size_t *lens, int max) {
        cdc_rloss_t *rl         = opaque;
        const rloss_cmd_t *c    = &rl->rl_cmds[i];
        const rloss_master_t *m = &rl->rl_m[c->rc_master];
        int argc                = 0, k;

        if (max < RLOSS_ARGS)
                return 0; /* never: the router passes 32 */
        *slotp = c->rc_slot;
        switch (c->rc_kind) {
        case RLOSS_READ:
                argv[argc++] = "HMGET";
                argv[argc++] = m->rm_key;
                if (c->rc_epoch)
                        argv[argc++] = "epoch";
                for (k = 0; k < c->rc_cnt; k++)
                        argv[argc++] =
                                rl->rl_fields[rl->rl_sel[c->rc_first + k]];
                break;
        case RLOSS_EXISTS:
                argv[argc++] = "EXISTS";
                argv[argc++] = c->rc_key;
                break;
        case RLOSS_CREATE:
                argv[argc++] = "HSETNX";
                argv[argc++] = m->rm_key;
                argv[argc++] = "epoch";
                argv[argc++] = rl->rl_epoch;
                break;
        case RLOSS_MARK:
                argv[argc++] = "HSET";
                argv[argc++] = m->rm_key;
                for (k = 0; k < c->rc_cnt; k++) {
                        argv[argc++] =
                                rl->rl_fields[rl->rl_sel[c->rc_first + k]];
                        argv[argc++] = "1";
                }
                break;
        }
        for (k = 0; k < argc; k++)
                lens[k] = strlen(argv[k]);
        return argc;
}

static int rloss_reply(void *opaque, size_t i, const redisReply *r,
                       char *errstr, size_t errstr_size) {
        cdc_rloss_t *rl      = opaque;
        const rloss_cmd_t *c = &rl->rl_cmds[i];
        rloss_master_t *m    = &rl->rl_m[c->rc_master];
        size_t want, k;

        if (r->type == REDIS_REPLY_ERROR) {
                snprintf(errstr, errstr_size, "redis %s: marker %s: %.*s",
                         m->rm_name, m->rm_key,
                         (int)(r->len > 200 ? 200 : r->len), r->str);
                rl->rl_refused = 1;
                return 0;
        }
        switch (c->rc_kind) {
        case RLOSS_READ:
                want = (size_t)c->rc_cnt + (c->rc_epoch ? 1 : 0);
                if (r->type != REDIS_REPLY_ARRAY || r->elements != want)
                        break;
                k = 0;
                if (c->rc_epoch)
                        m->rm_missing =
                                r->element[k++]->type == REDIS_REPLY_NIL;
                for (; k < want; k++)
                        if (r->element[k]->type == REDIS_REPLY_NIL)
                                rl->rl_parts[rl->rl_sel[c->rc_first + (int)k -
                                                        (c->rc_epoch ? 1 : 0)]]
                                        .replay = 1;
                return 1;
        case RLOSS_EXISTS:
                if (r->type != REDIS_REPLY_INTEGER)
                        break;
                if (r->integer > 0 &&
                    (m->rm_found < 0 || c->rc_slot < m->rm_found))
                        m->rm_found = c->rc_slot;
                return 1;
        case RLOSS_CREATE:
        case RLOSS_MARK:
                if (r->type != REDIS_REPLY_INTEGER)
                        break;
                return 1;
        }
        snprintf(errstr, errstr_size, "redis %s: marker %s: unexpected reply",
                 m->rm_name, m->rm_key);
        rl->rl_refused = 1;
        return 0;
}

/* Run the queued commands; empties the queue. */
static cdc_err_t rloss_run(cdc_rloss_t *rl, cdc_rcluster_t *rc) {
        cdc_err_t err = CDC_ERR_NO_ERROR;

        if (rl->rl_ncmds) {
                memset(rl->rl_done, 0, rl->rl_ncmds);
                rl->rl_refused = 0;
                err            = cdc_rcluster_run(rc, rl->rl_ncmds, rl->rl_done,
                                                  rloss_build, rloss_reply, rl);
                if (err != CDC_ERR_NO_ERROR)
                        rloss_err(rl, "%s", cdc_rcluster_errstr(rc));
                /* Redis answered, with an error (OOM, WRONGTYPE, NOPERM,
                 * READONLY): the connection is fine, reconnecting would
                 * not help */
                if (err == CDC_ERR__TRANSPORT && rl->rl_refused)
                        err = CDC_ERR__SERVER;
        }
        rl->rl_ncmds = 0;
        return err;
}

/* Queue, per master, its fields of the parts in rl_sel[0, nsel). */
static int rloss_queue_fields(cdc_rloss_t *rl, rloss_kind_t kind, int master,
                              int nsel) {
        rloss_master_t *m = &rl->rl_m[master];
        rloss_cmd_t *c;
        int first = 0, cnt;

        do {
                cnt = nsel - first > RLOSS_FIELDS ? RLOSS_FIELDS : nsel - first;
                c   = rloss_cmd(rl, kind, master, m->rm_slot);
                if (!c)
                        return -1;
                c->rc_first = first;
                c->rc_cnt   = cnt;
                c->rc_epoch = kind == RLOSS_READ && first == 0;
                first += cnt;
        } while (first < nsel);
        return 0;
}

static int rloss_prepare(cdc_rloss_t *rl, cdc_rloss_part_t *parts, int n) {
        int i;

        rloss_fields_free(rl);
        rl->rl_fields = calloc((size_t)n + 1, sizeof(*rl->rl_fields));
        rl->rl_sel    = calloc((size_t)n + 1, sizeof(*rl->rl_sel));
        if (!rl->rl_fields || !rl->rl_sel)
                return -1;
        rl->rl_parts  = parts;
        rl->rl_nparts = n;
        for (i = 0; i < n; i++) {
                size_t len = strlen(parts[i].topic) + strlen(rl->rl_group) + 32;

                rl->rl_fields[i] = malloc(len);
                if (!rl->rl_fields[i])
                        return -1;
                snprintf(rl->rl_fields[i], len, "p:%s:%" PRId32 ":%s",
                         parts[i].topic, parts[i].partition, rl->rl_group);
        }
        return 0;
}

/* ---- check ---- */

/* Search every slot of the masters whose marker is missing and whose slot
 * was not confirmed by a check: a marker found elsewhere on the master
 * (moved with its slot by a resharding) is adopted. @returns the number
 * of masters that adopted one, or -1. */
static int rloss_search(cdc_rloss_t *rl, cdc_rcluster_t *rc) {
        rloss_cmd_t *c;
        int s, i, id, adopted = 0;

        for (i = 0; i < rl->rl_nm; i++)
                rl->rl_m[i].rm_found = -1;
        for (s = 0; s < CDC_RCLUSTER_SLOTS; s++) {
                id = cdc_rcluster_slot_owner(rc, s);
                for (i = 0; i < rl->rl_nm; i++)
                        if (rl->rl_m[i].rm_owner == id)
                                break;
                if (i == rl->rl_nm || !rl->rl_m[i].rm_missing ||
                    rl->rl_m[i].rm_known || s == rl->rl_m[i].rm_slot)
                        continue;
                c = rloss_cmd(rl, RLOSS_EXISTS, i, s);
                if (!c)
                        return -1;
                cdc_rloss_key(rl, s, c->rc_key, sizeof(c->rc_key));
        }
        if (!rl->rl_ncmds)
                return 0;
        if (rloss_run(rl, rc) != CDC_ERR_NO_ERROR)
                return -1;
        for (i = 0; i < rl->rl_nm; i++) {
                if (rl->rl_m[i].rm_found < 0)
                        continue;
                cdc_log(LOG_NOTICE, "RLOSS",
                        "redis %s: marker found in slot %d (moved by a "
                        "resharding), not %d",
                        rl->rl_m[i].rm_name, rl->rl_m[i].rm_found,
                        rl->rl_m[i].rm_slot);
                rloss_set_slot(rl, &rl->rl_m[i], rl->rl_m[i].rm_found);
                rl->rl_m[i].rm_known = 1;
                adopted++;
        }
        return adopted;
}

cdc_err_t cdc_rloss_check(cdc_rloss_t *rl, cdc_rcluster_t *rc,
                          cdc_rloss_part_t *parts, int n,
                          cdc_rloss_result_t *res) {
        cdc_rloss_topo_t topo = { rloss_rc_owner, rloss_rc_name, rc };
        cdc_err_t err;
        size_t off = 0;
        int i, pass, r;

        memset(res, 0, sizeof(*res));
        rl->rl_errstr[0] = '\0';
        rl->rl_ncmds     = 0;
        if (rloss_prepare(rl, parts, n) != 0 ||
            cdc_rloss_topology(rl, &topo) < 0) {
                rloss_err(rl, "out of memory");
                return CDC_ERR__NOMEM;
        }
        if (rl->rl_nm == 0) {
                rloss_err(rl, "no Redis master known yet");
                return CDC_ERR__TRANSPORT;
        }
        for (i = 0; i < n; i++)
                rl->rl_sel[i] = i;
        for (pass = 0; pass < 2; pass++) {
                for (i = 0; i < n; i++)
                        parts[i].replay = 0;
                for (i = 0; i < rl->rl_nm; i++) {
                        rl->rl_m[i].rm_missing = 0;
                        if (rloss_queue_fields(rl, RLOSS_READ, i, n) != 0)
                                goto nomem;
                }
                err = rloss_run(rl, rc);
                if (err != CDC_ERR_NO_ERROR)
                        return err;
                r = rloss_search(rl, rc);
                if (r < 0)
                        return rl->rl_errstr[0] ? CDC_ERR__TRANSPORT
                                                : CDC_ERR__NOMEM;
                if (r == 0)
                        break; /* nothing adopted: the reads stand */
        }
        /* A master without marker lost its data (or is new): create the
         * marker again, without any partition field. */
        snprintf(rl->rl_epoch, sizeof(rl->rl_epoch), "%" PRId64 " pid %ld",
                 cdc_now_us() / 1000, (long)getpid());
        for (i = 0; i < rl->rl_nm; i++) {
                rloss_master_t *m = &rl->rl_m[i];

                if (!m->rm_missing)
                        continue;
                res->lost++;
                if (off < sizeof(res->nodes) - 1)
                        off += (size_t)snprintf(
                                res->nodes + off, sizeof(res->nodes) - off,
                                "%s%s", off ? " " : "", m->rm_name);
                if (off >= sizeof(res->nodes))
                        off = sizeof(res->nodes) - 1;
                if (!rloss_cmd(rl, RLOSS_CREATE, i, m->rm_slot))
                        goto nomem;
        }
        if (res->lost) {
                err = rloss_run(rl, rc);
                if (err != CDC_ERR_NO_ERROR)
                        return err;
                for (i = 0; i < n; i++)
                        parts[i].replay = 1;
        }
        for (i = 0; i < rl->rl_nm; i++)
                rl->rl_m[i].rm_known = 1;
        for (i = 0; i < n; i++)
                res->replay += parts[i].replay;
        if (rloss_remember(rl) != 0)
                goto nomem;
        return CDC_ERR_NO_ERROR;
nomem:
        rl->rl_ncmds = 0;
        rloss_err(rl, "out of memory");
        return CDC_ERR__NOMEM;
}

cdc_err_t cdc_rloss_mark(cdc_rloss_t *rl, cdc_rcluster_t *rc,
                         const cdc_rloss_part_t *parts, int n) {
        int i, nsel = 0;

        rl->rl_errstr[0] = '\0';
        rl->rl_ncmds     = 0;
        if (rloss_prepare(rl, (cdc_rloss_part_t *)parts, n) != 0) {
                rloss_err(rl, "out of memory");
                return CDC_ERR__NOMEM;
        }
        for (i = 0; i < n; i++)
                if (parts[i].replay)
                        rl->rl_sel[nsel++] = i;
        if (!nsel)
                return CDC_ERR_NO_ERROR;
        /* the masters of the check just made (the topology may have
         * changed since: a field missing then is found by the next
         * check, which replays once more) */
        for (i = 0; i < rl->rl_nm; i++)
                if (rloss_queue_fields(rl, RLOSS_MARK, i, nsel) != 0) {
                        rl->rl_ncmds = 0;
                        rloss_err(rl, "out of memory");
                        return CDC_ERR__NOMEM;
                }
        return rloss_run(rl, rc);
}
