# Unit tests of the producer (checkpoint ring and stores, config, Kafka
# producer, event shaping, snapshot value mapping).
cdc_add_unit_test(test_ckpt SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ckpt.c
  LIBS cdc_producer_core cdc_binlog)
cdc_add_unit_test(test_pconf SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_pconf.c
  LIBS cdc_producer_core)
cdc_add_unit_test(test_kprod SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_kprod.c
  LIBS cdc_producer_core cdc_binlog)
cdc_add_unit_test(test_emit SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_emit.c
  LIBS cdc_producer_engine)
cdc_add_unit_test(test_snapshot
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_snapshot.c LIBS cdc_snapshot)
cdc_add_unit_test(test_topics SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_topics.c
  LIBS cdc_producer_engine)
cdc_add_unit_test(test_pbench SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_pbench.c
  LIBS cdc_producer_engine)
