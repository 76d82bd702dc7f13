import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, ConfigError, envName, loadConfig } from './config.js';

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'shinrai-config-')), 'shinrai.yaml');
  writeFileSync(path, text);
  return path;
}

function problems(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('uses the defaults: port 8420, SQLite under data/, reads closed', () => {
    const config = loadConfig();
    expect(config.server).toEqual({
      host: '127.0.0.1',
      port: 8420,
      bodyLimitBytes: 10 * 1024 * 1024,
      trustProxy: [],
      shutdownSeconds: 25,
    });
    expect(config.rateLimit).toEqual({
      enabled: true,
      failedAuthPerMinute: 20,
      anonymousPerMinute: 1200,
      expensivePerMinute: 60,
    });
    expect(config.db.url).toBe('data/shinrai.db');
    expect(config.auth.anonymousRead).toBe(false);
    expect(config.evaluator.tickSeconds).toBe(30);
  });

  it('takes flags over environment over file over defaults', () => {
    const path = file('server:\n  port: 1111\n  host: 0.0.0.0\nlog:\n  level: debug\n');
    const config = loadConfig({
      file: path,
      env: { SHINRAI_SERVER_PORT: '2222', SHINRAI_LOG_LEVEL: 'warn' },
      flags: { 'server.port': '3333' },
    });
    expect(config.server.port).toBe(3333);
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.log.level).toBe('warn');
  });

  it('reads booleans from the environment as words', () => {
    expect(loadConfig({ env: { SHINRAI_AUTH_ANONYMOUS_READ: 'true' } }).auth.anonymousRead).toBe(true);
    expect(loadConfig({ env: { SHINRAI_SPECS_WATCH: 'false' } }).specs.watch).toBe(false);
  });

  it('reports every problem on its own line with where the value came from', () => {
    const path = file('server:\n  prot: 1\nauth:\n  anonymousRead: maybe\n');
    const found = problems(() =>
      loadConfig({ file: path, env: { SHINRAI_SERVER_PORT: 'abc' }, flags: { 'log.level': 'loud' } }),
    );
    expect(found).toHaveLength(4);
    expect(found.find((p) => p.startsWith('server.port'))).toContain('(from SHINRAI_SERVER_PORT)');
    expect(found.find((p) => p.startsWith('log.level'))).toContain('(from --log-level)');
    expect(found.find((p) => p.startsWith('server.prot'))).toContain('unknown setting');
    expect(found.find((p) => p.startsWith('auth.anonymousRead'))).toContain(`(from ${path})`);
  });

  it('reads the status page section: defaults, environment, and a time zone Luxon knows', () => {
    expect(loadConfig().statusPage).toEqual({
      title: 'Status',
      timeZone: 'UTC',
      days: 90,
      resolvedDays: 7,
      subscriptions: false,
      publicUrl: '',
      subscribePerAddressPerHour: 3,
      subscribePerClientPerHour: 20,
      confirmHours: 48,
    });
    const config = loadConfig({
      env: { SHINRAI_STATUS_PAGE_TIME_ZONE: 'Asia/Tokyo', SHINRAI_STATUS_PAGE_DAYS: '30' },
    });
    expect(config.statusPage).toMatchObject({ timeZone: 'Asia/Tokyo', days: 30 });
    const found = problems(() => loadConfig({ env: { SHINRAI_STATUS_PAGE_TIME_ZONE: 'Mars/Olympus' } }));
    expect(found).toEqual([
      'statusPage.timeZone (from SHINRAI_STATUS_PAGE_TIME_ZONE): must be an IANA time zone such as Asia/Tokyo',
    ]);
  });

  it('reads the smtp section: off by default, URLs checked, the password from the environment', () => {
    expect(loadConfig().smtp).toMatchObject({ url: '', from: '', starttls: 'required', giveUpHours: 48 });
    const config = loadConfig({
      env: { SHINRAI_SMTP_URL: 'smtps://mail.example.com:465', SHINRAI_SMTP_PASSWORD: 'secret' },
      flags: { 'statusPage.publicUrl': 'https://status.example.com/' },
    });
    expect(config.smtp).toMatchObject({ url: 'smtps://mail.example.com:465', password: 'secret' });
    expect(config.statusPage.publicUrl).toBe('https://status.example.com');
    expect(problems(() => loadConfig({ env: { SHINRAI_SMTP_URL: 'http://mail.example.com' } }))).toEqual([
      'smtp.url (from SHINRAI_SMTP_URL): must be smtp://host[:port] or smtps://host[:port]',
    ]);
    expect(
      problems(() => loadConfig({ env: { SHINRAI_STATUS_PAGE_PUBLIC_URL: 'javascript:alert(1)' } })),
    ).toHaveLength(1);
  });

  it('freezes the result', () => {
    const config = loadConfig();
    expect(Object.isFrozen(config.server)).toBe(true);
  });

  it('reads the incident policy: severities, auto-declaring, time zone, and checks them together', () => {
    const defaults = loadConfig().incidents;
    expect(defaults).toMatchObject({
      timeZone: 'UTC',
      severities: ['SEV1', 'SEV2', 'SEV3', 'SEV4'],
      autoDeclare: [],
      pageSeverity: 'SEV2',
      ticketSeverity: 'SEV3',
      llmUrl: '',
    });
    const custom = loadConfig({
      env: {
        SHINRAI_INCIDENTS_SEVERITIES: 'P1, P2 ,P3',
        SHINRAI_INCIDENTS_AUTO_DECLARE: 'page',
        SHINRAI_INCIDENTS_PAGE_SEVERITY: 'P1',
        SHINRAI_INCIDENTS_TICKET_SEVERITY: 'P3',
        SHINRAI_INCIDENTS_TIME_ZONE: 'Asia/Tokyo',
      },
    }).incidents;
    expect(custom).toMatchObject({
      severities: ['P1', 'P2', 'P3'],
      autoDeclare: ['page'],
      timeZone: 'Asia/Tokyo',
    });
    const path = file(
      'incidents:\n  severities: [critical, major, minor]\n  pageSeverity: critical\n  ticketSeverity: minor\n',
    );
    expect(loadConfig({ file: path }).incidents.severities).toEqual(['critical', 'major', 'minor']);
    const fieldProblems = problems(() =>
      loadConfig({ flags: { 'incidents.autoDeclare': 'page,sms', 'incidents.timeZone': 'Mars/Olympus' } }),
    );
    expect(fieldProblems).toEqual([
      expect.stringMatching(/^incidents\.timeZone \(from flag incidents\.timeZone\): an IANA time zone/),
      expect.stringMatching(
        /^incidents\.autoDeclare\.1 \(from flag incidents\.autoDeclare\): .*"page"\|"ticket"/,
      ),
    ]);
    // Checked together once each field is valid.
    expect(problems(() => loadConfig({ flags: { 'incidents.severities': 'P1,P1' } }))).toEqual([
      expect.stringMatching(/^incidents\.severities .*unique/),
      expect.stringMatching(/^incidents\.pageSeverity .*one of the severities \(P1, P1\)/),
      expect.stringMatching(/^incidents\.ticketSeverity /),
    ]);
  });

  it('names an environment variable for every key', () => {
    expect(CONFIG_KEYS.map(envName)).toContain('SHINRAI_EVALUATOR_HISTORY_STEP_SECONDS');
    expect(new Set(CONFIG_KEYS.map(envName)).size).toBe(CONFIG_KEYS.length);
  });
});

describe('egress.allow and connections', () => {
  it('reads egress.allow as a YAML list or a comma list, and refuses what is not a host or CIDR', () => {
    expect(
      loadConfig({ file: file('egress:\n  allow: [prom.internal, 10.0.0.0/8]\n') }).egress.allow,
    ).toEqual(['prom.internal', '10.0.0.0/8']);
    expect(loadConfig({ env: { SHINRAI_EGRESS_ALLOW: 'a.example, fd00::/8' } }).egress.allow).toEqual([
      'a.example',
      'fd00::/8',
    ]);
    expect(problems(() => loadConfig({ env: { SHINRAI_EGRESS_ALLOW: '10.0.0.0/40' } }))).toEqual([
      'egress.allow (from SHINRAI_EGRESS_ALLOW): "10.0.0.0/40": the prefix length must be 0–32',
    ]);
  });

  it('reads named connections from the config file, each checked like a DataSource connectionDetails', () => {
    const tenant = '$' + '{TENANT}';
    const config = loadConfig({
      file: file(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: ${VAR} is expanded later, on the server
        'connections:\n  main:\n    url: http://prom:9090\n    bearerTokenFile: /run/secrets/prom\n    headers: { X-Scope-OrgID: "${TENANT}" }\n',
      ),
    });
    expect(config.connections).toEqual({
      main: {
        url: 'http://prom:9090',
        bearerTokenFile: '/run/secrets/prom',
        headers: { 'X-Scope-OrgID': tenant },
      },
    });
    const path = file('connections:\n  bad:\n    url: prom:9090\n  "no way":\n    url: http://p\n');
    expect(problems(() => loadConfig({ file: path }))).toEqual([
      `connections.bad.url (from ${path}): must be an http:// or https:// URL`,
      `connections.no way (from ${path}): is not a connection name (letters, digits, "_", "-")`,
    ]);
    expect(CONFIG_KEYS.some((key) => key.startsWith('connections'))).toBe(false);
  });
});

describe('notificationTargets', () => {
  it('reads named targets from the config file, keeping env references for delivery', () => {
    const secret = '$' + '{HOOK_SECRET}';
    const slackUrl = '$' + '{SLACK_URL}';
    const config = loadConfig({
      file: file(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: ${VAR} is expanded later, at delivery
        'notificationTargets:\n  oncall:\n    target: webhook\n    url: https://hooks.example.com/x\n    secret: "${HOOK_SECRET}"\n  chat:\n    target: slack\n    url: "${SLACK_URL}"\nalerting:\n  notify: oncall\n',
      ),
    });
    expect(config.notificationTargets).toEqual({
      oncall: { target: 'webhook', url: 'https://hooks.example.com/x', secret },
      chat: { target: 'slack', url: slackUrl },
    });
    expect(config.alerting.notify).toEqual(['oncall']);
    expect(CONFIG_KEYS.some((key) => key.startsWith('notificationTargets'))).toBe(false);
  });

  it('says what is wrong with each target, as notificationTargets.<name>.<key> (from file)', () => {
    const path = file(
      [
        'notificationTargets:',
        '  a:',
        '    target: email',
        '    url: https://x',
        '  b:',
        '    target: webhook',
        '    url: ftp://x',
        '  c:',
        '    target: webhook',
        '    url: https://x',
        '    secret: ""',
        '    headers: {}',
        '  d:',
        '    url: https://x',
        '  e: https://x',
        '  "no way":',
        '    target: webhook',
        '    url: https://x',
        '  f:',
        '    target: slack',
        '    url: https://x',
        '    language: ja',
        '',
      ].join('\n'),
    );
    expect(problems(() => loadConfig({ file: path }))).toEqual([
      `notificationTargets.a.target (from ${path}): must be one of webhook, slack, alertmanager, teams`,
      `notificationTargets.b.url (from ${path}): must be an http:// or https:// URL (it may start with a $` +
        '{VAR} reference)',
      `notificationTargets.c.secret (from ${path}): must not be empty (leave it out to send unsigned)`,
      `notificationTargets.c (from ${path}): unknown key headers (known: target, url, secret, language)`,
      `notificationTargets.d.target (from ${path}): must be one of webhook, slack, alertmanager, teams`,
      `notificationTargets.e (from ${path}): expected a map such as { target: webhook, url: https://… }`,
      `notificationTargets.no way (from ${path}): is not a target name (letters, digits, "_", "-"; at most 63)`,
      `notificationTargets.f.language (from ${path}): is only for target: teams (the other kinds are sent in English)`,
    ]);
  });
});

describe('slack section', () => {
  it('is off by default, with Slack as the API and inc- channels', () => {
    const { slack } = loadConfig();
    expect(slack).toMatchObject({
      botToken: '',
      signingSecret: '',
      apiUrl: 'https://slack.com/api/',
      channelPrefix: 'inc-',
      pinReaction: 'pushpin',
      responders: [],
      roles: [],
      users: {},
      socketMode: false,
    });
  });

  it('reads secrets and the user map from the environment (id=role pairs, e-mail lower-cased)', () => {
    const { slack } = loadConfig({
      env: {
        SHINRAI_SLACK_BOT_TOKEN: 'xoxb-1-2',
        SHINRAI_SLACK_SIGNING_SECRET: 's3cret',
        SHINRAI_SLACK_USERS: 'U0ALICE=admin, Bob@Example.com=editor, *=viewer',
        SHINRAI_SLACK_RESPONDERS: 'U0ONCALL,W0SRE',
        SHINRAI_SLACK_API_URL: 'http://127.0.0.1:9/api',
      },
    });
    expect(slack.users).toEqual({
      U0ALICE: { role: 'admin' },
      'bob@example.com': { role: 'editor' },
      '*': { role: 'viewer' },
    });
    expect(slack.responders).toEqual(['U0ONCALL', 'W0SRE']);
    expect(slack.apiUrl).toBe('http://127.0.0.1:9/api/');
  });

  it('reads teams of Slack users: role:team+team in a string, {role, teams} in a map', () => {
    const fromEnv = loadConfig({
      env: {
        SHINRAI_SLACK_USERS: 'U0ALICE=editor:team-payments+team-search, *=viewer',
      },
    }).slack.users;
    expect(fromEnv).toEqual({
      U0ALICE: { role: 'editor', teams: ['team-payments', 'team-search'] },
      '*': { role: 'viewer' },
    });
    const fromMap = loadConfig({
      flags: { 'slack.users': { 'Bob@Example.com': { role: 'editor', teams: ['team-payments'] } } },
    }).slack.users;
    expect(fromMap).toEqual({ 'bob@example.com': { role: 'editor', teams: ['team-payments'] } });
    expect(() => loadConfig({ env: { SHINRAI_SLACK_USERS: 'U0ALICE=editor:bad team' } })).toThrow(/team/);
  });

  it('reports a bad role, a bad user key, a missing signing secret and Socket Mode without an app token, never echoing a token', () => {
    const found = problems(() =>
      loadConfig({
        file: file(
          'slack:\n  botToken: xoxb-secret-value\n  socketMode: true\n  users:\n    U0ALICE: owner\n    "not a user": viewer\n',
        ),
      }),
    );
    expect(found.join('\n')).toMatch(/slack\.users\.U0ALICE .*role must be viewer, editor or admin/);
    expect(found.join('\n')).toMatch(/slack\.users\.not a user .*is not a Slack user ID/);
    expect(found.join('\n')).not.toContain('xoxb-secret-value');
    expect(
      problems(() =>
        loadConfig({ file: file('slack:\n  botToken: xoxb-secret-value\n  socketMode: true\n') }),
      ),
    ).toEqual([expect.stringMatching(/^slack\.appToken .*Socket Mode needs an app-level token/)]);
    expect(problems(() => loadConfig({ env: { SHINRAI_SLACK_BOT_TOKEN: 'xoxb-1' } }))).toEqual([
      expect.stringMatching(/^slack\.signingSecret .*needed to verify requests from Slack/),
    ]);
    expect(
      problems(() =>
        loadConfig({
          env: { SHINRAI_SLACK_BOT_TOKEN: 'xoxp-user-token', SHINRAI_SLACK_SIGNING_SECRET: 's' },
        }),
      ),
    ).toEqual([
      expect.stringMatching(
        /^slack\.botToken \(from SHINRAI_SLACK_BOT_TOKEN\): must be a bot token \(xoxb-…\)$/,
      ),
    ]);
  });
});

describe('auth.oidc and auth.sessions', () => {
  const oidcFile = [
    'auth:',
    '  oidc:',
    '    issuer: https://login.example.com/realms/acme',
    '    clientId: shinrai',
    '    redirectUrl: https://shinrai.example.com/auth/callback',
    '    groups:',
    '      sre: { role: editor, teams: [sre] }',
    '      payments: { teams: [payments] }',
    '',
  ].join('\n');

  it('reads the provider from the file and each nested key from its own variable', () => {
    const config = loadConfig({
      file: file(oidcFile),
      env: {
        SHINRAI_AUTH_OIDC_CLIENT_SECRET: 's3cret',
        SHINRAI_AUTH_OIDC_SCOPES: 'profile email groups',
        SHINRAI_AUTH_SESSIONS_IDLE_MINUTES: '15',
      },
    });
    expect(config.auth.oidc).toEqual({
      issuer: 'https://login.example.com/realms/acme',
      clientId: 'shinrai',
      clientSecret: 's3cret',
      scopes: 'openid profile email groups',
      redirectUrl: 'https://shinrai.example.com/auth/callback',
      groupsClaim: 'groups',
      groups: { sre: { role: 'editor', teams: ['sre'] }, payments: { teams: ['payments'] } },
      allowedDomains: [],
    });
    expect(config.auth.sessions).toEqual({
      idleMinutes: 15,
      absoluteHours: 12,
      cookieName: 'shinrai_session',
      secureCookie: true,
    });
    expect(loadConfig().auth.oidc).toBeUndefined();
    expect(CONFIG_KEYS).toContain('auth.oidc.clientSecret');
    expect(envName('auth.oidc.clientSecret')).toBe('SHINRAI_AUTH_OIDC_CLIENT_SECRET');
    expect(CONFIG_KEYS).not.toContain('auth.oidc.groups');
  });

  it('refuses the client secret in the file, plain http off loopback, and a redirect that is not /auth/callback', () => {
    const withSecret = file(`${oidcFile}    clientSecret: leaked\n`);
    expect(problems(() => loadConfig({ file: withSecret }))).toEqual([
      `auth.oidc.clientSecret (from ${withSecret}): keep the client secret out of the file; set SHINRAI_AUTH_OIDC_CLIENT_SECRET`,
    ]);
    const bad = problems(() =>
      loadConfig({
        env: {
          SHINRAI_AUTH_OIDC_ISSUER: 'http://login.example.com',
          SHINRAI_AUTH_OIDC_CLIENT_ID: 'shinrai',
          SHINRAI_AUTH_OIDC_REDIRECT_URL: 'https://shinrai.example.com/callback',
          SHINRAI_AUTH_OIDC_DEFAULT_ROLE: 'owner',
        },
      }),
    );
    expect(bad).toEqual([
      expect.stringMatching(
        /^auth\.oidc\.issuer \(from SHINRAI_AUTH_OIDC_ISSUER\): must be an https:\/\/ URL/,
      ),
      expect.stringMatching(
        /^auth\.oidc\.redirectUrl \(from SHINRAI_AUTH_OIDC_REDIRECT_URL\): must end in \/auth\/callback/,
      ),
      'auth.oidc.defaultRole (from SHINRAI_AUTH_OIDC_DEFAULT_ROLE): must be viewer, editor or admin',
    ]);
    // Only the secret in the environment: the other keys say they are needed.
    expect(problems(() => loadConfig({ env: { SHINRAI_AUTH_OIDC_CLIENT_SECRET: 'x' } }))).toEqual([
      expect.stringMatching(/^auth\.oidc\.issuer \(from defaults\): is needed for single sign-on/),
      expect.stringMatching(/^auth\.oidc\.clientId \(from defaults\): is needed for single sign-on/),
      expect.stringMatching(/^auth\.oidc\.redirectUrl \(from defaults\): is needed for single sign-on/),
    ]);
    expect(
      loadConfig({
        env: {
          SHINRAI_AUTH_OIDC_ISSUER: 'http://127.0.0.1:9999',
          SHINRAI_AUTH_OIDC_CLIENT_ID: 'shinrai',
          SHINRAI_AUTH_OIDC_REDIRECT_URL: 'http://localhost:8420/auth/callback',
        },
      }).auth.oidc?.issuer,
    ).toBe('http://127.0.0.1:9999');
  });
});
