/**
 * @file main.c
 * @brief followcdc-verify: prove Redis equals MySQL, or say exactly what
 *        differs (docs/verify.md). Read-only on both. Wires the
 *        configuration, signals, the metrics endpoint and the engine.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <mysql.h>

#include "cdc_log.h"
#include "cdc_metrics.h"
#include "cdc_vconf.h"
#include "cdc_verify.h"

extern char **environ;

static volatile sig_atomic_t main_run = 1;

static void main_sig(int sig) {
        (void)sig;
        main_run = 0;
}

static const char usage_extra[] =
        "Modes (one of):\n"
        "  --full                  every user and idempotency record, and "
        "keys only Redis has\n"
        "  --users=ID,ID,...       these users\n"
        "  --sample=N              N random users\n"
        "  --every=60s             continuous: run again at this interval "
        "(with --sample or\n"
        "                          --users), metrics on http.listen\n"
        "  --json                  differences and the summary as JSON lines\n"
        "  --repair                file repair requests for what differs (the\n"
        "                          producer's signal table, docs/repair.md)\n"
        "\n"
        "Reads the consumer's configuration (-c consumer.conf: tables, "
        "columns,\nredis.*, kafka.*) plus mysql.* and the producer's "
        "checkpoint.* and source.epoch.\n"
        "The last line is the summary: VERIFY users=... checked_edges=... "
        "divergent_users=...\n"
        "\n"
        "Exit status: 0 Redis equals MySQL, 1 differences found, 2 bad "
        "configuration,\n3 could not finish (a server unreachable, the "
        "pipeline did not catch up).\n"
        "Documentation: man followcdc-verify, docs/verify.md\n";

static int main_ready(void *opaque, char *why, size_t why_size) {
        (void)opaque;
        snprintf(why, why_size, "ready: verifying");
        return 1;
}

int main(int argc, char **argv) {
        cdc_vconf_t vc;
        cdc_verify_t *v  = NULL;
        cdc_metrics_t *m = NULL;
        cdc_http_t *http = NULL;
        cdc_verify_sum_t sum;
        struct sigaction sa;
        char es[512];
        int ret = CDC_VERIFY_UNFINISH;

        if (cdc_vconf_init(&vc, es, sizeof(es))) {
                fprintf(stderr, "followcdc-verify: %s\n", es);
                return CDC_VERIFY_CONFIG;
        }
        switch (cdc_conf_cli(vc.vc_cc.cc_conf, argc, argv, environ, usage_extra,
                             cdc_vconf_finalize)) {
        case CDC_CONF_CLI_RUN:
                break;
        case CDC_CONF_CLI_EXIT_OK:
                ret = 0;
                goto out;
        default:
                ret = CDC_VERIFY_CONFIG;
                goto out;
        }
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = main_sig;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        mysql_library_init(0, NULL, NULL);

        if (vc.every_ms > 0) {
                m = cdc_metrics_new();
                if (!m) {
                        cdc_log(LOG_CRIT, "VERIFY", "out of memory");
                        goto out;
                }
        }
        v = cdc_verify_new(&vc, stdout, m, es, sizeof(es));
        if (!v) {
                cdc_log(LOG_ERR, "VERIFY", "%s", es);
                ret = CDC_VERIFY_CONFIG;
                goto out;
        }
        if (m && vc.vc_cc.http_listen && *vc.vc_cc.http_listen) {
                http = cdc_http_new(vc.vc_cc.http_listen, vc.vc_cc.cc_conf, m,
                                    main_ready, NULL, es, sizeof(es));
                if (!http) {
                        cdc_log(LOG_ERR, "VERIFY", "http.listen %s: %s",
                                vc.vc_cc.http_listen, es);
                        ret = CDC_VERIFY_CONFIG;
                        goto out;
                }
                cdc_log(LOG_NOTICE, "VERIFY", "serving /metrics on port %d",
                        cdc_http_port(http));
        }
        for (;;) {
                struct timespec ts = { 0, 100 * 1000000L };
                int64_t waited     = 0;

                ret = cdc_verify_run(v, &main_run, &sum);
                cdc_http_alive(http);
                if (vc.every_ms <= 0 || !main_run || ret == CDC_VERIFY_CONFIG)
                        break;
                while (main_run && waited < vc.every_ms) {
                        nanosleep(&ts, NULL);
                        waited += 100;
                        cdc_http_alive(http);
                }
                if (!main_run) {
                        ret = 0; /* stopped between runs */
                        break;
                }
        }
out:
        cdc_http_destroy(http);
        cdc_verify_destroy(v);
        cdc_metrics_destroy(m);
        cdc_vconf_destroy(&vc);
        return ret;
}
