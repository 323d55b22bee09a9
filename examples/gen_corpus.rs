//! Deterministic synthetic GitOps monorepo for promolint's benchmark (issue 5).
//!
//! ```text
//! cargo run --release --example gen_corpus -- [--apps N] [--commits N] [--seed N]
//!     [--peers N] [--peers-out DIR] [--force] OUT
//! cargo run --release --example gen_corpus -- --homelab [--apps N] [--commits N] OUT
//! ```
//!
//! `--homelab` writes another shape instead: a Flux repository with
//! `clusters/{dev,integration,live}`, each cluster's versions in `versions.env`
//! substituted into shared manifests, and Renovate-style bumps of dev promoted onwards.
//!
//! `OUT` becomes a git repository: N applications × dev/staging/prod (Deployments with
//! several containers and initContainers, Services, ConfigMaps, kustomizations with
//! `images[]` and `$imagepolicy` setter markers, ImageRepositories/ImagePolicies,
//! HelmReleases with values, per-cluster `helm-charts.yaml` chart lists, Terragrunt module
//! refs and version locals, `.versions.env` files) and a linear history of promotion
//! commits (new builds reach dev, then staging, then prod; some rollbacks; a few violations)
//! written with one `git fast-import` process. The default (`--apps 875`) is about 20,000
//! files and 5,000 commits. `--peers N` also writes N rendered ("hydrated") Kubernetes
//! manifests to `--peers-out` (default `OUT-peers`), where every container's image is
//! concrete, so that Checkov, Semgrep and promolint can be asked the same question:
//! which production containers use `:latest` or no tag. The expected answer is written to
//! `PEERS-OUT/../<name>.expected`.
//!
//! Same arguments → same bytes, same commit ids (fixed author dates, a hand-written PRNG).
//! No dependency beyond std; `tests/corpus.rs` includes this file as a module.

#![allow(dead_code, clippy::needless_range_loop)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

// ---------------------------------------------------------------------------------------
// PRNG and hashing

/// SplitMix64: tiny, fast, good enough for a corpus, and the same on every platform.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u32) -> bool {
        self.below(1000) < per_mille as usize
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// FNV-1a, for values derived from names (digests, ports) independent of draw order.
fn fnv(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// A fake but well-formed `sha256:` digest of an image build.
fn digest(parts: &[&str]) -> String {
    let mut out = String::from("sha256:");
    let mut r = Rng::new(fnv(parts));
    for _ in 0..4 {
        write!(out, "{:016x}", r.next_u64()).unwrap();
    }
    out
}

// ---------------------------------------------------------------------------------------
// Parameters

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params {
    /// Applications; each has a base and a dev/staging/prod overlay (~23 files).
    pub apps: usize,
    /// Commits of history, the initial one included.
    pub commits: usize,
    pub seed: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            apps: 875,
            commits: 5000,
            seed: 1,
        }
    }
}

pub const ENVS: [&str; 3] = ["dev", "staging", "prod"];
const DEV: usize = 0;
const STAGING: usize = 1;
const PROD: usize = 2;

const WORDS: &[&str] = &[
    "billing",
    "checkout",
    "catalog",
    "search",
    "payments",
    "ledger",
    "identity",
    "orders",
    "inventory",
    "shipping",
    "pricing",
    "notify",
    "reports",
    "gateway",
    "profile",
    "session",
    "media",
    "reviews",
    "coupons",
    "loyalty",
    "fraud",
    "tax",
    "invoice",
    "audit",
    "export",
    "import",
    "scheduler",
    "planner",
    "metrics",
    "routing",
    "quotes",
    "returns",
];
const KINDS: &[&str] = &[
    "api", "worker", "web", "sync", "svc", "jobs", "edge", "core",
];

/// Third-party sidecars pinned in bases (image, tag).
const SIDECARS: &[(&str, &str, &str)] = &[
    ("envoy", "docker.io/envoyproxy/envoy", "v1.31.2"),
    (
        "otel-agent",
        "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-contrib",
        "0.111.0",
    ),
    ("vault-agent", "docker.io/hashicorp/vault", "1.17.6"),
    (
        "cloudsql-proxy",
        "gcr.io/cloud-sql-connectors/cloud-sql-proxy",
        "2.13.0",
    ),
    ("fluent-bit", "cr.fluentbit.io/fluent/fluent-bit", "3.1.9"),
];

/// Platform charts listed in every cluster's `helm-charts.yaml` (name, repository, version).
const CHARTS: &[(&str, &str, (u32, u32, u32))] = &[
    ("cert-manager", "https://charts.jetstack.io", (1, 15, 3)),
    (
        "ingress-nginx",
        "https://kubernetes.github.io/ingress-nginx",
        (4, 11, 2),
    ),
    (
        "external-dns",
        "https://kubernetes-sigs.github.io/external-dns",
        (1, 15, 0),
    ),
    (
        "external-secrets",
        "https://charts.external-secrets.io",
        (0, 10, 4),
    ),
    (
        "kube-prometheus-stack",
        "https://prometheus-community.github.io/helm-charts",
        (62, 7, 0),
    ),
    ("loki", "https://grafana.github.io/helm-charts", (6, 16, 0)),
    ("tempo", "https://grafana.github.io/helm-charts", (1, 10, 3)),
    (
        "grafana",
        "https://grafana.github.io/helm-charts",
        (8, 5, 2),
    ),
    ("longhorn", "https://charts.longhorn.io", (1, 7, 1)),
    (
        "velero",
        "https://vmware-tanzu.github.io/helm-charts",
        (7, 2, 1),
    ),
    ("keda", "https://kedacore.github.io/charts", (2, 15, 1)),
    ("kyverno", "https://kyverno.github.io/kyverno", (3, 2, 6)),
    (
        "metrics-server",
        "https://kubernetes-sigs.github.io/metrics-server",
        (3, 12, 1),
    ),
    ("cilium", "https://helm.cilium.io", (1, 16, 2)),
    (
        "reloader",
        "https://stakater.github.io/stakater-charts",
        (1, 1, 0),
    ),
    (
        "sealed-secrets",
        "https://bitnami-labs.github.io/sealed-secrets",
        (2, 16, 1),
    ),
    (
        "cloudnative-pg",
        "https://cloudnative-pg.github.io/charts",
        (0, 22, 0),
    ),
    (
        "redis-operator",
        "https://ot-container-kit.github.io/helm-charts",
        (0, 18, 3),
    ),
    (
        "strimzi-kafka-operator",
        "https://strimzi.io/charts",
        (0, 43, 0),
    ),
    (
        "argo-rollouts",
        "https://argoproj.github.io/argo-helm",
        (2, 37, 7),
    ),
    (
        "trivy-operator",
        "https://aquasecurity.github.io/helm-charts",
        (0, 24, 1),
    ),
    (
        "node-feature-discovery",
        "https://kubernetes-sigs.github.io/node-feature-discovery/charts",
        (0, 16, 4),
    ),
    (
        "descheduler",
        "https://kubernetes-sigs.github.io/descheduler",
        (0, 31, 0),
    ),
    ("vpa", "https://charts.fairwinds.com/stable", (4, 5, 0)),
];

/// Cluster-level versions in `.versions.env` and `env.hcl` (key, version).
const CLUSTER_VERSIONS: &[(&str, (u32, u32, u32))] = &[
    ("talos", (1, 8, 1)),
    ("kubernetes", (1, 31, 1)),
    ("cilium", (1, 16, 2)),
    ("gateway_api", (1, 2, 0)),
    ("flux", (2, 4, 0)),
    ("coredns", (1, 11, 3)),
    ("etcd", (3, 5, 16)),
    ("containerd", (1, 7, 22)),
];

// ---------------------------------------------------------------------------------------
// State

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Ver(u32, u32, u32);

impl std::fmt::Display for Ver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{}.{}.{}", self.0, self.1, self.2)
    }
}

impl Ver {
    fn bump(self, r: &mut Rng) -> Ver {
        match r.below(20) {
            0 => Ver(self.0 + 1, 0, 0),
            1..=5 => Ver(self.0, self.1 + 1, 0),
            _ => Ver(self.0, self.1, self.2 + 1),
        }
    }
    fn plain(&self) -> String {
        format!("{}.{}.{}", self.0, self.1, self.2)
    }
}

#[derive(Clone, Debug)]
struct Release {
    ver: Ver,
    /// Build time: the tag suffix of env-prefixed tags.
    ts: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// `dev-v1.2.3-1712345678` tags, numerical ImagePolicy on the timestamp.
    Prefixed,
    /// `v1.2.3` tags, semver ImagePolicy; prod pins the digest too.
    Semver,
    /// A HelmRelease (app-template chart) whose values carry the image.
    Helm,
}

#[derive(Clone, Debug)]
struct App {
    name: String,
    style: Style,
    /// A second container running the same image (`worker`), a CronJob, a Terragrunt unit.
    worker: bool,
    cronjob: bool,
    infra: bool,
    sidecars: Vec<usize>,
    releases: Vec<Release>,
    /// Index into `releases` per environment; `None`: a mutable tag was pinned (violation).
    at: [Option<usize>; 3],
    /// Previous prod releases, for rollbacks.
    prod_log: Vec<usize>,
    /// Tag policy of prod made too broad (violation).
    broad_prod_policy: bool,
    /// Terragrunt module ref per environment.
    module_ref: [Ver; 3],
    module_latest: Ver,
    /// Small edits without facts (README revisions, replicas).
    revision: u32,
    replicas: [u32; 3],
}

#[derive(Clone, Debug)]
struct Platform {
    /// Chart version per chart per environment.
    charts: Vec<[Ver; 3]>,
    chart_latest: Vec<Ver>,
    versions: Vec<[Ver; 3]>,
    versions_latest: Vec<Ver>,
}

struct World {
    apps: Vec<App>,
    platform: Platform,
    rng: Rng,
}

fn app_names(n: usize, rng: &mut Rng) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let base = format!("{}-{}", rng.pick(WORDS), rng.pick(KINDS));
        let mut name = base.clone();
        let mut k = 2;
        while seen.contains(&name) {
            name = format!("{base}-{k}");
            k += 1;
        }
        seen.insert(name.clone());
        out.push(name);
    }
    out
}

impl World {
    fn new(p: &Params) -> World {
        let mut rng = Rng::new(p.seed);
        let names = app_names(p.apps, &mut rng);
        let t0 = 1_700_000_000;
        let apps = names
            .into_iter()
            .map(|name| {
                let style = match rng.below(10) {
                    0..=3 => Style::Prefixed,
                    4..=7 => Style::Semver,
                    _ => Style::Helm,
                };
                let mut sidecars: Vec<usize> = Vec::new();
                for _ in 0..rng.below(3) {
                    let s = rng.below(SIDECARS.len());
                    if !sidecars.contains(&s) {
                        sidecars.push(s);
                    }
                }
                let v0 = Ver(
                    rng.below(3) as u32,
                    rng.below(20) as u32,
                    rng.below(10) as u32,
                );
                // Three builds to start with: dev runs the newest, prod the oldest.
                let mut releases = vec![Release {
                    ver: v0,
                    ts: t0 - 30_000,
                }];
                for i in 1..3 {
                    let v = releases[i - 1].ver.bump(&mut rng);
                    releases.push(Release {
                        ver: v,
                        ts: t0 - 30_000 + 10_000 * i as u64,
                    });
                }
                let m = Ver(
                    rng.below(3) as u32 + 1,
                    rng.below(10) as u32,
                    rng.below(5) as u32,
                );
                App {
                    name,
                    style,
                    worker: rng.chance(400),
                    cronjob: rng.chance(250),
                    infra: rng.chance(500),
                    sidecars,
                    releases,
                    at: [Some(2), Some(1), Some(0)],
                    prod_log: Vec::new(),
                    broad_prod_policy: false,
                    module_ref: [m, m, m],
                    module_latest: m,
                    revision: 1,
                    replicas: [1, 2, 3 + rng.below(4) as u32],
                }
            })
            .collect();
        let charts: Vec<[Ver; 3]> = CHARTS
            .iter()
            .map(|(_, _, (a, b, c))| [Ver(*a, *b, *c); 3])
            .collect();
        let versions: Vec<[Ver; 3]> = CLUSTER_VERSIONS
            .iter()
            .map(|(_, (a, b, c))| [Ver(*a, *b, *c); 3])
            .collect();
        World {
            apps,
            platform: Platform {
                chart_latest: charts.iter().map(|c| c[0]).collect(),
                charts,
                versions_latest: versions.iter().map(|c| c[0]).collect(),
                versions,
            },
            rng,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Rendering

fn image_of(app: &App) -> String {
    format!("ghcr.io/acme/{}", app.name)
}

/// The tag an environment pins for a release.
fn tag_of(app: &App, env: usize, rel: &Release) -> String {
    match app.style {
        Style::Prefixed => format!("{}-{}-{}", ENVS[env], rel.ver, rel.ts + 100 * env as u64),
        Style::Semver | Style::Helm => rel.ver.to_string(),
    }
}

fn ns(app: &App, env: usize) -> String {
    format!("{}-{}", app.name, ENVS[env])
}

fn port_of(app: &App) -> u32 {
    8000 + (fnv(&[&app.name]) % 1000) as u32
}

fn render_deployment(app: &App) -> String {
    let image = image_of(app);
    let port = port_of(app);
    let mut s = String::with_capacity(3000);
    let n = &app.name;
    write!(
        s,
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {n}
  labels:
    app.kubernetes.io/name: {n}
    app.kubernetes.io/part-of: acme-platform
spec:
  replicas: 1
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: {n}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {n}
      annotations:
        prometheus.io/scrape: \"true\"
        prometheus.io/port: \"{port}\"
    spec:
      serviceAccountName: {n}
      # Placeholder tag: every overlay overrides {image} in its images[] list.
      initContainers:
        - name: migrate
          image: {image}:latest
          command: [\"/app/{n}\", \"migrate\", \"--wait-for-db=60s\"]
          envFrom:
            - configMapRef:
                name: {n}-config
            - secretRef:
                name: {n}-db
      containers:
        - name: {n}
          image: {image}:latest
          args: [\"serve\", \"--listen=:{port}\"]
          ports:
            - name: http
              containerPort: {port}
          envFrom:
            - configMapRef:
                name: {n}-config
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
            limits:
              memory: 512Mi
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            runAsNonRoot: true
"
    )
    .unwrap();
    if app.worker {
        write!(
            s,
            "        - name: worker
          image: {image}:latest
          args: [\"work\", \"--queue={n}\"]
          envFrom:
            - configMapRef:
                name: {n}-config
          resources:
            requests:
              cpu: 50m
              memory: 64Mi
"
        )
        .unwrap();
    }
    for &i in &app.sidecars {
        let (name, img, tag) = SIDECARS[i];
        write!(
            s,
            "        - name: {name}
          image: {img}:{tag}
          resources:
            requests:
              cpu: 10m
              memory: 32Mi
"
        )
        .unwrap();
    }
    s
}

fn render_cronjob(app: &App) -> String {
    let n = &app.name;
    let image = image_of(app);
    format!(
        "apiVersion: batch/v1
kind: CronJob
metadata:
  name: {n}-nightly
spec:
  schedule: \"17 3 * * *\"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      backoffLimit: 2
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: nightly
              image: {image}:latest
              args: [\"nightly\", \"--report\"]
"
    )
}

fn render_base_kustomization(app: &App) -> String {
    let mut s = String::from(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
    );
    if app.style != Style::Helm {
        s.push_str("  - deployment.yaml\n");
    }
    s.push_str("  - service.yaml\n  - configmap.yaml\n  - serviceaccount.yaml\n");
    if app.style != Style::Helm {
        s.push_str("  - hpa.yaml\n");
    }
    s.push_str("  - pdb.yaml\n  - networkpolicy.yaml\n");
    if app.cronjob && app.style != Style::Helm {
        s.push_str("  - cronjob.yaml\n");
    }
    write!(
        s,
        "labels:\n  - pairs:\n      app.kubernetes.io/name: {n}\n      app.kubernetes.io/part-of: acme-platform\n    includeSelectors: true\n",
        n = app.name
    )
    .unwrap();
    s
}

fn render_service(app: &App) -> String {
    let n = &app.name;
    let port = port_of(app);
    format!(
        "apiVersion: v1
kind: Service
metadata:
  name: {n}
spec:
  selector:
    app.kubernetes.io/name: {n}
  ports:
    - name: http
      port: 80
      targetPort: {port}
"
    )
}

fn render_configmap(app: &App) -> String {
    let n = &app.name;
    format!(
        "apiVersion: v1
kind: ConfigMap
metadata:
  name: {n}-config
data:
  LOG_LEVEL: info
  LOG_FORMAT: json
  HTTP_TIMEOUT: 30s
  DB_POOL_SIZE: \"10\"
  FEATURE_FLAGS: \"\"
  OTEL_SERVICE_NAME: {n}
  OTEL_EXPORTER_OTLP_ENDPOINT: http://otel-collector.observability:4317
"
    )
}

fn render_serviceaccount(app: &App) -> String {
    format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {n}\nautomountServiceAccountToken: false\n",
        n = app.name
    )
}

fn render_hpa(app: &App) -> String {
    let n = &app.name;
    format!(
        "apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {n}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {n}
  minReplicas: 1
  maxReplicas: 10
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
"
    )
}

fn render_pdb(app: &App) -> String {
    let n = &app.name;
    format!(
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: {n}\nspec:\n  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: {n}\n"
    )
}

fn render_networkpolicy(app: &App) -> String {
    let n = &app.name;
    format!(
        "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {n}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: {n}
  policyTypes: [Ingress]
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: ingress-nginx
      ports:
        - port: {p}
",
        p = port_of(app)
    )
}

fn render_readme(app: &App) -> String {
    let n = &app.name;
    format!(
        "# {n}\n\nOwned by team {t}. Builds are pushed to ghcr.io/acme/{n} by CI; Flux image\nautomation writes new tags to `dev/`, the promote workflow copies a tested version to\n`staging/` and then `prod/`.\n\nRevision {r}.\n",
        t = WORDS[(fnv(&[n]) % WORDS.len() as u64) as usize],
        r = app.revision
    )
}

fn policy_pattern(app: &App, env: usize) -> String {
    if env == PROD && app.broad_prod_policy {
        return ".*".to_string();
    }
    match app.style {
        Style::Prefixed => format!(
            "^{}-v(?P<version>[0-9]+\\.[0-9]+\\.[0-9]+)-(?P<ts>[0-9]+)$",
            ENVS[env]
        ),
        _ => "^v(?P<version>[0-9]+\\.[0-9]+\\.[0-9]+)$".to_string(),
    }
}

fn render_image_automation(app: &App, env: usize) -> String {
    let n = &app.name;
    let nsn = ns(app, env);
    let image = image_of(app);
    let pattern = policy_pattern(app, env);
    let policy = match app.style {
        Style::Prefixed => "  filterTags:\n    pattern: '{P}'\n    extract: '$ts'\n  policy:\n    numerical:\n      order: asc\n".replace("{P}", &pattern),
        _ => "  filterTags:\n    pattern: '{P}'\n    extract: '$version'\n  policy:\n    semver:\n      range: '>=0.0.0'\n".replace("{P}", &pattern),
    };
    format!(
        "apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata:
  name: {n}
  namespace: {nsn}
spec:
  image: {image}
  interval: 5m
  secretRef:
    name: ghcr-pull
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: {n}
  namespace: {nsn}
spec:
  imageRepositoryRef:
    name: {n}
{policy}"
    )
}

/// What an environment pins now: (tag, digest).
fn pinned(app: &App, env: usize) -> (String, Option<String>) {
    match app.at[env] {
        None => ("latest".to_string(), None),
        Some(i) => {
            let rel = &app.releases[i];
            let tag = tag_of(app, env, rel);
            let d = (env == PROD && app.style == Style::Semver)
                .then(|| digest(&[&app.name, &rel.ver.to_string()]));
            (tag, d)
        }
    }
}

fn render_overlay_kustomization(app: &App, env: usize) -> String {
    let nsn = ns(app, env);
    let mut s = format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: {nsn}
resources:
  - ../base
  - image-automation.yaml
"
    );
    if app.style == Style::Helm {
        s.push_str("  - helmrelease.yaml\n");
    }
    write!(
        s,
        "patches:
  - path: configmap-patch.yaml
"
    )
    .unwrap();
    if app.style != Style::Helm {
        write!(
            s,
            "  - target:
      kind: Deployment
      name: {n}
    patch: |-
      - op: replace
        path: /spec/replicas
        value: {r}
",
            n = app.name,
            r = app.replicas[env]
        )
        .unwrap();
        let (tag, d) = pinned(app, env);
        write!(
            s,
            "images:
  - name: {img}
    newTag: {tag} # {{\"$imagepolicy\": \"{nsn}:{n}:tag\"}}
",
            img = image_of(app),
            n = app.name
        )
        .unwrap();
        if let Some(d) = d {
            writeln!(
                s,
                "    digest: {d} # {{\"$imagepolicy\": \"{nsn}:{n}:digest\"}}",
                n = app.name
            )
            .unwrap();
        }
    }
    s
}

fn render_helmrelease(app: &App, env: usize) -> String {
    let n = &app.name;
    let nsn = ns(app, env);
    let (tag, _) = pinned(app, env);
    format!(
        "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {n}
  namespace: {nsn}
spec:
  interval: 30m
  chart:
    spec:
      chart: app-template
      version: 3.5.1
      sourceRef:
        kind: HelmRepository
        name: bjw-s
        namespace: flux-system
  install:
    remediation:
      retries: 3
  values:
    replicaCount: {r}
    image:
      repository: {img}
      tag: {tag} # {{\"$imagepolicy\": \"{nsn}:{n}:tag\"}}
      pullPolicy: IfNotPresent
    service:
      main:
        ports:
          http:
            port: {p}
    resources:
      requests:
        cpu: 100m
        memory: 128Mi
",
        r = app.replicas[env],
        img = image_of(app),
        p = port_of(app)
    )
}

fn render_configmap_patch(app: &App, env: usize) -> String {
    format!(
        "apiVersion: v1
kind: ConfigMap
metadata:
  name: {n}-config
data:
  LOG_LEVEL: {lvl}
  ENVIRONMENT: {e}
  REPLICA_HINT: \"{r}\"
",
        n = app.name,
        lvl = if env == DEV { "debug" } else { "info" },
        e = ENVS[env],
        r = app.replicas[env]
    )
}

fn render_flux_kustomization(app: &App, env: usize) -> String {
    let n = &app.name;
    format!(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {n}
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps/{n}/{e}
  prune: true
  wait: true
  timeout: 5m
  sourceRef:
    kind: GitRepository
    name: flux-system
  targetNamespace: {nsn}
",
        e = ENVS[env],
        nsn = ns(app, env)
    )
}

fn render_terragrunt(app: &App, env: usize) -> String {
    let n = &app.name;
    let m = app.module_ref[env];
    let class = ["db.t4g.small", "db.t4g.medium", "db.r6g.large"][env];
    format!(
        "include \"root\" {{
  path = find_in_parent_folders(\"root.hcl\")
}}

terraform {{
  source = \"git::https://github.com/acme/terraform-modules.git//postgres?ref={m}\"
}}

locals {{
  env = read_terragrunt_config(find_in_parent_folders(\"env.hcl\"))
}}

inputs = {{
  name              = \"{n}-{e}\"
  engine_version    = \"16.4\"
  instance_class    = \"{class}\"
  allocated_storage = {st}
  multi_az          = {maz}
  tags = {{
    app         = \"{n}\"
    environment = \"{e}\"
  }}
}}
",
        e = ENVS[env],
        st = 20 * (env + 1),
        maz = env == PROD
    )
}

fn render_helm_charts(p: &Platform, env: usize) -> String {
    let mut s = format!(
        "# Platform charts of the {e} cluster. One ResourceSet input per chart.
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: helm-charts
  namespace: flux-system
spec:
  inputs:
",
        e = ENVS[env]
    );
    for (i, (name, repo, _)) in CHARTS.iter().enumerate() {
        write!(
            s,
            "    - name: {name}
      namespace: {name}
      chart:
        name: {name}
        version: \"{v}\"
        repository: {repo}
",
            v = p.charts[i][env].plain()
        )
        .unwrap();
    }
    s.push_str(
        "  resources:
    - apiVersion: helm.toolkit.fluxcd.io/v2
      kind: HelmRelease
      metadata:
        name: << inputs.name >>
        namespace: << inputs.namespace >>
      spec:
        interval: 30m
        chart:
          spec:
            chart: << inputs.chart.name >>
            version: << inputs.chart.version | quote >>
            sourceRef:
              kind: HelmRepository
              name: << inputs.name >>
",
    );
    s
}

fn render_versions_env(p: &Platform, env: usize) -> String {
    let mut s = String::from("# Generated from infrastructure/live/<env>/env.hcl; do not edit.\n");
    for (i, (key, _)) in CLUSTER_VERSIONS.iter().enumerate() {
        writeln!(
            s,
            "{}_VERSION={}",
            key.to_ascii_uppercase(),
            p.versions[i][env]
        )
        .unwrap();
    }
    s
}

fn render_env_hcl(p: &Platform, env: usize) -> String {
    let mut s = format!(
        "locals {{\n  environment = \"{e}\"\n  region      = \"eu-west-1\"\n\n  versions = {{\n",
        e = ENVS[env]
    );
    for (i, (key, _)) in CLUSTER_VERSIONS.iter().enumerate() {
        writeln!(s, "    {key:<12} = \"{}\"", p.versions[i][env]).unwrap();
    }
    s.push_str("  }\n}\n");
    s
}

fn render_cluster_kustomization(apps: &[App], env: usize) -> String {
    let mut s = String::from(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - flux-system\n",
    );
    for a in apps {
        writeln!(s, "  - apps/{}.yaml", a.name).unwrap();
    }
    let _ = env;
    s
}

fn render_gotk_sync(env: usize) -> String {
    format!(
        "apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m
  ref:
    branch: main
  url: ssh://git@github.com/acme/platform
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m
  path: ./clusters/{e}
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
",
        e = ENVS[env]
    )
}

/// Paths of one application's files, with a tag saying how to render each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Deployment,
    CronJob,
    BaseKustomization,
    Service,
    ConfigMap,
    ServiceAccount,
    Hpa,
    Pdb,
    NetworkPolicy,
    Readme,
    Overlay(usize),
    ImageAutomation(usize),
    HelmRelease(usize),
    ConfigMapPatch(usize),
    FluxKustomization(usize),
    Terragrunt(usize),
}

fn parts_of(app: &App) -> Vec<(String, Part)> {
    let n = &app.name;
    let mut v = Vec::new();
    let base = |f: &str| format!("apps/{n}/base/{f}");
    if app.style != Style::Helm {
        v.push((base("deployment.yaml"), Part::Deployment));
        v.push((base("hpa.yaml"), Part::Hpa));
    }
    if app.cronjob && app.style != Style::Helm {
        v.push((base("cronjob.yaml"), Part::CronJob));
    }
    v.push((base("kustomization.yaml"), Part::BaseKustomization));
    v.push((base("service.yaml"), Part::Service));
    v.push((base("configmap.yaml"), Part::ConfigMap));
    v.push((base("serviceaccount.yaml"), Part::ServiceAccount));
    v.push((base("pdb.yaml"), Part::Pdb));
    v.push((base("networkpolicy.yaml"), Part::NetworkPolicy));
    v.push((format!("apps/{n}/README.md"), Part::Readme));
    for e in 0..3 {
        v.extend(env_parts(app, e));
    }
    v
}

fn env_parts(app: &App, e: usize) -> Vec<(String, Part)> {
    let n = &app.name;
    let env = ENVS[e];
    let mut v = vec![
        (
            format!("apps/{n}/{env}/kustomization.yaml"),
            Part::Overlay(e),
        ),
        (
            format!("apps/{n}/{env}/image-automation.yaml"),
            Part::ImageAutomation(e),
        ),
        (
            format!("apps/{n}/{env}/configmap-patch.yaml"),
            Part::ConfigMapPatch(e),
        ),
        (
            format!("clusters/{env}/apps/{n}.yaml"),
            Part::FluxKustomization(e),
        ),
    ];
    if app.style == Style::Helm {
        v.push((
            format!("apps/{n}/{env}/helmrelease.yaml"),
            Part::HelmRelease(e),
        ));
    }
    if app.infra {
        v.push((
            format!("infrastructure/live/{env}/{n}/terragrunt.hcl"),
            Part::Terragrunt(e),
        ));
    }
    v
}

fn render_part(app: &App, part: Part) -> String {
    match part {
        Part::Deployment => render_deployment(app),
        Part::CronJob => render_cronjob(app),
        Part::BaseKustomization => render_base_kustomization(app),
        Part::Service => render_service(app),
        Part::ConfigMap => render_configmap(app),
        Part::ServiceAccount => render_serviceaccount(app),
        Part::Hpa => render_hpa(app),
        Part::Pdb => render_pdb(app),
        Part::NetworkPolicy => render_networkpolicy(app),
        Part::Readme => render_readme(app),
        Part::Overlay(e) => render_overlay_kustomization(app, e),
        Part::ImageAutomation(e) => render_image_automation(app, e),
        Part::HelmRelease(e) => render_helmrelease(app, e),
        Part::ConfigMapPatch(e) => render_configmap_patch(app, e),
        Part::FluxKustomization(e) => render_flux_kustomization(app, e),
        Part::Terragrunt(e) => render_terragrunt(app, e),
    }
}

/// Every file of the tree, by path.
fn render_tree(w: &World) -> BTreeMap<String, String> {
    let mut t = BTreeMap::new();
    t.insert(
        "README.md".to_string(),
        "# acme platform\n\nGitOps monorepo: `apps/<app>/{base,dev,staging,prod}`, one Flux cluster per\nenvironment under `clusters/`, infrastructure under `infrastructure/live/<env>`.\nVersions move dev → staging → prod through the promote workflow.\n".to_string(),
    );
    t.insert(
        "infrastructure/root.hcl".to_string(),
        "remote_state {\n  backend = \"s3\"\n  config = {\n    bucket = \"acme-tfstate\"\n    key    = \"${path_relative_to_include()}/terraform.tfstate\"\n    region = \"eu-west-1\"\n  }\n}\n".to_string(),
    );
    for e in 0..3 {
        let env = ENVS[e];
        t.insert(
            format!("clusters/{env}/helm-charts.yaml"),
            render_helm_charts(&w.platform, e),
        );
        t.insert(
            format!("clusters/{env}/.versions.env"),
            render_versions_env(&w.platform, e),
        );
        t.insert(
            format!("clusters/{env}/kustomization.yaml"),
            render_cluster_kustomization(&w.apps, e),
        );
        t.insert(
            format!("clusters/{env}/flux-system/gotk-sync.yaml"),
            render_gotk_sync(e),
        );
        t.insert(
            format!("infrastructure/live/{env}/env.hcl"),
            render_env_hcl(&w.platform, e),
        );
    }
    for app in &w.apps {
        for (path, part) in parts_of(app) {
            t.insert(path, render_part(app, part));
        }
    }
    t
}

// ---------------------------------------------------------------------------------------
// History

/// One commit: message and the files it writes.
struct Change {
    message: String,
    files: Vec<(String, String)>,
}

/// Counts of what the history did, for the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub files: usize,
    pub bytes: usize,
    pub commits: usize,
    pub releases: usize,
    pub promotions_staging: usize,
    pub promotions_prod: usize,
    pub rollbacks: usize,
    pub platform: usize,
    pub chores: usize,
    pub violations: usize,
}

fn app_files(app: &App, parts: &[Part]) -> Vec<(String, String)> {
    parts_of(app)
        .into_iter()
        .filter(|(_, p)| parts.contains(p))
        .map(|(path, p)| (path, render_part(app, p)))
        .collect()
}

/// Files that carry an environment's pin of an app.
fn pin_parts(app: &App, env: usize) -> Vec<Part> {
    if app.style == Style::Helm {
        vec![Part::HelmRelease(env)]
    } else {
        vec![Part::Overlay(env)]
    }
}

/// An app whose `from` environment runs something `to` does not (tries a few draws).
fn lagging(w: &mut World, from: usize, to: usize) -> Option<usize> {
    for _ in 0..16 {
        let i = w.rng.below(w.apps.len());
        let a = &w.apps[i];
        if let (Some(f), Some(t)) = (a.at[from], a.at[to]) {
            if f != t {
                return Some(i);
            }
        }
    }
    None
}

fn promote(w: &mut World, i: usize, from: usize, to: usize) -> Change {
    let app = &mut w.apps[i];
    app.at[to] = app.at[from];
    if to == PROD {
        app.prod_log.push(app.at[to].unwrap());
    }
    let v = app.releases[app.at[to].unwrap()].ver;
    Change {
        message: format!(
            "promote({}): {} {v}\n\nPromoted from {} by the promote workflow.\n",
            ENVS[to], app.name, ENVS[from]
        ),
        files: app_files(app, &pin_parts(app, to)),
    }
}

fn release(w: &mut World, i: usize, ts: u64) -> Change {
    let v = {
        let app = &w.apps[i];
        app.releases.last().unwrap().ver
    };
    let next = v.bump(&mut w.rng);
    let app = &mut w.apps[i];
    app.releases.push(Release { ver: next, ts });
    app.at[DEV] = Some(app.releases.len() - 1);
    Change {
        message: format!(
            "chore(dev): update {} to {}\n\nAutomated by Flux image-automation.\n",
            app.name,
            tag_of(app, DEV, app.releases.last().unwrap())
        ),
        files: app_files(app, &pin_parts(app, DEV)),
    }
}

/// Platform versions move dev → staging → prod as well.
fn platform_step(w: &mut World) -> Change {
    let p = &mut w.platform;
    let chart = w.rng.chance(600);
    let (list, latest) = if chart {
        (&mut p.charts, &mut p.chart_latest)
    } else {
        (&mut p.versions, &mut p.versions_latest)
    };
    let k = w.rng.below(list.len());
    let cur = list[k];
    // The furthest environment that lags its predecessor catches up; else dev moves on.
    let (env, v) = if cur[PROD] != cur[STAGING] {
        (PROD, cur[STAGING])
    } else if cur[STAGING] != cur[DEV] {
        (STAGING, cur[DEV])
    } else {
        let next = latest[k].bump(&mut w.rng);
        latest[k] = next;
        (DEV, next)
    };
    list[k][env] = v;
    let e = ENVS[env];
    if chart {
        let name = CHARTS[k].0;
        Change {
            message: format!("chore({e}): helm chart {name} {}\n", v.plain()),
            files: vec![(
                format!("clusters/{e}/helm-charts.yaml"),
                render_helm_charts(p, env),
            )],
        }
    } else {
        let key = CLUSTER_VERSIONS[k].0;
        Change {
            message: format!("chore({e}): {key} {v}\n"),
            files: vec![
                (
                    format!("clusters/{e}/.versions.env"),
                    render_versions_env(p, env),
                ),
                (
                    format!("infrastructure/live/{e}/env.hcl"),
                    render_env_hcl(p, env),
                ),
            ],
        }
    }
}

fn module_step(w: &mut World) -> Option<Change> {
    for _ in 0..16 {
        let i = w.rng.below(w.apps.len());
        if !w.apps[i].infra {
            continue;
        }
        let bump = w.rng.next_u64();
        let app = &mut w.apps[i];
        let r = app.module_ref;
        let env = if r[PROD] != r[STAGING] {
            app.module_ref[PROD] = r[STAGING];
            PROD
        } else if r[STAGING] != r[DEV] {
            app.module_ref[STAGING] = r[DEV];
            STAGING
        } else {
            let mut rr = Rng::new(bump);
            app.module_latest = app.module_latest.bump(&mut rr);
            app.module_ref[DEV] = app.module_latest;
            DEV
        };
        return Some(Change {
            message: format!(
                "chore({}): {} postgres module {}\n",
                ENVS[env], app.name, app.module_ref[env]
            ),
            files: app_files(app, &[Part::Terragrunt(env)]),
        });
    }
    None
}

fn chore(w: &mut World) -> Change {
    let i = w.rng.below(w.apps.len());
    let e = w.rng.below(3);
    let edit_readme = w.rng.chance(500);
    let app = &mut w.apps[i];
    if edit_readme {
        app.revision += 1;
        Change {
            message: format!("docs: {} README\n", app.name),
            files: app_files(app, &[Part::Readme]),
        }
    } else {
        app.replicas[e] = 1 + (app.replicas[e] % 6);
        let mut parts = vec![Part::ConfigMapPatch(e)];
        if app.style == Style::Helm {
            parts.push(Part::HelmRelease(e));
        } else {
            parts.push(Part::Overlay(e));
        }
        Change {
            message: format!("{}: scale {} to {}\n", ENVS[e], app.name, app.replicas[e]),
            files: app_files(app, &parts),
        }
    }
}

/// A deliberate violation of the promotion contract (a few per thousand commits).
fn violation(w: &mut World, ts: u64) -> Change {
    match w.rng.below(5) {
        // Skip staging: a fresh dev build straight to prod (PL006).
        0 => {
            let i = w.rng.below(w.apps.len());
            let mut c = release(w, i, ts);
            let app = &mut w.apps[i];
            app.at[PROD] = app.at[DEV];
            app.prod_log.push(app.at[PROD].unwrap());
            c.files.extend(app_files(app, &pin_parts(app, PROD)));
            c.message = format!("hotfix: {} straight to prod\n", app.name);
            c
        }
        // Two versions into prod in one change (PL007).
        1 => {
            let mut files = Vec::new();
            let mut names = Vec::new();
            for _ in 0..2 {
                if let Some(i) = lagging(w, STAGING, PROD) {
                    let c = promote(w, i, STAGING, PROD);
                    files.extend(c.files);
                    names.push(w.apps[i].name.clone());
                }
            }
            Change {
                message: format!("promote(prod): {}\n", names.join(", ")),
                files,
            }
        }
        // A mutable tag in prod (PL001); fixed by the next promotion of that app.
        2 => {
            let i = w.rng.below(w.apps.len());
            let app = &mut w.apps[i];
            app.at[PROD] = None;
            Change {
                message: format!("prod: {} follow latest\n", app.name),
                files: app_files(app, &pin_parts(app, PROD)),
            }
        }
        // A prod tag policy that admits every tag (PL003).
        3 => {
            let i = w.rng.below(w.apps.len());
            let app = &mut w.apps[i];
            app.broad_prod_policy = true;
            Change {
                message: format!("prod: relax {} image policy\n", app.name),
                files: app_files(app, &[Part::ImageAutomation(PROD)]),
            }
        }
        // A rollback to a version prod never ran (and staging never had): PL006.
        _ => {
            let i = w.rng.below(w.apps.len());
            let app = &mut w.apps[i];
            let old = Ver(0, 0, 1);
            app.releases.push(Release { ver: old, ts });
            app.at[PROD] = Some(app.releases.len() - 1);
            Change {
                message: format!("prod: pin {} to {old}\n", app.name),
                files: app_files(app, &pin_parts(app, PROD)),
            }
        }
    }
}

fn rollback(w: &mut World) -> Option<Change> {
    for _ in 0..16 {
        let i = w.rng.below(w.apps.len());
        let app = &mut w.apps[i];
        let Some(cur) = app.at[PROD] else { continue };
        let prev = app.prod_log.iter().rev().copied().find(|&p| p != cur);
        if let Some(p) = prev {
            app.at[PROD] = Some(p);
            app.prod_log.push(p);
            let v = app.releases[p].ver;
            return Some(Change {
                message: format!("rollback(prod): {} to {v}\n", app.name),
                files: app_files(app, &pin_parts(app, PROD)),
            });
        }
    }
    None
}

fn next_change(w: &mut World, ts: u64, stats: &mut Stats) -> Change {
    loop {
        let roll = w.rng.below(1000);
        let c = match roll {
            0..=389 => {
                let i = w.rng.below(w.apps.len());
                stats.releases += 1;
                Some(release(w, i, ts))
            }
            390..=649 => lagging(w, DEV, STAGING).map(|i| {
                stats.promotions_staging += 1;
                promote(w, i, DEV, STAGING)
            }),
            650..=849 => lagging(w, STAGING, PROD).map(|i| {
                stats.promotions_prod += 1;
                promote(w, i, STAGING, PROD)
            }),
            850..=874 => rollback(w).inspect(|_| stats.rollbacks += 1),
            875..=914 => {
                stats.platform += 1;
                Some(platform_step(w))
            }
            915..=944 => module_step(w).inspect(|_| stats.platform += 1),
            945..=994 => {
                stats.chores += 1;
                Some(chore(w))
            }
            _ => {
                stats.violations += 1;
                Some(violation(w, ts))
            }
        };
        if let Some(c) = c {
            return c;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Output: a git fast-import stream

const T0: u64 = 1_700_000_000;

fn fi_data(out: &mut Vec<u8>, bytes: &[u8]) {
    writeln!(out, "data {}", bytes.len()).unwrap();
    out.extend_from_slice(bytes);
    out.push(b'\n');
}

fn fi_commit(out: &mut Vec<u8>, n: usize, message: &str, files: &[(String, String)]) {
    let ts = T0 + 600 * n as u64;
    let who = if message.starts_with("chore(dev)") {
        "fluxcdbot <fluxcdbot@users.noreply.github.com>"
    } else {
        "Acme Release <release@acme.example>"
    };
    writeln!(out, "commit refs/heads/main").unwrap();
    writeln!(out, "mark :{}", n + 1).unwrap();
    writeln!(out, "author {who} {ts} +0000").unwrap();
    writeln!(out, "committer {who} {ts} +0000").unwrap();
    fi_data(out, message.as_bytes());
    if n > 0 {
        writeln!(out, "from :{}", n).unwrap();
    }
    for (path, text) in files {
        writeln!(out, "M 100644 inline {path}").unwrap();
        fi_data(out, text.as_bytes());
    }
    out.push(b'\n');
}

/// The corpus as a fast-import stream, the final tree, and what the history did.
pub fn generate(p: &Params) -> (Vec<u8>, BTreeMap<String, String>, Stats) {
    let mut w = World::new(p);
    let mut tree = render_tree(&w);
    let mut stats = Stats::default();
    let mut out = Vec::with_capacity(64 << 20);
    let initial: Vec<(String, String)> = tree.iter().map(|(a, b)| (a.clone(), b.clone())).collect();
    fi_commit(
        &mut out,
        0,
        "Initial import of the acme platform\n",
        &initial,
    );
    drop(initial);
    for n in 1..p.commits.max(1) {
        let ts = T0 + 600 * n as u64;
        let c = next_change(&mut w, ts, &mut stats);
        let changed: Vec<(String, String)> = c
            .files
            .into_iter()
            .filter(|(path, text)| tree.get(path) != Some(text))
            .collect();
        for (path, text) in &changed {
            tree.insert(path.clone(), text.clone());
        }
        fi_commit(&mut out, n, &c.message, &changed);
    }
    stats.commits = p.commits.max(1);
    stats.files = tree.len();
    stats.bytes = tree.values().map(String::len).sum();
    (out, tree, stats)
}

// ---------------------------------------------------------------------------------------
// Peers subset: rendered manifests with concrete images

/// `count` rendered manifests (Deployments, CronJobs, Services, ConfigMaps, HPAs) of the
/// first applications at HEAD, and how many production workloads use `:latest` or no tag
/// (each such workload has exactly one such container, so per-resource and per-container
/// counts agree).
pub fn render_peers(p: &Params, count: usize) -> (BTreeMap<String, String>, usize) {
    let mut w = World::new(p);
    // Peers see the tree at HEAD of the same history.
    let mut stats = Stats::default();
    for n in 1..p.commits.max(1) {
        let _ = next_change(&mut w, T0 + 600 * n as u64, &mut stats);
    }
    let mut rng = Rng::new(p.seed ^ 0xBEE5);
    let mut files = BTreeMap::new();
    let mut expected = 0;
    'outer: for app in &w.apps {
        for e in 0..3 {
            let nsn = ns(app, e);
            let (tag, d) = pinned(app, e);
            let mut image = format!("{}:{tag}", image_of(app));
            if let Some(d) = d {
                image = format!("{image}@{d}");
            }
            // 6% of workloads carry a mutable image (dev and staging too: the question is
            // about production only).
            let bad = rng.chance(60);
            let bad_kind = rng.below(3);
            let bad_image = match bad_kind {
                0 => "docker.io/library/busybox".to_string(),
                1 => "docker.io/library/busybox:latest".to_string(),
                _ => format!("{}:latest", image_of(app)),
            };
            let mutable_main = tag == "latest";
            if e == PROD && (bad || mutable_main) && files.len() < count {
                expected += 1;
            }
            let mut dep = render_deployment(app)
                .replace(
                    "metadata:\n  name: ",
                    &format!("metadata:\n  namespace: {nsn}\n  name: "),
                )
                .replace(&format!("{}:latest", image_of(app)), &image)
                .replace(
                    "  replicas: 1\n",
                    &format!("  replicas: {}\n", app.replicas[e]),
                );
            if bad && !mutable_main {
                dep = dep.replacen(
                    "      initContainers:\n",
                    &format!(
                        "      initContainers:\n        - name: wait-for-db\n          image: {bad_image}\n          command: [\"sh\", \"-c\", \"until nc -z db 5432; do sleep 1; done\"]\n"
                    ),
                    1,
                );
            }
            let dir = format!("{}/{}", app.name, ENVS[e]);
            let kind = if app.style == Style::Helm {
                "cronjob"
            } else {
                "deployment"
            };
            let body = if app.style == Style::Helm {
                // Helm apps render a CronJob here, to vary the workload kinds.
                let mut cj = render_cronjob(app)
                    .replace(
                        "metadata:\n  name: ",
                        &format!("metadata:\n  namespace: {nsn}\n  name: "),
                    )
                    .replace(&format!("{}:latest", image_of(app)), &image);
                if bad && !mutable_main {
                    cj = cj.replacen(
                        "          containers:\n",
                        &format!(
                            "          initContainers:\n            - name: wait-for-db\n              image: {bad_image}\n          containers:\n"
                        ),
                        1,
                    );
                }
                cj
            } else {
                dep
            };
            let add_ns = |s: String| {
                s.replacen(
                    "metadata:\n  name: ",
                    &format!("metadata:\n  namespace: {nsn}\n  name: "),
                    1,
                )
            };
            let mut docs = vec![
                (format!("{dir}/{kind}.yaml"), body),
                (format!("{dir}/service.yaml"), add_ns(render_service(app))),
                (
                    format!("{dir}/configmap.yaml"),
                    add_ns(render_configmap(app)),
                ),
            ];
            if app.style != Style::Helm {
                docs.push((format!("{dir}/hpa.yaml"), add_ns(render_hpa(app))));
            }
            // The workload comes first, so a cut at `count` never drops one that counts.
            for (path, text) in docs {
                if files.len() == count {
                    break 'outer;
                }
                files.insert(path, text);
            }
        }
    }
    (files, expected)
}

// ---------------------------------------------------------------------------------------
// Writing to disk

fn git(dir: &Path, args: &[&str]) -> Result<(), String> {
    let st = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("git {args:?}: {e}"))?;
    if st.success() {
        Ok(())
    } else {
        Err(format!("git {args:?} failed: {st}"))
    }
}

fn git_init(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    git(dir, &["init", "-q", "-b", "main"])?;
    for (k, v) in [
        ("user.name", "Acme Release"),
        ("user.email", "release@acme.example"),
        ("gc.auto", "0"),
        ("core.autocrlf", "false"),
    ] {
        git(dir, &["config", k, v])?;
    }
    Ok(())
}

/// Create the repository at `dir` (which must not exist or be empty).
pub fn write_repo(dir: &Path, p: &Params) -> Result<Stats, String> {
    let (stream, _tree, stats) = generate(p);
    import(dir, &stream)?;
    Ok(stats)
}

/// Write the peers subset as a one-commit repository; returns the expected count.
pub fn write_peers(dir: &Path, p: &Params, count: usize) -> Result<(usize, usize), String> {
    let (files, expected) = render_peers(p, count);
    git_init(dir)?;
    for (path, text) in &files {
        let f = dir.join(path);
        std::fs::create_dir_all(f.parent().unwrap()).map_err(|e| e.to_string())?;
        std::fs::write(&f, text).map_err(|e| format!("{}: {e}", f.display()))?;
    }
    git(dir, &["add", "-A"])?;
    git(
        dir,
        &[
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "-m",
            "rendered manifests",
        ],
    )?;
    Ok((files.len(), expected))
}

// ---------------------------------------------------------------------------------------
// The homelab layout (`--homelab`): one Flux repository, clusters/{dev,integration,live},
// each cluster's versions in `versions.env` substituted into shared manifests, and a long
// history of Renovate-style bumps to dev promoted to integration and then live.

const HOMELAB_ENVS: [&str; 3] = ["dev", "integration", "live"];

fn homelab_var(app: &str) -> String {
    format!("{}_VERSION", app.to_uppercase().replace('-', "_"))
}

fn homelab_versions(apps: &[String], versions: &[Ver]) -> String {
    let mut s =
        String::from("# Versions this cluster runs (Renovate bumps dev; promotions copy).\n");
    for (a, v) in apps.iter().zip(versions) {
        writeln!(s, "{}={}.{}.{}", homelab_var(a), v.0, v.1, v.2).unwrap();
    }
    s
}

fn homelab_tree(apps: &[String], versions: &[Vec<Ver>]) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for (e, env) in HOMELAB_ENVS.iter().enumerate() {
        files.push((
            format!("clusters/{env}/kustomization.yaml"),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: flux-system\nresources:\n  - apps.yaml\nconfigMapGenerator:\n  - name: cluster-versions\n    envs:\n      - versions.env\ngeneratorOptions:\n  disableNameSuffixHash: true\n".to_string(),
        ));
        files.push((
            format!("clusters/{env}/apps.yaml"),
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-versions\n".to_string(),
        ));
        files.push((
            format!("clusters/{env}/versions.env"),
            homelab_versions(apps, &versions[e]),
        ));
    }
    let mut root = String::from(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
    );
    for a in apps {
        writeln!(root, "  - {a}").unwrap();
        files.push((
            format!("apps/{a}/kustomization.yaml"),
            format!("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {a}\nresources:\n  - deployment.yaml\n  - service.yaml\n"),
        ));
        files.push((
            format!("apps/{a}/deployment.yaml"),
            format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {a}\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: {a}\n  template:\n    metadata:\n      labels:\n        app: {a}\n    spec:\n      containers:\n        - name: {a}\n          image: ghcr.io/homelab/{a}:${{{}}}\n          ports:\n            - containerPort: 8080\n", homelab_var(a)),
        ));
        files.push((
            format!("apps/{a}/service.yaml"),
            format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: {a}\nspec:\n  selector:\n    app: {a}\n  ports:\n    - port: 80\n      targetPort: 8080\n"),
        ));
        files.push((
            format!("docs/{a}.md"),
            format!("# {a}\n\nRunbook for {a}.\n"),
        ));
    }
    files.push(("apps/kustomization.yaml".to_string(), root));
    files.push((
        "README.md".to_string(),
        "# homelab\n\nFlux clusters: dev, integration, live.\n".to_string(),
    ));
    files.sort();
    files
}

/// A homelab repository as a fast-import stream: `p.apps` applications, `p.commits` commits
/// (45 % Renovate bumps of dev, 25 % promotions to integration, 20 % to live, 3 %
/// rollbacks of integration to the version before, so that live runs what integration
/// ran earlier and only the history says it did, 7 % docs).
pub fn generate_homelab(p: &Params) -> Vec<u8> {
    let mut rng = Rng::new(p.seed);
    let apps: Vec<String> = app_names(p.apps, &mut rng);
    let mut versions: Vec<Vec<Ver>> = vec![vec![Ver(1, 0, 0); apps.len()]; 3];
    // What integration ran before its current version, per application.
    let mut earlier: Vec<Option<Ver>> = vec![None; apps.len()];
    let mut out = Vec::with_capacity(8 << 20);
    fi_commit(
        &mut out,
        0,
        "initial import",
        &homelab_tree(&apps, &versions),
    );
    for n in 1..p.commits {
        let a = rng.below(apps.len());
        let roll = rng.below(100);
        let (message, files) = if roll < 45 {
            let v = &mut versions[0][a];
            *v = if rng.chance(150) {
                Ver(v.0, v.1 + 1, 0)
            } else {
                Ver(v.0, v.1, v.2 + 1)
            };
            let msg = format!(
                "chore(deps): update ghcr.io/homelab/{} to {}.{}.{}",
                apps[a], v.0, v.1, v.2
            );
            (
                msg,
                vec![(
                    String::from("clusters/dev/versions.env"),
                    homelab_versions(&apps, &versions[0]),
                )],
            )
        } else if roll < 90 {
            let to = if roll < 70 { 1 } else { 2 };
            if to == 1 && versions[1][a] != versions[0][a] {
                earlier[a] = Some(versions[1][a]);
            }
            versions[to][a] = versions[to - 1][a];
            let v = versions[to][a];
            let msg = format!(
                "promote({}): {} {}.{}.{}",
                HOMELAB_ENVS[to], apps[a], v.0, v.1, v.2
            );
            (
                msg,
                vec![(
                    format!("clusters/{}/versions.env", HOMELAB_ENVS[to]),
                    homelab_versions(&apps, &versions[to]),
                )],
            )
        } else if roll < 93 && earlier[a].is_some() {
            let back = earlier[a].take().unwrap_or(versions[1][a]);
            versions[1][a] = back;
            let msg = format!(
                "rollback(integration): {} {}.{}.{}",
                apps[a], back.0, back.1, back.2
            );
            (
                msg,
                vec![(
                    String::from("clusters/integration/versions.env"),
                    homelab_versions(&apps, &versions[1]),
                )],
            )
        } else {
            let msg = format!("docs: {} runbook", apps[a]);
            (
                msg,
                vec![(
                    format!("docs/{}.md", apps[a]),
                    format!("# {}\n\nRunbook for {}, revision {n}.\n", apps[a], apps[a]),
                )],
            )
        };
        fi_commit(&mut out, n, &message, &files);
    }
    out
}

/// Create the homelab repository at `dir`.
pub fn write_homelab(dir: &Path, p: &Params) -> Result<(), String> {
    import(dir, &generate_homelab(p))
}

/// A new repository at `dir` holding the fast-import `stream`, checked out.
fn import(dir: &Path, stream: &[u8]) -> Result<(), String> {
    git_init(dir)?;
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["fast-import", "--quiet", "--done"])
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("git fast-import: {e}"))?;
    {
        let mut stdin = child.stdin.take().ok_or("fast-import: no stdin")?;
        stdin
            .write_all(stream)
            .and_then(|()| stdin.write_all(b"done\n"))
            .map_err(|e| format!("fast-import: {e}"))?;
    }
    let st = child.wait().map_err(|e| format!("fast-import: {e}"))?;
    if !st.success() {
        return Err(format!("git fast-import failed: {st}"));
    }
    git(dir, &["reset", "-q", "--hard", "main"])?;
    // The reset wrote the files and the index within the same second, leaving every entry
    // racily clean (its file must be read to be trusted). A real checkout of this size
    // takes seconds, and the first `git status` rewrites such an index; so does this, once
    // the second has passed.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    git(dir, &["status", "--porcelain", "--untracked-files=no"])
}

fn usage() -> ! {
    eprintln!(
        "usage: gen_corpus [--homelab] [--apps N] [--commits N] [--seed N] [--peers N] [--peers-out DIR] [--force] OUT"
    );
    std::process::exit(2)
}

fn main() {
    let mut p = Params::default();
    let mut out: Option<PathBuf> = None;
    let mut peers: usize = 0;
    let mut peers_out: Option<PathBuf> = None;
    let mut force = false;
    let mut homelab = false;
    let mut args = std::env::args().skip(1);
    let num = |v: Option<String>| -> u64 {
        v.and_then(|s| s.replace('_', "").parse().ok())
            .unwrap_or_else(|| usage())
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--apps" => p.apps = num(args.next()) as usize,
            "--commits" => p.commits = num(args.next()) as usize,
            "--seed" => p.seed = num(args.next()),
            "--peers" => peers = num(args.next()) as usize,
            "--peers-out" => peers_out = args.next().map(PathBuf::from),
            "--force" => force = true,
            "--homelab" => homelab = true,
            "-h" | "--help" => usage(),
            s if s.starts_with('-') => usage(),
            s => out = Some(PathBuf::from(s)),
        }
    }
    let Some(out) = out else { usage() };
    if p.apps == 0 {
        usage();
    }
    let started = std::time::Instant::now();
    let prepare = |d: &Path| {
        if d.exists() {
            if !force && d.read_dir().map(|mut r| r.next().is_some()).unwrap_or(true) {
                eprintln!("{}: exists (use --force to replace it)", d.display());
                std::process::exit(2);
            }
            std::fs::remove_dir_all(d).unwrap_or_else(|e| {
                eprintln!("{}: {e}", d.display());
                std::process::exit(2)
            });
        }
    };
    prepare(&out);
    if homelab {
        match write_homelab(&out, &p) {
            Ok(()) => eprintln!(
                "{}: homelab of {} applications, {} commits in {:.1}s",
                out.display(),
                p.apps,
                p.commits,
                started.elapsed().as_secs_f64()
            ),
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1)
            }
        }
        return;
    }
    match write_repo(&out, &p) {
        Ok(s) => eprintln!(
            "{}: {} files ({:.1} MiB), {} commits ({} releases, {} → staging, {} → prod, {} rollbacks, {} platform, {} chores, {} violations) in {:.1}s",
            out.display(),
            s.files,
            s.bytes as f64 / (1 << 20) as f64,
            s.commits,
            s.releases,
            s.promotions_staging,
            s.promotions_prod,
            s.rollbacks,
            s.platform,
            s.chores,
            s.violations,
            started.elapsed().as_secs_f64()
        ),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1)
        }
    }
    if peers > 0 {
        let dir = peers_out.unwrap_or_else(|| {
            let mut s = out.clone().into_os_string();
            s.push("-peers");
            PathBuf::from(s)
        });
        prepare(&dir);
        match write_peers(&dir, &p, peers) {
            Ok((n, expected)) => {
                let mut s = dir.clone().into_os_string();
                s.push(".expected");
                std::fs::write(PathBuf::from(&s), format!("{expected}\n")).unwrap();
                eprintln!(
                    "{}: {n} manifests, {expected} production workloads with a mutable image",
                    dir.display()
                );
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1)
            }
        }
    }
}
