# Kafka integration programs (owned by the dev broker area).
# kafka_roundtrip: producer / consumer-group halves used by 0003-kafka-group.sh.
add_executable(kafka_roundtrip ${CMAKE_CURRENT_LIST_DIR}/kafka_roundtrip.c)
target_link_libraries(kafka_roundtrip PRIVATE PkgConfig::RDKAFKA)
