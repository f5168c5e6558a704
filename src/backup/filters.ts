// Which namespaces and resource types a backup covers, with Velero's meanings: namespace globs,
// resources by plural, singular-ish kind, short name or resource.group, and `*` for all.
import { groupResource, type ApiResource } from "../kube/resources.js";
import { parseSelector, type LabelSelector } from "../kube/selector.js";
import type { BackupSpec } from "./spec.js";

/** `*` and `?` globs, anchored. */
export function globMatcher(patterns: string[]): (value: string) => boolean {
  const res = patterns.map(
    (p) =>
      new RegExp(
        `^${p
          .replace(/[.+^${}()|[\]\\]/g, "\\$&")
          .replace(/\*/g, ".*")
          .replace(/\?/g, ".")}$`,
      ),
  );
  return (value) => res.some((re) => re.test(value));
}

export class NamespaceFilter {
  private readonly include: (ns: string) => boolean;
  private readonly exclude: (ns: string) => boolean;
  /** No namespace is left out by name. */
  readonly all: boolean;
  /** Every namespace but a few: one cluster-wide list, filtered here, beats one per namespace. */
  readonly mostly: boolean;

  constructor(spec: Pick<BackupSpec, "includeNamespaces" | "excludeNamespaces">) {
    const include = spec.includeNamespaces.length ? spec.includeNamespaces : ["*"];
    this.include = globMatcher(include);
    this.exclude = globMatcher(spec.excludeNamespaces);
    this.mostly = include.includes("*");
    this.all = this.mostly && spec.excludeNamespaces.length === 0;
  }

  matches(ns: string): boolean {
    return this.include(ns) && !this.exclude(ns);
  }
}

/** Does `pattern` name this resource, the way kubectl and Velero resolve names? */
export function namesResource(pattern: string, r: ApiResource): boolean {
  const p = pattern.toLowerCase();
  if (p === "*") return true;
  const dot = p.indexOf(".");
  const [name, group] = dot < 0 ? [p, undefined] : [p.slice(0, dot), p.slice(dot + 1)];
  if (group !== undefined && group !== r.group) return false;
  return name === r.resource || name === r.kind.toLowerCase() || r.shortNames.includes(name);
}

export class ResourceFilter {
  private readonly include: string[];
  private readonly exclude: string[];

  constructor(spec: Pick<BackupSpec, "includeResources" | "excludeResources">) {
    this.include = spec.includeResources.length ? spec.includeResources : ["*"];
    this.exclude = spec.excludeResources;
  }

  /** Chosen by the include patterns and not excluded. */
  includes(r: ApiResource): boolean {
    return this.include.some((p) => namesResource(p, r)) && !this.excluded(r);
  }

  /** Named by an exclude pattern: this wins even over items that others depend on. */
  excluded(r: ApiResource): boolean {
    return this.exclude.some((p) => namesResource(p, r));
  }

  /** Include and exclude patterns that name nothing the cluster serves (typos, missing CRDs). */
  unresolved(resources: ApiResource[]): string[] {
    return [...this.include, ...this.exclude].filter(
      (p) => p !== "*" && !resources.some((r) => namesResource(p, r)),
    );
  }
}

export class LabelFilter {
  private readonly selectors: LabelSelector[];
  /** A single selector the API server can apply itself, saving the transfer. */
  readonly serverSide: string | undefined;

  constructor(spec: Pick<BackupSpec, "selector" | "orSelectors">) {
    const texts = spec.selector ? [spec.selector] : spec.orSelectors;
    this.selectors = texts.map(parseSelector);
    this.serverSide = spec.selector;
  }

  get active(): boolean {
    return this.selectors.length > 0;
  }

  matches(labels: Record<string, string> | undefined): boolean {
    return this.selectors.length === 0 || this.selectors.some((s) => s.matches(labels));
  }
}

/** Resource types never backed up, and why; the reason goes into the backup's results. */
export function neverBackedUp(r: ApiResource): string | undefined {
  const gr = groupResource(r);
  if (gr === "events" || gr === "events.events.k8s.io")
    return "events are a record of the past, not state to restore";
  if (/reviews$/.test(r.resource) || r.resource === "tokenrequests")
    return "review and token kinds are requests, not stored objects";
  if (!r.verbs.includes("list")) return "the API server cannot list it";
  return undefined;
}
