# Unit tests of consumer/cdc_apply (no Redis: event -> script mapping,
# data cases in tests/data/apply/<case>/{input,expected|error}).
cdc_add_unit_test(test_apply SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_apply.c
                  LIBS cdc_apply)
# Unit tests of consumer/cdc_rcluster (key slots, reply parsing, routing
# and redirects against a simulated cluster behind the link ops seam).
cdc_add_unit_test(test_rcluster SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_rcluster.c
                  LIBS cdc_apply)
# Unit tests of consumer/cdc_rsink's reply limit (the reader alone, then
# against a scripted server on loopback).
cdc_add_unit_test(test_rsink SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_rsink.c
                  LIBS cdc_apply)
