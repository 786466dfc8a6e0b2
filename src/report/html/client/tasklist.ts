/**
 * The task list: every task of the dump in a scrolling table that keeps only the visible rows in
 * the DOM (TanStack's virtualiser), so 10,000 tasks cost what 30 do. Filter by text, sort by a
 * column, arrow keys and Page Up/Down scroll; a row's pid links to the task's stack.
 */
import { Virtualizer, elementScroll, observeElementOffset, observeElementRect } from '@tanstack/virtual-core';

export interface TaskData { columns: string[]; rows: (string | number | null)[][]; links: (string | null)[] }

const ROW_H = 24;

export function mountTaskList(root: HTMLElement, data: TaskData): void {
  const body = root.querySelector<HTMLElement>('[data-tasklist-body]');
  const filter = root.querySelector<HTMLInputElement>('[data-tasklist-filter]');
  const count = root.querySelector<HTMLElement>('[data-tasklist-count]');
  const table = root.querySelector<HTMLElement>('[role=table]');
  if (!body) return;
  const spacer = document.createElement('div');
  spacer.className = 'vt-spacer';
  body.replaceChildren(spacer);
  const text = data.rows.map((r) => r.join(' ').toLowerCase());
  let view: number[] = data.rows.map((_, i) => i);
  let sortCol = -1;
  let sortDir = 1;

  const v = new Virtualizer<HTMLElement, HTMLElement>({
    count: view.length,
    getScrollElement: () => body,
    estimateSize: () => ROW_H,
    overscan: 12,
    scrollToFn: elementScroll,
    observeElementRect,
    observeElementOffset,
    onChange: () => render(),
  });

  function row(i: number, pos: number): HTMLElement {
    const r = data.rows[i];
    const div = document.createElement('div');
    div.className = 'vt-row';
    div.setAttribute('role', 'row');
    div.setAttribute('aria-rowindex', String(pos + 2));
    div.style.transform = `translateY(${pos * ROW_H}px)`;
    r.forEach((cell, c) => {
      const span = document.createElement('span');
      span.className = `c${c}`;
      span.setAttribute('role', 'cell');
      const href = c === 0 ? data.links[i] : null;
      if (href) {
        const a = document.createElement('a');
        a.href = href;
        a.textContent = String(cell ?? '');
        span.appendChild(a);
      } else {
        span.textContent = String(cell ?? '');
      }
      if (data.columns[c] === 'ST') span.dataset.state = String(cell);
      div.appendChild(span);
    });
    return div;
  }

  function render(): void {
    spacer.style.height = `${v.getTotalSize()}px`;
    const items = v.getVirtualItems();
    const frag = document.createDocumentFragment();
    frag.appendChild(spacer);
    for (const it of items) frag.appendChild(row(view[it.index], it.index));
    body!.replaceChildren(frag);
  }

  function update(): void {
    const q = (filter?.value ?? '').trim().toLowerCase();
    view = data.rows.map((_, i) => i).filter((i) => !q || text[i].includes(q));
    if (sortCol >= 0) {
      view.sort((a, b) => {
        const x = data.rows[a][sortCol], y = data.rows[b][sortCol];
        const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x ?? '').localeCompare(String(y ?? ''));
        return c * sortDir || a - b;
      });
    }
    if (count) count.textContent = `${view.length} of ${data.rows.length} tasks`;
    table?.setAttribute('aria-rowcount', String(view.length + 1));
    v.setOptions({ ...v.options, count: view.length });
    v.measure();
    render();
  }

  filter?.addEventListener('input', update);
  root.querySelectorAll<HTMLButtonElement>('[data-sort]').forEach((b) => b.addEventListener('click', () => {
    const c = Number(b.dataset.sort);
    sortDir = sortCol === c ? -sortDir : 1;
    sortCol = c;
    root.querySelectorAll('[data-sort]').forEach((x) => x.parentElement?.removeAttribute('aria-sort'));
    b.parentElement?.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
    update();
  }));
  body.addEventListener('keydown', (e) => {
    const step = { ArrowDown: ROW_H, ArrowUp: -ROW_H, PageDown: body.clientHeight, PageUp: -body.clientHeight }[e.key];
    if (step !== undefined) { body.scrollTop += step; e.preventDefault(); }
    if (e.key === 'Home') { body.scrollTop = 0; e.preventDefault(); }
    if (e.key === 'End') { body.scrollTop = body.scrollHeight; e.preventDefault(); }
  });
  v._didMount();
  v._willUpdate();
  render();
}
