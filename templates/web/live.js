// Keeps the page's numbers current without a reload: on each server-sent
// event (and every minute, in case the events stop), the page is fetched
// again and its live part swapped in. Without JavaScript, a <noscript>
// refresh does the same.
(function () {
  "use strict";
  var source = document.body.getAttribute("data-events");
  if (!source) { return; }
  var busy = false;
  function refresh() {
    if (busy) { return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var next = new DOMParser().parseFromString(html, "text/html").getElementById("live");
        var live = document.getElementById("live");
        if (next && live && !live.contains(document.activeElement)) { live.innerHTML = next.innerHTML; }
        document.body.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }
  if (window.EventSource) {
    var events = new EventSource(source);
    events.addEventListener("update", refresh);
    events.addEventListener("open", function () { document.body.setAttribute("data-live", "yes"); });
  }
  window.setInterval(refresh, 60000);
})();
