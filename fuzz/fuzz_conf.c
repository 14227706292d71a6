/**
 * @file fuzz_conf.c
 * @brief libFuzzer harness of the configuration engine (common/cdc_conf*)
 *        with the real property tables of both binaries.
 *
 * Input: one byte choosing the table (bit 0: producer or consumer), then
 * up to three NUL-separated parts:
 *   1. a configuration file's text          (cdc_conf_load_buf)
 *   2. environment lines, `FOLLOWCDC_` added where missing (load_env)
 *   3. command line arguments, one per line  (cdc_conf_load_args)
 * When all of it loads, the binary's finalize runs, and the dump must
 * read back: loading --dump-config's text into a fresh engine succeeds,
 * finalizes the same way, and dumps the same text (masked secrets
 * excepted: they read back as no value). Any difference aborts.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cdc_cconf.h"
#include "cdc_conf.h"
#include "cdc_log.h"
#include "cdc_pconf.h"

#define FZ_MAX_INPUT (64 * 1024)
#define FZ_MAX_LINES 64

/* One engine over one binary's table. */
typedef struct {
        int consumer;
        cdc_pconf_t pc;
        cdc_cconf_t cc;
        cdc_conf_t *conf;
} fz_conf_t;

static int fz_new(fz_conf_t *f, int consumer) {
        char es[512];
        memset(f, 0, sizeof(*f));
        f->consumer = consumer;
        if (consumer) {
                if (cdc_cconf_init(&f->cc, es, sizeof(es)))
                        return -1;
                f->conf = f->cc.cc_conf;
                return 0;
        }
        f->conf = cdc_conf_new("followcdc-producer", cdc_pconf_props(), &f->pc,
                               es, sizeof(es));
        return f->conf ? 0 : -1;
}

static void fz_destroy(fz_conf_t *f) {
        if (f->consumer) {
                cdc_cconf_destroy(&f->cc);
        } else {
                cdc_pconf_clear(&f->pc);
                cdc_conf_destroy(f->conf);
        }
        f->conf = NULL;
}

static const char *fz_finalize(fz_conf_t *f) {
        return f->consumer ? cdc_cconf_finalize(&f->cc)
                           : cdc_pconf_finalize(&f->pc);
}

static char *fz_dump(const cdc_conf_t *conf, size_t *lenp) {
        char *buf = NULL;
        FILE *fp  = open_memstream(&buf, lenp);
        if (!fp)
                abort();
        cdc_conf_dump(conf, fp);
        fclose(fp);
        return buf;
}

/* The dump as it must read back: a masked secret (`#key=***`) becomes
 * no value (`#key=`); a masked kafka.* secret is not there at all. */
static char *fz_expected(const char *dump) {
        char *out     = malloc(strlen(dump) + 1);
        const char *p = dump;
        size_t of     = 0;
        if (!out)
                abort();
        while (*p) {
                const char *nl = strchr(p, '\n');
                size_t len     = nl ? (size_t)(nl - p) + 1 : strlen(p);
                if (!strncmp(p, "#kafka.", 7)) {
                        p += len;
                        continue;
                }
                if (len >= 5 && p[0] == '#' &&
                    !memcmp(p + len - 5, "=***\n", 5)) {
                        memcpy(out + of, p, len - 4);
                        of += len - 4;
                        out[of++] = '\n';
                } else {
                        memcpy(out + of, p, len);
                        of += len;
                }
                p += len;
        }
        out[of] = '\0';
        return out;
}

/* Split \p s (modified) at '\n' into \p v (at most FZ_MAX_LINES). */
static int fz_lines(char *s, char **v, int first) {
        int n = first;
        while (s && *s && n < FZ_MAX_LINES) {
                char *nl = strchr(s, '\n');
                if (nl)
                        *nl = '\0';
                v[n++] = s;
                s      = nl ? nl + 1 : NULL;
        }
        v[n] = NULL;
        return n;
}

static void fz_log_reset(void) {
        cdc_log_set_debug_mask(0);
        cdc_log_set_level(LOG_NOTICE);
        cdc_log_set_format(CDC_LOG_FORMAT_TEXT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static int devnull = -1;
        static FILE *nullfp;
        char *buf, *part[3] = { NULL, NULL, NULL };
        char *envv[FZ_MAX_LINES + 1], *argv[FZ_MAX_LINES + 2];
        char *envbuf[FZ_MAX_LINES];
        char es[1024];
        fz_conf_t f, g;
        const char *why, *why2;
        char *d1, *d2, *want;
        size_t len, l1, l2, i;
        int nenv, argc, k, consumer;

        if (devnull < 0) {
                devnull = open("/dev/null", O_WRONLY);
                cdc_log_set_fd(devnull); /* warnings of unknown env names */
                nullfp = fopen("/dev/null", "w");
                if (devnull < 0 || !nullfp)
                        abort();
        }
        if (size < 1 || size > FZ_MAX_INPUT)
                return 0;
        consumer = data[0] & 1;
        len      = size - 1;
        buf      = malloc(len + 1);
        if (!buf)
                return 0;
        memcpy(buf, data + 1, len);
        buf[len] = '\0';
        /* librdkafka's plugin.library.paths would dlopen() a path */
        for (i = 0; i + 6 <= len; i++)
                if (!strncasecmp(buf + i, "plugin", 6)) {
                        free(buf);
                        return 0;
                }
        part[0] = buf;
        for (i = 0, k = 1; i < len && k < 3; i++)
                if (buf[i] == '\0')
                        part[k++] = buf + i + 1;

        /* environment: FOLLOWCDC_ is added to names that lack it */
        nenv = fz_lines(part[1], envv, 0);
        for (k = 0; k < nenv; k++) {
                size_t n  = strlen(envv[k]) + 11;
                envbuf[k] = malloc(n);
                if (!envbuf[k])
                        abort();
                snprintf(envbuf[k], n, "%s%s",
                         strncmp(envv[k], "FOLLOWCDC_", 10) ? "FOLLOWCDC_" : "",
                         envv[k]);
                envv[k] = envbuf[k];
        }
        argv[0] = (char *)"fuzz";
        argc    = fz_lines(part[2], argv, 1);

        if (fz_new(&f, consumer))
                abort();
        if (cdc_conf_load_buf(f.conf, "fuzz.conf", part[0], strlen(part[0]), es,
                              sizeof(es)) ||
            cdc_conf_load_env(f.conf, envv, es, sizeof(es)) ||
            cdc_conf_load_args(f.conf, argc, argv, es, sizeof(es)))
                goto out;
        why = fz_finalize(&f);

        /* the dump reads back to the same configuration */
        d1   = fz_dump(f.conf, &l1);
        want = fz_expected(d1);
        if (fz_new(&g, consumer))
                abort();
        if (cdc_conf_load_buf(g.conf, "dump", d1, l1, es, sizeof(es))) {
                fprintf(stderr, "dump does not load: %s\n%s", es, d1);
                abort();
        }
        why2 = fz_finalize(&g);
        if (!why != !why2) {
                fprintf(stderr, "finalize differs: %s / %s\n", why ? why : "ok",
                        why2 ? why2 : "ok");
                abort();
        }
        d2 = fz_dump(g.conf, &l2);
        if (strcmp(want, d2)) {
                fprintf(stderr, "dump changed when read back:\n%s\n----\n%s",
                        want, d2);
                abort();
        }
        cdc_conf_list(g.conf, nullfp);
        free(d1);
        free(d2);
        free(want);
        fz_destroy(&g);
out:
        fz_destroy(&f);
        for (k = 0; k < nenv; k++)
                free(envbuf[k]);
        free(buf);
        fz_log_reset();
        return 0;
}
