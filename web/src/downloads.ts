/**
 * Downloads of the server's exports (`/export/…`). A plain link cannot carry the key, which goes in
 * `Authorization: Bearer`, so the file is fetched with it and handed to the browser as a download.
 */
export interface ExportScope {
  programId: string | null;
  from: Date;
  to: Date;
  filter: readonly { key: string; values: readonly string[] }[];
  kinds?: readonly string[] | null;
  granularity?: string;
  timezone?: string;
  by?: string;
  orderBy?: string | null;
  descending?: boolean;
}

/** The export's query string: the GraphQL arguments' names, `filter.<key>` once per value. */
export function exportQuery(scope: ExportScope): URLSearchParams {
  const params = new URLSearchParams();
  if (scope.programId) params.set('programId', scope.programId);
  params.set('from', scope.from.toISOString());
  params.set('to', scope.to.toISOString());
  if (scope.kinds?.length) params.set('kinds', scope.kinds.join(','));
  if (scope.granularity) params.set('granularity', scope.granularity);
  if (scope.timezone) params.set('timezone', scope.timezone);
  if (scope.by) params.set('by', scope.by);
  if (scope.orderBy) params.set('orderBy', scope.orderBy);
  if (scope.descending !== undefined) params.set('descending', String(scope.descending));
  for (const f of scope.filter) for (const value of f.values) params.append(`filter.${f.key}`, value);
  return params;
}

export async function downloadExport(
  path: string,
  scope: ExportScope,
  apiKey: string,
  fileName: string,
): Promise<void> {
  const response = await fetch(`${path}?${exportQuery(scope)}`, { headers: { authorization: `Bearer ${apiKey}` } });
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new Error(body?.error?.message ?? `the export failed (HTTP ${response.status})`);
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // Chromium may still be reading the blob after the click returns: let it go a minute later.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
