# A tombstone's headers (untrusted like any Kafka message): the
# followcdc.delete header -> cdc_tomb_parse (caps, event parser, op d)
# -> the mapper (cdc_apply_add). Input: a list of headers, each one byte
# choosing the name, two bytes of length (little endian), the value.
cdc_add_fuzzer(tombstone
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_tombstone.c
  LIBS cdc_consumer cdc_apply)
