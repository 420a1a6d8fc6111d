// The AMD stand-in for require.js that bertviz's pages ask for (albertviz.figures.bertviz_offline).
(function (w) {
  "use strict";
  var registry = {d3: w.d3, jquery: w.jQuery};
  function get(name) {
    if (!(name in registry)) { throw new Error("albertviz offline bertviz: no local copy of " + name); }
    return registry[name];
  }
  function requirejs(deps, callback) {
    var modules = [].concat(deps).map(get);
    if (callback) { callback.apply(w, modules); }
  }
  requirejs.config = function () {};
  function define(name, deps, factory) {
    if (typeof name !== "string") { throw new Error("albertviz offline bertviz: anonymous define"); }
    if (typeof deps === "function") { factory = deps; deps = []; }
    registry[name] = typeof factory === "function" ? factory.apply(w, deps.map(get)) : factory;
  }
  define.amd = {};
  w.require = w.requirejs = requirejs;
  w.define = define;
})(window);
