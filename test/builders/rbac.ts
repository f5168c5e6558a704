// Builders for a workload's identity: a ServiceAccount, a Role and the RoleBinding between them.
//   forRoleBinding("shop", "reader").role("reader").serviceAccount("shop", "web").result()
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1PolicyRule,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
} from "@kubernetes/client-node";
import { ObjectBuilder } from "./meta.js";

const RBAC = "rbac.authorization.k8s.io";

export class ServiceAccountBuilder extends ObjectBuilder<V1ServiceAccount> {
  constructor(namespace: string, name: string) {
    super({ apiVersion: "v1", kind: "ServiceAccount", metadata: { namespace, name } });
  }
}

export class RoleBuilder extends ObjectBuilder<V1Role> {
  constructor(namespace: string, name: string) {
    super({ apiVersion: `${RBAC}/v1`, kind: "Role", metadata: { namespace, name }, rules: [] });
  }

  rule(rule: V1PolicyRule): this {
    this.object.rules = [...(this.object.rules ?? []), rule];
    return this;
  }
}

export class RoleBindingBuilder extends ObjectBuilder<V1RoleBinding> {
  constructor(namespace: string, name: string) {
    super({
      apiVersion: `${RBAC}/v1`,
      kind: "RoleBinding",
      metadata: { namespace, name },
      // The Role of the same name, until role() says otherwise.
      roleRef: { apiGroup: RBAC, kind: "Role", name },
      subjects: [],
    });
  }

  role(name: string): this {
    this.object.roleRef = { apiGroup: RBAC, kind: "Role", name };
    return this;
  }

  clusterRole(name: string): this {
    this.object.roleRef = { apiGroup: RBAC, kind: "ClusterRole", name };
    return this;
  }

  serviceAccount(namespace: string, name: string): this {
    this.object.subjects = [...(this.object.subjects ?? []), { kind: "ServiceAccount", namespace, name }];
    return this;
  }
}

export class ClusterRoleBuilder extends ObjectBuilder<V1ClusterRole> {
  constructor(name: string) {
    super({ apiVersion: `${RBAC}/v1`, kind: "ClusterRole", metadata: { name }, rules: [] });
  }

  rule(rule: V1PolicyRule): this {
    this.object.rules = [...(this.object.rules ?? []), rule];
    return this;
  }
}

export class ClusterRoleBindingBuilder extends ObjectBuilder<V1ClusterRoleBinding> {
  constructor(name: string) {
    super({
      apiVersion: `${RBAC}/v1`,
      kind: "ClusterRoleBinding",
      metadata: { name },
      // The ClusterRole of the same name, until clusterRole() says otherwise.
      roleRef: { apiGroup: RBAC, kind: "ClusterRole", name },
      subjects: [],
    });
  }

  clusterRole(name: string): this {
    this.object.roleRef = { apiGroup: RBAC, kind: "ClusterRole", name };
    return this;
  }

  serviceAccount(namespace: string, name: string): this {
    this.object.subjects = [...(this.object.subjects ?? []), { kind: "ServiceAccount", namespace, name }];
    return this;
  }
}

export const forClusterRole = (name: string) => new ClusterRoleBuilder(name);
export const forClusterRoleBinding = (name: string) => new ClusterRoleBindingBuilder(name);
export const forServiceAccount = (namespace: string, name: string) =>
  new ServiceAccountBuilder(namespace, name);
export const forRole = (namespace: string, name: string) => new RoleBuilder(namespace, name);
export const forRoleBinding = (namespace: string, name: string) => new RoleBindingBuilder(namespace, name);
