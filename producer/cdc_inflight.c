/**
 * @file cdc_inflight.c
 * @brief Ring of transaction groups in flight (see cdc_inflight.h).
 */
#include <stdlib.h>
#include <string.h>

#include "cdc_inflight.h"

typedef struct inflight_grp_s {
        uint64_t pending; /* messages not yet acknowledged */
        uint64_t msgs;    /* messages counted in this group */
        int64_t created_us;
        int open; /* a transaction of it has not committed yet */
        int has_pos;
        cdc_pos_t pos; /* resume after the group's last COMMIT */
} inflight_grp_t;

struct cdc_inflight_s {
        inflight_grp_t *fl_ring;
        size_t fl_cap;
        uint64_t fl_head; /* oldest group in flight */
        uint64_t fl_tail; /* next group number */
        int64_t fl_group_us;
        uint64_t fl_group_max;
        uint64_t fl_pending;
        cdc_pos_t fl_acked;
        uint64_t fl_gen;
};

/* Copy only the used bytes: positions are mostly short strings. */
static void inflight_pos_copy(cdc_pos_t *dst, const cdc_pos_t *src) {
        size_t n = strnlen(src->gtid, sizeof(src->gtid) - 1);
        memcpy(dst->gtid, src->gtid, n);
        dst->gtid[n] = '\0';
        n            = strnlen(src->file, sizeof(src->file) - 1);
        memcpy(dst->file, src->file, n);
        dst->file[n] = '\0';
        dst->pos     = src->pos;
}

cdc_inflight_t *cdc_inflight_new(size_t cap, int64_t group_us,
                                 uint64_t group_max) {
        cdc_inflight_t *fl = calloc(1, sizeof(*fl));
        if (!fl)
                return NULL;
        fl->fl_ring = calloc(cap ? cap : 1, sizeof(*fl->fl_ring));
        if (!fl->fl_ring) {
                free(fl);
                return NULL;
        }
        fl->fl_cap       = cap ? cap : 1;
        fl->fl_group_us  = group_us;
        fl->fl_group_max = group_max ? group_max : 1;
        return fl;
}

void cdc_inflight_destroy(cdc_inflight_t *fl) {
        if (!fl)
                return;
        free(fl->fl_ring);
        free(fl);
}

static inflight_grp_t *inflight_grp(cdc_inflight_t *fl, uint64_t seq) {
        return &fl->fl_ring[seq % fl->fl_cap];
}

/* Retire complete groups from the head; the newest retired position
 * becomes the checkpoint (cf. bottledwater maybe_checkpoint). */
static void inflight_advance(cdc_inflight_t *fl) {
        while (fl->fl_head < fl->fl_tail) {
                inflight_grp_t *g = inflight_grp(fl, fl->fl_head);
                if (g->open || g->pending)
                        break;
                if (g->has_pos) {
                        inflight_pos_copy(&fl->fl_acked, &g->pos);
                        fl->fl_gen++;
                }
                fl->fl_head++;
        }
}

cdc_err_t cdc_inflight_add(cdc_inflight_t *fl, int64_t now_us, uint64_t *seqp) {
        inflight_grp_t *g = NULL;

        if (fl->fl_tail > fl->fl_head) {
                g = inflight_grp(fl, fl->fl_tail - 1);
                /* Join the newest group if a transaction of it is open,
                 * or it is young and small enough to share. */
                if (!g->open && (now_us - g->created_us > fl->fl_group_us ||
                                 g->msgs >= fl->fl_group_max))
                        g = NULL;
        }
        if (!g) {
                if (fl->fl_tail - fl->fl_head >= fl->fl_cap)
                        return CDC_ERR__QUEUE_FULL;
                g              = inflight_grp(fl, fl->fl_tail);
                g->pending     = 0;
                g->msgs        = 0;
                g->created_us  = now_us;
                g->has_pos     = 0;
                g->pos.gtid[0] = '\0';
                g->pos.file[0] = '\0';
                g->pos.pos     = 0;
                fl->fl_tail++;
        }
        g->open = 1;
        g->pending++;
        g->msgs++;
        fl->fl_pending++;
        *seqp = fl->fl_tail - 1;
        return CDC_ERR_NO_ERROR;
}

void cdc_inflight_commit(cdc_inflight_t *fl, const cdc_pos_t *next) {
        inflight_grp_t *g;

        if (fl->fl_tail == fl->fl_head) {
                /* Nothing in flight: an empty transaction (other tables,
                 * heartbeat) is the checkpoint at once. */
                if (next) {
                        inflight_pos_copy(&fl->fl_acked, next);
                        fl->fl_gen++;
                }
                return;
        }
        /* The newest group completes no earlier than this transaction
         * would: its position may move to this one's. */
        g       = inflight_grp(fl, fl->fl_tail - 1);
        g->open = 0;
        if (next) {
                inflight_pos_copy(&g->pos, next);
                g->has_pos = 1;
        }
        inflight_advance(fl);
}

int cdc_inflight_ack(cdc_inflight_t *fl, uint64_t seq) {
        inflight_grp_t *g;
        if (seq < fl->fl_head || seq >= fl->fl_tail)
                return -1;
        g = inflight_grp(fl, seq);
        if (!g->pending)
                return -1;
        g->pending--;
        fl->fl_pending--;
        if (seq == fl->fl_head && !g->pending)
                inflight_advance(fl);
        return 0;
}

uint64_t cdc_inflight_acked(const cdc_inflight_t *fl, cdc_pos_t *pos) {
        if (fl->fl_gen && pos)
                inflight_pos_copy(pos, &fl->fl_acked);
        return fl->fl_gen;
}

void cdc_inflight_reset(cdc_inflight_t *fl) {
        fl->fl_head    = fl->fl_tail;
        fl->fl_pending = 0;
        memset(&fl->fl_acked, 0, sizeof(fl->fl_acked));
        fl->fl_gen = 0;
}

size_t cdc_inflight_groups(const cdc_inflight_t *fl) {
        return (size_t)(fl->fl_tail - fl->fl_head);
}

uint64_t cdc_inflight_pending(const cdc_inflight_t *fl) {
        return fl->fl_pending;
}

int cdc_inflight_full(const cdc_inflight_t *fl) {
        return fl->fl_tail - fl->fl_head >= fl->fl_cap;
}

uint64_t cdc_inflight_mark(const cdc_inflight_t *fl) {
        return fl->fl_tail;
}

int cdc_inflight_passed(const cdc_inflight_t *fl, uint64_t mark) {
        return fl->fl_head >= mark;
}
