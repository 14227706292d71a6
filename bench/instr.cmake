# Instruction-count drivers (bench/instr.sh runs them under callgrind): a
# fixed, server-free input through the producer's decode + encode path and
# through the consumer's parse + map path, the real modules linked as the
# binaries link them.
add_executable(instr_producer ${CMAKE_CURRENT_LIST_DIR}/instr_producer.c)
target_link_libraries(instr_producer PRIVATE cdc_producer_engine cdc_snapshot
                      cdc_producer_core cdc_binlog cdc_mysql cdc_common)
target_compile_definitions(instr_producer PRIVATE
                           CDC_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_executable(instr_consumer ${CMAKE_CURRENT_LIST_DIR}/instr_consumer.c)
target_link_libraries(instr_consumer PRIVATE cdc_consumer)
# valgrind's callgrind.h (package valgrind): the drivers switch callgrind's
# instrumentation on around the measured loop only
include(CheckIncludeFile)
check_include_file(valgrind/callgrind.h CDC_HAVE_CALLGRIND_H)
if(CDC_HAVE_CALLGRIND_H)
  target_compile_definitions(instr_producer PRIVATE CDC_HAVE_CALLGRIND_H)
  target_compile_definitions(instr_consumer PRIVATE CDC_HAVE_CALLGRIND_H)
endif()
