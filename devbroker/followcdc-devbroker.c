/*
 * followcdc-devbroker: an in-memory Kafka cluster for development and tests,
 * built on librdkafka's mock cluster, with a unix-socket control channel for
 * fault injection, and the client for that channel (`ctl`).
 *
 *   followcdc-devbroker [--brokers N] [--topic NAME[:PARTITIONS]]...
 *                       [--bootstrap-file PATH] [--control PATH]
 *   followcdc-devbroker ctl --control PATH COMMAND [ARGS...]
 *
 * See docs/devbroker.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cdc_log.h"
#include "cdc_mockctl.h"

#define DEVBROKER_MAX_TOPICS    64
#define DEVBROKER_MAX_CLIENTS   16
#define DEVBROKER_LINE_MAX      1024
#define DEVBROKER_CTL_TIMEOUT_S 30

static volatile sig_atomic_t run = 1;

static void devbroker_term(int sig) {
        (void)sig;
        run = 0;
}

struct devbroker_topic {
        const char *name; /* points into argv (modified in place) */
        int partitions;   /* -1: --partitions default */
};

struct devbroker_args {
        int brokers;
        int partitions;
        const char *bootstrap_file;
        const char *control;
        const char *rkdebug;
        int topic_cnt;
        struct devbroker_topic topics[DEVBROKER_MAX_TOPICS];
};

struct devbroker_client {
        int fd; /* -1: free slot */
        size_t len;
        char buf[DEVBROKER_LINE_MAX + 1];
};

static void devbroker_usage(FILE *fp, const char *prog) {
        fprintf(fp,
                "Usage: %s [options]\n"
                "       %s ctl --control PATH COMMAND [ARGS...]\n"
                "\n"
                "In-memory Kafka cluster (librdkafka %s mock cluster) for\n"
                "development and tests. Runs until SIGTERM/SIGINT.\n"
                "\n"
                "Options:\n"
                "  -b, --brokers N           number of brokers, ids 1..N "
                "(default 3)\n"
                "  -t, --topic NAME[:PARTS]  create a topic at start "
                "(repeatable)\n"
                "  -p, --partitions N        partitions for --topic without "
                ":PARTS (default 4,\n"
                "                            the mock's fixed count for "
                "auto-created topics)\n"
                "  -f, --bootstrap-file PATH write the bootstrap address "
                "there (atomically)\n"
                "  -c, --control PATH        serve the control channel on "
                "this unix socket\n"
                "  -d, --debug LIST          librdkafka debug contexts "
                "(e.g. mock,protocol)\n"
                "  -l, --log-level LEVEL     err|warning|notice|info|debug "
                "(default notice)\n"
                "      --port P              not supported: librdkafka 2.0.2 "
                "picks random ports\n"
                "  -h, --help                this text\n"
                "  -V, --version             print the version\n"
                "\n"
                "The address is printed on stdout as 'BOOTSTRAP <list>'.\n"
                "\n"
                "Control commands (reply 'OK[ text]' or 'ERR <reason>'):\n"
                "  ping | bootstrap\n"
                "  broker-down ID | broker-up ID | broker-rtt ID MS\n"
                "  request-errors APIKEY ERR[,ERR...]   e.g. Produce "
                "NOT_LEADER_FOR_PARTITION,6\n"
                "  clear-request-errors APIKEY\n"
                "  topic-create NAME PARTITIONS\n"
                "  partition-leader TOPIC PARTITION BROKER\n"
                "  coordinator group|transaction KEY BROKER\n"
                "ctl exits 0 on OK, 1 on ERR or when the broker is "
                "unreachable, 2 on usage errors.\n",
                prog, prog, rd_kafka_version_str());
}

/* ---- start-up ---- */

/* NAME[:PARTITIONS]; splits \p arg in place. */
static int devbroker_topic_parse(char *arg, struct devbroker_topic *t) {
        char *colon = strrchr(arg, ':');
        long v;

        t->name       = arg;
        t->partitions = -1;
        if (colon) {
                *colon = '\0';
                if (cdc_mockctl_int_parse(colon + 1, 1, 10000, &v) == -1)
                        return -1;
                t->partitions = (int)v;
        }
        return *arg ? 0 : -1;
}

/* Write \p text to \p path through a temporary file and rename(2), so a
 * reader sees either no file or the whole address. */
static int devbroker_write_file(const char *path, const char *text,
                                char *errstr, size_t errstr_size) {
        char tmp[4096];
        FILE *fp = NULL;
        int r    = -1;

        if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path,
                             (long)getpid()) >= sizeof(tmp)) {
                snprintf(errstr, errstr_size, "%s: path too long", path);
                goto out;
        }
        fp = fopen(tmp, "w");
        if (!fp) {
                snprintf(errstr, errstr_size, "%s (temporary file): %s", path,
                         strerror(errno));
                goto out;
        }
        if (fprintf(fp, "%s\n", text) < 0 || fflush(fp) != 0 ||
            fsync(fileno(fp)) != 0) {
                snprintf(errstr, errstr_size, "%s (temporary file): %s", path,
                         strerror(errno));
                goto out;
        }
        if (fclose(fp) != 0) {
                fp = NULL;
                snprintf(errstr, errstr_size, "%s (temporary file): %s", path,
                         strerror(errno));
                goto out;
        }
        fp = NULL;
        if (rename(tmp, path) != 0) {
                snprintf(errstr, errstr_size, "rename %s: %s", path,
                         strerror(errno));
                goto out;
        }
        r = 0;
out:
        if (fp)
                fclose(fp);
        if (r)
                unlink(tmp);
        return r;
}

static int devbroker_unix_addr(const char *path, struct sockaddr_un *sun,
                               char *errstr, size_t errstr_size) {
        memset(sun, 0, sizeof(*sun));
        sun->sun_family = AF_UNIX;
        if (strlen(path) >= sizeof(sun->sun_path)) {
                snprintf(errstr, errstr_size,
                         "%s: control socket path longer than %zu bytes", path,
                         sizeof(sun->sun_path) - 1);
                return -1;
        }
        memcpy(sun->sun_path, path, strlen(path) + 1);
        return 0;
}

static int devbroker_listen(const char *path, char *errstr,
                            size_t errstr_size) {
        struct sockaddr_un sun;
        struct stat st;
        int fd = -1;

        if (devbroker_unix_addr(path, &sun, errstr, errstr_size) == -1)
                goto fail;
        /* A socket left behind by a killed instance: replace it. Refuse to
         * remove anything that is not a socket. */
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode)) {
                        snprintf(errstr, errstr_size,
                                 "%s exists and is not a socket", path);
                        goto fail;
                }
                unlink(path);
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd == -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
            listen(fd, 8) == -1) {
                snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
                goto fail;
        }
        return fd;
fail:
        if (fd != -1)
                close(fd);
        return -1;
}

/* ---- control channel (server side) ---- */

static void devbroker_client_close(struct devbroker_client *cl) {
        close(cl->fd);
        cl->fd  = -1;
        cl->len = 0;
}

static int devbroker_send_all(int fd, const char *buf, size_t len) {
        while (len > 0) {
                ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

                if (n == -1 && errno == EINTR)
                        continue;
                if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                        struct pollfd pfd = { .fd = fd, .events = POLLOUT };

                        if (poll(&pfd, 1, 1000) <= 0)
                                return -1;
                        continue;
                }
                if (n <= 0)
                        return -1;
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Run every complete line in the client's buffer; returns -1 when the
 * client must be dropped. */
static int devbroker_client_lines(cdc_mockctl_t *mc,
                                  struct devbroker_client *cl) {
        char reply[DEVBROKER_LINE_MAX + 2];
        char *nl;

        while ((nl = memchr(cl->buf, '\n', cl->len))) {
                size_t linelen = (size_t)(nl - cl->buf);
                size_t rlen;

                *nl = '\0';
                if (linelen && cl->buf[linelen - 1] == '\r')
                        cl->buf[linelen - 1] = '\0';
                cdc_mockctl_exec(mc, cl->buf, reply, sizeof(reply) - 1);
                cdc_log(LOG_INFO, "CTL", "%s -> %s", cl->buf, reply);
                rlen          = strlen(reply);
                reply[rlen++] = '\n';
                if (devbroker_send_all(cl->fd, reply, rlen) == -1)
                        return -1;
                memmove(cl->buf, nl + 1, cl->len - linelen - 1);
                cl->len -= linelen + 1;
        }
        if (cl->len == DEVBROKER_LINE_MAX) {
                devbroker_send_all(cl->fd, "ERR line too long\n", 18);
                return -1;
        }
        return 0;
}

static void devbroker_client_read(cdc_mockctl_t *mc,
                                  struct devbroker_client *cl) {
        ssize_t n;

        n = recv(cl->fd, cl->buf + cl->len, DEVBROKER_LINE_MAX - cl->len, 0);
        if (n == -1 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n <= 0) {
                /* EOF: a last line without newline still counts. */
                if (n == 0 && cl->len > 0 && cl->len < DEVBROKER_LINE_MAX) {
                        cl->buf[cl->len++] = '\n';
                        devbroker_client_lines(mc, cl);
                }
                devbroker_client_close(cl);
                return;
        }
        cl->len += (size_t)n;
        if (devbroker_client_lines(mc, cl) == -1)
                devbroker_client_close(cl);
}

static void devbroker_accept(int lfd, struct devbroker_client *clients) {
        int fd, i;

        fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd == -1)
                return;
        for (i = 0; i < DEVBROKER_MAX_CLIENTS; i++) {
                if (clients[i].fd == -1) {
                        clients[i].fd  = fd;
                        clients[i].len = 0;
                        return;
                }
        }
        devbroker_send_all(fd, "ERR too many control clients\n", 29);
        close(fd);
}

/* Serve the control socket (if any) until a signal clears run. */
static void devbroker_serve(cdc_mockctl_t *mc, int lfd) {
        struct devbroker_client clients[DEVBROKER_MAX_CLIENTS];
        struct pollfd pfds[DEVBROKER_MAX_CLIENTS + 1];
        int map[DEVBROKER_MAX_CLIENTS + 1];
        int i;

        for (i = 0; i < DEVBROKER_MAX_CLIENTS; i++)
                clients[i].fd = -1;

        while (run) {
                int n = 0, r;

                if (lfd != -1) {
                        pfds[n].fd     = lfd;
                        pfds[n].events = POLLIN;
                        map[n++]       = -1;
                }
                for (i = 0; i < DEVBROKER_MAX_CLIENTS; i++) {
                        if (clients[i].fd == -1)
                                continue;
                        pfds[n].fd     = clients[i].fd;
                        pfds[n].events = POLLIN;
                        map[n++]       = i;
                }
                /* Signals interrupt poll(); the timeout is a safety net. */
                r = poll(pfds, (nfds_t)n, 1000);
                if (r <= 0)
                        continue;
                for (i = 0; i < n; i++) {
                        if (!pfds[i].revents)
                                continue;
                        if (map[i] == -1)
                                devbroker_accept(lfd, clients);
                        else
                                devbroker_client_read(mc, &clients[map[i]]);
                }
        }
        for (i = 0; i < DEVBROKER_MAX_CLIENTS; i++)
                if (clients[i].fd != -1)
                        devbroker_client_close(&clients[i]);
}

/* ---- ctl (client side) ---- */

static int devbroker_ctl(int argc, char **argv, const char *prog) {
        static const struct option opts[] = {
                { "control", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 }
        };
        struct sockaddr_un sun;
        struct timeval tv   = { .tv_sec = DEVBROKER_CTL_TIMEOUT_S };
        const char *control = getenv("FOLLOWCDC_DEVBROKER_CONTROL");
        char line[DEVBROKER_LINE_MAX + 1];
        char reply[DEVBROKER_LINE_MAX + 1];
        char errstr[256];
        size_t len = 0, rlen = 0;
        int fd = -1, c, i, ret = 1;

        optind = 1;
        /* '+': stop at the first command word, so "broker-rtt 1 -5" would
         * still reach the server as-is. */
        while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        control = optarg;
                        break;
                case 'h':
                        devbroker_usage(stdout, prog);
                        return 0;
                default:
                        return 2;
                }
        }
        if (!control || optind >= argc) {
                fprintf(stderr,
                        "%s ctl: --control PATH and a command are required\n",
                        prog);
                return 2;
        }
        for (i = optind; i < argc; i++) {
                size_t wl = strlen(argv[i]);

                if (len + wl + 2 > sizeof(line)) {
                        fprintf(stderr, "%s ctl: command too long\n", prog);
                        return 2;
                }
                if (len)
                        line[len++] = ' ';
                memcpy(line + len, argv[i], wl);
                len += wl;
        }
        line[len++] = '\n';

        if (devbroker_unix_addr(control, &sun, errstr, sizeof(errstr)) == -1) {
                fprintf(stderr, "%s ctl: %s\n", prog, errstr);
                return 2;
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd == -1 ||
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
            connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
                fprintf(stderr, "%s ctl: %s: %s\n", prog, control,
                        strerror(errno));
                goto out;
        }
        if (devbroker_send_all(fd, line, len) == -1) {
                fprintf(stderr, "%s ctl: send: %s\n", prog, strerror(errno));
                goto out;
        }
        shutdown(fd, SHUT_WR);
        while (rlen < sizeof(reply) - 1) {
                ssize_t n = recv(fd, reply + rlen, sizeof(reply) - 1 - rlen, 0);

                if (n == -1 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                rlen += (size_t)n;
                if (memchr(reply, '\n', rlen))
                        break;
        }
        reply[rlen]                 = '\0';
        reply[strcspn(reply, "\n")] = '\0';
        if (!rlen) {
                fprintf(stderr, "%s ctl: no reply from %s\n", prog, control);
                goto out;
        }
        printf("%s\n", reply);
        ret = (!strncmp(reply, "OK", 2) && (!reply[2] || reply[2] == ' ')) ? 0
                                                                           : 1;
out:
        if (fd != -1)
                close(fd);
        return ret;
}

/* ---- main ---- */

static int devbroker_args_parse(int argc, char **argv,
                                struct devbroker_args *a) {
        static const struct option opts[] = {
                { "brokers", required_argument, NULL, 'b' },
                { "topic", required_argument, NULL, 't' },
                { "partitions", required_argument, NULL, 'p' },
                { "bootstrap-file", required_argument, NULL, 'f' },
                { "control", required_argument, NULL, 'c' },
                { "debug", required_argument, NULL, 'd' },
                { "log-level", required_argument, NULL, 'l' },
                { "port", required_argument, NULL, 'P' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { NULL, 0, NULL, 0 }
        };
        const char *prog = argv[0];
        long v;
        int c, level;

        memset(a, 0, sizeof(*a));
        a->brokers    = 3;
        a->partitions = 4;
        while ((c = getopt_long(argc, argv, "b:t:p:f:c:d:l:hV", opts, NULL)) !=
               -1) {
                switch (c) {
                case 'b':
                        if (cdc_mockctl_int_parse(optarg, 1, 64, &v) == -1) {
                                fprintf(stderr,
                                        "%s: --brokers: '%s' is not 1..64\n",
                                        prog, optarg);
                                return 2;
                        }
                        a->brokers = (int)v;
                        break;
                case 't':
                        if (a->topic_cnt == DEVBROKER_MAX_TOPICS) {
                                fprintf(stderr, "%s: more than %d --topic\n",
                                        prog, DEVBROKER_MAX_TOPICS);
                                return 2;
                        }
                        if (devbroker_topic_parse(
                                    optarg, &a->topics[a->topic_cnt]) == -1) {
                                fprintf(stderr,
                                        "%s: --topic: expected "
                                        "NAME[:PARTITIONS], partitions "
                                        "1..10000\n",
                                        prog);
                                return 2;
                        }
                        a->topic_cnt++;
                        break;
                case 'p':
                        if (cdc_mockctl_int_parse(optarg, 1, 10000, &v) == -1) {
                                fprintf(stderr,
                                        "%s: --partitions: '%s' is not "
                                        "1..10000\n",
                                        prog, optarg);
                                return 2;
                        }
                        a->partitions = (int)v;
                        break;
                case 'f':
                        a->bootstrap_file = optarg;
                        break;
                case 'c':
                        a->control = optarg;
                        break;
                case 'd':
                        a->rkdebug = optarg;
                        break;
                case 'l':
                        level = cdc_log_level_parse(optarg);
                        if (level == -1) {
                                fprintf(stderr,
                                        "%s: --log-level: unknown level "
                                        "'%s'\n",
                                        prog, optarg);
                                return 2;
                        }
                        cdc_log_set_level(level);
                        break;
                case 'P':
                        fprintf(stderr,
                                "%s: --port is not supported: the librdkafka "
                                "%s mock cluster binds random ports; read "
                                "the address from --bootstrap-file or the "
                                "BOOTSTRAP line\n",
                                prog, rd_kafka_version_str());
                        return 2;
                case 'h':
                        devbroker_usage(stdout, prog);
                        return 0;
                case 'V':
                        printf("followcdc-devbroker %s (librdkafka %s)\n",
                               CDC_VERSION, rd_kafka_version_str());
                        return 0;
                default:
                        fprintf(stderr, "Try '%s --help'.\n", prog);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "%s: unexpected argument '%s'\n", prog,
                        argv[optind]);
                return 2;
        }
        return -1;
}

int main(int argc, char **argv) {
        struct devbroker_args a;
        struct sigaction sa;
        cdc_mockctl_t *mc = NULL;
        char errstr[512];
        int lfd = -1, ret = 1, i, r;

        if (argc > 1 && !strcmp(argv[1], "ctl"))
                return devbroker_ctl(argc - 1, argv + 1, argv[0]);

        r = devbroker_args_parse(argc, argv, &a);
        if (r != -1)
                return r;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = devbroker_term;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);

        mc = cdc_mockctl_new(a.brokers, a.rkdebug, errstr, sizeof(errstr));
        if (!mc) {
                cdc_log(LOG_ERR, "DEVBROKER", "%s", errstr);
                goto out;
        }
        for (i = 0; i < a.topic_cnt; i++) {
                int parts = a.topics[i].partitions == -1
                                    ? a.partitions
                                    : a.topics[i].partitions;

                if (cdc_mockctl_topic_create(mc, a.topics[i].name, parts,
                                             errstr, sizeof(errstr))) {
                        cdc_log(LOG_ERR, "DEVBROKER", "%s", errstr);
                        goto out;
                }
                cdc_log(LOG_NOTICE, "DEVBROKER",
                        "topic %s created with %d partition(s)",
                        a.topics[i].name, parts);
        }
        if (a.control) {
                lfd = devbroker_listen(a.control, errstr, sizeof(errstr));
                if (lfd == -1) {
                        cdc_log(LOG_ERR, "DEVBROKER", "control: %s", errstr);
                        goto out;
                }
        }
        /* The address is published last: once a reader sees it, the topics
         * and the control socket are ready too. */
        if (a.bootstrap_file &&
            devbroker_write_file(a.bootstrap_file, cdc_mockctl_bootstraps(mc),
                                 errstr, sizeof(errstr)) == -1) {
                cdc_log(LOG_ERR, "DEVBROKER", "bootstrap file: %s", errstr);
                goto out;
        }
        printf("BOOTSTRAP %s\n", cdc_mockctl_bootstraps(mc));
        fflush(stdout);
        cdc_log(LOG_NOTICE, "DEVBROKER",
                "%d broker(s) at %s (librdkafka %s)%s%s", a.brokers,
                cdc_mockctl_bootstraps(mc), rd_kafka_version_str(),
                a.control ? ", control " : "", a.control ? a.control : "");

        devbroker_serve(mc, lfd);
        cdc_log(LOG_NOTICE, "DEVBROKER", "shutting down");
        /* A stale address would send the next reader to dead ports. */
        if (a.bootstrap_file)
                unlink(a.bootstrap_file);
        ret = 0;
out:
        if (lfd != -1) {
                close(lfd);
                unlink(a.control);
        }
        cdc_mockctl_destroy(mc);
        return ret;
}
