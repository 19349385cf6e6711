#!/usr/bin/env node
// validate.js — offline checks of deploy/ for test_deploy.sh.
//
//   node validate.js k8s FILE...         every object against the Kubernetes
//                                        OpenAPI schema (kubernetes-models),
//                                        strictly: unknown fields are errors
//   node validate.js dockerfile FILE     dockerfile-utils' linter, then the
//                                        image's contract (stages, non-root
//                                        USER, exec-form ENTRYPOINT)
//   node validate.js env FILE...         prints NAME=VALUE for every RECON_*
//                                        setting the files give a container
//   node validate.js cron-script FILE    prints the CronJob's shell script
//
// Exit status 0 when everything passed, 1 otherwise (each problem printed as
// FILE: where: what).
"use strict";
const fs = require("fs");
const path = require("path");
const yaml = require("js-yaml");

let problems = 0;
function problem(file, where, what) {
  problems++;
  console.log(`${file}: ${where}: ${what}`);
}

function loadAll(file) {
  return yaml.loadAll(fs.readFileSync(file, "utf8"), null, { filename: file }).filter((d) => d != null);
}

// ---- Kubernetes ------------------------------------------------------------

// "apps/v1" + "Deployment" -> the model's module and its compiled validator.
function modelFor(apiVersion, kind) {
  const group = apiVersion.includes("/") ? apiVersion : `v1`;
  let modPath;
  try {
    modPath = require.resolve(`kubernetes-models/${group}/${kind}`);
  } catch (e) {
    return null;
  }
  const Model = require(modPath)[kind];
  // The validator the model runs, loaded by file (the package does not
  // export _schemas): the same function, called on a tracked copy below.
  const src = fs.readFileSync(modPath, "utf8");
  const m = src.match(/_schemas\/(IoK8s[A-Za-z0-9]+)\.js/);
  const validate = m ? require(path.join(path.dirname(modPath), "../".repeat(group.split("/").length), "_schemas", `${m[1]}.js`)).validate : null;
  return { Model, validate };
}

// A copy of DATA whose objects record which keys the validator reads and
// whether it enumerates them (maps such as labels, resource limits). A key
// of an object that was neither read nor enumerated is not in the schema:
// the API server's strict field validation would reject it.
function track(data, where, seen) {
  if (data === null || typeof data !== "object") return data;
  const rec = { where, read: new Set(), enumerated: false, keys: Object.keys(data), array: Array.isArray(data) };
  seen.push(rec);
  const copy = Array.isArray(data) ? [] : {};
  for (const k of Object.keys(data)) copy[k] = track(data[k], `${where}/${k}`, seen);
  return new Proxy(copy, {
    get(t, k, r) { if (typeof k === "string") rec.read.add(k); return Reflect.get(t, k, r); },
    has(t, k) { if (typeof k === "string") rec.read.add(k); return Reflect.has(t, k); },
    ownKeys(t) { rec.enumerated = true; return Reflect.ownKeys(t); },
  });
}

function podSpecOf(doc) {
  const s = doc.spec || {};
  if (doc.kind === "CronJob") return (((s.jobTemplate || {}).spec || {}).template || {}).spec;
  return (s.template || {}).spec;
}

function podLabelsOf(doc) {
  const s = doc.spec || {};
  if (doc.kind === "CronJob") return ((((s.jobTemplate || {}).spec || {}).template || {}).metadata || {}).labels || {};
  return ((s.template || {}).metadata || {}).labels || {};
}

// What the schema cannot say: probes name ports the container declares,
// workloads run as non-root with a read-only root and limits, selectors
// and scale targets refer to something in these files.
function semantics(file, doc, all) {
  const name = `${doc.kind}/${(doc.metadata || {}).name}`;
  const pod = podSpecOf(doc);
  if (pod) {
    const psc = pod.securityContext || {};
    if (psc.runAsNonRoot !== true) problem(file, name, "pod securityContext.runAsNonRoot must be true");
    for (const c of pod.containers || []) {
      const where = `${name} container ${c.name}`;
      const ports = new Set((c.ports || []).map((p) => p.name).filter(Boolean));
      for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
        const port = ((c[probe] || {}).httpGet || {}).port;
        if (typeof port === "string" && !ports.has(port)) problem(file, where, `${probe} uses port '${port}', not declared`);
      }
      const sc = c.securityContext || {};
      if (sc.readOnlyRootFilesystem !== true) problem(file, where, "securityContext.readOnlyRootFilesystem must be true");
      if (sc.allowPrivilegeEscalation !== false) problem(file, where, "securityContext.allowPrivilegeEscalation must be false");
      const res = c.resources || {};
      for (const k of ["requests", "limits"])
        for (const r of ["cpu", "memory"])
          if (!(res[k] || {})[r]) problem(file, where, `resources.${k}.${r} missing`);
    }
  }
  const matches = (selector) =>
    all.some((o) => {
      const labels = podLabelsOf(o);
      return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
    });
  if (doc.kind === "Service" && !matches((doc.spec || {}).selector || {}))
    problem(file, name, "selector matches no pod template in these files");
  if (doc.kind === "PodDisruptionBudget" && !matches(((doc.spec || {}).selector || {}).matchLabels || {}))
    problem(file, name, "selector matches no pod template in these files");
  if (doc.kind === "HorizontalPodAutoscaler") {
    const t = (doc.spec || {}).scaleTargetRef || {};
    if (!all.some((o) => o.kind === t.kind && (o.metadata || {}).name === t.name))
      problem(file, name, `scaleTargetRef ${t.kind}/${t.name} is not in these files`);
  }
}

function checkK8s(files) {
  const docs = [];
  for (const file of files) {
    try {
      for (const doc of loadAll(file)) docs.push({ file, doc });
    } catch (e) {
      problem(file, "YAML", e.message.split("\n")[0]);
    }
  }
  const all = docs.map((d) => d.doc);
  for (const { file, doc } of docs) {
    const name = `${doc.kind}/${(doc.metadata || {}).name}`;
    if (typeof doc.apiVersion !== "string" || typeof doc.kind !== "string") {
      problem(file, name, "apiVersion and kind are required");
      continue;
    }
    const model = modelFor(doc.apiVersion, doc.kind);
    if (!model || !model.validate) {
      problem(file, name, `unknown apiVersion/kind ${doc.apiVersion} ${doc.kind}`);
      continue;
    }
    try {
      new model.Model(doc).validate();
    } catch (e) {
      problem(file, name, e.message);
      continue;
    }
    const seen = [];
    model.validate(track(JSON.parse(JSON.stringify(doc)), "", seen));
    const unknown = [];
    for (const r of seen)
      if (!r.array && !r.enumerated)
        for (const k of r.keys) if (!r.read.has(k)) unknown.push(`${r.where}/${k}`);
    for (const u of unknown) // report a misspelt key once, not each field under it
      if (!unknown.some((o) => u.startsWith(`${o}/`))) problem(file, name, `unknown field ${u}`);
    semantics(file, doc, all);
    console.log(`ok   ${file}: ${doc.apiVersion} ${name}`);
  }
  if (docs.length === 0) problem(files.join(" "), "-", "no objects found");
}

// ---- Dockerfile -------------------------------------------------------------

function checkDockerfile(file) {
  const content = fs.readFileSync(file, "utf8");
  const utils = require("dockerfile-utils");
  for (const d of utils.validate(content)) {
    const line = d.range.start.line + 1;
    // severity 1 = error, 2 = warning: both fail (the file is ours to keep clean)
    problem(file, `line ${line}`, `${d.severity === 1 ? "error" : "warning"}: ${d.message}`);
  }
  const { DockerfileParser } = require("dockerfile-ast");
  const df = DockerfileParser.parse(content);
  const froms = df.getFROMs();
  if (froms.length < 2) problem(file, "FROM", "expected a build stage and a runtime stage");
  const last = froms[froms.length - 1];
  const lastLine = last ? last.getRange().start.line : 0;
  const finals = df.getInstructions().filter((i) => i.getRange().start.line >= lastLine);
  const users = finals.filter((i) => i.getKeyword() === "USER");
  const user = users.length ? users[users.length - 1].getArgumentsContent().trim() : "";
  if (!user || /^(root|0)(:|$)/.test(user)) problem(file, "USER", `the runtime stage must end as a non-root user, not '${user || "(none)"}'`);
  if (!/^\d+(:\d+)?$/.test(user)) problem(file, "USER", "use a numeric uid so Kubernetes can verify runAsNonRoot");
  const eps = finals.filter((i) => i.getKeyword() === "ENTRYPOINT");
  if (eps.length !== 1 || !eps[0].getArgumentsContent().trim().startsWith("["))
    problem(file, "ENTRYPOINT", "the runtime stage needs one exec-form (JSON) ENTRYPOINT so signals reach the program");
  if (!finals.some((i) => i.getKeyword() === "COPY" && /--from=/.test(i.getArgumentsContent() || "") || (i.getKeyword() === "COPY" && i.getFlags && i.getFlags().some((f) => f.getName() === "from"))))
    problem(file, "COPY", "the runtime stage must copy the build stage's output (COPY --from=...)");
  if (finals.some((i) => i.getKeyword() === "RUN" && /-dev\b|build-essential|meson/.test(i.getArgumentsContent() || "")))
    problem(file, "RUN", "the runtime stage installs build tools or -dev packages");
  if (problems === 0) console.log(`ok   ${file}: ${froms.length} stages, USER ${user}, exec-form ENTRYPOINT`);
}

// ---- helpers for the shell tests ---------------------------------------------

function printEnv(files) {
  const out = new Map();
  const add = (k, v) => { if (/^RECON_/.test(k) && v !== undefined && v !== null) out.set(`${k}=${v}`, true); };
  for (const file of files)
    for (const doc of loadAll(file)) {
      if (doc.kind === "ConfigMap" && doc.metadata && doc.metadata.name === "recon-config")
        for (const [k, v] of Object.entries(doc.data || {})) add(k, v);
      if (doc.kind === "Secret") for (const [k, v] of Object.entries(doc.stringData || {})) add(k, v);
      const pod = podSpecOf(doc);
      for (const c of (pod && pod.containers) || []) for (const e of c.env || []) if ("value" in e) add(e.name, e.value);
      for (const svc of Object.values(doc.services || {})) // compose (already interpolated)
        for (const [k, v] of Object.entries(svc.environment || {})) add(k, v);
    }
  for (const line of out.keys()) console.log(line);
}

function printCronScript(file) {
  for (const doc of loadAll(file))
    if (doc.kind === "CronJob") {
      const c = podSpecOf(doc).containers[0];
      const cmd = c.command || [];
      const i = cmd.indexOf("-c");
      if (i < 0) { problem(file, "CronJob", "expected sh -c SCRIPT"); return; }
      process.stdout.write(cmd[i + 1]);
      return;
    }
  problem(file, "-", "no CronJob");
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "k8s") checkK8s(args);
else if (mode === "dockerfile") checkDockerfile(args[0]);
else if (mode === "env") printEnv(args);
else if (mode === "cron-script") printCronScript(args[0]);
else {
  console.error("usage: validate.js k8s FILE... | dockerfile FILE | env FILE... | cron-script FILE");
  process.exit(2);
}
process.exit(problems ? 1 : 0);
