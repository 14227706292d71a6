# Binlog decoding and positions (producer/cdc_rowdec.c, producer/cdc_pos.c).
cdc_add_unit_test(test_rowdec SOURCES unit/test_rowdec.c LIBS cdc_binlog)
cdc_add_unit_test(test_pos SOURCES unit/test_pos.c LIBS cdc_binlog)
cdc_add_unit_test(test_binlog SOURCES unit/test_binlog.c LIBS cdc_binlog)
