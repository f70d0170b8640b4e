// RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines;
// CRLF or LF line ends; a leading UTF-8 BOM is ignored. Pure, for labels.csv
// files, prompt lists and result exports alike.
import { AgqgError } from '../errors.ts';

/** Rows of fields. A trailing newline does not make an empty last row. */
export function parseCsv(text: string, where = 'CSV'): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let quoted = false;
  let fieldStarted = false;
  let closed = false;
  let line = 1;
  let quoteLine = 0;
  const endField = (): void => {
    row.push(field);
    field = '';
    fieldStarted = false;
    closed = false;
  };
  const endRow = (): void => {
    endField();
    rows.push(row);
    row = [];
  };
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
          closed = true;
        }
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"') {
      if (fieldStarted) {
        throw new AgqgError(
          'unsupported_format',
          `${where} line ${line}: a quote inside an unquoted field (quote the whole field and double the quote)`,
        );
      }
      quoted = true;
      fieldStarted = true;
      quoteLine = line;
    } else if (c === ',') {
      endField();
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
    } else {
      if (closed)
        throw new AgqgError('unsupported_format', `${where} line ${line}: text after a closing quote`);
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted)
    throw new AgqgError(
      'unsupported_format',
      `${where}: the quoted field opened on line ${quoteLine} is never closed`,
    );
  if (fieldStarted || row.length > 0) endRow();
  return rows;
}

export interface CsvTable {
  header: string[];
  rows: Record<string, string>[];
}

/** Parses with the first row as header; every row must have the header's field count. */
export function parseCsvTable(text: string, where = 'CSV'): CsvTable {
  const all = parseCsv(text, where).filter((r) => !(r.length === 1 && r[0] === ''));
  if (all.length === 0) throw new AgqgError('unsupported_format', `${where} is empty (no header row)`);
  const header = all[0].map((h) => h.trim());
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup !== undefined)
    throw new AgqgError('unsupported_format', `${where}: column "${dup}" appears twice in the header`);
  const rows = all.slice(1).map((r, k) => {
    if (r.length !== header.length) {
      throw new AgqgError(
        'unsupported_format',
        `${where}: data row ${k + 1} has ${r.length} fields, the header has ${header.length}`,
      );
    }
    return Object.fromEntries(header.map((h, j) => [h, r[j]]));
  });
  return { header, rows };
}

/** One field, quoted only when it must be. */
export function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) || s.trim() !== s ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(values: ReadonlyArray<string | number | boolean | null | undefined>): string {
  return values.map(csvField).join(',');
}
