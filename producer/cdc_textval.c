/**
 * @file cdc_textval.c
 * @brief Text protocol values to JSON (see cdc_textval.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cdc_textval.h"

/* Read exactly n digits. */
static int txt_digits(const char **pp, const char *end, int n, unsigned *vp) {
        unsigned v    = 0;
        const char *p = *pp;
        int i;
        for (i = 0; i < n; i++) {
                if (p >= end || *p < '0' || *p > '9')
                        return -1;
                v = v * 10 + (unsigned)(*p++ - '0');
        }
        *vp = v;
        *pp = p;
        return 0;
}

/* Fraction ".f{1,6}" as microseconds (missing: 0; digits past the sixth
 * are skipped). */
static void txt_frac(const char **pp, const char *end, uint32_t *usp) {
        const char *p = *pp;
        uint32_t us   = 0;
        int n         = 0;
        if (p < end && *p == '.') {
                p++;
                while (p < end && *p >= '0' && *p <= '9') {
                        if (n < 6) {
                                us = us * 10 + (uint32_t)(*p - '0');
                                n++;
                        }
                        p++;
                }
        }
        while (n > 0 && n < 6) {
                us *= 10;
                n++;
        }
        *usp = us;
        *pp  = p;
}

/* "YYYY-MM-DD" -> the DATE mapping of a binary DATE (text kept if the
 * server ever sends another form). */
static json_t *txt_date(const char *s, size_t len) {
        const char *p = s, *end = s + len;
        unsigned y, m, d;
        if (txt_digits(&p, end, 4, &y) || p >= end || *p++ != '-' ||
            txt_digits(&p, end, 2, &m) || p >= end || *p++ != '-' ||
            txt_digits(&p, end, 2, &d) || p != end)
                return json_stringn(s, len);
        return cdc_value_date(y, m, d);
}

/* "YYYY-MM-DD[ HH:MM:SS[.f]]" read in \p tz (NULL: UTC) -> instant. */
static json_t *txt_datetime(const char *s, size_t len, const cdc_tz_t *tz) {
        const char *p = s, *end = s + len;
        unsigned y, mo, d, h = 0, mi = 0, sec = 0;
        uint32_t us = 0;

        if (txt_digits(&p, end, 4, &y) || p >= end || *p++ != '-' ||
            txt_digits(&p, end, 2, &mo) || p >= end || *p++ != '-' ||
            txt_digits(&p, end, 2, &d))
                return json_null();
        if (p < end) {
                if ((*p != ' ' && *p != 'T') || (p++, 0) ||
                    txt_digits(&p, end, 2, &h) || p >= end || *p++ != ':' ||
                    txt_digits(&p, end, 2, &mi) || p >= end || *p++ != ':' ||
                    txt_digits(&p, end, 2, &sec))
                        return json_null();
                txt_frac(&p, end, &us);
        }
        return cdc_value_datetime(y, mo, d, h, mi, sec, us, tz);
}

/* "[-]H+:MM:SS[.f]" -> "[-]HH:MM:SS[.ffffff]" (fraction iff fsp > 0);
 * anything else is kept as text. */
static json_t *txt_time(const char *s, size_t len, unsigned fsp) {
        const char *p = s, *end = s + len;
        unsigned h  = 0, m, sec;
        uint32_t us = 0;
        int neg = 0, n = 0;
        json_t *v;

        if (p < end && *p == '-') {
                neg = 1;
                p++;
        }
        while (p < end && *p >= '0' && *p <= '9' && n < 8) {
                h = h * 10 + (unsigned)(*p++ - '0');
                n++;
        }
        if (!n || p >= end || *p++ != ':' || txt_digits(&p, end, 2, &m) ||
            p >= end || *p++ != ':' || txt_digits(&p, end, 2, &sec))
                return json_stringn(s, len);
        txt_frac(&p, end, &us);
        v = cdc_value_time(neg, h, m, sec, us, fsp);
        return v ? v : json_stringn(s, len);
}

json_t *cdc_textval_decode(const cdc_col_t *c, const char *val, size_t len,
                           const cdc_tz_t *tz) {
        char num[80];
        char *end;

        if (!val)
                return json_null();
        switch (c->type) {
        case CDC_T_TINY:
        case CDC_T_SHORT:
        case CDC_T_INT24:
        case CDC_T_LONG:
        case CDC_T_LONGLONG:
        case CDC_T_YEAR:
                if (len >= sizeof(num))
                        return json_stringn(val, len);
                memcpy(num, val, len);
                num[len] = '\0';
                errno    = 0;
                if (c->is_unsigned) {
                        unsigned long long u = strtoull(num, &end, 10);
                        if (!errno && *end == '\0')
                                return cdc_value_u64((uint64_t)u);
                } else {
                        long long v = strtoll(num, &end, 10);
                        if (!errno && *end == '\0')
                                return json_integer((json_int_t)v);
                }
                return json_stringn(val, len);
        case CDC_T_FLOAT:
        case CDC_T_DOUBLE:
                if (len >= sizeof(num))
                        return json_stringn(val, len);
                memcpy(num, val, len);
                num[len] = '\0';
                if (c->type == CDC_T_FLOAT)
                        return cdc_value_float(strtof(num, NULL));
                return json_real(strtod(num, NULL));
        case CDC_T_DECIMAL:
        case CDC_T_NEWDECIMAL:
                return json_stringn(val, len);
        case CDC_T_DATE:
        case CDC_T_NEWDATE:
                return txt_date(val, len);
        case CDC_T_TIME:
        case CDC_T_TIME2:
                return txt_time(val, len, c->meta);
        case CDC_T_DATETIME:
        case CDC_T_DATETIME2:
                return txt_datetime(val, len, tz);
        case CDC_T_TIMESTAMP:
        case CDC_T_TIMESTAMP2:
                /* the session time_zone is +00:00: the text is UTC */
                return txt_datetime(val, len, NULL);
        case CDC_T_BIT: {
                uint64_t v = 0;
                size_t i;
                for (i = 0; i < len && i < 8; i++)
                        v = v << 8 | (unsigned char)val[i];
                return cdc_value_u64(v);
        }
        case CDC_T_NULL:
                return json_null();
        case CDC_T_GEOMETRY:
                return cdc_value_base64((const uint8_t *)val, len);
        default:
                /* strings, blobs, ENUM/SET labels, JSON text */
                return cdc_value_text(c, (const uint8_t *)val, len);
        }
}
