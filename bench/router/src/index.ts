// Structural, so bench/ type-checks against Node's types without @cloudflare/workers-types.
interface ServiceBinding {
  fetch(request: Request): Promise<Response>;
}

interface RouterEnv {
  GATEWAY: ServiceBinding;
  BARE: ServiceBinding;
}

export default {
  async fetch(request: Request, env: RouterEnv): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/direct/")) {
      await request.arrayBuffer();
      return Response.json({ status: "accepted" }, { status: 202 });
    }
    const bare = url.pathname.startsWith("/bare/");
    if (bare) url.pathname = url.pathname.slice("/bare".length);
    // One new Request on both paths, so neither side pays for something the other does not.
    return (bare ? env.BARE : env.GATEWAY).fetch(new Request(url, request));
  },
};
