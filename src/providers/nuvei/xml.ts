import { XMLParser, XMLValidator } from "fast-xml-parser";
import { type Failure, fail, ok, type Result } from "../../result";
import { MAX_JSON_DEPTH } from "../json";

/*
 * Nuvei XML webhooks. The Nuvei document lists XML among the formats a merchant can
 * receive but shows no XML body, so the shape below is OUR ASSUMPTION, the one place it
 * is stated:
 *
 *   <anyRootName>                                  {
 *     <transactionId>7110000000012345678</…>   →     "transactionId": "7110000000012345678",
 *     <amount>10.10</amount>                         "amount": "10.10",
 *     <result><status>approved</status></result>     "result": { "status": "approved" }
 *   </anyRootName>                                 }
 *
 * - One root element, whatever its name: its child elements are the webhook's fields,
 *   named as the JSON keys; nested elements are nested objects.
 * - Text stays a string, digit for digit (no number parsing), trimmed of the whitespace
 *   around it; an empty element is "". Namespace prefixes are dropped, xmlns ignored.
 * - Anything else (an attribute, an element given twice, text beside child elements or
 *   beside a CDATA section) is refused rather than guessed at: a refused but verified
 *   delivery is quarantined with its exact bytes and can be replayed once the real shape
 *   is known, while a wrong guess would store a wrong payload.
 *
 * Security: a DOCTYPE or an entity declaration is refused before anything is parsed, and
 * the parser's entity processing is off, so nothing can pull in a file or a URL (XXE) or
 * expand into gigabytes ("billion laughs"). Only the five predefined entities and
 * character references are decoded, here, in one bounded pass; any other reference is
 * refused (undeclared, it is not well-formed XML anyway).
 */

const DECLARATIONS = /<!(DOCTYPE|ENTITY)/i;
const ATTRIBUTE_PREFIX = "@_";
const TEXT = "#text";
const CDATA = "#cdata";

const parser = new XMLParser({
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  // Read, so that they can be refused rather than silently dropped.
  ignoreAttributes: false,
  attributeNamePrefix: ATTRIBUTE_PREFIX,
  textNodeName: TEXT,
  // Apart from text, so that its contents are not entity-decoded.
  cdataPropName: CDATA,
  removeNSPrefix: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: true,
  // The same bound as for JSON and form bodies (the root element is one level).
  maxNestedTags: MAX_JSON_DEPTH + 1,
  // toString, valueOf… are ordinary field names, as in form bodies; the library still
  // refuses __proto__, constructor and prototype.
  onDangerousProperty: (name: string) => name,
});

const PREDEFINED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

class Refused extends Error {}

function decodeReferences(text: string): string {
  return text.replace(/&([^;&]*);|&/g, (whole, name: string | undefined) => {
    if (name === undefined) throw new Refused("an '&' that starts no reference");
    const numeric = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(name);
    if (numeric) {
      const code = numeric[1] !== undefined ? Number.parseInt(numeric[1], 16) : Number(numeric[2]);
      if (!isXmlChar(code)) throw new Refused(`character reference to a character XML forbids: ${whole}`);
      return String.fromCodePoint(code);
    }
    const predefined = Object.hasOwn(PREDEFINED, name) ? PREDEFINED[name] : undefined;
    if (predefined === undefined) throw new Refused(`entity reference ${whole.slice(0, 40)} is not allowed`);
    return predefined;
  });
}

type Node = Record<string, unknown>;

function field(value: unknown, name: string): unknown {
  if (typeof value === "string") return decodeReferences(value);
  if (Array.isArray(value)) throw new Refused(`element <${name.slice(0, 64)}> given twice`);
  const element = value as Node;
  const keys = Object.keys(element);
  if (keys.includes(CDATA)) {
    if (keys.length > 1) throw new Refused(`element <${name.slice(0, 64)}> mixes CDATA with other content`);
    const cdata = element[CDATA];
    // Adjacent sections (`]]><![CDATA[`, the way to write "]]>") are one value.
    return Array.isArray(cdata) ? cdata.join("") : cdata;
  }
  const out: Node = Object.create(null);
  for (const key of keys) {
    if (key.startsWith(ATTRIBUTE_PREFIX))
      throw new Refused(`attribute ${key.slice(ATTRIBUTE_PREFIX.length, 64)} on <${name.slice(0, 64)}>`);
    if (key === TEXT) throw new Refused(`element <${name.slice(0, 64)}> mixes text with child elements`);
    out[key] = field(element[key], key);
  }
  return out;
}

/** An XML webhook body as the same nested object a JSON or form body gives. */
export function parseXmlWebhook(text: string): Result<Node, Failure<"payload_invalid">> {
  const declaration = DECLARATIONS.exec(text);
  if (declaration) return fail("payload_invalid", `XML with <!${declaration[1]}> is refused (no DTD, no entities)`);
  const valid = XMLValidator.validate(text);
  if (valid !== true) return fail("payload_invalid", `XML not well-formed: ${valid.err.msg} (line ${valid.err.line})`);
  try {
    const document = parser.parse(text) as Node;
    const roots = Object.keys(document);
    if (roots.length !== 1) throw new Refused("XML must have exactly one root element");
    const root = roots[0] as string;
    const value = field(document[root], root);
    if (typeof value !== "object" || value === null) throw new Refused(`root element <${root}> has no fields`);
    return ok(value as Node);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return fail("payload_invalid", error instanceof Refused ? message : `XML refused: ${message.slice(0, 200)}`);
  }
}
