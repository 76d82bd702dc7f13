/** Unit test of the PDF renderer without a browser: it says what to install instead of writing an empty file. */
import { describe, expect, it } from 'vitest';
import { AppError } from '../platform/errors.js';
import { renderReportPdf } from './pdf.js';

describe('renderReportPdf', () => {
  it('answers Unavailable naming what to install when Chromium is missing', async () => {
    const error = await renderReportPdf('<p>x</p>', { chromiumPath: '/nonexistent/chromium' }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe('Unavailable');
    expect(error.status).toBe(503);
    expect(error.message).toContain('/nonexistent/chromium');
    expect(error.message).toContain('apt-get install chromium');
    expect(error.message.split('\n')).toHaveLength(1);
  });
});
