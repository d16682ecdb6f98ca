// Removal orders: tick the displayed time left from the server-given deadline. Nothing else; the page works without it.
(function () {
  "use strict";
  var clocks = document.querySelectorAll(".deadline-clock[data-deadline]");
  if (!clocks.length) return;
  function fmt(s) {
    var sign = s < 0 ? "-" : "";
    s = Math.abs(s);
    var m = Math.floor(s / 60), r = s % 60;
    return sign + m + ":" + (r < 10 ? "0" : "") + r;
  }
  function tick() {
    var now = Date.now();
    clocks.forEach(function (el) {
      var left = Math.floor((Date.parse(el.getAttribute("data-deadline")) - now) / 1000);
      el.textContent = fmt(left);
      var row = el.closest("tr");
      if (row) {
        row.classList.toggle("overdue", left < 0);
        row.classList.toggle("urgent", left >= 0 && left < 600);
      }
    });
  }
  tick();
  setInterval(tick, 1000);
})();
