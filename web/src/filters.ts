/**
 * Filter chips: the attribute filters the whole page is scoped by (cards, charts, breakdown). One
 * chip per chosen value; values of one dimension widen the scope (office A or B), dimensions narrow
 * it (office A and channel web), as the API's filters do. A select offers every dimension's values.
 */
import type { AttributeFilterInput, ProgramSummaryFragment } from '../../src/client/index.js';

export type Dimension = ProgramSummaryFragment['dimensions'][number];

export interface FilterChips {
  /** The dimensions on offer; chips of a dimension no longer offered are dropped (the API would refuse them). */
  setDimensions(dimensions: readonly Dimension[]): void;
  /** Offers a value seen since the dimensions were read (e.g. in a breakdown row). */
  offer(key: string, value: string): void;
  /** The chosen filters, in the API's form; empty: none. */
  value(): AttributeFilterInput[];
  /** Adds a chip (a row of the breakdown was clicked); returns false when it was there already. */
  add(key: string, value: string): boolean;
  /** Describes the filters for the scope line, e.g. "Office: Springfield or Shelbyville; Channel: web". */
  describe(): string;
}

/** Dimensions of several programs, one per key, with every program's values. */
export function mergeDimensions(lists: readonly (readonly Dimension[])[]): Dimension[] {
  const byKey = new Map<string, Dimension>();
  for (const list of lists)
    for (const d of list) {
      const seen = byKey.get(d.key);
      byKey.set(d.key, seen ? { ...seen, values: [...new Set([...seen.values, ...d.values])].sort() } : d);
    }
  return [...byKey.values()];
}

export function createFilterChips(container: HTMLElement, onChange: () => void): FilterChips {
  let dimensions: Dimension[] = [];
  const chosen = new Map<string, Set<string>>();
  const extra = new Map<string, Set<string>>();

  const label = document.createElement('label');
  label.htmlFor = 'add-filter';
  label.textContent = 'Filter';
  const picker = document.createElement('select');
  picker.id = 'add-filter';
  const chips = document.createElement('ul');
  chips.className = 'chips';
  chips.setAttribute('aria-label', 'Filters applied');
  container.append(label, picker, chips);

  picker.addEventListener('change', () => {
    const [key, value] = JSON.parse(picker.value || 'null') ?? [];
    picker.value = '';
    if (key && api.add(key, value)) picker.focus();
  });

  const labelOf = (key: string) => dimensions.find((d) => d.key === key)?.label ?? key;

  function render() {
    container.hidden = dimensions.length === 0;
    const options: HTMLElement[] = [new Option('Add a filter…', '')];
    for (const d of dimensions) {
      const group = document.createElement('optgroup');
      group.label = d.label;
      const values = [...new Set([...d.values, ...(extra.get(d.key) ?? [])])].sort();
      for (const v of values)
        if (!chosen.get(d.key)?.has(v)) group.append(new Option(`${d.label}: ${v}`, JSON.stringify([d.key, v])));
      if (group.children.length) options.push(group);
    }
    picker.replaceChildren(...options);
    picker.value = '';
    chips.replaceChildren(
      ...[...chosen].flatMap(([key, values]) =>
        [...values].map((value) => {
          const item = document.createElement('li');
          item.className = 'chip';
          item.dataset.key = key;
          item.dataset.value = value;
          const text = document.createElement('span');
          text.textContent = `${labelOf(key)}: ${value}`;
          const remove = document.createElement('button');
          remove.type = 'button';
          remove.textContent = '×';
          remove.setAttribute('aria-label', `Remove filter ${labelOf(key)}: ${value}`);
          remove.addEventListener('click', () => {
            values.delete(value);
            if (values.size === 0) chosen.delete(key);
            render();
            onChange();
            picker.focus();
          });
          item.append(text, remove);
          return item;
        }),
      ),
    );
  }

  const api: FilterChips = {
    setDimensions(next) {
      dimensions = [...next];
      for (const key of chosen.keys()) if (!dimensions.some((d) => d.key === key)) chosen.delete(key);
      render();
    },
    offer(key, value) {
      if (!dimensions.some((d) => d.key === key)) return;
      const values = extra.get(key) ?? new Set();
      if (values.has(value)) return;
      extra.set(key, values.add(value));
      render();
    },
    value: () => [...chosen].map(([key, values]) => ({ key, values: [...values] })),
    add(key, value) {
      const values = chosen.get(key) ?? new Set();
      if (values.has(value)) return false;
      chosen.set(key, values.add(value));
      render();
      onChange();
      return true;
    },
    describe: () => [...chosen].map(([key, values]) => `${labelOf(key)}: ${[...values].join(' or ')}`).join('; '),
  };
  render();
  return api;
}
