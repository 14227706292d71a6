/**
 * @file cdc_pbench.c
 * @brief Benchmark hooks of the producer (see cdc_pbench.h).
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cdc_backoff.h"
#include "cdc_log.h"
#include "cdc_pbench.h"

struct cdc_pbench_s {
        int pb_decode_only;
        int pb_stop_at_end;
        int pb_have_end;
        cdc_pos_t pb_end;
        uint64_t pb_rows;
        int64_t pb_first_row_us, pb_last_commit_us, pb_idle_us;
        int64_t pb_ring_wait_us, pb_queue_wait_us;
};

int cdc_pbench_new(const cdc_pconf_t *pc, cdc_pbench_t **pbp) {
        cdc_pbench_t *pb;

        *pbp = NULL;
        if (!pc->bench_decode_only && !pc->bench_stop_at_end)
                return 0;
        pb = calloc(1, sizeof(*pb));
        if (!pb)
                return -1;
        pb->pb_decode_only = pc->bench_decode_only;
        pb->pb_stop_at_end = pc->bench_stop_at_end;
        *pbp               = pb;
        return 0;
}

void cdc_pbench_destroy(cdc_pbench_t *pb) {
        free(pb);
}

int cdc_pbench_decode_only(const cdc_pbench_t *pb) {
        return pb && pb->pb_decode_only;
}

int cdc_pbench_wants_end(const cdc_pbench_t *pb) {
        return pb && pb->pb_stop_at_end && !pb->pb_have_end;
}

void cdc_pbench_set_end(cdc_pbench_t *pb, const cdc_pos_t *end) {
        if (!pb)
                return;
        pb->pb_end      = *end;
        pb->pb_have_end = 1;
}

void cdc_pbench_row(cdc_pbench_t *pb) {
        if (!pb)
                return;
        if (!pb->pb_rows++)
                pb->pb_first_row_us = cdc_now_us();
}

int cdc_pbench_snapshot_done(cdc_pbench_t *pb) {
        return pb && pb->pb_stop_at_end;
}

int cdc_pbench_pos_reached(const cdc_pos_t *p, const cdc_pos_t *end) {
        size_t lp = strlen(p->file), le = strlen(end->file);
        int c;
        if (lp != le)
                return lp > le;
        c = strcmp(p->file, end->file);
        if (c)
                return c > 0;
        return p->pos >= end->pos;
}

int cdc_pbench_commit(cdc_pbench_t *pb, const cdc_pos_t *next) {
        if (!pb)
                return 0;
        pb->pb_last_commit_us = cdc_now_us();
        return pb->pb_have_end && cdc_pbench_pos_reached(next, &pb->pb_end);
}

int cdc_pbench_heartbeat(cdc_pbench_t *pb, const cdc_pos_t *next) {
        if (!pb || !pb->pb_have_end ||
            !cdc_pbench_pos_reached(next, &pb->pb_end))
                return 0;
        /* idle since the last commit: not part of the figures */
        if (pb->pb_last_commit_us)
                pb->pb_idle_us = cdc_now_us() - pb->pb_last_commit_us;
        return 1;
}

static int64_t pbench_peak_rss_kb(void) {
        char line[256];
        int64_t kb = -1;
        FILE *fp   = fopen("/proc/self/status", "r");
        if (!fp)
                return -1;
        while (fgets(line, sizeof(line), fp)) {
                if (!strncmp(line, "VmHWM:", 6)) {
                        kb = strtoll(line + 6, NULL, 10);
                        break;
                }
        }
        fclose(fp);
        return kb;
}

/* CPU seconds (user + system) of \p who: RUSAGE_SELF or RUSAGE_THREAD. */
static double pbench_cpu_s(int who) {
        struct rusage ru;

        if (getrusage(who, &ru) != 0)
                return -1;
        return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Seconds the calling thread waited, runnable, for a CPU (the second
 * field of /proc/thread-self/schedstat; -1 where the kernel has none). */
static double pbench_runq_s(void) {
        unsigned long long run = 0, wait = 0;
        char line[128], *end;
        FILE *fp = fopen("/proc/thread-self/schedstat", "r");
        if (!fp)
                return -1;
        if (!fgets(line, sizeof(line), fp)) {
                fclose(fp);
                return -1;
        }
        fclose(fp);
        run = strtoull(line, &end, 10);
        if (end == line)
                return -1;
        wait = strtoull(end, NULL, 10);
        (void)run;
        return (double)wait / 1e9;
}

/* CPU seconds of this process's threads other than the calling one,
 * split by name: the publisher ("publisher") into \p pub, librdkafka's
 * own ("rdk:...") into \p rdk (the first field of each
 * /proc/self/task/TID/schedstat, in nanoseconds); -1 where /proc has
 * none. The main thread's share of the producer's CPU is then main_cpu_s,
 * the rest is the publisher's or librdkafka's, not the decoder's. */
static void pbench_threads_cpu_s(double *pub, double *rdk) {
        char path[64], comm[32], line[128];
        struct dirent *de;
        pid_t self = (pid_t)syscall(SYS_gettid);
        DIR *d     = opendir("/proc/self/task");
        FILE *fp;

        *pub = *rdk = -1;
        if (!d)
                return;
        *pub = *rdk = 0;
        while ((de = readdir(d))) {
                unsigned long long ns;
                long tid = strtol(de->d_name, NULL, 10);
                if (tid <= 0 || tid == (long)self)
                        continue;
                snprintf(path, sizeof(path), "/proc/self/task/%ld/comm", tid);
                if (!(fp = fopen(path, "r")))
                        continue;
                if (!fgets(comm, sizeof(comm), fp))
                        comm[0] = '\0';
                fclose(fp);
                snprintf(path, sizeof(path), "/proc/self/task/%ld/schedstat",
                         tid);
                if (!(fp = fopen(path, "r")))
                        continue;
                ns = fgets(line, sizeof(line), fp) ? strtoull(line, NULL, 10)
                                                   : 0;
                fclose(fp);
                if (!strncmp(comm, "publisher", 9))
                        *pub += (double)ns / 1e9;
                else if (!strncmp(comm, "rdk:", 4))
                        *rdk += (double)ns / 1e9;
        }
        closedir(d);
}

void cdc_pbench_waits(cdc_pbench_t *pb, int64_t ring_us, int64_t queue_us) {
        if (!pb)
                return;
        pb->pb_ring_wait_us  = ring_us;
        pb->pb_queue_wait_us = queue_us;
}

void cdc_pbench_report(const cdc_pbench_t *pb, FILE *out) {
        int64_t end = cdc_now_us();
        double secs, pub, rdk;

        if (!pb || !pb->pb_stop_at_end)
                return;
        pbench_threads_cpu_s(&pub, &rdk);
        secs = pb->pb_first_row_us
                       ? (double)(end - pb->pb_first_row_us - pb->pb_idle_us) /
                                 1e6
                       : 0;
        fprintf(out,
                "BENCH rows=%" PRIu64 " seconds=%.3f rows_per_s=%.0f "
                "peak_rss_kb=%" PRId64
                " cpu_s=%.3f main_cpu_s=%.3f main_runq_s=%.3f"
                " publisher_cpu_s=%.3f rdkafka_cpu_s=%.3f"
                " publisher_wait_s=%.3f kafka_queue_wait_s=%.3f\n",
                pb->pb_rows, secs, secs > 0 ? (double)pb->pb_rows / secs : 0.0,
                pbench_peak_rss_kb(), pbench_cpu_s(RUSAGE_SELF),
                pbench_cpu_s(RUSAGE_THREAD), pbench_runq_s(), pub, rdk,
                (double)pb->pb_ring_wait_us / 1e6,
                (double)pb->pb_queue_wait_us / 1e6);
        fflush(out);
}
