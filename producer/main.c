/**
 * @file main.c
 * @brief followcdc-producer: MySQL/MariaDB binlog -> Kafka change events.
 *
 * Wires the configuration, the signals and the engine (cdc_pengine.h, the
 * run loop and its states); every other decision lives in the modules.
 *
 * Exit codes: 0 stopped (SIGTERM/SIGINT), 1 fatal runtime error (a Kafka
 * delivery that failed for good, an undecodable event), 2 configuration
 * or server settings, 3 the binlog position is purged (re-snapshot).
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cdc_conf.h"
#include "cdc_log.h"
#include "cdc_pconf.h"
#include "cdc_pengine.h"

static volatile sig_atomic_t run = 1;

static void producer_sigterm(int sig) {
        (void)sig;
        run = 0;
}

static const char usage_extra[] =
        "Streams every committed change of the captured tables of a MySQL 8 /\n"
        "MariaDB 10.5+ primary to Kafka as JSON change events.\n"
        "\n"
        "  --snapshot               take a new consistent snapshot, then "
        "stream\n"
        "  --bench.decode.only      read and encode only (no Kafka, no "
        "checkpoint)\n"
        "  --bench.stop.at.end      stop at the binlog end seen at start\n"
        "\n"
        "Debug contexts: binlog, snapshot, kprod, ckpt (or all), e.g.\n"
        "-d binlog,ckpt\n"
        "\n"
        "Exit status: 0 stopped (SIGTERM/SIGINT), 1 fatal runtime error,\n"
        "2 bad configuration or server settings, 3 binlog purged past the\n"
        "checkpoint (re-snapshot: --snapshot or snapshot.mode=when_needed).\n"
        "SIGHUP reopens log.file (or is ignored): it never stops the process.\n"
        "Documentation: man followcdc-producer, docs/producer.md\n";

int main(int argc, char **argv, char **envp) {
        static cdc_pconf_t pc;
        cdc_pengine_t *pe = NULL;
        cdc_conf_t *conf;
        struct sigaction sa;
        char errstr[512];
        int code = 0;
        cdc_err_t err;

        /* librdkafka's threads build, compress and free the message sets,
         * each thread in a glibc malloc arena of its own by default; capped
         * as in the consumer (peak RSS, see docs/producer.md). */
        mallopt(M_ARENA_MAX, 2);
        /* SIGHUP reopens log.file or is ignored, never fatal: blocked here
         * before any thread exists, taken by the logger's thread. */
        cdc_log_sighup_start();
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = producer_sigterm;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);

        conf = cdc_conf_new("followcdc-producer", cdc_pconf_props(), &pc,
                            errstr, sizeof(errstr));
        if (!conf) {
                fprintf(stderr, "followcdc-producer: %s\n", errstr);
                cdc_log_sighup_stop();
                return CDC_PENGINE_EXIT_CONFIG;
        }
        switch (cdc_conf_cli(conf, argc, argv, envp, usage_extra,
                             cdc_pconf_finalize)) {
        case CDC_CONF_CLI_RUN:
                break;
        case CDC_CONF_CLI_EXIT_OK:
                code = -1;
                break;
        case CDC_CONF_CLI_EXIT_BAD:
                code = CDC_PENGINE_EXIT_CONFIG;
                break;
        }
        if (code) {
                cdc_pconf_clear(&pc);
                cdc_conf_destroy(conf);
                cdc_log_sighup_stop();
                return code < 0 ? 0 : code;
        }

        cdc_log(LOG_NOTICE, "PRODUCER",
                "followcdc-producer %s: source %s, %s.%s%s, snapshot.mode=%s,"
                " checkpoint.store=%s",
                CDC_VERSION, pc.source_name, pc.mysql_db, pc.source_tables,
                pc.bench_decode_only ? " (decode only)" : "",
                cdc_pconf_snapshot_mode_str(pc.snap_mode),
                pc.store == CDC_CKPT_STORE_FILE ? "file" : "kafka");
        err = cdc_pengine_new(&pc, conf, &run, &pe, errstr, sizeof(errstr));
        if (err) {
                cdc_log(LOG_CRIT, "PRODUCER", "%s", errstr);
                code = err == CDC_ERR__NOMEM ? CDC_PENGINE_EXIT_FATAL
                                             : CDC_PENGINE_EXIT_CONFIG;
        } else {
                code = cdc_pengine_run(pe);
        }
        cdc_log(LOG_NOTICE, "PRODUCER", "exiting with status %d", code);
        cdc_pengine_destroy(pe);
        cdc_pconf_clear(&pc);
        cdc_conf_destroy(conf);
        cdc_log_sighup_stop();
        return code;
}
