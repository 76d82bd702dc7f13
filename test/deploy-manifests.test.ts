/**
 * The packaging in deploy/, compose.yaml and the Containerfile (docs/operations.md#deploying),
 * checked as far as this machine allows without a cluster or a container daemon: every Kubernetes
 * object validates against the Kubernetes schemas (kubernetes-models), its probes, ports, grace
 * period and security settings agree with Shinrai's configuration and image, the ConfigMap's
 * config and specs load as Shinrai would load them from the mounted volume, compose.yaml and the
 * Containerfile say what the docs promise, and `systemd-analyze verify` accepts the unit.
 */
import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../src/platform/config.js';
import { loadSpecs } from '../src/slo/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const K8S = join(ROOT, 'deploy/kubernetes');

// biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field below
type Manifest = any;

const MODELS: Record<string, new (data: Manifest) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

const manifestFiles = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const objects: Manifest[] = manifestFiles.flatMap((file) =>
  parseAllDocuments(readFileSync(join(K8S, file), 'utf8')).map((doc) => {
    expect(doc.errors, file).toEqual([]);
    return { ...doc.toJS(), __file: file };
  }),
);
const find = (kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata?.name === name);

const dir = mkdtempSync(join(tmpdir(), 'shinrai-deploy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Kubernetes manifests', () => {
  it('are valid Kubernetes objects, all listed in the kustomization', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/shinrai-config',
      'ConfigMap/shinrai-specs',
      'Deployment/shinrai',
      'PodDisruptionBudget/shinrai',
      'Service/shinrai',
    ]);
    for (const { __file, ...object } of objects) {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      expect(Model, `${__file}: ${object.apiVersion} ${object.kind}`).toBeDefined();
      expect(() => new Model!(object).validate(), `${__file}: ${object.kind}`).not.toThrow();
    }
    const kustomization = parse(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8'));
    expect([...kustomization.resources].sort()).toEqual([...manifestFiles].sort());
  });

  it("agree with Shinrai's configuration: ports, probes, drain time, config and specs", async () => {
    const deployment = find('Deployment', 'shinrai');
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    // The ConfigMap's config.yaml is a valid Shinrai configuration, read as the server reads it.
    const configFile = join(dir, 'config.yaml');
    writeFileSync(configFile, find('ConfigMap', 'shinrai-config').data['config.yaml']);
    const config = loadConfig({ file: configFile, env: {} });
    expect(container.args).toEqual(['serve', '--config', '/etc/shinrai/config.yaml']);
    expect(container.ports).toEqual([{ name: 'http', containerPort: config.server.port }]);
    expect(config.server.port).toBe(loadConfig({ env: {} }).server.port);
    expect(config.server.host).toBe('0.0.0.0');
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    // The kubelet's SIGKILL comes after Shinrai's own deadline, which says what hung.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(config.server.shutdownSeconds);
    // Secrets come from a Secret, never from the ConfigMap.
    const dbUrl = container.env.find((e: Manifest) => e.name === 'SHINRAI_DB_URL');
    expect(dbUrl.valueFrom.secretKeyRef).toMatchObject({ name: 'shinrai', key: 'db-url' });
    expect(JSON.stringify(find('ConfigMap', 'shinrai-config'))).not.toMatch(/postgres:\/\//);
    // The specs volume is where the config says the specs are.
    const specsMount = container.volumeMounts.find((m: Manifest) => m.name === 'specs');
    expect(specsMount.mountPath).toBe(config.specs.path);

    // The specs load from a ConfigMap volume laid out as the kubelet does (files are symlinks into ..data).
    const specs = find('ConfigMap', 'shinrai-specs').data as Record<string, string>;
    const mounted = join(dir, 'specs');
    mkdirSync(join(mounted, '..2026_12_07_00_00_00.1'), { recursive: true });
    for (const [name, text] of Object.entries(specs))
      writeFileSync(join(mounted, '..2026_12_07_00_00_00.1', name), text);
    symlinkSync('..2026_12_07_00_00_00.1', join(mounted, '..data'));
    for (const name of Object.keys(specs)) symlinkSync(join('..data', name), join(mounted, name));
    const loaded = await loadSpecs(mounted);
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(loaded.catalog.slos.map((slo) => slo.id)).toEqual(['checkout-availability']);
  });

  it('run as the non-root image user on a read-only root filesystem, one replica always up', () => {
    const deployment = find('Deployment', 'shinrai');
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    const imageUser = /^USER (\d+):(\d+)$/m.exec(readFileSync(join(ROOT, 'Containerfile'), 'utf8'));
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: Number(imageUser![1]),
      runAsGroup: Number(imageUser![2]),
    });
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    // What Shinrai may write: /tmp and the data volume, both mounted.
    expect(container.volumeMounts.map((m: Manifest) => m.mountPath)).toEqual(
      expect.arrayContaining(['/tmp', '/var/lib/shinrai']),
    );
    const labels = deployment.spec.template.metadata.labels;
    expect(deployment.spec.selector.matchLabels).toEqual(labels);
    expect(find('Service', 'shinrai').spec.selector).toEqual(labels);
    expect(find('Service', 'shinrai').spec.ports[0].targetPort).toBe('http');
    const pdb = find('PodDisruptionBudget', 'shinrai');
    expect(pdb.spec.selector.matchLabels).toEqual(labels);
    expect(pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });
});

describe('Containerfile', () => {
  const text = readFileSync(join(ROOT, 'Containerfile'), 'utf8');
  const config = loadConfig({ env: {} });

  it('builds in two stages into a non-root, drainable image with a node HEALTHCHECK on /healthz', () => {
    expect(text.match(/^FROM /gm)).toHaveLength(2);
    expect(text).toMatch(/^FROM \$\{NODE_IMAGE\} AS build$/m);
    expect(text).toMatch(/^USER 10001:10001$/m);
    expect(text).toMatch(/^STOPSIGNAL SIGTERM$/m);
    expect(text).toMatch(/^VOLUME \/var\/lib\/shinrai$/m);
    expect(text).toMatch(new RegExp(`^EXPOSE ${config.server.port}$`, 'm'));
    expect(text).toMatch(/SHINRAI_DB_URL=\/var\/lib\/shinrai\/shinrai\.db/);
    // The user has no passwd entry: HOME must be set, or os.homedir() throws at start.
    expect(text).toMatch(/HOME=\/var\/lib\/shinrai/);
    const healthcheck = /^HEALTHCHECK .*\\\n\s+CMD (\[.*\])$/m.exec(text);
    expect(healthcheck).not.toBeNull();
    const command = JSON.parse(healthcheck![1]!) as string[];
    expect(command[0]).toBe('node');
    expect(command.join(' ')).toContain('/healthz');
    expect(text).toMatch(/^ENTRYPOINT \["node", "\/opt\/shinrai\/bin\/shinrai\.js"\]$/m);
    // The runtime stage gets production dependencies only.
    expect(text).toMatch(/npm prune --omit=dev/);
  });
});

describe('compose.yaml', () => {
  const compose = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8'));
  const config = loadConfig({ env: {} });

  it('runs Shinrai on PostgreSQL beside Prometheus, read-only and drained on stop', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['db', 'prometheus', 'shinrai']);
    const shinrai = compose.services.shinrai;
    expect(shinrai.build.dockerfile).toBe('Containerfile');
    expect(shinrai.environment.SHINRAI_DB_URL).toMatch(/^postgres:\/\/[^@]+@db:5432\//);
    expect(shinrai.environment.SHINRAI_PROMETHEUS_URL).toBe('http://prometheus:9090');
    expect(shinrai.depends_on.db.condition).toBe('service_healthy');
    expect(shinrai.ports).toEqual([`${config.server.port}:${config.server.port}`]);
    expect(shinrai.read_only).toBe(true);
    expect(Number.parseInt(shinrai.stop_grace_period, 10)).toBeGreaterThan(config.server.shutdownSeconds);
    const volume = compose.services.prometheus.volumes[0].split(':')[0];
    const prometheus = parse(readFileSync(join(ROOT, volume), 'utf8'));
    expect(prometheus.scrape_configs[0].static_configs[0].targets).toEqual([`shinrai:${config.server.port}`]);
  });
});

describe('systemd unit', () => {
  const unit = join(ROOT, 'deploy/systemd/shinrai.service');
  const text = readFileSync(unit, 'utf8');

  it('is accepted by systemd-analyze verify, hardened, and waits longer than the drain', () => {
    const verified = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    expect(verified.error, 'systemd-analyze (Debian: systemd) must be installed').toBeUndefined();
    expect(verified.stderr).toBe('');
    expect(verified.status).toBe(0);
    for (const line of [
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'PrivateTmp=yes',
      'StateDirectory=shinrai',
    ])
      expect(text).toContain(`\n${line}\n`);
    const timeout = Number(/^TimeoutStopSec=(\d+)$/m.exec(text)?.[1]);
    expect(timeout).toBeGreaterThan(loadConfig({ env: {} }).server.shutdownSeconds);
    expect(text).toMatch(/^ExecStart=\/usr\/bin\/node \/opt\/shinrai\/bin\/shinrai\.js serve /m);
  });
});
