/* AI Gateway dashboard: small progressive enhancements over server-rendered pages.
 * Every change goes through the REST API with the session cookie and the CSRF header.
 * No build step: plain ES2020, loaded with `defer`. */
(function () {
  "use strict";

  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const i18n = JSON.parse(($("#i18n") || { textContent: "{}" }).textContent);
  const csrf = () => ($('meta[name="csrf-token"]') || {}).content || "";

  async function api(method, url, body) {
    const headers = { "X-CSRF-Token": csrf(), Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url, init);
    let data = null;
    try { data = await response.json(); } catch (_e) { data = null; }
    if (response.status === 401) { window.location.href = "/signin"; }
    return { ok: response.ok, status: response.status, data };
  }

  /* ---------------- numbers in the viewer's language ---------------- */
  const NUM = i18n.number || { decimal: ".", group: "," };

  /** Read a number typed the viewer's way into an exact decimal string for the API
   * (never a float): in pt-BR "1.000,50" -> "1000.50" and "1.000" -> "1000". A lone
   * separator that cannot be a thousands group ("1000.50" in pt-BR, "0,5" in English) is
   * the decimal point. Returns { value } or { code } (an error code of the catalog). */
  function parseDecimal(text) {
    const s = String(text).replace(/[\s\u00a0\u202f]/g, "");
    if (!s) return { code: "number_required" };
    const sign = s[0] === "-" ? "-" : "";
    const body = sign ? s.slice(1) : s;
    if (!/^[0-9.,]+$/.test(body) || !/[0-9]/.test(body)) return { code: "not_a_number" };
    const { decimal, group } = NUM;
    const count = (ch) => body.split(ch).length - 1;
    const grouped = (part) => new RegExp(`^[1-9][0-9]{0,2}(\\${group}[0-9]{3})+$`).test(part);
    let whole = body;
    let fraction = "";
    if (count(decimal) > 1) return { code: "ambiguous_number" };
    if (count(decimal) === 1) {
      [whole, fraction] = body.split(decimal);
      if (fraction.includes(group)) return { code: "ambiguous_number" };
      if (whole.includes(group)) {
        if (!grouped(whole)) return { code: "ambiguous_number" };
        whole = whole.split(group).join("");
      }
    } else if (count(group) > 0) {
      if (grouped(body)) whole = body.split(group).join("");
      else if (count(group) === 1) [whole, fraction] = body.split(group);
      else return { code: "ambiguous_number" };
    }
    if (!/^[0-9]*$/.test(whole) || !/^[0-9]*$/.test(fraction) || !(whole + fraction)) {
      return { code: "not_a_number" };
    }
    const digits = (whole.replace(/^0+(?=[0-9])/, "") || "0") + (fraction ? "." + fraction : "");
    return { value: sign + digits };
  }

  /** An exact decimal string shown the viewer's way (Intl formats strings exactly). */
  function formatDecimal(value, options) {
    return new Intl.NumberFormat(i18n.locale, options || { maximumFractionDigits: 20 }).format(String(value));
  }

  /** The text of an API error in the page's language: by its stable code; an English
   * page keeps the server's more precise message for the generic codes. */
  function errorText(error, root) {
    const code = error.code || "";
    const label = fieldLabel(root, error.param);
    const known = (i18n.errors || {})[code];
    if (i18n.server_messages && (!known || (i18n.generic_codes || []).includes(code))) {
      return error.message || i18n.error;
    }
    return (known || i18n.error).replace("{param}", label);
  }

  function fieldLabel(root, param) {
    if (!param) return i18n.this_field;
    const input = $(`[name="${param}"]`, root || document) || $(`[data-model-field="${param}"]`, root || document);
    const label = input && ((input.labels && input.labels[0]) || null);
    const text = label ? label.textContent.trim() : (input && input.getAttribute("aria-label"));
    return text ? `«${text}»` : i18n.this_field;
  }

  function localError(code) {
    return (i18n.errors || {})[code] || i18n[code] || i18n.error;
  }

  function toast(message, bad) {
    const el = $("#toast");
    if (!el) return;
    el.textContent = message;
    el.className = "toast show" + (bad ? " bad" : "");
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { el.className = "toast"; }, 2500);
  }

  function clearErrors(root) {
    $$("[data-error-for]", root).forEach((el) => { el.textContent = ""; });
    $$(".invalid", root).forEach((el) => el.classList.remove("invalid"));
    hideToast(); // an old message must not stay beside a new one
  }

  function hideToast() {
    const el = $("#toast");
    if (el) { el.className = "toast"; el.textContent = ""; }
    clearTimeout(toast.timer);
  }

  /** Put an API error next to its field (error.param), else in the form's status line. */
  function showError(root, result, fallbackParam) {
    const error = (result.data && result.data.error) || { message: i18n.error, code: "" };
    const param = error.param || fallbackParam;
    // A code the form words itself (data-msg-<code>, e.g. with the plan's ceiling) wins.
    const local = error.code && root.getAttribute && root.getAttribute("data-msg-" + error.code);
    const text = local || errorText(error, root);
    const slot = param && $(`[data-error-for="${param}"]`, root);
    if (slot) {
      slot.textContent = text;
      const input = $(`[name="${param}"]`, root);
      if (input) input.classList.add("invalid");
    } else {
      setStatus(root, text, true);
    }
    toast(text, true);
  }

  function setStatus(root, message, bad) {
    const el = $("[data-status]", root);
    if (el) { el.textContent = message; el.classList.toggle("bad", !!bad); }
  }

  function fieldError(root, param, message) {
    const slot = $(`[data-error-for="${param}"]`, root);
    if (slot) slot.textContent = message;
    const input = $(`[name="${param}"]`, root);
    if (input) input.classList.add("invalid");
    toast(message, true);
  }

  /* ---------------- charts (Chart.js) ---------------- */
  const COLORS = ["#2563eb", "#f59e0b", "#dc2626", "#16a34a", "#7c3aed", "#0891b2", "#db2777",
    "#65a30d", "#ea580c", "#475569"];
  window.aigwCharts = window.aigwCharts || {};

  function latencyDatasets(data, kind) {
    return [["P50", data.p50, COLORS[0]], ["P95", data.p95, COLORS[1]], ["P99", data.p99, COLORS[2]]]
      .map(([label, values, color]) => ({
        label, data: values, borderColor: color, backgroundColor: kind === "bar" ? color : color + "33",
        tension: 0.25, pointRadius: 2, fill: false,
      }));
  }

  const builders = {
    latency(data, canvas) {
      const kind = canvas.dataset.kind === "bar" ? "bar" : "line";
      return {
        type: kind,
        data: { labels: data.labels, datasets: latencyDatasets(data, kind) },
        options: {
          scales: { y: { beginAtZero: true, title: { display: true, text: "ms" } } },
          plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${formatDecimal(Math.round(c.parsed.y))} ms` } } },
        },
      };
    },
    pie(data) {
      return {
        type: "pie",
        data: { labels: data.labels, datasets: [{ data: data.values, backgroundColor: COLORS }] },
        // Beside the pie on a wide screen, below it on a phone.
        options: { plugins: { legend: { position: window.innerWidth < 600 ? "bottom" : "right" } } },
      };
    },
    clients(data) {
      const brl = new Intl.NumberFormat(i18n.locale, { style: "currency", currency: "BRL" });
      return {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [
            { label: i18n.requests, data: data.requests, backgroundColor: COLORS[0], yAxisID: "y" },
            { label: i18n.cost, data: data.cost, backgroundColor: COLORS[3], yAxisID: "y1" },
          ],
        },
        options: {
          scales: {
            y: { beginAtZero: true, position: "left" },
            y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false },
              ticks: { callback: (v) => brl.format(v) } },
          },
          plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ` +
            (c.dataset.yAxisID === "y1" ? brl.format(String(c.raw)) : formatDecimal(c.parsed.y)) } } },
        },
      };
    },
    savings(data) {
      // Saved per day (stacked bars, R$) and the cost reduction they make (line, %).
      const brl = new Intl.NumberFormat(i18n.locale, { style: "currency", currency: "BRL" });
      return {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [
            { label: data.names.cache, data: data.cache, backgroundColor: COLORS[3], stack: "saved", yAxisID: "y" },
            { label: data.names.prompt, data: data.prompt, backgroundColor: COLORS[5], stack: "saved", yAxisID: "y" },
            { label: data.names.reduction, data: data.reduction, type: "line", borderColor: COLORS[4],
              backgroundColor: COLORS[4], pointRadius: 2, tension: 0.25, yAxisID: "y1" },
          ],
        },
        options: {
          scales: {
            x: { stacked: true },
            y: { stacked: true, position: "left", ticks: { callback: (v) => brl.format(v) } },
            y1: { min: 0, max: 100, position: "right", grid: { drawOnChartArea: false },
              ticks: { callback: (v) => `${v} %` } },
          },
        },
      };
    },
  };

  function initCharts(root) {
    if (!window.Chart) return;
    window.Chart.defaults.animation = false;
    window.Chart.defaults.locale = i18n.locale; // axis ticks and tooltips: 3.500 in pt-BR
    window.Chart.defaults.maintainAspectRatio = false;
    $$("canvas[data-chart]", root).forEach((canvas) => {
      if (canvas.dataset.ready) return;
      const source = document.getElementById(canvas.dataset.source);
      const build = builders[canvas.dataset.chart];
      if (!source || !build) return;
      const old = window.aigwCharts[canvas.id];
      if (old) old.destroy();
      window.aigwCharts[canvas.id] = new window.Chart(canvas, build(JSON.parse(source.textContent), canvas));
      canvas.dataset.ready = "1";
    });
  }

  /* ---------------- ModelSelector ---------------- */
  function initModelSelector(el) {
    const list = $("[data-model-list]", el);
    const template = $("template[data-model-item]", el);
    const usd = new Intl.NumberFormat(i18n.locale, { style: "currency", currency: "USD", maximumFractionDigits: 3 });
    let latest = 0;
    async function load() {
      const cap = $("[data-capability]", el).value;
      const ticket = ++latest;
      const result = await api("GET", "/api/ai-gateway/models" + (cap ? `?capability=${encodeURIComponent(cap)}` : ""));
      if (ticket !== latest) return; // a newer filter's answer wins, whatever the arrival order
      list.innerHTML = "";
      if (!result.ok) { list.textContent = errorText((result.data && result.data.error) || {}, el); return; }
      result.data.data.forEach((model) => {
        const item = template.content.firstElementChild.cloneNode(true);
        item.dataset.model = model.id;
        $("[data-provider]", item).textContent = model.provider;
        $("[data-provider]", item).classList.add("p-" + model.provider);
        $("[data-name]", item).textContent = model.display_name + " (" + model.id + ")";
        // Decimal strings straight to Intl: exact, never through a float.
        const price = model.input_price_per_1m === null ? "—"
          : `${usd.format(model.input_price_per_1m)} / ${usd.format(model.output_price_per_1m)} · 1M`;
        $("[data-price]", item).textContent = price;
        $("[data-add]", item).addEventListener("click", () => {
          el.dispatchEvent(new CustomEvent("model-selected", { bubbles: true, detail: { id: model.id } }));
        });
        list.appendChild(item);
      });
    }
    $("[data-capability]", el).addEventListener("change", load);
    load();
  }

  /* ---------------- FallbackChainBuilder ---------------- */
  function initChainBuilder(builder) {
    const list = $("[data-chain]", builder);
    const renumber = () => {
      $$(".chain-item", list).forEach((li, i) => { $(".pos", li).textContent = String(i + 1); });
      $("[data-empty]", builder).hidden = list.children.length > 0;
    };
    const item = (id) => {
      const li = document.createElement("li");
      li.className = "chain-item";
      li.dataset.model = id;
      li.innerHTML = '<span class="handle" aria-hidden="true">⋮⋮</span><span class="pos"></span>' +
        '<span class="model-name"></span><button type="button" class="link danger" data-remove></button>';
      $(".model-name", li).textContent = id;
      $("[data-remove]", li).textContent = i18n.remove;
      return li;
    };
    if (window.Sortable) {
      // forceFallback: mouse and touch events rather than HTML5 drag and drop (same on every browser).
      window.Sortable.create(list, { animation: 120, onEnd: renumber, ghostClass: "dragging", forceFallback: true });
    }
    list.addEventListener("click", (e) => {
      const button = e.target.closest("[data-remove]");
      if (button) { button.closest("li").remove(); renumber(); }
    });
    builder.addEventListener("model-selected", (e) => {
      if ($$(".chain-item", list).some((li) => li.dataset.model === e.detail.id)) return;
      list.appendChild(item(e.detail.id));
      renumber();
    });
    $("[data-save-chain]", builder).addEventListener("click", async () => {
      clearErrors(builder);
      const chain = $$(".chain-item", list).map((li) => li.dataset.model);
      const result = await api("PUT", "/api/ai-gateway/config", { fallback_chain: chain });
      if (result.ok) { toast(i18n.saved); builder.dataset.saved = chain.join(","); }
      else showError(builder, result, "fallback_chain");
    });
    renumber();
  }

  /* ---------------- setup: keys, test, cache ---------------- */
  function initKeysForm(form) {
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearErrors(form);
      const keys = {};
      $$("input[type=password]", form).forEach((input) => { if (input.value.trim()) keys[input.name] = input.value.trim(); });
      if (!Object.keys(keys).length) { setStatus(form, "—"); return; }
      const result = await api("PUT", "/api/ai-gateway/config", { provider_keys: keys });
      if (!result.ok) { showError(form, result); return; }
      Object.entries(result.data.provider_keys).forEach(([name, masked]) => {
        const code = $(`[data-masked="${name}"]`, form);
        if (code && masked) code.textContent = masked;
      });
      $$("input[type=password]", form).forEach((input) => { input.value = ""; });
      setStatus(form, i18n.saved);
      toast(i18n.saved);
    });
    const test = $("[data-test-gateway]", form);
    test.addEventListener("click", async () => {
      const out = $("[data-test-results]", form);
      out.innerHTML = `<li class="muted">${i18n.testing}</li>`;
      test.disabled = true;
      const result = await api("POST", "/api/ai-gateway/config/test");
      test.disabled = false;
      out.innerHTML = "";
      if (!result.ok) { showError(form, result); return; }
      if (!result.data.count) {
        // Nothing was tested: say why, rather than an empty list.
        const li = document.createElement("li");
        li.className = "bad";
        li.dataset.noKeys = "1";
        li.textContent = "✘ " + localError("no_keys_configured");
        out.appendChild(li);
        toast(li.textContent, true);
        return;
      }
      result.data.data.forEach((check) => {
        const li = document.createElement("li");
        li.className = check.ok ? "ok" : "bad";
        li.dataset.provider = check.provider;
        const reason = i18n.server_messages ? check.error
          : ((i18n.reasons || {})[check.error_code] || i18n.failed);
        if (!check.ok) li.title = check.error || "";
        li.textContent = `${check.ok ? "✔" : "✘"} ${check.provider}${check.model ? " · " + check.model : ""}: ` +
          (check.ok ? `${i18n.ok} (${formatDecimal(check.latency_ms)} ms)` : `${i18n.failed}: ${reason}`);
        out.appendChild(li);
      });
    });
  }

  function initCacheForm(form) {
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearErrors(form);
      const parsed = parseDecimal(form.cache_ttl_seconds.value);
      if (parsed.code || !/^[0-9]+$/.test(parsed.value)) {
        fieldError(form, "cache_ttl_seconds", parsed.code ? localError(parsed.code) : i18n.whole_number);
        return;
      }
      const ttl = Number(parsed.value);
      const result = await api("PUT", "/api/ai-gateway/config", {
        cache_enabled: form.cache_enabled.checked, cache_ttl_seconds: ttl, cache_scope: form.cache_scope.value,
        cache_nondeterministic: form.cache_nondeterministic.checked, cache_count_tokens: form.cache_count_tokens.checked,
      });
      if (result.ok) { setStatus(form, i18n.saved); toast(i18n.saved); }
      else showError(form, result, "cache_ttl_seconds");
    });
  }

  /* ---------------- BudgetConfiguration ---------------- */
  function initBudgetForm(form) {
    const query = form.dataset.client ? `?client_id=${encodeURIComponent(form.dataset.client)}` : "";
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearErrors(form);
      setStatus(form, "");
      // "1.000" in pt-BR is one thousand: parse with the page's separators, exactly.
      const parsed = parseDecimal(form.limit.value);
      if (parsed.code) { fieldError(form, "limit", localError(parsed.code)); return; }
      const limit = parsed.value;
      const thresholds = $$('input[name="alert_thresholds"]:checked', form).map((c) => Number(c.value));
      const result = await api("POST", "/api/budget/config" + query, {
        budget_type: form.budget_type.value, limit, period: form.period.value,
        alert_thresholds: thresholds, pause_at_limit: form.pause_at_limit.checked,
      });
      if (!result.ok) { showError(form, result); return; }
      setStatus(form, i18n.saved);
      toast(i18n.saved);
      setTimeout(() => window.location.reload(), 400);
    });
    form.addEventListener("reset", () => { clearErrors(form); setStatus(form, ""); });
    const reset = $("[data-reset-budget]", form);
    if (reset) reset.addEventListener("click", async () => {
      if (!window.confirm(i18n.confirm)) return;
      const result = await api("DELETE", "/api/budget/config" + query);
      if (result.ok) window.location.reload(); else showError(form, result);
    });
  }

  /* ---------------- admin tables ---------------- */
  function initClients(table) {
    table.addEventListener("change", async (e) => {
      const field = e.target.dataset.clientField;
      if (!field) return;
      const row = e.target.closest("[data-client-row]");
      const value = e.target.type === "checkbox" ? e.target.checked : e.target.value;
      const result = await api("PATCH", `/api/clients/${row.dataset.clientRow}`, { [field]: value });
      if (result.ok) toast(i18n.saved); else showError(row, result);
    });
    table.addEventListener("click", async (e) => {
      const button = e.target.closest("[data-toggle-pause]");
      if (!button) return;
      const row = button.closest("[data-client-row]");
      const paused = button.dataset.paused === "true";
      const result = await api("PATCH", `/api/clients/${row.dataset.clientRow}`, { status: paused ? "active" : "paused" });
      if (result.ok) window.location.reload(); else showError(row, result);
    });
  }

  /* ---------------- RateLimitsForm (a client's or a plan's limits) ---------------- */
  function initLimitsForm(form) {
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearErrors(form);
      setStatus(form, "");
      const body = {};
      let bad = false;
      $$("input[name]", form).forEach((input) => {
        const text = input.value.trim();
        if (!text) { body[input.name] = null; return; }
        const value = Number(text);
        if (!Number.isInteger(value) || value < 1) {
          fieldError(form, input.name, "⚠ " + input.labels[0].textContent);
          bad = true;
        }
        body[input.name] = value;
      });
      if (bad) return;
      const result = await api("PUT", form.dataset.url, body);
      if (!result.ok) { showError(form, result); return; }
      setStatus(form, i18n.saved);
      toast(i18n.saved);
      setTimeout(() => window.location.reload(), 400);
    });
  }

  function initRollout(form) {
    const out = $("[data-rollout-output]", form);
    form.percent.addEventListener("input", () => { out.textContent = form.percent.value + " %"; });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const result = await api("POST", "/api/clients/rollout", { percent: Number(form.percent.value) });
      if (result.ok) { toast(i18n.saved); setTimeout(() => window.location.reload(), 300); }
      else showError(form, result);
    });
  }

  function initModels(table) {
    table.addEventListener("click", async (e) => {
      const button = e.target.closest("[data-save-model]");
      if (!button) return;
      const row = button.closest("[data-model-row]");
      const body = { capabilities: $$("[data-cap]:checked", row).map((c) => c.dataset.cap) };
      const slot = $("[data-model-error]", row);
      let bad = null;
      $$("[data-model-field]", row).forEach((input) => {
        input.classList.remove("invalid");
        if (input.type === "checkbox") { body[input.dataset.modelField] = input.checked; return; }
        if (!input.value.trim()) return;
        const parsed = parseDecimal(input.value);
        if (parsed.code) { input.classList.add("invalid"); bad = bad || localError(parsed.code); }
        else body[input.dataset.modelField] = parsed.value;
      });
      if (bad) { slot.textContent = bad; toast(bad, true); return; }
      const result = await api("PUT", `/api/ai-gateway/models/${row.dataset.modelRow}`, body);
      const text = result.ok ? "" : errorText(result.data.error, row);
      slot.textContent = text;
      row.classList.toggle("inactive", result.ok && !body.is_active);
      if (result.ok) { hideToast(); toast(i18n.saved); } else toast(text, true);
    });
  }

  function initCache() {
    document.addEventListener("click", async (e) => {
      const one = e.target.closest("[data-invalidate]");
      const all = e.target.closest("[data-invalidate-all]");
      if (!one && !all) return;
      if (all && !window.confirm(i18n.confirm)) return;
      const query = one ? `key=${encodeURIComponent(one.dataset.invalidate)}` : "all=true";
      const result = await api("DELETE", `/api/ai-gateway/cache?${query}`);
      if (!result.ok) { toast(errorText((result.data && result.data.error) || {}), true); return; }
      const message = one ? i18n.invalidated_one
        : i18n.invalidated_all.replace("{n}", formatDecimal(result.data.deleted));
      if (one) one.closest("tr").remove(); else $$("[data-cache-row]").forEach((tr) => tr.remove());
      const count = $("[data-cache-count]");
      if (count) count.textContent = formatDecimal($$("[data-cache-row]").length);
      const status = $("[data-cache-status]");
      if (status) { status.textContent = message; status.hidden = false; }
      toast(message);
    });
    document.addEventListener("click", async (e) => {
      const one = e.target.closest("[data-semantic-purge]");
      const all = e.target.closest("[data-semantic-purge-all]");
      if (!one && !all) return;
      if (all && !window.confirm(i18n.confirm)) return;
      const query = one ? `entry_id=${encodeURIComponent(one.dataset.semanticPurge)}` : "all=true";
      const result = await api("DELETE", `/api/ai-gateway/cache/semantic?${query}`);
      if (!result.ok) { toast(errorText((result.data && result.data.error) || {}), true); return; }
      const message = one ? i18n.invalidated_one
        : i18n.invalidated_all.replace("{n}", formatDecimal(result.data.deleted));
      if (one) one.closest("tr").remove(); else $$("[data-semantic-row]").forEach((tr) => tr.remove());
      const count = $("[data-semantic-count]");
      if (count) count.textContent = formatDecimal($$("[data-semantic-row]").length);
      const status = $("[data-semantic-status]");
      if (status) { status.textContent = message; status.hidden = false; }
      toast(message);
    });
  }

  /* ---------------- phone layout ---------------- */
  function initNav() {
    const button = $("[data-nav-toggle]");
    const bar = $("#topbar");
    if (!button || !bar) return;
    button.addEventListener("click", () => {
      const open = bar.classList.toggle("nav-open");
      button.setAttribute("aria-expanded", String(open));
    });
  }

  /** Every table scrolls inside its own box (never the page) and says so when it does. */
  function initTables(root) {
    $$("table", root).forEach((table) => {
      if (table.closest(".table-wrap")) return;
      const wrap = document.createElement("div");
      wrap.className = "table-wrap";
      table.parentNode.insertBefore(wrap, table);
      wrap.appendChild(table);
    });
    // A "stack" table becomes a list of cards on a phone: each cell shows its header.
    $$("table.stack", root).forEach((table) => {
      const heads = $$("thead th", table).map((th) => th.textContent.trim());
      $$("tbody tr", table).forEach((tr) => {
        Array.from(tr.children).forEach((td, i) => { if (!td.dataset.label) td.dataset.label = heads[i] || ""; });
      });
    });
    $$(".table-wrap", root).forEach((wrap) => {
      wrap.dataset.hint = i18n.scroll_hint || "→";
      wrap.classList.toggle("scrolls", wrap.scrollWidth > wrap.clientWidth + 1);
    });
  }

  // Widths set from script, not style="" attributes: the CSP allows no inline style.
  function initBars(root) {
    $$("[data-width]", root).forEach((el) => { el.style.width = `${Number(el.dataset.width) || 0}%`; });
  }

  function init(root) {
    initTables(root);
    initCharts(root);
    initBars(root);
    $$("[data-model-selector]", root).forEach(initModelSelector);
    $$("[data-chain-builder]", root).forEach(initChainBuilder);
    $$("[data-keys-form]", root).forEach(initKeysForm);
    $$("[data-cache-form]", root).forEach(initCacheForm);
    $$("[data-budget-form]", root).forEach(initBudgetForm);
    $$("#clients-table", root).forEach(initClients);
    $$("[data-rollout-form]", root).forEach(initRollout);
    $$("[data-limits-form]", root).forEach(initLimitsForm);
    $$("#models-table", root).forEach(initModels);
  }

  document.addEventListener("htmx:configRequest", (e) => { e.detail.headers["X-CSRF-Token"] = csrf(); });
  document.addEventListener("htmx:afterSettle", (e) => { initCharts(e.target); initTables(e.target); initBars(e.target); });
  window.addEventListener("resize", () => initTables(document));
  /** Tell the server the browser's time zone (the operator's pages show times in it). */
  function rememberTimeZone() {
    let zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (_e) { return; }
    if (!/^[A-Za-z0-9_+\-/]{1,64}$/.test(zone)) return;
    if (document.cookie.split("; ").includes("aigw_tz=" + zone)) return;
    document.cookie = `aigw_tz=${zone}; path=/; max-age=31536000; samesite=lax`;
  }

  document.addEventListener("DOMContentLoaded", () => {
    rememberTimeZone();
    initNav();
    init(document);
    if ($("[data-invalidate]") || $("[data-invalidate-all]")) initCache();
    document.body.dataset.ready = "1";
  });
  window.aigw = { api, initCharts, parseDecimal, formatDecimal, errorText,
    // for operator.js
    showError, toast, clearErrors, setStatus, localError, fieldError };
})();
