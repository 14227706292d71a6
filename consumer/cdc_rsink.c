/**
 * @file cdc_rsink.c
 * @brief The Redis connection (see cdc_rsink.h). hiredis 0.14 blocking
 *        API: a NULL reply means the context is dead, so it is freed at
 *        once and never reused (hiredis README: "Once an error is returned
 *        the context cannot be reused").
 */
#include "cdc_rsink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct cdc_rsink_s {
        char *rs_host;
        int rs_port;
        char *rs_user;
        char *rs_password;
        int rs_db;
        int rs_timeout_ms;
        redisContext *rs_rc; /* plain: NULL when not connected */

        /* TLS (rs_ctx set): own socket and session, hiredis' reader */
        SSL_CTX *rs_ctx;
        char *rs_tls_name; /* name to verify; NULL: rs_host */
        int rs_fd;         /* -1 when not connected */
        SSL *rs_ssl;       /* NULL when not connected */
        redisReader *rs_reader;
        char *rs_obuf; /* commands appended, not yet written */
        size_t rs_olen, rs_opos, rs_ocap;

        long long rs_over; /* element count of a refused array reply */
        char rs_errstr[600];
};

/* ---- reply limit ---- */

static redisReplyObjectFunctions rsink_fns;
static redisReplyObjectFunctions *rsink_dflt_fns;
static pthread_once_t rsink_fns_once = PTHREAD_ONCE_INIT;

static void *rsink_create_array(const redisReadTask *task, int elements) {
        if (elements > CDC_RSINK_MAX_ELEMENTS) {
                long long *over = task->privdata;

                if (over)
                        *over = elements;
                return NULL; /* the reader's error: "Out of memory" */
        }
        return rsink_dflt_fns->createArray(task, elements);
}

/* hiredis' own functions stay in charge of every object, so replies are
 * still freed by freeReplyObject(); only the array's size is checked. */
static void rsink_fns_init(void) {
        redisReader *r = redisReaderCreate();

        if (!r)
                return;
        rsink_dflt_fns        = r->fn;
        rsink_fns             = *r->fn;
        rsink_fns.createArray = rsink_create_array;
        redisReaderFree(r);
}

void cdc_rsink_reader_limit(redisReader *reader, long long *over) {
        pthread_once(&rsink_fns_once, rsink_fns_init);
        if (!reader || !rsink_dflt_fns || !rsink_dflt_fns->createArray)
                return;
        reader->fn       = &rsink_fns;
        reader->privdata = over;
}

/* The reader's error, with the reason when it is the limit (rs_over is
 * cleared by the close that follows every reader error). */
static const char *rsink_reader_why(const cdc_rsink_t *rs, const char *errstr,
                                    char *buf, size_t size) {
        if (!rs->rs_over)
                return errstr;
        snprintf(buf, size,
                 "an array reply of %lld elements (more than %d accepted)",
                 rs->rs_over, CDC_RSINK_MAX_ELEMENTS);
        return buf;
}

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
        snprintf(rs->rs_errstr, sizeof(rs->rs_errstr),
                 "redis %.200s:%d: %.40s%s%.300s", rs->rs_host, rs->rs_port,
                 what, why ? ": " : "", why ? why : "");
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
        rs->rs_fd         = -1;
        if (conf->tls_ctx) {
                if (conf->tls_server_name && *conf->tls_server_name) {
                        rs->rs_tls_name = rsink_strdup(conf->tls_server_name);
                        if (!rs->rs_tls_name)
                                goto fail;
                }
                if (SSL_CTX_up_ref(conf->tls_ctx) != 1)
                        goto fail;
                rs->rs_ctx = conf->tls_ctx;
        }
        return rs;
fail:
        snprintf(errstr, errstr_size, "out of memory");
        cdc_rsink_destroy(rs);
        return NULL;
}

void cdc_rsink_close(cdc_rsink_t *rs) {
        if (!rs)
                return;
        if (rs->rs_rc) {
                redisFree(rs->rs_rc);
                rs->rs_rc = NULL;
        }
        if (rs->rs_ssl) {
                /* no close_notify: the peer may be gone, and a blocking
                 * shutdown must not stall the loop */
                SSL_free(rs->rs_ssl);
                rs->rs_ssl = NULL;
        }
        if (rs->rs_fd >= 0) {
                close(rs->rs_fd);
                rs->rs_fd = -1;
        }
        if (rs->rs_reader) {
                redisReaderFree(rs->rs_reader);
                rs->rs_reader = NULL;
        }
        rs->rs_olen = rs->rs_opos = 0;
        rs->rs_over               = 0;
}

void cdc_rsink_destroy(cdc_rsink_t *rs) {
        if (!rs)
                return;
        cdc_rsink_close(rs);
        free(rs->rs_host);
        free(rs->rs_user);
        free(rs->rs_tls_name);
        free(rs->rs_obuf);
        SSL_CTX_free(rs->rs_ctx);
        if (rs->rs_password) {
                /* do not leave the secret in freed memory */
                memset(rs->rs_password, 0, strlen(rs->rs_password));
                free(rs->rs_password);
        }
        free(rs);
}

int cdc_rsink_connected(const cdc_rsink_t *rs) {
        return rs->rs_rc != NULL || rs->rs_ssl != NULL;
}

const char *cdc_rsink_errstr(const cdc_rsink_t *rs) {
        return rs->rs_errstr;
}

/* ---- TLS ---- */

/* The first queued OpenSSL error, or errno, as text. */
static const char *rsink_ssl_why(char *buf, size_t size, int err) {
        unsigned long e = ERR_get_error();

        if (e)
                ERR_error_string_n(e, buf, size);
        else if (err == SSL_ERROR_ZERO_RETURN ||
                 (err == SSL_ERROR_SYSCALL && errno == 0))
                snprintf(buf, size, "connection closed by the server");
        else
                snprintf(buf, size, "%s", strerror(errno));
        ERR_clear_error();
        return buf;
}

void *cdc_rsink_tls_new(const cdc_rsink_tls_t *tls, char *errstr,
                        size_t errstr_size) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        char why[256];

        if (!ctx) {
                snprintf(errstr, errstr_size, "TLS: %s",
                         rsink_ssl_why(why, sizeof(why), 0));
                return NULL;
        }
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        if (tls->ca && *tls->ca) {
                if (SSL_CTX_load_verify_locations(ctx, tls->ca, NULL) != 1) {
                        snprintf(errstr, errstr_size, "redis.tls.ca %s: %s",
                                 tls->ca, rsink_ssl_why(why, sizeof(why), 0));
                        goto fail;
                }
        } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
                snprintf(errstr, errstr_size, "TLS: system trust store: %s",
                         rsink_ssl_why(why, sizeof(why), 0));
                goto fail;
        }
        if (tls->cert && *tls->cert) {
                const char *key = tls->key && *tls->key ? tls->key : tls->cert;

                if (SSL_CTX_use_certificate_chain_file(ctx, tls->cert) != 1) {
                        snprintf(errstr, errstr_size, "redis.tls.cert %s: %s",
                                 tls->cert, rsink_ssl_why(why, sizeof(why), 0));
                        goto fail;
                }
                if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) !=
                            1 ||
                    SSL_CTX_check_private_key(ctx) != 1) {
                        snprintf(errstr, errstr_size, "redis.tls.key %s: %s",
                                 key, rsink_ssl_why(why, sizeof(why), 0));
                        goto fail;
                }
        } else if (tls->key && *tls->key) {
                snprintf(errstr, errstr_size,
                         "redis.tls.key without redis.tls.cert");
                goto fail;
        }
        SSL_CTX_set_verify(
                ctx, tls->no_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
        return ctx;
fail:
        SSL_CTX_free(ctx);
        return NULL;
}

void cdc_rsink_tls_destroy(void *ctx) {
        SSL_CTX_free(ctx);
}

/* Wait until the socket is readable (or writable); 0, or -1 on timeout
 * or error (reason set). */
static int rsink_tls_wait(cdc_rsink_t *rs, int for_write, const char *what) {
        struct pollfd pfd;
        int r;

        pfd.fd     = rs->rs_fd;
        pfd.events = for_write ? POLLOUT : POLLIN;
        do
                r = poll(&pfd, 1, rs->rs_timeout_ms);
        while (r < 0 && errno == EINTR);
        if (r == 0) {
                rsink_set_err(rs, what, "timed out");
                return -1;
        }
        if (r < 0) {
                rsink_set_err(rs, what, strerror(errno));
                return -1;
        }
        return 0;
}

/* Non-blocking TCP connect with the timeout, to every address of the
 * host in turn. Returns the socket or -1 (reason set). */
static int rsink_tcp_connect(cdc_rsink_t *rs) {
        struct addrinfo hints, *res = NULL, *ai;
        char port[16], why[160];
        int fd = -1, r, one = 1;

        memset(&hints, 0, sizeof(hints));
        hints.ai_family   = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        snprintf(port, sizeof(port), "%d", rs->rs_port);
        r = getaddrinfo(rs->rs_host, port, &hints, &res);
        if (r != 0) {
                rsink_set_err(rs, "connect", gai_strerror(r));
                return -1;
        }
        why[0] = '\0';
        for (ai = res; ai; ai = ai->ai_next) {
                int soerr    = 0;
                socklen_t sl = sizeof(soerr);

                fd = socket(ai->ai_family,
                            ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                            ai->ai_protocol);
                if (fd < 0) {
                        snprintf(why, sizeof(why), "%s", strerror(errno));
                        continue;
                }
                rs->rs_fd = fd;
                if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
                        break;
                if (errno == EINPROGRESS) {
                        rs->rs_errstr[0] = '\0';
                        if (rsink_tls_wait(rs, 1, "connect") == 0 &&
                            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) ==
                                    0 &&
                            soerr == 0)
                                break;
                        snprintf(why, sizeof(why), "%s",
                                 soerr ? strerror(soerr) : "timed out");
                } else {
                        snprintf(why, sizeof(why), "%s", strerror(errno));
                }
                close(fd);
                fd = rs->rs_fd = -1;
        }
        freeaddrinfo(res);
        rs->rs_errstr[0] = '\0';
        if (fd < 0) {
                rsink_set_err(rs, "connect", why[0] ? why : "no address");
                return -1;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        return fd;
}

static cdc_err_t rsink_tls_connect(cdc_rsink_t *rs) {
        const char *name = rs->rs_tls_name ? rs->rs_tls_name : rs->rs_host;
        unsigned char ip[sizeof(struct in6_addr)];
        char why[256];
        int r, e;

        if (rsink_tcp_connect(rs) < 0)
                return CDC_ERR__TRANSPORT;
        rs->rs_ssl    = SSL_new(rs->rs_ctx);
        rs->rs_reader = redisReaderCreate();
        cdc_rsink_reader_limit(rs->rs_reader, &rs->rs_over);
        if (!rs->rs_ssl || !rs->rs_reader ||
            SSL_set_fd(rs->rs_ssl, rs->rs_fd) != 1) {
                rsink_set_err(rs, "TLS", "out of memory");
                goto fail;
        }
        /* the server's certificate must name what we connect to: an IP
         * address is matched against IP SANs, a name against DNS SANs */
        if (inet_pton(AF_INET, name, ip) == 1 ||
            inet_pton(AF_INET6, name, ip) == 1) {
                if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(rs->rs_ssl),
                                                  name) != 1) {
                        rsink_set_err(rs, "TLS", "bad IP address");
                        goto fail;
                }
        } else if (SSL_set_tlsext_host_name(rs->rs_ssl, name) != 1 ||
                   SSL_set1_host(rs->rs_ssl, name) != 1) {
                rsink_set_err(rs, "TLS", "bad server name");
                goto fail;
        }
        for (;;) {
                ERR_clear_error();
                r = SSL_connect(rs->rs_ssl);
                if (r == 1)
                        break;
                e = SSL_get_error(rs->rs_ssl, r);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                        if (rsink_tls_wait(rs, e == SSL_ERROR_WANT_WRITE,
                                           "TLS handshake") != 0)
                                goto fail;
                        continue;
                }
                if (SSL_get_verify_result(rs->rs_ssl) != X509_V_OK) {
                        snprintf(why, sizeof(why),
                                 "certificate verify failed: %s (name or "
                                 "address %s; see redis.tls.ca and "
                                 "redis.tls.server.name)",
                                 X509_verify_cert_error_string(
                                         SSL_get_verify_result(rs->rs_ssl)),
                                 name);
                        ERR_clear_error();
                        rsink_set_err(rs, "TLS handshake", why);
                } else {
                        rsink_set_err(rs, "TLS handshake",
                                      rsink_ssl_why(why, sizeof(why), e));
                }
                goto fail;
        }
        return CDC_ERR_NO_ERROR;
fail:
        cdc_rsink_close(rs);
        return CDC_ERR__TRANSPORT;
}

static cdc_err_t rsink_tls_append(cdc_rsink_t *rs, int argc, const char **argv,
                                  const size_t *argvlen) {
        char *cmd = NULL;
        int n     = redisFormatCommandArgv(&cmd, argc, argv, argvlen);

        if (n < 0 || !cmd) {
                rsink_set_err(rs, "append", "out of memory");
                cdc_rsink_close(rs);
                return CDC_ERR__NOMEM;
        }
        if (rs->rs_olen + (size_t)n > rs->rs_ocap) {
                size_t cap = rs->rs_ocap ? rs->rs_ocap : 16384;
                char *p;

                while (cap < rs->rs_olen + (size_t)n)
                        cap *= 2;
                p = realloc(rs->rs_obuf, cap);
                if (!p) {
                        redisFreeCommand(cmd);
                        rsink_set_err(rs, "append", "out of memory");
                        cdc_rsink_close(rs);
                        return CDC_ERR__NOMEM;
                }
                rs->rs_obuf = p;
                rs->rs_ocap = cap;
        }
        memcpy(rs->rs_obuf + rs->rs_olen, cmd, (size_t)n);
        rs->rs_olen += (size_t)n;
        redisFreeCommand(cmd);
        return CDC_ERR_NO_ERROR;
}

static cdc_err_t rsink_tls_flush(cdc_rsink_t *rs) {
        char why[256];
        int n, e;

        while (rs->rs_opos < rs->rs_olen) {
                ERR_clear_error();
                n = SSL_write(rs->rs_ssl, rs->rs_obuf + rs->rs_opos,
                              (int)(rs->rs_olen - rs->rs_opos > 1 << 30
                                            ? 1 << 30
                                            : rs->rs_olen - rs->rs_opos));
                if (n > 0) {
                        rs->rs_opos += (size_t)n;
                        continue;
                }
                e = SSL_get_error(rs->rs_ssl, n);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                        if (rsink_tls_wait(rs, e == SSL_ERROR_WANT_WRITE,
                                           "write") != 0)
                                goto fail;
                        continue;
                }
                rsink_set_err(rs, "connection lost",
                              rsink_ssl_why(why, sizeof(why), e));
                goto fail;
        }
        rs->rs_olen = rs->rs_opos = 0;
        return CDC_ERR_NO_ERROR;
fail:
        cdc_rsink_close(rs);
        return CDC_ERR__TRANSPORT;
}

static cdc_err_t rsink_tls_get_reply(cdc_rsink_t *rs, redisReply **replyp) {
        char buf[16384], why[256];
        void *r = NULL;
        int n, e;

        if (rsink_tls_flush(rs) != CDC_ERR_NO_ERROR)
                return CDC_ERR__TRANSPORT;
        for (;;) {
                if (redisReaderGetReply(rs->rs_reader, &r) != REDIS_OK) {
                        rsink_set_err(rs, "protocol error",
                                      rsink_reader_why(rs,
                                                       rs->rs_reader->errstr,
                                                       why, sizeof(why)));
                        goto fail;
                }
                if (r) {
                        *replyp = r;
                        return CDC_ERR_NO_ERROR;
                }
                ERR_clear_error();
                n = SSL_read(rs->rs_ssl, buf, sizeof(buf));
                if (n > 0) {
                        if (redisReaderFeed(rs->rs_reader, buf, (size_t)n) !=
                            REDIS_OK) {
                                rsink_set_err(rs, "protocol error",
                                              rs->rs_reader->errstr);
                                goto fail;
                        }
                        continue;
                }
                e = SSL_get_error(rs->rs_ssl, n);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                        if (rsink_tls_wait(rs, e == SSL_ERROR_WANT_WRITE,
                                           "read") != 0)
                                goto fail;
                        continue;
                }
                rsink_set_err(rs, "connection lost",
                              rsink_ssl_why(why, sizeof(why), e));
                goto fail;
        }
fail:
        cdc_rsink_close(rs);
        return CDC_ERR__TRANSPORT;
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
        if (rs->rs_ctx) {
                err = rsink_tls_connect(rs);
                if (err != CDC_ERR_NO_ERROR)
                        goto out;
                goto handshake;
        }
        tv.tv_sec  = rs->rs_timeout_ms / 1000;
        tv.tv_usec = (rs->rs_timeout_ms % 1000) * 1000;
        rs->rs_rc  = redisConnectWithTimeout(rs->rs_host, rs->rs_port, tv);
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
        cdc_rsink_reader_limit(rs->rs_rc->reader, &rs->rs_over);
handshake:
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
        if (rs->rs_ssl)
                return rsink_tls_append(rs, argc, argv, argvlen);
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

        if (rs->rs_ssl)
                return rsink_tls_flush(rs);
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
        char why[160];
        void *r = NULL;

        *replyp = NULL;
        if (rs->rs_ssl)
                return rsink_tls_get_reply(rs, replyp);
        if (!rs->rs_rc) {
                rsink_set_err(rs, "read", "not connected");
                return CDC_ERR__TRANSPORT;
        }
        if (redisGetReply(rs->rs_rc, &r) != REDIS_OK || !r) {
                rsink_set_err(rs, "connection lost",
                              rsink_reader_why(rs,
                                               rs->rs_rc->errstr[0]
                                                       ? rs->rs_rc->errstr
                                                       : "no reply",
                                               why, sizeof(why)));
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
