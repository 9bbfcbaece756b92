/*
 * runtime: what `serve` and `convert` both build from a configuration — the
 * table schemas, the Parquet writer options and the storage backend.
 */
#ifndef O2P_CLI_RUNTIME_H
#define O2P_CLI_RUNTIME_H

#include "config/cfg.h"
#include "core/error.h"
#include "parquet/pq_writer.h"
#include "storage/store.h"
#include "table/tbl_schema.h"

/* Writer options from [parquet] (codec, level, row_group_rows). */
void runtime_parquet_options(const cfg_config *cfg, pq_writer_options *out);

/* Opens the configured store (fs or s3); does not check reachability. */
int runtime_open_store(const cfg_config *cfg, store **out, o2p_error *err);

/* Schemas for the configured timestamp unit. */
int runtime_schemas(const cfg_config *cfg, tbl_schemas *out, o2p_error *err);

#endif
