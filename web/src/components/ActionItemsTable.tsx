/** The action-items table the postmortem page and the all-action-items page share. */
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { ActionItem } from '../api';
import { ExternalLink } from './common';

export function ActionItemsTable({
  items,
  testId,
  status,
  extraColumn,
}: {
  items: readonly ActionItem[];
  testId: string;
  /** The status cell; its text by default (the postmortem page puts a select there). */
  status?: (item: ActionItem) => ReactNode;
  /** One more column after the status, e.g. the link to the item's postmortem. */
  extraColumn?: { heading: ReactNode; cell: (item: ActionItem) => ReactNode };
}) {
  const { t } = useTranslation();
  return (
    <table data-testid={testId}>
      <thead>
        <tr>
          <th scope="col">{t('actionItems.priority')}</th>
          <th scope="col">{t('actionItems.titleField')}</th>
          <th scope="col">{t('actionItems.category')}</th>
          <th scope="col">{t('actionItems.owner')}</th>
          <th scope="col">{t('actionItems.due')}</th>
          <th scope="col">{t('actionItems.status')}</th>
          {extraColumn && <th scope="col">{extraColumn.heading}</th>}
        </tr>
      </thead>
      <tbody>
        {items.map((a) => (
          <tr key={a.id}>
            <td>{a.priority}</td>
            <td>{a.ticketUrl ? <ExternalLink href={a.ticketUrl}>{a.title}</ExternalLink> : a.title}</td>
            <td>{t(`actionItems.categories.${a.category}`)}</td>
            <td>{a.owner ?? '—'}</td>
            <td>
              {a.dueDate ?? '—'}
              {a.overdue && <span className="pill pill-red">{t('actionItems.overdue')}</span>}
            </td>
            <td>{status ? status(a) : t(`actionItems.statuses.${a.status}`)}</td>
            {extraColumn && <td>{extraColumn.cell(a)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
