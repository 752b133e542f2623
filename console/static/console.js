// Progressive enhancement only: every page reads and works without it.
// Counts down the "in 4m 10s" of holds about to expire, so an operator
// watching the overview sees them go without reloading. At zero it reads
// what the hold becomes, as data-countdown says: a hold bound to a Stripe
// session is expiring, its stock still held until Stripe closes the
// session; any other is expired.
(function () {
  "use strict";
  var items = document.querySelectorAll("time[data-countdown]");
  if (!items.length) { return; }
  function words(ms, ended) {
    if (ms <= 0) { return ended; }
    var s = Math.round(ms / 1000), m = Math.floor(s / 60);
    return "in " + (m > 0 ? m + "m " + String(s % 60).padStart(2, "0") + "s" : s + "s");
  }
  function tick() {
    var now = Date.now();
    items.forEach(function (el) {
      el.textContent = words(Date.parse(el.getAttribute("datetime")) - now, el.getAttribute("data-countdown"));
    });
  }
  tick();
  setInterval(tick, 1000);
}());
