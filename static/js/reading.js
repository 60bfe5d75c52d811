/* The reader's side: read marks, unread counts, the reading place, times in the reader's
 * zone and the day headings between messages.
 * The read mark goes on the socket once the newest message has been shown in a visible
 * tab; with the socket closed nothing is sent (the page view and the catch-up after a
 * reconnect mark read on the server). */
import { reorder } from './place.js'

const body = document.body
let live, log
let readSeq = 0 // the mark sent, or set by showing the page
let readTimer = null
let wasAtBottom = true

// A count in the page's language: the element carries the words for each plural category
// (data-one, data-few, data-many, data-other), {n} where the number goes.
const plural = (element, n) => element.dataset[new Intl.PluralRules(document.documentElement.lang).select(n)].replace('{n}', n)

const newest = () => log.querySelector(':scope > .message:last-child')
const newestSeq = () => Number(newest() ? newest().dataset.seq : 0)

function markRead () {
  const seq = newestSeq()
  if (live.isGone() || document.hidden || !(seq > readSeq)) return
  clearTimeout(readTimer)
  readTimer = setTimeout(() => {
    if (live.send({ read: Number(log.dataset.chat), seq })) readSeq = seq
  }, 500)
}

// The box that scrolls: the conversation in the app layout (a reversed flex box, which
// opens at the newest message and whose scrollTop is 0 there, negative above), else the
// page.
function scroller () {
  const box = log.closest('.conversation')
  return box && box.scrollHeight > box.clientHeight ? box : document.scrollingElement
}
const reversed = box => getComputedStyle(box).flexDirection === 'column-reverse'

function fromBottom () {
  const box = scroller()
  return reversed(box) ? -box.scrollTop : box.scrollHeight - box.scrollTop - box.clientHeight
}

function scrollToNewest () {
  if (!wasAtBottom || !log.lastElementChild) return
  const box = scroller()
  if (reversed(box)) box.scrollTop = 0
  else (document.querySelector('form.composer') || log.lastElementChild).scrollIntoView({ block: 'end' })
}

// The chat list: the unread count is per reader, so the shared frame carries the
// author and the page counts; the chat goes where its new activity puts it (the top).
// htmx fires oobAfterSwap on every element swapped so far in a frame: count once.
const counted = new WeakSet()
function countUnread (event) {
  const preview = event.target
  const item = preview.closest && preview.closest('[data-last-seq]')
  if (!item || !preview.matches('.chat-preview') || counted.has(preview)) return
  counted.add(preview)
  // Only a message newer than any seen counts (an edit or a deletion changes the
  // preview too).
  if (preview.dataset.at) {
    const time = item.querySelector('.chat-when') || item.appendChild(document.createElement('time'))
    time.className = 'chat-when'
    time.dateTime = new Date(preview.dataset.at * 1000).toISOString()
    localTimes(item)
  }
  const seq = Number(preview.dataset.seq)
  if (!(seq > item.dataset.lastSeq)) return
  item.dataset.lastSeq = seq
  // The open chat (in the list beside it) is being read: nothing in it is unread.
  if (preview.dataset.author !== body.dataset.me && !(log && item.dataset.chat === log.dataset.chat)) {
    const slot = item.querySelector('.unread-slot')
    const count = Number(slot.dataset.count) + 1
    const badge = document.createElement('span')
    badge.className = 'unread'
    badge.textContent = plural(item.closest('.chat-list'), count)
    slot.dataset.count = count
    slot.replaceChildren(badge)
    tell(item)
  }
  item.dataset.at = preview.dataset.at
  reorder(item)
}

// A list of the most recent chats only (beside a chat) has no place for news from a
// chat further down (place.js parks its preview): it comes anew, that chat on top.
function comeAnew ({ detail }) {
  const list = document.querySelector('.chat-list')
  if (!list || !detail.matches('.chat-preview') || list.dataset.refreshing) return
  list.dataset.refreshing = 1
  htmx.ajax('GET', list.dataset.refreshUrl, { target: list, swap: 'outerHTML' })
}

// A list that came anew marks the open chat as the page did, with nothing unread.
function markOpen (root) {
  const item = root.querySelector && root.querySelector(`.chat-item[data-chat="${log.dataset.chat}"]`)
  if (!item) return
  item.querySelector('.chat-link').setAttribute('aria-current', 'page')
  const slot = item.querySelector('.unread-slot')
  slot.dataset.count = 0
  slot.replaceChildren()
}

// News on the chat list: said once a burst is over, in its status element's words.
const news = document.querySelector('[role=status][data-many]')
let burst
function tell (item) {
  if (!news) return
  if (!burst) {
    burst = new Map()
    news.textContent = '' // the same news twice is read out twice
    setTimeout(() => {
      news.textContent = [...burst].map(([item, n]) =>
        plural(news, n).replace('{chat}', item.querySelector('.chat-name').textContent)).join(' ')
      burst = 0
    }, 1000)
  }
  burst.set(item, (burst.get(item) || 0) + 1)
}

// htmx swaps no <title>: it follows a renamed chat's <h1> (no frame carries another).
let titled = (document.querySelector('h1') || {}).textContent
function retitle ({ target }) {
  if (target.tagName === 'H1') document.title = document.title.replace(titled, titled = target.textContent)
}

// Times in the page's language and the reader's zone: the one chosen in the settings
// (data-zone), else the browser's. The server wrote them in the same words (CLDR) for
// pages, and in UTC for frames.
const lang = document.documentElement.lang
const timeZone = body.dataset.zone || undefined
const dayFormat = new Intl.DateTimeFormat('sv', { timeZone }) // Swedish: 2026-12-07
const timeFormat = new Intl.DateTimeFormat(lang, { timeStyle: 'short', timeZone })
const dayOf = date => dayFormat.format(date)
const today = () => dayOf(new Date())
const sameYear = day => day.slice(0, 4) === today().slice(0, 4)

// Pages from now on are rendered in the browser's zone (when the settings name none):
// it goes once into the cookie the server reads (vibechat.timezones), and the note
// that times are in UTC goes, as they no longer are.
function sayZone () {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone
  if (body.dataset.zone || !zone) return
  if (!document.cookie.split('; ').includes('vibechat_timezone=' + zone)) {
    document.cookie = `vibechat_timezone=${zone}; path=/; max-age=31536000; samesite=lax${location.protocol === 'https:' ? '; secure' : ''}`
  }
  for (const note of document.querySelectorAll('.zone-note')) note.remove()
}

function localTimes (root) {
  for (const time of root.querySelectorAll('time[datetime]')) {
    const date = new Date(time.getAttribute('datetime'))
    if (isNaN(date)) continue
    // A message's time of day (its day is the heading above); the chat list's: the time
    // today, else the day, as phones show it.
    const day = dayOf(date)
    time.textContent = !time.matches('.chat-when') || day === today()
      ? timeFormat.format(date)
      : date.toLocaleDateString(lang, { month: 'short', day: 'numeric', year: sameYear(day) ? undefined : 'numeric', timeZone })
  }
}

// "Today", "Yesterday" (the log's words), else the date in the language: «7 декабря».
function dayName (day) {
  const yesterday = new Date(Date.parse(today()) - 864e5).toISOString().slice(0, 10)
  if (day === today()) return log.dataset.today
  if (day === yesterday) return log.dataset.yesterday
  return new Date(day + 'T12:00Z').toLocaleDateString(lang, { day: 'numeric', month: 'long', year: sameYear(day) ? undefined : 'numeric', timeZone: 'UTC' })
}

// Each day's messages under its heading, in the reader's zone: the server's are kept
// where they are right (the log is a live region: what goes in is read out), one is
// added above a new day's first message, and one that heads nothing goes.
function headDays () {
  for (const heading of log.querySelectorAll(':scope > .day')) {
    const next = heading.nextElementSibling
    if (!next || next.matches('.day')) heading.remove()
  }
  let last
  for (const item of log.querySelectorAll(':scope > .message')) {
    const day = dayOf(new Date(item.querySelector('time').getAttribute('datetime')))
    // A day's heading goes above "New messages", if that is above its first message.
    const top = item.previousElementSibling && item.previousElementSibling.matches('.unread-divider') ? item.previousElementSibling : item
    let heading = top.previousElementSibling
    if (heading && !heading.matches('.day')) heading = null
    if (day === last) {
      if (heading) heading.remove()
      continue
    }
    last = day
    if (!heading) {
      heading = document.createElement('li')
      heading.className = 'day'
      heading.appendChild(document.createElement('h3'))
      top.before(heading)
    }
    if (heading.dataset.day !== day) heading.dataset.day = day
    const name = dayName(day)
    if (heading.firstElementChild.textContent !== name) heading.firstElementChild.textContent = name
  }
}

// A run of messages from one person within five minutes shows their name once (the
// name stays for screen readers). The page without JavaScript names every message.
function group () {
  headDays()
  let last = {}
  for (const item of log.querySelectorAll(':scope > .message')) {
    const at = Date.parse(item.querySelector('time').getAttribute('datetime'))
    const same = item.dataset.author && item.dataset.author === last.author && at - last.at < 3e5 &&
      item.previousElementSibling.matches('.message')
    item.classList.toggle('message-continued', !!same)
    last = { author: item.dataset.author, at }
  }
}

// "Jump to newest", over the conversation, once the reader is a screen or more above it;
// it takes them down and to the message box.
function offerTheNewest () {
  const jump = document.querySelector('.jump-newest')
  if (!jump) return
  const box = scroller()
  const far = () => fromBottom() > (box === document.scrollingElement ? innerHeight : box.clientHeight)
  const update = () => { if (jump.hidden === far()) jump.hidden = !jump.hidden }
  ;(box === document.scrollingElement ? window : box).addEventListener('scroll', update, { passive: true })
  jump.addEventListener('click', event => {
    event.preventDefault()
    wasAtBottom = true
    scrollToNewest()
    update()
    const message = document.getElementById('body')
    if (message) message.focus({ preventScroll: true })
  })
}

export function start (core) {
  live = core
  log = live.log
  sayZone()
  localTimes(document)
  htmx.onLoad(root => { localTimes(root); if (log) { group(); markOpen(root) } })
  body.addEventListener('htmx:oobAfterSwap', countUnread)
  body.addEventListener('htmx:oobAfterSwap', retitle)
  body.addEventListener('vibechat:parked', comeAnew)
  if (!log) return
  const region = log.closest('[role=log]') || log // the one live region
  readSeq = newestSeq()
  group()
  body.addEventListener('vibechat:beforeFrames', () => { wasAtBottom = fromBottom() < 120 })
  body.addEventListener('vibechat:frames', () => {
    scrollToNewest()
    markRead()
  })
  document.addEventListener('visibilitychange', markRead)
  const form = document.querySelector('form.composer')
  if (form) form.addEventListener('submit', () => { wasAtBottom = true })

  // Earlier messages go in above without being read out as new (the list is quiet
  // meanwhile) and without moving what the reader looks at (browsers do not anchor
  // scrolling at the top of a page: we scroll by however far the first message
  // moved). Focus goes to the new "Earlier messages" link, or to the list at the start.
  let loadingOlder, anchor, anchorTop
  body.addEventListener('htmx:beforeSwap', event => {
    if (event.detail.target !== log) return
    loadingOlder = document.activeElement && document.activeElement.closest('.older')
    anchor = log.querySelector(':scope > .message') // a day's heading may go (headDays)
    anchorTop = anchor ? anchor.getBoundingClientRect().top : 0
    region.setAttribute('aria-live', 'off')
  })
  body.addEventListener('htmx:afterSettle', event => {
    if (event.detail.target !== log) return
    if (anchor && anchor.isConnected) scroller().scrollBy(0, anchor.getBoundingClientRect().top - anchorTop)
    anchor = null
    setTimeout(() => region.setAttribute('aria-live', 'polite'), 0)
    if (!loadingOlder) return
    const link = document.querySelector('.older a')
    if (link) return link.focus({ preventScroll: true })
    log.tabIndex = -1
    log.focus({ preventScroll: true })
  })
  // The page opens at the message a link points at (?around=…#msg-…: the browser has
  // scrolled there), else at "New messages", else at the newest.
  const opening = log.querySelector(':target') || document.getElementById('unread-divider')
  if (opening) {
    wasAtBottom = false
    opening.scrollIntoView({ block: 'center' })
  } else scrollToNewest()
  offerTheNewest()
}
