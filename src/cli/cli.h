/*
 * cli: the command line (spec §7).
 *
 *   otlp2parquet [serve]                          run the server (default)
 *   otlp2parquet convert IN... [-o DIR]           convert OTLP files offline
 *   otlp2parquet connect otel-collector|claude-code|codex [--url URL]
 *   otlp2parquet --version | --help | help [COMMAND]
 *   global: -c/--config FILE, -p/--port PORT, -o/--output DIR, -v/--log-level LEVEL
 *
 * Global flags are accepted before or after the command.  Values may follow
 * as the next argument or after '=' (--port=4318) or, for short flags,
 * attached (-p4318).  "--" ends the flags.  cli_parse_args only parses: it
 * opens no file and checks flag values only where the command line alone
 * decides (enumerations, URLs); config values go through cfg_load.
 */
#ifndef O2P_CLI_CLI_H
#define O2P_CLI_CLI_H

#include <stdio.h>

#include "config/cfg.h"
#include "core/error.h"

typedef enum cli_command {
    CLI_CMD_SERVE = 0,
    CLI_CMD_CONVERT,
    CLI_CMD_CONNECT,
    CLI_CMD_VERSION,
    CLI_CMD_HELP
} cli_command;

/* convert --signal: which OTLP request type the inputs hold. */
typedef enum cli_signal {
    CLI_SIGNAL_AUTO = 0, /* guess from the file name / content */
    CLI_SIGNAL_LOGS,
    CLI_SIGNAL_TRACES,
    CLI_SIGNAL_METRICS
} cli_signal;

/* convert --format: how each input file is encoded. */
typedef enum cli_format {
    CLI_FORMAT_AUTO = 0, /* from the extension (.pb, .json, .jsonl, before .gz/.zst) */
    CLI_FORMAT_PB,
    CLI_FORMAT_JSON,
    CLI_FORMAT_JSONL
} cli_format;

typedef enum cli_connect_target {
    CLI_CONNECT_OTEL_COLLECTOR = 0,
    CLI_CONNECT_CLAUDE_CODE,
    CLI_CONNECT_CODEX
} cli_connect_target;

/* The parsed command line.  String pointers point into argv (not owned);
 * `positional` is allocated (free with cli_args_free). */
typedef struct cli_args {
    cli_command command;
    cli_command help_command; /* CLI_CMD_HELP: whose usage to print (CLI_CMD_HELP = overview) */
    int command_given;        /* 0 when serve was chosen by default */

    /* global flags, NULL when absent */
    const char *config_path;
    const char *port;
    const char *grpc_port;
    const char *output_dir;
    const char *log_level;

    int connect_http; /* connect --http: the OTLP/HTTP exporter instead of gRPC */

    /* arguments after the command (convert: input files; connect: the target) */
    const char **positional;
    int positional_count;

    /* convert */
    cli_signal signal;
    cli_format format;
    const char *compression; /* --compression, NULL = from the config */

    /* connect */
    cli_connect_target connect_target;
    const char *url; /* --url, validated; NULL = derived from server.listen_addr */
} cli_args;

/* Parses argv[1..argc-1].  On a usage error returns O2P_EINVAL with a one-line
 * message naming the offending argument; args then need no cli_args_free
 * (calling it is still safe). */
int cli_parse_args(cli_args *args, int argc, char **argv, o2p_error *err);
void cli_args_free(cli_args *args);

/* The config flags of a parsed command line, for cfg_sources.flags. */
cfg_flags cli_cfg_flags(const cli_args *args);

/* Usage text for a command (CLI_CMD_HELP or CLI_CMD_SERVE... ; CLI_CMD_HELP
 * and CLI_CMD_VERSION print the overview). */
void cli_print_usage(FILE *out, cli_command command);

/* connect: writes the ready-to-paste configuration for args->connect_target
 * to `out`.  The URL is args->url, else http://HOST:PORT from
 * cfg->server.listen_addr (wildcard hosts become localhost).  When the
 * server requires a token, the output refers to $OTLP2PARQUET_AUTH_TOKEN
 * instead of printing it.  Returns 0 or a negative status. */
int cli_connect(const cfg_config *cfg, const cli_args *args, FILE *out, o2p_error *err);

/* serve: runs the server until SIGTERM/SIGINT; returns the process exit code
 * (0 ok, 1 runtime failure).  Implemented in serve.c. */
int cli_serve(const cfg_config *cfg);

/* convert: converts args->positional files to Parquet per cfg; returns the
 * process exit code (0 ok, 1 runtime failure, 2 usage).  Implemented in
 * convert.c. */
int cli_convert(const cfg_config *cfg, const cli_args *args);

#endif
