// Builders for the workloads that controllers act on, and the policies that point at them.
// No kubelet runs in the test clusters: their Pods stay Pending.
//   forStatefulSet("shop", "db").service("db").claimTemplate("data", "1Gi").result()
import type {
  V1CronJob,
  V1JobSpec,
  V1Job,
  V1PodDisruptionBudget,
  V1PodTemplateSpec,
  V1StatefulSet,
  V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import { ObjectBuilder } from "./meta.js";

const IMAGE = "registry.invalid/arca/test:1";

const podTemplate = (
  labels: Record<string, string> | undefined,
  restartPolicy?: string,
): V1PodTemplateSpec => ({
  ...(labels ? { metadata: { labels } } : {}),
  spec: { containers: [{ name: "main", image: IMAGE }], ...(restartPolicy ? { restartPolicy } : {}) },
});

export class StatefulSetBuilder extends ObjectBuilder<V1StatefulSet> {
  constructor(namespace: string, name: string) {
    const labels = { app: name };
    super({
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { namespace, name, labels },
      spec: {
        replicas: 1,
        serviceName: name,
        selector: { matchLabels: labels },
        template: podTemplate(labels),
      },
    });
  }

  service(name: string): this {
    this.spec().serviceName = name;
    return this;
  }

  /** A claim per Pod, mounted at /<name>; `storageClass` "" asks for no class at all. */
  claimTemplate(name: string, storage: string, storageClass?: string): this {
    const spec = this.spec();
    spec.volumeClaimTemplates = [
      ...(spec.volumeClaimTemplates ?? []),
      {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name },
        spec: {
          accessModes: ["ReadWriteOnce"],
          resources: { requests: { storage } },
          ...(storageClass !== undefined ? { storageClassName: storageClass } : {}),
        },
      },
    ];
    const container = spec.template.spec?.containers[0];
    if (container)
      container.volumeMounts = [...(container.volumeMounts ?? []), { name, mountPath: `/${name}` }];
    return this;
  }

  private spec() {
    if (!this.object.spec) throw new Error("stateful set builder lost its spec");
    return this.object.spec;
  }
}

const jobSpec = (): V1JobSpec => ({ backoffLimit: 2, template: podTemplate(undefined, "Never") });

export class JobBuilder extends ObjectBuilder<V1Job> {
  constructor(namespace: string, name: string) {
    super({ apiVersion: "batch/v1", kind: "Job", metadata: { namespace, name }, spec: jobSpec() });
  }

  completions(n: number, parallelism = 1): this {
    if (this.object.spec) Object.assign(this.object.spec, { completions: n, parallelism });
    return this;
  }
}

export class CronJobBuilder extends ObjectBuilder<V1CronJob> {
  /** Runs at midnight on New Year's Day unless schedule() says otherwise: never during a test. */
  constructor(namespace: string, name: string) {
    super({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { namespace, name },
      spec: { schedule: "0 0 1 1 *", jobTemplate: { spec: jobSpec() } },
    });
  }

  schedule(cron: string): this {
    if (this.object.spec) this.object.spec.schedule = cron;
    return this;
  }

  suspend(suspend = true): this {
    if (this.object.spec) this.object.spec.suspend = suspend;
    return this;
  }
}

export class HorizontalPodAutoscalerBuilder extends ObjectBuilder<V2HorizontalPodAutoscaler> {
  /** Scales the Deployment of the same name on CPU, until target() says otherwise. */
  constructor(namespace: string, name: string) {
    super({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { namespace, name },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
        minReplicas: 1,
        maxReplicas: 3,
        metrics: [
          {
            type: "Resource",
            resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } },
          },
        ],
      },
    });
  }

  target(kind: string, name: string, apiVersion = "apps/v1"): this {
    if (this.object.spec) this.object.spec.scaleTargetRef = { apiVersion, kind, name };
    return this;
  }

  replicas(min: number, max: number): this {
    if (this.object.spec) Object.assign(this.object.spec, { minReplicas: min, maxReplicas: max });
    return this;
  }
}

export class PodDisruptionBudgetBuilder extends ObjectBuilder<V1PodDisruptionBudget> {
  /** Guards the Pods labelled app=<name>, at least one available, until told otherwise. */
  constructor(namespace: string, name: string) {
    super({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { namespace, name },
      spec: { minAvailable: 1, selector: { matchLabels: { app: name } } },
    });
  }

  selector(labels: Record<string, string>): this {
    if (this.object.spec) this.object.spec.selector = { matchLabels: labels };
    return this;
  }

  maxUnavailable(value: number | string): this {
    if (this.object.spec) this.object.spec = { selector: this.object.spec.selector, maxUnavailable: value };
    return this;
  }
}

export const forStatefulSet = (namespace: string, name: string) => new StatefulSetBuilder(namespace, name);
export const forJob = (namespace: string, name: string) => new JobBuilder(namespace, name);
export const forCronJob = (namespace: string, name: string) => new CronJobBuilder(namespace, name);
export const forHorizontalPodAutoscaler = (namespace: string, name: string) =>
  new HorizontalPodAutoscalerBuilder(namespace, name);
export const forPodDisruptionBudget = (namespace: string, name: string) =>
  new PodDisruptionBudgetBuilder(namespace, name);
