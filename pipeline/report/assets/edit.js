/* ivp serve: the editing controls on the report's pages. Each change is sent at once (with the
 * run's token in a header, which another site cannot add) and the page is loaded again to show it.
 * Only on pages served by `ivp serve`; the static report never loads this file. */
(function () {
  'use strict';
  var cfg;
  try { cfg = JSON.parse(document.getElementById('ivp-edit').textContent); } catch (e) { return; }
  var status = document.getElementById('edit-status');
  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  function say(text, error) {
    if (!status) { return; }
    status.textContent = text;
    status.className = 'edit-status' + (error ? ' error' : '');
  }

  function send(action, body) {
    say('saving…');
    if (cfg.slug) { body.slug = cfg.slug; }
    return fetch(cfg.api + '/' + action, {
      method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-IVP-Token': cfg.token},
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) { throw new Error(data.error || ('HTTP ' + r.status)); }
        say('saved');
        window.location.reload();
        return data;
      });
    }).catch(function (err) { say('not saved: ' + err.message, true); });
  }

  function tagsOf(text) {
    return String(text || '').split(',').map(function (t) { return t.trim(); }).filter(Boolean);
  }

  // speakers: a name, and the role with one click
  each(document.querySelectorAll('tr.speaker-edit'), function (row) {
    var speaker = row.getAttribute('data-speaker');
    var input = row.querySelector('.name-input');
    if (input) {
      var saved = input.value;
      function save() { if (input.value.trim() !== saved) { send('name', {speaker: speaker, name: input.value}); } }
      input.addEventListener('change', save);
      input.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') { ev.preventDefault(); input.blur(); } });
    }
    each(row.querySelectorAll('.role-btn'), function (b) {
      b.addEventListener('click', function () {
        if (!b.classList.contains('on')) { send('role', {speaker: speaker, role: b.getAttribute('data-role')}); }
      });
    });
  });

  // a sentence's words
  each(document.querySelectorAll('.edit-words'), function (b) {
    b.addEventListener('click', function (ev) {
      ev.stopPropagation();
      var line = b.closest('.line');
      var span = line.querySelector('.text');
      if (line.querySelector('.word-editor')) { return; }
      var old = span.textContent.trim();
      var input = document.createElement('input');
      input.type = 'text';
      input.className = 'word-editor';
      input.value = old;
      input.setAttribute('aria-label', 'correct the words');
      span.hidden = true;
      span.parentNode.insertBefore(input, span.nextSibling);
      input.focus();
      input.addEventListener('click', function (e) { e.stopPropagation(); });
      input.addEventListener('keydown', function (e) {
        e.stopPropagation();
        if (e.key === 'Escape') { input.remove(); span.hidden = false; }
        if (e.key === 'Enter') {
          e.preventDefault();
          if (input.value.trim() && input.value.trim() !== old) {
            send('words', {start: parseFloat(line.getAttribute('data-start')), end: parseFloat(line.getAttribute('data-end')),
                           speaker: line.getAttribute('data-speaker') || null, old: old, new: input.value});
          } else { input.remove(); span.hidden = false; }
        }
      });
    });
  });

  // a highlight from selected transcript text, with tags and a note
  var form = document.getElementById('highlight-form');
  var picked = null;
  function selectionInLine() {
    var sel = window.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount) { return null; }
    var range = sel.getRangeAt(0);
    var node = range.commonAncestorContainer;
    var el = node.nodeType === 1 ? node : node.parentNode;
    var text = el && el.closest ? el.closest('.text') : null;
    if (!text) { return null; }
    var line = text.closest('.line');
    var whole = text.textContent;
    var chosen = String(sel).trim();
    if (!chosen) { return null; }
    var pre = document.createRange();
    pre.selectNodeContents(text);
    pre.setEnd(range.startContainer, range.startOffset);
    var from = pre.toString().length;
    var to = from + String(sel).length;
    var start = parseFloat(line.getAttribute('data-start')), end = parseFloat(line.getAttribute('data-end'));
    var n = Math.max(1, whole.length);  // the line's time shared out by characters
    return {start: +(start + (end - start) * from / n).toFixed(2), end: +(start + (end - start) * Math.min(n, to) / n).toFixed(2),
            text: chosen, speaker: line.getAttribute('data-speaker') || null};
  }
  if (form) {
    document.addEventListener('mouseup', function (ev) {
      if (form.contains(ev.target)) { return; }
      var found = selectionInLine();
      if (!found) { return; }
      picked = found;
      document.getElementById('hl-text').textContent = found.text;
      document.getElementById('hl-when').textContent = found.start.toFixed(1) + ' s';
      form.hidden = false;
      document.getElementById('hl-tags').focus();
    });
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (!picked) { return; }
      send('highlight', {start: picked.start, end: picked.end, text: picked.text, speaker: picked.speaker,
                         tags: tagsOf(document.getElementById('hl-tags').value),
                         note: document.getElementById('hl-note').value});
    });
    document.getElementById('hl-cancel').addEventListener('click', function () { form.hidden = true; picked = null; });
  }

  // highlights and other moments: re-tag or remove (a person's own by id, an automatic one by kind and time)
  function momentBody(li) {
    var id = li.getAttribute('data-id');
    return id ? {id: id} : {start: parseFloat(li.getAttribute('data-start')), kind: li.getAttribute('data-kind')};
  }
  each(document.querySelectorAll('.moment-item'), function (li) {
    var remove = li.querySelector('.moment-remove'), tag = li.querySelector('.moment-tag');
    var merge = li.querySelector('.moment-merge');
    if (merge) {  // into the nearest automatic moment above it in the same list
      merge.addEventListener('click', function () {
        var prev = li.previousElementSibling;
        while (prev && (!prev.classList.contains('moment-item') || prev.getAttribute('data-id'))) { prev = prev.previousElementSibling; }
        if (!prev) { return; }
        send('moment', Object.assign(momentBody(li), {action: 'merge', into: {start: parseFloat(prev.getAttribute('data-start')),
                                                                           kind: prev.getAttribute('data-kind')}}));
      });
    }
    if (remove) {
      remove.addEventListener('click', function () { send('moment', Object.assign(momentBody(li), {action: 'remove'})); });
    }
    if (tag) {
      tag.addEventListener('click', function () {
        var tags = window.prompt('Tags (comma-separated)', li.getAttribute('data-tags') || '');
        if (tags === null) { return; }
        var note = window.prompt('Note', li.getAttribute('data-note') || '');
        send('moment', Object.assign(momentBody(li), {action: 'tag', tags: tagsOf(tags), note: note || ''}));
      });
    }
  });

  // study themes: rename, merge into another, hide
  each(document.querySelectorAll('.theme'), function (li) {
    var id = li.getAttribute('data-id');
    var rename = li.querySelector('.theme-rename'), merge = li.querySelector('.theme-merge'), hide = li.querySelector('.theme-hide');
    if (rename) {
      rename.addEventListener('click', function () {
        var name = window.prompt('New name for this theme', li.querySelector('.theme-name').textContent);
        if (name !== null && name.trim()) { send('theme', {id: id, name: name}); }
      });
    }
    if (merge) {
      merge.addEventListener('click', function () {
        var into = window.prompt('Merge into the theme with id (shown beside each theme)', '');
        if (into !== null && into.trim()) { send('theme', {id: id, merge_into: into.trim()}); }
      });
    }
    if (hide) { hide.addEventListener('click', function () { send('theme', {id: id, hide: true}); }); }
  });
}());
