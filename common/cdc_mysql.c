/**
 * @file cdc_mysql.c
 * @brief MySQL connection target and connect / error helpers (see
 *        cdc_mysql.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errmsg.h>

#include "cdc_mysql.h"

int cdc_mysql_connect(const cdc_mysql_target_t *t, const cdc_mysql_opts_t *o,
                      MYSQL **myp) {
        unsigned int ct = o->connect_timeout_s, rw = o->rw_timeout_s;
        my_bool off = 0;
        MYSQL *my   = mysql_init(NULL);

        *myp = my;
        if (!my)
                return -1;
        mysql_optionsv(my, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
        mysql_optionsv(my, MYSQL_OPT_READ_TIMEOUT, &rw);
        mysql_optionsv(my, MYSQL_OPT_WRITE_TIMEOUT, &rw);
        mysql_optionsv(my, MYSQL_OPT_RECONNECT, &off);
        if (o->charset)
                mysql_optionsv(my, MYSQL_SET_CHARSET_NAME, o->charset);
        if (!mysql_real_connect(my, t->socket ? NULL : t->host, t->user,
                                t->password, o->no_db ? NULL : t->db, t->port,
                                t->socket, 0))
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

int cdc_mysql_target_set(cdc_mysql_target_t *t, const char *host, unsigned port,
                         const char *socket, const char *user,
                         const char *password, const char *db) {
        int fail = 0;

        memset(t, 0, sizeof(*t));
        t->host     = mysql_strdup(host && *host ? host : "127.0.0.1", &fail);
        t->socket   = mysql_strdup(socket && *socket ? socket : NULL, &fail);
        t->user     = mysql_strdup(user, &fail);
        t->password = mysql_strdup(password, &fail);
        t->db       = mysql_strdup(db, &fail);
        t->port     = port ? port : 3306;
        if (fail) {
                cdc_mysql_target_clear(t);
                return -1;
        }
        return 0;
}

int cdc_mysql_target_copy(cdc_mysql_target_t *dst,
                          const cdc_mysql_target_t *src) {
        return cdc_mysql_target_set(dst, src->host, src->port, src->socket,
                                    src->user, src->password, src->db);
}

void cdc_mysql_target_clear(cdc_mysql_target_t *t) {
        free(t->host);
        free(t->socket);
        free(t->user);
        free(t->password);
        free(t->db);
        memset(t, 0, sizeof(*t));
}

const char *cdc_mysql_target_where(const cdc_mysql_target_t *t, char *buf,
                                   size_t size) {
        if (t->socket)
                snprintf(buf, size, "%s", t->socket);
        else
                snprintf(buf, size, "%s:%u", t->host ? t->host : "?", t->port);
        return buf;
}
