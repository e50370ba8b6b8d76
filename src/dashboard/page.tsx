import { EVENT_STATUSES } from "../statuses";

export interface PageProps {
  /** Per-response CSP nonce for the page's one script and one stylesheet. */
  nonce: string;
  /** The bundled client (src/dashboard/client/), served as files by index.tsx. */
  script: { path: string; integrity: string };
  style: { path: string; integrity: string };
  /** Provider names for the filter; the page carries no other server data. */
  providers: readonly string[];
  windows: readonly string[];
}

/** The static shell: all data is fetched by the client script with the operator's token. */
export function DashboardPage({ nonce, script, style, providers, windows }: PageProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>Webhook gateway · operator</title>
        <link rel="stylesheet" href={style.path} integrity={style.integrity} nonce={nonce} />
        <script src={script.path} integrity={script.integrity} nonce={nonce} defer />
      </head>
      <body>
        <header class="top">
          <h1>
            Webhook gateway<span class="sub">operator dashboard</span>
          </h1>
          <div id="session" class="session" hidden>
            <span id="updated" />
            <label>
              <input id="auto" type="checkbox" checked /> auto-refresh
            </label>
            <button id="refresh" type="button">
              Refresh
            </button>
            <button id="logout" type="button">
              Log out
            </button>
          </div>
        </header>
        <main>
          <noscript>
            <p class="message error">This dashboard needs JavaScript.</p>
          </noscript>

          <section id="login" class="card login" aria-labelledby="login-title">
            <h2 id="login-title">Sign in</h2>
            <p>
              Enter the operator token (<code>ADMIN_API_TOKEN</code>). It stays in this tab's session storage and is
              sent only as an <code>Authorization</code> header to this gateway's <code>/api</code>.
            </p>
            <form id="login-form" autocomplete="off">
              <label for="token">Operator token</label>
              {/* No name attribute: the token can never be serialized into a URL. */}
              <input id="token" type="password" autocomplete="off" spellcheck={false} required />
              <button class="primary" type="submit">
                Sign in
              </button>
            </form>
            <p id="login-message" class="message" role="alert" />
          </section>

          <div id="app" hidden>
            <p id="app-message" class="message" role="alert" />

            <div class="pair">
              <section id="dead" class="card dead" aria-labelledby="dead-title">
                <ListHead name="dead" title="Dead letters" />
                <EventTable name="dead" empty="No dead letters." />
              </section>
              <section id="quarantined" class="card quarantined" aria-labelledby="quarantined-title">
                <ListHead name="quarantined" title="Quarantined" />
                <p class="note">Signed deliveries whose body the gateway could not read, kept byte for byte.</p>
                <EventTable name="quarantined" empty="Nothing quarantined." />
              </section>
            </div>

            <section id="stats" class="card" aria-labelledby="stats-title">
              <div class="card-head">
                <h2 id="stats-title">
                  Traffic and failures <span id="stats-range" class="count" />
                </h2>
                <label class="hint">
                  Window{" "}
                  <select id="window">
                    {windows.map((w) => (
                      <option value={w} selected={w === "1h"}>
                        {w}
                      </option>
                    ))}
                  </select>
                </label>
              </div>
              <div class="stats-body">
                <div>
                  <div id="chart" />
                  <div id="legend" class="legend" />
                </div>
                <div class="stats-side">
                  <div class="table-wrap">
                    <table>
                      <thead>
                        <tr>
                          <th>Provider</th>
                          <th class="num">Events</th>
                          <th class="num">Retrying</th>
                          <th class="num">Dead</th>
                          <th class="num">Failed</th>
                        </tr>
                      </thead>
                      <tbody id="stats-body" />
                    </table>
                  </div>
                  <div id="rejections">
                    <h3>
                      Refused deliveries <span id="rejections-range" class="count" />
                    </h3>
                    <ul id="rejections-list" class="refusals" hidden />
                    <p id="rejections-empty" class="empty" hidden>
                      No refused deliveries.
                    </p>
                    <p id="rejections-unavailable" class="unavailable" hidden>
                      This gateway does not count refused deliveries yet (no <code>/api/rejections</code>).
                    </p>
                  </div>
                </div>
              </div>
            </section>

            <section id="events" class="card" aria-labelledby="events-title">
              <ListHead name="events" title="Recent events" />
              <form id="filters" class="filters" autocomplete="off">
                <label>
                  Provider
                  <select name="provider">
                    <option value="">any</option>
                    {providers.map((p) => (
                      <option value={p}>{p}</option>
                    ))}
                  </select>
                </label>
                <label class="grow">
                  Type (exact)
                  <input name="type" maxlength={200} placeholder="payment.succeeded" />
                </label>
                <label>
                  Status
                  <select name="status">
                    <option value="">any</option>
                    {EVENT_STATUSES.map((status) => (
                      <option value={status}>{status}</option>
                    ))}
                  </select>
                </label>
                <label class="grow">
                  Dedupe key
                  <input name="dedupeKey" maxlength={256} placeholder="evt_… or sha-256" />
                </label>
                <button class="primary" type="submit">
                  Apply
                </button>
                <button id="filters-clear" type="reset">
                  Clear
                </button>
              </form>
              <EventTable name="events" empty="No events match." />
            </section>
          </div>
        </main>

        <dialog id="detail" aria-labelledby="detail-title">
          <div class="dlg-head">
            <h2 id="detail-title" class="dlg-title">
              Event
            </h2>
            <button id="detail-close" type="button" aria-label="Close">
              Close
            </button>
          </div>
          <div class="dlg-body">
            <p id="detail-message" class="message" role="alert" />
            <dl id="detail-meta" class="meta" />
            <div class="actions">
              <button id="replay" class="primary" type="button">
                Replay
              </button>
              <p id="replay-message" class="message" role="status" />
            </div>
            <section id="conflicts" hidden>
              <h3>Conflicting deliveries</h3>
              <p class="note">
                Later deliveries with this dedupe key and a different body: answered 2xx, never applied.
              </p>
              <dl id="conflicts-meta" class="meta" />
            </section>
            <h3>Effects</h3>
            <div id="effects" />
            <p id="effects-empty" class="empty" hidden>
              No effects for this event.
            </p>
            <section id="raw" hidden>
              <h3>
                Quarantined body <span id="raw-format" class="hint" />
              </h3>
              <pre id="raw-body" class="payload raw" />
            </section>
            <section id="payload-section" hidden>
              <h3>Payload</h3>
              <pre id="payload" class="payload" />
            </section>
          </div>
        </dialog>

        <dialog id="confirm" class="confirm" aria-labelledby="confirm-title">
          <div class="dlg-head">
            <h2 id="confirm-title" class="dlg-title">
              Confirm
            </h2>
          </div>
          <div class="dlg-body">
            <p id="confirm-text" />
            <div class="dlg-actions">
              <button id="confirm-cancel" type="button">
                Cancel
              </button>
              <button id="confirm-ok" class="danger" type="button">
                Confirm
              </button>
            </div>
          </div>
        </dialog>
      </body>
    </html>
  );
}

/** A list's title with its count, the "Replay all shown" button and their message line. */
function ListHead({ name, title }: { name: string; title: string }) {
  return (
    <>
      <div class="card-head">
        <h2 id={`${name}-title`}>
          {title} <span id={`${name}-count`} class="count" />
        </h2>
        <button id={`${name}-replay-all`} class="small" type="button" hidden>
          Replay all shown…
        </button>
      </div>
      <p id={`${name}-message`} class="message" role="status" />
    </>
  );
}

/** A list of events filled by the client: `<name>-table`, `-body`, `-empty`, `-more`, `-unavailable`. */
function EventTable({ name, empty }: { name: string; empty: string }) {
  return (
    <>
      <div id={`${name}-table`} class="table-wrap" hidden>
        <table class="events">
          <thead>
            <tr>
              <th>Received</th>
              <th>Provider</th>
              <th>Type</th>
              <th>Status</th>
              <th class="num">Attempts</th>
              <th>Last error</th>
            </tr>
          </thead>
          <tbody id={`${name}-body`} />
        </table>
      </div>
      <p id={`${name}-empty`} class="empty" hidden>
        {empty}
      </p>
      <p id={`${name}-unavailable`} class="unavailable" hidden>
        This gateway does not list {name} events yet.
      </p>
      <button id={`${name}-more`} class="more" type="button" hidden>
        Load more
      </button>
    </>
  );
}
