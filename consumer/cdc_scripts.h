/**
 * @file cdc_scripts.h
 * @brief The Redis Lua scripts of the applier. Their source files are
 *        consumer/lua/cdc_<name>.lua (embedded at build time); the key and
 *        argument layout of each is documented there and in
 *        schemas/redis.md.
 */
#ifndef CDC_SCRIPTS_H
#define CDC_SCRIPTS_H

#include <stddef.h>

typedef enum {
        CDC_SCRIPT_EDGE = 0, /**< one user's side(s) of an edge change */
        CDC_SCRIPT_IDEM,     /**< one idempotent_log row change */
        CDC_SCRIPT_PURGE,    /**< one user's edge sides older than V */
        CDC_SCRIPT_IPURGE,   /**< one idempotency record older than V */
        CDC_SCRIPT__CNT
} cdc_script_id_t;

/** Number of KEYS of each script, and most ARGV (the edge script takes
 *  3 + 3 per side, one or two sides). */
#define CDC_SCRIPT_EDGE_NKEYS   4
#define CDC_SCRIPT_EDGE_NARGS   9
#define CDC_SCRIPT_IDEM_NKEYS   2
#define CDC_SCRIPT_IDEM_NARGS   6
#define CDC_SCRIPT_PURGE_NKEYS  4
#define CDC_SCRIPT_PURGE_NARGS  2
#define CDC_SCRIPT_IPURGE_NKEYS 2
#define CDC_SCRIPT_IPURGE_NARGS 2

/** Replies of the scripts. */
#define CDC_SCRIPT_R_STALE   0 /**< not newer than what Redis holds */
#define CDC_SCRIPT_R_APPLIED 1 /**< state changed */
#define CDC_SCRIPT_R_EXPIRED 2 /**< idempotency row already past its TTL */

/**
 * @brief Lua source of script \p id.
 * @param lenp set to the length (may be NULL).
 * @returns static NUL-terminated text, or NULL for an unknown id.
 * @locality any thread
 */
const char *cdc_scripts_source(cdc_script_id_t id, size_t *lenp);

/** @returns the short name of \p id ("edge", "idem", "purge",
 *  "ipurge"), or "?". */
const char *cdc_scripts_name(cdc_script_id_t id);

#endif
