# Unit tests of common/ (one executable per module)
cdc_add_unit_test(test_event SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_event.c)
cdc_add_unit_test(test_conf SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_conf.c)
cdc_add_unit_test(test_backoff SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_backoff.c)
cdc_add_unit_test(test_metrics SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_metrics.c)
cdc_add_unit_test(test_log SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_log.c)
cdc_add_unit_test(test_retry SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_retry.c)
cdc_add_unit_test(test_time SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_time.c)

# The JSON Schema accepts exactly the valid examples (same fixtures as test_event)
find_program(CDC_DEBIAN_PYTHON /usr/bin/python3)
if(CDC_DEBIAN_PYTHON)
  add_test(NAME unit.schema_examples_valid
    COMMAND ${CDC_DEBIAN_PYTHON} ${PROJECT_SOURCE_DIR}/schemas/events/validate.py
            ${PROJECT_SOURCE_DIR}/schemas/events/examples/valid/follow-insert.json
            ${PROJECT_SOURCE_DIR}/schemas/events/examples/valid/follow-soft-delete.json
            ${PROJECT_SOURCE_DIR}/schemas/events/examples/valid/follow-hard-delete.json
            ${PROJECT_SOURCE_DIR}/schemas/events/examples/valid/follow-snapshot-read.json
            ${PROJECT_SOURCE_DIR}/schemas/events/examples/valid/idem-insert-no-gtid.json
            ${PROJECT_SOURCE_DIR}/schemas/events/examples/valid/docs-oversized.json)
  file(GLOB CDC_INVALID_EXAMPLES ${PROJECT_SOURCE_DIR}/schemas/events/examples/invalid/*.json)
  add_test(NAME unit.schema_examples_invalid
    COMMAND ${CDC_DEBIAN_PYTHON} ${PROJECT_SOURCE_DIR}/schemas/events/validate.py
            --expect-invalid ${CDC_INVALID_EXAMPLES})
  set_tests_properties(unit.schema_examples_valid unit.schema_examples_invalid
    PROPERTIES LABELS unit)
endif()

# The one event encoder against the jansson oracle (tests/unit/event_oracle.c)
cdc_add_unit_test(test_event_enc SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_event_enc.c
                  ${CMAKE_CURRENT_LIST_DIR}/event_oracle.c)

# The one MySQL connect path: TLS modes as Connector/C options, the checks
# of the TLS settings, SHOW BINARY LOG STATUS / SHOW MASTER STATUS
cdc_add_unit_test(test_mysql SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_mysql.c
                  LIBS cdc_mysql)
