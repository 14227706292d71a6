/**
 * @file cdc_rloss_int.h
 * @brief Internal definitions of cdc_rloss. Exposed for regress tests
 *        only (tests/unit/test_rloss.c chooses marker slots from a
 *        topology without a server).
 */
#ifndef CDC_RLOSS_INT_H
#define CDC_RLOSS_INT_H

#include "cdc_rloss.h"

/** Where slots live: the router in the consumer, a table in tests. */
typedef struct cdc_rloss_topo_s {
        /** Owner id of \p slot (stable during one call), -1: none. */
        int (*rt_owner)(void *opaque, int slot);
        /** "host:port" of owner \p id into \p buf. */
        void (*rt_name)(void *opaque, int id, char *buf, size_t size);
        void *rt_opaque;
} cdc_rloss_topo_t;

/**
 * @brief Rebuild the list of masters from \p t: a master keeps the slot
 *        of its marker while it owns it (found or created by an earlier
 *        check), else it gets its highest slot and must be searched
 *        before a missing marker counts as a loss.
 * @returns the number of masters, or -1 (out of memory).
 */
int cdc_rloss_topology(cdc_rloss_t *rl, const cdc_rloss_topo_t *t);

/**
 * @brief The marker slot chosen for master \p name ("host:port").
 * @param knownp set to 1 if a check found or created the marker there.
 * @returns the slot, or -1 if \p name is not a master.
 */
int cdc_rloss_master_slot(const cdc_rloss_t *rl, const char *name, int *knownp);

/** @brief Pretend a check found the marker of master \p name at \p slot
 *         (tests). @returns 0, or -1 if \p name is not a master. */
int cdc_rloss_master_found(cdc_rloss_t *rl, const char *name, int slot);

#endif
