/**
 * `shinrai incident declare|list|update|note|catch-up|postmortem|cause|suspects`: incidents through a running
 * server's API, so the CLI and the web UI see the same incidents (`--server`, `--token`, or
 * SHINRAI_URL, SHINRAI_TOKEN). Catch-up summaries and postmortem drafts come in English or
 * Japanese (`--lang ja`). `cause` confirms the deployment or commit that caused an incident (what the
 * change fail rate counts); `suspects` lists the deployments Shinrai suggests.
 */
import type { Command } from 'commander';
import { STATUSES, WRITE_UP_LANGUAGES, type WriteUpLanguage } from '../../incidents/index.js';
import { call, type ServerFlags, withServerFlags } from '../api-client.js';
import { table } from '../format.js';
import { CliError, type CliIo } from '../io.js';
import type { DeploymentView } from './deploy.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function writeUpLanguage(lang: string): WriteUpLanguage {
  if (!(WRITE_UP_LANGUAGES as readonly string[]).includes(lang))
    throw new CliError(`--lang must be ${WRITE_UP_LANGUAGES.join(' or ')}`, 2);
  return lang as WriteUpLanguage;
}

interface IncidentView {
  reference: string;
  causedBy?: { deployment?: string; commit?: string; confirmedBy?: string; confirmedAt?: string };
  title: string;
  severity: string;
  status: string;
  services: string[];
  createdAt: string;
}

export function registerIncident(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const incident = program
    .command('incident')
    .description('declare and work incidents through the server API');

  withServerFlags(
    incident
      .command('declare')
      .description('declare an incident; prints its reference')
      .requiredOption('--title <title>', 'what is wrong, for people')
      .requiredOption('--severity <severity>', "one of the server's severities (default scale SEV1–SEV4)")
      .option('--service <name>', 'an affected service (repeatable)', collect)
      .option('--slo <id>', 'an affected SLO (repeatable)', collect)
      .option('--summary <text>', 'what is known so far')
      .option('--runbook <url>', 'a runbook link, http(s) (repeatable)', collect)
      .option('--drill', 'a drill, not a real incident'),
  ).action(
    async (
      flags: ServerFlags & {
        title: string;
        severity: string;
        service?: string[];
        slo?: string[];
        summary?: string;
        runbook?: string[];
        drill?: boolean;
      },
    ) => {
      const created = (await call(flags, 'POST', '/api/v1/incidents', {
        runbooks: flags.runbook,
        title: flags.title,
        severity: flags.severity,
        services: flags.service,
        slos: flags.slo,
        summary: flags.summary,
        drill: flags.drill,
      })) as IncidentView;
      io.out(flags.json ? JSON.stringify(created, null, 2) : created.reference);
      setExit(0);
    },
  );

  withServerFlags(
    incident.command('list').description('incidents, newest first').option('--open', 'only open incidents'),
  ).action(async (flags: ServerFlags & { open?: boolean }) => {
    const incidents = (await call(
      flags,
      'GET',
      `/api/v1/incidents?state=${flags.open ? 'open' : 'all'}`,
    )) as IncidentView[];
    io.out(
      flags.json
        ? JSON.stringify(incidents, null, 2)
        : table(
            ['REF', 'SEVERITY', 'STATUS', 'TITLE', 'SERVICES', 'DECLARED'],
            incidents.map((i) => [
              i.reference,
              i.severity,
              i.status,
              i.title,
              i.services.join(','),
              i.createdAt,
            ]),
          ),
    );
    setExit(0);
  });

  withServerFlags(
    incident
      .command('update')
      .description('change an incident’s status or severity')
      .argument('<ref>', 'INC-42')
      .option('--status <status>', STATUSES.join(', '))
      .option('--severity <severity>', "one of the server's severities (default scale SEV1–SEV4)"),
  ).action(async (ref: string, flags: ServerFlags & { status?: string; severity?: string }) => {
    if (!flags.status && !flags.severity) throw new CliError('give --status and/or --severity', 2);
    const updated = (await call(flags, 'PATCH', `/api/v1/incidents/${encodeURIComponent(ref)}`, {
      status: flags.status,
      severity: flags.severity,
    })) as IncidentView;
    io.out(
      flags.json
        ? JSON.stringify(updated, null, 2)
        : `${updated.reference} ${updated.severity} ${updated.status}`,
    );
    setExit(0);
  });

  withServerFlags(
    incident
      .command('note')
      .description('add a note to the timeline')
      .argument('<ref>', 'INC-42')
      .argument('<text>', 'the note')
      .option('--star', 'star it (postmortem timeline)')
      .option('--public', 'show it on the status page'),
  ).action(async (ref: string, text: string, flags: ServerFlags & { star?: boolean; public?: boolean }) => {
    await call(flags, 'POST', `/api/v1/incidents/${encodeURIComponent(ref)}/notes`, {
      text,
      starred: flags.star,
      public: flags.public,
    });
    io.out(`noted on ${ref}`);
    setExit(0);
  });

  withServerFlags(
    incident
      .command('catch-up')
      .description(
        'the catch-up summary for someone joining late (reworded by the server’s LLM when it has one)',
      )
      .argument('<ref>', 'INC-42')
      .option('--lang <lang>', 'en or ja', 'en'),
  ).action(async (ref: string, flags: ServerFlags & { lang: string }) => {
    const lang = writeUpLanguage(flags.lang);
    const answer = (await call(
      flags,
      'GET',
      `/api/v1/incidents/${encodeURIComponent(ref)}/catch-up?lang=${lang}`,
    )) as { text: string; llmError?: string };
    io.out(flags.json ? JSON.stringify(answer, null, 2) : answer.text);
    if (!flags.json && answer.llmError) io.err(`the summary without LLM wording: ${answer.llmError}`);
    setExit(0);
  });

  withServerFlags(
    incident
      .command('postmortem')
      .description('draft a postmortem of the incident (and others with --also); prints its markdown')
      .argument('<ref>', 'INC-42')
      .option('--also <ref>', 'another incident the postmortem covers (repeatable)', collect)
      .option('--lang <lang>', 'en or ja', 'en'),
  ).action(async (ref: string, flags: ServerFlags & { also?: string[]; lang: string }) => {
    const lang = writeUpLanguage(flags.lang);
    const created = (await call(
      flags,
      'POST',
      `/api/v1/incidents/${encodeURIComponent(ref)}/postmortem?lang=${lang}`,
      flags.also ? { alsoCovers: flags.also } : undefined,
    )) as { id: string; markdown: string };
    // The markdown alone on stdout (redirect it to a file); where to edit it on stderr.
    io.out(flags.json ? JSON.stringify(created, null, 2) : created.markdown);
    if (!flags.json)
      io.err(`drafted postmortem ${created.id}: edit it at /postmortems/${created.id} in the web UI`);
    setExit(0);
  });
  withServerFlags(
    incident
      .command('cause')
      .description('confirm what caused an incident: a deployment or a commit (or --clear the link)')
      .argument('<ref>', 'INC-42')
      .option('--deployment <id>', 'the deployment that caused it (see `shinrai incident suspects`)')
      .option('--commit <sha>', 'the commit that caused it (its first production deployment counts)')
      .option('--clear', 'remove the confirmed cause'),
  ).action(
    async (ref: string, flags: ServerFlags & { deployment?: string; commit?: string; clear?: boolean }) => {
      const given = [flags.deployment !== undefined, flags.commit !== undefined, flags.clear === true];
      if (given.filter(Boolean).length !== 1)
        throw new CliError('give exactly one of --deployment <id>, --commit <sha> or --clear', 2);
      if (flags.commit !== undefined && !/^[0-9a-f]{4,64}$/i.test(flags.commit))
        throw new CliError(`--commit "${flags.commit}" is not a commit hash (4 to 64 hex digits)`, 2);
      if (flags.deployment !== undefined && flags.deployment.trim() === '')
        throw new CliError('--deployment must name a deployment id', 2);
      const causedBy = flags.clear
        ? null
        : flags.deployment !== undefined
          ? { deployment: flags.deployment }
          : { commit: flags.commit!.toLowerCase() };
      const updated = (await call(flags, 'PATCH', `/api/v1/incidents/${encodeURIComponent(ref)}`, {
        causedBy,
      })) as IncidentView;
      const cause = updated.causedBy;
      io.out(
        flags.json
          ? JSON.stringify(updated, null, 2)
          : cause?.deployment
            ? `${updated.reference} caused by deployment ${cause.deployment}`
            : cause?.commit
              ? `${updated.reference} caused by commit ${cause.commit}`
              : `${updated.reference}: no confirmed cause`,
      );
      setExit(0);
    },
  );

  withServerFlags(
    incident
      .command('suspects')
      .description('deployments that may have caused an incident (confirm one with `incident cause`)')
      .argument('<ref>', 'INC-42'),
  ).action(async (ref: string, flags: ServerFlags) => {
    const answer = (await call(flags, 'GET', `/api/v1/incidents/${encodeURIComponent(ref)}/suspects`)) as {
      suspects: Array<DeploymentView & { reason: string }>;
    };
    io.out(
      flags.json
        ? JSON.stringify(answer, null, 2)
        : answer.suspects.length === 0
          ? `no suspect deployments for ${ref}`
          : table(
              ['DEPLOYMENT', 'SERVICE', 'ENV', 'FINISHED', 'VERSION', 'SHA', 'STATUS', 'REASON'],
              answer.suspects.map((d) => [
                d.id,
                d.service,
                d.environment,
                d.finishedAt,
                d.version ?? '',
                d.headSha?.slice(0, 12) ?? '',
                d.status,
                d.reason,
              ]),
            ),
    );
    setExit(0);
  });
}
