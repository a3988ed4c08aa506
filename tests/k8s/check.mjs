// Validates one rendered overlay (the output of `kubectl kustomize`): every document against its
// schema (kubernetes-models for built-in kinds, tests/k8s/schemas/ for CRDs), then the rules of
// issue #9 that a schema cannot express. Usage: node check.mjs LABEL RENDERED.yaml
import { readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import Ajv from "ajv";

const here = dirname(fileURLToPath(import.meta.url));
const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet"]);
// Values that are credentials: they may only reach a pod through a Secret reference.
const SECRET_ENV_NAMES = new Set(["DATABASE_URL", "REDIS_URL", "MAILLON_ADMIN_PASSWORD"]);

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
    if (SECRET_ENV_NAMES.has(env.name) && !env.valueFrom?.secretKeyRef) {
      errors.push(`${where}: ${env.name} must come from a Secret (secretKeyRef), not a literal`);
    }
  }
  return errors;
}

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
    if (doc.kind === "Cluster") errors.push(...clusterErrors(doc));
    for (const error of errors) console.error(`${label}: ${refOf(doc)}: ${error}`);
    failures += errors.length;
  }
  if (!byKind("Deployment").length) {
    console.error(`${label}: no Deployment rendered`);
    failures += 1;
  }
  if (failures) {
    console.error(`${label}: ${failures} problem(s) in ${docs.length} documents`);
    process.exit(1);
  }
  console.log(`${label}: ${docs.length} documents valid`);
}

await main();
