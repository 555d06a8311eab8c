/**
 * Annotations on the page: the list of the dashboard's annotations, the form admins add one with
 * (a date and a title), and the Impact panel, which says in plain words how each KPI moved across
 * the chosen annotation (the `impact` query) and whether its 95% interval calls it a real change.
 */
import type {
  AnnotationSummaryFragment,
  ClientImpactQuery,
  MonitoringClient,
  MonitoringError,
} from '../../src/client/index.js';
import { formatDate, formatValue, type KpiInfo } from './format.js';

type ImpactRow = ClientImpactQuery['impact']['rows'][number];

export interface AnnotationsOptions {
  client: MonitoringClient;
  kpis: KpiInfo[];
  canAdd: boolean;
  /** The program a new annotation goes to (null: none chosen) and the zone its date is read in. */
  program(): { id: string; zone: string } | null;
  /** The start of a date ("2026-03-01") in `zone`, or null for no date. */
  dayStart(date: string, zone: string): number | null;
  onError(error: MonitoringError): void;
}

export interface AnnotationsPanel {
  /** The annotations of the dashboard now shown. */
  show(annotations: readonly AnnotationSummaryFragment[], zone: string): void;
  /** Opens the Impact panel for an annotation (from the list or a chart's marker). */
  select(id: string): void;
}

export function createAnnotationsPanel(root: HTMLElement, options: AnnotationsOptions): AnnotationsPanel {
  const list = root.querySelector<HTMLUListElement>('#annotations')!;
  const none = root.querySelector<HTMLElement>('#no-annotations')!;
  const addButton = root.querySelector<HTMLButtonElement>('#add-annotation')!;
  const form = root.querySelector<HTMLFormElement>('#annotation-form')!;
  const dateInput = form.querySelector<HTMLInputElement>('#annotation-date')!;
  const titleInput = form.querySelector<HTMLInputElement>('#annotation-title')!;
  const formStatus = form.querySelector<HTMLElement>('#annotation-status')!;
  const impact = root.querySelector<HTMLElement>('#impact')!;
  const impactTitle = impact.querySelector<HTMLElement>('#impact-title')!;
  const impactDays = impact.querySelector<HTMLSelectElement>('#impact-days')!;
  const impactBody = impact.querySelector<HTMLUListElement>('#impact-rows')!;
  const impactStatus = impact.querySelector<HTMLElement>('#impact-status')!;
  let shown: readonly AnnotationSummaryFragment[] = [];
  let zone = 'UTC';
  let selected: AnnotationSummaryFragment | null = null;
  let asked = 0;

  addButton.hidden = !options.canAdd;
  addButton.addEventListener('click', () => {
    form.hidden = !form.hidden;
    addButton.setAttribute('aria-expanded', String(!form.hidden));
    if (!form.hidden) {
      const program = options.program();
      formStatus.textContent = program ? '' : 'Choose a program first: an annotation belongs to one program.';
      if (!dateInput.value) dateInput.valueAsDate = new Date();
      titleInput.focus();
    }
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const program = options.program();
    if (!program) {
      formStatus.textContent = 'Choose a program first: an annotation belongs to one program.';
      return;
    }
    const at = options.dayStart(dateInput.value, program.zone);
    if (at === null) {
      formStatus.textContent = 'Choose a date.';
      return;
    }
    try {
      const annotation = await options.client.createAnnotation({
        programId: program.id,
        at: new Date(at),
        title: titleInput.value,
      });
      titleInput.value = '';
      form.hidden = true;
      addButton.setAttribute('aria-expanded', 'false');
      formStatus.textContent = '';
      // The live dashboard brings it to the list and the charts; its impact opens at once.
      openImpact(annotation);
    } catch (error) {
      formStatus.textContent = (error as Error).message;
    }
  });
  impactDays.addEventListener('change', () => selected && openImpact(selected));

  function openImpact(annotation: AnnotationSummaryFragment) {
    selected = annotation;
    impact.hidden = false;
    impactTitle.textContent = `Impact of “${annotation.title}” (${formatDate(Date.parse(annotation.at), zone)})`;
    impactStatus.textContent = 'Measuring…';
    impactBody.replaceChildren();
    const request = ++asked;
    options.client
      .impact(annotation.id, Number(impactDays.value))
      .then((answer) => {
        if (request !== asked) return;
        const days = Number(impactDays.value);
        impactStatus.textContent = `The ${days} days before it against the ${days} days after it${
          Date.parse(answer.afterTo) < Date.parse(annotation.at) + days * 86_400_000 ? ' (so far)' : ''
        }.`;
        impactBody.replaceChildren(
          ...answer.rows.map((row) => {
            const item = document.createElement('li');
            const kpi = options.kpis.find((k) => k.key === row.kpi);
            item.dataset.kpi = row.kpi;
            item.textContent = kpi ? describeImpact(kpi, row) : row.kpi;
            if (row.significant) item.classList.add('real-change');
            return item;
          }),
        );
      })
      .catch((error: MonitoringError) => {
        if (request !== asked) return;
        impactStatus.textContent = error.message;
        options.onError(error);
      });
  }

  return {
    show(annotations, newZone) {
      shown = annotations;
      zone = newZone;
      none.hidden = annotations.length > 0;
      list.replaceChildren(
        ...annotations.map((annotation) => {
          const item = document.createElement('li');
          const button = document.createElement('button');
          button.type = 'button';
          button.className = 'link-button';
          button.textContent = `${formatDate(Date.parse(annotation.at), zone)}: ${annotation.title}`;
          button.addEventListener('click', () => openImpact(annotation));
          item.append(button);
          return item;
        }),
      );
    },
    select(id) {
      const annotation = shown.find((a) => a.id === id);
      if (annotation) openImpact(annotation);
    },
  };
}

/** A number as the KPI's unit writes it, without the unit for a change ("−1.8"), with a sign. */
function signed(kpi: KpiInfo, value: number): string {
  const digits = kpi.unit === 'SCORE' ? 2 : kpi.unit === 'COUNT' ? 0 : 1;
  const text = Math.abs(value).toFixed(digits);
  return value < 0 ? `−${text}` : `+${text}`;
}

const bare = (kpi: KpiInfo, value: number) =>
  kpi.unit === 'COUNT' ? formatValue(kpi, value) : value.toFixed(kpi.unit === 'SCORE' ? 2 : 1);

/**
 * "Average resolution time fell from 9.2 to 7.4 days (−1.8; 95% interval −2.3 to −1.3): a real
 * change." A change whose interval holds 0 "may be noise"; a KPI without an interval says so.
 */
export function describeImpact(kpi: KpiInfo, row: ImpactRow): string {
  if (row.before === null || row.after === null || row.change === null) {
    const where =
      row.before === null && row.after === null ? 'on either side of' : row.before === null ? 'before' : 'after';
    return `${kpi.label}: no data ${where} the change.`;
  }
  const unit = kpi.unit === 'DAYS' ? ' days' : kpi.unit === 'PERCENT' ? '%' : kpi.unit === 'SCORE' ? ' / 5' : '';
  const verb = row.change > 0 ? 'rose' : row.change < 0 ? 'fell' : 'stayed';
  const movement =
    verb === 'stayed'
      ? `stayed at ${bare(kpi, row.after)}${unit}`
      : `${verb} from ${bare(kpi, row.before)} to ${bare(kpi, row.after)}${unit}`;
  if (row.low === null || row.high === null || row.significant === null) {
    const why = kpi.interval === null ? 'no interval for this KPI' : 'too little data for an interval';
    return `${kpi.label} ${movement} (${signed(kpi, row.change)}; ${why}).`;
  }
  const interval = `95% interval ${signed(kpi, row.low)} to ${signed(kpi, row.high)}`;
  const verdict = row.significant ? 'a real change' : 'could be noise';
  return `${kpi.label} ${movement} (${signed(kpi, row.change)}; ${interval}): ${verdict}.`;
}
