/* vibechat: the one script of our own, for what htmx cannot express.
 *
 * htmx and its ws extension keep the socket open (reconnecting with backoff) and
 * swap every frame in: each top-level element names its target by id
 * (hx-swap-oob). This script only
 *   - decides where an element goes that is not on the page yet (a new message
 *     in seq order, a new chat at the top of the list), and parks the rest;
 *   - never lets an older version of a message replace a newer one (rev);
 *   - keeps the resume point: the rev up to which this page holds every change,
 *     asks for everything since then on each (re)connect, and when a frame skips
 *     ahead;
 *   - says in words whether the page is live;
 *   - queues sends while the connection is down and retries them with the same
 *     client_token, so a retried send never duplicates;
 *   - sends typing notices (throttled) and read marks.
 * Without JavaScript none of this runs and every page still works by forms.
 */
(function () {
  'use strict'
  if (!window.htmx) return

  var body = document.body
  var me = body.getAttribute('data-me')
  var csrf = document.querySelector('input[name="csrf_token"]')
  var log = document.getElementById('messages')
  var chatId = log ? log.getAttribute('data-chat') : null
  var held = log ? Number(log.getAttribute('data-rev')) : 0 // every change up to here is on the page
  var highest = held // the highest rev seen in any frame
  var catchingUp = false
  var socket = null // htmx's socket wrapper, while open
  var everOpen = false
  var gone = false // this chat was deleted or we were removed
  var sink = document.createElement('div') // parking place for frames meant for other pages
  sink.hidden = true
  body.appendChild(sink)

  function token () { return csrf ? csrf.value : '' }

  function post (url, fields) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-CSRF-Token': token(), 'HX-Request': 'true' },
      body: new URLSearchParams(fields)
    })
  }

  /* -- placement ---------------------------------------------------------------- */

  function targetOf (element) {
    var spec = element.getAttribute('hx-swap-oob') || 'true'
    var colon = spec.indexOf(':')
    return colon > 0 ? spec.slice(colon + 1) : '#' + CSS.escape(element.id)
  }

  function placeholder (id) {
    var stub = document.createElement('li')
    stub.id = id
    stub.hidden = true
    return stub
  }

  // Put an empty element with the incoming id where the element belongs, so that
  // htmx's swap (by id) lands in the right place.
  function place (element) {
    if (document.querySelector(targetOf(element))) return
    var stub = placeholder(element.id)
    if (log && element.matches('li.message') && element.getAttribute('data-chat') === chatId) {
      var seq = Number(element.getAttribute('data-seq'))
      var oldest = log.querySelector('li.message[data-seq]')
      if (oldest && seq < Number(oldest.getAttribute('data-seq')) && document.querySelector('.older a')) {
        // Older than what this page shows (an edit of an old message): the
        // "Earlier messages" page will bring it as it is now.
        sink.appendChild(stub)
        return
      }
      var after = null
      var items = log.children
      for (var i = items.length - 1; i >= 0; i--) {
        if (Number(items[i].getAttribute('data-seq')) < seq) { after = items[i]; break }
      }
      log.insertBefore(stub, after ? after.nextSibling : log.firstChild)
      var empty = document.querySelector('.conversation .empty')
      if (empty) empty.remove()
    } else if (element.matches('li.chat-item') && document.getElementById('chat-list')) {
      document.getElementById('chat-list').prepend(stub)
      var none = document.querySelector('.empty-list')
      if (none) none.hidden = true
    } else if (element.matches('li.member') && document.getElementById('member-list') &&
               element.id.indexOf('member-' + chatId + '-') === 0) {
      document.getElementById('member-list').appendChild(stub)
    } else {
      sink.appendChild(stub)
    }
  }

  function noteRev (element) {
    if (!element.matches('li.message') || element.getAttribute('data-chat') !== chatId) return
    var rev = Number(element.getAttribute('data-rev'))
    if (rev === held + 1) held = rev
    if (rev > highest) highest = rev
  }

  // Frames (from the socket or a catch-up request): place new elements, note revs.
  function prepare (html) {
    var template = document.createElement('template')
    template.innerHTML = html
    Array.prototype.forEach.call(template.content.children, function (element) {
      if (!element.id) return
      place(element)
      noteRev(element)
    })
  }

  function afterFrames () {
    sink.textContent = ''
    checkGone()
    if (highest > held) catchUp()
    scrollToNewest()
    markRead()
  }

  body.addEventListener('htmx:wsBeforeMessage', function (event) {
    wasAtBottom = nearBottom()
    prepare(event.detail.message)
  })
  body.addEventListener('htmx:wsAfterMessage', afterFrames)

  // Never let an older version of a message replace a newer one.
  body.addEventListener('htmx:oobBeforeSwap', function (event) {
    var target = event.detail.target
    var incoming = event.detail.fragment && event.detail.fragment.firstElementChild
    if (target.matches && target.matches('li.message') && !target.hidden && incoming &&
        Number(incoming.getAttribute('data-rev')) < Number(target.getAttribute('data-rev'))) {
      event.detail.shouldSwap = false
    }
  })

  // Keep the chat list in step with new messages (the unread count is per reader,
  // so the frame carries the message's author and this page does the counting).
  // htmx fires oobAfterSwap on every element swapped so far in a frame: count once.
  var counted = new WeakSet()
  body.addEventListener('htmx:oobAfterSwap', function (event) {
    var preview = event.target
    if (!preview.matches || !preview.matches('.chat-preview') || counted.has(preview)) return
    counted.add(preview)
    var item = preview.closest('li.chat-item')
    if (!item) return
    // Only a message newer than any seen counts (an edit or a deletion changes the
    // preview too).
    var seq = Number(preview.getAttribute('data-seq') || 0)
    if (!(seq > Number(item.getAttribute('data-last-seq')))) return
    item.setAttribute('data-last-seq', seq)
    if (preview.getAttribute('data-author') !== me) {
      var slot = item.querySelector('.unread-slot')
      var count = Number(slot.getAttribute('data-count')) + 1
      slot.setAttribute('data-count', count)
      slot.innerHTML = '<span class="unread"></span>'
      slot.firstChild.textContent = count + ' unread'
    }
    item.parentNode.prepend(item)
  })

  // This chat was deleted, or we were removed: stop writing to it.
  function checkGone () {
    if (gone || !document.querySelector('.chat-status [data-gone]')) return
    gone = true
    var form = document.getElementById('composer')
    if (form) form.querySelectorAll('textarea, button').forEach(function (c) { c.disabled = true })
  }

  /* -- catching up -------------------------------------------------------------- */

  // Ask for every change after `held`; the answer says up to which rev it is complete.
  function catchUp () {
    if (!log || catchingUp || gone) return
    catchingUp = true
    fetch('/chats/' + chatId + '/messages?since=' + held, {
      credentials: 'same-origin', headers: { 'HX-Request': 'true' }
    }).then(function (response) {
      if (!response.ok) throw new Error('catch-up answered ' + response.status)
      var complete = Number(response.headers.get('X-Vibechat-Rev'))
      var more = response.headers.get('X-Vibechat-More') === '1'
      return response.text().then(function (html) {
        wasAtBottom = nearBottom()
        prepare(html)
        htmx.swap(body, html, { swapStyle: 'none' })
        if (complete > held) held = complete
        if (more && highest <= held) highest = held + 1 // ask again
        if (held > highest) highest = held
      })
    }).catch(function () { /* the next frame or reconnect tries again */ })
      .then(function () {
        catchingUp = false
        afterFrames()
      })
  }

  // Lists that the socket cannot bring up to date by itself after an outage.
  function refresh (selector, url) {
    var element = document.querySelector(selector)
    if (element) htmx.ajax('GET', url, { target: selector, swap: 'outerHTML' })
  }

  /* -- earlier messages ------------------------------------------------------- */

  // Loading older messages must not be read out as if they were new: the log is
  // quiet while they go in. Focus returns to the (new) "Earlier messages" link, or to
  // the list when there is nothing older.
  // The reading place stays too: browsers do not anchor scrolling when content goes
  // in above, at the top of a page, so we scroll by however far the first message moved.
  var loadingOlder = false
  var anchor = null
  var anchorTop = 0
  body.addEventListener('htmx:beforeSwap', function (event) {
    if (log && event.detail.target === log) {
      loadingOlder = document.activeElement && document.activeElement.closest('.older')
      anchor = log.firstElementChild
      anchorTop = anchor ? anchor.getBoundingClientRect().top : 0
      log.setAttribute('aria-live', 'off')
    }
  })
  body.addEventListener('htmx:afterSettle', function (event) {
    if (!log || event.detail.target !== log) return
    if (anchor && anchor.isConnected) window.scrollBy(0, anchor.getBoundingClientRect().top - anchorTop)
    anchor = null
    setTimeout(function () { log.setAttribute('aria-live', 'polite') }, 0)
    if (loadingOlder) {
      var link = document.querySelector('.older a')
      if (link) link.focus({ preventScroll: true })
      else { log.setAttribute('tabindex', '-1'); log.focus({ preventScroll: true }) }
    }
  })

  /* -- reading ------------------------------------------------------------------ */

  var wasAtBottom = true
  function nearBottom () {
    var root = document.scrollingElement || document.documentElement
    return root.scrollHeight - root.scrollTop - root.clientHeight < 120
  }
  function scrollToNewest () {
    if (!log || !wasAtBottom || !log.lastElementChild) return
    var composer = document.getElementById('composer')
    ;(composer || log.lastElementChild).scrollIntoView({ block: 'end' })
  }

  var readTimer = null
  var readSeq = 0
  function markRead () {
    if (!log || gone || document.hidden || !log.lastElementChild) return
    var seq = Number(log.lastElementChild.getAttribute('data-seq'))
    if (!(seq > readSeq)) return
    clearTimeout(readTimer)
    readTimer = setTimeout(function () {
      readSeq = seq
      post('/chats/' + chatId + '/read', { seq: seq }).catch(function () { readSeq = 0 })
    }, 500)
  }
  document.addEventListener('visibilitychange', markRead)

  /* -- connection state --------------------------------------------------------- */

  var state = document.getElementById('connection-state')
  var newer = document.querySelector('.newer')
  function say (text, live) {
    if (state) {
      state.hidden = false
      state.textContent = text
      state.setAttribute('data-live', live ? 'true' : 'false')
    }
    if (newer) newer.hidden = live
  }

  body.addEventListener('htmx:wsConnecting', function () {
    if (!socket) say(everOpen ? 'Reconnecting…' : 'Connecting…', false)
  })
  body.addEventListener('htmx:wsOpen', function (event) {
    socket = event.detail.socketWrapper
    closes = 0
    say('Live: new messages appear as they arrive.', true)
    if (everOpen) {
      refresh('#chat-list', '/chats')
      if (chatId) refresh('#member-list', '/chats/' + chatId + '/members')
    }
    everOpen = true
    catchUp()
    flush()
  })
  // The extension reconnects by itself after 1006, 1011, 1012 and 1013. A server or
  // proxy going away may also say 1000 or 1001: reconnect then too, with backoff.
  // 1008 says this session ended: ask first, for a page that gives up wrongly stops
  // being live without a word. 4429: too many pages open, reconnecting would not help.
  var closes = 0
  function reconnectLater (wrapper) {
    closes = Math.min(closes + 1, 6)
    setTimeout(function () { wrapper.reconnect() }, Math.random() * 1000 * Math.pow(2, closes - 1))
  }
  body.addEventListener('htmx:wsClose', function (event) {
    socket = null
    var code = event.detail.event && event.detail.event.code
    var wrapper = event.detail.socketWrapper
    say(code === 4429 ? 'Not live: too many pages are open. Close some, then reload.'
      : gone ? 'Disconnected.' : 'Offline. Reconnecting… You can keep writing; messages are sent when the connection is back.', false)
    if (!wrapper || !body.isConnected) return
    if (code === 1000 || code === 1001) reconnectLater(wrapper)
    if (code === 1008) {
      fetch('/session', { redirect: 'manual' }).then(function (response) {
        if (response.status === 204) reconnectLater(wrapper)
        else say('Signed out. Sign in again to see new messages.', false)
      }, function () { reconnectLater(wrapper) })
    }
  })
  window.addEventListener('online', function () { flush() })

  /* -- sending ------------------------------------------------------------------ */

  var composer = document.getElementById('composer')
  var outbox = document.getElementById('outbox')
  var queue = []
  var sending = false
  var retryDelay = 1000
  var retryTimer = null
  var lastTyping = 0

  function newToken () {
    var bytes = new Uint8Array(16)
    crypto.getRandomValues(bytes)
    return Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2) }).join('')
  }

  function showOutbox () {
    if (!outbox) return
    outbox.textContent = ''
    queue.forEach(function (item) {
      var li = document.createElement('li')
      li.textContent = (socket ? 'Sending: ' : 'Waiting for the connection: ') + item.body
      outbox.appendChild(li)
    })
    outbox.hidden = queue.length === 0
  }

  function showError (message) {
    var field = composer.querySelector('.field')
    var error = document.getElementById('body-error')
    if (!error) {
      error = document.createElement('p')
      error.id = 'body-error'
      error.className = 'error'
      field.appendChild(error)
      composer.querySelector('textarea').setAttribute('aria-describedby', 'body-error')
    }
    error.textContent = message
    composer.querySelector('textarea').setAttribute('aria-invalid', 'true')
  }

  function clearError () {
    var error = document.getElementById('body-error')
    if (error) error.remove()
    var textarea = composer.querySelector('textarea')
    textarea.removeAttribute('aria-invalid')
    textarea.removeAttribute('aria-describedby')
  }

  function retryLater () {
    clearTimeout(retryTimer)
    retryTimer = setTimeout(flush, retryDelay)
    retryDelay = Math.min(retryDelay * 2, 30000)
  }

  // Send the queue in order, one at a time; a network failure keeps the item (and
  // its client_token) for the next try.
  function flush () {
    if (sending || !queue.length || !composer) return
    clearTimeout(retryTimer)
    retryTimer = null
    sending = true
    var item = queue[0]
    post(composer.getAttribute('action'), { body: item.body, client_token: item.token })
      .then(function (response) {
        if (response.ok) {
          queue.shift()
          retryDelay = 1000
        } else if (response.status === 422 || response.status === 413 || response.status === 403) {
          queue.shift()
          var textarea = composer.querySelector('textarea')
          if (!textarea.value) textarea.value = item.body
          showError(response.status === 403
            ? 'This page has expired. Reload it to send your message.'
            : 'This message could not be sent: it is empty or too long.')
        } else if (response.status === 429) {
          // Sending too fast: keep the message and resend when the server says.
          retryDelay = Math.max(1, Number(response.headers.get('Retry-After')) || 1) * 1000
          retryLater()
        } else {
          retryLater()
        }
      }, retryLater)
      .then(function () {
        sending = false
        showOutbox()
        if (queue.length && !retryTimer) flush()
      })
  }

  if (composer) {
    var textarea = composer.querySelector('textarea')
    composer.addEventListener('submit', function (event) {
      event.preventDefault()
      if (gone) return
      var text = textarea.value
      if (!text.trim()) { showError('Write a message first.'); return }
      clearError()
      var tokenField = composer.querySelector('input[name="client_token"]')
      queue.push({ body: text, token: tokenField.value })
      tokenField.value = newToken()
      textarea.value = ''
      textarea.focus()
      wasAtBottom = true
      showOutbox()
      flush()
    })
    textarea.addEventListener('keydown', function (event) {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault()
        composer.requestSubmit()
      }
    })
    textarea.addEventListener('input', function () {
      var now = Date.now()
      if (socket && now - lastTyping > 3000) {
        lastTyping = now
        socket.send(JSON.stringify({ typing: Number(chatId) }))
      }
    })
  }

  // Times in the reader's own zone (the page shows UTC without JavaScript).
  function localTimes (root) {
    root.querySelectorAll('time[datetime]').forEach(function (time) {
      var date = new Date(time.getAttribute('datetime'))
      if (!isNaN(date)) time.textContent = date.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })
    })
  }
  localTimes(document)
  htmx.onLoad(localTimes)
  if (log) { markRead(); scrollToNewest() }
})()
