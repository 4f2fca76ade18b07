/**
 * A table output (`display.table`), rendered as a native <table>. The data
 * comes from a cell, so its shape is checked before anything is drawn.
 */
import './style.css'

export const TABLE_MIME = 'application/vnd.cellgate.table+json'

interface TableData {
  columns: string[]
  rows: unknown[][]
}

/** The table in an output's data, or null when it is not one. */
export function readTable(data: string): TableData | null {
  try {
    const value = JSON.parse(data) as Partial<TableData>
    const ok = Array.isArray(value.columns) && value.columns.every((c) => typeof c === 'string') && Array.isArray(value.rows) && value.rows.every(Array.isArray)
    return ok ? (value as TableData) : null
  } catch {
    return null
  }
}

/** @example <Table table={{ columns: ['a'], rows: [[1], [2]] }} label="Table output 3" /> */
export function Table({ table, label }: { table: TableData; label: string }) {
  return (
    <div class="table-output" role="region" aria-label={label} tabIndex={0}>
      <table>
        <thead>
          <tr>{table.columns.map((name) => <th scope="col">{name}</th>)}</tr>
        </thead>
        <tbody>
          {table.rows.map((row) => (
            <tr>{table.columns.map((_, i) => <td class={typeof row[i] === 'number' ? 'table-output__number' : undefined}>{row[i] === null || row[i] === undefined ? '' : String(row[i])}</td>)}</tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
