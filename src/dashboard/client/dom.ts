import { ATTEMPT_OUTCOMES, EFFECT_STATUSES, EVENT_STATUSES } from "../../statuses";
// Every value from the API reaches the DOM through these: text nodes and setAttribute on
// inert attributes, never innerHTML (the page's CSP also enforces Trusted Types).

export type Child = Node | string | number | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | null | undefined>;

/** The element with this id; the page's markup (page.tsx) guarantees it exists. */
export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node as T;
}

function setAttrs(node: Element, attrs: Attrs | null | undefined): void {
  if (!attrs) return;
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(key, String(value));
  }
}

function append(node: Element, children: readonly Child[]): void {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === "object" ? child : String(child));
  }
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

export type MessageKind = "error" | "info" | "ok";

export function setMessage(node: HTMLElement, text?: string, kind: MessageKind = "error"): void {
  node.textContent = text ?? "";
  node.className = text ? `message ${kind}` : "message";
}

const STATUSES = new Set<string>([...EVENT_STATUSES, ...EFFECT_STATUSES, ...ATTEMPT_OUTCOMES]);

export function badge(status: string): HTMLSpanElement {
  return el("span", { class: `badge ${STATUSES.has(status) ? `b-${status}` : "b-other"}` }, status);
}

/** Colour slots c0–c4 by provider order; anything unknown is c5 (grey). */
export function providerClass(providers: readonly string[], name: string): string {
  const i = providers.indexOf(name);
  return `c${i < 0 ? 5 : i % 5}`;
}

export function providerLabel(providers: readonly string[], name: string): HTMLSpanElement {
  return el("span", { class: "prov" }, el("span", { class: `sw ${providerClass(providers, name)}` }), name);
}
