/**
 * @file cdc_ckpt.c
 * @brief Checkpoint stores: Kafka topic or local file (see cdc_ckpt.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "cdc_ckpt.h"
#include "cdc_backoff.h"
#include "cdc_log.h"

#define CKPT_RECORD_MAX (64 * 1024)

typedef enum {
        CKPT_FILE,
        CKPT_KAFKA
} ckpt_kind_t;

struct cdc_ckpt_s {
        ckpt_kind_t ck_kind;
        char *ck_source;
        char *ck_path;  /* file */
        char *ck_topic; /* kafka */
        cdc_kprod_t *ck_kp;
        rd_kafka_t *ck_rk; /* reader, created on load */
        rd_kafka_conf_t *ck_rkc;
        unsigned ck_tmp_seq; /* file: makes temp names unique */

        /* cdc_ckpt_update(): what the store holds, when it was tried */
        char ck_saved[CDC_POS_GTID_MAX + 512];
        int64_t ck_tried_us;
        unsigned ck_loaded_flags; /* of the record the last load returned */
};

/* ---- record ---- */

char *cdc_ckpt_encode(const char *source, const cdc_pos_t *pos, int64_t ts_ms,
                      unsigned flags, size_t *lenp) {
        char text[CDC_POS_GTID_MAX + 512];
        json_t *o = NULL;
        char *s   = NULL;

        if (cdc_pos_format(pos, text, sizeof(text)) < 0)
                return NULL;
        o = json_pack("{s:s, s:s, s:I}", "source", source, "position", text,
                      "ts_ms", (json_int_t)ts_ms);
        if (!o)
                return NULL;
        if ((flags & CDC_CKPT_SNAPSHOT_PENDING) &&
            json_object_set_new(o, "snapshot", json_string("pending"))) {
                json_decref(o);
                return NULL;
        }
        s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (s && lenp)
                *lenp = strlen(s);
        return s;
}

cdc_err_t cdc_ckpt_decode(const char *buf, size_t len, char *source,
                          size_t source_size, cdc_pos_t *pos, unsigned *flagsp,
                          char *errstr, size_t errstr_size) {
        json_error_t jerr;
        json_t *o       = NULL;
        const char *src = NULL, *text = NULL, *snap = NULL;
        json_int_t ts = 0;
        cdc_err_t err = CDC_ERR__BAD_EVENT;

        o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!o) {
                snprintf(errstr, errstr_size, "checkpoint record: %s",
                         jerr.text);
                goto out;
        }
        if (json_unpack_ex(o, &jerr, 0, "{s:s, s:s, s?:I, s?:s}", "source",
                           &src, "position", &text, "ts_ms", &ts, "snapshot",
                           &snap)) {
                snprintf(errstr, errstr_size, "checkpoint record: %s",
                         jerr.text);
                goto out;
        }
        if (snap && strcmp(snap, "pending")) {
                snprintf(errstr, errstr_size,
                         "checkpoint record: unknown snapshot state "
                         "\"%.64s\"",
                         snap);
                goto out;
        }
        memset(pos, 0, sizeof(*pos));
        if (cdc_pos_parse(text, strlen(text), pos) || cdc_pos_is_empty(pos)) {
                snprintf(errstr, errstr_size,
                         "checkpoint record: bad position \"%.200s\"", text);
                goto out;
        }
        if (source)
                snprintf(source, source_size, "%s", src);
        if (flagsp)
                *flagsp = snap ? CDC_CKPT_SNAPSHOT_PENDING : 0;
        err = CDC_ERR_NO_ERROR;
out:
        json_decref(o);
        return err;
}

/* ---- setup ---- */

cdc_ckpt_t *cdc_ckpt_new_file(const char *path, const char *source,
                              char *errstr, size_t errstr_size) {
        cdc_ckpt_t *ck = calloc(1, sizeof(*ck));
        if (!ck)
                goto fail;
        ck->ck_kind   = CKPT_FILE;
        ck->ck_path   = strdup(path);
        ck->ck_source = strdup(source);
        if (!ck->ck_path || !ck->ck_source)
                goto fail;
        return ck;
fail:
        snprintf(errstr, errstr_size, "out of memory");
        cdc_ckpt_destroy(ck);
        return NULL;
}

cdc_ckpt_t *cdc_ckpt_new_kafka(const cdc_conf_t *conf, cdc_kprod_t *kp,
                               const char *topic, const char *source,
                               char *errstr, size_t errstr_size) {
        cdc_ckpt_t *ck = calloc(1, sizeof(*ck));
        if (!ck) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        ck->ck_kind   = CKPT_KAFKA;
        ck->ck_kp     = kp;
        ck->ck_topic  = strdup(topic);
        ck->ck_source = strdup(source);
        ck->ck_rkc    = cdc_conf_kafka_dup(conf);
        if (!ck->ck_topic || !ck->ck_source || !ck->ck_rkc) {
                snprintf(errstr, errstr_size, "out of memory");
                cdc_ckpt_destroy(ck);
                return NULL;
        }
        return ck;
}

void cdc_ckpt_destroy(cdc_ckpt_t *ck) {
        if (!ck)
                return;
        if (ck->ck_rk)
                rd_kafka_destroy(ck->ck_rk);
        if (ck->ck_rkc)
                rd_kafka_conf_destroy(ck->ck_rkc);
        free(ck->ck_source);
        free(ck->ck_path);
        free(ck->ck_topic);
        free(ck);
}

/* ---- file store ---- */

static cdc_err_t ckpt_file_load(cdc_ckpt_t *ck, cdc_pos_t *pos,
                                unsigned *flagsp, char *errstr,
                                size_t errstr_size) {
        char buf[CKPT_RECORD_MAX];
        char src[256];
        size_t n;
        FILE *fp;
        cdc_err_t err;

        fp = fopen(ck->ck_path, "r");
        if (!fp) {
                if (errno == ENOENT)
                        return CDC_ERR__NOENT;
                snprintf(errstr, errstr_size, "%s: %s", ck->ck_path,
                         strerror(errno));
                return CDC_ERR__IO;
        }
        n = fread(buf, 1, sizeof(buf), fp);
        if (ferror(fp)) {
                snprintf(errstr, errstr_size, "%s: read error", ck->ck_path);
                fclose(fp);
                return CDC_ERR__IO;
        }
        fclose(fp);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
                n--;
        if (n == 0)
                return CDC_ERR__NOENT;
        err = cdc_ckpt_decode(buf, n, src, sizeof(src), pos, flagsp, errstr,
                              errstr_size);
        if (err)
                return err;
        if (strcmp(src, ck->ck_source))
                cdc_log(LOG_WARNING, "CKPT",
                        "%s was written by source \"%s\", not \"%s\": "
                        "using it anyway",
                        ck->ck_path, src, ck->ck_source);
        return CDC_ERR_NO_ERROR;
}

/* Write all of \p buf to \p fd. @returns 0 or -1 (errno set). */
static int ckpt_write_all(int fd, const char *buf, size_t len) {
        while (len > 0) {
                ssize_t w = write(fd, buf, len);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                buf += w;
                len -= (size_t)w;
        }
        return 0;
}

/* Create a new temp file next to the checkpoint. Its name is unique
 * (pid, counter, clock) and it is created with O_EXCL | O_NOFOLLOW, so
 * nothing planted at a predictable name - a symlink to another file, a
 * file of another process - is ever followed, truncated or renamed over
 * the checkpoint. @returns the fd, or -1 with the reason in errstr. */
static int ckpt_tmp_open(cdc_ckpt_t *ck, char *tmp, size_t tmp_size,
                         char *errstr, size_t errstr_size) {
        int tries;

        for (tries = 0; tries < 8; tries++) {
                int fd;
                if ((size_t)snprintf(
                            tmp, tmp_size, "%s.tmp.%ld.%u.%lld", ck->ck_path,
                            (long)getpid(), ck->ck_tmp_seq++,
                            (long long)(cdc_now_us() % 1000000)) >= tmp_size) {
                        snprintf(errstr, errstr_size, "%s: path too long",
                                 ck->ck_path);
                        return -1;
                }
                fd = open(tmp,
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          0644);
                if (fd >= 0)
                        return fd;
                if (errno != EEXIST) {
                        snprintf(errstr, errstr_size, "%s: %s", tmp,
                                 strerror(errno));
                        return -1;
                }
        }
        snprintf(errstr, errstr_size, "%s: no free temp name", ck->ck_path);
        return -1;
}

/* Temp file, write, fsync, rename over the checkpoint, fsync the
 * directory: a crash leaves the old record or the new one, never half. */
static cdc_err_t ckpt_file_save(cdc_ckpt_t *ck, const char *rec, size_t len,
                                char *errstr, size_t errstr_size) {
        char tmp[4096], dir[4096];
        int fd = -1, dfd = -1, have_tmp = 0;
        cdc_err_t err = CDC_ERR__IO;

        fd = ckpt_tmp_open(ck, tmp, sizeof(tmp), errstr, errstr_size);
        if (fd < 0)
                goto out;
        have_tmp = 1;
        if (ckpt_write_all(fd, rec, len) || ckpt_write_all(fd, "\n", 1)) {
                snprintf(errstr, errstr_size, "%s: %s", tmp, strerror(errno));
                goto out;
        }
        if (fsync(fd)) {
                snprintf(errstr, errstr_size, "%s: fsync: %s", tmp,
                         strerror(errno));
                goto out;
        }
        if (close(fd)) {
                fd = -1;
                snprintf(errstr, errstr_size, "%s: close: %s", tmp,
                         strerror(errno));
                goto out;
        }
        fd = -1;
        if (rename(tmp, ck->ck_path)) {
                snprintf(errstr, errstr_size, "rename %s: %s", tmp,
                         strerror(errno));
                goto out;
        }
        have_tmp = 0;
        /* make the rename itself durable */
        snprintf(dir, sizeof(dir), "%s", ck->ck_path);
        dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd)) {
                snprintf(errstr, errstr_size, "%s: directory fsync: %s",
                         ck->ck_path, strerror(errno));
                goto out;
        }
        err = CDC_ERR_NO_ERROR;
out:
        if (fd >= 0)
                close(fd);
        if (dfd >= 0)
                close(dfd);
        if (have_tmp)
                unlink(tmp);
        return err;
}

/* ---- Kafka store ---- */

static void ckpt_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                        const char *buf) {
        (void)rk;
        cdc_log(level, "RDKAFKA", "checkpoint reader: %s: %s", fac, buf);
}

static cdc_err_t ckpt_kafka_reader(cdc_ckpt_t *ck, char *errstr,
                                   size_t errstr_size) {
        static const char *const props[][2] = {
                { "enable.auto.commit", "false" },
                { "enable.partition.eof", "true" },
                { "auto.offset.reset", "earliest" },
                /* what a transactional producer committed, never what an
                 * aborted or still open transaction holds */
                { "isolation.level", "read_committed" },
                { "client.id", "followcdc-producer-ckpt" },
                { NULL, NULL }
        };
        rd_kafka_conf_t *rkc;
        int i;

        if (ck->ck_rk)
                return CDC_ERR_NO_ERROR;
        rkc = rd_kafka_conf_dup(ck->ck_rkc);
        if (!rkc) {
                snprintf(errstr, errstr_size, "out of memory");
                return CDC_ERR__NOMEM;
        }
        /* The user's kafka.* properties are the producer's: drop the
         * producer-only ones the consumer would warn about. */
        for (i = 0; props[i][0]; i++)
                if (rd_kafka_conf_set(rkc, props[i][0], props[i][1], errstr,
                                      errstr_size) != RD_KAFKA_CONF_OK) {
                        rd_kafka_conf_destroy(rkc);
                        return CDC_ERR__CONFIG;
                }
        rd_kafka_conf_set_log_cb(rkc, ckpt_log_cb);
        ck->ck_rk = rd_kafka_new(RD_KAFKA_CONSUMER, rkc, errstr, errstr_size);
        if (!ck->ck_rk) {
                rd_kafka_conf_destroy(rkc);
                return CDC_ERR__CONFIG;
        }
        return CDC_ERR_NO_ERROR;
}

/* Read [start, end) of partition 0; keep the newest record of ours.
 * The legacy per-partition consumer needs no group (and no coordinator). */
static cdc_err_t ckpt_kafka_scan(cdc_ckpt_t *ck, int64_t start, int64_t end,
                                 int64_t deadline_us, cdc_pos_t *pos,
                                 unsigned *flagsp, int *foundp, char *errstr,
                                 size_t errstr_size) {
        rd_kafka_topic_t *rkt;
        size_t klen   = strlen(ck->ck_source);
        cdc_err_t err = CDC_ERR__TIMED_OUT;

        rkt = rd_kafka_topic_new(ck->ck_rk, ck->ck_topic, NULL);
        if (!rkt)
                return CDC_ERR__NOMEM;
        if (rd_kafka_consume_start(rkt, 0, start) == -1) {
                snprintf(errstr, errstr_size, "%s: consume_start: %s",
                         ck->ck_topic, rd_kafka_err2str(rd_kafka_last_error()));
                rd_kafka_topic_destroy(rkt);
                return CDC_ERR__TRANSPORT;
        }
        while (cdc_now_us() < deadline_us) {
                rd_kafka_message_t *rkm;
                rkm = rd_kafka_consume(rkt, 0, 200);
                if (!rkm)
                        continue;
                if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        if (rkm->offset >= end) {
                                rd_kafka_message_destroy(rkm);
                                err = CDC_ERR_NO_ERROR;
                                break;
                        }
                } else if (rkm->err) {
                        cdc_dbg(CKPT, "CKPT", "%s: %s", ck->ck_topic,
                                rd_kafka_message_errstr(rkm));
                } else if (rkm->offset < end) {
                        char why[256];
                        cdc_pos_t p;
                        unsigned fl = 0;
                        if (rkm->key && rkm->key_len == klen &&
                            !memcmp(rkm->key, ck->ck_source, klen) &&
                            rkm->payload) {
                                if (cdc_ckpt_decode(rkm->payload, rkm->len,
                                                    NULL, 0, &p, &fl, why,
                                                    sizeof(why)) == 0) {
                                        *pos    = p;
                                        *flagsp = fl;
                                        *foundp = 1;
                                } else {
                                        cdc_log(LOG_WARNING, "CKPT",
                                                "%s [0] offset %lld: %s",
                                                ck->ck_topic,
                                                (long long)rkm->offset, why);
                                }
                        }
                        if (rkm->offset >= end - 1) {
                                rd_kafka_message_destroy(rkm);
                                err = CDC_ERR_NO_ERROR;
                                break;
                        }
                } else {
                        /* at or past end: everything before was read */
                        rd_kafka_message_destroy(rkm);
                        err = CDC_ERR_NO_ERROR;
                        break;
                }
                rd_kafka_message_destroy(rkm);
        }
        rd_kafka_consume_stop(rkt, 0);
        rd_kafka_topic_destroy(rkt);
        if (err)
                snprintf(errstr, errstr_size,
                         "%s: timed out reading checkpoints", ck->ck_topic);
        return err;
}

static cdc_err_t ckpt_kafka_load(cdc_ckpt_t *ck, cdc_pos_t *pos,
                                 unsigned *flagsp, int timeout_ms, char *errstr,
                                 size_t errstr_size) {
        int64_t deadline = cdc_now_us() + (int64_t)timeout_ms * 1000;
        int64_t lo = 0, hi = 0, end, start, window = 256;
        int unknown = 0, found = 0;
        rd_kafka_resp_err_t rerr;
        cdc_err_t err;

        err = ckpt_kafka_reader(ck, errstr, errstr_size);
        if (err)
                return err;
        while (1) {
                int left = (int)((deadline - cdc_now_us()) / 1000);
                if (left <= 0) {
                        snprintf(errstr, errstr_size,
                                 "%s: can't read watermarks: %s", ck->ck_topic,
                                 unknown ? "unknown topic"
                                         : "Kafka unreachable");
                        return CDC_ERR__TIMED_OUT;
                }
                rerr = rd_kafka_query_watermark_offsets(
                        ck->ck_rk, ck->ck_topic, 0, &lo, &hi,
                        left > 5000 ? 5000 : left);
                if (!rerr)
                        break;
                if (rerr == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                    rerr == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
                    rerr == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
                        /* The broker answered: no such topic (yet). A
                         * metadata request makes auto-creating brokers
                         * create it; if it stays unknown there is no
                         * checkpoint. */
                        const struct rd_kafka_metadata *md = NULL;
                        rd_kafka_topic_t *rkt              = rd_kafka_topic_new(
                                             ck->ck_rk, ck->ck_topic, NULL);
                        if (rkt) {
                                if (rd_kafka_metadata(ck->ck_rk, 0, rkt, &md,
                                                      2000) == 0)
                                        rd_kafka_metadata_destroy(md);
                                rd_kafka_topic_destroy(rkt);
                        }
                        if (++unknown >= 5) {
                                cdc_log(LOG_WARNING, "CKPT",
                                        "checkpoint topic %s does not "
                                        "exist: no checkpoint",
                                        ck->ck_topic);
                                return CDC_ERR__NOENT;
                        }
                        usleep(200 * 1000);
                        continue;
                }
                cdc_dbg(CKPT, "CKPT", "%s: watermarks: %s", ck->ck_topic,
                        rd_kafka_err2str(rerr));
                usleep(200 * 1000);
        }
        cdc_dbg(CKPT, "CKPT", "%s [0]: offsets %lld..%lld", ck->ck_topic,
                (long long)lo, (long long)hi);
        end = hi;
        while (end > lo) {
                start = end - window > lo ? end - window : lo;
                err   = ckpt_kafka_scan(ck, start, end, deadline, pos, flagsp,
                                        &found, errstr, errstr_size);
                if (err)
                        return err;
                if (found)
                        return CDC_ERR_NO_ERROR;
                end = start;
                window *= 4;
        }
        return CDC_ERR__NOENT;
}

/* ---- API ---- */

cdc_err_t cdc_ckpt_load(cdc_ckpt_t *ck, cdc_pos_t *pos, int timeout_ms,
                        char *errstr, size_t errstr_size) {
        unsigned flags = 0;
        cdc_err_t err;
        errstr[0]           = '\0';
        ck->ck_loaded_flags = 0;
        if (ck->ck_kind == CKPT_FILE) {
                err = ckpt_file_load(ck, pos, &flags, errstr, errstr_size);
        } else {
                err = ckpt_kafka_load(ck, pos, &flags, timeout_ms, errstr,
                                      errstr_size);
                /* the reader is only needed at start: don't keep its
                 * connections */
                if (ck->ck_rk) {
                        rd_kafka_destroy(ck->ck_rk);
                        ck->ck_rk = NULL;
                }
        }
        /* what the store holds now: cdc_ckpt_update() skips it */
        ck->ck_saved[0] = '\0';
        if (err != CDC_ERR_NO_ERROR)
                return err;
        ck->ck_loaded_flags = flags;
        /* a pending mark is not what the store should keep holding: the
         * next update of the same position writes an ordinary record */
        if (!(flags & CDC_CKPT_SNAPSHOT_PENDING) &&
            cdc_pos_format(pos, ck->ck_saved, sizeof(ck->ck_saved)) < 0)
                ck->ck_saved[0] = '\0';
        return err;
}

unsigned cdc_ckpt_loaded_flags(const cdc_ckpt_t *ck) {
        return ck->ck_loaded_flags;
}

static cdc_err_t ckpt_save(cdc_ckpt_t *ck, const cdc_pos_t *pos, unsigned flags,
                           char *errstr, size_t errstr_size) {
        size_t len = 0;
        char *rec;
        cdc_err_t err;

        rec = cdc_ckpt_encode(ck->ck_source, pos, cdc_wallclock_ms(), flags,
                              &len);
        if (!rec) {
                snprintf(errstr, errstr_size,
                         "can't encode the checkpoint record");
                return CDC_ERR__NOMEM;
        }
        if (ck->ck_kind == CKPT_FILE) {
                err = ckpt_file_save(ck, rec, len, errstr, errstr_size);
                free(rec);
                return err;
        }
        /* rec is owned by the producer from here, success or not */
        err = cdc_kprod_produce(ck->ck_kp, ck->ck_topic, 0, ck->ck_source,
                                strlen(ck->ck_source), rec, len,
                                CDC_KPROD_SEQ_NONE);
        if (err)
                snprintf(errstr, errstr_size, "%s",
                         cdc_kprod_errstr(ck->ck_kp));
        return err;
}

cdc_err_t cdc_ckpt_save(cdc_ckpt_t *ck, const cdc_pos_t *pos, char *errstr,
                        size_t errstr_size) {
        return ckpt_save(ck, pos, 0, errstr, errstr_size);
}

cdc_err_t cdc_ckpt_save_pending(cdc_ckpt_t *ck, const cdc_pos_t *pos,
                                int timeout_ms, char *errstr,
                                size_t errstr_size) {
        cdc_err_t err;

        errstr[0]       = '\0';
        ck->ck_saved[0] = '\0'; /* an ordinary record must follow */
        err             = ckpt_save(ck, pos, CDC_CKPT_SNAPSHOT_PENDING, errstr,
                                    errstr_size);
        if (err || ck->ck_kind == CKPT_FILE)
                return err;
        /* Kafka: stored once acknowledged, before any row is produced */
        if (cdc_kprod_flush(ck->ck_kp, timeout_ms)) {
                snprintf(errstr, errstr_size,
                         "%s: the snapshot's start was not acknowledged "
                         "within %d ms",
                         ck->ck_topic, timeout_ms);
                return CDC_ERR__TIMED_OUT;
        }
        if (cdc_kprod_fatal(ck->ck_kp)) {
                snprintf(errstr, errstr_size, "%s",
                         cdc_kprod_errstr(ck->ck_kp));
                return CDC_ERR__FATAL;
        }
        return CDC_ERR_NO_ERROR;
}

cdc_err_t cdc_ckpt_update(cdc_ckpt_t *ck, const cdc_pos_t *pos, int64_t now_us,
                          int64_t interval_us, int force, int *wrotep,
                          char *errstr, size_t errstr_size) {
        char text[sizeof(ck->ck_saved)];
        cdc_err_t err;

        errstr[0] = '\0';
        *wrotep   = 0;
        if (cdc_pos_format(pos, text, sizeof(text)) < 0) {
                snprintf(errstr, errstr_size, "position does not fit");
                return CDC_ERR__FATAL;
        }
        if (!strcmp(text, ck->ck_saved))
                return CDC_ERR_NO_ERROR; /* stored already */
        if (!force && ck->ck_tried_us && now_us - ck->ck_tried_us < interval_us)
                return CDC_ERR__QUEUE_FULL; /* not yet */
        ck->ck_tried_us = now_us;
        err             = cdc_ckpt_save(ck, pos, errstr, errstr_size);
        if (err)
                return err; /* not marked saved: tried again next time */
        memcpy(ck->ck_saved, text, strlen(text) + 1);
        *wrotep = 1;
        return CDC_ERR_NO_ERROR;
}

const char *cdc_ckpt_saved(const cdc_ckpt_t *ck) {
        return ck->ck_saved;
}
