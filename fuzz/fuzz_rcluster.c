/* Fuzz the parsers of cdc_rcluster with bytes as a Redis node could send
 * them: the input is read as RESP (hiredis' reader) and every complete
 * reply goes to the CLUSTER SLOTS parser; the raw bytes also go to the
 * error-reply classifier (MOVED/ASK addresses), the address and seed list
 * parsers and the key slot function. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

#include "cdc_rcluster.h"
#include "cdc_rcluster_int.h"
#include "cdc_rsink.h"

static cdc_rcluster_map_t map;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        cdc_rcluster_redir_t rd;
        redisReader *rr;
        char host[CDC_RCLUSTER_HOST_MAX + 1], es[256], *text;
        void *reply = NULL;
        int port, n = 0, slot;

        slot = cdc_rcluster_slot(data, size);
        if (slot < 0 || slot >= CDC_RCLUSTER_SLOTS)
                abort();
        if (cdc_rcluster_parse_error((const char *)data, size, &rd) == 0 &&
            (rd.code == CDC_RCLUSTER_E_MOVED ||
             rd.code == CDC_RCLUSTER_E_ASK) &&
            (rd.slot < 0 || rd.slot >= CDC_RCLUSTER_SLOTS || rd.port < 1 ||
             rd.port > 65535))
                abort();
        cdc_rcluster_parse_addr((const char *)data, size, host, &port);
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        cdc_rcluster_parse_nodes(text, es, sizeof(es));
        free(text);

        rr = redisReaderCreate();
        if (!rr)
                return 0;
        /* as every connection of cdc_rsink reads */
        cdc_rsink_reader_limit(rr, NULL);
        if (redisReaderFeed(rr, (const char *)data, size) == REDIS_OK) {
                while (n++ < 16 &&
                       redisReaderGetReply(rr, &reply) == REDIS_OK && reply) {
                        if (cdc_rcluster_map_parse(reply, "10.0.0.1", &map, es,
                                                   sizeof(es)) == 0 &&
                            map.rm_nmasters > CDC_RCLUSTER_MAX_NODES)
                                abort();
                        freeReplyObject(reply);
                        reply = NULL;
                }
        }
        redisReaderFree(rr);
        return 0;
}
