/**
 * @file cdc_conf.h
 * @brief Table-driven configuration engine shared by the binaries.
 *
 * Each binary describes its properties in one `cdc_prop_t` table whose
 * rows point (by offset) into its own config struct, cf. librdkafka's
 * rdkafka_conf.c property table. The engine adds the rows every binary
 * shares (`log.*`, `http.*` except `http.listen`: cdc_conf_common_t) and
 * fills both structs from, in increasing precedence: the defaults of the
 * table, a `key=value` file, `FOLLOWCDC_*` environment variables, command
 * line flags. docs/CONFIGURATION.md is generated from the tables
 * (`--list-config`, scripts/gen-config-doc.sh).
 *
 * ## Row format
 *
 *     #define _P(f) offsetof(struct cdc_pconf_s, f)
 *     static const cdc_prop_t pconf_props[] = {
 *       { "mysql.port", CDC_C_INT, _P(mysql_port), 1, 65535, "3306",
 *         "MySQL/MariaDB TCP port" },
 *       { "snapshot.mode", CDC_C_ENUM, _P(snap_mode), 0, 0, "initial",
 *         "When to take a snapshot",
 *         .values = "initial|always|never|when_needed" },
 *       { "table.idempotent_log.key", CDC_C_STR, _P(key_idem), 0, 0,
 *         "request_id", "Key columns", .alias = "table.idempotent-log.key" },
 *       { NULL } };
 *
 * Positional: name, type, offset, min, max, default (text, parsed like a
 * user's value; NULL: no default), description (one line, for
 * --list-config and docs/CONFIGURATION.md). Optional, by designator:
 * `.values` (CDC_C_ENUM), `.alias` (one other accepted spelling),
 * `.check` (extra validation of a CDC_C_STR value). The field type per
 * row type is in cdc_ctype_t. min/max bound CDC_C_INT and CDC_C_MS
 * (in ms); 0, 0 means no bounds only for the types that have none.
 *
 * ## Names
 * - Lower case letters, digits, `_` and `.`: `mysql.server.id`,
 *   `table.idempotent_log.key`. An alias may also use `-`.
 * - The environment name is `FOLLOWCDC_` + the name in upper case with
 *   `.` (and `-`) as `_`: `FOLLOWCDC_MYSQL_SERVER_ID`. Two properties
 *   with the same environment name are refused by cdc_conf_new().
 *   `FOLLOWCDC_CONFIG` names the file; `FOLLOWCDC_LOCAL_*` and
 *   `FOLLOWCDC_TEST_*` belong to scripts and are skipped. Any other
 *   unknown `FOLLOWCDC_*` variable is logged as a WARNING and ignored
 *   (Kubernetes injects `FOLLOWCDC_<SERVICE>_SERVICE_HOST` for a Service
 *   named followcdc-<service>); an unknown key in a file or a flag is an
 *   error.
 * - Keys starting `kafka.` lose the prefix and go straight to
 *   rd_kafka_conf_set(); its error text becomes ours. They are checked
 *   when set. From the environment (`FOLLOWCDC_KAFKA_LINGER_MS`), a name
 *   librdkafka does not know is a warning like any unknown variable.
 *
 * ## Values
 * - Unset is not empty. A string property without a default has no value
 *   (its field is NULL) until one is given; giving it the empty value
 *   takes the value away again (`mysql.socket=` means "no socket"). A
 *   string property with a default keeps an empty value as given
 *   (`http.listen=` is "off").
 * - Durations (CDC_C_MS) take units: `250ms`, `30s`, `5m`, `2h`, `7d`,
 *   and sums like `1h30m`; a plain number is milliseconds.
 * - Enums (CDC_C_ENUM) take one of the row's values, case-insensitive;
 *   errors and --list-config list them.
 * - Booleans: true/false, yes/no, on/off, 1/0; a bare `--name` flag is
 *   true.
 * - Secret properties (CDC_C_SECRET, and `kafka.*` names containing
 *   "password" or "secret") may be `file:/path` to read the value from a
 *   regular file (trailing newline cut), so secrets never need to be on a
 *   command line.
 *
 * ## File syntax
 * `key=value` lines. Blank lines and lines whose first non-blank is `#`
 * are comments. A `#` that follows a blank (space or tab) starts a
 * comment: `mysql.server.id=4201   # unique` is 4201; `a#b` is a value.
 * A value may be double-quoted to keep blanks and ` #`:
 * `mysql.password="p #1"`; inside quotes `\"`, `\\`, `\n`, `\t` and `\r`
 * are escapes. --dump-config quotes every value that needs it, so its
 * output reads back to the same configuration. Errors read
 * `path:line: reason`, `env NAME: reason` or `--flag: reason`; main()
 * exits 2 on them.
 */
#ifndef CDC_CONF_H
#define CDC_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <librdkafka/rdkafka.h>
#include "cdc_err.h"

typedef enum {
        CDC_C_STR,    /**< char * (owned by the engine), NULL: no value */
        CDC_C_SECRET, /**< like STR, masked in dumps, `file:` allowed */
        CDC_C_INT,    /**< int64_t within [min, max] */
        CDC_C_MS,     /**< int64_t duration in ms within [min, max]; the
                       *   text may use units ("250ms", "30s", "7d") */
        CDC_C_BOOL,   /**< int: true/false/1/0/yes/no/on/off; a bare
                       *   `--name` flag means true */
        CDC_C_ENUM,   /**< int: index of the value in `.values` */
} cdc_ctype_t;

/** Same as CDC_C_MS: a duration stored in milliseconds. */
#define CDC_C_DURATION CDC_C_MS

typedef struct cdc_prop {
        const char *name; /**< dotted name, e.g. "mysql.host" */
        cdc_ctype_t type;
        size_t offset;      /**< offsetof(<binary's struct>, field) */
        int64_t min, max;   /**< CDC_C_INT / CDC_C_MS bounds (ms) */
        const char *defval; /**< default as text, NULL: none */
        const char *desc;   /**< one-line description for --list-config */
        /* ---- optional, set by designator ---- */
        /** CDC_C_ENUM: the values, `|` separated, index 0 first; a value
         *  may have extra spellings after a comma ("err,error"). */
        const char *values;
        /** Another accepted spelling of the name (an old name). */
        const char *alias;
        /** CDC_C_STR/SECRET: extra check of a non-empty value. @returns 0,
         *  or -1 with the reason in errstr. */
        int (*check)(const char *value, char *errstr, size_t errstr_size);
} cdc_prop_t;

typedef struct cdc_conf_s cdc_conf_t;

/**
 * Properties every binary has, filled by the engine's own rows. The
 * `log.*` values are applied to the logger (cdc_log.h) whenever one is
 * set; the `http.*` values are read by cdc_http_new().
 */
typedef struct cdc_conf_common_s {
        int log_level;            /**< LOG_EMERG .. LOG_DEBUG (`log.level`) */
        char *log_debug;          /**< debug contexts (`log.debug`, `-d`) */
        int log_format;           /**< cdc_log_format_t (`log.format`) */
        char *log_file;           /**< `log.file`; NULL: stderr (opened by
                                   *   cdc_conf_cli() when it returns RUN) */
        int64_t http_liveness_ms; /**< `http.liveness.timeout`, 0: off */
        int64_t http_max_conn;    /**< `http.max.connections` */
        int64_t http_max_per_ip;  /**< `http.max.connections.per.ip` */
        int64_t http_idle_ms;     /**< `http.idle.timeout` */
} cdc_conf_common_t;

/**
 * @brief New engine for \p props (terminated by a row with name NULL)
 *        filling the struct at \p base. Defaults are applied now.
 * @param progname used in usage and error texts (borrowed, static)
 * @returns the handle, or NULL with the reason in \p errstr (a bad row:
 *          name, default, enum values, a duplicate environment name).
 * @locality main thread
 */
cdc_conf_t *cdc_conf_new(const char *progname, const cdc_prop_t *props,
                         void *base, char *errstr, size_t errstr_size);

/** @brief Free \p conf and every string it set in the struct. NULL: no-op */
void cdc_conf_destroy(cdc_conf_t *conf);

/**
 * @brief Set one property (a table row, an alias, or `kafka.*`) from text.
 * @param value the text; NULL takes a string property's value away.
 * @returns CDC_ERR_NO_ERROR or CDC_ERR__CONFIG with the reason.
 */
cdc_err_t cdc_conf_set(cdc_conf_t *conf, const char *name, const char *value,
                       char *errstr, size_t errstr_size);

/** @brief Load a `key=value` file (at most 1 MiB). Errors read
 *  `path:line: reason`. */
cdc_err_t cdc_conf_load_file(cdc_conf_t *conf, const char *path, char *errstr,
                             size_t errstr_size);

/**
 * @brief Load `key=value` text from memory (the file syntax above).
 * @param name used in errors as `name:line: reason`
 */
cdc_err_t cdc_conf_load_buf(cdc_conf_t *conf, const char *name, const char *buf,
                            size_t len, char *errstr, size_t errstr_size);

/**
 * @brief Apply `FOLLOWCDC_*` variables from \p envp (NULL-terminated).
 *        Unknown names are logged (WARNING, facility CONF) and skipped;
 *        a bad value for a known property is an error.
 */
cdc_err_t cdc_conf_load_env(cdc_conf_t *conf, char **envp, char *errstr,
                            size_t errstr_size);

/**
 * @brief Apply the property flags of \p argv (`--KEY=VALUE`, `-X KEY=VALUE`,
 *        `-d LIST`, bare `--bool`), in order. The other options of
 *        cdc_conf_cli() are skipped; anything else is an error.
 */
cdc_err_t cdc_conf_load_args(cdc_conf_t *conf, int argc, char **argv,
                             char *errstr, size_t errstr_size);

/** @returns 1 if \p name was set by file, env or flag (not a default). */
int cdc_conf_is_set(const cdc_conf_t *conf, const char *name);

/** @returns the engine's own properties (borrowed, lives with \p conf). */
const cdc_conf_common_t *cdc_conf_common(const cdc_conf_t *conf);

/**
 * @brief A new rd_kafka_conf_t holding every `kafka.*` property set.
 * @returns the conf, owned by the caller (rd_kafka_new takes it).
 */
rd_kafka_conf_t *cdc_conf_kafka_dup(const cdc_conf_t *conf);

/** @returns the value of `kafka.<name>` as set by the user under that
 *           name or another name of the same librdkafka property
 *           (`linger.ms` and `queue.buffering.max.ms`), or NULL.
 *  @param name without the `kafka.` prefix. Borrowed. */
const char *cdc_conf_kafka_get(const cdc_conf_t *conf, const char *name);

/** @returns the name librdkafka files \p name under: the property an
 *           alias stands for (`max.in.flight` ->
 *           `max.in.flight.requests.per.connection`), else \p name. */
const char *cdc_conf_kafka_canon(const char *name);

/**
 * @brief Print every property as `key=value`, in the file syntax, so the
 *        output loads back to the same configuration. A property without
 *        a value is printed commented out (`#mysql.socket=`); a secret
 *        given literally is masked and commented out (`#key=***`), one
 *        given as `file:/path` is printed as that.
 */
void cdc_conf_dump(const cdc_conf_t *conf, FILE *fp);

/** @brief Print the property table (Markdown): name, type, default,
 *  range or values, description. */
void cdc_conf_list(const cdc_conf_t *conf, FILE *fp);

/** What main() should do after cdc_conf_cli(). */
typedef enum {
        CDC_CONF_CLI_RUN = 0,  /**< configuration loaded: run */
        CDC_CONF_CLI_EXIT_OK,  /**< --help/--version/--dump-config: exit 0 */
        CDC_CONF_CLI_EXIT_BAD, /**< error printed: exit 2 */
} cdc_conf_cli_t;

/**
 * @brief Standard command line of every followcdc binary:
 *
 *     -c, --config FILE     load FILE (also FOLLOWCDC_CONFIG)
 *     -X, --set KEY=VALUE   set a property (repeatable)
 *     --KEY=VALUE           same, for any property name
 *     -d, --debug LIST      debug contexts (log.debug)
 *     --dump-config         print the effective configuration, exit 0
 *     --list-config         print all properties with defaults, exit 0
 *     -h, --help / -V, --version
 *
 * Precedence: defaults < file < environment < flags. Then \p finalize
 * (may be NULL) validates across fields and returns NULL or a reason.
 * Errors are printed to stderr as `progname: reason`.
 * \p usage_extra is printed after the synopsis by --help (may be NULL).
 * @locality main thread
 */
cdc_conf_cli_t cdc_conf_cli(cdc_conf_t *conf, int argc, char **argv,
                            char **envp, const char *usage_extra,
                            const char *(*finalize)(void *base));

#endif
