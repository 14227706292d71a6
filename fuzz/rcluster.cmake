# Redis Cluster routing: replies from Redis nodes are untrusted input
# (CLUSTER SLOTS maps, MOVED/ASK error texts, seed lists from config).
cdc_add_fuzzer(rcluster SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_rcluster.c
               LIBS cdc_apply)
