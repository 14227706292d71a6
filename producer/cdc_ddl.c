/**
 * @file cdc_ddl.c
 * @brief DDL statement matching (see cdc_ddl.h).
 */
#include <string.h>
#include <strings.h>
#include "cdc_ddl.h"

static int ddl_is_ident(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
               (c >= '0' && c <= '9') || c == '_' || c == '$' ||
               (unsigned char)c >= 0x80;
}

/* Offset of the first word after leading blanks and comments, or len
 * (an unterminated comment). */
static size_t ddl_lead(const char *q, size_t len) {
        size_t i = 0;

        while (i < len) {
                if (q[i] == ' ' || q[i] == '\t' || q[i] == '\n' ||
                    q[i] == '\r') {
                        i++;
                } else if (q[i] == '/' && i + 1 < len && q[i + 1] == '*') {
                        size_t j;
                        for (j = i + 2; j + 1 < len; j++)
                                if (q[j] == '*' && q[j + 1] == '/')
                                        break;
                        if (j + 1 >= len)
                                return len;
                        i = j + 2;
                } else {
                        break;
                }
        }
        return i;
}

int cdc_ddl_is_truncate(const char *q, size_t len) {
        size_t i = ddl_lead(q, len);

        return len - i >= 8 && !strncasecmp(q + i, "TRUNCATE", 8) &&
               (len - i == 8 || !ddl_is_ident(q[i + 8]));
}

/*
 * Whether a statement is DDL (ALTER/RENAME/DROP/CREATE/TRUNCATE) naming a
 * watched table, qualified with our db or unqualified with our db as the
 * default. @returns the watched index or -1.
 */
ssize_t cdc_ddl_match(const char *db, char *const *tables, size_t table_cnt,
                      const char *q, size_t len, const char *evdb) {
        static const char *const kw[] = { "ALTER", "RENAME", "DROP", "CREATE",
                                          "TRUNCATE" };
        size_t i                      = 0, k;
        char prev[130]                = "", cur[130];
        int prev_dot = 0, found_kw = 0;
        size_t prev_end = 0;

        while (i < len) { /* leading blanks and comments */
                if (q[i] == ' ' || q[i] == '\t' || q[i] == '\n' ||
                    q[i] == '\r') {
                        i++;
                } else if (q[i] == '/' && i + 1 < len && q[i + 1] == '*') {
                        const char *e = NULL;
                        size_t j;
                        for (j = i + 2; j + 1 < len; j++)
                                if (q[j] == '*' && q[j + 1] == '/') {
                                        e = q + j;
                                        break;
                                }
                        if (!e)
                                return -1;
                        i = (size_t)(e - q) + 2;
                } else {
                        break;
                }
        }
        for (k = 0; k < sizeof(kw) / sizeof(kw[0]); k++) {
                size_t l = strlen(kw[k]);
                if (len - i >= l && !strncasecmp(q + i, kw[k], l) &&
                    (len - i == l || !ddl_is_ident(q[i + l]))) {
                        found_kw = 1;
                        break;
                }
        }
        if (!found_kw)
                return -1;
        while (i < len) {
                size_t o = 0;
                if (q[i] == '\'' || q[i] == '"') { /* string literal */
                        char qc = q[i++];
                        while (i < len && q[i] != qc) {
                                if (q[i] == '\\')
                                        i++;
                                i++;
                        }
                        i++;
                        prev[0] = '\0';
                        continue;
                }
                if (q[i] == '`') {
                        i++;
                        while (i < len) {
                                if (q[i] == '`') {
                                        if (i + 1 < len && q[i + 1] == '`') {
                                                i++;
                                        } else {
                                                break;
                                        }
                                }
                                if (o < sizeof(cur) - 1)
                                        cur[o++] = q[i];
                                i++;
                        }
                        i++;
                } else if (ddl_is_ident(q[i])) {
                        while (i < len && ddl_is_ident(q[i])) {
                                if (o < sizeof(cur) - 1)
                                        cur[o++] = q[i];
                                i++;
                        }
                } else {
                        prev_dot = q[i] == '.' && prev[0] && prev_end == i;
                        if (!prev_dot && q[i] != ' ')
                                prev[0] = '\0';
                        i++;
                        continue;
                }
                cur[o] = '\0';
                {
                        const char *qual = NULL;
                        size_t w;
                        if (prev_dot && prev[0])
                                qual = prev;
                        for (w = 0; w < table_cnt; w++) {
                                if (strcmp(cur, tables[w]))
                                        continue;
                                if (qual ? !strcmp(qual, db)
                                         : (evdb && !strcmp(evdb, db)))
                                        return (ssize_t)w;
                        }
                }
                memcpy(prev, cur, o + 1);
                prev_end = i;
                prev_dot = 0;
        }
        return -1;
}
