/**
 * Risks and the deploy gate on one screen: each service's gate answer, the risk catalog ranked
 * against the yearly error budgets, each SLO's total, the reliability backlog (with CSV and
 * markdown exports) and the calibration from incidents — all as the server computes them.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import {
  ApiError,
  api,
  apiFile,
  type GateAnswer,
  type RiskAnalysis,
  type RiskCalibration,
  type RiskEstimate,
  type RiskRow,
  type Service,
  type ServiceBacklog,
  saveBlob,
} from '../api';
import { ErrorNotice, Loading } from '../components/common';
import { OtherTeamNotice } from '../components/TeamNotice';
import { dateTime, days, minutes, nines, number, percent, relative } from '../format';
import {
  type BacklogFormat,
  backlogFile,
  changedByFactors,
  decisionTone,
  gateBadge,
  gateServices,
  serviceChoices,
  shareWidth,
  sloHref,
  specUpdateFields,
  type Tone,
} from '../risks';
import { Link, navigate, useLocation } from '../router';
import { useOwnedElsewhere, useShowsWrites } from '../whoami';

const GATE_ICON: Record<Tone, string> = { green: '✓', amber: '!', red: '✕' };

/** A 404 from a server that does not have this endpoint yet. */
function missing(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}

export function RisksPage() {
  const { t } = useTranslation();
  const { search } = useLocation();
  const service = search.get('service') ?? '';
  const q = serviceQuery(service);

  const services = useQuery({ queryKey: ['services'], queryFn: () => api<Service[]>('/api/v1/services') });
  const risks = useQuery({
    queryKey: ['risks', service],
    queryFn: () => api<RiskAnalysis>(`/api/v1/risks${q}`),
  });
  // Every risk's service, for the filter, whatever the filter is now.
  const allRisks = useQuery({
    queryKey: ['risks', ''],
    queryFn: () => api<RiskAnalysis>('/api/v1/risks'),
  });

  const setService = (value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set('service', value);
    else next.delete('service');
    const query = next.toString();
    navigate(query ? `/risks?${query}` : '/risks', { replace: true });
  };
  const choices = serviceChoices(
    services.data ?? [],
    (allRisks.data?.risks ?? []).map((r) => r.service),
  );
  const displayName = (name: string) => services.data?.find((s) => s.name === name)?.displayName ?? name;
  // One service another team owns: its risks are read-only for a team-scoped editor.
  const owned = useOwnedElsewhere({ services: service ? [service] : [], slos: [] });

  return (
    <section>
      <h1>{t('risks.title')}</h1>
      <p className="muted">{t('risks.intro')}</p>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={t('overview.filters')}>
        <label>
          {t('overview.filter.service')}
          <select value={service} onChange={(e) => setService(e.target.value)} name="service">
            <option value="">{t('overview.filter.all')}</option>
            {choices.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
      </form>
      <OtherTeamNotice owned={owned} />

      <h2>{t('risks.gate.title')}</h2>
      <ErrorNotice error={services.error} />
      {services.isPending ? (
        <Loading />
      ) : (
        <div className="gates">
          {gateServices(services.data ?? [], service).map((name) => (
            <GateCard key={name} service={name} title={displayName(name)} />
          ))}
        </div>
      )}

      <h2>{t('risks.catalog.title')}</h2>
      {missing(risks.error) ? (
        <p className="muted">{t('common.notAvailable')}</p>
      ) : (
        <ErrorNotice error={risks.error} />
      )}
      {risks.isPending ? <Loading /> : risks.data && <Catalog analysis={risks.data} />}

      <Backlog service={service} />
      <Calibration service={service} risks={allRisks.data?.risks ?? []} />
    </section>
  );
}

function GateCard({ service, title }: { service: string; title: string }) {
  const { t } = useTranslation();
  const gate = useQuery({
    queryKey: ['gate', service],
    queryFn: () => api<GateAnswer>(`/api/v1/gate?service=${encodeURIComponent(service)}`),
  });
  const answer = gate.data;
  const badge = answer && gateBadge(answer);
  return (
    <article
      className={`gate${badge ? ` gate-${badge.tone}` : ''}`}
      data-testid={`gate-${service}`}
      data-decision={answer?.decision}
      aria-labelledby={`gate-title-${service}`}
    >
      <h3 id={`gate-title-${service}`}>{title}</h3>
      <ErrorNotice error={gate.error} />
      {gate.isPending && <Loading />}
      {answer && badge && (
        <>
          <p className={`gate-badge badge-${badge.tone}`} data-field="gate-badge">
            <span className="gate-icon" aria-hidden="true">
              {GATE_ICON[badge.tone]}
            </span>
            <span data-field="gate-label">{t(`risks.gate.badge.${badge.label}`)}</span>
          </p>
          {answer.override && (
            <p className="notice warn" data-testid={`override-${service}`}>
              {t('risks.gate.override', {
                by: answer.override.createdBy,
                until: dateTime(answer.override.expiresAt),
                relative: relative(answer.override.expiresAt),
                reason: answer.override.reason,
              })}{' '}
              {t('risks.gate.policySays', { decision: t(`risks.gate.decision.${answer.policyDecision}`) })}
            </p>
          )}
          {answer.reasons.length === 0 ? (
            <p className="muted small">{t('risks.gate.noSlos')}</p>
          ) : (
            <table className="compact">
              <caption className="visually-hidden">{t('risks.gate.caption', { service: title })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('risks.col.slo')}</th>
                  <th scope="col">{t('risks.gate.answer')}</th>
                  <th scope="col">{t('risks.gate.budgetLeft')}</th>
                  <th scope="col">{t('risks.gate.step')}</th>
                </tr>
              </thead>
              <tbody>
                {answer.reasons.map((r) => (
                  <tr key={r.slo} data-slo={r.slo}>
                    <th scope="row">
                      <Link href={sloHref(r.slo)}>{r.slo}</Link>
                    </th>
                    <td>
                      <span className={`pill pill-${decisionTone(r.decision)}`} data-field="decision">
                        {t(`risks.gate.decision.${r.decision}`)}
                      </span>
                    </td>
                    <td data-field="remaining">
                      {r.remaining === null ? t('risks.gate.noData') : percent(r.remaining)}
                    </td>
                    <td>
                      {r.step
                        ? t('risks.gate.stepText', {
                            below: percent(r.step.below, 1, 0),
                            action: r.step.action,
                          })
                        : t(`risks.gate.basis.${r.basis}`)}
                      {r.doubt && (
                        <div className="muted small" data-field="doubt">
                          {t(`risks.gate.doubt.${r.doubt}`)}
                        </div>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <p className="muted small">{t('risks.gate.at', { time: dateTime(answer.at) })}</p>
        </>
      )}
    </article>
  );
}

/** A share of a yearly budget: a bar that repeats its number in text. */
function ShareBar({ share, over, label }: { share: number; over: boolean; label?: string }) {
  return (
    <span className="budget share">
      <span className="bar" aria-hidden="true">
        <span
          className={`fill ${over ? 'fill-red' : 'fill-neutral'}`}
          style={{ width: `${shareWidth(share)}%` }}
        />
      </span>
      <span className="num" data-field="share">
        {percent(share)}
      </span>
      {label && <span className="muted small">{label}</span>}
    </span>
  );
}

/** An estimate with the factors applied, and the written value beside it when a factor changed it. */
function Estimate({
  field,
  risk,
  format,
}: {
  field: keyof RiskEstimate;
  risk: RiskRow;
  format: (value: number) => string;
}) {
  const { t } = useTranslation();
  const changed = changedByFactors(risk.estimate, risk.effective).has(field);
  return (
    <td data-field={field} className="nowrap">
      {format(risk.effective[field])}
      {changed && (
        <div className="muted small" data-field={`${field}-written`}>
          {t('risks.catalog.written', { value: format(risk.estimate[field]) })}
        </div>
      )}
    </td>
  );
}

function Catalog({ analysis }: { analysis: RiskAnalysis }) {
  const { t } = useTranslation();
  const tooBig = percent(analysis.tooBigShare, 1, 0);
  if (analysis.risks.length === 0) return <p className="muted">{t('risks.catalog.none')}</p>;
  return (
    <>
      <div className="table-wrap">
        <table data-testid="risk-table">
          <caption className="visually-hidden">{t('risks.catalog.caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('risks.col.rank')}</th>
              <th scope="col">{t('risks.col.risk')}</th>
              <th scope="col">{t('risks.col.service')}</th>
              <th scope="col">{t('risks.col.status')}</th>
              <th scope="col">
                <abbr title={t('risks.col.ettdLong')}>{t('risks.col.ettd')}</abbr>
              </th>
              <th scope="col">
                <abbr title={t('risks.col.ettrLong')}>{t('risks.col.ettr')}</abbr>
              </th>
              <th scope="col">{t('risks.col.impact')}</th>
              <th scope="col">
                <abbr title={t('risks.col.ettfLong')}>{t('risks.col.ettf')}</abbr>
              </th>
              <th scope="col">{t('risks.col.incidentsPerYear')}</th>
              <th scope="col">{t('risks.col.badMinutes')}</th>
              <th scope="col">{t('risks.col.share')}</th>
              <th scope="col">{t('risks.col.tooBig', { share: tooBig })}</th>
            </tr>
          </thead>
          <tbody>
            {analysis.risks.map((r, i) => (
              <tr
                key={r.name}
                data-risk={r.name}
                className={r.tooBig ? 'row-red' : r.status === 'mitigated' ? 'mitigated' : undefined}
              >
                <td data-field="rank">{i + 1}</td>
                <th scope="row">
                  <span data-field="name">{r.name}</span>
                  {r.description && <div className="muted small">{r.description}</div>}
                  {r.actionItems && r.actionItems.length > 0 && (
                    <ul className="linked small" aria-label={t('risks.catalog.actionItems')}>
                      {r.actionItems.map((a) => (
                        <li key={a.id}>
                          <Link href={`/postmortems/${encodeURIComponent(a.postmortemId)}`}>{a.title}</Link>{' '}
                          <span className="muted">
                            {a.savedMinutesPerYear === null
                              ? t('risks.catalog.actionItemNotEstimated', {
                                  priority: a.priority,
                                  status: t(`actionItems.statuses.${a.status}`, { defaultValue: a.status }),
                                })
                              : t('risks.catalog.actionItem', {
                                  priority: a.priority,
                                  status: t(`actionItems.statuses.${a.status}`, { defaultValue: a.status }),
                                  saved: number(a.savedMinutesPerYear, 1),
                                })}
                          </span>
                        </li>
                      ))}
                    </ul>
                  )}
                  {r.factors.length > 0 && (
                    <div className="small">
                      {t('risks.catalog.factors')}{' '}
                      {r.factors.map((f) => (
                        <span key={f} className="pill pill-grey">
                          {f}
                        </span>
                      ))}
                    </div>
                  )}
                </th>
                <td>{r.service}</td>
                <td>{t(`risks.status.${r.status}`)}</td>
                <Estimate field="ettdMinutes" risk={r} format={(v) => minutes(v)} />
                <Estimate field="ettrMinutes" risk={r} format={(v) => minutes(v)} />
                <Estimate field="impact" risk={r} format={(v) => percent(v, 1, 0)} />
                <Estimate field="ettfDays" risk={r} format={(v) => days(v)} />
                <td data-field="incidents-per-year">{number(r.incidentsPerYear)}</td>
                <td data-field="bad-minutes">{number(r.badMinutesPerYear, 1)}</td>
                <td>
                  {r.shares.length === 0 ? (
                    <span className="muted">{t('risks.catalog.noSlo')}</span>
                  ) : (
                    <ul className="shares">
                      {r.shares.map((s) => (
                        <li key={s.slo} data-slo={s.slo}>
                          <ShareBar
                            share={s.share}
                            over={s.tooBig}
                            label={r.shares.length > 1 ? s.slo : undefined}
                          />
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td data-field="too-big">
                  {r.tooBig ? (
                    <span className="pill pill-red">{t('risks.catalog.tooBig')}</span>
                  ) : (
                    <span className="muted">{t('risks.catalog.notTooBig')}</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="muted small" data-testid="risk-formulas">
        {t('risks.catalog.formulas', { tooBig })}
      </p>

      <h3>{t('risks.slos.title')}</h3>
      {analysis.slos.length === 0 ? (
        <p className="muted">{t('risks.slos.none')}</p>
      ) : (
        <div className="table-wrap">
          <table data-testid="risk-slos">
            <caption className="visually-hidden">{t('risks.slos.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('risks.col.slo')}</th>
                <th scope="col">{t('risks.col.service')}</th>
                <th scope="col">{t('risks.slos.target')}</th>
                <th scope="col">{t('risks.slos.yearlyBudget')}</th>
                <th scope="col">{t('risks.slos.risks')}</th>
                <th scope="col">{t('risks.col.badMinutes')}</th>
                <th scope="col">{t('risks.slos.share')}</th>
                <th scope="col">{t('risks.slos.verdict')}</th>
              </tr>
            </thead>
            <tbody>
              {analysis.slos.map((s) => (
                <tr key={s.slo} data-slo={s.slo} className={s.achievable ? undefined : 'row-red'}>
                  <th scope="row">
                    <Link href={sloHref(s.slo)}>{s.slo}</Link>
                  </th>
                  <td>{s.service}</td>
                  <td data-field="target">{nines(s.target)}</td>
                  <td data-field="yearly-budget">{minutes(s.yearlyBudgetMinutes)}</td>
                  <td>{s.risks.join(', ')}</td>
                  <td data-field="bad-minutes">{number(s.badMinutesPerYear, 1)}</td>
                  <td>
                    <ShareBar share={s.share} over={!s.achievable} />
                  </td>
                  <td data-field="verdict">
                    {s.achievable ? (
                      <span className="ok">{t('risks.slos.achievable')}</span>
                    ) : (
                      <span className="pill pill-red">{t('risks.slos.notAchievable')}</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function Backlog({ service }: { service: string }) {
  const { t } = useTranslation();
  const q = serviceQuery(service);
  const backlog = useQuery({
    queryKey: ['backlog', service],
    queryFn: () => api<ServiceBacklog[]>(`/api/v1/backlog${q}`),
  });
  const [downloadError, setDownloadError] = useState<unknown>(null);
  const download = async (format: BacklogFormat) => {
    const file = backlogFile(format, service);
    setDownloadError(null);
    try {
      saveBlob(await apiFile(file.path), file.fileName);
    } catch (error) {
      setDownloadError(error);
    }
  };
  const groups = backlog.data ?? [];
  return (
    <>
      <h2>{t('risks.backlog.title')}</h2>
      <p className="muted small">{t('risks.backlog.intro')}</p>
      <div className="row">
        <button type="button" onClick={() => void download('csv')}>
          {t('risks.backlog.downloadCsv')}
        </button>
        <button type="button" onClick={() => void download('markdown')}>
          {t('risks.backlog.downloadMarkdown')}
        </button>
      </div>
      <ErrorNotice error={downloadError} />
      {missing(backlog.error) ? (
        <p className="muted">{t('common.notAvailable')}</p>
      ) : (
        <ErrorNotice error={backlog.error} />
      )}
      {backlog.isPending ? (
        <Loading />
      ) : groups.length === 0 ? (
        !backlog.error && <p className="muted">{t('risks.backlog.none')}</p>
      ) : (
        groups.map((g) => (
          <div className="table-wrap" key={g.service}>
            <table data-testid={`backlog-${g.service}`} className="backlog">
              <caption>{t('risks.backlog.caption', { service: g.service })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('risks.col.rank')}</th>
                  <th scope="col">{t('risks.backlog.kind')}</th>
                  <th scope="col">{t('risks.backlog.what')}</th>
                  <th scope="col">{t('risks.col.risk')}</th>
                  <th scope="col">{t('actionItems.priority')}</th>
                  <th scope="col">{t('actionItems.owner')}</th>
                  <th scope="col">{t('actionItems.due')}</th>
                  <th scope="col">{t('risks.backlog.saved')}</th>
                </tr>
              </thead>
              <tbody>
                {g.entries.map((e, i) => (
                  <tr key={`${e.kind}-${e.actionItem ?? e.risk ?? e.title}`} data-kind={e.kind}>
                    <td>{i + 1}</td>
                    <td>{t(`risks.backlog.kinds.${e.kind}`)}</td>
                    <td data-field="title">{e.title}</td>
                    <td>{e.risk ?? '—'}</td>
                    <td>{e.priority ?? '—'}</td>
                    <td>{e.owner ?? '—'}</td>
                    <td>{e.dueDate ?? '—'}</td>
                    <td data-field="saved">
                      {e.savedMinutesPerYear === null
                        ? t('risks.backlog.notEstimated')
                        : number(e.savedMinutesPerYear, 1)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))
      )}
    </>
  );
}

function Calibration({ service, risks }: { service: string; risks: RiskAnalysis['risks'] }) {
  const { t } = useTranslation();
  const q = serviceQuery(service);
  const writtenAt = new Map(risks.map((r) => [r.name, r]));
  const calibration = useQuery({
    queryKey: ['calibration', service],
    queryFn: () => api<RiskCalibration[]>(`/api/v1/risks/calibration${q}`),
  });
  // Shown only when some risk has incidents; a server without the endpoint shows nothing either.
  if (missing(calibration.error) || !calibration.data?.length)
    return calibration.error && !missing(calibration.error) ? (
      <ErrorNotice error={calibration.error} />
    ) : null;
  return (
    <>
      <h2>{t('risks.calibration.title')}</h2>
      <p className="muted small">{t('risks.calibration.intro')}</p>
      {calibration.data.map((c) => (
        <article key={c.risk} className="calibration" data-testid={`calibration-${c.risk}`}>
          <h3>
            {c.risk} <span className="muted small">({c.service})</span>
          </h3>
          <p className="small">
            {t('risks.calibration.incidents')}{' '}
            {c.incidents.map((ref) => (
              <Link key={ref} href={`/incidents/${encodeURIComponent(ref)}`} className="tag">
                {ref}
              </Link>
            ))}
          </p>
          <table className="compact">
            <caption className="visually-hidden">{t('risks.calibration.caption', { risk: c.risk })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('risks.calibration.figure')}</th>
                <th scope="col">{t('risks.calibration.estimate')}</th>
                <th scope="col">{t('risks.calibration.measured')}</th>
              </tr>
            </thead>
            <tbody>
              {(
                [
                  ['ttd', minutes(c.estimate.ettdMinutes), c.measured.ttdMinutes, minutes, 'notMeasured'],
                  ['ttr', minutes(c.estimate.ettrMinutes), c.measured.ttrMinutes, minutes, 'notMeasured'],
                  ['tbf', days(c.estimate.ettfDays), c.measured.tbfDays, days, 'needsTwo'],
                ] as const
              ).map(([field, estimate, measured, format, otherwise]) => (
                <tr key={field}>
                  <th scope="row">{t(`risks.calibration.${field}`)}</th>
                  <td>{estimate}</td>
                  <td data-field={field}>
                    {measuredOr(measured, format, t(`risks.calibration.${otherwise}`))}
                  </td>
                </tr>
              ))}
              <tr>
                <th scope="row">{t('risks.col.badMinutes')}</th>
                <td>{number(c.badMinutesPerYear.estimated, 1)}</td>
                <td data-field="bad-minutes">{number(c.badMinutesPerYear.measured, 1)}</td>
              </tr>
            </tbody>
          </table>
          {c.specUpdate ? (
            writtenAt.get(c.risk)?.managed ? (
              <ApplyCalibration risk={c.risk} service={c.service} specUpdate={c.specUpdate} />
            ) : (
              <>
                <p className="small">
                  {t('risks.calibration.paste')}
                  {writtenAt.get(c.risk)?.source && (
                    <>
                      {' '}
                      <code>{writtenAt.get(c.risk)?.source}</code>
                    </>
                  )}
                </p>
                <pre className="yaml" data-field="spec-update">
                  {c.specUpdate}
                </pre>
              </>
            )
          ) : (
            <p className="muted small">{t('risks.calibration.noChange')}</p>
          )}
        </article>
      ))}
    </>
  );
}

/** A risk the API manages takes the measured estimate in one click (an editor's PATCH). */
function ApplyCalibration({
  risk,
  service,
  specUpdate,
}: {
  risk: string;
  service: string;
  specUpdate: string;
}) {
  const { t } = useTranslation();
  const showsWrites = useShowsWrites();
  const owned = useOwnedElsewhere({ services: [service], slos: [] });
  const client = useQueryClient();
  const apply = useMutation({
    mutationFn: () =>
      api(`/api/v1/risks/${encodeURIComponent(risk)}`, {
        method: 'PATCH',
        body: specUpdateFields(specUpdate),
      }),
    onSuccess: () => {
      for (const key of ['risks', 'calibration', 'backlog'])
        void client.invalidateQueries({ queryKey: [key] });
    },
  });
  return (
    <>
      <p className="small">{t('risks.calibration.applyIntro')}</p>
      <pre className="yaml" data-field="spec-update">
        {specUpdate}
      </pre>
      <OtherTeamNotice owned={owned} inline />
      {showsWrites && !owned.length && (
        <button type="button" onClick={() => apply.mutate()} disabled={apply.isPending}>
          {t('risks.calibration.apply')}
        </button>
      )}
      {apply.isSuccess && (
        <span className="ok" role="status">
          {' '}
          {t('risks.calibration.applied')}
        </span>
      )}
      <ErrorNotice error={apply.error} />
    </>
  );
}

function measuredOr(value: number | null, format: (v: number) => string, otherwise: string): string {
  return value === null ? otherwise : format(value);
}

/** `?service=…` for the risk endpoints, or nothing for every service. */
function serviceQuery(service: string): string {
  return service ? `?service=${encodeURIComponent(service)}` : '';
}
