/**
 * @file cdc_srcmeta_int.h
 * @brief Internals of the source metadata connection shared by
 *        cdc_srcmeta.c and cdc_srccheck.c.
 */
#ifndef CDC_SRCMETA_INT_H
#define CDC_SRCMETA_INT_H

#include <stdint.h>
#include <mysql.h>
#include "cdc_srcmeta.h"

/* Column information of a watched table from information_schema. */
typedef struct srcmeta_schema_s {
        int loaded;
        uint32_t ncols;
        char **names;
        uint8_t *is_unsigned;
        uint8_t *is_binary;
        char ***labels;
        uint32_t *label_cnt;
} srcmeta_schema_t;

struct cdc_srcmeta_s {
        cdc_mysql_target_t sm_tgt; /* where to connect (owned copy) */
        unsigned sm_connect_timeout_s, sm_rw_timeout_s;
        char *sm_db;
        char **sm_tables;
        size_t sm_table_cnt;
        srcmeta_schema_t *sm_schema; /* one per watched table */
        MYSQL *sm_my;
        int sm_is_mysql;
        char sm_errstr[512];
};

/** @brief Set the handle's error text (printf format). */
void cdc_srcmeta_seterr(cdc_srcmeta_t *sm, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

#endif
