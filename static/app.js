/* vibechat: the one script of our own, for what htmx cannot express. This entry keeps
 * the socket's side (htmx's ws extension holds the socket and swaps frames in by id);
 * the modules it starts own the rest: js/place.js where new elements go, js/composer.js
 * sending and the offline outbox, js/reading.js read marks, unread counts and the
 * reading place. Ids and URLs come from attributes the server renders. Without
 * JavaScript none of this runs and every page still works by forms.
 *
 * Here: the resume point (the rev up to which the page holds every change of its chat:
 * asked for on every (re)connect and when a frame skips ahead), lists fetched again after
 * an outage, reconnecting, and the status line in words (docs/live-updates.md).
 * Around every batch of frames, from the socket or a catch-up, the body gets
 * vibechat:beforeFrames and vibechat:frames. */
import * as place from './js/place.js'
import * as composer from './js/composer.js'
import * as reading from './js/reading.js'

const body = document.body
const log = document.querySelector('[data-catch-up-url]') // the chat page's messages
let held = log ? Number(log.dataset.rev) : 0 // every change up to here is on the page
let highest = held // the highest rev seen in any frame
let catchingUp = false
let socket = null // htmx's socket wrapper, while open
let everOpen = false
let gone = false // this chat was deleted or we were removed
let closes = 0

const live = {
  log,
  isOpen: () => socket !== null,
  isGone: () => gone,
  // A notice is worth nothing later: with the socket closed it is dropped, not queued.
  send (notice) {
    if (socket) socket.send(JSON.stringify(notice))
    return socket !== null
  }
}

function beforeFrames (html) {
  body.dispatchEvent(new CustomEvent('vibechat:beforeFrames'))
  for (const element of place.place(html)) {
    if (!log || !element.matches(log.dataset.holds)) continue
    const rev = Number(element.dataset.rev)
    if (rev === held + 1) held = rev
    if (rev > highest) highest = rev
  }
}

function afterFrames () {
  place.dropParked()
  if (document.querySelector('[data-gone]')) gone = true
  if (highest > held) catchUp()
  body.dispatchEvent(new CustomEvent('vibechat:frames'))
}

// Every change after `held`; the answer says up to which rev it is complete.
function catchUp () {
  if (!log || catchingUp || gone) return
  catchingUp = true
  const url = new URL(log.dataset.catchUpUrl, location.href)
  url.searchParams.set('since', held)
  fetch(url, { headers: { 'HX-Request': 'true' } }).then(response => {
    if (!response.ok) throw new Error('catch-up answered ' + response.status)
    const complete = Number(response.headers.get('X-Vibechat-Rev'))
    const more = response.headers.get('X-Vibechat-More') === '1'
    return response.text().then(html => {
      beforeFrames(html)
      htmx.swap(body, html, { swapStyle: 'none' })
      if (complete > held) held = complete
      if (more && highest <= held) highest = held + 1 // ask again
      if (held > highest) highest = held
    })
  }).catch(() => { /* the next frame or reconnect tries again */ }).then(() => {
    catchingUp = false
    afterFrames()
  })
}

const state = document.querySelector('.connection-state')
const newer = document.querySelector('.newer')
function say (text, isLive) {
  if (state) {
    if (everOpen) state.removeAttribute('aria-live') // announce changes, not the start
    state.hidden = false
    state.textContent = text
    state.dataset.live = isLive
  }
  if (newer) newer.hidden = isLive
}

function reconnectLater (wrapper) {
  closes = Math.min(closes + 1, 6)
  setTimeout(() => wrapper.reconnect(), Math.random() * 1000 * 2 ** (closes - 1))
}

if (window.htmx) {
  place.start()
  body.addEventListener('htmx:wsBeforeMessage', event => beforeFrames(event.detail.message))
  body.addEventListener('htmx:wsAfterMessage', afterFrames)
  body.addEventListener('htmx:wsConnecting', () => {
    if (!socket) say(everOpen ? 'Reconnecting…' : 'Connecting…', false)
  })
  body.addEventListener('htmx:wsOpen', event => {
    socket = event.detail.socketWrapper
    closes = 0
    say('Live: new messages appear as they arrive.', true)
    if (everOpen) {
      // Missed presence and previews cannot be replayed: these lists come anew.
      for (const list of document.querySelectorAll('[data-refresh-url]')) {
        htmx.ajax('GET', list.dataset.refreshUrl, { target: list, swap: 'outerHTML' })
      }
    }
    everOpen = true
    catchUp()
  })
  // The extension reconnects by itself after 1006, 1011, 1012 and 1013. A server or
  // proxy going away may also say 1000 or 1001: reconnect then too, with backoff.
  // 1008 says this session ended: ask first, for a page that gives up wrongly stops
  // being live without a word. 4429: too many pages open, reconnecting would not help.
  body.addEventListener('htmx:wsClose', event => {
    socket = null
    const code = event.detail.event && event.detail.event.code
    const wrapper = event.detail.socketWrapper
    say(code === 4429 ? 'Not live: too many pages are open. Close some, then reload.'
      : gone ? 'Disconnected.'
        : 'Offline. Reconnecting… You can keep writing; messages are sent when the connection is back.', false)
    if (!wrapper || !body.isConnected) return
    if (code === 1000 || code === 1001) reconnectLater(wrapper)
    if (code === 1008) {
      fetch(body.dataset.sessionUrl, { redirect: 'manual' }).then(response => {
        if (response.status === 204) reconnectLater(wrapper)
        else say('Signed out. Sign in again to see new messages.', false)
      }, () => reconnectLater(wrapper))
    }
  })
  composer.start(live)
  reading.start(live)
}
