/**
 * @file test_mysql.c
 * @brief common/cdc_mysql: the TLS modes as Connector/C options, the
 *        checks of the TLS settings, the target's copies, and the choice
 *        between SHOW BINARY LOG STATUS and SHOW MASTER STATUS (and the
 *        fallback on a syntax error). No server: connections are tested
 *        by tests/integration/0091-mysql-tls.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <mysqld_error.h>

#include "cdc_mysql.h"

static const char *ca_file = CDC_SOURCE_DIR "/tests/unit/test_mysql.c";

/* The options cdc_mysql_options() leaves on a fresh handle. */
static void options_of(cdc_mysql_ssl_mode_t mode, const char *ca,
                       my_bool *enforce, my_bool *verify, const char **cap) {
        cdc_mysql_target_t t;
        cdc_mysql_opts_t o = { .connect_timeout_s = 1, .rw_timeout_s = 1 };
        MYSQL *my          = mysql_init(NULL);
        char *got          = NULL;

        assert_non_null(my);
        assert_int_equal(
                cdc_mysql_target_set(&t, "db1", 3306, NULL, "u", "p", "d"), 0);
        assert_int_equal(cdc_mysql_target_set_ssl(&t, mode, ca, NULL, NULL), 0);
        assert_int_equal(cdc_mysql_options(my, &t, &o), 0);
        *enforce = 9;
        *verify  = 9;
        assert_int_equal(mysql_get_optionv(my, MYSQL_OPT_SSL_ENFORCE, enforce),
                         0);
        assert_int_equal(
                mysql_get_optionv(my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, verify),
                0);
        assert_int_equal(mysql_get_optionv(my, MYSQL_OPT_SSL_CA, &got), 0);
        *cap = got && ca && !strcmp(got, ca) ? ca : got ? "other" : NULL;
        mysql_close(my);
        cdc_mysql_target_clear(&t);
}

static void test_ssl_modes_as_options(void **state) {
        my_bool enforce, verify;
        const char *ca;
        (void)state;

        /* disabled: nothing that would make Connector/C start TLS */
        options_of(CDC_MYSQL_SSL_DISABLED, NULL, &enforce, &verify, &ca);
        assert_int_equal(enforce, 0);
        assert_int_equal(verify, 0);
        assert_null(ca);

        options_of(CDC_MYSQL_SSL_PREFERRED, NULL, &enforce, &verify, &ca);
        assert_int_equal(enforce, 1);
        assert_int_equal(verify, 0);
        assert_null(ca);

        options_of(CDC_MYSQL_SSL_REQUIRED, NULL, &enforce, &verify, &ca);
        assert_int_equal(enforce, 1);
        assert_int_equal(verify, 0);

        /* verify-ca: the CA (chain check), not the host name check */
        options_of(CDC_MYSQL_SSL_VERIFY_CA, ca_file, &enforce, &verify, &ca);
        assert_int_equal(enforce, 1);
        assert_int_equal(verify, 0);
        assert_ptr_equal(ca, ca_file);

        options_of(CDC_MYSQL_SSL_VERIFY_IDENTITY, ca_file, &enforce, &verify,
                   &ca);
        assert_int_equal(enforce, 1);
        assert_int_equal(verify, 1);
        assert_ptr_equal(ca, ca_file);
}

static void test_ssl_check(void **state) {
        char buf[256];
        const char *why;
        (void)state;

        assert_null(cdc_mysql_ssl_check("mysql.ssl", CDC_MYSQL_SSL_PREFERRED,
                                        NULL, NULL, NULL, buf, sizeof(buf)));
        assert_null(cdc_mysql_ssl_check("mysql.ssl", CDC_MYSQL_SSL_DISABLED, "",
                                        "", "", buf, sizeof(buf)));
        assert_null(cdc_mysql_ssl_check("mysql.ssl", CDC_MYSQL_SSL_VERIFY_CA,
                                        ca_file, ca_file, ca_file, buf,
                                        sizeof(buf)));
        /* verify-identity may use the system's trust store */
        assert_null(cdc_mysql_ssl_check("mysql.ssl",
                                        CDC_MYSQL_SSL_VERIFY_IDENTITY, NULL,
                                        NULL, NULL, buf, sizeof(buf)));

        why = cdc_mysql_ssl_check("reaper.mysql.ssl", CDC_MYSQL_SSL_DISABLED,
                                  ca_file, NULL, NULL, buf, sizeof(buf));
        assert_non_null(why);
        assert_non_null(strstr(why, "reaper.mysql.ssl.ca"));

        why = cdc_mysql_ssl_check("mysql.ssl", CDC_MYSQL_SSL_VERIFY_CA, NULL,
                                  NULL, NULL, buf, sizeof(buf));
        assert_non_null(why);
        assert_non_null(strstr(why, "needs mysql.ssl.ca"));

        why = cdc_mysql_ssl_check("mysql.ssl", CDC_MYSQL_SSL_REQUIRED, NULL,
                                  ca_file, NULL, buf, sizeof(buf));
        assert_non_null(why);
        assert_non_null(strstr(why, "go together"));

        why = cdc_mysql_ssl_check("mysql.ssl", CDC_MYSQL_SSL_VERIFY_CA,
                                  "/nonexistent/ca.pem", NULL, NULL, buf,
                                  sizeof(buf));
        assert_non_null(why);
        assert_non_null(strstr(why, "mysql.ssl.ca: /nonexistent/ca.pem"));
}

static void test_target_copy_keeps_tls(void **state) {
        cdc_mysql_target_t a, b;
        (void)state;

        assert_int_equal(cdc_mysql_target_set(&a, NULL, 0, "", "u", NULL, NULL),
                         0);
        assert_string_equal(a.host, "127.0.0.1");
        assert_int_equal(a.port, 3306);
        assert_null(a.socket);
        assert_int_equal(a.ssl_mode, CDC_MYSQL_SSL_DISABLED);
        assert_int_equal(cdc_mysql_target_set_ssl(&a,
                                                  CDC_MYSQL_SSL_VERIFY_IDENTITY,
                                                  "/ca", "/c", "/k"),
                         0);
        assert_int_equal(cdc_mysql_target_copy(&b, &a), 0);
        assert_int_equal(b.ssl_mode, CDC_MYSQL_SSL_VERIFY_IDENTITY);
        assert_string_equal(b.ssl_ca, "/ca");
        assert_string_equal(b.ssl_cert, "/c");
        assert_string_equal(b.ssl_key, "/k");
        assert_ptr_not_equal(b.ssl_ca, a.ssl_ca);
        /* "" is unset */
        assert_int_equal(cdc_mysql_target_set_ssl(&a, CDC_MYSQL_SSL_REQUIRED,
                                                  "", NULL, ""),
                         0);
        assert_null(a.ssl_ca);
        assert_null(a.ssl_key);
        cdc_mysql_target_clear(&a);
        cdc_mysql_target_clear(&b);
        assert_null(b.ssl_ca);
        assert_int_equal(b.ssl_mode, CDC_MYSQL_SSL_DISABLED);
}

static void test_binlog_status_statement(void **state) {
        (void)state;
        /* MariaDB keeps SHOW MASTER STATUS (its version numbers are 10.x,
         * 11.x: never compared with MySQL's) */
        assert_string_equal(cdc_mysql_binlog_status_sql(
                                    "10.11.19-MariaDB-0+deb12u1", 101119),
                            "SHOW MASTER STATUS");
        assert_string_equal(
                cdc_mysql_binlog_status_sql("11.4.2-MariaDB", 110402),
                "SHOW MASTER STATUS");
        assert_string_equal(cdc_mysql_binlog_status_sql("8.0.36", 80036),
                            "SHOW MASTER STATUS");
        assert_string_equal(cdc_mysql_binlog_status_sql("8.2.0", 80200),
                            "SHOW BINARY LOG STATUS");
        assert_string_equal(cdc_mysql_binlog_status_sql("8.4.3", 80403),
                            "SHOW BINARY LOG STATUS");
        assert_string_equal(cdc_mysql_binlog_status_sql("9.1.0", 90100),
                            "SHOW BINARY LOG STATUS");

        /* a syntax error: the server does not know that form */
        assert_string_equal(cdc_mysql_binlog_status_fallback(
                                    "SHOW MASTER STATUS", ER_PARSE_ERROR),
                            "SHOW BINARY LOG STATUS");
        assert_string_equal(cdc_mysql_binlog_status_fallback(
                                    "SHOW BINARY LOG STATUS", ER_PARSE_ERROR),
                            "SHOW MASTER STATUS");
        /* anything else is the answer: no second statement */
        assert_null(cdc_mysql_binlog_status_fallback(
                "SHOW MASTER STATUS", ER_SPECIFIC_ACCESS_DENIED_ERROR));
        assert_null(
                cdc_mysql_binlog_status_fallback("SHOW MASTER STATUS", 2013));
        assert_null(cdc_mysql_binlog_status_fallback(NULL, ER_PARSE_ERROR));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ssl_modes_as_options),
                cmocka_unit_test(test_ssl_check),
                cmocka_unit_test(test_target_copy_keeps_tls),
                cmocka_unit_test(test_binlog_status_statement),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
