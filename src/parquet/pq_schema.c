/* pq_schema: the Parquet schema tree (see pq_schema.h). */
#include "parquet/pq_schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"

typedef struct pq_node {
    char *name;
    int parent;
    int first_child, last_child, next_sibling; /* -1 = none */
    int num_children;
    int is_leaf;
    pq_repetition repetition;
    pq_physical physical;
    pq_logical logical;
    int type_length;
} pq_node;

struct pq_schema {
    pq_node *nodes;
    size_t num_nodes, cap_nodes;
    int *preorder; /* node ids depth-first, set by finish */
    pq_leaf *leaves;
    size_t num_leaves;
    int finished;
    /* The add functions have no error record; the first failure is kept
     * here and reported by pq_schema_finish. */
    int add_status;
    char add_msg[O2P_ERROR_MSG_MAX];
};

static int add_failed(pq_schema *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int add_failed(pq_schema *s, int code, const char *fmt, ...)
{
    if (s->add_status == O2P_OK) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->add_msg, sizeof s->add_msg, fmt, ap);
        va_end(ap);
        s->add_status = code;
    }
    return code;
}

static int new_node(pq_schema *s, int parent, const char *name)
{
    if (s->num_nodes == s->cap_nodes) {
        size_t cap = s->cap_nodes ? s->cap_nodes * 2 : 16;
        pq_node *nodes = mem_realloc(s->nodes, cap * sizeof *nodes);
        if (nodes == NULL) return add_failed(s, O2P_ENOMEM, "out of memory adding '%s'", name);
        s->nodes = nodes;
        s->cap_nodes = cap;
    }
    char *copy = mem_strdup(name);
    if (copy == NULL) return add_failed(s, O2P_ENOMEM, "out of memory adding '%s'", name);
    int id = (int)s->num_nodes++;
    pq_node *n = &s->nodes[id];
    memset(n, 0, sizeof *n);
    n->name = copy;
    n->parent = parent;
    n->first_child = n->last_child = n->next_sibling = -1;
    if (parent >= 0) {
        pq_node *p = &s->nodes[parent];
        if (p->last_child >= 0)
            s->nodes[p->last_child].next_sibling = id;
        else
            p->first_child = id;
        p->last_child = id;
        p->num_children++;
    }
    return id;
}

int pq_schema_create(pq_schema **out, const char *root_name, o2p_error *err)
{
    *out = NULL;
    if (root_name == NULL || root_name[0] == '\0')
        return o2p_errorf(err, O2P_EINVAL, "schema: the root needs a name");
    pq_schema *s = mem_calloc(1, sizeof *s);
    if (s == NULL) return o2p_errorf(err, O2P_ENOMEM, "schema: out of memory");
    if (new_node(s, -1, root_name) < 0) {
        pq_schema_destroy(s);
        return o2p_errorf(err, O2P_ENOMEM, "schema: out of memory");
    }
    *out = s;
    return O2P_OK;
}

void pq_schema_destroy(pq_schema *s)
{
    if (s == NULL) return;
    for (size_t i = 0; i < s->num_nodes; i++) mem_free(s->nodes[i].name);
    for (size_t i = 0; i < s->num_leaves; i++) mem_free((char *)s->leaves[i].path);
    mem_free(s->nodes);
    mem_free(s->preorder);
    mem_free(s->leaves);
    mem_free(s);
}

static int check_parent(pq_schema *s, int parent, const char *name, int rep)
{
    if (name == NULL || name[0] == '\0')
        return add_failed(s, O2P_EINVAL, "a field under node %d has no name", parent);
    /* Leaf paths are dotted and path_in_schema is split at the dots. */
    if (strchr(name, '.') != NULL)
        return add_failed(s, O2P_EINVAL, "field name '%s' contains a '.'", name);
    if (s->finished)
        return add_failed(s, O2P_ESTATE, "cannot add '%s': the schema is finished", name);
    if (parent < 0 || (size_t)parent >= s->num_nodes)
        return add_failed(s, O2P_EINVAL, "cannot add '%s': no node %d", name, parent);
    if (s->nodes[parent].is_leaf)
        return add_failed(s, O2P_EINVAL, "cannot add '%s' under primitive field '%s'", name,
                          s->nodes[parent].name);
    if (rep != PQ_REQUIRED && rep != PQ_OPTIONAL && rep != PQ_REPEATED)
        return add_failed(s, O2P_EINVAL, "'%s': invalid repetition %d", name, rep);
    return O2P_OK;
}

int pq_schema_add_group(pq_schema *s, int parent, const char *name, pq_repetition rep,
                        pq_logical logical)
{
    int rc = check_parent(s, parent, name, (int)rep);
    if (rc < 0) return rc;
    if (logical != PQ_LOGICAL_NONE && logical != PQ_LOGICAL_MAP && logical != PQ_LOGICAL_LIST)
        return add_failed(s, O2P_EINVAL, "group '%s': only MAP or LIST may annotate a group", name);
    int id = new_node(s, parent, name);
    if (id < 0) return id;
    s->nodes[id].repetition = rep;
    s->nodes[id].logical = logical;
    return id;
}

/* Which physical type each leaf annotation requires. */
static int logical_fits(pq_logical logical, pq_physical physical)
{
    switch (logical) {
    case PQ_LOGICAL_NONE:
        return 1;
    case PQ_LOGICAL_STRING:
        return physical == PQ_BYTE_ARRAY;
    case PQ_LOGICAL_MAP:
    case PQ_LOGICAL_LIST:
        return 0;
    case PQ_LOGICAL_TIMESTAMP_MILLIS:
    case PQ_LOGICAL_TIMESTAMP_MICROS:
    case PQ_LOGICAL_TIMESTAMP_NANOS:
    case PQ_LOGICAL_INT64:
    case PQ_LOGICAL_UINT64:
        return physical == PQ_INT64;
    case PQ_LOGICAL_INT8:
    case PQ_LOGICAL_INT16:
    case PQ_LOGICAL_INT32:
    case PQ_LOGICAL_UINT8:
    case PQ_LOGICAL_UINT16:
    case PQ_LOGICAL_UINT32:
        return physical == PQ_INT32;
    }
    return 0;
}

int pq_schema_add_leaf(pq_schema *s, int parent, const char *name, pq_repetition rep,
                       pq_physical physical, pq_logical logical, int type_length)
{
    int rc = check_parent(s, parent, name, (int)rep);
    if (rc < 0) return rc;
    switch (physical) {
    case PQ_BOOLEAN:
    case PQ_INT32:
    case PQ_INT64:
    case PQ_FLOAT:
    case PQ_DOUBLE:
    case PQ_BYTE_ARRAY:
    case PQ_FIXED_LEN_BYTE_ARRAY:
        break;
    default:
        return add_failed(s, O2P_EINVAL, "'%s': invalid physical type %d", name, (int)physical);
    }
    if (!logical_fits(logical, physical))
        return add_failed(s, O2P_EINVAL, "'%s': logical type %d does not fit physical type %d",
                          name, (int)logical, (int)physical);
    if (physical == PQ_FIXED_LEN_BYTE_ARRAY && type_length <= 0)
        return add_failed(s, O2P_EINVAL, "'%s': FIXED_LEN_BYTE_ARRAY needs a positive length",
                          name);
    int id = new_node(s, parent, name);
    if (id < 0) return id;
    pq_node *n = &s->nodes[id];
    n->is_leaf = 1;
    n->repetition = rep;
    n->physical = physical;
    n->logical = logical;
    n->type_length = physical == PQ_FIXED_LEN_BYTE_ARRAY ? type_length : 0;
    return id;
}

int pq_schema_add_list_leaf(pq_schema *s, int parent, const char *name, pq_repetition rep,
                            pq_repetition element_rep, pq_physical physical, pq_logical logical)
{
    int list = pq_schema_add_group(s, parent, name, rep, PQ_LOGICAL_LIST);
    if (list < 0) return list;
    int inner = pq_schema_add_group(s, list, "list", PQ_REPEATED, PQ_LOGICAL_NONE);
    if (inner < 0) return inner;
    return pq_schema_add_leaf(s, inner, "element", element_rep, physical, logical, 0);
}

int pq_schema_add_list_group(pq_schema *s, int parent, const char *name, pq_repetition rep,
                             pq_repetition element_rep)
{
    int list = pq_schema_add_group(s, parent, name, rep, PQ_LOGICAL_LIST);
    if (list < 0) return list;
    int inner = pq_schema_add_group(s, list, "list", PQ_REPEATED, PQ_LOGICAL_NONE);
    if (inner < 0) return inner;
    return pq_schema_add_group(s, inner, "element", element_rep, PQ_LOGICAL_NONE);
}

int pq_schema_add_map(pq_schema *s, int parent, const char *name, pq_repetition rep,
                      pq_physical key_physical, pq_logical key_logical, pq_physical value_physical,
                      pq_logical value_logical, pq_repetition value_rep)
{
    int map = pq_schema_add_group(s, parent, name, rep, PQ_LOGICAL_MAP);
    if (map < 0) return map;
    int kv = pq_schema_add_group(s, map, "key_value", PQ_REPEATED, PQ_LOGICAL_NONE);
    if (kv < 0) return kv;
    int rc = pq_schema_add_leaf(s, kv, "key", PQ_REQUIRED, key_physical, key_logical, 0);
    if (rc < 0) return rc;
    rc = pq_schema_add_leaf(s, kv, "value", value_rep, value_physical, value_logical, 0);
    return rc < 0 ? rc : map;
}

/* Checks the group's own shape rules (children present, unique names, the
 * LIST and MAP layouts of LogicalTypes.md). */
static int check_group(const pq_schema *s, int id, o2p_error *err)
{
    const pq_node *g = &s->nodes[id];
    if (g->num_children == 0)
        return o2p_errorf(err, O2P_EINVAL, "schema: group '%s' has no fields", g->name);
    for (int a = g->first_child; a >= 0; a = s->nodes[a].next_sibling)
        for (int b = s->nodes[a].next_sibling; b >= 0; b = s->nodes[b].next_sibling)
            if (strcmp(s->nodes[a].name, s->nodes[b].name) == 0)
                return o2p_errorf(err, O2P_EINVAL, "schema: group '%s' has two fields named '%s'",
                                  g->name, s->nodes[a].name);
    if (g->logical == PQ_LOGICAL_LIST) {
        const pq_node *c = &s->nodes[g->first_child];
        if (g->num_children != 1 || c->repetition != PQ_REPEATED)
            return o2p_errorf(err, O2P_EINVAL,
                              "schema: LIST '%s' must have exactly one repeated field", g->name);
    }
    if (g->logical == PQ_LOGICAL_MAP) {
        const pq_node *kv = &s->nodes[g->first_child];
        if (g->num_children != 1 || kv->repetition != PQ_REPEATED || kv->is_leaf ||
            kv->num_children < 1 || kv->num_children > 2 ||
            s->nodes[kv->first_child].repetition != PQ_REQUIRED)
            return o2p_errorf(err, O2P_EINVAL,
                              "schema: MAP '%s' must hold one repeated group of a required key "
                              "and an optional value",
                              g->name);
    }
    return O2P_OK;
}

/* The dotted path of a leaf, built right to left from the leaf upwards. */
static char *make_path(const pq_schema *s, int leaf)
{
    size_t len = 0;
    for (int n = leaf; n > PQ_SCHEMA_ROOT; n = s->nodes[n].parent)
        len += strlen(s->nodes[n].name) + 1;
    char *path = mem_alloc(len);
    if (path == NULL) return NULL;
    size_t end = len - 1;
    path[end] = '\0';
    for (int n = leaf; n > PQ_SCHEMA_ROOT; n = s->nodes[n].parent) {
        size_t nl = strlen(s->nodes[n].name);
        end -= nl;
        memcpy(path + end, s->nodes[n].name, nl);
        if (end > 0) path[--end] = '.';
    }
    return path;
}

/* Undoes a failed finish so the schema can be destroyed (or fixed). */
static int finish_failed(pq_schema *s, int *stack, int rc)
{
    mem_free(stack);
    for (size_t i = 0; i < s->num_leaves; i++) mem_free((char *)s->leaves[i].path);
    mem_free(s->leaves);
    mem_free(s->preorder);
    s->leaves = NULL;
    s->preorder = NULL;
    s->num_leaves = 0;
    return rc;
}

int pq_schema_finish(pq_schema *s, o2p_error *err)
{
    if (s->add_status < 0) return o2p_errorf(err, s->add_status, "schema: %s", s->add_msg);
    if (s->finished) return o2p_errorf(err, O2P_ESTATE, "schema: already finished");
    s->preorder = mem_alloc(s->num_nodes * sizeof *s->preorder);
    int *stack = mem_alloc(s->num_nodes * sizeof *stack);
    if (s->preorder == NULL || stack == NULL)
        return finish_failed(s, stack, o2p_errorf(err, O2P_ENOMEM, "schema: out of memory"));
    size_t nleaves = 0, order = 0, top = 0;
    stack[top++] = PQ_SCHEMA_ROOT;
    while (top > 0) {
        int id = stack[--top];
        s->preorder[order++] = id;
        const pq_node *n = &s->nodes[id];
        if (n->is_leaf) {
            nleaves++;
            continue;
        }
        int rc = check_group(s, id, err);
        if (rc < 0) return finish_failed(s, stack, rc);
        /* Push children in reverse so the first child is visited first. */
        size_t first = top;
        for (int c = n->first_child; c >= 0; c = s->nodes[c].next_sibling) stack[top++] = c;
        for (size_t i = first, j = top - 1; i < j; i++, j--) {
            int tmp = stack[i];
            stack[i] = stack[j];
            stack[j] = tmp;
        }
    }
    mem_free(stack);
    stack = NULL;
    s->leaves = mem_calloc(nleaves, sizeof *s->leaves);
    if (s->leaves == NULL)
        return finish_failed(s, NULL, o2p_errorf(err, O2P_ENOMEM, "schema: out of memory"));
    for (size_t i = 0; i < s->num_nodes; i++) {
        int id = s->preorder[i];
        const pq_node *n = &s->nodes[id];
        if (!n->is_leaf) continue;
        int def = 0, rep = 0;
        for (int a = id; a > PQ_SCHEMA_ROOT; a = s->nodes[a].parent) {
            if (s->nodes[a].repetition != PQ_REQUIRED) def++;
            if (s->nodes[a].repetition == PQ_REPEATED) rep++;
        }
        if (def > 255 || rep > 255)
            return finish_failed(s, NULL,
                                 o2p_errorf(err, O2P_ELIMIT,
                                            "schema: field '%s' is nested too deeply "
                                            "(definition level %d, repetition level %d; max 255)",
                                            n->name, def, rep));
        char *path = make_path(s, id);
        if (path == NULL)
            return finish_failed(s, NULL, o2p_errorf(err, O2P_ENOMEM, "schema: out of memory"));
        pq_leaf *l = &s->leaves[s->num_leaves++];
        l->path = path;
        l->node = id;
        l->physical = n->physical;
        l->logical = n->logical;
        l->type_length = n->type_length;
        l->max_def = (uint8_t)def;
        l->max_rep = (uint8_t)rep;
    }
    s->finished = 1;
    return O2P_OK;
}

size_t pq_schema_num_leaves(const pq_schema *s)
{
    return s->num_leaves;
}

const pq_leaf *pq_schema_leaf(const pq_schema *s, size_t index)
{
    return index < s->num_leaves ? &s->leaves[index] : NULL;
}

int pq_schema_find_leaf(const pq_schema *s, const char *path)
{
    for (size_t i = 0; i < s->num_leaves; i++)
        if (strcmp(s->leaves[i].path, path) == 0) return (int)i;
    return -1;
}

size_t pq_schema_num_nodes(const pq_schema *s)
{
    return s->finished ? s->num_nodes : 0;
}

void pq_schema_node_preorder(const pq_schema *s, size_t index, pq_node_info *out)
{
    const pq_node *n = &s->nodes[s->preorder[index]];
    out->name = n->name;
    out->is_leaf = n->is_leaf;
    out->repetition = n->repetition;
    out->physical = n->physical;
    out->logical = n->logical;
    out->type_length = n->type_length;
    out->num_children = n->num_children;
}
