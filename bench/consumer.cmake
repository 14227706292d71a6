# bench/consumer.sh needs the consumer and the event feeder (the same
# program the integration tests use); build the feeder here too so the
# benchmark works with CDC_BUILD_TESTS=OFF.
if(NOT TARGET consumer_feed)
  add_executable(consumer_feed ${PROJECT_SOURCE_DIR}/tests/integration/consumer_feed.c)
  target_link_libraries(consumer_feed PRIVATE cdc_common PkgConfig::RDKAFKA
                        PkgConfig::JANSSON)
endif()
# bench/consumer-latency.sh: produce one event, time until Redis shows it
add_executable(consumer_latency ${CMAKE_CURRENT_SOURCE_DIR}/consumer_latency.c)
target_link_libraries(consumer_latency PRIVATE cdc_common PkgConfig::RDKAFKA
                      PkgConfig::JANSSON PkgConfig::HIREDIS)
