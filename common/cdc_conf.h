/**
 * @file cdc_conf.h
 * @brief Table-driven configuration engine shared by the binaries.
 *
 * Each binary describes its properties in one `cdc_prop_t` table whose
 * rows point (by offset) into its own config struct, cf. librdkafka's
 * rdkafka_conf.c property table. The engine fills that struct from, in
 * increasing precedence: defaults, a `key=value` file (`#` comments),
 * `FOLLOWCDC_*` environment variables, command line flags.
 *
 * - Property names use dots only: `mysql.server.id`. The environment
 *   name is `FOLLOWCDC_` + upper case with `.` replaced by `_`:
 *   `FOLLOWCDC_MYSQL_SERVER_ID`. `FOLLOWCDC_CONFIG` names the file.
 *   `FOLLOWCDC_LOCAL_*` and `FOLLOWCDC_TEST_*` are reserved for scripts
 *   and ignored; any other unknown `FOLLOWCDC_*` variable is an error.
 * - Keys starting `kafka.` lose the prefix and go straight to
 *   rd_kafka_conf_set(); its error text becomes ours. They are checked
 *   when set, so a bad one is reported as `path:line: reason`.
 * - `log.level` and `log.debug` are handled by the engine itself.
 * - Secret properties (CDC_C_SECRET, and `kafka.*` names containing
 *   "password" or "secret") are masked by --dump-config; their value may
 *   be `file:/path` to read it from a file (trailing newline stripped), so
 *   secrets never need to be on a command line.
 * - A property without a default keeps the zero (NULL) of the caller's
 *   zero-initialised struct until set.
 * - Errors read `path:line: reason`, `env NAME: reason` or
 *   `--flag: reason`; main() exits 2 on them.
 */
#ifndef CDC_CONF_H
#define CDC_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <librdkafka/rdkafka.h>
#include "cdc_err.h"

typedef enum {
        CDC_C_STR,    /**< char * (owned by the engine), NULL if unset */
        CDC_C_SECRET, /**< like STR, masked in dumps, `file:` allowed */
        CDC_C_INT,    /**< int64_t within [min, max] */
        CDC_C_MS,     /**< int64_t duration in ms within [min, max]; the
                       *   text may end in ms, s, m, h or d ("7d") */
        CDC_C_BOOL,   /**< int: true/false/1/0/yes/no/on/off; a bare
                       *   `--name` flag means true */
} cdc_ctype_t;

typedef struct cdc_prop {
        const char *name; /**< dotted name, e.g. "mysql.host" */
        cdc_ctype_t type;
        size_t offset;      /**< offsetof(<binary's struct>, field) */
        int64_t min, max;   /**< CDC_C_INT bounds */
        const char *defval; /**< default as text, NULL: none */
        const char *desc;   /**< one-line description for --help */
} cdc_prop_t;

typedef struct cdc_conf_s cdc_conf_t;

/**
 * @brief New engine for \p props (terminated by a row with name NULL)
 *        filling the struct at \p base. Defaults are applied now.
 * @param progname used in usage and error texts (borrowed, static)
 * @returns the handle, or NULL with the reason in \p errstr (a bad
 *          default in the table).
 * @locality main thread
 */
cdc_conf_t *cdc_conf_new(const char *progname, const cdc_prop_t *props,
                         void *base, char *errstr, size_t errstr_size);

/** @brief Free \p conf and every string it set in the struct. NULL: no-op */
void cdc_conf_destroy(cdc_conf_t *conf);

/**
 * @brief Set one property from text.
 * @returns CDC_ERR_NO_ERROR or CDC_ERR__CONFIG with the reason.
 */
cdc_err_t cdc_conf_set(cdc_conf_t *conf, const char *name, const char *value,
                       char *errstr, size_t errstr_size);

/** @brief Load a `key=value` file. Errors read `path:line: reason`. */
cdc_err_t cdc_conf_load_file(cdc_conf_t *conf, const char *path, char *errstr,
                             size_t errstr_size);

/** @brief Apply `FOLLOWCDC_*` variables from \p envp (NULL-terminated). */
cdc_err_t cdc_conf_load_env(cdc_conf_t *conf, char **envp, char *errstr,
                            size_t errstr_size);

/** @returns 1 if \p name was set by file, env or flag (not a default). */
int cdc_conf_is_set(const cdc_conf_t *conf, const char *name);

/**
 * @brief A new rd_kafka_conf_t holding every `kafka.*` property set.
 * @returns the conf, owned by the caller (rd_kafka_new takes it).
 */
rd_kafka_conf_t *cdc_conf_kafka_dup(const cdc_conf_t *conf);

/** @returns the value of `kafka.<name>` as set by the user, or NULL.
 *  @param name without the `kafka.` prefix. Borrowed. */
const char *cdc_conf_kafka_get(const cdc_conf_t *conf, const char *name);

/** @brief Print every property as `key=value` (secrets masked). */
void cdc_conf_dump(const cdc_conf_t *conf, FILE *fp);

/** @brief Print the property table: name, default, description. */
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
