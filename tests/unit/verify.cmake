# followcdc-verify: the pure comparison (verify/cdc_vdiff.c)
cdc_add_unit_test(test_vdiff SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_vdiff.c
                  LIBS cdc_verify_diff)
