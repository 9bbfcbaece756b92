/* args: command-line parsing and usage text (see cli.h). */
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "core/mem.h"
#include "core/version.h"

/* Which commands accept a flag. */
enum { FOR_ALL, FOR_CONVERT, FOR_CONNECT };

typedef enum flag_id {
    FLAG_CONFIG,
    FLAG_PORT,
    FLAG_OUTPUT,
    FLAG_LOG_LEVEL,
    FLAG_HELP,
    FLAG_VERSION,
    FLAG_SIGNAL,
    FLAG_FORMAT,
    FLAG_COMPRESSION,
    FLAG_URL,
    FLAG_GRPC_PORT,
    FLAG_HTTP
} flag_id;

typedef struct flag_def {
    flag_id id;
    char short_name; /* 0 = none */
    const char *long_name;
    int takes_value;
    int scope;
} flag_def;

static const flag_def flag_defs[] = {
    {FLAG_CONFIG, 'c', "config", 1, FOR_ALL},
    {FLAG_PORT, 'p', "port", 1, FOR_ALL},
    {FLAG_OUTPUT, 'o', "output", 1, FOR_ALL},
    {FLAG_LOG_LEVEL, 'v', "log-level", 1, FOR_ALL},
    {FLAG_HELP, 'h', "help", 0, FOR_ALL},
    {FLAG_VERSION, 'V', "version", 0, FOR_ALL},
    {FLAG_SIGNAL, 0, "signal", 1, FOR_CONVERT},
    {FLAG_FORMAT, 0, "format", 1, FOR_CONVERT},
    {FLAG_COMPRESSION, 0, "compression", 1, FOR_CONVERT},
    {FLAG_URL, 0, "url", 1, FOR_CONNECT},
    {FLAG_GRPC_PORT, 0, "grpc-port", 1, FOR_ALL},
    {FLAG_HTTP, 0, "http", 0, FOR_CONNECT},
};

#define FLAG_COUNT (sizeof flag_defs / sizeof flag_defs[0])

static const char *const command_names[] = {"serve", "convert", "connect", "version", "help"};

static int lookup(const char *word, const char *const *names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(word, names[i]) == 0) return (int)i;
    return -1;
}

static const flag_def *find_long(const char *name, size_t len)
{
    for (size_t i = 0; i < FLAG_COUNT; i++)
        if (strlen(flag_defs[i].long_name) == len && memcmp(flag_defs[i].long_name, name, len) == 0)
            return &flag_defs[i];
    return NULL;
}

static const flag_def *find_short(char c)
{
    for (size_t i = 0; i < FLAG_COUNT; i++)
        if (flag_defs[i].short_name == c) return &flag_defs[i];
    return NULL;
}

static int usage_error(o2p_error *err, const char *fmt, const char *what)
{
    return o2p_errorf(err, O2P_EINVAL, fmt, what);
}

static int set_flag(cli_args *args, const flag_def *def, const char *value, int *help, int *version,
                    o2p_error *err)
{
    switch (def->id) {
    case FLAG_CONFIG:
        args->config_path = value;
        break;
    case FLAG_PORT:
        args->port = value;
        break;
    case FLAG_GRPC_PORT:
        args->grpc_port = value;
        break;
    case FLAG_HTTP:
        args->connect_http = 1;
        break;
    case FLAG_OUTPUT:
        args->output_dir = value;
        break;
    case FLAG_LOG_LEVEL:
        args->log_level = value;
        break;
    case FLAG_HELP:
        *help = 1;
        break;
    case FLAG_VERSION:
        *version = 1;
        break;
    case FLAG_SIGNAL: {
        static const char *const names[] = {"logs", "traces", "metrics"};
        int i = lookup(value, names, 3);
        if (i < 0)
            return usage_error(err, "--signal '%s': expected logs, traces or metrics", value);
        args->signal = (cli_signal)(CLI_SIGNAL_LOGS + i);
        break;
    }
    case FLAG_FORMAT: {
        static const char *const names[] = {"pb", "json", "jsonl"};
        int i = lookup(value, names, 3);
        if (i < 0) return usage_error(err, "--format '%s': expected pb, json or jsonl", value);
        args->format = (cli_format)(CLI_FORMAT_PB + i);
        break;
    }
    case FLAG_COMPRESSION:
        args->compression = value;
        break;
    case FLAG_URL:
        if ((strncasecmp(value, "http://", 7) != 0 || value[7] == 0) &&
            (strncasecmp(value, "https://", 8) != 0 || value[8] == 0))
            return usage_error(err, "--url '%s': expected http://HOST:PORT or https://...", value);
        args->url = value;
        break;
    }
    return O2P_OK;
}

/* Parses the flag at argv[*i] (and its value, advancing *i if the value is
 * the next argument); remembers which command-specific flags were seen. */
static int parse_flag(cli_args *args, int argc, char **argv, int *i, int *help, int *version,
                      const flag_def **scoped_seen, o2p_error *err)
{
    const char *arg = argv[*i];
    const flag_def *def;
    const char *value = NULL;
    if (arg[1] == '-') {
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        def = find_long(name, eq ? (size_t)(eq - name) : strlen(name));
        if (def == NULL) return usage_error(err, "unknown option '%s'", arg);
        if (eq) {
            if (!def->takes_value)
                return usage_error(err, "option '--%s' takes no value", def->long_name);
            value = eq + 1;
        }
    } else {
        def = find_short(arg[1]);
        if (def == NULL) return usage_error(err, "unknown option '%s'", arg);
        if (arg[2]) {
            if (!def->takes_value) return usage_error(err, "unknown option '%s'", arg);
            value = arg + 2;
        }
    }
    if (def->takes_value && value == NULL) {
        if (*i + 1 >= argc) return usage_error(err, "option '%s' needs a value", arg);
        value = argv[++*i];
    }
    if (def->scope != FOR_ALL) *scoped_seen = def;
    return set_flag(args, def, value, help, version, err);
}

static int check_command(cli_args *args, const flag_def *scoped, o2p_error *err)
{
    if (scoped) {
        cli_command needed = scoped->scope == FOR_CONVERT ? CLI_CMD_CONVERT : CLI_CMD_CONNECT;
        if (args->command != needed)
            return o2p_errorf(err, O2P_EINVAL, "option '--%s' is only valid with '%s'",
                              scoped->long_name, command_names[needed]);
    }
    switch (args->command) {
    case CLI_CMD_SERVE:
    case CLI_CMD_VERSION:
        if (args->positional_count > 0)
            return o2p_errorf(err, O2P_EINVAL, "%s takes no arguments (got '%s')",
                              command_names[args->command], args->positional[0]);
        return O2P_OK;
    case CLI_CMD_CONVERT:
        if (args->positional_count == 0)
            return o2p_errorf(err, O2P_EINVAL, "convert needs at least one input file");
        return O2P_OK;
    case CLI_CMD_CONNECT: {
        static const char *const targets[] = {"otel-collector", "claude-code", "codex"};
        if (args->positional_count != 1)
            return o2p_errorf(err, O2P_EINVAL,
                              "connect needs one target: otel-collector, claude-code or codex");
        int t = lookup(args->positional[0], targets, 3);
        if (t < 0)
            return o2p_errorf(
                err, O2P_EINVAL,
                "connect: unknown target '%s' (expected otel-collector, claude-code or codex)",
                args->positional[0]);
        args->connect_target = (cli_connect_target)t;
        return O2P_OK;
    }
    case CLI_CMD_HELP: {
        if (args->positional_count > 1)
            return o2p_errorf(err, O2P_EINVAL, "help takes at most one command name");
        if (args->positional_count == 1) {
            int c = lookup(args->positional[0], command_names, 5);
            if (c < 0)
                return o2p_errorf(err, O2P_EINVAL, "help: unknown command '%s'",
                                  args->positional[0]);
            args->help_command = (cli_command)c;
        }
        return O2P_OK;
    }
    }
    return O2P_OK;
}

int cli_parse_args(cli_args *args, int argc, char **argv, o2p_error *err)
{
    memset(args, 0, sizeof *args);
    args->command = CLI_CMD_SERVE;
    args->help_command = CLI_CMD_HELP;
    args->positional = mem_calloc(argc > 0 ? (size_t)argc : 1, sizeof *args->positional);
    if (args->positional == NULL) return o2p_errorf(err, O2P_ENOMEM, "out of memory");

    int help = 0, version = 0, flags_ended = 0;
    const flag_def *scoped = NULL;
    int rc = O2P_OK;
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *arg = argv[i];
        if (!flags_ended && strcmp(arg, "--") == 0) {
            flags_ended = 1;
        } else if (!flags_ended && arg[0] == '-' && arg[1] != 0) {
            rc = parse_flag(args, argc, argv, &i, &help, &version, &scoped, err);
        } else if (!args->command_given) {
            int c = lookup(arg, command_names, 5);
            if (c < 0) {
                rc = o2p_errorf(err, O2P_EINVAL, "unknown command '%s'", arg);
                break;
            }
            args->command = (cli_command)c;
            args->command_given = 1;
        } else {
            args->positional[args->positional_count++] = arg;
        }
    }
    if (rc == 0 && help) {
        /* --help wins over everything else on the line, like most tools. */
        args->help_command = args->command_given ? args->command : CLI_CMD_HELP;
        args->command = CLI_CMD_HELP;
        return O2P_OK;
    }
    if (rc == 0 && version) {
        args->command = CLI_CMD_VERSION;
        return O2P_OK;
    }
    if (rc == 0) rc = check_command(args, scoped, err);
    if (rc < 0) cli_args_free(args);
    return rc;
}

void cli_args_free(cli_args *args)
{
    mem_free(args->positional);
    args->positional = NULL;
    args->positional_count = 0;
}

cfg_flags cli_cfg_flags(const cli_args *args)
{
    cfg_flags flags = {.port = args->port,
                       .grpc_port = args->grpc_port,
                       .output_dir = args->output_dir,
                       .log_level = args->log_level,
                       .compression = args->compression};
    return flags;
}

static const char usage_global[] =
    "Global options (before or after the command):\n"
    "  -c, --config FILE      TOML configuration file (default: $OTLP2PARQUET_CONFIG,\n"
    "                         ./config.toml, ./.otlp2parquet.toml)\n"
    "  -p, --port PORT        listen on PORT (replaces the port of server.listen_addr)\n"
    "      --grpc-port PORT   OTLP/gRPC on PORT (replaces the port of server.grpc_listen_addr;\n"
    "                         0 = gRPC off)\n"
    "  -o, --output DIR       write Parquet files under DIR (storage.fs.path; local storage)\n"
    "  -v, --log-level LEVEL  error, warn, info, debug or trace\n"
    "  -h, --help             show help (also: otlp2parquet help COMMAND)\n"
    "  -V, --version          print the version\n";

void cli_print_usage(FILE *out, cli_command command)
{
    switch (command) {
    case CLI_CMD_SERVE:
        fprintf(out,
                "Usage: otlp2parquet [serve] [options]\n\n"
                "Run the OTLP/HTTP server (the default command).  Receives logs, traces and\n"
                "metrics on POST /v1/logs, /v1/traces, /v1/metrics and writes Parquet files to\n"
                "the configured storage.  Also serves GET /health, /ready and /metrics.\n"
                "Stops cleanly (flushing everything) on SIGTERM or SIGINT.\n\n%s",
                usage_global);
        return;
    case CLI_CMD_CONVERT:
        fprintf(
            out,
            "Usage: otlp2parquet convert IN... [-o DIR] [options]\n\n"
            "Convert OTLP export requests stored in files (.pb, .json, .jsonl, optionally\n"
            "compressed as .gz or .zst) into the same Parquet layout the server writes.\n\n"
            "Options:\n"
            "  --signal logs|traces|metrics   what the files hold (default: guess)\n"
            "  --format pb|json|jsonl         how they are encoded (default: from the name)\n"
            "  --compression CODEC            zstd, snappy, gzip, lz4_raw or uncompressed\n\n%s",
            usage_global);
        return;
    case CLI_CMD_CONNECT:
        fprintf(out,
                "Usage: otlp2parquet connect otel-collector|claude-code|codex [--url URL]\n\n"
                "Print ready-to-paste configuration that sends telemetry to this server:\n"
                "  otel-collector  a Collector pipeline with an otlp (gRPC) exporter; --http: "
                "otlphttp\n"
                "  claude-code     environment variables for Claude Code's OpenTelemetry export\n"
                "  codex           the [otel] section for ~/.codex/config.toml\n\n"
                "Options:\n"
                "  --url URL       the server's base URL (default: http://localhost:PORT from\n"
                "                  server.listen_addr, i.e. http://localhost:4318)\n\n%s",
                usage_global);
        return;
    case CLI_CMD_VERSION:
    case CLI_CMD_HELP:
        break;
    }
    fprintf(out,
            "otlp2parquet %s - receive OpenTelemetry (OTLP/HTTP) and write Parquet\n\n"
            "Usage:\n"
            "  otlp2parquet [serve]                 run the server (default command)\n"
            "  otlp2parquet convert IN... -o DIR    convert OTLP files to Parquet, offline\n"
            "  otlp2parquet connect TARGET [--url URL]\n"
            "                                       print config for otel-collector, claude-code "
            "or codex\n"
            "  otlp2parquet --version | --help | help COMMAND\n\n%s"
            "\nConfiguration: TOML file, then OTLP2PARQUET_* environment variables, then flags.\n"
            "See config.example.toml for every key.\n",
            O2P_VERSION, usage_global);
}
