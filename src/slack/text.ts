/**
 * Pure: what the Slack app says to people, in English and Japanese (picked by the Slack user's
 * locale: Japanese for ja-*, English otherwise), and how `/shinrai` arguments are read.
 */
export type SlackLanguage = 'en' | 'ja';

/** Japanese for a `ja` or `ja-JP` locale; English for any other or none. */
export function languageOf(locale: string | undefined): SlackLanguage {
  return /^ja(?:[-_]|$)/i.test(locale ?? '') ? 'ja' : 'en';
}

export interface SlackText {
  help: string;
  usage: string;
  /** The alert behind a declare form already has this open incident. */
  alreadyDeclared: (reference: string) => string;
  unknown(sub: string): string;
  unmapped: string;
  forbidden(role: string, needed: string): string;
  /** A team-scoped editor acting on another team's service (docs/slack.md#teams). */
  teamForbidden(owners: string, service: string, teams: string): string;
  notIncidentChannel: string;
  declared(reference: string, title: string): string;
  commanderChanged(reference: string, mention: string): string;
  severityChanged(reference: string, severity: string): string;
  mitigated(reference: string): string;
  resolved(reference: string): string;
  /** One incident status, as people say it. */
  status: Record<string, string>;
  /** A role's name (the standard ones; others are shown as named). */
  role: Record<string, string>;
  budgetLine(slo: string, remaining: string, burns: string, policy: string): string;
  noted(reference: string): string;
  /** Suggested causes: one line per deployment (already formatted). */
  suspects(reference: string, lines: readonly string[]): string;
  noSuspects(reference: string): string;
  /** `value` is already escaped for Slack. */
  causeConfirmed(reference: string, kind: 'deployment' | 'commit', value: string): string;
  causeCleared(reference: string): string;
  badCause: string;
  badSeverity(severities: readonly string[]): string;
  badUser: string;
  noStatuses: string;
  noSlos(service: string): string;
  failed(message: string): string;
  modal: {
    title: string;
    submit: string;
    close: string;
    titleLabel: string;
    severity: string;
    services: string;
    slos: string;
    commander: string;
    summary: string;
  };
  catchUpHeading(reference: string): string;
}

const HELP_EN = [
  '*/shinrai* — run incidents from Slack',
  '`/shinrai declare [title]` open the declare form',
  '`/shinrai status` where the incident of this channel stands',
  '`/shinrai ic @user` make someone incident commander',
  '`/shinrai severity SEV1` change the severity',
  '`/shinrai mitigated` · `/shinrai resolved` mark the incident',
  '`/shinrai note <text>` add a note to the timeline',
  '`/shinrai catchup` a summary for you only',
  '`/shinrai budget [service]` error budget, burn rate and policy step',
  '`/shinrai cause` suggested causes · `/shinrai cause deploy <id>` · `/shinrai cause commit <sha>` · `/shinrai cause none`',
].join('\n');

const HELP_JA = [
  '*/shinrai* — Slack からインシデントを運用します',
  '`/shinrai declare [タイトル]` 宣言フォームを開く',
  '`/shinrai status` このチャンネルのインシデントの状況',
  '`/shinrai ic @ユーザー` インシデントコマンダーを指名',
  '`/shinrai severity SEV1` 重大度を変更',
  '`/shinrai mitigated` · `/shinrai resolved` 緩和済み・解決済みにする',
  '`/shinrai note <テキスト>` タイムラインにメモを追加',
  '`/shinrai catchup` 自分だけに見える要約',
  '`/shinrai budget [サービス]` エラーバジェット・バーンレート・ポリシー段階',
  '`/shinrai cause` 原因の候補 · `/shinrai cause deploy <ID>` · `/shinrai cause commit <SHA>` · `/shinrai cause none` 原因を確定・取り消し',
].join('\n');

export const SLACK_TEXT: Record<SlackLanguage, SlackText> = {
  en: {
    help: HELP_EN,
    alreadyDeclared: (reference) => `This alert already has an open incident: ${reference}.`,
    usage:
      'Usage: /shinrai declare|status|ic|severity|mitigated|resolved|note|catchup|budget|cause (/shinrai help)',
    unknown: (sub) =>
      `Unknown sub-command "${sub}". Usage: /shinrai declare|status|ic|severity|mitigated|resolved|note|catchup|budget|cause`,
    unmapped:
      'You have no Shinrai role: ask a Shinrai admin to add your Slack user ID or e-mail to slack.users.',
    forbidden: (role, needed) => `This needs the ${needed} role in Shinrai; you are ${role}.`,
    teamForbidden: (owners, service, teams) =>
      `This needs editor rights on team ${owners} (service ${service}); your teams: ${teams}.`,
    notIncidentChannel: 'This channel belongs to no incident: run it in an incident channel.',
    declared: (reference, title) => `${reference} declared: ${title}`,
    commanderChanged: (reference, mention) => `${reference}: ${mention} is now the incident commander.`,
    severityChanged: (reference, severity) => `${reference}: severity is now ${severity}.`,
    mitigated: (reference) => `${reference}: mitigated (monitoring).`,
    resolved: (reference) => `${reference}: resolved.`,
    status: {},
    role: {},
    budgetLine: (slo, remaining, burns, policy) =>
      `• *${slo}*: ${remaining} of the error budget left${burns ? ` · burn rate ${burns}` : ''}${policy ? ` · policy: ${policy}` : ''}`,
    noted: (reference) => `Note added to the timeline of ${reference}.`,
    suspects: (reference, lines) =>
      [`Suggested causes of ${reference} (confirm one with \`/shinrai cause deploy <id>\`):`, ...lines].join(
        '\n',
      ),
    noSuspects: (reference) =>
      `No production deployment of ${reference}'s services finished in the hours before its impact started.`,
    causeConfirmed: (reference, kind, value) => `${reference}: cause confirmed — ${kind} \`${value}\`.`,
    causeCleared: (reference) => `${reference}: cause removed.`,
    badCause: 'Usage: /shinrai cause [deploy <id> | commit <sha> | none]',
    badSeverity: (severities) => `Usage: /shinrai severity <${severities.join('|')}>`,
    badUser: 'Usage: /shinrai ic @user',
    noStatuses: 'No SLO has been evaluated yet.',
    noSlos: (service) => `No SLO of service "${service}".`,
    failed: (message) => `Shinrai could not do that: ${message}`,
    modal: {
      title: 'Declare an incident',
      submit: 'Declare',
      close: 'Cancel',
      titleLabel: 'Title',
      severity: 'Severity',
      services: 'Services',
      slos: 'SLOs',
      commander: 'Incident commander',
      summary: 'Summary',
    },
    catchUpHeading: (reference) => `Catch-up on ${reference}`,
  },
  ja: {
    help: HELP_JA,
    alreadyDeclared: (reference) => `このアラートには対応中のインシデントがあります: ${reference}`,
    usage:
      '使い方: /shinrai declare|status|ic|severity|mitigated|resolved|note|catchup|budget|cause (/shinrai help)',
    unknown: (sub) =>
      `「${sub}」というサブコマンドはありません。使い方: /shinrai declare|status|ic|severity|mitigated|resolved|note|catchup|budget|cause`,
    unmapped:
      'Shinrai のロールがありません。Shinrai の管理者に Slack ユーザー ID かメールアドレスを slack.users に追加してもらってください。',
    forbidden: (role, needed) => `この操作には Shinrai の ${needed} ロールが必要です(あなたは ${role})。`,
    teamForbidden: (owners, service, teams) =>
      `この操作にはチーム ${owners} の編集権限が必要です(サービス ${service})。あなたのチーム: ${teams}`,
    notIncidentChannel:
      'このチャンネルはインシデントのチャンネルではありません。インシデントのチャンネルで実行してください。',
    declared: (reference, title) => `${reference} を宣言しました: ${title}`,
    commanderChanged: (reference, mention) =>
      `${reference}: インシデントコマンダーは ${mention} になりました。`,
    severityChanged: (reference, severity) => `${reference}: 重大度を ${severity} に変更しました。`,
    mitigated: (reference) => `${reference}: 緩和済み(監視中)にしました。`,
    resolved: (reference) => `${reference}: 解決済みにしました。`,
    status: {
      triage: 'トリアージ',
      investigating: '調査中',
      identified: '原因特定',
      monitoring: '監視中',
      resolved: '解決済み',
      closed: 'クローズ',
      cancelled: '取り消し',
    },
    role: {
      commander: 'インシデントコマンダー',
      communications: '広報',
      operations: 'オペレーション',
      scribe: '記録係',
    },
    budgetLine: (slo, remaining, burns, policy) =>
      `• *${slo}*: エラーバジェット残り ${remaining}${burns ? ` · バーンレート ${burns}` : ''}${policy ? ` · ポリシー: ${policy}` : ''}`,
    noted: (reference) => `${reference} のタイムラインにメモを追加しました。`,
    suspects: (reference, lines) =>
      [`${reference} の原因の候補(\`/shinrai cause deploy <ID>\` で確定):`, ...lines].join('\n'),
    noSuspects: (reference) => `${reference} の影響開始前の数時間に終わった本番デプロイはありません。`,
    causeConfirmed: (reference, kind, value) =>
      `${reference}: 原因を確定しました — ${kind === 'deployment' ? 'デプロイ' : 'コミット'} \`${value}\``,
    causeCleared: (reference) => `${reference}: 原因を取り消しました。`,
    badCause: '使い方: /shinrai cause [deploy <ID> | commit <SHA> | none]',
    badSeverity: (severities) => `使い方: /shinrai severity <${severities.join('|')}>`,
    badUser: '使い方: /shinrai ic @ユーザー',
    noStatuses: 'まだ評価された SLO がありません。',
    noSlos: (service) => `サービス「${service}」の SLO はありません。`,
    failed: (message) => `実行できませんでした: ${message}`,
    modal: {
      title: 'インシデントを宣言',
      submit: '宣言',
      close: 'キャンセル',
      titleLabel: 'タイトル',
      severity: '重大度',
      services: 'サービス',
      slos: 'SLO',
      commander: 'インシデントコマンダー',
      summary: '概要',
    },
    catchUpHeading: (reference) => `${reference} の要約`,
  },
};

export type SlashCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'declare'; readonly title: string }
  | { readonly kind: 'status' }
  | { readonly kind: 'ic'; readonly user: string }
  | { readonly kind: 'severity'; readonly severity: string }
  | { readonly kind: 'mitigated' }
  | { readonly kind: 'resolved' }
  | { readonly kind: 'note'; readonly text: string }
  | { readonly kind: 'catchup' }
  | { readonly kind: 'budget'; readonly service: string }
  /** `suggest`: list the suspects; otherwise confirm a deployment or commit, or clear (null). */
  | {
      readonly kind: 'cause';
      readonly cause: 'suggest' | { readonly deployment: string } | { readonly commit: string } | null;
    }
  | {
      readonly kind: 'usage';
      readonly problem: 'unknown' | 'ic' | 'severity' | 'note' | 'cause';
      readonly sub: string;
    };

/**
 * Reads the text after `/shinrai`. A user mention arrives escaped as `<@U123|name>` (or `<@U123>`);
 * a severity must be one of the configured ones (any case).
 */
export function parseSlashCommand(text: string, severities: readonly string[]): SlashCommand {
  const trimmed = text.trim();
  const [head = '', ...rest] = trimmed.split(/\s+/);
  const sub = head.toLowerCase();
  const args = trimmed.slice(head.length).trim();
  switch (sub) {
    case '':
    case 'help':
      return { kind: 'help' };
    case 'declare':
      return { kind: 'declare', title: args };
    case 'status':
      return { kind: 'status' };
    case 'ic': {
      const match = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(rest[0] ?? '');
      return match && rest.length === 1
        ? { kind: 'ic', user: match[1]! }
        : { kind: 'usage', problem: 'ic', sub };
    }
    case 'severity': {
      const wanted = severities.find((s) => s.toLowerCase() === (rest[0] ?? '').toLowerCase());
      return wanted && rest.length === 1
        ? { kind: 'severity', severity: wanted }
        : { kind: 'usage', problem: 'severity', sub };
    }
    case 'mitigated':
      return { kind: 'mitigated' };
    case 'resolved':
      return { kind: 'resolved' };
    case 'note':
      return args ? { kind: 'note', text: args } : { kind: 'usage', problem: 'note', sub };
    case 'catchup':
    case 'catch-up':
      return { kind: 'catchup' };
    case 'budget':
      return { kind: 'budget', service: args };
    case 'cause': {
      const [what = '', value, ...extra] = rest;
      if (!what) return { kind: 'cause', cause: 'suggest' };
      if (what.toLowerCase() === 'none' && value === undefined) return { kind: 'cause', cause: null };
      if (value === undefined || extra.length) return { kind: 'usage', problem: 'cause', sub };
      if (/^deploy(ment)?$/i.test(what) && /^[\x21-\x7e]{1,300}$/.test(value))
        return { kind: 'cause', cause: { deployment: value } };
      if (/^commit$/i.test(what) && /^[0-9a-f]{4,64}$/i.test(value))
        return { kind: 'cause', cause: { commit: value.toLowerCase() } };
      return { kind: 'usage', problem: 'cause', sub };
    }
    default:
      return { kind: 'usage', problem: 'unknown', sub: head.slice(0, 40) };
  }
}

/** Slack's markup characters in text people wrote, escaped as Slack asks (&, <, >). */
export function escapeSlack(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
