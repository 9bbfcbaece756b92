/*
 * pq_schema: the Parquet schema tree.
 *
 * A schema is built once (node by node, or with the helpers for the standard
 * 3-level LIST and MAP shapes), then finished: finishing numbers the leaf
 * columns depth-first and computes each leaf's dotted path and its maximum
 * definition and repetition levels.  The parquet module knows nothing about
 * OpenTelemetry; the seven table schemas live in src/table/.
 */
#ifndef O2P_PARQUET_SCHEMA_H
#define O2P_PARQUET_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Values are those of the Thrift `Type` enum of parquet.thrift. */
typedef enum pq_physical {
    PQ_BOOLEAN = 0,
    PQ_INT32 = 1,
    PQ_INT64 = 2,
    PQ_FLOAT = 4,
    PQ_DOUBLE = 5,
    PQ_BYTE_ARRAY = 6,
    PQ_FIXED_LEN_BYTE_ARRAY = 7
} pq_physical;

/* Values are those of the Thrift `FieldRepetitionType` enum. */
typedef enum pq_repetition { PQ_REQUIRED = 0, PQ_OPTIONAL = 1, PQ_REPEATED = 2 } pq_repetition;

/* Logical annotations we write (both LogicalType and the legacy ConvertedType
 * are emitted so old readers understand them).  Timestamps are UTC-adjusted. */
typedef enum pq_logical {
    PQ_LOGICAL_NONE = 0,
    PQ_LOGICAL_STRING,
    PQ_LOGICAL_MAP,
    PQ_LOGICAL_LIST,
    PQ_LOGICAL_TIMESTAMP_MILLIS,
    PQ_LOGICAL_TIMESTAMP_MICROS,
    PQ_LOGICAL_TIMESTAMP_NANOS,
    PQ_LOGICAL_INT8,
    PQ_LOGICAL_INT16,
    PQ_LOGICAL_INT32,
    PQ_LOGICAL_INT64,
    PQ_LOGICAL_UINT8,
    PQ_LOGICAL_UINT16,
    PQ_LOGICAL_UINT32,
    PQ_LOGICAL_UINT64
} pq_logical;

/* A leaf column of a finished schema. */
typedef struct pq_leaf {
    const char *path; /* dotted path, e.g. "Events.list.element.Name" */
    int node;         /* node id of the leaf */
    pq_physical physical;
    pq_logical logical;
    int type_length; /* FIXED_LEN_BYTE_ARRAY only */
    uint8_t max_def;
    uint8_t max_rep;
} pq_leaf;

typedef struct pq_schema pq_schema;

#define PQ_SCHEMA_ROOT 0

/* Creates an empty schema whose root node (id PQ_SCHEMA_ROOT) is named `root_name`. */
int pq_schema_create(pq_schema **out, const char *root_name, o2p_error *err);
void pq_schema_destroy(pq_schema *s);

/* Adds a group under `parent`; returns its node id (>= 0) or a negative status. */
int pq_schema_add_group(pq_schema *s, int parent, const char *name, pq_repetition rep,
                        pq_logical logical);
/* Adds a primitive leaf; returns its node id or a negative status. */
int pq_schema_add_leaf(pq_schema *s, int parent, const char *name, pq_repetition rep,
                       pq_physical physical, pq_logical logical, int type_length);

/*
 * Standard nested shapes (as the Parquet LogicalTypes document defines them):
 *
 *   <rep> group <name> (LIST) {
 *     repeated group list { <element_rep> ... element; }
 *   }
 * pq_schema_add_list_leaf adds a list of primitives and returns the element
 * leaf's node id; pq_schema_add_list_group adds a list of structs and returns
 * the element group's node id, to which the caller adds the struct's fields.
 *
 *   <rep> group <name> (MAP) {
 *     repeated group key_value { required <key>; <value_rep> <value>; }
 *   }
 * pq_schema_add_map returns the MAP group's node id.
 */
int pq_schema_add_list_leaf(pq_schema *s, int parent, const char *name, pq_repetition rep,
                            pq_repetition element_rep, pq_physical physical, pq_logical logical);
int pq_schema_add_list_group(pq_schema *s, int parent, const char *name, pq_repetition rep,
                             pq_repetition element_rep);
int pq_schema_add_map(pq_schema *s, int parent, const char *name, pq_repetition rep,
                      pq_physical key_physical, pq_logical key_logical, pq_physical value_physical,
                      pq_logical value_logical, pq_repetition value_rep);

/* Names must be non-empty and free of '.' (the path separator); add
 * functions reject a bad name, parent, repetition or type annotation with a
 * negative status, and pq_schema_finish then reports that first failure. */

/* Validates the tree (every group has children, names unique among siblings,
 * levels fit in 8 bits) and computes the leaves.  No nodes may be added after. */
int pq_schema_finish(pq_schema *s, o2p_error *err);

size_t pq_schema_num_leaves(const pq_schema *s);

/* A node as the footer's SchemaElement list needs it. */
typedef struct pq_node_info {
    const char *name;
    int is_leaf;
    pq_repetition repetition; /* meaningless for the root */
    pq_physical physical;     /* leaves only */
    pq_logical logical;
    int type_length;  /* FIXED_LEN_BYTE_ARRAY leaves only */
    int num_children; /* groups only */
} pq_node_info;

/* Nodes of a finished schema in depth-first order (index 0 is the root). */
size_t pq_schema_num_nodes(const pq_schema *s);
void pq_schema_node_preorder(const pq_schema *s, size_t index, pq_node_info *out);

const pq_leaf *pq_schema_leaf(const pq_schema *s, size_t index);
/* Leaf index of a dotted path, or -1. */
int pq_schema_find_leaf(const pq_schema *s, const char *path);

#endif
