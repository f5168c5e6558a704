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
import type { RetryPolicy } from "./retry.js";
import { S3Store } from "./s3.js";
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
  switch (location.provider) {
    case "file":
      return new FileStore(location.path);
    case "s3":
      return new S3Store({
        ...tuning,
        location: formatLocation(location),
        bucket: location.bucket,
        prefix: location.prefix,
        region: location.region,
        endpoint: location.endpoint,
        forcePathStyle: location.forcePathStyle,
        credentials: options.s3Credentials,
      });
    case "oss": {
      const chain = ossCredentialChain(options);
      return new S3Store({
        ...tuning,
        location: formatLocation(location),
        bucket: location.bucket,
        prefix: location.prefix,
        region: location.region,
        endpoint: ossEndpoint(location),
        // OSS serves virtual-hosted style only; path style is for OSS-compatible test servers.
        forcePathStyle: location.forcePathStyle,
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
  }
}
