/* The operator's management pages: create clients, edit contacts and plan, issue and
 * revoke keys (a new key is shown once), alert settings and the test alert, add and
 * disable models. Every change goes through the REST API (app.js's `api`: session cookie
 * + X-CSRF-Token); a destructive one asks first, in an inline box in the page's language.
 * Plain ES2020, no build step, loaded after app.js. */
(function () {
  "use strict";

  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const words = () => JSON.parse(($("#operator-i18n") || { textContent: "{}" }).textContent);
  const base = () => JSON.parse(($("#i18n") || { textContent: "{}" }).textContent);

  /** Ask before a destructive action: an inline box after `anchor`; resolves true/false. */
  function confirmStep(anchor, message) {
    const old = anchor.parentNode.querySelector(".confirm-box");
    if (old) old.remove();
    const t = words();
    const box = document.createElement("div");
    box.className = "confirm-box";
    box.setAttribute("role", "alertdialog");
    box.innerHTML = '<span></span><button type="button" class="small-button danger" data-confirm-yes></button>' +
      '<button type="button" class="small-button" data-confirm-no></button>';
    $("span", box).textContent = message;
    $("[data-confirm-yes]", box).textContent = t.confirm;
    $("[data-confirm-no]", box).textContent = t.cancel;
    anchor.insertAdjacentElement("afterend", box);
    $("[data-confirm-no]", box).focus();
    return new Promise((resolve) => {
      box.addEventListener("click", (e) => {
        const yes = e.target.closest("[data-confirm-yes]");
        const no = e.target.closest("[data-confirm-no]");
        if (!yes && !no) return;
        box.remove();
        resolve(!!yes);
      });
    });
  }

  function showOnce(box, value) {
    $("code", box).textContent = value;
    box.hidden = false;
  }

  /** Fields of a form as a body: empty optional text is null (clears it). */
  function fields(form, names) {
    const body = {};
    names.forEach((name) => {
      const input = form.elements[name];
      if (!input) return;
      const value = input.value.trim();
      body[name] = value === "" ? null : value;
    });
    return body;
  }

  /* ---------------- clients ---------------- */
  function initNewClient(form) {
    const a = window.aigw;
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      a.clearErrors(form);
      a.setStatus(form, "");
      const body = fields(form, ["name", "plan", "timezone", "contact_email"]);
      if (!body.name) { a.fieldError(form, "name", a.localError("field_required").replace("{param}", "«" + form.elements.name.labels[0].textContent.trim() + "»")); return; }
      if (body.contact_email === null) delete body.contact_email;
      const result = await a.api("POST", "/api/clients", body);
      if (!result.ok) { a.showError(form, result, "name"); return; }
      a.toast(words().client_created);
      window.location.href = `/dashboard/ai-gateway/clients/${encodeURIComponent(result.data.id)}?created=1`;
    });
  }

  function initClientForm(form) {
    const a = window.aigw;
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      a.clearErrors(form);
      a.setStatus(form, "");
      const body = fields(form, ["contact_email", "alert_webhook_url", "timezone", "plan"]);
      const result = await a.api("PATCH", `/api/clients/${encodeURIComponent(form.dataset.client)}`, body);
      if (!result.ok) { a.showError(form, result); return; }
      a.setStatus(form, base().saved);
      a.toast(base().saved);
      setTimeout(() => window.location.reload(), 400);
    });
  }

  /* ---------------- keys ---------------- */
  function initKeys(section) {
    const a = window.aigw;
    const client = encodeURIComponent(section.dataset.client);
    const form = $("[data-issue-key-form]", section);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      a.clearErrors(form);
      const name = form.elements.name.value.trim();
      const result = await a.api("POST", `/api/clients/${client}/keys`, name ? { name } : {});
      if (!result.ok) { a.showError(form, result, "name"); return; }
      showOnce($("[data-key-once]", section), result.data.key);
      form.reset();
      addKeyRow(section, result.data);
      a.toast(words().key_issued);
    });
    section.addEventListener("click", async (e) => {
      const button = e.target.closest("[data-revoke-key]");
      if (!button) return;
      const row = button.closest("[data-key-row]");
      if (!(await confirmStep(button, words().revoke_key))) return;
      const result = await a.api("DELETE", `/api/keys/${encodeURIComponent(row.dataset.keyRow)}`);
      if (!result.ok) { a.toast(a.errorText((result.data && result.data.error) || {}), true); return; }
      const badge = $("[data-key-status]", row);
      badge.textContent = words().revoked;
      badge.className = "badge bad";
      button.remove();
      a.toast(words().key_revoked);
    });
  }

  /** A date and time written as the server writes them (i18n ``_DATETIME``): one format
   *  per language on a page, in the viewer's zone. */
  function when(iso) {
    const d = new Date(iso);
    const pad = (n) => String(n).padStart(2, "0");
    const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
    if (String(base().locale || "").startsWith("pt")) {
      return `${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()} ${time}`;
    }
    const month = new Intl.DateTimeFormat("en-US", { month: "short" }).format(d);
    return `${month} ${d.getDate()}, ${d.getFullYear()}, ${time}`;
  }

  function addKeyRow(section, key) {
    const body = $("#keys-table tbody", section);
    const empty = $("[data-no-keys]", body);
    if (empty) empty.remove();
    const t = words();
    const heads = $$("#keys-table thead th", section).map((th) => th.textContent.trim());
    const tr = document.createElement("tr");
    tr.dataset.keyRow = key.id;
    const created = when(key.created_at);
    const cells = [key.prefix + "…", key.name || "—", created, t.never, t.active, ""];
    cells.forEach((text, i) => {
      const td = document.createElement("td");
      td.dataset.label = heads[i] || "";
      if (i === 0) { const code = document.createElement("code"); code.textContent = text; td.appendChild(code); }
      else if (i === 4) { const span = document.createElement("span"); span.className = "badge ok"; span.dataset.keyStatus = ""; span.textContent = text; td.appendChild(span); }
      else if (i === 5) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "small-button danger";
        button.dataset.revokeKey = "";
        button.textContent = section.dataset.revokeLabel || "✕";
        td.appendChild(button);
      } else td.textContent = text;
      tr.appendChild(td);
    });
    body.insertBefore(tr, body.firstChild);
  }

  /* ---------------- alerts ---------------- */
  function initOperatorAlerts(form) {
    const a = window.aigw;
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      a.clearErrors(form);
      a.setStatus(form, "");
      const body = fields(form, ["admin_alert_email", "admin_alert_webhook"]);
      const result = await a.api("PUT", "/api/ai-gateway/config", body);
      if (!result.ok) { a.showError(form, result); return; }
      a.setStatus(form, base().saved);
      a.toast(base().saved);
      setTimeout(() => window.location.reload(), 400);
    });
  }

  function initAlertSettings(card) {
    const a = window.aigw;
    const owner = card.dataset.client || null;
    $("[data-new-secret]", card).addEventListener("click", async (e) => {
      if (card.dataset.hasSecret === "true" && !(await confirmStep(e.currentTarget, words().replace_secret))) return;
      const result = await a.api("PUT", "/api/alerts/webhook-secret", { client_id: owner });
      if (!result.ok) { a.toast(a.errorText((result.data && result.data.error) || {}), true); return; }
      $("[data-secret-masked]", card).textContent = result.data.masked;
      card.dataset.hasSecret = "true";
      showOnce($("[data-secret-once]", card), result.data.secret);
      a.toast(words().secret_saved);
    });
    const test = $("[data-test-alert]", card);
    test.addEventListener("click", async () => {
      const t = words();
      const out = $("[data-alert-results]", card);
      out.innerHTML = "";
      const wait = document.createElement("li");
      wait.className = "muted";
      wait.textContent = t.sending;
      out.appendChild(wait);
      test.disabled = true;
      const result = await a.api("POST", "/api/alerts/test", { client_id: owner });
      test.disabled = false;
      out.innerHTML = "";
      if (!result.ok) { a.toast(a.errorText((result.data && result.data.error) || {}), true); return; }
      if (!result.data.count) {
        const li = document.createElement("li");
        li.className = "bad";
        li.dataset.noContact = "1";
        li.textContent = "✘ " + a.localError("no_alert_contact");
        out.appendChild(li);
        a.toast(li.textContent, true);
        return;
      }
      result.data.data.forEach((d) => {
        const li = document.createElement("li");
        li.className = d.ok ? "ok" : "bad";
        li.dataset.channel = d.channel;
        li.dataset.code = d.code || "";
        let why = d.ok ? t.delivered : a.errorText({ code: d.code, message: d.error || "" });
        if (d.code === "alert_delivery_failed" && d.error) why += ` (${d.error})`;
        if (d.error) li.title = d.error;
        li.textContent = `${d.ok ? "✔" : "✘"} ${t[d.channel] || d.channel} · ${d.recipient}: ${why}`;
        out.appendChild(li);
      });
      const bad = result.data.data.some((d) => !d.ok);
      a.toast(bad ? base().failed : t.delivered, bad);
    });
  }

  /* ---------------- models ---------------- */
  const PRICES = ["input_price_per_1m", "output_price_per_1m", "cached_input_price_per_1m", "price_per_minute"];

  function initNewModel(form) {
    const a = window.aigw;
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      a.clearErrors(form);
      a.setStatus(form, "");
      const provider = form.elements.provider.value;
      const name = form.elements.model_name.value.trim();
      if (!name) {
        a.fieldError(form, "model_name", a.localError("field_required").replace("{param}", "«" + form.elements.model_name.labels[0].textContent.trim() + "»"));
        return;
      }
      const body = {
        id: `${provider}/${name}`, provider, model_name: name, kind: form.elements.kind.value,
        display_name: form.elements.display_name.value.trim() || name,
      };
      for (const field of PRICES) {
        const text = form.elements[field].value.trim();
        if (!text) continue;
        const parsed = a.parseDecimal(text); // "1.000,50" in pt-BR; "1,2,3" is refused
        if (parsed.code) { a.fieldError(form, field, a.localError(parsed.code)); return; }
        body[field] = parsed.value;
      }
      if (body.kind === "embedding") body.capabilities = ["embeddings"];
      if (body.kind === "transcription") body.capabilities = ["transcription"];
      const result = await a.api("POST", "/api/ai-gateway/models", body);
      if (!result.ok) {
        const error = (result.data && result.data.error) || {};
        a.showError(form, result, error.param === "id" ? "model_name" : undefined);
        return;
      }
      a.toast(words().model_added);
      setTimeout(() => window.location.reload(), 400);
    });
  }

  function initModelToggles(table) {
    const a = window.aigw;
    table.addEventListener("click", async (e) => {
      const off = e.target.closest("[data-disable-model]");
      const on = e.target.closest("[data-enable-model]");
      if (!off && !on) return;
      const row = (off || on).closest("[data-model-row]");
      const id = row.dataset.modelRow;
      if (off && !(await confirmStep(off, words().disable_model))) return;
      const result = off
        ? await a.api("DELETE", `/api/ai-gateway/models/${id}`)
        : await a.api("PUT", `/api/ai-gateway/models/${id}`, { is_active: true });
      if (!result.ok) { a.toast(a.errorText((result.data && result.data.error) || {}), true); return; }
      a.toast(off ? words().model_disabled : words().model_enabled);
      setTimeout(() => window.location.reload(), 400);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!window.aigw) return;
    $$("[data-new-client-form]").forEach(initNewClient);
    $$("[data-client-form]").forEach(initClientForm);
    $$("[data-client-keys]").forEach(initKeys);
    $$("[data-operator-alerts-form]").forEach(initOperatorAlerts);
    $$("[data-alert-settings]").forEach(initAlertSettings);
    $$("[data-new-model-form]").forEach(initNewModel);
    $$("#models-table").forEach(initModelToggles);
  });
})();
