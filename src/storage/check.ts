// `arca location check`: probes a location with a real write, read, list and delete of a
// temporary object, and says for each whether it is allowed and, if not, why and what to do.
import { randomBytes } from "node:crypto";
import { messageOf } from "../common/errors.js";
import { StorageError, type StorageErrorKind } from "./errors.js";
import type { Location } from "./location.js";
import type { ObjectStore } from "./types.js";

export type Probe = "write" | "read" | "list" | "delete";
export type ProbeResult = "OK" | "DENIED" | "FAILED" | "SKIPPED";

export interface ProbeReport {
  probe: Probe;
  result: ProbeResult;
  /** The permission this probe exercises, in the provider's policy language. */
  permission: string;
  detail: string;
  kind?: StorageErrorKind;
}

export interface CheckReport {
  location: string;
  ok: boolean;
  /** The one-line diagnosis when the location cannot be used at all. */
  problem?: string;
  hint?: string;
  probes: ProbeReport[];
}

const PERMISSIONS: Record<Location["provider"], Record<Probe, string>> = {
  s3: { write: "s3:PutObject", read: "s3:GetObject", list: "s3:ListBucket", delete: "s3:DeleteObject" },
  oss: { write: "oss:PutObject", read: "oss:GetObject", list: "oss:ListObjects", delete: "oss:DeleteObject" },
  file: {
    write: "write access",
    read: "read access",
    list: "read access to directories",
    delete: "write access",
  },
};

/** Failures that make every other probe pointless, with the operator's words for them. */
const FATAL: Partial<Record<StorageErrorKind, string>> = {
  "no-such-bucket": "the bucket does not exist",
  "bad-credentials":
    "the credentials are missing or not valid (unknown access key, wrong secret or expired token)",
  "wrong-region": "the bucket is not in this region, or the endpoint is wrong for it",
  unreachable: "the store is unreachable over the network",
  timeout: "the store did not answer in time",
};

export async function checkLocation(
  store: ObjectStore,
  provider: Location["provider"],
  signal?: AbortSignal,
): Promise<CheckReport> {
  const key = `arca-location-check/${Date.now()}-${randomBytes(6).toString("hex")}`;
  const payload = Buffer.from(`arca location check ${key}\n`);
  const perms = PERMISSIONS[provider];
  const probes: ProbeReport[] = [];
  let fatal: StorageError | undefined;

  const run = async (probe: Probe, fn: () => Promise<string | void>): Promise<boolean> => {
    if (fatal) {
      probes.push({
        probe,
        result: "SKIPPED",
        permission: perms[probe],
        detail: "not tried after the failure above",
      });
      return false;
    }
    try {
      const detail = await fn();
      probes.push({ probe, result: "OK", permission: perms[probe], detail: detail || "allowed" });
      return true;
    } catch (err) {
      if (err instanceof StorageError && FATAL[err.kind]) fatal = err;
      const denied = err instanceof StorageError && err.kind === "access-denied";
      probes.push({
        probe,
        result: denied ? "DENIED" : "FAILED",
        permission: perms[probe],
        detail: denied
          ? `the policy lacks ${perms[probe]}`
          : err instanceof StorageError
            ? err.detail
            : messageOf(err),
        kind: err instanceof StorageError ? err.kind : undefined,
      });
      return false;
    }
  };

  const wrote = await run("write", () => store.put(key, payload, { signal }));
  if (wrote) {
    await run("read", async () => {
      const back = await store.get(key, { signal });
      if (!back.equals(payload)) throw new Error("the object read back differs from what was written");
    });
  } else if (!fatal) {
    probes.push({
      probe: "read",
      result: "SKIPPED",
      permission: perms.read,
      detail: "nothing was written to read back",
    });
  }
  await run("list", async () => {
    for await (const item of store.list("arca-location-check/", { signal })) {
      if (item.key === key) return "the test object was listed";
    }
    if (wrote) throw new Error("the object just written was not listed");
  });
  // Delete even when the write failed: S3 and OSS answer a delete of a missing key, which
  // still tells whether the permission is there.
  await run("delete", () => store.delete(key, { signal }));

  const ok = probes.every((p) => p.result === "OK");
  const report: CheckReport = { location: store.location, ok, probes };
  if (fatal) {
    report.problem =
      provider === "file" && fatal.kind === "no-such-bucket"
        ? "the location's directory does not exist"
        : FATAL[fatal.kind];
    report.hint = fatal.hint;
  } else if (!ok) {
    const missing = probes.filter((p) => p.result === "DENIED").map((p) => p.permission);
    if (missing.length > 0) {
      report.problem = `permission denied: the policy lacks ${missing.join(", ")}`;
      report.hint =
        "grant the missing actions; `arca policy --provider ... --bucket ...` prints the whole policy";
    }
  }
  return report;
}
