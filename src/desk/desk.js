// The editors' desk (src/desk): keyboard shortcuts for the queue. Every
// action also works as a plain form without this script; here the same
// POSTs are sent with fetch (Accept: application/json) so that an editor
// going through a long queue never waits for a page to reload.
(function () {
  'use strict';
  var body = document.body;
  var csrf = body.getAttribute('data-csrf') || '';
  var filterStatus = body.getAttribute('data-status') || '';
  var sections = [];
  try { sections = JSON.parse(body.getAttribute('data-sections') || '[]'); } catch (e) { sections = []; }
  var flash = document.getElementById('flash');
  var current = null;

  // The items an editor can see: not those of a closed group (待定).
  function items() {
    return Array.prototype.slice.call(document.querySelectorAll('article.item'))
      .filter(function (el) { return !el.closest('details:not([open])'); });
  }

  function say(text, error) {
    if (!flash) { return; }
    flash.textContent = text;
    flash.className = error ? 'flash error' : 'flash';
  }

  function select(el) {
    if (current) { current.classList.remove('sel'); }
    current = el;
    if (el) {
      el.classList.add('sel');
      el.scrollIntoView({ block: 'nearest' });
    }
  }

  function step(delta) {
    var list = items();
    if (!list.length) { return; }
    var i = list.indexOf(current);
    if (i < 0) { select(list[delta > 0 ? 0 : list.length - 1]); return; }
    select(list[Math.max(0, Math.min(list.length - 1, i + delta))]);
  }

  // An item that no longer matches the filter leaves the list; the next
  // one is selected, so `a a a` goes down the queue.
  function drop(el) {
    var list = items();
    var i = list.indexOf(el);
    var next = list[i + 1] || list[i - 1] || null;
    el.parentNode.removeChild(el);
    if (current === el) { current = null; select(next); }
  }

  function act(el, action, fields) {
    var data = new URLSearchParams();
    data.set('csrf', csrf);
    Object.keys(fields || {}).forEach(function (k) { data.set(k, fields[k]); });
    fetch('/desk/items/' + el.getAttribute('data-id') + '/' + action, {
      method: 'POST',
      headers: { 'Accept': 'application/json' },
      credentials: 'same-origin',
      body: data
    }).then(function (r) {
      return r.json().then(function (j) { return { status: r.status, j: j }; });
    }).then(function (res) {
      var j = res.j;
      say(j.message || '', !j.ok);
      if (res.status === 401) { window.location.href = '/desk/login'; return; }
      if (!j.ok || !j.item) { return; }
      if (action === 'move') {
        var sel = el.querySelector('select[name=section]');
        if (sel) { sel.value = j.item.section || ''; }
        var sec = el.querySelector('.sec');
        if (sec && sel) { sec.textContent = sel.options[sel.selectedIndex].text; }
        return;
      }
      if (filterStatus && filterStatus !== 'all' && j.item.status !== filterStatus) {
        drop(el);
      } else {
        el.className = 'item st-' + j.item.status + (el === current ? ' sel' : '');
      }
    }).catch(function () { say('网络错误，操作未完成。', true); });
  }

  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) {
      if (e.key === 'Escape') { t.blur(); }
      return;
    }
    var key = e.key;
    if (key === 'j') { step(1); }
    else if (key === 'k') { step(-1); }
    else if (key === '/') {
      var q = document.getElementById('q');
      if (q) { q.focus(); q.select(); }
    }
    else if (!current) { return; }
    else if (key === 'a') { act(current, 'approve'); }
    else if (key === 'r') { act(current, 'reject'); }
    else if (key === 'x') {
      var box = current.querySelector('input[type=checkbox]');
      if (box) { box.checked = !box.checked; }
    }
    else if (/^[1-9]$/.test(key) && sections[Number(key) - 1]) {
      act(current, 'move', { section: sections[Number(key) - 1] });
    }
    else { return; }
    e.preventDefault();
  });

  // A click on an item selects it, so the keys act on what was clicked.
  document.addEventListener('click', function (e) {
    var el = e.target.closest ? e.target.closest('article.item') : null;
    if (el) { select(el); }
  });
}());
