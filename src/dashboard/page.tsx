import { CLIENT_SCRIPT } from "./client";
import { DASHBOARD_CSS } from "./styles";

export interface PageProps {
  /** Per-response CSP nonce for the one inline <style> and <script>. */
  nonce: string;
  /** Provider names for the filter; the page carries no other server data. */
  providers: readonly string[];
  windows: readonly string[];
}

/** The static shell: all data is fetched by the client script with the operator's token. */
export function DashboardPage({ nonce, providers, windows }: PageProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>Webhook gateway · operator</title>
        <style nonce={nonce} dangerouslySetInnerHTML={{ __html: DASHBOARD_CSS }} />
      </head>
      <body>
        <header class="top">
          <h1>
            Webhook gateway<span>operator dashboard</span>
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

            <section id="dead" class="card dead" aria-labelledby="dead-title">
              <h2 id="dead-title">
                Dead letters <span id="dead-count" class="count" />
              </h2>
              <EventTable name="dead" empty="No dead letters." />
            </section>

            <section id="stats" class="card" aria-labelledby="stats-title">
              <div class="stats-head">
                <h2 id="stats-title">
                  Traffic and failure rate <span id="stats-range" class="count" />
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
                <table>
                  <thead>
                    <tr>
                      <th>Provider</th>
                      <th class="num">Events</th>
                      <th class="num">Retrying</th>
                      <th class="num">Dead</th>
                      <th class="num">Fail rate</th>
                    </tr>
                  </thead>
                  <tbody id="stats-body" />
                </table>
              </div>
            </section>

            <section id="events" class="card" aria-labelledby="events-title">
              <h2 id="events-title">
                Recent events <span id="events-count" class="count" />
              </h2>
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
                <label>
                  Type (exact)
                  <input name="type" class="wide" maxlength={200} placeholder="payment.succeeded" />
                </label>
                <label>
                  Status
                  <select name="status">
                    <option value="">any</option>
                    <option value="processed">processed</option>
                    <option value="retrying">retrying</option>
                    <option value="dead">dead</option>
                  </select>
                </label>
                <label>
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
            <h2 id="detail-title">Event</h2>
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
            <h3>Effects</h3>
            <table>
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Status</th>
                  <th class="num">Attempts</th>
                  <th>Last error</th>
                </tr>
              </thead>
              <tbody id="effects-body" />
            </table>
            <p id="effects-empty" class="empty" hidden>
              No effects for this event.
            </p>
            <h3>Payload</h3>
            <pre id="payload" class="payload" />
          </div>
        </dialog>

        <script nonce={nonce} dangerouslySetInnerHTML={{ __html: CLIENT_SCRIPT }} />
      </body>
    </html>
  );
}

/** A list of events filled by the client script: `<name>-body`, `-empty` and `-more`. */
function EventTable({ name, empty }: { name: string; empty: string }) {
  return (
    <>
      <table id={`${name}-table`}>
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
      <p id={`${name}-empty`} class="empty" hidden>
        {empty}
      </p>
      <button id={`${name}-more`} class="more" type="button" hidden>
        Load more
      </button>
    </>
  );
}
