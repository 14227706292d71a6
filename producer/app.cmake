# followcdc-producer: Kafka producer, checkpoints, snapshot, event shaping
# (cdc_emit), the engine (cdc_pengine: the run loop's states) and main.c,
# which only wires them. The binlog stream (cdc_binlog) comes from
# binlog.cmake, the MySQL connect and lock library (cdc_mysql) from common/.
add_library(cdc_producer_core STATIC
  ${CMAKE_CURRENT_LIST_DIR}/cdc_pconf.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_kprod.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_inflight.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_ckpt.c)
target_include_directories(cdc_producer_core PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(cdc_producer_core PUBLIC cdc_mysql cdc_common
                      PkgConfig::RDKAFKA PkgConfig::MARIADB PkgConfig::JANSSON
                      Threads::Threads)

# the checkpoint record holds a binlog position (cdc_pos)
target_link_libraries(cdc_producer_core PUBLIC cdc_binlog)

# the snapshot shares the decoder's value mapping (cdc_textval)
add_library(cdc_snapshot STATIC ${CMAKE_CURRENT_LIST_DIR}/cdc_snapshot.c)
target_link_libraries(cdc_snapshot PUBLIC cdc_binlog cdc_common
                      PkgConfig::MARIADB PkgConfig::JANSSON)

# the engine and the event shaping, linked by the binary and unit tests
add_library(cdc_producer_engine STATIC
  ${CMAKE_CURRENT_LIST_DIR}/cdc_emit.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_pbench.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_pengine.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_pengine_rows.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_pengine_setup.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_topics.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_repair.c)
target_link_libraries(cdc_producer_engine PUBLIC cdc_snapshot
                      cdc_producer_core cdc_binlog cdc_mysql cdc_common)

add_executable(followcdc-producer ${CMAKE_CURRENT_LIST_DIR}/main.c)
target_link_libraries(followcdc-producer PRIVATE cdc_producer_engine
                      cdc_snapshot cdc_producer_core cdc_binlog cdc_mysql
                      cdc_common PkgConfig::RDKAFKA PkgConfig::MARIADB
                      PkgConfig::JANSSON Threads::Threads)
