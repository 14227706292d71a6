/**
 * @file cdc_conf.c
 * @brief The configuration engine's core: the engine's own rows, checking
 *        and adding a binary's rows, setting values, kafka.* pass-through,
 *        the environment. Value types: cdc_conf_value.c; file syntax,
 *        flags, dump, list and the command line: cdc_conf_text.c. The
 *        contract is in cdc_conf.h.
 */
#include "cdc_conf_int.h"
#include "cdc_log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the engine's own rows ---- */

static int conf_check_debug(const char *value, char *errstr,
                            size_t errstr_size) {
        int mask;
        return cdc_log_debug_parse(value, &mask, errstr, errstr_size);
}

#define _G(f) offsetof(struct cdc_conf_common_s, f)
/* clang-format off */
static const cdc_prop_t conf_common_props[] = {
 {"log.level", CDC_C_ENUM, _G(log_level), 0, 0, "notice",
  "Highest level logged (log.debug turns it to debug)",
  .values = "emerg|alert|crit|err,error|warning,warn|notice|info|debug"},
 {"log.debug", CDC_C_STR, _G(log_debug), 0, 0, "",
  "Debug contexts, comma separated: binlog, kprod, kcons, rsink, apply, "
  "ckpt, snapshot, reaper, conf, http, or all (also -d LIST)",
  .check = conf_check_debug},
 {"log.format", CDC_C_ENUM, _G(log_format), 0, 0, "text",
  "Log line format on stderr: text, or json (one object per line: time, "
  "level, facility, message)", .values = "text|json"},
 {"log.file", CDC_C_STR, _G(log_file), 0, 0, NULL,
  "Append log lines to this file instead of stderr; SIGHUP reopens it "
  "(logrotate). Unset: stderr, and SIGHUP is ignored with a notice"},
 {"http.liveness.timeout", CDC_C_MS, _G(http_liveness_ms), 0, 86400000,
  "60s", "/healthz answers 503 once the main loop has made no progress "
  "for this long (0: never)"},
 {"http.max.connections", CDC_C_INT, _G(http_max_conn), 1, 10000, "256",
  "Most open connections to the HTTP endpoint"},
 {"http.max.connections.per.ip", CDC_C_INT, _G(http_max_per_ip), 0, 10000,
  "8", "Most open connections from one IP address (0: no limit)"},
 {"http.idle.timeout", CDC_C_MS, _G(http_idle_ms), 1000, 3600000, "5s",
  "Close an HTTP connection idle (nothing received) this long"},
 {NULL}};
/* clang-format on */

/* ---- rows ---- */

/* Lower case letters, digits, '_' and '.' (and '-' in an alias); no
 * empty part. */
static int conf_name_ok(const char *s, int alias) {
        size_t len = strlen(s), i;
        if (!len || len > CONF_NAME_MAX || s[0] == '.' || s[len - 1] == '.' ||
            strstr(s, ".."))
                return 0;
        for (i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (!(islower(c) || isdigit(c) || c == '.' || c == '_' ||
                      (alias && c == '-')))
                        return 0;
        }
        return 1;
}

static void conf_env_name(const char *name, char *buf) {
        size_t i;
        for (i = 0; name[i] && i < CONF_NAME_MAX; i++)
                buf[i] = name[i] == '.' || name[i] == '-'
                                 ? '_'
                                 : (char)toupper((unsigned char)name[i]);
        buf[i] = '\0';
}

conf_ent_t *cdc_conf_find(const cdc_conf_t *conf, const char *name) {
        size_t i;
        for (i = 0; i < conf->cf_cnt; i++) {
                const cdc_prop_t *p = conf->cf_ents[i].ce_prop;
                if (!strcmp(p->name, name) ||
                    (p->alias && !strcmp(p->alias, name)))
                        return &conf->cf_ents[i];
        }
        return NULL;
}

static conf_ent_t *conf_find_env(const cdc_conf_t *conf, const char *env,
                                 size_t len) {
        size_t i;
        for (i = 0; i < conf->cf_cnt; i++) {
                const conf_ent_t *e = &conf->cf_ents[i];
                if ((strlen(e->ce_env) == len &&
                     !strncasecmp(e->ce_env, env, len)) ||
                    (*e->ce_aenv && strlen(e->ce_aenv) == len &&
                     !strncasecmp(e->ce_aenv, env, len)))
                        return &conf->cf_ents[i];
        }
        return NULL;
}

/* Edit distance, for "did you mean" (names are short). */
static size_t conf_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b), i, j;
        size_t row[CONF_NAME_MAX + 2];

        if (la > CONF_NAME_MAX || lb > CONF_NAME_MAX)
                return (size_t)-1;
        for (j = 0; j <= lb; j++)
                row[j] = j;
        for (i = 1; i <= la; i++) {
                size_t prev = row[0], tmp;
                row[0]      = i;
                for (j = 1; j <= lb; j++) {
                        size_t best = prev + (a[i - 1] != b[j - 1]);
                        if (row[j] + 1 < best)
                                best = row[j] + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        tmp    = row[j];
                        row[j] = best;
                        prev   = tmp;
                }
        }
        return row[lb];
}

static void conf_unknown(const cdc_conf_t *conf, const char *name, char *errstr,
                         size_t errstr_size) {
        const char *best = NULL;
        size_t bestd     = 3, i;

        for (i = 0; i < conf->cf_cnt; i++) {
                size_t d = conf_distance(name, conf->cf_ents[i].ce_prop->name);
                if (d < bestd) {
                        bestd = d;
                        best  = conf->cf_ents[i].ce_prop->name;
                }
        }
        if (best)
                snprintf(errstr, errstr_size,
                         "unknown property \"%.*s\" (did you mean %s?)",
                         CONF_NAME_MAX, name, best);
        else
                snprintf(errstr, errstr_size,
                         "unknown property \"%.*s\" (see --list-config)",
                         CONF_NAME_MAX, name);
}

/* Apply the log.* rows to the logger. */
static void conf_apply_log(const cdc_conf_t *conf) {
        const cdc_conf_common_t *cc = &conf->cf_common;
        int mask                    = 0;
        char why[256];

        if (cc->log_debug &&
            cdc_log_debug_parse(cc->log_debug, &mask, why, sizeof(why)))
                mask = 0; /* checked when set */
        cdc_log_set_debug_mask(mask);
        cdc_log_set_level(mask ? LOG_DEBUG : cc->log_level);
        cdc_log_set_format((cdc_log_format_t)cc->log_format);
}

static int conf_is_str(const cdc_prop_t *p) {
        return p->type == CDC_C_STR || p->type == CDC_C_SECRET;
}

/* Store \p value (NULL: no value) into the row's field. */
static cdc_err_t conf_set_ent(cdc_conf_t *conf, conf_ent_t *e,
                              const char *value, char *errstr,
                              size_t errstr_size) {
        const cdc_prop_t *p = e->ce_prop;
        char *field         = (char *)e->ce_base + p->offset;
        char vbuf[64], lo[64], hi[64];
        int64_t v;
        int b, idx;

        (void)conf;
        switch (p->type) {
        case CDC_C_STR:
        case CDC_C_SECRET: {
                char *s = NULL, *src = NULL;
                /* Unset is not empty: an empty value takes away the value
                 * of a property that has no default (`mysql.socket=`:
                 * no socket), and is kept as given where there is one. */
                if (value && !*value && !p->defval)
                        value = NULL;
                if (value && *value && p->check &&
                    p->check(value, errstr, errstr_size)) {
                        char why[512];
                        snprintf(why, sizeof(why), "%s", errstr);
                        snprintf(errstr, errstr_size, "%s: %s", p->name, why);
                        return CDC_ERR__CONFIG;
                }
                if (p->type == CDC_C_SECRET && value &&
                    !strncmp(value, "file:", 5)) {
                        s = cdc_conf_read_secret_file(value + 5, errstr,
                                                      errstr_size);
                        if (!s)
                                return CDC_ERR__CONFIG;
                        src = strdup(value);
                        if (!src) {
                                cdc_conf_secret_free(s);
                                snprintf(errstr, errstr_size, "out of memory");
                                return CDC_ERR__CONFIG;
                        }
                } else if (value) {
                        s = strdup(value);
                        if (!s) {
                                snprintf(errstr, errstr_size, "out of memory");
                                return CDC_ERR__CONFIG;
                        }
                }
                if (p->type == CDC_C_SECRET)
                        cdc_conf_secret_free(*(char **)field);
                else
                        free(*(char **)field);
                *(char **)field = s;
                free(e->ce_src);
                e->ce_src = src;
                return CDC_ERR_NO_ERROR;
        }
        case CDC_C_INT:
        case CDC_C_MS:
                if (!value ||
                    (p->type == CDC_C_INT ? cdc_conf_parse_int(value, &v)
                                          : cdc_conf_parse_ms(value, &v))) {
                        snprintf(errstr, errstr_size, "%s: \"%.64s\" is not %s",
                                 p->name, value ? value : "",
                                 p->type == CDC_C_INT
                                         ? "an integer"
                                         : "a duration (e.g. 250ms, 30s, "
                                           "5m, 2h, 7d, or ms)");
                        return CDC_ERR__CONFIG;
                }
                if ((p->min || p->max) && (v < p->min || v > p->max)) {
                        if (p->type == CDC_C_MS) {
                                cdc_conf_fmt_ms(v, vbuf, sizeof(vbuf));
                                cdc_conf_fmt_ms(p->min, lo, sizeof(lo));
                                cdc_conf_fmt_ms(p->max, hi, sizeof(hi));
                        } else {
                                snprintf(vbuf, sizeof(vbuf), "%lld",
                                         (long long)v);
                                snprintf(lo, sizeof(lo), "%lld",
                                         (long long)p->min);
                                snprintf(hi, sizeof(hi), "%lld",
                                         (long long)p->max);
                        }
                        snprintf(errstr, errstr_size,
                                 "%s: %s is out of range [%s, %s]", p->name,
                                 vbuf, lo, hi);
                        return CDC_ERR__CONFIG;
                }
                *(int64_t *)field = v;
                return CDC_ERR_NO_ERROR;
        case CDC_C_BOOL:
                if (!value || cdc_conf_parse_bool(value, &b)) {
                        snprintf(errstr, errstr_size,
                                 "%s: \"%.64s\" is not a boolean (true or "
                                 "false)",
                                 p->name, value ? value : "");
                        return CDC_ERR__CONFIG;
                }
                *(int *)field = b;
                return CDC_ERR_NO_ERROR;
        case CDC_C_ENUM:
                idx = value ? cdc_conf_enum_index(p->values, value) : -1;
                if (idx < 0) {
                        char list[512];
                        cdc_conf_enum_list(p->values, ", ", "", list,
                                           sizeof(list));
                        snprintf(errstr, errstr_size,
                                 "%s: \"%.64s\" is not one of %s", p->name,
                                 value ? value : "", list);
                        return CDC_ERR__CONFIG;
                }
                *(int *)field = idx;
                return CDC_ERR_NO_ERROR;
        }
        snprintf(errstr, errstr_size, "%s: bad property type", p->name);
        return CDC_ERR__CONFIG;
}

/* Check one row of a table. @returns 0 or -1 with the reason. */
static int conf_row_ok(const cdc_prop_t *p, char *errstr, size_t errstr_size) {
        char name[64];
        if (!conf_name_ok(p->name, 0)) {
                snprintf(errstr, errstr_size,
                         "property \"%s\": use lower case letters, digits, "
                         "'_' and '.'",
                         p->name);
                return -1;
        }
        if (!strncmp(p->name, CONF_KAFKA_PREFIX, strlen(CONF_KAFKA_PREFIX))) {
                snprintf(errstr, errstr_size,
                         "property %s: kafka.* is librdkafka's", p->name);
                return -1;
        }
        if (p->alias && !conf_name_ok(p->alias, 1)) {
                snprintf(errstr, errstr_size, "property %s: bad alias \"%s\"",
                         p->name, p->alias);
                return -1;
        }
        if ((int)p->type < CDC_C_STR || p->type > CDC_C_ENUM) {
                snprintf(errstr, errstr_size, "property %s: bad type", p->name);
                return -1;
        }
        if ((p->type == CDC_C_ENUM) !=
            (p->values &&
             !cdc_conf_enum_name(p->values, 0, name, sizeof(name)) && *name)) {
                snprintf(errstr, errstr_size,
                         "property %s: .values goes with CDC_C_ENUM", p->name);
                return -1;
        }
        if (p->type == CDC_C_ENUM && !p->defval) {
                snprintf(errstr, errstr_size,
                         "property %s: an enum needs a default", p->name);
                return -1;
        }
        return 0;
}

static int conf_add_rows(cdc_conf_t *conf, const cdc_prop_t *props, void *base,
                         int common, char *errstr, size_t errstr_size) {
        size_t i, j;

        for (i = 0; props[i].name; i++) {
                conf_ent_t *e = &conf->cf_ents[conf->cf_cnt];
                if (conf_row_ok(&props[i], errstr, errstr_size))
                        return -1;
                e->ce_prop   = &props[i];
                e->ce_base   = base;
                e->ce_common = common;
                conf_env_name(props[i].name, e->ce_env);
                if (props[i].alias) {
                        conf_env_name(props[i].alias, e->ce_aenv);
                        if (!strcmp(e->ce_aenv, e->ce_env))
                                e->ce_aenv[0] = '\0';
                }
                for (j = 0; j < conf->cf_cnt; j++) {
                        const conf_ent_t *o = &conf->cf_ents[j];
                        if (!strcmp(o->ce_env, e->ce_env) ||
                            (*e->ce_aenv &&
                             (!strcmp(o->ce_env, e->ce_aenv) ||
                              !strcmp(o->ce_aenv, e->ce_aenv))) ||
                            (*o->ce_aenv && !strcmp(o->ce_aenv, e->ce_env))) {
                                snprintf(errstr, errstr_size,
                                         "properties %s and %s have the same "
                                         "name or environment variable",
                                         o->ce_prop->name, props[i].name);
                                return -1;
                        }
                }
                conf->cf_cnt++;
                if (props[i].defval && conf_set_ent(conf, e, props[i].defval,
                                                    errstr, errstr_size)) {
                        char why[512];
                        snprintf(why, sizeof(why), "%s", errstr);
                        snprintf(errstr, errstr_size, "bad default: %s", why);
                        return -1;
                }
        }
        return 0;
}

cdc_conf_t *cdc_conf_new(const char *progname, const cdc_prop_t *props,
                         void *base, char *errstr, size_t errstr_size) {
        cdc_conf_t *conf = calloc(1, sizeof(*conf));
        size_t n         = 0, i;

        if (!conf) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        conf->cf_progname = progname;
        conf->cf_base     = base;
        for (i = 0; props[i].name; i++)
                n++;
        for (i = 0; conf_common_props[i].name; i++)
                n++;
        conf->cf_ents  = calloc(n + 1, sizeof(*conf->cf_ents));
        conf->cf_kconf = rd_kafka_conf_new();
        if (!conf->cf_ents || !conf->cf_kconf) {
                snprintf(errstr, errstr_size, "out of memory");
                cdc_conf_destroy(conf);
                return NULL;
        }
        /* A property without a default keeps the zero (NULL) of the
         * caller's zero-initialised struct until set (a required one is
         * checked by the binary's finalize). */
        if (conf_add_rows(conf, props, base, 0, errstr, errstr_size) ||
            conf_add_rows(conf, conf_common_props, &conf->cf_common, 1, errstr,
                          errstr_size)) {
                cdc_conf_destroy(conf);
                return NULL;
        }
        return conf;
}

void cdc_conf_destroy(cdc_conf_t *conf) {
        size_t i;
        if (!conf)
                return;
        for (i = 0; i < conf->cf_cnt; i++) {
                conf_ent_t *e = &conf->cf_ents[i];
                if (conf_is_str(e->ce_prop)) {
                        char **f = (char **)((char *)e->ce_base +
                                             e->ce_prop->offset);
                        if (e->ce_prop->type == CDC_C_SECRET)
                                cdc_conf_secret_free(*f);
                        else
                                free(*f);
                        *f = NULL;
                }
                free(e->ce_src);
        }
        for (i = 0; i < conf->cf_kcnt; i++) {
                free(conf->cf_kkeys[i]);
                cdc_conf_secret_free(conf->cf_kvals[i]);
        }
        free(conf->cf_kkeys);
        free(conf->cf_kvals);
        if (conf->cf_kconf)
                rd_kafka_conf_destroy(conf->cf_kconf);
        free(conf->cf_ents);
        free(conf);
}

/* ---- kafka.* ---- */

int cdc_conf_kafka_is_secret(const char *name) {
        return strstr(name, "password") || strstr(name, "secret") ||
               strstr(name, "key.pem") || strstr(name, "oauthbearer.config");
}

/* Set kafka.<name>. \p unknownp (may be NULL) tells a name librdkafka
 * does not know from a bad value. */
static cdc_err_t conf_set_kafka(cdc_conf_t *conf, const char *name,
                                const char *value, int *unknownp, char *errstr,
                                size_t errstr_size) {
        char kerr[512];
        size_t i;
        char **nk, **nv;
        char *secret = NULL;
        rd_kafka_conf_res_t res;

        if (unknownp)
                *unknownp = 0;
        if (!value) {
                snprintf(errstr, errstr_size, "kafka.%s: needs a value", name);
                return CDC_ERR__CONFIG;
        }
        /* kafka.sasl.password=file:/run/secrets/x, like our own secrets */
        if (cdc_conf_kafka_is_secret(name) && !strncmp(value, "file:", 5)) {
                secret = cdc_conf_read_secret_file(value + 5, errstr,
                                                   errstr_size);
                if (!secret)
                        return CDC_ERR__CONFIG;
        }
        res = rd_kafka_conf_set(conf->cf_kconf, name, secret ? secret : value,
                                kerr, sizeof(kerr));
        cdc_conf_secret_free(secret);
        if (res != RD_KAFKA_CONF_OK) {
                if (unknownp)
                        *unknownp = res == RD_KAFKA_CONF_UNKNOWN;
                snprintf(errstr, errstr_size, "kafka.%.100s: %s", name, kerr);
                return CDC_ERR__CONFIG;
        }
        for (i = 0; i < conf->cf_kcnt; i++) {
                if (!strcmp(conf->cf_kkeys[i], name)) {
                        /* Set again: move it last, so the dump replays
                         * the settings in the order that took effect
                         * (two names of one librdkafka property). */
                        char *k = conf->cf_kkeys[i], *v = strdup(value);
                        if (!v)
                                goto nomem;
                        cdc_conf_secret_free(conf->cf_kvals[i]);
                        memmove(conf->cf_kkeys + i, conf->cf_kkeys + i + 1,
                                (conf->cf_kcnt - i - 1) * sizeof(char *));
                        memmove(conf->cf_kvals + i, conf->cf_kvals + i + 1,
                                (conf->cf_kcnt - i - 1) * sizeof(char *));
                        conf->cf_kkeys[conf->cf_kcnt - 1] = k;
                        conf->cf_kvals[conf->cf_kcnt - 1] = v;
                        return CDC_ERR_NO_ERROR;
                }
        }
        nk = realloc(conf->cf_kkeys, (conf->cf_kcnt + 1) * sizeof(*nk));
        if (!nk)
                goto nomem;
        conf->cf_kkeys = nk;
        nv = realloc(conf->cf_kvals, (conf->cf_kcnt + 1) * sizeof(*nv));
        if (!nv)
                goto nomem;
        conf->cf_kvals    = nv;
        nk[conf->cf_kcnt] = strdup(name);
        nv[conf->cf_kcnt] = strdup(value);
        if (!nk[conf->cf_kcnt] || !nv[conf->cf_kcnt]) {
                free(nk[conf->cf_kcnt]);
                free(nv[conf->cf_kcnt]);
                goto nomem;
        }
        conf->cf_kcnt++;
        return CDC_ERR_NO_ERROR;
nomem:
        snprintf(errstr, errstr_size, "out of memory");
        return CDC_ERR__CONFIG;
}

/* ---- setting ---- */

cdc_err_t cdc_conf_set(cdc_conf_t *conf, const char *name, const char *value,
                       char *errstr, size_t errstr_size) {
        conf_ent_t *e;
        cdc_err_t err;

        if (errstr_size)
                *errstr = '\0';
        if (!strncmp(name, CONF_KAFKA_PREFIX, strlen(CONF_KAFKA_PREFIX)))
                return conf_set_kafka(conf, name + strlen(CONF_KAFKA_PREFIX),
                                      value, NULL, errstr, errstr_size);
        e = cdc_conf_find(conf, name);
        if (!e) {
                conf_unknown(conf, name, errstr, errstr_size);
                return CDC_ERR__CONFIG;
        }
        err = conf_set_ent(conf, e, value, errstr, errstr_size);
        if (err)
                return err;
        e->ce_set  = 1;
        e->ce_from = conf->cf_from;
        if (e->ce_common)
                conf_apply_log(conf);
        return CDC_ERR_NO_ERROR;
}

/* ---- environment ---- */

/* "tcp://10.0.0.7:6379": what Kubernetes sets as <SERVICE>_PORT. */
static int conf_is_service_link(const char *v) {
        return !strncmp(v, "tcp://", 6) || !strncmp(v, "udp://", 6) ||
               !strncmp(v, "sctp://", 7);
}

cdc_err_t cdc_conf_load_env(cdc_conf_t *conf, char **envp, char *errstr,
                            size_t errstr_size) {
        static const char pfx[] = CONF_ENV_PREFIX;
        cdc_err_t err           = CDC_ERR_NO_ERROR;
        char **e;

        if (errstr_size)
                *errstr = '\0';
        conf->cf_from = CONF_FROM_ENV;
        for (e = envp; e && *e && !err; e++) {
                char name[CONF_NAME_MAX + 8], why[512];
                const char *var = *e, *eq;
                conf_ent_t *ent;
                size_t len, i;
                int unknown = 0;

                if (strncmp(var, pfx, sizeof(pfx) - 1))
                        continue;
                eq = strchr(var, '=');
                if (!eq)
                        continue;
                var += sizeof(pfx) - 1;
                len = (size_t)(eq - var);
                if ((len == 6 && !strncmp(var, "CONFIG", 6)) ||
                    !strncmp(var, "LOCAL_", 6) || !strncmp(var, "TEST_", 5))
                        continue;
                ent = conf_find_env(conf, var, len);
                if (ent) {
                        if (ent->ce_prop->type != CDC_C_STR &&
                            ent->ce_prop->type != CDC_C_SECRET &&
                            conf_is_service_link(eq + 1)) {
                                cdc_log(LOG_WARNING, "CONF",
                                        "env %.*s: ignored: \"%.64s\" looks "
                                        "like a Kubernetes service link, not "
                                        "a value of %s (set "
                                        "enableServiceLinks: false)",
                                        (int)(eq - *e), *e, eq + 1,
                                        ent->ce_prop->name);
                                continue;
                        }
                        if (cdc_conf_set(conf, ent->ce_prop->name, eq + 1, why,
                                         sizeof(why))) {
                                snprintf(errstr, errstr_size, "env %.*s: %s",
                                         (int)(eq - *e), *e, why);
                                err = CDC_ERR__CONFIG;
                        }
                        continue;
                }
                if (len > 6 && len < sizeof(name) &&
                    !strncmp(var, "KAFKA_", 6)) {
                        for (i = 6; i < len; i++)
                                name[i - 6] =
                                        var[i] == '_'
                                                ? '.'
                                                : (char)tolower((
                                                          unsigned char)var[i]);
                        name[len - 6] = '\0';
                        if (!conf_set_kafka(conf, name, eq + 1, &unknown, why,
                                            sizeof(why)))
                                continue;
                        if (!unknown) {
                                snprintf(errstr, errstr_size, "env %.*s: %s",
                                         (int)(eq - *e), *e, why);
                                err = CDC_ERR__CONFIG;
                                continue;
                        }
                }
                /* Not ours: a service link, another program's variable. */
                cdc_log(LOG_WARNING, "CONF",
                        "env %.*s%s: no such property of %s, ignored",
                        (int)(len > 128 ? 128 : len) + (int)(sizeof(pfx) - 1),
                        *e, len > 128 ? "..." : "", conf->cf_progname);
        }
        conf->cf_from = CONF_FROM_FLAG;
        return err;
}

/* ---- queries ---- */

int cdc_conf_is_set(const cdc_conf_t *conf, const char *name) {
        const conf_ent_t *e;
        if (!strncmp(name, CONF_KAFKA_PREFIX, strlen(CONF_KAFKA_PREFIX)))
                return cdc_conf_kafka_get(
                               conf, name + strlen(CONF_KAFKA_PREFIX)) != NULL;
        e = cdc_conf_find(conf, name);
        return e ? e->ce_set : 0;
}

const cdc_conf_common_t *cdc_conf_common(const cdc_conf_t *conf) {
        return &conf->cf_common;
}

rd_kafka_conf_t *cdc_conf_kafka_dup(const cdc_conf_t *conf) {
        return rd_kafka_conf_dup(conf->cf_kconf);
}

/* librdkafka's second names of one property (rdkafka_conf.c, _RK_C_ALIAS;
 * tests/unit/test_conf.c checks this list against the linked librdkafka).
 * A default we apply under one name must not override what the user set
 * under the other: kafka.max.in.flight=1 lost to our
 * max.in.flight.requests.per.connection=5. */
static const char *const kafka_aliases[][2] = {
        { "bootstrap.servers", "metadata.broker.list" },
        { "max.in.flight", "max.in.flight.requests.per.connection" },
        { "sasl.mechanism", "sasl.mechanisms" },
        { "max.partition.fetch.bytes", "fetch.message.max.bytes" },
        { "linger.ms", "queue.buffering.max.ms" },
        { "retries", "message.send.max.retries" },
        { "compression.type", "compression.codec" },
        { "acks", "request.required.acks" },
        { "delivery.timeout.ms", "message.timeout.ms" },
        { "enable.auto.commit", "auto.commit.enable" },
};

const char *cdc_conf_kafka_canon(const char *name) {
        size_t i;
        for (i = 0; i < sizeof(kafka_aliases) / sizeof(*kafka_aliases); i++)
                if (!strcmp(name, kafka_aliases[i][0]))
                        return kafka_aliases[i][1];
        return name;
}

const char *cdc_conf_kafka_get(const cdc_conf_t *conf, const char *name) {
        const char *want = cdc_conf_kafka_canon(name);
        size_t i;
        /* newest first: of two names of one property, the last set took
         * effect (conf_set_kafka() keeps the keys in that order) */
        for (i = conf->cf_kcnt; i-- > 0;)
                if (!strcmp(cdc_conf_kafka_canon(conf->cf_kkeys[i]), want))
                        return conf->cf_kvals[i];
        return NULL;
}
