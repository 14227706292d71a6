/**
 * @file cdc_err.h
 * @brief One error code enum for all of followcdc, its strings and the
 *        classifier the main loops use (cf. librdkafka rd_kafka_resp_err_t).
 */
#ifndef CDC_ERR_H
#define CDC_ERR_H

typedef enum {
        CDC_ERR__BEGIN = -100, /**< local errors are negative */
        CDC_ERR__TRANSPORT,    /**< connection lost: reconnect with backoff */
        CDC_ERR__TIMED_OUT,    /**< operation timed out: retry */
        CDC_ERR__BAD_EVENT,    /**< poison input: never retry, dead-letter */
        CDC_ERR__CONFIG,       /**< bad configuration: exit 2 */
        CDC_ERR__NOMEM,        /**< allocation failed */
        CDC_ERR__SERVER,       /**< server refused (privileges, settings) */
        CDC_ERR__STATE,        /**< operation not valid in this state */
        CDC_ERR__QUEUE_FULL,   /**< back-pressure: poll and retry */
        CDC_ERR__NOENT,        /**< nothing found (no checkpoint, no row) */
        CDC_ERR__IO,           /**< local file I/O */
        CDC_ERR__STALE,        /**< change older than what is held: no-op */
        CDC_ERR__FATAL,        /**< unrecoverable: shut down */
        CDC_ERR__FENCED,       /**< lost the lock that made this instance
                                *   the active one: stop, stand by */
        CDC_ERR__END,
        CDC_ERR_NO_ERROR = 0
} cdc_err_t;

/**
 * @brief Human readable name of \p err.
 * @returns a static string, never NULL.
 * @locality any thread
 */
const char *cdc_err2str(cdc_err_t err);

/**
 * @brief Whether an operation that failed with \p err may succeed if
 *        retried later (after a reconnect and backoff): TRANSPORT,
 *        TIMED_OUT, QUEUE_FULL, NOMEM. The engines map every result
 *        through it; the other codes end the loop or change its state
 *        (FENCED: stand by).
 * @locality any thread
 */
int cdc_err_is_retriable(cdc_err_t err);

#endif
