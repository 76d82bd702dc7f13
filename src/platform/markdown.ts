/**
 * Markdown to HTML that is safe to serve (postmortems, incident notes): `marked` renders,
 * `sanitize-html` keeps only formatting tags and http(s)/mailto links — no scripts, event
 * handlers, styles, iframes or `javascript:` URLs survive.
 */
import { Marked } from 'marked';
import sanitizeHtml from 'sanitize-html';

const marked = new Marked({ gfm: true, async: false });

const ALLOWED: sanitizeHtml.IOptions = {
  allowedTags: [
    'h1',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'p',
    'br',
    'hr',
    'blockquote',
    'pre',
    'code',
    'em',
    'strong',
    'del',
    'ul',
    'ol',
    'li',
    'a',
    'table',
    'thead',
    'tbody',
    'tr',
    'th',
    'td',
    'input',
  ],
  allowedAttributes: {
    a: ['href', 'title'],
    input: ['type', 'checked', 'disabled'],
    th: ['align'],
    td: ['align'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowProtocolRelative: false,
  // Links leave the page without handing it over.
  transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: 'noopener noreferrer nofollow' }) },
};

export function renderMarkdown(markdown: string): string {
  return sanitizeHtml(marked.parse(markdown) as string, {
    ...ALLOWED,
    allowedAttributes: { ...ALLOWED.allowedAttributes, a: ['href', 'title', 'rel'] },
  });
}

// sanitize-html re-escapes exactly these in text; everything else it already decoded.
const TEXT_ENTITIES: ReadonlyArray<[RegExp, string]> = [
  [/&lt;/g, '<'],
  [/&gt;/g, '>'],
  [/&quot;/g, '"'],
  [/&amp;/g, '&'],
];

/**
 * Markdown as plain text, for readers that show no HTML (feeds, chat, a JSON consumer): the text
 * of the sanitised rendering, so nothing a sanitiser drops (a script's body, raw HTML) survives.
 */
export function markdownToText(markdown: string): string {
  const text = sanitizeHtml(renderMarkdown(markdown), { allowedTags: [], allowedAttributes: {} });
  return TEXT_ENTITIES.reduce((out, [entity, char]) => out.replace(entity, char), text)
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
