/**
 * The dashboard's browser script, inlined under the page's CSP nonce. Plain JavaScript in a
 * string (the Worker bundler would rewrite a real function), so: no backticks, no `${`.
 *
 * Rules it keeps: every value from the API reaches the DOM through textContent or
 * setAttribute on inert attributes, never innerHTML; the token lives in sessionStorage and
 * travels only in the Authorization header.
 */
export const CLIENT_SCRIPT = String.raw`
(function () {
  "use strict";
  var TOKEN_KEY = "gateway.operatorToken";
  var PAGE_SIZE = 50;
  var DEAD_PAGE_SIZE = 20;
  var AUTO_REFRESH_MS = 10000;
  var STATUSES = ["processed", "retrying", "dead", "done", "failed", "pending", "running"];

  var $ = function (id) { return document.getElementById(id); };
  var state = {
    filters: {},
    events: { cursor: null, pages: 0, gen: 0 },
    dead: { cursor: null, pages: 0, gen: 0 },
    window: "1h",
    providers: [],
    detailId: null,
    detailGen: 0,
    timer: null,
  };

  // ---- DOM helpers: text only ------------------------------------------------------
  function el(tag, attrs) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    for (var i = 2; i < arguments.length; i++) appendChild(node, arguments[i]);
    return node;
  }
  var SVG_NS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    var node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    for (var i = 2; i < arguments.length; i++) appendChild(node, arguments[i]);
    return node;
  }
  function setAttrs(node, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (key) {
      if (attrs[key] !== undefined && attrs[key] !== null) node.setAttribute(key, String(attrs[key]));
    });
  }
  function appendChild(node, child) {
    if (child === undefined || child === null || child === false) return;
    node.append(typeof child === "object" ? child : String(child));
  }
  function setMessage(node, text, kind) {
    node.textContent = text || "";
    node.className = "message" + (text ? " " + (kind || "error") : "");
  }

  // ---- formatting --------------------------------------------------------------------
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function hhmm(ms) { var d = new Date(ms); return two(d.getHours()) + ":" + two(d.getMinutes()); }
  function fmtTime(iso) {
    if (!iso) return "—";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    var time = hhmm(d.getTime()) + ":" + two(d.getSeconds());
    if (d.toDateString() === new Date().toDateString()) return time;
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " + time;
  }
  function pct(x) { return (Math.round(x * 1000) / 10) + "%"; }
  function providerClass(name) {
    var i = state.providers.indexOf(name);
    return "c" + (i < 0 ? 5 : i % 5);
  }
  function badge(status) {
    var known = STATUSES.indexOf(status) >= 0;
    return el("span", { class: "badge " + (known ? "b-" + status : "b-other") }, status);
  }
  function providerLabel(name) {
    return el("span", { class: "prov" }, el("span", { class: "sw " + providerClass(name) }), name);
  }

  // ---- the operator API --------------------------------------------------------------
  function ApiError(message, status, code) {
    this.message = message;
    this.status = status;
    this.code = code;
  }
  function getToken() {
    try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }
  function api(path, options) {
    options = options || {};
    var token = options.token || getToken();
    if (!token) return Promise.reject(new ApiError("token rejected: not signed in", 401, "unauthorized"));
    return fetch(path, {
      method: options.method || "GET",
      headers: { authorization: "Bearer " + token, accept: "application/json" },
      cache: "no-store",
      credentials: "omit",
      redirect: "error",
    }).then(
      function (response) {
        return response.text().then(function (text) {
          var body = null;
          try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
          if (response.ok) return { status: response.status, body: body, text: text };
          var code = (body && body.error && body.error.code) || "http_" + response.status;
          if (response.status === 401) {
            throw new ApiError("token rejected: the operator API refused this token (401)", 401, code);
          }
          if (response.status === 503 && code === "admin_api_disabled") {
            throw new ApiError("operator API disabled: set ADMIN_API_TOKEN on the gateway", 503, code);
          }
          var detail = body && body.error && body.error.message ? ": " + body.error.message : "";
          throw new ApiError("request failed (" + response.status + " " + code + ")" + detail, response.status, code);
        });
      },
      function (error) {
        throw new ApiError("network error: " + (error && error.message ? error.message : error), 0, "network");
      },
    );
  }
  /** A session-ending answer (bad token, API switched off) sends the operator back to sign in. */
  function handleError(error, where) {
    if (!(error instanceof ApiError)) error = new ApiError(String(error && error.message ? error.message : error), 0, "client");
    if (error.status === 401 || error.code === "admin_api_disabled") {
      logout(error.message);
      return;
    }
    setMessage(where || $("app-message"), error.message, "error");
  }

  // ---- session -----------------------------------------------------------------------
  function showApp(signedIn) {
    $("login").hidden = signedIn;
    $("app").hidden = !signedIn;
    $("session").hidden = !signedIn;
  }
  function logout(message) {
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage unavailable */ }
    stopTimer();
    state.events.gen++;
    state.dead.gen++;
    state.detailGen++;
    ["events-body", "dead-body", "stats-body", "effects-body", "detail-meta", "chart", "legend"].forEach(function (id) {
      $(id).replaceChildren();
    });
    $("payload").textContent = "";
    if ($("detail").open) $("detail").close();
    setMessage($("app-message"), "");
    showApp(false);
    setMessage($("login-message"), message || "Signed out.", message ? "error" : "info");
    $("token").value = "";
    $("token").focus();
  }

  $("login-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var token = $("token").value.trim();
    var message = $("login-message");
    if (!token) { setMessage(message, "Enter the operator token.", "error"); return; }
    if (!/^[\x21-\x7e]+$/.test(token)) {
      setMessage(message, "token rejected: a bearer token is printable ASCII without spaces", "error");
      return;
    }
    setMessage(message, "Checking the token…", "info");
    api("/api/events?limit=1", { token: token }).then(
      function () {
        try { sessionStorage.setItem(TOKEN_KEY, token); } catch (e) { /* kept for this page only */ }
        $("token").value = "";
        setMessage(message, "");
        showApp(true);
        refreshAll(true);
      },
      function (error) {
        setMessage(message, error instanceof ApiError ? error.message : String(error), "error");
      },
    );
  });
  $("logout").addEventListener("click", function () { logout(); });

  // ---- event lists -------------------------------------------------------------------
  function eventRow(event) {
    var row = el(
      "tr",
      { class: "row", "data-id": event.id },
      el("td", { class: "time", title: event.receivedAt }, fmtTime(event.receivedAt)),
      el("td", null, providerLabel(event.provider)),
      el("td", { class: "type" }, el("button", { type: "button", class: "link", title: event.id }, event.type)),
      el("td", null, badge(event.status)),
      el("td", { class: "num" }, event.attempts),
      el("td", { class: event.lastError ? "err" : "err none", title: event.lastError || "" }, event.lastError || "—"),
    );
    row.addEventListener("click", function () { openDetail(event.id); });
    return row;
  }

  function loadList(list, ids, query, pageSize, append) {
    var params = new URLSearchParams();
    Object.keys(query).forEach(function (key) { if (query[key]) params.set(key, query[key]); });
    params.set("limit", String(pageSize));
    if (append) {
      if (!list.cursor) return Promise.resolve();
      params.set("cursor", list.cursor);
    } else {
      list.gen++;
    }
    var gen = list.gen;
    $(ids.more).disabled = true;
    return api("/api/events?" + params.toString())
      .then(function (result) {
        if (gen !== list.gen) return;
        var body = $(ids.body);
        if (!append) body.replaceChildren();
        result.body.events.forEach(function (event) { body.append(eventRow(event)); });
        list.cursor = result.body.nextCursor;
        list.pages = append ? list.pages + 1 : 1;
        $(ids.more).hidden = !list.cursor;
        $(ids.empty).hidden = body.children.length > 0;
        $(ids.table).hidden = body.children.length === 0;
        $(ids.count).textContent = body.children.length ? body.children.length + (list.cursor ? "+" : "") + " shown" : "";
      })
      .finally(function () { $(ids.more).disabled = false; });
  }
  var EVENTS_IDS = { table: "events-table", body: "events-body", more: "events-more", empty: "events-empty", count: "events-count" };
  var DEAD_IDS = { table: "dead-table", body: "dead-body", more: "dead-more", empty: "dead-empty", count: "dead-count" };
  function loadEvents(append) { return loadList(state.events, EVENTS_IDS, state.filters, PAGE_SIZE, append); }
  function loadDead(append) { return loadList(state.dead, DEAD_IDS, { status: "dead" }, DEAD_PAGE_SIZE, append); }

  $("events-more").addEventListener("click", function () { loadEvents(true).catch(function (e) { handleError(e); }); });
  $("dead-more").addEventListener("click", function () { loadDead(true).catch(function (e) { handleError(e); }); });

  function readFilters() {
    var form = $("filters");
    var filters = {};
    ["provider", "type", "status", "dedupeKey"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) filters[name] = value;
    });
    return filters;
  }
  $("filters").addEventListener("submit", function (event) {
    event.preventDefault();
    state.filters = readFilters();
    setMessage($("app-message"), "");
    loadEvents(false).catch(function (e) { handleError(e); });
  });
  $("filters").addEventListener("reset", function () {
    state.filters = {};
    setTimeout(function () { loadEvents(false).catch(function (e) { handleError(e); }); }, 0);
  });

  // ---- stats chart -------------------------------------------------------------------
  function niceMax(n) {
    if (n <= 4) return 4;
    var magnitude = Math.pow(10, Math.floor(Math.log10(n)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * magnitude >= n) return Math.ceil((steps[i] * magnitude) / 4) * 4;
    return n;
  }
  function renderStats(stats) {
    state.providers = stats.providers.map(function (p) { return p.provider; });
    var from = Date.parse(stats.from);
    var to = Date.parse(stats.to);
    var step = stats.bucketSeconds * 1000;
    var n = Math.max(1, Math.round((to - from) / step));
    var grid = [];
    for (var i = 0; i < n; i++) grid.push({ total: 0, failed: 0, by: {} });
    stats.buckets.forEach(function (b) {
      var index = Math.floor((Date.parse(b.start) - from) / step);
      if (index < 0 || index >= n) return;
      var cell = grid[index];
      cell.total += b.total;
      cell.failed += b.retrying + b.dead;
      cell.by[b.provider] = (cell.by[b.provider] || 0) + b.total;
    });

    var W = 760, H = 230, L = 40, R = 46, T = 12, B = 30;
    var pw = W - L - R, ph = H - T - B;
    var max = niceMax(Math.max.apply(null, grid.map(function (c) { return c.total; })));
    var bw = pw / n;
    var gap = bw > 4 ? Math.min(3, bw * 0.2) : 0;
    var unit = stats.bucketSeconds === 60 ? "minute" : stats.bucketSeconds / 60 + " minutes";
    var root = svg("svg", {
      class: "chart",
      viewBox: "0 0 " + W + " " + H,
      role: "img",
      "aria-label": "Events per " + unit + " by provider, with the failure rate",
    });
    for (var k = 0; k <= 4; k++) {
      var y = T + ph - (ph * k) / 4;
      root.append(svg("line", { class: k ? "grid" : "baseline", x1: L, x2: L + pw, y1: y, y2: y }));
      root.append(svg("text", { class: "axis", x: L - 6, y: y + 3.5, "text-anchor": "end" }, Math.round((max * k) / 4)));
      root.append(svg("text", { class: "axis rate", x: L + pw + 6, y: y + 3.5 }, k * 25 + "%"));
    }
    var points = [];
    grid.forEach(function (cell, index) {
      var x = L + index * bw + gap / 2;
      var yTop = T + ph;
      state.providers.forEach(function (provider) {
        var count = cell.by[provider] || 0;
        if (!count) return;
        var h = (ph * count) / max;
        yTop -= h;
        root.append(
          svg(
            "rect",
            { class: "bar " + providerClass(provider), x: x.toFixed(2), y: yTop.toFixed(2), width: Math.max(1, bw - gap).toFixed(2), height: h.toFixed(2) },
            svg("title", null, hhmm(from + index * step) + " · " + provider + ": " + count),
          ),
        );
      });
      if (cell.total) points.push({ x: L + (index + 0.5) * bw, y: T + ph - (ph * cell.failed) / cell.total, cell: cell, at: from + index * step });
    });
    if (points.length > 1) {
      root.append(svg("polyline", { class: "rate-line", points: points.map(function (p) { return p.x.toFixed(1) + "," + p.y.toFixed(1); }).join(" ") }));
    }
    points.forEach(function (p) {
      root.append(
        svg(
          "circle",
          { class: "rate-dot", cx: p.x.toFixed(1), cy: p.y.toFixed(1), r: 2.6 },
          svg("title", null, hhmm(p.at) + " · failure rate " + pct(p.cell.failed / p.cell.total) + " (" + p.cell.failed + " of " + p.cell.total + ")"),
        ),
      );
    });
    // Time labels on round clock times, at most about eight of them.
    var tickMinutes = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360].filter(function (m) {
      return m * 60000 >= step && (to - from) / (m * 60000) <= 8;
    })[0] || 360;
    var tickMs = tickMinutes * 60000;
    for (var at = Math.ceil(from / tickMs) * tickMs; at <= to; at += tickMs) {
      var tx = L + ((at - from) / (to - from)) * pw;
      root.append(svg("text", { class: "axis", x: tx.toFixed(1), y: H - 10, "text-anchor": "middle" }, hhmm(at)));
    }
    if (!stats.buckets.length) {
      root.append(svg("text", { class: "nodata", x: L + pw / 2, y: T + ph / 2, "text-anchor": "middle" }, "No events in this window"));
    }
    $("chart").replaceChildren(root);

    var legend = state.providers.map(function (p) { return el("span", null, el("span", { class: "sw " + providerClass(p) }), p); });
    legend.push(el("span", null, el("span", { class: "sw rate" }), "failure rate (retrying + dead)"));
    legend.push(el("span", null, "one bar per " + unit));
    $("legend").replaceChildren.apply($("legend"), legend);
    $("stats-range").textContent = hhmm(from) + "–" + hhmm(to);

    var rows = stats.providers.map(function (p) {
      return el(
        "tr",
        null,
        el("td", null, providerLabel(p.provider)),
        el("td", { class: "num" }, p.total),
        el("td", { class: "num" }, p.retrying),
        el("td", { class: "num" }, p.dead),
        el("td", { class: "num" }, p.total ? pct(p.failureRate) : "—"),
      );
    });
    $("stats-body").replaceChildren.apply($("stats-body"), rows);
  }
  var statsGen = 0;
  function loadStats() {
    var gen = ++statsGen;
    return api("/api/stats?window=" + encodeURIComponent(state.window)).then(function (result) {
      if (gen === statsGen) renderStats(result.body);
    });
  }
  $("window").addEventListener("change", function (event) {
    state.window = event.target.value;
    loadStats().catch(function (e) { handleError(e); });
  });

  // ---- detail and replay -------------------------------------------------------------
  function skipWs(text, i) {
    while (i < text.length && " \t\r\n".indexOf(text[i]) >= 0) i++;
    return i;
  }
  function skipString(text, i) {
    for (i++; i < text.length; i++) {
      if (text[i] === "\\") i++;
      else if (text[i] === '"') return i + 1;
    }
    return -1;
  }
  function skipValue(text, i) {
    var c = text[i];
    if (c === '"') return skipString(text, i);
    if (c === "{" || c === "[") {
      var depth = 0;
      for (; i < text.length; i++) {
        c = text[i];
        if (c === '"') { i = skipString(text, i); if (i < 0) return -1; i--; }
        else if (c === "{" || c === "[") depth++;
        else if (c === "}" || c === "]") { depth--; if (depth === 0) return i + 1; }
      }
      return -1;
    }
    while (i < text.length && ",}] \t\r\n".indexOf(text[i]) < 0) i++;
    return i;
  }
  /** The raw text of a top-level member, so 64-bit ids are shown digit for digit. */
  function rawMember(text, name) {
    var i = skipWs(text, 0);
    if (text[i] !== "{") return null;
    i++;
    for (;;) {
      i = skipWs(text, i);
      if (text[i] !== '"') return null;
      var keyEnd = skipString(text, i);
      if (keyEnd < 0) return null;
      var key = JSON.parse(text.slice(i, keyEnd));
      i = skipWs(text, keyEnd);
      if (text[i] !== ":") return null;
      i = skipWs(text, i + 1);
      var end = skipValue(text, i);
      if (end < 0) return null;
      if (key === name) return text.slice(i, end);
      i = skipWs(text, end);
      if (text[i] !== ",") return null;
      i++;
    }
  }
  /** Re-indents JSON text without parsing numbers. */
  function prettyJson(text) {
    var out = "";
    var depth = 0;
    var pad = function (d) { return "\n" + "  ".repeat(Math.max(0, d)); };
    for (var i = 0; i < text.length; i++) {
      var c = text[i];
      if (c === '"') {
        var end = skipString(text, i);
        if (end < 0) return text;
        out += text.slice(i, end);
        i = end - 1;
      } else if (" \t\r\n".indexOf(c) >= 0) {
        continue;
      } else if (c === "{" || c === "[") {
        var next = skipWs(text, i + 1);
        if (text[next] === (c === "{" ? "}" : "]")) { out += c + text[next]; i = next; continue; }
        depth++;
        out += c + pad(depth);
      } else if (c === "}" || c === "]") {
        depth--;
        out += pad(depth) + c;
      } else if (c === ",") {
        out += "," + pad(depth);
      } else if (c === ":") {
        out += ": ";
      } else {
        out += c;
      }
    }
    return out;
  }

  function renderDetail(result) {
    var event = result.body;
    $("detail-title").textContent = event.type;
    var fields = [
      ["id", event.id],
      ["provider", event.provider],
      ["type", event.type],
      ["status", event.status],
      ["attempts", event.attempts],
      ["dedupe key", event.dedupeKey],
      ["received", event.receivedAt],
      ["occurred", event.occurredAt],
      ["updated", event.updatedAt],
      ["last error", event.lastError],
    ];
    $("detail-meta").replaceChildren.apply(
      $("detail-meta"),
      fields.reduce(function (nodes, field) {
        var value = field[1] === null || field[1] === undefined || field[1] === "" ? "—" : field[1];
        nodes.push(el("dt", null, field[0]), el("dd", null, field[0] === "status" ? badge(String(value)) : value));
        return nodes;
      }, []),
    );
    var effects = Array.isArray(event.effects) ? event.effects : [];
    $("effects-body").replaceChildren.apply(
      $("effects-body"),
      effects.map(function (effect) {
        return el(
          "tr",
          null,
          el("td", null, effect.name),
          el("td", null, badge(effect.status)),
          el("td", { class: "num" }, effect.attempts),
          el("td", { class: effect.lastError ? "err" : "err none", title: effect.lastError || "" }, effect.lastError || "—"),
        );
      }),
    );
    $("effects-empty").hidden = effects.length > 0;
    var raw = null;
    try { raw = rawMember(result.text, "payload"); } catch (e) { raw = null; }
    $("payload").textContent = raw === null ? JSON.stringify(event.payload, null, 2) : prettyJson(raw);
  }
  function loadDetail(id) {
    var gen = ++state.detailGen;
    return api("/api/events/" + encodeURIComponent(id)).then(function (result) {
      if (gen === state.detailGen) renderDetail(result);
    });
  }
  function openDetail(id) {
    state.detailId = id;
    $("detail-title").textContent = "Loading…";
    $("detail-meta").replaceChildren();
    $("effects-body").replaceChildren();
    $("effects-empty").hidden = true;
    $("payload").textContent = "";
    setMessage($("detail-message"), "");
    setMessage($("replay-message"), "");
    $("replay").disabled = false;
    if (!$("detail").open) $("detail").showModal();
    loadDetail(id).catch(function (e) { handleError(e, $("detail-message")); });
  }
  $("detail-close").addEventListener("click", function () { $("detail").close(); });
  $("detail").addEventListener("close", function () { state.detailId = null; state.detailGen++; });
  $("replay").addEventListener("click", function () {
    var id = state.detailId;
    if (!id) return;
    $("replay").disabled = true;
    setMessage($("replay-message"), "Queueing replay…", "info");
    api("/api/events/" + encodeURIComponent(id) + "/replay", { method: "POST" })
      .then(function () {
        if (state.detailId !== id) return;
        setMessage($("replay-message"), "replay queued", "ok");
        // The consumer picks it up within seconds; show the outcome without a click.
        setTimeout(function () {
          if (state.detailId === id) loadDetail(id).catch(function (e) { handleError(e, $("detail-message")); });
          refreshAll(false);
        }, 2500);
      })
      .catch(function (e) { handleError(e, $("replay-message")); })
      .finally(function () { $("replay").disabled = false; });
  });

  // ---- refresh -----------------------------------------------------------------------
  function refreshAll(reset) {
    if (!getToken()) return Promise.resolve();
    var tasks = [loadStats()];
    // Auto-refresh leaves a list alone once the operator paged into it.
    if (reset || state.dead.pages <= 1) tasks.push(loadDead(false));
    if (reset || state.events.pages <= 1) tasks.push(loadEvents(false));
    return Promise.all(tasks).then(
      function () {
        $("updated").textContent = "updated " + fmtTime(new Date().toISOString());
        if ($("app-message").className.indexOf("error") >= 0) setMessage($("app-message"), "");
        startTimer();
      },
      function (e) {
        handleError(e);
        if (getToken()) startTimer();
      },
    );
  }
  function stopTimer() {
    if (state.timer) clearTimeout(state.timer);
    state.timer = null;
  }
  function startTimer() {
    stopTimer();
    if (!$("auto").checked) return;
    state.timer = setTimeout(function () {
      if (document.visibilityState === "hidden" || $("detail").open) { startTimer(); return; }
      refreshAll(false);
    }, AUTO_REFRESH_MS);
  }
  $("refresh").addEventListener("click", function () { refreshAll(true); });
  $("auto").addEventListener("change", startTimer);

  if (getToken()) {
    showApp(true);
    refreshAll(true);
  } else {
    showApp(false);
    $("token").focus();
  }
})();
`;
