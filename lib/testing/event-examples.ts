// The single source of default event payloads, reused by the tests, the `send` script and the docs.
import type {
  HopBuild,
  HopContainer,
  HopDeployment,
  HopDeploymentRollout,
  HopEventDataMap,
  HopGateway,
  HopHealthCheck,
  HopProjectMember,
  HopProjectSecret,
  HopProjectToken,
} from '../core/event-data.types.js';
import type { HopEventName } from '../core/events.catalog.js';

// The container id and project id are the ones in Hop's documented example delivery.
const DEPLOYMENT_ID = 'deployment_MTkzNDg3MzY5MDYxOTAxNjc3';
const CONTAINER_ID = 'container_MTkzMDc3MjExODczMDc5MzAx';
const PROJECT_ID = 'project_MTY1MjU5NTk1NTAwNTY4NTc3';

const build: HopBuild = {
  id: 'build_MTkzNDgyMzcwMTgxMjE3ODMx',
  deployment_id: DEPLOYMENT_ID,
  state: 'validating',
  method: 'github',
  metadata: {
    account_type: 'organization',
    author: { avatar_url: 'https://avatars.githubusercontent.com/u/5204873', username: 'ada' },
    repo_id: 612094387,
    repo_name: 'acme/api',
    branch: 'main',
    commit_sha: '4f1c2d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e',
    commit_msg: 'Add order export endpoint',
    commit_url: 'https://github.com/acme/api/commit/4f1c2d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e',
  },
  created_at: '2026-03-14T09:21:07.412Z',
  started_at: null,
  finished_at: null,
  digest: null,
  environment: null,
  validation_failure: null,
};

const buildStarted: HopBuild = {
  ...build,
  state: 'pending',
  started_at: '2026-03-14T09:21:11.958Z',
};

// The state between start and finish: the build has settled on a Nixpacks environment.
const buildInProgress: HopBuild = {
  ...buildStarted,
  environment: {
    type: 'nixpacks',
    nix_plan: {
      language: 'node',
      pkgs: ['nodejs_20'],
      cmds: { install: 'npm ci', build: 'npm run build', start: 'node dist/main.js' },
    },
  },
};

const buildSucceeded: HopBuild = {
  ...buildInProgress,
  state: 'succeeded',
  finished_at: '2026-03-14T09:23:40.127Z',
  digest: 'sha256:9c3f7a51e2d84b06c1f5e8a7d2b9c4e0f6a3d8b1c5e7f9a2d4b6c8e0f1a3b5c7',
};

const rollout: HopDeploymentRollout = {
  id: 'rollout_MTkzNDgxMzQ3NzU1OTU4OTcz',
  deployment_id: DEPLOYMENT_ID,
  count: 1,
  state: 'pending',
  build: buildSucceeded,
  init_container_id: null,
  health_check_failed: false,
  acknowledged: false,
  created_at: '2026-03-14T09:23:41.006Z',
  last_updated_at: '2026-03-14T09:23:41.006Z',
};

const rolloutFinished: HopDeploymentRollout = {
  ...rollout,
  state: 'finished',
  init_container_id: CONTAINER_ID,
  last_updated_at: '2026-03-14T09:24:18.733Z',
};

const deployment: HopDeployment = {
  id: DEPLOYMENT_ID,
  name: 'api',
  container_count: 0,
  running_container_count: 0,
  target_container_count: 1,
  created_at: '2026-03-14T09:20:52.381Z',
  config: {
    container_strategy: 'manual',
    type: 'persistent',
    version: '12-12-2022',
    image: {
      name: 'registry.hop.io/acme/api',
      auth: null,
      gh_repo: { repo_id: 612094387, full_name: 'acme/api', branch: 'main' },
    },
    env: { NODE_ENV: 'production', PORT: '8080' },
    resources: { vcpu: 0.5, ram: '512MB' },
    restart_policy: 'on-failure',
  },
  build_id: null,
  active_build: null,
  latest_rollout: null,
  active_rollout: null,
  metadata: { container_port_mappings: {} },
  build_cache_enabled: true,
  group_id: null,
};

const deploymentLive: HopDeployment = {
  ...deployment,
  container_count: 1,
  running_container_count: 1,
  build_id: buildSucceeded.id,
  active_build: buildSucceeded,
  latest_rollout: rolloutFinished,
  active_rollout: rolloutFinished,
  metadata: { container_port_mappings: { [CONTAINER_ID]: ['8080'] }, ports_acked: ['8080'] },
};

const container: HopContainer = {
  id: CONTAINER_ID,
  deployment_id: DEPLOYMENT_ID,
  state: 'pending',
  type: 'persistent',
  region: 'us-east-1',
  internal_ip: '10.1.4.23',
  created_at: '2026-03-14T09:23:41.512Z',
  uptime: { last_start: '2026-03-14T09:23:41.512Z' },
  metrics: null,
  metadata: {},
  overrides: null,
  volume: null,
};

const containerRunning: HopContainer = {
  ...container,
  state: 'running',
  uptime: { last_start: '2026-03-14T09:23:52.204Z' },
  metrics: { cpu_usage_percent: 1.2, memory_usage_percent: 14.8, memory_usage_bytes: 79452160 },
};

const healthCheck: HopHealthCheck = {
  id: 'health_check_MTkzNDUyNTUyOTA3MTU1MDY0',
  protocol: 'http',
  path: '/health',
  port: 8080,
  interval: 60,
  timeout: 5000,
  initial_delay: 5,
  max_retries: 3,
  created_at: '2026-03-14T09:30:15.650Z',
};

const gateway: HopGateway = {
  id: 'gateway_MTkzMjY3ODMyMDY0MjQyMTE0',
  deployment_id: DEPLOYMENT_ID,
  type: 'external',
  name: 'api',
  protocol: 'http',
  target_port: 8080,
  hopsh_domain: 'api-x7k2m.hop.sh',
  hopsh_domain_enabled: true,
  internal_domain: null,
  domains: [],
  created_at: '2026-03-14T09:31:02.117Z',
};

const member: HopProjectMember = {
  id: 'pm_MTkzMTA0ODA5MTk3NzY2NzM5',
  name: 'Grace Hopper',
  username: 'grace',
  role: { id: 'role_MTkzMDc5ODIzMjcwMjk0NjU3', name: 'Member', flags: 1 },
  mfa_enabled: true,
  created_at: '2025-11-02T17:44:09.871Z',
  joined_at: '2026-03-16T08:12:55.310Z',
};

const token: HopProjectToken = {
  id: 'ptkid_MTkzMzAzMjU1MTQ1Mjk1NjUz',
  token: 'ptk_c18yNjNiZjlhM2************************',
  flags: 1023,
  created_at: '2026-03-16T10:05:43.092Z',
};

const secret: HopProjectSecret = {
  id: 'secret_MTkzMzU3MTYzODY4Njk2MzU5',
  name: 'DATABASE_URL',
  digest: '5e2b8d1f0a9c7e6d4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c',
  in_use_by: [],
  created_at: '2026-03-16T10:20:31.775Z',
};

/** Example `data` for every event in HOP_EVENTS. Shares nested objects: clone before mutating. */
export const HOP_EVENT_EXAMPLES: { readonly [N in HopEventName]: HopEventDataMap[N] } = {
  'ignite.deployment.created': deployment,
  'ignite.deployment.updated': deploymentLive,
  'ignite.deployment.deleted': deploymentLive,
  'ignite.deployment.build.created': build,
  'ignite.deployment.build.started': buildStarted,
  'ignite.deployment.build.updated': buildInProgress,
  'ignite.deployment.build.completed': buildSucceeded,
  'ignite.deployment.build.failed': {
    ...buildInProgress,
    state: 'failed',
    finished_at: '2026-03-14T09:22:58.640Z',
  },
  'ignite.deployment.build.cancelled': {
    ...buildInProgress,
    state: 'cancelled',
    finished_at: '2026-03-14T09:22:03.318Z',
  },
  'ignite.deployment.rollout.created': rollout,
  'ignite.deployment.rollout.updated': rolloutFinished,
  'ignite.deployment.container.created': container,
  'ignite.deployment.container.updated': containerRunning,
  'ignite.deployment.container.metrics_update': {
    metrics: {
      memory_usage_percent: '0.07',
      memory_usage_bytes: 393216,
      cpu_usage_percent: '0.00',
    },
    container_id: CONTAINER_ID,
  },
  'ignite.deployment.container.deleted': {
    ...containerRunning,
    state: 'terminating',
    metadata: { last_exit_code: 0 },
  },
  'ignite.deployment.healthcheck.created': healthCheck,
  'ignite.deployment.healthcheck.updated': { ...healthCheck, path: '/healthz', interval: 30 },
  'ignite.deployment.healthcheck.deleted': healthCheck,
  'ignite.deployment.healthcheck.events.failed': {
    state: 'failed',
    container_id: CONTAINER_ID,
    deployment_id: DEPLOYMENT_ID,
  },
  'ignite.deployment.healthcheck.events.succeeded': {
    state: 'succeeded',
    container_id: CONTAINER_ID,
    deployment_id: DEPLOYMENT_ID,
  },
  'ignite.deployment.gateway.created': gateway,
  'ignite.deployment.gateway.updated': {
    ...gateway,
    domains: [
      {
        id: 'domain_MTkzMzQ1NjI3MzEzNTY5NDAx',
        domain: 'api.acme.dev',
        state: 'ssl_active',
        redirect: null,
        created_at: '2026-03-14T09:40:26.894Z',
      },
    ],
  },
  'ignite.deployment.gateway.deleted': gateway,
  'project.updated': {
    id: PROJECT_ID,
    name: 'Acme',
    tier: 'paid',
    type: 'regular',
    namespace: 'acme',
    icon: null,
    default_quotas: { vcpu: 8, ram: 16384, volume: 102400 },
    quota_overrides: {},
    quota_usage: { vcpu: 0.5, ram: 512, volume: 0 },
    created_at: '2025-11-02T17:50:21.448Z',
  },
  'project.member.created': member,
  'project.member.updated': {
    ...member,
    role: { id: 'role_MTkzMjUxNDA2MzE0OTI4NTMx', name: 'Admin', flags: 255 },
  },
  'project.member.deleted': member,
  'project.tokens.created': token,
  'project.tokens.deleted': token,
  'project.secrets.created': secret,
  'project.secrets.updated': {
    ...secret,
    digest: 'a41f9c0d6e2b7f38c5d1e9a0b4f6c2d8e3a7b1f5c9d0e4a8b2f6c1d5e9a3b7f0',
    in_use_by: [DEPLOYMENT_ID],
  },
  'project.secrets.deleted': secret,
  // Hop documents no shape for this payload, so the example claims none.
  'project.finance.transaction': {},
};

/** A fresh deep copy of the example `data` for `name`, safe to mutate. */
export function hopEventExampleData<N extends HopEventName>(name: N): HopEventDataMap[N] {
  return structuredClone(HOP_EVENT_EXAMPLES[name]);
}
