/** Unit tests of `reports.schedules` in the configuration: defaults, ids, and every refusal with its reason. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../platform/config.js';

const READY = {
  'reports.baseUrl': 'https://shinrai.example.com',
  'smtp.url': 'smtp://mail.example.com:587',
  'smtp.from': 'Shinrai <shinrai@example.com>',
};

function problems(flags: Record<string, unknown>, env: Record<string, string> = {}): string[] {
  try {
    loadConfig({ flags, env });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('reports.schedules', () => {
  it('fills the defaults and an id from the product and language', () => {
    const config = loadConfig({
      flags: {
        ...READY,
        'reports.schedules': [{ product: 'journey:Pay for the cart', recipients: ['a@example.com'] }],
      },
    });
    expect(config.reports.schedules).toEqual([
      {
        id: 'journey-pay-for-the-cart-en',
        product: 'journey:Pay for the cart',
        recipients: ['a@example.com'],
        language: 'en',
        dayOfMonth: 1,
        time: '09:00',
        format: 'html',
      },
    ]);
  });

  it('reads the list as JSON from the environment', () => {
    const config = loadConfig({
      flags: READY,
      env: {
        SHINRAI_REPORTS_SCHEDULES:
          '[{"id":"c","product":"checkout","recipients":["a@example.com"],"language":"ja"}]',
      },
    });
    expect(config.reports.schedules[0]).toMatchObject({ id: 'c', language: 'ja' });
    expect(problems(READY, { SHINRAI_REPORTS_SCHEDULES: '[{' })).toEqual([
      'reports.schedules (from SHINRAI_REPORTS_SCHEDULES): must be a list (YAML in the config file, or JSON)',
    ]);
  });

  it('refuses bad entries with the field and the reason', () => {
    expect(
      problems({
        ...READY,
        'reports.schedules': [
          {
            product: 'checkout',
            recipients: ['not-an-address'],
            dayOfMonth: 31,
            time: '9:00',
            format: 'docx',
          },
          { product: 'checkout', slackChannel: '#reliability' },
          { product: 'checkout' },
        ],
      }),
    ).toEqual([
      'reports.schedules.0.recipients.0 (from flag reports.schedules): must be an email address such as team@example.com',
      'reports.schedules.0.dayOfMonth (from flag reports.schedules): must be 1 to 28 (every month has it)',
      'reports.schedules.0.time (from flag reports.schedules): must be a time such as 09:00 (HH:MM, 24-hour)',
      'reports.schedules.0.format (from flag reports.schedules): must be html, pdf or md',
      "reports.schedules.1.slackChannel (from flag reports.schedules): must be a channel id such as C0123ABCD (the channel's details in Slack show it), not its name",
      'reports.schedules.2 (from flag reports.schedules): sends nowhere: give recipients, a slackChannel or a webhook',
    ]);
  });

  it('refuses two schedules with one id', () => {
    expect(
      problems({
        ...READY,
        'reports.schedules': [
          { product: 'checkout', recipients: ['a@example.com'] },
          { product: 'checkout', recipients: ['b@example.com'] },
        ],
      }),
    ).toEqual([
      'reports.schedules.1.id (from flag reports.schedules): checkout-en is used by another schedule: give each schedule its own id',
    ]);
  });

  it('refuses a schedule the server could not deliver', () => {
    expect(
      problems({
        'notificationTargets.oncall': { target: 'slack', url: 'https://hooks.slack.com/x' },
        'reports.schedules': [
          { id: 'a', product: 'checkout', recipients: ['a@example.com'] },
          { id: 'b', product: 'checkout', slackChannel: 'C0123ABCD', webhook: 'oncall' },
          { id: 'c', product: 'checkout', webhook: 'missing' },
        ],
      }).filter((p) => !p.endsWith('must be absolute)')),
    ).toEqual([
      'reports.schedules.0.recipients (from flag reports.schedules): needs smtp.url and smtp.from to send mail',
      'reports.schedules.1.slackChannel (from flag reports.schedules): needs slack.botToken to post to Slack',
      'reports.schedules.1.webhook (from flag reports.schedules): oncall is a slack target: a report goes to a target: webhook',
      'reports.schedules.2.webhook (from flag reports.schedules): names no notificationTargets entry (configure notificationTargets.missing with target: webhook)',
    ]);
    expect(
      problems({ 'reports.schedules': [{ id: 'a', product: 'checkout', webhook: 'missing' }] }),
    ).toContain(
      'reports.schedules.0 (from flag reports.schedules): needs reports.baseUrl (the links in scheduled reports must be absolute)',
    );
  });
});
