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

  /* search: every word (or "quoted phrase") must occur in the sentence; words compare by a light
   * stem (plural and -ing/-ed endings dropped), close to the porter stemming of `ivp search` */
  function stem(w) { return w.replace(/(ies|es|s|ing|ed)$/, function (m) { return w.length - m.length >= 4 ? '' : m; }); }
  function words(text) { return (text.toLowerCase().match(/[\p{L}\p{N}']+/gu) || []); }
  function terms(query) {
    var out = [], re = /"([^"]*)"|(\S+)/g, m;
    while ((m = re.exec(query)) !== null) {
      var w = words(m[1] !== undefined ? m[1] : m[2]).map(stem);
      if (w.length) { out.push(w); }
    }
    return out;
  }
  function matches(sentenceWords, phrase) {
    for (var i = 0; i + phrase.length <= sentenceWords.length; i++) {
      var ok = true;
      for (var j = 0; j < phrase.length && ok; j++) {
        ok = sentenceWords[i + j] === phrase[j];
      }
      if (ok) { return true; }
    }
    return false;
  }
  var indexed = null;
  var input = document.getElementById('study-search'), roleSel = document.getElementById('study-role');
  var results = document.getElementById('study-results'), count = document.getElementById('study-count');
  var MAX_SHOWN = 300;

  function search() {
    if (!indexed) { indexed = bank.map(function (row) { return words(row[3]).map(stem); }); }
    var q = terms(input.value), role = roleSel.value;
    results.textContent = '';
    if (!q.length) { count.textContent = ''; return; }
    var n = 0;
    for (var i = 0; i < bank.length; i++) {
      var row = bank[i];
      if (role && row[2] !== role) { continue; }
      var all = true;
      for (var k = 0; k < q.length && all; k++) { all = matches(indexed[i], q[k]); }
      if (!all) { continue; }
      n += 1;
      if (n > MAX_SHOWN) { continue; }
      var li = document.createElement('li');
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'quote hit';
      b.setAttribute('data-doc', row[0]);
      b.setAttribute('data-start', row[1]);
      var ts = document.createElement('span'); ts.className = 'ts'; ts.textContent = clock(row[1]);
      var who = document.createElement('span'); who.className = 'who';
      who.textContent = (docs[row[0]] ? docs[row[0]].name : '?') + (ROLE[row[2]] ? ' · ' + ROLE[row[2]] : '');
      var tx = document.createElement('span'); tx.className = 'text'; tx.textContent = row[3];
      b.appendChild(ts); b.appendChild(document.createTextNode(' ')); b.appendChild(who);
      b.appendChild(document.createTextNode(' ')); b.appendChild(tx);
      li.appendChild(b);
      results.appendChild(li);
    }
    count.textContent = n + (n === 1 ? ' hit' : ' hits') + (n > MAX_SHOWN ? ' (first ' + MAX_SHOWN + ' shown)' : '');
  }
  input.addEventListener('input', search);
  roleSel.addEventListener('change', search);
}());
