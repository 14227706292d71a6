# Configuration engine (common/cdc_conf*) with both binaries' tables:
# file text, environment and flags; the dump must read back.
cdc_add_fuzzer(conf SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_conf.c
               LIBS cdc_producer_core cdc_consumer)
