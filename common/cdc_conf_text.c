/**
 * @file cdc_conf_text.c
 * @brief The configuration engine's texts: the file syntax (comments,
 *        quotes), flags, --dump-config (which reads back), --list-config
 *        (Markdown, the source of docs/CONFIGURATION.md), the command line.
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

/* ---- the file syntax ---- */

/* Parse the value part of a line (after '=') into \p out (size >= strlen
 * + 1). @returns NULL, or the reason it is malformed. */
static const char *conf_parse_value(const char *s, char *out) {
        static const char hex[] = "0123456789abcdef";
        const char *p           = cdc_conf_skip_blank(s);
        size_t of               = 0;

        if (*p != '"') {
                /* unquoted: a '#' after a blank starts a comment (the
                 * blanks right after '=' count: `key= #x` is empty) */
                const char *end;
                for (end = p; *end; end++)
                        if (*end == '#' && end > s &&
                            (end[-1] == ' ' || end[-1] == '\t'))
                                break;
                of = cdc_conf_rtrim_len(p, (size_t)(end - p));
                memcpy(out, p, of);
                out[of] = '\0';
                return NULL;
        }
        for (p++; *p && *p != '"'; p++) {
                if (*p != '\\') {
                        out[of++] = *p;
                        continue;
                }
                p++;
                switch (*p) {
                case '"':
                case '\\':
                        out[of++] = *p;
                        break;
                case 'n':
                        out[of++] = '\n';
                        break;
                case 't':
                        out[of++] = '\t';
                        break;
                case 'r':
                        out[of++] = '\r';
                        break;
                case 'x': {
                        const char *h1 =
                                p[1] ? strchr(hex, tolower((unsigned char)p[1]))
                                     : NULL;
                        const char *h2 =
                                h1 && p[2]
                                        ? strchr(hex,
                                                 tolower((unsigned char)p[2]))
                                        : NULL;
                        int c;
                        if (!h1 || !h2)
                                return "\\x needs two hex digits";
                        c = (int)((h1 - hex) * 16 + (h2 - hex));
                        if (!c)
                                return "\\x00: NUL is not allowed";
                        out[of++] = (char)c;
                        p += 2;
                        break;
                }
                default:
                        return "unknown escape in quotes (use \\\", \\\\, "
                               "\\n, \\t, \\r or \\xHH)";
                }
        }
        if (*p != '"')
                return "unterminated quote";
        p = cdc_conf_skip_blank(p + 1);
        if (*p && *p != '#')
                return "text after the closing quote (a comment starts "
                       "with '#')";
        out[of] = '\0';
        return NULL;
}

cdc_err_t cdc_conf_load_buf(cdc_conf_t *conf, const char *name, const char *buf,
                            size_t len, char *errstr, size_t errstr_size) {
        const char *p = buf, *end = buf + len;
        char *line = NULL, *val = NULL;
        size_t cap    = 0;
        int lineno    = 0;
        cdc_err_t err = CDC_ERR_NO_ERROR;

        if (errstr_size)
                *errstr = '\0';
        conf->cf_from = CONF_FROM_FILE;
        while (p < end && !err) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t ll      = nl ? (size_t)(nl - p) : (size_t)(end - p);
                char why[768];
                const char *s, *bad;
                char *eq, *k;
                size_t kl;

                lineno++;
                if (ll + 1 > cap) {
                        char *nb = realloc(line, ll + 1);
                        char *nv = nb ? realloc(val, ll + 1) : NULL;
                        if (nb)
                                line = nb;
                        if (nv)
                                val = nv;
                        if (!nb || !nv) {
                                snprintf(errstr, errstr_size,
                                         "%s: out of memory", name);
                                err = CDC_ERR__CONFIG;
                                break;
                        }
                        cap = ll + 1;
                }
                memcpy(line, p, ll);
                line[ll] = '\0';
                p        = nl ? nl + 1 : end;
                if (memchr(line, '\0', ll)) {
                        snprintf(errstr, errstr_size, "%s:%d: NUL byte", name,
                                 lineno);
                        err = CDC_ERR__CONFIG;
                        break;
                }
                if (ll && line[ll - 1] == '\r') /* CRLF files */
                        line[--ll] = '\0';
                s = cdc_conf_skip_blank(line);
                if (!*s || *s == '#')
                        continue;
                eq = strchr(line, '=');
                if (!eq) {
                        snprintf(errstr, errstr_size,
                                 "%s:%d: expected key=value", name, lineno);
                        err = CDC_ERR__CONFIG;
                        break;
                }
                bad = conf_parse_value(eq + 1, val);
                if (bad) {
                        snprintf(errstr, errstr_size, "%s:%d: %s", name, lineno,
                                 bad);
                        err = CDC_ERR__CONFIG;
                        break;
                }
                *eq   = '\0';
                k     = (char *)cdc_conf_skip_blank(line);
                kl    = cdc_conf_rtrim_len(k, strlen(k));
                k[kl] = '\0';
                if (!kl) {
                        snprintf(errstr, errstr_size,
                                 "%s:%d: no key before "
                                 "'='",
                                 name, lineno);
                        err = CDC_ERR__CONFIG;
                        break;
                }
                if (cdc_conf_set(conf, k, val, why, sizeof(why))) {
                        snprintf(errstr, errstr_size, "%s:%d: %s", name, lineno,
                                 why);
                        err = CDC_ERR__CONFIG;
                }
        }
        free(line);
        free(val);
        conf->cf_from = CONF_FROM_FLAG;
        return err;
}

cdc_err_t cdc_conf_load_file(cdc_conf_t *conf, const char *path, char *errstr,
                             size_t errstr_size) {
        FILE *fp = fopen(path, "r");
        char *buf;
        size_t n = 0;
        cdc_err_t err;

        if (!fp) {
                snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
                return CDC_ERR__CONFIG;
        }
        buf = malloc(CONF_FILE_MAX + 1);
        if (!buf) {
                fclose(fp);
                snprintf(errstr, errstr_size, "%s: out of memory", path);
                return CDC_ERR__CONFIG;
        }
        while (n <= CONF_FILE_MAX) {
                size_t r = fread(buf + n, 1, CONF_FILE_MAX + 1 - n, fp);
                if (!r)
                        break;
                n += r;
        }
        if (ferror(fp)) {
                snprintf(errstr, errstr_size, "%s: read error", path);
                err = CDC_ERR__CONFIG;
        } else if (n > CONF_FILE_MAX) {
                snprintf(errstr, errstr_size, "%s: larger than %d bytes", path,
                         CONF_FILE_MAX);
                err = CDC_ERR__CONFIG;
        } else {
                err = cdc_conf_load_buf(conf, path, buf, n, errstr,
                                        errstr_size);
        }
        fclose(fp);
        free(buf);
        return err;
}

/* ---- flags ---- */

/* Split "key=value" into a freshly allocated key and a pointer into arg. */
static int conf_split_kv(const char *arg, char **keyp, const char **valp) {
        const char *eq = strchr(arg, '=');
        if (!eq || eq == arg)
                return -1;
        *keyp = strndup(arg, (size_t)(eq - arg));
        *valp = eq + 1;
        return *keyp ? 0 : -1;
}

cdc_err_t cdc_conf_load_args(cdc_conf_t *conf, int argc, char **argv,
                             char *errstr, size_t errstr_size) {
        int i;

        if (errstr_size)
                *errstr = '\0';
        conf->cf_from = CONF_FROM_FLAG;
        for (i = 1; i < argc; i++) {
                const char *a = argv[i], *val = NULL;
                char *key = NULL;
                char why[768];
                cdc_err_t err;

                if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
                        i++;
                        continue;
                }
                if (!strcmp(a, "--dump-config") ||
                    !strcmp(a, "--list-config") || !strcmp(a, "-h") ||
                    !strcmp(a, "--help") || !strcmp(a, "-V") ||
                    !strcmp(a, "--version") || !strncmp(a, "--config=", 9))
                        continue;
                if (!strcmp(a, "-d") || !strcmp(a, "--debug") ||
                    !strcmp(a, "-X") || !strcmp(a, "--set")) {
                        if (i + 1 >= argc) {
                                snprintf(errstr, errstr_size,
                                         "%s needs an argument", a);
                                return CDC_ERR__CONFIG;
                        }
                        if (!strcmp(a, "-d") || !strcmp(a, "--debug")) {
                                key = strdup("log.debug");
                                val = argv[++i];
                        } else {
                                a = argv[++i];
                                if (conf_split_kv(a, &key, &val)) {
                                        snprintf(errstr, errstr_size,
                                                 "-X %.200s: expected "
                                                 "KEY=VALUE",
                                                 a);
                                        return CDC_ERR__CONFIG;
                                }
                        }
                } else if (strncmp(a, "--", 2) || !a[2]) {
                        snprintf(errstr, errstr_size,
                                 "unexpected argument \"%.200s\" (see --help)",
                                 a);
                        return CDC_ERR__CONFIG;
                } else if (strchr(a + 2, '=')) {
                        if (conf_split_kv(a + 2, &key, &val)) {
                                snprintf(errstr, errstr_size,
                                         "%.200s: bad flag", a);
                                return CDC_ERR__CONFIG;
                        }
                } else {
                        /* bare --name: a boolean property set to true */
                        const conf_ent_t *e = cdc_conf_find(conf, a + 2);
                        if (!e || e->ce_prop->type != CDC_C_BOOL) {
                                snprintf(errstr, errstr_size,
                                         "unknown option \"%.200s\" (see "
                                         "--help)",
                                         a);
                                return CDC_ERR__CONFIG;
                        }
                        key = strdup(a + 2);
                        val = "true";
                }
                if (!key) {
                        snprintf(errstr, errstr_size, "out of memory");
                        return CDC_ERR__CONFIG;
                }
                err = cdc_conf_set(conf, key, val, why, sizeof(why));
                free(key);
                if (err) {
                        snprintf(errstr, errstr_size, "%.200s: %s", a, why);
                        return CDC_ERR__CONFIG;
                }
        }
        return CDC_ERR_NO_ERROR;
}

/* ---- dump ---- */

/* Does \p v need quotes to read back as itself? */
static int conf_needs_quotes(const char *v) {
        size_t len = strlen(v), i;
        if (!len)
                return 0;
        if (v[0] == ' ' || v[0] == '\t' || v[0] == '"' || v[len - 1] == ' ' ||
            v[len - 1] == '\t')
                return 1;
        for (i = 0; i < len; i++) {
                unsigned char c = (unsigned char)v[i];
                if (c < 0x20 || c == 0x7f)
                        return 1;
                if (c == '#' && i > 0 && (v[i - 1] == ' ' || v[i - 1] == '\t'))
                        return 1;
        }
        return 0;
}

static void conf_put_value(FILE *fp, const char *v) {
        static const char hex[] = "0123456789abcdef";
        if (!conf_needs_quotes(v)) {
                fputs(v, fp);
                return;
        }
        fputc('"', fp);
        for (; *v; v++) {
                unsigned char c = (unsigned char)*v;
                if (c == '"' || c == '\\') {
                        fputc('\\', fp);
                        fputc(c, fp);
                } else if (c == '\n') {
                        fputs("\\n", fp);
                } else if (c == '\t') {
                        fputs("\\t", fp);
                } else if (c == '\r') {
                        fputs("\\r", fp);
                } else if (c < 0x20 || c == 0x7f) {
                        fputs("\\x", fp);
                        fputc(hex[c >> 4], fp);
                        fputc(hex[c & 0xf], fp);
                } else {
                        fputc(c, fp);
                }
        }
        fputc('"', fp);
}

static int conf_name_is_ms(const char *name) {
        size_t len = strlen(name);
        return len > 3 && !strcmp(name + len - 3, ".ms");
}

/* The value of \p e as text. @returns NULL when it has none; *maskedp
 * tells a masked secret. */
static const char *conf_ent_text(const conf_ent_t *e, char *buf, size_t size,
                                 int *maskedp) {
        const cdc_prop_t *p = e->ce_prop;
        const char *field   = (const char *)e->ce_base + p->offset;

        *maskedp = 0;
        /* A number without a default has no value until one is given
         * (mysql.server.id): its zero would not read back. */
        if (p->type != CDC_C_STR && p->type != CDC_C_SECRET && !p->defval &&
            !e->ce_set)
                return NULL;
        switch (p->type) {
        case CDC_C_STR:
                return *(char *const *)field;
        case CDC_C_SECRET:
                if (!*(char *const *)field)
                        return NULL;
                if (e->ce_src)
                        return e->ce_src;
                *maskedp = 1;
                return "***";
        case CDC_C_INT:
                snprintf(buf, size, "%lld", (long long)*(const int64_t *)field);
                return buf;
        case CDC_C_MS:
                if (conf_name_is_ms(p->name))
                        snprintf(buf, size, "%lld",
                                 (long long)*(const int64_t *)field);
                else
                        cdc_conf_fmt_ms(*(const int64_t *)field, buf, size);
                return buf;
        case CDC_C_BOOL:
                return *(const int *)field ? "true" : "false";
        case CDC_C_ENUM:
                if (cdc_conf_enum_name(p->values, *(const int *)field, buf,
                                       size))
                        snprintf(buf, size, "%d", *(const int *)field);
                return buf;
        }
        return NULL;
}

void cdc_conf_dump(const cdc_conf_t *conf, FILE *fp) {
        size_t i;

        fprintf(fp,
                "# %s %s: effective configuration (--dump-config)\n"
                "# '#key=': no value; '#key=***': a secret, masked\n",
                conf->cf_progname, CDC_VERSION);
        for (i = 0; i < conf->cf_cnt; i++) {
                char buf[96];
                int masked;
                const char *v = conf_ent_text(&conf->cf_ents[i], buf,
                                              sizeof(buf), &masked);
                if (!v || masked) {
                        fprintf(fp, "#%s=%s\n", conf->cf_ents[i].ce_prop->name,
                                masked ? "***" : "");
                        continue;
                }
                fprintf(fp, "%s=", conf->cf_ents[i].ce_prop->name);
                conf_put_value(fp, v);
                fputc('\n', fp);
        }
        for (i = 0; i < conf->cf_kcnt; i++) {
                const char *v = conf->cf_kvals[i];
                if (cdc_conf_kafka_is_secret(conf->cf_kkeys[i]) &&
                    strncmp(v, "file:", 5)) {
                        fprintf(fp, "#kafka.%s=***\n", conf->cf_kkeys[i]);
                        continue;
                }
                fprintf(fp, "kafka.%s=", conf->cf_kkeys[i]);
                conf_put_value(fp, v);
                fputc('\n', fp);
        }
}

/* ---- list (Markdown, the source of docs/CONFIGURATION.md) ---- */

/* Markdown table cell text: '|' escaped. */
static void conf_md(FILE *fp, const char *s) {
        for (; *s; s++) {
                if (*s == '|')
                        fputc('\\', fp);
                fputc(*s, fp);
        }
}

static const char *conf_type_name(const cdc_prop_t *p) {
        switch (p->type) {
        case CDC_C_STR:
                return "string";
        case CDC_C_SECRET:
                return "secret";
        case CDC_C_INT:
                return "integer";
        case CDC_C_MS:
                return "duration";
        case CDC_C_BOOL:
                return "boolean";
        case CDC_C_ENUM:
                return "enum";
        }
        return "?";
}

static void conf_list_row(FILE *fp, const cdc_prop_t *p) {
        char lo[64], hi[64], list[512];

        fprintf(fp, "| `%s` | %s | ", p->name, conf_type_name(p));
        if (!p->defval)
                fputs("-", fp);
        else if (!*p->defval)
                fputs("`\"\"`", fp);
        else
                fprintf(fp, "`%s`", p->defval);
        fputs(" | ", fp);
        switch (p->type) {
        case CDC_C_INT:
        case CDC_C_MS:
                if (!p->min && !p->max)
                        break;
                if (p->type == CDC_C_MS) {
                        cdc_conf_fmt_ms(p->min, lo, sizeof(lo));
                        cdc_conf_fmt_ms(p->max, hi, sizeof(hi));
                } else {
                        snprintf(lo, sizeof(lo), "%lld", (long long)p->min);
                        snprintf(hi, sizeof(hi), "%lld", (long long)p->max);
                }
                fprintf(fp, "%s .. %s", lo, hi);
                break;
        case CDC_C_ENUM:
                cdc_conf_enum_list(p->values, ", ", "`", list, sizeof(list));
                fputs(list, fp);
                break;
        case CDC_C_BOOL:
                fputs("`true`, `false`", fp);
                break;
        default:
                break;
        }
        fputs(" | ", fp);
        conf_md(fp, p->desc ? p->desc : "");
        if (p->type == CDC_C_SECRET)
                fputs(" (`file:/path` reads it from a file)", fp);
        if (p->alias)
                fprintf(fp, " (old name: `%s`)", p->alias);
        fputs(" |\n", fp);
}

void cdc_conf_list(const cdc_conf_t *conf, FILE *fp) {
        static const char head[] =
                "| Property | Type | Default | Range / values | Description "
                "|\n|---|---|---|---|---|\n";
        size_t i;

        fputs(head, fp);
        for (i = 0; i < conf->cf_cnt; i++)
                if (!conf->cf_ents[i].ce_common)
                        conf_list_row(fp, conf->cf_ents[i].ce_prop);
        fputs("| `kafka.<property>` | | | | any librdkafka property, passed "
              "through (librdkafka's CONFIGURATION.md) |\n",
              fp);
        fputs("\nCommon to every followcdc binary:\n\n", fp);
        fputs(head, fp);
        for (i = 0; i < conf->cf_cnt; i++)
                if (conf->cf_ents[i].ce_common)
                        conf_list_row(fp, conf->cf_ents[i].ce_prop);
}

/* ---- command line ---- */

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
                "comma-separated;\n"
                "                        conf and http in every binary\n"
                "  --dump-config         print the effective configuration "
                "(secrets masked) and exit\n"
                "  --list-config         print every property with its "
                "default and exit\n"
                "  -h, --help            this help\n"
                "  -V, --version         print the version and exit\n"
                "\n"
                "Precedence: defaults < config file < FOLLOWCDC_* environment "
                "< flags.\n"
                "Environment: FOLLOWCDC_<PROPERTY> in upper case with '.' as "
                "'_',\n"
                "e.g. FOLLOWCDC_KAFKA_BOOTSTRAP_SERVERS; unknown FOLLOWCDC_* "
                "names are\n"
                "ignored with a warning. Durations take units (250ms, 30s, "
                "7d).\n",
                conf->cf_progname);
        if (usage_extra)
                fprintf(fp, "\n%s\n", usage_extra);
}

/* Log where every property set by the user came from (`-d conf`). */
static void conf_debug_summary(const cdc_conf_t *conf) {
        static const char *const from[] = { "default", "file", "environment",
                                            "flag" };
        size_t i;

        for (i = 0; i < conf->cf_cnt; i++) {
                const conf_ent_t *e = &conf->cf_ents[i];
                char buf[96];
                int masked;
                const char *v;
                if (!e->ce_set)
                        continue;
                v = conf_ent_text(e, buf, sizeof(buf), &masked);
                cdc_dbg(CONF, "CONF", "%s=%.200s (%s)", e->ce_prop->name,
                        v ? v : "(no value)", from[e->ce_from]);
        }
        for (i = 0; i < conf->cf_kcnt; i++)
                cdc_dbg(CONF, "CONF", "kafka.%s=%.200s", conf->cf_kkeys[i],
                        cdc_conf_kafka_is_secret(conf->cf_kkeys[i])
                                ? "***"
                                : conf->cf_kvals[i]);
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
                        i++; /* checked by cdc_conf_load_args() */
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
        if ((cfgfile &&
             cdc_conf_load_file(conf, cfgfile, errstr, sizeof(errstr))) ||
            cdc_conf_load_env(conf, envp, errstr, sizeof(errstr)) ||
            cdc_conf_load_args(conf, argc, argv, errstr, sizeof(errstr))) {
                fprintf(stderr, "%s: %s\n", conf->cf_progname, errstr);
                return CDC_CONF_CLI_EXIT_BAD;
        }

        if (finalize) {
                why = finalize(conf->cf_base);
                if (why) {
                        fprintf(stderr, "%s: %s\n", conf->cf_progname, why);
                        return CDC_CONF_CLI_EXIT_BAD;
                }
        }
        conf_debug_summary(conf);
        if (dump) {
                cdc_conf_dump(conf, stdout);
                return CDC_CONF_CLI_EXIT_OK;
        }
        /* Only now (not for --dump-config): from here on lines go there. */
        if (conf->cf_common.log_file && *conf->cf_common.log_file &&
            cdc_log_open_file(conf->cf_common.log_file, errstr,
                              sizeof(errstr))) {
                fprintf(stderr, "%s: %s\n", conf->cf_progname, errstr);
                return CDC_CONF_CLI_EXIT_BAD;
        }
        return CDC_CONF_CLI_RUN;
}
