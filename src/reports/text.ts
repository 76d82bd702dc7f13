/**
 * The words of the monthly report in English and Japanese, as the Markdown renderer uses them
 * (pure): headings, column names, the wording of each "what to do" item, units.
 */
import type { ReportLanguage } from './model.js';

export interface ReportText {
  readonly title: (product: string, month: string) => string;
  readonly meta: (timeZone: string, services: string, generated: string) => string;
  readonly verdict: string;
  readonly verdictColumns: readonly string[];
  readonly met: string;
  readonly missed: string;
  readonly noData: string;
  readonly todo: string;
  readonly nothingToDo: string;
  readonly policyTodo: (slo: string, action: string, gate: string) => string;
  readonly overdueTodo: (title: string, priority: string, due: string) => string;
  readonly riskTodo: (risk: string, share: string) => string;
  readonly noisyTodo: (slo: string, rule: string, share: string) => string;
  readonly gates: Readonly<Record<'allow' | 'warn' | 'deny', string>>;
  readonly trend: string;
  readonly trendColumns: readonly string[];
  readonly incidents: string;
  readonly incidentColumns: readonly string[];
  readonly noIncidents: string;
  readonly ongoing: string;
  readonly postmortemNone: string;
  readonly actionItems: string;
  readonly actionItemColumns: readonly string[];
  readonly risks: string;
  readonly riskColumns: readonly string[];
  readonly noRisks: string;
  readonly yes: string;
  readonly no: string;
  readonly alerts: string;
  readonly alertColumns: readonly string[];
  readonly noiseShare: (share: string) => string;
  readonly medianDetection: (duration: string) => string;
  readonly delivery: string;
  readonly noDeployments: string;
  readonly deliveryColumns: readonly string[];
  readonly deliveryMetrics: Readonly<Record<string, string>>;
  readonly benchmark: (year: number) => string;
  readonly levels: Readonly<Record<string, string>>;
  readonly units: {
    readonly events: string;
    readonly minutes: string;
    readonly min: string;
    readonly h: string;
    readonly d: string;
    readonly s: string;
  };
}

export const REPORT_TEXT: Record<ReportLanguage, ReportText> = {
  en: {
    title: (product, month) => `Reliability report: ${product}, ${month}`,
    meta: (zone, services, generated) => `Time zone ${zone} · services: ${services} · generated ${generated}`,
    verdict: 'Verdict',
    verdictColumns: ['SLO', 'Target', 'Attainment', 'Verdict', 'Budget consumed', 'Policy step'],
    met: 'met',
    missed: 'missed',
    noData: 'no data',
    todo: 'What to do this month',
    nothingToDo: 'Nothing: every SLO is within its budget and nothing is overdue.',
    policyTodo: (slo, action, gate) => `${slo}: ${action} (deploy gate: ${gate})`,
    overdueTodo: (title, priority, due) => `Overdue action item (${priority}, due ${due}): ${title}`,
    riskTodo: (risk, share) => `Risk too big: ${risk} takes ${share} of its SLO's yearly budget`,
    noisyTodo: (slo, rule, share) => `Noisy alert: ${slo} ${rule} (${share} marked noise)`,
    gates: { allow: 'allow', warn: 'warn', deny: 'deny' },
    trend: 'Trend (last 6 months)',
    trendColumns: ['Month', 'SLO', 'Attainment', 'Budget consumed'],
    incidents: 'Incidents',
    incidentColumns: ['Incident', 'Title', 'Severity', 'Started', 'Duration', 'Budget impact', 'Postmortem'],
    noIncidents: 'No incident started this month.',
    ongoing: 'ongoing',
    postmortemNone: 'none',
    actionItems: 'Action items',
    actionItemColumns: ['Priority', 'Opened', 'Closed', 'Overdue'],
    risks: 'Risks',
    riskColumns: ['Risk', 'Service', 'SLO', 'Bad minutes a year', 'Yearly budget (min)', 'Share', 'Too big'],
    noRisks: 'No risk is recorded for these services.',
    yes: 'yes',
    no: 'no',
    alerts: 'Alerts',
    alertColumns: ['Week of', 'Pages', 'Tickets'],
    noiseShare: (share) => `Marked noise: ${share}`,
    medianDetection: (duration) => `Median time to detect a significant burn: ${duration}`,
    delivery: 'Delivery',
    noDeployments: 'No deployment was recorded this month.',
    deliveryColumns: ['Metric', 'Value', 'Level'],
    deliveryMetrics: {
      deploymentFrequency: 'Deployments',
      leadTime: 'Change lead time (median)',
      changeFailRate: 'Change fail rate',
      recoveryTime: 'Failed deployment recovery time (median)',
      reworkRate: 'Deployment rework rate',
    },
    benchmark: (year) => `Levels against the DORA benchmarks of ${year}.`,
    levels: { elite: 'Elite', high: 'High', medium: 'Medium', low: 'Low' },
    units: { events: 'events', minutes: 'min', min: 'min', h: 'h', d: 'd', s: 's' },
  },
  ja: {
    title: (product, month) => `信頼性レポート: ${product}(${month})`,
    meta: (zone, services, generated) => `タイムゾーン ${zone} · サービス: ${services} · 作成 ${generated}`,
    verdict: '判定',
    verdictColumns: ['SLO', '目標', '達成率', '判定', 'エラーバジェット消費', 'ポリシーの段階'],
    met: '達成',
    missed: '未達',
    noData: 'データなし',
    todo: '今月やること',
    nothingToDo: 'なし: すべての SLO がバジェット内で、期限切れの項目もありません。',
    policyTodo: (slo, action, gate) => `${slo}: ${action}(デプロイゲート: ${gate})`,
    overdueTodo: (title, priority, due) => `期限切れのアクションアイテム(${priority}、期限 ${due}): ${title}`,
    riskTodo: (risk, share) => `大きすぎるリスク: ${risk} が SLO の年間バジェットの ${share} を消費`,
    noisyTodo: (slo, rule, share) => `ノイズの多いアラート: ${slo} ${rule}(${share} がノイズ判定)`,
    gates: { allow: '許可', warn: '警告', deny: '拒否' },
    trend: '推移(過去 6 か月)',
    trendColumns: ['月', 'SLO', '達成率', 'エラーバジェット消費'],
    incidents: 'インシデント',
    incidentColumns: [
      'インシデント',
      'タイトル',
      '重大度',
      '開始',
      '継続時間',
      'バジェットへの影響',
      'ポストモーテム',
    ],
    noIncidents: '今月開始したインシデントはありません。',
    ongoing: '継続中',
    postmortemNone: 'なし',
    actionItems: 'アクションアイテム',
    actionItemColumns: ['優先度', '作成', '完了', '期限切れ'],
    risks: 'リスク',
    riskColumns: ['リスク', 'サービス', 'SLO', '年間の悪い分数', '年間バジェット(分)', '割合', '大きすぎる'],
    noRisks: 'これらのサービスのリスクは登録されていません。',
    yes: 'はい',
    no: 'いいえ',
    alerts: 'アラート',
    alertColumns: ['週の初日', 'ページ', 'チケット'],
    noiseShare: (share) => `ノイズ判定の割合: ${share}`,
    medianDetection: (duration) => `重大なバーンの検知までの時間(中央値): ${duration}`,
    delivery: 'デリバリー',
    noDeployments: '今月記録されたデプロイはありません。',
    deliveryColumns: ['指標', '値', 'レベル'],
    deliveryMetrics: {
      deploymentFrequency: 'デプロイ数',
      leadTime: '変更のリードタイム(中央値)',
      changeFailRate: '変更失敗率',
      recoveryTime: '失敗デプロイからの復旧時間(中央値)',
      reworkRate: 'デプロイの手戻り率',
    },
    benchmark: (year) => `レベルは DORA ${year} 年のベンチマークによる。`,
    levels: { elite: 'エリート', high: '高', medium: '中', low: '低' },
    units: { events: 'イベント', minutes: '分', min: '分', h: '時間', d: '日', s: '秒' },
  },
};
