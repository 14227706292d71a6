#include "cdc_err.h"

const char *cdc_err2str(cdc_err_t err) {
        switch (err) {
        case CDC_ERR_NO_ERROR:
                return "Success";
        case CDC_ERR__TRANSPORT:
                return "Local: connection lost";
        case CDC_ERR__TIMED_OUT:
                return "Local: timed out";
        case CDC_ERR__BAD_EVENT:
                return "Local: bad event";
        case CDC_ERR__CONFIG:
                return "Local: invalid configuration";
        case CDC_ERR__NOMEM:
                return "Local: out of memory";
        case CDC_ERR__SERVER:
                return "Local: server refused";
        case CDC_ERR__STATE:
                return "Local: invalid state";
        case CDC_ERR__QUEUE_FULL:
                return "Local: queue full";
        case CDC_ERR__NOENT:
                return "Local: not found";
        case CDC_ERR__IO:
                return "Local: I/O error";
        case CDC_ERR__STALE:
                return "Local: stale change";
        case CDC_ERR__FATAL:
                return "Local: fatal error";
        case CDC_ERR__FENCED:
                return "Local: lock lost to another instance";
        default:
                return "Local: unknown error";
        }
}

int cdc_err_is_retriable(cdc_err_t err) {
        switch (err) {
        case CDC_ERR__TRANSPORT:
        case CDC_ERR__TIMED_OUT:
        case CDC_ERR__QUEUE_FULL:
        case CDC_ERR__NOMEM:
                return 1;
        default:
                return 0;
        }
}
