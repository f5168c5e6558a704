// The -o flag shared by every command that prints an object: a table for people, JSON or YAML
// for scripts.
import { Option } from "commander";
import { stringify } from "yaml";

export const OUTPUT_FORMATS = ["table", "json", "yaml"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function outputOption(): Option {
  return new Option("-o, --output <format>", "output format").choices(OUTPUT_FORMATS).default("table");
}

export function printOutput(format: string, value: unknown, table: () => string): void {
  if (format === "json") process.stdout.write(JSON.stringify(value, null, 2) + "\n");
  else if (format === "yaml") process.stdout.write(stringify(value));
  else process.stdout.write(table() + "\n");
}
