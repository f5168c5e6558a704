// The yaml package, loaded when something first parses or prints YAML: its modules take about
// 40 ms to load, which every CLI run paid before it could start. require keeps the callers
// synchronous; yaml is CommonJS on Node, so this is the instance an import would give.
import { createRequire } from "node:module";
import type * as Yaml from "yaml";

export const yaml = (): typeof Yaml => createRequire(import.meta.url)("yaml") as typeof Yaml;
