/**
 * Links people follow from Shinrai (runbooks, tickets) are rendered as links in the UI, the
 * postmortem and the status page, so only http(s) URLs are kept: a `javascript:` or `data:` URL
 * from a spec or an alert annotation must never become a link.
 */
import { z } from 'zod';

/** An http(s) URL, for request schemas. */
export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2000);

export function isHttpUrl(text: string | undefined | null): text is string {
  if (!text) return false;
  return httpUrl.safeParse(text).success;
}

/** The http(s) URLs among `candidates`, once each, in order. */
export function httpUrls(candidates: ReadonlyArray<string | undefined | null>): string[] {
  return [...new Set(candidates.filter(isHttpUrl))];
}
