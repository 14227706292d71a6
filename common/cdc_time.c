/**
 * @file cdc_time.c
 * @brief UTC instant text, calendar arithmetic and time zones (see
 *        cdc_time.h).
 *
 * Calendar conversions are H. Hinnant's days_from_civil / civil_from_days
 * algorithms (public domain descriptions), exact for every int64 day.
 * Zones follow RFC 8536 (TZif).
 */
#include "cdc_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- calendar ---- */

/* Floor division and modulo for a positive divisor. */
static int64_t time_fdiv(int64_t a, int64_t b) {
        int64_t q = a / b;
        return (a % b < 0) ? q - 1 : q;
}

int64_t cdc_time_days_from_civil(int64_t y, int m, int d) {
        int64_t era, yoe, doy, doe;
        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = y - era * 400;
        doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

void cdc_time_civil_from_days(int64_t days, int64_t *yp, int *mp, int *dp) {
        int64_t z = days + 719468, era, doe, yoe, doy, mp3;
        int m;

        era = (z >= 0 ? z : z - 146096) / 146097;
        doe = z - era * 146097;
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        mp3 = (5 * doy + 2) / 153;
        m   = (int)(mp3 < 10 ? mp3 + 3 : mp3 - 9);
        *dp = (int)(doy - (153 * mp3 + 2) / 5 + 1);
        *mp = m;
        *yp = yoe + era * 400 + (m <= 2);
}

static int time_is_leap(int64_t y) {
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int time_days_in_month(int64_t y, int m) {
        static const int mdays[] = { 31, 28, 31, 30, 31, 30,
                                     31, 31, 30, 31, 30, 31 };
        return m == 2 && time_is_leap(y) ? 29 : mdays[m - 1];
}

int cdc_time_date_exists(int64_t y, int m, int d) {
        return m >= 1 && m <= 12 && d >= 1 && d <= time_days_in_month(y, m);
}

/* ---- instant text ---- */

static void time_put_digits(char *p, uint64_t v, int n) {
        while (n-- > 0) {
                p[n] = (char)('0' + v % 10);
                v /= 10;
        }
}

int cdc_time_format_us(char *buf, size_t size, int64_t epoch_us) {
        int64_t secs = time_fdiv(epoch_us, 1000000), days, y;
        unsigned us  = (unsigned)(epoch_us - secs * 1000000);
        unsigned sod;
        int m, d;
        size_t o = 0, need;

        days = time_fdiv(secs, 86400);
        sod  = (unsigned)(secs - days * 86400);
        cdc_time_civil_from_days(days, &y, &m, &d);
        need = y >= 0 && y <= 9999 ? 27 : 30;
        if (size < need + 1)
                return -1;
        if (need == 27) {
                time_put_digits(buf, (uint64_t)y, 4);
                o = 4;
        } else {
                /* int64 microseconds span +-292277 years: six digits */
                buf[0] = y < 0 ? '-' : '+';
                time_put_digits(buf + 1, (uint64_t)(y < 0 ? -y : y), 6);
                o = 7;
        }
        buf[o] = '-';
        time_put_digits(buf + o + 1, (uint64_t)m, 2);
        buf[o + 3] = '-';
        time_put_digits(buf + o + 4, (uint64_t)d, 2);
        buf[o + 6] = 'T';
        time_put_digits(buf + o + 7, sod / 3600, 2);
        buf[o + 9] = ':';
        time_put_digits(buf + o + 10, sod / 60 % 60, 2);
        buf[o + 12] = ':';
        time_put_digits(buf + o + 13, sod % 60, 2);
        buf[o + 15] = '.';
        time_put_digits(buf + o + 16, us, 6);
        buf[o + 22] = 'Z';
        buf[o + 23] = '\0';
        return (int)need;
}

static int time_digits(const char **sp, int n, int64_t *vp) {
        int64_t v = 0;
        int i;
        for (i = 0; i < n; i++) {
                char c = (*sp)[i];
                if (c < '0' || c > '9')
                        return -1;
                v = v * 10 + (c - '0');
        }
        *sp += n;
        *vp = v;
        return 0;
}

int cdc_time_parse_ms(const char *s, int64_t *msp) {
        int64_t y, mo, d, h, mi, sec, frac = 0;
        int nfrac = 0, neg = 0;

        if (!s)
                return -1;
        if (*s == '+' || *s == '-') { /* expanded year: six digits */
                neg = *s++ == '-';
                if (time_digits(&s, 6, &y) || (neg && y == 0))
                        return -1;
                if (neg)
                        y = -y;
        } else if (time_digits(&s, 4, &y)) {
                return -1;
        }
        if (*s++ != '-' || time_digits(&s, 2, &mo) || *s++ != '-' ||
            time_digits(&s, 2, &d) || *s++ != 'T' || time_digits(&s, 2, &h) ||
            *s++ != ':' || time_digits(&s, 2, &mi) || *s++ != ':' ||
            time_digits(&s, 2, &sec))
                return -1;
        if (*s == '.') {
                s++;
                while (*s >= '0' && *s <= '9') {
                        if (++nfrac > 6)
                                return -1;
                        frac = frac * 10 + (*s++ - '0');
                }
                if (!nfrac)
                        return -1;
                while (nfrac++ < 6)
                        frac *= 10;
        }
        if (*s++ != 'Z' || *s)
                return -1;
        if (!cdc_time_date_exists(y, (int)mo, (int)d) || h > 23 || mi > 59 ||
            sec > 59)
                return -1;
        *msp = (cdc_time_days_from_civil(y, (int)mo, (int)d) * 86400 +
                h * 3600 + mi * 60 + sec) *
                       1000 +
               frac / 1000;
        return 0;
}

/* ---- time zones ---- */

struct cdc_tz_s {
        int32_t off0; /* offset before the first transition / fixed */
        size_t n;
        int64_t *trans; /* UTC instants of the transitions, ascending */
        int32_t *offs;  /* offset in force from trans[i] */
};

static int tz_name_ok(const char *s) {
        size_t i;
        if (!s[0] || s[0] == '/' || strstr(s, ".."))
                return 0;
        for (i = 0; s[i]; i++) {
                char c = s[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                      c == '+' || c == '/'))
                        return 0;
                if (i > 200)
                        return 0;
        }
        return 1;
}

static uint64_t tz_be(const uint8_t *p, unsigned n) {
        uint64_t v = 0;
        unsigned i;
        for (i = 0; i < n; i++)
                v = (v << 8) | p[i];
        return v;
}

/* Parses a TZif file: the 64-bit v2+ data when present, else
 * the 32-bit v1 data. @returns 0 or -1. */
static int tz_load_tzif(cdc_tz_t *tz, const uint8_t *d, size_t len) {
        uint32_t cnt[6];
        size_t i, need = 0, tsz = 4;
        const uint8_t *p = d;
        const uint8_t *types, *idx, *tt;
        int pass;

        for (pass = 0; pass < 2; pass++) {
                if ((size_t)(p - d) + 44 > len || memcmp(p, "TZif", 4))
                        return -1;
                for (i = 0; i < 6; i++)
                        cnt[i] = (uint32_t)tz_be(p + 20 + 4 * i, 4);
                /* isutcnt isstdcnt leapcnt timecnt typecnt charcnt */
                if (cnt[0] > 256 || cnt[1] > 256 || cnt[2] > 100000 ||
                    cnt[3] > 100000 || cnt[4] == 0 || cnt[4] > 256 ||
                    cnt[5] > 65536)
                        return -1;
                need = (size_t)cnt[3] * tsz + cnt[3] + (size_t)cnt[4] * 6 +
                       cnt[5] + (size_t)cnt[2] * (tsz + 4) + cnt[1] + cnt[0];
                if ((size_t)(p - d) + 44 + need > len)
                        return -1;
                if (pass == 0 && p[4] >= '2') {
                        p += 44 + need;
                        tsz = 8;
                        continue;
                }
                break;
        }
        types    = p + 44;
        idx      = types + (size_t)cnt[3] * tsz;
        tt       = idx + cnt[3];
        tz->off0 = (int32_t)tz_be(tt, 4);
        for (i = 0; i < cnt[4]; i++) /* first standard-time type */
                if (!tt[i * 6 + 4]) {
                        tz->off0 = (int32_t)tz_be(tt + i * 6, 4);
                        break;
                }
        tz->n = cnt[3];
        if (tz->n) {
                tz->trans = calloc(tz->n, sizeof(*tz->trans));
                tz->offs  = calloc(tz->n, sizeof(*tz->offs));
                if (!tz->trans || !tz->offs)
                        return -1;
        }
        for (i = 0; i < tz->n; i++) {
                uint64_t t = tz_be(types + i * tsz, (unsigned)tsz);
                if (tsz == 4)
                        tz->trans[i] = (int32_t)(uint32_t)t;
                else
                        tz->trans[i] = (int64_t)t;
                if (i > 0 && tz->trans[i] <= tz->trans[i - 1])
                        return -1; /* RFC 8536: ascending order */
                if (idx[i] >= cnt[4])
                        return -1;
                tz->offs[i] = (int32_t)tz_be(tt + (size_t)idx[i] * 6, 4);
        }
        return 0;
}

cdc_tz_t *cdc_tz_from_tzif(const uint8_t *data, size_t len) {
        cdc_tz_t *tz = calloc(1, sizeof(*tz));
        if (!tz)
                return NULL;
        if (!data || tz_load_tzif(tz, data, len) == -1) {
                cdc_tz_destroy(tz);
                return NULL;
        }
        return tz;
}

cdc_tz_t *cdc_tz_new(const char *name, char *errstr, size_t errstr_size) {
        cdc_tz_t *tz = NULL, *ret = NULL;
        char path[512];
        uint8_t *data = NULL;
        size_t len    = 0;
        FILE *fp      = NULL;

        tz = calloc(1, sizeof(*tz));
        if (!tz) {
                snprintf(errstr, errstr_size, "out of memory");
                goto out;
        }
        if (!name || !*name || !strcmp(name, "UTC") ||
            !strcmp(name, "SYSTEM") || !strcmp(name, "Z")) {
                ret = tz;
                tz  = NULL;
                goto out;
        }
        if ((name[0] == '+' || name[0] == '-') && strlen(name) == 6 &&
            name[1] >= '0' && name[1] <= '9' && name[2] >= '0' &&
            name[2] <= '9' && name[3] == ':' && name[4] >= '0' &&
            name[4] <= '5' && name[5] >= '0' && name[5] <= '9') {
                int h = (name[1] - '0') * 10 + (name[2] - '0');
                int m = (name[4] - '0') * 10 + (name[5] - '0');
                if (h > 14) {
                        snprintf(errstr, errstr_size,
                                 "time zone \"%s\": offset out of range", name);
                        goto out;
                }
                tz->off0 = (h * 3600 + m * 60) * (name[0] == '-' ? -1 : 1);
                ret      = tz;
                tz       = NULL;
                goto out;
        }
        if (!tz_name_ok(name)) {
                snprintf(errstr, errstr_size,
                         "time zone \"%s\": expected UTC, +HH:MM or a zone "
                         "name such as Asia/Shanghai",
                         name);
                goto out;
        }
        snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
        fp = fopen(path, "rb");
        if (!fp) {
                snprintf(errstr, errstr_size, "time zone \"%s\": %s: %s", name,
                         path, strerror(errno));
                goto out;
        }
        data = malloc(1 << 20);
        if (!data) {
                snprintf(errstr, errstr_size, "out of memory");
                goto out;
        }
        len = fread(data, 1, 1 << 20, fp);
        if (tz_load_tzif(tz, data, len) == -1) {
                snprintf(errstr, errstr_size,
                         "time zone \"%s\": %s is not a TZif file", name, path);
                goto out;
        }
        ret = tz;
        tz  = NULL;
out:
        if (fp)
                fclose(fp);
        free(data);
        cdc_tz_destroy(tz);
        return ret;
}

void cdc_tz_destroy(cdc_tz_t *tz) {
        if (!tz)
                return;
        free(tz->trans);
        free(tz->offs);
        free(tz);
}

int32_t cdc_tz_utc_offset(const cdc_tz_t *tz, int64_t u) {
        size_t lo = 0, hi;
        if (!tz)
                return 0;
        if (tz->n == 0 || u < tz->trans[0])
                return tz->off0;
        hi = tz->n;
        while (hi - lo > 1) { /* last transition <= u */
                size_t mid = lo + (hi - lo) / 2;
                if (tz->trans[mid] <= u)
                        lo = mid;
                else
                        hi = mid;
        }
        return tz->offs[lo];
}

int32_t cdc_tz_local_offset(const cdc_tz_t *tz, int64_t local_s) {
        int32_t before, after;
        if (!tz)
                return 0;
        if (tz->n == 0)
                return tz->off0;
        /* Zones change offset at most about twice a year: the offsets a
         * day before and after are the only candidates. */
        before = cdc_tz_utc_offset(tz, local_s - 86400);
        after  = cdc_tz_utc_offset(tz, local_s + 86400);
        if (cdc_tz_utc_offset(tz, local_s - before) == before)
                return before;
        if (cdc_tz_utc_offset(tz, local_s - after) == after)
                return after;
        return before;
}
