/* ivp report: sorting and filtering on the overview; player, timeline and transcript on a page.
 * Plain ES5-compatible JavaScript, no libraries, no network. All text comes from the HTML (already
 * escaped when the report was built); this script only reads attributes and sets classes. */
(function () {
  'use strict';

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  /* Seek a media element to t and make it stick; before its metadata is there, seek once it is.
   * Chromium can end a seek asked for while the player is still starting at 0 instead (a 'seeked'
   * at currentTime 0): then ask again, up to three times. Shared with study.js. */
  function seekMedia(media, t) {
    var s = media.ivpSeek;
    if (!s) {
      s = media.ivpSeek = {target: null, tries: 0};
      media.addEventListener('loadedmetadata', function () {
        if (s.target !== null) { media.currentTime = s.target; }
      });
      media.addEventListener('seeked', function () {
        if (s.target === null) { return; }
        if (s.target > 0.5 && media.currentTime < 0.25 && s.tries < 3) {
          s.tries += 1;
          media.currentTime = s.target;
        } else {
          s.target = null;
        }
      });
    }
    s.target = t;
    s.tries = 0;
    if (media.readyState >= 1) { media.currentTime = t; }
  }
  window.ivpSeekMedia = seekMedia;

  /* ---------------------------------------------------------------- overview */
  function initOverview(table) {
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    var filter = document.getElementById('filter');
    var verdict = document.getElementById('verdict-filter');
    var shown = document.getElementById('shown');
    var noMatch = document.getElementById('no-match');

    function sortBy(th) {
      var key = th.getAttribute('data-key');
      var numeric = th.getAttribute('data-type') === 'num';
      var dir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
      each(table.tHead.rows[0].cells, function (c) { c.setAttribute('aria-sort', 'none'); });
      th.setAttribute('aria-sort', dir);
      var sign = dir === 'ascending' ? 1 : -1;
      rows.sort(function (a, b) {
        var x = a.getAttribute('data-' + key), y = b.getAttribute('data-' + key);
        var r = numeric ? (parseFloat(x) - parseFloat(y)) : x.localeCompare(y, undefined, { numeric: true, sensitivity: 'base' });
        if (r === 0) { r = a.getAttribute('data-name').localeCompare(b.getAttribute('data-name')); }
        return sign * r;
      });
      rows.forEach(function (r) { tbody.appendChild(r); });
    }

    function applyFilter() {
      var q = (filter && filter.value || '').trim().toLowerCase();
      var v = verdict ? verdict.value : '';
      var n = 0;
      rows.forEach(function (r) {
        var ok = (!q || r.getAttribute('data-search').indexOf(q) !== -1) &&
                 (!v || r.getAttribute('data-verdict') === v);
        r.hidden = !ok;
        if (ok) { n += 1; }
      });
      if (shown) { shown.textContent = n + ' of ' + rows.length + ' shown'; }
      if (noMatch) { noMatch.hidden = n !== 0; }
    }

    each(table.tHead.querySelectorAll('th[data-key] button'), function (b) {
      b.addEventListener('click', function () { sortBy(b.parentNode); });
    });
    if (filter) { filter.addEventListener('input', applyFilter); }
    if (verdict) { verdict.addEventListener('change', applyFilter); }
    rows.forEach(function (r) {
      r.addEventListener('click', function (ev) {
        if (ev.target.closest && ev.target.closest('a')) { return; }  // the link does it itself
        window.location.href = r.getAttribute('data-href');
      });
      r.addEventListener('keydown', function (ev) {
        if (ev.key === 'Enter') { window.location.href = r.getAttribute('data-href'); }
      });
    });
    applyFilter();
  }

  /* ------------------------------------------------------------ interview page */
  function initInterview(media) {
    var data = {};
    try { data = JSON.parse(document.getElementById('ivp-data').textContent); } catch (e) { data = {}; }
    var timeline = document.getElementById('timeline');
    var playhead = document.getElementById('playhead');
    var box = document.getElementById('transcript');
    var follow = document.getElementById('follow');
    var lines = box ? Array.prototype.slice.call(box.querySelectorAll('.line')) : [];
    var starts = lines.map(function (l) { return parseFloat(l.getAttribute('data-start')); });
    var total = data.duration || parseFloat(timeline && timeline.getAttribute('data-duration')) || 0;
    var current = null;
    var pending = null;

    function duration() {
      return (isFinite(media.duration) && media.duration > 0) ? media.duration : total;
    }

    function seek(t) {
      t = Math.max(0, Math.min(t, duration() || t));
      if (media.readyState < 1) {  // no metadata yet: seekMedia seeks once it is there
        pending = t;  // shown meanwhile
        if (media.preload === 'none') { media.preload = 'metadata'; }
        media.load();
      }
      seekMedia(media, t);
      show(t, true);
    }

    media.addEventListener('loadedmetadata', function () { pending = null; });

    // the line being spoken at t: the last one that started at or before t
    function lineAt(t) {
      var lo = 0, hi = starts.length - 1, found = -1;
      while (lo <= hi) {
        var mid = (lo + hi) >> 1;
        if (starts[mid] <= t + 0.05) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
      }
      return found;
    }

    function scrollToLine(el) {
      var top = el.offsetTop, bottom = top + el.offsetHeight;
      if (top < box.scrollTop || bottom > box.scrollTop + box.clientHeight) {
        box.scrollTop = Math.max(0, top - box.clientHeight / 3);
      }
    }

    function show(t, fromUser) {
      var d = duration();
      if (playhead && d) { playhead.style.left = (100 * Math.min(t, d) / d) + '%'; }
      var i = lineAt(t);
      var el = i >= 0 ? lines[i] : null;
      if (el !== current) {
        if (current) { current.classList.remove('current'); current.removeAttribute('aria-current'); }
        if (el) { el.classList.add('current'); el.setAttribute('aria-current', 'true'); }
        current = el;
        if (el && box && (fromUser || !follow || follow.checked)) { scrollToLine(el); }
      }
    }

    media.addEventListener('timeupdate', function () { show(pending !== null ? pending : media.currentTime, false); });
    media.addEventListener('seeked', function () { show(media.currentTime, false); });

    lines.forEach(function (l) {
      function go() { seek(parseFloat(l.getAttribute('data-start'))); }
      l.addEventListener('click', function () { if (!String(window.getSelection() || '')) { go(); } });
      l.addEventListener('keydown', function (ev) {
        if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); go(); }
      });
    });
    each(document.querySelectorAll('.seek[data-start]'), function (b) {
      b.addEventListener('click', function (ev) {
        ev.stopPropagation();
        seek(parseFloat(b.getAttribute('data-start')));
      });
    });
    if (timeline) {
      var track = timeline.querySelector('.lane-track') || timeline;
      timeline.addEventListener('click', function (ev) {
        var r = track.getBoundingClientRect();
        if (!r.width) { return; }
        var f = (ev.clientX - r.left) / r.width;
        if (f < 0 || f > 1) { return; }  // on a lane label
        seek(f * duration());
      });
    }
    // share a moment: a link to it (#t=83.5) and the quote with who said it, the recording and the link
    each(document.querySelectorAll('.line-tools, .share'), function (el) {
      el.addEventListener('click', function (ev) { ev.stopPropagation(); });
    });
    each(document.querySelectorAll('.copy-quote'), function (b) {
      b.addEventListener('click', function () {
        var line = b.closest('.line');
        var start = parseFloat(line.getAttribute('data-start'));
        var link = window.location.href.split('#')[0] + '#t=' + start.toFixed(1);
        var text = '\u201c' + line.querySelector('.text').textContent.trim() + '\u201d \u2014 ' +
          line.querySelector('.who').textContent.trim() + ', ' + (data.title || document.title) + ' (' +
          line.querySelector('.ts').textContent.trim() + ')\n' + link;
        b.setAttribute('data-copied', text);
        copyText(text).then(function () { b.textContent = 'copied'; }, function () { b.textContent = 'select and copy'; });
      });
    });
    window.addEventListener('hashchange', function () {
      var h = /(?:^#|&)t=([0-9.]+)/.exec(window.location.hash);
      if (h) { seek(parseFloat(h[1])); }
    });
    var m = /(?:^#|&)t=([0-9.]+)/.exec(window.location.hash);
    if (m) { seek(parseFloat(m[1])); } else { show(0, false); }
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) { return navigator.clipboard.writeText(text); }
    return new Promise(function (resolve, reject) {  // file:// pages: the old way
      var area = document.createElement('textarea');
      area.value = text;
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error('copy refused')); }
    });
  }

  var table = document.getElementById('interviews');
  if (table) { initOverview(table); }
  var media = document.getElementById('media');
  if (media) { initInterview(media); }
}());
