// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the syntax under test
// Unit tests of trust by origin: what a spec uploaded through the API may not contain.
import { describe, expect, it } from 'vitest';
import { loadSpecSources } from './load.js';
import { checkUploadedTexts, isUploaded } from './origin.js';

const dataSource = (details: string) => `apiVersion: openslo/v1
kind: DataSource
metadata: { name: prom }
spec:
  type: Prometheus
  connectionDetails: ${details}
`;

const target = (annotations: string) => `apiVersion: openslo/v1
kind: AlertNotificationTarget
metadata:
  name: oncall
  annotations: ${annotations}
spec: { target: webhook }
`;

const rules = (text: string) => checkUploadedTexts([{ file: 'api:x.yaml', text }]).map((d) => d.rule);

describe('checkUploadedTexts', () => {
  it.each([
    [
      "{ url: 'http://127.0.0.1:9', basicAuth: { username: u, passwordFile: /etc/passwd } }",
      'upload/file-reference',
    ],
    ["{ url: 'http://127.0.0.1:9', bearerTokenFile: /etc/hostname }", 'upload/file-reference'],
    [
      "{ url: 'http://127.0.0.1:9', headers: { X-Key: '${SHINRAI_INCIDENTS_LLM_API_KEY}' } }",
      'upload/env-reference',
    ],
    ["{ url: 'http://127.0.0.1:9/?key=${SECRET}' }", 'upload/env-reference'],
    ["{ url: 'http://user:pw@127.0.0.1:9' }", 'upload/credentials'],
    ["{ url: 'http://127.0.0.1:9' }", 'upload/connection'],
    ["[{ url: 'http://127.0.0.1:9' }]", 'upload/connection'],
  ])('refuses a DataSource with connectionDetails %s', (details, rule) => {
    expect(rules(dataSource(details))).toContain(rule);
  });

  it('refuses an AlertNotificationTarget that says where to deliver, inline ones too', () => {
    expect(rules(target("{ shinrai.dev/url: 'http://127.0.0.1:9/${HOOK}' }"))).toEqual([
      'upload/notification-target',
    ]);
    expect(rules(target("{ shinrai.dev/secret: '${SHINRAI_INCIDENTS_LLM_API_KEY}' }"))).toContain(
      'upload/notification-target',
    );
    const inline = `apiVersion: openslo/v1
kind: AlertPolicy
metadata: { name: p }
spec:
  conditions: [{ conditionRef: c }]
  notificationTargets:
    - kind: AlertNotificationTarget
      metadata: { name: t, annotations: { shinrai.dev/url: 'http://169.254.169.254/' } }
      spec: { target: webhook }
`;
    expect(rules(inline)).toEqual(['upload/notification-target']);
  });

  it('leaves alone what the server never resolves: a label ending in "file", ${…} in text, a runbook URL', () => {
    expect(
      rules(
        target(
          "{ profile: premium, dashboard: 'Grafana panel ${datasource}', runbook: 'https://user@wiki.example.com/x' }",
        ),
      ),
    ).toEqual([]);
  });

  it('accepts a DataSource naming a configured connection, and names and references', () => {
    expect(rules(dataSource('{ connection: main }'))).toEqual([]);
    expect(rules(dataSource('[{ connection: main }]'))).toEqual([]);
    expect(rules(target('{ team: checkout }'))).toEqual([]);
  });

  it('locates each problem at file:line:column and says where to configure it instead', () => {
    const found = checkUploadedTexts([
      { file: 'api:x.yaml', text: dataSource('{ connection: main, bearerTokenFile: /etc/hostname }') },
    ]);
    expect(found.map(({ file, line, column, rule }) => `${file}:${line}:${column} ${rule}`)).toEqual([
      'api:x.yaml:6:3 upload/connection',
      'api:x.yaml:6:42 upload/file-reference',
    ]);
    expect(found[1]!.message).toBe(
      'spec.connectionDetails.bearerTokenFile: files on the server are not read for specs uploaded through the API',
    );
    expect(found[1]!.hint).toContain('connections.<name> in the config file');
    expect(found[1]!.hint).toContain('notificationTargets.<name>');
    expect(found[1]!.hint).toContain('spec directory (specs.path)');
  });
});

describe('loading with origins', () => {
  it('skips an uploaded object that defines a connection, keeps the same object from disk', async () => {
    const text = dataSource("{ url: 'http://prom:9090', bearerToken: '${TOKEN}' }");
    const uploaded = await loadSpecSources(undefined, [{ file: 'api:ds.yaml', text }]);
    expect(uploaded.catalog.dataSources).toEqual([]);
    expect(uploaded.diagnostics.map((d) => d.rule)).toEqual(['upload/connection', 'upload/env-reference']);
    const disk = await loadSpecSources(undefined, [{ file: 'specs/ds.yaml', text }]);
    expect(disk.catalog.dataSources.map((d) => d.name)).toEqual(['prom']);
    expect(disk.diagnostics).toEqual([]);
  });

  it('tells uploads from files on disk by their api: name', () => {
    expect(isUploaded('api:x.yaml')).toBe(true);
    expect(isUploaded({ file: 'specs/api.yaml', line: 1, column: 1 })).toBe(false);
  });
});
