# followcdc-consumer: Kafka group member applying change events to Redis
# (through cdc_apply), dead-lettering poison messages, reaping expired
# idempotency rows. The modules form a small library so unit tests and
# fuzz harnesses link them without main():
#   cdc_engine   owns the modules, runs the loop (a state switch);
#                cdc_engine_setup: its metrics, readiness and setup
#   cdc_batch    one record per message: gather/parse/add/settle/store/drop
#   cdc_precheck size and column caps before parsing
#   cdc_tomb     the delete a tombstone carries in its header
#   cdc_kcons    Kafka group consumer      cdc_dlq  dead-letter producer
#   cdc_cconf    configuration table       cdc_reaper  TTL reaper
#   cdc_redlq    --reprocess-dlq: re-apply dead letters once fixed

add_library(cdc_consumer STATIC
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_cconf.c
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_kcons.c
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_dlq.c
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_precheck.c
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_tomb.c
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_batch.c
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_engine.c
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_engine_setup.c
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_reaper.c
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_redlq.c)
target_include_directories(cdc_consumer PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
# libcrypto (PkgConfig::OPENSSL, found by apply.cmake): SHA-256 of
# dead-lettered values (cdc_dlq); cdc_cconf checks redis.cluster.nodes
# with cdc_rcluster's parser (cdc_apply); the reaper connects and locks
# through cdc_mysql
target_link_libraries(cdc_consumer PUBLIC cdc_mysql cdc_common cdc_apply
                      PkgConfig::RDKAFKA PkgConfig::MARIADB PkgConfig::JANSSON
                      PkgConfig::OPENSSL Threads::Threads)

add_executable(followcdc-consumer ${CMAKE_CURRENT_SOURCE_DIR}/main.c)
target_link_libraries(followcdc-consumer PRIVATE cdc_consumer)
