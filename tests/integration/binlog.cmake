# binlog_stream: drives cdc_binlog against a real server for the
# 0010-binlog-*.sh scripts; also captures test data and benches decoding.
add_executable(binlog_stream ${CMAKE_CURRENT_LIST_DIR}/binlog_stream.c)
target_link_libraries(binlog_stream PRIVATE cdc_binlog cdc_common)
