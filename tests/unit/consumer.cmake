# Unit tests of followcdc-consumer's own modules (cdc_apply has its own).
# test_cconf also links cdc_apply: the config's values must be ones the
# applier takes.
cdc_add_unit_test(test_cconf SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_cconf.c
                  LIBS cdc_consumer cdc_apply)
cdc_add_unit_test(test_reaper SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_reaper.c
                  LIBS cdc_consumer)
cdc_add_unit_test(test_kcons SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_kcons.c
                  LIBS cdc_consumer)
cdc_add_unit_test(test_precheck SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_precheck.c
                  LIBS cdc_consumer)
cdc_add_unit_test(test_batch SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_batch.c
                  LIBS cdc_consumer)
cdc_add_unit_test(test_tomb SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_tomb.c
                  LIBS cdc_consumer)
