/**
 * @file cdc_value.c
 * @brief Column value constructors shared by the binlog and snapshot
 *        paths, and packed DECIMAL (see cdc_value.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cdc_frame.h"
#include "cdc_value.h"

/* ---- DECIMAL ---- */

static const int dig2bytes[10] = { 0, 1, 1, 2, 2, 3, 3, 4, 4, 4 };

/* Appends the \p width digits of \p v, skipping leading zeros while
 * \p *started is 0 and \p leading is set. */
static size_t dec_put(char *out, size_t o, uint32_t v, int width, int leading,
                      int *started) {
        char tmp[10];
        int j;
        for (j = width - 1; j >= 0; j--) {
                tmp[j] = (char)('0' + v % 10);
                v /= 10;
        }
        for (j = 0; j < width; j++) {
                if (leading && !*started && tmp[j] == '0')
                        continue;
                *started = 1;
                out[o++] = tmp[j];
        }
        return o;
}

int cdc_value_decimal(const uint8_t *p, size_t avail, unsigned prec,
                      unsigned scale, char *out, size_t out_size) {
        uint8_t buf[40];
        unsigned intg, intg0, intg0x, frac0, frac0x, i;
        size_t size, o = 0, k = 0;
        int neg, started = 0;
        uint8_t mask;

        if (prec == 0 || prec > 65 || scale > 38 || scale > prec)
                return -1;
        intg   = prec - scale;
        intg0  = intg / 9;
        intg0x = intg % 9;
        frac0  = scale / 9;
        frac0x = scale % 9;
        size   = intg0 * 4 + (size_t)dig2bytes[intg0x] + frac0 * 4 +
               (size_t)dig2bytes[frac0x];
        if (size > avail || size > sizeof(buf) || out_size < prec + 4)
                return -1;
        memcpy(buf, p, size);
        neg = !(buf[0] & 0x80);
        buf[0] ^= 0x80;
        mask = neg ? 0xff : 0;
        for (i = 0; i < size; i++)
                buf[i] ^= mask;
        if (neg)
                out[o++] = '-';
        if (intg0x) {
                uint32_t v =
                        (uint32_t)cdc_be(buf + k, (unsigned)dig2bytes[intg0x]);
                k += (size_t)dig2bytes[intg0x];
                if (v >= 1000000000u)
                        return -1;
                o = dec_put(out, o, v, (int)intg0x, 1, &started);
        }
        for (i = 0; i < intg0; i++) {
                uint32_t v = (uint32_t)cdc_be(buf + k, 4);
                k += 4;
                if (v >= 1000000000u)
                        return -1;
                o = dec_put(out, o, v, 9, 1, &started);
        }
        if (!started)
                out[o++] = '0';
        if (scale) {
                out[o++] = '.';
                for (i = 0; i < frac0; i++) {
                        uint32_t v = (uint32_t)cdc_be(buf + k, 4);
                        k += 4;
                        if (v >= 1000000000u)
                                return -1;
                        o = dec_put(out, o, v, 9, 0, &started);
                }
                if (frac0x) {
                        uint32_t v = (uint32_t)cdc_be(
                                buf + k, (unsigned)dig2bytes[frac0x]);
                        k += (size_t)dig2bytes[frac0x];
                        o = dec_put(out, o, v, (int)frac0x, 0, &started);
                }
        }
        out[o] = '\0';
        return (int)size;
}

/* ---- binary and text ---- */

static const char b64tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t cdc_value_base64_enc(const uint8_t *s, size_t n, char *out) {
        size_t i, o = 0;
        for (i = 0; i + 2 < n; i += 3) {
                uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 |
                             s[i + 2];
                out[o++] = b64tab[v >> 18];
                out[o++] = b64tab[(v >> 12) & 63];
                out[o++] = b64tab[(v >> 6) & 63];
                out[o++] = b64tab[v & 63];
        }
        if (i < n) {
                uint32_t v = (uint32_t)s[i] << 16;
                if (i + 1 < n)
                        v |= (uint32_t)s[i + 1] << 8;
                out[o++] = b64tab[v >> 18];
                out[o++] = b64tab[(v >> 12) & 63];
                out[o++] = i + 1 < n ? b64tab[(v >> 6) & 63] : '=';
                out[o++] = '=';
        }
        return o;
}

json_t *cdc_value_base64(const uint8_t *s, size_t n) {
        char *out;
        json_t *j;

        if (n > (SIZE_MAX / 4) - 4)
                return NULL;
        out = malloc((n + 2) / 3 * 4 + 1);
        if (!out)
                return NULL;
        j = json_stringn_nocheck(out, cdc_value_base64_enc(s, n, out));
        free(out);
        return j;
}

/* Text that is not valid UTF-8: latin1 is converted; in any other charset
 * each byte that does not start a valid sequence becomes U+FFFD. */
static json_t *value_text_fallback(const uint8_t *s, size_t n, int latin1) {
        char *out;
        size_t i = 0, o = 0;
        json_t *j;

        if (n > SIZE_MAX / 3 - 1)
                return NULL;
        out = malloc(n * 3 + 1);
        if (!out)
                return NULL;
        while (i < n) {
                uint8_t c = s[i];
                size_t l  = 0, k;
                if (latin1) {
                        if (c < 0x80) {
                                out[o++] = (char)c;
                        } else {
                                out[o++] = (char)(0xc0 | (c >> 6));
                                out[o++] = (char)(0x80 | (c & 0x3f));
                        }
                        i++;
                        continue;
                }
                if (c < 0x80)
                        l = 1;
                else if (c >= 0xc2 && c <= 0xdf)
                        l = 2;
                else if (c >= 0xe0 && c <= 0xef)
                        l = 3;
                else if (c >= 0xf0 && c <= 0xf4)
                        l = 4;
                if (l && i + l <= n) {
                        json_t *probe;
                        for (k = 1; k < l; k++)
                                if ((s[i + k] & 0xc0) != 0x80)
                                        break;
                        if (k == l) {
                                probe = json_stringn((const char *)s + i, l);
                                if (probe) {
                                        json_decref(probe);
                                        memcpy(out + o, s + i, l);
                                        o += l;
                                        i += l;
                                        continue;
                                }
                        }
                }
                out[o++] = (char)0xef;
                out[o++] = (char)0xbf;
                out[o++] = (char)0xbd;
                i++;
        }
        j = json_stringn_nocheck(out, o);
        free(out);
        return j;
}

json_t *cdc_value_text(const cdc_col_t *c, const uint8_t *s, size_t n) {
        json_t *j;
        if (c->is_binary)
                return cdc_value_base64(s, n);
        j = json_stringn((const char *)s, n);
        if (j)
                return j;
        return value_text_fallback(s, n, c->is_latin1);
}

/* ---- numbers ---- */

json_t *cdc_value_u64(uint64_t v) {
        char buf[24];
        if (v <= (uint64_t)INT64_MAX)
                return json_integer((json_int_t)v);
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
        return json_string(buf);
}

json_t *cdc_value_float(float f) {
        char buf[32];
        int prec;
        for (prec = 6; prec <= 9; prec++) {
                snprintf(buf, sizeof(buf), "%.*g", prec, (double)f);
                if (strtof(buf, NULL) == f)
                        break;
        }
        return json_real(strtod(buf, NULL));
}

/* ---- temporal ---- */

static void value_put_digits(char *p, unsigned v, int n) {
        while (n-- > 0) {
                p[n] = (char)('0' + v % 10);
                v /= 10;
        }
}

json_t *cdc_value_instant(int64_t epoch_us) {
        char buf[CDC_TIME_TEXT_MAX + 1];
        int n = cdc_time_format_us(buf, sizeof(buf), epoch_us);
        if (n < 0)
                return NULL;
        return json_stringn_nocheck(buf, (size_t)n);
}

int cdc_value_datetime_us(unsigned y, unsigned mo, unsigned d, unsigned h,
                          unsigned mi, unsigned s, uint32_t us,
                          const cdc_tz_t *tz, int64_t *usp) {
        int64_t local;
        /* every month has 28 days: the calendar is asked about the rest */
        if (y > 9999 || mo < 1 || mo > 12 || d < 1 ||
            (d > 28 && !cdc_time_date_exists(y, (int)mo, (int)d)) || h > 23 ||
            mi > 59 || s > 59 || us > 999999)
                return 0; /* zero or invalid date: not an instant */
        local = cdc_time_days_from_civil(y, (int)mo, (int)d) * 86400 +
                h * 3600 + mi * 60 + s;
        local -= cdc_tz_local_offset(tz, local);
        *usp = local * 1000000 + us;
        return 1;
}

json_t *cdc_value_datetime(unsigned y, unsigned mo, unsigned d, unsigned h,
                           unsigned mi, unsigned s, uint32_t us,
                           const cdc_tz_t *tz) {
        int64_t v;
        if (!cdc_value_datetime_us(y, mo, d, h, mi, s, us, tz, &v))
                return json_null();
        return cdc_value_instant(v);
}

json_t *cdc_value_date(unsigned y, unsigned m, unsigned d) {
        char buf[10];
        if (y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
                return json_null(); /* zero dates, a zero month or day */
        value_put_digits(buf, y, 4);
        buf[4] = '-';
        value_put_digits(buf + 5, m, 2);
        buf[7] = '-';
        value_put_digits(buf + 8, d, 2);
        return json_stringn_nocheck(buf, 10);
}

json_t *cdc_value_time(int neg, unsigned h, unsigned m, unsigned s, uint32_t us,
                       unsigned fsp) {
        char buf[40];
        size_t o = 0;
        int hd   = h > 99 ? (h > 999 ? 4 : 3) : 2;
        if (h > 9999)
                return NULL;
        if (neg)
                buf[o++] = '-';
        value_put_digits(buf + o, h, hd);
        o += (size_t)hd;
        buf[o++] = ':';
        value_put_digits(buf + o, m, 2);
        o += 2;
        buf[o++] = ':';
        value_put_digits(buf + o, s, 2);
        o += 2;
        if (fsp > 0) {
                buf[o++] = '.';
                value_put_digits(buf + o, us % 1000000, 6);
                o += 6;
        }
        return json_stringn_nocheck(buf, o);
}
