# Unit tests of consumer/cdc_apply (no Redis: event -> script mapping,
# data cases in tests/data/apply/<case>/{input,expected|error}).
cdc_add_unit_test(test_apply SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_apply.c
                  LIBS cdc_apply)
