/* vibechat: the one script of our own, for what htmx cannot express. This entry keeps
 * the socket's side (htmx's ws extension holds the socket and swaps frames in by id);
 * the modules it starts own the rest: js/place.js where new elements go, js/composer.js
 * sending and the offline outbox, js/mentions.js the members offered for an @,
 * js/reading.js read marks, unread counts and the reading place. Ids, URLs and words
 * (in the reader's language) come from attributes the server renders: the script holds
 * no text of its own. Without JavaScript none of this runs and every page still works
 * by forms.
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
// A frame comes at least every `beat` ms: we answer, and watch for silence.
const beat = 1000 * body.dataset.beat
let raw = null // the browser's WebSocket
let heard = 0 // when it opened or a frame came
let answered = 0

const live = {
  log,
  isOpen: () => socket !== null,
  isGone: () => gone,
  patience: 2 * beat || 30000, // ms a post may take
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
  if (!gone && document.querySelector('[data-gone]')) {
    gone = true
    say('', false) // the chat's status says why
  }
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
// What the status says, in the page's language: its data-say-* attributes
// (templates/chats/_connection_state.html).
const words = (state || body).dataset
const newer = document.querySelector('.newer')
function say (text, isLive) {
  if (state) {
    if (everOpen) state.removeAttribute('aria-live') // announce changes, not the start
    state.hidden = gone
    state.textContent = text || ''
    state.dataset.live = isLive
  }
  if (newer) newer.hidden = isLive || gone
}

function reconnectLater (wrapper) {
  closes = Math.min(closes + 1, 6)
  setTimeout(() => wrapper.reconnect(), Math.random() * 1000 * 2 ** (closes - 1))
}

if (window.htmx) {
  place.start()
  body.addEventListener('htmx:wsBeforeMessage', event => {
    heard = Date.now()
    if (heard - answered > beat / 2) {
      answered = heard
      socket.send('')
    }
    if (event.detail.message) beforeFrames(event.detail.message)
    else event.preventDefault() // a heartbeat
  })
  body.addEventListener('htmx:wsAfterMessage', afterFrames)
  body.addEventListener('htmx:wsConnecting', () => {
    if (!everOpen) say(words.sayConnecting, false)
  })
  body.addEventListener('htmx:wsOpen', event => {
    socket = event.detail.socketWrapper
    heard = Date.now()
    closes = 0
    say(words.sayLive, true)
    if (everOpen) {
      // Missed presence and previews cannot be replayed: these lists come anew.
      for (const list of document.querySelectorAll('[data-refresh-url]')) {
        htmx.ajax('GET', list.dataset.refreshUrl, { target: list, swap: 'outerHTML' })
      }
    }
    everOpen = true
    catchUp()
  })
  // A black-holed network closes nothing: a socket silent for two beats is given up as
  // lost (1006: the extension reconnects); its close handshake could take a minute.
  const create = htmx.createWebSocket
  htmx.createWebSocket = url => {
    heard = Date.now()
    return (raw = create(url))
  }
  if (beat) {
    setInterval(() => {
      if (raw && raw.readyState < 2 && Date.now() - heard > 2 * beat) {
        const lost = raw.onclose
        raw.onclose = raw.onerror = null
        raw.close()
        lost({ code: 1006 })
      }
    }, beat / 2)
  }
  // The extension reconnects by itself after 1006, 1011, 1012 and 1013. A server or
  // proxy going away may also say 1000 or 1001, and 4408 is "silent too long":
  // reconnect then too, with backoff.
  // 1008 says this session ended: ask first, for a page that gives up wrongly stops
  // being live without a word. 4429: too many pages open, reconnecting would not help.
  body.addEventListener('htmx:wsClose', event => {
    socket = null
    const code = event.detail.event && event.detail.event.code
    const wrapper = event.detail.socketWrapper
    say(code === 4429 ? words.sayCrowded : words.sayOffline, false)
    if (!wrapper || !body.isConnected) return
    if (code === 1000 || code === 1001 || code === 4408) reconnectLater(wrapper)
    if (code === 1008) {
      fetch(body.dataset.sessionUrl, { redirect: 'manual' }).then(response => {
        if (response.status === 204) reconnectLater(wrapper)
        else say(words.saySignedOut, false)
      }, () => reconnectLater(wrapper))
    }
  })
  // The @ suggestions only matter once someone writes: fetched on the box's first focus.
  const box = document.querySelector('form.composer textarea[name=body]')
  const suggest = () => import('./js/mentions.js').then(mentions => mentions.start(), () => {})
  if (box === document.activeElement) suggest()
  else if (box) box.addEventListener('focus', suggest, { once: true })
  composer.start(live)
  reading.start(live)
}
