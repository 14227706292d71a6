/**
 * @file test_pbench.c
 * @brief The producer's BENCH line: the CPU of its threads, split by
 *        name (bench/producer.sh reads where the time went from it).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cdc_pbench.h"

/* A thread that burns at least sp_ms of its own CPU, records how much it
 * used, then waits (alive, so /proc still lists it) until released. */
typedef struct spin_s {
        const char *sp_name;
        int sp_ms;
        double sp_used; /* its CPU seconds when done spinning */
        int sp_done, sp_release;
        pthread_mutex_t *sp_lock;
        pthread_cond_t *sp_cnd;
} spin_t;

static double thread_cpu_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *spin_main(void *arg) {
        spin_t *sp        = arg;
        volatile int sink = 0;

        pthread_setname_np(pthread_self(), sp->sp_name);
        while (thread_cpu_s() * 1000 < sp->sp_ms)
                sink++;
        pthread_mutex_lock(sp->sp_lock);
        sp->sp_used = thread_cpu_s();
        sp->sp_done = 1;
        pthread_cond_broadcast(sp->sp_cnd);
        while (!sp->sp_release)
                pthread_cond_wait(sp->sp_cnd, sp->sp_lock);
        pthread_mutex_unlock(sp->sp_lock);
        return NULL;
}

/* the number after " NAME=" in \p line */
static double field(const char *line, const char *name) {
        char key[64];
        const char *p;
        snprintf(key, sizeof(key), " %s=", name);
        p = strstr(line, key);
        assert_non_null(p);
        return strtod(p + strlen(key), NULL);
}

/* The publisher's CPU and librdkafka's ("rdk:...") are reported apart,
 * each at least what those threads used, and a thread of another name
 * counts in neither (only in the process's cpu_s). */
static void test_threads_cpu(void **state) {
        pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        pthread_cond_t cnd   = PTHREAD_COND_INITIALIZER;
        spin_t sp[]          = {
                         { "publisher", 60, 0, 0, 0, &lock, &cnd },
                         { "rdk:broker1", 40, 0, 0, 0, &lock, &cnd },
                         { "rdk:main", 20, 0, 0, 0, &lock, &cnd },
                         { "other", 200, 0, 0, 0, &lock, &cnd },
        };
        const size_t n = sizeof(sp) / sizeof(*sp);
        pthread_t th[sizeof(sp) / sizeof(*sp)];
        cdc_pconf_t pc;
        cdc_pbench_t *pb = NULL;
        char *buf        = NULL;
        size_t len       = 0, i;
        double pub, rdk, cpu, main_cpu;
        FILE *out;
        (void)state;

        memset(&pc, 0, sizeof(pc));
        pc.bench_stop_at_end = 1;
        assert_int_equal(cdc_pbench_new(&pc, &pb), 0);
        assert_non_null(pb);
        cdc_pbench_row(pb);
        for (i = 0; i < n; i++)
                assert_int_equal(
                        pthread_create(&th[i], NULL, spin_main, &sp[i]), 0);
        pthread_mutex_lock(&lock);
        for (i = 0; i < n; i++)
                while (!sp[i].sp_done)
                        pthread_cond_wait(&cnd, &lock);
        pthread_mutex_unlock(&lock);

        out = open_memstream(&buf, &len);
        assert_non_null(out);
        cdc_pbench_report(pb, out);
        fclose(out);
        print_message("%s", buf);

        pthread_mutex_lock(&lock);
        for (i = 0; i < n; i++)
                sp[i].sp_release = 1;
        pthread_cond_broadcast(&cnd);
        pthread_mutex_unlock(&lock);
        for (i = 0; i < n; i++)
                pthread_join(th[i], NULL);

        assert_non_null(strstr(buf, "BENCH rows=1 "));
        pub      = field(buf, "publisher_cpu_s");
        rdk      = field(buf, "rdkafka_cpu_s");
        cpu      = field(buf, "cpu_s");
        main_cpu = field(buf, "main_cpu_s");
        /* at least what each used (the line rounds to 1 ms) ... */
        assert_true(pub >= sp[0].sp_used - 0.001);
        assert_true(rdk >= sp[1].sp_used + sp[2].sp_used - 0.001);
        /* ... and not the other thread's 200 ms */
        assert_true(pub < sp[0].sp_used + sp[3].sp_used / 2);
        assert_true(rdk < sp[1].sp_used + sp[2].sp_used + sp[3].sp_used / 2);
        /* the process counts them all */
        assert_true(cpu >= main_cpu + pub + rdk + sp[3].sp_used - 0.005);
        free(buf);
        cdc_pbench_destroy(pb);
}

/* Without a bench option there is nothing to report. */
static void test_off(void **state) {
        cdc_pconf_t pc;
        cdc_pbench_t *pb = (cdc_pbench_t *)&pc;
        (void)state;

        memset(&pc, 0, sizeof(pc));
        assert_int_equal(cdc_pbench_new(&pc, &pb), 0);
        assert_null(pb);
        cdc_pbench_report(pb, stdout); /* a no-op */
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_threads_cpu),
                cmocka_unit_test(test_off),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
