/**
 * The buttons and menus on the incident card and on alert messages: thin adapters that act through
 * the incident and alert services with the Slack user as the actor, after the role check of
 * `slack.users` (acting needs editor). The card itself follows through the outbox (every change
 * queues its update), so a press only nudges the outbox. Registered by the Slack app in one line.
 */
import type { App as BoltApp } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { addSilence, getAlert, judgeFiring } from '../alerting/index.js';
import {
  type Actor,
  type ChangeInput,
  changeIncident,
  createPostmortem,
  getIncident,
  type IncidentDeps,
} from '../incidents/index.js';
import { ALERT_ACTIONS } from '../notifications/index.js';
import type { Role } from '../platform/auth/index.js';
import type { Config } from '../platform/config.js';
import { AppError } from '../platform/errors.js';
import type { ShinraiMetrics } from '../platform/metrics.js';
import type { DeclarePrefill } from './app.js';
import { CARD_ACTIONS, cardIncidentId } from './card.js';
import { describeSlackError } from './client.js';
import { languageOf, SLACK_TEXT, type SlackLanguage, type SlackText } from './text.js';

const SILENCE_MS = 60 * 60 * 1000;

interface Person {
  readonly id: string;
  readonly name: string;
  readonly locale?: string | undefined;
}

/** What the Slack app lends the handlers (its user lookup, role check and declare modal). */
export interface CardActionHost {
  readonly deps: {
    readonly config: Config['slack'];
    readonly incidents: IncidentDeps;
    readonly metrics: ShinraiMetrics;
    readonly log: import('pino').Logger;
  };
  readonly outbox?: { cycle(): Promise<unknown> } | undefined;
  person(client: WebClient, userId: string): Promise<Person>;
  refusal(
    person: Person,
    needed: Role,
    t: SlackText,
    touches?: () => Promise<readonly string[]>,
  ): Promise<string | undefined>;
  /** The services an incident (and its SLOs) touch, for a team-scoped editor's check. */
  incidentServices(ref: string): Promise<string[]>;
  actor(person: Person): Actor;
  openDeclareModal(
    client: WebClient,
    triggerId: string,
    person: Person,
    title: string,
    channelId: string,
    language: SlackLanguage,
    prefill?: DeclarePrefill,
  ): Promise<void>;
}

interface Press {
  readonly userId: string;
  readonly channelId: string | undefined;
  readonly triggerId: string;
  readonly blockId: string | undefined;
  /** A button's value or a menu's selected value. */
  readonly value: string | undefined;
}

const TEXT = {
  en: {
    alreadyAcknowledged: (ref: string) => `${ref} is already acknowledged.`,
    postmortem: (ref: string, id: string) => `Postmortem drafted for ${ref} (id ${id}); edit it in Shinrai.`,
    feedback: (verdict: string) => `Thanks: this firing is recorded as ${verdict}.`,
    silenced: (until: string) => `Silenced until ${until} (1 h).`,
    noAlert: 'That alert is no longer known to Shinrai.',
    noLabels: 'This alert has no labels to silence it by.',
  },
  ja: {
    alreadyAcknowledged: (ref: string) => `${ref} はすでに確認済みです。`,
    postmortem: (ref: string, id: string) =>
      `${ref} のポストモーテムを起草しました(id ${id})。Shinrai で編集してください。`,
    feedback: (verdict: string) => `ありがとうございます。この発火を ${verdict} として記録しました。`,
    silenced: (until: string) => `${until} まで(1 時間)サイレンスしました。`,
    noAlert: 'このアラートは Shinrai にもうありません。',
    noLabels: 'このアラートにはサイレンスに使えるラベルがありません。',
  },
};

/** Listens for the card's and the alert message's actions on the Bolt app. */
export function registerCardActions(bolt: BoltApp, host: CardActionHost): void {
  const listen = (actionId: string, handle: (client: WebClient, press: Press) => Promise<void>) => {
    bolt.action(actionId, async ({ ack, body, action, client }) => {
      await ack();
      const a = action as { block_id?: string; value?: string; selected_option?: { value?: string } };
      const b = body as { user: { id: string }; channel?: { id?: string }; trigger_id?: string };
      await handle(client, {
        userId: b.user.id,
        channelId: b.channel?.id,
        triggerId: b.trigger_id ?? '',
        blockId: a.block_id,
        value: a.selected_option?.value ?? a.value,
      });
    });
  };

  /**
   * Runs `act` as the presser when their role (and, for an editor with teams, the services the
   * press touches) allows; tells them (ephemeral) otherwise or on failure.
   */
  const asEditor = async (
    client: WebClient,
    press: Press,
    act: (person: Person, language: SlackLanguage) => Promise<string | undefined>,
    touches: (press: Press) => Promise<readonly string[]> = incidentOf,
  ) => {
    const person = await host.person(client, press.userId);
    const language = languageOf(person.locale);
    const t = SLACK_TEXT[language];
    const refused = await host.refusal(person, 'editor', t, () => touches(press));
    let reply: string | undefined = refused;
    if (!refused) {
      try {
        reply = await act(person, language);
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        reply = t.failed(error.message);
      }
    }
    if (reply && press.channelId) await ephemeral(client, press.channelId, press.userId, reply);
    void host.outbox?.cycle();
  };

  const ephemeral = async (client: WebClient, channel: string, user: string, text: string) => {
    try {
      await client.chat.postEphemeral({ channel, user, text });
      host.deps.metrics.slackApiCalls.inc({ method: 'chat.postEphemeral', outcome: 'ok' });
    } catch (error) {
      const failure = describeSlackError('chat.postEphemeral', error);
      host.deps.metrics.slackApiCalls.inc({
        method: 'chat.postEphemeral',
        outcome: failure.kind === 'rate_limited' ? 'rate_limited' : 'error',
      });
      host.deps.log.warn({ channel }, failure.message);
    }
  };

  const incidents = () => host.deps.incidents;
  // What a press touches: the card's incident, or the alert message's alert.
  async function incidentOf(press: Press): Promise<readonly string[]> {
    const id = cardIncidentId(press.blockId, press.value);
    return id ? host.incidentServices(id) : [];
  }
  async function alertServices(press: Press): Promise<readonly string[]> {
    const alert = press.value ? await getAlert({ db: incidents().db }, press.value) : undefined;
    return alert ? [alert.service] : [];
  }
  const change = (press: Press, person: Person, input: ChangeInput) => {
    const id = cardIncidentId(press.blockId, press.value);
    if (!id) throw new AppError('Invalid', 'this button does not name an incident');
    return changeIncident(incidents(), id, input, host.actor(person));
  };
  const holder = (person: Person) => host.actor(person).name;

  listen(CARD_ACTIONS.acknowledge, (client, press) =>
    asEditor(client, press, async (person, language) => {
      const id = cardIncidentId(press.blockId, press.value) ?? '';
      const { incident } = await getIncident(incidents(), id);
      if (incident.milestones.acknowledgedAt !== undefined)
        return TEXT[language].alreadyAcknowledged(incident.reference);
      await change(press, person, {
        milestones: { acknowledgedAt: incidents().clock.now() },
        ...(incident.roles?.commander ? {} : { roles: { commander: holder(person) } }),
      });
      return undefined;
    }),
  );
  listen(CARD_ACTIONS.role, (client, press) =>
    asEditor(client, press, async (person) => {
      const role = press.value ?? '';
      if (!/^[a-z][a-z0-9_-]{0,39}$/.test(role)) throw new AppError('Invalid', 'not a role name');
      await change({ ...press, value: undefined }, person, { roles: { [role]: holder(person) } });
      return undefined;
    }),
  );
  listen(CARD_ACTIONS.status, (client, press) =>
    asEditor(client, press, async (person) => {
      const status = press.value as ChangeInput['status'];
      await change({ ...press, value: undefined }, person, { status });
      return undefined;
    }),
  );
  listen(CARD_ACTIONS.severity, (client, press) =>
    asEditor(client, press, async (person) => {
      await change({ ...press, value: undefined }, person, { severity: press.value });
      return undefined;
    }),
  );
  listen(CARD_ACTIONS.mitigated, (client, press) =>
    asEditor(client, press, async (person) => {
      await change(press, person, { status: 'monitoring' });
      return undefined;
    }),
  );
  listen(CARD_ACTIONS.resolved, (client, press) =>
    asEditor(client, press, async (person) => {
      await change(press, person, { status: 'resolved' });
      return undefined;
    }),
  );
  listen(CARD_ACTIONS.postmortem, (client, press) =>
    asEditor(client, press, async (person, language) => {
      const deps = incidents();
      const id = cardIncidentId(press.blockId, press.value) ?? '';
      const { incident } = await getIncident(deps, id);
      if (!deps.catalog) throw new AppError('Unavailable', 'no specs are loaded');
      const postmortem = await createPostmortem(
        deps,
        deps.catalog(),
        [incident.id],
        { language },
        host.actor(person).audit,
      );
      return TEXT[language].postmortem(incident.reference, postmortem.id);
    }),
  );

  const alertOf = async (fingerprint: string | undefined) =>
    fingerprint ? await getAlert({ db: incidents().db }, fingerprint) : undefined;
  for (const verdict of ['actionable', 'noise'] as const)
    listen(ALERT_ACTIONS[verdict], (client, press) =>
      asEditor(
        client,
        press,
        async (person, language) => {
          const alert = await alertOf(press.value);
          if (!alert) return TEXT[language].noAlert;
          if (alert.lastFiredAtMs === null) throw new AppError('Conflict', 'this alert has never fired');
          await judgeFiring(
            { db: incidents().db },
            alert,
            { verdict, note: '', by: holder(person) },
            incidents().clock.now(),
            host.actor(person).audit,
          );
          return TEXT[language].feedback(verdict);
        },
        alertServices,
      ),
    );
  listen(ALERT_ACTIONS.silence, (client, press) =>
    asEditor(
      client,
      press,
      async (person, language) => {
        const alert = await alertOf(press.value);
        if (!alert) return TEXT[language].noAlert;
        const matchers = Object.entries(alert.labels)
          .slice(0, 20)
          .map(([label, value]) => ({ label, value }));
        if (!matchers.length) return TEXT[language].noLabels;
        const nowMs = incidents().clock.now();
        const silence = await addSilence(
          { db: incidents().db },
          {
            matchers,
            startsAtMs: nowMs,
            endsAtMs: nowMs + SILENCE_MS,
            comment: `silenced for 1 h from Slack (${alert.sloId})`,
            createdBy: holder(person),
          },
          nowMs,
          host.actor(person).audit,
        );
        return TEXT[language].silenced(new Date(silence.endsAtMs).toISOString());
      },
      alertServices,
    ),
  );
  listen(ALERT_ACTIONS.declare, (client, press) =>
    asEditor(
      client,
      press,
      async (person, language) => {
        const alert = await alertOf(press.value);
        if (!alert) return TEXT[language].noAlert;
        const scale = incidents().severities;
        const severity = alert.tier === 'page' ? scale?.page : scale?.ticket;
        await host.openDeclareModal(
          client,
          press.triggerId,
          person,
          `${alert.sloId} (${alert.service}) is burning its error budget`,
          press.channelId ?? '',
          language,
          { severity, services: [alert.service], slos: [alert.sloId], alertId: alert.fingerprint },
        );
        return undefined;
      },
      alertServices,
    ),
  );
}
