# Kafka integration programs (owned by the dev broker area).
# kafka_roundtrip: producer / consumer-group halves used by 0003-kafka-group.sh.
add_executable(kafka_roundtrip ${CMAKE_CURRENT_LIST_DIR}/kafka_roundtrip.c)
target_link_libraries(kafka_roundtrip PRIVATE PkgConfig::RDKAFKA)
# kafka_admin: CreateTopics / DescribeConfigs against a real Kafka broker
# (tests/lib/kafka.sh h_topic_create, the compaction tests).
add_executable(kafka_admin ${CMAKE_CURRENT_LIST_DIR}/kafka_admin.c)
target_link_libraries(kafka_admin PRIVATE PkgConfig::RDKAFKA)
