// Opens the ObjectStore that a location URL names, with the right driver and credentials.
import { silentLogger, type Logger } from "../common/log.js";
import {
  CredentialChain,
  environmentSource,
  ramRoleSource,
  type CredentialSource,
} from "./alibaba-credentials.js";
import { FileStore } from "./file.js";
import { formatLocation, ossEndpoint, parseLocation, type Location } from "./location.js";
import { LazyS3Store } from "./lazy-s3.js";
import type { RetryPolicy } from "./retry.js";
import type { ObjectStore } from "./types.js";

export interface OpenOptions {
  /** s3://: explicit keys; the AWS default chain (environment, profile, IMDS, ...) otherwise. */
  s3Credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /**
   * oss://: the add-on Secret source (from a file or the cluster), tried before the
   * environment and the RAM role.
   */
  ossSecret?: CredentialSource;
  logger?: Logger;
  retry?: RetryPolicy;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  partSize?: number;
  multipartThreshold?: number;
}

/** The OSS credential chain of a location, in the documented order. */
export function ossCredentialChain(options: OpenOptions): CredentialChain {
  const sources = [...(options.ossSecret ? [options.ossSecret] : []), environmentSource(), ramRoleSource()];
  return new CredentialChain(sources, options.logger ?? silentLogger);
}

export function openStore(url: string | Location, options: OpenOptions = {}): ObjectStore {
  const location = typeof url === "string" ? parseLocation(url) : url;
  const tuning = {
    retry: options.retry,
    requestTimeoutMs: options.requestTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs,
    partSize: options.partSize,
    multipartThreshold: options.multipartThreshold,
  };
  if (location.provider === "file") return new FileStore(location.path);
  const common = {
    ...tuning,
    location: formatLocation(location),
    bucket: location.bucket,
    prefix: location.prefix,
    region: location.region,
    // OSS serves virtual-hosted style only; path style there is for OSS-compatible test servers.
    forcePathStyle: location.forcePathStyle,
  };
  if (location.provider === "s3") {
    return new LazyS3Store({ ...common, endpoint: location.endpoint, credentials: options.s3Credentials });
  }
  const chain = ossCredentialChain(options);
  return new LazyS3Store({
    ...common,
    endpoint: ossEndpoint(location),
    credentials: async () => {
      const c = await chain.get();
      return {
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.accessKeySecret,
        sessionToken: c.securityToken,
        expiration: c.expiration,
      };
    },
  });
}
