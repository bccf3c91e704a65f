import type { HopEventName } from './events.catalog.js';

// Shapes of the `data` field Hop puts in each webhook delivery. Facts come from Hop's SDK
// (`@onehop/js`) and its docs; where the two disagree, the wire format wins. Ids are plain
// strings carrying Hop's prefix (`deployment_…`, `container_…`), timestamps are ISO-8601 strings.

/** A size as Hop writes it in configs, e.g. `512MB` or `1GB`. */
export type HopByteSize = `${number}${'GB' | 'MB' | 'KB' | 'B'}`;

/** Whether containers restart (`persistent`), do not (`ephemeral`), or run alone with a volume. */
export type HopRuntimeType = 'ephemeral' | 'persistent' | 'stateful';

/** CPU and memory given to each container. */
export interface HopResources {
  vcpu: number;
  ram: HopByteSize;
}

/** The persistent volume of a `stateful` deployment. */
export interface HopVolumeDefinition {
  fs: 'ext4' | 'xfs';
  size: HopByteSize;
  mount_path: string;
}

/** A deployment's config as payloads carry it: without the `name` and `target` of the API's. */
export interface HopDeploymentConfig {
  container_strategy: 'manual';
  type: HopRuntimeType;
  /** Config schema version, `12-12-2022` so far; typed loosely so a new version still parses. */
  version: string;
  cmd?: string[];
  entrypoint?: string[];
  image: {
    name: string | null;
    /** Only for third-party registries; Hop's own registry needs none. */
    auth: { username: string; password: string } | null;
    gh_repo: { repo_id: number; full_name: string; branch: string } | null;
  };
  env: Record<string, string>;
  resources: HopResources;
  restart_policy: 'never' | 'always' | 'on-failure';
  /** Present only when `type` is `stateful`. */
  volume?: HopVolumeDefinition;
}

/** Console bookkeeping attached to a deployment; only the port mappings are always present. */
export interface HopDeploymentMetadata {
  /** Ports each container's runtime was seen listening on, keyed by container id. */
  container_port_mappings: Record<string, string[]>;
  ignored_boarding?: boolean;
  created_from_preset?: string;
  created_first_gateway?: boolean;
  ports_acked?: string[];
}

/** An Ignite deployment: the `data` of `ignite.deployment.*` events. */
export interface HopDeployment {
  id: string;
  name: string;
  container_count: number;
  running_container_count: number;
  target_container_count: number;
  created_at: string;
  config: HopDeploymentConfig;
  /** The build serving production; changes when another build is promoted. */
  build_id: string | null;
  active_build: HopBuild | null;
  latest_rollout: HopDeploymentRollout | null;
  /** @deprecated Hop keeps sending it for older clients; read `latest_rollout`. */
  active_rollout: HopDeploymentRollout | null;
  metadata: HopDeploymentMetadata | null;
  build_cache_enabled: boolean;
  build_settings?: { root_directory?: string; dockerfile?: string };
  group_id: string | null;
  /**
   * Where the deployment runs; absent means Hop's own infrastructure. `data` describes a Fleet
   * node (name, status, IPs…), left untyped because webhook consumers rarely need it.
   */
  target?: { type: 'hop' | 'fleet_node'; data: Record<string, unknown> | null };
}

/** Where a build is in its life; `validation_failed` means the uploaded source was rejected. */
export type HopBuildState =
  'validating' | 'pending' | 'failed' | 'succeeded' | 'cancelled' | 'validation_failed';

/** The commit a GitHub-triggered build was made from. */
export interface HopBuildMetadata {
  account_type?: 'user' | 'organization';
  author?: { avatar_url: string; username: string };
  repo_id: number;
  repo_name: string;
  branch: string;
  commit_sha: string;
  commit_msg: string;
  commit_url?: string;
}

/** How Hop decided to build the source, once it has looked at it. */
export interface HopBuildEnvironment {
  type: 'nixpacks' | 'dockerfile';
  /** The Nixpacks plan, for `nixpacks` builds. */
  nix_plan?: {
    language: string | null;
    pkgs: string[] | null;
    cmds: { build: string | null; start: string | null; install: string | null };
  } | null;
}

/** One build of a deployment: the `data` of `ignite.deployment.build.*` events. */
export interface HopBuild {
  id: string;
  deployment_id: string;
  state: HopBuildState;
  method: 'github' | 'cli';
  /** Repository and commit details, filled in mostly for GitHub builds. */
  metadata: HopBuildMetadata | null;
  created_at?: string;
  started_at: string | null;
  finished_at: string | null;
  /** Digest of the resulting image, once there is one. */
  digest: string | null;
  environment: HopBuildEnvironment | null;
  /** Set only when `state` is `validation_failed`. */
  validation_failure: { reason: string; help_link: string | null } | null;
}

/** Progress of a rollout: `failed` includes a failed health check. */
export type HopRolloutState = 'pending' | 'finished' | 'failed';

/** Replacement of a deployment's containers: the `data` of `ignite.deployment.rollout.*` events. */
export interface HopDeploymentRollout {
  id: string;
  deployment_id: string;
  /** How many containers are being recreated. */
  count: number;
  state: HopRolloutState;
  /** The build being rolled out, if a build triggered the rollout. */
  build: HopBuild | null;
  init_container_id: string | null;
  health_check_failed: boolean;
  acknowledged: boolean;
  created_at: string;
  last_updated_at: string;
}

/** `failed` is a non-zero exit of the entrypoint; `exited` a clean one. */
export type HopContainerState =
  'pending' | 'running' | 'stopped' | 'failed' | 'terminating' | 'exited';

/**
 * Usage figures on a container entity, numeric as the SDK types them. The metrics_update event
 * sends percentages as strings instead (see {@link HopContainerMetricsUpdate}).
 */
export interface HopContainerMetrics {
  cpu_usage_percent: number;
  memory_usage_percent: number;
  memory_usage_bytes: number;
}

/** One container of a deployment: the `data` of container created/updated/deleted events. */
export interface HopContainer {
  id: string;
  deployment_id: string;
  state: HopContainerState;
  type: HopRuntimeType;
  region: 'us-east-1';
  internal_ip: string;
  created_at: string;
  uptime: { last_start: string };
  metrics: HopContainerMetrics | null;
  metadata: { last_exit_code?: number };
  /** Resources set on this container by hand, overriding the deployment's. */
  overrides: { resources?: Partial<HopResources> } | null;
  volume: HopVolumeDefinition | null;
}

/**
 * `data` of `ignite.deployment.container.metrics_update` as Hop sends it; the SDK's type is wrong
 * here: the metrics are nested and the percentages are decimal strings such as `'0.07'`.
 */
export interface HopContainerMetricsUpdate {
  metrics: { memory_usage_percent: string; memory_usage_bytes: number; cpu_usage_percent: string };
  container_id: string;
}

/** A deployment's HTTP health check: the `data` of healthcheck created/updated/deleted events. */
export interface HopHealthCheck {
  /** Prefix `health_check_`. The payload does not say which deployment the check belongs to. */
  id: string;
  protocol: 'http';
  path: string;
  port: number;
  /** Seconds between checks. */
  interval: number;
  /** Milliseconds, unlike `interval` and `initial_delay`, which are seconds. */
  timeout: number;
  /** Seconds to wait after a container starts, e.g. while migrations run. */
  initial_delay: number;
  /** Consecutive failures before the container counts as unhealthy. */
  max_retries: number;
  created_at: string;
}

/** One container's health check result: the `data` of `ignite.deployment.healthcheck.events.*`. */
export interface HopHealthCheckEventUpdate {
  state: 'failed' | 'succeeded' | 'pending';
  container_id: string;
  deployment_id: string;
}

/** `internal` gateways are reachable only inside the project's network. */
export type HopGatewayType = 'internal' | 'external';

/** A custom domain attached to a gateway. */
export interface HopDomain {
  id: string;
  domain: string;
  state: 'pending' | 'valid_cname' | 'ssl_active';
  redirect: { url: string; status_code: 301 | 302 | 307 | 308 } | null;
  created_at: string;
}

/** Entry point to a deployment: the `data` of `ignite.deployment.gateway.*` events. */
export interface HopGateway {
  id: string;
  deployment_id: string;
  type: HopGatewayType;
  name: string;
  /** `http` for external gateways, `null` for internal ones. */
  protocol: 'http' | null;
  /** Port the gateway forwards to; external gateways only. */
  target_port: number | null;
  /** The `*.hop.sh` domain Hop assigns. */
  hopsh_domain: string | null;
  hopsh_domain_enabled: boolean;
  /** The `*.hop` name chosen for an internal gateway. */
  internal_domain: string | null;
  domains: HopDomain[];
  created_at: string;
}

/** Resource amounts a project may use, or uses; the SDK does not state the units. */
export interface HopProjectQuotas {
  vcpu: number;
  ram: number;
  volume: number;
}

/** A Hop project: the `data` of `project.updated`. */
export interface HopProject {
  id: string;
  name: string;
  tier: 'free' | 'paid';
  /** `personal` projects are created with each account. */
  type: 'regular' | 'personal';
  /** The project's namespace in Hop's container registry. */
  namespace: string;
  icon: string | null;
  default_quotas: HopProjectQuotas;
  /** The SDK declares this as an empty object, so its contents are left untyped. */
  quota_overrides: Record<string, unknown>;
  quota_usage: HopProjectQuotas;
  created_at: string;
}

/** A role a member holds in a project. */
export interface HopProjectMemberRole {
  /** Prefix `role_`. */
  id: string;
  name: string;
  /** Permission bit field. */
  flags: number;
}

/** A user's membership of a project: the `data` of `project.member.*`; no email, no user id. */
export interface HopProjectMember {
  /** Prefix `pm_`: identifies the membership, not the user. */
  id: string;
  name: string;
  username: string;
  role: HopProjectMemberRole;
  mfa_enabled: boolean;
  /** When the user's account was created. */
  created_at: string;
  joined_at: string;
}

/** A project API token: the `data` of `project.tokens.*`. */
export interface HopProjectToken {
  /** Prefix `ptkid_`: the token's id, safe to log. */
  id: string;
  /** Prefix `ptk_`, partly masked. */
  token: string;
  /** Permission bit field. */
  flags: number;
  created_at: string;
}

/** A project secret, described without its value: the `data` of `project.secrets.*`. */
export interface HopProjectSecret {
  id: string;
  name: string;
  /** Hash of the value: tells that it changed without revealing it. */
  digest: string;
  /** Ids of the deployments that use the secret. */
  in_use_by: string[];
  created_at: string;
}

/**
 * Passes `T` through only if its keys are exactly the events of HOP_EVENTS; otherwise the
 * compile error names the missing or unknown event.
 */
type ExactlyTheCatalog<
  T extends Record<HopEventName, unknown> & Record<Exclude<keyof T, HopEventName>, never>,
> = T;

interface DataByEventName {
  'ignite.deployment.created': HopDeployment;
  'ignite.deployment.updated': HopDeployment;
  'ignite.deployment.deleted': HopDeployment;
  'ignite.deployment.build.created': HopBuild;
  'ignite.deployment.build.started': HopBuild;
  'ignite.deployment.build.updated': HopBuild;
  'ignite.deployment.build.completed': HopBuild;
  'ignite.deployment.build.failed': HopBuild;
  'ignite.deployment.build.cancelled': HopBuild;
  'ignite.deployment.rollout.created': HopDeploymentRollout;
  'ignite.deployment.rollout.updated': HopDeploymentRollout;
  'ignite.deployment.container.created': HopContainer;
  'ignite.deployment.container.updated': HopContainer;
  'ignite.deployment.container.metrics_update': HopContainerMetricsUpdate;
  'ignite.deployment.container.deleted': HopContainer;
  'ignite.deployment.healthcheck.created': HopHealthCheck;
  'ignite.deployment.healthcheck.updated': HopHealthCheck;
  'ignite.deployment.healthcheck.deleted': HopHealthCheck;
  'ignite.deployment.healthcheck.events.failed': HopHealthCheckEventUpdate;
  'ignite.deployment.healthcheck.events.succeeded': HopHealthCheckEventUpdate;
  'ignite.deployment.gateway.created': HopGateway;
  'ignite.deployment.gateway.updated': HopGateway;
  'ignite.deployment.gateway.deleted': HopGateway;
  'project.updated': HopProject;
  'project.member.created': HopProjectMember;
  'project.member.updated': HopProjectMember;
  'project.member.deleted': HopProjectMember;
  'project.tokens.created': HopProjectToken;
  'project.tokens.deleted': HopProjectToken;
  'project.secrets.created': HopProjectSecret;
  'project.secrets.updated': HopProjectSecret;
  'project.secrets.deleted': HopProjectSecret;
  /** Hop documents no shape for this event. */
  'project.finance.transaction': Record<string, unknown>;
}

/**
 * The `data` type of each event in HOP_EVENTS, so a handler for one event gets its payload typed.
 * Checked against the catalog at compile time: adding an event to one and not the other fails.
 */
export interface HopEventDataMap extends ExactlyTheCatalog<DataByEventName> {}
