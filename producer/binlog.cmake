# cdc_binlog: the MySQL / MariaDB replication stream (libmariadb mariadb_rpl),
# row image decoding and binlog positions. It connects through cdc_mysql
# (common/), as the snapshot and the standby lock do.
find_package(ZLIB REQUIRED)
add_library(cdc_binlog STATIC
  ${CMAKE_CURRENT_LIST_DIR}/cdc_binlog.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_rowdec.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_pos.c)
target_include_directories(cdc_binlog PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(cdc_binlog PUBLIC cdc_mysql cdc_common PkgConfig::MARIADB
                      PkgConfig::JANSSON ZLIB::ZLIB)
