// Basira review pages: keyboard shortcuts, media reveal, undo countdown, break reminder. No third-party code.
(function () {
  "use strict";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  function typing(el) {
    return el && (el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
      (el.tagName === "INPUT" && !["radio", "checkbox", "button", "submit"].includes(el.type)));
  }

  // Reasons: show only those that back the chosen action.
  function filterReasons() {
    const form = $("#decide-form");
    if (!form) return;
    const chosen = $("input[name=action]:checked", form);
    const select = $("#reason", form);
    let first = null;
    $$("option", select).forEach((opt) => {
      if (!opt.value) { opt.hidden = !!chosen; return; }
      const ok = chosen && opt.dataset.actions.split(" ").includes(chosen.value);
      opt.hidden = !ok;
      opt.disabled = !ok;
      if (ok && !first) first = opt;
    });
    if (chosen && (!select.value || select.selectedOptions[0].disabled)) select.value = first ? first.value : "";
    $$(".action", form).forEach((l) => l.classList.toggle("chosen", $("input", l).checked));
  }

  function chooseAction(key) {
    const radio = $$("#decide-form input[name=action]").find((r) => r.dataset.key === key);
    if (!radio) return false;
    radio.checked = true;
    filterReasons();
    return true;
  }

  // Key n always means the reason numbered n on the page, whatever the action (numbers never shift); a reason
  // that does not back the chosen action is not chosen.
  function chooseReason(n) {
    const select = $("#reason");
    if (!select) return false;
    const opt = $$("option", select).find((o) => o.dataset.key === String(n));
    if (!opt || opt.disabled) return false;
    select.value = opt.value;
    return true;
  }

  function submit(form) {
    if (!form) return false;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
    return true;
  }

  // Media has no src until revealed: opening a page fetches nothing, so no host learns that a reviewer looked.
  // The first reveal copies data-src (Basira's own route, which fetches it then) into src; a video still waits
  // for its play button.
  function toggleMedia(fig) {
    const on = fig.classList.toggle("revealed");
    fig.setAttribute("aria-pressed", on ? "true" : "false");
    if (!on) return;
    $$("img[data-src], video[data-src]", fig).forEach((el) => {
      if (el.getAttribute("src")) return;
      el.addEventListener("error", () => {
        fig.classList.add("failed");
        const cap = $("figcaption", fig);
        if (cap) cap.textContent = fig.dataset.failed || "";
      }, { once: true });
      el.setAttribute("src", el.dataset.src);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    $$("#decide-form input[name=action]").forEach((r) => r.addEventListener("change", filterReasons));
    filterReasons();

    $$(".media-item").forEach((fig) => {
      fig.addEventListener("click", (ev) => { if (ev.target.tagName !== "VIDEO" || !fig.classList.contains("revealed")) { ev.preventDefault(); toggleMedia(fig); } });
      fig.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); toggleMedia(fig); } });
    });
    // Belt and braces: nothing plays by itself.
    $$("video").forEach((v) => { v.autoplay = false; v.pause(); });

    $$(".countdown").forEach((el) => {
      let left = parseInt(el.dataset.seconds, 10) || 0;
      const tick = () => {
        el.textContent = left + " s";
        if (left <= 0) { const f = el.closest("form"); if (f) f.remove(); return; }
        left -= 1;
        setTimeout(tick, 1000);
      };
      tick();
    });

    const body = document.body;
    const started = Date.now() - (parseInt(body.dataset.sessionMinutes, 10) || 0) * 60000;
    const limit = (parseInt(body.dataset.reminderMinutes, 10) || 0) * 60000;
    const reminder = $("#break-reminder");
    const key = "basira-reminder-dismissed";
    const checkBreak = () => {
      if (limit && Date.now() - started >= limit && reminder && sessionStorage.getItem(key) !== "1") reminder.hidden = false;
    };
    checkBreak();
    setInterval(checkBreak, 60000);
    const dismiss = $("#dismiss-reminder");
    if (dismiss) dismiss.addEventListener("click", () => { reminder.hidden = true; sessionStorage.setItem(key, "1"); });

    document.addEventListener("keydown", (ev) => {
      if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
      const k = ev.key;
      let handled = false;
      if (k === "?") { const h = $("#help"); h.hidden = !h.hidden; handled = true; }
      else if (k === "n") handled = submit($("#claim-next"));
      else if (k === "u") handled = submit($("#undo-form"));
      else if (k === "m") { const f = $(".media-item"); if (f) { toggleMedia(f); handled = true; } }
      else if (k === "Enter") { const f = $("#decide-form"); if (f && $("input[name=action]:checked", f) && $("#reason").value) handled = submit(f); }
      else if (/^[1-9]$/.test(k)) handled = chooseReason(parseInt(k, 10));
      else if (k.length === 1) handled = chooseAction(k);
      if (handled) ev.preventDefault();
    });
  });
})();
