# The binlog decoder's harnesses (fuzz_<name>.c, seeds in corpus/<name>/,
# made from tests/data/binlog/ by fuzz/decoder-corpus.py):
#   rowdec     a TABLE_MAP and a rows event -> row images
#   stream     whole event streams -> items and resume positions
#   mysqljson  MySQL 8 binary JSON -> text
cdc_add_fuzzer(rowdec SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_rowdec.c
               LIBS cdc_binlog)
cdc_add_fuzzer(stream SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_stream.c
               LIBS cdc_binlog)
cdc_add_fuzzer(mysqljson SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_mysqljson.c
               LIBS cdc_binlog)
