/*
 * connect: prints configuration snippets that point other tools at this
 * server (`otlp2parquet connect TARGET`).
 *
 * The snippets follow each tool's documented settings at the time of
 * writing: the Collector's otlp (gRPC, the default) or otlphttp (--http) exporter, Claude Code's
 * OTel environment variables (CLAUDE_CODE_ENABLE_TELEMETRY, OTEL_*), and Codex's [otel] section in
 * ~/.codex/config.toml.  The bearer token, when the server needs one, is never printed: the
 * snippets read it from $OTLP2PARQUET_AUTH_TOKEN.
 */
#include <string.h>

#include "cli/cli.h"

/* Base URL without a trailing '/': --url, else from the listen address. */
static void base_url(const cfg_config *cfg, const cli_args *args, char *out, size_t size)
{
    if (args->url) {
        size_t len = strlen(args->url);
        while (len > 0 && args->url[len - 1] == '/') len--;
        snprintf(out, size, "%.*s", (int)len, args->url);
        return;
    }
    const char *host = cfg->server.listen_host;
    /* A wildcard address is where the server listens, not where to connect. */
    if (host == NULL || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0) host = "localhost";
    unsigned port = cfg->server.listen_port ? cfg->server.listen_port : 4318;
    const char *scheme = cfg->server.tls.cert_file ? "https" : "http";
    snprintf(out, size, strchr(host, ':') ? "%s://[%s]:%u" : "%s://%s:%u", scheme, host, port);
}

/* The exporter's tls block when the server speaks TLS (server.tls.*). */
static void print_collector_tls(FILE *out, const cfg_config *cfg)
{
    if (cfg->server.tls.cert_file == NULL) return;
    fprintf(out, "    tls:\n"
                 "      # the CA that signed otlp2parquet's server.tls.cert_file\n"
                 "      ca_file: /path/to/ca.pem\n");
    if (cfg->server.tls.client_ca_file)
        fprintf(out, "      # mutual TLS: a client certificate signed by a CA in otlp2parquet's\n"
                     "      # server.tls.client_ca_file\n"
                     "      cert_file: /path/to/client.pem\n"
                     "      key_file: /path/to/client.key\n");
}

/* The gRPC target: --url as given, else host:port of grpc_listen_addr. */
static void grpc_target(const cfg_config *cfg, const cli_args *args, char *out, size_t size)
{
    if (args->url) {
        base_url(cfg, args, out, size);
        return;
    }
    const char *host = cfg->server.grpc_listen_host;
    if (host == NULL || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0) host = "localhost";
    unsigned port = cfg->server.grpc_listen_port ? cfg->server.grpc_listen_port : 4317;
    snprintf(out, size, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
}

static void print_collector(FILE *out, const char *url, int auth, int grpc, const cfg_config *cfg)
{
    const char *exporter = grpc ? "otlp/otlp2parquet" : "otlphttp/otlp2parquet";
    fprintf(out,
            "# OpenTelemetry Collector configuration: forward logs, traces and metrics to\n"
            "# otlp2parquet at %s (%s).  Merge into your collector config (e.g. config.yaml).\n"
            "receivers:\n"
            "  otlp:\n"
            "    protocols:\n"
            "      grpc:\n"
            "        # 4317 and 4318 are otlp2parquet's own default ports; pick others if both\n"
            "        # run on one host.\n"
            "        endpoint: 0.0.0.0:%s\n"
            "      http:\n"
            "        endpoint: 0.0.0.0:4319\n"
            "\n"
            "processors:\n"
            "  batch:\n"
            "    send_batch_size: 8192\n"
            "    timeout: 5s\n"
            "\n"
            "exporters:\n"
            "  %s:\n"
            "    endpoint: %s\n"
            "    compression: gzip\n",
            url, grpc ? "OTLP/gRPC" : "OTLP/HTTP", grpc ? "4316" : "4317", exporter, url);
    if (grpc && cfg->server.tls.cert_file == NULL)
        fprintf(out, "    tls:\n"
                     "      insecure: true\n");
    print_collector_tls(out, cfg);
    if (!grpc) fprintf(out, "    encoding: proto\n");
    if (auth)
        fprintf(out,
                "    headers:\n"
                "      %s: \"Bearer ${env:OTLP2PARQUET_AUTH_TOKEN}\"\n",
                grpc ? "authorization" : "Authorization");
    fprintf(out, "    retry_on_failure:\n"
                 "      enabled: true\n"
                 "\n"
                 "service:\n"
                 "  pipelines:\n");
    static const char *const signals[] = {"logs", "traces", "metrics"};
    for (int i = 0; i < 3; i++)
        fprintf(out,
                "    %s:\n"
                "      receivers: [otlp]\n"
                "      processors: [batch]\n"
                "      exporters: [%s]\n",
                signals[i], exporter);
}

static void print_claude_code(FILE *out, const char *url, int auth)
{
    fprintf(out,
            "# Claude Code: export metrics and events (logs) to otlp2parquet at %s.\n"
            "# Paste into your shell (or ~/.bashrc / ~/.zshrc) before starting `claude`.\n"
            "export CLAUDE_CODE_ENABLE_TELEMETRY=1\n"
            "export OTEL_METRICS_EXPORTER=otlp\n"
            "export OTEL_LOGS_EXPORTER=otlp\n"
            "export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf\n"
            "export OTEL_EXPORTER_OTLP_ENDPOINT=%s\n",
            url, url);
    if (auth)
        fprintf(out, "export OTEL_EXPORTER_OTLP_HEADERS=\"Authorization=Bearer "
                     "${OTLP2PARQUET_AUTH_TOKEN}\"\n");
    fprintf(out, "# Optional: export more often than the defaults (metrics 60 s, logs 5 s).\n"
                 "export OTEL_METRIC_EXPORT_INTERVAL=10000\n");
}

static void print_codex(FILE *out, const char *url, int auth)
{
    fprintf(out,
            "# Codex: send its OpenTelemetry log events to otlp2parquet at %s.\n"
            "# Add to ~/.codex/config.toml (Codex exports logs over OTLP/HTTP).\n"
            "[otel]\n"
            "environment = \"dev\"\n"
            "log_user_prompt = false\n",
            url);
    if (auth)
        fprintf(out,
                "exporter = { otlp-http = { endpoint = \"%s/v1/logs\", protocol = \"binary\", "
                "headers = { \"Authorization\" = \"Bearer ${OTLP2PARQUET_AUTH_TOKEN}\" } } }\n",
                url);
    else
        fprintf(out,
                "exporter = { otlp-http = { endpoint = \"%s/v1/logs\", protocol = \"binary\" } }\n",
                url);
}

int cli_connect(const cfg_config *cfg, const cli_args *args, FILE *out, o2p_error *err)
{
    char url[1024];
    base_url(cfg, args, url, sizeof url);
    int auth = cfg->server.auth_token != NULL;
    switch (args->connect_target) {
    case CLI_CONNECT_OTEL_COLLECTOR:
        if (args->connect_http || cfg->server.grpc_listen_addr == NULL) {
            print_collector(out, url, auth, 0, cfg);
        } else {
            char target[1024];
            grpc_target(cfg, args, target, sizeof target);
            print_collector(out, target, auth, 1, cfg);
        }
        break;
    case CLI_CONNECT_CLAUDE_CODE:
        print_claude_code(out, url, auth);
        break;
    case CLI_CONNECT_CODEX:
        print_codex(out, url, auth);
        break;
    }
    if (fflush(out) != 0 || ferror(out))
        return o2p_errorf(err, O2P_EIO, "connect: cannot write the output");
    return O2P_OK;
}
