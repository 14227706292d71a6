/**
 * @file cdc_conf_int.h
 * @brief Internals of the configuration engine shared by its files:
 *        cdc_conf.c (rows, setting, environment, queries), cdc_conf_value.c
 *        (the value types) and cdc_conf_text.c (file syntax, flags,
 *        --dump-config, --list-config, the command line). Not for other
 *        modules: they use cdc_conf.h.
 */
#ifndef CDC_CONF_INT_H
#define CDC_CONF_INT_H

#include <stddef.h>
#include <stdint.h>
#include "cdc_conf.h"

#define CONF_KAFKA_PREFIX "kafka."
#define CONF_ENV_PREFIX   "FOLLOWCDC_"
/** Longest property name (and alias). */
#define CONF_NAME_MAX     100
/** Biggest configuration file and secret file. */
#define CONF_FILE_MAX     (1024 * 1024)
#define CONF_SECRET_MAX   (64 * 1024)

/** Where a value came from (for `-d conf`). */
typedef enum {
        CONF_FROM_DEFAULT = 0,
        CONF_FROM_FILE,
        CONF_FROM_ENV,
        CONF_FROM_FLAG,
} conf_from_t;

/** One row of the binary's table or of the engine's own. */
typedef struct conf_ent_s {
        const cdc_prop_t *ce_prop;
        void *ce_base; /* struct the row's offset points into */
        int ce_common; /* an engine row (log.*, http.*) */
        int ce_set;    /* set by the user */
        conf_from_t ce_from;
        char *ce_src; /* CDC_C_SECRET: the `file:/path` text, or NULL */
        char ce_env[CONF_NAME_MAX + 1];  /* name as FOLLOWCDC_<ce_env> */
        char ce_aenv[CONF_NAME_MAX + 1]; /* alias as env name, or "" */
} conf_ent_t;

struct cdc_conf_s {
        const char *cf_progname;
        void *cf_base; /* the binary's struct, for its finalize */
        conf_ent_t *cf_ents;
        size_t cf_cnt;
        cdc_conf_common_t cf_common; /* base of the engine's rows */
        conf_from_t cf_from;         /* origin of the values being set */
        rd_kafka_conf_t *cf_kconf;   /* validated kafka.* properties */
        char **cf_kkeys;             /* kafka.* as set, for dump and get */
        char **cf_kvals;
        size_t cf_kcnt;
};

/* ---- cdc_conf_value.c: value types ---- */

/** @returns \p s after spaces and tabs. */
const char *cdc_conf_skip_blank(const char *s);
/** @returns the length of [s, s+len) without trailing spaces and tabs. */
size_t cdc_conf_rtrim_len(const char *s, size_t len);
/** Parse an integer (blanks around it allowed). @returns 0 or -1. */
int cdc_conf_parse_int(const char *s, int64_t *vp);
/** Parse a duration: "250", "250ms", "30s", "1h30m", "7d" into ms. */
int cdc_conf_parse_ms(const char *s, int64_t *vp);
/** The shortest exact text of a duration: "0", "250ms", "1h30m". */
void cdc_conf_fmt_ms(int64_t ms, char *buf, size_t size);
/** Parse a boolean. @returns 0 or -1. */
int cdc_conf_parse_bool(const char *s, int *vp);
/** @returns the index of \p s among an enum row's values, or -1. */
int cdc_conf_enum_index(const char *values, const char *s);
/** The first spelling of value \p idx. @returns 0, or -1 past the end. */
int cdc_conf_enum_name(const char *values, int idx, char *buf, size_t size);
/** Every value's first spelling, joined by \p sep, each in \p quote. */
void cdc_conf_enum_list(const char *values, const char *sep, const char *quote,
                        char *buf, size_t size);
/** Read a secret from a regular file. @returns the value (free with
 *  cdc_conf_secret_free) or NULL with the reason. */
char *cdc_conf_read_secret_file(const char *path, char *errstr,
                                size_t errstr_size);
/** Wipe and free a secret. NULL: no-op. */
void cdc_conf_secret_free(char *s);

/* ---- cdc_conf.c ---- */

/** @returns the row named \p name (or its alias), or NULL. */
conf_ent_t *cdc_conf_find(const cdc_conf_t *conf, const char *name);
/** @returns non-zero for a kafka.* name that holds a secret. */
int cdc_conf_kafka_is_secret(const char *name);

#endif
