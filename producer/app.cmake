# followcdc-producer: Kafka producer, checkpoints, snapshot, standby lock
# and the main loop. The binlog stream (cdc_binlog) comes from binlog.cmake.
add_library(cdc_producer_core STATIC
  ${CMAKE_CURRENT_LIST_DIR}/cdc_pconf.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_kprod.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_inflight.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_ckpt.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_lock.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_penc.c)
target_include_directories(cdc_producer_core PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(cdc_producer_core PUBLIC cdc_common PkgConfig::RDKAFKA
                      PkgConfig::MARIADB PkgConfig::JANSSON Threads::Threads)

# the standby lock connects with cdc_mysql (in cdc_binlog)
target_link_libraries(cdc_producer_core PUBLIC cdc_binlog)

# the snapshot shares the decoder's value mapping (cdc_textval)
add_library(cdc_snapshot STATIC ${CMAKE_CURRENT_LIST_DIR}/cdc_snapshot.c)
target_link_libraries(cdc_snapshot PUBLIC cdc_binlog cdc_common
                      PkgConfig::MARIADB PkgConfig::JANSSON)

add_executable(followcdc-producer ${CMAKE_CURRENT_LIST_DIR}/main.c)
target_link_libraries(followcdc-producer PRIVATE cdc_snapshot
                      cdc_producer_core cdc_binlog cdc_common
                      PkgConfig::RDKAFKA PkgConfig::MARIADB
                      PkgConfig::JANSSON Threads::Threads)
