// The least-privilege policies a backup location needs, for `arca policy`.
import { ArcaError } from "../common/errors.js";

export type PolicyProvider = "alibabacloud" | "aws";

interface Statement {
  Effect: "Allow";
  Action: string[];
  Resource: string[];
}

export interface Policy {
  Version: string;
  Statement: Statement[];
}

/** Actions match what the drivers call, and nothing more (see docs/operations.md). */
export const RAM_ACTIONS = [
  "oss:PutObject",
  "oss:GetObject",
  "oss:DeleteObject",
  "oss:GetBucket",
  "oss:ListObjects",
  "oss:ListBuckets",
];
export const IAM_OBJECT_ACTIONS = [
  "s3:PutObject",
  "s3:GetObject",
  "s3:DeleteObject",
  "s3:AbortMultipartUpload",
  "s3:ListMultipartUploadParts",
];
export const IAM_BUCKET_ACTIONS = ["s3:ListBucket", "s3:GetBucketLocation"];

function checkBucket(bucket: string | undefined): void {
  if (bucket !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ArcaError(`invalid bucket name ${JSON.stringify(bucket)}`, {
      hint: "bucket names are 3-63 lower-case letters, digits, '.' and '-'",
    });
  }
}

export function locationPolicy(provider: PolicyProvider, bucket?: string): Policy {
  checkBucket(bucket);
  if (provider === "alibabacloud") {
    return {
      Version: "1",
      Statement: [
        {
          Effect: "Allow",
          Action: RAM_ACTIONS,
          Resource: bucket ? [`acs:oss:*:*:${bucket}`, `acs:oss:*:*:${bucket}/*`] : ["*"],
        },
      ],
    };
  }
  return {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: IAM_OBJECT_ACTIONS, Resource: [`arn:aws:s3:::${bucket ?? "*"}/*`] },
      { Effect: "Allow", Action: IAM_BUCKET_ACTIONS, Resource: [`arn:aws:s3:::${bucket ?? "*"}`] },
    ],
  };
}
