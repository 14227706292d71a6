# cdc_binlog: the MySQL / MariaDB binlog as the producer reads it, in the
# order a row travels:
#   cdc_binlog     the replica connection (libmariadb mariadb_rpl)
#   cdc_srcmeta    the source metadata connection (current position,
#                  information_schema); cdc_srccheck: the server checks
#   cdc_stream     raw events -> items (transactions, positions, DDL)
#   cdc_frame      event header, CRC32 (libdeflate), FORMAT_DESCRIPTION
#   cdc_tablemap   TABLE_MAP events
#   cdc_rowdec     rows events: row images decoded column by column
#   cdc_value      the JSON of one column value (shared with the snapshot)
#   cdc_mysqljson  MySQL 8 binary JSON
#   cdc_textval    text-protocol values of a snapshot's SELECT
#   cdc_ddl        DDL statements on the watched tables
#   cdc_pos        positions and GTID sets
# It connects through cdc_mysql (common/), as the snapshot and the standby
# lock do.
# libdeflate's CRC-32 uses PCLMULQDQ: zlib 1.2.13's table-driven crc32()
# was the decoding thread's single largest cost (9.5 % of its cycles)
pkg_check_modules(LIBDEFLATE REQUIRED IMPORTED_TARGET libdeflate)
add_library(cdc_binlog STATIC
  ${CMAKE_CURRENT_LIST_DIR}/cdc_binlog.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_srcmeta.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_srccheck.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_stream.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_frame.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_tablemap.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_rowdec.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_value.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_mysqljson.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_textval.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_ddl.c
  ${CMAKE_CURRENT_LIST_DIR}/cdc_pos.c)
target_include_directories(cdc_binlog PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(cdc_binlog PUBLIC cdc_mysql cdc_common PkgConfig::MARIADB
                      PkgConfig::JANSSON PkgConfig::LIBDEFLATE)
