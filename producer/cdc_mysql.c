/**
 * @file cdc_mysql.c
 * @brief Shared MySQL connection helpers of the producer (see cdc_mysql.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errmsg.h>

#include "cdc_mysql.h"

int cdc_mysql_connect(const cdc_mysql_opts_t *o, MYSQL **myp) {
        unsigned int ct = o->connect_timeout_s, rw = o->rw_timeout_s;
        MYSQL *my = mysql_init(NULL);

        *myp = my;
        if (!my)
                return -1;
        mysql_optionsv(my, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
        mysql_optionsv(my, MYSQL_OPT_READ_TIMEOUT, &rw);
        mysql_optionsv(my, MYSQL_OPT_WRITE_TIMEOUT, &rw);
        if (o->charset)
                mysql_optionsv(my, MYSQL_SET_CHARSET_NAME, o->charset);
        if (!mysql_real_connect(my, o->socket ? NULL : o->host, o->user,
                                o->password, o->db, o->port, o->socket, 0))
                return -1;
        return 0;
}

cdc_err_t cdc_mysql_err(MYSQL *my, const char *what, char *errstr,
                        size_t errstr_size) {
        unsigned no = my ? mysql_errno(my) : CR_OUT_OF_MEMORY;
        snprintf(errstr, errstr_size, "%s: %s (%u)", what,
                 my ? mysql_error(my) : "out of memory", no);
        /* client-side codes (2000..2999) mean the connection is gone */
        if (no >= 2000 && no < 3000)
                return CDC_ERR__TRANSPORT;
        return CDC_ERR__SERVER;
}

static char *mysql_strdup(const char *s, int *failp) {
        char *r;
        if (!s)
                return NULL;
        r = strdup(s);
        if (!r)
                *failp = 1;
        return r;
}

int cdc_mysql_target_set(cdc_mysql_target_t *t, const cdc_mysql_opts_t *o) {
        int fail = 0;

        memset(t, 0, sizeof(*t));
        t->host     = mysql_strdup(o->host, &fail);
        t->socket   = mysql_strdup(o->socket, &fail);
        t->user     = mysql_strdup(o->user, &fail);
        t->password = mysql_strdup(o->password, &fail);
        t->db       = mysql_strdup(o->db, &fail);
        t->port     = o->port;
        if (fail) {
                cdc_mysql_target_clear(t);
                return -1;
        }
        return 0;
}

void cdc_mysql_target_clear(cdc_mysql_target_t *t) {
        free(t->host);
        free(t->socket);
        free(t->user);
        free(t->password);
        free(t->db);
        memset(t, 0, sizeof(*t));
}

void cdc_mysql_target_opts(const cdc_mysql_target_t *t, cdc_mysql_opts_t *o) {
        o->host     = t->host;
        o->port     = t->port;
        o->socket   = t->socket;
        o->user     = t->user;
        o->password = t->password;
        o->db       = t->db;
}
