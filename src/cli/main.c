/*
 * main: the otlp2parquet program.  Parses the command line, assembles the
 * configuration (file, environment, flags), sets up logging and runs the
 * command.  Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "config/cfg.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/version.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

static int run(const cli_args *args)
{
    cfg_sources src = {.config_path = args->config_path,
                       .getenv = cfg_process_getenv,
                       .flags = cli_cfg_flags(args)};
    cfg_config cfg;
    o2p_error err;
    o2p_error_clear(&err);
    if (cfg_load(&cfg, &src, &err) < 0) {
        fprintf(stderr, "otlp2parquet: %s\n", err.msg);
        return EXIT_USAGE;
    }
    log_init(cfg.server.log_level, cfg.server.log_format, stderr);

    int code = EXIT_OK;
    switch (args->command) {
    case CLI_CMD_SERVE:
        code = cli_serve(&cfg);
        break;
    case CLI_CMD_CONVERT:
        code = cli_convert(&cfg, args);
        break;
    case CLI_CMD_CONNECT:
        if (cli_connect(&cfg, args, stdout, &err) < 0) {
            fprintf(stderr, "otlp2parquet: %s\n", err.msg);
            code = EXIT_RUNTIME;
        }
        break;
    case CLI_CMD_VERSION:
    case CLI_CMD_HELP:
        break; /* handled before the config is loaded */
    }
    cfg_free(&cfg);
    return code;
}

int main(int argc, char **argv)
{
    cli_args args;
    o2p_error err;
    o2p_error_clear(&err);
    mem_tune_for_large_buffers();
    if (cli_parse_args(&args, argc, argv, &err) < 0) {
        fprintf(stderr, "otlp2parquet: %s\nTry 'otlp2parquet --help'.\n", err.msg);
        return EXIT_USAGE;
    }
    int code;
    if (args.command == CLI_CMD_HELP) {
        cli_print_usage(stdout, args.help_command);
        code = EXIT_OK;
    } else if (args.command == CLI_CMD_VERSION) {
        printf("otlp2parquet %s\n", O2P_VERSION);
        code = EXIT_OK;
    } else {
        code = run(&args);
    }
    cli_args_free(&args);
    if (fflush(stdout) != 0 && code == EXIT_OK) code = EXIT_RUNTIME;
    return code;
}
