# Consumer harnesses: what followcdc-consumer does with an untrusted Kafka
# message value before anything reaches Redis.
#   event_apply  size/column caps (cdc_precheck) -> event parser
#                (cdc_event_parse) -> mapper (cdc_apply_add), plus the
#                encode/parse round trip of every accepted event.
cdc_add_fuzzer(event_apply
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_event_apply.c
  LIBS cdc_consumer cdc_apply)
