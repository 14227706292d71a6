/**
 * @file cdc_conf_value.c
 * @brief Value types of the configuration engine: integers, durations with
 *        units, booleans, enums, secrets read from files.
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

/* ---- value parsing ---- */

const char *cdc_conf_skip_blank(const char *s) {
        while (*s == ' ' || *s == '\t')
                s++;
        return s;
}

/* [s, *endp) without trailing blanks: its length. */
size_t cdc_conf_rtrim_len(const char *s, size_t len) {
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
                len--;
        return len;
}

int cdc_conf_parse_int(const char *s, int64_t *vp) {
        char *end;
        long long v;
        size_t len;

        s   = cdc_conf_skip_blank(s);
        len = cdc_conf_rtrim_len(s, strlen(s));
        if (!len || !(isdigit((unsigned char)*s) || *s == '-' || *s == '+'))
                return -1;
        errno = 0;
        v     = strtoll(s, &end, 10);
        if (errno || end != s + len)
                return -1;
        *vp = v;
        return 0;
}

static const struct {
        const char *sfx;
        int64_t mul;
} conf_units[] = { { "ms", 1 },      { "s", 1000 },     { "m", 60000 },
                   { "h", 3600000 }, { "d", 86400000 }, { NULL, 0 } };

/* "250", "250ms", "30s", "1h30m", "7d": milliseconds. */
int cdc_conf_parse_ms(const char *s, int64_t *vp) {
        const char *p;
        size_t len;
        int64_t total = 0;

        s   = cdc_conf_skip_blank(s);
        len = cdc_conf_rtrim_len(s, strlen(s));
        if (!len)
                return -1;
        /* a plain number: milliseconds, as every duration key always was */
        if (strspn(s, "0123456789") == len) {
                if (len > 18)
                        return -1;
                for (p = s; p < s + len; p++)
                        total = total * 10 + (*p - '0');
                *vp = total;
                return 0;
        }
        p = s;
        while (p < s + len) {
                int64_t v = 0;
                size_t i, ndig = 0, ulen = 0;

                while (p < s + len && isdigit((unsigned char)*p)) {
                        if (++ndig > 18)
                                return -1;
                        v = v * 10 + (*p++ - '0');
                }
                if (!ndig)
                        return -1;
                while (p + ulen < s + len && isalpha((unsigned char)p[ulen]))
                        ulen++;
                for (i = 0; conf_units[i].sfx; i++)
                        if (strlen(conf_units[i].sfx) == ulen &&
                            !memcmp(p, conf_units[i].sfx, ulen))
                                break;
                if (!conf_units[i].sfx)
                        return -1;
                if (v > (INT64_MAX - total) / conf_units[i].mul)
                        return -1;
                total += v * conf_units[i].mul;
                p += ulen;
        }
        *vp = total;
        return 0;
}

/* The shortest exact text of a duration: "0", "250ms", "1h30m", "7d". */
void cdc_conf_fmt_ms(int64_t ms, char *buf, size_t size) {
        static const int order[] = { 4, 3, 2, 1, 0 }; /* d h m s ms */
        size_t of                = 0, i;

        if (ms <= 0) {
                snprintf(buf, size, "%lld", (long long)ms);
                return;
        }
        buf[0] = '\0';
        for (i = 0; i < sizeof(order) / sizeof(*order); i++) {
                int64_t mul = conf_units[order[i]].mul;
                int r;
                if (ms < mul)
                        continue;
                r = snprintf(buf + of, size - of, "%lld%s",
                             (long long)(ms / mul), conf_units[order[i]].sfx);
                if (r < 0 || (size_t)r >= size - of)
                        break;
                of += (size_t)r;
                ms %= mul;
        }
}

int cdc_conf_parse_bool(const char *s, int *vp) {
        static const char *yes[] = { "true", "1", "yes", "on", NULL };
        static const char *no[]  = { "false", "0", "no", "off", NULL };
        size_t len;
        int i;

        s   = cdc_conf_skip_blank(s);
        len = cdc_conf_rtrim_len(s, strlen(s));
        for (i = 0; yes[i]; i++)
                if (strlen(yes[i]) == len && !strncasecmp(s, yes[i], len)) {
                        *vp = 1;
                        return 0;
                }
        for (i = 0; no[i]; i++)
                if (strlen(no[i]) == len && !strncasecmp(s, no[i], len)) {
                        *vp = 0;
                        return 0;
                }
        return -1;
}

/* Index of \p s among the `|` separated values (each with `,` separated
 * spellings), or -1. */
int cdc_conf_enum_index(const char *values, const char *s) {
        const char *p = values;
        size_t len;
        int idx = 0;

        s   = cdc_conf_skip_blank(s);
        len = cdc_conf_rtrim_len(s, strlen(s));
        while (p && *p) {
                size_t vlen   = strcspn(p, "|");
                const char *q = p, *vend = p + vlen;
                while (q < vend) {
                        size_t n = strcspn(q, ",|");
                        if (n == len && len && !strncasecmp(q, s, len))
                                return idx;
                        q += n;
                        if (q < vend)
                                q++;
                }
                p = *vend ? vend + 1 : vend;
                idx++;
        }
        return -1;
}

/* The first spelling of value \p idx into buf. @returns 0, or -1. */
int cdc_conf_enum_name(const char *values, int idx, char *buf, size_t size) {
        const char *p = values;
        int i;

        for (i = 0; p && *p; i++) {
                size_t vlen = strcspn(p, "|");
                if (i == idx) {
                        size_t n = strcspn(p, ",|");
                        snprintf(buf, size, "%.*s", (int)n, p);
                        return 0;
                }
                p += vlen;
                if (*p)
                        p++;
        }
        return -1;
}

/* "a, b or c" for errors and the list. */
void cdc_conf_enum_list(const char *values, const char *sep, const char *quote,
                        char *buf, size_t size) {
        size_t of = 0;
        int i;
        char name[64];

        buf[0] = '\0';
        for (i = 0; !cdc_conf_enum_name(values, i, name, sizeof(name)); i++) {
                int r = snprintf(buf + of, size - of, "%s%s%s%s", i ? sep : "",
                                 quote, name, quote);
                if (r < 0 || (size_t)r >= size - of)
                        return;
                of += (size_t)r;
        }
}

/* Read a secret from \p path: a regular file (never a FIFO or a device
 * that would block start-up), at most CONF_SECRET_MAX bytes, trailing
 * newlines cut. */
char *cdc_conf_read_secret_file(const char *path, char *errstr,
                                size_t errstr_size) {
        struct stat st;
        char *buf = NULL;
        size_t n  = 0;
        int fd;

        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                snprintf(errstr, errstr_size, "cannot read secret file %s: %s",
                         path, strerror(errno));
                return NULL;
        }
        if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
                snprintf(errstr, errstr_size,
                         "secret file %s: not a regular file", path);
                goto fail;
        }
        if (st.st_size > CONF_SECRET_MAX) {
                snprintf(errstr, errstr_size,
                         "secret file %s: larger than %d bytes", path,
                         CONF_SECRET_MAX);
                goto fail;
        }
        buf = malloc(CONF_SECRET_MAX + 1);
        if (!buf) {
                snprintf(errstr, errstr_size, "out of memory");
                goto fail;
        }
        for (;;) {
                ssize_t r = read(fd, buf + n, CONF_SECRET_MAX + 1 - n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        snprintf(errstr, errstr_size, "secret file %s: %s",
                                 path, strerror(errno));
                        goto fail;
                }
                if (r == 0)
                        break;
                n += (size_t)r;
                if (n > CONF_SECRET_MAX) {
                        snprintf(errstr, errstr_size,
                                 "secret file %s: larger than %d bytes", path,
                                 CONF_SECRET_MAX);
                        goto fail;
                }
        }
        close(fd);
        if (memchr(buf, '\0', n)) {
                snprintf(errstr, errstr_size, "secret file %s: NUL byte", path);
                free(buf);
                return NULL;
        }
        buf[n] = '\0';
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
                buf[--n] = '\0';
        return buf;
fail:
        free(buf);
        close(fd);
        return NULL;
}

void cdc_conf_secret_free(char *s) {
        if (s) {
                memset(s, 0, strlen(s));
                free(s);
        }
}
