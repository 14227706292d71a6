# Producer benchmark: `cmake --build <dir> --target bench-producer` runs
# bench/producer.sh against this build (prints figures, asserts nothing).
add_custom_target(bench-producer
  COMMAND ${CMAKE_COMMAND} -E env CDC_BUILD_DIR=${PROJECT_BINARY_DIR}
          CDC_SOURCE_DIR=${PROJECT_SOURCE_DIR}
          bash ${CMAKE_CURRENT_SOURCE_DIR}/producer.sh
  DEPENDS followcdc-producer followcdc-devbroker
  USES_TERMINAL)
