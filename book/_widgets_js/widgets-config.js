// Makes the book's ipywidgets render offline, from files the book serves itself.
//
// Loaded (through myst-nb's `nb_ipywidgets_js`, see _config.yml) after
// require.js and before the html-manager's embed-amd.js. All three lie in the
// HTML's _static/ folder: scripts/build_book.py copies require.js and
// embed-amd.js (plus its fonts) from node_modules into book/_widgets_js/npm/.
(function () {
  "use strict";

  // The book theme's FontAwesome would otherwise replace the widgets' <i> icons
  // by <svg> elements, which breaks e.g. the Play widget when clicked.
  window.FontAwesomeConfig = { autoReplaceSvg: "nest" };

  // The widget controls typeset their descriptions with the MathJax 2 API
  // (MathJax.Hub.Queue) whenever window.MathJax exists; the book loads
  // MathJax 3, which has no Hub, so every widget with a description threw
  // "Cannot read properties of undefined (reading 'Queue')". Give whatever
  // object window.MathJax is (the config object now, MathJax 3 once loaded) a
  // Hub whose Queue typesets the element with MathJax 3.
  var mathjax = window.MathJax;
  function hubQueue(job) {
    var element = job && job[2];
    var mj = mathjax;
    if (!element || !mj || typeof mj.typesetPromise !== "function") return;
    var ready = (mj.startup && mj.startup.promise) || Promise.resolve();
    ready
      .then(function () { return mj.typesetPromise([element]); })
      .catch(function (err) { console.warn("MathJax: could not typeset a widget label", err); });
  }
  function withHub(mj) {
    if (mj && typeof mj === "object" && !mj.Hub) {
      Object.defineProperty(mj, "Hub", { value: { Queue: hubQueue }, configurable: true });
    }
    return mj;
  }
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    enumerable: true,
    get: function () { return withHub(mathjax); },
    set: function (value) { mathjax = value; }
  });

  // Folder of this script (…/_static/), whatever the page's depth.
  var here = document.currentScript.src;
  var base = here.slice(0, here.lastIndexOf("/") + 1);
  var manager = base + "npm/html-manager/embed-amd";

  // embed-amd.js defines these AMD modules itself; the paths only tell
  // require.js (and the webpack public path derived from a module's URL) where
  // they live, so that the widget CSS finds its fonts next to embed-amd.js
  // instead of asking the page's folder (404s) or a CDN.
  window.require.config({
    paths: {
      "@jupyter-widgets/html-manager": manager,
      "@jupyter-widgets/html-manager/dist/libembed-amd": manager,
      "@jupyter-widgets/controls": manager,
      "@jupyter-widgets/base": manager
    }
  });
})();
