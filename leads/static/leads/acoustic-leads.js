/*
 * acoustic-leads site script. Served minified, with its texts, at a versioned URL by leads/site_script.py; how a
 * site uses it: README, "The site script".
 *
 * On every page it keeps the visitor's first and last touch (UTM, click ids, referrer, landing page) for 90 days.
 * A form marked data-acoustic-lead, or given to AcousticLeads.submit, goes to POST /api/leads with them and an
 * idempotency key made once per submission. Until the server answers, the lead waits in localStorage and is tried
 * again with backoff, on reconnect and on the next page load, for 7 days. Without storage it is sent once.
 * It defines nothing but window.AcousticLeads and says nothing but console warnings.
 */
(() => {
  'use strict';
  if (window.AcousticLeads || !window.fetch || !window.AbortController) return;

  const TEXT = __TEXTS__;
  const self = document.currentScript;
  const ENDPOINT = (self && self.dataset.endpoint) || new URL('/api/leads', (self && self.src) || location.href).href;
  const PREFIX = 'acoustic-leads:'; // localStorage keys
  const MARK = 'data-acoustic-lead'; // the form's attribute; -state, -error and -made are the script's own
  const DAY = 864e5;
  const KEEP_TOUCH = 90 * DAY;
  const KEEP_LEAD = 7 * DAY;
  // How long the visitor waits for an answer before seeing "sent" anyway (the lead is in storage by then), and
  // how long one attempt may take before it counts as unanswered.
  const PATIENCE = 3000;
  const TIMEOUT = 15000;
  const UTM = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term'];
  const IDS = ['gclid', 'yclid', 'fbclid', 'ym_uid', 'ga_client_id'];
  const lang = (document.documentElement.lang || 'uz').slice(0, 2).toLowerCase();
  const say = TEXT[lang] || TEXT.en;
  const forms = new Map(); // idempotency key -> the form on this page that made the lead
  const busy = new WeakSet(); // forms whose lead is on its way: a second tap sends nothing
  const thanked = new WeakMap(); // form -> the thanks shown in its place
  let flushing = false;
  let timer = 0;

  const warn = (...args) => console.warn('[acoustic-leads]', ...args);

  const store = (() => {
    try {
      localStorage.setItem(PREFIX + 'probe', '1');
      localStorage.removeItem(PREFIX + 'probe');
      return localStorage;
    } catch (e) {
      return null; // private mode, blocked storage, a sandboxed frame: send once, keep nothing
    }
  })();

  // What was stored under the name, if it has the fallback's shape (another script may have written there).
  const read = (name, fallback) => {
    try {
      const value = JSON.parse(store.getItem(PREFIX + name));
      return value && typeof value === 'object' && Array.isArray(value) === Array.isArray(fallback) ? value : fallback;
    } catch (e) {
      return fallback;
    }
  };

  const write = (name, value) => {
    try {
      store.setItem(PREFIX + name, JSON.stringify(value));
      return true;
    } catch (e) {
      if (store) warn('could not write to localStorage', e);
      return false;
    }
  };

  const cookie = (name) => {
    try {
      const found = document.cookie.match('(?:^|; )' + name + '=([^;]*)');
      return found ? decodeURIComponent(found[1]) : '';
    } catch (e) {
      return '';
    }
  };

  // A touch is a visit that came from an ad, a link or a search: a tagged URL or another site's referrer. The first
  // visit is the first touch even when it is direct; a later direct visit or a move within the site changes nothing.
  function recordVisit() {
    const now = Date.now();
    const seen = read('touch', {});
    const query = new URLSearchParams(location.search);
    let referrer = '';
    try {
      referrer = new URL(document.referrer).host === location.host ? '' : document.referrer;
    } catch (e) {
      // no referrer
    }
    const touch = { at: now, landing_page: location.href, referrer };
    let tagged = Boolean(referrer);
    for (const name of UTM.concat(IDS)) {
      const value = query.get(name);
      if (value) {
        touch[name] = value;
        tagged = true;
      }
    }
    if (!(now - (seen.first || {}).at < KEEP_TOUCH)) seen.first = touch;
    if (tagged || !(now - (seen.last || {}).at < KEEP_TOUCH)) seen.last = touch;
    // Click ids and analytics ids: the latest seen, each kept 90 days from when it was seen.
    const ga = cookie('_ga').split('.'); // GA1.1.<client id, two numbers>
    const found = Object.assign({}, touch, { ym_uid: cookie('_ym_uid'), ga_client_id: ga.length > 3 ? ga.slice(-2).join('.') : '' });
    seen.ids = seen.ids || {};
    for (const name of IDS) if (found[name]) seen.ids[name] = [found[name], now];
    write('touch', seen);
    return seen;
  }

  // The lead's attribution fields: the last touch, the first touch (first_*), click and analytics ids.
  function attribution() {
    const seen = recordVisit();
    const first = seen.first || {};
    const last = seen.last || {};
    const found = { page_url: location.href, referrer: last.referrer, landing_page: last.landing_page };
    Object.assign(found, { first_referrer: first.referrer, first_landing_page: first.landing_page });
    for (const name of UTM) Object.assign(found, { [name]: last[name], ['first_' + name]: first[name] });
    for (const name of IDS) {
      const id = seen.ids[name];
      if (id && Date.now() - id[1] < KEEP_TOUCH) found[name] = id[0];
    }
    return found;
  }

  // The server's limits for these fields: a long landing URL is cut, never a reason to refuse the lead.
  const limit = (name) => (/page|referrer/.test(name) ? 2000 : /ym_uid|ga_client/.test(name) ? 100 : 255);

  function leadOf(fields) {
    const lead = Object.assign({}, fields);
    const found = attribution();
    for (const name in found) if (found[name] && !lead[name]) lead[name] = String(found[name]).slice(0, limit(name));
    return lead;
  }

  function fieldsOf(form) {
    const fields = {};
    for (const [name, value] of new FormData(form)) {
      if (typeof value !== 'string') continue; // files are not sent
      fields[name] = name in fields ? [].concat(fields[name], value) : value;
    }
    return fields;
  }

  const newKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  const outbox = () => read('outbox', []);
  const keep = (entry) => write('outbox', outbox().filter((e) => e.key !== entry.key).concat(entry));
  const forget = (key) => write('outbox', outbox().filter((e) => e.key !== key));

  // One attempt: {id} when stored, {retry} when unanswered (offline, timeout, 5xx, 429), else {errors, error}.
  async function post(entry) {
    const abort = new AbortController();
    const timeout = setTimeout(() => abort.abort(), TIMEOUT);
    try {
      const response = await fetch(ENDPOINT, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': entry.key, 'Accept-Language': entry.lang },
        body: JSON.stringify(entry.lead),
        signal: abort.signal,
      });
      if (response.status === 408 || response.status === 429 || response.status >= 500) return { retry: true };
      const answer = await response.json().catch(() => ({}));
      if (response.ok) return { id: answer.id };
      return { errors: answer.errors || {}, error: answer.error || 'HTTP ' + response.status };
    } catch (e) {
      return { retry: true };
    } finally {
      clearTimeout(timeout);
    }
  }

  // After an attempt: an answered lead leaves the outbox; an unanswered one is due again later, for 7 days.
  function settle(entry, result) {
    const fresh = Date.now() - entry.at < KEEP_LEAD;
    if (result.retry && fresh) {
      entry.tries += 1;
      entry.next = Date.now() + Math.min(1000 * 2 ** (entry.tries - 1), 3e5) * (0.8 + Math.random() * 0.4);
      if (keep(entry)) return 'queued';
    }
    forget(entry.key);
    if ('id' in result) return 'sent';
    if (!result.retry) warn('the server refused a lead:', result.error, result.errors);
    else warn(fresh ? 'could not send a lead' : 'dropped a lead unanswered for 7 days', entry.key);
    return result.retry ? 'failed' : 'refused';
  }

  async function attempt(entry) {
    const result = await post(entry);
    const outcome = settle(entry, result);
    const form = forms.get(entry.key);
    if (outcome !== 'queued') forms.delete(entry.key);
    if (form) show(form, outcome, result);
    wake();
    return { status: outcome, id: result.id, errors: result.errors };
  }

  // Sends every lead that is due, one at a time; each is claimed first, so another tab leaves it alone meanwhile.
  async function flush() {
    if (flushing || !store || navigator.onLine === false) return; // offline: the 'online' event calls again
    flushing = true;
    try {
      for (const entry of outbox()) {
        if (entry.next > Date.now()) continue;
        entry.next = Date.now() + TIMEOUT;
        keep(entry);
        await attempt(entry);
      }
    } finally {
      flushing = false;
      wake();
    }
  }

  function wake() {
    clearTimeout(timer);
    const due = outbox().map((e) => e.next);
    if (due.length) timer = setTimeout(() => flush().catch(warn), Math.max(1000, Math.min(...due) - Date.now()));
  }

  // Resolves as soon as the visitor may be told: sent, or queued (stored here; the server has not answered yet),
  // refused (with the field errors), or failed (no storage and no answer).
  async function send(lead, form) {
    const now = Date.now();
    const entry = { key: newKey(), lead, lang, at: now, tries: 0, next: now + TIMEOUT };
    if (form) forms.set(entry.key, form);
    if (!keep(entry)) return attempt(entry);
    const answer = navigator.onLine === false ? null : attempt(entry);
    const early = answer && (await Promise.race([answer, new Promise((done) => setTimeout(done, PATIENCE))]));
    if (early) return early;
    if (form) show(form, 'queued', {});
    wake();
    return { status: 'queued' };
  }

  async function submit(form) {
    if (busy.has(form)) return { status: 'busy' };
    busy.add(form);
    thanked.delete(form);
    clearErrors(form);
    form.setAttribute('aria-busy', 'true');
    form.setAttribute(MARK + '-state', 'sending');
    try {
      return await send(leadOf(fieldsOf(form)), form);
    } catch (e) {
      busy.delete(form);
      throw e;
    }
  }

  function show(form, outcome, result) {
    busy.delete(form);
    form.removeAttribute('aria-busy');
    form.setAttribute(MARK + '-state', outcome);
    if (outcome === 'sent' || outcome === 'queued') return thank(form, result);
    reopen(form);
    const detail = { errors: result.errors || {}, error: result.error };
    if (form.dispatchEvent(new CustomEvent('acoustic-lead:' + outcome, { bubbles: true, cancelable: true, detail }))) {
      showErrors(form, outcome === 'failed' ? { error: say.failed } : { errors: detail.errors, error: say.refused });
    }
  }

  // Hides the form and shows its thanks: the element named by data-acoustic-lead, or a paragraph after the form.
  // A site that shows something else cancels the 'acoustic-lead:sent' event.
  function thank(form, detail) {
    if (thanked.has(form)) return;
    thanked.set(form, null);
    if (!form.dispatchEvent(new CustomEvent('acoustic-lead:sent', { bubbles: true, cancelable: true, detail }))) return;
    const named = form.getAttribute(MARK);
    let note = named && document.getElementById(named);
    if (!note) {
      note = document.createElement('p');
      note.className = 'acoustic-lead-thanks';
      note.setAttribute('role', 'status');
      note.textContent = say.sent;
      form.after(note);
    }
    note.hidden = false;
    form.hidden = true;
    thanked.set(form, note);
  }

  function reopen(form) {
    const note = thanked.get(form);
    thanked.delete(form);
    if (!note) return;
    note.hidden = true;
    form.hidden = false;
  }

  // Each error goes next to its field (or into the form's own [data-acoustic-lead-error=name] slot); errors of
  // hidden or missing fields, and a refusal without any, go at the end of the form.
  function showErrors(form, result) {
    clearErrors(form);
    const general = [];
    for (const [name, messages] of Object.entries(result.errors || {})) {
      let field = form.elements.namedItem(name);
      if (field && !field.tagName) field = field[field.length - 1]; // a group of radio buttons: after the last
      const text = [].concat(messages).join(' ');
      if (!field || field.type === 'hidden') general.push(text);
      else {
        field.setAttribute('aria-invalid', 'true');
        slot(form, name, field).textContent = text;
      }
    }
    if (!Object.keys(result.errors || {}).length && result.error) general.push(result.error);
    if (general.length) slot(form, '', null).textContent = general.join(' ');
    const first = form.querySelector('[aria-invalid="true"]');
    if (first) first.focus();
  }

  function slot(form, name, field) {
    for (const found of form.querySelectorAll(`[${MARK}-error]`)) {
      if (found.getAttribute(MARK + '-error') === name) return found;
    }
    const made = document.createElement('div');
    made.className = 'acoustic-lead-error';
    made.setAttribute('role', 'alert');
    made.setAttribute(MARK + '-error', name);
    made.setAttribute(MARK + '-made', '');
    if (field) field.after(made);
    else form.append(made);
    return made;
  }

  function clearErrors(form) {
    for (const found of form.querySelectorAll(`[${MARK}-error]`)) {
      if (found.hasAttribute(MARK + '-made')) found.remove();
      else found.textContent = '';
    }
    for (const field of form.querySelectorAll('[aria-invalid]')) field.removeAttribute('aria-invalid');
  }

  try {
    recordVisit();
    // The site's own submit handlers run first (on the form, or below the document): one that cancels the
    // submission keeps it, and the script leaves it alone.
    document.addEventListener('submit', (event) => {
      const form = event.target;
      if (event.defaultPrevented || !form.hasAttribute || !form.hasAttribute(MARK)) return;
      event.preventDefault();
      submit(form).catch(warn);
    });
    addEventListener('online', () => {
      write('outbox', outbox().map((e) => Object.assign(e, { next: 0 })));
      flush().catch(warn);
    });
    window.AcousticLeads = Object.freeze({
      submit: (form) => submit(form),
      send: (fields) => send(leadOf(fields)),
      flush: () => flush(),
    });
    flush().catch(warn);
  } catch (e) {
    warn(e);
  }
})();
