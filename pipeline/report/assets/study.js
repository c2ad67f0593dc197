/* ivp report, study page: play a quote from its recording, and search the embedded quote bank.
 * Runs after report.js (it uses its window.ivpSeekMedia).
 * Plain JavaScript, no libraries, no network. Text is only ever set with textContent. */
(function () {
  'use strict';
  var dataEl = document.getElementById('study-data');
  var media = document.getElementById('study-media');
  if (!dataEl || !media) { return; }
  var data = {};
  try { data = JSON.parse(dataEl.textContent); } catch (e) { data = {docs: [], bank: []}; }
  var docs = data.docs || [], bank = data.bank || [];
  var nowPlaying = document.getElementById('now-playing');
  var currentDoc = -1;
  var ROLE = {e: 'interviewee', r: 'interviewer', '': ''};

  function clock(t) {
    t = Math.max(0, Math.floor(t));
    var h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
    var mm = (h ? (m < 10 ? '0' : '') : '') + m, ss = (s < 10 ? '0' : '') + s;
    return (h ? h + ':' : '') + mm + ':' + ss;
  }

  function play(doc, start) {
    var d = docs[doc];
    if (!d || !d.href) {
      nowPlaying.textContent = 'The recording of this quote was not found when the report was built.';
      return;
    }
    if (doc !== currentDoc) {
      currentDoc = doc;
      media.className = d.video ? '' : 'audio-only';
      media.src = d.href;
      media.load();
    }
    window.ivpSeekMedia(media, start);  // from report.js, loaded before this file
    var p = media.play();
    if (p && p.catch) { p.catch(function () {}); }
    nowPlaying.textContent = '';
    nowPlaying.appendChild(document.createTextNode('Playing ' + d.name + ' from ' + clock(start) + ' '));
    if (d.page) {
      var a = document.createElement('a');
      a.href = d.page + '#t=' + start;
      a.textContent = '(open the interview)';
      nowPlaying.appendChild(a);
    }
  }

  document.addEventListener('click', function (ev) {
    var b = ev.target.closest ? ev.target.closest('.quote[data-start]') : null;
    if (!b) { return; }
    play(parseInt(b.getAttribute('data-doc'), 10), parseFloat(b.getAttribute('data-start')));
  });

  /* search: the syntax of `ivp search` (pipeline/study/query.py): words (all of them, by a light
   * stem close to its porter stemming), "phrases", prefix*, OR, -word / NOT word, and the filters
   * role:, theme: and tag:. A query that cannot be read says why, as the CLI does. With "by
   * meaning" on, sentences are ranked by closeness to the mean of the query words' vectors (the
   * words the interviews use, reduced by PCA when the page was built), fused with shared words. */
  var FIELDS = ['role', 'theme', 'tag'], ROLES = {interviewer: 'r', interviewee: 'e'};
  var meaning = data.meaning || null, themes = data.themes || [];
  function stem(w) { return w.replace(/(ies|es|s|ing|ed)$/, function (m) { return w.length - m.length >= 4 ? '' : m; }); }
  function words(text) { return (text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) || []); }
  function tagKey(t) { return t.trim().toLowerCase().replace(/[\s_\-]+/g, '_').replace(/^_+|_+$/g, ''); }
  function QueryError(message) { this.message = message; }

  function parse(text) {
    var q = {groups: [], exclude: [], filters: {}}, orNext = false, notNext = false;
    var re = /\s*(?:([A-Za-z]+):"([^"]*)("?)|(-?)"([^"]*)("?)|(\S+))/g, m;
    function add(term, negate) {
      if (!term) { return; }
      if (negate || notNext) {
        if (orNext) { throw new QueryError('OR needs a word on each side (as in: export OR report)'); }
        q.exclude.push(term); notNext = false;
      } else if (orNext) { q.groups[q.groups.length - 1].push(term); orNext = false; } else { q.groups.push([term]); }
    }
    function field(name, value) {
      value = value.trim();
      if (!value) { throw new QueryError(name + ': needs a value'); }
      if (name === 'role' && !ROLES[value.toLowerCase()]) { throw new QueryError('role:' + value + ': the roles are interviewer, interviewee'); }
      (q.filters[name] = q.filters[name] || []).push(value);
    }
    while ((m = re.exec(text)) !== null && m[0].length) {
      if (m[1] !== undefined) {
        if (!m[3]) { throw new QueryError('unclosed quote: end the value with "'); }
        if (FIELDS.indexOf(m[1].toLowerCase()) < 0) { throw new QueryError("unknown field '" + m[1] + "': use role:, theme:, tag:"); }
        field(m[1].toLowerCase(), m[2]); continue;
      }
      if (m[5] !== undefined) {
        if (!m[6]) { throw new QueryError('unclosed quote: end the phrase with "'); }
        var ws = words(m[5]);
        add(ws.length ? {words: ws, prefix: false} : null, m[4] === '-'); continue;
      }
      var bare = m[7];
      if (bare === 'OR') {
        if (!q.groups.length || orNext || notNext) { throw new QueryError('OR needs a word on each side (as in: export OR report)'); }
        orNext = true; continue;
      }
      if (bare === 'NOT') {
        if (orNext || notNext) { throw new QueryError('NOT needs a word after it (as in: report NOT spreadsheet)'); }
        notNext = true; continue;
      }
      if (bare === 'AND') { continue; }
      var negate = bare.charAt(0) === '-', body = negate ? bare.slice(1) : bare;
      if (!body) { throw new QueryError("a lone '-': write -word to leave sentences with that word out"); }
      var colon = body.indexOf(':');
      if (colon > 0 && /^[A-Za-z]+$/.test(body.slice(0, colon)) && colon < body.length - 1) {
        var name = body.slice(0, colon).toLowerCase();
        if (FIELDS.indexOf(name) < 0) { throw new QueryError("unknown field '" + body.slice(0, colon) + "': use role:, theme:, tag:"); }
        if (negate || notNext || orNext) { throw new QueryError(name + ': cannot be negated or joined by OR'); }
        field(name, body.slice(colon + 1)); continue;
      }
      var prefix = /\*$/.test(body);
      body = body.replace(/\*+$/, '');
      if (body.indexOf('*') >= 0) { throw new QueryError("'*' goes at the end of a word (spread*)"); }
      var w = words(body);
      if (prefix && !w.length) { throw new QueryError("a prefix needs letters before '*' (spread*)"); }
      add(w.length ? {words: w, prefix: prefix} : null, negate);
    }
    if (orNext) { throw new QueryError('OR needs a word on each side (as in: export OR report)'); }
    if (notNext) { throw new QueryError('NOT needs a word after it (as in: report NOT spreadsheet)'); }
    if (q.exclude.length && !q.groups.length) { throw new QueryError('only words to leave out: add a word to look for (as in: report -spreadsheet)'); }
    return q;
  }

  function hasTerm(sw, term) {
    var n = term.words.length;
    for (var i = 0; i + n <= sw.raw.length; i++) {
      var ok = true;
      for (var j = 0; j < n && ok; j++) {
        var last = j === n - 1;
        ok = (last && term.prefix) ? sw.raw[i + j].indexOf(term.words[j]) === 0 : sw.stem[i + j] === stem(term.words[j]);
      }
      if (ok) { return true; }
    }
    return false;
  }

  function themeQuotes(key) {
    var k = key.trim().toLowerCase(), tests = [
      function (t) { return t.id === key; }, function (t) { return t.name.toLowerCase() === k; },
      function (t) { return t.name.toLowerCase().indexOf(k) >= 0 || t.keywords.join(' ').toLowerCase().indexOf(k) >= 0; }];
    for (var i = 0; i < tests.length; i++) {
      for (var j = 0; j < themes.length; j++) {
        if (tests[i](themes[j])) {
          var set = {};
          themes[j].quotes.forEach(function (q) { set[q[0] + '|' + q[1]] = true; });
          return set;
        }
      }
    }
    throw new QueryError('theme:' + key + ': no such theme');
  }

  function filterOf(q, roleSel) {
    var role = roleSel, tags = (q.filters.tag || []).map(tagKey), within = null;
    (q.filters.role || []).forEach(function (r) { role = ROLES[r.toLowerCase()]; });
    (q.filters.theme || []).forEach(function (t) {
      var s = themeQuotes(t);
      if (within === null) { within = s; } else { Object.keys(within).forEach(function (k) { if (!s[k]) { delete within[k]; } }); }
    });
    return function (i) {
      var row = bank[i];
      if (role && row[2] !== role) { return false; }
      if (within !== null && !within[row[0] + '|' + row[1]]) { return false; }
      for (var k = 0; k < tags.length; k++) { if ((row[4] || []).indexOf(tags[k]) < 0) { return false; } }
      for (var x = 0; x < q.exclude.length; x++) { if (hasTerm(indexed[i], q.exclude[x])) { return false; } }
      return true;
    };
  }

  function byWords(q, keep) {
    var out = [];
    for (var i = 0; i < bank.length; i++) {
      if (!keep(i)) { continue; }
      var all = true;
      for (var g = 0; g < q.groups.length && all; g++) {
        var any = false;
        for (var t = 0; t < q.groups[g].length && !any; t++) { any = hasTerm(indexed[i], q.groups[g][t]); }
        all = any;
      }
      if (all) { out.push({i: i}); }
    }
    return out;
  }

  function decode(b64, dims) {
    var bin = atob(b64), n = bin.length / dims, out = [];
    for (var r = 0; r < n; r++) {
      var v = new Float32Array(dims), norm = 0;
      for (var c = 0; c < dims; c++) { var x = bin.charCodeAt(r * dims + c); v[c] = x > 127 ? x - 256 : x; norm += v[c] * v[c]; }
      norm = Math.sqrt(norm) || 1;
      for (c = 0; c < dims; c++) { v[c] /= norm; }
      out.push(v);
    }
    return out;
  }
  var sentVecs = null, wordVecs = null, wordIndex = null, stops = null;

  function byMeaning(q, keep, limit) {
    if (!sentVecs) {
      sentVecs = decode(meaning.sents, meaning.dims); wordVecs = decode(meaning.wvecs, meaning.dims);
      wordIndex = {}; meaning.words.forEach(function (w, k) { wordIndex[w] = k; });
      stops = {}; meaning.stop.forEach(function (w) { stops[w] = true; });
    }
    var qv = new Float32Array(meaning.dims), used = [], content = [];
    q.groups.forEach(function (g) { g.forEach(function (t) { t.words.forEach(function (w) {
      if (stops[w] || w.length < 3) { return; }
      content.push(stem(w));
      var k = wordIndex[w] !== undefined ? wordIndex[w] : wordIndex[stem(w)];
      if (k === undefined) { return; }
      used.push(w);
      for (var c = 0; c < meaning.dims; c++) { qv[c] += wordVecs[k][c]; }
    }); }); });
    if (!used.length) { throw new QueryError('by meaning: none of these words is said in the interviews; try other words, or ivp search --meaning'); }
    var norm = 0, c;
    for (c = 0; c < meaning.dims; c++) { norm += qv[c] * qv[c]; }
    norm = Math.sqrt(norm) || 1;
    var scored = [];
    for (var i = 0; i < bank.length; i++) {
      var s = 0;
      for (c = 0; c < meaning.dims; c++) { s += sentVecs[i][c] * qv[c]; }
      var shared = 0;
      content.forEach(function (w) { if (indexed[i].stem.indexOf(w) >= 0) { shared += 1; } });
      scored.push({i: i, score: s / norm, shared: shared});
    }
    var fused = {};
    scored.slice().sort(function (a, b) { return b.score - a.score; }).forEach(function (h, rank) { fused[h.i] = 1 / (meaning.fuse_k + rank); });
    scored.filter(function (h) { return h.shared; }).sort(function (a, b) { return b.shared - a.shared; })
      .forEach(function (h, rank) { fused[h.i] += 1 / (meaning.fuse_k + rank); });
    var best = 0;
    scored.forEach(function (h) { if (keep(h.i) && h.score > best) { best = h.score; } });
    var floor = Math.max(meaning.floor, meaning.relative * best);
    var out = scored.filter(function (h) { return keep(h.i) && (h.score >= floor || h.shared); });
    out.forEach(function (h) { h.close = h.score >= floor; });
    out.sort(function (a, b) { return fused[b.i] - fused[a.i] || a.i - b.i; });
    return {hits: out.slice(0, limit), used: used};
  }

  var indexed = null;
  var input = document.getElementById('study-search'), roleSel = document.getElementById('study-role');
  var results = document.getElementById('study-results'), count = document.getElementById('study-count');
  var meaningBox = document.getElementById('study-meaning');
  var MAX_SHOWN = 300, MEANING_SHOWN = 20;

  function span(cls, text) { var e = document.createElement('span'); e.className = cls; e.textContent = text; return e; }
  function neighbour(i, step) { var j = i + step; return (bank[j] && bank[j][0] === bank[i][0]) ? bank[j][3] : ''; }

  function show(hit) {
    var row = bank[hit.i], d = docs[row[0]];
    var li = document.createElement('li');
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'quote hit';
    b.setAttribute('data-doc', row[0]);
    b.setAttribute('data-start', row[1]);
    b.appendChild(span('ts', clock(row[1]))); b.appendChild(document.createTextNode(' '));
    b.appendChild(span('who', (d ? d.name : '?') + (ROLE[row[2]] ? ' · ' + ROLE[row[2]] : '')));
    b.appendChild(document.createTextNode(' '));
    b.appendChild(span('text', row[3]));
    if (hit.score !== undefined) {
      b.appendChild(span('score muted small', hit.close ? ' ' + hit.score.toFixed(2) : ' (your words)'));
    }
    li.appendChild(b);
    var ctx = document.createElement('p');
    ctx.className = 'context muted small';
    ctx.appendChild(span('before', neighbour(hit.i, -1)));
    ctx.appendChild(document.createTextNode(' [...] '));
    ctx.appendChild(span('after', neighbour(hit.i, 1)));
    li.appendChild(ctx);
    if (d && d.page) {
      var a = document.createElement('a');
      a.className = 'moment-link small';
      a.href = d.page + '#t=' + row[1];
      a.textContent = 'open the moment';
      li.appendChild(a);
    }
    results.appendChild(li);
  }

  function search() {
    if (!indexed) { indexed = bank.map(function (row) { var w = words(row[3]); return {raw: w, stem: w.map(stem)}; }); }
    results.textContent = '';
    count.className = 'muted';
    var q;
    try {
      q = parse(input.value);
      if (!q.groups.length && !Object.keys(q.filters).length) { count.textContent = ''; return; }
      var keep = filterOf(q, roleSel.value), hits, note = '';
      if (meaningBox && meaningBox.checked) {
        if (!q.groups.length) { throw new QueryError('search by meaning needs words to look for'); }
        var found = byMeaning(q, keep, MEANING_SHOWN);
        hits = found.hits;
        note = ' by meaning of: ' + found.used.join(', ');
      } else {
        hits = byWords(q, keep);
      }
    } catch (e) {
      if (!(e instanceof QueryError)) { throw e; }
      count.className = 'muted query-error';
      count.textContent = 'query: ' + e.message;
      return;
    }
    hits.slice(0, MAX_SHOWN).forEach(show);
    var n = hits.length;
    count.textContent = n + (n === 1 ? ' hit' : ' hits') + note + (n > MAX_SHOWN ? ' (first ' + MAX_SHOWN + ' shown)' : '');
  }
  input.addEventListener('input', search);
  roleSel.addEventListener('change', search);
  if (meaningBox) { meaningBox.addEventListener('change', search); }
}());
