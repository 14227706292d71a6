#include "cdc_backoff.h"

#include <stdlib.h>
#include <time.h>

struct cdc_backoff_s {
        int bo_base_ms;
        int bo_max_ms;
        int bo_cur_ms;      /* un-jittered delay of the next attempt */
        int64_t bo_last_us; /* time of the last _next_ms call, 0: never */
        uint64_t bo_rand;   /* xorshift state for the jitter */
};

cdc_backoff_t *cdc_backoff_new(int base_ms, int max_ms) {
        cdc_backoff_t *bo = calloc(1, sizeof(*bo));
        if (!bo)
                return NULL;
        if (base_ms < 1)
                base_ms = 1;
        if (max_ms < base_ms)
                max_ms = base_ms;
        bo->bo_base_ms = base_ms;
        bo->bo_max_ms  = max_ms;
        bo->bo_cur_ms  = base_ms;
        bo->bo_rand    = (uint64_t)cdc_now_us() ^ (uint64_t)(uintptr_t)bo ^
                      0x9e3779b97f4a7c15ull;
        return bo;
}

void cdc_backoff_destroy(cdc_backoff_t *bo) {
        free(bo);
}

void cdc_backoff_seed(cdc_backoff_t *bo, uint64_t seed) {
        bo->bo_rand = seed ? seed : 1;
}

void cdc_backoff_reset(cdc_backoff_t *bo) {
        bo->bo_cur_ms  = bo->bo_base_ms;
        bo->bo_last_us = 0;
}

static uint64_t backoff_rand(cdc_backoff_t *bo) {
        uint64_t x = bo->bo_rand;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bo->bo_rand = x;
        return x;
}

int cdc_backoff_next_ms(cdc_backoff_t *bo, int64_t now_us) {
        int64_t ms;
        int64_t jitter_range;

        /* A long quiet period means the last failure is history. */
        if (bo->bo_last_us &&
            now_us - bo->bo_last_us > (int64_t)bo->bo_max_ms * 4 * 1000)
                bo->bo_cur_ms = bo->bo_base_ms;
        bo->bo_last_us = now_us;

        ms = bo->bo_cur_ms;
        /* Jitter -25%..+50% so a fleet does not reconnect in lockstep. */
        jitter_range = ms * 3 / 4;
        if (jitter_range > 0)
                ms = ms - ms / 4 +
                     (int64_t)(backoff_rand(bo) % (uint64_t)(jitter_range + 1));
        if (ms > bo->bo_max_ms + bo->bo_max_ms / 2)
                ms = bo->bo_max_ms + bo->bo_max_ms / 2;
        if (ms < 1)
                ms = 1;

        if (bo->bo_cur_ms < bo->bo_max_ms) {
                bo->bo_cur_ms *= 2;
                if (bo->bo_cur_ms > bo->bo_max_ms)
                        bo->bo_cur_ms = bo->bo_max_ms;
        }
        return (int)ms;
}

int64_t cdc_now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t cdc_now_coarse_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t cdc_wallclock_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
