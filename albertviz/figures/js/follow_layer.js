// Makes an embedded bertviz head view follow its host page's ?layer= (albertviz.figures.bertviz_offline).
(function (w) {
  "use strict";
  if (w.parent === w) { return; }
  var param = "__PARAM__", seen = null;
  function follow() {
    var raw;
    try { raw = new URLSearchParams(w.parent.location.search).get(param) || "1"; } catch (e) { return; }
    if (raw === seen) { return; }
    var select = document.querySelector("select#layer"), n = parseInt(raw, 10);
    if (!select || !(n >= 1)) { return; }
    seen = raw;
    var pick = null;
    for (var i = 0; i < select.options.length; i++) {
      var v = +select.options[i].value;
      if (v <= n - 1 && (pick === null || v > pick)) { pick = v; }
    }
    if (pick !== null && +select.value !== pick) {
      select.value = String(pick);
      select.dispatchEvent(new Event("change"));
    }
  }
  follow();
  w.setInterval(follow, 100);
})(window);
