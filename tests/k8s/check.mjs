// Validates one rendered overlay (the output of `kubectl kustomize`): every document against its
// schema (kubernetes-models for built-in kinds, tests/k8s/schemas/ for CRDs), then the rules of
// issues #9 and #16 that a schema cannot express (probes, limits, pinned images, hardened pods,
// no committed Secret; every pod under a NetworkPolicy of its own behind a default deny, no
// secret on a command line, TLS at the Ingress). Usage: node check.mjs LABEL RENDERED.yaml
import { readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import Ajv from "ajv";

const here = dirname(fileURLToPath(import.meta.url));
const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet"]);
// Values that are credentials: they may only reach a pod through a Secret reference.
const SECRET_ENV_NAMES = new Set(["DATABASE_URL", "REDIS_URL", "MAILLON_ADMIN_PASSWORD"]);
const SECRET_ENV_PATTERN = /(PASSWORD|PASSWD|SECRET|TOKEN|_AUTH|API_KEY)$/i;
// Command-line flags whose next word (or `=value`) is a credential.
const SECRET_FLAG = /^--?(requirepass|masterauth|pass|password|passwd|secret|token|api-?key|auth|a)$/i;
const SECRET_FLAG_WITH_VALUE = /^--?(requirepass|masterauth|pass|password|passwd|secret|token|api-?key|auth)=./i;
// A URL that carries a password: scheme://user:password@host.
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^@\s/]+@/i;

const refOf = (doc) => `${doc.kind}/${doc.metadata?.name ?? "?"}`;

function loadDocuments(path) {
  const docs = [];
  for (const parsed of parseAllDocuments(readFileSync(path, "utf8"))) {
    if (parsed.errors.length) throw new Error(`${path}: ${parsed.errors[0].message}`);
    const value = parsed.toJS();
    if (value) docs.push(value);
  }
  return docs;
}

// kubernetes-models names its modules after the API group and version: apps/v1/Deployment,
// v1/Service (the core group), networking.k8s.io/v1/Ingress.
async function builtInModel(doc) {
  const [group, version] = doc.apiVersion.includes("/") ? doc.apiVersion.split("/") : ["", doc.apiVersion];
  const path = group ? `kubernetes-models/${group}/${version}/${doc.kind}` : `kubernetes-models/${version}/${doc.kind}`;
  try {
    return (await import(path))[doc.kind];
  } catch {
    return undefined;
  }
}

const ajv = new Ajv({ allErrors: true, strict: false });
const crdValidators = new Map();
function crdValidator(doc) {
  const file = join(here, "schemas", `${doc.apiVersion.replace("/", "_")}_${doc.kind}.json`);
  if (!existsSync(file)) return undefined;
  if (!crdValidators.has(file)) crdValidators.set(file, ajv.compile(JSON.parse(readFileSync(file, "utf8"))));
  return crdValidators.get(file);
}

async function schemaErrors(doc) {
  if (!doc.apiVersion || !doc.kind) return ["document without apiVersion or kind"];
  const Model = await builtInModel(doc);
  if (Model) {
    try {
      new Model(doc).validate();
      return [];
    } catch (error) {
      return (error.errors ?? [{ instancePath: "", message: error.message }]).map(
        (e) => `schema: ${e.instancePath || "/"} ${e.message}`,
      );
    }
  }
  const validate = crdValidator(doc);
  if (!validate) return [`no schema known for ${doc.apiVersion} ${doc.kind}`];
  if (validate(doc)) return [];
  return validate.errors.map((e) => `schema: ${e.instancePath || "/"} ${e.message}`);
}

const matches = (selector, labels) =>
  Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels?.[k] === v) &&
  Object.keys(selector?.matchLabels ?? {}).length > 0;

// A label selector with matchExpressions too; an empty selector selects every pod.
function selects(selector, labels = {}) {
  const byLabels = Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector?.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    if (operator === "In") return key in labels && values.includes(labels[key]);
    if (operator === "NotIn") return !(key in labels) || !values.includes(labels[key]);
    if (operator === "Exists") return key in labels;
    if (operator === "DoesNotExist") return !(key in labels);
    return false;
  });
  return byLabels && byExpressions;
}
const isEmptySelector = (selector) =>
  Object.keys(selector?.matchLabels ?? {}).length === 0 && (selector?.matchExpressions ?? []).length === 0;

function imageErrors(image) {
  if (!image) return ["no image"];
  if (image.includes("@sha256:")) return [];
  const tag = image.slice(image.lastIndexOf("/") + 1).split(":")[1];
  if (!tag) return [`image ${image} has no tag (pin one)`];
  if (tag === "latest") return [`image ${image} uses the tag latest (pin a version)`];
  return [];
}

function containerErrors(container, pod, kind) {
  const errors = [];
  const where = `container ${container.name}`;
  for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
    if (!container[probe]) errors.push(`${where}: no ${probe}`);
  }
  for (const resource of ["cpu", "memory"]) {
    if (!container.resources?.limits?.[resource]) errors.push(`${where}: no ${resource} limit`);
    if (!container.resources?.requests?.[resource]) errors.push(`${where}: no ${resource} request`);
  }
  errors.push(...imageErrors(container.image).map((e) => `${where}: ${e}`));
  const sc = container.securityContext ?? {};
  const podSc = pod.securityContext ?? {};
  if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) errors.push(`${where}: runAsNonRoot is not true`);
  if (sc.readOnlyRootFilesystem !== true) errors.push(`${where}: readOnlyRootFilesystem is not true`);
  if (sc.allowPrivilegeEscalation !== false) errors.push(`${where}: allowPrivilegeEscalation is not false`);
  if (!(sc.capabilities?.drop ?? []).includes("ALL")) errors.push(`${where}: capabilities do not drop ALL`);
  const seccomp = sc.seccompProfile?.type ?? podSc.seccompProfile?.type;
  if (seccomp !== "RuntimeDefault") errors.push(`${where}: seccomp profile is not RuntimeDefault`);
  if (kind === "Deployment" && !container.lifecycle?.preStop) errors.push(`${where}: no preStop pause for draining`);
  for (const env of container.env ?? []) {
    if ((SECRET_ENV_NAMES.has(env.name) || SECRET_ENV_PATTERN.test(env.name)) && !env.valueFrom?.secretKeyRef) {
      errors.push(`${where}: ${env.name} must come from a Secret (secretKeyRef), not a literal`);
    }
  }
  errors.push(...commandLineErrors(container).map((e) => `${where}: ${e}`));
  return errors;
}

// A process's command line is world-readable (ps, /proc, the pod's spec): no credential there,
// neither written out nor expanded from a Secret with $(NAME). Probes' and hooks' commands too.
function commandLineErrors(container) {
  const fromSecret = new Set((container.env ?? []).filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.name));
  const lines = [[...(container.command ?? []), ...(container.args ?? [])]];
  for (const hook of [container.livenessProbe, container.readinessProbe, container.startupProbe, container.lifecycle?.preStop, container.lifecycle?.postStart]) {
    if (hook?.exec?.command) lines.push(hook.exec.command);
  }
  const errors = new Set();
  for (const words of lines) {
    words.forEach((word, i) => {
      const text = String(word);
      for (const [, name] of text.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
        if (fromSecret.has(name)) errors.add(`command line holds the Secret value $(${name})`);
      }
      if (URL_WITH_PASSWORD.test(text)) errors.add("command line holds a URL with a password");
      if (SECRET_FLAG_WITH_VALUE.test(text)) errors.add(`command line holds a secret in ${text.split("=")[0]}=`);
      if (SECRET_FLAG.test(text) && i + 1 < words.length) errors.add(`command line holds a secret after ${text}`);
    });
  }
  return [...errors];
}

// The pods a policy is about: every workload's (and the PostgreSQL Cluster's) must be selected
// by a NetworkPolicy of its own (not only the namespace's default deny, which selects all).
function podLabelsOf(doc) {
  if (doc.kind === "Cluster") return { "cnpg.io/cluster": doc.metadata.name };
  return doc.spec?.template?.metadata?.labels ?? {};
}

function networkPolicyErrors(doc, byKind) {
  const labels = podLabelsOf(doc);
  const own = byKind("NetworkPolicy").filter((p) => !isEmptySelector(p.spec?.podSelector) && selects(p.spec.podSelector, labels));
  return own.length ? [] : ["no NetworkPolicy selects its pods (only the default deny would)"];
}

function policyErrors(doc) {
  const errors = [];
  (doc.spec?.ingress ?? []).forEach((rule, i) => {
    if (!rule.from?.length) errors.push(`ingress rule ${i + 1} admits every source (no from)`);
  });
  (doc.spec?.egress ?? []).forEach((rule, i) => {
    if (!rule.to?.length && !rule.ports?.length) errors.push(`egress rule ${i + 1} reaches everything (no to, no ports)`);
  });
  return errors;
}

// A namespace-wide deny: selects every pod, both directions, lets nothing through.
const isDefaultDeny = (p) =>
  isEmptySelector(p.spec?.podSelector) &&
  ["Ingress", "Egress"].every((t) => (p.spec?.policyTypes ?? []).includes(t)) &&
  !(p.spec?.ingress ?? []).length &&
  !(p.spec?.egress ?? []).length;

// Replicas a workload may run with: its own count, or its HPA's minimum when one scales it.
function leastReplicas(doc, hpas) {
  const hpa = hpas.find((h) => h.spec?.scaleTargetRef?.kind === doc.kind && h.spec?.scaleTargetRef?.name === doc.metadata.name);
  return Math.max(doc.spec?.replicas ?? 1, hpa?.spec?.minReplicas ?? 1);
}

function workloadErrors(doc, byKind) {
  const errors = [];
  const pod = doc.spec?.template?.spec ?? {};
  for (const container of pod.containers ?? []) errors.push(...containerErrors(container, pod, doc.kind));
  if (doc.kind === "Deployment" && pod.terminationGracePeriodSeconds === undefined) {
    errors.push("no terminationGracePeriodSeconds");
  }
  const hpas = byKind("HorizontalPodAutoscaler");
  if (doc.kind === "Deployment" && !hpas.some((h) => h.spec?.scaleTargetRef?.name === doc.metadata.name)) {
    errors.push("no HorizontalPodAutoscaler scales it");
  }
  const replicas = leastReplicas(doc, hpas);
  const podLabels = doc.spec?.template?.metadata?.labels;
  if (replicas > 1 && !byKind("PodDisruptionBudget").some((p) => matches(p.spec?.selector, podLabels))) {
    errors.push(`runs ${replicas} replicas but no PodDisruptionBudget selects its pods`);
  }
  return errors;
}

function secretErrors(doc) {
  const inline = Object.keys(doc.data ?? {}).length + Object.keys(doc.stringData ?? {}).length;
  return inline ? ["Secret with inline data: secrets are created in the cluster, never committed"] : [];
}

function ingressErrors(doc, byKind) {
  const errors = [];
  const tls = doc.spec?.tls ?? [];
  if (!tls.length) errors.push("no TLS (spec.tls): the Ingress would serve plain HTTP");
  for (const entry of tls) {
    if (!entry.secretName) errors.push(`TLS for ${(entry.hosts ?? []).join(", ") || "every host"} names no secretName`);
  }
  const covered = new Set(tls.flatMap((t) => t.hosts ?? []));
  for (const rule of doc.spec?.rules ?? []) {
    if (tls.length && !covered.has(rule.host)) errors.push(`host ${rule.host ?? "(any)"} is not covered by the TLS hosts`);
  }
  const annotations = doc.metadata?.annotations ?? {};
  for (const key of ["nginx.ingress.kubernetes.io/ssl-redirect", "nginx.ingress.kubernetes.io/force-ssl-redirect"]) {
    if (annotations[key] === "false") errors.push(`${key} is false: plain HTTP would be answered`);
  }
  const regex = doc.metadata?.annotations?.["nginx.ingress.kubernetes.io/use-regex"] === "true";
  for (const rule of doc.spec?.rules ?? []) {
    for (const path of rule.http?.paths ?? []) {
      if (/[[\]^$*+?()|\\]/.test(path.path) && !(regex && path.pathType === "ImplementationSpecific")) {
        errors.push(`path ${path.path} is a regex: needs use-regex and pathType ImplementationSpecific`);
      }
      const name = path.backend?.service?.name;
      const service = byKind("Service").find((s) => s.metadata.name === name);
      const port = path.backend?.service?.port ?? {};
      const served = service?.spec?.ports?.some((p) => p.name === port.name || p.port === port.number);
      if (!served) errors.push(`path ${path.path} goes to ${name}:${port.name ?? port.number}, which no Service serves`);
    }
  }
  return errors;
}

// A replicated (production) cluster archives its WAL and has a scheduled base back-up: without
// both, a lost region or a mistaken DELETE cannot be undone to a point in time.
function backupErrors(doc, byKind) {
  const spec = doc.spec ?? {};
  if ((spec.instances ?? 1) <= 1) return [];
  const errors = [];
  if (!spec.backup?.barmanObjectStore?.destinationPath) errors.push("no WAL archive (spec.backup.barmanObjectStore)");
  const scheduled = byKind("ScheduledBackup").some((b) => b.spec?.cluster?.name === doc.metadata.name && !b.spec?.suspend);
  if (!scheduled) errors.push("no ScheduledBackup takes its base back-ups");
  return errors;
}

function clusterErrors(doc) {
  const spec = doc.spec ?? {};
  if ((spec.instances ?? 1) <= 1) return [];
  const synchronous = (spec.minSyncReplicas ?? 0) >= 1 || (spec.postgresql?.synchronous?.number ?? 0) >= 1;
  const errors = synchronous ? [] : [`${spec.instances} instances without synchronous replication`];
  if ((spec.maxSyncReplicas ?? 0) >= spec.instances) errors.push("maxSyncReplicas must be below instances");
  return errors;
}

async function main() {
  const [label, path] = process.argv.slice(2);
  if (!label || !path) {
    console.error("usage: node check.mjs LABEL RENDERED.yaml");
    process.exit(2);
  }
  const docs = loadDocuments(path);
  const byKind = (kind) => docs.filter((d) => d.kind === kind);
  let failures = 0;
  for (const doc of docs) {
    const errors = await schemaErrors(doc);
    if (WORKLOAD_KINDS.has(doc.kind)) errors.push(...workloadErrors(doc, byKind));
    if (doc.kind === "Secret") errors.push(...secretErrors(doc));
    if (doc.kind === "Ingress") errors.push(...ingressErrors(doc, byKind));
    if (doc.kind === "Cluster") errors.push(...clusterErrors(doc), ...backupErrors(doc, byKind));
    if (WORKLOAD_KINDS.has(doc.kind) || doc.kind === "Cluster") errors.push(...networkPolicyErrors(doc, byKind));
    if (doc.kind === "NetworkPolicy") errors.push(...policyErrors(doc));
    for (const error of errors) console.error(`${label}: ${refOf(doc)}: ${error}`);
    failures += errors.length;
  }
  if (!byKind("Deployment").length) {
    console.error(`${label}: no Deployment rendered`);
    failures += 1;
  }
  if (!byKind("NetworkPolicy").some(isDefaultDeny)) {
    console.error(`${label}: no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rule)`);
    failures += 1;
  }
  if (failures) {
    console.error(`${label}: ${failures} problem(s) in ${docs.length} documents`);
    process.exit(1);
  }
  console.log(`${label}: ${docs.length} documents valid`);
}

await main();
