// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el.matches && el.matches("select[data-autosubmit], input[type=checkbox][data-autosubmit]") && el.form) {
      el.form.requestSubmit();
    }
  });

  // In-place editing: an opened form takes the focus (its first wrong field after a failed
  // save), and Escape closes it as its Cancel does.
  document.addEventListener("htmx:afterSettle", function (e) {
    var id = e.detail && e.detail.target && e.detail.target.id;
    var section = id ? document.getElementById(id) : null;
    if (!section || !section.classList.contains("profile-section")) return;
    var field = section.querySelector("form [aria-invalid=true]") || section.querySelector("form input:not([type=hidden]), form select, form textarea");
    if (field) field.focus();
  });
  // A saved section brings the client's name along: the tab's title follows it.
  document.addEventListener("htmx:afterSettle", function () {
    var el = document.getElementById("client-name");
    if (!el || !el.dataset.title) return;
    var rest = document.title.indexOf(" · ");
    document.title = el.dataset.title + (rest >= 0 ? document.title.slice(rest) : "");
    delete el.dataset.title;
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape" || !e.target.closest) return;
    var form = e.target.closest(".profile-section form");
    var cancel = form && form.querySelector(".form-actions a.btn");
    if (cancel) { e.preventDefault(); cancel.click(); }
  });

  // "Send later": the browser's offset from UTC at the chosen time goes with it, so the server
  // knows which moment was meant.
  document.addEventListener("change", function (e) {
    if (!e.target.matches || !e.target.matches("[data-send-at]")) return;
    var offset = e.target.form && e.target.form.querySelector("[data-tz-offset]");
    var at = new Date(e.target.value);
    if (offset) offset.value = isNaN(at) ? "" : String(at.getTimezoneOffset());
  });

  // A scheduled time reads in the reader's own clock.
  function localTimes(root) {
    root.querySelectorAll("time[data-local-time]").forEach(function (t) {
      var at = new Date(t.getAttribute("datetime"));
      if (!isNaN(at)) t.textContent = at.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    });
  }
  localTimes(document);
  ["htmx:afterSettle", "htmx:oobAfterSwap", "htmx:sseMessage"].forEach(function (name) {
    document.addEventListener(name, function () { localTimes(document); });
  });

  // The tab's title carries the unread count, so a message shows in a background tab too.
  var baseTitle = document.title.replace(/^\(\d+\+?\) /, "");
  function titleUnread() {
    var badge = document.querySelector("#nav-unread .nav-badge");
    var count = badge ? badge.textContent.trim() : "";
    document.title = count ? "(" + count + ") " + baseTitle : baseTitle;
  }
  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.target && e.target.id === "nav-unread") titleUnread();
  });

  // Alt+↓ / Alt+↑: the next or previous conversation of the list, from the one open.
  document.addEventListener("keydown", function (e) {
    if (!e.altKey || (e.key !== "ArrowDown" && e.key !== "ArrowUp")) return;
    var rows = Array.prototype.slice.call(document.querySelectorAll("#chat-list .chat-row"));
    if (!rows.length) return;
    var at = rows.findIndex(function (r) { return r.getAttribute("aria-current") === "true"; });
    var next = e.key === "ArrowDown" ? rows[at + 1] : rows[at < 0 ? rows.length - 1 : at - 1];
    if (next) {
      e.preventDefault();
      window.location.href = next.getAttribute("href");
    }
  });

  // A live message belongs to one thread: a page that does not show it (the list alone, another
  // chat, another area) drops it here, where htmx would report a swap without a target.
  document.addEventListener("htmx:sseBeforeMessage", function (e) {
    var data = e.detail && e.detail.data;
    if (typeof data !== "string") return;
    var target = /hx-swap-oob="beforeend:#(thread-\d+)"/.exec(data) || /id="(msg-\d+)"[^>]*hx-swap-oob="outerHTML"/.exec(data);
    if (target && !document.getElementById(target[1])) e.preventDefault();
  });

  // The chat list and the unread badge follow live changes without asking the server for
  // news: the badge arrives ready ("unread"); a chat's facts ("chat") tell the list whether it
  // shows that chat or would now, and only then does it fetch itself again. Changes that come
  // together (a message, then its reading in an open thread) make one fetch: it waits 250 ms
  // for more, and while one is in flight the next waits for it. A page that missed changes
  // ("resync", or a stream opened again) fetches its list and badge once.
  var listFetch = { timer: 0, busy: 0, again: false };
  function refreshList() {
    if (!listFetch.timer) listFetch.timer = setTimeout(fetchList, 250);
  }
  function fetchList() {
    listFetch.timer = 0;
    var form = document.querySelector("#chat-list") && document.querySelector("form.inbox-search");
    if (!form || !window.htmx) return;
    // A fetch that never answered stops holding the next one back after 10 s.
    if (listFetch.busy && Date.now() - listFetch.busy < 10000) { listFetch.again = true; return; }
    listFetch.busy = Date.now();
    htmx.trigger(form, "chats-changed");
  }
  document.addEventListener("htmx:afterRequest", function (e) {
    if (!listFetch.busy || !e.detail.elt || !e.detail.elt.matches("form.inbox-search")) return;
    listFetch.busy = 0;
    if (listFetch.again) { listFetch.again = false; refreshList(); }
  });
  function listShows(c) {
    var list = document.getElementById("chat-list");
    var f = list && list.querySelector("[data-list-filter]");
    if (!f) return false;
    if (c.counts || c.id === null || list.querySelector('[data-chat="' + c.id + '"]')) return true;
    // Not shown: would it be now? A search's results are not guessed at.
    if (f.getAttribute("data-search") === "true") return false;
    var view = f.getAttribute("data-view"), status = f.getAttribute("data-status");
    if (view === "mine" && String(c.assignee) !== f.getAttribute("data-me")) return false;
    if (view === "unassigned" && c.assignee !== null) return false;
    if (status !== "any" && status !== c.status) return false;
    return !(f.getAttribute("data-unread") === "true" && !(c.unread > 0));
  }
  function resync() {
    refreshList();
    var badge = document.getElementById("nav-unread");
    if (badge && window.htmx) htmx.trigger(badge, "resync");
    document.querySelectorAll("[data-thread-scroll][data-chat]").forEach(function (s) { catchUp(s); });
    refreshBoard();
  }
  // An open thread that missed changes fetches its newest page and takes from it what it
  // lacks (in its place by id) and what changed (a tick, a retry), keeping the reader's place.
  // A fetch that fails (the server busy or restarting) is tried again a few times, since no
  // later change may come to repair the thread.
  function catchUp(scroller, tries) {
    var chat = scroller.getAttribute("data-chat");
    var thread = document.getElementById("thread-" + chat);
    if (!thread || !window.fetch) return;
    tries = tries || 0;
    var again = function () {
      if (tries < 5) setTimeout(function () { catchUp(scroller, tries + 1); }, 1000 * (tries + 1));
    };
    fetch("/crm/chats/" + chat + "/messages", { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      })
      .then(function (html) {
        var stuck = nearBottom(scroller);
        var page = document.createElement("div");
        page.innerHTML = html;
        page.querySelectorAll("article.msg[data-message]").forEach(function (m) {
          var have = document.getElementById(m.id);
          if (have) {
            if (+m.getAttribute("data-rank") >= +have.getAttribute("data-rank")) have.replaceWith(m);
            return;
          }
          var id = +m.getAttribute("data-message");
          var later = Array.prototype.find.call(thread.querySelectorAll("article.msg[data-message]"), function (e) {
            return +e.getAttribute("data-message") > id;
          });
          thread.insertBefore(m, later || null);
        });
        tidyThreads();
        localTimes(thread);
        if (stuck) toBottom(scroller);
      })
      .catch(again);
  }
  document.addEventListener("htmx:sseBeforeMessage", function (e) {
    if (!e.target || e.target.id !== "chat-sink") return;
    e.preventDefault();
    if (e.detail.type === "resync") { resync(); return; }
    // A badge of one's own chats alone (record visibility "own") is counted by the server
    // for its reader: told it changed, it asks for itself again.
    if (e.detail.type === "unread-stale") {
      var badge = document.getElementById("nav-unread");
      if (badge && window.htmx) htmx.trigger(badge, "resync");
      return;
    }
    var c;
    try { c = JSON.parse(e.detail.data); } catch (err) { return; }
    if (listShows(c)) refreshList();
  });
  var streamOpened = false;
  document.addEventListener("htmx:sseOpen", function () {
    if (streamOpened) resync();
    streamOpened = true;
    document.body.setAttribute("data-live", "open");
  });
  document.addEventListener("htmx:sseMessage", function (e) {
    if (e.target && e.target.id === "nav-unread") titleUnread();
  });

  // Desktop notifications and a sound for a client's message in a chat of mine or of nobody's
  // (the server sends "notify" only for those): asked for only when the reader turns them on,
  // shown only while the page is not in view or shows another chat.
  var NOTIFY_KEY = "crm.notify";
  function notifyWanted() {
    return window.Notification && Notification.permission === "granted" && localStorage.getItem(NOTIFY_KEY) === "1";
  }
  function drawNotifyToggles() {
    document.querySelectorAll("[data-notify-toggle]").forEach(function (b) {
      var denied = window.Notification && Notification.permission === "denied";
      b.setAttribute("aria-pressed", notifyWanted() ? "true" : "false");
      b.textContent = denied ? b.getAttribute("data-denied") : notifyWanted() ? b.getAttribute("data-on") : b.getAttribute("data-off");
      b.disabled = !window.Notification || denied;
    });
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-notify-toggle]");
    if (!b || !window.Notification) return;
    if (notifyWanted()) {
      localStorage.setItem(NOTIFY_KEY, "0");
      drawNotifyToggles();
      return;
    }
    Notification.requestPermission().then(function (p) {
      localStorage.setItem(NOTIFY_KEY, p === "granted" ? "1" : "0");
      drawNotifyToggles();
    });
  });
  document.addEventListener("DOMContentLoaded", drawNotifyToggles);
  document.addEventListener("htmx:afterSettle", drawNotifyToggles);
  function chime() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      var ctx = new Ctx(), osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, ctx.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.3);
      osc.connect(gain).connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.3);
      osc.onended = function () { ctx.close(); };
    } catch (err) { /* no sound is no harm */ }
  }
  document.addEventListener("htmx:sseBeforeMessage", function (e) {
    if (!e.target || e.target.id !== "notify-sink") return;
    e.preventDefault();
    var n;
    try { n = JSON.parse(e.detail.data); } catch (err) { return; }
    window.crmNotices = (window.crmNotices || 0) + 1;
    var looking = document.visibilityState === "visible" && document.getElementById("thread-" + n.chat);
    if (looking || !notifyWanted()) return;
    var shown = new Notification(n.title, { body: n.body, tag: "chat-" + n.chat });
    shown.onclick = function () { window.focus(); window.location.href = n.url; shown.close(); };
    chime();
  });

  // A form, or the button that sent it, may ask before it goes.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var by = e.submitter && e.submitter.getAttribute("data-confirm");
    var message = by || (form.getAttribute && form.getAttribute("data-confirm"));
    if (message && !window.confirm(message)) {
      e.preventDefault();
    }
  }, true);

  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    field.select();
    var done = function () { button.textContent = button.getAttribute("data-copied") || button.textContent; };
    if (navigator.clipboard) {
      navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });

  document.addEventListener("focusin", function (e) {
    if (e.target.matches && e.target.matches("[data-select-on-focus]")) e.target.select();
  });

  // Close the account menu with Escape or a click elsewhere.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    document.querySelectorAll("details.user-menu[open]").forEach(function (d) {
      d.removeAttribute("open");
      d.querySelector("summary").focus();
    });
  });
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details.user-menu[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.removeAttribute("open");
    });
  });

  // ---- Chats -------------------------------------------------------------------------------

  // A message can reach a thread twice (the sender's own answer and the live update) and a
  // day header once per page of messages: keep one of each, the furthest delivery state.
  function tidyThreads() {
    document.querySelectorAll(".thread-messages").forEach(function (thread) {
      var best = {};
      thread.querySelectorAll("[data-message]").forEach(function (m) {
        var id = m.getAttribute("data-message");
        var kept = best[id];
        if (!kept) { best[id] = m; return; }
        if (+m.getAttribute("data-rank") > +kept.getAttribute("data-rank")) {
          kept.replaceWith(m);
          best[id] = m;
        } else {
          m.remove();
        }
      });
      var days = {};
      thread.querySelectorAll(".day[data-day]").forEach(function (d) {
        var day = d.getAttribute("data-day");
        if (days[day]) d.remove(); else days[day] = true;
      });
      if (thread.querySelector("[data-message]")) {
        var none = thread.querySelector(".thread-none");
        if (none) none.remove();
      }
    });
  }

  function nearBottom(scroller) {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 160;
  }

  function toBottom(scroller) { scroller.scrollTop = scroller.scrollHeight; }

  // A thread opens at its newest message and stays there while its images load (each takes
  // its room only then), unless the reader has scrolled up meanwhile.
  document.addEventListener("scroll", function (e) {
    var s = e.target;
    if (s.hasAttribute && s.hasAttribute("data-thread-scroll")) s.setAttribute("data-stuck", nearBottom(s) ? "1" : "0");
  }, true);
  document.addEventListener("load", function (e) {
    var s = e.target.tagName === "IMG" && e.target.closest("[data-thread-scroll]");
    if (s && s.getAttribute("data-stuck") !== "0") toBottom(s);
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-thread-scroll]").forEach(toBottom);
    // Opened from a search: the message found, in view and marked; images do not pull it away.
    var hit = /^#msg-\d+$/.test(location.hash) && document.querySelector(location.hash);
    var scroller = hit && hit.closest("[data-thread-scroll]");
    if (scroller) {
      hit.classList.add("msg-hit");
      hit.scrollIntoView({ block: "center" });
      scroller.setAttribute("data-stuck", "0");
    }
    var body = document.querySelector("[data-composer-body]");
    if (body && window.matchMedia("(min-width: 761px)").matches) body.focus();
  });

  // Before a live swap, note whether the reader was at the bottom; after it, stay there.
  var stick = [];
  document.addEventListener("htmx:sseBeforeMessage", function () {
    stick = Array.prototype.filter.call(document.querySelectorAll("[data-thread-scroll]"), nearBottom);
  });
  document.addEventListener("htmx:sseMessage", function () {
    tidyThreads();
    stick.forEach(toBottom);
    stick = [];
    // What arrives in the open thread while the page is in view has been seen.
    document.querySelectorAll("[data-thread-scroll][data-mark-read]").forEach(function (scroller) {
      var ins = scroller.querySelectorAll(".msg-in");
      if (!ins.length || document.visibilityState !== "visible" || !window.htmx) return;
      var last = ins[ins.length - 1];
      var id = last.getAttribute("data-message");
      if (scroller.getAttribute("data-read-up-to") === id) return;
      scroller.setAttribute("data-read-up-to", id);
      window.htmx.ajax("POST", "/crm/chats/" + scroller.getAttribute("data-chat") + "/read",
        { values: { up_to: id }, swap: "none" });
    });
  });

  document.addEventListener("htmx:afterSwap", function (e) {
    tidyThreads();
    var target = e.detail && e.detail.target;
    // A message just sent: show it, and be ready for the next one.
    if (target && target.id && target.id.indexOf("composer-") === 0) {
      document.querySelectorAll("[data-thread-scroll]").forEach(toBottom);
      var body = target.querySelector("[data-composer-body]");
      if (body) body.focus();
    }
  });

  function composerOf(el) { return el.closest && el.closest("[data-composer]"); }

  function flagUnfilled(form) {
    var body = form.querySelector("[data-composer-body]");
    var warning = form.querySelector("[data-unfilled-warning]");
    if (body && warning) warning.hidden = !/\{\{\s*[\w.]+\s*\}\}/.test(body.value);
  }

  // Puts text at the cursor, or in place of the `/shortcut` being typed.
  function insertText(body, text, replaceFrom) {
    var start = replaceFrom == null ? body.selectionStart : replaceFrom;
    var end = body.selectionEnd;
    body.value = body.value.slice(0, start) + text + body.value.slice(end);
    var at = start + text.length;
    body.setSelectionRange(at, at);
    body.focus();
    flagUnfilled(composerOf(body));
  }

  // "/word" right before the cursor, at the start or after a space: its start and the word
  // (in any alphabet: a title may be Russian or Uzbek).
  function typedShortcut(body) {
    var before = body.value.slice(0, body.selectionStart);
    var m = /(^|\s)\/([^\s\/]*)$/.exec(before);
    return m ? { from: before.length - m[2].length - 1, word: m[2].toLowerCase() } : null;
  }

  function shortcutMenu(form) { return form.querySelector("[data-shortcut-menu]"); }

  function closeShortcuts(form) {
    var menu = shortcutMenu(form);
    if (menu) { menu.hidden = true; menu.innerHTML = ""; }
  }

  function openShortcuts(form, typed) {
    var menu = shortcutMenu(form);
    if (!menu) return;
    // Shortcuts that start with the word first, then titles, then texts that contain it.
    var found = [];
    Array.prototype.forEach.call(form.querySelectorAll(".template-choice"), function (b) {
      var shortcut = (b.getAttribute("data-template-shortcut") || "").toLowerCase();
      var title = (b.getAttribute("data-template-title") || "").toLowerCase();
      var text = (b.getAttribute("data-template-text") || "").toLowerCase();
      var rank = shortcut && shortcut.indexOf(typed.word) === 0 ? 0
        : title.indexOf(typed.word) >= 0 ? 1
        : text.indexOf(typed.word) >= 0 ? 2 : -1;
      if (rank >= 0) found.push({ button: b, rank: rank });
    });
    found.sort(function (x, y) { return x.rank - y.rank; });
    var choices = found.map(function (f) { return f.button; });
    menu.innerHTML = "";
    choices.slice(0, 8).forEach(function (b, i) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", i === 0 ? "true" : "false");
      var shortcut = b.getAttribute("data-template-shortcut");
      var name = shortcut ? "/" + shortcut : b.getAttribute("data-template-title");
      li.textContent = name + " — " + b.getAttribute("data-template-text");
      li.addEventListener("mousedown", function (e) {
        e.preventDefault();
        choose(form, b);
      });
      li._choice = b;
      menu.appendChild(li);
    });
    menu.hidden = choices.length === 0;
  }

  function choose(form, button) {
    var body = form.querySelector("[data-composer-body]");
    var typed = typedShortcut(body);
    insertText(body, button.getAttribute("data-template-text"), typed ? typed.from : null);
    closeShortcuts(form);
    var picker = form.querySelector("details.template-picker");
    if (picker) picker.removeAttribute("open");
  }

  document.addEventListener("input", function (e) {
    var form = composerOf(e.target);
    if (!form || !e.target.matches("[data-composer-body]")) return;
    flagUnfilled(form);
    var typed = typedShortcut(e.target);
    if (typed) openShortcuts(form, typed); else closeShortcuts(form);
  });

  document.addEventListener("keydown", function (e) {
    var body = e.target;
    if (!body.matches || !body.matches("[data-composer-body]")) return;
    var form = composerOf(body);
    var menu = shortcutMenu(form);
    if (menu && !menu.hidden) {
      var items = Array.prototype.slice.call(menu.children);
      var at = items.findIndex(function (li) { return li.getAttribute("aria-selected") === "true"; });
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        var next = (at + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
        items.forEach(function (li, i) { li.setAttribute("aria-selected", i === next ? "true" : "false"); });
        return;
      }
      if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        choose(form, items[Math.max(at, 0)]._choice);
        return;
      }
      if (e.key === "Escape") { e.preventDefault(); closeShortcuts(form); return; }
    }
    // Enter sends; Shift+Enter (and Enter while an input method composes) makes a new line.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      if (body.value.trim() || form.querySelector("[data-attach]").files.length) form.requestSubmit();
    }
  });

  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest(".template-choice");
    if (button) { choose(composerOf(button), button); return; }
    document.querySelectorAll("details.template-picker[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.removeAttribute("open");
    });
  });

  document.addEventListener("change", function (e) {
    var form = composerOf(e.target);
    if (!form) return;
    if (e.target.matches("[data-note-toggle]")) form.classList.toggle("is-note", e.target.value === "1");
    if (e.target.matches("[data-attach]")) {
      // Too large or too many is said at once, and nothing is uploaded (the server says the same).
      var input = e.target;
      var error = form.querySelector("[data-composer-error]");
      var tooLarge = Array.prototype.some.call(input.files, function (f) { return f.size > Number(input.dataset.maxBytes); });
      var problem = input.files.length > Number(input.dataset.maxFiles) ? input.dataset.tooMany : tooLarge ? input.dataset.tooLarge : "";
      if (problem) input.value = "";
      if (error && (problem || error.dataset.fromFiles)) {
        error.textContent = problem;
        error.hidden = !problem;
        error.dataset.fromFiles = problem ? "1" : "";
      }
      var names = Array.prototype.map.call(input.files, function (f) { return f.name; });
      form.querySelector("[data-attach-names]").textContent = names.join(", ");
    }
  });
  // The deals board. Cards are dragged (SortableJS) within a column or to another; the drop is
  // sent as a move (the stage, and the card it now comes before) and the board that comes back
  // shows the new counts and totals. A card dropped on a lost stage asks why first; cancelled,
  // the board is fetched again as it was. Every card's "Move to" menu does the same from the
  // keyboard. A change by anyone else to this pipeline refetches the board (250 ms gathered),
  // never in the middle of a drag.
  var boardWork = { dragging: false, stale: false, timer: 0 };
  function refreshBoard() {
    var board = document.getElementById("board");
    if (!board || !window.htmx) return;
    if (boardWork.dragging) { boardWork.stale = true; return; }
    if (!boardWork.timer) boardWork.timer = setTimeout(function () {
      boardWork.timer = 0;
      var b = document.getElementById("board");
      if (b) htmx.trigger(b, "deals-changed");
    }, 250);
  }
  function moveCard(card, list) {
    var board = document.getElementById("board");
    var next = card.nextElementSibling;
    while (next && !next.matches(".deal-card")) next = next.nextElementSibling;
    var values = { stage_id: list.getAttribute("data-stage"), pipeline: board.getAttribute("data-pipeline") };
    if (next) values.before_deal_id = next.getAttribute("data-deal");
    if (board.getAttribute("data-owner")) values.owner_id = board.getAttribute("data-owner");
    if (board.getAttribute("data-q")) values.q = board.getAttribute("data-q");
    var send = function (reason) {
      if (reason) values.lost_reason = reason;
      htmx.ajax("POST", "/crm/deals/" + card.getAttribute("data-deal") + "/move",
        { source: card, target: "#board", swap: "outerHTML", values: values });
    };
    var dialog = document.getElementById("lost-dialog");
    if (list.getAttribute("data-kind") !== "lost" || !dialog || !dialog.showModal) { send(""); return; }
    var reason = dialog.querySelector("textarea");
    reason.value = "";
    dialog.returnValue = "";
    dialog.addEventListener("close", function done() {
      dialog.removeEventListener("close", done);
      if (dialog.returnValue === "ok") send(reason.value.trim());
      else { boardWork.stale = false; htmx.trigger(board, "deals-changed"); }
    });
    dialog.showModal();
    reason.focus();
  }
  function sortableBoard(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var boards = scope.matches && scope.matches("#board") ? [scope] : scope.querySelectorAll("#board");
    Array.prototype.forEach.call(boards, function (board) {
      board.querySelectorAll(".board-column[data-color]").forEach(function (c) {
        c.style.setProperty("--stage", c.getAttribute("data-color"));
      });
      if (!window.Sortable || !board.hasAttribute("data-sortable")) return;
      board.querySelectorAll(".board-cards").forEach(function (list) {
        if (list.sortable) return;
        list.sortable = Sortable.create(list, {
          group: "deals-" + board.getAttribute("data-pipeline"),
          draggable: ".deal-card",
          filter: "details, summary, select, input, button",
          preventOnFilter: false,
          animation: 150,
          forceFallback: true,
          delay: 150,
          delayOnTouchOnly: true,
          ghostClass: "deal-ghost",
          onStart: function () { boardWork.dragging = true; },
          onEnd: function (e) {
            boardWork.dragging = false;
            if (e.from === e.to && e.oldIndex === e.newIndex) {
              if (boardWork.stale) { boardWork.stale = false; refreshBoard(); }
              return;
            }
            boardWork.stale = false;
            moveCard(e.item, e.to);
          }
        });
      });
    });
  }
  // Tag chips take their colour from data-color: the content security policy refuses inline
  // styles, not properties set from a script.
  function paintTags(root) {
    var scope = root && root.querySelectorAll ? root : document;
    scope.querySelectorAll(".tag[data-color]").forEach(function (t) {
      t.style.setProperty("--tag", t.getAttribute("data-color"));
    });
  }
  document.addEventListener("DOMContentLoaded", function () { paintTags(document); });
  document.addEventListener("htmx:load", function (e) { paintTags(e.target); });
  document.addEventListener("DOMContentLoaded", function () { sortableBoard(document); });
  document.addEventListener("htmx:load", function (e) { sortableBoard(e.target); });
  document.addEventListener("htmx:sseBeforeMessage", function (e) {
    if (!e.target || e.target.id !== "deal-sink") return;
    e.preventDefault();
    var board = document.getElementById("board");
    if (board && board.getAttribute("data-pipeline") === String(e.detail.data).trim()) refreshBoard();
  });
  // A stage menu asks why a deal was lost only when a lost stage is chosen.
  function showReason(select) {
    var holder = select.closest("form");
    var box = holder && holder.querySelector(".move-reason");
    var chosen = select.options[select.selectedIndex];
    if (box) box.classList.toggle("shown", !!chosen && chosen.getAttribute("data-kind") === "lost");
  }
  document.addEventListener("change", function (e) {
    if (e.target.matches("[data-move-stage]")) showReason(e.target);
  });

  // Bulk actions on a list: tick rows (Shift ticks a range), or every match of the filter;
  // the bar shows how many and the choice its action needs.
  var lastTicked = null;
  function bulkRefresh(scope) {
    var bar = scope.querySelector("[data-bulk-bar]");
    if (!bar) return;
    var rows = Array.prototype.slice.call(scope.querySelectorAll("[data-bulk-row]"));
    var ticked = rows.filter(function (r) { return r.checked; }).length;
    var all = bar.querySelector("[data-bulk-all]");
    bar.hidden = ticked === 0 && !(all && all.checked);
    var count = bar.querySelector("[data-bulk-count]");
    if (count) count.textContent = (all && all.checked) ? "" : count.dataset.template.replace("{count}", ticked);
    var page = scope.querySelector("[data-bulk-page]");
    if (page) { page.checked = rows.length > 0 && ticked === rows.length; page.indeterminate = ticked > 0 && ticked < rows.length; }
    var action = bar.querySelector("[data-bulk-action]");
    bar.querySelectorAll("[data-bulk-for]").forEach(function (el) {
      el.hidden = !action || el.dataset.bulkFor.split(" ").indexOf(action.value) < 0;
    });
  }
  document.addEventListener("click", function (e) {
    var box = e.target.closest && e.target.closest("[data-bulk-row]");
    if (!box) return;
    var scope = box.closest("section") || document;
    var rows = Array.prototype.slice.call(scope.querySelectorAll("[data-bulk-row]"));
    if (e.shiftKey && lastTicked && rows.indexOf(lastTicked) >= 0) {
      var a = rows.indexOf(lastTicked), b = rows.indexOf(box);
      rows.slice(Math.min(a, b), Math.max(a, b) + 1).forEach(function (r) { r.checked = box.checked; });
    }
    lastTicked = box;
  });
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (!el.matches || !el.matches("[data-bulk-row], [data-bulk-page], [data-bulk-all], [data-bulk-action]")) return;
    var scope = el.closest("section") || document;
    if (el.matches("[data-bulk-page]")) {
      scope.querySelectorAll("[data-bulk-row]").forEach(function (r) { r.checked = el.checked; });
    }
    bulkRefresh(scope);
  });
  document.addEventListener("htmx:afterSettle", function () { lastTicked = null; });
})();
