// Structural, so bench/ type-checks against Node's types without @cloudflare/workers-types.
interface ServiceBinding {
  fetch(request: Request): Promise<Response>;
}

interface RouterEnv {
  GATEWAY: ServiceBinding;
  GATEWAY_EDGE: ServiceBinding;
  BARE: ServiceBinding;
  NAIVE: ServiceBinding;
}

// /<prefix>/webhooks/… → that worker, prefix stripped; anything else → the gateway (DEDUPE_MODE=kv).
const PREFIXES: Record<string, keyof RouterEnv> = {
  "/edge/": "GATEWAY_EDGE",
  "/bare/": "BARE",
  "/naive/": "NAIVE",
};

export default {
  async fetch(request: Request, env: RouterEnv): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/direct/")) {
      await request.arrayBuffer();
      return Response.json({ status: "accepted" }, { status: 202 });
    }
    let target: ServiceBinding = env.GATEWAY;
    for (const [prefix, binding] of Object.entries(PREFIXES)) {
      if (url.pathname.startsWith(prefix)) {
        url.pathname = url.pathname.slice(prefix.length - 1);
        target = env[binding];
        break;
      }
    }
    // One new Request on every path, so no worker pays for something another does not.
    return target.fetch(new Request(url, request));
  },
};
