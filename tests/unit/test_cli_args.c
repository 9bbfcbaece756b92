/* Unit tests for src/cli/args.c and connect.c: command-line parsing and snippets. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "unit.h"

/* Parses a NULL-terminated word list (the program name is added). */
static int parse_words(cli_args *args, o2p_error *err, const char *const *words)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)"otlp2parquet";
    for (size_t i = 0; words[i]; i++) argv[argc++] = (char *)words[i];
    argv[argc] = NULL;
    o2p_error_clear(err);
    return cli_parse_args(args, argc, argv, err);
}

#define PARSE(args, err, ...) parse_words((args), (err), (const char *const[]){__VA_ARGS__, NULL})

static void expect_usage_error(const char *want, const char *const *words)
{
    cli_args args;
    o2p_error err;
    int rc = parse_words(&args, &err, words);
    CHECK_MSG(rc == O2P_EINVAL, "expected a usage error containing \"%s\"", want);
    CHECK_MSG(strstr(err.msg, want) != NULL, "message \"%s\" lacks \"%s\"", err.msg, want);
    cli_args_free(&args);
}

#define EXPECT_USAGE_ERROR(want, ...)                                                              \
    expect_usage_error((want), (const char *const[]){__VA_ARGS__, NULL})

TEST(cli_default_command_is_serve)
{
    cli_args args;
    o2p_error err;
    char *argv[] = {(char *)"otlp2parquet", NULL};
    CHECK_OK(cli_parse_args(&args, 1, argv, &err));
    CHECK_INT(args.command, CLI_CMD_SERVE);
    CHECK_INT(args.command_given, 0);
    CHECK(args.port == NULL && args.config_path == NULL);
    cli_args_free(&args);
}

TEST(cli_global_flags_before_or_after_command)
{
    cli_args args;
    o2p_error err;
    CHECK_OK(PARSE(&args, &err, "serve", "-p", "4318"));
    CHECK_INT(args.command, CLI_CMD_SERVE);
    CHECK_STR(args.port, "4318");
    cli_args_free(&args);

    CHECK_OK(PARSE(&args, &err, "-p", "4318", "serve"));
    CHECK_INT(args.command, CLI_CMD_SERVE);
    CHECK_STR(args.port, "4318");
    cli_args_free(&args);

    CHECK_OK(PARSE(&args, &err, "--config=/etc/o2p.toml", "-v", "debug", "serve", "--output",
                   "/tmp/out", "-p9000"));
    CHECK_STR(args.config_path, "/etc/o2p.toml");
    CHECK_STR(args.log_level, "debug");
    CHECK_STR(args.output_dir, "/tmp/out");
    CHECK_STR(args.port, "9000");
    cfg_flags flags = cli_cfg_flags(&args);
    CHECK_STR(flags.port, "9000");
    CHECK_STR(flags.output_dir, "/tmp/out");
    CHECK_STR(flags.log_level, "debug");
    CHECK(flags.compression == NULL);
    cli_args_free(&args);

    CHECK_OK(PARSE(&args, &err, "-c", "a.toml", "--log-level=trace", "--port=1"));
    CHECK_STR(args.config_path, "a.toml");
    CHECK_STR(args.log_level, "trace");
    CHECK_STR(args.port, "1");
    cli_args_free(&args);
}

TEST(cli_convert_inputs_and_options)
{
    cli_args args;
    o2p_error err;
    CHECK_OK(PARSE(&args, &err, "convert", "a.pb", "-o", "out", "b.json.gz", "--signal", "traces",
                   "--format=jsonl", "--compression", "snappy", "--", "-dash.pb"));
    CHECK_INT(args.command, CLI_CMD_CONVERT);
    CHECK_INT(args.positional_count, 3);
    CHECK_STR(args.positional[0], "a.pb");
    CHECK_STR(args.positional[1], "b.json.gz");
    CHECK_STR(args.positional[2], "-dash.pb");
    CHECK_STR(args.output_dir, "out");
    CHECK_INT(args.signal, CLI_SIGNAL_TRACES);
    CHECK_INT(args.format, CLI_FORMAT_JSONL);
    CHECK_STR(args.compression, "snappy");
    CHECK_STR(cli_cfg_flags(&args).compression, "snappy");
    cli_args_free(&args);

    CHECK_OK(PARSE(&args, &err, "convert", "-"));
    CHECK_INT(args.signal, CLI_SIGNAL_AUTO);
    CHECK_INT(args.format, CLI_FORMAT_AUTO);
    CHECK_STR(args.positional[0], "-");
    cli_args_free(&args);
}

TEST(cli_connect_targets_and_url)
{
    cli_args args;
    o2p_error err;
    CHECK_OK(PARSE(&args, &err, "connect", "claude-code", "--url", "http://collector:4318/"));
    CHECK_INT(args.command, CLI_CMD_CONNECT);
    CHECK_INT(args.connect_target, CLI_CONNECT_CLAUDE_CODE);
    CHECK_STR(args.url, "http://collector:4318/");
    cli_args_free(&args);
    CHECK_OK(PARSE(&args, &err, "--url=https://x", "connect", "codex"));
    CHECK_INT(args.connect_target, CLI_CONNECT_CODEX);
    cli_args_free(&args);
    CHECK_OK(PARSE(&args, &err, "connect", "otel-collector"));
    CHECK_INT(args.connect_target, CLI_CONNECT_OTEL_COLLECTOR);
    CHECK(args.url == NULL);
    cli_args_free(&args);
}

TEST(cli_help_and_version)
{
    cli_args args;
    o2p_error err;
    CHECK_OK(PARSE(&args, &err, "--help"));
    CHECK_INT(args.command, CLI_CMD_HELP);
    CHECK_INT(args.help_command, CLI_CMD_HELP);
    cli_args_free(&args);
    CHECK_OK(PARSE(&args, &err, "convert", "-h"));
    CHECK_INT(args.command, CLI_CMD_HELP);
    CHECK_INT(args.help_command, CLI_CMD_CONVERT);
    cli_args_free(&args);
    /* --help wins even over an otherwise incomplete command line. */
    CHECK_OK(PARSE(&args, &err, "connect", "--help"));
    CHECK_INT(args.help_command, CLI_CMD_CONNECT);
    cli_args_free(&args);
    CHECK_OK(PARSE(&args, &err, "help", "connect"));
    CHECK_INT(args.command, CLI_CMD_HELP);
    CHECK_INT(args.help_command, CLI_CMD_CONNECT);
    cli_args_free(&args);
    CHECK_OK(PARSE(&args, &err, "--version"));
    CHECK_INT(args.command, CLI_CMD_VERSION);
    cli_args_free(&args);
    CHECK_OK(PARSE(&args, &err, "-V"));
    CHECK_INT(args.command, CLI_CMD_VERSION);
    cli_args_free(&args);

    /* Every usage text mentions its command and the global flags. */
    char path[512];
    snprintf(path, sizeof path, "%s/usage.txt", unit_tmpdir());
    const cli_command cmds[] = {CLI_CMD_HELP, CLI_CMD_SERVE, CLI_CMD_CONVERT, CLI_CMD_CONNECT};
    const char *words[] = {"Usage:", "serve", "convert", "connect"};
    for (int i = 0; i < 4; i++) {
        FILE *f = fopen(path, "w+");
        CHECK(f != NULL);
        cli_print_usage(f, cmds[i]);
        rewind(f);
        char text[8192];
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = 0;
        fclose(f);
        CHECK(strstr(text, words[i]) != NULL);
        CHECK(strstr(text, "-p, --port PORT") != NULL);
    }
}

TEST(cli_usage_errors_name_the_argument)
{
    EXPECT_USAGE_ERROR("unknown option '--frobnicate'", "--frobnicate");
    EXPECT_USAGE_ERROR("unknown option '-x'", "serve", "-x");
    EXPECT_USAGE_ERROR("unknown command 'srve'", "srve");
    EXPECT_USAGE_ERROR("option '-p' needs a value", "serve", "-p");
    EXPECT_USAGE_ERROR("option '--config' needs a value", "--config");
    EXPECT_USAGE_ERROR("option '--help' takes no value", "--help=yes");
    EXPECT_USAGE_ERROR("serve takes no arguments (got 'extra')", "serve", "extra");
    EXPECT_USAGE_ERROR("convert needs at least one input file", "convert", "-o", "out");
    EXPECT_USAGE_ERROR("connect needs one target", "connect");
    EXPECT_USAGE_ERROR("connect: unknown target 'grafana'", "connect", "grafana");
    EXPECT_USAGE_ERROR("option '--url' is only valid with 'connect'", "serve", "--url", "http://x");
    EXPECT_USAGE_ERROR("option '--signal' is only valid with 'convert'", "--signal", "logs");
    EXPECT_USAGE_ERROR("--signal 'spans'", "convert", "a", "--signal", "spans");
    EXPECT_USAGE_ERROR("--format 'xml'", "convert", "a", "--format", "xml");
    EXPECT_USAGE_ERROR("--url 'localhost:4318'", "connect", "codex", "--url", "localhost:4318");
    EXPECT_USAGE_ERROR("help: unknown command 'nope'", "help", "nope");
}

static const char *fake_getenv(const char *name, void *ctx)
{
    const char *const *pairs = ctx;
    for (size_t i = 0; pairs[i]; i += 2)
        if (strcmp(pairs[i], name) == 0) return pairs[i + 1];
    return NULL;
}

/* Runs cli_connect and returns its output (static storage). */
static const char *connect_output(const cfg_config *cfg, const char *const *words)
{
    static char text[8192];
    cli_args args;
    o2p_error err;
    CHECK_OK(parse_words(&args, &err, words));
    char path[512];
    snprintf(path, sizeof path, "%s/connect.txt", unit_tmpdir());
    FILE *f = fopen(path, "w+");
    CHECK(f != NULL);
    CHECK_OK(cli_connect(cfg, &args, f, &err));
    rewind(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    cli_args_free(&args);
    return text;
}

#define CONNECT(cfg, ...) connect_output((cfg), (const char *const[]){__VA_ARGS__, NULL})

TEST(cli_connect_snippets)
{
    cfg_config cfg;
    o2p_error err;
    cfg_sources src = {.search_dir = unit_tmpdir()};
    CHECK_OK(cfg_load(&cfg, &src, &err));

    const char *grpc = CONNECT(&cfg, "connect", "otel-collector");
    CHECK(strstr(grpc, "  otlp/otlp2parquet:\n    endpoint: localhost:4317\n    compression: gzip\n"
                       "    tls:\n      insecure: true\n") != NULL);
    CHECK(strstr(grpc, "exporters: [otlp/otlp2parquet]") != NULL);
    CHECK(strstr(grpc, "endpoint: 0.0.0.0:4316") != NULL); /* the receiver leaves 4317 to us */
    const char *yaml = CONNECT(&cfg, "connect", "otel-collector", "--http");
    CHECK(strstr(yaml, "otlphttp/otlp2parquet:\n    endpoint: http://localhost:4318\n") != NULL);
    CHECK(strstr(yaml, "compression: gzip") != NULL);
    CHECK(strstr(yaml, "encoding: proto") != NULL);
    CHECK(strstr(yaml, "    logs:\n") && strstr(yaml, "    traces:\n") &&
          strstr(yaml, "    metrics:\n"));
    CHECK(strstr(yaml, "Authorization") == NULL);
    CHECK(strstr(yaml, "tls:") == NULL);

    const char *env =
        CONNECT(&cfg, "connect", "claude-code", "--url", "http://otel.internal:9000/");
    CHECK(strstr(env, "export CLAUDE_CODE_ENABLE_TELEMETRY=1\n") != NULL);
    CHECK(strstr(env, "export OTEL_METRICS_EXPORTER=otlp\n") != NULL);
    CHECK(strstr(env, "export OTEL_LOGS_EXPORTER=otlp\n") != NULL);
    CHECK(strstr(env, "export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf\n") != NULL);
    CHECK(strstr(env, "export OTEL_EXPORTER_OTLP_ENDPOINT=http://otel.internal:9000\n") != NULL);

    const char *codex = CONNECT(&cfg, "connect", "codex");
    CHECK(strstr(codex, "[otel]\n") != NULL);
    CHECK(strstr(codex, "exporter = { otlp-http = { endpoint = \"http://localhost:4318/v1/logs\", "
                        "protocol = \"binary\" } }") != NULL);
    cfg_free(&cfg);

    /* A specific listen address is used as is; a token is referenced, never printed. */
    const char *vars[] = {"OTLP2PARQUET_LISTEN_ADDR", "[::1]:5000", "OTLP2PARQUET_AUTH_TOKEN",
                          "SECRET123", NULL};
    src.getenv = fake_getenv;
    src.getenv_ctx = (void *)vars;
    CHECK_OK(cfg_load(&cfg, &src, &err));
    const char *all[3];
    all[0] = CONNECT(&cfg, "connect", "otel-collector", "--http");
    CHECK(strstr(all[0], "endpoint: http://[::1]:5000\n") != NULL);
    CHECK(strstr(all[0], "Bearer ${env:OTLP2PARQUET_AUTH_TOKEN}") != NULL);
    CHECK(strstr(all[0], "SECRET123") == NULL);
    all[1] = CONNECT(&cfg, "connect", "claude-code");
    CHECK(
        strstr(all[1],
               "OTEL_EXPORTER_OTLP_HEADERS=\"Authorization=Bearer ${OTLP2PARQUET_AUTH_TOKEN}\"") !=
        NULL);
    CHECK(strstr(all[1], "SECRET123") == NULL);
    all[2] = CONNECT(&cfg, "connect", "codex");
    CHECK(strstr(all[2], "SECRET123") == NULL);
    CHECK(strstr(all[2], "http://[::1]:5000/v1/logs") != NULL);
    cfg_free(&cfg);
}

TEST(cli_connect_with_tls)
{
    cfg_config cfg;
    o2p_error err;
    const char *vars[] = {"OTLP2PARQUET_TLS_CERT_FILE", "/etc/o2p/cert.pem",
                          "OTLP2PARQUET_TLS_KEY_FILE", "/etc/o2p/key.pem", NULL};
    cfg_sources src = {
        .search_dir = unit_tmpdir(), .getenv = fake_getenv, .getenv_ctx = (void *)vars};
    CHECK_OK(cfg_load(&cfg, &src, &err));
    const char *yaml = CONNECT(&cfg, "connect", "otel-collector", "--http");
    CHECK(strstr(yaml, "endpoint: https://localhost:4318\n") != NULL);
    CHECK(strstr(yaml, "    tls:\n      # the CA") != NULL);
    CHECK(strstr(yaml, "ca_file: /path/to/ca.pem") != NULL);
    yaml = CONNECT(&cfg, "connect", "otel-collector"); /* gRPC, the default */
    CHECK(strstr(yaml, "endpoint: localhost:4317\n") != NULL);
    CHECK(strstr(yaml, "insecure: true") == NULL);
    CHECK(strstr(yaml, "ca_file: /path/to/ca.pem") != NULL);
    CHECK(strstr(yaml, "key_file: /path/to/client.key") == NULL);
    cfg_free(&cfg);

    const char *mutual[] = {"OTLP2PARQUET_TLS_CERT_FILE",
                            "/etc/o2p/cert.pem",
                            "OTLP2PARQUET_TLS_KEY_FILE",
                            "/etc/o2p/key.pem",
                            "OTLP2PARQUET_TLS_CLIENT_CA_FILE",
                            "/etc/o2p/ca.pem",
                            NULL};
    src.getenv_ctx = (void *)mutual;
    CHECK_OK(cfg_load(&cfg, &src, &err));
    yaml = CONNECT(&cfg, "connect", "otel-collector");
    CHECK(strstr(yaml, "cert_file: /path/to/client.pem") != NULL);
    CHECK(strstr(yaml, "key_file: /path/to/client.key") != NULL);
    cfg_free(&cfg);
}
