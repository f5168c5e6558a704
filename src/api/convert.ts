// From the CRs' Velero-style fields to the engines' specs, checked with the same rules as the
// CLI's flags; and back, for `arca backup create` without --local.
import type { BackupSpec as EngineBackupSpec, Selection } from "../backup/spec.js";
import { checkSpec, DEFAULT_SELECTION } from "../backup/spec.js";
import {
  checkRestoreSpec,
  DEFAULT_RESTORE_SPEC,
  type RestoreSpec as EngineRestoreSpec,
} from "../restore/spec.js";
import type { BackupSpec } from "./backup.js";
import type { RestoreSpec } from "./restore.js";

type SelectionCr = Pick<
  BackupSpec,
  | "includedNamespaces"
  | "excludedNamespaces"
  | "includedResources"
  | "excludedResources"
  | "labelSelector"
  | "orLabelSelectors"
>;

export function selectionOf(cr: SelectionCr): Selection {
  return {
    includeNamespaces: cr.includedNamespaces?.length
      ? cr.includedNamespaces
      : DEFAULT_SELECTION.includeNamespaces,
    excludeNamespaces: cr.excludedNamespaces ?? [],
    includeResources: cr.includedResources?.length
      ? cr.includedResources
      : DEFAULT_SELECTION.includeResources,
    excludeResources: cr.excludedResources ?? [],
    selector: cr.labelSelector || undefined,
    orSelectors: cr.orLabelSelectors ?? [],
  };
}

export function selectionFields(s: Selection): SelectionCr {
  return {
    includedNamespaces: s.includeNamespaces,
    excludedNamespaces: s.excludeNamespaces.length ? s.excludeNamespaces : undefined,
    includedResources: s.includeResources,
    excludedResources: s.excludeResources.length ? s.excludeResources : undefined,
    labelSelector: s.selector,
    orLabelSelectors: s.orSelectors.length ? s.orSelectors : undefined,
  };
}

/** Throws ArcaError with what to fix when the fields conflict or do not parse. */
export function backupSpecOf(cr: BackupSpec, defaultTtl?: string): EngineBackupSpec {
  return checkSpec({
    ...selectionOf(cr),
    includeClusterResources:
      cr.includeClusterResources === undefined ? "auto" : cr.includeClusterResources ? "true" : "false",
    allVersions: cr.allVersions ?? false,
    ttl: cr.ttl ?? defaultTtl,
  });
}

export function backupFields(spec: EngineBackupSpec): BackupSpec {
  return {
    ...selectionFields(spec),
    includeClusterResources:
      spec.includeClusterResources === "auto" ? undefined : spec.includeClusterResources === "true",
    allVersions: spec.allVersions || undefined,
    ttl: spec.ttl,
  };
}

export function restoreSpecOf(cr: RestoreSpec): EngineRestoreSpec {
  return checkRestoreSpec({
    ...DEFAULT_RESTORE_SPEC,
    ...selectionOf(cr),
    backup: cr.backupName,
    namespaceMappings: cr.namespaceMapping ?? {},
    storageClassMappings: cr.storageClassMapping ?? {},
    existingResourcePolicy: cr.existingResourcePolicy ?? "none",
    restoreStatus: cr.restoreStatus ?? false,
    preserveNodePorts: cr.preserveNodePorts ?? false,
  });
}

export function restoreFields(spec: EngineRestoreSpec, dryRun: boolean): RestoreSpec {
  return {
    backupName: spec.backup,
    ...selectionFields(spec),
    namespaceMapping: Object.keys(spec.namespaceMappings).length ? spec.namespaceMappings : undefined,
    storageClassMapping: Object.keys(spec.storageClassMappings).length
      ? spec.storageClassMappings
      : undefined,
    existingResourcePolicy: spec.existingResourcePolicy,
    restoreStatus: spec.restoreStatus || undefined,
    preserveNodePorts: spec.preserveNodePorts || undefined,
    dryRun: dryRun || undefined,
  };
}
