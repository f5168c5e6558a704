// A dynamic provisioner of host-folder volumes for a test node, run as its own process:
//   node --import tsx test/env/provisioner.ts KUBECONFIG NODE_NAME VOLUMES_DIR
// Claims of the StorageClass arca-local wait for their first Pod (WaitForFirstConsumer); once
// the scheduler has picked the node, a folder is made and a `local` PersistentVolume bound to the
// claim. A released volume's folder and PV are deleted. Real clusters provision the same way
// (local-path-provisioner), so restores that recreate claims get volumes as they would there.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CoreV1Api,
  KubeConfig,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
} from "@kubernetes/client-node";
import { LOCAL_PROVISIONER, LOCAL_STORAGE_CLASS } from "./node.js";

const [kubeconfig, nodeName, volumesDir] = process.argv.slice(2);
if (!kubeconfig || !nodeName || !volumesDir) {
  process.stderr.write("usage: provisioner.ts KUBECONFIG NODE_NAME VOLUMES_DIR\n");
  process.exit(2);
}

const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const core = kc.makeApiClient(CoreV1Api);

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} ${message}\n`);
}

function volumeFor(claim: V1PersistentVolumeClaim, path: string): V1PersistentVolume {
  const meta = claim.metadata!;
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: {
      name: `pvc-${meta.uid}`,
      annotations: { "pv.kubernetes.io/provisioned-by": LOCAL_PROVISIONER },
    },
    spec: {
      capacity: { storage: claim.spec?.resources?.requests?.storage ?? "1Gi" },
      accessModes: claim.spec?.accessModes ?? ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Delete",
      storageClassName: LOCAL_STORAGE_CLASS,
      volumeMode: "Filesystem",
      claimRef: {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        namespace: meta.namespace,
        name: meta.name,
        uid: meta.uid,
      },
      local: { path },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [nodeName!] }] },
          ],
        },
      },
    },
  };
}

async function provision(): Promise<void> {
  const claims = await core.listPersistentVolumeClaimForAllNamespaces();
  for (const claim of claims.items) {
    const meta = claim.metadata!;
    const annotations = meta.annotations ?? {};
    if (
      claim.spec?.storageClassName !== LOCAL_STORAGE_CLASS ||
      claim.status?.phase !== "Pending" ||
      claim.spec.volumeName ||
      annotations["volume.kubernetes.io/selected-node"] !== nodeName
    )
      continue;
    const path = join(volumesDir!, `${meta.namespace}_${meta.name}_${meta.uid}`);
    mkdirSync(path, { recursive: true, mode: 0o777 });
    try {
      await core.createPersistentVolume({ body: volumeFor(claim, path) });
      log(`provisioned ${path} for ${meta.namespace}/${meta.name}`);
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
    }
  }
}

async function reclaim(): Promise<void> {
  const volumes = await core.listPersistentVolume();
  for (const pv of volumes.items) {
    const provisioned = pv.metadata?.annotations?.["pv.kubernetes.io/provisioned-by"] === LOCAL_PROVISIONER;
    if (
      !provisioned ||
      pv.status?.phase !== "Released" ||
      pv.spec?.persistentVolumeReclaimPolicy !== "Delete"
    )
      continue;
    const path = pv.spec.local?.path;
    if (path?.startsWith(`${volumesDir}/`)) rmSync(path, { recursive: true, force: true });
    try {
      await core.deletePersistentVolume({ name: pv.metadata!.name! });
      log(`deleted ${pv.metadata!.name} and ${path}`);
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
  }
}

let stopping = false;
process.once("SIGTERM", () => (stopping = true));
log(`provisioning ${LOCAL_STORAGE_CLASS} volumes for node ${nodeName} in ${volumesDir}`);
while (!stopping) {
  try {
    await provision();
    await reclaim();
  } catch (err) {
    log(`error (retrying): ${err instanceof Error ? err.message : String(err)}`);
  }
  await sleep(500);
}
