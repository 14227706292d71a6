/**
 * @file cdc_time.c
 * @brief UTC instant text, calendar arithmetic and time zones (see
 *        cdc_time.h).
 *
 * Calendar conversions are H. Hinnant's days_from_civil / civil_from_days
 * algorithms (public domain descriptions), exact for every int64 day.
 * Zones follow RFC 8536 (TZif) and POSIX TZ strings for the footer rule.
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

static int64_t time_fmod(int64_t a, int64_t b) {
        int64_t r = a % b;
        return r < 0 ? r + b : r;
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

/* civil_from_days, static so that the formatter (hot path: every
 * DATETIME and TIMESTAMP of every row) gets it inlined */
static inline void time_civil(int64_t days, int64_t *yp, int *mp, int *dp) {
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

void cdc_time_civil_from_days(int64_t days, int64_t *yp, int *mp, int *dp) {
        time_civil(days, yp, mp, dp);
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

static void time_put_digits(char *p, unsigned v, int n) {
        while (n-- > 0) {
                p[n] = (char)('0' + v % 10);
                v /= 10;
        }
}

const char cdc_digits2[201] = "00010203040506070809"
                              "10111213141516171819"
                              "20212223242526272829"
                              "30313233343536373839"
                              "40414243444546474849"
                              "50515253545556575859"
                              "60616263646566676869"
                              "70717273747576777879"
                              "80818283848586878889"
                              "90919293949596979899";

static inline void time_put2(char *p, unsigned v) {
        memcpy(p, cdc_digits2 + v * 2, 2);
}

/* "THH:MM:SS.ffffffZ" (17 characters and a NUL). */
static void time_put_tod(char *p, unsigned sod, unsigned us) {
        p[0] = 'T';
        time_put2(p + 1, sod / 3600);
        p[3] = ':';
        time_put2(p + 4, sod / 60 % 60);
        p[6] = ':';
        time_put2(p + 7, sod % 60);
        p[9] = '.';
        time_put2(p + 10, us / 10000);
        time_put2(p + 12, us / 100 % 100);
        time_put2(p + 14, us % 100);
        p[16] = 'Z';
        p[17] = '\0';
}

/* The date of the day this thread formatted last ("YYYY-MM-DD", or
 * "+YYYYYY-MM-DD" outside years 0..9999): the instants of one row, and
 * of the rows around it, nearly always fall on one day, so the calendar
 * arithmetic runs once per day instead of once per value. */
static _Thread_local struct {
        int64_t days;
        int len; /* 0: nothing cached */
        char text[16];
} time_day;

int cdc_time_format_us(char *buf, size_t size, int64_t epoch_us) {
        int64_t secs = time_fdiv(epoch_us, 1000000), days, y;
        unsigned us  = (unsigned)(epoch_us - secs * 1000000);
        unsigned sod;
        int m, d, n;

        days = time_fdiv(secs, 86400);
        sod  = (unsigned)(secs - days * 86400);
        if (!time_day.len || time_day.days != days) {
                char *p = time_day.text;
                time_civil(days, &y, &m, &d);
                if (y >= 0 && y <= 9999) {
                        time_put_digits(p, (unsigned)y, 4);
                        n = 4;
                } else { /* int64 microseconds span +-292277 years */
                        p[0] = y < 0 ? '-' : '+';
                        time_put_digits(p + 1, (unsigned)(y < 0 ? -y : y), 6);
                        n = 7;
                }
                p[n] = '-';
                time_put2(p + n + 1, (unsigned)m);
                p[n + 3] = '-';
                time_put2(p + n + 4, (unsigned)d);
                time_day.days = days;
                time_day.len  = n + 6;
        }
        n = time_day.len;
        if (size < (size_t)n + 18)
                return -1;
        memcpy(buf, time_day.text, (size_t)n);
        time_put_tod(buf + n, sod, us);
        return n + 17;
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

/* A POSIX TZ rule date: Jn, n or Mm.w.d, and the local time of day. */
typedef struct tz_rdate_s {
        char kind; /* 'J', 'D' (zero-based day of year) or 'M' */
        int n, m, w, d;
        int32_t secs; /* time of day, may be negative or past 24 h */
} tz_rdate_t;

/* The rule a TZif footer gives for instants after the last transition. */
typedef struct tz_rule_s {
        int32_t std_off; /* UTC offset (east positive) */
        int32_t dst_off;
        int has_dst;
        tz_rdate_t start, end;
} tz_rule_t;

struct cdc_tz_s {
        int32_t off0; /* offset before the first transition / fixed */
        size_t n;
        int64_t *trans; /* UTC instants of the transitions, ascending */
        int32_t *offs;  /* offset in force from trans[i] */
        int has_rule;   /* rule applies from trans[n - 1] (or always) */
        tz_rule_t rule;
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

/* [+-]hh[:mm[:ss]] with hh <= maxh. @returns 0 or -1. */
static int tz_posix_hms(const char **pp, const char *end, int maxh,
                        int32_t *secsp) {
        const char *p = *pp;
        int neg       = 0, part, k;
        int32_t v[3]  = { 0, 0, 0 };

        if (p < end && (*p == '+' || *p == '-'))
                neg = *p++ == '-';
        for (part = 0; part < 3; part++) {
                if (part > 0) {
                        if (p >= end || *p != ':')
                                break;
                        p++;
                }
                for (k = 0; k < 3 && p < end && *p >= '0' && *p <= '9'; k++)
                        v[part] = v[part] * 10 + (*p++ - '0');
                if (k == 0 || (part > 0 && (k != 2 || v[part] > 59)))
                        return -1;
        }
        if (v[0] > maxh)
                return -1;
        *secsp = (v[0] * 3600 + v[1] * 60 + v[2]) * (neg ? -1 : 1);
        *pp    = p;
        return 0;
}

/* A zone abbreviation: three or more letters, or <...>. */
static int tz_posix_name(const char **pp, const char *end) {
        const char *p = *pp;
        size_t n      = 0;
        if (p < end && *p == '<') {
                p++;
                while (p < end && *p != '>' &&
                       ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                        (*p >= '0' && *p <= '9') || *p == '+' || *p == '-')) {
                        p++;
                        n++;
                }
                if (p >= end || *p != '>' || n < 3)
                        return -1;
                *pp = p + 1;
                return 0;
        }
        while (p < end &&
               ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))) {
                p++;
                n++;
        }
        if (n < 3)
                return -1;
        *pp = p;
        return 0;
}

static int tz_posix_num(const char **pp, const char *end, int lo, int hi,
                        int *vp) {
        const char *p = *pp;
        int v = 0, k = 0;
        while (p < end && *p >= '0' && *p <= '9' && k < 4) {
                v = v * 10 + (*p++ - '0');
                k++;
        }
        if (!k || v < lo || v > hi)
                return -1;
        *vp = v;
        *pp = p;
        return 0;
}

static int tz_posix_rdate(const char **pp, const char *end, tz_rdate_t *r) {
        const char *p = *pp;

        memset(r, 0, sizeof(*r));
        r->secs = 7200; /* 02:00 by default */
        if (p < end && *p == 'J') {
                p++;
                r->kind = 'J';
                if (tz_posix_num(&p, end, 1, 365, &r->n))
                        return -1;
        } else if (p < end && *p == 'M') {
                p++;
                r->kind = 'M';
                if (tz_posix_num(&p, end, 1, 12, &r->m) || p >= end ||
                    *p++ != '.' || tz_posix_num(&p, end, 1, 5, &r->w) ||
                    p >= end || *p++ != '.' ||
                    tz_posix_num(&p, end, 0, 6, &r->d))
                        return -1;
        } else {
                r->kind = 'D';
                if (tz_posix_num(&p, end, 0, 365, &r->n))
                        return -1;
        }
        /* RFC 8536 3.3.1: rule times may be -167..167 hours */
        if (p < end && *p == '/') {
                p++;
                if (tz_posix_hms(&p, end, 167, &r->secs))
                        return -1;
        }
        *pp = p;
        return 0;
}

/* "std offset [dst [offset] [,start[/time],end[/time]]]". @returns 0 or
 * -1; an empty string is no rule (\p rule->has_dst 0, *hasp 0). */
static int tz_posix_parse(const char *s, size_t len, tz_rule_t *rule,
                          int *hasp) {
        const char *p = s, *end = s + len;
        int32_t off;

        memset(rule, 0, sizeof(*rule));
        *hasp = 0;
        if (len == 0)
                return 0;
        if (tz_posix_name(&p, end) || tz_posix_hms(&p, end, 24, &off))
                return -1;
        rule->std_off = -off; /* POSIX offsets are west-positive */
        rule->dst_off = rule->std_off;
        if (p < end) {
                if (tz_posix_name(&p, end))
                        return -1;
                rule->has_dst = 1;
                rule->dst_off = rule->std_off + 3600;
                if (p < end && *p != ',') {
                        if (tz_posix_hms(&p, end, 24, &off))
                                return -1;
                        rule->dst_off = -off;
                }
                if (p < end) {
                        if (*p++ != ',' ||
                            tz_posix_rdate(&p, end, &rule->start) || p >= end ||
                            *p++ != ',' || tz_posix_rdate(&p, end, &rule->end))
                                return -1;
                } else { /* POSIX default: the US rules */
                        rule->start = (tz_rdate_t){ 'M', 0, 3, 2, 0, 7200 };
                        rule->end   = (tz_rdate_t){ 'M', 0, 11, 1, 0, 7200 };
                }
        }
        if (p != end)
                return -1;
        *hasp = 1;
        return 0;
}

/* Local seconds (since the epoch of that wall clock) of rule date \p r
 * in year \p y. */
static int64_t tz_rdate_local(const tz_rdate_t *r, int64_t y) {
        int64_t days;
        if (r->kind == 'J') { /* 1..365, February 29 never counted */
                days = cdc_time_days_from_civil(y, 1, 1) + r->n - 1;
                if (time_is_leap(y) && r->n >= 60)
                        days++;
        } else if (r->kind == 'D') {
                days = cdc_time_days_from_civil(y, 1, 1) + r->n;
        } else {
                int64_t first = cdc_time_days_from_civil(y, r->m, 1);
                int dow       = (int)time_fmod(first + 4, 7); /* Thursday */
                int day       = 1 + (r->d - dow + 7) % 7 + (r->w - 1) * 7;
                while (day > time_days_in_month(y, r->m))
                        day -= 7;
                days = first + day - 1;
        }
        return days * 86400 + r->secs;
}

static int32_t tz_rule_offset(const tz_rule_t *r, int64_t u) {
        int64_t y, start, end;
        int m, d;

        if (!r->has_dst)
                return r->std_off;
        cdc_time_civil_from_days(time_fdiv(u + r->std_off, 86400), &y, &m, &d);
        /* DST starts at a local standard time, ends at a local DST time */
        start = tz_rdate_local(&r->start, y) - r->std_off;
        end   = tz_rdate_local(&r->end, y) - r->dst_off;
        if (start < end)
                return u >= start && u < end ? r->dst_off : r->std_off;
        return u >= end && u < start ? r->std_off : r->dst_off;
}

/* Parses a TZif file: the 64-bit v2+ data and its footer (the POSIX TZ
 * rule after the last transition) when present, else the 32-bit v1 data.
 * @returns 0 or -1. */
static int tz_load_tzif(cdc_tz_t *tz, const uint8_t *d, size_t len) {
        uint32_t cnt[6];
        size_t i, need = 0, tsz = 4, end;
        const uint8_t *p = d;
        const uint8_t *types, *idx, *tt;
        int pass, v2 = 0;

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
                        v2  = 1;
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
        if (!v2)
                return 0;
        /* footer: "\n" POSIX-TZ-string "\n" (RFC 8536 3.3) */
        end = (size_t)(p - d) + 44 + need;
        if (end < len && d[end] == '\n') {
                const uint8_t *nl = memchr(d + end + 1, '\n', len - end - 1);
                if (!nl || tz_posix_parse((const char *)d + end + 1,
                                          (size_t)(nl - (d + end + 1)),
                                          &tz->rule, &tz->has_rule))
                        return -1;
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
        if (tz->n == 0)
                return tz->has_rule ? tz_rule_offset(&tz->rule, u) : tz->off0;
        if (u < tz->trans[0])
                return tz->off0;
        if (u >= tz->trans[tz->n - 1])
                return tz->has_rule ? tz_rule_offset(&tz->rule, u)
                                    : tz->offs[tz->n - 1];
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
        if (tz->n == 0 && !tz->has_rule)
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
