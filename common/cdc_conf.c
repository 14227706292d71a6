#include "cdc_conf.h"
#include "cdc_log.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct cdc_conf_s {
        const char *cf_progname;
        const cdc_prop_t *cf_props;
        size_t cf_prop_cnt;
        void *cf_base;
        unsigned char *cf_set;     /* per property: set by the user */
        rd_kafka_conf_t *cf_kconf; /* validated kafka.* properties */
        char **cf_kkeys;           /* kafka.* as set, for dump and get */
        char **cf_kvals;
        size_t cf_kcnt;
        char *cf_log_level;
        char *cf_log_debug;
        int cf_log_level_set, cf_log_debug_set;
};

#define CONF_KAFKA_PREFIX "kafka."

/* ---- value parsing ---- */

static int conf_parse_int(const char *s, int64_t *vp) {
        char *end;
        long long v;

        while (isspace((unsigned char)*s))
                s++;
        if (!*s)
                return -1;
        errno = 0;
        v     = strtoll(s, &end, 10);
        if (errno || end == s)
                return -1;
        while (isspace((unsigned char)*end))
                end++;
        if (*end)
                return -1;
        *vp = v;
        return 0;
}

static int conf_parse_ms(const char *s, int64_t *vp) {
        static const struct {
                const char *sfx;
                int64_t mul;
        } units[] = { { "ms", 1 },      { "s", 1000 },     { "m", 60000 },
                      { "h", 3600000 }, { "d", 86400000 }, { NULL, 0 } };
        char *end;
        long long v;
        size_t i;

        while (isspace((unsigned char)*s))
                s++;
        if (!*s)
                return -1;
        errno = 0;
        v     = strtoll(s, &end, 10);
        if (errno || end == s || v < 0)
                return -1;
        if (!*end) {
                *vp = v;
                return 0;
        }
        for (i = 0; units[i].sfx; i++) {
                if (!strcmp(end, units[i].sfx)) {
                        if (v > INT64_MAX / units[i].mul)
                                return -1;
                        *vp = (int64_t)v * units[i].mul;
                        return 0;
                }
        }
        return -1;
}

static int conf_parse_bool(const char *s, int *vp) {
        static const char *yes[] = { "true", "1", "yes", "on", NULL };
        static const char *no[]  = { "false", "0", "no", "off", NULL };
        int i;
        for (i = 0; yes[i]; i++)
                if (!strcasecmp(s, yes[i])) {
                        *vp = 1;
                        return 0;
                }
        for (i = 0; no[i]; i++)
                if (!strcasecmp(s, no[i])) {
                        *vp = 0;
                        return 0;
                }
        return -1;
}

/* Read a secret from "file:/path": first 64 KiB, trailing newline cut. */
static char *conf_read_secret_file(const char *path, char *errstr,
                                   size_t errstr_size) {
        FILE *fp = fopen(path, "r");
        char *buf;
        size_t n;

        if (!fp) {
                snprintf(errstr, errstr_size, "cannot read secret file %s: %s",
                         path, strerror(errno));
                return NULL;
        }
        buf = malloc(65536);
        if (!buf) {
                fclose(fp);
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        n = fread(buf, 1, 65535, fp);
        fclose(fp);
        buf[n] = '\0';
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
                buf[--n] = '\0';
        return buf;
}

static const cdc_prop_t *conf_find(const cdc_conf_t *conf, const char *name,
                                   size_t *idxp) {
        size_t i;
        for (i = 0; i < conf->cf_prop_cnt; i++) {
                if (!strcmp(conf->cf_props[i].name, name)) {
                        if (idxp)
                                *idxp = i;
                        return &conf->cf_props[i];
                }
        }
        return NULL;
}

static cdc_err_t conf_set_prop(cdc_conf_t *conf, const cdc_prop_t *prop,
                               const char *value, char *errstr,
                               size_t errstr_size) {
        char *field = (char *)conf->cf_base + prop->offset;
        int64_t v;
        int b;

        switch (prop->type) {
        case CDC_C_STR:
        case CDC_C_SECRET: {
                char *s;
                if (prop->type == CDC_C_SECRET && value &&
                    !strncmp(value, "file:", 5))
                        s = conf_read_secret_file(value + 5, errstr,
                                                  errstr_size);
                else
                        s = value ? strdup(value) : NULL;
                if (value && !s) {
                        if (!*errstr)
                                snprintf(errstr, errstr_size, "out of memory");
                        return CDC_ERR__CONFIG;
                }
                free(*(char **)field);
                *(char **)field = s;
                return CDC_ERR_NO_ERROR;
        }
        case CDC_C_INT:
        case CDC_C_MS:
                if (!value ||
                    (prop->type == CDC_C_INT ? conf_parse_int(value, &v)
                                             : conf_parse_ms(value, &v))) {
                        snprintf(errstr, errstr_size, "%s: \"%s\" is not %s",
                                 prop->name, value ? value : "",
                                 prop->type == CDC_C_INT
                                         ? "an integer"
                                         : "a duration (e.g. 500ms, 30s, 7d)");
                        return CDC_ERR__CONFIG;
                }
                if (v < prop->min || v > prop->max) {
                        snprintf(errstr, errstr_size,
                                 "%s: %lld is out of range [%lld, %lld]",
                                 prop->name, (long long)v, (long long)prop->min,
                                 (long long)prop->max);
                        return CDC_ERR__CONFIG;
                }
                *(int64_t *)field = v;
                return CDC_ERR_NO_ERROR;
        case CDC_C_BOOL:
                if (!value || conf_parse_bool(value, &b)) {
                        snprintf(errstr, errstr_size,
                                 "%s: \"%s\" is not a boolean (true/false)",
                                 prop->name, value ? value : "");
                        return CDC_ERR__CONFIG;
                }
                *(int *)field = b;
                return CDC_ERR_NO_ERROR;
        }
        snprintf(errstr, errstr_size, "%s: bad property type", prop->name);
        return CDC_ERR__CONFIG;
}

cdc_conf_t *cdc_conf_new(const char *progname, const cdc_prop_t *props,
                         void *base, char *errstr, size_t errstr_size) {
        cdc_conf_t *conf = calloc(1, sizeof(*conf));
        size_t i;

        if (!conf) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        conf->cf_progname = progname;
        conf->cf_props    = props;
        conf->cf_base     = base;
        while (props[conf->cf_prop_cnt].name)
                conf->cf_prop_cnt++;
        conf->cf_set   = calloc(conf->cf_prop_cnt + 1, 1);
        conf->cf_kconf = rd_kafka_conf_new();
        if (!conf->cf_set || !conf->cf_kconf) {
                snprintf(errstr, errstr_size, "out of memory");
                cdc_conf_destroy(conf);
                return NULL;
        }
        for (i = 0; i < conf->cf_prop_cnt; i++) {
                if (strchr(props[i].name, '_')) {
                        snprintf(errstr, errstr_size,
                                 "property %s: names use dots, not '_'",
                                 props[i].name);
                        cdc_conf_destroy(conf);
                        return NULL;
                }
                /* No default: the field keeps the zero the caller's
                 * struct holds (a required property is checked by the
                 * binary's finalize, cdc_conf_is_set()). */
                if (!props[i].defval)
                        continue;
                if (conf_set_prop(conf, &props[i], props[i].defval, errstr,
                                  errstr_size)) {
                        cdc_conf_destroy(conf);
                        return NULL;
                }
        }
        return conf;
}

void cdc_conf_destroy(cdc_conf_t *conf) {
        size_t i;
        if (!conf)
                return;
        for (i = 0; i < conf->cf_prop_cnt; i++) {
                if (conf->cf_props[i].type == CDC_C_STR ||
                    conf->cf_props[i].type == CDC_C_SECRET) {
                        char **f = (char **)((char *)conf->cf_base +
                                             conf->cf_props[i].offset);
                        free(*f);
                        *f = NULL;
                }
        }
        for (i = 0; i < conf->cf_kcnt; i++) {
                free(conf->cf_kkeys[i]);
                free(conf->cf_kvals[i]);
        }
        free(conf->cf_kkeys);
        free(conf->cf_kvals);
        if (conf->cf_kconf)
                rd_kafka_conf_destroy(conf->cf_kconf);
        free(conf->cf_log_level);
        free(conf->cf_log_debug);
        free(conf->cf_set);
        free(conf);
}

static int conf_kafka_is_secret(const char *name);

static cdc_err_t conf_set_kafka(cdc_conf_t *conf, const char *name,
                                const char *value, char *errstr,
                                size_t errstr_size) {
        char kerr[512];
        size_t i;
        char **nk, **nv;
        char *secret = NULL;
        rd_kafka_conf_res_t res;

        /* kafka.sasl.password=file:/run/secrets/x, like our own secrets */
        if (conf_kafka_is_secret(name) && !strncmp(value, "file:", 5)) {
                secret = conf_read_secret_file(value + 5, errstr, errstr_size);
                if (!secret)
                        return CDC_ERR__CONFIG;
        }
        res = rd_kafka_conf_set(conf->cf_kconf, name, secret ? secret : value,
                                kerr, sizeof(kerr));
        if (secret) {
                memset(secret, 0, strlen(secret));
                free(secret);
        }
        if (res != RD_KAFKA_CONF_OK) {
                snprintf(errstr, errstr_size, "kafka.%s: %s", name, kerr);
                return CDC_ERR__CONFIG;
        }
        for (i = 0; i < conf->cf_kcnt; i++) {
                if (!strcmp(conf->cf_kkeys[i], name)) {
                        char *v = strdup(value);
                        if (!v)
                                goto nomem;
                        free(conf->cf_kvals[i]);
                        conf->cf_kvals[i] = v;
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

/* Replace *dstp with a copy of value (the engine's own settings, kept for
 * --dump-config). */
static int conf_keep_text(char **dstp, const char *value, char *errstr,
                          size_t errstr_size) {
        char *v = strdup(value);
        if (!v) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        free(*dstp);
        *dstp = v;
        return 0;
}

cdc_err_t cdc_conf_set(cdc_conf_t *conf, const char *name, const char *value,
                       char *errstr, size_t errstr_size) {
        const cdc_prop_t *prop;
        size_t idx;
        cdc_err_t err;

        if (errstr_size)
                *errstr = '\0';
        if (!strncmp(name, CONF_KAFKA_PREFIX, strlen(CONF_KAFKA_PREFIX)))
                return conf_set_kafka(conf, name + strlen(CONF_KAFKA_PREFIX),
                                      value, errstr, errstr_size);
        if (!strcmp(name, "log.level")) {
                int level = cdc_log_level_parse(value);
                if (level < 0) {
                        snprintf(errstr, errstr_size,
                                 "log.level: \"%s\" is not one of err, "
                                 "warning, notice, info, debug",
                                 value);
                        return CDC_ERR__CONFIG;
                }
                if (conf_keep_text(&conf->cf_log_level, value, errstr,
                                   errstr_size))
                        return CDC_ERR__CONFIG;
                conf->cf_log_level_set = 1;
                cdc_log_set_level(level);
                return CDC_ERR_NO_ERROR;
        }
        if (!strcmp(name, "log.debug")) {
                char why[128];
                if (cdc_log_set_debug(value, why, sizeof(why))) {
                        snprintf(errstr, errstr_size, "log.debug: %s", why);
                        return CDC_ERR__CONFIG;
                }
                if (conf_keep_text(&conf->cf_log_debug, value, errstr,
                                   errstr_size))
                        return CDC_ERR__CONFIG;
                conf->cf_log_debug_set = 1;
                return CDC_ERR_NO_ERROR;
        }
        prop = conf_find(conf, name, &idx);
        if (!prop) {
                snprintf(errstr, errstr_size, "unknown property \"%s\"", name);
                return CDC_ERR__CONFIG;
        }
        err = conf_set_prop(conf, prop, value, errstr, errstr_size);
        if (!err)
                conf->cf_set[idx] = 1;
        return err;
}

static char *conf_trim(char *s) {
        char *e;
        while (isspace((unsigned char)*s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
                *--e = '\0';
        return s;
}

cdc_err_t cdc_conf_load_file(cdc_conf_t *conf, const char *path, char *errstr,
                             size_t errstr_size) {
        FILE *fp = fopen(path, "r");
        char line[8192];
        int lineno    = 0;
        cdc_err_t err = CDC_ERR_NO_ERROR;

        if (!fp) {
                snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
                return CDC_ERR__CONFIG;
        }
        while (fgets(line, sizeof(line), fp)) {
                char why[512];
                char *s, *eq;

                lineno++;
                if (!strchr(line, '\n') && !feof(fp)) {
                        snprintf(errstr, errstr_size,
                                 "%s:%d: line too long (max %zu bytes)", path,
                                 lineno, sizeof(line) - 2);
                        err = CDC_ERR__CONFIG;
                        break;
                }
                s = conf_trim(line);
                if (!*s || *s == '#')
                        continue;
                eq = strchr(s, '=');
                if (!eq) {
                        snprintf(errstr, errstr_size,
                                 "%s:%d: expected key=value", path, lineno);
                        err = CDC_ERR__CONFIG;
                        break;
                }
                *eq = '\0';
                if (cdc_conf_set(conf, conf_trim(s), conf_trim(eq + 1), why,
                                 sizeof(why))) {
                        snprintf(errstr, errstr_size, "%s:%d: %s", path, lineno,
                                 why);
                        err = CDC_ERR__CONFIG;
                        break;
                }
        }
        if (!err && ferror(fp)) {
                snprintf(errstr, errstr_size, "%s: read error", path);
                err = CDC_ERR__CONFIG;
        }
        fclose(fp);
        return err;
}

cdc_err_t cdc_conf_load_env(cdc_conf_t *conf, char **envp, char *errstr,
                            size_t errstr_size) {
        static const char pfx[] = "FOLLOWCDC_";
        char **e;

        for (e = envp; e && *e; e++) {
                char name[256], why[512];
                const char *var = *e, *eq;
                size_t len, i;

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
                if (len == 0 || len >= sizeof(name)) {
                        snprintf(errstr, errstr_size,
                                 "env %.*s: bad variable name", (int)(eq - *e),
                                 *e);
                        return CDC_ERR__CONFIG;
                }
                for (i = 0; i < len; i++)
                        name[i] =
                                var[i] == '_'
                                        ? '.'
                                        : (char)tolower((unsigned char)var[i]);
                name[len] = '\0';
                if (cdc_conf_set(conf, name, eq + 1, why, sizeof(why))) {
                        snprintf(errstr, errstr_size, "env %.*s: %s",
                                 (int)(eq - *e), *e, why);
                        return CDC_ERR__CONFIG;
                }
        }
        return CDC_ERR_NO_ERROR;
}

int cdc_conf_is_set(const cdc_conf_t *conf, const char *name) {
        size_t idx;
        if (!strcmp(name, "log.level"))
                return conf->cf_log_level_set;
        if (!strcmp(name, "log.debug"))
                return conf->cf_log_debug_set;
        if (!strncmp(name, CONF_KAFKA_PREFIX, strlen(CONF_KAFKA_PREFIX)))
                return cdc_conf_kafka_get(
                               conf, name + strlen(CONF_KAFKA_PREFIX)) != NULL;
        if (!conf_find(conf, name, &idx))
                return 0;
        return conf->cf_set[idx];
}

rd_kafka_conf_t *cdc_conf_kafka_dup(const cdc_conf_t *conf) {
        return rd_kafka_conf_dup(conf->cf_kconf);
}

const char *cdc_conf_kafka_get(const cdc_conf_t *conf, const char *name) {
        size_t i;
        for (i = 0; i < conf->cf_kcnt; i++)
                if (!strcmp(conf->cf_kkeys[i], name))
                        return conf->cf_kvals[i];
        return NULL;
}

static int conf_kafka_is_secret(const char *name) {
        return strstr(name, "password") || strstr(name, "secret") ||
               strstr(name, "key.pem") || strstr(name, "oauthbearer.config");
}

void cdc_conf_dump(const cdc_conf_t *conf, FILE *fp) {
        size_t i;
        for (i = 0; i < conf->cf_prop_cnt; i++) {
                const cdc_prop_t *p = &conf->cf_props[i];
                const char *field   = (const char *)conf->cf_base + p->offset;
                switch (p->type) {
                case CDC_C_STR:
                        fprintf(fp, "%s=%s\n", p->name,
                                *(char *const *)field ? *(char *const *)field
                                                      : "");
                        break;
                case CDC_C_SECRET:
                        fprintf(fp, "%s=%s\n", p->name,
                                *(char *const *)field ? "***" : "");
                        break;
                case CDC_C_INT:
                case CDC_C_MS:
                        fprintf(fp, "%s=%lld\n", p->name,
                                (long long)*(const int64_t *)field);
                        break;
                case CDC_C_BOOL:
                        fprintf(fp, "%s=%s\n", p->name,
                                *(const int *)field ? "true" : "false");
                        break;
                }
        }
        fprintf(fp, "log.level=%s\n",
                conf->cf_log_level ? conf->cf_log_level : "notice");
        fprintf(fp, "log.debug=%s\n",
                conf->cf_log_debug ? conf->cf_log_debug : "");
        for (i = 0; i < conf->cf_kcnt; i++)
                fprintf(fp, "kafka.%s=%s\n", conf->cf_kkeys[i],
                        conf_kafka_is_secret(conf->cf_kkeys[i])
                                ? "***"
                                : conf->cf_kvals[i]);
}

void cdc_conf_list(const cdc_conf_t *conf, FILE *fp) {
        size_t i;
        fprintf(fp, "%-32s %-22s %s\n", "Property", "Default", "Description");
        for (i = 0; i < conf->cf_prop_cnt; i++) {
                const cdc_prop_t *p = &conf->cf_props[i];
                fprintf(fp, "%-32s %-22s %s\n", p->name,
                        p->defval ? p->defval : "", p->desc ? p->desc : "");
        }
        fprintf(fp, "%-32s %-22s %s\n", "log.level", "notice",
                "err, warning, notice, info, debug");
        fprintf(fp, "%-32s %-22s %s\n", "log.debug", "",
                "debug contexts: binlog,kprod,kcons,rsink,apply,ckpt,"
                "snapshot,reaper,conf,http,all");
        fprintf(fp, "%-32s %-22s %s\n", "kafka.<property>", "",
                "any librdkafka property (CONFIGURATION.md), passed through");
        fprintf(fp, "\nEnvironment: FOLLOWCDC_<PROPERTY> with '.' as '_', "
                    "e.g. FOLLOWCDC_KAFKA_BOOTSTRAP_SERVERS.\n"
                    "Secrets may be given as file:/path/to/secret.\n");
}

static void conf_usage(const cdc_conf_t *conf, FILE *fp,
                       const char *usage_extra) {
        fprintf(fp,
                "Usage: %s [options]\n"
                "\n"
                "Options:\n"
                "  -c, --config FILE     load key=value properties from FILE "
                "(also FOLLOWCDC_CONFIG)\n"
                "  -X, --set KEY=VALUE   set a property (repeatable)\n"
                "  --KEY=VALUE           the same, e.g. --log.level=info\n"
                "  -d, --debug LIST      debug contexts (log.debug), "
                "comma-separated\n"
                "  --dump-config         print the effective configuration "
                "(secrets masked) and exit\n"
                "  --list-config         print every property with its "
                "default and exit\n"
                "  -h, --help            this help\n"
                "  -V, --version         print the version and exit\n"
                "\n"
                "Precedence: defaults < config file < FOLLOWCDC_* environment "
                "< flags.\n",
                conf->cf_progname);
        if (usage_extra)
                fprintf(fp, "\n%s\n", usage_extra);
}

/* Split "key=value" into a freshly allocated key and a pointer into arg. */
static int conf_split_kv(const char *arg, char **keyp, const char **valp) {
        const char *eq = strchr(arg, '=');
        if (!eq || eq == arg)
                return -1;
        *keyp = strndup(arg, (size_t)(eq - arg));
        *valp = eq + 1;
        return *keyp ? 0 : -1;
}

cdc_conf_cli_t cdc_conf_cli(cdc_conf_t *conf, int argc, char **argv,
                            char **envp, const char *usage_extra,
                            const char *(*finalize)(void *base)) {
        const char *cfgfile = NULL;
        int dump = 0, list = 0, i;
        char errstr[1024];
        const char *why;
        char **e;

        /* Pass 1: flags that decide what to do and the config file. */
        for (i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
                        conf_usage(conf, stdout, usage_extra);
                        return CDC_CONF_CLI_EXIT_OK;
                } else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
                        printf("%s %s (librdkafka %s)\n", conf->cf_progname,
                               CDC_VERSION, rd_kafka_version_str());
                        return CDC_CONF_CLI_EXIT_OK;
                } else if (!strcmp(a, "--dump-config")) {
                        dump = 1;
                } else if (!strcmp(a, "--list-config")) {
                        list = 1;
                } else if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
                        if (i + 1 >= argc) {
                                fprintf(stderr, "%s: %s needs a file\n",
                                        conf->cf_progname, a);
                                return CDC_CONF_CLI_EXIT_BAD;
                        }
                        cfgfile = argv[++i];
                } else if (!strncmp(a, "--config=", 9)) {
                        cfgfile = a + 9;
                } else if (!strcmp(a, "-X") || !strcmp(a, "--set") ||
                           !strcmp(a, "-d") || !strcmp(a, "--debug")) {
                        if (i + 1 >= argc) {
                                fprintf(stderr, "%s: %s needs an argument\n",
                                        conf->cf_progname, a);
                                return CDC_CONF_CLI_EXIT_BAD;
                        }
                        i++;
                } else if (strncmp(a, "--", 2)) {
                        fprintf(stderr,
                                "%s: unexpected argument \"%s\" (see "
                                "--help)\n",
                                conf->cf_progname, a);
                        return CDC_CONF_CLI_EXIT_BAD;
                }
        }
        if (list) {
                cdc_conf_list(conf, stdout);
                return CDC_CONF_CLI_EXIT_OK;
        }

        if (!cfgfile) {
                for (e = envp; e && *e; e++)
                        if (!strncmp(*e, "FOLLOWCDC_CONFIG=", 17))
                                cfgfile = *e + 17;
                if (cfgfile && !*cfgfile)
                        cfgfile = NULL;
        }
        if (cfgfile &&
            cdc_conf_load_file(conf, cfgfile, errstr, sizeof(errstr))) {
                fprintf(stderr, "%s: %s\n", conf->cf_progname, errstr);
                return CDC_CONF_CLI_EXIT_BAD;
        }
        if (cdc_conf_load_env(conf, envp, errstr, sizeof(errstr))) {
                fprintf(stderr, "%s: %s\n", conf->cf_progname, errstr);
                return CDC_CONF_CLI_EXIT_BAD;
        }

        /* Pass 2: property flags, in order. */
        for (i = 1; i < argc; i++) {
                const char *a = argv[i], *val = NULL;
                char *key = NULL;
                char why2[768];
                cdc_err_t err;

                if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
                        i++;
                        continue;
                }
                if (!strcmp(a, "--dump-config") || !strncmp(a, "--config=", 9))
                        continue;
                if (!strcmp(a, "-d") || !strcmp(a, "--debug")) {
                        key = strdup("log.debug");
                        val = argv[++i];
                } else if (!strcmp(a, "-X") || !strcmp(a, "--set")) {
                        a = argv[++i];
                        if (conf_split_kv(a, &key, &val)) {
                                fprintf(stderr,
                                        "%s: -X %s: expected KEY=VALUE\n",
                                        conf->cf_progname, a);
                                return CDC_CONF_CLI_EXIT_BAD;
                        }
                } else if (strchr(a + 2, '=')) {
                        if (conf_split_kv(a + 2, &key, &val)) {
                                fprintf(stderr, "%s: %s: bad flag\n",
                                        conf->cf_progname, a);
                                return CDC_CONF_CLI_EXIT_BAD;
                        }
                } else {
                        /* bare --name: a boolean property set to true */
                        const cdc_prop_t *p = conf_find(conf, a + 2, NULL);
                        if (!p || p->type != CDC_C_BOOL) {
                                fprintf(stderr,
                                        "%s: unknown option \"%s\" (see "
                                        "--help)\n",
                                        conf->cf_progname, a);
                                return CDC_CONF_CLI_EXIT_BAD;
                        }
                        key = strdup(a + 2);
                        val = "true";
                }
                if (!key) {
                        fprintf(stderr, "%s: out of memory\n",
                                conf->cf_progname);
                        return CDC_CONF_CLI_EXIT_BAD;
                }
                err = cdc_conf_set(conf, key, val, why2, sizeof(why2));
                free(key);
                if (err) {
                        fprintf(stderr, "%s: %s: %s\n", conf->cf_progname, a,
                                why2);
                        return CDC_CONF_CLI_EXIT_BAD;
                }
        }

        if (finalize) {
                why = finalize(conf->cf_base);
                if (why) {
                        fprintf(stderr, "%s: %s\n", conf->cf_progname, why);
                        return CDC_CONF_CLI_EXIT_BAD;
                }
        }
        if (dump) {
                cdc_conf_dump(conf, stdout);
                return CDC_CONF_CLI_EXIT_OK;
        }
        return CDC_CONF_CLI_RUN;
}
