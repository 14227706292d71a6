# followcdc-consumer: Kafka group member applying change events to Redis
# (through cdc_apply), dead-lettering poison messages, reaping expired
# idempotency rows. The modules form a small library so unit tests link
# them without main().

add_library(cdc_consumer STATIC
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_cconf.c
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_kcons.c
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_dlq.c
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_precheck.c
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_reaper.c)
target_include_directories(cdc_consumer PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(cdc_consumer PUBLIC cdc_common PkgConfig::RDKAFKA
                      PkgConfig::MARIADB PkgConfig::JANSSON Threads::Threads)
# cdc_cconf checks redis.cluster.nodes with cdc_rcluster's parser
target_link_libraries(cdc_consumer PUBLIC cdc_apply)

add_executable(followcdc-consumer ${CMAKE_CURRENT_SOURCE_DIR}/main.c)
target_link_libraries(followcdc-consumer PRIVATE cdc_consumer cdc_apply
                      cdc_common PkgConfig::RDKAFKA PkgConfig::MARIADB
                      PkgConfig::JANSSON PkgConfig::HIREDIS
                      Threads::Threads)
