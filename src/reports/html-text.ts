/**
 * The monthly report's HTML words in English and Japanese (pure): headings, labels, the wording of
 * each "what to do" item, and the number, duration and date formats of each language (Intl and
 * Luxon in the report's zone). Data (names, titles, actions) is passed through as written; the
 * renderer escapes it.
 */
import { DateTime } from 'luxon';
import type { ReportLanguage } from './model.js';

type Gate = 'allow' | 'warn' | 'deny';

/** Everything the HTML says in one language. */
export interface HtmlText {
  readonly locale: string;
  readonly title: (product: string) => string;
  readonly monthName: (month: string, timeZone: string) => string;
  readonly period: (month: string, timeZone: string) => string;
  readonly services: string;
  readonly generatedAt: string;
  readonly contents: string;
  readonly sections: {
    readonly verdict: string;
    readonly todo: string;
    readonly trend: string;
    readonly incidents: string;
    readonly actionItems: string;
    readonly risks: string;
    readonly alerts: string;
    readonly delivery: string;
  };
  readonly verdict: {
    readonly slo: string;
    readonly result: string;
    readonly attainment: string;
    readonly target: string;
    readonly budget: string;
    readonly policy: string;
    readonly met: string;
    readonly missed: string;
    readonly noData: string;
    readonly noPolicyStep: string;
    readonly policyStep: (belowShare: string, action: string) => string;
    readonly summary: (met: number, missed: number, noData: number) => string;
    readonly none: string;
  };
  readonly gate: Readonly<Record<Gate, string>>;
  readonly todo: {
    readonly none: string;
    readonly policy: (slo: string, action: string, gate: string) => string;
    readonly overdue: (title: string, priority: string, dueDate: string) => string;
    readonly riskTooBig: (risk: string, share: string, slo: string | undefined) => string;
    readonly noisyAlert: (rule: string, slo: string, share: string) => string;
    readonly kind: {
      readonly policy: string;
      readonly 'overdue-action-item': string;
      readonly 'risk-too-big': string;
      readonly 'noisy-alert': string;
    };
  };
  readonly trend: {
    readonly chartTitle: string;
    readonly attainmentAxis: string;
    readonly consumedAxis: string;
    readonly monthAxis: string;
    readonly sloLegend: string;
    readonly previous: (month: string) => string;
    readonly current: (month: string) => string;
    readonly change: string;
    readonly points: (delta: string) => string;
    readonly summary: (slo: string, from: string, to: string, consumed: string) => string;
    readonly none: string;
  };
  readonly incidents: {
    readonly reference: string;
    readonly title: string;
    readonly severity: string;
    readonly status: string;
    readonly started: string;
    readonly duration: string;
    readonly impact: string;
    readonly postmortem: string;
    readonly ongoing: string;
    readonly none: string;
    readonly noImpact: string;
    readonly statusWord: (status: string) => string;
    readonly postmortemWord: (status: string) => string;
  };
  readonly actionItems: {
    readonly priority: string;
    readonly opened: string;
    readonly closed: string;
    readonly overdue: string;
    readonly total: string;
    readonly none: string;
  };
  readonly risks: {
    readonly name: string;
    readonly service: string;
    readonly slo: string;
    readonly badMinutes: string;
    readonly yearlyBudget: string;
    readonly share: string;
    readonly tooBig: string;
    readonly fits: string;
    readonly none: string;
  };
  readonly alerts: {
    readonly chartTitle: string;
    readonly weekAxis: string;
    readonly countAxis: string;
    readonly kindLegend: string;
    readonly pages: string;
    readonly tickets: string;
    readonly noiseShare: string;
    readonly medianDetection: string;
    readonly notMarked: string;
    readonly noDetection: string;
    readonly summary: (pages: number, tickets: number, weeks: number) => string;
    readonly weekOf: (start: string) => string;
  };
  readonly delivery: {
    readonly none: string;
    readonly metric: string;
    readonly value: string;
    readonly level: string;
    readonly deployments: string;
    readonly leadTime: string;
    readonly changeFailRate: string;
    readonly recoveryTime: string;
    readonly reworkRate: string;
    readonly deploymentFrequency: string;
    readonly benchmark: (year: number) => string;
    readonly levelWord: (level: string) => string;
  };
  readonly noValue: string;
  readonly unit: { readonly minutes: string; readonly events: string };
}

const word = (table: Readonly<Record<string, string>>, key: string) => table[key] ?? key;

const EN_STATUS: Record<string, string> = {
  triage: 'Triage',
  investigating: 'Investigating',
  identified: 'Identified',
  monitoring: 'Monitoring',
  resolved: 'Resolved',
  closed: 'Closed',
  cancelled: 'Cancelled',
};
const JA_STATUS: Record<string, string> = {
  triage: 'トリアージ',
  investigating: '調査中',
  identified: '原因特定',
  monitoring: '経過観察',
  resolved: '解決',
  closed: 'クローズ',
  cancelled: '取り消し',
};
const EN_POSTMORTEM: Record<string, string> = {
  none: 'None',
  draft: 'Draft',
  'in-review': 'In review',
  published: 'Published',
};
const JA_POSTMORTEM: Record<string, string> = {
  none: 'なし',
  draft: '下書き',
  'in-review': 'レビュー中',
  published: '公開済み',
};
const EN_LEVEL: Record<string, string> = { elite: 'Elite', high: 'High', medium: 'Medium', low: 'Low' };
const JA_LEVEL: Record<string, string> = { elite: 'エリート', high: '高', medium: '中', low: '低' };

const month = (value: string, timeZone: string, locale: string) =>
  DateTime.fromISO(`${value}-01`, { zone: timeZone }).setLocale(locale);

export const HTML_TEXT: Readonly<Record<ReportLanguage, HtmlText>> = {
  en: {
    locale: 'en-US',
    title: (product) => `Monthly reliability report: ${product}`,
    monthName: (value, zone) => month(value, zone, 'en-US').toFormat('LLLL yyyy'),
    period: (value, zone) => `${month(value, zone, 'en-US').toFormat('LLLL yyyy')} (${zone})`,
    services: 'Services',
    generatedAt: 'Generated',
    contents: 'Contents',
    sections: {
      verdict: 'Verdict',
      todo: 'What to do this month',
      trend: 'Trend over 6 months',
      incidents: 'Incidents',
      actionItems: 'Action items',
      risks: 'Risks',
      alerts: 'Alerts',
      delivery: 'Delivery',
    },
    verdict: {
      slo: 'SLO',
      result: 'Result',
      attainment: 'Attainment',
      target: 'Target',
      budget: 'Budget consumed',
      policy: 'Policy step and required action',
      met: 'Met',
      missed: 'Missed',
      noData: 'No data',
      noPolicyStep: 'No step reached',
      policyStep: (below, action) => `Budget below ${below}: ${action}`,
      summary: (met, missed, noData) =>
        `${met} SLO${met === 1 ? '' : 's'} met, ${missed} missed${noData > 0 ? `, ${noData} without data` : ''}.`,
      none: 'This product has no SLOs.',
    },
    gate: { allow: 'deploys allowed', warn: 'deploys allowed with a warning', deny: 'deploys blocked' },
    todo: {
      none: 'Nothing needs action this month.',
      policy: (slo, action, gate) => `${slo}: ${action} (${gate})`,
      overdue: (title, priority, due) => `${priority} action item overdue since ${due}: ${title}`,
      riskTooBig: (risk, share, slo) =>
        `Risk “${risk}” would use ${share} of ${slo ? `${slo}’s` : 'the'} yearly budget`,
      noisyAlert: (rule, slo, share) => `Alert ${rule} of ${slo}: ${share} of its alerts marked noise`,
      kind: {
        policy: 'Policy',
        'overdue-action-item': 'Overdue',
        'risk-too-big': 'Risk',
        'noisy-alert': 'Noisy alert',
      },
    },
    trend: {
      chartTitle: 'Attainment and budget consumed, last 6 months',
      attainmentAxis: 'Attainment',
      consumedAxis: 'Budget consumed',
      monthAxis: 'Month',
      sloLegend: 'SLO',
      previous: (m) => `Attainment ${m}`,
      current: (m) => `Attainment ${m}`,
      change: 'Change',
      points: (delta) => `${delta} pts`,
      summary: (slo, from, to, consumed) =>
        `${slo}: attainment ${from} → ${to}, budget consumed this month ${consumed}.`,
      none: 'No trend data.',
    },
    incidents: {
      reference: 'Incident',
      title: 'Title',
      severity: 'Severity',
      status: 'Status',
      started: 'Started',
      duration: 'Duration',
      impact: 'Budget impact',
      postmortem: 'Postmortem',
      ongoing: 'ongoing',
      none: 'No incidents this month.',
      noImpact: 'none',
      statusWord: (status) => word(EN_STATUS, status),
      postmortemWord: (status) => word(EN_POSTMORTEM, status),
    },
    actionItems: {
      priority: 'Priority',
      opened: 'Opened',
      closed: 'Closed',
      overdue: 'Overdue',
      total: 'Total',
      none: 'No action items this month.',
    },
    risks: {
      name: 'Risk',
      service: 'Service',
      slo: 'SLO',
      badMinutes: 'Bad minutes a year',
      yearlyBudget: 'Yearly budget (minutes)',
      share: 'Share of budget',
      tooBig: 'Too big',
      fits: 'Fits',
      none: 'No risks recorded.',
    },
    alerts: {
      chartTitle: 'Pages and tickets per week',
      weekAxis: 'Week starting',
      countAxis: 'Alerts',
      kindLegend: 'Kind',
      pages: 'Pages',
      tickets: 'Tickets',
      noiseShare: 'Marked as noise',
      medianDetection: 'Median detection time',
      notMarked: 'none marked',
      noDetection: 'no alerts',
      summary: (pages, tickets, weeks) =>
        `${pages} page${pages === 1 ? '' : 's'} and ${tickets} ticket${tickets === 1 ? '' : 's'} over ${weeks} week${weeks === 1 ? '' : 's'}.`,
      weekOf: (start) => `Week of ${start}`,
    },
    delivery: {
      none: 'No deployments were recorded this month.',
      metric: 'Metric',
      value: 'Value',
      level: 'Level',
      deployments: 'Deployments',
      leadTime: 'Lead time for changes (median)',
      changeFailRate: 'Change failure rate',
      recoveryTime: 'Failed deployment recovery time (median)',
      reworkRate: 'Rework rate',
      deploymentFrequency: 'Deployment frequency',
      benchmark: (year) => `Levels from the DORA ${year} benchmarks.`,
      levelWord: (level) => word(EN_LEVEL, level),
    },
    noValue: '—',
    unit: { minutes: 'min', events: 'events' },
  },
  ja: {
    locale: 'ja-JP',
    title: (product) => `月次信頼性レポート: ${product}`,
    monthName: (value, zone) => month(value, zone, 'ja-JP').toFormat('yyyy年M月'),
    period: (value, zone) => `${month(value, zone, 'ja-JP').toFormat('yyyy年M月')}（${zone}）`,
    services: 'サービス',
    generatedAt: '作成日時',
    contents: '目次',
    sections: {
      verdict: '判定',
      todo: '今月やること',
      trend: '6か月の推移',
      incidents: 'インシデント',
      actionItems: 'アクションアイテム',
      risks: 'リスク',
      alerts: 'アラート',
      delivery: 'デリバリー',
    },
    verdict: {
      slo: 'SLO',
      result: '結果',
      attainment: '達成率',
      target: '目標',
      budget: 'エラーバジェット消費',
      policy: 'ポリシー段階と必要な対応',
      met: '達成',
      missed: '未達',
      noData: 'データなし',
      noPolicyStep: '該当段階なし',
      policyStep: (below, action) => `残りバジェット ${below} 未満: ${action}`,
      summary: (met, missed, noData) =>
        `達成 ${met} 件、未達 ${missed} 件${noData > 0 ? `、データなし ${noData} 件` : ''}。`,
      none: 'このプロダクトには SLO がありません。',
    },
    gate: { allow: 'デプロイ可', warn: '警告付きでデプロイ可', deny: 'デプロイ停止' },
    todo: {
      none: '今月対応が必要な項目はありません。',
      policy: (slo, action, gate) => `${slo}: ${action}（${gate}）`,
      overdue: (title, priority, due) => `${priority} のアクションアイテムが ${due} から期限超過: ${title}`,
      riskTooBig: (risk, share, slo) =>
        `リスク「${risk}」は${slo ? ` ${slo} の` : ''}年間バジェットの ${share} を使う見込み`,
      noisyAlert: (rule, slo, share) => `${slo} のアラート ${rule}: ${share} がノイズと判定`,
      kind: {
        policy: 'ポリシー',
        'overdue-action-item': '期限超過',
        'risk-too-big': 'リスク',
        'noisy-alert': 'ノイズの多いアラート',
      },
    },
    trend: {
      chartTitle: '達成率とバジェット消費（直近6か月）',
      attainmentAxis: '達成率',
      consumedAxis: 'バジェット消費',
      monthAxis: '月',
      sloLegend: 'SLO',
      previous: (m) => `${m} の達成率`,
      current: (m) => `${m} の達成率`,
      change: '変化',
      points: (delta) => `${delta} ポイント`,
      summary: (slo, from, to, consumed) =>
        `${slo}: 達成率 ${from} → ${to}、今月のバジェット消費 ${consumed}。`,
      none: '推移のデータがありません。',
    },
    incidents: {
      reference: 'インシデント',
      title: 'タイトル',
      severity: '重大度',
      status: '状態',
      started: '開始',
      duration: '継続時間',
      impact: 'バジェットへの影響',
      postmortem: 'ポストモーテム',
      ongoing: '継続中',
      none: '今月のインシデントはありません。',
      noImpact: 'なし',
      statusWord: (status) => word(JA_STATUS, status),
      postmortemWord: (status) => word(JA_POSTMORTEM, status),
    },
    actionItems: {
      priority: '優先度',
      opened: '起票',
      closed: '完了',
      overdue: '期限超過',
      total: '合計',
      none: '今月のアクションアイテムはありません。',
    },
    risks: {
      name: 'リスク',
      service: 'サービス',
      slo: 'SLO',
      badMinutes: '年間の不良時間（分）',
      yearlyBudget: '年間バジェット（分）',
      share: 'バジェットに占める割合',
      tooBig: '大きすぎる',
      fits: '許容内',
      none: '登録されたリスクはありません。',
    },
    alerts: {
      chartTitle: '週ごとのページとチケット',
      weekAxis: '週の開始日',
      countAxis: 'アラート数',
      kindLegend: '種類',
      pages: 'ページ',
      tickets: 'チケット',
      noiseShare: 'ノイズと判定',
      medianDetection: '検知時間の中央値',
      notMarked: '判定なし',
      noDetection: 'アラートなし',
      summary: (pages, tickets, weeks) => `${weeks} 週間でページ ${pages} 件、チケット ${tickets} 件。`,
      weekOf: (start) => `${start} の週`,
    },
    delivery: {
      none: '今月記録されたデプロイはありません。',
      metric: '指標',
      value: '値',
      level: 'レベル',
      deployments: 'デプロイ数',
      leadTime: '変更のリードタイム（中央値）',
      changeFailRate: '変更失敗率',
      recoveryTime: '失敗したデプロイからの復旧時間（中央値）',
      reworkRate: '手戻り率',
      deploymentFrequency: 'デプロイ頻度',
      benchmark: (year) => `レベルは DORA ${year} のベンチマークによる。`,
      levelWord: (level) => word(JA_LEVEL, level),
    },
    noValue: '—',
    unit: { minutes: '分', events: '件' },
  },
};

/** Number, duration and date formats of one language, dates in the report's zone. */
export interface Formats {
  /** 0.9995 → 99.95% (up to 3 decimals: attainment and targets). */
  readonly nines: (share: number) => string;
  /** 0.253 → 25.3%. */
  readonly percent: (share: number) => string;
  readonly number: (value: number, maxDigits?: number) => string;
  /** A signed difference in percentage points, from two shares. */
  readonly points: (delta: number) => string;
  readonly amount: (value: number, unit: 'events' | 'minutes') => string;
  readonly duration: (ms: number) => string;
  readonly dateTime: (ms: number) => string;
  readonly date: (ms: number) => string;
  /** `YYYY-MM-DD` (a due date or a week's start) in this language. */
  readonly isoDate: (iso: string) => string;
  readonly shortMonth: (month: string) => string;
  /** `YYYY-MM-DD` as a short day without the year (chart labels). */
  readonly shortDate: (iso: string) => string;
}

export function formats(language: ReportLanguage, timeZone: string): Formats {
  const text = HTML_TEXT[language];
  const locale = text.locale;
  const ninesFormat = new Intl.NumberFormat(locale, {
    style: 'percent',
    minimumFractionDigits: 2,
    maximumFractionDigits: 3,
  });
  const percentFormat = new Intl.NumberFormat(locale, {
    style: 'percent',
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
  });
  const pointsFormat = new Intl.NumberFormat(locale, {
    maximumFractionDigits: 2,
    minimumFractionDigits: 2,
    signDisplay: 'exceptZero',
  });
  const number = (value: number, maxDigits = 1) =>
    new Intl.NumberFormat(locale, { maximumFractionDigits: maxDigits }).format(value);
  const duration = (ms: number) => {
    const totalSeconds = Math.max(0, Math.round(ms / 1000));
    if (totalSeconds < 3600) {
      // Under an hour the seconds matter (a detection time of 6 min 30 s is not 7 min).
      const m = Math.floor(totalSeconds / 60);
      const s = totalSeconds % 60;
      const parts =
        language === 'ja'
          ? [m ? `${m}分` : '', s || !m ? `${s}秒` : '']
          : [m ? `${m} min` : '', s || !m ? `${s} s` : ''];
      return parts.filter(Boolean).join(language === 'ja' ? '' : ' ');
    }
    const totalMinutes = Math.round(ms / 60_000);
    const days = Math.floor(totalMinutes / 1440);
    const hours = Math.floor((totalMinutes % 1440) / 60);
    const minutes = totalMinutes % 60;
    const parts =
      language === 'ja'
        ? [days ? `${days}日` : '', hours ? `${hours}時間` : '', minutes ? `${minutes}分` : '']
        : [days ? `${days} d` : '', hours ? `${hours} h` : '', minutes ? `${minutes} min` : ''];
    return parts.filter(Boolean).join(language === 'ja' ? '' : ' ');
  };
  const zoned = (ms: number) => DateTime.fromMillis(ms, { zone: timeZone }).setLocale(locale);
  return {
    nines: (share) => ninesFormat.format(share),
    percent: (share) => percentFormat.format(share),
    number,
    points: (delta) => pointsFormat.format(delta * 100),
    amount: (value, unit) =>
      language === 'ja' ? `${number(value)}${text.unit[unit]}` : `${number(value)} ${text.unit[unit]}`,
    duration,
    dateTime: (ms) => zoned(ms).toLocaleString(DateTime.DATETIME_MED),
    date: (ms) => zoned(ms).toLocaleString(DateTime.DATE_MED),
    isoDate: (iso) => {
      const parsed = DateTime.fromISO(iso, { zone: timeZone });
      return parsed.isValid ? parsed.setLocale(locale).toLocaleString(DateTime.DATE_MED) : iso;
    },
    shortDate: (iso) => {
      const parsed = DateTime.fromISO(iso, { zone: timeZone });
      if (!parsed.isValid) return iso;
      return language === 'ja' ? parsed.toFormat('M/d') : parsed.setLocale(locale).toFormat('LLL d');
    },
    shortMonth: (value) => {
      const parsed = DateTime.fromISO(`${value}-01`, { zone: timeZone });
      if (!parsed.isValid) return value;
      return language === 'ja' ? parsed.toFormat('yyyy年M月') : parsed.setLocale(locale).toFormat('LLL yyyy');
    },
  };
}
