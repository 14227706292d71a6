/**
 * @file main.c
 * @brief followcdc-consumer: a Kafka consumer group member that applies
 *        change events to Redis. This file only wires the configuration
 *        (cdc_cconf), the signals and the engine (cdc_engine, which owns
 *        the modules and runs the loop; the batch lives in cdc_batch).
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cdc_cconf.h"
#include "cdc_conf.h"
#include "cdc_engine.h"
#include "cdc_log.h"
#include "cdc_redlq.h"

extern char **environ;

static volatile sig_atomic_t run = 1;

static void main_sig_term(int sig) {
        (void)sig;
        run = 0;
}

static const char usage_extra[] =
        "Replay / backfill (rebuilds Redis; applying twice is harmless):\n"
        "  --replay=earliest         start every assigned partition at its "
        "beginning\n"
        "  --replay-from=TIME        start at TIME (2026-11-22T05:00:00Z or "
        "ms)\n"
        "\n"
        "Dead letters (after the cause is fixed; docs/repair.md):\n"
        "  --reprocess-dlq           re-apply every letter of the dead-letter "
        "topic,\n"
        "                            print those that still fail, exit 0 (all\n"
        "                            applied), 1 (some fail) or 3 (could not "
        "finish)\n"
        "\n"
        "Debug contexts: kcons, rsink, apply, reaper (or all), e.g. -d "
        "kcons,apply\n"
        "\n"
        "Exit status: 0 stopped (SIGTERM/SIGINT), 1 fatal runtime error,\n"
        "2 bad configuration or a server that can't be used,\n"
        "3 --reprocess-dlq could not finish (1: letters still fail).\n"
        "SIGHUP reopens log.file (or is ignored): it never stops the process.\n"
        "Documentation: man followcdc-consumer, docs/consumer.md\n";

int main(int argc, char **argv) {
        cdc_cconf_t cc;
        cdc_engine_t *eng = NULL;
        char es[512];
        char **av = NULL;
        struct sigaction sa;
        cdc_err_t err;
        int ret = 1;

        /* librdkafka's threads (two clients) and the parse thread would
         * each get a glibc malloc arena; their fragmentation cost ~9 MB
         * of peak RSS in bench/consumer.sh for no measurable speed. */
        mallopt(M_ARENA_MAX, 2);
        /* SIGHUP reopens log.file or is ignored, never fatal: blocked here
         * before any thread exists, taken by the logger's thread. */
        cdc_log_sighup_start();
        if (cdc_cconf_init(&cc, es, sizeof(es))) {
                fprintf(stderr, "followcdc-consumer: %s\n", es);
                cdc_log_sighup_stop();
                return 2;
        }
        av = cdc_cconf_argv_dup(argc, argv);
        if (!av) {
                fprintf(stderr, "followcdc-consumer: out of memory\n");
                goto out;
        }
        switch (cdc_conf_cli(cc.cc_conf, argc, av, environ, usage_extra,
                             cdc_cconf_finalize)) {
        case CDC_CONF_CLI_RUN:
                break;
        case CDC_CONF_CLI_EXIT_OK:
                ret = 0;
                goto out;
        default:
                ret = 2;
                goto out;
        }

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = main_sig_term;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        /* a write to a connection Redis closed must not kill us */
        signal(SIGPIPE, SIG_IGN);

        if (cc.reprocess_dlq) {
                ret = cdc_redlq_run(&cc, &run, stdout);
                goto out;
        }
        err = cdc_engine_new(&cc, &run, &eng, es, sizeof(es));
        if (err) {
                cdc_log(LOG_ERR, "CONSUMER", "%s", es);
                ret = err == CDC_ERR__CONFIG ? 2 : 1;
                goto out;
        }
        ret = cdc_engine_run(eng);
out:
        cdc_engine_destroy(eng);
        cdc_log_sighup_stop();
        cdc_cconf_argv_free(av);
        cdc_cconf_destroy(&cc);
        return ret;
}
