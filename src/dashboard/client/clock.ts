/** Milliseconds since the epoch, as `src/clock.ts`'s Clock: the page's parts are handed one (Ctx.now). */
export type Now = () => number;

/** The one place the browser code reads the real time. */
export const browserNow: Now = () => Date.now();
