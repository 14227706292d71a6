# Unit tests of consumer/cdc_rloss (Redis data-loss markers: slot tags,
# marker slots through reshardings, checks against a simulated Redis).
cdc_add_unit_test(test_rloss SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_rloss.c
                  LIBS cdc_apply)
