/**
 * @file cdc_rcluster_int.h
 * @brief Internal definitions of cdc_rcluster. Exposed for regress tests
 *        only (tests/unit/test_rcluster.c parses CLUSTER SLOTS replies
 *        without a server).
 */
#ifndef CDC_RCLUSTER_INT_H
#define CDC_RCLUSTER_INT_H

#include "cdc_rcluster.h"

/** A slot -> master map parsed from one CLUSTER SLOTS reply. */
typedef struct cdc_rcluster_map_s {
        int rm_nmasters;
        char rm_host[CDC_RCLUSTER_MAX_NODES][CDC_RCLUSTER_HOST_MAX + 1];
        int rm_port[CDC_RCLUSTER_MAX_NODES];
        /** index into rm_host/rm_port, or CDC_RCLUSTER_NO_NODE */
        uint16_t rm_owner[CDC_RCLUSTER_SLOTS];
} cdc_rcluster_map_t;

#define CDC_RCLUSTER_NO_NODE 0xffff

/**
 * @brief Parse a CLUSTER SLOTS reply (untrusted: every element is
 *        checked). A master announced with an empty host is \p self_host
 *        (the node that answered); one announced as "?" (no endpoint) is
 *        skipped, its slots stay without owner.
 * @returns 0, or -1 with the reason in errstr.
 */
int cdc_rcluster_map_parse(const redisReply *r, const char *self_host,
                           cdc_rcluster_map_t *map, char *errstr,
                           size_t errstr_size);

#endif
