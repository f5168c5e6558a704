// The filter flags that backup and restore share, with Velero's names and meanings.
import type { Command } from "commander";
import { DEFAULT_SELECTION, type Selection } from "../backup/spec.js";
import { repeatable } from "./repeatable.js";

export interface SelectionFlags {
  includeNamespaces?: string[];
  excludeNamespaces?: string[];
  includeResources?: string[];
  excludeResources?: string[];
  selector?: string;
  orSelector?: string[];
}

export function addSelectionFlags(command: Command, what: string): Command {
  return command
    .option("--include-namespaces <ns>", `namespaces to ${what}, globs allowed (default *)`, repeatable)
    .option("--exclude-namespaces <ns>", "namespaces to leave out, globs allowed", repeatable)
    .option(
      "--include-resources <r>",
      `resources to ${what}: plural, short name or resource.group`,
      repeatable,
    )
    .option("--exclude-resources <r>", "resources to leave out", repeatable)
    .option("-l, --selector <selector>", "only objects whose labels match (kubectl syntax)")
    .option(
      "--or-selector <selector>",
      "objects matching any of these selectors (repeatable)",
      // Not split on commas: a selector has its own.
      (v: string, p: string[] = []) => [...p, v],
    );
}

export function selectionFrom(flags: SelectionFlags): Selection {
  return {
    includeNamespaces: flags.includeNamespaces ?? DEFAULT_SELECTION.includeNamespaces,
    excludeNamespaces: flags.excludeNamespaces ?? [],
    includeResources: flags.includeResources ?? DEFAULT_SELECTION.includeResources,
    excludeResources: flags.excludeResources ?? [],
    ...(flags.selector ? { selector: flags.selector } : {}),
    orSelectors: flags.orSelector ?? [],
  };
}
