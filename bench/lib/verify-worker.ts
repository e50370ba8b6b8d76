// The workerd side of `bench:verify`: one batch per request, timed inside the isolate.
import { type Case, checkCorrectness, createCases, runBatch, SIZES } from "./verify-cases";

let cases: Map<number, Case[]> | undefined;

export default {
  async fetch(request: Request): Promise<Response> {
    try {
      const url = new URL(request.url);
      cases ??= new Map(SIZES.map((size) => [size, createCases(size)]));
      if (url.pathname === "/check") {
        await checkCorrectness();
        return Response.json({ ok: true });
      }
      const size = Number(url.searchParams.get("size"));
      const index = Number(url.searchParams.get("case"));
      const n = Number(url.searchParams.get("n"));
      const c = cases.get(size)?.[index];
      if (!c) return Response.json({ error: "no such case" }, { status: 404 });
      return Response.json({ ms: await runBatch(c, n, () => performance.now()) });
    } catch (error) {
      return Response.json({ error: String(error) }, { status: 500 });
    }
  },
};
