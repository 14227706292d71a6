# The configuration engine's checks beyond test_conf (common.cmake):
# docs/CONFIGURATION.md must be what scripts/gen-config-doc.sh makes of
# the property tables (--list-config of both binaries).
if(TARGET followcdc-producer AND TARGET followcdc-consumer)
  add_test(NAME unit.config_doc
    COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/gen-config-doc.sh --check
            --build-dir ${PROJECT_BINARY_DIR})
  set_tests_properties(unit.config_doc PROPERTIES LABELS unit TIMEOUT 60)
endif()
