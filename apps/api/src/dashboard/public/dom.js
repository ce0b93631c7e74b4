// Small DOM and formatting helpers. Text from the API (subject ids, model names) only ever
// becomes text nodes, never markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An HTML element: el('td', { class: 'num' }, 'text', childNode, …). */
export function el(tag, attributes = {}, ...children) {
  return build(document.createElement(tag), attributes, children);
}

/** An SVG element, as el(). */
export function svg(tag, attributes = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attributes, children);
}

function build(node, attributes, children) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null && value !== false) {
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}

/** Replaces the children of the element with this id. */
export function fill(id, ...children) {
  document.getElementById(id).replaceChildren(...children.flat());
}

export function setText(id, text) {
  document.getElementById(id).textContent = text;
}

/**
 * A money string of the API ("1234.500000") as "$1,234.500000": exact to the micro-dollar, with
 * the digits below a cent in a lighter span so the dollars and cents read first.
 */
export function money(usd) {
  const [whole, fraction = ''] = String(usd).split('.');
  const digits = fraction.padEnd(6, '0');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return el(
    'span',
    { class: 'money' },
    `$${grouped}.${digits.slice(0, 2)}`,
    el('span', { class: 'micros' }, digits.slice(2)),
  );
}

/** The same amount as plain text (for titles and labels). */
export function moneyText(usd) {
  const [whole, fraction = ''] = String(usd).split('.');
  return `$${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${fraction.padEnd(6, '0')}`;
}

/** A money string as a number: only for sizing bars, never for arithmetic that is shown. */
export function amount(usd) {
  return Number(usd) || 0;
}

const integer = new Intl.NumberFormat('en-US');

export function count(n) {
  return integer.format(n);
}

/** "17:02:03 UTC" */
export function clock(date) {
  return `${date.toISOString().slice(11, 19)} UTC`;
}

/** "2026-12-02 17:02 UTC" */
export function timestamp(iso) {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** "Dec 2" for "2026-12-02". */
export function shortDay(day) {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString('en-US', {
    month: 'short',
    day: 'numeric',
    timeZone: 'UTC',
  });
}

/** A table with a caption (visually hidden when the section heading already says it). */
export function table({ caption, head, rows, foot, className = '' }) {
  return el(
    'table',
    { class: `data ${className}`.trim() },
    el('caption', { class: 'visually-hidden' }, caption),
    el('thead', {}, el('tr', {}, head.map(headCell))),
    el('tbody', {}, rows),
    foot ? el('tfoot', {}, foot) : null,
  );
}

function headCell(cell) {
  const { text, numeric } = typeof cell === 'string' ? { text: cell } : cell;
  return el('th', { scope: 'col', class: numeric ? 'num' : undefined }, text);
}

/** A line saying there is nothing to show yet. */
export function empty(text) {
  return el('p', { class: 'empty' }, text);
}
