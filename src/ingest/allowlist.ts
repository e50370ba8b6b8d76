import ipaddr from "ipaddr.js";
import { type Failure, fail, ok, type Result } from "../result";

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

export type AllowList = Result<readonly Range[], Failure<"allowlist_invalid">>;

const parsed = new Map<string, AllowList>();

/**
 * `<PROVIDER>_ALLOWED_IPS`: CIDR ranges (IPv4 and IPv6, a bare address is a /32 or /128), separated
 * by commas or spaces. Parsed once per isolate per value. A malformed list is reported, never read
 * as "allow everyone".
 */
export function parseAllowList(text: string): AllowList {
  let list = parsed.get(text);
  if (list) return list;
  const ranges: Range[] = [];
  for (const entry of text.split(/[\s,]/).filter(Boolean)) {
    try {
      ranges.push(entry.includes("/") ? ipaddr.parseCIDR(entry) : ipaddr.parseCIDR(withFullPrefix(entry)));
    } catch {
      list = fail("allowlist_invalid", `not a CIDR range: ${entry.slice(0, 64)}`);
      break;
    }
  }
  list ??= ok(ranges);
  if (parsed.size > 32) parsed.clear();
  parsed.set(text, list);
  return list;
}

function withFullPrefix(address: string): string {
  return `${address}/${ipaddr.parse(address).kind() === "ipv4" ? 32 : 128}`;
}

/** Whether `ip` (CF-Connecting-IP) lies in one of the ranges; an IPv4-mapped IPv6 address counts as IPv4. */
export function isAllowed(ranges: readonly Range[], ip: string | null): boolean {
  if (!ip || !ipaddr.isValid(ip)) return false;
  let address = ipaddr.parse(ip);
  if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    address = (address as ipaddr.IPv6).toIPv4Address();
  }
  return ranges.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
}
