/**
 * @file cdc_rsink.c
 * @brief The Redis connection (see cdc_rsink.h). hiredis 0.14 blocking
 *        API: a NULL reply means the context is dead, so it is freed at
 *        once and never reused (hiredis README: "Once an error is returned
 *        the context cannot be reused").
 */
#include "cdc_rsink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

struct cdc_rsink_s {
        char *rs_host;
        int rs_port;
        char *rs_user;
        char *rs_password;
        int rs_db;
        int rs_timeout_ms;
        redisContext *rs_rc; /* NULL when not connected */
        char rs_errstr[256];
};

static char *rsink_strdup(const char *s) {
        size_t n;
        char *d;

        if (!s)
                return NULL;
        n = strlen(s);
        d = malloc(n + 1);
        if (d)
                memcpy(d, s, n + 1);
        return d;
}

/* Record the reason of a failure. The first error since the last
 * successful connect wins, so the root cause survives the cascade. */
static void rsink_set_err(cdc_rsink_t *rs, const char *what, const char *why) {
        if (rs->rs_errstr[0])
                return;
        snprintf(rs->rs_errstr, sizeof(rs->rs_errstr), "redis %s:%d: %s%s%s",
                 rs->rs_host, rs->rs_port, what, why ? ": " : "",
                 why ? why : "");
}

cdc_rsink_t *cdc_rsink_new(const cdc_rsink_conf_t *conf, char *errstr,
                           size_t errstr_size) {
        cdc_rsink_t *rs = NULL;

        rs = calloc(1, sizeof(*rs));
        if (!rs)
                goto fail;
        rs->rs_host = rsink_strdup(conf->host ? conf->host : "127.0.0.1");
        if (!rs->rs_host)
                goto fail;
        if (conf->user && *conf->user) {
                rs->rs_user = rsink_strdup(conf->user);
                if (!rs->rs_user)
                        goto fail;
        }
        /* empty (e.g. an empty secret file): no AUTH, as when unset */
        if (conf->password && *conf->password) {
                rs->rs_password = rsink_strdup(conf->password);
                if (!rs->rs_password)
                        goto fail;
        }
        rs->rs_port       = conf->port > 0 ? conf->port : 6379;
        rs->rs_db         = conf->db;
        rs->rs_timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : 5000;
        return rs;
fail:
        snprintf(errstr, errstr_size, "out of memory");
        cdc_rsink_destroy(rs);
        return NULL;
}

void cdc_rsink_close(cdc_rsink_t *rs) {
        if (rs && rs->rs_rc) {
                redisFree(rs->rs_rc);
                rs->rs_rc = NULL;
        }
}

void cdc_rsink_destroy(cdc_rsink_t *rs) {
        if (!rs)
                return;
        cdc_rsink_close(rs);
        free(rs->rs_host);
        free(rs->rs_user);
        if (rs->rs_password) {
                /* do not leave the secret in freed memory */
                memset(rs->rs_password, 0, strlen(rs->rs_password));
                free(rs->rs_password);
        }
        free(rs);
}

int cdc_rsink_connected(const cdc_rsink_t *rs) {
        return rs->rs_rc != NULL;
}

const char *cdc_rsink_errstr(const cdc_rsink_t *rs) {
        return rs->rs_errstr;
}

/* Run one command during the handshake; an error reply is a refusal. */
static cdc_err_t rsink_handshake(cdc_rsink_t *rs, const char *what, int argc,
                                 const char **argv, const size_t *argvlen) {
        redisReply *r = NULL;
        cdc_err_t err;

        err = cdc_rsink_command(rs, &r, argc, argv, argvlen);
        if (err != CDC_ERR_NO_ERROR)
                goto out;
        if (r->type == REDIS_REPLY_ERROR) {
                rsink_set_err(rs, what, r->str);
                err = CDC_ERR__SERVER;
                cdc_rsink_close(rs);
        }
out:
        if (r)
                freeReplyObject(r);
        return err;
}

cdc_err_t cdc_rsink_connect(cdc_rsink_t *rs) {
        struct timeval tv;
        cdc_err_t err = CDC_ERR__TRANSPORT;
        char dbtxt[16];
        const char *argv[3];
        size_t argvlen[3];

        cdc_rsink_close(rs);
        rs->rs_errstr[0] = '\0';
        tv.tv_sec        = rs->rs_timeout_ms / 1000;
        tv.tv_usec       = (rs->rs_timeout_ms % 1000) * 1000;
        rs->rs_rc = redisConnectWithTimeout(rs->rs_host, rs->rs_port, tv);
        if (!rs->rs_rc) {
                rsink_set_err(rs, "connect", "out of memory");
                goto out;
        }
        if (rs->rs_rc->err) {
                rsink_set_err(rs, "connect", rs->rs_rc->errstr);
                cdc_rsink_close(rs);
                goto out;
        }
        if (redisSetTimeout(rs->rs_rc, tv) != REDIS_OK) {
                rsink_set_err(rs, "set timeout", rs->rs_rc->errstr);
                cdc_rsink_close(rs);
                goto out;
        }
        redisEnableKeepAlive(rs->rs_rc);

        if (rs->rs_password) {
                int n = 0;

                argv[n]      = "AUTH";
                argvlen[n++] = 4;
                if (rs->rs_user) {
                        argv[n]    = rs->rs_user;
                        argvlen[n] = strlen(rs->rs_user);
                        n++;
                }
                argv[n]    = rs->rs_password;
                argvlen[n] = strlen(rs->rs_password);
                n++;
                err = rsink_handshake(rs, "AUTH", n, argv, argvlen);
                if (err != CDC_ERR_NO_ERROR)
                        goto out;
        }
        if (rs->rs_db > 0) {
                snprintf(dbtxt, sizeof(dbtxt), "%d", rs->rs_db);
                argv[0]    = "SELECT";
                argvlen[0] = 6;
                argv[1]    = dbtxt;
                argvlen[1] = strlen(dbtxt);
                err        = rsink_handshake(rs, "SELECT", 2, argv, argvlen);
                if (err != CDC_ERR_NO_ERROR)
                        goto out;
        }
        argv[0]    = "PING";
        argvlen[0] = 4;
        err        = rsink_handshake(rs, "PING", 1, argv, argvlen);
out:
        return err;
}

cdc_err_t cdc_rsink_append(cdc_rsink_t *rs, int argc, const char **argv,
                           const size_t *argvlen) {
        if (!rs->rs_rc) {
                rsink_set_err(rs, "append", "not connected");
                return CDC_ERR__TRANSPORT;
        }
        if (redisAppendCommandArgv(rs->rs_rc, argc, argv, argvlen) !=
            REDIS_OK) {
                /* only fails on allocation: the context state is unknown */
                rsink_set_err(rs, "append", rs->rs_rc->errstr);
                cdc_rsink_close(rs);
                return CDC_ERR__NOMEM;
        }
        return CDC_ERR_NO_ERROR;
}

cdc_err_t cdc_rsink_send(cdc_rsink_t *rs) {
        int done = 0;

        if (!rs->rs_rc) {
                rsink_set_err(rs, "write", "not connected");
                return CDC_ERR__TRANSPORT;
        }
        /* blocking context: each call writes until the socket buffer is
         * full or the send timeout expires */
        while (!done) {
                if (redisBufferWrite(rs->rs_rc, &done) != REDIS_OK) {
                        rsink_set_err(rs, "connection lost",
                                      rs->rs_rc->errstr[0] ? rs->rs_rc->errstr
                                                           : "write failed");
                        cdc_rsink_close(rs);
                        return CDC_ERR__TRANSPORT;
                }
        }
        return CDC_ERR_NO_ERROR;
}

cdc_err_t cdc_rsink_get_reply(cdc_rsink_t *rs, redisReply **replyp) {
        void *r = NULL;

        *replyp = NULL;
        if (!rs->rs_rc) {
                rsink_set_err(rs, "read", "not connected");
                return CDC_ERR__TRANSPORT;
        }
        if (redisGetReply(rs->rs_rc, &r) != REDIS_OK || !r) {
                rsink_set_err(rs, "connection lost",
                              rs->rs_rc->errstr[0] ? rs->rs_rc->errstr
                                                   : "no reply");
                if (r)
                        freeReplyObject(r);
                cdc_rsink_close(rs);
                return CDC_ERR__TRANSPORT;
        }
        *replyp = r;
        return CDC_ERR_NO_ERROR;
}

cdc_err_t cdc_rsink_command(cdc_rsink_t *rs, redisReply **replyp, int argc,
                            const char **argv, const size_t *argvlen) {
        cdc_err_t err;

        *replyp = NULL;
        err     = cdc_rsink_append(rs, argc, argv, argvlen);
        if (err != CDC_ERR_NO_ERROR)
                return err;
        return cdc_rsink_get_reply(rs, replyp);
}

static int rsink_is_sha(const char *s, size_t len) {
        size_t i;

        if (len != 40)
                return 0;
        for (i = 0; i < len; i++) {
                char c = s[i];

                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                        return 0;
        }
        return 1;
}

cdc_err_t cdc_rsink_script_load(cdc_rsink_t *rs, const char *src, size_t len,
                                char *sha) {
        const char *argv[3] = { "SCRIPT", "LOAD", src };
        size_t argvlen[3]   = { 6, 4, len };
        redisReply *r       = NULL;
        cdc_err_t err;

        sha[0] = '\0';
        err    = cdc_rsink_command(rs, &r, 3, argv, argvlen);
        if (err != CDC_ERR_NO_ERROR)
                goto out;
        if (r->type == REDIS_REPLY_ERROR) {
                rsink_set_err(rs, "SCRIPT LOAD", r->str);
                err = CDC_ERR__SERVER;
                goto out;
        }
        if (r->type != REDIS_REPLY_STRING || !rsink_is_sha(r->str, r->len)) {
                rsink_set_err(rs, "SCRIPT LOAD", "unexpected reply");
                err = CDC_ERR__SERVER;
                goto out;
        }
        memcpy(sha, r->str, 40);
        sha[40] = '\0';
out:
        if (r)
                freeReplyObject(r);
        return err;
}
