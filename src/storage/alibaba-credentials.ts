// OSS credentials, in the order the reference product uses:
//   1. the Secret alibaba-addon-secret (access-key-id / access-key-secret), from a file or
//      from the cluster (the caller supplies the reader: storage knows nothing of Kubernetes);
//   2. ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / ALIBABA_CLOUD_SECURITY_TOKEN;
//   3. a RAM role through the ECS metadata service, refreshed before its STS token expires.
// The chosen source is logged without the secret.
import { readFile } from "node:fs/promises";
import { ArcaError, messageOf } from "../common/errors.js";
import { maskKeyId, silentLogger, type Logger } from "../common/log.js";
import { yaml } from "../common/yaml.js";

export interface AlibabaCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  /** When an STS token stops working. */
  expiration?: Date;
}

export interface CredentialSource {
  /** For logs and errors, e.g. "Secret velero/alibaba-addon-secret". */
  name: string;
  /** undefined when this source has nothing to offer, so the chain moves on. */
  get(signal?: AbortSignal): Promise<AlibabaCredentials | undefined>;
}

export const ADDON_SECRET_NAME = "alibaba-addon-secret";
export const DEFAULT_METADATA_ENDPOINT = "http://100.100.100.200";
/** Refresh an STS token this long before it expires. */
export const REFRESH_MARGIN_MS = 5 * 60_000;

/** The string keys of a Secret, decoded, from its manifest (YAML or JSON; data or stringData). */
export function secretKeysFromManifest(text: string, origin: string): Record<string, string> {
  let doc: unknown;
  try {
    doc = yaml().parse(text);
  } catch (err) {
    throw new ArcaError(`reading ${origin}: not YAML or JSON (${messageOf(err)})`);
  }
  if (typeof doc !== "object" || doc === null)
    throw new ArcaError(`reading ${origin}: expected a Secret manifest`);
  const secret = doc as { kind?: unknown; data?: unknown; stringData?: unknown };
  if (secret.kind !== undefined && secret.kind !== "Secret") {
    throw new ArcaError(`reading ${origin}: expected kind Secret, found ${String(secret.kind)}`);
  }
  const out: Record<string, string> = {};
  if (typeof secret.data === "object" && secret.data !== null) {
    for (const [k, v] of Object.entries(secret.data))
      if (typeof v === "string") out[k] = Buffer.from(v, "base64").toString("utf8");
  }
  if (typeof secret.stringData === "object" && secret.stringData !== null) {
    for (const [k, v] of Object.entries(secret.stringData)) if (typeof v === "string") out[k] = v;
  }
  return out;
}

/** Source 1: the add-on Secret's keys, however the caller obtained them. */
export function secretSource(
  name: string,
  read: (signal?: AbortSignal) => Promise<Record<string, string> | undefined>,
): CredentialSource {
  return {
    name,
    async get(signal) {
      const keys = await read(signal);
      if (!keys) return undefined;
      const id = keys["access-key-id"]?.trim();
      const secret = keys["access-key-secret"]?.trim();
      if (!id || !secret) {
        throw new ArcaError(`${name} lacks access-key-id or access-key-secret`, {
          hint: `put both keys into ${ADDON_SECRET_NAME}, or delete it to use the next credential source`,
        });
      }
      return { accessKeyId: id, accessKeySecret: secret };
    },
  };
}

export function secretFileSource(path: string): CredentialSource {
  return secretSource(`Secret file ${path}`, async () =>
    secretKeysFromManifest(await readFile(path, "utf8"), path),
  );
}

/** Source 2: the environment. */
export function environmentSource(env: NodeJS.ProcessEnv = process.env): CredentialSource {
  return {
    name: "environment (ALIBABA_CLOUD_ACCESS_KEY_ID)",
    async get() {
      const id = env.ALIBABA_CLOUD_ACCESS_KEY_ID;
      const secret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
      if (!id && !secret) return undefined;
      if (!id || !secret) {
        throw new ArcaError(
          "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET must be set together",
        );
      }
      return {
        accessKeyId: id,
        accessKeySecret: secret,
        securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN || undefined,
      };
    },
  };
}

interface MetadataCredentials {
  Code?: string;
  AccessKeyId?: string;
  AccessKeySecret?: string;
  SecurityToken?: string;
  Expiration?: string;
}

/**
 * Source 3: the RAM role of the instance, from the ECS metadata service. `endpoint` is
 * overridable (ARCA_ECS_METADATA_ENDPOINT) because tests play the service on loopback.
 */
export function ramRoleSource(
  options: { role?: string; endpoint?: string; timeoutMs?: number } = {},
): CredentialSource {
  const endpoint = (
    options.endpoint ??
    process.env.ARCA_ECS_METADATA_ENDPOINT ??
    DEFAULT_METADATA_ENDPOINT
  ).replace(/\/+$/, "");
  const base = `${endpoint}/latest/meta-data/ram/security-credentials/`;
  const timeoutMs = options.timeoutMs ?? 2000;
  const fetchText = async (url: string, signal?: AbortSignal): Promise<string> => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const res = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    const body = await res.text();
    if (!res.ok) throw new ArcaError(`GET ${url}: HTTP ${res.status} ${body.slice(0, 200)}`);
    return body;
  };
  const roleName = options.role ?? process.env.ALIBABA_CLOUD_RAM_ROLE;
  return {
    name: `RAM role ${roleName ?? "(the instance's)"} via ${endpoint}`,
    async get(signal) {
      let role = roleName;
      try {
        if (!role) {
          // The service lists the instance's role; no role means this source has nothing.
          role = (await fetchText(base, signal)).split("\n")[0]?.trim();
          if (!role) return undefined;
        }
        const body = JSON.parse(
          await fetchText(`${base}${encodeURIComponent(role)}`, signal),
        ) as MetadataCredentials;
        if (body.Code !== "Success" || !body.AccessKeyId || !body.AccessKeySecret) {
          throw new ArcaError(
            `the metadata service gave no credentials for RAM role ${role} (Code ${body.Code ?? "missing"})`,
          );
        }
        return {
          accessKeyId: body.AccessKeyId,
          accessKeySecret: body.AccessKeySecret,
          securityToken: body.SecurityToken,
          expiration: body.Expiration ? new Date(body.Expiration) : undefined,
        };
      } catch (err) {
        // Off ECS the service does not answer: without a named role, that only ends the chain.
        if (!roleName && !(err instanceof ArcaError)) return undefined;
        throw new ArcaError(
          `getting credentials of RAM role ${role ?? "(unnamed)"} from ${endpoint}: ${messageOf(err)}`,
          {
            cause: err,
            hint: "check that the instance (or node) has this RAM role attached, or set ALIBABA_CLOUD_RAM_ROLE",
          },
        );
      }
    },
  };
}

/**
 * Walks the sources in order and keeps the first that answers. Credentials with an expiration
 * are fetched again REFRESH_MARGIN_MS before it, from the same source.
 */
export class CredentialChain {
  private current: { credentials: AlibabaCredentials; source: CredentialSource } | undefined;
  private pending: Promise<AlibabaCredentials> | undefined;

  constructor(
    private readonly sources: CredentialSource[],
    private readonly log: Logger = silentLogger,
    private readonly now: () => number = Date.now,
  ) {}

  private fresh(): boolean {
    const expiration = this.current?.credentials.expiration;
    return (
      this.current !== undefined && (!expiration || expiration.getTime() - REFRESH_MARGIN_MS > this.now())
    );
  }

  async get(signal?: AbortSignal): Promise<AlibabaCredentials> {
    if (this.fresh() && this.current) return this.current.credentials;
    // One refresh at a time, however many requests ask.
    this.pending ??= this.resolve(signal).finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async resolve(signal?: AbortSignal): Promise<AlibabaCredentials> {
    const order = this.current ? [this.current.source] : this.sources;
    for (const source of order) {
      const credentials = await source.get(signal);
      if (!credentials) continue;
      const refreshed = this.current !== undefined;
      this.current = { credentials, source };
      this.log.info(
        {
          source: source.name,
          accessKeyId: maskKeyId(credentials.accessKeyId),
          expiration: credentials.expiration?.toISOString(),
        },
        refreshed ? "refreshed OSS credentials" : "using OSS credentials",
      );
      return credentials;
    }
    throw new ArcaError(`no OSS credentials found (tried: ${this.sources.map((s) => s.name).join("; ")})`, {
      hint:
        `create the Secret ${ADDON_SECRET_NAME} with access-key-id and access-key-secret, set ` +
        "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or attach a RAM role to the nodes",
    });
  }
}
