# Unit tests of the binlog decoder, one per codec (producer/binlog.cmake):
# event framing, TABLE_MAP, row images, column values, MySQL binary JSON,
# text-protocol values, DDL matching, the server-less stream, positions.
# binlog_capture.c loads the captured events of tests/data/binlog/.
set(CDC_CAPTURE ${CMAKE_CURRENT_LIST_DIR}/binlog_capture.c)
# zlib's crc32(): an independent CRC-32 for the events the tests build, so
# the decoder's own (libdeflate) is checked against another implementation
find_package(ZLIB REQUIRED)
cdc_add_unit_test(test_frame SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_frame.c
  ${CDC_CAPTURE} LIBS cdc_binlog ZLIB::ZLIB)
cdc_add_unit_test(test_tablemap
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_tablemap.c ${CDC_CAPTURE}
  LIBS cdc_binlog)
cdc_add_unit_test(test_rowdec SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_rowdec.c
  ${CDC_CAPTURE} LIBS cdc_binlog ZLIB::ZLIB)
cdc_add_unit_test(test_value SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_value.c
  LIBS cdc_binlog)
cdc_add_unit_test(test_mysqljson
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_mysqljson.c LIBS cdc_binlog)
cdc_add_unit_test(test_ddl SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ddl.c
  LIBS cdc_binlog)
cdc_add_unit_test(test_stream SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stream.c
  LIBS cdc_binlog ZLIB::ZLIB)
cdc_add_unit_test(test_pos SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_pos.c
  LIBS cdc_binlog)
# the snapshot's text values against the binary decoder, every zone
cdc_add_unit_test(test_textval
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_textval.c LIBS cdc_binlog)
