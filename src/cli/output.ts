// The -o flag shared by every command that prints an object: a table for people, JSON or YAML
// for scripts.
import { Option } from "commander";
import { yaml } from "../common/yaml.js";

export const OUTPUT_FORMATS = ["table", "json", "yaml"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function outputOption(): Option {
  return new Option("-o, --output <format>", "output format").choices(OUTPUT_FORMATS).default("table");
}

export function printOutput(format: string, value: unknown, table: () => string): void {
  if (format === "json") process.stdout.write(JSON.stringify(value, null, 2) + "\n");
  else if (format === "yaml") process.stdout.write(yaml().stringify(value));
  else process.stdout.write(table() + "\n");
}

/** Columns padded to their widest cell, two spaces apart, as kubectl prints them. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}
