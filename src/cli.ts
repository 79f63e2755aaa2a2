import { parseArgs } from "node:util";

export interface CliOptions {
  config: string | undefined;
  checkConfig: boolean;
  help: boolean;
  version: boolean;
}

export const USAGE = `Usage: mucgate [--config FILE] [--check-config] [--version] [--help]

  --config FILE    TOML configuration (every key may also come from MUCGATE_<KEY>)
  --check-config   validate the configuration, print the problems, exit 0 or 1
  --version        print the version
  --help           print this help`;

/** Command-line flags; throws a TypeError with a readable message on unknown flags. */
export function parseCli(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: "string", short: "c" },
      "check-config": { type: "boolean" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
    },
    strict: true,
    allowPositionals: false,
  });
  return {
    config: values.config,
    checkConfig: values["check-config"] ?? false,
    help: values.help ?? false,
    version: values.version ?? false,
  };
}
