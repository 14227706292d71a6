# Helper programs of the consumer's integration tests and benchmark.
# consumer_feed: produces follow/idempotency change events (cdc_event_encode)
# straight into Kafka, with poison messages and a rate limit on request.
# (bench/consumer.cmake may have defined it already.)
if(NOT TARGET consumer_feed)
  add_executable(consumer_feed ${CMAKE_CURRENT_SOURCE_DIR}/integration/consumer_feed.c)
  target_link_libraries(consumer_feed PRIVATE cdc_common PkgConfig::RDKAFKA
                        PkgConfig::JANSSON)
endif()
