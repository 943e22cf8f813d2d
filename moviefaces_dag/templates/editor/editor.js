// The moviefaces editor: selecting faces, sending actions, keys, and the background status.
// Plain JavaScript, no build step, nothing from the network.
"use strict";
(function () {
  const token = document.querySelector('meta[name="moviefaces-token"]').content;
  const message = document.getElementById("message");
  const banner = document.getElementById("banner");
  const faces = () => [...document.querySelectorAll("button.face")];
  const selected = () => faces().filter(b => b.getAttribute("aria-pressed") === "true")
    .map(b => +b.dataset.faceId);

  function count() {
    const shown = document.getElementById("selected-count");
    if (shown) shown.textContent = String(selected().length);
  }

  function say(text, ok) {
    message.textContent = text;
    message.className = ok ? "message ok" : "message";
  }

  async function post(url, body) {
    say("", true);
    let answer;
    try {
      const response = await fetch(url, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-Moviefaces-Token": token},
        body: JSON.stringify(body),
      });
      answer = await response.json().catch(() => ({ok: false, error: response.statusText}));
    } catch (error) {
      answer = {ok: false, error: String(error)};
    }
    if (!answer.ok) { say(answer.error || "refused", false); return; }
    sessionStorage.setItem("moviefaces-said", answer.message || "done");
    window.location.reload();
  }

  function send(element) {
    const body = element.dataset.body ? JSON.parse(element.dataset.body) : {};
    if (element.tagName === "FORM") {
      for (const [name, value] of new FormData(element)) body[name] = value;
    }
    if ("faces" in element.dataset) {
      body.faces = selected();
      if (!body.faces.length) { say("select faces first", false); return; }
    }
    if (element.dataset.face === "one") {
      const one = selected();
      if (one.length !== 1) { say("select exactly one face", false); return; }
      body.face = one[0];
    }
    post(element.dataset.post, body);
  }

  document.addEventListener("click", event => {
    const face = event.target.closest("button.face");
    if (face) {
      face.setAttribute("aria-pressed", face.getAttribute("aria-pressed") === "true" ? "false" : "true");
      count();
      return;
    }
    const button = event.target.closest("button[data-post]");
    if (button) send(button);
  });

  document.addEventListener("submit", event => {
    const form = event.target.closest("form[data-post]");
    if (form) { event.preventDefault(); send(form); }
  });

  function press(selector) {
    const target = document.querySelector(selector);
    if (!target) return false;
    target.tagName === "FORM" ? send(target) : target.click();
    return true;
  }

  document.addEventListener("keydown", event => {
    const typing = event.target.closest("input, select, textarea");
    const api = document.querySelector('[data-post$="/undo"]');
    if ((event.ctrlKey || event.metaKey) && !typing) {
      const key = event.key.toLowerCase();
      if (key === "z" && !event.shiftKey) { event.preventDefault(); press('[data-post$="/undo"]'); }
      else if (key === "y" || (key === "z" && event.shiftKey)) {
        event.preventDefault(); press('[data-post$="/redo"]');
      }
      return;
    }
    if (typing || event.altKey || event.ctrlKey || event.metaKey || !api) return;
    const actions = {
      n: () => { const name = document.getElementById("name"); if (name) { name.focus(); name.select(); return true; } return false; },
      m: () => press("#move-form"),
      r: () => press("#reject"),
      p: () => press("#portrait"),
      h: () => press("#hide"),
      u: () => press('[data-post$="/undo"]'),
      U: () => press('[data-post$="/redo"]'),
      a: () => { faces().forEach(b => b.setAttribute("aria-pressed", "true")); count(); return true; },
      Escape: () => { faces().forEach(b => b.setAttribute("aria-pressed", "false")); count(); return true; },
    };
    // The review page: each answer has its key (y, n, s, digits, m, x).
    const answer = document.querySelector(`[data-answer-key="${CSS.escape(event.key)}"]`);
    if (answer && event.key !== "u" && event.key !== "U") {
      event.preventDefault(); answer.click(); return;
    }
    const action = actions[event.key];
    if (action && action()) event.preventDefault();
  });

  // What the last action did, said again after the page showed its effect.
  const said = sessionStorage.getItem("moviefaces-said");
  if (said) { sessionStorage.removeItem("moviefaces-said"); say(said, true); }

  // The report follows in the background: say how far, until it is done.
  const movie = document.body.dataset.movie;
  async function poll() {
    let status;
    try {
      status = await (await fetch("/status", {credentials: "same-origin"})).json();
    } catch (error) { setTimeout(poll, 2000); return; }
    const mine = movie ? status.movies[movie] : status.library;
    const state = mine ? mine.state : "idle";
    banner.dataset.state = state;
    document.body.dataset.persist = status.settled ? "settled" : "working";
    if (state === "running") banner.textContent = "bringing the report up to date…";
    else if (state === "queued" || state === "error") {
      banner.textContent = (state === "error" ? "not saved to the report: " : "") + mine.message;
    } else banner.textContent = "";
    if (!status.settled) setTimeout(poll, 700);
  }
  poll();
  count();
})();
