// Live updates for an open room. The server sends "update" when the room changes; the page then
// fetches itself again and swaps in the new timeline. Without JavaScript the page works the same,
// with a reload. Nothing the user is typing is thrown away: while a reply is being written, the
// refresh waits.
(function () {
  "use strict";
  var timeline = document.querySelector("section.timeline[data-room]");
  if (!timeline || !window.EventSource || !window.fetch) return;
  var room = timeline.getAttribute("data-room");
  var busy = false;
  var pending = false;

  function typing() {
    var active = document.activeElement;
    if (active && timeline.contains(active)) return true;
    var inputs = timeline.querySelectorAll("input[name=body]");
    for (var i = 0; i < inputs.length; i++) if (inputs[i].value !== "") return true;
    return false;
  }

  function refresh() {
    if (busy || typing()) {
      pending = true;
      return;
    }
    busy = true;
    fetch(location.pathname + location.search, { credentials: "same-origin", headers: { Accept: "text/html", "X-Renraku-Refresh": "1" } })
      .then(function (res) { return res.ok ? res.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("section.timeline[data-room]");
        if (fresh) {
          timeline.innerHTML = fresh.innerHTML;
          timeline.setAttribute("data-since", fresh.getAttribute("data-since"));
        }
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (pending) { pending = false; setTimeout(refresh, 500); }
      });
  }

  timeline.addEventListener("focusout", function () { if (pending) setTimeout(refresh, 200); });
  setInterval(function () { if (pending) refresh(); }, 3000);
  // "since" lets the server tell a page that connects late (or reconnects) what it missed.
  var url = "/rooms/" + encodeURIComponent(room) + "/events?since=" + encodeURIComponent(timeline.getAttribute("data-since"));
  new EventSource(url).addEventListener("update", refresh);
})();
