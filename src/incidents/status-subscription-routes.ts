/**
 * Status-page subscription routes (public, no token, plain form POSTs that work without script):
 * POST /status/subscribe, GET+POST /status/confirm, GET+POST /status/unsubscribe (the POST also
 * takes RFC 8058 one-click requests from mail clients). A GET never changes anything (mail
 * scanners open links); it shows a one-button form. Thin over StatusSubscriptions.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../platform/clock.js';
import { AppError } from '../platform/errors.js';
import type { App } from '../platform/http/index.js';
import type { ShinraiMetrics } from '../platform/metrics.js';
import { type Lang, pickLanguage } from './status-page-i18n.js';
import { MAIL_TEXTS, subscriptionPage } from './status-subscription-mail.js';
import { normaliseAddress, type StatusSubscriptions } from './status-subscriptions.js';

/** The subscription pages load nothing and post only to this server. */
export const SUBSCRIPTION_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'";

const FORM = 'application/x-www-form-urlencoded';
const BODY_LIMIT_BYTES = 4096;
const HOUR_MS = 3_600_000;

export interface SubscriptionRouteDeps {
  readonly subscriptions: StatusSubscriptions;
  readonly clock: Clock;
  readonly metrics: ShinraiMetrics;
  /** Subscribe requests per client address per hour. */
  readonly perClientPerHour: number;
}

/** Fixed hourly windows per client address, in memory (one replica's view). */
export class ClientWindows {
  private readonly windows = new Map<string, { startMs: number; count: number }>();

  constructor(private readonly max: number) {}

  /** Counts one request; the seconds to wait when over the limit, else undefined. */
  take(client: string, nowMs: number): number | undefined {
    if (this.windows.size > 10_000)
      for (const [key, w] of this.windows) if (nowMs - w.startMs >= HOUR_MS) this.windows.delete(key);
    const current = this.windows.get(client);
    const window = current && nowMs - current.startMs < HOUR_MS ? current : { startMs: nowMs, count: 0 };
    if (window.count >= this.max) return Math.max(1, Math.ceil((window.startMs + HOUR_MS - nowMs) / 1000));
    window.count++;
    this.windows.set(client, window);
    return undefined;
  }
}

function field(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

function languageOf(request: FastifyRequest): Lang {
  const query = request.query as Record<string, unknown>;
  const asked = field(request.body, 'lang') || (typeof query.lang === 'string' ? query.lang : undefined);
  return pickLanguage(asked, request.headers['accept-language']);
}

function requireForm(request: FastifyRequest): void {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== FORM) throw new AppError('UnsupportedMediaType', `send the form as ${FORM}`);
}

function page(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply
    .code(status)
    .header('content-security-policy', SUBSCRIPTION_PAGE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(html);
}

export function statusSubscriptionRoutes(deps: SubscriptionRouteDeps) {
  const clients = new ClientWindows(deps.perClientPerHour);
  const { subscriptions } = deps;
  return (app: App) =>
    app.register(async (scoped) => {
      // Scoped to these routes: form bodies here, and any body on the one-click unsubscribe.
      scoped.addContentTypeParser(
        FORM,
        { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES },
        (_r, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
      );
      scoped.addContentTypeParser(
        '*',
        { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES },
        (_r, _body, done) => done(null, {}),
      );
      const options = {
        config: { minRole: 'public' as const },
        bodyLimit: BODY_LIMIT_BYTES,
        schema: { hide: true },
      };

      scoped.post('/status/subscribe', options, async (request, reply) => {
        requireForm(request);
        // A browser says when a form was posted from another site; such a request is refused.
        if (request.headers['sec-fetch-site'] === 'cross-site')
          throw new AppError('Forbidden', 'subscribe from the status page itself');
        const lang = languageOf(request);
        const t = MAIL_TEXTS[lang];
        const title = t.subscribeTitle;
        if (!(await subscriptions.checkFormToken(field(request.body, 'form'))))
          return page(reply, 403, subscriptionPage({ lang, title, message: t.formExpired }));
        const waitSeconds = clients.take(request.ip, deps.clock.now());
        if (waitSeconds !== undefined) {
          deps.metrics.rateLimited.inc({ limit: 'status_subscribe' });
          reply.header('retry-after', String(waitSeconds));
          return page(reply, 429, subscriptionPage({ lang, title, message: t.tooMany }));
        }
        const address = normaliseAddress(field(request.body, 'email'));
        if (!address) return page(reply, 400, subscriptionPage({ lang, title, message: t.invalidAddress }));
        await subscriptions.subscribe(address, lang);
        // The same answer for a new, pending, confirmed or rate-limited address: nothing to enumerate.
        return page(reply, 202, subscriptionPage({ lang, title: t.checkInbox, message: t.checkInboxDetail }));
      });

      scoped.get('/status/confirm', options, async (request, reply) => {
        const lang = languageOf(request);
        const t = MAIL_TEXTS[lang];
        const token = field(request.query, 'token');
        return page(
          reply,
          200,
          subscriptionPage({
            lang,
            title: t.confirmPageTitle,
            message: t.confirmAsk,
            form: { action: '/status/confirm', token, button: t.confirmButton },
          }),
        );
      });

      scoped.post('/status/confirm', options, async (request, reply) => {
        requireForm(request);
        const lang = languageOf(request);
        const t = MAIL_TEXTS[lang];
        const result = await subscriptions.confirm(field(request.body, 'token'));
        return result === 'confirmed'
          ? page(reply, 200, subscriptionPage({ lang, title: t.confirmPageTitle, message: t.confirmed }))
          : page(reply, 400, subscriptionPage({ lang, title: t.confirmPageTitle, message: t.linkInvalid }));
      });

      scoped.get('/status/unsubscribe', options, async (request, reply) => {
        const lang = languageOf(request);
        const t = MAIL_TEXTS[lang];
        return page(
          reply,
          200,
          subscriptionPage({
            lang,
            title: t.unsubscribePageTitle,
            message: t.unsubscribeAsk,
            form: {
              action: '/status/unsubscribe',
              token: field(request.query, 'token'),
              button: t.unsubscribeButton,
            },
          }),
        );
      });

      scoped.post('/status/unsubscribe', options, async (request, reply) => {
        const lang = languageOf(request);
        const t = MAIL_TEXTS[lang];
        // The form sends the token in its body; a mail client's one-click POST keeps it in the URL.
        const token = field(request.body, 'token') || field(request.query, 'token');
        const result = await subscriptions.unsubscribe(token);
        return result === 'unsubscribed'
          ? page(
              reply,
              200,
              subscriptionPage({ lang, title: t.unsubscribePageTitle, message: t.unsubscribed }),
            )
          : page(
              reply,
              400,
              subscriptionPage({ lang, title: t.unsubscribePageTitle, message: t.linkInvalid }),
            );
      });
    });
}
